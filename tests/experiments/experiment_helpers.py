"""A tiny saved classifier shared by the workflow tests."""

import keras
import numpy as np


def saved_classifier(folder, n):
    """Saves a 3-class classifier on 6x6x2 images to `folder`/model.keras and `n` images it
    classifies to `folder`/data.npz (x, and its own decisions as y); returns (model, x, y)."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 2), name="image")
    latent = keras.layers.Dense(4, activation="tanh", name="latent")(
        keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(latent))
    x = np.random.default_rng(0).uniform(size=(n, 6, 6, 2)).astype(np.float32)
    y = np.argmax(model.predict(x, verbose=0), axis=1)
    model.save(folder / "model.keras")
    np.savez(folder / "data.npz", x=x, y=y)
    return model, x, y
