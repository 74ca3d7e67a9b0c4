"""The built-in default experiment: ConvNet on LSST Y10 -> Y1, regular and with MMD.

A small version of Ciprijanovic et al. 2022's first experiment that runs in minutes on a
laptop CPU: `astrokeras train` with no recipe simulates (or reuses) the data set in the cache
directory, trains both models and prints the paper's Table 2 layout.
"""

from pathlib import Path

from astrokeras.training.recipe import validate_recipe

DEFAULT_N = 3000
DEFAULT_SIZE = 64
DEFAULT_EPOCHS = 12


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
