"""`train_recipe`: what `astrokeras train RECIPE.toml` does, as one library call."""

from pathlib import Path

from astrokeras.errors import check_positive_int
from astrokeras.experiments.recipe import load_recipe
from astrokeras.experiments.run import clear_run, run_recipe
from astrokeras.files import write_text_atomic

#: The copy of the recipe file kept in the run directory.
RECIPE_FILE = "recipe.toml"


def train_recipe(recipe, output=None, epochs=None, fresh=False, verbose=2, progress=None):
    """Trains a recipe file into its run directory (resuming an interrupted run).

    Reads and validates the recipe before anything is simulated or trained, keeps a copy of
    the file in the run directory (`recipe.toml`, beside the validated recipe in `run.json`),
    then runs it with `run_recipe`.

    Args:
        recipe: the recipe TOML file.
        output: run directory; default the recipe's `[experiment].output`.
        epochs: overrides `[training].epochs` (an int >= 1), or None.
        fresh: discard an interrupted run's backup first instead of resuming it.
        verbose: Keras `fit` verbosity (0, 1 or 2).
        progress: optional `progress(done, total)` called while the dataset is simulated.

    Returns:
        The `RunResult` (its `recipe` is the validated recipe as run).

    Raises:
        FileNotFoundError: there is no recipe file.
        ConfigError: the recipe is invalid (the message names `[section].key`).
        InvalidArgumentError: `epochs` is not an int >= 1.

    Example:

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> text = '[experiment]\\nname = "r"\\n[data]\\ndirectory = "d"\\n[training]\\nepoch = 1\\n'
    >>> _ = (folder / "r.toml").write_text(text)
    >>> train_recipe(folder / "r.toml")
    Traceback (most recent call last):
    ...
    astrokeras.errors.ConfigError: ... unknown key [training].epoch. Got: 'epoch'. ...
    """
    path = Path(recipe)
    config = load_recipe(path)
    if epochs is not None:
        config["training"]["epochs"] = check_positive_int("epochs", epochs)
    directory = Path(output or config["experiment"]["output"])
    if fresh:
        clear_run(directory)
    write_text_atomic(directory / RECIPE_FILE, path.read_text())
    return run_recipe(config, output=directory, progress=progress, verbose=verbose)
