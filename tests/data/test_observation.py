import galsim
import numpy as np
import pytest

from astrokeras.data import observation, surveys
from astrokeras.data.rendering import Renderer


@pytest.mark.parametrize("depth", ["y10", "y1"])
@pytest.mark.parametrize("name", ["g", "r", "i"])
def test_empty_sky_variance_equals_the_sky_level(name, depth):
    band = surveys.lsst_band(name, depth)
    image = observation.add_noise(np.zeros((200, 200)), band, galsim.BaseDeviate(11))
    counts = image * band.exposure
    assert abs(counts.mean()) < 5 * np.sqrt(band.sky_counts / counts.size)
    assert counts.var() == pytest.approx(band.sky_counts, rel=0.03)


@pytest.mark.parametrize("name", ["g", "r", "i"])
def test_y1_noise_is_sqrt_10_times_y10_noise_in_flux_units(name):
    y10 = observation.add_noise(np.zeros((200, 200)), surveys.lsst_band(name, "y10"),
                                galsim.BaseDeviate(1))
    y1 = observation.add_noise(np.zeros((200, 200)), surveys.lsst_band(name, "y1"),
                               galsim.BaseDeviate(2))
    assert y1.std() / y10.std() == pytest.approx(np.sqrt(10), rel=0.03)


@pytest.mark.parametrize("depth", ["y10", "y1"])
def test_bright_star_total_counts_follow_the_zero_point(depth):
    bands = [surveys.lsst_band(b, depth) for b in "gri"]
    renderer = Renderer(bands, size=160)  # 32": the Kolmogorov wings hold 0.3 % beyond 6"
    star = galsim.Gaussian(sigma=1e-3)  # a point source (DeltaFunction has no k-image)

    class Star:
        profile = star
        magnitude = 16.0
        colour = {"g": 0.0, "r": 0.0, "i": 0.0}

    stamp = renderer([Star()])
    for b, band in enumerate(bands):
        observed = observation.add_noise(stamp[:, :, b], band, galsim.BaseDeviate(b + 5))
        expected = band.exposure * 10 ** (-0.4 * (16.0 - band.zeropoint))
        assert observed.sum() * band.exposure == pytest.approx(expected, rel=3e-3)


@pytest.mark.parametrize("name", ["g", "r", "i"])
def test_psf_fwhm_measured_on_a_star_matches_the_band(name):
    band = surveys.lsst_band(name)
    psf = observation.make_psf(band)
    image = psf.drawImage(nx=256, ny=256, scale=0.02, method="no_pixel")
    assert image.calculateFWHM() == pytest.approx(band.psf_fwhm, rel=0.02)
    # The atmosphere dominates, the Airy (optics) part is broader than nothing.
    assert psf.flux == pytest.approx(1.0)


def test_hst_psf_is_the_airy_pattern():
    band = surveys.hst_band("f606w")
    psf = observation.make_psf(band)
    fwhm = psf.drawImage(nx=256, ny=256, scale=0.002, method="no_pixel").calculateFWHM()
    lam_over_d = band.wavelength * 1e-9 / band.mirror_diameter * 206265
    assert 0.9 * lam_over_d < fwhm < 1.1 * lam_over_d


def test_noise_is_seeded():
    band = surveys.lsst_band("r", "y1")
    a = observation.add_noise(np.ones((16, 16)), band, galsim.BaseDeviate(3))
    b = observation.add_noise(np.ones((16, 16)), band, galsim.BaseDeviate(3))
    c = observation.add_noise(np.ones((16, 16)), band, galsim.BaseDeviate(4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
