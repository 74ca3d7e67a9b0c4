"""The basic residual block of ResNet18 (He et al. 2016)."""

import keras
from keras import layers

from astrokeras.errors import InvalidArgumentError, check_positive_int
from astrokeras.layers._initializers import fresh_initializer


@keras.saving.register_keras_serializable(package="astrokeras")
class ResidualBlock(layers.Layer):
    """ResNet "basic block": two 3x3 convolutions with batch norm, and a shortcut.

    `relu(bn(conv3x3(relu(bn(conv3x3_stride(x))))) + shortcut(x))`, where the shortcut is the
    identity, or a 1x1 convolution with the block's stride followed by batch norm (the
    "projection" shortcut, He et al. 2016 option B) when the stride or the width changes. The
    convolutions have no bias (batch norm follows), as in torchvision's ResNet18 that
    Ciprijanovic et al. 2022 train.

    Args:
        filters: int, output channels of both convolutions.
        strides: int, stride of the first convolution (and of the projection), 1 or 2.
        kernel_initializer: initializer of the convolution kernels (He normal by default).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: tensor of shape (batch, height, width, channels).
        training: whether batch norm uses batch statistics.

    Example:

    >>> block = ResidualBlock(16, strides=2)
    >>> tuple(block(keras.ops.ones((2, 8, 8, 4))).shape)
    (2, 4, 4, 16)
    """

    def __init__(self, filters, strides=1, kernel_initializer="he_normal", **kwargs):
        super().__init__(**kwargs)
        self.filters = check_positive_int("filters", filters)
        if strides not in (1, 2):
            raise InvalidArgumentError("`strides` of ResidualBlock must be 1 or 2.", strides, (1, 2))
        self.strides = int(strides)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        conv = dict(use_bias=False, padding="same")
        self.conv1 = layers.Conv2D(filters, 3, strides=strides, name="conv1",
                                   kernel_initializer=fresh_initializer(kernel_initializer, 0),
                                   **conv)
        self.bn1 = layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name="bn1")
        self.conv2 = layers.Conv2D(filters, 3, name="conv2",
                                   kernel_initializer=fresh_initializer(kernel_initializer, 1),
                                   **conv)
        self.bn2 = layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name="bn2")
        self.projection = None
        self.projection_bn = None

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise InvalidArgumentError(
                "ResidualBlock needs a known number of input channels.", tuple(input_shape),
                "(batch, height, width, channels) with channels known",
            )
        self.conv1.build(input_shape)
        mid_shape = self.conv1.compute_output_shape(input_shape)
        self.bn1.build(mid_shape)
        self.conv2.build(mid_shape)
        self.bn2.build(mid_shape)
        if self.strides != 1 or channels != self.filters:
            self.projection = layers.Conv2D(
                self.filters, 1, strides=self.strides, use_bias=False, padding="same",
                kernel_initializer=fresh_initializer(self.kernel_initializer, 2),
                name="projection",
            )
            self.projection_bn = layers.BatchNormalization(
                epsilon=1e-5, momentum=0.9, name="projection_bn"
            )
            self.projection.build(input_shape)
            self.projection_bn.build(mid_shape)

    def call(self, inputs, training=None):
        x = self.conv1(inputs)
        x = self.bn1(x, training=training)
        x = keras.ops.relu(x)
        x = self.conv2(x)
        x = self.bn2(x, training=training)
        shortcut = inputs
        if self.projection is not None:
            shortcut = self.projection_bn(self.projection(inputs), training=training)
        return keras.ops.relu(x + shortcut)

    def compute_output_shape(self, input_shape):
        return self.conv1.compute_output_shape(input_shape)[:-1] + (self.filters,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "strides": self.strides,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
