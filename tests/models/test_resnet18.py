import numpy as np
import pytest

from astrokeras.layers import ResidualBlock
from astrokeras.models import resnet18
from conftest import trainable_count


def test_trainable_parameters():
    model = resnet18()
    # torchvision's ResNet18 body (11,176,512) + 512->256 bottleneck + 256->3 output.
    assert trainable_count(model) == 11_176_512 + 512 * 256 + 256 + 256 * 3 + 3 == 11_308_611


def test_structure_and_shapes():
    model = resnet18()
    blocks = [layer for layer in model.layers if isinstance(layer, ResidualBlock)]
    assert [b.filters for b in blocks] == [64, 64, 128, 128, 256, 256, 512, 512]
    assert [b.strides for b in blocks] == [1, 1, 2, 1, 2, 1, 2, 1]
    assert model.get_layer("latent").output.shape == (None, 256)
    assert model.output.shape == (None, 3)


def test_keras_file_round_trip(keras_round_trip):
    model = resnet18(input_shape=(32, 32, 3), num_classes=2)
    x = np.random.default_rng(0).random((2, 32, 32, 3)).astype("float32")
    loaded = keras_round_trip(model)
    np.testing.assert_allclose(loaded(x, training=False), model(x, training=False), atol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    ({"input_shape": (16, 16, 3)}, "`input_shape` is too small"),
    ({"dropout": 1.0}, "`dropout` must lie in"),
    ({"latent_dim": -3}, "`latent_dim` must be at least 1"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        resnet18(**kwargs)
