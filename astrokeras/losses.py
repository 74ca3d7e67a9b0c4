"""Functional losses of astrokeras.

`mmd` is the transfer loss of Ciprijanovic et al. 2020 (eq. 3) and 2022 (eq. 2). Later
additions (CORAL, class-weighted cross-entropy, entropy terms) live here too.
"""

import keras
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


def coral(a, b):
    """CORAL loss: squared Frobenius distance between feature covariances (Sun & Saenko 2016).

    `||C_a - C_b||_F^2 / (4 d^2)` where `C` is the unbiased covariance of a batch of
    d-dimensional embeddings.

    Args:
        a: source embeddings, shape (n, d), n >= 2.
        b: target embeddings, shape (m, d), m >= 2.

    Returns:
        A scalar float32 tensor.

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    >>> float(coral(x, x))
    0.0
    """
    a = ops.cast(ops.convert_to_tensor(a), "float32")
    b = ops.cast(ops.convert_to_tensor(b), "float32")
    _check_embeddings(a, b)
    d = ops.cast(ops.shape(a)[1], "float32")
    diff = _covariance(a) - _covariance(b)
    return ops.sum(ops.square(diff)) / (4.0 * d * d)


def _covariance(x):
    n = ops.cast(ops.shape(x)[0], "float32")
    centred = x - ops.mean(x, axis=0, keepdims=True)
    return ops.matmul(ops.transpose(centred), centred) / ops.maximum(n - 1.0, 1.0)


def class_weighted_crossentropy(labels, probabilities, class_weights=None, sample_weight=None):
    """Cross-entropy weighted per class, Ciprijanovic 2022 eq. 1.

    Each sample's cross-entropy is multiplied by the weight of its true class
    (`w_m = N / (M n_m)`, see `astrokeras.training.class_weights`), so rare classes such as
    mergers count as much as common ones. Returns the per-sample losses; reduce them yourself.

    Args:
        labels: integer labels (batch,) or one-hot (batch, classes).
        probabilities: predicted class probabilities (batch, classes).
        class_weights: None or a sequence of one weight per class.
        sample_weight: None or per-sample weights (batch,).

    Returns:
        Per-sample losses, shape (batch,).
    """
    probabilities = ops.cast(probabilities, "float32")
    labels = sparse_labels(labels, probabilities.shape[-1])
    losses = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
    if class_weights is not None:
        weights = ops.convert_to_tensor(class_weights, dtype="float32")
        losses = losses * ops.take(weights, labels)
    if sample_weight is not None:
        losses = losses * ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
    return losses




def sparse_labels(labels, num_classes=None):
    """Integer labels from integer or one-hot labels.

    Args:
        labels: (batch,), (batch, 1) integers, or (batch, classes) one-hot.
        num_classes: number of classes, used to tell one-hot from (batch, 1).

    Returns:
        int32 tensor of shape (batch,).
    """
    labels = ops.convert_to_tensor(labels)
    if len(labels.shape) == 2 and labels.shape[-1] not in (None, 1) and (
        num_classes is None or labels.shape[-1] == num_classes
    ):
        return ops.cast(ops.argmax(labels, axis=-1), "int32")
    return ops.cast(ops.reshape(labels, (-1,)), "int32")


def entropy(probabilities, axis=-1):
    """Shannon entropy (nats) of probability vectors, safe at zero probabilities.

    Args:
        probabilities: tensor whose `axis` holds probabilities summing to 1.
        axis: the class axis.

    Returns:
        Entropies with `axis` removed.
    """
    p = ops.cast(probabilities, "float32")
    return -ops.sum(p * ops.log(ops.clip(p, 1e-12, 1.0)), axis=axis)
