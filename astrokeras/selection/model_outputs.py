"""What a model predicts on the selection data: the inputs of every score."""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class ModelOutputs:
    """A model's predictions on the selection data, as NumPy arrays.

    The scores read only what they need: the target-only scores the target probabilities,
    the latent-space scores the source and target latent points, deep embedded validation
    also the source probabilities and labels. There is no field for target labels: no score
    may use them.

    Attributes:
        target_probabilities: class probabilities on the target images, `(n_target, classes)`.
        target_latent: latent points of the target images, `(n_target, d)`, or None.
        source_probabilities: class probabilities on the source images, or None.
        source_latent: latent points of the source images, `(n_source, d)`, or None.
        source_labels: the source images' classes, `(n_source,)`, or None.

    Example:

    >>> outputs = ModelOutputs(target_probabilities=np.array([[0.9, 0.1], [0.2, 0.8]]))
    >>> outputs.target_probabilities.shape, outputs.source_latent
    ((2, 2), None)
    """

    target_probabilities: np.ndarray
    target_latent: np.ndarray = None
    source_probabilities: np.ndarray = None
    source_latent: np.ndarray = None
    source_labels: np.ndarray = None
