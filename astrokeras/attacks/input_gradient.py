"""The gradient of a loss with respect to the input images: the attacks' one backend-specific step.

Every gradient attack (`fgsm`, `pgd`, and the in-graph `astrokeras.training.FGSM` / `PGD`)
takes its gradients here and does everything else with `keras.ops`. Today the gradient comes
from TensorFlow's `tf.GradientTape`; another Keras backend plugs in by adding its function to
`_BACKENDS` (for example `jax.grad` of the summed loss, or `torch.autograd.grad`).
"""

import keras
from keras import ops

from astrokeras.errors import ConfigError


def input_gradient(loss_of_image, image):
    """Gradient of the sum of the per-image losses with respect to the images.

    The losses are summed over the batch, not averaged: the gradient of each image is then the
    gradient of its own loss, the same whatever the batch size and whichever images share the
    batch (a batch mean would scale every gradient by 1 / batch, which changes nothing for a
    sign step in exact arithmetic but pushes small gradients towards underflow, and makes a
    chunked attack depend on the chunk size).

    Args:
        loss_of_image: callable mapping an image batch `(batch, height, width, bands)` to the
            per-image losses `(batch,)` to raise (a loss already summed over the batch works
            too). It closes over the model, the labels and any other model inputs.
        image: float tensor `(batch, height, width, bands)`.

    Returns:
        A tensor like `image`: d(sum of the losses) / d image, zero where the loss does not
        depend on a pixel.

    Example:

    >>> import numpy as np
    >>> from keras import ops
    >>> image = ops.convert_to_tensor(np.ones((2, 3, 3, 1), "float32"))
    >>> grad = input_gradient(lambda x: ops.sum(x ** 2, axis=(1, 2, 3)), image)
    >>> float(ops.max(ops.abs(grad - 2.0)))
    0.0
    """
    backend = keras.config.backend()
    if backend not in _BACKENDS:
        raise ConfigError("The attacks have no input gradient for this Keras backend.",
                          backend, sorted(_BACKENDS))
    return _BACKENDS[backend](loss_of_image, image)


def _tensorflow_gradient(loss_of_image, image):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(image)
        loss = ops.sum(loss_of_image(image))
    return tape.gradient(loss, image, unconnected_gradients=tf.UnconnectedGradients.ZERO)


_BACKENDS = {"tensorflow": _tensorflow_gradient}
