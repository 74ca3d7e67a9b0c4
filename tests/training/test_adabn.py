import keras
import numpy as np
import pytest
import tensorflow as tf

from shift_problem import make_domains

from astrokeras.errors import InvalidArgumentError
from astrokeras.models import convnet, resnet18
from astrokeras.training import (MMD, DomainAdaptationModel, adapt_batch_norm,
                                 batch_norm_layers)


def _target(n=30, shape=(16, 16, 1), seed=0):
    return np.random.default_rng(seed).normal(3.0, 2.0, (n, *shape)).astype("float32")


def _moments(values):
    """Per-channel mean and population variance over every axis but the last, in float64."""
    values = np.asarray(values, dtype=np.float64)
    axes = tuple(range(values.ndim - 1))
    return values.mean(axis=axes), values.var(axis=axes)


def _scramble(model, seed=1):
    """Gives every batch norm some arbitrary statistics, as training would."""
    rng = np.random.default_rng(seed)
    for layer in batch_norm_layers(model):
        layer.moving_mean.assign(rng.normal(size=layer.moving_mean.shape))
        layer.moving_variance.assign(rng.uniform(0.5, 2.0, size=layer.moving_variance.shape))


def test_each_layer_gets_the_exact_statistics_of_its_inputs_in_the_adapted_model():
    model = convnet(input_shape=(16, 16, 1), num_classes=2)
    _scramble(model)
    images = _target()
    statistics = adapt_batch_norm(model, images, batch_size=7)  # uneven last batch
    assert statistics.images == 30 and list(statistics.mean) == ["bn1", "bn2", "bn3"]
    for name in ("bn1", "bn2", "bn3"):
        layer = model.get_layer(name)
        # independent: the adapted model's sub-graph up to the layer, on all images at once
        inputs = keras.Model(model.inputs, layer.input).predict(images, verbose=0)
        mean, variance = _moments(inputs)
        np.testing.assert_allclose(layer.moving_mean.numpy(), mean, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(layer.moving_variance.numpy(), variance, rtol=1e-4,
                                   atol=1e-6)
        np.testing.assert_allclose(statistics.mean[name], mean, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(statistics.variance[name], variance, rtol=1e-4, atol=1e-6)


def test_trained_weights_stay_and_only_the_moving_statistics_change():
    model = convnet(input_shape=(16, 16, 1), num_classes=2)
    _scramble(model)
    moving = {id(v) for layer in batch_norm_layers(model)
              for v in (layer.moving_mean, layer.moving_variance)}
    before = {v.path: v.numpy().copy() for v in model.weights}
    adapt_batch_norm(model, _target())
    for variable in model.weights:
        if id(variable) in moving:
            assert not np.allclose(variable.numpy(), before[variable.path]), variable.path
        else:  # kernels, biases, gamma, beta
            np.testing.assert_array_equal(variable.numpy(), before[variable.path])
    assert all("call" not in vars(layer) for layer in batch_norm_layers(model))


def test_the_nested_batch_norms_of_resnet18_are_adapted_in_call_order():
    model = resnet18(input_shape=(32, 32, 1), num_classes=2, latent_dim=8)
    _scramble(model)
    images = _target(n=6, shape=(32, 32, 1))
    statistics = adapt_batch_norm(model, images, batch_size=4)
    assert len(statistics.mean) == 20
    paths = list(statistics.mean)
    assert paths.index("stage2_block1/bn1") < paths.index("stage2_block1/bn2")
    # a block with a projection shortcut: its three batch norms, recomputed by hand
    block = model.get_layer("stage2_block1")
    x = keras.Model(model.inputs, block.input).predict(images, verbose=0)
    first = block.conv1(x)
    second = block.conv2(keras.ops.relu(block.bn1(first, training=False)))
    for layer, inputs in ((block.bn1, first), (block.bn2, second),
                          (block.projection_bn, block.projection(x))):
        mean, variance = _moments(inputs)
        np.testing.assert_allclose(layer.moving_mean.numpy(), mean, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(layer.moving_variance.numpy(), variance, rtol=1e-4,
                                   atol=1e-5)


def test_a_training_model_adapts_the_classifier_it_wraps():
    classifier = convnet(input_shape=(16, 16, 1), num_classes=2)
    _scramble(classifier)
    images = _target()
    adapt_batch_norm(DomainAdaptationModel(classifier, MMD()), images)
    mean, _ = _moments(keras.Model(classifier.inputs, classifier.get_layer("bn2").input)
                       .predict(images, verbose=0))
    np.testing.assert_allclose(classifier.get_layer("bn2").moving_mean.numpy(), mean,
                               rtol=1e-4, atol=1e-6)


def test_labels_are_never_read_and_the_form_of_the_images_does_not_matter():
    model = convnet(input_shape=(16, 16, 1), num_classes=2)
    images = _target(n=20)
    labels = np.random.default_rng(0).integers(0, 2, 20)
    forms = {
        "array": images,
        "images": tf.data.Dataset.from_tensor_slices(images).batch(8),
        "pairs": tf.data.Dataset.from_tensor_slices((images, labels)).batch(8),
        "sentinel labels": tf.data.Dataset.from_tensor_slices(
            (images, np.full(20, -1))).batch(8),
        "triples": tf.data.Dataset.from_tensor_slices((images, labels, np.ones(20))).batch(8),
    }
    results = {}
    for name, form in forms.items():
        _scramble(model, seed=len(results))
        adapt_batch_norm(model, form, batch_size=8)
        results[name] = [v.numpy().copy() for v in model.non_trainable_weights]
    for name, result in results.items():
        for got, expected in zip(result, results["array"]):
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7, err_msg=name)


def test_steps_limits_the_batches_read_and_makes_a_repeating_dataset_usable():
    model = convnet(input_shape=(16, 16, 1), num_classes=2)
    repeating = tf.data.Dataset.from_tensor_slices(_target(n=10)).batch(4).repeat()
    assert adapt_batch_norm(model, repeating, steps=2).images == 8
    assert adapt_batch_norm(model, _target(n=10), batch_size=4, steps=2).images == 8
    with pytest.raises(InvalidArgumentError, match="infinite dataset.*steps"):
        adapt_batch_norm(model, repeating)


def test_a_model_without_batch_normalisation_is_refused():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(
        keras.layers.Dense(4)(inputs)))
    with pytest.raises(InvalidArgumentError, match="BatchNormalization layers; `model` has "
                                                   "none"):
        adapt_batch_norm(model, np.zeros((4, 2), "float32"))


@pytest.mark.parametrize("images, match", [
    (np.zeros((4, 16, 16, 3), "float32"), r"model's inputs.*\(4, 16, 16, 3\).*\(n, 16, 16, 1\)"),
    (np.zeros((16, 16, 1), "float32"), r"model's inputs.*\(16, 16, 1\)"),
    (np.zeros((0, 16, 16, 1), "float32"), r"model's inputs.*n >= 1"),
    (np.full((2, 16, 16, 1), np.nan, "float32"), "NaN or infinite.*512 non-finite"),
    ("images", "model's inputs|numeric"),
    (tf.data.Dataset.from_tensor_slices(np.zeros((0, 16, 16, 1), "float32")).batch(2),
     "holds no images"),
])
def test_bad_images_are_refused_before_any_statistic_changes(images, match):
    model = convnet(input_shape=(16, 16, 1), num_classes=2)
    _scramble(model)
    before = [v.numpy().copy() for v in model.non_trainable_weights]
    with pytest.raises(InvalidArgumentError, match=match):
        adapt_batch_norm(model, images)
    for got, expected in zip(model.non_trainable_weights, before):
        np.testing.assert_array_equal(got.numpy(), expected)


@pytest.mark.parametrize("argument", [{"batch_size": 0}, {"steps": 0}, {"batch_size": 2.5}])
def test_bad_batch_size_or_steps_is_refused(argument):
    model = convnet(input_shape=(16, 16, 1), num_classes=2)
    with pytest.raises(InvalidArgumentError, match=next(iter(argument))):
        adapt_batch_norm(model, _target(n=4), **argument)


def test_adabn_recovers_the_target_accuracy_that_plain_training_loses():
    """The target is the source with every feature scaled and offset: a shift that the
    statistics of the first batch norm undo exactly, which the source statistics do not."""
    (xs, ys), _ = make_domains(n=1024, seed=0)
    (x_new, yt), _ = make_domains(n=1024, seed=1)
    xt = (x_new * np.array([3.0, 0.5]) + np.array([-6.0, -3.0])).astype("float32")
    keras.utils.set_random_seed(0)
    inputs = keras.Input((2,), name="image")
    x = keras.layers.BatchNormalization(name="bn_input")(inputs)
    x = keras.layers.Dense(16, activation="relu")(x)
    x = keras.layers.BatchNormalization(name="bn_hidden")(x)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(xs, ys, epochs=10, batch_size=64, verbose=0)

    def accuracy(x, y):
        return float(np.mean(np.argmax(model.predict(x, verbose=0), axis=1) == y))

    source, plain = accuracy(xs, ys), accuracy(xt, yt)
    adapt_batch_norm(model, xt, batch_size=128)  # target images only
    adapted = accuracy(xt, yt)
    assert source > 0.95
    assert plain < 0.6  # the shifted target falls on one side of the boundary
    assert adapted > 0.95
