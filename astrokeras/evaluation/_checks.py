"""Argument checks shared by the evaluation functions (private).

Every check runs before any computation and raises `InvalidArgumentError` naming the argument,
the value received and what is allowed.
"""

import numpy as np

from astrokeras.errors import InvalidArgumentError


def describe(array):
    """A short description of an array for error messages (never the whole array)."""
    array = np.asarray(array)
    return f"array of shape {array.shape} and dtype {array.dtype}"


def float_array(name, value, ndim=None, min_length=1):
    """`value` as a finite float64 array with `ndim` dimensions and at least `min_length` rows."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`{name}` must be numeric.", type(value).__name__,
                                   "an array of numbers") from None
    if ndim is not None and array.ndim != ndim:
        raise InvalidArgumentError(f"`{name}` must have {ndim} dimension(s).", describe(array),
                                   f"{ndim}-D array")
    if array.ndim and len(array) < min_length:
        raise InvalidArgumentError(f"`{name}` must hold at least {min_length} value(s).",
                                   describe(array), f">= {min_length} rows")
    if not np.all(np.isfinite(array)):
        raise InvalidArgumentError(f"`{name}` holds NaN or infinite values.", describe(array),
                                   "finite values")
    return array


def class_labels(name, value, n, num_classes):
    """Integer class labels `(n,)` (or one-hot rows) inside `[0, num_classes)`."""
    array = np.asarray(value)
    if array.ndim == 2 and array.shape[1] == num_classes:
        array = np.argmax(array, axis=1)
    if array.ndim != 1 or len(array) != n:
        raise InvalidArgumentError(f"`{name}` must hold one class per sample.", describe(array),
                                   f"shape ({n},) or one-hot ({n}, {num_classes})")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        if not np.all(np.equal(np.mod(array, 1), 0)):
            raise InvalidArgumentError(f"`{name}` must hold integer classes.", describe(array),
                                       f"integers in [0, {num_classes})")
    array = array.astype(np.int64)
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise InvalidArgumentError(f"`{name}` holds a class outside the probabilities' columns.",
                                   (int(array.min()), int(array.max())),
                                   f"0 <= class < {num_classes}")
    return array


def probabilities(name, value):
    """Class probabilities `(n, classes)`: finite, non-negative, rows summing to 1."""
    array = float_array(name, value, ndim=2)
    if array.shape[1] < 2:
        raise InvalidArgumentError(f"`{name}` must have one column per class (at least 2).",
                                   describe(array), "(n, classes) with classes >= 2")
    sums = array.sum(axis=1)
    if array.min() < 0 or not np.allclose(sums, 1.0, atol=1e-3):
        raise InvalidArgumentError(
            f"`{name}` must be probabilities (non-negative rows summing to 1); apply softmax "
            "to logits first.", (float(array.min()), float(sums.min()), float(sums.max())),
            "rows of non-negative values summing to 1")
    return array / sums[:, None]  # float32 rounding left aside: rows sum to 1 exactly
