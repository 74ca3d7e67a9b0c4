"""Information maximisation: confident and diverse target predictions (Shi & Sha 2012)."""

from astrokeras.selection import _checks
from astrokeras.selection.prediction_entropy import row_entropy
from astrokeras.selection.score import Score


def information_maximization(probabilities):
    """Mean prediction entropy minus the entropy of the mean prediction, on target images.

    `IM = mean_i H(p_i) - H(mean_i p_i)`, the negative of the mutual information between a
    target image and its predicted class (Shi & Sha 2012; the information-maximisation loss of
    SHOT, Liang et al. 2020). The first term rewards confident predictions, the second
    diverse ones: a model that puts every target image in one class is confident but has
    `H(mean p) = 0`, so it does not win as it does under plain prediction entropy. Lower is
    better; the minimum, `-log(classes)`, is reached by one-hot predictions spread evenly
    over the classes.

    Args:
        probabilities: target class probabilities `(n, classes)` (a softmax output).

    Returns:
        The score in nats, between -log(classes) and 0.

    Example:

    >>> information_maximization([[1.0, 0.0], [0.0, 1.0]])  # 0 - log 2
    -0.69314...
    >>> information_maximization([[1.0, 0.0], [1.0, 0.0]])  # confident but one class only
    0.0
    """
    p = _checks.probabilities("probabilities", probabilities)
    return float(row_entropy(p).mean() - row_entropy(p.mean(axis=0)))


class InformationMaximization(Score):
    """Score: mean prediction entropy minus entropy of the mean prediction; lower is better.

    See `information_maximization`. Needs target images only.

    Example:

    >>> import numpy as np
    >>> from astrokeras.selection import ModelOutputs
    >>> InformationMaximization()(ModelOutputs(np.array([[1.0, 0.0], [0.0, 1.0]])))
    -0.69314...
    """

    name, mode = "info_max", "min"

    def compute(self, outputs):
        return information_maximization(outputs.target_probabilities)
