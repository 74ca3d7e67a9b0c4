import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.training import class_weights


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
    weights = class_weights(counts=counts)
    np.testing.assert_allclose(weights * counts, counts.sum() / 3, rtol=1e-6)


def test_missing_class_gets_zero_weight():
    weights = class_weights([0, 0, 2], num_classes=3)
    assert weights[1] == 0.0


@pytest.mark.parametrize("labels, message", [
    ([], "non-empty"), ([0.5, 1.5], "non-negative integers"), ([-1, 0], "non-negative integers")])
def test_bad_labels(labels, message):
    with pytest.raises(InvalidArgumentError, match=message):
        class_weights(labels)


def test_weights_of_a_manifest_follow_the_papers_formula():
    manifest = {"counts": {"per_class": {"spiral": 60, "elliptical": 30, "merger": 10}}}
    weights = class_weights(counts=manifest["counts"]["per_class"])
    np.testing.assert_allclose(weights, [100 / 180, 100 / 90, 100 / 30], rtol=1e-6)


def test_labels_and_counts_give_the_same_weights():
    labels = np.array([0] * 7 + [1] * 2 + [3] * 5)
    np.testing.assert_array_equal(class_weights(labels, num_classes=4),
                                  class_weights(counts=[7, 2, 0, 5]))


@pytest.mark.parametrize("kwargs, message", [
    ({}, "exactly one of `labels` and `counts`"),
    ({"labels": [0, 1], "counts": [1, 1]}, "exactly one of `labels` and `counts`"),
    ({"counts": [3, 1], "num_classes": 2}, "`num_classes` goes with `labels`"),
    ({"counts": [0, 0]}, "positive total"),
    ({"counts": [2, -1]}, "non-negative"),
    ({"labels": [0, 1], "num_classes": 0}, "`num_classes` must be at least 1"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message):
        class_weights(**kwargs)
