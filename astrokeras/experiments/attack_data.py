"""The images `run_attack` attacks: the first galaxies of a dataset directory or an .npz file."""

from pathlib import Path

import numpy as np

from astrokeras.errors import DataError, InvalidArgumentError

#: Upper redshift of the output bins of a photo-z network read from an .npz file (Pasquet et
#: al. 2019: 180 bins over 0 < z < 0.4).
NPZ_Z_MAX = 0.4


def load_attack_data(path, n, directory, domain, split, preprocess=True):
    """The first `n` images (and labels, E(B-V), z_spec where there are some) of `path`.

    Args:
        path: a dataset directory or an .npz file.
        n: images at most.
        directory: whether `path` is a dataset directory.
        domain: a dataset directory's domain (None: its first).
        split: a dataset directory's split.
        preprocess: a dataset directory's stretch, as `astrokeras.data.load` takes it (the
            manifest's one preprocessing by default; a training run's).

    Returns:
        A dict of arrays: `x` (float32 images) and, where the data holds them, `y`, `ebv`, `z`;
        a dataset directory adds `dataset` (domain, split, and for photo-z the stored bins and
        the z range).
    """
    if directory:
        return _load_directory(Path(path), n, domain, split, preprocess)
    data = read_npz(path, n)
    if "x" not in data:
        raise DataError(f"{path} has no array named x (the images).", sorted(data),
                        "arrays x and optionally y, ebv, z")
    data["x"] = data["x"].astype(np.float32)
    return data


def read_npz(path, n=None):
    """Every array of an .npz file, the first `n` rows of each (all with None).

    Raises:
        DataError: the file is not a readable .npz archive.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key][:n] for key in archive.files}
    except (ValueError, OSError) as error:
        raise DataError(f"Cannot read {path} as a .npz archive: {error}", str(path),
                        "an .npz file") from None


def redshift_labels(data, num_bins, z_max, npz_z_max):
    """The redshift bin of each galaxy, the class the photo-z attack works against.

    Args:
        data: what `load_attack_data` returned (with `z`).
        num_bins: the network's output bins.
        z_max: the upper redshift of the bins, or None (the dataset's z range, or `npz_z_max`
            for an .npz file).
        npz_z_max: the default upper redshift of an .npz file's bins.
    """
    from astrokeras import attacks

    dataset = data.get("dataset")
    if dataset is None:
        return attacks.redshift_bins(data["z"], num_bins=num_bins,
                                     z_max=npz_z_max if z_max is None else z_max)
    if z_max is None and num_bins == dataset["num_bins"]:
        # The labels stored with the galaxies: the very bins the model was trained on.
        return dataset["labels"]
    return attacks.redshift_bins(data["z"], num_bins=num_bins, z_min=dataset["z_min"],
                                 z_max=dataset["z_max"] if z_max is None else z_max)


def _load_directory(path, n, domain, split, preprocess=True):
    """The first `n` galaxies of one domain and split of a dataset directory.

    Read with `astrokeras.data.load_pairs` (unshuffled, unaugmented, the manifest's one stretch:
    the images the model was trained on). Photo-z datasets also give E(B-V), the stored
    redshift bins and z_spec, read with the images from the same records.
    """
    from astrokeras import data as data_lib

    manifest = data_lib.load_manifest(path)
    if domain is None:
        domain = manifest["domains"][0]
    elif domain not in manifest["domains"]:
        raise InvalidArgumentError(f"--domain is not a domain of {path}.", domain,
                                   ", ".join(manifest["domains"]))
    photoz = "ebv" in manifest["value_names"]
    batch = min(n, 256)
    pairs = data_lib.load_pairs(path, [domain], split=split, batch_size=batch, values=photoz,
                                preprocess=preprocess)
    images, labels, ebv, z_spec = [], [], [], []
    for element in pairs.unbatch().take(n).batch(batch):
        (x,), y = element[0], element[1]
        images.append(x.numpy())
        labels.append(y.numpy())
        if photoz:
            ebv.append(element[2]["ebv"].numpy())
            z_spec.append(element[2]["redshift"].numpy())
    if not images:
        raise DataError(f"Split {split!r} of {path} holds no galaxies.", split,
                        "a split with galaxies (see --split)")
    data = {"x": np.concatenate(images).astype(np.float32)}
    labels = np.concatenate(labels).astype(np.int64)
    dataset = {"domain": domain, "split": split}
    if photoz:
        data["ebv"] = np.concatenate(ebv).astype(np.float32).reshape(-1, 1)
        data["z"] = np.concatenate(z_spec).astype(np.float32)
        config = manifest["simulation"]
        dataset.update(labels=labels, num_bins=int(config["num_bins"]),
                       z_min=float(config["z_range"][0]), z_max=float(config["z_range"][1]))
    else:
        data["y"] = labels
    data["dataset"] = dataset
    return data

