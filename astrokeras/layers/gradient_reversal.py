"""Gradient reversal layer of DANN (Ganin & Lempitsky 2015)."""

import keras
import tensorflow as tf
from keras import layers

from astrokeras.errors import InvalidArgumentError


@tf.custom_gradient
def _reverse_gradient(x, weight):
    def grad(upstream):
        return -tf.cast(weight, upstream.dtype) * upstream, tf.zeros_like(weight)

    return tf.identity(x), grad


@keras.saving.register_keras_serializable(package="astrokeras")
class GradientReversal(layers.Layer):
    """Identity on the forward pass; multiplies the gradient by `-weight` on the way back.

    Placed between a feature extractor and a domain classifier, it lets one optimiser step train
    the domain classifier to tell the domains apart while pushing the features to make them
    indistinguishable (DANN, Ganin & Lempitsky 2015; used on galaxy mergers by Ciprijanovic et
    al. 2020). The weight is stored in a non-trainable variable, so a callback can follow the
    schedule `2 / (1 + exp(-10 p)) - 1` (p = training progress) by assigning to it, without
    retracing the compiled train step. The current weight is saved with the model's weights.

    Args:
        weight: float >= 0, the initial reversal weight (lambda).
        **kwargs: base `keras.layers.Layer` arguments (name, dtype, ...).

    Call arguments:
        inputs: a tensor of any shape; returned unchanged.

    Example:

    >>> grl = GradientReversal(weight=0.5)
    >>> x = keras.ops.ones((2, 3))
    >>> bool(keras.ops.all(grl(x) == x))
    True
    >>> grl.set_reversal_weight(1.0)  # what the DANN schedule callback does
    """

    def __init__(self, weight=1.0, **kwargs):
        super().__init__(**kwargs)
        try:
            weight = float(weight)
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                "`weight` of GradientReversal must be a number.", weight, "a float >= 0"
            ) from None
        if not weight >= 0.0:
            raise InvalidArgumentError(
                "`weight` of GradientReversal must be non-negative.", weight, "a float >= 0"
            )
        self.weight = weight
        self.supports_masking = True
        self.reversal_weight = self.add_weight(
            name="reversal_weight",
            shape=(),
            initializer=keras.initializers.Constant(weight),
            trainable=False,
            dtype="float32",
        )

    def call(self, inputs):
        weight = tf.convert_to_tensor(self.reversal_weight)
        return _reverse_gradient(inputs, weight)

    def set_reversal_weight(self, value):
        """Sets the reversal weight in place (no retracing).

        Args:
            value: float >= 0, the new weight.
        """
        value = float(value)
        if not value >= 0.0:
            raise InvalidArgumentError(
                "The reversal weight must be non-negative.", value, "a float >= 0"
            )
        self.reversal_weight.assign(value)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"weight": self.weight})
        return config
