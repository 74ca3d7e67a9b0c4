"""Argument checks of the gradient attacks: norm, pixel range, budget (eps and step), seed.

`astrokeras.attacks.fgsm` / `pgd` (NumPy batches, for evaluation) and the specifications
`astrokeras.training.FGSM` / `PGD` (run inside the train step) both check their arguments here,
so they accept the same values and reject the rest with the same `InvalidArgumentError`,
naming the argument, the value received and what is allowed, before any model call.
"""

import numbers

import numpy as np

from astrokeras.errors import InvalidArgumentError

NORMS = ("inf", 2)


def as_float_array(name, value, dtype=np.float32):
    """`value` as a float NumPy array, or an error naming `name` if it is not numeric."""
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`{name}` must be a numeric array.", type(value).__name__,
                                   "a float array") from None
    return array


def check_finite(name, array):
    """Raises if `array` holds NaN or infinite values, saying how many."""
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise InvalidArgumentError(f"`{name}` holds NaN or infinite values ({bad} of them).",
                                   f"array of shape {np.shape(array)}", "finite values only")


def check_norm(norm):
    """The attack norm, `"inf"` or `2`, from any of its usual spellings.

    Args:
        norm: `"inf"`, `"linf"`, `"l_inf"`, `np.inf` (any case) for the L-inf ball; `2`, `"2"`,
            `"l2"` for the L2 ball.

    Returns:
        `"inf"` or `2`.

    Example:

    >>> import numpy as np
    >>> check_norm(np.inf), check_norm("L2")
    ('inf', 2)
    """
    if isinstance(norm, str):
        spelled = norm.lower()
        if spelled in ("inf", "linf", "l_inf"):
            return "inf"
        if spelled in ("2", "l2"):
            return 2
    elif isinstance(norm, numbers.Real) and not isinstance(norm, bool):
        if np.isinf(norm) and norm > 0:
            return "inf"
        if norm == 2:
            return 2
    raise InvalidArgumentError("`norm` of the attack is unknown.", norm,
                               '"inf" (np.inf) or 2')


def check_clip(clip):
    """The valid pixel range `(low, high)`, or `None` for no clipping.

    Args:
        clip: `None`, or a pair whose bounds are scalars or arrays (one value per band, or per
            pixel) with `low < high` everywhere; infinite bounds are allowed.

    Returns:
        `None`, or `(low, high)` with each bound a float (a scalar) or a float32 array.
    """
    if clip is None:
        return None
    try:
        low, high = clip
        low, high = _bound(low), _bound(high)
    except (TypeError, ValueError):
        raise InvalidArgumentError("`clip` must be a (low, high) pair of numbers.", clip,
                                   "(low, high), scalars or per-band arrays") from None
    try:
        ordered = np.all(np.less(low, high))
    except ValueError:
        raise InvalidArgumentError("`clip` bounds do not broadcast to each other.", clip,
                                   "scalars, or arrays of broadcastable shapes") from None
    if not ordered:  # also False where a bound is NaN
        raise InvalidArgumentError("`clip` must have low < high.", clip,
                                   "(low, high), low < high")
    return (low, high)


def _bound(value):
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.ndim == 0 else array.astype(np.float32)


def clip_bounds(clip, image_shape):
    """`clip` checked and broadcast to one image; infinite bounds for `clip=None`.

    Args:
        clip: as in `check_clip`.
        image_shape: `(height, width, bands)`.

    Returns:
        `(low, high)`, two float32 arrays of shape `image_shape`.
    """
    checked = check_clip(clip)
    if checked is None:
        return (np.full(image_shape, -np.inf, np.float32),
                np.full(image_shape, np.inf, np.float32))
    try:
        return tuple(np.broadcast_to(np.asarray(bound, np.float32), image_shape).copy()
                     for bound in checked)
    except ValueError:
        raise InvalidArgumentError("`clip` bounds do not broadcast to one image.", clip,
                                   f"scalars or arrays broadcastable to {image_shape}") from None


def check_budget(eps, step, n=None, *, positive=False):
    """The perturbation size `eps` and the step size `step`, with `step <= eps`.

    Args:
        eps: radius of the ball: a scalar, or with `n` also one value per image.
        step: size of each step, like `eps`.
        n: the number of images, for per-image values; `None` accepts scalars only.
        positive: require `eps > 0` and `step > 0` (an attack run in training); otherwise
            `0` is allowed (an image left as it is).

    Returns:
        `(eps, step)`: floats when `n` is `None`, float32 arrays of shape `(n,)` otherwise.

    Example:

    >>> check_budget(0.03, 0.01, positive=True)
    (0.03, 0.01)
    >>> eps, step = check_budget([0.0, 0.1], 0.0, n=2)
    >>> eps.tolist(), step.tolist()
    ([0.0, 0.10000000149011612], [0.0, 0.0])
    """
    eps = _amount("eps", eps, n, positive)
    step = _amount("step", step, n, positive)
    too_big = np.flatnonzero(np.atleast_1d(step > eps * (1 + 1e-6)))
    if too_big.size:
        where = "" if n is None else f" (image {int(too_big[0])})"
        index = 0 if n is None else int(too_big[0])
        raise InvalidArgumentError(
            f"`step` of the attack must not exceed `eps`{where}.",
            {"step": float(np.atleast_1d(step)[index]), "eps": float(np.atleast_1d(eps)[index])},
            "0 < step <= eps" if positive else "0 <= step <= eps")
    return eps, step


def _amount(name, value, n, positive):
    bound = "> 0" if positive else ">= 0"
    # Scalars stay Python floats (float64): a specification's config keeps the value given.
    array = as_float_array(name, value, np.float64 if n is None else np.float32)
    if array.ndim != 0 and n is None:
        raise InvalidArgumentError(f"`{name}` of the attack must be a scalar.", array.shape,
                                   f"a number {bound}")
    if array.ndim == 0 and n is not None:
        array = np.full((n,), array, dtype=np.float32)
    elif n is not None and array.shape != (n,):
        raise InvalidArgumentError(f"`{name}` must be a scalar or one value per image.",
                                   array.shape, f"a scalar or shape ({n},)")
    check_finite(name, array)
    if np.any(array < 0) or (positive and np.any(array == 0)):
        raise InvalidArgumentError(f"`{name}` of the attack must be {bound}.",
                                   float(array.min()), bound)
    return float(array) if n is None else array


def check_seed(seed):
    """`None` or a non-negative integer seed (NumPy integers included), as a Python int."""
    if seed is None:
        return None
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return int(seed)
    raise InvalidArgumentError("`seed` of the attack must be a non-negative integer or None.",
                               seed, "an integer >= 0, or None")
