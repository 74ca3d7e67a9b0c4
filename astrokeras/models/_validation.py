"""Argument checks shared by the architecture factories."""

from astrokeras.errors import InvalidArgumentError


def check_image_shape(name, shape, min_size=1):
    """Checks a channels-last image shape (height, width, bands).

    Args:
        name: the argument name shown in the error.
        shape: the value received.
        min_size: the smallest height and width the architecture's poolings allow.

    Returns:
        The shape as a tuple of three ints.
    """
    allowed = f"(height, width, bands) with positive ints and height, width >= {min_size}"
    try:
        dims = tuple(shape)
    except TypeError:
        raise InvalidArgumentError(f"`{name}` must be a rank-3 shape.", shape, allowed) from None
    if len(dims) != 3:
        raise InvalidArgumentError(f"`{name}` must be a rank-3 shape.", shape, allowed)
    if any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dims):
        raise InvalidArgumentError(f"`{name}` must hold positive integers.", shape, allowed)
    if dims[0] < min_size or dims[1] < min_size:
        raise InvalidArgumentError(
            f"`{name}` is too small for the architecture's poolings.", shape, allowed
        )
    return dims


def check_count(name, value, minimum=1):
    """Checks a count argument (classes, units, bins) is an int >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgumentError(
            f"`{name}` must be an integer >= {minimum}.", value, f"an int >= {minimum}"
        )
    return value


def check_rate(name, value):
    """Checks a dropout rate lies in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise InvalidArgumentError(f"`{name}` must lie in [0, 1).", value, "a float in [0, 1)")
    return float(value)
