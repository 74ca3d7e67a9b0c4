"""The paper's image stretch: clip to dataset percentiles, then arcsinh into [0, 1].

Ciprijanovic et al. 2022 (section 2) clip the pixel values to the 0.1 and 99.9 percentiles and
apply an arcsinh stretch. astrokeras computes the percentiles over a whole dataset (per depth and
per band), not per image, stores them in the dataset manifest, and applies the identical
transform at training, evaluation and inference time:

    x' = (clip(x, low, high) - low) / (high - low)          in [0, 1]
    y  = arcsinh(x' / c) / arcsinh(1 / c)                   in [0, 1], c = 0.85 in the paper

The softening `c` is a dataset choice (`write_dataset(c=...)`, `astrokeras simulate ...
--softening`, `[data].softening` of a recipe; by default `Simulation.softening`). At c = 0.85
almost every galaxy pixel lies in the linear part of the arcsinh (values << c), as in the
morphology papers; a softening near ten times the sky noise (0.001, the photo-z default) puts
the galaxy in the logarithmic part, where colours are differences of stretched values (asinh
magnitudes, Lupton et al. 1999), which a photo-z network learns from far fewer galaxies.

`ClipArcsinh` holds the limits and serialises to a dict (for the manifest or model metadata);
`clip_arcsinh` is the formula, written once for NumPy arrays and for `keras.ops` tensors: the
NumPy path (`ClipArcsinh.__call__`, the ONNX Runtime predictor) and the Keras layer
`ClipArcsinhStretch` (the tf.data pipelines, exports with the stretch in the graph) both run it.
"""

import dataclasses
import math

import numpy as np

from astrokeras.errors import ConfigError, InvalidArgumentError

DEFAULT_PERCENTILES = (0.1, 99.9)
DEFAULT_C = 0.85


def check_percentiles(percentiles):
    """Validate a (low, high) pair of percentiles with 0 <= low < high <= 100."""
    try:
        low, high = (float(p) for p in percentiles)
    except (TypeError, ValueError):
        raise InvalidArgumentError("`percentiles` must be a (low, high) pair.", percentiles,
                                   "0 <= low < high <= 100") from None
    if not 0 <= low < high <= 100:
        raise InvalidArgumentError("`percentiles` must satisfy 0 <= low < high <= 100.",
                                   percentiles, "0 <= low < high <= 100")
    return (low, high)


def check_softening(c):
    """Validate an arcsinh softening: a finite number > 0 (in units of the clipped range)."""
    if isinstance(c, bool) or not isinstance(c, (int, float, np.integer, np.floating)) or \
            not math.isfinite(c) or not c > 0:
        raise InvalidArgumentError("`c` (the arcsinh softening) must be a finite number > 0.",
                                   c, "e.g. 0.85 (the papers' stretch) or 0.001")
    return float(c)


def clip_arcsinh(images, low, high, c, xp=np):
    """The clip + arcsinh stretch: `arcsinh(clip01(x) / c) / arcsinh(1 / c)`, in [0, 1].

    The one place the formula is written. `xp` is the array namespace: NumPy (float64 in,
    the caller rounds) or `keras.ops` (the tensor's own dtype, as in a Keras layer or a
    tf.data map); both provide `clip` and `arcsinh` with NumPy's broadcasting.

    Args:
        images: array or tensor (..., bands).
        low: lower clip limit per band, broadcastable against `images`.
        high: upper clip limit per band.
        c: arcsinh softening (a Python float).
        xp: `numpy` or `keras.ops`.

    Returns:
        The stretched values, of the type `xp` computes.

    Example:

    >>> clip_arcsinh(np.array([[0.0, 5.0, 20.0]]).T, np.array([0.0]), np.array([10.0]),
    ...              c=0.85).ravel().round(4).tolist()
    [0.0, 0.5583, 1.0]
    """
    unit = (xp.clip(images, low, high) - low) / (high - low)
    return xp.arcsinh(unit / c) * (1.0 / math.asinh(1.0 / c))


@dataclasses.dataclass(frozen=True)
class ClipArcsinh:
    """Per-band clip limits and arcsinh softening: the dataset-level stretch of one domain.

    Args:
        low: lower clip limit per band (tuple of floats).
        high: upper clip limit per band.
        c: arcsinh softening (0.85 in the paper).

    Example:

    >>> import numpy as np
    >>> stretch = ClipArcsinh(low=(0.0,), high=(10.0,))
    >>> stretch(np.array([[[-1.0], [10.0]]])).ravel().tolist()
    [0.0, 1.0]
    """

    low: tuple
    high: tuple
    c: float = DEFAULT_C

    def __post_init__(self):
        low = tuple(float(v) for v in np.ravel(self.low))
        high = tuple(float(v) for v in np.ravel(self.high))
        if len(low) != len(high) or not low:
            raise InvalidArgumentError("`low` and `high` need one value per band.",
                                       (low, high), "equal non-zero lengths")
        if any(not h > lo for lo, h in zip(low, high)):
            raise InvalidArgumentError("Every `high` limit must exceed its `low` limit.",
                                       (low, high), "high > low per band")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "c", check_softening(self.c))

    def __call__(self, images):
        """Apply to a numpy array (..., bands); returns float32 values in [0, 1]."""
        images = np.asarray(images, dtype=np.float64)
        if images.shape[-1] != len(self.low):
            raise InvalidArgumentError("The last axis of `images` must be the bands.",
                                       images.shape, f"(..., {len(self.low)})")
        return clip_arcsinh(images, np.asarray(self.low), np.asarray(self.high),
                            self.c).astype(np.float32)

    def get_config(self):
        """A JSON-serialisable dict (stored in manifests and model metadata)."""
        return {"method": "clip_arcsinh", "low": list(self.low), "high": list(self.high),
                "c": self.c}

    @classmethod
    def from_config(cls, config):
        """Rebuild from `get_config()`; a malformed dict raises `ConfigError`."""
        if not isinstance(config, dict) or config.get("method") != "clip_arcsinh":
            raise ConfigError("Preprocessing must be a dict with method 'clip_arcsinh'.",
                              config, "{'method': 'clip_arcsinh', 'low', 'high', 'c'}")
        try:
            return cls(low=config["low"], high=config["high"], c=config.get("c", DEFAULT_C))
        except KeyError as error:
            raise ConfigError(f"Preprocessing is missing key {error}.", sorted(config),
                              "low, high, c") from None


def fit_clip_arcsinh(images, percentiles=DEFAULT_PERCENTILES, c=DEFAULT_C):
    """Compute per-band clip limits over a whole set of images (or a pixel sample of it).

    Args:
        images: array (..., bands): a stack of images, or any sample of pixels per band.
        percentiles: (low, high) percentiles (0.1 and 99.9 in the paper).
        c: arcsinh softening.

    Returns:
        A `ClipArcsinh`.

    Example:

    >>> import numpy as np
    >>> stretch = fit_clip_arcsinh(np.random.default_rng(0).normal(size=(8, 16, 16, 3)))
    >>> len(stretch.low)
    3
    """
    low_p, high_p = check_percentiles(percentiles)
    c = check_softening(c)
    images = np.asarray(images)
    if images.ndim < 2:
        raise InvalidArgumentError("`images` must have a trailing band axis.", images.shape,
                                   "(..., bands)")
    pixels = images.reshape(-1, images.shape[-1]).astype(np.float64)
    if not np.all(np.isfinite(pixels)):
        raise InvalidArgumentError("`images` holds NaN or infinite values.", "non-finite",
                                   "finite values")
    low = np.percentile(pixels, low_p, axis=0)
    high = np.percentile(pixels, high_p, axis=0)
    high = np.where(high > low, high, low + 1e-12)
    return ClipArcsinh(tuple(low), tuple(high), c)
