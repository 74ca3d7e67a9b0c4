"""Keras -> TensorFlow SavedModel with a named serving signature, metadata and parity."""

import json
import os

from astrokeras.export import _common
from astrokeras.export.export_parity_error import ExportParityError
from astrokeras.export.export_result import ExportResult
from astrokeras.export.metadata import SAVED_MODEL_FILE, complete

SIGNATURE = "serving_default"


def to_saved_model(model, path, outputs=_common.DEFAULT_OUTPUTS, *, metadata=None, sample=None,
                   tolerance=_common.DEFAULT_TOLERANCE):
    """Export a Keras model to a TensorFlow SavedModel folder, checked against the Keras model.

    Written with `keras.export.ExportArchive`: one endpoint "serve", also the
    "serving_default" signature, taking the model inputs by name ("image", and "ebv" for
    the photo-z networks; dynamic batch axis) and returning a dict with one entry per name
    in `outputs`. The metadata (see `model_metadata`) goes beside the graph in
    `assets.extra/astrokeras.json` (TensorFlow Serving ignores that folder). The SavedModel is
    reloaded with `tf.saved_model.load` and compared with the Keras model on a sample batch;
    above `tolerance` the export fails with `ExportParityError` and `path` is left
    untouched. Everything is written to a temporary folder that then replaces `path`.

    Args:
        model: a functional `keras.Model` (every astrokeras architecture), or a
            `DomainAdaptationModel` (its `.classifier` is exported).
        path: the SavedModel folder to write (replaced if it exists).
        outputs: layer names whose outputs the signature returns.
        metadata: a dict from `model_metadata(...)`; default `model_metadata(model)`.
        sample: the parity batch (see `to_onnx`).
        tolerance: the largest allowed max absolute difference (1e-4).

    Returns:
        An `ExportResult`.

    Raises:
        InvalidArgumentError: a bad argument, before any work.
        ExportParityError: the SavedModel differs from the Keras model by more than
            `tolerance`.

    Example:

    >>> import tempfile, os
    >>> from astrokeras.models import convnet
    >>> path = os.path.join(tempfile.mkdtemp(), "convnet")
    >>> to_saved_model(convnet((16, 16, 3)), path).format
    'saved_model'
    """
    import keras
    import tensorflow as tf

    path = _common.check_path("path", path)
    tolerance = _common.check_tolerance(tolerance)
    model = _common.unwrap(model)
    outputs = _common.check_outputs(model, outputs)
    specs = _common.input_specs(model)
    arrays = _common.sample_batch(specs, sample)
    graph = _common.export_graph(model, outputs)
    tensors = {name: model.get_layer(name).output for name in outputs}
    meta = complete(metadata, model, tensors, specs, "saved_model")

    def serve(inputs):
        return graph(list(inputs), training=False)

    with _common.atomic_directory(path) as temporary:
        archive = keras.export.ExportArchive()
        archive.track(graph)
        archive.add_endpoint("serve", serve, input_signature=[_common.tf_specs(specs)])
        archive.write_out(temporary, verbose=False)
        signature = tf.saved_model.load(temporary).signatures[SIGNATURE]
        got = signature(**{name: tf.constant(a) for (name, _), a in zip(specs, arrays)})
        differences = _common.max_differences(_common.keras_reference(graph, arrays),
                                              {k: v.numpy() for k, v in got.items()})
        if max(differences.values()) > tolerance:
            raise ExportParityError(
                f"The SavedModel differs from the Keras model {model.name!r} by more than the "
                f"tolerance on a batch of {len(arrays[0])}; nothing was written to {path}.",
                differences, f"max |difference| <= {tolerance:g}")
        meta["signature"] = SIGNATURE
        meta["parity"] = {"max_abs_diff": differences, "tolerance": tolerance,
                          "batch_size": len(arrays[0]), "runtime": "tf.saved_model.load"}
        sidecar = os.path.join(temporary, SAVED_MODEL_FILE)
        os.makedirs(os.path.dirname(sidecar), exist_ok=True)
        _common.write_text_atomic(sidecar, json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return ExportResult(path=path, format="saved_model", max_abs_diff=differences,
                        tolerance=tolerance, metadata=meta)
