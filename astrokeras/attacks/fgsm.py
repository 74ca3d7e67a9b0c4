"""Fast gradient sign method (FGSM) and its L2 variant."""

from astrokeras.attacks import _numpy_batches


def fgsm(model, x, y=None, *, eps, norm="inf", targeted=False, clip=None, loss=None,
         batch_size=None):
    """One gradient step of size `eps` that raises the model's loss on each image.

    The fast gradient sign method of Goodfellow et al. 2015, as used on the photo-z network by
    Campagne 2021: `x_adv = clip(x + eps * sign(grad_x L))` for `norm="inf"`, and
    `x_adv = clip(x + eps * g / ||g||_2)` for `norm=2`. The whole batch is attacked at once in a
    compiled `tf.function`, the gradient taken by `tf.GradientTape`.

    The loss `L` is the categorical cross-entropy between the model output and the one-hot
    labels (from logits when the outputs are not probability rows). For a photo-z network the
    labels are the redshift bins of z_spec (see `redshift_bins`), so the loss is the
    cross-entropy between the binned output and the one-hot bin. For a model with several inputs
    (e.g. `{"image", "ebv"}`) only the input named `"image"` is perturbed.

    Args:
        model: a Keras model with one image input, or several inputs one of which is named
            `"image"`; its output is a class-probability or logit vector per image.
        x: images `(batch, height, width, bands)`, or a dict of arrays keyed by input name.
        y: true classes `(batch,)` or one-hot rows `(batch, classes)`; with `targeted=True` the
            target classes. `None` attacks the model's own predictions (no label leaking).
        eps: the perturbation size, a scalar or one value per image; `>= 0`.
        norm: `"inf"` (signed step) or `2` (step along g / ||g||_2).
        targeted: lower the loss towards `y` instead of raising it.
        clip: `(low, high)` valid pixel range, scalars or per-band arrays; `None` for no clip.
        loss: optional `loss(y_true_one_hot, y_pred)` returning per-sample (or summed) losses.
        batch_size: images per compiled call; `None` attacks the whole batch in one call.

    Returns:
        The adversarial images as a float32 NumPy array with the shape of the images, or, when
        `x` is a dict, a dict with the same keys in which only `"image"` is replaced.

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(3, activation="softmax")])
    >>> x = np.random.default_rng(0).uniform(size=(4, 8, 8, 1)).astype("float32")
    >>> x_adv = fgsm(model, x, eps=0.01, clip=(0.0, 1.0))
    >>> bool(np.abs(x_adv - x).max() <= 0.01 + 1e-6)
    True
    """
    return _numpy_batches.run(model, x, y, eps=eps, step=eps, steps=1, norm=norm,
                              random_init=False, targeted=targeted, clip=clip, loss=loss,
                              seed=None, batch_size=batch_size, project=False)
