"""Class weights of Ciprijanovic et al. 2022, eq. 1."""

import numpy as np

from astrokeras.errors import InvalidArgumentError


def class_weights(labels, num_classes=None):
    """Per-class weights `w_m = N / (M n_m)` that balance the cross-entropy.

    N is the number of samples, M the number of classes and n_m the count of class m
    (Ciprijanovic et al. 2022, eq. 1). A balanced set gets weights of 1.

    Args:
        labels: integer labels (N,) or one-hot labels (N, M), or a sequence of per-class counts
            when `num_classes` is None and the input is given as `counts=`-like 1-D floats.
        num_classes: M; inferred from the labels when None.

    Returns:
        A float32 NumPy array of M weights.

    Example:

    >>> class_weights([0, 0, 0, 1])
    array([0.6666667, 2.       ], dtype=float32)
    """
    labels = np.asarray(labels)
    if labels.ndim == 2:
        labels = labels.argmax(axis=-1)
    if labels.ndim != 1 or labels.size == 0:
        raise InvalidArgumentError("`labels` must be a non-empty 1-D array of class indices.",
                                   labels.shape, "shape (N,) or one-hot (N, M)")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise InvalidArgumentError("`labels` must hold non-negative integers.",
                                   labels.dtype, "integer class indices")
    if num_classes is None:
        num_classes = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=num_classes)
    if len(counts) > num_classes:
        raise InvalidArgumentError("`labels` holds a class >= `num_classes`.", int(labels.max()),
                                   f"< {num_classes}")
    return weights_from_counts(counts)


def weights_from_counts(counts):
    """Class weights from per-class counts (for example a dataset manifest).

    Args:
        counts: sequence of M non-negative counts; a class with count 0 gets weight 0.

    Returns:
        A float32 NumPy array of M weights.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0 or np.any(counts < 0) or counts.sum() == 0:
        raise InvalidArgumentError("`counts` must be non-negative with a positive total.",
                                   counts.tolist(), "M counts >= 0, sum > 0")
    total, classes = counts.sum(), counts.size
    with np.errstate(divide="ignore"):
        weights = np.where(counts > 0, total / (classes * counts), 0.0)
    return weights.astype(np.float32)
