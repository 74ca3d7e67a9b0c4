import numpy as np
import pytest
import tensorflow as tf
import keras

from astrokeras.errors import InvalidArgumentError
from astrokeras.training import MMD, UNKNOWN, DomainAdaptationModel, UniversalDA
from astrokeras.training.methods.universal_da import (
    entropy_separation_loss,
    neighbourhood_clustering_loss,
)


def _entropy(p):
    return -np.sum(p * np.log(np.clip(p, 1e-12, 1)), axis=-1)


def test_neighbourhood_clustering_matches_numpy():
    rng = np.random.default_rng(0)
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    target, bank, protos = (unit(rng.normal(size=s)).astype("float32")
                            for s in ((5, 4), (7, 4), (3, 4)))
    sims = target @ np.concatenate([bank, protos]).T / 0.05
    p = np.exp(sims - sims.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    expected = _entropy(p).mean()
    got = float(neighbourhood_clustering_loss(target, bank, protos, 0.05))
    assert got == pytest.approx(expected, rel=1e-4)


def test_entropy_separation_pushes_away_from_rho_outside_the_margin():
    probs = np.array([[0.98, 0.01, 0.01], [1 / 3, 1 / 3, 1 / 3], [0.6, 0.3, 0.1]], "float32")
    h = _entropy(probs)
    rho, margin = np.log(3) / 2, 0.3
    distance = np.abs(h - rho)
    expected = -np.mean(np.where(distance > margin, distance, 0.0))
    assert float(entropy_separation_loss(probs, rho, margin)) == pytest.approx(expected, rel=1e-5)
    # The gradient makes a confident sample more confident: d loss / d p_max < 0.
    p = tf.Variable(probs[:1])
    with tf.GradientTape() as tape:
        loss = entropy_separation_loss(p / tf.reduce_sum(p), rho, margin)
    grad = tape.gradient(loss, p).numpy()[0]
    assert grad[0] < grad[1]


def test_memory_bank_is_first_in_first_out_and_prototypes_follow_source_means():
    method = UniversalDA(num_classes=2, bank_size=4, momentum=0.0)
    method.build((None, 2))
    source = np.array([[1.0, 0.0], [0.0, 2.0]], "float32")
    for batch in (np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], "float32"),
                  np.array([[3.0, 0.0], [0.0, 3.0]], "float32")):
        method(source, batch, target_probabilities=np.full((len(batch), 2), 0.5, "float32"),
               source_labels=np.array([0, 1]), training=True)
    bank = method.bank.numpy()
    np.testing.assert_allclose(bank[0], [0.0, 1.0], atol=1e-6)   # overwritten second
    np.testing.assert_allclose(bank[1], [0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(bank[2], np.array([1.0, 1.0]) / np.sqrt(2), atol=1e-6)
    np.testing.assert_allclose(bank[3], [1.0, 0.0], atol=1e-6)
    assert int(method.bank_pointer.numpy()) == 1
    np.testing.assert_allclose(method.prototypes.numpy(), [[1.0, 0.0], [0.0, 1.0]], atol=1e-6)


def _blobs(rng, n, centers):
    y = rng.integers(0, len(centers), n)
    return (np.array(centers)[y] + rng.normal(0, 0.6, (n, 2))).astype("float32"), y


def _classifier():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((2,))
    hidden = keras.layers.Dense(32, activation="tanh")(inputs)
    latent = keras.layers.Dense(16, name="latent")(hidden)
    return keras.Model(inputs, keras.layers.Softmax()(keras.layers.Dense(2)(latent)))


def test_unknown_target_class_is_rejected_more_often_than_with_mmd():
    rng = np.random.default_rng(0)
    xs, ys = _blobs(rng, 1024, [(-2, 0), (2, 0)])
    xt, yt = _blobs(rng, 1024, [(-2, 0.3), (2, 0.3), (0, 3.5)])  # class 2: target only

    def paired():
        s = tf.data.Dataset.from_tensor_slices((xs, ys.astype("int32"))).shuffle(1024, seed=0)
        t = tf.data.Dataset.from_tensor_slices(xt).shuffle(1024, seed=1).repeat()
        return tf.data.Dataset.zip((s, t)).map(lambda a, b: ((a[0], b), a[1])).batch(
            64, drop_remainder=True)

    detected = {}
    for name, method in (("mmd", MMD(weight=1.0)), ("uda", UniversalDA(num_classes=2))):
        model = DomainAdaptationModel(_classifier(), method)
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        model.fit(paired(), epochs=10, verbose=0, shuffle=False)
        labels = model.predict_open_set(xt)
        known = yt < 2
        assert (labels[known] == yt[known]).mean() > 0.95
        detected[name] = (labels[~known] == UNKNOWN).mean()
    assert detected["uda"] > detected["mmd"] + 0.15, detected


def test_predict_open_set_uses_the_entropy_threshold():
    model = DomainAdaptationModel(_classifier(), UniversalDA(num_classes=2, rho=0.5))
    x = np.random.default_rng(1).normal(size=(50, 2)).astype("float32")
    probs = model.predict(x, verbose=0)
    labels = model.predict_open_set(x)
    high = _entropy(probs) > 0.5
    assert np.all(labels[high] == UNKNOWN)
    np.testing.assert_array_equal(labels[~high], probs[~high].argmax(1))


def test_open_set_threshold_rejects_the_chosen_share_of_known_images():
    model = DomainAdaptationModel(_classifier(), UniversalDA(num_classes=2))
    rng = np.random.default_rng(2)
    calibration, held_out = (rng.normal(size=(n, 2)).astype("float32") for n in (400, 4000))
    threshold = model.open_set_threshold(calibration, rejected=0.2)
    entropy = _entropy(model.predict(calibration, verbose=0))
    assert np.mean(entropy > threshold) == pytest.approx(0.2, abs=1 / 400)
    # Images of the same distribution, unseen by the calibration: about the same share.
    rejected = np.mean(model.predict_open_set(held_out, threshold=threshold) == UNKNOWN)
    assert rejected == pytest.approx(0.2, abs=0.04)
    for bad in (0.0, 1.0, "5 %", float("nan")):
        with pytest.raises(InvalidArgumentError, match="`rejected`"):
            model.open_set_threshold(calibration, rejected=bad)


def test_round_trip_keeps_bank_and_prototypes(keras_round_trip):
    model = DomainAdaptationModel(_classifier(), UniversalDA(num_classes=2, bank_size=8))
    model.method.bank.assign(np.arange(128, dtype="float32").reshape(8, 16))
    loaded = keras_round_trip(model)
    np.testing.assert_array_equal(loaded.method.bank.numpy(), model.method.bank.numpy())
    assert loaded.method.get_config() == model.method.get_config()


@pytest.mark.parametrize("kwargs, message", [
    ({"num_classes": 1}, "`num_classes` must be at least 2"),
    ({"num_classes": 3, "temperature": 0}, "`temperature` of UniversalDA"),
    ({"num_classes": 3, "momentum": 1.0}, "`momentum` of UniversalDA"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message):
        UniversalDA(**kwargs)
