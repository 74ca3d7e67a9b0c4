"""Out-of-fold domain probabilities of latent points: the domain classifier behind domain
AUC and deep embedded validation."""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from astrokeras.errors import check_positive_int
from astrokeras.selection import _checks

DEFAULT_FOLDS = 5


def domain_probabilities(source_latent, target_latent, *, folds=DEFAULT_FOLDS,
                         regularization=1.0, seed=0):
    """Out-of-fold probability that each latent point comes from the target domain.

    A logistic regression on standardised latent points learns to tell target (label 1)
    from source (label 0). With `folds`-fold stratified cross-fitting, each point's
    probability comes from a classifier that never saw it, so an over-fitted classifier
    cannot make two identical distributions look separable, and every source point gets an
    honest density-ratio estimate.

    Args:
        source_latent: source latent points `(n_source, d)`.
        target_latent: target latent points `(n_target, d)`.
        folds: number of cross-fitting folds, >= 2; each domain needs at least `folds` points.
        regularization: L2 strength of the logistic regression, > 0 (scikit-learn's
            `C = 1 / regularization`).
        seed: seed of the fold assignment.

    Returns:
        `(p_source, p_target)`: arrays `(n_source,)` and `(n_target,)` of P(target | point).

    Example:

    >>> rng = np.random.default_rng(0)
    >>> p_source, p_target = domain_probabilities(rng.normal(0, 1, (50, 3)),
    ...                                           rng.normal(4, 1, (50, 3)))
    >>> bool(p_source.max() < 0.5 < p_target.min())
    True
    """
    folds = check_positive_int("folds", folds, minimum=2)
    source, target = _checks.latent_pair(source_latent, target_latent, min_rows=folds)
    regularization = _checks.positive_number("regularization", regularization)
    seed = _checks.seed(seed)
    points = np.concatenate([source, target])
    domains = np.concatenate([np.zeros(len(source), int), np.ones(len(target), int)])
    classifier = make_pipeline(StandardScaler(),
                               LogisticRegression(C=1.0 / regularization, max_iter=1000))
    splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    p = cross_val_predict(classifier, points, domains, cv=splits, method="predict_proba")[:, 1]
    return p[:len(source)], p[len(source):]


class DomainClassifierScore:
    """The options shared by the scores built on `domain_probabilities` (a mixin).

    Args:
        folds: cross-fitting folds, >= 2.
        regularization: L2 strength of the logistic regression, > 0.
        seed: seed of the fold assignment.
    """

    def __init__(self, folds=DEFAULT_FOLDS, regularization=1.0, seed=0):
        self.folds = check_positive_int("folds", folds, minimum=2)
        self.regularization = _checks.positive_number("regularization", regularization)
        self.seed = _checks.seed(seed)

    def _options(self):
        return {"folds": self.folds, "regularization": self.regularization, "seed": self.seed}
