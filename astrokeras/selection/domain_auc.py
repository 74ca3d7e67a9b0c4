"""How well a classifier tells target from source in the latent space (area under ROC)."""

import numpy as np
from sklearn.metrics import roc_auc_score

from astrokeras.selection.domain_classifier import (DEFAULT_FOLDS, DomainClassifierScore,
                                                    domain_probabilities)
from astrokeras.selection.score import Score


def domain_auc(source_latent, target_latent, *, folds=DEFAULT_FOLDS, regularization=1.0,
               seed=0):
    """Cross-validated ROC AUC of a domain classifier on latent points.

    The proxy of domain discrepancy that domain adaptation minimises (Ben-David et al. 2010;
    the domain classifier of DANN, Ganin et al. 2016): a logistic regression tries to tell
    target from source latent points, and its out-of-fold AUC (see `domain_probabilities`)
    measures how far apart the domains are. 0.5: indistinguishable, the latent space is
    aligned; 1: fully separated. Lower is better. It is a linear probe: it measures alignment,
    not accuracy (a latent space that maps everything to one point is perfectly aligned).

    Args:
        source_latent: source latent points `(n_source, d)`.
        target_latent: target latent points `(n_target, d)`.
        folds: cross-fitting folds, >= 2.
        regularization: L2 strength of the logistic regression, > 0.
        seed: seed of the fold assignment.

    Returns:
        The AUC, in [0, 1] (around 0.5 when the domains are indistinguishable).

    Example:

    >>> rng = np.random.default_rng(0)
    >>> domain_auc(rng.normal(0, 1, (60, 4)), rng.normal(5, 1, (60, 4)))
    1.0
    """
    p_source, p_target = domain_probabilities(source_latent, target_latent, folds=folds,
                                              regularization=regularization, seed=seed)
    domains = np.concatenate([np.zeros(len(p_source)), np.ones(len(p_target))])
    return float(roc_auc_score(domains, np.concatenate([p_source, p_target])))


class DomainAUC(DomainClassifierScore, Score):
    """Score: cross-validated domain-classifier AUC on the latent space; lower is better.

    See `domain_auc`. Needs the latent points of target and source images (no labels).

    Args:
        folds: cross-fitting folds, >= 2.
        regularization: L2 strength of the logistic regression, > 0.
        seed: seed of the fold assignment.

    Example:

    >>> from astrokeras.selection import ModelOutputs
    >>> rng = np.random.default_rng(0)
    >>> outputs = ModelOutputs(target_probabilities=np.full((60, 2), 0.5),
    ...                        target_latent=rng.normal(5, 1, (60, 4)),
    ...                        source_latent=rng.normal(0, 1, (60, 4)))
    >>> DomainAUC()(outputs)
    1.0
    """

    name, mode = "domain_auc", "min"
    needs_latent = needs_source = True

    def compute(self, outputs):
        return domain_auc(outputs.source_latent, outputs.target_latent, **self._options())
