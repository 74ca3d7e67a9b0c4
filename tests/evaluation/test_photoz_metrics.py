import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.evaluation import (photoz_metrics, photoz_point_estimates, photoz_residuals,
                                   redshift_bin_centres)


def test_sigma_mad_and_eta_on_constructed_residuals():
    z_spec = np.full(10, 0.25)
    dz = np.array([-0.2, -0.04, -0.02, -0.01, 0.0, 0.01, 0.02, 0.03, 0.06, 0.3])
    z_phot = z_spec + dz * (1 + z_spec)
    m = photoz_metrics(z_phot, z_spec)
    np.testing.assert_allclose(photoz_residuals(z_phot, z_spec), dz, atol=1e-12)
    # median(dz) = 0.005; |dz - 0.005| sorted: .005 .005 .015 .015 .025 .025 .045 .055 .205 .295
    assert m["sigma_mad"] == pytest.approx(1.4826 * 0.025)
    assert m["eta"] == pytest.approx(0.3)  # -0.2, 0.06 and 0.3 exceed 0.05
    assert m["bias"] == pytest.approx(dz.mean())
    assert m["n"] == 10


def test_outlier_threshold_is_strict_and_configurable():
    z_spec = np.zeros(4)
    z_phot = np.array([0.05, -0.05, 0.051, 0.0])
    assert photoz_metrics(z_phot, z_spec)["eta"] == pytest.approx(0.25)
    assert photoz_metrics(z_phot, z_spec, outlier_threshold=0.01)["eta"] == pytest.approx(0.75)


def test_point_estimates_are_mean_and_mode_of_the_bin_pdf():
    centres = redshift_bin_centres(180, 0.0, 0.4)
    assert centres[0] == pytest.approx(0.4 / 360) and centres[-1] == pytest.approx(0.4 - 0.4 / 360)
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(180), size=5)
    z = photoz_point_estimates(p)
    np.testing.assert_allclose(z["mean"], (p * centres).sum(axis=1))
    np.testing.assert_allclose(z["mode"], centres[p.argmax(axis=1)])


def test_a_perfect_estimator_has_zero_bias_scatter_and_outliers():
    z = np.linspace(0.0, 0.4, 30)
    m = photoz_metrics(z, z)
    assert (m["bias"], m["sigma_mad"], m["eta"]) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("z_phot, z_spec, match", [
    ([0.1, 0.2], [0.1], "same length"),
    ([0.1], [-1.0], "greater than -1"),
    ([np.nan], [0.1], "NaN"),
])
def test_bad_redshifts_are_refused(z_phot, z_spec, match):
    with pytest.raises(InvalidArgumentError, match=match):
        photoz_metrics(z_phot, z_spec)


def test_bad_bins_are_refused():
    with pytest.raises(InvalidArgumentError, match="z_max"):
        redshift_bin_centres(10, 0.4, 0.1)
