"""The images a selection score is computed on: unlabelled target, labelled source."""

import numpy as np

from astrokeras.errors import InvalidArgumentError, check_positive_int
from astrokeras.selection import _checks

#: Default largest number of images kept per domain.
DEFAULT_MAX_SAMPLES = 2048

_NO_TARGET_LABELS = (
    "`target_images` must be images only: target labels never reach model selection. Pass "
    "the images (an array, a dict of model inputs, or a tf.data.Dataset of image batches; "
    "drop labels with dataset.map(lambda x, y: x)).")


class SelectionData:
    """Unlabelled target validation images and (optionally) labelled source validation images.

    Read once and kept in memory as NumPy arrays, so every epoch and every model is scored on
    the same images. Larger sets are cut to `max_samples` images per domain: arrays by a
    seeded random subset, datasets by their first `max_samples` images (shuffle a dataset
    whose order is not random). Some scores grow quadratically with the number of images
    (soft neighbourhood density, latent MMD), hence the cut.

    The target is images only, by design: a tuple `(images, labels)` or a dataset of tuples
    is refused with `InvalidArgumentError`, so target labels cannot reach a selection score
    by accident.

    Args:
        target_images: unlabelled target images: an array `(n, ...)` (channels-last images),
            a dict of such arrays (a model with named inputs), or a batched `tf.data.Dataset`
            yielding either.
        source: None; source images alone (same forms; enough for the latent-space scores);
            or `(images, labels)` with integer class labels (needed by deep embedded
            validation); or a batched `tf.data.Dataset` yielding `(images, labels)` (a third
            element, sample weights, is ignored).
        max_samples: largest number of images kept per domain (None: all).
        seed: seed of the random subset of arrays.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> data = SelectionData(rng.normal(size=(10, 8, 8, 1)),
    ...                      source=(rng.normal(size=(6, 8, 8, 1)), np.arange(6) % 2),
    ...                      max_samples=4)
    >>> data.n_target, data.n_source, data.source_labels.shape
    (4, 4, (4,))
    >>> SelectionData((rng.normal(size=(4, 8, 8, 1)), np.zeros(4)))
    Traceback (most recent call last):
    ...
    astrokeras.errors.InvalidArgumentError: `target_images` must be images only: ...
    """

    def __init__(self, target_images, source=None, *, max_samples=DEFAULT_MAX_SAMPLES, seed=0):
        if max_samples is not None:
            max_samples = check_positive_int("max_samples", max_samples)
        seed = _checks.seed(seed)
        if _is_dataset(target_images) and isinstance(_element_spec(target_images), tuple) \
                or isinstance(target_images, (tuple, list)):
            raise InvalidArgumentError(_NO_TARGET_LABELS, type(target_images).__name__,
                                       "images only")
        target, _ = _read("target_images", target_images, False, max_samples, [seed, 0])
        self.target_images = target
        self.source_images = self.source_labels = None
        if source is not None:
            self.source_images, self.source_labels = _read("source", source, True, max_samples,
                                                           [seed, 1])
        self.max_samples = max_samples
        self.seed = seed

    @property
    def n_target(self):
        """Number of target images kept."""
        return _length(self.target_images)

    @property
    def n_source(self):
        """Number of source images kept (0 without source)."""
        return 0 if self.source_images is None else _length(self.source_images)

    def __repr__(self):
        labels = "labelled" if self.source_labels is not None else "unlabelled"
        source = f", {self.n_source} {labels} source" if self.n_source else ""
        return f"SelectionData({self.n_target} target{source})"


def _is_dataset(value):
    import tensorflow as tf

    return isinstance(value, tf.data.Dataset)


def _element_spec(dataset):
    return dataset.element_spec


def _length(inputs):
    return len(next(iter(inputs.values()))) if isinstance(inputs, dict) else len(inputs)


def _read(name, value, labelled, max_samples, seed):
    """`(inputs, labels)` as arrays, labels None when `value` has none, cut to max_samples."""
    if _is_dataset(value):
        value = _from_dataset(name, value, max_samples)
    labels = None
    if isinstance(value, (tuple, list)):
        if not labelled or len(value) != 2:
            raise InvalidArgumentError(f"`{name}` must be images or `(images, labels)`.",
                                       f"a {type(value).__name__} of {len(value)}",
                                       "images, or (images, labels)")
        value, labels = value
    inputs = _inputs(name, value)
    n = _length(inputs)
    if labels is not None:
        labels = np.asarray(labels)
        labels = labels[:, 0] if labels.ndim == 2 and labels.shape[1] == 1 else labels
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.number):
            raise InvalidArgumentError(f"The labels of `{name}` must hold one class per image.",
                                       f"shape {labels.shape} for {n} images", f"({n},)")
    if max_samples is not None and n > max_samples:
        keep = np.sort(np.random.default_rng(seed).choice(n, max_samples, replace=False))
        inputs = _take(inputs, keep)
        labels = None if labels is None else labels[keep]
    return inputs, labels


def _inputs(name, value):
    if isinstance(value, dict):
        if not value:
            raise InvalidArgumentError(f"`{name}` is an empty dict.", value,
                                       "a dict of model inputs")
        arrays = {key: _array(f"{name}[{key!r}]", item, 1) for key, item in value.items()}
        lengths = {key: len(item) for key, item in arrays.items()}
        if len(set(lengths.values())) != 1:
            raise InvalidArgumentError(f"The inputs of `{name}` must hold as many images each.",
                                       lengths, "equal first dimensions")
        return arrays
    return _array(name, value, 2)


def _array(name, value, min_ndim):
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`{name}` must be numeric images.", type(value).__name__,
                                   "a float array (n, height, width, bands)") from None
    if array.ndim < min_ndim or len(array) == 0:
        raise InvalidArgumentError(f"`{name}` must be a batch of at least one image.",
                                   f"shape {array.shape}", f"(n >= 1, ...) with >= {min_ndim} "
                                   "dimensions")
    if not np.isfinite(array).all():
        raise InvalidArgumentError(f"`{name}` holds NaN or infinite values.",
                                   f"{int((~np.isfinite(array)).sum())} non-finite values",
                                   "finite values")
    return array


def _take(inputs, index):
    if isinstance(inputs, dict):
        return {key: value[index] for key, value in inputs.items()}
    return inputs[index]


def _from_dataset(name, dataset, max_samples):
    """The dataset's batches joined into arrays (the first `max_samples` images)."""
    batches, count = [], 0
    for element in dataset.as_numpy_iterator():
        if isinstance(element, tuple):
            element = element[:2]
        batches.append(element)
        count += _length(element[0] if isinstance(element, tuple) else element)
        if max_samples is not None and count >= max_samples:
            break
    if not batches:
        raise InvalidArgumentError(f"The dataset `{name}` is empty.", 0, ">= 1 batch")

    def join(parts):
        if isinstance(parts[0], dict):
            return {key: join([part[key] for part in parts]) for key in parts[0]}
        return np.concatenate(parts)[:max_samples]

    if isinstance(batches[0], tuple):
        return tuple(join([batch[i] for batch in batches]) for i in range(len(batches[0])))
    return join(batches)
