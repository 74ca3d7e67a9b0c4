"""Errors and warnings raised by astrokeras.

Which error to raise when (after galsim/errors.py):

- `InvalidArgumentError` (a `ValueError`): a function or constructor argument is out of range,
  of the wrong shape or dtype, or holds NaN. Raise it before any work starts, naming the
  argument, the value received and what is allowed.
- `ConfigError` (a `ValueError`): a recipe or manifest is malformed: unknown key, wrong type,
  wrong schema or version. Name the key path inside the file.
- `DataError` (a `ValueError`): a data file exists but cannot be used: a corrupt or truncated
  shard, a FITS file with the wrong shape. Name the file.
- A missing file raises the built-in `FileNotFoundError` with the path.
- `AstroKerasWarning`: something works but probably not as the user meant; emit it with
  `warnings.warn(message, AstroKerasWarning)`.

Every error carries the offending value as `.value` and pickles cleanly, so errors raised in
simulation worker processes arrive intact in the parent.
"""

_UNSET = object()


class AstroKerasError(Exception):
    """Base class of every error astrokeras raises on purpose.

    Args:
        message: what went wrong, written for the user.
        value: the offending value (kept as an attribute, shown in the message).
        allowed: what would have been accepted (a range, a list of names, a shape).
    """

    def __init__(self, message, value=_UNSET, allowed=_UNSET):
        self.message = str(message)
        self.value = None if value is _UNSET else value
        self.allowed = None if allowed is _UNSET else allowed
        self._has_value = value is not _UNSET
        self._has_allowed = allowed is not _UNSET
        super().__init__(self._format())

    def _format(self):
        text = self.message
        if self._has_value:
            text += f" Got: {self.value!r}."
        if self._has_allowed:
            text += f" Allowed: {self.allowed}."
        return text

    def __str__(self):
        return self._format()

    def __reduce__(self):
        # Exception pickles through self.args, which holds the formatted text only; rebuild
        # from the parts so `.value` and `.allowed` survive a trip through a worker process.
        return (_rebuild, (type(self), self.message, self._has_value, self.value,
                           self._has_allowed, self.allowed))


def _rebuild(cls, message, has_value, value, has_allowed, allowed):
    kwargs = {}
    if has_value:
        kwargs["value"] = value
    if has_allowed:
        kwargs["allowed"] = allowed
    return cls(message, **kwargs)


class InvalidArgumentError(AstroKerasError, ValueError):
    """An argument is out of range, of the wrong shape or dtype, or holds NaN."""


class ConfigError(AstroKerasError, ValueError):
    """A recipe, manifest or configuration is malformed (unknown key, wrong type, schema)."""


class DataError(AstroKerasError, ValueError):
    """A data file exists but cannot be used (corrupt shard, wrong shape inside a file)."""


class AstroKerasWarning(UserWarning):
    """Something works, but probably not as the user meant."""


def check_positive_int(name, value, minimum=1):
    """Raise `InvalidArgumentError` unless `value` is an int >= `minimum`.

    The one check of counts, sizes and batch sizes across astrokeras. A bool is refused (it is
    an int to Python, never a count); NumPy integers are accepted.

    Args:
        name: the argument name, shown in the message.
        value: the value received.
        minimum: the smallest allowed value.

    Returns:
        `value` as a Python int.

    Example:

    >>> check_positive_int("batch_size", 32)
    32
    >>> try:
    ...     check_positive_int("batch_size", 0)
    ... except InvalidArgumentError as error:
    ...     print(error)
    `batch_size` must be at least 1. Got: 0. Allowed: >= 1.
    """
    if isinstance(value, bool) or not isinstance(value, int) and not _is_numpy_integer(value):
        raise InvalidArgumentError(f"`{name}` must be an integer >= {minimum}.", value,
                                   f">= {minimum}")
    if int(value) < minimum:
        raise InvalidArgumentError(f"`{name}` must be at least {minimum}.", value, f">= {minimum}")
    return int(value)


def check_images(name, value):
    """A batch of channels-last images as a finite float32 array, or `InvalidArgumentError`.

    The one check of image batches handed to astrokeras (evaluation, data pipelines): four
    dimensions `(n, height, width, bands)`, at least one image, numeric, no NaN or infinity.

    Args:
        name: the argument name, shown in the message (e.g. "images['y1']").
        value: the array received (any real dtype; converted to float32).

    Returns:
        The images as a float32 NumPy array.

    Example:

    >>> check_images("x", [[[[0.0]]]]).shape
    (1, 1, 1, 1)
    """
    import numpy as np

    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`{name}` must be numeric images.", type(value).__name__,
                                   "a float array (n, height, width, bands)") from None
    if array.ndim != 4 or len(array) == 0:
        raise InvalidArgumentError(
            f"`{name}` must be a batch of channels-last images (n, height, width, bands).",
            f"shape {array.shape}", "4 dimensions and n >= 1")
    if not np.all(np.isfinite(array)):
        raise InvalidArgumentError(f"`{name}` holds NaN or infinite values.",
                                   f"{int((~np.isfinite(array)).sum())} non-finite values",
                                   "finite values")
    return array


def _is_numpy_integer(value):
    import numpy as np

    return isinstance(value, np.integer)
