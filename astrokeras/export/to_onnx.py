"""Keras -> ONNX with the outputs named, a dynamic batch axis, metadata and a parity check."""

import json

from astrokeras.errors import InvalidArgumentError
from astrokeras.export import _common
from astrokeras.export.export_parity_error import ExportParityError
from astrokeras.export.export_result import ExportResult
from astrokeras.export.metadata import ONNX_KEY
from astrokeras.export.onnx_graph import fuse_prelu
from astrokeras.files import atomic_path

MIN_OPSET = 13
BATCH_AXIS = "batch"


def to_onnx(model, path, opset=None, outputs=_common.DEFAULT_OUTPUTS, *, metadata=None,
            sample=None, tolerance=_common.DEFAULT_TOLERANCE, include_preprocessing=False):
    """Export a Keras model to an ONNX file, checked against the Keras model.

    The model's inference graph (`training=False`: batch norm uses its moving statistics,
    dropout is off) is converted by tf2onnx (`tf2onnx.convert.from_function`, the converter
    Keras' own `model.export(format="onnx")` calls on the TensorFlow backend; calling it
    directly lets astrokeras name and order the outputs, choose the opset and convert a model
    that was never called) with one ONNX
    input per model input ("image", and "ebv" for the photo-z networks) and one ONNX output
    per name in `outputs`, in that order; every input and output has a dynamic first axis
    named "batch". The metadata (see `model_metadata`) is embedded in `metadata_props` under
    the key "astrokeras". Before anything is written the exported graph and the Keras model
    run on a sample batch in ONNX Runtime and Keras; if any output differs by more than
    `tolerance` the export fails with `ExportParityError` and `path` is left untouched.
    The file is written under a temporary name and renamed.

    Args:
        model: a functional `keras.Model` with named layers (every astrokeras architecture),
            or a training model wrapping one (its classifier is exported, see
            `astrokeras.models.unwrap_classifier`).
        path: the .onnx file to write (its folder is created).
        opset: ONNX opset (>= 13); default tf2onnx's preferred opset (15 for tf2onnx 1.17).
        outputs: layer names whose outputs the ONNX model returns, in order.
        metadata: a dict from `model_metadata(...)` (class names, bands, preprocessing,
            recipe), optionally with a `"serving_guard"` from
            `astrokeras.export.serving_guard.fit_serving_guard`; default
            `model_metadata(model)`.
        sample: the parity batch: an array (one input), a list or a dict keyed by input
            name; default 8 seeded random images in [0, 1] (and E(B-V) in [0, 0.1]), or
            raw values around the clip limits with `include_preprocessing`.
        tolerance: the largest allowed max absolute difference (1e-4).
        include_preprocessing: put the metadata's clip + arcsinh stretch (a
            `ClipArcsinhStretch` layer) in front of the image input, so the ONNX model takes
            raw images (electrons per second); the metadata then says
            `"preprocessing_in_graph": true` and `OnnxPredictor` does not stretch again.

    Returns:
        An `ExportResult` with the path, the max absolute difference per output and the
        metadata written.

    Raises:
        InvalidArgumentError: a bad argument, before any conversion.
        ExportParityError: the ONNX model differs from the Keras model by more than
            `tolerance`.

    Example:

    >>> import tempfile, os
    >>> from astrokeras.models import convnet
    >>> result = to_onnx(convnet((16, 16, 3)), os.path.join(tempfile.mkdtemp(), "m.onnx"))
    >>> result.max_difference < 1e-4
    True
    """
    if opset is not None and (isinstance(opset, bool) or not isinstance(opset, int)
                              or not MIN_OPSET <= opset <= _max_opset()):
        raise InvalidArgumentError("`opset` is not supported.", opset,
                                   f"None or an int in [{MIN_OPSET}, {_max_opset()}]")
    job = _common.prepare(model, path, outputs, metadata, sample, tolerance, "onnx",
                          include_preprocessing)
    proto = convert(job.graph, job.specs, job.outputs, opset)
    differences = _common.max_differences(_common.keras_reference(job.graph, job.arrays),
                                          _run(proto.SerializeToString(), job.specs, job.arrays))
    if max(differences.values()) > job.tolerance:
        raise ExportParityError(
            f"The ONNX model differs from the Keras model {job.model.name!r} by more than the "
            f"tolerance on a batch of {len(job.arrays[0])}; nothing was written to {job.path}.",
            differences, f"max |difference| <= {job.tolerance:g}")
    meta = job.metadata
    meta["opset"] = _opset_of(proto)
    meta["parity"] = {"max_abs_diff": differences, "tolerance": job.tolerance,
                      "batch_size": len(job.arrays[0]), "runtime": "onnxruntime CPU"}
    import onnx

    from astrokeras import __version__

    proto.producer_name = "astrokeras"
    proto.producer_version = __version__
    proto.doc_string = f"{job.model.name} exported by astrokeras {__version__}"
    del proto.metadata_props[:]
    entry = proto.metadata_props.add()
    entry.key, entry.value = ONNX_KEY, json.dumps(meta, sort_keys=True)
    with atomic_path(job.path) as temporary:
        onnx.save(proto, temporary)
    return ExportResult(path=job.path, format="onnx", max_abs_diff=differences,
                        tolerance=job.tolerance, metadata=meta)


def convert(graph, specs, outputs, opset=None):
    """tf2onnx conversion of an export graph; returns the ONNX ModelProto (nothing written).

    Outputs are put in the order of `outputs`, the first axis of every input and output is
    named "batch", and PReLU subgraphs become PRelu nodes (`onnx_graph.fuse_prelu`).
    """
    import tensorflow as tf
    import tf2onnx

    signature = _common.tf_specs(specs)
    @tf.function(input_signature=signature)
    def serve(*inputs):
        return graph(list(inputs), training=False)

    proto, _ = tf2onnx.convert.from_function(serve, input_signature=signature, opset=opset)
    _order_outputs(proto, outputs)
    fuse_prelu(proto)
    for value in list(proto.graph.input) + list(proto.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].ClearField("dim_value")
            dims[0].dim_param = BATCH_AXIS
    return proto


def _order_outputs(proto, outputs):
    by_name = {value.name: value for value in proto.graph.output}
    missing = [name for name in outputs if name not in by_name]
    if missing:  # pragma: no cover - tf2onnx names outputs after the dict keys
        raise RuntimeError(f"tf2onnx did not name the outputs {missing}; got {sorted(by_name)}")
    ordered = [type(by_name[name])() for name in outputs]
    for copy, name in zip(ordered, outputs):
        copy.CopyFrom(by_name[name])
    del proto.graph.output[:]
    proto.graph.output.extend(ordered)


def _run(model_bytes, specs, arrays):
    import onnxruntime as ort

    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    feeds = {name: array for (name, _), array in zip(specs, arrays)}
    return dict(zip(names, session.run(names, feeds)))


def _opset_of(proto):
    return max((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")),
               default=None)


def _max_opset():
    import tf2onnx

    return max(tf2onnx.constants.OPSET_TO_IR_VERSION)
