"""Runs a training recipe: data, model, method, optimizer, callbacks, run directory."""

import json
import os
import shutil
import time
from pathlib import Path

import keras
import numpy as np

from astrokeras import __version__, data as data_lib, models
from astrokeras.errors import ConfigError
from astrokeras.training.adversarial_training_model import AdversarialTrainingModel
from astrokeras.training.attack_specs import FGSM, PGD
from astrokeras.training.class_weights import weights_from_counts
from astrokeras.training.domain_adaptation_model import DomainAdaptationModel
from astrokeras.training.methods import CORAL, DANN, MMD, UniversalDA
from astrokeras.training.one_cycle import OneCycle

RUN_FILE = "run.json"
MODEL_FILE = "model.keras"
CLASSIFIER_FILE = "classifier.keras"
HISTORY_FILE = "history.csv"

_SIMULATIONS = {
    "morphology": lambda size: data_lib.MorphologySimulation(size=size),
    "deepmerge": lambda size: data_lib.DeepMergeSimulation(size=size),
    "photoz": lambda size: data_lib.PhotoZSimulation(size=size),
}
_DEFAULT_WEIGHTS = {"mmd": 0.05, "dann": 1.0, "coral": 1.0, "universal": 0.05}


class RunResult:
    """What a finished run left behind.

    Attributes:
        directory: the run directory.
        model: the trained training model (wrapper or classifier).
        classifier: the trained classifier (what gets evaluated and exported).
        history: dict of per-epoch logs.
        manifest: the dataset manifest.
        resumed: whether the run continued from a backup.
    """

    def __init__(self, directory, model, classifier, history, manifest, resumed):
        self.directory = Path(directory)
        self.model = model
        self.classifier = classifier
        self.history = history
        self.manifest = manifest
        self.resumed = resumed


def ensure_dataset(recipe, progress=None):
    """Returns the manifest of the recipe's dataset, simulating (or finishing) it if needed.

    Args:
        recipe: a validated recipe.
        progress: optional `progress(done, total)` callable for the simulation.

    Returns:
        The dataset manifest.
    """
    spec = recipe["data"]
    directory = Path(spec["directory"])
    try:
        manifest = data_lib.load_manifest(directory)
    except FileNotFoundError:
        manifest = None
    if manifest is not None:
        if manifest["kind"] != spec["kind"]:
            raise ConfigError(f"[data].directory {directory} holds a {manifest['kind']} dataset, "
                              f"the recipe asks for {spec['kind']}.", str(directory))
        _check_softening(spec, manifest, directory)
        return manifest
    simulation = _SIMULATIONS[spec["kind"]](spec["size"])
    manifest = data_lib.write_dataset(simulation, spec["n"], directory,
                                      seed=recipe["experiment"]["seed"],
                                      workers=spec["workers"] or None, c=spec["softening"],
                                      progress=progress)
    return manifest


def _check_softening(spec, manifest, directory):
    """An existing dataset must have been stretched with the softening the recipe names."""
    if spec["softening"] is None:
        return
    stored = sorted({float(p["c"]) for p in manifest["preprocessing"].values()})
    if any(abs(c - spec["softening"]) > 1e-12 * spec["softening"] for c in stored):
        raise ConfigError(
            f"[data].softening = {spec['softening']:g}, but the dataset in {directory} was "
            f"stretched with c = {', '.join(f'{c:g}' for c in stored)}; give another "
            "[data].directory, or restretch it with astrokeras.data.finalize(directory, "
            "c=...).", spec["softening"], f"{', '.join(f'{c:g}' for c in stored)}")


def build_classifier(recipe, manifest, num_classes):
    """The recipe's architecture for the dataset's image shape and classes."""
    architecture = recipe["model"]["architecture"]
    shape = tuple(manifest["image_shape"])
    options = {}
    if recipe["model"]["latent_dim"] is not None and architecture in ("convnet", "resnet18"):
        options["latent_dim"] = recipe["model"]["latent_dim"]
    if recipe["model"]["dropout"] is not None and architecture == "resnet18":
        options["dropout"] = recipe["model"]["dropout"]
    factory = getattr(models, architecture)
    if architecture in ("inception_photoz", "simple_photoz_cnn"):
        return factory(image_shape=shape, num_bins=num_classes, **options)
    return factory(input_shape=shape, num_classes=num_classes, **options)


def _optimizer(recipe, total_steps):
    spec = recipe["optimizer"]
    learning_rate = spec["learning_rate"]
    if spec["schedule"] == "one_cycle":
        learning_rate = OneCycle(max_lr=learning_rate, total_steps=total_steps)
    elif spec["schedule"] == "cosine":
        # ends at 1 % of the rate: the last epochs settle instead of swinging from epoch to
        # epoch, which at a constant rate moved Y1 accuracy by up to 30 points (issue 8)
        learning_rate = keras.optimizers.schedules.CosineDecay(
            learning_rate, decay_steps=total_steps, alpha=0.01)
    kwargs = dict(learning_rate=learning_rate, beta_1=spec["beta_1"], beta_2=spec["beta_2"])
    if spec["name"] == "adamw":
        return keras.optimizers.AdamW(weight_decay=spec["weight_decay"] or 0.004, **kwargs)
    return keras.optimizers.Adam(weight_decay=spec["weight_decay"] or None, **kwargs)


def _method(recipe, num_classes):
    spec = recipe["method"]
    name = spec["name"]
    weight = spec["weight"] if spec["weight"] is not None else _DEFAULT_WEIGHTS.get(name)
    if name == "mmd":
        return MMD(weight=weight, estimator=spec["estimator"])
    if name == "dann":
        hidden = tuple(spec["hidden"]) if spec["hidden"] else (1024, 1024)
        return DANN(weight=weight, hidden=hidden, dropout=spec["dropout"],
                    schedule=spec["schedule"])
    if name == "coral":
        return CORAL(weight=weight)
    if name == "universal":
        return UniversalDA(num_classes=num_classes, weight=weight)
    return None


def _attack(recipe):
    spec = recipe["method"]
    clip = (0.0, 1.0)  # the clip + arcsinh stretch maps images into [0, 1]
    if spec["name"] == "fgsm":
        return FGSM(eps=spec["eps"], clip=clip)
    step = spec["step"] if spec["step"] is not None else spec["eps"] / 4.0
    return PGD(eps=spec["eps"], step=step, steps=spec["steps"], clip=clip,
               seed=recipe["experiment"]["seed"])


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


def build_datasets(recipe, manifest):
    """Training and validation datasets for the recipe's method.

    The split by galaxy uses the dataset's own seed, so every run and every evaluation on a
    dataset share one train / validation / test split. The training set repeats; an epoch is
    `steps_per_epoch` batches (by default one pass over the source training galaxies).

    Returns:
        `(train, validation, num_classes, class_counts, steps_per_epoch)`.
    """
    import tensorflow as tf

    spec, method = recipe["data"], recipe["method"]["name"]
    directory, seed = spec["directory"], manifest["seed"]
    batch = recipe["training"]["batch_size"]
    photoz = manifest["kind"] == "photoz"
    counts = [manifest["counts"]["per_class"][c] for c in manifest["classes"]]
    num_classes = manifest["simulation"]["num_bins"] if photoz else len(manifest["classes"])
    unknown = spec["unknown_class"]
    for role in ("source", "target"):
        domain = spec[role]
        if domain is not None and domain not in manifest["domains"]:
            raise ConfigError(f"[data].{role} {domain!r} is not a domain of {directory}.",
                              domain, manifest["domains"])
    common = dict(batch_size=batch, seed=seed, augment_images=spec["augment"])
    held_out = unknown >= 0
    if held_out and (photoz or unknown >= len(manifest["classes"])):
        raise ConfigError(f"[data].unknown_class {unknown} is not a class of {directory}.",
                          unknown, f"-1 or a class index below {len(manifest['classes'])}"
                          if not photoz else "-1 for a photo-z dataset")
    if held_out:  # a class only the target holds: the source and the model never see it
        counts = [c for i, c in enumerate(counts) if i != unknown]
        num_classes -= 1
    if method in ("mmd", "dann", "coral", "universal"):
        if spec["labeled_target"]:
            train = _semi_supervised_pairs(directory, spec, common, batch, unknown,
                                           len(manifest["classes"]), seed)
        elif held_out:
            source = _known_classes(data_lib.load(directory, spec["source"], "train",
                                                  shuffle=True, **common), unknown)
            target = data_lib.load(directory, spec["target"], "train", shuffle=True,
                                   shuffle_seed=seed + 1, **common).map(lambda x, y: x)
            train = data_lib.pair_domains(source.batch(batch, drop_remainder=True), target)
        else:
            train = data_lib.load_domain_adaptation(directory, spec["source"], spec["target"],
                                                    "train", **common)
        validation = data_lib.load(directory, spec["target"], "validation", batch_size=batch,
                                   seed=seed)
    else:
        train = data_lib.load(directory, spec["source"], "train", **common)
        if held_out:
            train = _known_classes(train, unknown).batch(batch)
        validation = data_lib.load(directory, spec["target"] or spec["source"], "validation",
                                   batch_size=batch, seed=seed)
    if held_out:
        validation = _known_classes(validation, unknown).batch(batch)
    n_train = len(data_lib.split_ids(manifest["n"], manifest["seed"])["train"])
    if held_out:
        known = 1.0 - manifest["counts"]["per_class"][manifest["classes"][unknown]] / manifest["n"]
        steps = int(n_train * known) // batch
    else:
        steps = -(-n_train // batch)
    steps = recipe["training"]["steps_per_epoch"] or steps
    if steps < 1:
        raise ConfigError("[training].batch_size is larger than the training set.",
                          batch, f"<= {n_train} training galaxies")
    train = train.repeat().prefetch(tf.data.AUTOTUNE)
    return train, validation, num_classes, (None if photoz else counts), steps


def run_recipe(recipe, output=None, progress=None, verbose=1, extra_callbacks=()):
    """Trains the recipe's model; resumes from the run directory's backup if there is one.

    The run directory receives the trained model (`model.keras`, and `classifier.keras` for the
    classifier alone), the recipe and run metadata (`run.json`), the history (`history.csv`),
    TensorBoard logs (`logs/`) and, while training, a backup (`backup/`) from which an
    interrupted run continues: run the same call again.

    Args:
        recipe: a validated recipe (`load_recipe`).
        output: run directory; default the recipe's `[experiment].output`.
        progress: optional `progress(done, total)` for the simulation step.
        verbose: Keras `fit` verbosity.
        extra_callbacks: more Keras callbacks.

    Returns:
        A `RunResult`.
    """
    directory = Path(output or recipe["experiment"]["output"])
    directory.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(recipe["experiment"]["seed"])
    manifest = ensure_dataset(recipe, progress=progress)
    train, validation, num_classes, counts, steps = build_datasets(recipe, manifest)
    classifier = build_classifier(recipe, manifest, num_classes)
    method_name = recipe["method"]["name"]
    weights = None
    if counts is not None and recipe["method"]["class_weights"]:
        weights = weights_from_counts(counts)

    training = recipe["training"]
    total_steps = steps * training["epochs"]
    optimizer = _optimizer(recipe, total_steps)
    fit_kwargs = {}
    if method_name in ("mmd", "dann", "coral", "universal"):
        model = DomainAdaptationModel(classifier, _method(recipe, num_classes),
                                      class_weights=weights)
        model.compile(optimizer=optimizer, jit_compile=training["jit_compile"])
        monitor = training["monitor"] or "val_target_accuracy"
    else:
        if method_name in ("fgsm", "pgd"):
            model = AdversarialTrainingModel(classifier, _attack(recipe),
                                             fraction=recipe["method"]["fraction"],
                                             label_source=recipe["method"]["label_source"],
                                             seed=recipe["experiment"]["seed"])
        else:
            model = classifier
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], jit_compile=training["jit_compile"])
        if weights is not None:
            fit_kwargs["class_weight"] = {i: float(w) for i, w in enumerate(weights)}
        monitor = training["monitor"] or "val_loss"

    callbacks = [
        keras.callbacks.BackupAndRestore(
            str(directory / "backup"),
            save_freq=training["checkpoint_every"] or "epoch", delete_checkpoint=True),
        keras.callbacks.CSVLogger(str(directory / HISTORY_FILE), append=True),
        keras.callbacks.TensorBoard(str(directory / "logs"), write_graph=False),
    ]
    if training["early_stopping_patience"]:
        mode = "max" if "accuracy" in monitor else "min"
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor=monitor, mode=mode, patience=training["early_stopping_patience"],
            restore_best_weights=True))
    callbacks.extend(extra_callbacks)
    resumed = (directory / "backup").exists()
    if not resumed and (directory / HISTORY_FILE).exists():
        os.remove(directory / HISTORY_FILE)  # a fresh run starts a fresh history

    started = time.time()
    history = model.fit(train, validation_data=validation, epochs=training["epochs"],
                        steps_per_epoch=steps, callbacks=callbacks,
                        verbose=verbose, **fit_kwargs)
    elapsed = time.time() - started

    _save_atomic(model, directory / MODEL_FILE)
    _save_atomic(classifier, directory / CLASSIFIER_FILE)
    run_info = {
        "astrokeras_version": __version__,
        "recipe": recipe,
        "dataset": {"directory": str(recipe["data"]["directory"]), "kind": manifest["kind"],
                    "n": manifest["n"], "seed": manifest["seed"],
                    "preprocessing": manifest["preprocessing"]},
        "num_classes": num_classes,
        "class_weights": None if weights is None else [float(w) for w in weights],
        "resumed": resumed,
        "train_seconds": elapsed,
        "final_logs": {k: float(v[-1]) for k, v in history.history.items() if v},
    }
    _write_json_atomic(directory / RUN_FILE, run_info)
    return RunResult(directory, model, classifier, history.history, manifest, resumed)


def _save_atomic(model, path):
    temporary = path.with_name(f".{path.stem}.partial.keras")
    model.save(temporary)
    os.replace(temporary, path)


def _write_json_atomic(path, obj):
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(json.dumps(obj, indent=2, default=_json_default))
    os.replace(temporary, path)


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return str(value)


def clear_run(directory):
    """Deletes a run directory's backup so the next run starts from scratch."""
    shutil.rmtree(Path(directory) / "backup", ignore_errors=True)
