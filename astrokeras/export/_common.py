"""Shared steps of the exporters: the checked arguments, the export graph (with the stretch in
front when the export includes it), input specs, the parity batch and its comparison. Keras
and TensorFlow are imported inside the functions, so importing `astrokeras.export` for
`OnnxPredictor` alone does not start TensorFlow."""

import dataclasses
import os

import numpy as np

from astrokeras.errors import InvalidArgumentError

DEFAULT_OUTPUTS = ("probabilities", "latent")
DEFAULT_TOLERANCE = 1e-4
SAMPLE_SIZE = 8
IMAGE_INPUT = "image"


@dataclasses.dataclass(frozen=True)
class Prepared:
    """What both exporters start from, every argument checked (see `prepare`).

    Attributes:
        path: the destination, as a string.
        tolerance: the parity tolerance.
        model: the functional classifier exported.
        outputs: the layer names the export returns, in order.
        specs: `[(input name, shape without batch)]`.
        arrays: the parity batch, one float32 array per input.
        graph: the Keras model that is exported: inputs -> {output name: tensor}.
        metadata: the completed metadata dict.
    """

    path: str
    tolerance: float
    model: object
    outputs: tuple
    specs: list
    arrays: list
    graph: object
    metadata: dict


def prepare(model, path, outputs, metadata, sample, tolerance, fmt, include_preprocessing):
    """Checks an exporter's arguments and builds the export graph and the parity batch.

    Args:
        model: a functional `keras.Model`, or a training model wrapping one.
        path: the file or folder to write.
        outputs: layer names the export returns.
        metadata: a `model_metadata` dict, or None for `model_metadata(model)`.
        sample: the parity batch, or None for a seeded random one.
        tolerance: the largest allowed max absolute difference.
        fmt: "onnx" or "saved_model".
        include_preprocessing: put the metadata's clip + arcsinh stretch in front of the
            image input, so the export takes raw images.

    Returns:
        A `Prepared`.
    """
    from astrokeras.export.metadata import complete

    path = check_path("path", path)
    tolerance = check_tolerance(tolerance)
    if not isinstance(include_preprocessing, (bool, np.bool_)):
        raise InvalidArgumentError("`include_preprocessing` must be a bool.",
                                   include_preprocessing, "True or False")
    model = classifier(model)
    outputs = check_outputs(model, outputs)
    specs = input_specs(model)
    tensors = output_tensors(model, outputs)
    meta = complete(metadata, model, tensors, specs, fmt)
    stretch = None
    if include_preprocessing:
        if not meta.get("preprocessing"):
            raise InvalidArgumentError(
                "`include_preprocessing=True` needs the stretch in the metadata: "
                "model_metadata(model, preprocessing=...) or model_metadata(model, "
                "manifest=...).", None, "metadata with a clip + arcsinh preprocessing")
        stretch = meta["preprocessing"]
    meta["preprocessing_in_graph"] = bool(include_preprocessing)
    arrays = sample_batch(specs, sample, stretch=stretch)
    graph = export_graph(model, tensors, stretch)
    return Prepared(path, tolerance, model, outputs, specs, arrays, graph, meta)


def classifier(model):
    """The functional classifier to export: `model`, or the one a training model wraps."""
    from astrokeras.models import unwrap_classifier

    model = unwrap_classifier(model)
    if not getattr(model, "inputs", None):
        raise InvalidArgumentError(
            "`model` must be a functional model with defined inputs (or wrap one as "
            "`.classifier`).", model.name, "a functional keras.Model")
    return model


def check_outputs(model, outputs):
    """Validate `outputs` (layer names of `model`) and return them as a tuple."""
    if isinstance(outputs, str):
        outputs = (outputs,)
    try:
        outputs = tuple(outputs)
    except TypeError:
        raise InvalidArgumentError("`outputs` must be a sequence of layer names.", outputs,
                                   'e.g. ("probabilities", "latent")') from None
    names = [layer.name for layer in model.layers]
    if not outputs or len(set(outputs)) != len(outputs) or not all(
            isinstance(o, str) for o in outputs):
        raise InvalidArgumentError("`outputs` must be distinct layer names, at least one.",
                                   outputs, 'e.g. ("probabilities", "latent")')
    missing = [o for o in outputs if o not in names]
    if missing:
        raise InvalidArgumentError(
            f"`outputs` names layers that {model.name!r} does not have: {missing}.", outputs,
            "layer names such as 'probabilities', 'latent', 'logits'")
    return outputs


def check_tolerance(tolerance):
    try:
        value = float(tolerance)
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or value < 0 or isinstance(tolerance, bool):
        raise InvalidArgumentError("`tolerance` must be a finite number >= 0.", tolerance,
                                   ">= 0 (default 1e-4)")
    return value


def check_path(name, path):
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise InvalidArgumentError(f"`{name}` must be a file system path.", path,
                                   "a str or pathlib.Path")
    return os.fspath(path)


def output_tensors(model, outputs):
    """{name: output tensor} of the named layers of `model`, each with one output."""
    tensors = {}
    for name in outputs:
        output = model.get_layer(name).output
        if isinstance(output, (list, tuple, dict)):
            raise InvalidArgumentError(f"Layer {name!r} has several outputs; name a layer with "
                                       "one.", name, "a single-output layer")
        tensors[name] = output
    return tensors


def export_graph(model, tensors, stretch=None):
    """The model that is exported: the inputs of `model` -> the dict `tensors` of its outputs.

    With `stretch` (a `ClipArcsinh` config) a `ClipArcsinhStretch` layer named "stretch" sits
    between the image input (the one named "image", else the first) and the model, so the
    export takes raw images; input names and shapes do not change.
    """
    import keras

    graph = keras.Model(model.inputs, tensors, name=f"{model.name}_export")
    if stretch is None:
        return graph
    from astrokeras.data.clip_arcsinh_stretch import ClipArcsinhStretch

    inputs = [keras.Input(shape=tuple(t.shape[1:]), name=t.name, dtype="float32")
              for t in model.inputs]
    index = _image_index([t.name for t in model.inputs])
    fed = list(inputs)
    fed[index] = ClipArcsinhStretch.from_preprocessing(stretch, name="stretch")(inputs[index])
    return keras.Model(inputs, graph(fed), name=f"{model.name}_export")


def _image_index(names):
    return names.index(IMAGE_INPUT) if IMAGE_INPUT in names else 0


def input_specs(model):
    """[(name, shape without batch)] of the model inputs, checked to be static and float."""
    specs = []
    for tensor in model.inputs:
        shape = tuple(tensor.shape[1:])
        if any(d is None for d in shape):
            raise InvalidArgumentError(
                f"Input {tensor.name!r} must have a static shape besides the batch axis.",
                tuple(tensor.shape), "(None, height, width, bands) with fixed sizes")
        if str(tensor.dtype) != "float32":
            raise InvalidArgumentError(f"Input {tensor.name!r} must be float32.",
                                       str(tensor.dtype), "float32")
        specs.append((tensor.name, tuple(int(d) for d in shape)))
    return specs


def tf_specs(specs):
    import tensorflow as tf

    return [tf.TensorSpec((None,) + shape, tf.float32, name=name) for name, shape in specs]


def sample_batch(specs, sample=None, seed=0, stretch=None):
    """The parity batch: `sample` checked against the specs, or a seeded random batch.

    Random images are uniform in [0, 1] (the range of the clip + arcsinh stretch), or, for
    an export with the `stretch` (a `ClipArcsinh` config) in its graph, raw values spanning
    each band's clip limits and 10 % beyond them on either side; E(B-V) is uniform in
    [0, 0.1]. Returns a list of float32 arrays in the order of `specs`.
    """
    if sample is None:
        rng = np.random.default_rng(seed)
        arrays = [(rng.uniform(0.0, 0.1 if name == "ebv" else 1.0, (SAMPLE_SIZE,) + shape)
                   .astype(np.float32)) for name, shape in specs]
        if stretch is not None:
            index = _image_index([name for name, _ in specs])
            low, high = np.asarray(stretch["low"]), np.asarray(stretch["high"])
            arrays[index] = (low + (high - low) * (1.2 * arrays[index] - 0.1)).astype(np.float32)
        return arrays
    if isinstance(sample, dict):
        missing = [name for name, _ in specs if name not in sample]
        if missing:
            raise InvalidArgumentError("`sample` lacks model inputs.", sorted(sample),
                                       [name for name, _ in specs])
        arrays = [sample[name] for name, _ in specs]
    elif isinstance(sample, (list, tuple)):
        arrays = list(sample)
    else:
        arrays = [sample]
    if len(arrays) != len(specs):
        raise InvalidArgumentError("`sample` must hold one array per model input.",
                                   len(arrays), [name for name, _ in specs])
    out = []
    for array, (name, shape) in zip(arrays, specs):
        array = np.asarray(array)
        if name == "ebv" and array.ndim == 1:
            array = array[:, None]
        if array.ndim != len(shape) + 1 or tuple(array.shape[1:]) != shape or not len(array):
            raise InvalidArgumentError(f"`sample` input {name!r} has the wrong shape.",
                                       array.shape, (None,) + shape)
        out.append(array.astype(np.float32))
    if len({len(a) for a in out}) != 1:
        raise InvalidArgumentError("`sample` inputs have different batch sizes.",
                                   [len(a) for a in out], "one batch size")
    return out


def keras_reference(graph, arrays):
    """The Keras outputs of the export graph on `arrays` (inference mode) as numpy."""
    result = graph(list(arrays), training=False)
    return {name: np.asarray(value) for name, value in result.items()}


def max_differences(reference, exported):
    """{output: max |reference - exported|} (inf where a shape differs or a value is NaN)."""
    out = {}
    for name, ref in reference.items():
        got = np.asarray(exported[name])
        if got.shape != ref.shape:
            out[name] = float("inf")
        else:
            diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
            out[name] = float(diff.max()) if np.all(np.isfinite(diff)) else float("inf")
    return out
