"""One set of norm / clip / budget / seed checks for the evaluation attacks and training specs."""

import numpy as np
import pytest
from attack_helpers import linear_classifier

from astrokeras.attacks import checks, pgd
from astrokeras.errors import InvalidArgumentError
from astrokeras.training import FGSM, PGD

W = np.random.default_rng(0).normal(size=(4, 4, 2)).astype(np.float32)
X = np.random.default_rng(1).uniform(size=(3, 4, 4, 2)).astype(np.float32)


@pytest.mark.parametrize("norm, expected", [
    ("inf", "inf"), ("LINF", "inf"), ("l_inf", "inf"), (np.inf, "inf"), (float("inf"), "inf"),
    (2, 2), (2.0, 2), ("2", 2), ("L2", 2)])
def test_norm_spellings_are_the_same_for_both_paths(norm, expected):
    assert checks.check_norm(norm) == expected
    assert PGD(0.1, 0.05, 2, norm=norm).norm == expected
    x_adv = pgd(linear_classifier(W), X, eps=0.1, step=0.05, steps=2, norm=norm, seed=0)
    assert np.abs(x_adv - X).max() <= 0.1 + 1e-6


@pytest.mark.parametrize("kwargs, message", [
    ({"norm": 1}, "`norm` of the attack is unknown"),
    ({"norm": True}, "`norm` of the attack is unknown"),
    ({"norm": -np.inf}, "`norm` of the attack is unknown"),
    ({"clip": (1.0, 0.0)}, "`clip` must have low < high"),
    ({"clip": (0.5, 0.5)}, "`clip` must have low < high"),
    ({"clip": (0.0, np.nan)}, "`clip` must have low < high"),
    ({"clip": 1.0}, "`clip` must be a \\(low, high\\) pair"),
    ({"clip": ("a", 1.0)}, "`clip` must be a \\(low, high\\) pair"),
    ({"eps": -0.1, "step": 0.0}, "`eps` of the attack must be"),
    ({"eps": np.nan, "step": 0.0}, "`eps` holds NaN"),
    ({"eps": 0.1, "step": 0.2}, "`step` of the attack must not exceed `eps`"),
    ({"seed": -1}, "`seed` of the attack"),
    ({"seed": 1.5}, "`seed` of the attack"),
])
def test_both_paths_reject_the_same_values_with_the_same_message(kwargs, message):
    arguments = {"eps": 0.1, "step": 0.05, **kwargs}
    with pytest.raises(InvalidArgumentError, match=message):
        PGD(steps=2, **arguments)
    with pytest.raises(InvalidArgumentError, match=message):
        pgd(linear_classifier(W), X, steps=2, **arguments)


def test_training_specs_need_a_positive_budget_where_evaluation_allows_zero():
    x_adv = pgd(linear_classifier(W), X, eps=0.0, step=0.0, steps=2, random_start=False)
    np.testing.assert_array_equal(x_adv, X)
    with pytest.raises(InvalidArgumentError, match="`eps` of the attack must be > 0"):
        FGSM(eps=0.0)
    with pytest.raises(InvalidArgumentError, match="`eps` of the attack must be a scalar"):
        FGSM(eps=[0.1, 0.2])


def test_per_band_clip_is_checked_once_and_kept_in_the_spec_config():
    spec = FGSM(eps=0.1, clip=([0.0, -1.0], [1.0, 2.0]))
    assert spec.get_config()["clip"] == ([0.0, -1.0], [1.0, 2.0])
    assert FGSM.from_config(spec.get_config()).get_config() == spec.get_config()
    low, high = checks.clip_bounds(([0.0, -1.0], [1.0, 2.0]), (4, 4, 2))
    assert low.shape == high.shape == (4, 4, 2)
    np.testing.assert_array_equal(low[..., 1], -1.0)
    with pytest.raises(InvalidArgumentError, match="do not broadcast to one image"):
        checks.clip_bounds(([0.0, 0.0, 0.0], 1.0), (4, 4, 2))


def test_scalar_config_values_are_kept_as_given():
    config = PGD(eps=0.03, step=0.01, steps=5, clip=(0, 1), seed=np.int64(4)).get_config()
    assert config == {"eps": 0.03, "step": 0.01, "steps": 5, "norm": "inf",
                      "random_start": True, "clip": (0.0, 1.0), "seed": 4}
    assert type(config["seed"]) is int
