"""`ClipArcsinhStretch`: the dataset's clip + arcsinh stretch as a Keras layer.

The tf.data pipelines apply it to every image, and an export that includes its
preprocessing puts it in front of the model, so raw images (electrons per second) go in.
Its formula is `clip_arcsinh` of `astrokeras.data.preprocessing`, the one the NumPy path
(`ClipArcsinh`, the ONNX Runtime predictor) runs too.

Unlike the rest of `astrokeras.data`, this module imports Keras, so `astrokeras.data` does not
import it: `from astrokeras.data.clip_arcsinh_stretch import ClipArcsinhStretch`. Nor does
`astrokeras.layers` re-export it, which would make every model import pull in the simulators
(GalSim); `astrokeras.load_model` registers it.
"""

import keras
from keras import ops

from astrokeras.data.preprocessing import DEFAULT_C, ClipArcsinh, clip_arcsinh
from astrokeras.errors import InvalidArgumentError


@keras.saving.register_keras_serializable(package="astrokeras")
class ClipArcsinhStretch(keras.layers.Layer):
    """Clips each band to its limits and maps it into [0, 1] with an arcsinh stretch.

    `y = arcsinh(x' / c) / arcsinh(1 / c)` with `x' = (clip(x, low, high) - low) /
    (high - low)` per band (Ciprijanovic et al. 2022, section 2: clip to the 0.1 and 99.9
    percentiles, then arcsinh; the limits come from the whole labelled source dataset, see
    `fit_clip_arcsinh`). The layer has no weights; it computes in float32 unless given
    another `dtype`, so a mixed-precision policy does not round the stretch.

    Args:
        low: lower clip limit per band (a sequence of floats).
        high: upper clip limit per band, each above its `low`.
        c: arcsinh softening, a finite number > 0 (0.85 in the papers).
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        inputs: images `(..., bands)`, the last axis holding `len(low)` bands.

    Example:

    >>> import numpy as np
    >>> stretch = ClipArcsinhStretch(low=[0.0], high=[10.0])
    >>> images = np.array([[[[-1.0]], [[5.0]], [[10.0]]]], "float32")   # (1, 3, 1, 1)
    >>> [round(float(v), 4) for v in np.ravel(stretch(images))]
    [0.0, 0.5583, 1.0]
    """

    def __init__(self, low, high, c=DEFAULT_C, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        checked = ClipArcsinh(low=low, high=high, c=c)
        self.low = list(checked.low)
        self.high = list(checked.high)
        self.c = checked.c

    @classmethod
    def from_preprocessing(cls, preprocessing, **kwargs):
        """The layer of a `ClipArcsinh` or of its config dict (a manifest's or an export's).

        Args:
            preprocessing: a `ClipArcsinh`, or a dict from `ClipArcsinh.get_config()`.
            **kwargs: base layer arguments (`name`, `dtype`).

        Returns:
            A `ClipArcsinhStretch`.
        """
        if not isinstance(preprocessing, ClipArcsinh):
            preprocessing = ClipArcsinh.from_config(preprocessing)
        return cls(low=preprocessing.low, high=preprocessing.high, c=preprocessing.c, **kwargs)

    def build(self, input_shape):
        bands = input_shape[-1]
        if bands is not None and bands != len(self.low):
            raise InvalidArgumentError(
                f"The stretch has limits for {len(self.low)} bands; its input has {bands}.",
                tuple(input_shape), f"(..., {len(self.low)})")

    def call(self, inputs):
        low = ops.convert_to_tensor(self.low, dtype=self.compute_dtype)
        high = ops.convert_to_tensor(self.high, dtype=self.compute_dtype)
        return clip_arcsinh(inputs, low, high, self.c, xp=ops)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"low": list(self.low), "high": list(self.high), "c": self.c})
        return config
