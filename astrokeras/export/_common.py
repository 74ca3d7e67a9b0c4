"""Shared helpers of the exporters: unwrap, the export graph, input specs, sample batches,
atomic files and folders. Keras and TensorFlow are imported inside the functions, so importing
`astrokeras.export` for `OnnxPredictor` alone does not start TensorFlow."""

import contextlib
import os
import shutil
import tempfile

import numpy as np

from astrokeras.errors import InvalidArgumentError

DEFAULT_OUTPUTS = ("probabilities", "latent")
DEFAULT_TOLERANCE = 1e-4
SAMPLE_SIZE = 8


def unwrap(model):
    """The functional classifier inside `model` (a `DomainAdaptationModel`'s `.classifier`)."""
    import keras

    if not isinstance(model, keras.Model):
        raise InvalidArgumentError("`model` must be a keras.Model.", type(model).__name__,
                                   "a functional keras.Model or a DomainAdaptationModel")
    inner = getattr(model, "classifier", None)
    if isinstance(inner, keras.Model):
        return inner
    if not getattr(model, "inputs", None):
        inner = getattr(model, "model", None)
        if isinstance(inner, keras.Model) and getattr(inner, "inputs", None):
            return inner
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


def export_graph(model, outputs):
    """A functional model with the inputs of `model` and a dict of the named layer outputs."""
    import keras

    tensors = {}
    for name in outputs:
        output = model.get_layer(name).output
        if isinstance(output, (list, tuple, dict)):
            raise InvalidArgumentError(f"Layer {name!r} has several outputs; name a layer with "
                                       "one.", name, "a single-output layer")
        tensors[name] = output
    return keras.Model(model.inputs, tensors, name=f"{model.name}_export")


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


def sample_batch(specs, sample=None, seed=0):
    """The parity batch: `sample` checked against the specs, or a seeded random batch.

    Random images are uniform in [0, 1] (the range of the clip + arcsinh stretch), E(B-V)
    uniform in [0, 0.1]. Returns a list of float32 arrays in the order of `specs`.
    """
    if sample is None:
        rng = np.random.default_rng(seed)
        return [(rng.uniform(0.0, 0.1 if name == "ebv" else 1.0, (SAMPLE_SIZE,) + shape)
                 .astype(np.float32)) for name, shape in specs]
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


@contextlib.contextmanager
def atomic_file(path):
    """Yield a temporary path beside `path`; rename it to `path` when the block succeeds."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.",
                                         suffix=".tmp")
    os.close(handle)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_directory(path):
    """Yield a temporary folder beside `path`; swap it in for `path` when the block succeeds.

    An existing folder at `path` is moved aside first and deleted only after the new one is in
    place, so `path` always holds a complete export (the old or the new one).
    """
    path = os.path.abspath(path)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    temporary = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        yield temporary
        os.chmod(temporary, 0o777 & ~_umask())
        old = None
        if os.path.exists(path):
            if not os.path.isdir(path):
                raise InvalidArgumentError("`path` exists and is not a folder.", path,
                                           "a new path or an existing SavedModel folder")
            old = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".old")
            os.replace(path, os.path.join(old, "previous"))
        os.replace(temporary, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if os.path.exists(temporary):
            shutil.rmtree(temporary, ignore_errors=True)


def write_text_atomic(path, text):
    with atomic_file(path) as temporary:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
