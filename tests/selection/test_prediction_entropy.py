import math

import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.selection import ModelOutputs, PredictionEntropy, prediction_entropy


def test_mean_entropy_equals_the_hand_computation():
    p = np.array([[0.7, 0.2, 0.1], [1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    by_hand = (-(0.7 * math.log(0.7) + 0.2 * math.log(0.2) + 0.1 * math.log(0.1))
               + 0.0 + math.log(3)) / 3
    assert prediction_entropy(p) == pytest.approx(by_hand, rel=1e-12)


def test_confident_predictions_score_lower_and_the_score_says_lower_is_better():
    confident = np.array([[0.99, 0.01], [0.02, 0.98]])
    unsure = np.array([[0.6, 0.4], [0.45, 0.55]])
    score = PredictionEntropy()
    assert score.mode == "min" and not score.higher_is_better
    assert score(ModelOutputs(confident)) < score(ModelOutputs(unsure))


def test_uniform_predictions_reach_log_classes():
    assert prediction_entropy(np.full((5, 4), 0.25)) == pytest.approx(math.log(4))


@pytest.mark.parametrize("bad", [np.array([[2.0, -1.0]]), np.array([[3.0, 1.0]]),
                                 np.array([[0.5, np.nan]]), np.array([1.0, 0.0])])
def test_logits_or_malformed_rows_are_refused_naming_the_argument(bad):
    with pytest.raises(InvalidArgumentError, match="`probabilities`"):
        prediction_entropy(bad)


def test_half_precision_softmax_rows_are_accepted():
    # A float16 softmax (mixed precision) sums to 1 only within about 1e-3.
    import keras

    logits = np.random.default_rng(0).normal(size=(200, 5)).astype("float16")
    p = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    assert np.abs(p.astype(np.float64).sum(axis=1) - 1.0).max() > 1e-3
    assert 0.0 < prediction_entropy(p) <= math.log(5) + 1e-6
