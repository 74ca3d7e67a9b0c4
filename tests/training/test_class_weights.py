import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.training import class_weights, weights_from_counts


def test_weights_follow_eq_1():
    labels = np.array([0] * 6 + [1] * 3 + [2] * 1)
    n, m = 10, 3
    expected = [n / (m * 6), n / (m * 3), n / (m * 1)]
    np.testing.assert_allclose(class_weights(labels), expected, rtol=1e-6)


def test_balanced_set_gets_unit_weights_and_one_hot_works():
    one_hot = np.eye(4)[np.repeat(np.arange(4), 5)]
    np.testing.assert_allclose(class_weights(one_hot), np.ones(4))


def test_weighted_counts_are_balanced():
    counts = np.array([14312, 8151, 12710])  # the paper's training set
    weights = weights_from_counts(counts)
    np.testing.assert_allclose(weights * counts, counts.sum() / 3, rtol=1e-6)


def test_missing_class_gets_zero_weight():
    weights = class_weights([0, 0, 2], num_classes=3)
    assert weights[1] == 0.0


@pytest.mark.parametrize("labels, message", [
    ([], "non-empty"), ([0.5, 1.5], "non-negative integers"), ([-1, 0], "non-negative integers")])
def test_bad_labels(labels, message):
    with pytest.raises(InvalidArgumentError, match=message):
        class_weights(labels)
