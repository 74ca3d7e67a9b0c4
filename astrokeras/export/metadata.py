"""What an exported model says about itself: classes or redshift bins, inputs, bands, the
preprocessing it expects, the software and recipe that made it, and its parity check.

The metadata is one JSON document. `to_onnx` stores it in the ONNX file's `metadata_props`
under the key `"astrokeras"` (ONNX Runtime: `session.get_modelmeta().custom_metadata_map`);
`to_saved_model` writes it beside the SavedModel as `assets.extra/astrokeras.json`.
`read_metadata` reads either. Schema `astrokeras.export/1`:

    schema, astrokeras_version, created_by, created_utc, software {tensorflow, keras, tf2onnx,
    onnx}, format ("onnx" | "saved_model"), opset (ONNX only), model_name,
    task ("classification" | "photoz"), class_names (classification) or
    redshift_bins {z_min, z_max, num_bins} (photoz), inputs [{name, shape, dtype}],
    outputs [{name, shape}], bands, preprocessing (a `ClipArcsinh` config, or null when the
    model takes already-stretched images), preprocessing_in_graph (true when the exported graph
    applies that stretch itself and so takes raw images; absent in older exports: false),
    dataset (the manifest it came from, if any),
    recipe ({file, sha256, text} or a dict, if any), parity {max_abs_diff {output: value},
    tolerance, batch_size}, serving_guard (what `astrokeras predict` checks its inputs
    against, or null / absent when the export did not know its training data: fitted_on
    {domain, split, images}, outside_clip_reference {fraction, per_band, domain, split,
    images}, latent {layer, score, mean, scale, threshold, quantile, fit_images,
    calibration_images, calibrated_on, preprocessing} or null, warn_above {outside_clip,
    above_latent_threshold, min_objects}; see `astrokeras.export.serving_guard`).
"""

import hashlib
import json
import os

from astrokeras.errors import DataError, InvalidArgumentError

SCHEMA = "astrokeras.export/1"
ONNX_KEY = "astrokeras"
SAVED_MODEL_FILE = os.path.join("assets.extra", "astrokeras.json")
TASKS = ("classification", "photoz")
DEFAULT_REDSHIFT_RANGE = (0.0, 0.4)


def model_metadata(model, *, task=None, class_names=None, bands=None, preprocessing=None,
                   redshift_range=None, recipe=None, manifest=None, domain=None, run=None):
    """Describe a model for export: what its outputs mean and what its inputs must be.

    Everything a pipeline needs to use the exported file without the training code: class
    names (or the redshift bins of a photo-z PDF), the band of each image channel and the clip
    + arcsinh stretch the model was trained on. A dataset manifest (from
    `astrokeras.data.load_manifest`) fills in what is not given: its classes, bands and the
    one preprocessing (the clip + arcsinh limits fitted on the source training split, the same
    for every domain). A training run directory (written by `astrokeras train`) fills in the
    recipe, the dataset and the stretch from its `run.json`: the stretch its target images
    were given (the same transform as the source's, except for normalisation-based
    adaptation), and the target as the domain served. The exporters add the input and
    output shapes, software versions and the parity result.

    Args:
        model: the Keras model to be exported (a `DomainAdaptationModel` gives its classifier).
        task: "classification" or "photoz"; by default "photoz" when the model has an "ebv"
            input or `redshift_range` is given, else "classification".
        class_names: one name per output class (classification); default from `manifest`,
            else "0", "1", ...
        bands: one band name per image channel (e.g. ("g", "r", "i")); default from `manifest`.
        preprocessing: a `ClipArcsinh` or its config dict, the stretch the model expects;
            default the run's stretch of `domain`, else the manifest's one preprocessing
            (the same transform for every domain); None without either, when inputs are
            already stretched.
        redshift_range: (z_min, z_max) of the photo-z output bins; default (0, 0.4) (Pasquet
            et al. 2019) for photo-z models.
        recipe: the training recipe: a path to its TOML file (its text and SHA-256 are
            stored) or a dict.
        manifest: a dataset manifest dict, or a dataset directory holding `manifest.json`.
        domain: the domain the exported model will serve, recorded in the metadata; with a
            run, its stretch is the run's stretch of that domain (default the run's target:
            the one source-fitted transform, or the target's own fit for
            normalisation-based adaptation).
        run: a training run directory holding `run.json` (from `astrokeras train`).

    Returns:
        A JSON-serialisable dict to pass as `metadata=` to `to_onnx` or `to_saved_model`.

    Raises:
        InvalidArgumentError: a value does not fit the model (wrong number of class names or
            bands, unknown task or domain), naming the argument.

    Example:

    >>> from astrokeras.models import convnet
    >>> meta = model_metadata(convnet((32, 32, 3)), class_names=("spiral", "elliptical",
    ...                       "merger"), bands=("g", "r", "i"))
    >>> meta["task"], meta["class_names"][2]
    ('classification', 'merger')
    """
    from astrokeras.export._common import classifier

    model = classifier(model)
    served = None
    if run is not None:
        info = read_run(run)
        recipe = info.get("recipe") if recipe is None else recipe
        if manifest is None:
            manifest = _run_manifest(info)
        domain, served = _run_stretch(info, domain)
    input_names = [tensor.name for tensor in model.inputs]
    image_shape = tuple(model.inputs[0].shape[1:])
    num_outputs = int(model.outputs[0].shape[-1])
    manifest = _manifest(manifest)
    if task is None:
        task = "photoz" if "ebv" in input_names or redshift_range is not None else \
            "classification"
    if task not in TASKS:
        raise InvalidArgumentError("`task` is unknown.", task, list(TASKS))
    meta = {"model_name": model.name, "task": task}

    if task == "classification":
        if redshift_range is not None:
            raise InvalidArgumentError("`redshift_range` applies to photo-z models only.",
                                       redshift_range, "None for task='classification'")
        if class_names is None and manifest is not None and manifest.get("classes"):
            class_names = manifest["classes"]
        if class_names is None:
            class_names = [str(i) for i in range(num_outputs)]
        class_names = [str(c) for c in _sequence("class_names", class_names)]
        if len(class_names) != num_outputs or len(set(class_names)) != num_outputs:
            raise InvalidArgumentError(
                f"`class_names` must hold {num_outputs} distinct names, one per model output.",
                class_names, f"{num_outputs} distinct names")
        meta["class_names"] = class_names
    else:
        if class_names is not None:
            raise InvalidArgumentError("`class_names` applies to classifiers only.",
                                       class_names, "None for task='photoz'")
        z_min, z_max = _redshift_range(redshift_range)
        meta["redshift_bins"] = {"z_min": z_min, "z_max": z_max, "num_bins": num_outputs}

    if bands is None and manifest is not None:
        bands = manifest.get("bands")
    if bands is not None:
        bands = [str(b) for b in _sequence("bands", bands)]
        if len(bands) != image_shape[-1]:
            raise InvalidArgumentError(
                f"`bands` must name the {image_shape[-1]} image channels of the model.", bands,
                f"{image_shape[-1]} band names")
    meta["bands"] = bands

    if manifest is not None and domain is not None and \
            domain not in (manifest.get("domains") or [domain]):
        raise InvalidArgumentError("`domain` is not a domain of the manifest.", domain,
                                   manifest.get("domains"))
    if domain is not None and manifest is None and run is None:
        raise InvalidArgumentError("`domain` needs a `manifest` or a `run`.", domain,
                                   "manifest= or run= given")
    if preprocessing is None:
        preprocessing = served
    if preprocessing is None and manifest is not None:
        preprocessing = manifest["preprocessing"]  # one transform for every domain
    meta["preprocessing"] = _preprocessing(preprocessing, image_shape[-1])
    if manifest is not None:
        meta["dataset"] = {"kind": manifest.get("kind"), "seed": manifest.get("seed"),
                           "n": manifest.get("n"), "domain": domain,
                           "created_by": manifest.get("created_by")}
    meta["recipe"] = _recipe(recipe)
    return meta


def read_run(run):
    """The `run.json` of a training run directory (written by `astrokeras train`)."""
    path = os.path.join(os.fspath(run), "run.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No run.json in the run directory {run}")
    try:
        with open(path, encoding="utf-8") as handle:
            info = json.load(handle)
    except json.JSONDecodeError as error:
        raise DataError(f"{path} is not valid JSON: {error}.", path) from None
    if not isinstance(info, dict):
        raise DataError(f"{path} does not hold a JSON object.", type(info).__name__, "object")
    return info


def _run_manifest(info):
    """The dataset manifest of a run: its directory's manifest.json, else what run.json keeps."""
    dataset = info.get("dataset") or {}
    directory = dataset.get("directory") or (
        (info.get("recipe") or {}).get("data") or {}).get("directory")
    if directory and os.path.isfile(os.path.join(directory, "manifest.json")):
        return _manifest(directory)
    if dataset:
        data = (info.get("recipe") or {}).get("data") or {}
        return {"kind": dataset.get("kind"), "seed": dataset.get("seed"), "n": dataset.get("n"),
                "domains": [d for d in (data.get("source"), data.get("target")) if d],
                "preprocessing": None,
                "created_by": "run.json (dataset directory not found)"}
    return None


def _run_stretch(info, domain):
    """`(domain, stretch)` an export of a run serves: its target by default, as trained.

    run.json's `preprocessing` holds the stretch of each role ({"source", "target"}): the
    same source-fitted transform for both, or the target's own fit for normalisation-based
    adaptation. `domain` (a domain name) picks the role; by default the target's when the
    run has one, since a deployed model predicts on the target.
    """
    data = (info.get("recipe") or {}).get("data") or {}
    stretches = info.get("preprocessing") or {}
    roles = {data.get(role): role for role in ("target", "source") if data.get(role)}
    if domain is None:
        domain = next(iter(roles), None)
    elif roles and domain not in roles:
        raise InvalidArgumentError("`domain` is not a domain of the run.", domain, list(roles))
    return domain, stretches.get(roles.get(domain)) if isinstance(stretches, dict) else None


def read_metadata(path):
    """The astrokeras metadata of an exported model (an .onnx file or a SavedModel folder).

    Args:
        path: the file written by `to_onnx` or the folder written by `to_saved_model`.

    Returns:
        The metadata dict (see the module docstring for its keys).

    Raises:
        FileNotFoundError: `path` does not exist.
        DataError: the file is not an ONNX model or carries no astrokeras metadata.

    Example:

    >>> import tempfile, os
    >>> from astrokeras.models import convnet
    >>> from astrokeras.export import to_onnx
    >>> path = os.path.join(tempfile.mkdtemp(), "convnet.onnx")
    >>> _ = to_onnx(convnet((16, 16, 3)), path)
    >>> read_metadata(path)["inputs"][0]["shape"]
    [None, 16, 16, 3]
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file or folder: {path}")
    if os.path.isdir(path):
        sidecar = os.path.join(path, SAVED_MODEL_FILE)
        if not os.path.isfile(sidecar):
            raise DataError(f"{path} holds no astrokeras metadata ({SAVED_MODEL_FILE}); was "
                            "it written by astrokeras.export.to_saved_model?", path)
        with open(sidecar, encoding="utf-8") as handle:
            text = handle.read()
    else:
        text = onnx_metadata_text(path)
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError(f"The astrokeras metadata of {path} is not valid JSON: {error}.",
                        path) from None
    if not isinstance(meta, dict) or meta.get("schema") != SCHEMA:
        raise DataError(f"The astrokeras metadata of {path} has an unknown schema.",
                        meta.get("schema") if isinstance(meta, dict) else type(meta).__name__,
                        SCHEMA)
    return meta


def onnx_metadata_text(path):
    """The raw metadata JSON stored in an ONNX file (read with onnx, without weights)."""
    import onnx

    try:
        proto = onnx.load(path, load_external_data=False)
    except Exception as error:  # onnx raises DecodeError, OSError, ... for a bad file
        raise DataError(f"Cannot read {path} as an ONNX model: {error}", path) from None
    props = {p.key: p.value for p in proto.metadata_props}
    if ONNX_KEY not in props:
        raise DataError(f"{path} carries no astrokeras metadata (metadata_props key "
                        f"{ONNX_KEY!r}); was it written by astrokeras.export.to_onnx?", path)
    return props[ONNX_KEY]


def bin_centers(redshift_bins):
    """Centres of the photo-z output bins described by `redshift_bins` (metadata dict)."""
    import numpy as np

    z_min, z_max = float(redshift_bins["z_min"]), float(redshift_bins["z_max"])
    n = int(redshift_bins["num_bins"])
    return z_min + (np.arange(n) + 0.5) * (z_max - z_min) / n


def _manifest(manifest):
    if manifest is None or isinstance(manifest, dict):
        return manifest
    if isinstance(manifest, (str, os.PathLike)):
        from astrokeras.data import load_manifest

        return load_manifest(os.fspath(manifest))
    raise InvalidArgumentError("`manifest` must be a manifest dict or a dataset directory.",
                               type(manifest).__name__, "dict | path")


def _sequence(name, value):
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    try:
        return list(value)
    except TypeError:
        raise InvalidArgumentError(f"`{name}` must be a sequence of names.", value,
                                   "a list of str") from None


def _redshift_range(redshift_range):
    if redshift_range is None:
        return DEFAULT_REDSHIFT_RANGE
    try:
        z_min, z_max = (float(z) for z in redshift_range)
    except (TypeError, ValueError):
        raise InvalidArgumentError("`redshift_range` must be a (z_min, z_max) pair.",
                                   redshift_range, "0 <= z_min < z_max") from None
    if not 0 <= z_min < z_max or z_max == float("inf"):
        raise InvalidArgumentError("`redshift_range` must satisfy 0 <= z_min < z_max.",
                                   redshift_range, "finite 0 <= z_min < z_max")
    return z_min, z_max


#: Keys of a stored stretch that say how it was fitted, kept in the metadata beside it.
PROVENANCE = ("percentiles", "fitted_on", "estimated_from")


def _preprocessing(preprocessing, num_bands):
    if preprocessing is None:
        return None
    from astrokeras.data import ClipArcsinh

    try:
        stretch = preprocessing if isinstance(preprocessing, ClipArcsinh) else \
            ClipArcsinh.from_config(dict(preprocessing))
    except (TypeError, ValueError) as error:
        raise InvalidArgumentError(f"`preprocessing` is not a clip + arcsinh stretch: {error}",
                                   preprocessing, "a ClipArcsinh or its get_config() dict") \
            from None
    if len(stretch.low) != num_bands:
        raise InvalidArgumentError(
            f"`preprocessing` has limits for {len(stretch.low)} bands; the model takes "
            f"{num_bands}.", len(stretch.low), num_bands)
    config = stretch.get_config()
    if isinstance(preprocessing, dict):  # where the limits come from, as the dataset says
        config.update({key: preprocessing[key] for key in PROVENANCE if key in preprocessing})
    return config


def _recipe(recipe):
    if recipe is None or isinstance(recipe, dict):
        try:
            json.dumps(recipe)
        except (TypeError, ValueError):
            raise InvalidArgumentError("`recipe` must be JSON-serialisable.", recipe,
                                       "a dict of str, numbers, lists") from None
        return recipe
    if isinstance(recipe, (str, os.PathLike)):
        path = os.fspath(recipe)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No such recipe file: {path}")
        with open(path, "rb") as handle:
            data = handle.read()
        return {"file": os.path.basename(path), "sha256": hashlib.sha256(data).hexdigest(),
                "text": data.decode("utf-8", errors="replace")}
    raise InvalidArgumentError("`recipe` must be a path or a dict.", type(recipe).__name__,
                               "path | dict | None")


def complete(meta, model, graph_outputs, specs, fmt, **extra):
    """Add the fields every export carries to a `model_metadata` dict (returns a new dict)."""
    import importlib.metadata as importlib_metadata

    from astrokeras import __version__

    if meta is None:
        meta = model_metadata(model)
    elif not isinstance(meta, dict) or "task" not in meta:
        raise InvalidArgumentError("`metadata` must be a dict from model_metadata(...).",
                                   type(meta).__name__, "model_metadata(model, ...)")
    software = {}
    for package in ("tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime"):
        try:
            software[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:  # pragma: no cover
            software[package] = None
    import datetime

    out = {"schema": SCHEMA, "astrokeras_version": __version__,
           "created_by": f"astrokeras.export.to_{fmt}",
           "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(
               timespec="seconds"),
           "software": software, "format": fmt}
    out.update(extra)
    out.update(meta)
    out["inputs"] = [{"name": name, "shape": [None, *shape], "dtype": "float32"}
                     for name, shape in specs]
    out["outputs"] = [{"name": name, "shape": [None, *[int(d) for d in tensor.shape[1:]]]}
                      for name, tensor in graph_outputs.items()]
    return out
