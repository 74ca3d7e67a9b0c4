"""Paired images of the same galaxies in several domains, read for evaluation."""

from pathlib import Path

import numpy as np

from astrokeras.errors import DataError, InvalidArgumentError

#: Array names of an .npz file that are not domains.
LABEL_KEYS = ("label", "y")
NON_DOMAIN_KEYS = ("label", "y", "labels", "galaxy_id", "ebv", "z", "redshift", "template")


def load_paired(path, domains=None, split="test", max_images=None, batch_size=256,
                preprocess=True):
    """Read the images of the same galaxies in several domains, with their classes.

    A robustness evaluation compares each galaxy with itself in another domain (its Y1 twin of
    a Y10 image, Ciprijanovic et al. 2022), so the images of every domain must come in the
    same galaxy order. Two sources are read:

    - a dataset directory written by `astrokeras.data.write_dataset` (TFRecord shards and a
      manifest): the domains of `split` are read together with `astrokeras.data.load_pairs`
      (unshuffled, unaugmented, every domain with the one stretch of `preprocess`: by default
      the manifest's, fitted on the source training split), so the rows pair up galaxy
      by galaxy; class names come from the manifest, and the per-galaxy values it stores come
      along (for a photo-z dataset `redshift`, the z_spec, and `ebv`, the E(B-V) input);
    - an `.npz` file with one array per domain (e.g. `y10`, `y1`, each
      `(n, height, width, bands)`) and the classes in `label` (or `y`).

    Args:
        path: a dataset directory or an `.npz` file.
        domains: the domains to read, the base domain first; all of them by default.
        split: for a dataset directory, the split ("train", "validation", "test", "all").
        max_images: read at most this many galaxies (the first ones).
        batch_size: images per read batch (directories).
        preprocess: the stretch of a dataset directory's images, as `astrokeras.data.load`
            takes it (True: the manifest's one preprocessing; a `ClipArcsinh` or config, e.g.
            a run's; "per-domain" for normalisation-based adaptation; False: raw).

    Returns:
        A dict: `images` (`{domain: float32 array}`), `labels` (int64 `(n,)`; the redshift
        bin for photo-z), `class_names` (list, or None for an .npz file), `values`
        (`{name: float64 array (n,)}`, the dataset's per-galaxy values; empty for an .npz
        file), `manifest` (the dataset manifest, None for an .npz file) and `source` (a short
        description).

    Example:

    >>> import tempfile, pathlib, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pairs.npz"
    >>> np.savez(path, y10=np.zeros((4, 8, 8, 3)), y1=np.ones((4, 8, 8, 3)), label=[0, 1, 2, 0])
    >>> data = load_paired(path, max_images=3)
    >>> list(data["images"]), data["labels"].tolist()
    (['y10', 'y1'], [0, 1, 2])
    """
    path = Path(path)
    if max_images is not None and (isinstance(max_images, bool) or
                                   not isinstance(max_images, (int, np.integer)) or
                                   max_images < 1):
        raise InvalidArgumentError("`max_images` must be a positive integer or None.",
                                   max_images, ">= 1 or None")
    if domains is not None:
        domains = [str(d) for d in domains]
        if not domains or len(set(domains)) != len(domains):
            raise InvalidArgumentError("`domains` must name distinct domains.", domains,
                                       "one or more distinct domain names")
    if path.is_dir():
        return _from_directory(path, domains, split, max_images, batch_size, preprocess)
    if not path.exists():
        raise FileNotFoundError(f"No such file or directory: {path}")
    if path.suffix != ".npz":
        raise InvalidArgumentError("`path` must be a dataset directory or an .npz file.",
                                   str(path), "a directory with manifest.json, or *.npz")
    return _from_npz(path, domains, max_images)


def _from_npz(path, domains, max_images):
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (ValueError, OSError) as error:
        raise DataError(f"Cannot read {path} as an .npz archive: {error}", str(path)) from None
    label_key = next((k for k in LABEL_KEYS if k in arrays), None)
    if label_key is None:
        raise DataError(f"{path} has no array of classes.", sorted(arrays),
                        "an array named label or y")
    available = [k for k in arrays if k not in NON_DOMAIN_KEYS and arrays[k].ndim == 4]
    domains = available if domains is None else domains
    missing = [d for d in domains if d not in available]
    if missing or not domains:
        raise InvalidArgumentError(f"{path} has no image array for domain(s) {missing}.",
                                   missing or domains, available)
    count = len(arrays[label_key]) if max_images is None else min(max_images,
                                                                  len(arrays[label_key]))
    images = {d: np.asarray(arrays[d][:count], np.float32) for d in domains}
    for domain, array in images.items():
        if len(array) != count:
            raise DataError(f"{path}: domain {domain!r} has {len(array)} images for {count} "
                            "labels.", len(array), count)
    return {"images": images, "labels": np.asarray(arrays[label_key][:count]).astype(np.int64),
            "class_names": None, "values": {}, "manifest": None, "source": f"{path.name}"}


def _from_directory(path, domains, split, max_images, batch_size, preprocess):
    from astrokeras import data as data_lib

    manifest = data_lib.load_manifest(path)
    domains = list(manifest["domains"]) if domains is None else domains
    for domain in domains:
        if domain not in manifest["domains"]:
            raise InvalidArgumentError("A requested domain is not in the dataset.", domain,
                                       manifest["domains"])
    dataset = data_lib.load_pairs(path, domains, split=split, batch_size=batch_size,
                                  values=True, preprocess=preprocess)
    if max_images is not None:
        dataset = dataset.unbatch().take(max_images).batch(batch_size)
    parts, classes = {d: [] for d in domains}, []
    names = list(manifest["value_names"])
    values = {name: [] for name in names}
    for batch, y, stored in dataset:
        for domain, x in zip(domains, batch):
            parts[domain].append(x.numpy())
        classes.append(y.numpy())
        for name in names:
            values[name].append(stored[name].numpy())
    if not classes:
        raise DataError(f"Split {split!r} of {path} holds no galaxies.", split,
                        "a split with galaxies")
    images = {d: np.concatenate(parts[d]).astype(np.float32) for d in domains}
    labels = np.concatenate(classes).astype(np.int64)
    return {"images": images, "labels": labels, "class_names": list(manifest["classes"]),
            "values": {name: np.concatenate(v).astype(np.float64) for name, v in values.items()},
            "manifest": manifest, "source": f"{path.name} ({split} split)"}
