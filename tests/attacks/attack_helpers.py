"""Small hand-built Keras models shared by the attack tests."""

import keras
import numpy as np


def linear_classifier(w, activation="softmax"):
    """Two classes: logits (0, w . x) on a flattened image; the gradient is along +-w."""
    size = w.size
    model = keras.Sequential([keras.Input((*w.shape,)), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation=activation)])
    kernel = np.zeros((size, 2), np.float32)
    kernel[:, 1] = w.reshape(-1)
    model.layers[-1].set_weights([kernel, np.zeros(2, np.float32)])
    return model


def small_convnet(shape=(8, 8, 2), classes=3, seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape), keras.layers.Conv2D(4, 3, activation="tanh"),
                             keras.layers.Flatten(), keras.layers.Dense(classes, activation="softmax")])


def photoz_model(shape=(8, 8, 5), bins=180, seed=0):
    """A tiny stand-in for inception_photoz: inputs "image" and "ebv", 180-bin softmax."""
    keras.utils.set_random_seed(seed)
    image = keras.Input(shape, name="image")
    ebv = keras.Input((1,), name="ebv")
    h = keras.layers.Conv2D(4, 3, activation="relu")(image)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Concatenate()([h, ebv])
    out = keras.layers.Dense(bins, activation="softmax")(h)
    return keras.Model({"image": image, "ebv": ebv}, out)


def crossentropy(model, x, y):
    """Mean categorical cross-entropy of `model` on `x` against integer classes `y`."""
    p = keras.ops.convert_to_numpy(model(x, training=False))
    return float(np.mean(-np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1.0))))


class CallCounter(keras.layers.Layer):
    """Counts the model calls and the largest batch seen, also inside compiled graphs."""

    def build(self, input_shape):
        self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                     dtype="int32", name="calls")
        self.largest = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                       dtype="int32", name="largest")

    def call(self, inputs):
        self.calls.assign_add(1)
        batch = keras.ops.cast(keras.ops.shape(inputs)[0], "int32")
        self.largest.assign(keras.ops.maximum(self.largest, batch))
        return inputs
