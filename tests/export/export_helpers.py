"""Small models and data shared by the export tests."""

import keras
import numpy as np

from astrokeras import models

# Small image shapes (the smallest each factory allows, or near it) keep conversion fast.
ARCHITECTURES = {
    "convnet": lambda: models.convnet((16, 16, 3)),
    "deepmerge": lambda: models.deepmerge((16, 16, 3)),
    "resnet18": lambda: models.resnet18((32, 32, 3)),
    "inception_photoz": lambda: models.inception_photoz((16, 16, 5), num_bins=24),
    "simple_photoz_cnn": lambda: models.simple_photoz_cnn((16, 16, 5), num_bins=24),
}


def with_random_statistics(model, seed=0):
    """Give batch-norm layers non-trivial moving statistics, so that exporting the training
    graph instead of the inference graph would change the outputs, and PReLU layers
    non-zero slopes (they start at 0), so that a wrong PRelu rewrite would too."""
    rng = np.random.default_rng(seed)
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.PReLU):
            layer.alpha.assign(rng.uniform(-0.5, 0.5, tuple(layer.alpha.shape))
                               .astype("float32"))
        if isinstance(layer, keras.layers.BatchNormalization):
            shape = tuple(layer.moving_mean.shape)
            layer.moving_mean.assign(rng.normal(0.0, 0.5, shape).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, shape).astype("float32"))
            layer.gamma.assign(rng.uniform(0.5, 1.5, shape).astype("float32"))
            layer.beta.assign(rng.normal(0.0, 0.2, shape).astype("float32"))
    return model


def random_inputs(model, n, seed=1):
    """A list of float32 arrays, one per model input, batch `n` (E(B-V) in [0, 0.1])."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.0, 0.1 if t.name == "ebv" else 1.0, (n,) + tuple(t.shape[1:]))
            .astype("float32") for t in model.inputs]


CLASSES = ("spiral", "elliptical", "merger")
BANDS = ("g", "r", "i")
STRETCH = {"method": "clip_arcsinh", "low": [0.0, 0.0, 0.0], "high": [50.0, 60.0, 70.0],
           "c": 0.85}


def export_classifier(path):
    """A ConvNet on 16x16 gri images exported to ONNX with class names, bands and a stretch."""
    from astrokeras.export import model_metadata, to_onnx

    model = with_random_statistics(models.convnet((16, 16, 3)))
    meta = model_metadata(model, class_names=CLASSES, bands=BANDS, preprocessing=STRETCH)
    to_onnx(model, path, metadata=meta)
    return model


def export_photoz(path, num_bins=12):
    """A simple photo-z CNN on 16x16 ugriz images (with E(B-V)) exported to ONNX."""
    from astrokeras.export import model_metadata, to_onnx

    model = models.simple_photoz_cnn((16, 16, 5), num_bins=num_bins)
    to_onnx(model, path, metadata=model_metadata(model, bands="u,g,r,i,z"))
    return model
