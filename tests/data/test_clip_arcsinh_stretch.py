import math
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from astrokeras.data import ClipArcsinh
from astrokeras.data.clip_arcsinh_stretch import ClipArcsinhStretch
from astrokeras.errors import ConfigError, InvalidArgumentError

LOW, HIGH, C = (0.0, -1.0, 0.5), (50.0, 60.0, 70.0), 0.85


def former_tensorflow_stretch(images, low=LOW, high=HIGH, c=C):
    """The stretch as astrokeras' tf.data pipeline computed it before the layer existed."""
    low, high = tf.constant(low, tf.float32), tf.constant(high, tf.float32)
    unit = (tf.clip_by_value(images, low, high) - low) / (high - low)
    return tf.asinh(unit / c) * (1.0 / math.asinh(1.0 / c))


def raw_images(n=4, size=8, seed=0):
    return np.random.default_rng(seed).uniform(-5, 80, (n, size, size, 3)).astype("float32")


def test_layer_is_bit_identical_to_the_former_formula_eagerly_and_in_tf_data():
    images = raw_images()
    layer = ClipArcsinhStretch(LOW, HIGH, C)
    expected = former_tensorflow_stretch(images).numpy()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(images)), expected)
    mapped = tf.data.Dataset.from_tensor_slices(images).map(layer)
    np.testing.assert_array_equal(np.stack(list(mapped.as_numpy_iterator())), expected)


def test_layer_and_numpy_path_share_one_formula():
    images = raw_images(seed=1)
    numpy_path = ClipArcsinh(LOW, HIGH, C)(images)
    layer = ClipArcsinhStretch.from_preprocessing(ClipArcsinh(LOW, HIGH, C).get_config())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(images)), numpy_path,
                               rtol=0, atol=3e-7)
    assert numpy_path.min() == 0.0 and numpy_path.max() == 1.0


def test_layer_computes_in_float32_under_a_mixed_precision_policy():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        layer = ClipArcsinhStretch(LOW, HIGH, C)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    small = np.full((1, 2, 2, 3), 1e-3, "float32")
    out = layer(small)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out),
                                  former_tensorflow_stretch(small).numpy())


def test_config_round_trip_rebuilds_the_same_stretch():
    layer = ClipArcsinhStretch(LOW, HIGH, 0.001, name="stretch")
    config = layer.get_config()
    assert (config["low"], config["high"], config["c"]) == (list(LOW), list(HIGH), 0.001)
    clone = ClipArcsinhStretch.from_config(config)
    images = raw_images(seed=2)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(clone(images)),
                                  keras.ops.convert_to_numpy(layer(images)))


FRESH_LOAD = """
import sys
import numpy as np
import astrokeras
from astrokeras.saving import register_custom_objects
assert "astrokeras>ClipArcsinhStretch" in register_custom_objects()
model = astrokeras.load_model(sys.argv[1])
np.save(sys.argv[2], model.predict(np.load(sys.argv[3]), verbose=0))
"""


def test_a_model_with_the_stretch_loads_in_a_fresh_process(tmp_path):
    inputs = keras.Input((8, 8, 3), name="image")
    x = ClipArcsinhStretch(LOW, HIGH, C, name="stretch")(inputs)
    outputs = keras.layers.Dense(2, name="out")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    model.save(tmp_path / "m.keras")
    images = raw_images(n=3)
    np.save(tmp_path / "x.npy", images)
    done = subprocess.run([sys.executable, "-c", FRESH_LOAD, str(tmp_path / "m.keras"),
                           str(tmp_path / "y.npy"), str(tmp_path / "x.npy")],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), model.predict(images, verbose=0),
                               atol=1e-6)


def test_wrong_band_count_is_refused_naming_both():
    with pytest.raises(InvalidArgumentError, match="limits for 3 bands; its input has 5"):
        ClipArcsinhStretch(LOW, HIGH, C)(np.zeros((1, 4, 4, 5), "float32"))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"low": (1.0,), "high": (0.5,)}, InvalidArgumentError, "`high`"),
    ({"low": (0.0,), "high": (1.0,), "c": 0}, InvalidArgumentError, "softening"),
])
def test_bad_limits_are_refused_at_construction(kwargs, error, message):
    with pytest.raises(error, match=message):
        ClipArcsinhStretch(**kwargs)


def test_a_config_dict_of_another_method_is_a_config_error():
    with pytest.raises(ConfigError):
        ClipArcsinhStretch.from_preprocessing({"method": "log", "low": [0.0], "high": [1.0]})


def test_docstring_examples_run():
    from conftest import assert_docstring_examples_pass

    assert_docstring_examples_pass("astrokeras.data.clip_arcsinh_stretch")
