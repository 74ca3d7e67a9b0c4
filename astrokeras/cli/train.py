"""`astrokeras train`: run a training recipe, or the built-in default experiment.

    astrokeras train models/convnet_mmd_y10_y1.toml
    astrokeras train                      # simulate a small Y10/Y1 set, regular vs MMD, Table 2

The command parses options, shows progress and calls `astrokeras.training`.
"""

import json
import os
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from astrokeras.errors import AstroKerasError

RECIPE = Annotated[Optional[Path], typer.Argument(
    help="Recipe TOML file; without it, run the built-in default experiment.")]
OUT = Annotated[Optional[Path], typer.Option(
    "--out", help="Run directory (default: the recipe's [experiment].output, or runs/default).")]
CACHE = Annotated[Path, typer.Option(
    "--cache-dir", help="Where the default experiment keeps its simulated data set.")]
EPOCHS = Annotated[Optional[int], typer.Option("--epochs", help="Override the number of epochs.")]
N = Annotated[Optional[int], typer.Option(
    "--n", help="Default experiment: galaxies to simulate (each at Y10 and Y1 depth).")]
SIZE = Annotated[Optional[int], typer.Option(
    "--size", help="Default experiment: image side in pixels.")]
FRESH = Annotated[bool, typer.Option(
    "--fresh", help="Discard an interrupted run's backup (and a finished default run) first.")]
VERBOSE = Annotated[int, typer.Option("--verbose", help="Keras fit verbosity: 0, 1 or 2.")]


def _fail(error):
    typer.echo(f"Error: {error}", err=True)
    raise typer.Exit(code=1) from None


def train(recipe: RECIPE = None, out: OUT = None,
          cache_dir: CACHE = Path("~/.cache/astrokeras"), epochs: EPOCHS = None,
          n: N = None, size: SIZE = None, fresh: FRESH = False, verbose: VERBOSE = 2):
    """Train a model from a recipe (resumes an interrupted run), or run the default experiment."""
    from astrokeras.training.recipe import load_recipe

    try:
        if recipe is None:
            _default_experiment(out or Path("runs/default"), cache_dir, epochs, n, size, fresh,
                                verbose)
            return
        config = load_recipe(recipe)
        if epochs is not None:
            if epochs < 1:
                raise AstroKerasError("--epochs must be at least 1.", epochs)
            config["training"]["epochs"] = epochs
        result = _run(config, out, fresh, verbose, recipe_path=recipe)
    except (AstroKerasError, FileNotFoundError) as error:
        _fail(error)
    typer.echo(f"Trained {config['experiment']['name']}: {result.directory}")
    for key, values in sorted(result.history.items()):
        typer.echo(f"  {key}: {values[-1]:.4f}")


def _run(config, out, fresh, verbose, recipe_path=None):
    from astrokeras.training.run import clear_run, run_recipe

    directory = Path(out or config["experiment"]["output"])
    if fresh:
        clear_run(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if recipe_path is not None:
        temporary = directory / ".recipe.toml.partial"
        temporary.write_text(Path(recipe_path).read_text())
        os.replace(temporary, directory / "recipe.toml")
    with _simulation_progress() as progress:
        return run_recipe(config, output=directory, progress=progress, verbose=verbose)


class _simulation_progress:
    """A rich progress bar shown only if the recipe's data set has to be simulated."""

    def __enter__(self):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeRemainingColumn)

        self._progress = Progress(TextColumn("[bold]simulate"), BarColumn(),
                                  MofNCompleteColumn(), TimeRemainingColumn())
        self._task = None
        return self

    def __call__(self, done, total):
        if self._task is None:
            self._progress.start()
            self._task = self._progress.add_task("simulate", total=total)
        self._progress.update(self._task, completed=done, total=total)

    def __exit__(self, *exc):
        if self._task is not None:
            self._progress.stop()
        return False


def _default_experiment(out, cache_dir, epochs, n, size, fresh, verbose):
    import keras
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    import astrokeras.training  # noqa: F401  (registers the training models for loading)
    from astrokeras import data
    from astrokeras.evaluation import classification_metrics
    from astrokeras.training.default_recipes import default_recipes
    from astrokeras.training.run import CLASSIFIER_FILE, RUN_FILE

    options = {k: v for k, v in (("n", n), ("size", size), ("epochs", epochs)) if v is not None}
    recipes = default_recipes(cache_dir=cache_dir, output=out, **options)
    console = Console(width=max(Console().width, 140))
    started = time.time()
    rows = {}
    for name, config in recipes.items():
        directory = Path(config["experiment"]["output"])
        finished = (directory / RUN_FILE).exists() and (directory / CLASSIFIER_FILE).exists()
        if finished and not fresh:
            console.print(f"[bold]{name}[/]: reusing the finished run in {directory}")
            classifier = keras.models.load_model(directory / CLASSIFIER_FILE)
        else:
            console.print(f"[bold]{name}[/]: training ConvNet ({config['method']['name']}) "
                          f"-> {directory}")
            classifier = _run(config, None, fresh, verbose).classifier
        rows[name] = {}
        for domain in ("y10", "y1"):
            test = data.load(config["data"]["directory"], domain, "test", batch_size=256)
            labels = np.concatenate([y.numpy() for _, y in test])
            probabilities = classifier.predict(test.map(lambda x, y: x), verbose=0)
            metrics = classification_metrics(labels, probabilities)
            rows[name][domain] = {key: metrics[key]
                                  for key in ("accuracy", "precision", "recall", "f1")}
    table = Table(title="ConvNet, LSST Y10 -> Y1 (Ciprijanovic et al. 2022, Table 2 layout; "
                        "test split)")
    table.add_column("training")
    for domain in ("Y10", "Y1"):
        for metric in ("accuracy", "precision", "recall", "F1"):
            table.add_column(f"{domain} {metric}", justify="right")
    for name, by_domain in rows.items():
        cells = [f"{by_domain[d][m]:.3f}" for d in ("y10", "y1")
                 for m in ("accuracy", "precision", "recall", "f1")]
        table.add_row(name, *cells)
    console.print(table)
    out.mkdir(parents=True, exist_ok=True)
    report = {"experiment": "default: ConvNet regular vs MMD, Y10 -> Y1",
              "data": recipes["regular"]["data"], "metrics": rows,
              "seconds": round(time.time() - started, 1)}
    temporary = out / ".metrics.json.partial"
    temporary.write_text(json.dumps(report, indent=2, default=float))
    os.replace(temporary, out / "metrics.json")
    console.print(f"Metrics written to {out / 'metrics.json'}")
