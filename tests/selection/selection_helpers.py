"""Tiny data and a tiny classifier with a latent layer for the selection callback tests."""

import keras
import numpy as np


def domains(n=128, seed=0):
    """Source `(x, y)` and target `(x, y)` in 2-D: feature 1 is shifted in the target."""
    rng = np.random.default_rng(seed)

    def domain(shift):
        y = rng.integers(0, 2, n)
        x = np.stack([2.0 * y - 1.0 + rng.normal(0, 0.5, n), rng.normal(shift, 0.2, n)], 1)
        return x.astype("float32"), y.astype("int32")

    return domain(0.0), domain(2.0)


def classifier(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((2,), name="image")
    x = keras.layers.Dense(8, activation="relu")(inputs)
    latent = keras.layers.Dense(4, name="latent")(x)
    outputs = keras.layers.Dense(2, activation="softmax")(latent)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    return model
