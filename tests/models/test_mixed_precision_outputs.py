"""Every architecture keeps its probabilities in float32 under a mixed-precision policy."""

import keras
import numpy as np
import pytest

from astrokeras import models

BUILDERS = {
    "convnet": lambda: models.convnet(input_shape=(16, 16, 3)),
    "resnet18": lambda: models.resnet18(input_shape=(32, 32, 3)),
    "deepmerge": lambda: models.deepmerge(input_shape=(16, 16, 3)),
    "inception_photoz": lambda: models.inception_photoz(image_shape=(16, 16, 5), num_bins=12),
    "simple_photoz_cnn": lambda: models.simple_photoz_cnn(image_shape=(16, 16, 5), num_bins=12),
}


@pytest.fixture
def mixed_float16():
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    keras.mixed_precision.set_global_policy(previous)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_probabilities_stay_float32_under_mixed_precision(name, mixed_float16):
    model = BUILDERS[name]()
    assert model.get_layer("latent").compute_dtype == "float16"  # the network does run in fp16
    assert model.output.dtype == "float32"
    inputs = {k: np.random.default_rng(0).random((2,) + tuple(t.shape[1:]), dtype=np.float32)
              for k, t in zip([t.name for t in model.inputs], model.inputs)}
    if len(inputs) == 1:
        inputs = next(iter(inputs.values()))
    probabilities = keras.ops.convert_to_numpy(model(inputs, training=False))
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)
