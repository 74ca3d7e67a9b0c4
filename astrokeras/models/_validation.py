"""Argument checks shared by the architecture factories."""

import numpy as np

from astrokeras.errors import InvalidArgumentError


def check_image_shape(name, shape, min_size=1):
    """Checks a channels-last image shape (height, width, bands).

    Args:
        name: the argument name shown in the error.
        shape: the value received.
        min_size: the smallest height and width the architecture's poolings allow.

    Returns:
        The shape as a tuple of three Python ints.
    """
    allowed = f"(height, width, bands) with positive ints and height, width >= {min_size}"
    try:
        dims = tuple(shape)
    except TypeError:
        raise InvalidArgumentError(f"`{name}` must be a rank-3 shape.", shape, allowed) from None
    if len(dims) != 3:
        raise InvalidArgumentError(f"`{name}` must be a rank-3 shape.", shape, allowed)
    if any(isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)) or d < 1
           for d in dims):
        raise InvalidArgumentError(f"`{name}` must hold positive integers.", shape, allowed)
    if dims[0] < min_size or dims[1] < min_size:
        raise InvalidArgumentError(
            f"`{name}` is too small for the architecture's poolings.", shape, allowed
        )
    return tuple(int(d) for d in dims)


def check_bool(name, value):
    """Checks a flag is a bool (a NumPy bool too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidArgumentError(f"`{name}` must be a bool.", value, "True or False")
    return bool(value)


def check_rate(name, value):
    """Checks a dropout rate lies in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise InvalidArgumentError(f"`{name}` must lie in [0, 1).", value, "a float in [0, 1)")
    return float(value)
