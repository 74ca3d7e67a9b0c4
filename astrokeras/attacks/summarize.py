"""How much an attack hurt a model: success rate, accuracy and loss before and after."""

import numpy as np

from astrokeras.attacks import _inputs, checks
from astrokeras.errors import InvalidArgumentError


def summarize(model, x, adversarial, y=None, target=None, batch_size=None):
    """Compare a model's decisions on clean and adversarial images.

    Success follows Ciprijanovic et al. 2022: an untargeted attack succeeds on an image the
    model classified correctly before and not after, so the success rate is taken over the
    correctly classified images; a targeted attack succeeds where the target class wins. The
    mean cross-entropy against the true classes is reported too, the measure Campagne 2021 uses
    for the photo-z network (whose classes are redshift bins, see `redshift_bins`).

    Args:
        model: the attacked Keras model.
        x: the clean images, or a dict of inputs keyed by name (as given to the attack).
        adversarial: the adversarial images (the image array, or the dict an attack returned).
        y: true classes `(batch,)` or one-hot rows; `None` takes the clean predictions.
        target: target classes of a targeted attack (an int or one per image), or `None`.
        batch_size: images per model call; `None` for one call.

    Returns:
        A dict: `images`, `labels` ("given" or "predictions"), `success_rate`, `succeeded`,
        `accuracy_before`, `accuracy_after`, `loss_before`, `loss_after`.

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(2, activation="softmax")])
    >>> x = np.zeros((3, 4, 4, 1), "float32")
    >>> summarize(model, x, x)["success_rate"]
    0.0
    """
    clean_inputs = _inputs.ModelInputs(model, x)
    image = adversarial[clean_inputs.key] if isinstance(adversarial, dict) else adversarial
    image = checks.as_float_array("adversarial", image)
    if image.shape != clean_inputs.image.shape:
        raise InvalidArgumentError("`adversarial` and `x` images differ in shape.", image.shape,
                                   clean_inputs.image.shape)
    checks.check_finite("adversarial", image)
    n = clean_inputs.n
    classes = _inputs.num_classes(model)
    truth = None if y is None else _inputs.check_labels("y", y, n, classes)
    targets = None if target is None else _inputs.check_labels("target", target, n, classes)

    clean = _inputs.predict(model, clean_inputs, batch_size)
    after = _inputs.predict(model, clean_inputs.with_image(image), batch_size)
    before_pred, after_pred = np.argmax(clean, axis=-1), np.argmax(after, axis=-1)
    labels = before_pred if truth is None else truth
    correct = before_pred == labels
    if targets is not None:
        success = after_pred == targets
        rate = float(np.mean(success))
    else:
        success = correct & (after_pred != labels)
        rate = float(success.sum() / correct.sum()) if correct.any() else 0.0
    return {
        "images": int(n),
        "labels": "predictions" if truth is None else "given",
        "success_rate": rate,
        "succeeded": int(success.sum()),
        "accuracy_before": float(np.mean(correct)),
        "accuracy_after": float(np.mean(after_pred == labels)),
        "loss_before": _crossentropy(clean, labels),
        "loss_after": _crossentropy(after, labels),
    }


def _crossentropy(outputs, labels):
    probabilities = np.asarray(outputs, np.float64)
    if not _inputs.outputs_are_probabilities(probabilities):
        shifted = probabilities - probabilities.max(axis=-1, keepdims=True)
        probabilities = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    picked = probabilities[np.arange(len(labels)), labels]
    return float(np.mean(-np.log(np.clip(picked, 1e-7, 1.0))))
