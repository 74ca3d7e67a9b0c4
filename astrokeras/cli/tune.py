"""`astrokeras tune`: train a grid of recipe settings and rank them by a label-free score.

    astrokeras tune models/convnet_mmd_y10_y1.toml --grid method.weight=0.01,0.05,0.1,0.5 \\
        --grid training.epochs=2,4 --score dev

The command parses the `--grid` entries, shows progress, calls
`astrokeras.experiments.tune_recipe` and prints the ranking it returns, with the oracle
accuracy beside the score where the target has labels.
"""

import tomllib
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from astrokeras.errors import AstroKerasError, ConfigError

RECIPE = Annotated[Path, typer.Argument(help="Recipe TOML file whose settings are varied.")]
GRID = Annotated[List[str], typer.Option(
    "--grid", help="A recipe key and its values, section.key=v1,v2,... (TOML values: "
                   "0.05, 4, true, \"name\" or a bare name); repeat for more keys.")]
SCORE = Annotated[str, typer.Option(
    "--score", help="Label-free score that ranks the settings (dev, snd, entropy, info_max, "
                    "domain_auc, latent_mmd).")]
OUT = Annotated[Optional[Path], typer.Option(
    "--out", help="Tune directory (default: the recipe's experiment output folder + /tune).")]
VERBOSE = Annotated[int, typer.Option("--verbose", help="Keras fit verbosity: 0, 1 or 2.")]


def tune(recipe: RECIPE, grid: GRID, score: SCORE = "dev", out: OUT = None,
         verbose: VERBOSE = 0):
    """Train each grid setting of a recipe (reusing finished runs) and rank them by a score."""
    from rich.console import Console

    from astrokeras.cli.train import _SimulationProgress

    console = Console(width=max(Console().width, 120))
    try:
        settings = parse_grid(grid)
        from astrokeras.experiments import tune_recipe

        with _SimulationProgress() as progress:
            result = tune_recipe(recipe, settings, score=score, out=out, verbose=verbose,
                                 progress=progress, log=console.print)
    except (AstroKerasError, FileNotFoundError) as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from None
    console.print(_table(result))
    for line in summary(result):
        console.print(line)


def parse_grid(entries):
    """The `--grid section.key=v1,v2` entries as `{"section.key": [values]}`.

    Values are TOML scalars (`0.05`, `4`, `true`, `"a name"`); a value that is not TOML is a
    bare string (`--grid method.name=mmd,dann`). A quoted string may hold commas when the
    whole list is valid TOML.

    Args:
        entries: the `--grid` strings.

    Returns:
        A dict in the order given.

    Raises:
        ConfigError: an entry without `=`, with an empty key or an empty value, a key given
            twice, or a value that is not a scalar.

    Example:

    >>> parse_grid(["method.weight=0.01,0.05", "method.name=mmd", "data.augment=true"])
    {'method.weight': [0.01, 0.05], 'method.name': ['mmd'], 'data.augment': [True]}
    """
    grid = {}
    for entry in entries or ():
        key, equals, text = entry.partition("=")
        key = key.strip()
        if not equals or not key:
            raise ConfigError("--grid takes section.key=v1,v2,...", entry,
                              "e.g. --grid method.weight=0.01,0.05")
        if key in grid:
            raise ConfigError(f"--grid {key} is given twice; list all its values in one "
                              "entry.", entry, f"--grid {key}=v1,v2,...")
        grid[key] = _values(key, text)
    if not grid:
        raise ConfigError("--grid is needed at least once.", None,
                          "e.g. --grid method.weight=0.01,0.05")
    return grid


def _values(key, text):
    try:
        values = tomllib.loads(f"v = [{text}]")["v"]
    except tomllib.TOMLDecodeError:
        values = [_scalar(item.strip()) for item in text.split(",")]
    if not values or any(value == "" for value in values):
        raise ConfigError(f"--grid {key}: an empty value.", text,
                          f"--grid {key}=v1,v2,... with no empty value")
    for value in values:
        if not isinstance(value, (str, int, float, bool)):
            raise ConfigError(f"--grid {key}: values are scalars (numbers, true/false, "
                              "names).", value, "a number, true, false or a name")
    return values


def _scalar(text):
    """A TOML scalar, or the text itself (a bare name)."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _table(result):
    """The ranking: rank, setting, score, oracle accuracy."""
    from rich.table import Table

    direction = "lower" if result.mode == "min" else "higher"
    table = Table(title=f"Ranked by {result.score} ({direction} is better)")
    table.add_column("rank", justify="right")
    table.add_column("setting")
    table.add_column(result.score, justify="right")
    table.add_column("oracle accuracy", justify="right")
    for row in result.ranking:
        table.add_row(str(row["rank"]), row["name"], f"{row['score']:.4g}",
                      _accuracy(row["oracle_accuracy"]))
    return table


def summary(result):
    """The lines under the table: the choices, their gap, the correlation and the files."""
    oracle = {row["name"]: row["oracle_accuracy"] for row in result.settings}
    lines = [f"Label-free choice ({result.score}): {result.choice} "
             f"(oracle accuracy {_accuracy(oracle[result.choice])})"]
    if result.oracle_choice is None:
        lines.append("Oracle choice: none (the target validation split has no labels)")
    else:
        lines.append(f"Oracle choice: {result.oracle_choice} "
                     f"(oracle accuracy {_accuracy(oracle[result.oracle_choice])}; the oracle "
                     "reads target labels: reported, never used to choose)")
    if result.gap is not None:
        lines.append(f"Gap: {100 * result.gap:.1f} points of target accuracy")
    if result.correlation is None:
        lines.append(f"Spearman correlation of {result.score} and oracle accuracy: not "
                     "computed (it needs 3 or more settings with oracle accuracies, and "
                     "values that vary)")
    else:
        lines.append(f"Spearman correlation of {result.score} (oriented so that higher is "
                     f"better) and oracle accuracy: {result.correlation:+.2f}")
    lines.append("Ranking written to {} and {}".format(*result.files))
    return lines


def _accuracy(value):
    return "n/a" if value is None else f"{value:.3f}"
