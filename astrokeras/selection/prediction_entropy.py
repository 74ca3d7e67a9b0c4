"""Mean entropy of the target predictions (Morerio et al. 2018)."""

import numpy as np

from astrokeras.selection import _checks
from astrokeras.selection.score import Score


def row_entropy(probabilities):
    """Shannon entropy (natural log) of each row of a probability matrix; 0 log 0 = 0.

    Args:
        probabilities: array `(n, classes)`, rows summing to 1.

    Returns:
        Array `(n,)` of entropies in nats.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    logs = np.log(np.where(p > 0, p, 1.0))
    return -(p * logs).sum(axis=-1)


def prediction_entropy(probabilities):
    """Mean entropy of the predicted class distributions on target images.

    A model that has adapted to the target is usually confident there: low entropy.
    Morerio et al. 2018 select domain-adaptation models by it. On its own it can be fooled by a
    model that is confidently wrong (e.g. puts every target image in one class), which
    `information_maximization` guards against. Lower is better.

    Args:
        probabilities: target class probabilities `(n, classes)` (a softmax output).

    Returns:
        The mean entropy in nats, between 0 and log(classes).

    Example:

    >>> prediction_entropy([[1.0, 0.0], [0.5, 0.5]])  # (0 + log 2) / 2
    0.34657...
    """
    return float(row_entropy(_checks.probabilities("probabilities", probabilities)).mean())


class PredictionEntropy(Score):
    """Score: mean entropy of the target predictions; lower is better.

    See `prediction_entropy`. Needs target images only (no latent layer, no source).

    Example:

    >>> from astrokeras.selection import ModelOutputs
    >>> PredictionEntropy()(ModelOutputs(np.array([[1.0, 0.0], [0.5, 0.5]])))
    0.34657...
    """

    name, mode = "entropy", "min"

    def compute(self, outputs):
        return prediction_entropy(outputs.target_probabilities)
