"""Training under the mixed_float16 policy: float16 compute, float32 variables and losses."""

import numpy as np
import pytest
import tensorflow as tf
import keras

from astrokeras.models import convnet
from astrokeras.training import (CORAL, DANN, FGSM, MMD, AdversarialTrainingModel,
                                 DomainAdaptationModel)


@pytest.fixture
def mixed_precision():
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    source = rng.uniform(size=(16, 8, 8, 3)).astype("float32")
    target = (rng.uniform(size=(16, 8, 8, 3)) * 1.5 + 0.2).astype("float32")
    labels = rng.integers(0, 3, 16).astype("int32")
    return source, target, labels


@pytest.mark.parametrize("method", [lambda: MMD(weight=1.0),
                                    lambda: DANN(weight=1.0, hidden=(16,))],
                         ids=["mmd", "dann"])
def test_domain_adaptation_trains_under_mixed_float16(mixed_precision, images, method):
    source, target, labels = images
    classifier = convnet(input_shape=(8, 8, 3), latent_dim=8)
    assert classifier.get_layer("latent").compute_dtype == "float16"  # the policy applies
    model = DomainAdaptationModel(classifier, method())
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    data = tf.data.Dataset.from_tensor_slices(((source, target), labels)).batch(8)
    history = model.fit(data, epochs=1, verbose=0, shuffle=False)
    for key in ("loss", "classification_loss", "transfer_loss"):
        assert np.all(np.isfinite(history.history[key])), (key, history.history[key])
    assert history.history["transfer_loss"][-1] > 0.0  # source and target do differ
    for variable in model.trainable_variables:
        assert variable.dtype == "float32", (variable.path, variable.dtype)
    assert model.classifier.get_layer("probabilities").compute_dtype == "float32"
    assert keras.backend.standardize_dtype(model.predict(source, verbose=0).dtype) == "float32"


@pytest.mark.parametrize("method", [lambda: MMD(weight=1.0),
                                    lambda: DANN(weight=1.0, hidden=(16,)),
                                    lambda: CORAL(weight=1.0)],
                         ids=["mmd", "dann", "coral"])
def test_transfer_loss_is_computed_in_float32(mixed_precision, method):
    # float16 latents, as a mixed-precision encoder gives them: the transfer loss must equal
    # the one computed in float32 from the same values (a domain classifier computing in
    # float16 was off by 3.4e-5 relative here), and come out as float32.
    rng = np.random.default_rng(1)
    z_s = rng.normal(size=(32, 8)).astype("float16")
    z_t = (rng.normal(size=(32, 8)) * 1.3 + 0.4).astype("float16")
    transfer = method()
    transfer.build((None, 8))
    assert transfer.compute_dtype == "float32"
    for variable in transfer.variables:
        if "float" in variable.dtype:  # not the int64 state of dropout's seed generator
            assert variable.dtype == "float32", (variable.path, variable.dtype)
    # Weights of order 1 (DANN's initial ones give logits near 0, where float16 hardly errs).
    transfer.set_weights([rng.normal(size=w.shape).astype(w.dtype) if w.ndim else w
                          for w in transfer.get_weights()])
    value = transfer(keras.ops.convert_to_tensor(z_s), keras.ops.convert_to_tensor(z_t))
    assert keras.backend.standardize_dtype(value.dtype) == "float32"

    keras.mixed_precision.set_global_policy("float32")
    reference = method()
    reference.build((None, 8))
    reference.set_weights(transfer.get_weights())
    expected = reference(z_s.astype("float32"), z_t.astype("float32"))
    np.testing.assert_allclose(float(value), float(expected), rtol=1e-6)


def test_adversarial_training_under_mixed_float16(mixed_precision):
    # A confidently trained classifier: the attack's input gradient of such images underflows
    # in float16 layers (and Keras' clipped cross-entropy has none at p > 1 - 1e-7), which
    # left most "attacked" pixels unchanged before the attack normalised each image's loss.
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 256).astype("int32")
    images = (rng.uniform(size=(256, 16, 16, 3)) * 0.1
              + labels[:, None, None, None] * 0.3).astype("float32")
    # Trained in float32 (float16 is slow on a CPU), then copied into a mixed-precision twin.
    keras.mixed_precision.set_global_policy("float32")
    trained = convnet(input_shape=(16, 16, 3), latent_dim=8)
    trained.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    trained.fit(images, labels, epochs=8, batch_size=32, verbose=0)
    keras.mixed_precision.set_global_policy("mixed_float16")
    classifier = convnet(input_shape=(16, 16, 3), latent_dim=8)
    classifier.set_weights(trained.get_weights())
    assert classifier.get_layer("latent").compute_dtype == "float16"
    x, y = images[:16], labels[:16]
    confidence = classifier.predict(x, verbose=0)[np.arange(16), y]
    assert confidence.min() > 1.0 - 1e-5, confidence  # the regime this test is about

    model = AdversarialTrainingModel(classifier, FGSM(eps=0.02), fraction=0.5,
                                     label_source="label", seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    mixed, attacked = model.mix_batch(tf.constant(x), tf.constant(y))
    attacked = attacked.numpy()
    change = np.abs(mixed.numpy() - x).reshape(len(x), -1)
    assert attacked.sum() == 8
    assert np.all(change[~attacked] == 0.0)
    assert np.all(change[attacked] <= 0.02 + 1e-6)
    # FGSM moves every pixel of an attacked image by eps (the sign of a non-zero gradient).
    moved = np.mean(np.abs(change[attacked] - 0.02) < 1e-4, axis=1)
    assert np.all(moved > 0.9), moved

    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    for key in ("loss", "clean_loss", "adversarial_loss"):
        assert np.all(np.isfinite(history.history[key])), (key, history.history[key])
    for variable in model.trainable_variables:
        assert variable.dtype == "float32", (variable.path, variable.dtype)
    assert classifier.get_layer("probabilities").compute_dtype == "float32"
