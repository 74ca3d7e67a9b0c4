"""MMD transfer loss (Ciprijanovic et al. 2020, 2022)."""

import keras

from astrokeras import losses
from astrokeras.errors import InvalidArgumentError
from astrokeras.training.methods.base import TransferMethod


@keras.saving.register_keras_serializable(package="astrokeras")
class MMD(TransferMethod):
    """Multi-kernel MMD between source and target latent embeddings.

    Args:
        weight: factor of the MMD in the total loss (0.05 in Ciprijanovic et al. 2022).
        estimator: "biased" (default) or "unbiased"; see `astrokeras.losses.mmd`.
        bandwidths: None (derived from each batch) or fixed sigmas.
        multipliers: multipliers of the derived bandwidth.
        **kwargs: base layer arguments.

    Example:

    >>> method = MMD(weight=0.05)
    >>> method.weight
    0.05
    """

    def __init__(self, weight=0.05, estimator="biased", bandwidths=None,
                 multipliers=losses.DEFAULT_MULTIPLIERS, **kwargs):
        super().__init__(weight=weight, **kwargs)
        if estimator not in losses.ESTIMATORS:
            raise InvalidArgumentError("`estimator` of MMD is unknown.", estimator,
                                       losses.ESTIMATORS)
        self.estimator = estimator
        self.bandwidths = None if bandwidths is None else [float(s) for s in bandwidths]
        self.multipliers = [float(m) for m in multipliers]

    def call(self, source_latent, target_latent, training=None):
        return losses.mmd(source_latent, target_latent, estimator=self.estimator,
                          bandwidths=self.bandwidths, multipliers=self.multipliers)

    def get_config(self):
        config = super().get_config()
        config.update({"estimator": self.estimator, "bandwidths": self.bandwidths,
                       "multipliers": self.multipliers})
        return config
