"""Argument checks of the selection scores (private).

Each check runs before any computation and raises `InvalidArgumentError` naming the argument,
the value received (its shape, never the whole array) and what is allowed.
"""

import numpy as np

from astrokeras.errors import InvalidArgumentError


def _shape(array):
    return f"shape {np.shape(array)}"


def matrix(name, value, min_rows=1):
    """`value` as a finite float64 array `(n, d)` with `n >= min_rows`."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`{name}` must be a numeric array (n, features).",
                                   type(value).__name__, "a 2-D float array") from None
    if array.ndim != 2 or len(array) < min_rows or array.shape[1] < 1:
        raise InvalidArgumentError(f"`{name}` must be a 2-D array with at least {min_rows} "
                                   "row(s).", _shape(array), f"(n >= {min_rows}, features)")
    if not np.isfinite(array).all():
        raise InvalidArgumentError(f"`{name}` holds NaN or infinite values.", _shape(array),
                                   "finite values")
    return array


def probabilities(name, value, min_rows=1):
    """Class probabilities `(n, classes)`, rows renormalised to sum to 1 exactly."""
    array = matrix(name, value, min_rows)
    sums = array.sum(axis=1)
    # 1e-2 admits float16 softmax outputs (mixed precision); logits are still refused.
    if array.shape[1] < 2 or array.min() < 0 or np.abs(sums - 1.0).max() > 1e-2:
        raise InvalidArgumentError(
            f"`{name}` must hold probabilities: at least 2 columns, non-negative rows summing "
            "to 1 (a softmax output, not logits).",
            (_shape(array), float(array.min()), float(sums.min()), float(sums.max())),
            "(n, classes >= 2), each row >= 0 and summing to 1")
    return array / sums[:, None]


def class_labels(name, value, n, num_classes):
    """Integer class indices `(n,)` in `[0, num_classes)`."""
    array = np.asarray(value)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    integral = array.size and np.issubdtype(array.dtype, np.number) and np.all(
        np.mod(array, 1) == 0)
    if array.ndim != 1 or len(array) != n or not integral:
        raise InvalidArgumentError(f"`{name}` must hold one integer class per sample.",
                                   _shape(array), f"({n},) integers")
    array = array.astype(np.int64)
    if array.min() < 0 or array.max() >= num_classes:
        raise InvalidArgumentError(f"`{name}` holds a class outside the probabilities' columns.",
                                   (int(array.min()), int(array.max())),
                                   f"0 <= class < {num_classes}")
    return array


def latent_pair(source, target, min_rows=1):
    """Source and target latent arrays of the same width, each with `min_rows` rows."""
    source = matrix("source_latent", source, min_rows)
    target = matrix("target_latent", target, min_rows)
    if source.shape[1] != target.shape[1]:
        raise InvalidArgumentError("`source_latent` and `target_latent` must have the same "
                                   "width.", (source.shape, target.shape), "equal widths d")
    return source, target


def positive_number(name, value, strict=True):
    """A real number > 0 (or >= 0 when not `strict`), as a float."""
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if not ok or not np.isfinite(value) or (value <= 0 if strict else value < 0):
        bound = "> 0" if strict else ">= 0"
        raise InvalidArgumentError(f"`{name}` must be a finite number {bound}.", value, bound)
    return float(value)


def seed(value):
    """An integer seed (NumPy integers accepted, bools refused), as an int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgumentError("`seed` must be an integer.", value, "an int")
    return int(value)
