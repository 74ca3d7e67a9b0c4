import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.models import convnet
from conftest import trainable_count


def test_trainable_parameters_match_table_1():
    model = convnet()
    assert trainable_count(model) == 1_187_203
    # The table's printed total stops at the bottleneck.
    upto_latent = trainable_count(model) - trainable_count_of(model, "logits")
    assert upto_latent == 1_186_432


def trainable_count_of(model, layer):
    return int(sum(np.prod(w.shape) for w in model.get_layer(layer).trainable_weights))


def test_shapes_and_probabilities():
    model = convnet()
    assert model.get_layer("latent").output.shape == (None, 256)
    assert model.get_layer("flatten").output.shape == (None, 4608)
    x = np.random.default_rng(0).random((2, 100, 100, 3)).astype("float32")
    probs = model(x, training=False).numpy()
    assert probs.shape == (2, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_other_sizes_and_classes():
    model = convnet(input_shape=(32, 32, 5), num_classes=4)
    assert model.output.shape == (None, 4)
    assert model.get_layer("flatten").output.shape == (None, 4 * 4 * 32)


def test_keras_file_round_trip(keras_round_trip):
    model = convnet(input_shape=(24, 24, 3))
    x = np.random.default_rng(1).random((2, 24, 24, 3)).astype("float32")
    loaded = keras_round_trip(model)
    np.testing.assert_allclose(loaded(x, training=False), model(x, training=False), atol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    ({"input_shape": (100, 100)}, "`input_shape` must be a rank-3 shape"),
    ({"input_shape": (100, 100, 0)}, "`input_shape` must hold positive integers"),
    ({"input_shape": (4, 4, 3)}, "`input_shape` is too small"),
    ({"num_classes": 0}, "`num_classes` must be at least 1"),
    ({"num_classes": 2.0}, "`num_classes` must be an integer >= 1"),
])
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        convnet(**kwargs)
    assert isinstance(info.value, InvalidArgumentError)
