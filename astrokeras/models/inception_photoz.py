"""The Inception photometric-redshift network of Pasquet et al. 2019 (Campagne 2021, Table A1)."""

from keras import layers

from astrokeras.layers.inception_cell import InceptionCell
from astrokeras.models._photoz import initializers, photoz_network


def inception_photoz(image_shape=(64, 64, 5), num_bins=180, with_ebv=True,
                     name="inception_photoz"):
    """Pasquet et al. 2019 Inception CNN for photo-z PDFs (Campagne 2021, Table A1).

    The network reads a multi-band galaxy image (64x64 pixels in the five SDSS bands
    ugriz in the paper) and, optionally, the Galactic reddening E(B-V) on the line of sight,
    and returns a probability distribution over `num_bins` redshift bins (180 bins over
    0 < z < 0.4 in the paper). It is the model Campagne 2021 attacks with FGSM and PGD and
    trains adversarially. Layer list with the default arguments (every convolution has
    "same" padding, a bias and a PReLU with one learnable slope per channel; every average
    pooling is 2x2 with stride 2 and "same" padding, i.e. rounds up; `InceptionCell(S1, S2)`
    stands for `reduce_filters=S1, filters=S2`):

    | layer (name)                     | output     | trainable parameters            |
    |----------------------------------|------------|---------------------------------|
    | image                            | 64x64x5    | 0                               |
    | conv0: conv 64@5x5 + PReLU       | 64x64x64   | 5*5*5*64 + 64 + 64 = 8,128      |
    | conv0_pool: average pool         | 32x32x64   | 0                               |
    | i0: InceptionCell(48, 64)        | 32x32x240  | 118,432                         |
    | i1: InceptionCell(64, 92)        | 32x32x340  | 269,288                         |
    | i1_pool: average pool            | 16x16x340  | 0                               |
    | i2: InceptionCell(92, 128)       | 16x16x476  | 539,064                         |
    | i3: InceptionCell(92, 128)       | 16x16x476  | 594,008                         |
    | i3_pool: average pool            | 8x8x476    | 0                               |
    | i4: InceptionCell(92, 128), no 5x5 | 8x8x348  | 255,376                         |
    | flatten                          | 22,272     | 0                               |
    | concat_ebv: + E(B-V)             | 22,273     | 0                               |
    | fc0: dense 1096 + ReLU           | 1096       | 22,273*1096 + 1096 = 24,412,304 |
    | latent: dense 1096 + ReLU        | 1096       | 1096*1096 + 1096 = 1,202,312    |
    | logits: dense 180                | 180        | 1096*180 + 180 = 197,460        |
    | probabilities: softmax           | 180        | 0                               |

    Total: 1,784,296 (convolutions) + 25,812,076 (dense) = 27,596,372 trainable parameters.
    A cell with `c` input channels holds `c*(S2 + 3*S1) + 34*S1*S2 + 6*(S1 + S2)` parameters
    (without 5x5: `c*(S2 + 2*S1) + 9*S1*S2 + 4*(S1 + S2)`), see `InceptionCell`.

    Sources: the layer list, widths, "same" paddings and pooling places are those of the
    public TensorFlow code of Pasquet et al. 2019 and of Campagne's PyTorch port
    (github.com/jecampagne/photoz-adv, `pz_network.py`, `NetWithInception`), whose first
    dense layer takes 22,273 inputs; the count above reproduces the 27,596,372 of Table A1.
    Both use Xavier-uniform kernels and biases of 0.1 for convolutions and dense layers;
    the PReLU slopes start at 0 as in the TensorFlow original (Campagne's port uses 0.25).
    The final softmax is a separate layer after the "logits" dense layer so that attacks
    can use the logits.

    Args:
        image_shape: `(height, width, bands)` of the input images, each a positive integer;
            height and width at least 8 (three 2x poolings). The flatten size, and so the
            parameter count, depends on it: `ceil(h/8) * ceil(w/8) * 348`.
        num_bins: number of redshift bins of the output distribution, a positive integer.
        with_ebv: if True (the default, as in the paper), the model has a second input
            "ebv" of shape `(1,)`, the reddening E(B-V), concatenated to the flattened
            features. If False the model has the single input "image".
        name: model name.

    Returns:
        A functional `keras.Model` (named `name`) with the inputs
        `[image, ebv]` (also callable with a dict keyed "image" and "ebv"), or "image"
        alone, and an output of shape `(batch, num_bins)` summing to 1. The layer named
        "latent" gives the 1096-dimensional latent space.

    Raises:
        InvalidArgumentError: (a `ValueError`) for a bad `image_shape`, `num_bins` or
            `with_ebv`, naming the argument, the value and what is allowed.

    Example:

    >>> import numpy as np
    >>> model = inception_photoz()
    >>> pdf = model.predict({"image": np.zeros((2, 64, 64, 5), "float32"),
    ...                      "ebv": np.zeros((2, 1), "float32")}, verbose=0)
    >>> pdf.shape
    (2, 180)
    """

    def trunk(image):
        x = layers.Conv2D(64, 5, padding="same", name="conv0", **initializers())(image)
        x = layers.PReLU(shared_axes=[1, 2], name="conv0_prelu")(x)
        x = layers.AveragePooling2D(2, strides=2, padding="same", name="conv0_pool")(x)
        x = InceptionCell(filters=64, reduce_filters=48, name="i0")(x)
        x = InceptionCell(filters=92, reduce_filters=64, name="i1")(x)
        x = layers.AveragePooling2D(2, strides=2, padding="same", name="i1_pool")(x)
        x = InceptionCell(filters=128, reduce_filters=92, name="i2")(x)
        x = InceptionCell(filters=128, reduce_filters=92, name="i3")(x)
        x = layers.AveragePooling2D(2, strides=2, padding="same", name="i3_pool")(x)
        return InceptionCell(filters=128, reduce_filters=92, with_5x5=False, name="i4")(x)

    return photoz_network(trunk, image_shape, num_bins, with_ebv,
                          hidden=(("fc0", 1096), ("latent", 1096)), name=name)
