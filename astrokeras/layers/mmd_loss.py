"""Keras layer computing the multi-kernel MMD between two batches of embeddings."""

import keras
from keras import layers

from astrokeras import losses
from astrokeras.errors import InvalidArgumentError


@keras.saving.register_keras_serializable(package="astrokeras")
class MMDLoss(layers.Layer):
    """Squared maximum mean discrepancy between source and target embeddings, as a layer.

    A thin layer over `astrokeras.losses.mmd` for use inside functional models: it takes
    `[source, target]` and returns the scalar MMD^2 (see `astrokeras.losses.mmd` for the
    estimators and bandwidths). With `add_as_loss=True` it also adds `weight * MMD^2` to the
    model's losses, so a plain `model.fit` minimises it alongside the task loss.

    Args:
        estimator: "biased" (default, Ciprijanovic 2022 eq. 2) or "unbiased" (Ciprijanovic 2020
            eq. 3).
        bandwidths: None to derive the kernel bandwidths from each batch, or fixed sigmas.
        multipliers: multipliers of the derived bandwidth (default 2^-2 .. 2^2).
        weight: float >= 0, the factor applied when the value is added as a loss.
        add_as_loss: whether to call `self.add_loss(weight * mmd)`.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: a list `[source, target]` of embeddings of shapes (n, d) and (m, d).

    Returns:
        A scalar tensor.

    Example:

    >>> import numpy as np
    >>> z = np.random.default_rng(1).normal(size=(32, 16)).astype("float32")
    >>> float(MMDLoss()([z, z]))
    0.0
    """

    def __init__(
        self,
        estimator="biased",
        bandwidths=None,
        multipliers=losses.DEFAULT_MULTIPLIERS,
        weight=1.0,
        add_as_loss=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if estimator not in losses.ESTIMATORS:
            raise InvalidArgumentError("`estimator` of MMDLoss is unknown.", estimator,
                                       losses.ESTIMATORS)
        if not float(weight) >= 0.0:
            raise InvalidArgumentError("`weight` of MMDLoss must be non-negative.", weight, ">= 0")
        self.estimator = estimator
        self.bandwidths = None if bandwidths is None else [float(s) for s in bandwidths]
        self.multipliers = [float(m) for m in multipliers]
        self.weight = float(weight)
        self.add_as_loss = bool(add_as_loss)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise InvalidArgumentError(
                "MMDLoss expects a list [source, target] of two embedding batches.",
                type(inputs).__name__, "[source, target]",
            )
        value = losses.mmd(
            inputs[0], inputs[1], estimator=self.estimator, bandwidths=self.bandwidths,
            multipliers=self.multipliers,
        )
        if self.add_as_loss:
            self.add_loss(self.weight * value)
        return value

    def compute_output_shape(self, input_shape):
        return ()

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "estimator": self.estimator,
                "bandwidths": self.bandwidths,
                "multipliers": self.multipliers,
                "weight": self.weight,
                "add_as_loss": self.add_as_loss,
            }
        )
        return config
