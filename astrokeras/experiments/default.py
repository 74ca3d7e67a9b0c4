"""The built-in default experiment: ConvNet on LSST Y10 -> Y1, regular, AdaBN and MMD.

A small version of Ciprijanovic et al. 2022's first experiment that runs in minutes on a
laptop CPU: `astrokeras train` with no recipe simulates (or reuses) the data set in the cache
directory, trains the regular and the MMD ConvNet (or reuses finished runs), adapts a copy of
the regular one with AdaBN, and evaluates the three on the test split of both domains, with
the one preprocessing (clip limits fitted on the Y10 training split) for every domain, and
selected without target labels (the last epoch). For Y1, the unlabelled target, it reports
what a survey has without labels (the label-free shift diagnostics: domain-classifier AUC and
MMD on the latent space, mean prediction entropy) and, beside them, the accuracy the
simulation's labels give: an oracle column, never used for a choice. The report is written
to `metrics.json`; the CLI prints it as a table.
"""

import time
from pathlib import Path

from astrokeras.experiments.recipe import validate_recipe
from astrokeras.experiments.run import (CLASSIFIER_FILE, clear_run, finished_run,
                                        run_preprocessing, run_recipe, target_training_images)
from astrokeras.files import write_json_atomic
from astrokeras.saving import load_model

DEFAULT_N = 3000
DEFAULT_SIZE = 64
DEFAULT_EPOCHS = 12
#: The metrics of Ciprijanovic et al. 2022's Table 2, in its column order.
TABLE_METRICS = ("accuracy", "precision", "recall", "f1")
METRICS_FILE = "metrics.json"
#: The rows of the report: the trained runs and AdaBN, derived from the regular run.
MODELS = ("regular", "adabn", "mmd")


def default_recipes(cache_dir="~/.cache/astrokeras", output="runs/default", n=DEFAULT_N,
                    size=DEFAULT_SIZE, epochs=DEFAULT_EPOCHS, seed=0):
    """The two recipes of the default experiment, validated.

    Args:
        cache_dir: where the simulated data set is kept (and reused).
        output: parent directory of the two run directories.
        n: galaxies to simulate (each observed at Y10 and Y1 depth).
        size: image side in pixels.
        epochs: training epochs of each model.
        seed: seed of the data set and of the training.

    Returns:
        A dict {"regular": recipe, "mmd": recipe}.

    Example:

    >>> recipes = default_recipes(n=100, size=32, epochs=1)
    >>> [(name, r["method"]["name"], r["data"]["target"]) for name, r in recipes.items()]
    [('regular', 'none', 'y1'), ('mmd', 'mmd', 'y1')]
    """
    directory = Path(cache_dir).expanduser() / f"morphology_n{n}_s{size}_seed{seed}"
    recipes = {}
    for name, method in (("regular", {"name": "none"}), ("mmd", {"name": "mmd"})):
        recipes[name] = validate_recipe({
            "experiment": {"name": f"default_{name}", "seed": seed,
                           "output": str(Path(output) / name),
                           "description": "ConvNet, LSST Y10 -> Y1 (Ciprijanovic 2022, small)"},
            "data": {"kind": "morphology", "directory": str(directory), "n": n, "size": size},
            "model": {"architecture": "convnet"},
            "method": method,
            "optimizer": {"name": "adam", "learning_rate": 1e-3, "beta_1": 0.7, "beta_2": 0.8,
                          "schedule": "cosine"},
            "training": {"epochs": epochs, "batch_size": 64},
        }, source="default recipe")
    return recipes


def run_default(output="runs/default", cache_dir="~/.cache/astrokeras", n=None, size=None,
                epochs=None, fresh=False, verbose=2, progress=None, log=None):
    """Runs the default experiment: regular, AdaBN and MMD ConvNets, Y10 -> Y1.

    The regular and MMD models are trained with `run_recipe` unless their run directories
    hold finished runs of the same recipes (kept unless `fresh`). AdaBN is the regular
    classifier with its batch-norm statistics set from the unlabelled Y1 training images
    (`astrokeras.training.adapt_batch_norm`): the computation `[method].name = "adabn"` makes
    after the same training. Each model is evaluated on the test split of both domains:
    Table 2's metrics, and the label-free shift diagnostics from Y10 to Y1
    (`astrokeras.evaluation.shift_diagnostics`, on disjoint halves of the test galaxies). The
    report is also written to `output/metrics.json`.

    Args:
        output: parent folder of the two runs and of `metrics.json`.
        cache_dir: where the simulated data set is kept and reused.
        n: galaxies to simulate (default `DEFAULT_N`).
        size: image side in pixels (default `DEFAULT_SIZE`).
        epochs: epochs of each model (default `DEFAULT_EPOCHS`).
        fresh: retrain both models (and discard interrupted runs' backups).
        verbose: Keras `fit` verbosity.
        progress: optional `progress(done, total)` called while the data set is simulated.
        log: optional `log(message)` told which run is trained or reused, before it starts.

    Returns:
        The report (plain data): `experiment`, `data` (the recipes' `[data]`), `domains`
        (source, target), `metrics` (`{model: {domain: {accuracy, precision, recall, f1}}}`
        for the models of `MODELS`; the target's are oracle figures), `shift` (`{model:
        shift_diagnostics dict}`, label-free), `preprocessing` (the one stretch), `runs`
        (`{name: {"directory", "reused"}}`), `seconds` and `metrics_file`.
    """
    from astrokeras import data as data_lib
    from astrokeras.evaluation import shift_diagnostics
    from astrokeras.training import adapt_batch_norm

    options = {key: value for key, value in (("n", n), ("size", size), ("epochs", epochs))
               if value is not None}
    output = Path(output)
    recipes = default_recipes(cache_dir=cache_dir, output=output, **options)
    log = log or (lambda message: None)
    started = time.time()
    classifiers, runs = {}, {}
    for name, recipe in recipes.items():
        directory = Path(recipe["experiment"]["output"])
        reused = not fresh and finished_run(directory, recipe)
        if reused:
            log(f"{name}: reusing the finished run in {directory}")
        else:
            log(f"{name}: training {recipe['model']['architecture']} "
                f"({recipe['method']['name']}) -> {directory}")
            if fresh:
                clear_run(directory)
            run_recipe(recipe, progress=progress, verbose=verbose)
        classifiers[name] = load_model(directory / CLASSIFIER_FILE)
        runs[name] = {"directory": str(directory), "reused": reused}
    regular = recipes["regular"]
    manifest = data_lib.load_manifest(regular["data"]["directory"])
    log("adabn: the regular classifier with the Y1 training images' batch-norm statistics")
    classifiers["adabn"] = load_model(Path(runs["regular"]["directory"]) / CLASSIFIER_FILE)
    adapt_batch_norm(classifiers["adabn"], target_training_images(regular, manifest))
    source, target = regular["data"]["source"], regular["data"]["target"]
    test = {domain: _test_split(regular, manifest, domain) for domain in (source, target)}
    metrics, shift = {}, {}
    for name in MODELS:
        metrics[name] = {domain: _table_metrics(classifiers[name], *test[domain])
                         for domain in (source, target)}
        shift[name] = shift_diagnostics(classifiers[name], test[source][0], test[target][0],
                                        paired=True, batch_size=256,
                                        seed=regular["experiment"]["seed"])
    report = {"experiment": "default: ConvNet regular, AdaBN and MMD, Y10 -> Y1",
              "data": regular["data"], "domains": [source, target], "metrics": metrics,
              "shift": shift, "preprocessing": run_preprocessing(regular, manifest)[1],
              "selection": "the last epoch of a fixed schedule (no target label)",
              "oracle": f"{target} metrics use the simulation's labels: reported, never "
                        "used to choose",
              "runs": runs, "seconds": round(time.time() - started, 1),
              "metrics_file": str(output / METRICS_FILE)}
    write_json_atomic(output / METRICS_FILE, report)
    return report


def _test_split(recipe, manifest, domain):
    """`(images, labels)` of `domain`'s test split, stretched as the run stretched them."""
    import numpy as np

    from astrokeras import data

    batches = list(data.load(recipe["data"]["directory"], domain, "test", batch_size=256,
                             shuffle=False, augment_images=False,
                             preprocess=run_preprocessing(recipe, manifest)[0]))
    return (np.concatenate([x.numpy() for x, _ in batches]),
            np.concatenate([y.numpy() for _, y in batches]))


def _table_metrics(classifier, images, labels):
    """Table 2's metrics of `classifier` on `images` with their `labels`."""
    import keras
    import numpy as np

    from astrokeras.evaluation import classification_metrics

    # eager batches: Model.predict would compile a new function for each of the models
    probabilities = np.concatenate([
        keras.ops.convert_to_numpy(classifier(images[i:i + 256], training=False))
        for i in range(0, len(images), 256)])
    metrics = classification_metrics(labels, probabilities)
    return {key: metrics[key] for key in TABLE_METRICS}
