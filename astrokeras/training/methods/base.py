"""Base class of the transfer losses used by `DomainAdaptationModel`."""

import keras

from astrokeras.errors import InvalidArgumentError


class TransferMethod(keras.layers.Layer):
    """A layer mapping source and target latent embeddings to an (unweighted) transfer loss.

    Subclasses implement `call(source_latent, target_latent, training=None)` returning a scalar.
    Being layers, methods with weights (DANN's domain classifier) are tracked, trained,
    checkpointed and saved with the model that holds them.

    Methods that also need the target predictions and source labels (`UniversalDA`) set
    `uses_predictions = True` and accept `target_probabilities` and `source_labels`.

    A transfer loss is computed in float32 even under a mixed-precision policy (float16
    latents are cast to float32 on the way in, and a method's own layers, such as DANN's
    domain classifier, compute in float32): kernel sums, covariances and the domain
    classifier's logits lose too much in float16. Pass `dtype` to choose otherwise.

    Args:
        weight: float >= 0, the factor of the transfer loss in the total loss.
        **kwargs: base layer arguments.
    """

    uses_predictions = False

    def __init__(self, weight=1.0, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        try:
            weight = float(weight)
        except (TypeError, ValueError):
            weight = float("nan")
        if not weight >= 0.0:
            raise InvalidArgumentError(
                f"`weight` of {type(self).__name__} must be a non-negative number.",
                weight, "a float >= 0",
            )
        self.weight = weight

    def build(self, latent_shape):
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update({"weight": self.weight})
        return config
