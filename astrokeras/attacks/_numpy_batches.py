"""The compiled gradient loop shared by `fgsm` and `pgd` (private).

One `tf.function` per (model, loss, input layout) runs every step of the attack for a whole batch
inside one graph: gradient by `tf.GradientTape`, a signed (L-inf) or L2-normalised step, clipping
to the valid pixel range, then the exact projection onto the eps-ball around the clean images.
The step order (step, clip, project) is the one of Madry et al. 2018 and of IBM ART, so the two
give the same images when started from the clean input.
"""

import weakref

import keras
import numpy as np
import tensorflow as tf

from astrokeras.attacks import _inputs
from astrokeras.errors import InvalidArgumentError, check_positive_int
from astrokeras.perturbations import project_to_ball as _project
from astrokeras.perturbations import step_direction as _direction

_CACHE = weakref.WeakKeyDictionary()


def _compiled(model, loss_fn, loss_key, inputs):
    per_model = _CACHE.setdefault(model, {})
    key = (loss_key, inputs.key if inputs.is_dict else None)
    if key in per_model:
        return per_model[key]
    feed = _inputs.feeder(key[1])
    model_ref = weakref.ref(model)

    def gradient(image, others, y):
        with tf.GradientTape() as tape:
            tape.watch(image)
            predictions = model_ref()(feed(image, others), training=False)
            loss = tf.reduce_sum(loss_fn(y, predictions))
        return tape.gradient(loss, image)

    @tf.function(reduce_retracing=True)
    def attack(x0, start, others, y, eps, step, steps, low, high, norm, targeted, project):
        x = start
        for _ in tf.range(steps):
            grad = gradient(x, others, y)
            if targeted:
                grad = -grad
            x = tf.clip_by_value(x + tf.reshape(step, (-1, 1, 1, 1)) * _direction(grad, norm),
                                 low, high)
            if project:
                x = x0 + _project(x - x0, eps, norm)
        return x

    per_model[key] = attack
    return attack


def random_start(rng, image, eps, norm, low, high):
    """A uniform draw from the eps-ball around each image, clipped to the pixel range."""
    n = image.shape[0]
    radius = eps.reshape(-1, 1, 1, 1)
    if norm == "inf":
        noise = rng.uniform(-1.0, 1.0, size=image.shape).astype(np.float32) * radius
    else:
        flat = rng.standard_normal(size=(n, image[0].size))
        flat /= np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-12)
        flat *= rng.uniform(0.0, 1.0, size=(n, 1)) ** (1.0 / image[0].size)
        noise = flat.reshape(image.shape).astype(np.float32) * radius
    return np.clip(image + noise, low, high).astype(np.float32)


def run(model, x, y, *, eps, step, steps, norm, random_init, targeted, clip, loss, seed,
        batch_size, project):
    """Validate everything, then run the compiled attack over the batch (in chunks)."""
    inputs = _inputs.ModelInputs(model, x)
    n = inputs.n
    norm = _inputs.check_norm(norm)
    eps = _inputs.per_sample("eps", eps, n)
    step = _inputs.per_sample("step", step, n)
    too_big = np.flatnonzero(step > eps * (1 + 1e-6))
    if too_big.size:
        i = int(too_big[0])
        raise InvalidArgumentError(f"`step` must not exceed `eps` (image {i}).",
                                   {"step": float(step[i]), "eps": float(eps[i])},
                                   "0 <= step <= eps")
    if targeted and y is None:
        raise InvalidArgumentError("A targeted attack needs the target classes in `y`.",
                                   None, "target classes (batch,) or one-hot rows")
    if loss is not None and not callable(loss):
        raise InvalidArgumentError("`loss` must be callable as loss(y_true, y_pred).",
                                   type(loss).__name__, "a callable or None")
    if batch_size is not None:
        batch_size = check_positive_int("batch_size", batch_size)
    classes = _inputs.num_classes(model)
    labels = None if y is None else _inputs.check_labels("y", y, n, classes)
    low, high = _inputs.check_clip(clip, inputs.image.shape[1:])

    from_logits = _inputs.declared_logits(model)
    if labels is None or classes is None or (loss is None and from_logits is None):
        # the clean outputs are needed: for the labels, the class count or the output kind
        clean = _inputs.predict(model, inputs, batch_size)
        classes = clean.shape[-1]
        if labels is None:
            labels = np.argmax(clean, axis=-1)
        elif labels.max() >= classes:
            raise InvalidArgumentError("`y` holds a class outside the model output.",
                                       int(labels.max()), f"0 <= class < {classes}")
        if from_logits is None:
            from_logits = not _inputs.outputs_are_probabilities(clean)
    if loss is None:
        loss_fn, loss_key = _inputs.default_loss(from_logits), ("crossentropy", from_logits)
    else:
        loss_fn, loss_key = loss, loss
    onehot = np.eye(classes, dtype=np.float32)[labels]

    image = inputs.image
    start = image
    if random_init:
        start = random_start(np.random.default_rng(seed), image, eps, norm, low, high)
    attack = _compiled(model, loss_fn, loss_key, inputs)
    size = n if batch_size is None else batch_size
    out = np.empty_like(image)
    for begin in range(0, n, size):
        part = slice(begin, begin + size)
        others = {k: tf.convert_to_tensor(v[part]) for k, v in inputs.others.items()}
        adversarial = attack(
            tf.convert_to_tensor(image[part]), tf.convert_to_tensor(start[part]), others,
            tf.convert_to_tensor(onehot[part]), tf.convert_to_tensor(eps[part]),
            tf.convert_to_tensor(step[part]), tf.constant(steps, tf.int32),
            tf.convert_to_tensor(low), tf.convert_to_tensor(high), norm, bool(targeted),
            bool(project))
        out[part] = keras.ops.convert_to_numpy(adversarial)
    return inputs.rebuild(out)
