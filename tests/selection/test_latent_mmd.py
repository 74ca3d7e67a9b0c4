import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.selection import LatentMMD, ModelOutputs, latent_mmd


def test_identical_sets_give_zero():
    x = np.random.default_rng(0).normal(size=(64, 6))
    assert latent_mmd(x, x) == 0.0
    assert LatentMMD()(ModelOutputs(np.full((64, 2), 0.5), target_latent=x,
                                    source_latent=x)) == 0.0


def test_mmd_grows_with_the_shift_of_the_target_and_lower_is_better():
    rng = np.random.default_rng(1)
    source, target = rng.normal(size=(100, 4)), rng.normal(size=(100, 4))
    values = [latent_mmd(source, target + shift) for shift in (0.0, 0.5, 2.0)]
    assert values[0] < values[1] < values[2]
    assert LatentMMD.mode == "min"


def test_unbiased_estimator_is_near_zero_for_one_distribution():
    rng = np.random.default_rng(2)
    value = latent_mmd(rng.normal(size=(200, 4)), rng.normal(size=(200, 4)),
                       estimator="unbiased")
    assert abs(value) < 0.02


def test_unknown_estimator_is_named():
    with pytest.raises(InvalidArgumentError, match="estimator"):
        LatentMMD(estimator="exact")
