"""tf.data pipelines from simulated datasets: parse, split, augment, stretch, batch, pair domains.

`load` streams one domain of a sharded dataset (written by `write_dataset`) as batches of
`(images, labels)` ready for `model.fit`; `load_domain_adaptation` streams a labelled source
domain and an unlabelled target domain as `((source_images, target_images), source_labels)`, the
data format of `DomainAdaptationModel`; `from_arrays` does the same from in-memory `simulate`
output. Splits are by galaxy (the paired Y10 and Y1 images of one galaxy always fall in the same
split), augmentation is the papers' flips and 90/180/270 degree rotations, and the clip +
arcsinh stretch is the dataset-level one stored in the manifest, applied by the Keras layer
`ClipArcsinhStretch`.

Photo-z datasets give `({"image": images, "ebv": ebv}, redshift_bins)`, the two inputs of
`inception_photoz`.

TensorFlow is imported inside the functions (see `shards`).
"""

import math

import numpy as np

from astrokeras.data import shards as shards_lib
from astrokeras.data.preprocessing import ClipArcsinh, fit_clip_arcsinh
from astrokeras.errors import InvalidArgumentError, check_images, check_positive_int

DEFAULT_FRACTIONS = (0.7, 0.1, 0.2)
SPLITS = ("train", "validation", "test", "all")


def _check_fractions(fractions):
    try:
        values = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        raise InvalidArgumentError("`fractions` must be three numbers (train, validation, test).",
                                   fractions, "three non-negative numbers summing to 1") from None
    if len(values) != 3 or min(values) < 0 or not math.isclose(sum(values), 1.0, abs_tol=1e-6):
        raise InvalidArgumentError("`fractions` must be three non-negative numbers summing to 1.",
                                   fractions, "e.g. (0.7, 0.1, 0.2)")
    return values


def split_ids(n, seed, fractions=DEFAULT_FRACTIONS):
    """Assign galaxy ids 0..n-1 to train / validation / test, by galaxy.

    A seeded permutation (`SeedSequence(seed, spawn_key=(3,))`) cut at the fractions: the
    same seed gives the same split, and every image of one galaxy (all its domains) falls in
    the same split.

    Args:
        n: number of galaxies.
        seed: split seed (by default the dataset's seed).
        fractions: (train, validation, test), summing to 1 (70:10:20 by default).

    Returns:
        Dict split name -> sorted int64 array of galaxy ids.

    Example:

    >>> ids = split_ids(10, seed=0)
    >>> [len(ids[s]) for s in ("train", "validation", "test")]
    [7, 1, 2]
    """
    fractions = _check_fractions(fractions)
    order = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(3,))).permutation(n)
    cut1 = int(round(fractions[0] * n))
    cut2 = int(round((fractions[0] + fractions[1]) * n))
    return {"train": np.sort(order[:cut1]), "validation": np.sort(order[cut1:cut2]),
            "test": np.sort(order[cut2:]), "all": np.arange(n)}


#: The loaders' `preprocess` value that stretches each domain with its own clip limits.
PER_DOMAIN = "per-domain"


def stretch(manifest, domain=None, preprocess=True):
    """The `ClipArcsinh` the loaders apply to `domain`'s images, or None for raw images.

    One transform serves every domain: the manifest's `preprocessing`, fitted on the first
    domain's training split (see `astrokeras.data.shards`). Each domain's own fit on its
    training split is normalisation-based adaptation, a method of its own, and only
    `preprocess=PER_DOMAIN` asks for it.

    Args:
        manifest: a dataset manifest.
        domain: a domain of the dataset (needed with `PER_DOMAIN` only).
        preprocess: True (the manifest's one transform), `PER_DOMAIN` ("per-domain"), a
            `ClipArcsinh` or its config dict (this transform, e.g. a training run's), or
            False / None (no stretch: electrons per second).

    Returns:
        A `ClipArcsinh`, or None.

    Example:

    >>> manifest = {"bands": ["r"], "domains": ["y10", "y1"],
    ...             "preprocessing": {"method": "clip_arcsinh", "low": [0.0], "high": [1.0]},
    ...             "per_domain_preprocessing": {
    ...                 "y10": {"method": "clip_arcsinh", "low": [0.0], "high": [1.0]},
    ...                 "y1": {"method": "clip_arcsinh", "low": [-1.0], "high": [2.0]}}}
    >>> stretch(manifest, "y1").low, stretch(manifest, "y1", PER_DOMAIN).low
    ((0.0,), (-1.0,))
    """
    if preprocess is None or preprocess is False:
        return None
    if preprocess is True:
        clip = ClipArcsinh.from_config(manifest["preprocessing"])
    elif isinstance(preprocess, str) and preprocess == PER_DOMAIN:
        if domain not in manifest["per_domain_preprocessing"]:
            raise InvalidArgumentError("`domain` is not a domain of this dataset.", domain,
                                       list(manifest["per_domain_preprocessing"]))
        clip = ClipArcsinh.from_config(manifest["per_domain_preprocessing"][domain])
    elif isinstance(preprocess, ClipArcsinh):
        clip = preprocess
    elif isinstance(preprocess, dict):
        clip = ClipArcsinh.from_config(preprocess)
    else:
        raise InvalidArgumentError(
            "`preprocess` must be True, False, 'per-domain', a ClipArcsinh or its config.",
            preprocess, "True | False | 'per-domain' | ClipArcsinh | dict")
    bands = manifest.get("bands") or ()
    if bands and len(clip.low) != len(bands):
        raise InvalidArgumentError(
            f"`preprocess` has clip limits for {len(clip.low)} bands; the dataset has "
            f"{len(bands)} ({', '.join(bands)}).", len(clip.low), len(bands))
    return clip


def _clip_layer(manifest, domain, preprocess):
    """The stretch layer of `stretch(manifest, domain, preprocess)`, or None."""
    clip = stretch(manifest, domain, preprocess)
    return None if clip is None else _stretch_layer(clip)


def _stretch_layer(clip):
    """The `ClipArcsinhStretch` layer of a `ClipArcsinh` (applied in the tf.data maps)."""
    from astrokeras.data.clip_arcsinh_stretch import ClipArcsinhStretch

    return ClipArcsinhStretch.from_preprocessing(clip)


def augment(image, seed):
    """Random flips and a rotation by 0/90/180/270 degrees (stateless, seeded by `seed`).

    Args:
        image: a (height, width, bands) tensor.
        seed: a shape-(2,) int tensor (stateless random seed).

    Returns:
        The transformed image.
    """
    import tensorflow as tf

    draws = tf.random.stateless_uniform([3], seed=seed, minval=0, maxval=4, dtype=tf.int32)
    image = tf.cond(draws[0] % 2 == 1, lambda: tf.image.flip_left_right(image), lambda: image)
    image = tf.cond(draws[1] % 2 == 1, lambda: tf.image.flip_up_down(image), lambda: image)
    return tf.image.rot90(image, k=draws[2])


def _parser(manifest, domains):
    import tensorflow as tf

    shape = manifest["image_shape"]
    spec = {"galaxy_id": tf.io.FixedLenFeature([], tf.int64),
            "label": tf.io.FixedLenFeature([], tf.int64)}
    for domain in domains:
        spec[f"image/{domain}"] = tf.io.FixedLenFeature([], tf.string)
    for name in manifest["value_names"]:
        spec[f"value/{name}"] = tf.io.FixedLenFeature([], tf.float32)

    def parse(serialized):
        example = tf.io.parse_single_example(serialized, spec)
        out = {"galaxy_id": example["galaxy_id"], "label": example["label"]}
        for domain in domains:
            image = tf.io.decode_raw(example[f"image/{domain}"], tf.float32, little_endian=True)
            out[domain] = tf.reshape(image, shape)
        for name in manifest["value_names"]:
            out[name] = example[f"value/{name}"]
        return out

    return parse


def _check_domain(name, domain, manifest):
    if domain not in manifest["domains"]:
        raise InvalidArgumentError(f"`{name}` is not a domain of this dataset.", domain,
                                   manifest["domains"])


def _check_galaxy_ids(galaxy_ids, n):
    try:
        ids = np.asarray(galaxy_ids)
        valid = ids.ndim == 1 and (ids.size == 0 or np.issubdtype(ids.dtype, np.integer))
    except (TypeError, ValueError):
        valid = False
    if not valid or ids.size == 0 or ids.min() < 0 or ids.max() >= n:
        raise InvalidArgumentError("`galaxy_ids` must be a non-empty 1-D sequence of galaxy ids "
                                   "of this dataset.", galaxy_ids, f"integers in [0, {n})")
    return np.unique(ids)


def _records(directory, manifest, domains, split, seed, fractions, verify, galaxy_ids=None):
    """Parsed records of `split` (dicts), in shard order; only `galaxy_ids` if given."""
    import tensorflow as tf

    if split not in SPLITS:
        raise InvalidArgumentError("`split` must be a split name.", split, list(SPLITS))
    paths = shards_lib.shard_paths(directory, manifest, verify=verify)
    ids = split_ids(manifest["n"], manifest["seed"] if seed is None else seed, fractions)[split]
    if galaxy_ids is not None:
        ids = np.intersect1d(ids, _check_galaxy_ids(galaxy_ids, manifest["n"]))
        if ids.size == 0:
            raise InvalidArgumentError(f"None of `galaxy_ids` is in the {split!r} split.",
                                       galaxy_ids, f"ids of {split!r} galaxies")
    member = np.zeros(manifest["n"], bool)
    member[ids] = True
    member = tf.constant(member)
    dataset = tf.data.TFRecordDataset(paths)
    dataset = dataset.map(_parser(manifest, domains), num_parallel_calls=tf.data.AUTOTUNE,
                          deterministic=True)
    if split != "all" or galaxy_ids is not None:
        dataset = dataset.filter(lambda r: tf.gather(member, r["galaxy_id"]))
        # The split's size is known: tell tf.data, so Keras knows the steps per epoch.
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(ids)))
    if galaxy_ids is not None and _record_bytes(manifest, domains) * len(ids) <= _CACHE_BYTES:
        # A few chosen galaxies (the labeled target) are repeated many times per epoch:
        # without the cache every pass reads and filters all the shards again (with 20 of
        # 3,000 galaxies, 0.35 s instead of 0.07 s per semi-supervised batch of 64, measured).
        # Cached before shuffling and augmentation, which stay different at every pass.
        dataset = dataset.cache()
    return dataset, len(ids)


#: Largest selection of `galaxy_ids` kept in memory after its first pass.
_CACHE_BYTES = 256 * 2**20


def _record_bytes(manifest, domains):
    return 4 * int(np.prod(manifest["image_shape"])) * max(len(domains), 1)


def pick_labeled(directory, per_class, split="train", seed=0, classes=None,
                 fractions=DEFAULT_FRACTIONS, verify=True):
    """Galaxy ids of `per_class` randomly chosen galaxies of each class in a split.

    The labeled target galaxies of semi-supervised domain adaptation: a few galaxies per
    class whose labels the training may use. The same seed gives the same galaxies.

    Args:
        directory: a dataset directory written by `write_dataset`.
        per_class: how many galaxies of each class.
        split: the split to choose from ("train" by default).
        seed: seed of the choice (the split itself is the dataset's).
        classes: class indices to choose from (default: every class).
        fractions, verify: as in `load`.

    Returns:
        A sorted int64 NumPy array of galaxy ids, for `load(..., galaxy_ids=...)`.

    Example:

    >>> import tempfile
    >>> from astrokeras.data import MorphologySimulation, write_dataset, pick_labeled
    >>> path = tempfile.mkdtemp()
    >>> _ = write_dataset(MorphologySimulation(size=32, class_fractions=(1, 1, 1)), 30, path,
    ...                   seed=0)
    >>> len(pick_labeled(path, 2, classes=[0, 1]))
    4
    """
    per_class = check_positive_int("per_class", per_class)
    seed = check_positive_int("seed", seed, minimum=0)
    manifest = shards_lib.load_manifest(directory)
    names = manifest["classes"]
    classes = range(len(names)) if classes is None else classes
    wanted = []
    for c in classes:
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or \
                not 0 <= c < len(names):
            raise InvalidArgumentError("`classes` must hold class indices of this dataset.",
                                       classes, f"integers in [0, {len(names)})")
        wanted.append(int(c))
    records, _ = _records(directory, manifest, [], split, None, fractions, verify)
    pairs = np.array([(int(r["galaxy_id"]), int(r["label"]))
                      for r in records.as_numpy_iterator()], dtype=np.int64).reshape(-1, 2)
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(5,)))
    chosen = []
    for c in wanted:
        ids = pairs[pairs[:, 1] == c, 0]
        if len(ids) < per_class:
            raise InvalidArgumentError(
                f"`per_class` exceeds the {len(ids)} {names[c]!r} galaxies of the {split!r} "
                "split.", per_class, f"<= {len(ids)}")
        chosen.append(rng.choice(np.sort(ids), per_class, replace=False))
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, np.int64)


def read_values(directory, split="all", seed=None, fractions=DEFAULT_FRACTIONS, verify=True):
    """The per-galaxy values stored in a dataset, with each galaxy's id and label, as arrays.

    The scalars a simulation records beside the images (`value_names` in the manifest: Gini
    and M20 with `morphometry=True`; `redshift`, `ebv` and `template` for photo-z) are read
    without decoding any image, for diagrams and catalogues of a whole dataset.

    Args:
        directory: a dataset directory written by `write_dataset`.
        split: "train", "validation", "test" or "all" (default).
        seed, fractions, verify: as in `load` (they only matter for a split other than "all",
            and `verify` for the shards' checksums).

    Returns:
        A dict of NumPy arrays, one value per galaxy in shard order: "galaxy_id" and "label"
        (int64), then one float32 array per name in the manifest's `value_names`.

    Example:

    >>> import tempfile
    >>> from astrokeras.data import MorphologySimulation, write_dataset
    >>> path = tempfile.mkdtemp()
    >>> _ = write_dataset(MorphologySimulation(size=32, morphometry=True), 3, path, seed=0)
    >>> values = read_values(path)
    >>> sorted(values), values["gini"].shape
    (['galaxy_id', 'gini', 'label', 'm20'], (3,))
    """
    if seed is not None:
        check_positive_int("seed", seed, minimum=0)
    manifest = shards_lib.load_manifest(directory)
    records, count = _records(directory, manifest, [], split, seed, fractions, verify)
    columns = {"galaxy_id": np.int64, "label": np.int64}
    columns.update((name, np.float32) for name in manifest["value_names"])
    batches = list(records.batch(max(count, 1)).as_numpy_iterator())
    return {name: np.concatenate([b[name] for b in batches]).astype(dtype) if batches else
            np.zeros(0, dtype) for name, dtype in columns.items()}


def _inputs(record, domain, manifest):
    import tensorflow as tf

    if "ebv" in manifest["value_names"]:
        return {"image": record[domain], "ebv": tf.reshape(record["ebv"], [1])}
    return record[domain]


def _finish(dataset, batch_size, shuffle, buffer, seed, repeat, transform):
    import tensorflow as tf

    if shuffle:
        dataset = dataset.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    # One random int64 per element, seeded, and different at every epoch: the stateless
    # augmentation seed, so augmentations are reproducible yet change from epoch to epoch.
    draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    dataset = tf.data.Dataset.zip((draws, dataset)).map(
        transform, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _check_common(batch_size, seed):
    batch_size = check_positive_int("batch_size", batch_size)
    if seed is not None:
        check_positive_int("seed", seed, minimum=0)
    return batch_size


def load(directory, domain=None, split="train", batch_size=32, shuffle=None, augment_images=None,
         preprocess=True, seed=None, fractions=DEFAULT_FRACTIONS, repeat=False, verify=True,
         shuffle_buffer=1024, class_repeats=None, galaxy_ids=None, shuffle_seed=None):
    """Batches of `(images, labels)` from one domain of a dataset directory.

    Args:
        directory: a dataset directory written by `write_dataset`.
        domain: which domain ("y10", "y1", "psf", "noisy", "lsst"); the first one by default.
        split: "train", "validation", "test" or "all".
        batch_size: batch size.
        shuffle: shuffle the galaxies (default: only for "train").
        augment_images: random flips and 90-degree rotations (default: only for "train").
        preprocess: the clip + arcsinh stretch (values in [0, 1]): True (default) the
            manifest's one preprocessing, the same for every domain; a `ClipArcsinh` (or its
            config) to apply instead; "per-domain" for `domain`'s own fit (normalisation-based
            adaptation only); False for electrons per second. See `stretch`.
        seed: seed of the split, shuffle and augmentation (default: the dataset's seed).
        fractions: (train, validation, test) fractions of the split by galaxy.
        repeat: repeat forever (for `steps_per_epoch` training).
        verify: check every shard's SHA-256 against the manifest before reading (once per
            process and file; a corrupt shard raises `DataError` naming it).
        shuffle_buffer: shuffle buffer size in galaxies.
        class_repeats: dict class name (or index) -> how many times each galaxy of that
            class appears per epoch; with augmentation every copy is flipped and rotated
            differently (the paper: mergers x 5, 2,542 -> 12,710).
        galaxy_ids: only these galaxies of the split (e.g. the labeled target galaxies from
            `pick_labeled`); None for all.
        shuffle_seed: seed of the shuffle and augmentation alone (default: `seed`), for two
            streams of one split in different orders.

    Returns:
        A `tf.data.Dataset` of `(images, labels)`: images float32 (batch, height, width,
        bands), labels int64 (batch,) (class index, or redshift bin for photo-z, whose inputs
        are a dict {"image", "ebv"}).

    Example:

    >>> import tempfile
    >>> from astrokeras.data import MorphologySimulation, write_dataset, load
    >>> path = tempfile.mkdtemp()
    >>> _ = write_dataset(MorphologySimulation(size=32), 10, path, seed=3)
    >>> images, labels = next(iter(load(path, "y1", batch_size=4)))
    >>> tuple(images.shape)
    (4, 32, 32, 3)
    """
    batch_size = _check_common(batch_size, seed)
    manifest = shards_lib.load_manifest(directory)
    domain = manifest["domains"][0] if domain is None else domain
    _check_domain("domain", domain, manifest)
    seed = manifest["seed"] if seed is None else int(seed)
    shuffle_seed = seed if shuffle_seed is None else \
        check_positive_int("shuffle_seed", shuffle_seed, minimum=0)
    training = split == "train"
    return _domain_dataset(
        directory, manifest, domain, split, seed, shuffle_seed, fractions, batch_size,
        shuffle=training if shuffle is None else bool(shuffle),
        augment_images=training if augment_images is None else bool(augment_images),
        preprocess=preprocess, repeat=repeat, verify=verify, shuffle_buffer=shuffle_buffer,
        with_labels=True, class_repeats=_check_repeats(class_repeats, manifest),
        galaxy_ids=galaxy_ids)


def _check_repeats(class_repeats, manifest):
    """Validate `class_repeats` into a list of repeats per class index (or None)."""
    if class_repeats is None:
        return None
    classes = manifest["classes"]
    if not isinstance(class_repeats, dict) or not classes:
        raise InvalidArgumentError("`class_repeats` must be a dict class -> repeats, for a "
                                   "dataset with classes.", class_repeats, classes)
    repeats = [1] * len(classes)
    for key, value in class_repeats.items():
        index = classes.index(key) if key in classes else key
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or \
                not 0 <= index < len(classes):
            raise InvalidArgumentError("`class_repeats` has an unknown class.", key, classes)
        repeats[int(index)] = check_positive_int(f"class_repeats[{key!r}]", value)
    return repeats


def _domain_dataset(directory, manifest, domain, split, split_seed, shuffle_seed, fractions,
                    batch_size, shuffle, augment_images, preprocess, repeat, verify,
                    shuffle_buffer, with_labels, class_repeats=None, galaxy_ids=None):
    import tensorflow as tf

    records, _ = _records(directory, manifest, [domain], split, split_seed, fractions, verify,
                          galaxy_ids)
    if class_repeats is not None:
        table = tf.constant(class_repeats, tf.int64)
        records = records.flat_map(
            lambda r: tf.data.Dataset.from_tensors(r).repeat(tf.gather(table, r["label"])))
    clip = _clip_layer(manifest, domain, preprocess)

    def transform(draw, record):
        record = dict(record)
        image = record[domain]
        if augment_images:
            image = augment(image, tf.stack([tf.cast(shuffle_seed, tf.int64), draw]))
        if clip is not None:
            image = clip(image)
        record[domain] = image
        inputs = _inputs(record, domain, manifest)
        return (inputs, record["label"]) if with_labels else inputs

    return _finish(records, batch_size, shuffle, shuffle_buffer, shuffle_seed, repeat, transform)


def pair_domains(source, target, target_labels=False):
    """Zip a labelled source and an unlabelled target dataset for domain adaptation.

    The target is repeated (so the shorter target never ends the epoch); the epoch follows the
    source. Target labels are dropped, unless `target_labels` keeps them.

    Args:
        source: a batched `tf.data.Dataset` of `(images, labels)`.
        target: a batched `tf.data.Dataset` of `images` or `(images, labels)`.
        target_labels: keep the target's labels (semi-supervised adaptation: -1 marks the
            unlabeled images, see `DomainAdaptationModel`).

    Returns:
        A `tf.data.Dataset` of `((source_images, target_images), source_labels)`, or of
        `((source_images, target_images), (source_labels, target_labels))`.

    Example:

    >>> import numpy as np, tensorflow as tf
    >>> source = tf.data.Dataset.from_tensor_slices((np.zeros((4, 8, 8, 1)), np.arange(4)))
    >>> target = tf.data.Dataset.from_tensor_slices(np.ones((2, 8, 8, 1)))
    >>> paired = pair_domains(source.batch(2), target.batch(2))
    >>> len(list(paired))
    2
    """
    import tensorflow as tf

    labeled = isinstance(target.element_spec, tuple)
    if target_labels:
        if not labeled:
            raise InvalidArgumentError("`target_labels=True` needs a target of (images, "
                                       "labels).", target.element_spec, "(images, labels)")
        paired = tf.data.Dataset.zip((source, target.repeat()))
        return paired.map(lambda s, t: ((s[0], t[0]), (s[1], t[1])))
    if labeled:
        target = target.map(lambda x, y: x)
    paired = tf.data.Dataset.zip((source, target.repeat()))
    return paired.map(lambda s, t: ((s[0], t), s[1]))


def load_domain_adaptation(directory, source="y10", target="y1", split="train", batch_size=32,
                           augment_images=None, preprocess=True, seed=None,
                           fractions=DEFAULT_FRACTIONS, verify=True, shuffle_buffer=1024,
                           class_repeats=None):
    """Batches of `((source_images, target_images), source_labels)` from one paired dataset.

    Source and target come from the same split (by galaxy) and are shuffled independently, so
    a batch does not hold the same galaxies in both domains (the target is unlabelled data).
    Both domains get the same stretch (`preprocess`, the manifest's one preprocessing by
    default).

    Args:
        directory: a dataset directory with at least two domains.
        source: labelled domain (e.g. "y10", "psf").
        target: unlabelled domain (e.g. "y1", "noisy").
        split, batch_size, augment_images, preprocess, seed, fractions, verify, shuffle_buffer,
            class_repeats: as in `load` (`class_repeats` applies to the labelled source).

    Returns:
        A `tf.data.Dataset` for `DomainAdaptationModel.fit`.

    Example:

    >>> import tempfile
    >>> from astrokeras.data import MorphologySimulation, write_dataset, load_domain_adaptation
    >>> path = tempfile.mkdtemp()
    >>> _ = write_dataset(MorphologySimulation(size=32), 6, path, seed=0)
    >>> (source, target), labels = next(iter(load_domain_adaptation(path, batch_size=2)))
    >>> tuple(source.shape), tuple(target.shape), tuple(labels.shape)
    ((2, 32, 32, 3), (2, 32, 32, 3), (2,))
    """
    batch_size = _check_common(batch_size, seed)
    manifest = shards_lib.load_manifest(directory)
    _check_domain("source", source, manifest)
    _check_domain("target", target, manifest)
    seed = manifest["seed"] if seed is None else int(seed)
    augment_images = split == "train" if augment_images is None else bool(augment_images)
    common = dict(split=split, split_seed=seed, fractions=fractions, batch_size=batch_size,
                  shuffle=True, augment_images=augment_images, preprocess=preprocess,
                  repeat=False, verify=verify, shuffle_buffer=shuffle_buffer)
    source_ds = _domain_dataset(directory, manifest, source, shuffle_seed=seed,
                                with_labels=True,
                                class_repeats=_check_repeats(class_repeats, manifest), **common)
    target_ds = _domain_dataset(directory, manifest, target, shuffle_seed=seed + 1,
                                with_labels=False, **common)
    return pair_domains(source_ds, target_ds)


def load_pairs(directory, domains=None, split="test", batch_size=32, preprocess=True,
               seed=None, fractions=DEFAULT_FRACTIONS, verify=True, values=False):
    """Batches of the same galaxies in several domains, aligned: `((y10, y1), labels)`.

    For comparisons that need the same galaxy in each domain (the paper's Y10 / Y1 / attacked
    triplets, latent distances between domains): no shuffling, no augmentation, every domain
    with the same stretch (`preprocess`, the manifest's one preprocessing by default).

    Args:
        directory: a dataset directory.
        domains: the domains, in order (default: all of the dataset's).
        split, batch_size, preprocess, seed, fractions, verify: as in `load`.
        values: also give the manifest's per-galaxy values (`value_names`; for photo-z
            datasets `redshift` (z_spec), `ebv` and `template`) as a third element, a dict
            name -> float32 batch.

    Returns:
        A `tf.data.Dataset` of `(tuple of image batches, one per domain, labels)`, or of
        `(images, labels, values)` with `values=True`.

    Example:

    >>> import tempfile
    >>> from astrokeras.data import MorphologySimulation, write_dataset, load_pairs
    >>> path = tempfile.mkdtemp()
    >>> _ = write_dataset(MorphologySimulation(size=32), 5, path, seed=0)
    >>> (y10, y1), labels = next(iter(load_pairs(path, split="all", batch_size=5)))
    >>> tuple(y10.shape) == tuple(y1.shape) == (5, 32, 32, 3)
    True
    """
    import tensorflow as tf

    batch_size = _check_common(batch_size, seed)
    manifest = shards_lib.load_manifest(directory)
    domains = tuple(manifest["domains"]) if domains is None else tuple(domains)
    if not domains:
        raise InvalidArgumentError("`domains` must name at least one domain.", domains,
                                   manifest["domains"])
    for domain in domains:
        _check_domain("domains", domain, manifest)
    seed = manifest["seed"] if seed is None else int(seed)
    records, _ = _records(directory, manifest, list(domains), split, seed, fractions, verify)
    clips = {d: _clip_layer(manifest, d, preprocess) for d in domains}

    names = list(manifest["value_names"]) if values else []

    def transform(record):
        images = tuple(clips[d](record[d]) if clips[d] else record[d] for d in domains)
        if values:
            return images, record["label"], {name: record[name] for name in names}
        return images, record["label"]

    dataset = records.map(transform, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def from_arrays(data, domain="y10", batch_size=32, shuffle=True, augment_images=False,
                preprocessing="fit", seed=0, labels="label"):
    """A `tf.data.Dataset` of `(images, labels)` from in-memory `simulate` output.

    Args:
        data: the dict returned by `simulate`.
        domain: which domain's images.
        batch_size: batch size.
        shuffle: shuffle the galaxies.
        augment_images: random flips and 90-degree rotations.
        preprocessing: "fit" (compute the clip + arcsinh limits over these images), a
            `ClipArcsinh`, or None (electrons per second).
        seed: shuffle and augmentation seed.
        labels: key of the labels in `data`.

    Returns:
        A `tf.data.Dataset` of `(images, labels)`.

    Example:

    >>> from astrokeras.data import MorphologySimulation, simulate, from_arrays
    >>> data = simulate(MorphologySimulation(size=32), n=4, seed=0)
    >>> images, labels = next(iter(from_arrays(data, "y1", batch_size=2)))
    >>> float(images.numpy().max()) <= 1.0
    True
    """
    import tensorflow as tf

    batch_size = _check_common(batch_size, seed)
    if not isinstance(data, dict) or domain not in data:
        raise InvalidArgumentError("`domain` is not a key of `data`.", domain,
                                   sorted(data) if isinstance(data, dict) else "a dict")
    images = check_images(f"data[{domain!r}]", data[domain])
    if preprocessing == "fit":
        preprocessing = fit_clip_arcsinh(images)
    if preprocessing is not None and not isinstance(preprocessing, ClipArcsinh):
        raise InvalidArgumentError("`preprocessing` must be 'fit', a ClipArcsinh or None.",
                                   preprocessing, "'fit', ClipArcsinh, None")
    clip = _stretch_layer(preprocessing) if preprocessing is not None else None
    dataset = tf.data.Dataset.from_tensor_slices((images, np.asarray(data[labels])))

    def transform(draw, element):
        image, label = element
        if augment_images:
            image = augment(image, tf.stack([tf.constant(seed, tf.int64), draw]))
        if clip is not None:
            image = clip(image)
        return image, label

    return _finish(dataset, batch_size, shuffle, len(images), seed, False, transform)
