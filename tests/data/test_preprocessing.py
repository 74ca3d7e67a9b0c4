import math

import numpy as np
import pytest

from astrokeras.data.preprocessing import (ClipArcsinh, check_softening, clip_arcsinh,
                                          fit_clip_arcsinh)
from astrokeras.errors import ConfigError, InvalidArgumentError


def test_limits_are_dataset_percentiles_per_band():
    rng = np.random.default_rng(0)
    images = np.stack([rng.normal(0, 1, (10, 8, 8)), rng.normal(5, 3, (10, 8, 8))], axis=-1)
    stretch = fit_clip_arcsinh(images)
    for b in range(2):
        assert stretch.low[b] == pytest.approx(np.percentile(images[..., b], 0.1))
        assert stretch.high[b] == pytest.approx(np.percentile(images[..., b], 99.9))


def test_stretch_lands_in_unit_interval_and_is_the_arcsinh_formula():
    stretch = ClipArcsinh(low=(-1.0,), high=(3.0,), c=0.85)
    x = np.array([-5.0, -1.0, 0.0, 1.0, 3.0, 9.0]).reshape(1, -1, 1)
    y = stretch(x).ravel()
    assert y.dtype == np.float32
    assert y.min() == 0.0 and y.max() == pytest.approx(1.0)
    expected = math.asinh(0.25 / 0.85) / math.asinh(1 / 0.85)
    assert y[2] == pytest.approx(expected, rel=1e-6)
    assert np.all(np.diff(y) >= 0)


def test_config_round_trip():
    stretch = ClipArcsinh(low=(0.0, 1.0), high=(2.0, 3.0), c=0.5)
    assert ClipArcsinh.from_config(stretch.get_config()) == stretch


def test_bad_config_is_a_config_error():
    with pytest.raises(ConfigError):
        ClipArcsinh.from_config({"method": "log"})
    with pytest.raises(ConfigError, match="low"):
        ClipArcsinh.from_config({"method": "clip_arcsinh", "high": [1.0]})


def test_bad_arguments_name_themselves():
    with pytest.raises(InvalidArgumentError, match="`percentiles`"):
        fit_clip_arcsinh(np.zeros((4, 4, 1)), percentiles=(99, 1))
    with pytest.raises(InvalidArgumentError, match="`high`"):
        ClipArcsinh(low=(1.0,), high=(0.5,))
    with pytest.raises(InvalidArgumentError, match="bands"):
        ClipArcsinh(low=(0.0,), high=(1.0,))(np.zeros((2, 2, 3)))


@pytest.mark.parametrize("c", [0, -0.1, math.nan, math.inf, True, "0.85", None])
def test_softening_must_be_a_finite_positive_number(c):
    with pytest.raises(InvalidArgumentError, match="softening"):
        check_softening(c)
    with pytest.raises(InvalidArgumentError, match="softening"):
        ClipArcsinh(low=(0.0,), high=(1.0,), c=c)
    with pytest.raises(InvalidArgumentError, match="softening"):
        fit_clip_arcsinh(np.ones((2, 2, 1)), c=c)


def test_small_softening_turns_flux_ratios_into_differences():
    # Two bands in a fixed ratio 1:3 at any brightness: with a small softening the stretched
    # difference is the same for every brightness (log regime), with c = 0.85 it grows with it.
    flux = np.array([1e-3, 1e-2, 1e-1])
    images = np.stack([flux, 3 * flux], axis=-1)[:, None, None, :]
    for c, spread in ((1e-5, 1e-3), (0.85, None)):
        stretched = ClipArcsinh(low=(0.0, 0.0), high=(1.0, 1.0), c=c)(images)[:, 0, 0, :]
        difference = (stretched[:, 1] - stretched[:, 0]) * math.asinh(1 / c)
        if spread is not None:
            np.testing.assert_allclose(difference, math.log(3), atol=spread)
        else:
            assert difference[2] > 10 * difference[0]


def test_numpy_stretch_is_identical_to_the_former_float64_formula():
    rng = np.random.default_rng(3)
    images = rng.uniform(-2.0, 12.0, (50, 8, 8, 2))
    low, high, c = np.array([-1.0, 0.5]), np.array([10.0, 11.0]), 0.85
    unit = (np.clip(images, low, high) - low) / (high - low)
    former = (np.arcsinh(unit / c) / math.asinh(1.0 / c)).astype(np.float32)
    np.testing.assert_array_equal(ClipArcsinh(tuple(low), tuple(high), c)(images), former)
    np.testing.assert_array_equal(clip_arcsinh(images, low, high, c).astype(np.float32), former)
