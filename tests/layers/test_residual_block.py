import numpy as np
import pytest
import keras

from astrokeras.errors import InvalidArgumentError
from astrokeras.layers import ResidualBlock


def _block_model(block, shape=(8, 8, 4)):
    inputs = keras.Input(shape)
    return keras.Model(inputs, block(inputs))


def test_identity_shortcut_when_shape_is_kept():
    block = ResidualBlock(4, strides=1)
    model = _block_model(block)
    assert block.projection is None
    assert model.output.shape == (None, 8, 8, 4)
    # two 3x3 convolutions (no bias) + two batch norms (gamma, beta)
    assert sum(np.prod(w.shape) for w in block.trainable_weights) == 2 * 3 * 3 * 4 * 4 + 2 * 8


def test_projection_shortcut_when_stride_or_width_changes():
    block = ResidualBlock(16, strides=2)
    model = _block_model(block)
    assert block.projection is not None
    assert model.output.shape == (None, 4, 4, 16)
    expected = 3 * 3 * 4 * 16 + 3 * 3 * 16 * 16 + 1 * 1 * 4 * 16 + 3 * (2 * 16)
    assert sum(np.prod(w.shape) for w in block.trainable_weights) == expected


def test_output_is_relu_of_residual_sum():
    block = ResidualBlock(4)
    model = _block_model(block)
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32")
    y = model(x, training=False).numpy()
    assert y.min() >= 0.0
    # With the residual branch zeroed (gamma = 0 in the second batch norm), the block is relu(x).
    block.bn2.gamma.assign(np.zeros(4, "float32"))
    block.bn2.beta.assign(np.zeros(4, "float32"))
    np.testing.assert_allclose(model(x, training=False), np.maximum(x, 0.0), atol=1e-6)


def test_keras_file_round_trip(keras_round_trip):
    model = _block_model(ResidualBlock(8, strides=2, name="block"))
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 4)).astype("float32")
    loaded = keras_round_trip(model)
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
    assert loaded.get_layer("block").get_config() == model.get_layer("block").get_config()


@pytest.mark.parametrize("kwargs, message", [
    ({"filters": 0}, "`filters` must be at least 1"),
    ({"filters": 8, "strides": 3}, "`strides` of ResidualBlock"),
])
def test_rejects_bad_arguments(kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message):
        ResidualBlock(**kwargs)


def test_same_shaped_convolutions_start_from_different_kernels():
    block = ResidualBlock(4)
    _block_model(block)
    assert not np.allclose(block.conv1.kernel.numpy(), block.conv2.kernel.numpy())
