"""Maximum mean discrepancy between source and target latent points."""

from astrokeras import losses
from astrokeras.errors import InvalidArgumentError
from astrokeras.selection import _checks
from astrokeras.selection.score import Score


def latent_mmd(source_latent, target_latent, estimator="biased"):
    """Squared MMD between the source and the target latent points.

    The transfer loss of the MMD models (`astrokeras.losses.mmd`, Ciprijanovic et al. 2020,
    eq. 3; 2022, eq. 2) measured on held-out images: a multi-kernel Gaussian MMD whose
    bandwidths follow the scale of the latent points, so values stay comparable while the
    latent space grows or shrinks during training. 0 for identical sets; larger when the
    domains are further apart. Lower is better. Like domain AUC it measures alignment, not
    accuracy. Its memory grows as (n_source + n_target)^2.

    Args:
        source_latent: source latent points `(n_source, d)`.
        target_latent: target latent points `(n_target, d)`.
        estimator: "biased" (never negative) or "unbiased" (see `losses.mmd`).

    Returns:
        MMD^2 as a float.

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(100, 4))
    >>> latent_mmd(x, x)
    0.0
    >>> latent_mmd(x, x + 2.0) > 0.5
    True
    """
    if estimator not in losses.ESTIMATORS:
        raise InvalidArgumentError("`estimator` of latent_mmd is unknown.", estimator,
                                   losses.ESTIMATORS)
    source, target = _checks.latent_pair(source_latent, target_latent,
                                         min_rows=2 if estimator == "unbiased" else 1)
    return float(losses.mmd(source.astype("float32"), target.astype("float32"),
                            estimator=estimator))


class LatentMMD(Score):
    """Score: MMD between source and target latent points; lower is better.

    See `latent_mmd`. Needs the latent points of target and source images (no labels).

    Args:
        estimator: "biased" or "unbiased".

    Example:

    >>> import numpy as np
    >>> from astrokeras.selection import ModelOutputs
    >>> x = np.random.default_rng(0).normal(size=(100, 4))
    >>> LatentMMD()(ModelOutputs(np.full((100, 2), 0.5), target_latent=x, source_latent=x))
    0.0
    """

    name, mode = "latent_mmd", "min"
    needs_latent = needs_source = True

    def __init__(self, estimator="biased"):
        if estimator not in losses.ESTIMATORS:
            raise InvalidArgumentError("`estimator` of LatentMMD is unknown.", estimator,
                                       losses.ESTIMATORS)
        self.estimator = estimator

    def compute(self, outputs):
        return latent_mmd(outputs.source_latent, outputs.target_latent, self.estimator)
