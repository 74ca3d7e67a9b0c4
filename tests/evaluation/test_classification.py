import numpy as np
import pytest
from sklearn import metrics as sk

from astrokeras.errors import InvalidArgumentError
from astrokeras.evaluation import classification_metrics


def _random_case(seed=0, n=60, classes=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    logits = rng.normal(size=(n, classes)) + 1.5 * np.eye(classes)[y]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, p


def test_metrics_match_scikit_learn():
    y, p = _random_case()
    predicted = p.argmax(axis=1)
    m = classification_metrics(y, p)
    assert m["accuracy"] == pytest.approx(sk.accuracy_score(y, predicted))
    assert m["precision"] == pytest.approx(sk.precision_score(y, predicted, average="weighted"))
    assert m["recall"] == pytest.approx(sk.recall_score(y, predicted, average="weighted"))
    assert m["f1"] == pytest.approx(sk.f1_score(y, predicted, average="weighted"))
    assert m["roc_auc"] == pytest.approx(sk.roc_auc_score(y, p, multi_class="ovr",
                                                          average="macro"))
    assert m["roc_auc_weighted"] == pytest.approx(sk.roc_auc_score(y, p, multi_class="ovr",
                                                                   average="weighted"))
    assert m["confusion_matrix"] == sk.confusion_matrix(y, predicted).tolist()
    # The multi-class Brier score: mean over samples of the squared error summed over classes.
    assert m["brier"] == pytest.approx(np.mean(np.sum((p - np.eye(3)[y]) ** 2, axis=1)))


def test_hand_computed_case_weights_by_true_instances():
    # Truth: three of class 0, one of class 1. Predictions: 0, 0, 1, 1.
    y = [0, 0, 0, 1]
    p = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7]])
    m = classification_metrics(y, p, class_names=["spiral", "elliptical"])
    # Class 0: precision 2/2, recall 2/3; class 1: precision 1/2, recall 1/1.
    assert m["accuracy"] == 0.75
    assert m["precision"] == pytest.approx(0.75 * 1.0 + 0.25 * 0.5)
    assert m["recall"] == pytest.approx(0.75 * (2 / 3) + 0.25 * 1.0)
    f1_0, f1_1 = 2 * (2 / 3) / (1 + 2 / 3), 2 * 0.5 / 1.5
    assert m["f1"] == pytest.approx(0.75 * f1_0 + 0.25 * f1_1)
    assert m["confusion_matrix"] == [[2, 1], [0, 1]]
    assert m["per_class"]["spiral"]["support"] == 3
    # Brier: ((0.1^2 * 2) + (0.2^2 * 2) + (0.6^2 * 2) + (0.3^2 * 2)) / 4
    assert m["brier"] == pytest.approx((0.02 + 0.08 + 0.72 + 0.18) / 4)
    # Class 1's only positive scores 0.7, above every negative (0.6, 0.2, 0.1): AUC 1.
    assert m["per_class"]["elliptical"]["roc_auc"] == 1.0


def test_absent_class_gets_no_auc_and_is_left_out_of_the_mean():
    y = np.array([0, 0, 1, 1])
    p = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1]])
    m = classification_metrics(y, p)
    assert m["per_class"]["2"]["roc_auc"] is None
    assert m["roc_auc"] == pytest.approx(np.mean([m["per_class"]["0"]["roc_auc"],
                                                  m["per_class"]["1"]["roc_auc"]]))


def test_one_hot_labels_equal_integer_labels():
    y, p = _random_case(1)
    assert classification_metrics(np.eye(3)[y], p) == classification_metrics(y, p)


@pytest.mark.parametrize("y, p, match", [
    ([0, 1], [[0.5, 0.5]], "one class per sample"),
    ([0, 3], [[0.5, 0.5], [0.5, 0.5]], "outside"),
    ([0, 1], [[2.0, -1.0], [0.5, 0.5]], "probabilities"),
    ([0, 1], [[np.nan, 0.5], [0.5, 0.5]], "NaN"),
])
def test_bad_input_is_refused_with_the_argument_named(y, p, match):
    with pytest.raises(InvalidArgumentError, match=match):
        classification_metrics(y, p)
