"""Splitting a functional model at its latent layer into encoder and head; unwrapping a
training model to the classifier it trains."""

import keras

from astrokeras.errors import InvalidArgumentError

LATENT_LAYER = "latent"


def split_at_latent(model, layer=LATENT_LAYER):
    """Splits a functional model into encoder (input -> latent) and head (latent -> output).

    Both parts share the original model's layers and weights: training either one trains the
    model, and `head(encoder(x))` equals `model(x)`. Domain adaptation uses the encoder for the
    transfer loss; church-window plots classify latent points with the head.

    Args:
        model: a functional `keras.Model` (any astrokeras architecture, or your own).
        layer: name of the layer whose output is the latent space ("latent" by default).

    Returns:
        A tuple `(encoder, head)` of `keras.Model`s. The encoder takes the model's inputs (one
        tensor, or the same list/dict of inputs); the head takes one latent tensor.

    Example:

    >>> from astrokeras.models import convnet
    >>> encoder, head = split_at_latent(convnet(input_shape=(32, 32, 3)))
    >>> encoder.output.shape, head.output.shape
    ((None, 256), (None, 3))
    """
    latent = latent_output(model, layer)
    encoder = keras.Model(model.input, latent, name=f"{model.name}_encoder")
    try:
        head = keras.Model(latent, model.output, name=f"{model.name}_head")
    except ValueError as err:
        raise InvalidArgumentError(
            f"The layers after `{layer}` also use other inputs of the model, so the head cannot "
            f"take the latent tensor alone ({err}).", layer,
            "a layer through which every path from the inputs to the outputs passes",
        ) from None
    return encoder, head


def latent_output(model, layer=LATENT_LAYER):
    """Returns the symbolic output of `model`'s latent layer, with a clear error if absent.

    Args:
        model: a functional `keras.Model`.
        layer: the name of the latent layer.

    Returns:
        The layer's output KerasTensor.
    """
    if not isinstance(model, keras.Model):
        raise InvalidArgumentError("`model` must be a keras.Model.", type(model).__name__,
                                   "a functional keras.Model")
    if not _inputs(model):
        raise InvalidArgumentError(
            "`model` must be a functional (or built Sequential) keras.Model with known inputs.",
            type(model).__name__, "a functional keras.Model",
        )
    names = [candidate.name for candidate in model.layers]
    if layer not in names:
        shown = ", ".join(names[-12:])
        raise InvalidArgumentError(
            f"`model` {model.name!r} has no layer named {layer!r}; name its latent layer.",
            layer, f"one of the model's layers (last ones: {shown})",
        )
    output = model.get_layer(layer).output
    if isinstance(output, (list, tuple, dict)):
        raise InvalidArgumentError(
            f"The latent layer {layer!r} must have a single output.", layer,
            "a layer with one output tensor",
        )
    return output


def unwrap_classifier(model):
    """Returns the plain classifier inside a training model, or `model` itself.

    The training models of `astrokeras.training` wrap a functional classifier: a
    `DomainAdaptationModel` keeps it as `.classifier`, an `AdversarialTrainingModel` (a
    subclassed model without inputs of its own) as `.model`. Evaluation, plots and export
    work on that classifier: its layers (the latent one), inputs and outputs. The test is by
    attribute, so any wrapper that keeps its classifier under one of these names is unwrapped
    and this module needs nothing from `astrokeras.training`.

    Args:
        model: a `keras.Model`: a functional classifier, or a wrapper of one.

    Returns:
        The wrapped `keras.Model`, or `model` when it wraps none.

    Example:

    >>> from astrokeras.models import convnet
    >>> from astrokeras.training import DomainAdaptationModel
    >>> classifier = convnet(input_shape=(32, 32, 3))
    >>> unwrap_classifier(DomainAdaptationModel(classifier)) is classifier
    True
    >>> unwrap_classifier(classifier) is classifier
    True
    """
    if not isinstance(model, keras.Model):
        raise InvalidArgumentError("`model` must be a keras.Model.", type(model).__name__,
                                   "a functional keras.Model, or a training model wrapping one")
    inner = getattr(model, "classifier", None)
    if isinstance(inner, keras.Model):
        return inner
    inner = getattr(model, "model", None)
    if isinstance(inner, keras.Model) and not _inputs(model):
        return inner
    return model


def _inputs(model):
    try:
        return model.inputs
    except (AttributeError, ValueError):
        return None
