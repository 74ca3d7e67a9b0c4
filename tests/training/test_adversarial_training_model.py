import numpy as np
import pytest
import tensorflow as tf
import keras

from astrokeras.errors import InvalidArgumentError
from astrokeras.models import convnet, inception_photoz
from astrokeras.training import FGSM, PGD, AdversarialTrainingModel


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    return (rng.uniform(size=(20, 16, 16, 3)).astype("float32"),
            rng.integers(0, 3, 20).astype("int32"))


@pytest.mark.parametrize("fraction, expected", [(0.0, 0), (0.1, 2), (0.25, 5), (1.0, 20)])
def test_attacked_count_per_batch_matches_fraction(fraction, expected, batch):
    x, y = batch
    model = AdversarialTrainingModel(convnet(input_shape=(16, 16, 3)), FGSM(eps=0.03),
                                     fraction=fraction, seed=0)
    mixed, attacked = model.mix_batch(tf.constant(x), tf.constant(y))
    attacked = attacked.numpy()
    assert attacked.sum() == expected
    change = np.abs(mixed.numpy() - x).reshape(len(x), -1).max(axis=1)
    assert np.all(change[~attacked] == 0.0)
    assert np.all(change[attacked] <= 0.03 + 1e-6)
    assert np.all(change[attacked] > 0.0)


def test_pgd_samples_stay_in_the_eps_ball_and_clip_range(batch):
    x, y = batch
    attack = PGD(eps=0.05, step=0.02, steps=4, clip=(0.0, 1.0), seed=3)
    model = AdversarialTrainingModel(convnet(input_shape=(16, 16, 3)), attack, fraction=0.5,
                                     label_source="label", seed=0)
    mixed, attacked = model.mix_batch(tf.constant(x), tf.constant(y))
    mixed = mixed.numpy()
    assert np.abs(mixed - x).max() <= 0.05 + 1e-6
    assert mixed.min() >= 0.0 and mixed.max() <= 1.0


def test_attack_raises_the_loss_of_the_attacked_samples(batch):
    x, y = batch
    classifier = convnet(input_shape=(16, 16, 3))
    model = AdversarialTrainingModel(classifier, FGSM(eps=0.05), fraction=1.0,
                                     label_source="label")
    mixed, _ = model.mix_batch(tf.constant(x), tf.constant(y))
    loss = keras.losses.sparse_categorical_crossentropy
    before = loss(y, classifier(x, training=False)).numpy()
    after = loss(y, classifier(mixed, training=False)).numpy()
    assert after.mean() > before.mean()


def test_photoz_attack_perturbs_only_the_image():
    rng = np.random.default_rng(1)
    x = {"image": rng.uniform(size=(8, 16, 16, 5)).astype("float32"),
         "ebv": rng.uniform(0.0, 0.1, size=(8, 1)).astype("float32")}
    bins = rng.integers(0, 180, 8).astype("int32")
    model = AdversarialTrainingModel(inception_photoz(image_shape=(16, 16, 5)),
                                     FGSM(eps=0.01), fraction=0.5, label_source="label")
    mixed, attacked = model.mix_batch({k: tf.constant(v) for k, v in x.items()},
                                      tf.constant(bins))
    np.testing.assert_array_equal(mixed["ebv"].numpy(), x["ebv"])
    change = np.abs(mixed["image"].numpy() - x["image"]).reshape(8, -1).max(axis=1)
    np.testing.assert_allclose(change[attacked.numpy()], 0.01, rtol=1e-4)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, bins, batch_size=4, epochs=1, verbose=0)
    assert {"loss", "clean_loss", "adversarial_loss"} <= set(history.history)


def test_fit_logs_clean_and_adversarial_loss_and_round_trips(batch, keras_round_trip):
    x, y = batch
    model = AdversarialTrainingModel(convnet(input_shape=(16, 16, 3)), PGD(0.03, 0.01, 2),
                                     fraction=0.2, seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=10, epochs=2, verbose=0, validation_data=(x, y))
    for key in ("loss", "accuracy", "clean_loss", "adversarial_loss", "val_clean_loss"):
        assert key in history.history
        assert np.all(np.isfinite(history.history[key]))
    loaded = keras_round_trip(model)
    assert isinstance(loaded.attack, PGD) and loaded.fraction == 0.2
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    ({"attack": "fgsm"}, "`attack` must be FGSM"),
    ({"attack": FGSM(0.01), "fraction": 1.5}, "`fraction`"),
    ({"attack": FGSM(0.01), "label_source": "truth"}, "`label_source`"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message):
        AdversarialTrainingModel(convnet(input_shape=(16, 16, 3)), **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"eps": -0.1, "step": 0.01, "steps": 1}, "`eps` of the attack"),
    ({"eps": 0.01, "step": 0.02, "steps": 1}, "`step` of the attack"),
    ({"eps": 0.01, "step": 0.01, "steps": 1, "norm": 3}, "`norm` of the attack"),
    ({"eps": 0.01, "step": 0.01, "steps": 1, "clip": (1, 0)}, "`clip` must have"),
])
def test_bad_attack_specs(kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message):
        PGD(**kwargs)


def test_evaluate_on_a_dataset_of_unknown_length_is_exact(batch):
    x, y = batch
    model = AdversarialTrainingModel(convnet(input_shape=(16, 16, 3)), FGSM(eps=0.01),
                                     fraction=0.0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    unknown_length = tf.data.Dataset.from_tensor_slices((x, y)).filter(
        lambda a, b: True).batch(32)
    logs = model.evaluate(unknown_length, return_dict=True, verbose=0)
    expected = keras.losses.sparse_categorical_crossentropy(y, model.predict(x, verbose=0))
    assert logs["loss"] == pytest.approx(float(np.mean(expected)), rel=1e-5)
    assert logs["clean_loss"] == pytest.approx(float(np.mean(expected)), rel=1e-5)


def test_training_attack_loss_is_the_cross_entropy_and_keeps_a_gradient_when_saturated():
    from astrokeras.training.adversarial_training_model import _cross_entropy

    labels = tf.constant([0, 2])
    moderate = tf.constant([[0.7, 0.2, 0.1], [0.25, 0.25, 0.5]])
    np.testing.assert_allclose(_cross_entropy(labels, moderate).numpy(),
                               [-np.log(0.7), -np.log(0.5)], rtol=1e-6)
    # p[label] rounds to exactly 1 in float32 while the others (about 4e-18) do not vanish:
    # -log p[label] would be 0 with a zero gradient, so the attack would not move the image.
    logits = tf.Variable([[40.0, 0.0, 0.0]])
    with tf.GradientTape() as tape:
        probabilities = tf.nn.softmax(logits)
        loss = _cross_entropy(tf.constant([0]), probabilities)
    assert probabilities.numpy()[0, 0] == 1.0
    assert loss.numpy()[0] > 0.0
    gradient = tape.gradient(loss, logits).numpy()
    assert gradient[0, 0] < 0.0 and np.all(gradient[0, 1:] > 0.0)  # away from the label
