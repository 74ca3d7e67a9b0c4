"""Sharded TFRecord datasets with a JSON manifest: write, resume, split across machines, verify.

A dataset directory holds:

- `plan.json`: what is being simulated (kind, simulation config, n, seed, shard size), written
  first, so a resumed or parallel run can check it continues the same dataset;
- `shard-00000-of-00004.tfrecord` ...: galaxies `[j * shard_size, (j + 1) * shard_size)`, one
  `tf.train.Example` each (features below, serialised deterministically: the map of features
  in key order), written under a temporary name then renamed;
- `shard-00000-of-00004.npz`: the shard's sidecar (class counts, SHA-256, a seeded sample of
  256 pixels per image, domain and band for the dataset-level percentiles, in a zip archive
  with fixed member dates), written after its shard: a shard with a sidecar is complete, so an
  interrupted run skips it when resumed;
- `manifest.json`: written when the last shard is complete (by whichever run completes it):
  what was simulated, parameters, seed, counts per class and domain, shard list with sizes and
  SHA-256, the clip + arcsinh preprocessing and the software versions (no clock time: the
  same seed and software give the same bytes in every file, in any process).

The preprocessing is one transform for every domain: its clip limits are fitted on the first
domain (the labelled source: y10, psf, lsst) and its training split alone, and the same limits
stretch the target, validation and test images (`manifest["preprocessing"]`). Each domain's
own fit on its training split is kept apart, under `per_domain_preprocessing`, for the one
method that adapts by normalising each domain separately (normalisation-based adaptation);
nothing else reads it.

`--shard-index i --num-shards n` (`shard_index`, `num_shards`) make a run write only the shard
files j with j % n == i, so n machines of a batch system can share one dataset; each galaxy's
random streams depend only on the seed and its index, so the files are byte-identical however
the work is split.

Example features: "galaxy_id" and "label" (int64), "image/<domain>" (raw float32 bytes,
height x width x bands, C order, little endian) and "value/<name>" (float32).

TensorFlow is imported inside the functions that need it, so the simulation worker processes
(which import this package) start in well under a second.
"""

import hashlib
import io
import json
import math
import os
import re
import zipfile

import numpy as np

from astrokeras import __version__
from astrokeras import files
from astrokeras.data import simulation as simulation_lib
from astrokeras.data.preprocessing import (DEFAULT_PERCENTILES, check_percentiles,
                                           check_softening, fit_clip_arcsinh)
from astrokeras.errors import ConfigError, DataError, InvalidArgumentError, check_positive_int

SCHEMA = "astrokeras.dataset/2"
#: Manifests of these older schemas hold a stretch per domain; `finalize` rewrites them.
OLDER_SCHEMAS = ("astrokeras.dataset/1",)
#: The schema of plan.json and of the shards, unchanged since the first manifest schema.
PLAN_SCHEMA = "astrokeras.dataset/1"
MANIFEST = "manifest.json"
PLAN = "plan.json"
PIXEL_SAMPLE = 256

_KINDS = {}


def register_kind(cls):
    """Register a `Simulation` subclass under its `kind` so manifests can rebuild it."""
    _KINDS[cls.kind] = cls
    return cls


def simulation_from_config(kind, config):
    """Rebuild the `Simulation` of `kind` from its config (as stored in a manifest)."""
    _register_builtin_kinds()
    if kind not in _KINDS:
        raise ConfigError("Unknown dataset kind in manifest key 'kind'.", kind, sorted(_KINDS))
    try:
        return _KINDS[kind].from_config(config)
    except TypeError as error:
        raise ConfigError(f"Manifest key 'simulation' does not fit kind {kind!r}: {error}.",
                          config) from None


def _register_builtin_kinds():
    from astrokeras.data.deepmerge import DeepMergeSimulation
    from astrokeras.data.morphology import MorphologySimulation
    from astrokeras.data.photoz import PhotoZSimulation

    for cls in (MorphologySimulation, DeepMergeSimulation, PhotoZSimulation):
        register_kind(cls)


def shard_name(j, total):
    """File name of shard `j` of `total`."""
    return f"shard-{j:05d}-of-{total:05d}.tfrecord"


def _sidecar(path):
    return path[: -len(".tfrecord")] + ".npz"


def _write_json(path, obj):
    files.write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def _npz_bytes(arrays):
    """`np.savez`'s format with fixed member dates, so the same arrays give the same bytes.

    `np.savez` stamps every member with the clock time; a sidecar written by another process
    would differ from this one even when its arrays are identical.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(info, "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.asanyarray(arrays[name]),
                                          allow_pickle=False)
    return buffer.getvalue()


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _example(record, simulation):
    import tensorflow as tf

    feature = {
        "galaxy_id": tf.train.Feature(int64_list=tf.train.Int64List(value=[record.galaxy_id])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[record.label])),
    }
    for domain in simulation.domains:
        image = np.ascontiguousarray(record.images[domain], dtype="<f4")
        feature[f"image/{domain}"] = tf.train.Feature(
            bytes_list=tf.train.BytesList(value=[image.tobytes()]))
    for name in simulation.value_names:
        feature[f"value/{name}"] = tf.train.Feature(
            float_list=tf.train.FloatList(value=[float(record.values[name])]))
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    # The features are a protobuf map, serialised in hash order unless asked otherwise: that
    # order changes from one process to the next.
    return example.SerializeToString(deterministic=True)


def _pixel_sample(record, simulation, seed):
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2, record.galaxy_id)))
    flat = rng.integers(0, simulation.size * simulation.size, size=PIXEL_SAMPLE)
    rows, cols = np.unravel_index(flat, (simulation.size, simulation.size))
    return {d: record.images[d][rows, cols, :].astype(np.float32) for d in simulation.domains}


def _write_shard(path, records, simulation, seed):
    import tensorflow as tf

    samples = {d: [] for d in simulation.domains}
    counts = np.zeros(max(len(simulation.classes), 1), np.int64)
    with files.atomic_path(path) as temporary:
        with tf.io.TFRecordWriter(temporary) as writer:
            for record in records:
                writer.write(_example(record, simulation))
                for domain, sample in _pixel_sample(record, simulation, seed).items():
                    samples[domain].append(sample)
                if simulation.classes:
                    counts[record.label] += 1
    sidecar = {"counts": counts, "sha256": np.array(_sha256(path)),
               "bytes": np.array(os.path.getsize(path)),
               **{f"sample/{d}": np.concatenate(s) for d, s in samples.items()}}
    files.write_bytes_atomic(_sidecar(path), _npz_bytes(sidecar))


def _plan(simulation, n, seed, shard_size):
    return {
        "schema": PLAN_SCHEMA,
        "astrokeras_version": __version__,
        "kind": simulation.kind,
        "simulation": simulation.get_config(),
        "n": n,
        "seed": seed,
        "shard_size": shard_size,
    }


def _check_plan(directory, plan):
    path = os.path.join(directory, PLAN)
    if os.path.exists(path):
        with open(path) as handle:
            existing = json.load(handle)
        if existing != plan:
            differing = sorted(k for k in set(plan) | set(existing)
                               if plan.get(k) != existing.get(k))
            raise ConfigError(
                f"{directory!r} already holds a different dataset (keys {differing} differ "
                "from its plan.json); use a new directory to simulate something else.",
                {k: plan.get(k) for k in differing}, {k: existing.get(k) for k in differing})
    else:
        _write_json(path, plan)


def write_dataset(simulation, n, directory, seed=0, shard_size=256, workers=1, shard_index=0,
                  num_shards=1, percentiles=DEFAULT_PERCENTILES, c=None, progress=None):
    """Simulate `n` galaxies into sharded TFRecord files with a manifest (resumable).

    Shards already complete in `directory` are skipped, so re-running the same call after an
    interruption continues where it stopped (the same astrokeras version, simulation, n, seed
    and shard size are required). The manifest is written once every shard exists. With
    `workers > 1` the worker processes are spawned, so a script must call this under
    `if __name__ == "__main__":`.

    Args:
        simulation: a `Simulation` (`MorphologySimulation`, `DeepMergeSimulation`,
            `PhotoZSimulation`).
        n: number of galaxies in the whole dataset.
        directory: output directory (created if missing).
        seed: dataset seed: the same seed gives byte-identical shards.
        shard_size: galaxies per shard file.
        workers: simulation worker processes (None or 0: every core).
        shard_index: which part of the shard files this run writes (0 <= i < num_shards).
        num_shards: in how many parts the shard files are split (e.g. machines).
        percentiles: clip percentiles of the preprocessing (computed per domain and band).
        c: arcsinh softening of the preprocessing; None: the simulation's own
            (`simulation.softening`: 0.85 for morphology and DeepMerge, 0.001 for photo-z).
        progress: optional callable `progress(done, total)` called after every galaxy.

    Returns:
        The manifest (dict) if the dataset is complete after this run, else None.

    Example:

    >>> import tempfile
    >>> from astrokeras.data import MorphologySimulation, write_dataset
    >>> manifest = write_dataset(MorphologySimulation(size=32), 4, tempfile.mkdtemp(), seed=1)
    >>> manifest["counts"]["total"]
    4
    """
    n = check_positive_int("n", n)
    seed = simulation_lib.check_seed(seed)
    shard_size = check_positive_int("shard_size", shard_size)
    workers = simulation_lib.check_workers(workers)
    num_shards = check_positive_int("num_shards", num_shards)
    shard_index = check_positive_int("shard_index", shard_index, minimum=0)
    if shard_index >= num_shards:
        raise InvalidArgumentError("`shard_index` must be in [0, num_shards).", shard_index,
                                   f"0..{num_shards - 1}")
    percentiles = check_percentiles(percentiles)
    c = check_softening(simulation.softening if c is None else c)
    if not isinstance(directory, (str, os.PathLike)):
        raise InvalidArgumentError("`directory` must be a path.", directory, "str or PathLike")
    directory = os.fspath(directory)
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise InvalidArgumentError("`directory` exists and is not a directory.", directory,
                                   "a directory path")
    os.makedirs(directory, exist_ok=True)
    _check_plan(directory, _plan(simulation, n, seed, shard_size))

    total = math.ceil(n / shard_size)
    mine = [j for j in range(total) if j % num_shards == shard_index]
    todo = [j for j in mine if not _complete(directory, j, total)]
    labels = simulation.labels(n, seed)
    indices = [i for j in todo for i in range(j * shard_size, min(n, (j + 1) * shard_size))]
    done_before = sum(min(n, (j + 1) * shard_size) - j * shard_size for j in mine) - len(indices)
    if progress is not None:
        progress(done_before, done_before + len(indices))
    records = simulation_lib.run(simulation, seed, indices, labels[indices], workers)
    done = done_before
    for j in todo:
        count = min(n, (j + 1) * shard_size) - j * shard_size

        def take(count=count):
            nonlocal done
            for _ in range(count):
                yield next(records)
                done += 1
                if progress is not None:
                    progress(done, done_before + len(indices))

        _write_shard(os.path.join(directory, shard_name(j, total)), take(), simulation, seed)
    records.close()
    if all(_complete(directory, j, total) for j in range(total)):
        return finalize(directory, percentiles=percentiles, c=c)
    return None


def _complete(directory, j, total):
    path = os.path.join(directory, shard_name(j, total))
    return os.path.exists(path) and os.path.exists(_sidecar(path))


def fitted_preprocessing(sample, domain, seed, n, percentiles=DEFAULT_PERCENTILES, c=None,
                         fractions=None):
    """The clip + arcsinh config of one domain, fitted on its training split's pixel sample.

    `sample` holds `PIXEL_SAMPLE` pixels per galaxy, in galaxy-id order (the sidecars'
    samples of every shard, concatenated); only the rows of the galaxies in the training
    split (`astrokeras.data.split_ids(n, seed, fractions)`) enter the percentiles, so no
    validation or test pixel shapes the transform they are evaluated with.

    Args:
        sample: float array `(n * PIXEL_SAMPLE, bands)`.
        domain: the domain the sample comes from (recorded in `fitted_on`).
        seed: the split seed (the dataset's).
        n: galaxies in the dataset.
        percentiles: clip percentiles.
        c: arcsinh softening.
        fractions: split fractions (default `astrokeras.data.pipeline.DEFAULT_FRACTIONS`).

    Returns:
        A JSON dict: `ClipArcsinh.get_config()` plus `percentiles`, `fitted_on` (domain,
        split, seed, fractions, galaxies) and `estimated_from`.
    """
    from astrokeras.data.pipeline import DEFAULT_FRACTIONS, split_ids

    fractions = DEFAULT_FRACTIONS if fractions is None else fractions
    train = split_ids(n, seed, fractions)["train"]
    if train.size == 0:  # a dataset too small to have a training split: every galaxy
        train = np.arange(n)
    rows = (train[:, None] * PIXEL_SAMPLE + np.arange(PIXEL_SAMPLE)).ravel()
    stretch = fit_clip_arcsinh(np.asarray(sample)[rows], percentiles, c)
    return dict(stretch.get_config(), percentiles=list(percentiles),
                fitted_on={"domain": domain, "split": "train", "seed": int(seed),
                           "fractions": [float(f) for f in fractions],
                           "galaxies": int(train.size)},
                estimated_from=f"{PIXEL_SAMPLE} seeded random pixels per training image")


def finalize(directory, percentiles=DEFAULT_PERCENTILES, c=None):
    """Write `manifest.json` for a directory whose shards are all complete.

    Called by `write_dataset` when it completes the last shard; call it yourself to recompute
    the preprocessing with other percentiles or another softening (the shards hold the
    raw images, so this restretches a dataset without simulating it again).

    Args:
        directory: the dataset directory.
        percentiles: clip percentiles.
        c: arcsinh softening; None: the simulation's own (`Simulation.softening`).

    Returns:
        The manifest dict.
    """
    import galsim

    percentiles = check_percentiles(percentiles)
    if c is not None:
        c = check_softening(c)
    with open(os.path.join(directory, PLAN)) as handle:
        plan = json.load(handle)
    simulation = simulation_from_config(plan["kind"], plan["simulation"])
    c = simulation.softening if c is None else c
    n, shard_size = plan["n"], plan["shard_size"]
    total = math.ceil(n / shard_size)
    shards, samples = [], {d: [] for d in simulation.domains}
    counts = np.zeros(max(len(simulation.classes), 1), np.int64)
    for j in range(total):
        path = os.path.join(directory, shard_name(j, total))
        if not _complete(directory, j, total):
            raise DataError("Shard is missing or incomplete; run the simulation again to "
                            "resume it.", path)
        with np.load(_sidecar(path)) as side:
            counts += side["counts"]
            for domain in simulation.domains:
                samples[domain].append(side[f"sample/{domain}"])
            shards.append({"file": os.path.basename(path), "first_id": j * shard_size,
                           "n": min(n, (j + 1) * shard_size) - j * shard_size,
                           "bytes": int(side["bytes"]), "sha256": str(side["sha256"])})
    per_domain = {domain: fitted_preprocessing(np.concatenate(samples[domain]), domain,
                                               plan["seed"], n, percentiles, c)
                  for domain in simulation.domains}
    manifest = {
        "schema": SCHEMA,
        "astrokeras_version": __version__,
        "created_by": f"astrokeras.data.write_dataset ({simulation.kind})",
        "software": {"galsim": galsim.__version__, "numpy": np.__version__},
        "kind": simulation.kind,
        "simulation": simulation.get_config(),
        "seed": plan["seed"],
        "n": n,
        "shard_size": shard_size,
        "image_shape": list(simulation.image_shape),
        "bands": list(simulation.bands),
        "domains": list(simulation.domains),
        "classes": list(simulation.classes),
        "value_names": list(simulation.value_names),
        "counts": {
            "total": n,
            "per_domain": {d: n for d in simulation.domains},
            "per_class": {c_: int(k) for c_, k in zip(simulation.classes, counts)},
        },
        "shards": shards,
        "preprocessing": per_domain[simulation.domains[0]],
        "per_domain_preprocessing": per_domain,
        "feature_format": "galaxy_id, label: int64; image/<domain>: raw little-endian float32 "
                          "(height, width, bands); value/<name>: float32",
    }
    _write_json(os.path.join(directory, MANIFEST), manifest)
    return manifest


_REQUIRED = {"schema": str, "astrokeras_version": str, "kind": str, "simulation": dict,
             "n": int, "image_shape": list, "bands": list, "domains": list, "classes": list,
             "value_names": list, "counts": dict, "shards": list, "preprocessing": dict,
             "per_domain_preprocessing": dict}


def load_manifest(directory):
    """Read and validate a dataset directory's `manifest.json`.

    Refuses (with `ConfigError`) a manifest with another schema, written by another
    astrokeras version, or with missing or mistyped keys.

    Args:
        directory: the dataset directory.

    Returns:
        The manifest dict.
    """
    directory = os.fspath(directory)
    path = os.path.join(directory, MANIFEST)
    if not os.path.exists(path):
        if os.path.exists(os.path.join(directory, PLAN)):
            raise FileNotFoundError(f"{path} does not exist yet: some shards of this dataset "
                                    "are still missing; run the simulation again to finish it.")
        raise FileNotFoundError(f"No dataset manifest at {path}.")
    try:
        with open(path) as handle:
            manifest = json.load(handle)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path} is not valid JSON ({error}).", path) from None
    if not isinstance(manifest, dict):
        raise ConfigError(f"{path} must hold a JSON object.", type(manifest).__name__, "object")
    if manifest.get("schema") in OLDER_SCHEMAS:
        raise ConfigError(
            f"{path} is an older manifest (one stretch per domain); rewrite it with "
            f"astrokeras.data.finalize({directory!r}), which refits the one preprocessing "
            "from the stored shards without simulating again.", manifest.get("schema"), SCHEMA)
    if manifest.get("schema") != SCHEMA:
        raise ConfigError(f"{path}: key 'schema' is not a schema this astrokeras reads.",
                          manifest.get("schema"), SCHEMA)
    for key, kind in _REQUIRED.items():
        if not isinstance(manifest.get(key), kind):
            raise ConfigError(f"{path}: key {key!r} is missing or not a {kind.__name__}.",
                              manifest.get(key), kind.__name__)
    if manifest["astrokeras_version"] != __version__:
        raise ConfigError(
            f"{path} was written by astrokeras {manifest['astrokeras_version']}, this is "
            f"astrokeras {__version__}; simulate the dataset again with this version.",
            manifest["astrokeras_version"], __version__)
    return manifest


def shard_paths(directory, manifest=None, verify=False):
    """The shard files of a dataset, checked against the manifest.

    Every file must exist and have the size the manifest records (a truncated shard raises
    `DataError` naming it); with `verify=True` its SHA-256 is checked too (catches any
    corruption, naming the file, before TensorFlow would fail mid-epoch with an anonymous
    "corrupted record"), once per process and file version.

    Args:
        directory: the dataset directory.
        manifest: its manifest (read with `load_manifest` if None).
        verify: also check every file's SHA-256.

    Returns:
        A list of paths.
    """
    directory = os.fspath(directory)
    manifest = load_manifest(directory) if manifest is None else manifest
    paths = []
    for shard in manifest["shards"]:
        name = shard.get("file", "")
        if not re.fullmatch(r"shard-\d{5}-of-\d{5}\.tfrecord", name):
            raise ConfigError("Manifest key 'shards' holds a bad file name.", name,
                              "shard-NNNNN-of-NNNNN.tfrecord")
        path = os.path.join(directory, name)
        if not os.path.exists(path):
            raise FileNotFoundError(f"Shard listed in the manifest is missing: {path}")
        size = os.path.getsize(path)
        if size != shard["bytes"]:
            raise DataError(f"Shard {path} is truncated or damaged: {size} bytes where the "
                            f"manifest records {shard['bytes']}.", path)
        if verify:
            key = (os.path.abspath(path), size, os.stat(path).st_mtime_ns, shard["sha256"])
            if key not in _VERIFIED:
                if _sha256(path) != shard["sha256"]:
                    raise DataError(f"Shard {path} is corrupt: its SHA-256 differs from the "
                                    "manifest's; simulate it again (delete it and its .npz, "
                                    "then rerun the same simulate command).", path)
                _VERIFIED.add(key)
        paths.append(path)
    return paths


# Shards whose SHA-256 was checked in this process, keyed by (path, size, mtime, digest): a
# file is read for verification once, not at every `load`.
_VERIFIED = set()
