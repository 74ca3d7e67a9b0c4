"""`fgsm` and `pgd` on NumPy batches: argument checks, then one compiled call per chunk (private).

One `tf.function` per (model, loss, input layout) runs every step of the attack for a whole
batch inside one graph; the steps themselves are `projected_gradient`, the same code that
`astrokeras.training.FGSM` / `PGD` run inside the train step.
"""

import weakref

import keras
import numpy as np
import tensorflow as tf

from astrokeras.attacks import _inputs, checks
from astrokeras.attacks.projected_gradient import projected_gradient, random_start
from astrokeras.errors import InvalidArgumentError, check_positive_int


def _compiled(model, loss_fn, loss_key, inputs):
    image_key = inputs.key if inputs.is_dict else None
    feed = _inputs.feeder(image_key)
    model_ref = weakref.ref(model)

    def build():
        @tf.function(reduce_retracing=True)
        def attack(x0, start, others, y, eps, step, steps, low, high, norm, targeted, project):
            def loss_of_image(image):
                return loss_fn(y, model_ref()(feed(image, others), training=False))

            return projected_gradient(loss_of_image, x0, start, eps=eps, step=step,
                                      steps=steps, norm=norm, low=low, high=high,
                                      targeted=targeted, project=project)

        return attack

    return _inputs.cached(model, ("gradient", loss_key, image_key), build)


def run(model, x, y, *, eps, step, steps, norm, random_init, targeted, clip, loss, seed,
        batch_size, project):
    """Validate everything, then run the compiled attack over the batch (in chunks)."""
    inputs = _inputs.ModelInputs(model, x)
    n = inputs.n
    norm = checks.check_norm(norm)
    eps, step = checks.check_budget(eps, step, n)
    seed = checks.check_seed(seed)
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
    low, high = checks.clip_bounds(clip, inputs.image.shape[1:])

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
        # Drawn for the whole batch at once, as `astrokeras.training.PGD(seed=seed)` draws it
        # on its first batch: the same seed gives the same start whatever `batch_size`.
        start = keras.ops.convert_to_numpy(random_start(
            image, eps, norm, low, high, seed=keras.random.SeedGenerator(seed)))
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
