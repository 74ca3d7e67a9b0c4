"""A Keras callback that logs label-free selection scores at every epoch end."""

import keras

from astrokeras.errors import InvalidArgumentError, check_positive_int
from astrokeras.models.split import LATENT_LAYER
from astrokeras.selection.score_model import (as_scores, check_requirements, feature_model,
                                              score_features)
from astrokeras.selection.selection_data import DEFAULT_MAX_SAMPLES, SelectionData


class SelectionCallback(keras.callbacks.Callback):
    """Writes label-free selection scores into the epoch logs as `val_<score>`.

    At every epoch end the model's classifier predicts on unlabelled target validation images
    (and labelled source validation images, for the scores that need them), and each score is
    written into the epoch's logs: `ModelCheckpoint`, `EarlyStopping`, `CSVLogger`,
    `TensorBoard`, the progress bar and the `History` then see `val_dev`, `val_snd`, ... like
    any validation metric. Monitor a score with its own direction, `score.mode` ("min" when
    lower is better, "max" when higher is better):
    `EarlyStopping(monitor=score.monitor, mode=score.mode)`.

    Order matters: Keras calls callbacks in list order with one shared logs dict, so this
    callback must come before every callback that reads its scores (`ModelCheckpoint`,
    `EarlyStopping`, `CSVLogger`, `TensorBoard`). Keras' own progress bar and `History` are
    appended after the user's callbacks and always see the scores. `selection_first(callbacks)`
    reorders a list so that selection callbacks come first.

    Target labels never reach the scores: the target is images only (`SelectionData` refuses
    `(images, labels)` with `InvalidArgumentError`).

    Args:
        scores: a `Score` or a sequence of them (e.g. `DeepEmbeddedValidation()`).
        target_images: unlabelled target validation images, or a prepared `SelectionData`
            (then `source` must be left out, and `max_samples` and `seed` are its own); see
            `SelectionData`.
        source: source validation images, or `(images, labels)` (needed by deep embedded
            validation), or None when only target-only scores are used.
        latent: the name of the classifier's latent layer.
        batch_size: images per prediction batch.
        max_samples: largest number of images kept per domain (None: all).
        seed: seed of the kept subset.

    Example:

    >>> import numpy as np
    >>> from astrokeras.models import convnet
    >>> from astrokeras.selection import InformationMaximization
    >>> rng = np.random.default_rng(0)
    >>> model = convnet(input_shape=(16, 16, 3), num_classes=2, latent_dim=8)
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    >>> score = InformationMaximization()
    >>> callbacks = [SelectionCallback(score, rng.normal(size=(16, 16, 16, 3))),
    ...              keras.callbacks.EarlyStopping(monitor=score.monitor, mode=score.mode)]
    >>> history = model.fit(rng.normal(size=(16, 16, 16, 3)), np.arange(16) % 2, epochs=2,
    ...                     callbacks=callbacks, verbose=0)
    >>> len(history.history["val_info_max"])
    2
    """

    def __init__(self, scores, target_images, source=None, *, latent=LATENT_LAYER,
                 batch_size=256, max_samples=DEFAULT_MAX_SAMPLES, seed=0):
        super().__init__()
        self.scores = as_scores(scores)
        if isinstance(target_images, SelectionData):
            if source is not None:
                raise InvalidArgumentError("`source` must be left out when `target_images` is "
                                           "a SelectionData (it holds the source).",
                                           type(source).__name__, "None")
            self.data = target_images
        else:
            self.data = SelectionData(target_images, source, max_samples=max_samples, seed=seed)
        check_requirements(self.scores, self.data)
        self.latent = latent
        self.batch_size = check_positive_int("batch_size", batch_size)
        #: The scores of the last epoch, `{name: value}`.
        self.last_scores = {}
        self._features = None

    def set_model(self, model):
        super().set_model(model)
        self._features = None

    def on_train_begin(self, logs=None):
        # Build the prediction model now: a missing latent layer stops `fit` before training.
        self._features = None
        self._feature_model()

    def _feature_model(self):
        if self._features is None:
            self._features = feature_model(self.model, self.latent,
                                           any(score.needs_latent for score in self.scores))
        return self._features

    def compute(self):
        """The scores of the model as it is now, `{name: value}`."""
        return score_features(self._feature_model(), self.scores, self.data, self.batch_size)

    def on_epoch_end(self, epoch, logs=None):
        self.last_scores = self.compute()
        if logs is not None:
            logs.update({f"val_{name}": value for name, value in self.last_scores.items()})


def selection_first(callbacks):
    """`callbacks` with every `SelectionCallback` moved to the front, otherwise in order.

    Keras calls callbacks in list order with one shared logs dict: a checkpoint or early
    stopping listed before the selection callback would not see its `val_<score>`.

    Args:
        callbacks: a sequence of Keras callbacks.

    Returns:
        A new list.

    Example:

    >>> import numpy as np
    >>> from astrokeras.selection import PredictionEntropy
    >>> stop = keras.callbacks.EarlyStopping(monitor="val_entropy")
    >>> selection = SelectionCallback(PredictionEntropy(), np.zeros((4, 8, 8, 1)))
    >>> selection_first([stop, selection]) == [selection, stop]
    True
    """
    callbacks = list(callbacks)
    return ([c for c in callbacks if isinstance(c, SelectionCallback)]
            + [c for c in callbacks if not isinstance(c, SelectionCallback)])
