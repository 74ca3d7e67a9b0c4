"""Keras -> TensorFlow SavedModel with a named serving signature, metadata and parity."""

import json
import os

from astrokeras.export import _common
from astrokeras.export.export_parity_error import ExportParityError
from astrokeras.export.export_result import ExportResult
from astrokeras.export.metadata import SAVED_MODEL_FILE
from astrokeras.files import atomic_directory, write_text_atomic

SIGNATURE = "serving_default"


def to_saved_model(model, path, outputs=_common.DEFAULT_OUTPUTS, *, metadata=None, sample=None,
                   tolerance=_common.DEFAULT_TOLERANCE, include_preprocessing=False):
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
        model: a functional `keras.Model` (every astrokeras architecture), or a training
            model wrapping one (its classifier is exported).
        path: the SavedModel folder to write (replaced if it exists).
        outputs: layer names whose outputs the signature returns.
        metadata: a dict from `model_metadata(...)`; default `model_metadata(model)`.
        sample: the parity batch (see `to_onnx`).
        tolerance: the largest allowed max absolute difference (1e-4).
        include_preprocessing: put the metadata's clip + arcsinh stretch in front of the
            image input, so the signature takes raw images (see `to_onnx`).

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

    job = _common.prepare(model, path, outputs, metadata, sample, tolerance, "saved_model",
                          include_preprocessing)

    def serve(inputs):
        return job.graph(list(inputs), training=False)

    with atomic_directory(job.path) as temporary:
        archive = keras.export.ExportArchive()
        archive.track(job.graph)
        archive.add_endpoint("serve", serve, input_signature=[_common.tf_specs(job.specs)])
        archive.write_out(temporary, verbose=False)
        signature = tf.saved_model.load(temporary).signatures[SIGNATURE]
        got = signature(**{name: tf.constant(a) for (name, _), a in zip(job.specs, job.arrays)})
        differences = _common.max_differences(_common.keras_reference(job.graph, job.arrays),
                                              {k: v.numpy() for k, v in got.items()})
        if max(differences.values()) > job.tolerance:
            raise ExportParityError(
                f"The SavedModel differs from the Keras model {job.model.name!r} by more than "
                f"the tolerance on a batch of {len(job.arrays[0])}; nothing was written to "
                f"{job.path}.", differences, f"max |difference| <= {job.tolerance:g}")
        meta = job.metadata
        meta["signature"] = SIGNATURE
        meta["parity"] = {"max_abs_diff": differences, "tolerance": job.tolerance,
                          "batch_size": len(job.arrays[0]), "runtime": "tf.saved_model.load"}
        write_text_atomic(os.path.join(temporary, SAVED_MODEL_FILE),
                          json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return ExportResult(path=job.path, format="saved_model", max_abs_diff=differences,
                        tolerance=job.tolerance, metadata=meta)
