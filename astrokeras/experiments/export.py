"""The export workflow: a trained .keras file to ONNX or a SavedModel, with its metadata."""

from pathlib import Path

from astrokeras.errors import InvalidArgumentError

#: The export formats: name -> the exporter in `astrokeras.export`.
FORMATS = {"onnx": "to_onnx", "saved_model": "to_saved_model"}


def export_model(model_path, out, *, format="onnx", outputs=("probabilities", "latent"),
                 opset=None, dataset=None, domain=None, class_names=None, bands=None,
                 redshift_range=None, recipe=None, run=None, tolerance=1e-4,
                 include_preprocessing=False):
    """Loads a trained model, builds its metadata and exports it with a parity check.

    Args:
        model_path: the trained model, a `.keras` file (a classifier or a training model
            wrapping one).
        out: the `.onnx` file or SavedModel folder to write (atomically).
        format: "onnx" or "saved_model".
        outputs: layer names the exported model returns, in order.
        opset: ONNX opset (default tf2onnx's preferred one); ONNX only.
        dataset: dataset folder (manifest.json) the model was trained on: its classes, bands
            and stretch go into the metadata.
        domain: the domain of `dataset` whose stretch the model expects (default its first).
        class_names: class names (override the dataset's).
        bands: band names of the image channels (override the dataset's).
        redshift_range: photo-z `(z_min, z_max)` of the output bins.
        recipe: training recipe (TOML) stored in the metadata with its SHA-256.
        run: training run directory (run.json); default `model_path`'s folder when it holds
            one.
        tolerance: largest allowed max |exported - Keras| on the parity batch.
        include_preprocessing: put the clip + arcsinh stretch in the exported graph, so the
            export takes raw flux images.

    Returns:
        The `ExportResult` of the exporter.

    Example:

    >>> import tempfile, pathlib
    >>> from astrokeras import models
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> models.convnet((16, 16, 3), num_classes=2).save(folder / "m.keras")
    >>> result = export_model(folder / "m.keras", folder / "m.onnx", class_names="a,b")
    >>> result.format, sorted(result.max_abs_diff)
    ('onnx', ['latent', 'probabilities'])
    """
    if format not in FORMATS:
        raise InvalidArgumentError("Unknown export format (--format).", format,
                                   ", ".join(FORMATS))
    for what, path, needed in (("--dataset", dataset, "manifest.json"),
                               ("--run", run, "run.json")):
        if path is not None and not (Path(path) / needed).is_file():
            raise FileNotFoundError(f"No {needed} in {what} {path}")
    if not Path(model_path).is_file():
        raise FileNotFoundError(f"No such model file: {model_path}")
    if recipe is not None and not Path(recipe).is_file():
        raise FileNotFoundError(f"No such recipe file: {recipe}")
    if run is None and (Path(model_path).parent / "run.json").is_file():
        run = Path(model_path).parent
    if format != "onnx" and opset is not None:
        raise InvalidArgumentError("--opset applies to --format onnx only.", opset, "no --opset")
    if isinstance(outputs, str):
        outputs = [name.strip() for name in outputs.split(",") if name.strip()]

    from astrokeras import export as export_lib, load_model

    model = load_model(model_path)
    metadata = export_lib.model_metadata(
        model, class_names=class_names, bands=bands, redshift_range=redshift_range,
        recipe=recipe, manifest=None if dataset is None else str(dataset), domain=domain,
        run=None if run is None else str(run))
    options = {"opset": opset} if format == "onnx" else {}
    exporter = getattr(export_lib, FORMATS[format])
    return exporter(model, out, outputs=tuple(outputs), metadata=metadata, tolerance=tolerance,
                    include_preprocessing=include_preprocessing, **options)
