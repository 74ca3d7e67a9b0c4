"""The export workflow: a trained .keras file to ONNX or a SavedModel, with its metadata."""

from pathlib import Path

from astrokeras.errors import InvalidArgumentError

#: The export formats: name -> the exporter in `astrokeras.export`.
FORMATS = {"onnx": "to_onnx", "saved_model": "to_saved_model"}


def export_model(model_path, out, *, format="onnx", outputs=("probabilities", "latent"),
                 opset=None, dataset=None, domain=None, class_names=None, bands=None,
                 redshift_range=None, recipe=None, run=None, tolerance=1e-4,
                 include_preprocessing=False, guard=True):
    """Loads a trained model, builds its metadata and exports it with a parity check.

    When the export knows its training data (`dataset`, or the dataset named by the run's
    run.json), the metadata also carries a serving guard (`metadata["serving_guard"]`, see
    `astrokeras.export.serving_guard`): the fraction of the labelled source domain's
    training pixels outside the clip range, and the mean, scale and threshold of a latent
    out-of-distribution score, against which `astrokeras predict` checks its inputs. Without
    known training data it is None.

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
        guard: store the serving guard when the training data is known.

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
    metadata["serving_guard"] = _serving_guard(model, metadata, dataset, run, outputs) \
        if guard else None
    options = {"opset": opset} if format == "onnx" else {}
    exporter = getattr(export_lib, FORMATS[format])
    return exporter(model, out, outputs=tuple(outputs), metadata=metadata, tolerance=tolerance,
                    include_preprocessing=include_preprocessing, **options)


def _serving_guard(model, metadata, dataset, run, outputs):
    """The serving guard of an export from its training data, or None when that is unknown.

    The data: `dataset`, else the run's dataset directory. The source domain and the stretch
    its images got in training: the run's (run.json), else the dataset's one preprocessing
    and the domain it was fitted on. The clip range checked is the one served.
    """
    from astrokeras.export import metadata as metadata_lib, serving_guard

    if not metadata.get("preprocessing"):
        return None
    source = stretch = directory = adapted_to = None
    if run is not None:
        info = metadata_lib.read_run(run)
        data = (info.get("recipe") or {}).get("data") or {}
        source = data.get("source")
        adapted_to = _adapted_to((info.get("recipe") or {}), data)
        stretch = (info.get("preprocessing") or {}).get("source")
        directory = (info.get("dataset") or {}).get("directory") or data.get("directory")
    directory = dataset if dataset is not None else directory
    if directory is None or not (Path(directory) / "manifest.json").is_file():
        return None
    from astrokeras.data import load_manifest

    domains = load_manifest(str(directory))["domains"]
    if source not in domains:
        source, stretch = None, None
    if adapted_to not in domains:
        adapted_to = None
    return serving_guard.fit_serving_guard(
        model, directory, domain=source, preprocessing=stretch,
        clip=metadata["preprocessing"], latent=serving_guard.LATENT_LAYER in outputs,
        adapted_to=adapted_to)


def _adapted_to(recipe, data):
    """The target domain a run adapted to with its unlabelled images, or None.

    A method adapts when its `METHODS` entry trains on source + target pairs (`paired`) or
    reads the target's images itself (`uses_target_images`: AdaBN, normalisation-based
    adaptation).
    """
    from astrokeras.errors import ConfigError
    from astrokeras.experiments.methods import find_method

    name = (recipe.get("method") or {}).get("name")
    if not name or not data.get("target"):
        return None
    try:
        entry = find_method(name)[0]
    except ConfigError:
        return None
    adapts = entry.metadata.get("paired") or entry.metadata.get("uses_target_images")
    return data["target"] if adapts else None
