"""The built-in default experiment: ConvNet on LSST Y10 -> Y1, regular and with MMD.

A small version of Ciprijanovic et al. 2022's first experiment that runs in minutes on a
laptop CPU: `astrokeras train` with no recipe simulates (or reuses) the data set in the cache
directory, trains both models (or reuses finished runs), evaluates them on the test split of
both domains and writes `metrics.json`; the CLI prints the paper's Table 2 layout.
"""

import time
from pathlib import Path

from astrokeras.experiments.recipe import validate_recipe
from astrokeras.experiments.run import (CLASSIFIER_FILE, RUN_FILE, clear_run, finished_run,
                                        run_preprocessing, run_recipe)
from astrokeras.files import write_json_atomic
from astrokeras.saving import load_model

DEFAULT_N = 3000
DEFAULT_SIZE = 64
DEFAULT_EPOCHS = 12
#: The metrics of Ciprijanovic et al. 2022's Table 2, in its column order.
TABLE_METRICS = ("accuracy", "precision", "recall", "f1")
METRICS_FILE = "metrics.json"


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
    """Runs the default experiment: regular and MMD ConvNets, Y10 -> Y1, Table 2 metrics.

    Each model is trained with `run_recipe` unless its run directory holds a finished run
    (kept unless `fresh`), then evaluated on the test split of the source (Y10) and target
    (Y1) domains. The report is also written to `output/metrics.json`.

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
        (source, target), `metrics` (`{"regular" | "mmd": {domain: {accuracy, precision,
        recall, f1}}}`), `runs` (`{name: {"directory", "reused"}}`), `seconds` and
        `metrics_file`.
    """
    options = {key: value for key, value in (("n", n), ("size", size), ("epochs", epochs))
               if value is not None}
    output = Path(output)
    recipes = default_recipes(cache_dir=cache_dir, output=output, **options)
    log = log or (lambda message: None)
    started = time.time()
    metrics, runs = {}, {}
    for name, recipe in recipes.items():
        directory = Path(recipe["experiment"]["output"])
        reused = not fresh and finished_run(directory, recipe)
        if reused:
            log(f"{name}: reusing the finished run in {directory}")
            classifier = load_model(directory / CLASSIFIER_FILE)
        else:
            log(f"{name}: training {recipe['model']['architecture']} "
                f"({recipe['method']['name']}) -> {directory}")
            if fresh:
                clear_run(directory)
            classifier = run_recipe(recipe, progress=progress, verbose=verbose).classifier
        runs[name] = {"directory": str(directory), "reused": reused}
        metrics[name] = {domain: _table_metrics(classifier, recipe, domain)
                         for domain in (recipe["data"]["source"], recipe["data"]["target"])}
    data = recipes["regular"]["data"]
    report = {"experiment": "default: ConvNet regular vs MMD, Y10 -> Y1", "data": data,
              "domains": [data["source"], data["target"]], "metrics": metrics, "runs": runs,
              "seconds": round(time.time() - started, 1),
              "metrics_file": str(output / METRICS_FILE)}
    write_json_atomic(output / METRICS_FILE, report)
    return report


def _table_metrics(classifier, recipe, domain):
    """Table 2's metrics of `classifier` on the test split of `domain`, stretched as trained."""
    import numpy as np

    from astrokeras import data
    from astrokeras.evaluation import classification_metrics

    directory = recipe["data"]["directory"]
    preprocess = run_preprocessing(recipe, data.load_manifest(directory))[0]
    test = data.load(directory, domain, "test", batch_size=256, preprocess=preprocess)
    labels = np.concatenate([y.numpy() for _, y in test])
    probabilities = classifier.predict(test.map(lambda x, y: x), verbose=0)
    metrics = classification_metrics(labels, probabilities)
    return {key: metrics[key] for key in TABLE_METRICS}
