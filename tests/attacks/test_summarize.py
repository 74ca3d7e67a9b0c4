import numpy as np
import pytest
from attack_helpers import linear_classifier

from astrokeras.attacks import fgsm, summarize
from astrokeras.errors import InvalidArgumentError

W = np.random.default_rng(0).normal(size=(4, 4, 1)).astype(np.float32)


def test_success_is_counted_over_correctly_classified_images():
    model = linear_classifier(W)
    x = np.stack([W, -W, W, -W]) * 0.01  # w . x > 0 -> class 1; < 0 -> class 0
    y = np.array([1, 0, 0, 1])  # images 0, 1 correct; 2, 3 wrong
    adversarial = x.copy()
    adversarial[0] = -x[0]  # flips the correct image 0
    adversarial[2] = -x[2]  # makes wrong image 2 correct: not a success
    s = summarize(model, x, adversarial, y)
    assert s["accuracy_before"] == 0.5 and s["accuracy_after"] == 0.5
    assert s["succeeded"] == 1 and s["success_rate"] == 0.5
    assert s["labels"] == "given" and s["images"] == 4


def test_targeted_success_and_loss_rise_after_fgsm():
    model = linear_classifier(W)
    x = np.stack([W, W]) * 0.01
    s = summarize(model, x, fgsm(model, x, eps=1.0))
    assert s["labels"] == "predictions" and s["success_rate"] == 1.0
    assert s["loss_after"] > s["loss_before"]
    t = summarize(model, x, x, target=[1, 0])
    assert t["succeeded"] == 1 and t["success_rate"] == 0.5


def test_shapes_must_agree():
    model = linear_classifier(W)
    with pytest.raises(InvalidArgumentError, match="shape"):
        summarize(model, np.zeros((2, 4, 4, 1)), np.zeros((3, 4, 4, 1)))
