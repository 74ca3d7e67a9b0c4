import importlib
import warnings

import keras
import numpy as np
import pytest

from astrokeras.attacks import one_pixel
from astrokeras.attacks.incremental import IncrementalModel, Unsupported, supports
from astrokeras.errors import AstroKerasWarning, InvalidArgumentError
from astrokeras.models import convnet

L = keras.layers
# The module (astrokeras.attacks.one_pixel is also the name of the function).
one_pixel_module = importlib.import_module("astrokeras.attacks.one_pixel")


def randomise(model, seed=0):
    """Non-trivial batch-norm statistics and head weights large enough to move the output."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.2, beta.shape),
                               rng.normal(0, 0.2, mean.shape), rng.uniform(0.5, 2, var.shape)])
        elif isinstance(layer, L.Dense):
            kernel, bias = layer.get_weights()
            layer.set_weights([rng.normal(0, 0.3, kernel.shape), rng.normal(0, 0.1, bias.shape)])
    return model


def candidates(shape, count_images, seed=0):
    """Pixels at the four corners, the middle of every edge, the centre and next to them."""
    height, width, bands = shape
    places = [(0, 0), (0, width - 1), (height - 1, 0), (height - 1, width - 1),
              (0, width // 2), (height // 2, 0), (height - 1, width // 2),
              (height // 2, width - 1), (height // 2, width // 2), (1, 1),
              (height - 2, width - 2), (height // 2 + 1, width // 2 - 1)]
    rows = np.array([p[0] for p in places], np.int32)
    cols = np.array([p[1] for p in places], np.int32)
    owner = (np.arange(len(places)) % count_images).astype(np.int32)
    values = np.random.default_rng(seed).uniform(-2, 3, (len(places), bands)).astype(np.float32)
    return owner, rows, cols, values


def compare(model, shape, count_images=2, seed=0):
    """Largest |incremental - full| output, and each candidate's largest |full - clean|."""
    x = np.random.default_rng(seed).uniform(size=(count_images, *shape)).astype(np.float32)
    fast = IncrementalModel(model, shape)
    owner, rows, cols, values = candidates(shape, count_images, seed)
    got = np.asarray(fast.evaluate(fast.prepare(x), owner, rows, cols, values))
    changed = x[owner].copy()
    changed[np.arange(len(owner)), rows, cols] = values
    full = keras.ops.convert_to_numpy(model(changed, training=False))
    clean = keras.ops.convert_to_numpy(model(x[owner], training=False))
    return np.abs(got - full).max(), np.abs(full - clean).max(axis=1)


def test_convnet_scores_equal_the_full_model():
    model = randomise(convnet(input_shape=(20, 20, 3)))
    error, moved = compare(model, (20, 20, 3))
    assert np.median(moved) > 1e-3  # the candidates really change the probabilities
    assert error < 1e-5
    logits = keras.Model(model.inputs[0], model.get_layer("logits").output)
    error, moved = compare(logits, (20, 20, 3), seed=1)
    assert moved.min() > 1e-3 and error < 1e-5


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_strides_dilation_pooling_and_nonlinear_head_match(padding):
    keras.utils.set_random_seed(1)
    shape = (37, 33, 2)
    model = keras.Sequential([
        keras.Input(shape),
        L.Rescaling(2.0, offset=-0.5),
        L.Conv2D(4, 3, padding=padding, activation="relu"),
        L.BatchNormalization(),
        L.MaxPooling2D(2, padding=padding),
        L.Conv2D(5, (3, 2), strides=2, padding=padding),
        L.LeakyReLU(0.1),
        L.AveragePooling2D(3, strides=1, padding=padding),
        L.Conv2D(3, 3, dilation_rate=2, padding=padding, activation="tanh"),
        L.Dropout(0.3),
        L.Flatten(),
        L.Dense(7, activation="relu"),
        L.Dense(4, activation="softmax"),
    ])
    error, moved = compare(randomise(model, seed=2), shape)
    # (with "valid" padding and strides some edge pixels reach no output: change 0, also
    # incrementally)
    assert moved.max() > 1e-3
    assert error < 1e-5


def test_linear_head_layers_fold_and_logits_match():
    keras.utils.set_random_seed(2)
    shape = (9, 9, 1)
    model = keras.Sequential([keras.Input(shape), L.Conv2D(3, 3, strides=2),
                              L.Activation("elu"), L.Flatten(), L.Dense(6), L.Dropout(0.5),
                              L.Dense(3)])
    fast = IncrementalModel(model, shape)
    assert len(fast.folded) == 2 and not fast.rest
    error, moved = compare(model, shape, count_images=3)
    assert moved.min() > 1e-3 and error < 1e-5


def test_dense_only_model_is_supported():
    model = keras.Sequential([keras.Input((5, 4, 2)), L.Flatten(), L.Dense(3)])
    error, moved = compare(randomise(model), (5, 4, 2))
    assert moved.min() > 1e-3 and error < 1e-5


def residual():
    x = keras.Input((8, 8, 1))
    h = L.Conv2D(1, 3, padding="same")(x)
    h = L.Add()([x, h])
    return keras.Model(x, L.Dense(2)(L.Flatten()(h)))


@pytest.mark.parametrize("make, reason", [
    (residual, "not take the previous layer's output"),
    (lambda: keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(2, 3), L.LayerNormalization(),
                               L.Flatten(), L.Dense(2)]), "LayerNormalization"),
    (lambda: keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(2, 3),
                               L.GlobalAveragePooling2D(), L.Dense(2)]),
     "GlobalAveragePooling2D"),
    (lambda: keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(2, 3), L.Flatten(),
                               L.Softmax()]), "not followed by a Dense"),
])
def test_unsupported_models_say_why(make, reason):
    model = make()
    with pytest.raises(Unsupported, match=reason):
        IncrementalModel(model, (8, 8, 1))
    ok, why = supports(model, (8, 8, 1))
    assert not ok and reason in why


def test_one_pixel_gives_the_same_result_either_way():
    model = randomise(convnet(input_shape=(16, 16, 3)), seed=3)
    x = np.random.default_rng(4).uniform(size=(4, 16, 16, 3)).astype(np.float32)
    kwargs = dict(popsize=24, max_iter=6, bounds=(0.0, 1.0), seed=5)
    fast = one_pixel(model, x, incremental=True, **kwargs)
    full = one_pixel(model, x, incremental=False, **kwargs)
    assert fast.success.any()  # the comparison covers successes, not only failures
    np.testing.assert_array_equal(fast.success, full.success)
    np.testing.assert_array_equal(fast.generations, full.generations)
    np.testing.assert_array_equal(fast.pixels, full.pixels)
    np.testing.assert_allclose(fast.probabilities, full.probabilities, atol=1e-5)


def test_xla_compiled_path_matches(monkeypatch):
    monkeypatch.setattr(one_pixel_module, "XLA_MIN_CANDIDATES", 0)
    model = randomise(keras.Sequential([keras.Input((10, 10, 2)), L.Conv2D(3, 3),
                                        L.MaxPooling2D(2), L.Flatten(),
                                        L.Dense(3, activation="softmax")]))
    x = np.random.default_rng(0).uniform(size=(3, 10, 10, 2)).astype(np.float32)
    kwargs = dict(popsize=16, max_iter=4, bounds=(0.0, 1.0), seed=1, batch_size=20)
    fast = one_pixel(model, x, incremental=True, **kwargs)
    full = one_pixel(model, x, incremental=False, **kwargs)
    np.testing.assert_array_equal(fast.generations, full.generations)
    np.testing.assert_array_equal(fast.pixels, full.pixels)


def test_required_but_unsupported_is_an_error():
    with pytest.raises(InvalidArgumentError, match="cannot be evaluated incrementally"):
        one_pixel(residual(), np.zeros((2, 8, 8, 1), np.float32), popsize=8, max_iter=1,
                  incremental=True)
    model = keras.Sequential([keras.Input((8, 8, 1)), L.Flatten(), L.Dense(2)])
    with pytest.raises(InvalidArgumentError, match="one changed pixel"):
        one_pixel(model, np.zeros((2, 8, 8, 1), np.float32), pixels=2, popsize=8, max_iter=1,
                  incremental=True)
    with pytest.raises(InvalidArgumentError, match="`incremental`"):
        one_pixel(model, np.zeros((2, 8, 8, 1), np.float32), incremental="yes")


def test_failed_check_falls_back_to_whole_images(monkeypatch):
    monkeypatch.setattr(one_pixel_module, "INCREMENTAL_TOLERANCE", -1.0)  # nothing passes
    model = randomise(keras.Sequential([keras.Input((6, 6, 1)), L.Conv2D(2, 3), L.Flatten(),
                                        L.Dense(2, activation="softmax")]))
    x = np.random.default_rng(0).uniform(size=(2, 6, 6, 1)).astype(np.float32)
    kwargs = dict(popsize=8, max_iter=2, bounds=(0.0, 1.0), seed=0)
    with pytest.warns(AstroKerasWarning, match="failed its check"):
        result = one_pixel(model, x, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = one_pixel(model, x, incremental=False, **kwargs)
    np.testing.assert_array_equal(result.pixels, full.pixels)
    with pytest.raises(InvalidArgumentError, match="failed its check"):
        one_pixel(model, x, incremental=True, **kwargs)


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("conv", [dict(kernel_size=3, dilation_rate=2),
                                  dict(kernel_size=4, strides=2),
                                  dict(kernel_size=(2, 5), strides=(3, 1)),
                                  dict(kernel_size=1)])
def test_first_convolution_shapes_match(padding, conv):
    """The first convolution sees one pixel and is updated by the kernel times its change."""
    keras.utils.set_random_seed(0)
    shape = (17, 14, 2)
    model = keras.Sequential([keras.Input(shape), L.Conv2D(3, padding=padding,
                                                          activation="relu", **conv),
                              L.MaxPooling2D(3, strides=2, padding=padding),
                              L.Conv2D(2, 2, strides=2, padding=padding), L.Flatten(),
                              L.Dense(3)])
    error, moved = compare(randomise(model), shape)
    assert moved.max() > 1e-2 and error < 1e-5
