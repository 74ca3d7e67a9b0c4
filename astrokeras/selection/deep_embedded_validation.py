"""Deep embedded validation: the target risk estimated from labelled source images
(You et al. 2019)."""

import numpy as np

from astrokeras.errors import InvalidArgumentError
from astrokeras.selection import _checks
from astrokeras.selection.domain_classifier import (DEFAULT_FOLDS, DomainClassifierScore,
                                                    domain_probabilities)
from astrokeras.selection.score import Score

#: Domain probabilities are clipped to [EPSILON, 1 - EPSILON] before the density ratio.
EPSILON = 1e-6


def importance_weights(p_target, n_source, n_target):
    """Density ratios `p_target(x) / p_source(x)` of source points from a domain classifier.

    With `P(target | x)` from a classifier trained on `n_source` source and `n_target` target
    points, Bayes' rule gives `w(x) = (n_source / n_target) * P(target | x) / P(source | x)`;
    the weights average 1 over the source when the classifier is calibrated.

    Args:
        p_target: P(target | x) of each source point, `(n,)`.
        n_source: number of source points the classifier was trained on (its class prior).
        n_target: number of target points it was trained on.

    Returns:
        The weights, `(n,)`.

    Example:

    >>> importance_weights(np.array([0.5, 0.8]), n_source=100, n_target=100)
    array([1., 4.])
    """
    p = np.clip(np.asarray(p_target, dtype=np.float64), EPSILON, 1.0 - EPSILON)
    return (n_source / n_target) * p / (1.0 - p)


def dev_risk(losses, weights):
    """The control-variate estimate of the importance-weighted risk (You et al. 2019, Alg. 1).

    With weighted losses `L_i = w_i l_i`, the plain estimate `mean(L)` is unbiased but has a
    large variance when a few weights are large. Since `E[w] = 1` under the source, `w` is a
    control variate: `R = mean(L) + eta (mean(w) - 1)` with the optimal
    `eta = -Cov(L, w) / Var(w)` (sample covariance and variance). When every weight is equal
    there is nothing to correct (`eta = 0`), and with weights all 1 the result is the plain
    mean loss.

    Args:
        losses: per-sample losses `l_i`, `(n,)`, n >= 2.
        weights: importance weights `w_i`, `(n,)`.

    Returns:
        The estimated target risk, a float.

    Example:

    >>> round(dev_risk(np.array([0.2, 0.4, 0.6]), np.ones(3)), 6)  # the mean loss
    0.4
    """
    losses = _checks.matrix("losses", np.reshape(losses, (-1, 1)), min_rows=2)[:, 0]
    weights = _checks.matrix("weights", np.reshape(weights, (-1, 1)), min_rows=2)[:, 0]
    if len(losses) != len(weights) or weights.min() < 0:
        raise InvalidArgumentError("`weights` must hold one non-negative weight per loss.",
                                   (len(losses), len(weights), float(weights.min())),
                                   "as many weights >= 0 as losses")
    weighted = weights * losses
    variance = np.var(weights, ddof=1)
    eta = 0.0
    if variance > 1e-12 * max(np.mean(weights) ** 2, 1e-300):
        eta = -np.cov(weighted, weights, ddof=1)[0, 1] / variance
    return float(np.mean(weighted) + eta * np.mean(weights) - eta)


def deep_embedded_validation(source_latent, source_probabilities, source_labels, target_latent,
                             *, folds=DEFAULT_FOLDS, regularization=1.0, seed=0):
    """Deep embedded validation (DEV, You et al. 2019): target risk from labelled source data.

    Under covariate shift the target risk equals the source risk with every source image
    weighted by the density ratio `p_target(x) / p_source(x)`. DEV estimates the ratio in the
    model's own latent space with a domain classifier (`domain_probabilities`: logistic
    regression, cross-fitted so that no point is weighted by a classifier trained on it) and
    reduces the variance of the weighted risk with a control variate (`dev_risk`). The loss
    is the cross-entropy of each labelled source validation image. Lower is better.
    No target labels are read: the target enters only through its latent points. When the
    domains barely overlap in the latent space, a few source images carry almost all the
    weight and the estimate rests on them (You et al. 2019 discuss this limit).

    Args:
        source_latent: latent points of labelled source validation images `(n_source, d)`.
        source_probabilities: the model's class probabilities on them `(n_source, classes)`.
        source_labels: their classes `(n_source,)`.
        target_latent: latent points of unlabelled target validation images `(n_target, d)`.
        folds: cross-fitting folds of the domain classifier, >= 2.
        regularization: L2 strength of the domain classifier, > 0.
        seed: seed of the fold assignment.

    Returns:
        The estimated target cross-entropy, a float.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> latent = rng.normal(size=(40, 3))
    >>> probabilities = np.tile([0.8, 0.2], (40, 1))
    >>> labels = np.zeros(40, int)
    >>> round(deep_embedded_validation(latent, probabilities, labels,
    ...                                rng.normal(size=(40, 3))), 4)  # -log 0.8, all weights
    0.2231
    """
    source, target = _checks.latent_pair(source_latent, target_latent, min_rows=2)
    p = _checks.probabilities("source_probabilities", source_probabilities)
    if len(p) != len(source):
        raise InvalidArgumentError("`source_probabilities` must hold one row per source latent "
                                   "point.", (len(p), len(source)), f"{len(source)} rows")
    labels = _checks.class_labels("source_labels", source_labels, len(p), p.shape[1])
    p_target, _ = domain_probabilities(source, target, folds=folds,
                                       regularization=regularization, seed=seed)
    losses = -np.log(np.maximum(p[np.arange(len(p)), labels], np.finfo(np.float64).tiny))
    return dev_risk(losses, importance_weights(p_target, len(source), len(target)))


class DeepEmbeddedValidation(DomainClassifierScore, Score):
    """Score: deep embedded validation, the importance-weighted source risk; lower is better.

    See `deep_embedded_validation`. Needs the latent points of target images and the latent
    points, probabilities and labels of source validation images.

    Args:
        folds: cross-fitting folds of the domain classifier, >= 2.
        regularization: L2 strength of the domain classifier, > 0.
        seed: seed of the fold assignment.

    Example:

    >>> from astrokeras.selection import ModelOutputs
    >>> rng = np.random.default_rng(0)
    >>> outputs = ModelOutputs(
    ...     target_probabilities=np.tile([0.5, 0.5], (40, 1)),
    ...     target_latent=rng.normal(size=(40, 3)),
    ...     source_probabilities=np.tile([0.8, 0.2], (40, 1)),
    ...     source_latent=rng.normal(size=(40, 3)), source_labels=np.zeros(40, int))
    >>> round(DeepEmbeddedValidation(folds=4)(outputs), 4)
    0.2231
    """

    name, mode = "dev", "min"
    needs_latent = needs_source = needs_source_labels = True

    def compute(self, outputs):
        return deep_embedded_validation(outputs.source_latent, outputs.source_probabilities,
                                        outputs.source_labels, outputs.target_latent,
                                        **self._options())
