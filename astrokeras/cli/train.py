"""`astrokeras train`: run a training recipe, or the built-in default experiment.

    astrokeras train models/convnet_mmd_y10_y1.toml
    astrokeras train                      # simulate a small Y10/Y1 set: regular, AdaBN, MMD

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
    """The default experiment's report: the source's metrics, the target's label-free shift
    diagnostics, and the target's accuracy from the simulation's labels as an oracle."""
    from rich.table import Table

    source, target = (domain.upper() for domain in report["domains"])
    table = Table(title=f"ConvNet, LSST {source} -> {target}, test split, one preprocessing, "
                        f"last epoch; {target} labels only in the oracle columns")
    columns = [f"{source} accuracy", f"{source} F1", f"{target} domain AUC (label-free)",
               f"{target} latent MMD (label-free)", f"{target} entropy (label-free)",
               f"{target} accuracy (oracle)", f"{target} F1 (oracle)"]
    table.add_column("training")
    for column in columns:
        table.add_column(column, justify="right")
    for name, by_domain in report["metrics"].items():
        shift = report["shift"][name]
        first, second = (by_domain[d] for d in report["domains"])
        auc = shift["domain_auc"]
        table.add_row(name, f"{first['accuracy']:.3f}", f"{first['f1']:.3f}",
                      "n/a" if auc is None else f"{auc:.3f}", f"{shift['latent_mmd']:.3f}",
                      f"{shift['entropy']['target_mean']:.3f}", f"{second['accuracy']:.3f}",
                      f"{second['f1']:.3f}")
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
