import numpy as np
import pytest
import tensorflow as tf

from astrokeras import losses
from astrokeras.errors import InvalidArgumentError


def _numpy_mmd(a, b, sigmas, estimator):
    """Independent reference: explicit double loops over the kernel definition."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)

    def k(x, y):
        d2 = np.sum((x - y) ** 2)
        return sum(np.exp(-d2 / (2.0 * s * s)) for s in sigmas)

    n, m = len(a), len(b)
    kaa = np.array([[k(a[i], a[j]) for j in range(n)] for i in range(n)])
    kbb = np.array([[k(b[i], b[j]) for j in range(m)] for i in range(m)])
    kab = np.array([[k(a[i], b[j]) for j in range(m)] for i in range(n)])
    if estimator == "biased":
        return kaa.mean() + kbb.mean() - 2 * kab.mean()
    off = lambda mat, size: (mat.sum() - np.trace(mat)) / (size * (size - 1))  # noqa: E731
    return off(kaa, n) + off(kbb, m) - 2 * kab.mean()


def _derived_sigmas(a, b, multipliers):
    joint = np.concatenate([a, b]).astype(np.float64)
    d2 = ((joint[:, None, :] - joint[None, :, :]) ** 2).sum(-1)
    total = len(joint)
    mean_d2 = d2.sum() / (total * (total - 1))
    return [np.sqrt(mult * mean_d2 / 2.0) for mult in multipliers]


@pytest.mark.parametrize("estimator", ["biased", "unbiased"])
def test_mmd_matches_numpy_with_fixed_bandwidths(estimator):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(9, 4)).astype("float32")
    b = rng.normal(0.5, 1.3, size=(13, 4)).astype("float32")
    sigmas = [0.5, 1.0, 3.0]
    expected = _numpy_mmd(a, b, sigmas, estimator)
    got = float(losses.mmd(a, b, estimator=estimator, bandwidths=sigmas))
    assert got == pytest.approx(expected, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("estimator", ["biased", "unbiased"])
def test_mmd_matches_numpy_with_batch_derived_bandwidths(estimator):
    rng = np.random.default_rng(1)
    a = rng.normal(size=(12, 6)).astype("float32")
    b = rng.normal(0.3, 1.0, size=(7, 6)).astype("float32")
    multipliers = (0.25, 0.5, 1.0, 2.0, 4.0)
    expected = _numpy_mmd(a, b, _derived_sigmas(a, b, multipliers), estimator)
    got = float(losses.mmd(a, b, estimator=estimator))
    assert got == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_biased_mmd_of_a_batch_with_itself_is_zero():
    x = np.random.default_rng(2).normal(size=(32, 8)).astype("float32")
    assert float(losses.mmd(x, x)) == pytest.approx(0.0, abs=1e-6)


def test_mmd_grows_monotonically_with_mean_shift():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(64, 5)).astype("float32")
    b = rng.normal(size=(64, 5)).astype("float32")
    sigmas = [1.0, 2.0]
    values = [float(losses.mmd(a, b + shift, bandwidths=sigmas)) for shift in (0.0, 0.5, 1.0, 2.0)]
    assert all(lo < hi for lo, hi in zip(values, values[1:])), values


@pytest.mark.parametrize("estimator", ["biased", "unbiased"])
@pytest.mark.parametrize("kind", ["identical", "constant"])
def test_no_nan_value_or_gradient_for_degenerate_inputs(estimator, kind):
    rng = np.random.default_rng(4)
    base = rng.normal(size=(8, 3)).astype("float32") if kind == "identical" else np.ones((8, 3),
                                                                                         "float32")
    a = tf.Variable(base)
    b = tf.Variable(base.copy())
    with tf.GradientTape() as tape:
        value = losses.mmd(a, b, estimator=estimator)
    grads = tape.gradient(value, [a, b])
    assert np.isfinite(float(value))
    for grad in grads:
        assert np.all(np.isfinite(grad.numpy()))
    if estimator == "biased":
        assert float(value) == pytest.approx(0.0, abs=1e-6)


def test_gradient_pulls_target_towards_source():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(32, 2)).astype("float32")
    b = tf.Variable(rng.normal(size=(32, 2)).astype("float32") + np.float32(2.0))
    with tf.GradientTape() as tape:
        value = losses.mmd(a, b)
    grad = tape.gradient(value, b).numpy()
    # A gradient step (b - lr * grad) must move the target mean towards the source mean (0).
    assert np.mean(grad) > 0


def test_unequal_batch_sizes_work():
    rng = np.random.default_rng(6)
    value = losses.mmd(rng.normal(size=(5, 3)), rng.normal(size=(40, 3)), estimator="unbiased")
    assert np.isfinite(float(value))


def test_bad_arguments_raise_clear_errors():
    x = np.zeros((4, 3), "float32")
    with pytest.raises(InvalidArgumentError, match="`estimator` of mmd"):
        losses.mmd(x, x, estimator="linear")
    with pytest.raises(InvalidArgumentError, match="same dimension"):
        losses.mmd(x, np.zeros((4, 2), "float32"))
    with pytest.raises(InvalidArgumentError, match="rank 2"):
        losses.mmd(np.zeros((4, 3, 1), "float32"), x)
    with pytest.raises(InvalidArgumentError, match="`bandwidths` of mmd"):
        losses.mmd(x, x, bandwidths=[1.0, -1.0])
    with pytest.raises(InvalidArgumentError, match="at least 2 samples in `a`"):
        losses.mmd(x[:1], x, estimator="unbiased")


def test_coral_matches_numpy_covariances():
    rng = np.random.default_rng(7)
    a = rng.normal(size=(20, 3)).astype("float32")
    b = (rng.normal(size=(15, 3)) * [1.0, 2.0, 0.5]).astype("float32")
    expected = np.sum((np.cov(a, rowvar=False) - np.cov(b, rowvar=False)) ** 2) / (4 * 3 * 3)
    assert float(losses.coral(a, b)) == pytest.approx(expected, rel=1e-4)


def test_class_weighted_crossentropy_weights_by_true_class():
    probs = np.array([[0.7, 0.3], [0.2, 0.8]], "float32")
    labels = np.array([0, 1])
    got = losses.class_weighted_crossentropy(labels, probs, class_weights=[1.0, 3.0]).numpy()
    np.testing.assert_allclose(got, [-np.log(0.7), -3.0 * np.log(0.8)], rtol=1e-5)
    one_hot = losses.class_weighted_crossentropy(np.eye(2)[labels], probs, [1.0, 3.0]).numpy()
    np.testing.assert_allclose(one_hot, got, rtol=1e-6)


def test_entropy_of_uniform_and_certain_outputs():
    got = losses.entropy(np.array([[0.25] * 4, [1.0, 0.0, 0.0, 0.0]], "float32")).numpy()
    np.testing.assert_allclose(got, [np.log(4.0), 0.0], atol=1e-6)
