import numpy as np
import pytest
from attack_helpers import crossentropy, linear_classifier, photoz_model, small_convnet

from astrokeras.attacks import fgsm, pgd, redshift_bins
from astrokeras.errors import InvalidArgumentError

RNG = np.random.default_rng(3)
X = RNG.uniform(0.0, 1.0, size=(12, 8, 8, 2)).astype(np.float32)
Y = RNG.integers(0, 3, size=12)


def test_linf_pgd_stays_in_the_eps_box_and_clip_range():
    model = small_convnet()
    x_adv = pgd(model, X, Y, eps=0.1, step=0.04, steps=10, clip=(0.0, 1.0), seed=0)
    assert np.abs(x_adv - X).max() <= 0.1 + 1e-6
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    assert np.abs(x_adv - X).max() > 0.09  # it does move


def test_l2_pgd_stays_in_the_eps_ball_and_clip_range():
    model = small_convnet()
    x_adv = pgd(model, X, Y, eps=0.5, step=0.2, steps=10, norm=2, clip=(0.0, 1.0), seed=0)
    norms = np.linalg.norm((x_adv - X).reshape(len(X), -1), axis=1)
    assert norms.max() <= 0.5 + 1e-5
    assert norms.min() > 0.4
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0


@pytest.mark.parametrize("norm, eps, step", [("inf", 0.05, 0.0125), (2, 0.5, 0.125)])
def test_pgd_loss_is_at_least_fgsm_loss(norm, eps, step):
    model = small_convnet()
    loss_fgsm = crossentropy(model, fgsm(model, X, Y, eps=eps, norm=norm), Y)
    loss_pgd = crossentropy(model, pgd(model, X, Y, eps=eps, step=step, steps=20, norm=norm,
                                       random_start=False), Y)
    assert loss_pgd >= loss_fgsm > crossentropy(model, X, Y)


def test_one_step_of_size_eps_without_random_start_is_fgsm():
    model = small_convnet()
    np.testing.assert_allclose(
        pgd(model, X, Y, eps=0.05, step=0.05, steps=1, random_start=False, clip=(0.0, 1.0)),
        fgsm(model, X, Y, eps=0.05, clip=(0.0, 1.0)), atol=1e-6)


def test_per_sample_eps_bounds_each_image():
    model = small_convnet()
    eps = np.linspace(0.0, 0.11, len(X)).astype(np.float32)
    x_adv = pgd(model, X, Y, eps=eps, step=eps / 2, steps=5, seed=1)
    reach = np.abs(x_adv - X).reshape(len(X), -1).max(axis=1)
    assert np.all(reach <= eps + 1e-6)
    assert reach[0] == 0.0


def test_random_start_is_seeded():
    model = small_convnet()
    a = pgd(model, X, Y, eps=0.1, step=0.02, steps=2, seed=5)
    b = pgd(model, X, Y, eps=0.1, step=0.02, steps=2, seed=5)
    c = pgd(model, X, Y, eps=0.1, step=0.02, steps=2, seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_targeted_pgd_reaches_the_target_on_a_linear_model():
    w = np.random.default_rng(0).normal(size=(8, 8, 2)).astype(np.float32)
    model = linear_classifier(w)
    x = X - 0.5
    target = 1 - np.argmax(model.predict(x, verbose=0), axis=1)
    x_adv = pgd(model, x, target, eps=1.0, step=0.25, steps=10, targeted=True, seed=0)
    np.testing.assert_array_equal(np.argmax(model.predict(x_adv, verbose=0), axis=1), target)


def test_photoz_pgd_leaves_ebv_untouched_and_raises_the_loss():
    model = photoz_model()
    rng = np.random.default_rng(2)
    x = {"image": rng.uniform(size=(6, 8, 8, 5)).astype(np.float32),
         "ebv": rng.uniform(0.0, 0.1, size=(6, 1)).astype(np.float32)}
    y = redshift_bins(rng.uniform(0.0, 0.4, size=6))
    x_adv = pgd(model, x, y, eps=0.05, step=0.01, steps=10, seed=0)
    np.testing.assert_array_equal(x_adv["ebv"], x["ebv"])
    assert np.abs(x_adv["image"] - x["image"]).max() <= 0.05 + 1e-6
    assert crossentropy(model, x_adv, y) > crossentropy(model, x, y)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"eps": 0.1, "step": 0.2, "steps": 3}, "step"),
        ({"eps": -0.1, "step": 0.0, "steps": 3}, "eps"),
        ({"eps": 0.1, "step": 0.05, "steps": 0}, "steps"),
        ({"eps": 0.1, "step": 0.05, "steps": 3, "norm": "l1"}, "norm"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match):
        pgd(small_convnet(), X, Y, **kwargs)
