import keras
import numpy as np
import pytest
from attack_helpers import small_convnet
from keras import ops

from astrokeras.attacks import input_gradient as module
from astrokeras.attacks.input_gradient import input_gradient
from astrokeras.errors import ConfigError

RNG = np.random.default_rng(5)
X = RNG.uniform(size=(6, 8, 8, 2)).astype(np.float32)
ONEHOT = np.eye(3, dtype=np.float32)[RNG.integers(0, 3, size=6)]


def _loss(model, onehot):
    return lambda image: keras.losses.categorical_crossentropy(onehot, model(image))


def test_each_image_gradient_is_its_own_loss_gradient_whatever_the_batch():
    model = small_convnet()
    batch = ops.convert_to_numpy(input_gradient(_loss(model, ONEHOT), ops.convert_to_tensor(X)))
    for i in (0, 4):
        alone = ops.convert_to_numpy(input_gradient(
            _loss(model, ONEHOT[i:i + 1]), ops.convert_to_tensor(X[i:i + 1])))
        np.testing.assert_allclose(batch[i:i + 1], alone, rtol=1e-4, atol=1e-6)
    assert np.abs(batch).max() > 0


def test_pixels_the_loss_does_not_reach_get_a_zero_gradient():
    grad = input_gradient(lambda image: ops.zeros((6,)), ops.convert_to_tensor(X))
    np.testing.assert_array_equal(ops.convert_to_numpy(grad), np.zeros_like(X))


def test_a_backend_without_an_input_gradient_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(module.keras.config, "backend", lambda: "numpy")
    with pytest.raises(ConfigError, match="no input gradient") as info:
        input_gradient(lambda image: ops.sum(image), ops.convert_to_tensor(X))
    assert info.value.value == "numpy"
