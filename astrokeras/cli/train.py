"""`astrokeras train`: run a training recipe, or the built-in default experiment.

    astrokeras train models/convnet_mmd_y10_y1.toml
    astrokeras train                      # simulate a small Y10/Y1 set, regular vs MMD, Table 2

The command parses options, shows progress, calls `astrokeras.experiments.train_recipe` or
`run_default`, and prints what they return.
"""

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
EPOCHS = Annotated[Optional[int], typer.Option(
    "--epochs", min=1, help="Override the number of epochs.")]
N = Annotated[Optional[int], typer.Option(
    "--n", help="Default experiment: galaxies to simulate (each at Y10 and Y1 depth).")]
SIZE = Annotated[Optional[int], typer.Option(
    "--size", help="Default experiment: image side in pixels.")]
FRESH = Annotated[bool, typer.Option(
    "--fresh", help="Discard an interrupted run's backup (and a finished default run) first.")]
VERBOSE = Annotated[int, typer.Option("--verbose", help="Keras fit verbosity: 0, 1 or 2.")]


def train(recipe: RECIPE = None, out: OUT = None,
          cache_dir: CACHE = Path("~/.cache/astrokeras"), epochs: EPOCHS = None,
          n: N = None, size: SIZE = None, fresh: FRESH = False, verbose: VERBOSE = 2):
    """Train a model from a recipe (resumes an interrupted run), or run the default experiment."""
    from rich.console import Console

    from astrokeras.experiments import run_default, train_recipe

    console = Console(width=max(Console().width, 140))
    try:
        with _SimulationProgress() as progress:
            if recipe is None:
                report = run_default(output=out or Path("runs/default"), cache_dir=cache_dir,
                                     n=n, size=size, epochs=epochs, fresh=fresh,
                                     verbose=verbose, progress=progress, log=console.print)
            else:
                result = train_recipe(recipe, output=out, epochs=epochs, fresh=fresh,
                                      verbose=verbose, progress=progress)
    except (AstroKerasError, FileNotFoundError) as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from None
    if recipe is None:
        console.print(_table(report))
        console.print(f"Metrics written to {report['metrics_file']}")
        return
    typer.echo(f"Trained {result.recipe['experiment']['name']}: {result.directory}")
    for key, values in sorted(result.history.items()):
        typer.echo(f"  {key}: {values[-1]:.4f}")


def _table(report):
    """The default experiment's metrics in the layout of Ciprijanovic et al. 2022, Table 2."""
    from rich.table import Table

    from astrokeras.experiments.default import TABLE_METRICS

    table = Table(title="ConvNet, LSST Y10 -> Y1 (Ciprijanovic et al. 2022, Table 2 layout; "
                        "test split)")
    table.add_column("training")
    for domain in report["domains"]:
        for metric in TABLE_METRICS:
            name = {"f1": "F1"}.get(metric, metric)
            table.add_column(f"{domain.upper()} {name}", justify="right")
    for name, by_domain in report["metrics"].items():
        table.add_row(name, *(f"{by_domain[d][m]:.3f}" for d in report["domains"]
                              for m in TABLE_METRICS))
    return table


class _SimulationProgress:
    """A rich progress bar, shown only while a data set is being simulated."""

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
        if done >= total:  # the training's own progress follows
            self._progress.stop()

    def __exit__(self, *exc):
        if self._task is not None:
            self._progress.stop()
        return False
