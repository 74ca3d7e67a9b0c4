"""Predict a set of input files with an `OnnxPredictor` into one CSV, skipping bad files."""

import csv
import dataclasses
import os

import numpy as np

from astrokeras.errors import AstroKerasError, DataError, InvalidArgumentError, \
    check_positive_int
from astrokeras.export import _common, inputs as inputs_lib
from astrokeras.export.serving_guard import GuardReport, ServingGuard
from astrokeras.files import atomic_path

PHOTOZ_COLUMNS = ("z_phot", "z_mode", "z_sigma", "z_p16", "z_p50", "z_p84")


@dataclasses.dataclass(frozen=True)
class PredictionReport:
    """What `predict_files` did.

    Args:
        out: the CSV written.
        rows: objects predicted (rows in the CSV).
        files: input files read completely.
        failed: [(file, reason)] of the inputs skipped, in input order.
        guard: the serving guard's `GuardReport`: per file and in total, the fraction of
            raw pixels outside the training clip range, the fraction of objects above the
            latent out-of-distribution threshold and their mean score, and the warnings
            (see `astrokeras.export.serving_guard`).
    """

    out: str
    rows: int
    files: int
    failed: list
    guard: GuardReport = None

    @property
    def warnings(self):
        """The serving guard's warnings: one per file (or total) and limit exceeded."""
        return [] if self.guard is None else list(self.guard.warnings)


def predict_files(predictor, inputs, out, batch_size=256, preprocess=None, domain=None,
                  progress=None):
    """Predict every object of `inputs` and write one CSV row per object.

    Inputs are FITS cutouts, .npy / .npz arrays, TFRecord shards of an astrokeras dataset or
    folders of them (see `astrokeras.export.inputs`). They are streamed: at most about two
    batches of images are in memory at once, for .npy files (memory mapped), .npz archives
    (compressed or not: read out of the zip member a batch at a time), FITS cutouts and
    TFRecord shards alike. A file that cannot be used (unreadable, corrupt, wrong shape or
    band count, missing E(B-V), non-finite pixels) is skipped and listed in the report with
    the reason; the others are predicted. Damage to a .npz archive (CRC, truncation) is
    found before its first row is read; a problem found part-way through a file (a TFRecord
    shard damaged after some records, non-finite pixels in a later batch) keeps the rows
    predicted before it in the CSV, and the file is still listed as failed. The CSV is written
    under a temporary name and renamed when done.

    Columns: `id`, `source` (file name), then for a classifier `class` (most probable class
    name) and `p_<class>` per class; for a photo-z model `z_phot` (PDF mean), `z_mode`,
    `z_sigma`, `z_p16`, `z_p50`, `z_p84` (see `OnnxPredictor.redshift_summary`). When the
    export carries a serving guard (see `astrokeras.export.serving_guard`), `outside_clip`
    (the fraction of the object's raw pixels outside the training clip range; not with
    `preprocess=False`) and `ood_score` (its latent out-of-distribution score; needs the
    export's "latent" output) follow, and the report gives these numbers per file and in
    total, with a warning for each file (and the total) above the export's limits.

    Args:
        predictor: an `OnnxPredictor`.
        inputs: paths of files or folders.
        out: the CSV file to write.
        batch_size: images per ONNX Runtime call.
        preprocess: apply the export's clip + arcsinh stretch (inputs in electrons per
            second); default True when the export recorded one. False (inputs already
            stretched) is refused for an export that stretches in its graph.
        domain: which domain of TFRecord datasets to read (default the first).
        progress: optional callable `progress(files_done, files_total, rows)`.

    Returns:
        A `PredictionReport`.

    Raises:
        InvalidArgumentError: bad arguments, or a `preprocess` the export cannot honour
            (before any file is read).

    Example:

    >>> import numpy as np, os, tempfile
    >>> from astrokeras.models import convnet
    >>> from astrokeras.export import OnnxPredictor, to_onnx
    >>> folder = tempfile.mkdtemp()
    >>> _ = to_onnx(convnet((16, 16, 3)), os.path.join(folder, "m.onnx"))
    >>> np.save(os.path.join(folder, "cutouts.npy"), np.zeros((3, 16, 16, 3), "float32"))
    >>> report = predict_files(OnnxPredictor(os.path.join(folder, "m.onnx")),
    ...                        [os.path.join(folder, "cutouts.npy")],
    ...                        os.path.join(folder, "predictions.csv"))
    >>> report.rows, report.failed
    (3, [])
    """
    batch_size = check_positive_int("batch_size", batch_size)
    out = _common.check_path("out", out)
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    paths = inputs_lib.expand(list(inputs))
    if not paths:
        raise InvalidArgumentError("`inputs` holds no files.", list(inputs),
                                   "FITS, .npy, .npz or .tfrecord files, or folders of them")
    if preprocess is None:
        preprocess = predictor.preprocessing is not None
    elif preprocess and predictor.preprocessing is None:
        raise InvalidArgumentError("`preprocess=True` but the export recorded no "
                                   "preprocessing.", preprocess, "False or None")
    elif not preprocess and predictor.preprocessing_in_graph:
        raise InvalidArgumentError(
            f"`preprocess=False` but {predictor.path} stretches its inputs in its graph "
            "(exported with include_preprocessing): it takes raw images.", preprocess,
            "True or None")
    header = ["id", "source"]
    if predictor.task == "photoz":
        header += list(PHOTOZ_COLUMNS)
    else:
        header += ["class"] + [f"p_{name}" for name in predictor.class_names]
    guard = ServingGuard(predictor.metadata, predictor.output_names, raw_inputs=preprocess)
    header += guard.columns

    failed, rows, files = [], 0, 0
    with atomic_path(out) as temporary:
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            buffer = _Buffer()

            def flush(limit):
                nonlocal rows
                while buffer.count >= limit and buffer.count:
                    chunk = buffer.take(batch_size)
                    rows += _write_rows(writer, predictor, chunk, batch_size, preprocess, guard)

            for index, path in enumerate(paths):
                try:
                    for chunk in inputs_lib.read(path, predictor.image_shape,
                                                 predictor.needs_ebv, batch_size, domain):
                        feeds = _check_chunk(path, predictor, chunk)
                        chunk.image = feeds[next(iter(feeds))]
                        chunk.ebv = feeds.get("ebv")
                        buffer.add(chunk)
                        flush(batch_size)
                    files += 1
                except (AstroKerasError, OSError) as error:
                    failed.append((path, str(error)))
                if progress is not None:
                    progress(index + 1, len(paths), rows + buffer.count)
            flush(1)
    return PredictionReport(out=out, rows=rows, files=files, failed=failed,
                            guard=guard.report())


def _check_chunk(path, predictor, chunk):
    """The predictor's feeds for `chunk`; a problem is one `DataError` naming the file once.

    The band count is checked here, in the words of a file's images: the predictor's own
    message speaks of its argument `x`, which a user predicting files never wrote.
    """
    shape = tuple(predictor.image_shape)
    if chunk.image.ndim == len(shape) + 1 and chunk.image.shape[-1] != shape[-1]:
        bands = predictor.bands
        expected = f"{len(bands)} bands ({', '.join(bands)})" if bands else \
            f"{shape[-1]} bands"
        raise DataError(f"{path}: the images have {chunk.image.shape[-1]} bands; the model "
                        f"expects {expected}.", tuple(chunk.image.shape),
                        f"(images, {', '.join(map(str, shape))}), channels last")
    try:
        return predictor.check(chunk.image, chunk.ebv)
    except InvalidArgumentError as error:
        raise DataError(f"{path}: {error}") from None


class _Buffer:
    """Objects waiting for a full batch (ids, source paths, images, E(B-V))."""

    def __init__(self):
        self.chunks = []
        self.count = 0

    def add(self, chunk):
        self.chunks.append(chunk)
        self.count += len(chunk.ids)

    def take(self, n):
        parts, taken = [], 0
        while self.chunks and taken < n:
            chunk = self.chunks[0]
            k = min(n - taken, len(chunk.ids))
            parts.append(inputs_lib.Chunk(chunk.source, chunk.ids[:k], chunk.image[:k],
                                          None if chunk.ebv is None else chunk.ebv[:k]))
            if k == len(chunk.ids):
                self.chunks.pop(0)
            else:
                self.chunks[0] = inputs_lib.Chunk(chunk.source, chunk.ids[k:], chunk.image[k:],
                                                  None if chunk.ebv is None else chunk.ebv[k:])
            taken += k
        self.count -= taken
        ids = [i for p in parts for i in p.ids]
        sources = [p.source for p in parts for _ in p.ids]
        image = np.concatenate([p.image for p in parts])
        ebv = None if parts[0].ebv is None else np.concatenate([p.ebv for p in parts])
        return ids, sources, image, ebv


def _write_rows(writer, predictor, chunk, batch_size, preprocess, guard):
    ids, paths, image, ebv = chunk
    outputs = predictor.predict(image, ebv=ebv, batch_size=batch_size, preprocess=preprocess,
                                return_latent=guard.needs_latent)
    probabilities, latent = outputs if guard.needs_latent else (outputs, None)
    checks = guard.observe(paths, image, latent)
    extra = [[f"{value:.6g}" for value in checks[name]] for name in guard.columns]
    sources = [os.path.basename(path) for path in paths]
    if predictor.task == "photoz":
        summary = predictor.redshift_summary(probabilities)
        columns = [[f"{v:.6g}" for v in summary[name]] for name in PHOTOZ_COLUMNS] + extra
        for i, (object_id, source) in enumerate(zip(ids, sources)):
            writer.writerow([object_id, source] + [column[i] for column in columns])
    else:
        names = predictor.class_names
        best = probabilities.argmax(axis=1)
        for i, (object_id, source, k, p) in enumerate(zip(ids, sources, best, probabilities)):
            writer.writerow([object_id, source, names[k]] + [f"{v:.6g}" for v in p]
                            + [column[i] for column in extra])
    return len(ids)
