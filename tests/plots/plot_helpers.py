"""Checks that a written PNG holds a real picture, and a tiny classifier, for the plot tests."""

import keras
import numpy as np
from matplotlib import image as mpimg


def assert_real_png(path):
    """The file exists, is a non-empty PNG, and its pixels are not all one colour."""
    with open(path, "rb") as file:
        head = file.read(8)
    assert head == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pixels = mpimg.imread(path)
    assert pixels.size > 0
    flat = pixels.reshape(-1, pixels.shape[-1])
    assert len(np.unique(flat, axis=0)) > 10, f"{path} is (nearly) one colour"


def linear_head_model(kernel, bias):
    """Input (2,) -> identity "latent" -> Dense(2) "logits" with the given weights -> softmax."""
    inputs = keras.Input((2,), name="image")
    latent = keras.layers.Dense(2, name="latent")(inputs)
    logits = keras.layers.Dense(2, name="logits")(latent)
    outputs = keras.layers.Softmax(name="probabilities")(logits)
    model = keras.Model(inputs, outputs)
    model.get_layer("latent").set_weights([np.eye(2, dtype="float32"), np.zeros(2, "float32")])
    model.get_layer("logits").set_weights([np.asarray(kernel, "float32"),
                                           np.asarray(bias, "float32")])
    return model


def tiny_image_classifier(shape=(6, 6, 2), classes=3, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape, name="image")
    h = keras.layers.Flatten()(inputs)
    latent = keras.layers.Dense(4, activation="tanh", name="latent")(h)
    logits = keras.layers.Dense(classes, name="logits")(latent)
    return keras.Model(inputs, keras.layers.Softmax(name="probabilities")(logits))
