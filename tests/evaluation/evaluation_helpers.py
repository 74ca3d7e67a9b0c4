"""Tiny functional classifiers with a "latent" layer, shared by the evaluation tests."""

import keras
import numpy as np


def tiny_classifier(shape=(6, 6, 2), latent_dim=4, classes=3, seed=0, name="tiny"):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape, name="image")
    h = keras.layers.Flatten()(inputs)
    latent = keras.layers.Dense(latent_dim, activation="tanh", name="latent")(h)
    logits = keras.layers.Dense(classes, name="logits")(latent)
    outputs = keras.layers.Softmax(name="probabilities")(logits)
    return keras.Model(inputs, outputs, name=name)


def paired_images(n=12, shape=(6, 6, 2), noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    y10 = rng.uniform(size=(n, *shape)).astype(np.float32)
    y1 = (y10 + noise * rng.normal(size=y10.shape)).astype(np.float32)
    return y10, y1
