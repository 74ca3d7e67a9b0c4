"""The ends the photo-z networks share: checked arguments, inputs, dense head (private).

Both networks of Campagne 2021 (the Pasquet et al. 2019 Inception network and the simple
CNN) read an image through a convolutional trunk, flatten it, append the reddening E(B-V)
when asked, and end in ReLU dense layers (the last named "latent"), a "logits" dense layer
and a float32 softmax over the redshift bins. Every kernel starts Xavier-uniform and every
bias at 0.1, as in the original networks.
"""

import keras
from keras import layers

from astrokeras.errors import check_positive_int
from astrokeras.models._validation import check_bool, check_image_shape

# Weights start Xavier-uniform and biases at 0.1 everywhere in the original networks.
_BIAS = 0.1
# Three 2x2 / stride-2 average poolings: the image must be at least 2**3 pixels on a side.
MIN_IMAGE_SIZE = 8


def initializers():
    """Keyword arguments of every convolution and dense layer: Xavier kernels, 0.1 biases."""
    return {"kernel_initializer": "glorot_uniform",
            "bias_initializer": keras.initializers.Constant(_BIAS)}


def photoz_network(trunk, image_shape, num_bins, with_ebv, hidden, name):
    """Builds image -> `trunk` -> flatten (+ E(B-V)) -> `hidden` -> logits -> softmax.

    Args:
        trunk: a function from the image input tensor to a feature map.
        image_shape: `(height, width, bands)`, checked (height and width >= 8).
        num_bins: number of redshift bins, a positive integer.
        with_ebv: whether the model takes E(B-V) as a second input "ebv" of shape `(1,)`.
        hidden: `(layer name, units)` of the ReLU dense layers after the features, the last
            one named "latent".
        name: model name.

    Returns:
        A functional `keras.Model` with the inputs `[image, ebv]` (or "image" alone) and an
        output "probabilities" of shape `(batch, num_bins)`.
    """
    image_shape = check_image_shape("image_shape", image_shape, min_size=MIN_IMAGE_SIZE)
    num_bins = check_positive_int("num_bins", num_bins)
    with_ebv = check_bool("with_ebv", with_ebv)

    image = keras.Input(shape=image_shape, name="image")
    x = layers.Flatten(name="flatten")(trunk(image))
    inputs = image
    if with_ebv:
        ebv = keras.Input(shape=(1,), name="ebv")
        x = layers.Concatenate(name="concat_ebv")([x, ebv])
        inputs = [image, ebv]
    for layer_name, units in hidden:
        x = layers.Dense(units, activation="relu", name=layer_name, **initializers())(x)
    x = layers.Dense(num_bins, name="logits", **initializers())(x)
    outputs = layers.Softmax(name="probabilities", dtype="float32")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name=name)
