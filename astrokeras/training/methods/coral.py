"""CORAL transfer loss (Sun & Saenko 2016)."""

import keras

from astrokeras import losses
from astrokeras.training.methods.base import TransferMethod


@keras.saving.register_keras_serializable(package="astrokeras")
class CORAL(TransferMethod):
    """Deep CORAL: aligns the covariances of source and target latent embeddings.

    Args:
        weight: factor of the CORAL loss in the total loss.
        **kwargs: base layer arguments.

    Example:

    >>> CORAL(weight=1.0).weight
    1.0
    """

    def __init__(self, weight=1.0, **kwargs):
        super().__init__(weight=weight, **kwargs)

    def call(self, source_latent, target_latent, training=None):
        return losses.coral(source_latent, target_latent)
