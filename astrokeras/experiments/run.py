"""Runs a training recipe: data, model, method, optimizer, callbacks, run directory.

The recipe's names are looked up in the registries: `[data].kind` gives the simulation that
writes a missing dataset, `[model].architecture` the classifier, `[method].name` what `fit`
trains (the classifier, a `DomainAdaptationModel` or an `AdversarialTrainingModel`).
"""

import dataclasses
import os
import shutil
import time
from pathlib import Path

import keras

from astrokeras import __version__, data as data_lib
from astrokeras.errors import ConfigError
from astrokeras.experiments.methods import MethodContext, find_method
from astrokeras.experiments.optimizers import build_optimizer
from astrokeras.experiments.recipe import SELECTION, entry_options, score_of_monitor
from astrokeras.experiments.registry import DATA_KINDS, SCORES
from astrokeras.experiments.scores import selection_callback
from astrokeras.files import atomic_path, write_json_atomic
from astrokeras.selection import SelectionCallback, selection_first
from astrokeras.training.class_weights import class_weights

RUN_FILE = "run.json"
MODEL_FILE = "model.keras"
CLASSIFIER_FILE = "classifier.keras"
HISTORY_FILE = "history.csv"
BACKUP_DIR = "backup"


@dataclasses.dataclass
class RunResult:
    """What a finished run left behind.

    Attributes:
        directory: the run directory.
        model: the trained training model (wrapper or classifier).
        classifier: the trained classifier (what gets evaluated and exported).
        history: dict of per-epoch logs.
        manifest: the dataset manifest.
        resumed: whether the run continued from a backup.
        recipe: the validated recipe that was run.
    """

    directory: Path
    model: object
    classifier: object
    history: dict
    manifest: dict
    resumed: bool
    recipe: dict


def ensure_dataset(recipe, progress=None):
    """Returns the manifest of the recipe's dataset, simulating (or finishing) it if needed.

    Args:
        recipe: a validated recipe.
        progress: optional `progress(done, total)` callable for the simulation.

    Returns:
        The dataset manifest.

    Raises:
        ConfigError: the directory holds a dataset of another kind, or one stretched with
            another softening than `[data].softening`.
    """
    from astrokeras.data.shards import register_kind

    spec = recipe["data"]
    directory = Path(spec["directory"])
    simulation = DATA_KINDS.get(spec["kind"]).factory(spec)
    if _older_manifest(directory):
        # the shards are unchanged: refit the one preprocessing instead of simulating again
        data_lib.finalize(directory, c=spec["softening"])
    try:
        manifest = data_lib.load_manifest(directory)
    except FileNotFoundError:
        manifest = None
    if manifest is not None:
        if manifest["kind"] != simulation.kind:
            raise ConfigError(f"[data].directory {directory} holds a {manifest['kind']} dataset, "
                              f"the recipe asks for {spec['kind']}.", str(directory))
        _check_softening(spec, manifest, directory)
        return manifest
    register_kind(type(simulation))  # so the dataset's manifest can rebuild it
    return data_lib.write_dataset(simulation, spec["n"], directory,
                                  seed=recipe["experiment"]["seed"],
                                  workers=spec["workers"] or None, c=spec["softening"],
                                  progress=progress)


def _older_manifest(directory):
    """Whether `directory` holds a manifest of an older schema (one stretch per domain)."""
    import json

    from astrokeras.data.shards import MANIFEST, OLDER_SCHEMAS

    path = Path(directory) / MANIFEST
    try:
        return json.loads(path.read_text()).get("schema") in OLDER_SCHEMAS
    except (OSError, ValueError, AttributeError):
        return False


def _check_softening(spec, manifest, directory):
    """An existing dataset must have been stretched with the softening the recipe names."""
    if spec["softening"] is None:
        return
    stored = sorted({float(p["c"]) for p in [manifest["preprocessing"],
                                             *manifest["per_domain_preprocessing"].values()]})
    if any(abs(c - spec["softening"]) > 1e-12 * spec["softening"] for c in stored):
        raise ConfigError(
            f"[data].softening = {spec['softening']:g}, but the dataset in {directory} was "
            f"stretched with c = {', '.join(f'{c:g}' for c in stored)}; give another "
            "[data].directory, or restretch it with astrokeras.data.finalize(directory, "
            "c=...).", spec["softening"], f"{', '.join(f'{c:g}' for c in stored)}")


def run_preprocessing(recipe, manifest):
    """The clip + arcsinh stretch of a run: one transform for every domain, fitted on the source.

    `[data].preprocessing = "source"` (every method but one): the clip limits fitted on the
    source domain's training split (the manifest's `per_domain_preprocessing` entry of the
    source, which is its `preprocessing` when the source is the dataset's first domain), for
    source and target, training, validation and test alike. "per-domain"
    (`domain_normalisation`): each domain its own fit.

    Args:
        recipe: a validated recipe.
        manifest: the manifest of its dataset.

    Returns:
        `(preprocess, configs)`: the loaders' `preprocess` argument (a config dict, or
        "per-domain"), and `{"source": config, "target": config or None}`, the stretch
        each domain's images get (what run.json records and an export serves).
    """
    spec = recipe["data"]
    fits = manifest["per_domain_preprocessing"]
    if spec["preprocessing"] == data_lib.PER_DOMAIN:
        return data_lib.PER_DOMAIN, {role: None if spec[role] is None else fits[spec[role]]
                                     for role in ("source", "target")}
    one = fits[spec["source"]]
    return one, {"source": one, "target": None if spec["target"] is None else one}


def build_classifier(recipe, manifest, num_classes):
    """The recipe's architecture for the dataset's image shape and classes.

    Args:
        recipe: a validated recipe.
        manifest: the dataset manifest (its image shape).
        num_classes: the classes (or redshift bins) to predict.

    Returns:
        A `keras.Model` with a layer named "latent".
    """
    architecture, options = entry_options(recipe, "model")
    return architecture.factory(tuple(manifest["image_shape"]), num_classes, **options)


def _semi_supervised_pairs(directory, spec, common, batch, unknown, n_classes, seed):
    """Source batches paired with target batches of which a share carries labels.

    `[data].labeled_target` galaxies of each known class (`pick_labeled`, from the training
    split) are the labeled target; each target image is drawn from them with probability
    `[data].labeled_share` and otherwise from all the target training images, unlabeled.
    """
    import tensorflow as tf

    from astrokeras.training import UNLABELED

    known = [c for c in range(n_classes) if c != unknown]
    ids = data_lib.pick_labeled(directory, spec["labeled_target"], seed=seed, classes=known)
    source = data_lib.load(directory, spec["source"], "train", shuffle=True, **common)
    labeled = data_lib.load(directory, spec["target"], "train", shuffle=True, galaxy_ids=ids,
                            shuffle_seed=seed + 2, **common)
    if unknown >= 0:
        source, labeled = _known_classes(source, unknown), _known_classes(labeled, unknown)
    else:
        source, labeled = source.unbatch(), labeled.unbatch()
    unlabeled = data_lib.load(directory, spec["target"], "train", shuffle=True,
                              shuffle_seed=seed + 1, **common).unbatch().map(
        lambda x, y: (x, tf.constant(UNLABELED, y.dtype)))
    # A labeled image with probability `share`. Not `sample_from_datasets`: its seeded choices
    # restart with every epoch, so each epoch's batches would hold the same numbers of labels.
    share = float(spec["labeled_share"])
    draws = tf.data.Dataset.random(seed=seed + 3, rerandomize_each_iteration=True)
    choice = draws.map(lambda r: tf.cast(tf.cast(r % 1_000_000, tf.float64) < share * 1e6,
                                         tf.int64))
    target = tf.data.Dataset.choose_from_datasets([unlabeled.repeat(), labeled.repeat()],
                                                  choice)
    return data_lib.pair_domains(source.batch(batch, drop_remainder=True), target.batch(batch),
                                 target_labels=True)


def _known_classes(dataset, unknown):
    """Drops the held-out class and renumbers the classes above it."""
    import tensorflow as tf

    def keep(x, y):
        return tf.not_equal(y, unknown)

    def renumber(x, y):
        return x, y - tf.cast(y > unknown, y.dtype)

    return dataset.unbatch().filter(keep).map(renumber)


def _class_count(manifest):
    return len(manifest["classes"])


def _paired_datasets(directory, spec, common, batch, unknown, manifest):
    """Source + target training pairs of a domain-adaptation method."""
    seed = manifest["seed"]
    if spec.get("labeled_target", 0):
        return _semi_supervised_pairs(directory, spec, common, batch, unknown,
                                      len(manifest["classes"]), seed)
    if unknown >= 0:
        source = _known_classes(data_lib.load(directory, spec["source"], "train",
                                              shuffle=True, **common), unknown)
        target = data_lib.load(directory, spec["target"], "train", shuffle=True,
                               shuffle_seed=seed + 1, **common).map(lambda x, y: x)
        return data_lib.pair_domains(source.batch(batch, drop_remainder=True), target)
    return data_lib.load_domain_adaptation(directory, spec["source"], spec["target"], "train",
                                           **common)


def build_datasets(recipe, manifest):
    """Training and validation datasets for the recipe's method.

    The split by galaxy uses the dataset's own seed, so every run and every evaluation on a
    dataset share one train / validation / test split. The training set repeats; an epoch is
    `steps_per_epoch` batches (by default one pass over the source training galaxies). A
    domain-adaptation method (`paired` in its `METHODS` entry) trains on source + target pairs.

    No target label reaches `fit` unless `[data].target_labels` names the use: a
    domain-adaptation method is validated on `((source images, target images), source
    labels)` of the validation split (its logs: `val_loss`, `val_source_accuracy`,
    `val_transfer_loss`), every other method on the source validation split. With
    `[data].target_labels = "selection"` (oracle selection) the labelled target validation
    split is the validation data instead; with "semi-supervised" the labeled target galaxies
    enter the training pairs.

    Args:
        recipe: a validated recipe.
        manifest: the manifest of its dataset (`ensure_dataset`).

    Returns:
        `(train, validation, num_classes, class_counts, steps_per_epoch)`; `class_counts` is
        None when the labels are not classes (photo-z bins).
    """
    import tensorflow as tf

    spec = recipe["data"]
    paired = find_method(recipe["method"]["name"])[0].metadata.get("paired", False)
    directory, seed = spec["directory"], manifest["seed"]
    batch = recipe["training"]["batch_size"]
    per_class = manifest["counts"]["per_class"]
    counts = [per_class[c] for c in manifest["classes"]] or None
    num_classes = DATA_KINDS.get(spec["kind"]).metadata.get("num_classes", _class_count)(manifest)
    unknown = spec.get("unknown_class", -1)
    for role in ("source", "target"):
        domain = spec[role]
        if domain is not None and domain not in manifest["domains"]:
            raise ConfigError(f"[data].{role} {domain!r} is not a domain of {directory}.",
                              domain, manifest["domains"])
    common = dict(batch_size=batch, seed=seed, augment_images=spec["augment"],
                  preprocess=run_preprocessing(recipe, manifest)[0])
    held_out = unknown >= 0
    if held_out and unknown >= len(manifest["classes"]):
        raise ConfigError(f"[data].unknown_class {unknown} is not a class of {directory}.",
                          unknown, f"-1 or a class index below {len(manifest['classes'])}")
    if held_out:  # a class only the target holds: the source and the model never see it
        counts = [c for i, c in enumerate(counts) if i != unknown]
        num_classes -= 1
    if paired:
        train = _paired_datasets(directory, spec, common, batch, unknown, manifest)
    else:
        train = data_lib.load(directory, spec["source"], "train", **common)
        if held_out:
            train = _known_classes(train, unknown).batch(batch)
    if spec["target_labels"] == SELECTION:
        validation = labelled_validation(recipe, manifest, spec["target"])
    else:
        validation = labelled_validation(recipe, manifest, spec["source"])
        if paired:  # target images join the source pairs, without their labels
            validation = data_lib.pair_domains(validation, validation_images(recipe, manifest))
    if held_out:
        # Filtering hides the number of batches from Keras, which would then warn at the end
        # of every validation pass that the input "ran out of data".
        count = int(validation.reduce(0, lambda n, _: n + 1))
        validation = validation.apply(tf.data.experimental.assert_cardinality(count))
    n_train = len(data_lib.split_ids(manifest["n"], manifest["seed"])["train"])
    if held_out:
        known = 1.0 - per_class[manifest["classes"][unknown]] / manifest["n"]
        steps = int(n_train * known) // batch
    else:
        steps = -(-n_train // batch)
    steps = recipe["training"]["steps_per_epoch"] or steps
    if steps < 1:
        raise ConfigError("[training].batch_size is larger than the training set.",
                          batch, f"<= {n_train} training galaxies")
    train = train.repeat().prefetch(tf.data.AUTOTUNE)
    return train, validation, num_classes, counts, steps


def labelled_validation(recipe, manifest, domain):
    """The validation split of `domain` as `(images, labels)` batches, in a fixed order.

    A class held out of the source (`[data].unknown_class`) is left out and the classes
    above it renumbered, as the classifier predicts them.

    Args:
        recipe: a validated recipe.
        manifest: the manifest of its dataset.
        domain: a domain of the dataset.

    Returns:
        A `tf.data.Dataset` of `(images, labels)` batches of `[training].batch_size`.
    """
    batch = recipe["training"]["batch_size"]
    validation = data_lib.load(recipe["data"]["directory"], domain, "validation",
                               batch_size=batch, seed=manifest["seed"],
                               preprocess=run_preprocessing(recipe, manifest)[0])
    unknown = recipe["data"].get("unknown_class", -1)
    if unknown >= 0:
        validation = _known_classes(validation, unknown).batch(batch)
    return validation


def validation_images(recipe, manifest):
    """The target domain's validation images without their labels (every class), in order.

    Args:
        recipe: a validated recipe with a target domain.
        manifest: the manifest of its dataset.

    Returns:
        A `tf.data.Dataset` of image batches of `[training].batch_size`.
    """
    images = data_lib.load(recipe["data"]["directory"], recipe["data"]["target"], "validation",
                           batch_size=recipe["training"]["batch_size"], seed=manifest["seed"],
                           preprocess=run_preprocessing(recipe, manifest)[0])
    return images.map(lambda x, y: x)


def target_training_images(recipe, manifest):
    """The target domain's training images without their labels, in a fixed order.

    What a method's `after_fit` hook adapts to (AdaBN): the unlabelled target, read like the
    validation data (no shuffling, no augmentation) in batches of `[training].batch_size`.

    Args:
        recipe: a validated recipe.
        manifest: the manifest of its dataset.

    Returns:
        A `tf.data.Dataset` of image batches, or None when the recipe has no target domain.
    """
    spec = recipe["data"]
    if spec["target"] is None:
        return None
    images = data_lib.load(spec["directory"], spec["target"], "train",
                           batch_size=recipe["training"]["batch_size"], seed=manifest["seed"],
                           shuffle=False, augment_images=False,
                           preprocess=run_preprocessing(recipe, manifest)[0])
    return images.map(lambda x, y: x)


def trained_stretch(model_paths):
    """The loaders' `preprocess` for models saved by training runs, read from their run.json.

    A model saved by `astrokeras train` sits beside the run.json that records its recipe: its
    domains get the one source-fitted stretch (a config dict), or each its own fit for
    normalisation-based adaptation ("per-domain"). A model without a run.json beside it gets
    True (the dataset manifest's one preprocessing).

    Args:
        model_paths: paths of saved models (`.keras` files).

    Returns:
        One `preprocess` value for all of them.

    Raises:
        InvalidArgumentError: the models were trained with different stretches, so one
            reading of the images cannot serve them all.
    """
    import json

    from astrokeras.errors import InvalidArgumentError

    found = {}
    for path in model_paths:
        run_file = Path(path).parent / RUN_FILE
        preprocess = True
        if run_file.is_file():
            try:
                info = json.loads(run_file.read_text())
                data = info["recipe"]["data"]
                stretches = info["preprocessing"]
            except (OSError, ValueError, KeyError, TypeError):
                info = None
            if info is not None and isinstance(stretches, dict):
                preprocess = data_lib.PER_DOMAIN if data.get("preprocessing") == \
                    data_lib.PER_DOMAIN else stretches.get("source", True)
        found[str(path)] = preprocess
    distinct = {json.dumps(value, sort_keys=True) for value in found.values()}
    if len(distinct) > 1:
        raise InvalidArgumentError(
            "The models were trained with different image stretches (their run.json "
            "preprocessing differs); evaluate them separately.", found,
            "models of runs with one stretch")
    return next(iter(found.values()), True)


def finished_run(directory, recipe):
    """Whether `directory` holds a finished run of exactly `recipe` (to reuse, not retrain).

    Args:
        directory: a run directory.
        recipe: a validated recipe.

    Returns:
        True when its run.json records this recipe and the classifier was saved; a run of
        another recipe (or of an older astrokeras whose recipes lacked a key) is not reused.
    """
    import json

    directory = Path(directory)
    if not (directory / RUN_FILE).is_file() or not (directory / CLASSIFIER_FILE).is_file():
        return False
    try:
        stored = json.loads((directory / RUN_FILE).read_text()).get("recipe")
    except (OSError, ValueError, AttributeError):
        return False
    return stored == json.loads(json.dumps(recipe))


def _callbacks(training, directory, monitor):
    callbacks = [
        keras.callbacks.BackupAndRestore(
            str(directory / BACKUP_DIR),
            save_freq=training["checkpoint_every"] or "epoch", delete_checkpoint=True),
        keras.callbacks.CSVLogger(str(directory / HISTORY_FILE), append=True),
        keras.callbacks.TensorBoard(str(directory / "logs"), write_graph=False),
    ]
    if training["early_stopping_patience"]:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor=monitor, mode=monitor_mode(monitor),
            patience=training["early_stopping_patience"], restore_best_weights=True))
    return callbacks


def _selection_for_monitor(recipe, manifest, monitor, extra_callbacks):
    """The selection callback a `val_<score>` monitor needs, or None.

    None when the monitor is no score, or when a callback among `extra_callbacks` already
    logs it.
    """
    name = score_of_monitor(monitor)
    if name is None or any(monitor in (score.monitor for score in callback.scores)
                           for callback in extra_callbacks
                           if isinstance(callback, SelectionCallback)):
        return None
    entry = SCORES.get(name)
    source = None
    if entry.metadata["needs_source"] or entry.metadata["needs_source_labels"]:
        source = labelled_validation(recipe, manifest, recipe["data"]["source"])
    return selection_callback(name, validation_images(recipe, manifest), source=source,
                              batch_size=recipe["training"]["batch_size"],
                              seed=recipe["experiment"]["seed"])


def oracle_accuracy(recipe, manifest, classifier):
    """The classifier's accuracy on the labelled target validation split: an oracle.

    Target labels exist in simulations only, never for the real target: this number is
    reported beside the label-free results and is never used to select a model.

    Args:
        recipe: a validated recipe.
        manifest: the manifest of its dataset.
        classifier: the trained classifier.

    Returns:
        `{"target_validation_accuracy": float}`, or None without a target domain.
    """
    import numpy as np

    if recipe["data"]["target"] is None:
        return None
    correct = total = 0
    for images, labels in labelled_validation(recipe, manifest, recipe["data"]["target"]):
        predicted = np.argmax(keras.ops.convert_to_numpy(classifier(images, training=False)),
                              axis=-1)
        correct += int(np.sum(predicted == labels.numpy()))
        total += len(predicted)
    return {"target_validation_accuracy": correct / total if total else None}


def monitor_mode(monitor):
    """Whether `monitor` is better higher ("max") or lower ("min").

    A label-free selection score (`val_<name>` of a `SCORES` entry) has its own direction;
    otherwise accuracies are maximised and everything else (losses) minimised.

    Example:

    >>> monitor_mode("val_snd"), monitor_mode("val_dev"), monitor_mode("val_target_accuracy")
    ('max', 'min', 'max')
    """
    name = monitor[len("val_"):] if monitor.startswith("val_") else None
    if name is not None and name in SCORES:
        return SCORES.get(name).metadata["mode"]
    return "max" if "accuracy" in monitor else "min"


def run_recipe(recipe, output=None, progress=None, verbose=1, extra_callbacks=()):
    """Trains the recipe's model; resumes from the run directory's backup if there is one.

    The run directory receives the trained model (`model.keras`, and `classifier.keras` for the
    classifier alone), the recipe and run metadata (`run.json`), the history (`history.csv`),
    TensorBoard logs (`logs/`) and, while training, a backup (`backup/`) from which an
    interrupted run continues: run the same call again. A method's `after_fit` hook
    (`TrainingSetup.after_fit`: AdaBN) runs once `fit` has finished, on the target's unlabelled
    training images (`target_training_images`), before the models are saved; what it returns
    is recorded in run.json as `after_fit`.

    Selection is label-free unless `[data].target_labels = "selection"` (see
    `build_datasets`). A `[training].monitor = "val_<score>"` naming a `SCORES` entry adds
    that score's selection callback (on the target validation images, and the labelled source
    validation split where the score needs it), so early stopping and the history read it.
    Where the target domain has labels, run.json records the final classifier's accuracy on
    the target validation split as `oracle` (`{"target_validation_accuracy": ...}`), computed
    after `fit`: an oracle to report beside the label-free choice, never used for selection.

    Args:
        recipe: a validated recipe (`load_recipe`).
        output: run directory; default the recipe's `[experiment].output`.
        progress: optional `progress(done, total)` for the simulation step.
        verbose: Keras `fit` verbosity.
        extra_callbacks: more Keras callbacks (a `SelectionCallback` among them runs first, so
            early stopping and the history see its `val_<score>`).

    Returns:
        A `RunResult`.
    """
    directory = Path(output or recipe["experiment"]["output"])
    directory.mkdir(parents=True, exist_ok=True)
    seed = recipe["experiment"]["seed"]
    keras.utils.set_random_seed(seed)
    manifest = ensure_dataset(recipe, progress=progress)
    train, validation, num_classes, counts, steps = build_datasets(recipe, manifest)
    classifier = build_classifier(recipe, manifest, num_classes)
    weights = None
    if counts is not None and recipe["method"]["class_weights"]:
        weights = tuple(float(w) for w in class_weights(counts=counts))
    method, options = entry_options(recipe, "method")
    setup = method.factory(classifier, options, MethodContext(num_classes, weights, seed))

    training = recipe["training"]
    setup.model.compile(optimizer=build_optimizer(recipe, steps * training["epochs"]),
                        jit_compile=training["jit_compile"], **setup.compile_options)
    monitor = training["monitor"] or setup.monitor
    selection = _selection_for_monitor(recipe, manifest, monitor, extra_callbacks)
    # a selection callback writes the val_<score> that early stopping and the logs then read
    callbacks = selection_first(([selection] if selection else [])
                                + _callbacks(training, directory, monitor)
                                + list(extra_callbacks))
    resumed = (directory / BACKUP_DIR).exists()
    if not resumed and (directory / HISTORY_FILE).exists():
        os.remove(directory / HISTORY_FILE)  # a fresh run starts a fresh history

    started = time.time()
    # The training set is a tf.data pipeline that shuffles itself: `shuffle` is for arrays.
    history = setup.model.fit(train, validation_data=validation, epochs=training["epochs"],
                              steps_per_epoch=steps, callbacks=callbacks, verbose=verbose,
                              shuffle=False, **setup.fit_options)
    elapsed = time.time() - started
    adapted = None
    if setup.after_fit is not None:
        adapted = setup.after_fit(target_training_images(recipe, manifest))

    _save(setup.model, directory / MODEL_FILE)
    _save(classifier, directory / CLASSIFIER_FILE)
    write_json_atomic(directory / RUN_FILE, {
        "astrokeras_version": __version__,
        "recipe": recipe,
        "dataset": {"directory": str(recipe["data"]["directory"]), "kind": manifest["kind"],
                    "n": manifest["n"], "seed": manifest["seed"]},
        # the stretch of each domain's images: the one source-fitted transform for both,
        # unless the method is normalisation-based adaptation
        "preprocessing": run_preprocessing(recipe, manifest)[1],
        "num_classes": num_classes,
        "class_weights": None if weights is None else list(weights),
        "resumed": resumed,
        "train_seconds": elapsed,
        "final_logs": {k: float(v[-1]) for k, v in history.history.items() if v},
        "after_fit": adapted,
        # target labels of the simulation, after training: reported, never used to select
        "oracle": oracle_accuracy(recipe, manifest, classifier),
    })
    return RunResult(directory=directory, model=setup.model, classifier=classifier,
                     history=history.history, manifest=manifest, resumed=resumed, recipe=recipe)


def _save(model, path):
    with atomic_path(path) as temporary:
        model.save(temporary)


def clear_run(directory):
    """Deletes a run directory's backup so the next run starts from scratch."""
    shutil.rmtree(Path(directory) / BACKUP_DIR, ignore_errors=True)
