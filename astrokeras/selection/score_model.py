"""Scores of one model on the selection data."""

import keras
import numpy as np

from astrokeras.errors import InvalidArgumentError, check_positive_int
from astrokeras.models.split import LATENT_LAYER, latent_output, unwrap_classifier
from astrokeras.selection.model_outputs import ModelOutputs
from astrokeras.selection.score import Score
from astrokeras.selection.selection_data import SelectionData


def score_model(model, scores, data, *, latent=LATENT_LAYER, batch_size=256):
    """Computes label-free selection scores of a trained model.

    Predicts once on the selection data (the latent points only when a score reads them,
    the source images only when a score compares domains) and hands the predictions to every
    score. Use it to rank finished models; `SelectionCallback` calls it at each epoch end.

    Args:
        model: a classifier (a functional `keras.Model` with a softmax output and, for the
            latent-space scores, a layer named `latent`) or a training model wrapping one
            (`DomainAdaptationModel`, `AdversarialTrainingModel`).
        scores: a `Score` or a sequence of them, with distinct names.
        data: a `SelectionData` (unlabelled target, optionally labelled source images).
        latent: the name of the latent layer.
        batch_size: images per prediction batch.

    Returns:
        `{score.name: value}` in the order of `scores`.

    Example:

    >>> from astrokeras.models import convnet
    >>> from astrokeras.selection import PredictionEntropy, SelectionData
    >>> images = np.random.default_rng(0).normal(size=(8, 16, 16, 3))
    >>> model = convnet(input_shape=(16, 16, 3), num_classes=2, latent_dim=8)
    >>> list(score_model(model, PredictionEntropy(), SelectionData(images)))
    ['entropy']
    """
    scores = as_scores(scores)
    check_requirements(scores, data)
    features = feature_model(model, latent, any(score.needs_latent for score in scores))
    return score_features(features, scores, data, batch_size)


def score_features(features, scores, data, batch_size=256):
    """`{score.name: value}` of a `feature_model`'s predictions on `data`."""
    outputs = predict_outputs(features, data, any(score.needs_source for score in scores),
                              batch_size)
    return {score.name: score(outputs) for score in scores}


def as_scores(scores):
    """`scores` (one `Score` or a sequence) as a tuple of scores with distinct names."""
    scores = (scores,) if isinstance(scores, Score) else tuple(scores)
    for score in scores:
        if not isinstance(score, Score):
            raise InvalidArgumentError("`scores` must hold astrokeras.selection.Score objects.",
                                       type(score).__name__, "Score instances, e.g. "
                                       "DeepEmbeddedValidation()")
    names = [score.name for score in scores]
    if not scores or len(set(names)) != len(names):
        raise InvalidArgumentError("`scores` must hold at least one score, each name once.",
                                   names, "distinct score names")
    return scores


def check_requirements(scores, data):
    """Refuses, before any work, a score whose inputs `data` does not hold."""
    if not isinstance(data, SelectionData):
        raise InvalidArgumentError("`data` must be a SelectionData.", type(data).__name__,
                                   "SelectionData(target_images, source=...)")
    for score in scores:
        if score.needs_source and data.source_images is None:
            raise InvalidArgumentError(
                f"Score {score.name!r} compares domains and needs source validation images.",
                None, "SelectionData(target_images, source=source_images)")
        if score.needs_source_labels and data.source_labels is None:
            raise InvalidArgumentError(
                f"Score {score.name!r} needs labelled source validation images.",
                "source images without labels",
                "SelectionData(target_images, source=(images, labels))")


def feature_model(model, latent=LATENT_LAYER, with_latent=True):
    """The model's classifier, returning `[latent, probabilities]` when `with_latent`.

    Args:
        model: a classifier or a training model wrapping one.
        latent: the name of the latent layer.
        with_latent: also return the latent points.

    Returns:
        A `keras.Model` sharing the classifier's weights.
    """
    classifier = unwrap_classifier(model)
    if isinstance(classifier.output, (list, tuple, dict)):
        raise InvalidArgumentError("The model must have a single probability output.",
                                   classifier.name, "one (batch, classes) softmax output")
    if not with_latent:
        return classifier
    return keras.Model(classifier.input, [latent_output(classifier, latent), classifier.output],
                       name=f"{classifier.name}_selection_features")


def predict_outputs(features, data, with_source, batch_size=256):
    """`ModelOutputs` of a `feature_model` on `data` (source too when `with_source`)."""
    batch_size = check_positive_int("batch_size", batch_size)
    with_latent = isinstance(features.output, (list, tuple))

    def predict(images):
        # Called eagerly batch by batch: `Model.predict` compiles a new function for every
        # new feature model (each epoch's, each model's), which TensorFlow then reports as
        # excessive retracing.
        count = len(next(iter(images.values())) if isinstance(images, dict) else images)
        parts = []
        for start in range(0, count, batch_size):
            chunk = ({k: v[start:start + batch_size] for k, v in images.items()}
                     if isinstance(images, dict) else images[start:start + batch_size])
            result = features(chunk, training=False)
            result = result if with_latent else [result]
            parts.append([keras.ops.convert_to_numpy(r) for r in result])
        outputs = [np.concatenate(column) for column in zip(*parts)]
        latent, probabilities = outputs if with_latent else (None, outputs[0])
        return probabilities.astype(np.float64), latent

    target_probabilities, target_latent = predict(data.target_images)
    source_probabilities = source_latent = None
    if with_source:
        source_probabilities, source_latent = predict(data.source_images)
    return ModelOutputs(target_probabilities, target_latent, source_probabilities,
                        source_latent, data.source_labels)
