"""Functional losses of astrokeras.

`mmd` is the transfer loss of Ciprijanovic et al. 2020 (eq. 3) and 2022 (eq. 2). Later
additions (CORAL, class-weighted cross-entropy, entropy terms) live here too.
"""

import tensorflow as tf
from keras import ops

from astrokeras.errors import InvalidArgumentError

ESTIMATORS = ("biased", "unbiased")
DEFAULT_MULTIPLIERS = (0.25, 0.5, 1.0, 2.0, 4.0)


def pairwise_squared_distances(a, b):
    """Squared Euclidean distances between the rows of `a` (n, d) and `b` (m, d).

    Args:
        a: tensor of shape (n, d).
        b: tensor of shape (m, d).

    Returns:
        Tensor of shape (n, m), clipped at 0 against round-off.
    """
    a_sq = ops.sum(ops.square(a), axis=1, keepdims=True)
    b_sq = ops.sum(ops.square(b), axis=1, keepdims=True)
    d2 = a_sq + ops.transpose(b_sq) - 2.0 * ops.matmul(a, ops.transpose(b))
    return ops.maximum(d2, 0.0)


def mmd(a, b, estimator="biased", bandwidths=None, multipliers=DEFAULT_MULTIPLIERS):
    """Squared maximum mean discrepancy between two batches of embeddings.

    The kernel is a sum of Gaussian RBF kernels `k(x, y) = sum_k exp(-||x - y||^2 / (2 s_k^2))`.
    With `estimator="biased"` (Ciprijanovic 2022, eq. 2) every pair counts, the diagonal
    included: `MMD^2 = mean K(a, a) + mean K(b, b) - 2 mean K(a, b)`; it is never negative and
    is exactly 0 for identical batches. With `estimator="unbiased"` (Ciprijanovic 2020, eq. 3)
    the diagonal terms are left out of the within-batch means (`1 / (m (m - 1))`); its expectation
    is the true MMD^2 but a single batch may give a slightly negative value.

    Bandwidths are either fixed (`bandwidths`, the sigmas `s_k`) or, by default, derived from the
    batch as in the multi-kernel MMD of Long et al. 2015 that DeepMerge builds on: the mean
    squared distance `D` over all distinct pairs of the joint batch, held constant for the
    gradient, gives `2 s_k^2 = m_k D` for each multiplier `m_k` (default `2^-2 .. 2^2`).

    The default is the biased estimator with batch-derived bandwidths: as a training loss it is
    bounded below by 0 (an optimiser cannot "win" by pushing a noisy estimate negative), and the
    derived bandwidths follow the scale of the latent space as it changes during training, so
    no bandwidth needs tuning. Unequal batch sizes are supported; constant or identical inputs
    give 0 with finite gradients.

    Args:
        a: source embeddings, shape (n, d).
        b: target embeddings, shape (m, d); d must match.
        estimator: "biased" or "unbiased" (needs n, m >= 2).
        bandwidths: None (derive from the batch) or a sequence of positive sigmas.
        multipliers: multipliers of the derived bandwidth; ignored when `bandwidths` is given.

    Returns:
        A scalar tensor, MMD^2 in float32.

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
    >>> float(mmd(x, x)) == 0.0
    True
    >>> float(mmd(x, x + 1.0)) > 0.0
    True
    """
    if estimator not in ESTIMATORS:
        raise InvalidArgumentError("`estimator` of mmd is unknown.", estimator, ESTIMATORS)
    if bandwidths is not None:
        bandwidths = tuple(float(s) for s in bandwidths)
        if not bandwidths or any(not s > 0 for s in bandwidths):
            raise InvalidArgumentError(
                "`bandwidths` of mmd must be positive sigmas.", bandwidths, "a non-empty sequence > 0"
            )
    else:
        multipliers = tuple(float(m) for m in multipliers)
        if not multipliers or any(not m > 0 for m in multipliers):
            raise InvalidArgumentError(
                "`multipliers` of mmd must be positive.", multipliers, "a non-empty sequence > 0"
            )
    a = ops.cast(ops.convert_to_tensor(a), "float32")
    b = ops.cast(ops.convert_to_tensor(b), "float32")
    _check_embeddings(a, b)

    n = ops.cast(ops.shape(a)[0], "float32")
    m = ops.cast(ops.shape(b)[0], "float32")
    joint = ops.concatenate([a, b], axis=0)
    d2 = pairwise_squared_distances(joint, joint)
    # Round-off can leave the self-distances slightly above 0; they are exactly 0.
    d2 = d2 * (1.0 - ops.eye(ops.shape(joint)[0], dtype=d2.dtype))

    if bandwidths is None:
        total = n + m
        mean_d2 = ops.sum(d2) / ops.maximum(total * (total - 1.0), 1.0)
        mean_d2 = ops.stop_gradient(ops.maximum(mean_d2, 1e-12))
        scales = [mean_d2 * mult for mult in multipliers]  # each is 2 s_k^2
    else:
        scales = [2.0 * s * s for s in bandwidths]
    kernel = ops.zeros_like(d2)
    for scale in scales:
        kernel = kernel + ops.exp(-d2 / scale)

    n_int = ops.shape(a)[0]
    k_aa = kernel[:n_int, :n_int]
    k_bb = kernel[n_int:, n_int:]
    k_ab = kernel[:n_int, n_int:]
    if estimator == "biased":
        return ops.mean(k_aa) + ops.mean(k_bb) - 2.0 * ops.mean(k_ab)
    for name, batch in (("a", a), ("b", b)):
        if batch.shape[0] is not None and batch.shape[0] < 2:
            raise InvalidArgumentError(
                f"The unbiased MMD estimator needs at least 2 samples in `{name}`.",
                tuple(batch.shape), "a batch of 2 or more",
            )
    off_aa = ops.sum(k_aa) - ops.sum(ops.diagonal(k_aa))
    off_bb = ops.sum(k_bb) - ops.sum(ops.diagonal(k_bb))
    return (
        off_aa / ops.maximum(n * (n - 1.0), 1.0)
        + off_bb / ops.maximum(m * (m - 1.0), 1.0)
        - 2.0 * ops.mean(k_ab)
    )


def _check_embeddings(a, b):
    if len(a.shape) != 2 or len(b.shape) != 2:
        raise InvalidArgumentError(
            "mmd expects two batches of embeddings of rank 2 (batch, features).",
            (tuple(a.shape), tuple(b.shape)),
            "shapes (n, d) and (m, d)",
        )
    if a.shape[1] is not None and b.shape[1] is not None and a.shape[1] != b.shape[1]:
        raise InvalidArgumentError(
            "mmd expects embeddings of the same dimension.",
            (tuple(a.shape), tuple(b.shape)),
            "shapes (n, d) and (m, d) with equal d",
        )
