import numpy as np
import pytest

from astrokeras.data import galaxies, surveys
from astrokeras.errors import InvalidArgumentError


@pytest.mark.parametrize("label", galaxies.CLASSES)
def test_components_add_up_to_the_total_magnitude(label):
    components = galaxies.build(label, np.random.default_rng(0), 20.0)
    band = surveys.lsst_band("r")
    total = sum(band.flux_rate(c.magnitude) for c in components)
    assert total == pytest.approx(band.flux_rate(20.0), rel=1e-9)


def test_elliptical_bulge_is_redder_than_spiral_arms():
    spiral = galaxies.build("spiral", np.random.default_rng(1), 20.0)
    bulge, arms = spiral[0], spiral[2]
    assert bulge.colour["g"] - bulge.colour["i"] > arms.colour["g"] - arms.colour["i"] + 0.5


def test_merger_has_two_nuclei_and_a_tail():
    components = galaxies.build("merger", np.random.default_rng(2), 20.0)
    assert any(isinstance(c.profile, galaxies.Clumps) and c.colour["g"] > 0.4
               for c in components)
    assert len(components) >= 3


def test_builds_are_seeded():
    a = galaxies.build("spiral", np.random.default_rng(3), 20.0)
    b = galaxies.build("spiral", np.random.default_rng(3), 20.0)
    assert [c.magnitude for c in a] == [c.magnitude for c in b]
    assert np.array_equal(a[2].profile.x, b[2].profile.x)


def test_clumps_kimage_matches_galsim():
    clumps = galaxies.Clumps([0.5, -1.0], [0.2, 0.7], [0.3, 0.5], [1.0, 2.0]).shear(q=0.5,
                                                                                  beta=0.3 * galsim_radians())
    k = np.linspace(-3, 3, 7)
    ours = clumps.kimage(k, k)
    theirs = np.array([[clumps.to_galsim().kValue(kx, ky) for kx in k] for ky in k])
    np.testing.assert_allclose(ours, theirs, atol=1e-10)


def galsim_radians():
    import galsim

    return galsim.radians


def test_size_scale_shrinks_the_galaxy():
    big = galaxies.build("elliptical", np.random.default_rng(4), 20.0)[0].profile
    small = galaxies.build("elliptical", np.random.default_rng(4), 20.0,
                           size_scale=0.2)[0].profile
    assert small.calculateHLR() == pytest.approx(0.2 * big.calculateHLR(), rel=0.05)


@pytest.mark.parametrize("label", ["irregular", 3, -1])
def test_unknown_class_is_refused(label):
    with pytest.raises(InvalidArgumentError, match="`label`"):
        galaxies.build(label, np.random.default_rng(0), 20.0)
