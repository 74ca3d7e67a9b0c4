"""Projected gradient descent (PGD) in the L-inf and L2 balls."""

from astrokeras.attacks import _numpy_batches
from astrokeras.errors import check_positive_int


def pgd(model, x, y=None, *, eps, step, steps, norm="inf", random_start=True, targeted=False,
        clip=None, loss=None, seed=None, batch_size=None):
    """Iterated gradient steps projected back onto the eps-ball around each image.

    Projected gradient descent of Madry et al. 2018, the stronger of the two attacks Campagne
    2021 runs on the photo-z network. Each of the `steps` iterations takes a step of size `step`
    along `sign(g)` (L-inf) or `g / ||g||_2` (L2), clips to the valid pixel range `clip`, and
    projects the perturbation exactly onto the eps-ball: onto the box `[-eps, eps]` for L-inf,
    by rescaling to norm `eps` for L2. All steps of the whole batch run inside one compiled
    `tf.function` with `tf.GradientTape`; nothing returns to Python between steps.

    Labels, loss and multi-input models are handled as in `fgsm`: only the input named
    `"image"` is perturbed; `y=None` attacks the model's predictions.

    Args:
        model: a Keras model with one image input, or several inputs one named `"image"`.
        x: images `(batch, height, width, bands)`, or a dict of arrays keyed by input name.
        y: true classes `(batch,)` or one-hot rows; with `targeted=True` the targets. `None`
            uses the model's predictions.
        eps: radius of the ball, a scalar or one value per image; `>= 0`.
        step: size of each step, a scalar or one value per image; `0 <= step <= eps`.
        steps: number of iterations, `>= 1`.
        norm: `"inf"` or `2`.
        random_start: start from a uniform draw in the eps-ball (clipped) instead of `x`.
        targeted: lower the loss towards `y` instead of raising it.
        clip: `(low, high)` valid pixel range, scalars or per-band arrays; `None` for no clip.
        loss: optional `loss(y_true_one_hot, y_pred)` returning per-sample (or summed) losses.
        seed: seed of the random start (drawn with `keras.random` for the whole batch, as
            `astrokeras.training.PGD(seed=seed)` draws it on its first batch).
        batch_size: images per compiled call; `None` attacks the whole batch in one call.

    Returns:
        The adversarial images as a float32 NumPy array, or, when `x` is a dict, a dict with the
        same keys in which only `"image"` is replaced.

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(3, activation="softmax")])
    >>> x = np.random.default_rng(0).uniform(size=(4, 8, 8, 1)).astype("float32")
    >>> x_adv = pgd(model, x, eps=0.03, step=0.01, steps=5, clip=(0.0, 1.0), seed=0)
    >>> bool(np.abs(x_adv - x).max() <= 0.03 + 1e-6)
    True
    """
    steps = check_positive_int("steps", steps)
    return _numpy_batches.run(model, x, y, eps=eps, step=step, steps=steps, norm=norm,
                              random_init=bool(random_start), targeted=targeted, clip=clip,
                              loss=loss, seed=seed, batch_size=batch_size, project=True)
