"""`tune_recipe`: a hyper-parameter search ranked by a label-free selection score.

Each setting of a grid (`{"method.weight": [0.01, 0.05], "training.epochs": [2, 4]}`: the
cartesian product of the listed values) is the recipe with those keys replaced. Every
setting's recipe is validated before anything is trained; each is then trained into its own
run directory (a finished run of the same recipe is reused, an interrupted one resumes from
its backup), and its classifier is scored on the unlabelled target validation images (and the
labelled source validation split where the score needs it) by a `SCORES` entry. The settings
are ranked by that score in its own direction.

The target labels never choose: where the target has labels (the simulations), each run's
oracle accuracy on the target validation split (run.json's `oracle`) is reported beside the
score, with the setting the oracle would have chosen, the gap in oracle accuracy between the
two choices, and the Spearman rank correlation between the score and the oracle accuracy.
"""

import copy
import csv
import dataclasses
import hashlib
import io
import itertools
import json
import math
import re
import tomllib
from pathlib import Path

from astrokeras.errors import ConfigError, InvalidArgumentError
from astrokeras.experiments.recipe import load_recipe, validate_recipe
from astrokeras.experiments.registry import SCORES
from astrokeras.experiments.run import (CLASSIFIER_FILE, RUN_FILE, ensure_dataset,
                                        labelled_validation, run_recipe, validation_images)
from astrokeras.files import write_json_atomic, write_text_atomic

#: The ranking written to the tune directory, as JSON and as CSV.
TUNE_FILE = "tune.json"
TUNE_CSV = "tune.csv"

_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]")
_LONGEST_NAME = 160


@dataclasses.dataclass
class TuneResult:
    """The ranking of a grid's settings by a label-free score.

    Attributes:
        directory: the tune directory (one run directory per setting, tune.json, tune.csv).
        score: the `SCORES` name the settings are ranked by.
        mode: its direction: "min" (lower is better) or "max" (higher is better).
        settings: one dict per setting, in grid order: `name` (its folder name), `setting`
            (`{"section.key": value}`), `directory`, `score`, `oracle_accuracy` (target
            validation accuracy, None without target labels), `rank` (1 = best score) and
            `trained` (False when a finished run was reused).
        choice: the `name` of the label-free choice (rank 1).
        oracle_choice: the `name` of the setting of best oracle accuracy, or None.
        gap: oracle accuracy of the oracle choice minus that of the label-free choice, or None.
        correlation: Spearman rank correlation between the score (oriented so that higher is
            better) and the oracle accuracy, or None (fewer than 3 settings with both, or a
            constant column).
        recipe: the recipe file, or None for a recipe given as a dict.
    """

    directory: Path
    score: str
    mode: str
    settings: list
    choice: str
    oracle_choice: object
    gap: object
    correlation: object
    recipe: object

    @property
    def ranking(self):
        """The settings sorted by rank (best first)."""
        return sorted(self.settings, key=lambda row: row["rank"])

    @property
    def files(self):
        """The ranking's files: `(tune.json, tune.csv)`."""
        return self.directory / TUNE_FILE, self.directory / TUNE_CSV


def tune_recipe(recipe, grid, score="dev", out=None, verbose=0, progress=None, log=None):
    """Trains each setting of `grid` and ranks the settings by a label-free score.

    Every setting's recipe is validated, and every run directory checked, before anything is
    trained. Setting `i` trains with `run_recipe` into `<out>/<name>`, `name` made from the
    setting (`method.weight=0.05__training.epochs=4`). A directory whose run.json records the
    same recipe is reused without training; one that records another recipe is refused, never
    overwritten; one left by an interrupted run resumes from its backup.

    Each classifier is scored on the target validation images without their labels (and the
    labelled source validation split where the score needs it). Target labels enter only the
    oracle column: the accuracy run.json records, never used to rank.

    Args:
        recipe: a recipe TOML file, or a recipe dict (as `validate_recipe` takes it).
        grid: `{"section.key": [values]}`: the recipe keys to vary and their values; the
            settings are the cartesian product, in the order given.
        score: a `SCORES` name (`dev`, `snd`, `entropy`, ...).
        out: the tune directory; default `<[experiment].output>/tune`.
        verbose: Keras `fit` verbosity of each run (0, 1 or 2).
        progress: optional `progress(done, total)` called while the dataset is simulated.
        log: optional `log(message)` told which setting is trained, reused or scored.

    Returns:
        A `TuneResult`; tune.json and tune.csv in the tune directory hold the same ranking.

    Raises:
        FileNotFoundError: there is no recipe file.
        ConfigError: the recipe, a grid entry (the message names `--grid section.key=value`)
            or a setting is invalid; the score is unknown or the recipe has no target domain;
            a run directory holds a run of another recipe.
        InvalidArgumentError: `grid` is not a non-empty `{"section.key": [values]}` dict.

    Example:

    ```python
    result = tune_recipe("models/convnet_mmd_y10_y1.toml",
                         {"method.weight": [0.01, 0.05, 0.1, 0.5]}, score="dev")
    for row in result.ranking:
        print(row["rank"], row["name"], row["score"], row["oracle_accuracy"])
    print(result.choice, result.oracle_choice, result.gap, result.correlation)
    ```
    """
    log = log or (lambda message: None)
    if isinstance(recipe, (str, Path)):
        path = Path(recipe)
        base = load_recipe(path)
        raw, source = tomllib.loads(path.read_text()), str(path)
    else:
        path, raw, source = None, copy.deepcopy(recipe), "recipe"
        base = validate_recipe(raw, source=source)
    entries = _check_grid(grid)
    metadata = _score_metadata(score)
    for key, values in entries:
        for value in values:  # each entry alone first, so that an error names it
            validate_recipe(_with(raw, {key: value}),
                            source=f"{source}, --grid {key}={_toml(value)}")
    directory = Path(out) if out is not None else Path(base["experiment"]["output"]) / "tune"
    plans = _plans(raw, source, entries, directory, score)

    rows, data_cache = [], {}
    for number, plan in enumerate(plans, 1):
        trained = not plan["reuse"]
        log(f"[{number}/{len(plans)}] {plan['name']}: "
            f"{'training' if trained else 'reusing the finished run'}")
        if trained:
            run_recipe(plan["recipe"], output=plan["directory"], verbose=verbose,
                       progress=progress)
        value = score_run(plan["recipe"], plan["directory"], score, data_cache)
        info = json.loads((plan["directory"] / RUN_FILE).read_text())
        oracle = (info.get("oracle") or {}).get("target_validation_accuracy")
        rows.append({"name": plan["name"], "setting": plan["setting"],
                     "directory": str(plan["directory"]), "score": value,
                     "oracle_accuracy": oracle, "trained": trained})
    ranking = rank_settings([row["score"] for row in rows], metadata["mode"],
                            [row["oracle_accuracy"] for row in rows])
    for row, rank in zip(rows, ranking["ranks"]):
        row["rank"] = rank
    pick = ranking["oracle_choice"]
    result = TuneResult(directory=directory, score=score, mode=metadata["mode"], settings=rows,
                        choice=rows[ranking["choice"]]["name"],
                        oracle_choice=None if pick is None else rows[pick]["name"],
                        gap=ranking["gap"], correlation=ranking["correlation"],
                        recipe=None if path is None else str(path))
    _write(result, [key for key, _ in entries])
    return result


def rank_settings(scores, mode, oracle=None):
    """Ranks settings by a score in its direction; compares the choice with the oracle's.

    A NaN score ranks last; ties keep the settings' order. The correlation is Spearman's
    (`scipy.stats.spearmanr`) between the score oriented so that higher is better (negated
    for a "min" score) and the oracle accuracy, over the settings that have both.

    Args:
        scores: one score per setting.
        mode: "min" (lower is better) or "max" (higher is better).
        oracle: one oracle accuracy per setting (None where unknown), or None.

    Returns:
        A dict: `ranks` (1 = best score, one per setting), `choice` (index of the best score),
        `oracle_choice` (index of the best oracle accuracy, or None), `gap` (best oracle
        accuracy minus the choice's, or None) and `correlation` (float, or None with fewer
        than 3 settings having both numbers, or when either column is constant).

    Example:

    >>> ranking = rank_settings([0.3, 0.1, 0.2], "min", oracle=[0.70, 0.90, 0.95])
    >>> ranking["ranks"], ranking["choice"], ranking["oracle_choice"]
    ([3, 1, 2], 1, 2)
    >>> round(ranking["gap"], 6), ranking["correlation"]
    (0.05, 0.5)
    """
    from scipy import stats

    if mode not in ("min", "max"):
        raise InvalidArgumentError("`mode` must be 'min' or 'max'.", mode, "'min', 'max'")
    sign = 1.0 if mode == "max" else -1.0
    oriented = [sign * float(s) if not math.isnan(float(s)) else -math.inf for s in scores]
    order = sorted(range(len(oriented)), key=lambda i: -oriented[i])
    ranks = [0] * len(oriented)
    for position, index in enumerate(order, 1):
        ranks[index] = position
    oracle = list(oracle) if oracle is not None else [None] * len(oriented)
    known = [i for i, value in enumerate(oracle) if value is not None]
    choice = order[0]
    oracle_choice = max(known, key=lambda i: oracle[i]) if known else None
    gap = None
    if oracle_choice is not None and oracle[choice] is not None:
        gap = float(oracle[oracle_choice] - oracle[choice])
    pairs = [i for i in known if math.isfinite(oriented[i])]
    correlation = None
    if len(pairs) >= 3 and len({oriented[i] for i in pairs}) > 1 \
            and len({oracle[i] for i in pairs}) > 1:
        correlation = float(stats.spearmanr([oriented[i] for i in pairs],
                                            [oracle[i] for i in pairs]).statistic)
    return {"ranks": ranks, "choice": choice, "oracle_choice": oracle_choice, "gap": gap,
            "correlation": correlation}


def score_run(recipe, directory, score, cache=None):
    """The label-free score of a finished run's classifier.

    Args:
        recipe: the run's validated recipe (it has a target domain).
        directory: the run directory (its classifier.keras).
        score: a `SCORES` name.
        cache: optional dict keeping the selection data of runs on the same data between calls.

    Returns:
        The score, a float.
    """
    from astrokeras.experiments.scores import build_score
    from astrokeras.saving import load_model
    from astrokeras.selection import SelectionData, score_model

    metadata = SCORES.get(score).metadata
    needs_source = metadata["needs_source"] or metadata["needs_source_labels"]
    key = json.dumps([recipe["data"], recipe["training"]["batch_size"], needs_source],
                     sort_keys=True)
    cache = {} if cache is None else cache
    if key not in cache:
        manifest = ensure_dataset(recipe)
        source = None
        if needs_source:
            source = labelled_validation(recipe, manifest, recipe["data"]["source"])
        cache[key] = SelectionData(validation_images(recipe, manifest), source=source,
                                   seed=recipe["experiment"]["seed"])
    classifier = load_model(Path(directory) / CLASSIFIER_FILE)
    return score_model(classifier, build_score(score), cache[key],
                       batch_size=recipe["training"]["batch_size"])[score]


def setting_name(setting):
    """The folder name of a setting: `key=value` pairs joined by `__`, filesystem-safe.

    Characters other than letters, digits and `._=+-` become `_`; a name longer than 160
    characters is cut and ends with a hash of the whole setting, so it stays unique.

    Example:

    >>> setting_name({"method.weight": 0.05, "training.epochs": 4})
    'method.weight=0.05__training.epochs=4'
    >>> setting_name({"optimizer.schedule": "cosine decay", "data.augment": False})
    'optimizer.schedule=cosine_decay__data.augment=false'
    """
    name = "__".join(f"{key}={_UNSAFE.sub('_', _text(value))}"
                     for key, value in setting.items())
    if len(name) > _LONGEST_NAME:
        digest = hashlib.sha1(json.dumps(list(setting.items())).encode()).hexdigest()[:12]
        name = f"{name[:_LONGEST_NAME - 14]}__{digest}"
    return name


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _toml(value):
    """`value` as written on the command line (TOML)."""
    return json.dumps(value) if isinstance(value, (bool, str)) else _text(value)


def _check_grid(grid):
    """The grid as `[(key, values)]`, refusing a malformed entry before any work."""
    if not isinstance(grid, dict) or not grid:
        raise InvalidArgumentError("`grid` must be a non-empty dict {'section.key': [values]} "
                                   "(--grid section.key=v1,v2).", grid,
                                   "e.g. {'method.weight': [0.01, 0.05]}")
    entries = []
    for key, values in grid.items():
        section, _, name = key.partition(".") if isinstance(key, str) else ("", "", "")
        if not section or not name or "." in name:
            raise ConfigError(f"--grid {key!r}: a grid key is a recipe key written "
                              "section.key.", key, "e.g. method.weight, training.epochs")
        if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
            raise ConfigError(f"--grid {key}: the values must be a list.", values,
                              "a non-empty list of values")
        values = list(values)
        if not values:
            raise ConfigError(f"--grid {key}: the list of values is empty.", values,
                              "at least one value")
        texts = [_toml(value) for value in values]
        if len(set(texts)) != len(texts):
            raise ConfigError(f"--grid {key}: a value is listed twice.", texts,
                              "distinct values")
        entries.append((key, values))
    return entries


def _score_metadata(score):
    if not isinstance(score, str) or score not in SCORES:
        raise ConfigError(f"Unknown score {score!r} (--score).", score,
                          ", ".join(SCORES.names()))
    return SCORES.get(score).metadata


def _with(raw, setting):
    """A copy of the raw recipe with `{"section.key": value}` replaced."""
    recipe = copy.deepcopy(raw)
    for key, value in setting.items():
        section, _, name = key.partition(".")
        table = recipe.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"--grid {key}: [{section}] is not a table of the recipe.",
                              table)
        table[name] = value
    return recipe


def _plans(raw, source, entries, directory, score):
    """Every setting's validated recipe and run directory, checked before any training."""
    keys = [key for key, _ in entries]
    plans, names = [], {}
    for values in itertools.product(*(values for _, values in entries)):
        setting = dict(zip(keys, values))
        name = setting_name(setting)
        if name in names:
            raise ConfigError(f"--grid: settings {names[name]} and {setting} share the folder "
                              f"name {name!r}.", name, "values that differ once made "
                              "filesystem-safe")
        names[name] = setting
        recipe = validate_recipe(_with(raw, setting), source=f"{source}, setting {name}")
        if recipe["data"]["target"] is None:
            raise ConfigError(f"{source}, setting {name}: score {score!r} is computed on the "
                              "target validation images; the recipe has no target domain "
                              "([data].target).", recipe["data"]["kind"])
        run = directory / name
        plans.append({"name": name, "setting": setting, "recipe": recipe, "directory": run,
                      "reuse": _finished(run, recipe)})
    return plans


def _finished(run, recipe):
    """True for a finished run of `recipe`; False for none; an error for another recipe's."""
    info = run / RUN_FILE
    if not info.is_file():
        return False
    try:
        stored = json.loads(info.read_text()).get("recipe")
    except (OSError, ValueError, AttributeError):
        stored = None
    if stored != json.loads(json.dumps(recipe)):
        raise ConfigError(f"{run} holds a run of another recipe (its {RUN_FILE} differs); "
                          "give another --out, or remove that folder to retrain it.", str(run))
    return (run / CLASSIFIER_FILE).is_file()


def _write(result, keys):
    """tune.json and tune.csv, each written atomically."""
    write_json_atomic(result.directory / TUNE_FILE, {
        "recipe": result.recipe,
        "score": result.score,
        "mode": result.mode,
        "grid": keys,
        "settings": result.settings,
        "choice": result.choice,
        "oracle_choice": result.oracle_choice,
        "gap": result.gap,
        "correlation": result.correlation,
    })
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["rank", "name", *keys, result.score, "oracle_accuracy", "trained",
                     "directory"])
    for row in result.ranking:
        writer.writerow([row["rank"], row["name"], *(row["setting"][key] for key in keys),
                         row["score"], "" if row["oracle_accuracy"] is None
                         else row["oracle_accuracy"], row["trained"], row["directory"]])
    write_text_atomic(result.directory / TUNE_CSV, text.getvalue())
