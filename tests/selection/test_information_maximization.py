import math

import numpy as np
import pytest

from astrokeras.selection import (InformationMaximization, ModelOutputs,
                                  information_maximization, prediction_entropy)


def _entropy(p):
    return -sum(x * math.log(x) for x in p if x > 0)


def test_equals_mean_entropy_minus_entropy_of_the_mean_prediction_by_hand():
    rows = [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4], [0.05, 0.05, 0.9]]
    mean_row = [sum(column) / len(rows) for column in zip(*rows)]
    by_hand = sum(_entropy(r) for r in rows) / len(rows) - _entropy(mean_row)
    assert information_maximization(np.array(rows)) == pytest.approx(by_hand, rel=1e-12)


def test_a_model_collapsing_every_target_image_into_one_class_does_not_win():
    # Both confident (entropy 0); only the diverse one gets the information-maximisation bonus.
    collapsed = np.tile([1.0, 0.0], (10, 1))
    diverse = np.eye(2)[np.arange(10) % 2]
    assert prediction_entropy(collapsed) == prediction_entropy(diverse) == 0.0
    assert information_maximization(collapsed) == 0.0
    assert information_maximization(diverse) == pytest.approx(-math.log(2))
    assert InformationMaximization().mode == "min"
    score = InformationMaximization()
    assert score(ModelOutputs(diverse)) < score(ModelOutputs(collapsed))
