"""Incremental evaluation of one-pixel candidates: recompute only what the changed pixel reaches.

A one-pixel change alters, in each convolution or pooling layer, only the outputs whose
receptive field holds the pixel: a 5 x 5 patch after a 5 x 5 convolution, 3 x 3 after a 2 x 2
pooling, and so on. For a classifier whose layers up to a `Flatten` are local (convolutions,
poolings, per-channel layers) followed by `Dense` layers, `IncrementalModel` computes the
activations of the clean images once; each candidate is then scored by recomputing only those
patches, from the clean activations around them, and by adding `W^T (new - clean)` over the
patch to the clean pre-activation of the first `Dense` layer (it is linear in its input).
Consecutive linear `Dense` layers (the ConvNet's "latent" and "logits") fold into one matrix.
The rest of the head then runs as usual. The scores equal the full model's to float32
rounding; `one_pixel` checks that on a few candidates before it relies on them.

Supported layers before the `Flatten`: `Conv2D` (any kernel, padding, strides and dilation,
`groups=1`, channels last), `MaxPooling2D`, `AveragePooling2D` (both paddings),
`BatchNormalization` (inference), `ReLU`, `LeakyReLU`, `ELU`, `Activation`, `Rescaling`,
`Identity`, `PReLU` shared over rows and columns, and the dropout and noise layers (identity in
inference). Any other layer, a branch or skip connection (ResNet), several inputs, or more than
one changed pixel: `supports` says why not, and `one_pixel` evaluates whole images instead.
"""

import keras
import numpy as np
import tensorflow as tf

from astrokeras.errors import InvalidArgumentError

# Layers that act on each position separately (with per-channel parameters at most).
_POINTWISE = (keras.layers.BatchNormalization, keras.layers.ReLU, keras.layers.LeakyReLU,
              keras.layers.ELU, keras.layers.Activation, keras.layers.Rescaling,
              keras.layers.Identity, keras.layers.Dropout, keras.layers.SpatialDropout2D,
              keras.layers.GaussianNoise, keras.layers.GaussianDropout,
              keras.layers.AlphaDropout, keras.layers.ActivityRegularization,
              keras.layers.PReLU)
_IDENTITY_IN_HEAD = (keras.layers.Dropout, keras.layers.GaussianNoise,
                     keras.layers.GaussianDropout, keras.layers.AlphaDropout,
                     keras.layers.ActivityRegularization, keras.layers.Identity)
_WINDOWED = (keras.layers.Conv2D, keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)


class Unsupported(InvalidArgumentError):
    """The model has a layer or a structure the incremental evaluation does not handle."""


def _pair(value):
    return (int(value), int(value)) if np.ndim(value) == 0 else tuple(int(v) for v in value)


def _chain(model):
    """The model's layers in order, if they form a single chain from one input to the output."""
    inputs = getattr(model, "inputs", None)
    outputs = getattr(model, "outputs", None)
    if not inputs or not outputs or len(inputs) != 1 or len(outputs) != 1:
        raise Unsupported("the model does not have exactly one input and one output")
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    previous = inputs[0]
    for layer in layers:
        try:
            taken, given = layer.input, layer.output
        except (AttributeError, ValueError):
            raise Unsupported(f"layer {layer.name!r} has no single input") from None
        if taken is not previous:
            raise Unsupported(f"layer {layer.name!r} does not take the previous layer's "
                              "output (a branch or skip connection)")
        previous = given
    if previous is not outputs[0]:
        raise Unsupported("the last layer's output is not the model output")
    return layers


class _Window:
    """A layer whose output at (i, j) reads a window of its input: convolution or pooling."""

    def __init__(self, layer, in_shape, patch):
        self.layer = layer
        # A convolution that sees a single changed pixel: its output changes by the kernel
        # times the pixel's change (it is linear), no window to convolve.
        self.single = isinstance(layer, keras.layers.Conv2D) and tuple(patch) == (1, 1)
        height, width, channels = in_shape
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            raise Unsupported(f"layer {layer.name!r} is not channels-last")
        if isinstance(layer, keras.layers.Conv2D):
            if getattr(layer, "groups", 1) != 1:
                raise Unsupported(f"layer {layer.name!r} is a grouped convolution")
            if getattr(layer, "lora_enabled", False) or layer.kernel.dtype != "float32":
                raise Unsupported(f"layer {layer.name!r} has a LoRA or non-float32 kernel")
            kernel = _pair(layer.kernel_size)
            self.dilation = _pair(layer.dilation_rate)
            self.strides = _pair(layer.strides)
            self.extent = tuple((k - 1) * d + 1 for k, d in zip(kernel, self.dilation))
            self.kind = "conv"
            out_channels = int(layer.filters)
        else:
            self.extent = _pair(layer.pool_size)
            self.strides = _pair(layer.strides if layer.strides is not None else layer.pool_size)
            self.kind = "max" if isinstance(layer, keras.layers.MaxPooling2D) else "average"
            out_channels = channels
        padding = layer.padding.lower()
        if padding not in ("valid", "same"):
            raise Unsupported(f"layer {layer.name!r} has padding {padding!r}")
        sizes, self.pads, self.patch, self.window = [], [], [], []
        for size, extent, stride, part in zip((height, width), self.extent, self.strides, patch):
            if padding == "valid":
                out = (size - extent) // stride + 1
                total = 0
            else:
                out = -(-size // stride)
                total = max((out - 1) * stride + extent - size, 0)
            if out < 1:
                raise Unsupported(f"layer {layer.name!r} has an empty output")
            sizes.append(out)
            self.pads.append((total // 2, total - total // 2))
            # At most this many outputs read a changed patch of `part` inputs.
            self.patch.append(min(out, (part - 1 + extent - 1) // stride + 1))
            self.window.append((self.patch[-1] - 1) * stride + extent)
        self.in_shape = (height, width, channels)
        self.out_shape = (sizes[0], sizes[1], out_channels)
        self.same_average = self.kind == "average" and padding == "same"
        if self.same_average:
            # TensorFlow's "same" average pooling divides by the number of real (unpadded)
            # inputs of each window; a VALID pooling of the zero-padded window divides by the
            # window size: rescale by size / count.
            real = np.pad(np.ones((height, width)), self.pads)
            counts = np.array([[real[i * self.strides[0]:i * self.strides[0] + self.extent[0],
                                     j * self.strides[1]:j * self.strides[1] + self.extent[1]]
                                .sum() for j in range(sizes[1])] for i in range(sizes[0])])
            self.scale = tf.constant(np.prod(self.extent) / counts, tf.float32)

    @property
    def pad_value(self):
        return -np.inf if self.kind == "max" else 0.0

    def pad(self, maps):
        """Clean input maps padded as the layer pads them (zeros, or -inf for max pooling)."""
        if not any(sum(p) for p in self.pads):
            return maps
        return tf.pad(maps, [[0, 0], list(self.pads[0]), list(self.pads[1]), [0, 0]],
                      constant_values=self.pad_value)

    def prepare(self, maps):
        """What `evaluate` needs of the clean input `maps` of this layer."""
        if not self.single:
            return (self.pad(maps),)
        layer = self.layer
        out = tf.nn.convolution(maps, layer.kernel, strides=self.strides,
                                padding=layer.padding.upper(), dilations=self.dilation)
        return (maps, out + layer.bias if layer.use_bias else out)

    def evaluate(self, clean, owner, top, left, patch):
        """The changed patch of this layer's output, from the changed `patch` of its input.

        Args:
            clean: the tuple from `prepare`.
            owner: int32 `(k,)`, each candidate's image.
            top, left: int32 `(k,)`, where each candidate's input patch starts.
            patch: float32 `(k, rows, cols, channels)`, the new values of the input patch.

        Returns:
            `(top, left, patch)` of the output.
        """
        starts, spans, inside, relative, taps = [], [], [], [], []
        for axis, where in enumerate((top, left)):
            stride, extent = self.strides[axis], self.extent[axis]
            shifted = where + self.pads[axis][0]  # the patch in padded coordinates
            first = tf.maximum(-((extent - 1 - shifted) // stride), 0)  # ceil division
            start = tf.minimum(first, self.out_shape[axis] - self.patch[axis])
            starts.append(start)
            if self.single:
                # Offset of the pixel inside each output's receptive field, as a kernel tap;
                # the extra zero tap where it lies outside the field or between dilated taps.
                outputs = start[:, None] + tf.range(self.patch[axis])
                offset = shifted[:, None] - outputs * stride
                dilation = self.dilation[axis]
                valid = (offset >= 0) & (offset < extent) & (offset % dilation == 0)
                taps.append(tf.where(valid, offset // dilation,
                                     (extent - 1) // dilation + 1))
                continue
            span = start[:, None] * stride + tf.range(self.window[axis])
            offset = span - shifted[:, None]
            size = tf.shape(patch)[1 + axis]
            spans.append(span)
            inside.append((offset >= 0) & (offset < size))
            relative.append(tf.clip_by_value(offset, 0, size - 1))
        if self.single:
            maps, pre = clean
            change = patch[:, 0, 0, :] - tf.gather_nd(maps, tf.stack([owner, top, left], -1))
            kernel = tf.pad(self.layer.kernel, [[0, 1], [0, 1], [0, 0], [0, 0]])
            weights = tf.gather(tf.gather(kernel, taps[0]), taps[1], axis=2, batch_dims=1)
            out = _gather_window(pre, owner, starts[0][:, None] + tf.range(self.patch[0]),
                                 starts[1][:, None] + tf.range(self.patch[1]))
            out = out + tf.einsum("kc,kijcd->kijd", change, weights)
            return starts[0], starts[1], self.layer.activation(out)
        window = _gather_window(clean[0], owner, spans[0], spans[1])
        moved = tf.gather(patch, relative[0], axis=1, batch_dims=1)
        moved = tf.gather(moved, relative[1], axis=2, batch_dims=1)
        mask = inside[0][:, :, None, None] & inside[1][:, None, :, None]
        window = tf.where(mask, moved, window)
        return starts[0], starts[1], self.apply(window, starts[0], starts[1])

    def apply(self, window, top, left):
        """The layer's outputs from input windows `(k, *self.window, channels)`, no padding."""
        layer = self.layer
        if self.kind == "conv":
            out = tf.nn.convolution(window, layer.kernel, strides=self.strides, padding="VALID",
                                    dilations=self.dilation)
            if layer.use_bias:
                out = out + layer.bias
            return layer.activation(out)
        if self.kind == "max":
            return tf.nn.max_pool2d(window, self.extent, self.strides, "VALID")
        out = tf.nn.avg_pool2d(window, self.extent, self.strides, "VALID")
        if self.same_average:
            rows = top[:, None] + tf.range(self.patch[0])
            cols = left[:, None] + tf.range(self.patch[1])
            scale = tf.gather(tf.gather(self.scale, rows), cols, axis=2, batch_dims=1)
            out = out * scale[..., None]
        return out


def _check_pointwise(layer):
    if type(layer) not in _POINTWISE:
        raise Unsupported(f"layer {layer.name!r} ({type(layer).__name__}) is not one the "
                          "incremental evaluation knows to be local")
    if isinstance(layer, keras.layers.BatchNormalization) and layer.axis not in (-1, 3, [3],
                                                                                  [-1]):
        raise Unsupported(f"layer {layer.name!r} normalises another axis than the channels")
    if isinstance(layer, keras.layers.PReLU):
        shared = set(layer.shared_axes or ())
        if not {1, 2} <= shared:
            raise Unsupported(f"layer {layer.name!r} has a slope per position")


def _gather_window(maps, owner, rows, cols):
    """`maps[owner[k], rows[k, i], cols[k, j]]`: `(k, len(rows), len(cols), channels)`."""
    count, height, width = tf.shape(owner)[0], tf.shape(rows)[1], tf.shape(cols)[1]
    index = tf.stack([
        tf.broadcast_to(owner[:, None, None], (count, height, width)),
        tf.broadcast_to(rows[:, :, None], (count, height, width)),
        tf.broadcast_to(cols[:, None, :], (count, height, width)),
    ], axis=-1)
    return tf.gather_nd(maps, index)


class IncrementalModel:
    """Scores one-pixel candidates of a chain classifier without evaluating whole images.

    Build it with `IncrementalModel(model, image_shape)`; it raises `Unsupported` (with the
    reason) for models it does not handle. `prepare(images)` computes the clean activations
    of a batch of images once; `evaluate(state, owner, rows, cols, values)` then gives the
    model's output for image `owner[k]` with pixel `(rows[k], cols[k])` set to `values[k]`,
    for a whole batch of candidates `k`, recomputing only the patches that pixel reaches.

    Args:
        model: a Keras classifier: one image input, a chain of local layers, `Flatten`, then
            `Dense` and any per-sample layers.
        image_shape: `(height, width, bands)` of the images.

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3),
    ...                           keras.layers.Flatten(), keras.layers.Dense(2)])
    >>> fast = IncrementalModel(model, (8, 8, 1))
    >>> x = np.zeros((1, 8, 8, 1), "float32")
    >>> state = fast.prepare(x)
    >>> out = fast.evaluate(state, np.array([0]), np.array([3]), np.array([4]),
    ...                     np.ones((1, 1), "float32"))
    >>> x[0, 3, 4] = 1.0
    >>> bool(np.allclose(out, model(x), atol=1e-6))
    True
    """

    def __init__(self, model, image_shape):
        layers = _chain(model)
        shape = tuple(int(s) for s in image_shape)
        patch = (1, 1)
        self.steps = []
        index = 0
        while index < len(layers) and not isinstance(layers[index], keras.layers.Flatten):
            layer = layers[index]
            if type(layer) in _WINDOWED:
                step = _Window(layer, shape, patch)
                shape, patch = step.out_shape, tuple(step.patch)
                self.steps.append(step)
            else:
                _check_pointwise(layer)
                self.steps.append(layer)
            index += 1
        if index == len(layers) or type(layers[index]) is not keras.layers.Flatten:
            raise Unsupported("no Flatten layer follows the local layers")
        if getattr(layers[index], "data_format", "channels_last") != "channels_last":
            raise Unsupported("the Flatten layer is not channels-last")
        head = layers[index + 1:]
        if not head or type(head[0]) is not keras.layers.Dense:
            raise Unsupported("the Flatten layer is not followed by a Dense layer")
        for layer in [*self.steps, *head]:
            if isinstance(layer, keras.layers.Layer) and getattr(
                    layer, "compute_dtype", "float32") != "float32":
                raise Unsupported(f"layer {layer.name!r} does not compute in float32")
        self.feature_shape = shape
        self.patch = patch
        self.folded, self.rest = self._fold(head)
        self.activation = self.folded[-1].activation
        self.units = int(self.folded[-1].units)

    @staticmethod
    def _fold(head):
        """The Dense layers after Flatten up to the first non-linear one, and the rest."""
        if getattr(head[0], "lora_enabled", False):
            raise Unsupported("the first Dense layer uses LoRA")
        folded = [head[0]]
        position = 1
        while folded[-1].activation is keras.activations.linear and position < len(head):
            layer = head[position]
            if type(layer) in _IDENTITY_IN_HEAD:
                position += 1
                continue
            if type(layer) is not keras.layers.Dense or getattr(layer, "lora_enabled", False):
                break
            folded.append(layer)
            position += 1
        return folded, head[position:]

    def linear(self):
        """Kernel and bias of the folded Dense layers, from their current weights."""
        kernel = tf.convert_to_tensor(self.folded[0].kernel)
        bias = tf.convert_to_tensor(self.folded[0].bias) if self.folded[0].use_bias else \
            tf.zeros(kernel.shape[-1:])
        for layer in self.folded[1:]:
            bias = tf.linalg.matvec(layer.kernel, bias, transpose_a=True)
            if layer.use_bias:
                bias = bias + layer.bias
            kernel = tf.matmul(kernel, layer.kernel)
        return kernel, bias

    @property
    def bytes_per_candidate(self):
        """Rough peak memory of one candidate's evaluation, to size the chunks."""
        total = 0
        for step in self.steps:
            if isinstance(step, _Window):
                window = step.window[0] * step.window[1] * step.in_shape[2]
                total += 4 * (4 * window + 2 * step.patch[0] * step.patch[1] * step.out_shape[2])
        features = self.patch[0] * self.patch[1] * self.feature_shape[2]
        return total + 4 * (3 * features + features * self.units + 2 * self.units)

    def prepare(self, images):
        """Clean activations of `images` (a float32 array or tensor), as nested tensors."""
        x = tf.convert_to_tensor(images, tf.float32)
        windows = []
        for step in self.steps:
            if isinstance(step, _Window):
                windows.append(step.prepare(x))
                x = step.layer(x, training=False)
            else:
                x = step(x, training=False)
        kernel, bias = self.linear()
        pre = tf.matmul(tf.reshape(x, (tf.shape(x)[0], -1)), kernel) + bias
        return tuple(windows), x, pre

    def evaluate(self, state, owner, rows, cols, values):
        """Model outputs for candidate pixels: image `owner[k]`, pixel `(rows[k], cols[k])`.

        Args:
            state: the tuple from `prepare`.
            owner: int32 `(k,)`, index of each candidate's image in the prepared batch.
            rows, cols: int32 `(k,)`, the pixel of each candidate.
            values: float32 `(k, bands)`, the pixel's new values.

        Returns:
            float32 `(k, classes)`, what the model outputs on those images.
        """
        owner = tf.convert_to_tensor(owner, tf.int32)
        top = tf.convert_to_tensor(rows, tf.int32)
        left = tf.convert_to_tensor(cols, tf.int32)
        patch = tf.convert_to_tensor(values, tf.float32)[:, None, None, :]
        windows, features, pre = state
        clean = iter(windows)
        for step in self.steps:
            if isinstance(step, _Window):
                top, left, patch = step.evaluate(next(clean), owner, top, left, patch)
            else:
                patch = step(patch, training=False)
        # Only the patch of the flattened features changed: add W^T (new - clean) over it.
        rows_f = top[:, None] + tf.range(self.patch[0])
        cols_f = left[:, None] + tf.range(self.patch[1])
        delta = patch - _gather_window(features, owner, rows_f, cols_f)
        _, width, channels = self.feature_shape
        flat = ((rows_f[:, :, None, None] * width + cols_f[:, None, :, None]) * channels
                + tf.range(channels))
        count = tf.shape(owner)[0]
        kernel, _ = self.linear()
        weights = tf.gather(kernel, tf.reshape(flat, (count, -1)))
        change = tf.einsum("kf,kfu->ku", tf.reshape(delta, (count, -1)), weights)
        out = self.activation(tf.gather(pre, owner) + change)
        for layer in self.rest:
            out = layer(out, training=False)
        return out


def supports(model, image_shape, pixels=1):
    """Whether `one_pixel` can score `model`'s candidates incrementally, and if not, why.

    Args:
        model: a Keras model.
        image_shape: `(height, width, bands)` of the images.
        pixels: pixels changed per candidate (the incremental evaluation handles 1).

    Returns:
        `(True, None)`, or `(False, reason)`.

    Example:

    >>> import keras
    >>> from astrokeras.models import convnet
    >>> supports(convnet(input_shape=(16, 16, 3)), (16, 16, 3))
    (True, None)
    """
    if pixels != 1:
        return False, f"{pixels} pixels per candidate (the incremental evaluation handles 1)"
    try:
        IncrementalModel(model, image_shape)
    except Unsupported as reason:
        return False, str(reason)
    return True, None
