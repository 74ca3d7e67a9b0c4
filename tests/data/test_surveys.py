import math

import pytest

from astrokeras.data import surveys
from astrokeras.errors import InvalidArgumentError


def test_lsst_numbers_match_ivezic_2019():
    expected = {"g": (28.29, 22.26, 0.86, 2400.0), "r": (28.13, 21.20, 0.81, 5520.0),
                "i": (27.81, 20.48, 0.79, 5520.0)}
    for name, (zeropoint, sky, fwhm, exposure) in expected.items():
        band = surveys.lsst_band(name, "y10")
        assert band.zeropoint == pytest.approx(zeropoint)
        assert band.sky_brightness == pytest.approx(sky)
        assert band.psf_fwhm == pytest.approx(fwhm)
        assert band.exposure == pytest.approx(exposure)
        assert band.pixel_scale == pytest.approx(0.2)
        assert band.mirror_diameter == pytest.approx(8.36)


def test_y1_exposure_is_one_tenth_of_y10():
    for name in "gri":
        y10, y1 = surveys.lsst_band(name, "y10"), surveys.lsst_band(name, "y1")
        assert y1.exposure == pytest.approx(y10.exposure / 10)
        assert y1.sky_rate == pytest.approx(y10.sky_rate)


def test_obscuration_is_linear():
    band = surveys.lsst_band("r")
    assert band.obscuration == pytest.approx(math.sqrt(0.39257227))
    assert 0.6 < band.obscuration < 0.65


def test_flux_rate_is_one_electron_per_second_at_the_zero_point():
    band = surveys.lsst_band("i")
    assert band.flux_rate(band.zeropoint) == pytest.approx(1.0)
    assert band.flux_rate(band.zeropoint - 2.5) == pytest.approx(10.0)


def test_sky_counts_per_pixel():
    band = surveys.lsst_band("r", "y10")
    expected = 10 ** (-0.4 * (21.20 - 28.13)) * 0.2**2 * 5520
    assert band.sky_counts == pytest.approx(expected)


@pytest.mark.parametrize("kwargs, name", [({"name": "q"}, "band"),
                                          ({"name": "r", "depth": "y5"}, "depth")])
def test_bad_lsst_band_names_the_argument(kwargs, name):
    with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
        surveys.lsst_band(**kwargs)


def test_hst_band_is_diffraction_limited():
    band = surveys.hst_band("f814w")
    assert band.psf_fwhm == 0.0 and band.pixel_scale == pytest.approx(0.06)
    with pytest.raises(InvalidArgumentError, match="`exposure`"):
        surveys.hst_band("f814w", exposure=0)
