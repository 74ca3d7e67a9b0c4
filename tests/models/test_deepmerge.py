import numpy as np
import pytest

from astrokeras.models import deepmerge
from conftest import trainable_count


def test_trainable_parameters_match_published_layer_list():
    conv = (3 * 25 * 8 + 8) + 16 + (8 * 9 * 16 + 16) + 32 + (16 * 9 * 32 + 32) + 64
    dense = (2592 * 64 + 64) + (64 * 32 + 32) + (32 * 2 + 2)
    assert trainable_count(deepmerge()) == conv + dense == 174_626


def test_latent_is_the_flattened_feature_map():
    model = deepmerge()
    assert model.get_layer("latent").output.shape == (None, 9 * 9 * 32)
    x = np.random.default_rng(0).random((3, 75, 75, 3)).astype("float32")
    probs = model(x, training=False).numpy()
    assert probs.shape == (3, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_keras_file_round_trip(keras_round_trip):
    model = deepmerge()
    x = np.random.default_rng(1).random((2, 75, 75, 3)).astype("float32")
    loaded = keras_round_trip(model)
    np.testing.assert_allclose(loaded(x, training=False), model(x, training=False), atol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="`num_classes` must be at least 1"):
        deepmerge(num_classes=-1)
    with pytest.raises(ValueError, match="`input_shape` must be a rank-3 shape"):
        deepmerge(input_shape=75)
