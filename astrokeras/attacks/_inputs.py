"""Shared plumbing of the attacks: which input is the image, labels, losses, model outputs.

Private to `astrokeras.attacks` (the norm, clip and budget checks are in `checks`). Every check
here runs before any model call and raises `InvalidArgumentError` naming the argument, the value
received and what is allowed.
"""

import weakref

import keras
import numpy as np
import tensorflow as tf

from astrokeras.attacks.checks import as_float_array, check_finite
from astrokeras.errors import InvalidArgumentError, check_images

IMAGE_INPUT = "image"


def input_names(model):
    """Names of the model's inputs, or `None` for a model whose inputs are not known."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs:
        return None
    return [tensor.name for tensor in inputs]


class ModelInputs:
    """The image to attack and the other model inputs, which are passed through untouched.

    Args:
        model: the Keras model.
        x: an image array `(batch, height, width, bands)`, or a dict of arrays keyed by input
            name for a model with several inputs (only `"image"` is perturbed).
    """

    def __init__(self, model, x):
        if not callable(model):
            raise InvalidArgumentError("`model` must be a Keras model.", type(model).__name__,
                                       "a keras.Model")
        names = input_names(model)
        self.names = names
        if names is not None and len(names) > 1:
            if IMAGE_INPUT not in names:
                raise InvalidArgumentError(
                    "`model` has several inputs and none is named 'image'; the attacks perturb "
                    "the single image input or the input named 'image'.", names,
                    "one input, or an input named 'image'")
            if not isinstance(x, dict):
                raise InvalidArgumentError(
                    f"`x` must be a dict with the model inputs {names} for a model with several "
                    "inputs.", type(x).__name__, f"a dict with keys {names}")
            missing = [name for name in names if name not in x]
            if missing:
                raise InvalidArgumentError(f"`x` lacks model inputs {missing}.", sorted(x),
                                           f"keys {names}")
            self.key = IMAGE_INPUT
        else:
            if isinstance(x, dict):
                key = names[0] if names else (next(iter(x)) if len(x) == 1 else IMAGE_INPUT)
                if key not in x:
                    raise InvalidArgumentError("`x` is a dict without the image input.",
                                               sorted(x), f"a key {key!r}")
                self.key = key
            else:
                self.key = None
        self.is_dict = isinstance(x, dict)
        if self.is_dict:
            self.image = check_images(f"x[{self.key!r}]", x[self.key])
        else:
            self.image = check_images("x", x)
        self._check_image_shape(model)
        self.others = {}
        if self.is_dict:
            for name, value in x.items():
                if name == self.key or (names is not None and name not in names):
                    continue
                array = as_float_array(f"x[{name!r}]", value)
                if array.shape[:1] != self.image.shape[:1]:
                    raise InvalidArgumentError(
                        f"`x[{name!r}]` and the images disagree on the batch size.",
                        array.shape, f"first dimension {self.image.shape[0]}")
                check_finite(f"x[{name!r}]", array)
                self.others[name] = array
        self.x = x

    def _check_image_shape(self, model):
        if self.names is None:
            return
        index = 0 if self.key is None else self.names.index(self.key)
        expected = tuple(model.inputs[index].shape)[1:]
        got = self.image.shape[1:]
        if len(expected) != len(got) or any(e is not None and e != g
                                            for e, g in zip(expected, got)):
            raise InvalidArgumentError("`x` images do not match the model's image input.",
                                       got, f"(height, width, bands) = {expected}")

    @property
    def n(self):
        return self.image.shape[0]

    def feed(self, image, others):
        """The model input built from an image tensor and the other inputs."""
        return feeder(self.key if self.is_dict else None)(image, others)

    def with_image(self, image):
        """A copy of these inputs holding other images (same other inputs)."""
        copy = object.__new__(ModelInputs)
        copy.__dict__.update(self.__dict__)
        copy.image = image
        return copy

    def rebuild(self, adversarial):
        """The attack output with the structure of `x`: the image replaced, the rest as given."""
        if not self.is_dict:
            return adversarial
        out = dict(self.x)
        out[self.key] = adversarial
        return out


def feeder(key):
    """A function `(image, others) -> model input`: the bare image, or a dict with `key`."""
    if key is None:
        return lambda image, others: image

    def feed(image, others):
        merged = dict(others)
        merged[key] = image
        return merged

    return feed


def num_classes(model):
    """Size of the model's output, from its output shape when the model declares one."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        return None
    if not outputs or len(outputs) != 1:
        return None
    size = outputs[0].shape[-1]
    return None if size is None else int(size)


def check_labels(name, y, n, classes):
    """Integer class indices `(batch,)` from integer labels or one-hot / probability rows."""
    array = np.asarray(y)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise InvalidArgumentError(f"`{name}` must hold class labels.", array.dtype,
                                   "integer classes (batch,) or one-hot rows (batch, classes)")
    if array.ndim == 0:
        array = np.full((n,), array)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.shape[0] != n or array.ndim not in (1, 2):
        raise InvalidArgumentError(f"`{name}` and `x` disagree on the batch size.", array.shape,
                                   f"({n},) or ({n}, classes)")
    check_finite(name, array.astype(np.float64))
    if array.ndim == 2:
        if classes is not None and array.shape[1] != classes:
            raise InvalidArgumentError(f"`{name}` one-hot rows do not match the model output.",
                                       array.shape, f"({n}, {classes})")
        return np.argmax(array, axis=1).astype(np.int64)
    if not np.all(np.equal(np.mod(array, 1), 0)):
        raise InvalidArgumentError(f"`{name}` must hold integer class indices.", array[:5],
                                   "integers")
    labels = array.astype(np.int64)
    upper = classes if classes is not None else np.inf
    if labels.min() < 0 or labels.max() >= upper:
        raise InvalidArgumentError(f"`{name}` holds a class outside the model output.",
                                   (int(labels.min()), int(labels.max())),
                                   f"0 <= class < {classes}")
    return labels


def declared_logits(model):
    """False for a softmax output layer, True for a linear one, None when it cannot be told."""
    try:
        if len(model.outputs) != 1:
            return None
        last = model.layers[-1]
    except (AttributeError, ValueError, IndexError):
        return None
    if isinstance(last, keras.layers.Softmax):
        return False
    activation = getattr(last, "activation", None)
    if isinstance(last, (keras.layers.Dense, keras.layers.Activation)) and activation is not None:
        if activation is keras.activations.softmax:
            return False
        if activation is keras.activations.linear:
            return True
    return None


def outputs_are_probabilities(predictions):
    """True when every row is a probability vector (softmax output), False for logits."""
    p = np.asarray(predictions, dtype=np.float64)
    return bool(np.all(p >= 0) and np.all(p <= 1)
                and np.allclose(p.sum(axis=-1), 1.0, atol=1e-3))


def default_loss(from_logits):
    """Per-sample categorical cross-entropy against one-hot labels."""

    def loss(y_true, y_pred):
        return keras.losses.categorical_crossentropy(y_true, y_pred, from_logits=from_logits)

    return loss


_COMPILED = weakref.WeakKeyDictionary()


def cached(model, key, build):
    """`build()`, made once per `(model, key)` and kept as long as the model lives.

    Every attack keeps its compiled functions (and one-pixel's incremental models) here, so
    repeated calls on one model reuse their traces; `clear_compiled` drops them.
    """
    per_model = _COMPILED.setdefault(model, {})
    if key not in per_model:
        per_model[key] = build()
    return per_model[key]


def clear_compiled(model=None):
    """Drops the compiled attack functions kept for `model` (for every model with `None`).

    The attacks compile their loops once per model and reuse them. A compiled function keeps
    the TensorFlow settings it was traced under (graph optimiser, XLA), and one-pixel's
    incremental evaluation keeps the weights it read; after changing either, clear the model
    so the next attack traces afresh.

    Args:
        model: the Keras model, or `None` for all models.

    Example:

    >>> import keras, numpy as np
    >>> from astrokeras.attacks import fgsm
    >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(2, activation="softmax")])
    >>> x = np.zeros((2, 4, 4, 1), "float32")
    >>> _ = fgsm(model, x, eps=0.1)
    >>> clear_compiled(model)
    """
    if model is None:
        _COMPILED.clear()
    else:
        _COMPILED.pop(model, None)


def _compiled_predict(model, key):
    feed = feeder(key)
    model_ref = weakref.ref(model)

    def build():
        @tf.function(reduce_retracing=True)
        def forward(image, others):
            return model_ref()(feed(image, others), training=False)

        return forward

    return cached(model, ("predict", key), build)


def predict(model, inputs, batch_size=None):
    """Model outputs for all images as a NumPy array, in compiled batched calls."""
    n = inputs.n
    size = n if batch_size is None else batch_size
    forward = _compiled_predict(model, inputs.key if inputs.is_dict else None)
    outputs = []
    for start in range(0, n, size):
        part = slice(start, start + size)
        others = {k: tf.convert_to_tensor(v[part]) for k, v in inputs.others.items()}
        out = forward(tf.convert_to_tensor(inputs.image[part]), others)
        outputs.append(keras.ops.convert_to_numpy(out))
    return np.concatenate(outputs, axis=0)
