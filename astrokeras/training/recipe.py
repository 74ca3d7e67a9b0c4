"""Training recipes: TOML files that describe one experiment, validated before any work.

A recipe names the data (an astrokeras dataset directory, simulated there if it is missing),
the architecture, the method (plain, a domain-adaptation transfer loss, or adversarial
training), the optimizer and the training schedule. `load_recipe` reports an unknown key, a
wrong type or a value out of range with its path in the file (`[method].weight`) before
anything is simulated or trained.

Example recipe:

    [experiment]
    name = "convnet_mmd"
    seed = 0
    output = "runs/convnet_mmd"

    [data]
    kind = "morphology"
    directory = "data/morphology_64"
    n = 2000
    size = 64

    [model]
    architecture = "convnet"

    [method]
    name = "mmd"
    weight = 0.05

    [optimizer]
    name = "adam"
    learning_rate = 0.001
    beta_1 = 0.7
    beta_2 = 0.8

    [training]
    epochs = 10
    batch_size = 32
"""

import copy
import tomllib
from pathlib import Path

from astrokeras.errors import ConfigError

ARCHITECTURES = ("convnet", "resnet18", "deepmerge", "inception_photoz", "simple_photoz_cnn")
DATA_KINDS = ("morphology", "deepmerge", "photoz")
METHODS = ("none", "mmd", "dann", "coral", "universal", "fgsm", "pgd")
OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("constant", "one_cycle", "cosine")

# section -> key -> (types, default, check or allowed values); REQUIRED marks no default.
REQUIRED = object()
_NUMBER = (int, float)
SCHEMA = {
    "experiment": {
        "name": (str, REQUIRED, None),
        "description": (str, "", None),
        "seed": (int, 0, lambda v: v >= 0),
        "output": (str, None, None),
        "expected_runtime": (str, "", None),
    },
    "data": {
        "kind": (str, "morphology", DATA_KINDS),
        "directory": (str, REQUIRED, None),
        "n": (int, 1000, lambda v: v >= 10),
        "size": (int, 100, lambda v: 16 <= v <= 512),
        "source": (str, None, None),
        "target": (str, None, None),
        "workers": (int, 0, lambda v: v >= 0),
        "augment": (bool, True, None),
        "unknown_class": (int, -1, lambda v: v >= -1),
        # semi-supervised adaptation: labeled target training galaxies per known class, and
        # the share of each target batch drawn from them
        "labeled_target": (int, 0, lambda v: v >= 0),
        "labeled_share": (_NUMBER, 0.25, lambda v: 0 < v < 1),
        # arcsinh softening of the stretch; None: an existing dataset's own, or the
        # simulation's default (Simulation.softening) when the dataset is simulated
        "softening": (_NUMBER, None, lambda v: 0 < v < float("inf")),
    },
    "model": {
        "architecture": (str, "convnet", ARCHITECTURES),
        "latent_dim": (int, None, lambda v: v >= 1),
        "dropout": (_NUMBER, None, lambda v: 0 <= v < 1),
    },
    "method": {
        "name": (str, "none", METHODS),
        "weight": (_NUMBER, None, lambda v: v >= 0),
        "estimator": (str, "biased", ("biased", "unbiased")),
        "hidden": (list, None, lambda v: len(v) > 0 and all(
            isinstance(h, int) and h > 0 for h in v)),
        "dropout": (_NUMBER, 0.5, lambda v: 0 <= v < 1),
        "schedule": (str, "ganin", ("ganin", "constant")),
        "eps": (_NUMBER, 0.01, lambda v: v > 0),
        "step": (_NUMBER, None, lambda v: v > 0),
        "steps": (int, 10, lambda v: v >= 1),
        "fraction": (_NUMBER, 0.1, lambda v: 0 <= v <= 1),
        "label_source": (str, "prediction", ("prediction", "label")),
        "class_weights": (bool, True, None),
    },
    "optimizer": {
        "name": (str, "adam", OPTIMIZERS),
        "learning_rate": (_NUMBER, 1e-3, lambda v: v > 0),
        "beta_1": (_NUMBER, 0.7, lambda v: 0 <= v < 1),
        "beta_2": (_NUMBER, 0.8, lambda v: 0 <= v < 1),
        "weight_decay": (_NUMBER, 0.0, lambda v: v >= 0),
        "schedule": (str, "constant", SCHEDULES),
    },
    "training": {
        "epochs": (int, 10, lambda v: v >= 1),
        "batch_size": (int, 32, lambda v: v >= 1),
        "steps_per_epoch": (int, None, lambda v: v >= 1),
        "early_stopping_patience": (int, 0, lambda v: v >= 0),
        "monitor": (str, None, None),
        "jit_compile": (bool, False, None),
        "checkpoint_every": (int, 0, lambda v: v >= 0),
    },
}


def load_recipe(path):
    """Reads and validates a recipe file.

    Args:
        path: a TOML file.

    Returns:
        The validated recipe: a dict of sections with every default filled in.

    Raises:
        FileNotFoundError: the file does not exist.
        ConfigError: the TOML is malformed, or a key is unknown, of the wrong type or out of
            range (the message names `[section].key`).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recipe not found: {path}")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML: {err}.") from None
    return validate_recipe(raw, source=str(path))


def validate_recipe(raw, source="recipe"):
    """Validates a recipe given as a dict (the parsed TOML).

    Args:
        raw: dict of sections.
        source: a name for messages (the file path).

    Returns:
        The validated recipe with defaults filled in.
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: a recipe is a table of sections.", type(raw).__name__)
    unknown = sorted(set(raw) - set(SCHEMA))
    if unknown:
        raise ConfigError(f"{source}: unknown section [{unknown[0]}].", unknown[0],
                          sorted(SCHEMA))
    recipe = {}
    for section, keys in SCHEMA.items():
        given = raw.get(section, {})
        if not isinstance(given, dict):
            raise ConfigError(f"{source}: [{section}] must be a table.", given)
        bad = sorted(set(given) - set(keys))
        if bad:
            raise ConfigError(f"{source}: unknown key [{section}].{bad[0]}.", bad[0],
                              sorted(keys))
        recipe[section] = {}
        for key, (types, default, check) in keys.items():
            where = f"[{section}].{key}"
            if key not in given:
                if default is REQUIRED:
                    raise ConfigError(f"{source}: missing required key {where}.")
                recipe[section][key] = copy.deepcopy(default)
                continue
            value = given[key]
            if not _is_type(value, types):
                expected = " or ".join(t.__name__ for t in (types if isinstance(types, tuple)
                                                           else (types,)))
                raise ConfigError(f"{source}: {where} must be of type {expected}.", value,
                                  expected)
            if isinstance(check, tuple) and value not in check:
                raise ConfigError(f"{source}: {where} has an unknown value.", value, check)
            if callable(check) and not check(value):
                raise ConfigError(f"{source}: {where} is out of range.", value)
            recipe[section][key] = value
    _check_consistency(recipe, source)
    return recipe


def _is_type(value, types):
    types = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def _check_consistency(recipe, source):
    data, method, model = recipe["data"], recipe["method"], recipe["model"]
    domains = {"morphology": ("y10", "y1"), "deepmerge": ("psf", "noisy"),
               "photoz": ("y10", None)}[data["kind"]]
    if data["source"] is None:
        data["source"] = domains[0]
    if data["target"] is None:
        data["target"] = domains[1]
    adaptation = method["name"] in ("mmd", "dann", "coral", "universal")
    if adaptation and data["target"] is None:
        raise ConfigError(f"{source}: [method].name = {method['name']!r} needs a target domain "
                          f"([data].target).", data["kind"])
    photoz = model["architecture"] in ("inception_photoz", "simple_photoz_cnn")
    if photoz != (data["kind"] == "photoz"):
        raise ConfigError(f"{source}: [model].architecture {model['architecture']!r} does not "
                          f"fit [data].kind {data['kind']!r}.", model["architecture"])
    if method["name"] == "pgd" and method["step"] is not None and method["step"] > method["eps"]:
        raise ConfigError(f"{source}: [method].step must not exceed [method].eps.",
                          method["step"], f"<= {method['eps']}")
    if data["labeled_target"] and not adaptation:
        raise ConfigError(f"{source}: [data].labeled_target needs a domain adaptation method "
                          "([method].name mmd, dann, coral or universal).", method["name"])
    if method["name"] == "universal" and data["unknown_class"] < 0:
        raise ConfigError(f"{source}: [method].name = 'universal' needs [data].unknown_class, "
                          "the class held out of the source.", data["unknown_class"], ">= 0")
    if recipe["experiment"]["output"] is None:
        recipe["experiment"]["output"] = str(Path("runs") / recipe["experiment"]["name"])
