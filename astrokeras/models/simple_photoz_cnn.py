"""The simple (non-Inception) photometric-redshift CNN of Campagne 2021, Table A2."""

from keras import layers

from astrokeras.models._photoz import initializers, photoz_network


def simple_photoz_cnn(image_shape=(64, 64, 5), num_bins=180, with_ebv=True,
                      name="simple_photoz_cnn"):
    """Three-convolution photo-z CNN of Campagne 2021 (Table A2): 13,461,008 parameters.

    The small baseline Campagne 2021 compares with the Inception network of Pasquet et al.
    2019 (`inception_photoz`): three convolution + average-pooling stages, one dense hidden
    layer and a softmax over `num_bins` redshift bins, fed with the multi-band image and
    the reddening E(B-V). Layer list with the default arguments (every average pooling is
    2x2 with stride 2 and "same" padding, i.e. rounds up, like the original's
    `ceil_mode=True, count_include_pad=False`):

    | layer (name)                        | output   | trainable parameters             |
    |-------------------------------------|-----------|----------------------------------|
    | image                               | 64x64x5  | 0                                |
    | conv0: conv 64@5x5, pad 2, ReLU     | 64x64x64 | 5*5*5*64 + 64 = 8,064            |
    | conv0_pool: average pool            | 32x32x64 | 0                                |
    | conv1: conv 92@3x3, pad 2, ReLU     | 34x34x92 | 3*3*64*92 + 92 = 53,084          |
    | conv1_pool: average pool            | 17x17x92 | 0                                |
    | conv2: conv 128@3x3, pad 2, ReLU    | 19x19x128 | 3*3*92*128 + 128 = 106,112       |
    | conv2_pool: average pool            | 10x10x128 | 0                                |
    | flatten                             | 12,800   | 0                                |
    | concat_ebv: + E(B-V)                | 12,801   | 0                                |
    | latent: dense 1024 + ReLU           | 1024     | 12,801*1024 + 1024 = 13,109,248  |
    | logits: dense 180                   | 180      | 1024*180 + 180 = 184,500         |
    | probabilities: softmax              | 180      | 0                                |

    Total: 167,260 (convolutions) + 13,293,748 (dense) = 13,461,008 trainable parameters.
    (The 3x3 convolutions pad 2 pixels on each side, so each grows the map by 2 pixels,
    as in the source; built here as `ZeroPadding2D(2)` then a "valid" convolution.)

    Sources, and what is reconstructed: the text of Table A2 was not available to us. The
    layer list (widths 64/92/128, kernels 5/3/3, padding 2 on every convolution, average
    poolings rounding up, flatten 12,800 + E(B-V) = 12,801, dense 1024, 180 bins, Xavier
    kernels and 0.1 biases) is that of `NetCNNRed` in Campagne's public code
    (github.com/jecampagne/photoz-adv, `pz_network.py`). That code puts a PReLU with one
    slope per channel after each convolution, which would add 64 + 92 + 128 = 284
    parameters (13,461,292); the published count, 13,461,008, is exactly the count without
    learnable slopes, so the convolutions here use ReLU. That choice of activation is the
    one reconstructed part; everything else matches both the code and the count. The
    1024-unit hidden layer is named "latent"; the softmax is a separate layer after the
    "logits" dense layer so that attacks can use the logits.

    Args:
        image_shape: `(height, width, bands)` of the input images, each a positive integer;
            height and width at least 8 (three 2x poolings). The flatten size, and so the
            parameter count, depends on it: with `h0 = ceil(h/2)`, `h1 = ceil((h0+2)/2)`,
            `h2 = ceil((h1+2)/2)` (same for the width), it is `h2 * w2 * 128`.
        num_bins: number of redshift bins of the output distribution, a positive integer.
        with_ebv: if True (the default, as in Table A2), the model has a second input "ebv"
            of shape `(1,)`, the reddening E(B-V), concatenated to the flattened features.
            If False the model has the single input "image" (1024 parameters fewer).
        name: model name.

    Returns:
        A functional `keras.Model` with the inputs and output of `inception_photoz`: the
        image (and E(B-V) with `with_ebv`) in, `(batch, num_bins)` probabilities out, and a
        1024-dimensional layer "latent".

    Raises:
        InvalidArgumentError: a bad `image_shape`, `num_bins` or `with_ebv` (named).

    Example:

    >>> import numpy as np
    >>> model = simple_photoz_cnn(image_shape=(32, 32, 5), num_bins=20, with_ebv=False)
    >>> model.predict(np.zeros((3, 32, 32, 5), "float32"), verbose=0).shape
    (3, 20)
    """

    def trunk(image):
        x = layers.Conv2D(64, 5, padding="same", activation="relu", name="conv0",
                          **initializers())(image)
        x = layers.AveragePooling2D(2, strides=2, padding="same", name="conv0_pool")(x)
        x = layers.ZeroPadding2D(2, name="conv1_pad")(x)
        x = layers.Conv2D(92, 3, activation="relu", name="conv1", **initializers())(x)
        x = layers.AveragePooling2D(2, strides=2, padding="same", name="conv1_pool")(x)
        x = layers.ZeroPadding2D(2, name="conv2_pad")(x)
        x = layers.Conv2D(128, 3, activation="relu", name="conv2", **initializers())(x)
        return layers.AveragePooling2D(2, strides=2, padding="same", name="conv2_pool")(x)

    return photoz_network(trunk, image_shape, num_bins, with_ebv,
                          hidden=(("latent", 1024),), name=name)
