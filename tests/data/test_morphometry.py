import galsim
import numpy as np
import pytest

from astrokeras.data import morphometry
from astrokeras.errors import InvalidArgumentError


def _draw(profile, size=64):
    return profile.drawImage(nx=size, ny=size, scale=0.2).array


def test_gini_extremes():
    mask = np.ones((5, 5), bool)
    assert morphometry.gini(np.ones((5, 5)), mask) == pytest.approx(0.0)
    spike = np.zeros((5, 5))
    spike[2, 2] = 1.0
    assert morphometry.gini(spike, mask) == pytest.approx(1.0)


def test_concentrated_profiles_have_higher_gini_and_lower_m20():
    de_vaucouleurs = _draw(galsim.DeVaucouleurs(half_light_radius=1.5))
    exponential = _draw(galsim.Exponential(half_light_radius=1.5))
    assert morphometry.gini(de_vaucouleurs) > morphometry.gini(exponential) + 0.05
    assert morphometry.m20(de_vaucouleurs) < morphometry.m20(exponential)


def test_double_nucleus_raises_m20():
    single = _draw(galsim.Exponential(half_light_radius=1.0))
    double = _draw(galsim.Exponential(half_light_radius=1.0).shift(-2, 0)
                   + galsim.Exponential(half_light_radius=1.0).shift(2, 0))
    assert morphometry.m20(double) > morphometry.m20(single) + 0.5
    assert morphometry.gm20_class(0.6, morphometry.m20(double)) == "merger"


def test_bad_image_is_refused():
    with pytest.raises(InvalidArgumentError, match="`image`"):
        morphometry.gini(np.zeros(5))
    with pytest.raises(InvalidArgumentError, match="NaN"):
        morphometry.m20(np.full((5, 5), np.nan))
