import numpy as np
import pytest
import tensorflow as tf
import keras

from astrokeras.errors import InvalidArgumentError
from astrokeras.layers import GradientReversal


def _gradient(layer, x, upstream):
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        objective = tf.reduce_sum(y * upstream)
    return tape.gradient(objective, x).numpy()


def test_forward_is_identity():
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    np.testing.assert_array_equal(GradientReversal(0.7)(x), x)


@pytest.mark.parametrize("weight", [0.0, 0.3, 1.0, 2.5])
def test_gradient_is_minus_weight_times_upstream(weight):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4)).astype("float32")
    upstream = rng.normal(size=(3, 4)).astype("float32")
    grad = _gradient(GradientReversal(weight), x, upstream)
    np.testing.assert_allclose(grad, -weight * upstream, rtol=1e-6, atol=1e-7)


def test_changing_weight_changes_gradient_without_retrace():
    layer = GradientReversal(1.0)
    traces = []

    @tf.function
    def grad_of(x):
        traces.append(1)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(layer(x))
        return tape.gradient(y, x)

    x = tf.ones((2, 3))
    np.testing.assert_allclose(grad_of(x), -1.0)
    layer.set_reversal_weight(0.25)
    np.testing.assert_allclose(grad_of(x), -0.25)
    layer.reversal_weight.assign(3.0)  # what a schedule callback may also do
    np.testing.assert_allclose(grad_of(x), -3.0)
    assert len(traces) == 1


def test_weight_is_a_non_trainable_variable():
    layer = GradientReversal(0.5)
    layer.build((None, 3))
    assert layer.trainable_weights == []
    assert [float(w) for w in layer.non_trainable_weights] == [0.5]


def test_round_trip_keeps_the_current_weight(keras_round_trip):
    inputs = keras.Input((3,))
    grl = GradientReversal(1.0, name="grl")
    model = keras.Model(inputs, keras.layers.Dense(2)(grl(inputs)))
    grl.set_reversal_weight(0.4)
    loaded = keras_round_trip(model)
    assert loaded.get_layer("grl").get_config()["weight"] == 1.0
    assert float(loaded.get_layer("grl").reversal_weight) == pytest.approx(0.4)
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)


@pytest.mark.parametrize("bad", [-0.1, "strong", float("nan")])
def test_rejects_bad_weight(bad):
    with pytest.raises(InvalidArgumentError, match="`weight` of GradientReversal"):
        GradientReversal(bad)
