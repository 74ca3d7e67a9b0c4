import numpy as np
import pytest
import keras

from astrokeras import losses
from astrokeras.errors import InvalidArgumentError
from astrokeras.layers import MMDLoss


def test_layer_equals_the_function():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(10, 4)).astype("float32")
    b = rng.normal(1.0, 1.0, size=(6, 4)).astype("float32")
    layer = MMDLoss(estimator="unbiased", bandwidths=[1.0, 2.0])
    expected = losses.mmd(a, b, estimator="unbiased", bandwidths=[1.0, 2.0])
    assert float(layer([a, b])) == pytest.approx(float(expected), rel=1e-6)


def test_add_as_loss_puts_weighted_value_in_model_losses():
    source = keras.Input((4,), name="source")
    target = keras.Input((4,), name="target")
    dense = keras.layers.Dense(3)
    za, zb = dense(source), dense(target)
    mmd_layer = MMDLoss(weight=0.05, add_as_loss=True)
    value = mmd_layer([za, zb])
    model = keras.Model([source, target], value)
    rng = np.random.default_rng(1)
    a = rng.normal(size=(8, 4)).astype("float32")
    b = rng.normal(2.0, 1.0, size=(8, 4)).astype("float32")
    out = model([a, b])
    assert len(model.losses) == 1
    assert float(model.losses[0]) == pytest.approx(0.05 * float(out), rel=1e-5)


def test_config_round_trip():
    layer = MMDLoss(estimator="unbiased", multipliers=(0.5, 1.0), weight=0.1, add_as_loss=True)
    clone = MMDLoss.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_keras_file_round_trip(keras_round_trip):
    source = keras.Input((4,))
    target = keras.Input((4,))
    model = keras.Model([source, target], MMDLoss(name="mmd")([source, target]))
    loaded = keras_round_trip(model)
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(5, 4)), rng.normal(size=(7, 4))
    assert float(loaded([a, b])) == pytest.approx(float(model([a, b])), rel=1e-6)
    assert isinstance(loaded.get_layer("mmd"), MMDLoss)


def test_rejects_bad_arguments():
    with pytest.raises(InvalidArgumentError, match="`estimator` of MMDLoss"):
        MMDLoss(estimator="quadratic")
    with pytest.raises(InvalidArgumentError, match="`weight` of MMDLoss"):
        MMDLoss(weight=-1)
    with pytest.raises(InvalidArgumentError, match=r"\[source, target\]"):
        MMDLoss()(np.zeros((2, 3), "float32"))
