"""Soft neighbourhood density of the target predictions (Saito et al. 2021)."""

import numpy as np

from astrokeras.errors import check_positive_int
from astrokeras.selection import _checks
from astrokeras.selection.score import Score

#: The temperature of Saito et al. 2021 (eq. 2).
DEFAULT_TEMPERATURE = 0.05


def soft_neighborhood_density(probabilities, temperature=DEFAULT_TEMPERATURE, chunk_size=1024):
    """Mean entropy of each target point's soft neighbour distribution (Saito et al. 2021).

    Each target prediction is L2-normalised; the similarities of point i to every other
    point, divided by the temperature, go through a softmax over j != i (eq. 2); the score is
    the mean entropy of these distributions (eq. 3). A model whose target predictions form
    dense clusters gives each point many near neighbours, a spread-out soft neighbour
    distribution and a high entropy. Higher is better. Like the paper, it reads the softmax
    output: collapsing every target image into one class also scores high, so use it beside a
    source-risk score (DEV) or information maximisation, not alone.

    Args:
        probabilities: target class probabilities `(n, classes)`, n >= 2.
        temperature: the softmax temperature, > 0 (0.05 in the paper).
        chunk_size: rows of the `(n, n)` similarity matrix computed at once (bounds memory).

    Returns:
        The score in nats, between 0 and log(n - 1).

    Example:

    >>> import math
    >>> clustered = [[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 3
    >>> round(soft_neighborhood_density(clustered), 4) == round(math.log(2), 4)  # 2 twins each
    True
    """
    p = _checks.probabilities("probabilities", probabilities, min_rows=2)
    temperature = _checks.positive_number("temperature", temperature)
    chunk_size = check_positive_int("chunk_size", chunk_size)
    unit = p / np.linalg.norm(p, axis=1, keepdims=True)
    total = 0.0
    for start in range(0, len(unit), chunk_size):
        rows = np.arange(start, min(start + chunk_size, len(unit)))
        logits = unit[rows] @ unit.T / temperature
        logits[np.arange(len(rows)), rows] = -np.inf  # a point is not its own neighbour
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        weights /= weights.sum(axis=1, keepdims=True)
        log_weights = np.log(np.where(weights > 0, weights, 1.0))
        total -= (weights * log_weights).sum()
    return float(total / len(unit))


class SoftNeighborhoodDensity(Score):
    """Score: soft neighbourhood density of the target predictions; higher is better.

    See `soft_neighborhood_density`. Needs target images only.

    Args:
        temperature: the softmax temperature, > 0 (0.05, Saito et al. 2021).

    Example:

    >>> from astrokeras.selection import ModelOutputs
    >>> outputs = ModelOutputs(np.array([[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 3))
    >>> round(SoftNeighborhoodDensity()(outputs), 4)
    0.6931
    """

    name, mode = "snd", "max"

    def __init__(self, temperature=DEFAULT_TEMPERATURE):
        self.temperature = _checks.positive_number("temperature", temperature)

    def compute(self, outputs):
        return soft_neighborhood_density(outputs.target_probabilities, self.temperature)
