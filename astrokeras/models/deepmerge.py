"""DeepMerge network of Ciprijanovic et al. 2020."""

import keras
from keras import layers

from astrokeras.errors import check_positive_int
from astrokeras.models._validation import check_image_shape
from astrokeras.models.convnet import conv_blocks


def deepmerge(input_shape=(75, 75, 3), num_classes=2, name="deepmerge"):
    """The DeepMerge merger classifier (Ciprijanovic et al. 2020, Astronomy & Computing 32).

    The network used for domain adaptation between HST-like PSF-only and PSF + noise images
    (Ciprijanovic et al. 2020, DeepMerge II), following the authors' published layer list
    (DeepMergeDomainAdaptation, `network.py`):

    | layer                                      | output (75x75x3 input) | trainable params |
    |--------------------------------------------|------------------------|------------------|
    | conv 8@5x5, pad 2 + BN + ReLU + maxpool 2  | 37 x 37 x 8            | 608 + 16         |
    | conv 16@3x3, pad 1 + BN + ReLU + maxpool 2 | 18 x 18 x 16           | 1,168 + 32       |
    | conv 32@3x3, pad 1 + BN + ReLU + maxpool 2 | 9 x 9 x 32             | 4,640 + 64       |
    | flatten ("latent")                         | 2,592                  | 0                |
    | dense 64 + ReLU                            | 64                     | 165,952          |
    | dense 32 + ReLU                            | 32                     | 2,080            |
    | dense num_classes ("logits") + softmax     | 2                      | 66               |

    Total 174,626 trainable parameters. The flattened convolutional features are the latent
    space on which the paper computes MMD and trains its domain discriminator, so that layer is
    the one named "latent".

    Args:
        input_shape: (height, width, bands), at least 8 x 8.
        num_classes: number of classes (2: merger, non-merger).
        name: model name.

    Returns:
        A functional `keras.Model` with layers named "latent", "logits" and "probabilities".

    Example:

    >>> model = deepmerge()
    >>> model.get_layer("latent").output.shape
    (None, 2592)
    """
    input_shape = check_image_shape("input_shape", input_shape, min_size=8)
    num_classes = check_positive_int("num_classes", num_classes)

    inputs = keras.Input(shape=input_shape, name="image")
    latent = layers.Flatten(name="latent")(conv_blocks(inputs))
    x = layers.Dense(64, activation="relu", name="dense1")(latent)
    x = layers.Dense(32, activation="relu", name="dense2")(x)
    logits = layers.Dense(num_classes, name="logits")(x)
    outputs = layers.Softmax(name="probabilities", dtype="float32")(logits)
    return keras.Model(inputs, outputs, name=name)
