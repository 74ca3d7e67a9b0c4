"""ResNet18 with a 256-unit latent bottleneck, as in Ciprijanovic et al. 2022."""

import keras
from keras import layers

from astrokeras.errors import check_positive_int
from astrokeras.layers.residual_block import ResidualBlock
from astrokeras.models._validation import check_image_shape, check_rate

STAGE_WIDTHS = (64, 128, 256, 512)


def resnet18(input_shape=(100, 100, 3), num_classes=3, latent_dim=256, dropout=0.5,
             name="resnet18"):
    """ResNet18 (He et al. 2016) with the linear bottleneck of Ciprijanovic et al. 2022.

    The torchvision ResNet18 the paper trains from scratch: a 7x7/2 convolution with batch norm
    and ReLU, a 3x3/2 max pool, four stages of two `ResidualBlock`s (64, 128, 256, 512 filters;
    stride 2 entering stages 2-4), then dropout 0.5 (as in the authors' code), global average
    pooling, a linear 256-unit bottleneck named "latent" (the same latent size as ConvNet, so the
    two networks' latent spaces can be compared) and a linear output with softmax.

    Trainable parameters for the defaults: 11,308,611 (11,176,512 in the convolutional body,
    131,328 in the bottleneck, 771 in the output).

    Args:
        input_shape: (height, width, bands), at least 32 x 32 (total stride 32).
        num_classes: number of classes.
        latent_dim: width of the bottleneck.
        dropout: dropout rate before the global pooling (0.5 in the paper's code).
        name: model name.

    Returns:
        A functional `keras.Model` with layers named "latent", "logits" and "probabilities".

    Example:

    >>> model = resnet18(input_shape=(64, 64, 3))
    >>> model.output.shape
    (None, 3)
    """
    input_shape = check_image_shape("input_shape", input_shape, min_size=32)
    num_classes = check_positive_int("num_classes", num_classes)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    dropout = check_rate("dropout", dropout)

    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(64, 7, strides=2, padding="same", use_bias=False,
                      kernel_initializer="he_normal", name="conv1")(inputs)
    x = layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name="bn1")(x)
    x = layers.ReLU(name="relu1")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    for stage, width in enumerate(STAGE_WIDTHS, start=1):
        for block in range(2):
            strides = 2 if stage > 1 and block == 0 else 1
            x = ResidualBlock(width, strides=strides, name=f"stage{stage}_block{block + 1}")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    latent = layers.Dense(
        latent_dim, kernel_initializer=keras.initializers.RandomNormal(stddev=0.005),
        name="latent",
    )(x)
    logits = layers.Dense(
        num_classes, kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
        name="logits",
    )(latent)
    outputs = layers.Softmax(name="probabilities", dtype="float32")(logits)
    return keras.Model(inputs, outputs, name=name)
