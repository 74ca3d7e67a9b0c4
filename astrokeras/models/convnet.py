"""ConvNet of Ciprijanovic et al. 2022 (Table 1)."""

import keras
from keras import layers

from astrokeras.errors import check_positive_int
from astrokeras.models._validation import check_image_shape


def convnet(input_shape=(100, 100, 3), num_classes=3, latent_dim=256, name="convnet"):
    """The ConvNet galaxy-morphology classifier of Ciprijanovic et al. 2022, Table 1.

    Three convolution blocks and a 256-unit linear bottleneck, the "latent" space whose
    distances the paper measures, then a linear output and a softmax:

    | layer                                     | output (100x100x3 input) | trainable params |
    |-------------------------------------------|--------------------------|------------------|
    | conv 8@5x5, pad 2 + BN + ReLU + maxpool 2 | 50 x 50 x 8              | 608 + 16         |
    | conv 16@3x3, pad 1 + BN + ReLU + maxpool 2| 25 x 25 x 16             | 1,168 + 32       |
    | conv 32@3x3, pad 1 + BN + ReLU + maxpool 2| 12 x 12 x 32             | 4,640 + 64       |
    | flatten                                   | 4,608                    | 0                |
    | dense 256, linear ("latent")              | 256                      | 1,179,904        |
    | dense num_classes ("logits") + softmax    | 3                        | 771              |

    Total 1,187,203 trainable parameters (the table's printed total, 1,186,432, stops at the
    bottleneck). Table 1 lists ReLU before batch norm; the authors' code (DeepAdversaries,
    `networks.py`) applies batch norm first, and that is what produced the paper's numbers,
    so this follows the code. The bottleneck and output weights start from N(0, 0.005) and
    N(0, 0.01) with zero biases, also as in that code.

    Args:
        input_shape: (height, width, bands), at least 8 x 8 (three 2x2 poolings).
        num_classes: number of classes (3: spiral, elliptical, merger).
        latent_dim: width of the bottleneck (256 in the paper).
        name: model name.

    Returns:
        A functional `keras.Model` mapping images to class probabilities, with layers named
        "latent", "logits" and "probabilities".

    Example:

    >>> model = convnet()
    >>> model.get_layer("latent").output.shape
    (None, 256)
    """
    input_shape = check_image_shape("input_shape", input_shape, min_size=8)
    num_classes = check_positive_int("num_classes", num_classes)
    latent_dim = check_positive_int("latent_dim", latent_dim)

    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Flatten(name="flatten")(conv_blocks(inputs))
    latent = layers.Dense(
        latent_dim,
        kernel_initializer=keras.initializers.RandomNormal(stddev=0.005),
        name="latent",
    )(x)
    logits = layers.Dense(
        num_classes,
        kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
        name="logits",
    )(latent)
    outputs = layers.Softmax(name="probabilities", dtype="float32")(logits)
    return keras.Model(inputs, outputs, name=name)


def conv_blocks(x):
    """The three convolution blocks shared by ConvNet and DeepMerge.

    conv 8@5x5, 16@3x3, 32@3x3 ("same" padding), each followed by batch norm, ReLU and a 2x2
    max pool; layers named conv1..3, bn1..3, relu1..3, pool1..3.

    Args:
        x: image tensor (batch, height, width, bands).

    Returns:
        The pooled feature map after the third block.
    """
    for index, (filters, kernel) in enumerate(((8, 5), (16, 3), (32, 3)), start=1):
        x = layers.Conv2D(filters, kernel, padding="same", name=f"conv{index}")(x)
        x = layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"bn{index}")(x)
        x = layers.ReLU(name=f"relu{index}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{index}")(x)
    return x
