"""The Inception cell of the Pasquet et al. 2019 photometric-redshift network."""

import keras
from keras import layers, ops

from astrokeras.errors import InvalidArgumentError, check_positive_int
from astrokeras.layers._initializers import fresh_initializer

# Bias of every convolution at initialisation, as in Pasquet et al. 2019 (and Campagne 2021).
_PASQUET_BIAS = 0.1


@keras.saving.register_keras_serializable(package="astrokeras")
class InceptionCell(layers.Layer):
    """Four-branch Inception cell of Pasquet et al. 2019 (Campagne 2021, Table A1).

    The input feeds four parallel branches whose outputs are concatenated on the channel
    axis, in the order of the original code:

    1. a 1x1 convolution with `filters` channels;
    2. a 1x1 convolution with `reduce_filters` channels, then a 5x5 convolution with
       `filters` channels (left out when `with_5x5=False`, as in the last cell "i4");
    3. a 1x1 convolution with `reduce_filters` channels, then a 3x3 convolution with
       `filters` channels;
    4. a 1x1 convolution with `reduce_filters` channels, then a 2x2 average pooling with
       stride 1 and "same" padding (convolution first, then pooling, as in the original).

    The cell keeps the spatial size and returns `3 * filters + reduce_filters` channels
    (`2 * filters + reduce_filters` without the 5x5 branch). Every convolution uses "same"
    padding and is followed by a PReLU with one learnable slope per channel, shared over the
    two spatial axes (`shared_axes=[1, 2]`; the Keras default would learn one slope per
    pixel), initialised to 0 as in the original TensorFlow code. Kernels start Xavier-uniform
    (`glorot_uniform`) and biases at 0.1, as in Pasquet et al. 2019.

    In the network of Pasquet et al. 2019 (`S1` = `reduce_filters`, `S2` = `filters`):
    i0 = (48, 64) on 64 channels, i1 = (64, 92) on 240, i2 and i3 = (92, 128) on 340 and
    476, i4 = (92, 128) without 5x5 on 476 channels. A cell with `c` input channels holds
    `c * (filters + 3 * reduce_filters) + reduce_filters * filters * (9 + 25)
    + 2 * (3 * filters + 3 * reduce_filters)` trainable parameters (kernels,
    biases and PReLU slopes; drop one 1x1 reduction and the 5x5 convolution without 5x5).

    Args:
        filters: channels of the 1x1 branch and of the 3x3 and 5x5 convolutions (`S2`).
        reduce_filters: channels of the 1x1 reductions before the 3x3 and 5x5 convolutions and
            of the pooling branch (`S1`).
        with_5x5: whether the cell has the 1x1 -> 5x5 branch. The last cell of Pasquet et al.
            2019 ("i4") has none.
        kernel_initializer: initializer of the convolution kernels. Defaults to
            `"glorot_uniform"` (Xavier uniform), as in the original. Each convolution gets
            its own copy (an integer seed is shifted per convolution), so same-shaped
            branches never start from identical kernels.
        bias_initializer: initializer of the convolution biases. `None` (the default) means
            `keras.initializers.Constant(0.1)`, as in the original.
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a float tensor of shape `(batch, height, width, channels)`.

    Returns:
        A tensor of shape `(batch, height, width, 3 * filters + reduce_filters)`, or
        `(batch, height, width, 2 * filters + reduce_filters)` when `with_5x5=False`.

    Example:

    >>> import numpy as np
    >>> cell = InceptionCell(filters=64, reduce_filters=48)
    >>> tuple(cell(np.zeros((2, 32, 32, 64), "float32")).shape)
    (2, 32, 32, 240)
    """

    def __init__(self, filters, reduce_filters, with_5x5=True,
                 kernel_initializer="glorot_uniform", bias_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_positive_int("filters", filters)
        self.reduce_filters = check_positive_int("reduce_filters", reduce_filters)
        if not isinstance(with_5x5, bool):
            raise InvalidArgumentError("`with_5x5` must be a bool.", with_5x5, "True or False")
        self.with_5x5 = with_5x5
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        if bias_initializer is None:
            bias_initializer = keras.initializers.Constant(_PASQUET_BIAS)
        self.bias_initializer = keras.initializers.get(bias_initializer)

        self.branch_1x1 = self._conv(self.filters, 1, "branch_1x1", 1)
        self.branch_1x1_prelu = self._prelu("branch_1x1_prelu")
        if self.with_5x5:
            self.branch_5x5_reduce = self._conv(self.reduce_filters, 1, "branch_5x5_reduce", 2)
            self.branch_5x5_reduce_prelu = self._prelu("branch_5x5_reduce_prelu")
            self.branch_5x5 = self._conv(self.filters, 5, "branch_5x5", 3)
            self.branch_5x5_prelu = self._prelu("branch_5x5_prelu")
        self.branch_3x3_reduce = self._conv(self.reduce_filters, 1, "branch_3x3_reduce", 4)
        self.branch_3x3_reduce_prelu = self._prelu("branch_3x3_reduce_prelu")
        self.branch_3x3 = self._conv(self.filters, 3, "branch_3x3", 5)
        self.branch_3x3_prelu = self._prelu("branch_3x3_prelu")
        self.branch_pool_conv = self._conv(self.reduce_filters, 1, "branch_pool_conv", 6)
        self.branch_pool_prelu = self._prelu("branch_pool_prelu")
        self.branch_pool = layers.AveragePooling2D(
            pool_size=2, strides=1, padding="same", dtype=self.dtype_policy,
            name="branch_pool")

    def _conv(self, filters, kernel_size, name, index):
        return layers.Conv2D(
            filters, kernel_size, padding="same",
            kernel_initializer=fresh_initializer(self.kernel_initializer, index),
            bias_initializer=fresh_initializer(self.bias_initializer, index),
            dtype=self.dtype_policy, name=name)

    def _prelu(self, name):
        return layers.PReLU(shared_axes=[1, 2], dtype=self.dtype_policy, name=name)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise InvalidArgumentError(
                "`InceptionCell` input must have rank 4 (batch, height, width, channels).",
                tuple(input_shape), "(batch, height, width, channels)")
        batch, height, width = input_shape[:3]

        def shape(channels):
            return (batch, height, width, channels)

        self.branch_1x1.build(input_shape)
        self.branch_1x1_prelu.build(shape(self.filters))
        if self.with_5x5:
            self.branch_5x5_reduce.build(input_shape)
            self.branch_5x5_reduce_prelu.build(shape(self.reduce_filters))
            self.branch_5x5.build(shape(self.reduce_filters))
            self.branch_5x5_prelu.build(shape(self.filters))
        self.branch_3x3_reduce.build(input_shape)
        self.branch_3x3_reduce_prelu.build(shape(self.reduce_filters))
        self.branch_3x3.build(shape(self.reduce_filters))
        self.branch_3x3_prelu.build(shape(self.filters))
        self.branch_pool_conv.build(input_shape)
        self.branch_pool_prelu.build(shape(self.reduce_filters))
        self.branch_pool.build(shape(self.reduce_filters))
        self.built = True

    def call(self, inputs):
        outputs = [self.branch_1x1_prelu(self.branch_1x1(inputs))]
        if self.with_5x5:
            x = self.branch_5x5_reduce_prelu(self.branch_5x5_reduce(inputs))
            outputs.append(self.branch_5x5_prelu(self.branch_5x5(x)))
        x = self.branch_3x3_reduce_prelu(self.branch_3x3_reduce(inputs))
        outputs.append(self.branch_3x3_prelu(self.branch_3x3(x)))
        x = self.branch_pool_prelu(self.branch_pool_conv(inputs))
        outputs.append(self.branch_pool(x))
        return ops.concatenate(outputs, axis=-1)

    @property
    def output_channels(self):
        """Number of channels of the concatenated output."""
        return (3 if self.with_5x5 else 2) * self.filters + self.reduce_filters

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_channels,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "reduce_filters": self.reduce_filters,
            "with_5x5": self.with_5x5,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        })
        return config

