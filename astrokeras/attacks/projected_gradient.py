"""The FGSM / PGD iteration, written once with `keras.ops` for evaluation and for training.

`astrokeras.attacks.fgsm` / `pgd` run it on NumPy batches inside one compiled `tf.function`;
`astrokeras.training.FGSM` / `PGD` run it on tensors inside the compiled train step of
`AdversarialTrainingModel`. Both call the functions below, so both take the same steps: the
gradient from `input_gradient`, a signed (L-inf) or L2-normalised step, clipping to the valid
pixel range, then the exact projection onto the eps-ball around the clean images. The step
order (step, clip, project) is the one of Madry et al. 2018 and of IBM ART, so the two give the
same images when started from the clean input.
"""

import keras
from keras import ops

from astrokeras.attacks.input_gradient import input_gradient


def _per_image(values):
    """`(batch,)` values shaped to broadcast against `(batch, height, width, bands)` images."""
    return ops.reshape(values, (-1, 1, 1, 1))


def _flat(images):
    return ops.reshape(images, (ops.shape(images)[0], -1))


def step_direction(grad, norm):
    """The ascent direction of one attack step: sign(g) for "inf", g / ||g||_2 for 2.

    Args:
        grad: gradient of the loss with respect to the images, `(batch, h, w, bands)`.
        norm: `"inf"` or `2`.

    Returns:
        A tensor like `grad` (zero where an image's gradient is zero).
    """
    if norm == "inf":
        return ops.sign(grad)
    length = ops.norm(_flat(grad), axis=1)
    scale = ops.where(ops.equal(length, 0.0), ops.zeros_like(length), 1.0 / length)
    return grad * _per_image(scale)


def project_to_ball(delta, eps, norm):
    """Exact projection of perturbations onto the eps-ball (box for "inf", sphere for 2).

    Args:
        delta: perturbations, `(batch, h, w, bands)`.
        eps: one radius per image, `(batch,)`.
        norm: `"inf"` or `2`.

    Returns:
        The projected perturbations.
    """
    eps = _per_image(eps)
    if norm == "inf":
        return ops.clip(delta, -eps, eps)
    length = _per_image(ops.norm(_flat(delta), axis=1))
    scale = ops.where(ops.equal(length, 0.0), ops.zeros_like(length),
                      ops.minimum(1.0, eps / length))
    return delta * scale


def clip_to_range(images, low, high):
    """Images clipped to the valid pixel range.

    Args:
        images: `(batch, h, w, bands)`.
        low, high: scalars or arrays broadcasting to one image; `None` for no clipping.

    Returns:
        The clipped images (`images` itself when `low` is `None`).
    """
    if low is None:
        return images
    return ops.clip(images, low, high)


def random_start(x0, eps, norm, low=None, high=None, seed=None):
    """A uniform draw from the eps-ball around each image, clipped to the pixel range.

    L-inf: each pixel moves by `eps * (2u - 1)`, `u` uniform in [0, 1). L2: a uniform point of
    the ball (a normal draw's direction, a radius `eps * r^(1/d)` with `r` uniform in [0, 1]
    and `d` the number of values in an image).

    Args:
        x0: clean images, `(batch, h, w, bands)`.
        eps: one radius per image, `(batch,)`.
        norm: `"inf"` or `2`.
        low, high: the pixel range (see `clip_to_range`), or `None`.
        seed: a `keras.random.SeedGenerator` (the draws advance it), an int or `None`.

    Returns:
        The starting images.
    """
    shape = ops.shape(x0)
    if norm == "inf":
        radius = _per_image(eps)
        # the arithmetic of keras.random.uniform(shape, -eps, eps), with one eps per image
        noise = keras.random.uniform(shape, seed=seed) * (2.0 * radius) - radius
    else:
        flat = _flat(keras.random.normal(shape, seed=seed))
        dim = ops.cast(ops.shape(flat)[1], "float32")
        unit = flat / ops.maximum(ops.norm(flat, axis=1, keepdims=True), 1e-12)
        radius = keras.random.uniform((shape[0], 1), seed=seed) ** (1.0 / dim)
        noise = ops.reshape(unit * ops.reshape(eps, (-1, 1)) * radius, shape)
    return clip_to_range(x0 + noise, low, high)


def projected_gradient(loss_of_image, x0, start, *, eps, step, steps, norm, low=None,
                       high=None, targeted=False, project=True):
    """`steps` gradient steps from `start`, each clipped and projected onto the ball around `x0`.

    Every iteration: `x <- clip(x + step * direction(grad))`, then (with `project`)
    `x <- x0 + project_to_ball(x - x0)`. FGSM is one step of size eps without projection;
    PGD is `steps` steps with it.

    Args:
        loss_of_image: callable mapping an image batch to the per-image losses to raise
            (see `input_gradient`).
        x0: clean images `(batch, h, w, bands)`, the centres of the balls.
        start: the first iterate (`x0`, or `random_start(...)`).
        eps: one radius per image, `(batch,)`.
        step: one step size per image, `(batch,)`.
        steps: number of iterations (a Python int or an int tensor).
        norm: `"inf"` or `2`.
        low, high: the valid pixel range, or `None` for no clipping.
        targeted: lower the loss instead of raising it.
        project: project onto the eps-ball after each step.

    Returns:
        The adversarial images, a tensor like `x0`.

    Example:

    >>> import numpy as np
    >>> from keras import ops
    >>> x0 = ops.convert_to_tensor(np.zeros((2, 4, 4, 1), "float32"))
    >>> eps = ops.convert_to_tensor(np.array([0.1, 0.2], "float32"))
    >>> x = projected_gradient(lambda x: ops.sum(x, axis=(1, 2, 3)), x0, x0, eps=eps,
    ...                        step=eps / 2, steps=3, norm="inf")
    >>> [round(float(v), 6) for v in ops.max(x, axis=(1, 2, 3))]
    [0.1, 0.2]
    """
    step = _per_image(step)

    def one_step(_, x):
        grad = input_gradient(loss_of_image, x)
        if targeted:
            grad = -grad
        x = clip_to_range(x + step * step_direction(grad, norm), low, high)
        if project:
            x = x0 + project_to_ball(x - x0, eps, norm)
        return x

    return ops.fori_loop(0, steps, one_step, start)
