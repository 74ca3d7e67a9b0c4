"""Class weights of Ciprijanovic et al. 2022, eq. 1."""

import numpy as np

from astrokeras.errors import InvalidArgumentError, check_positive_int


def class_weights(labels=None, num_classes=None, *, counts=None):
    """Per-class weights `w_m = N / (M n_m)` that balance the cross-entropy.

    N is the number of samples, M the number of classes and n_m the count of class m
    (Ciprijanovic et al. 2022, eq. 1). A balanced set gets weights of 1; a class with no
    samples gets 0. Give the labels, or the counts per class: a dataset manifest keeps them
    as `manifest["counts"]["per_class"]` (a dict class name -> count, in class order), so
    `class_weights(counts=manifest["counts"]["per_class"])` weighs a dataset on disk.

    Args:
        labels: integer labels (N,) or one-hot labels (N, M).
        num_classes: M with `labels`; inferred from the labels when None.
        counts: instead of `labels`, M counts n_m: a sequence, or a dict class -> count.

    Returns:
        A float32 NumPy array of M weights (`dict(enumerate(weights))` for
        `model.fit(class_weight=...)`).

    Example:

    >>> class_weights([0, 0, 0, 1])
    array([0.6666667, 2.       ], dtype=float32)
    >>> class_weights(counts={"spiral": 30, "elliptical": 10})
    array([0.6666667, 2.       ], dtype=float32)
    """
    if (labels is None) == (counts is None):
        raise InvalidArgumentError("Give exactly one of `labels` and `counts`.",
                                   "both" if counts is not None else "neither",
                                   "labels=... or counts=...")
    if counts is None:
        counts = _label_counts(labels, num_classes)
    elif num_classes is not None:
        raise InvalidArgumentError("`num_classes` goes with `labels`; `counts` has one entry "
                                   "per class.", num_classes, "None with counts=")
    if isinstance(counts, dict):
        counts = list(counts.values())
    try:
        counts = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgumentError("`counts` must be numbers, one per class.", counts,
                                   "M counts >= 0") from None
    if counts.ndim != 1 or counts.size == 0 or np.any(counts < 0) or counts.sum() == 0:
        raise InvalidArgumentError("`counts` must be non-negative with a positive total.",
                                   counts.tolist(), "M counts >= 0, sum > 0")
    total, classes = counts.sum(), counts.size
    with np.errstate(divide="ignore"):
        weights = np.where(counts > 0, total / (classes * counts), 0.0)
    return weights.astype(np.float32)


def _label_counts(labels, num_classes):
    labels = np.asarray(labels)
    if labels.ndim == 2:
        labels = labels.argmax(axis=-1)
    if labels.ndim != 1 or labels.size == 0:
        raise InvalidArgumentError("`labels` must be a non-empty 1-D array of class indices.",
                                   labels.shape, "shape (N,) or one-hot (N, M)")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise InvalidArgumentError("`labels` must hold non-negative integers.",
                                   labels.dtype, "integer class indices")
    num_classes = int(labels.max()) + 1 if num_classes is None else \
        check_positive_int("num_classes", num_classes)
    counts = np.bincount(labels, minlength=num_classes)
    if len(counts) > num_classes:
        raise InvalidArgumentError("`labels` holds a class >= `num_classes`.", int(labels.max()),
                                   f"< {num_classes}")
    return counts
