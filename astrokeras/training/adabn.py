"""AdaBN: batch-normalisation statistics of the target domain (Li et al. 2016).

Li, Wang, Shi, Liu and Hou 2016, "Revisiting Batch Normalization for Practical Domain
Adaptation": a network trained on the source domain is adapted to an unlabelled target domain
by replacing the mean and variance every batch-normalisation layer normalises with (its moving
statistics) by the statistics of that layer's inputs on the target images. The trained weights
(kernels, biases, the layers' gamma and beta) stay as they are. It needs no target labels and no
training, and is the cheapest honest baseline a domain-adaptation method has to beat.
"""

import contextlib
import dataclasses

import keras
import numpy as np

from astrokeras.errors import InvalidArgumentError, check_positive_int
from astrokeras.models.split import unwrap_classifier


@dataclasses.dataclass(frozen=True)
class BatchNormStatistics:
    """The statistics `adapt_batch_norm` gave the batch-normalisation layers.

    Attributes:
        images: how many images they were computed on.
        mean: `{layer path: per-channel mean}` (float64 NumPy arrays), in the order in which
            the model calls the layers (`"stage1_block1/bn1"` for a layer inside a block).
        variance: `{layer path: per-channel population variance}` (divided by the number of
            values, as Keras' batch normalisation computes a batch's variance).
    """

    images: int
    mean: dict
    variance: dict


def batch_norm_layers(model):
    """The `keras.layers.BatchNormalization` layers of a model, nested ones included.

    Args:
        model: a `keras.Model`, or a training model wrapping one (`unwrap_classifier`).

    Returns:
        A list of the layers (empty when there is none).

    Example:

    >>> from astrokeras.models import convnet
    >>> [layer.name for layer in batch_norm_layers(convnet(input_shape=(32, 32, 3)))]
    ['bn1', 'bn2', 'bn3']
    """
    classifier = unwrap_classifier(model)
    # _flatten_layers walks nested layers and models (the batch norms inside a ResidualBlock);
    # there is no public equivalent.
    return [layer for layer in classifier._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, keras.layers.BatchNormalization)]


def adapt_batch_norm(model, images, batch_size=32, steps=None):
    """Sets every batch-normalisation layer's moving statistics to those of the target images.

    AdaBN (Li et al. 2016): each `BatchNormalization` layer's `moving_mean` and
    `moving_variance` become the exact per-channel mean and population variance of the layer's
    inputs over all the given images, with the model in inference mode. Nothing else changes:
    gamma, beta, kernels and biases keep their trained values, and the optimizer is not used.

    The layers are adapted one after the other, in the order the model calls them, with one
    inference pass over the images per layer, so that a layer's statistics are measured on
    the inputs it receives once the layers before it normalise with their target statistics.
    After adaptation every layer therefore normalises its inputs on these images to exactly
    zero mean and unit variance, as at the end of Li et al.'s procedure. One pass for all
    layers at once would be cheaper but measure each layer behind still-unadapted layers, and
    running the model in training mode would not give the population statistics either:
    Keras' moving statistics are an exponential average (`momentum`) of per-batch statistics,
    and in training mode each layer normalises with its batch's statistics, not the
    population's. The cost is one forward pass over the images per layer (3 for the ConvNet,
    20 for ResNet18), in eager mode.

    The images are read once and kept in memory, so every pass sees the same images (a
    shuffled or augmented dataset would otherwise change between passes); give `steps` to use
    part of a large dataset. A dataset of `(images, labels)` pairs (or `(images, labels,
    weights)`) is accepted and its labels are ignored: AdaBN never uses them. A layer that the
    model never calls (not on the path from the inputs) keeps its statistics. A layer called
    more than once is given the statistics of all its inputs together.

    Args:
        model: a `keras.Model` with one image input and at least one `BatchNormalization`
            layer (nested layers included: ResNet18's residual blocks), or a
            `DomainAdaptationModel` / `AdversarialTrainingModel`, whose classifier is adapted
            (the wrapper shares its layers, so both hold the new statistics).
        images: the unlabelled target images: a NumPy array (or nested list) of shape
            `(n, *input_shape)`, or a `tf.data.Dataset` of image batches or of
            `(images, labels, ...)` batches.
        batch_size: images per forward pass for an array (a dataset keeps its own batches).
        steps: read at most this many batches (None: all; required for an infinite dataset).

    Returns:
        A `BatchNormStatistics` with the number of images and the statistics each layer got.

    Raises:
        InvalidArgumentError: `model` is not a keras.Model, has no batch normalisation or not
            exactly one input; `images` is empty, not numeric, holds NaN or infinity, or does
            not have the model's input shape; `batch_size` or `steps` is not a positive int;
            an infinite dataset without `steps`.

    Example:

    >>> import numpy as np
    >>> from astrokeras.models import convnet
    >>> model = convnet(input_shape=(16, 16, 1), num_classes=2)
    >>> target = np.random.default_rng(0).normal(5.0, 2.0, (8, 16, 16, 1)).astype("float32")
    >>> statistics = adapt_batch_norm(model, target, batch_size=4)
    >>> statistics.images, list(statistics.mean)
    (8, ['bn1', 'bn2', 'bn3'])
    >>> bool(np.allclose(model.get_layer("bn1").moving_mean.numpy(), statistics.mean["bn1"]))
    True
    """
    classifier = unwrap_classifier(model)
    batch_size = check_positive_int("batch_size", batch_size)
    if steps is not None:
        steps = check_positive_int("steps", steps)
    layers = batch_norm_layers(classifier)
    if not layers:
        raise InvalidArgumentError(
            "AdaBN needs a model with BatchNormalization layers; `model` has none, so there "
            "are no statistics to adapt.", classifier.name,
            "a model with batch normalisation (e.g. convnet, resnet18)")
    input_shape = _input_shape(classifier)
    batches = _read_batches(images, input_shape, batch_size, steps)
    order = _call_order(classifier, layers, batches[0])
    means, variances = {}, {}
    for layer in order:
        moments = _Moments(layer.axis)
        with _recording({layer: moments.add}):
            for batch in batches:
                classifier(batch, training=False)
        mean, variance = moments.result()
        layer.moving_mean.assign(mean.astype(layer.moving_mean.dtype))
        layer.moving_variance.assign(variance.astype(layer.moving_variance.dtype))
        if getattr(layer, "renorm", False):  # batch renormalisation keeps a moving stddev too
            layer.moving_stddev.assign(np.sqrt(variance).astype(layer.moving_stddev.dtype))
        means[layer.path], variances[layer.path] = mean, variance
    return BatchNormStatistics(sum(len(batch) for batch in batches), means, variances)


def _input_shape(classifier):
    inputs = getattr(classifier, "inputs", None)
    if not inputs or len(inputs) != 1:
        raise InvalidArgumentError(
            "AdaBN needs a model with one image input.",
            f"{classifier.name} with {len(inputs) if inputs else 'no'} inputs",
            "a functional model with one input")
    return tuple(inputs[0].shape[1:])


def _read_batches(images, input_shape, batch_size, steps):
    """The images as a list of float32 NumPy batches, each checked against the input shape."""
    import tensorflow as tf

    if isinstance(images, tf.data.Dataset):
        if steps is None and images.cardinality() == tf.data.INFINITE_CARDINALITY:
            raise InvalidArgumentError(
                "`images` is an infinite dataset (it repeats); give `steps`, the number of "
                "batches to read.", "steps=None", "a positive int")
        batches = []
        for element in images.take(-1 if steps is None else steps):
            if isinstance(element, (tuple, list)):
                element = element[0]  # (images, labels, ...): the labels are never read
            batches.append(_check_batch(element, input_shape))
    else:
        array = _check_batch(images, input_shape)
        batches = [array[start:start + batch_size] for start in range(0, len(array), batch_size)]
        batches = batches[:steps]
    if not batches:
        raise InvalidArgumentError("`images` holds no images.", "an empty dataset",
                                   "at least one image")
    return batches


def _check_batch(value, input_shape):
    expected = "(n, " + ", ".join("?" if d is None else str(d) for d in input_shape) + ")"
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise InvalidArgumentError("`images` must be numeric images.", type(value).__name__,
                                   f"a float array {expected}") from None
    if (array.ndim != len(input_shape) + 1 or len(array) == 0
            or any(d is not None and d != a for d, a in zip(input_shape, array.shape[1:]))):
        raise InvalidArgumentError("`images` must be a batch of the model's inputs.",
                                   f"shape {array.shape}", f"{expected} with n >= 1")
    if not np.all(np.isfinite(array)):
        raise InvalidArgumentError("`images` holds NaN or infinite values.",
                                   f"{int((~np.isfinite(array)).sum())} non-finite values",
                                   "finite values")
    return array


def _call_order(classifier, layers, batch):
    """The batch-normalisation layers in the order one forward pass calls them."""
    order = []

    def seen(layer):
        return lambda inputs: order.append(layer) if layer not in order else None

    with _recording({layer: seen(layer) for layer in layers}):
        classifier(batch[:1], training=False)
    if not order:
        raise InvalidArgumentError(
            "AdaBN needs batch normalisation on the path from the inputs; `model` never calls "
            "its BatchNormalization layers.", [layer.path for layer in layers],
            "a model that uses its batch normalisation layers")
    return order


@contextlib.contextmanager
def _recording(observers):
    """Passes each layer's inputs to `observers[layer]` on every call, inside the block.

    The layer's own `call` still computes the output, so the model's results do not change.
    The instance attribute `call` shadows the class's method (Keras calls `self.call`) and is
    removed afterwards (or the layer's own instance attribute put back).
    """
    patched = []
    try:
        for layer, observe in observers.items():
            original = layer.call

            def call(inputs, *args, _original=original, _observe=observe, **kwargs):
                _observe(inputs)
                return _original(inputs, *args, **kwargs)

            patched.append((layer, vars(layer).get("call")))
            layer.call = call
        yield
    finally:
        for layer, own in patched:
            if own is None:
                del layer.call
            else:
                layer.call = own


class _Moments:
    """Exact per-channel mean and population variance, accumulated batch by batch.

    Batches are merged with Chan et al.'s pairwise update in float64, which avoids the
    cancellation of `E[x^2] - E[x]^2`.
    """

    def __init__(self, axis):
        self.axis = axis
        self.count = 0
        self.mean = None
        self.m2 = None

    def add(self, inputs):
        values = np.asarray(keras.ops.convert_to_numpy(inputs), dtype=np.float64)
        values = np.moveaxis(values, self.axis % values.ndim, -1)
        values = values.reshape(-1, values.shape[-1])
        count, mean = len(values), values.mean(axis=0)
        m2 = np.square(values - mean).sum(axis=0)
        if self.mean is None:
            self.count, self.mean, self.m2 = count, mean, m2
            return
        total = self.count + count
        delta = mean - self.mean
        self.mean = self.mean + delta * count / total
        self.m2 = self.m2 + m2 + np.square(delta) * self.count * count / total
        self.count = total

    def result(self):
        return self.mean, self.m2 / self.count
