"""Training recipes: TOML files that describe one experiment, validated before any work.

A recipe names the data (an astrokeras dataset directory, simulated there if it is missing),
the architecture, the method (plain, a domain-adaptation transfer loss, or adversarial
training), the optimizer and the training schedule. `load_recipe` reports an unknown key, a
wrong type or a value out of range with its path in the file (`[method].weight`) before
anything is simulated or trained.

The keys of `[data]`, `[model]` and `[method]` are the keys every recipe has (`SCHEMA`) plus
those of the entry the section names in its registry (`[data].kind` in `DATA_KINDS`,
`[model].architecture` in `ARCHITECTURES`, `[method].name` in `METHODS`, or an attack's name
for adversarial training): `[model].dropout` is a key of ResNet18, not of the ConvNet.

One preprocessing serves every domain: the clip + arcsinh limits are fitted on the labelled
source training split and stretch the target, validation and test images alike
(`[data].preprocessing = "source"`, resolved so for every method but one). Fitting each
domain's limits on its own images is normalisation-based adaptation, the method
`domain_normalisation` (`[data].preprocessing = "per-domain"` names it too, and is refused
with any other method).

Target labels reach training or model selection only where a recipe says so, with
`[data].target_labels`:

- "none" (the default): the target is unlabelled data. Domain-adaptation methods are validated
  on source validation images with their labels paired with target validation images (the
  logs are `val_loss`, `val_source_accuracy`, `val_transfer_loss`), every other method on the
  source validation split, and the default monitors are these label-free losses.
  `[training].monitor = "val_<score>"` for a `SCORES` name (`val_dev`, `val_snd`, ...) selects
  by a label-free score on the target validation images. Where the target has labels (the
  simulations), run.json reports the target validation accuracy as an oracle, never used for
  selection.
- "selection": oracle selection, the labelled target validation split is the validation data
  (`val_target_accuracy` of a domain-adaptation method, `val_accuracy` of the others), and a
  monitor may read it.
- "semi-supervised": `[data].labeled_target` target training galaxies per class carry their
  labels into training (semi-supervised domain adaptation); selection stays label-free. A
  recipe with `[data].labeled_target > 0` must say so.

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

Example:

>>> recipe = validate_recipe({"experiment": {"name": "demo"},
...                           "data": {"directory": "data/demo"},
...                           "method": {"name": "mmd"}})
>>> recipe["method"], recipe["data"]["target"], recipe["experiment"]["output"]
({'name': 'mmd', 'class_weights': True, 'weight': 0.05, 'estimator': 'biased'}, 'y1', 'runs/demo')
"""

import copy
import tomllib
from pathlib import Path

from astrokeras.data.pipeline import PER_DOMAIN
from astrokeras.errors import ConfigError
from astrokeras.experiments.methods import find_method
from astrokeras.experiments.optimizers import OPTIMIZERS, SCHEDULES
from astrokeras.experiments import architectures, data_kinds  # noqa: F401  (registrations)
from astrokeras.experiments import scores  # noqa: F401  (registers the SCORES a monitor names)
from astrokeras.experiments.registry import (ARCHITECTURES, DATA_KINDS, METHODS, REQUIRED,
                                             SCORES)

_NUMBER = (int, float)

#: `[data].target_labels` values: where target labels may be used (see the module docstring).
NO_TARGET_LABELS, SELECTION, SEMI_SUPERVISED = "none", "selection", "semi-supervised"
#: `[data].preprocessing` of every method but normalisation-based adaptation (`PER_DOMAIN`).
SOURCE_PREPROCESSING = "source"

#: The keys every recipe takes: section -> key -> (types, default, check or allowed values).
#: `[data]`, `[model]` and `[method]` take their registry entry's keys as well.
SCHEMA = {
    "experiment": {
        "name": (str, REQUIRED, None),
        "description": (str, "", None),
        "seed": (int, 0, lambda v: v >= 0),
        "output": (str, None, None),
        "expected_runtime": (str, "", None),
    },
    "data": {
        "kind": (str, "morphology", None),
        "directory": (str, REQUIRED, None),
        "n": (int, 1000, lambda v: v >= 10),
        "size": (int, 100, lambda v: 16 <= v <= 512),
        "source": (str, None, None),
        "target": (str, None, None),
        "workers": (int, 0, lambda v: v >= 0),
        "augment": (bool, True, None),
        # arcsinh softening of the stretch; None: an existing dataset's own, or the
        # simulation's default (Simulation.softening) when the dataset is simulated
        "softening": (_NUMBER, None, lambda v: 0 < v < float("inf")),
        # where target labels may be used: nowhere, in model selection, in training
        "target_labels": (str, NO_TARGET_LABELS, (NO_TARGET_LABELS, SELECTION, SEMI_SUPERVISED)),
        # the clip + arcsinh stretch: one transform fitted on the source ("source"), or each
        # domain its own ("per-domain", the domain_normalisation method); None: the method's
        "preprocessing": (str, None, (SOURCE_PREPROCESSING, PER_DOMAIN)),
    },
    "model": {
        "architecture": (str, "convnet", None),
    },
    "method": {
        "name": (str, "none", None),
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


def _no_implied(registry):
    return lambda name: (registry.get(name), {})


#: Sections whose entry comes from a registry: section -> (key naming it, what it is, lookup
#: `name -> (entry, options the name implies)`).
_NAMED = {
    "data": ("kind", "data kind", _no_implied(DATA_KINDS)),
    "model": ("architecture", "architecture", _no_implied(ARCHITECTURES)),
    "method": ("name", "method", find_method),
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
        The validated recipe with defaults filled in (a new dict; `raw` is left unchanged).

    Raises:
        ConfigError: an unknown section, key or name, a wrong type, a value out of range, or
            sections that do not fit together (the message names `[section].key`).
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: a recipe is a table of sections.", type(raw).__name__)
    unknown = sorted(set(raw) - set(SCHEMA))
    if unknown:
        raise ConfigError(f"{source}: unknown section [{unknown[0]}].", unknown[0],
                          sorted(SCHEMA))
    recipe, entries = {}, {}
    for section in SCHEMA:
        given = raw.get(section, {})
        if not isinstance(given, dict):
            raise ConfigError(f"{source}: [{section}] must be a table.", given)
        keys = SCHEMA[section]
        if section in _NAMED:
            entries[section], given, keys = _entry_of(section, given, source)
        bad = sorted(set(given) - set(keys))
        if bad:
            owner = ""
            if section in _NAMED:
                key, what, _ = _NAMED[section]
                owner = f" ({what} {given.get(key, entries[section].name)!r} does not take it)"
            raise ConfigError(f"{source}: unknown key [{section}].{bad[0]}{owner}.", bad[0],
                              sorted(keys))
        recipe[section] = {key: _value(section, key, rule, given, source)
                           for key, rule in keys.items()}
    _check_consistency(recipe, entries, source)
    return recipe


def section_schema(section, options, source="recipe"):
    """The registry entry a `[data]`, `[model]` or `[method]` table names, and its keys.

    Args:
        section: "data", "model" or "method".
        options: the table (given or validated).
        source: a name for messages.

    Returns:
        `(entry, schema)`: the entry, and the schema of the keys the table takes beyond
        `SCHEMA[section]` (the entry's, and for adversarial training the attack's).
    """
    entry, _, schema = _resolve(section, options, source)
    return entry, schema


def entry_options(recipe, section):
    """The registry entry a validated recipe's section names, and that entry's options.

    Args:
        recipe: a validated recipe.
        section: "data", "model" or "method".

    Returns:
        `(entry, options)`: the options are the section's keys of the entry's schema (what
        its factory takes), without the keys every recipe has.
    """
    entry, schema = section_schema(section, recipe[section])
    return entry, {key: recipe[section][key] for key in schema if key in recipe[section]}


def _resolve(section, options, source):
    """`(entry, options the name implies, entry schema)` of a section's table."""
    key, what, lookup = _NAMED[section]
    name = options.get(key, SCHEMA[section][key][1])
    if not isinstance(name, str):
        raise ConfigError(f"{source}: [{section}].{key} must be of type str.", name, "str")
    try:
        entry, implied = lookup(name)
    except ConfigError as error:
        raise ConfigError(f"{source}: [{section}].{key} has an unknown value (a registered "
                          f"{what}).", name, error.allowed) from None
    extra = entry.metadata.get("extra_schema")
    try:
        schema = {**entry.schema, **(extra({**options, **implied}) if extra else {})}
    except ConfigError as error:
        raise _with_source(error, source) from None
    return entry, implied, schema


def _with_source(error, source):
    """`error` with `source: ` before its message, keeping the value and allowed values."""
    parts = {}
    if getattr(error, "_has_value", False):
        parts["value"] = error.value
    if getattr(error, "_has_allowed", False):
        parts["allowed"] = error.allowed
    return ConfigError(f"{source}: {error.message}", **parts)


def _entry_of(section, given, source):
    key = _NAMED[section][0]
    entry, implied, schema = _resolve(section, given, source)
    for name, value in implied.items():
        if name in given and given[name] != value:
            raise ConfigError(f"{source}: [{section}].{name} = {given[name]!r} contradicts "
                              f"[{section}].{key} = {given[key]!r}.", given[name], value)
    return entry, {**given, **implied}, {**SCHEMA[section], **schema}


def _value(section, key, rule, given, source):
    types, default, check = rule
    where = f"[{section}].{key}"
    if key not in given:
        if default is REQUIRED:
            raise ConfigError(f"{source}: missing required key {where}.")
        return copy.deepcopy(default)
    value = given[key]
    if not _is_type(value, types):
        expected = " or ".join(t.__name__ for t in (types if isinstance(types, tuple)
                                                   else (types,)))
        raise ConfigError(f"{source}: {where} must be of type {expected}.", value, expected)
    if isinstance(check, tuple) and value not in check:
        raise ConfigError(f"{source}: {where} has an unknown value.", value, check)
    if callable(check) and not check(value):
        raise ConfigError(f"{source}: {where} is out of range.", value)
    return copy.deepcopy(value)


def _is_type(value, types):
    types = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def _check_consistency(recipe, entries, source):
    data, method = recipe["data"], recipe["method"]
    kind, architecture = entries["data"], entries["model"]
    if data["source"] is None:
        data["source"] = kind.metadata["source"]
    if data["target"] is None:
        data["target"] = kind.metadata["target"]
    paired = entries["method"].metadata.get("paired", False)
    if paired and data["target"] is None:
        raise ConfigError(f"{source}: [method].name = {method['name']!r} needs a target domain "
                          f"([data].target).", data["kind"])
    if architecture.metadata["task"] != kind.metadata["task"]:
        raise ConfigError(
            f"{source}: [model].architecture {architecture.name!r} ({architecture.metadata['task']}"
            f") does not fit [data].kind {kind.name!r} ({kind.metadata['task']}).",
            architecture.name, ", ".join(entry.name for entry in ARCHITECTURES
                                         if entry.metadata["task"] == kind.metadata["task"]))
    if data.get("labeled_target") and not paired:
        raise ConfigError(f"{source}: [data].labeled_target needs a domain adaptation method.",
                          method["name"], ", ".join(entry.name for entry in METHODS
                                                    if entry.metadata.get("paired")))
    _check_target_labels(recipe, source)
    _resolve_preprocessing(recipe, entries["method"], source)
    for entry in entries.values():
        check = entry.metadata.get("check")
        message = check(recipe) if check else None
        if message:
            raise ConfigError(f"{source}: {message}")
    if recipe["experiment"]["output"] is None:
        recipe["experiment"]["output"] = str(Path("runs") / recipe["experiment"]["name"])



def score_of_monitor(monitor):
    """The `SCORES` name a monitor `val_<name>` reads, or None for any other monitor.

    Example:

    >>> score_of_monitor("val_dev"), score_of_monitor("val_loss")
    ('dev', None)
    """
    if monitor and monitor.startswith("val_") and monitor[len("val_"):] in SCORES:
        return monitor[len("val_"):]
    return None


def _resolve_preprocessing(recipe, method, source):
    """`[data].preprocessing`: the method's, and per-domain fitting only as its own method."""
    data = recipe["data"]
    wanted = method.metadata.get("preprocessing", SOURCE_PREPROCESSING)
    given = data["preprocessing"]
    if given == PER_DOMAIN and wanted != PER_DOMAIN:
        owners = ", ".join(entry.name for entry in METHODS
                           if entry.metadata.get("preprocessing") == PER_DOMAIN)
        raise ConfigError(
            f"{source}: [data].preprocessing = {PER_DOMAIN!r} fits each domain's clip limits "
            "on its own images, which is normalisation-based adaptation, a method of its own "
            f"(reported as its own row): set [method].name = {owners!r} instead of "
            f"{recipe['method']['name']!r}.", recipe["method"]["name"], owners)
    if given is not None and given != wanted:
        raise ConfigError(f"{source}: [data].preprocessing = {given!r} contradicts "
                          f"[method].name = {recipe['method']['name']!r}.", given, wanted)
    data["preprocessing"] = wanted


def _check_target_labels(recipe, source):
    """Target labels are used only where `[data].target_labels` names the use."""
    data, monitor = recipe["data"], recipe["training"]["monitor"]
    use, labeled = data["target_labels"], data.get("labeled_target", 0)
    if labeled > 0 and use != SEMI_SUPERVISED:
        raise ConfigError(f"{source}: [data].labeled_target = {labeled} trains on target "
                          f"labels; it needs [data].target_labels = {SEMI_SUPERVISED!r}.",
                          use, SEMI_SUPERVISED)
    if use == SEMI_SUPERVISED and labeled == 0:
        raise ConfigError(f"{source}: [data].target_labels = {SEMI_SUPERVISED!r} needs "
                          "[data].labeled_target > 0 (the labeled target galaxies per class).",
                          labeled, "> 0")
    if use == SELECTION and data["target"] is None:
        raise ConfigError(f"{source}: [data].target_labels = {SELECTION!r} needs a target domain "
                          "([data].target).", data["kind"])
    if monitor and monitor.startswith("val_target_") and use != SELECTION:
        raise ConfigError(f"{source}: [training].monitor = {monitor!r} reads target labels; "
                          f"select label-free (a score, e.g. 'val_dev', or 'val_loss') or set "
                          f"[data].target_labels = {SELECTION!r} (oracle selection).",
                          monitor, f"val_loss, {', '.join('val_' + n for n in SCORES.names())}")
    if score_of_monitor(monitor) and data["target"] is None:
        raise ConfigError(f"{source}: [training].monitor = {monitor!r} scores target images; it "
                          "needs a target domain ([data].target).", monitor)
