"""Reproduce the papers' headline results with astrokeras' own data and shipped recipes.

One sub-command per experiment. Each trains the recipes shipped in `models/` (the files are
named below), changed only by the overrides its command line gives (`--n`, `--epochs`,
`--seeds`, ...: printed, and recorded in `results.json`), simulates its data (or reuses it),
trains with `run_recipe` (an interrupted run resumes), evaluates with `astrokeras.evaluation`,
writes `results.json`, `results.md` and figures under `--out`, and prints the figures beside
the papers' and the targets of the reproduction:

    python benchmarks/reproduce.py morphology   # Ciprijanovic 2022: ConvNet regular vs MMD, Y10 -> Y1
    python benchmarks/reproduce.py morphology --arch resnet18 --seeds 0   # the same, ResNet18
    python benchmarks/reproduce.py deepmerge    # Ciprijanovic 2020: regular, MMD, DANN, PSF -> noise
    python benchmarks/reproduce.py photoz       # Campagne 2021: FGSM/PGD and adversarial training
    python benchmarks/reproduce.py universal    # Ciprijanovic 2023: unknown class only in the target
    python benchmarks/reproduce.py universal --labeled-target 10   # the same, semi-supervised
    python benchmarks/reproduce.py report       # all of them, with figures, into docs/results.md
    python benchmarks/reproduce.py report --only photoz   # one section, after re-running it

The recipes of each experiment (`recipe_files`): morphology `models/{convnet,resnet18}_
{regular,mmd}_y10_y1.toml`; deepmerge `models/deepmerge_{regular,mmd,dann}.toml`; photoz
`models/inception_photoz_regular.toml` and `models/inception_photoz_{fgsm,pgd}_NN.toml` for
f_a = NN % (a fraction without its own file: the f_a = 10 % recipe with `[method].fraction`
changed); universal `models/convnet_{mmd,universal}_unknown_merger.toml`, with
`--labeled-target` above 0 `models/convnet_{mmd,universal}_semi_unknown_merger.toml`.
Every run also gets `[experiment].seed` (one run per seed of `--seeds`), `[experiment].output`
and `[data].directory` (under `--out`, the data shared by the experiments that use the same).

Training is repeated over `--seeds` (same data, different initialisation and shuffling) and
the tables give mean and standard deviation, because a single CPU-scale run swings by several
points from epoch to epoch.
"""

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import time
import tomllib
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

from astrokeras import load_model  # noqa: E402
from astrokeras.files import atomic_path, write_json_atomic, write_text_atomic  # noqa: E402

PAPER = {  # the shape of each paper's result that the reproduction compares
    "morphology": "Ciprijanovic et al. 2022, Table 2: regular training loses most of its "
                  "accuracy on Y1 (ResNet18 0.72 -> 0.43); MMD recovers much of it (0.66 on "
                  "Y1, +23 points); one-pixel images move about 2.3x further in latent space",
    "deepmerge": "Ciprijanovic et al. 2020, Table 1: target (PSF + noise) accuracy near chance "
                 "without adaptation, much higher with MMD or DANN",
    "photoz": "Campagne 2021, Tables 1-2: FGSM multiplies sigma_MAD about 6x and eta about "
              "40x; 10 % adversarial samples bring the perturbed figures back near the clean "
              "ones",
    "universal": "Ciprijanovic et al. 2023: universal DA keeps known-class accuracy and "
                 "rejects the target-only class, which MMD aligns onto known classes",
}

#: The repository root; recipes are named relative to it (`models/NAME.toml`).
ROOT = Path(__file__).resolve().parents[1]
MODELS = "models"
SCRIPT = "benchmarks/reproduce.py"


def _now():
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


def _machine():
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    return {"platform": platform.platform(), "processor": platform.processor(),
            "cpus": os.cpu_count(), "python": platform.python_version(), "load_average": load}


def _mean_std(values):
    values = [float(v) for v in values]
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "std": std, "values": values}


def _fmt(stat, digits=3):
    if len(stat["values"]) == 1:
        return f"{stat['mean']:.{digits}f}"
    return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"


# -- recipes -------------------------------------------------------------------------------

#: Command-line options that override a recipe key: option -> (`section.key`, the method names
#: of the recipes it applies to, None for every recipe). An option left out keeps the recipe's
#: value. `--seeds` and `--out` set `[experiment].seed`, `[experiment].output` and
#: `[data].directory` of every run.
OVERRIDES = {
    "n": ("data.n", None),
    "size": ("data.size", None),
    "softening": ("data.softening", None),
    "unknown_class": ("data.unknown_class", None),
    "labeled_target": ("data.labeled_target", None),
    "labeled_share": ("data.labeled_share", None),
    "architecture": ("model.architecture", None),
    "mmd_weight": ("method.weight", ("mmd",)),
    "dann_weight": ("method.weight", ("dann",)),
    "universal_weight": ("method.weight", ("universal",)),
    "eps": ("method.eps", ("fgsm", "pgd")),
    "pgd_steps": ("method.steps", ("pgd",)),
    "label_source": ("method.label_source", ("fgsm", "pgd")),
    "learning_rate": ("optimizer.learning_rate", None),
    "schedule": ("optimizer.schedule", None),
    "epochs": ("training.epochs", None),
    "batch_size": ("training.batch_size", None),
}


def _fraction_label(attack, fraction):
    return f"{attack}_fa{round(fraction * 100):02d}"


def recipe_files(args):
    """The shipped recipes an experiment command trains.

    Args:
        args: the parsed command line of an experiment.

    Returns:
        `{label: (file, overrides)}`: the recipe of each trained model, as a path relative to
        the repository root, and the overrides the experiment itself gives it (a photo-z
        fraction without its own recipe file: the f_a = 10 % recipe with `method.fraction`).
    """
    if args.experiment == "morphology":
        return {label: (f"{MODELS}/{args.arch}_{label}_y10_y1.toml", {})
                for label in ("regular", "mmd")}
    if args.experiment == "deepmerge":
        return {label: (f"{MODELS}/deepmerge_{label}.toml", {})
                for label in ("regular", "mmd", "dann")}
    if args.experiment == "photoz":
        files = {"regular": (f"{MODELS}/inception_photoz_regular.toml", {})}
        for fraction in args.fractions:
            own = f"{MODELS}/inception_photoz_{args.train_attack}_{round(fraction * 100):02d}.toml"
            if (ROOT / own).is_file():
                files[_fraction_label(args.train_attack, fraction)] = (own, {})
            else:
                files[_fraction_label(args.train_attack, fraction)] = (
                    f"{MODELS}/inception_photoz_{args.train_attack}_10.toml",
                    {"method.fraction": fraction})
        return files
    semi = "_semi" if args.labeled_target else ""
    return {label: (f"{MODELS}/convnet_{label}{semi}_unknown_merger.toml", {})
            for label in ("mmd", "universal")}


def _shipped(file, validated=True):
    """The shipped recipe `file` (relative to the repository root), validated as it is (a
    file that does not validate is reported against itself), or as written, to override."""
    from astrokeras.experiments import load_recipe

    recipe = load_recipe(ROOT / file)
    return recipe if validated else tomllib.loads((ROOT / file).read_text())


def _set(recipe, dotted, value):
    section, key = dotted.split(".")
    recipe.setdefault(section, {})[key] = value


def _get(recipe, dotted, missing=None):
    section, key = dotted.split(".")
    return recipe.get(section, {}).get(key, missing)


def recipe_plan(args):
    """The recipes of an experiment command and the overrides its command line gives each.

    Args:
        args: the parsed command line of an experiment.

    Returns:
        `{label: {"file": recipe path, "overrides": {"section.key": value}}}` in training
        order; the overrides are those of the experiment (`recipe_files`) and of the options
        given on the command line that apply to the recipe's method (`OVERRIDES`) and change
        its value; not the per-run seed, output and data folders.
    """
    plan = {}
    for label, (file, fixed) in recipe_files(args).items():
        recipe = _shipped(file)
        method = recipe["method"]["name"]
        overrides = dict(fixed)
        for option, (dotted, methods) in OVERRIDES.items():
            value = getattr(args, option, None)
            if value is not None and (methods is None or method in methods):
                overrides[dotted] = value
        # an option that repeats the recipe's own value changes nothing and is not listed
        plan[label] = {"file": file, "overrides": {
            dotted: value for dotted, value in overrides.items()
            if _get(recipe, dotted, missing=object()) != value}}
    return plan


def _data_directory(out, data):
    """The folder of a recipe's dataset under `out`/data, shared by the experiments that use
    the same one. Its name carries the arcsinh softening when it is not the morphology papers'
    0.85 (photo-z's is 0.001), so datasets of different stretches never share a folder."""
    from astrokeras import data as data_lib

    simulation = {"morphology": data_lib.MorphologySimulation,
                  "deepmerge": data_lib.DeepMergeSimulation,
                  "photoz": data_lib.PhotoZSimulation}[data["kind"]]
    softening = simulation.softening if data["softening"] is None else data["softening"]
    name = f"{data['kind']}_n{data['n']}_s{data['size']}"
    if softening != data_lib.Simulation.softening:  # the papers' 0.85 keeps the old names
        name += f"_c{softening:g}"
    return str(Path(out) / "data" / name)


def build_recipes(args, plan, folder):
    """The validated recipe of every run: `{seed: {label: recipe}}`.

    Each is the shipped file with the plan's overrides, `[experiment].seed` = the seed,
    `[experiment].output` = `--out`/`folder`/seedS/LABEL and `[data].directory` under
    `--out`/data.
    """
    from astrokeras.experiments import validate_recipe

    runs = {}
    for seed in args.seeds:
        runs[seed] = {}
        for label, entry in plan.items():
            recipe = _shipped(entry["file"], validated=False)
            for dotted, value in entry["overrides"].items():
                _set(recipe, dotted, value)
            recipe["experiment"].update(seed=seed,
                                        output=str(Path(args.out) / folder / f"seed{seed}" / label))
            data = validate_recipe(recipe, source=_describe(entry))["data"]
            recipe["data"]["directory"] = _data_directory(args.out, data)
            runs[seed][label] = validate_recipe(recipe, source=_describe(entry))
    return runs


def _describe(entry):
    """`models/x.toml` or `models/x.toml with [data].n = 8000, ...`."""
    if not entry["overrides"]:
        return entry["file"]
    return f"{entry['file']} with " + ", ".join(
        f"{_key(dotted)} = {value!r}" for dotted, value in entry["overrides"].items())


def _key(dotted):
    section, key = dotted.split(".")
    return f"[{section}].{key}"


def _announce(plan, folder, args):
    """Prints what the command trains: each recipe with its overrides."""
    print(f"{folder}: seeds {list(args.seeds)}, runs under {Path(args.out) / folder}", flush=True)
    for label, entry in plan.items():
        print(f"  {label}: {_describe(entry)}", flush=True)


#: Written into a run directory before training, so that resuming an interrupted run (which
#: has no run.json yet) can check that it continues the same recipe.
REQUESTED_RECIPE = "requested_recipe.json"


class RecipeMismatch(SystemExit):
    """A run directory holds a run of another recipe than the one asked for."""


def _train(recipe):
    """Trains a recipe unless its run directory already holds a finished run of that recipe.

    A finished run (run.json, no backup) is reused only if the recipe stored in its run.json
    is the one asked for now; an interrupted run (a backup directory) resumes only if the
    recipe written when it started is the one asked for now. Otherwise the results would
    silently belong to another recipe (e.g. fewer epochs), so this stops with an error that
    names the directory and the keys that differ.
    """
    from astrokeras.experiments import run_recipe

    directory = Path(recipe["experiment"]["output"])
    requested = _plain(recipe)
    interrupted = (directory / "backup").exists()
    stored = directory / (REQUESTED_RECIPE if interrupted else "run.json")
    if stored.exists():
        previous = json.loads(stored.read_text())
        previous = _comparable(previous if interrupted else previous.get("recipe", {}),
                               requested)
        differing = _differing_keys(previous, requested)
        if differing:
            raise RecipeMismatch(
                f"error: {directory} holds {'an interrupted' if interrupted else 'a finished'} "
                f"run of another recipe (differing keys: {', '.join(differing)}); pass another "
                f"--out or delete {directory} to train this one.")
        if not interrupted:
            print(f"  reuse {directory}", flush=True)
            return directory
    started = time.time()
    print(f"  {'resume' if interrupted else 'train'} {directory} ({_now()})", flush=True)
    write_json_atomic(directory / REQUESTED_RECIPE, requested)
    run_recipe(recipe, verbose=0)
    print(f"  done in {time.time() - started:.0f} s", flush=True)
    return directory


def _plain(recipe):
    """The recipe as it reads back from JSON (tuples as lists), for comparisons."""
    return json.loads(json.dumps(recipe, default=float))


def _comparable(stored, requested):
    """A stored recipe in the format of the requested one, for comparing the two.

    Keeps the stored keys that the requested recipe has (an older format listed the options of
    every method in every recipe, and those a method does not read change nothing), and
    validates them, so that keys added since the run was written read as their defaults (what
    the run computed with); a key stored without a value (None) is left to that default too.
    A stored recipe that does not validate is compared as it is.
    """
    from astrokeras.errors import ConfigError
    from astrokeras.experiments import validate_recipe

    kept = {section: {key: value for key, value in stored.get(section, {}).items()
                      if key in keys and value is not None}
            for section, keys in requested.items()}
    try:
        return _plain(validate_recipe(kept, source="stored recipe"))
    except ConfigError:
        return kept


#: Recipe keys that name or document a run without changing what it computes.
_DESCRIPTIVE = ("experiment.name", "experiment.description", "experiment.expected_runtime")


def _differing_keys(stored, requested, prefix=""):
    """Dotted names of the keys whose values differ between two (nested) recipes."""
    differing = []
    for key in sorted(set(stored) | set(requested)):
        name = f"{prefix}{key}"
        a, b = stored.get(key, "<absent>"), requested.get(key, "<absent>")
        if isinstance(a, dict) and isinstance(b, dict):
            differing += _differing_keys(a, b, prefix=f"{name}.")
        elif a != b and name not in _DESCRIPTIVE:
            differing.append(f"{name} ({a!r} stored, {b!r} asked for)")
    return differing


def _test_images(directory, domains):
    from astrokeras.evaluation import load_paired

    return load_paired(str(directory), list(domains), split="test")


def _classification_table(models, paired, domains):
    """Table 2 metrics of each `{name: classifier}` on each domain of `paired`."""
    from astrokeras.evaluation import classification_metrics

    table = {}
    for name, model in models.items():
        table[name] = {}
        for domain in domains:
            probabilities = model.predict(paired["images"][domain], batch_size=256, verbose=0)
            metrics = classification_metrics(paired["labels"], probabilities,
                                             class_names=paired["class_names"])
            table[name][domain] = {k: float(metrics[k])
                                   for k in ("accuracy", "precision", "recall", "f1")}
    return table


def _load_classifier(run_directory):
    return load_model(Path(run_directory) / "classifier.keras")


def _aggregate(per_seed, methods, domains):
    """mean/std over seeds of each metric, per method and domain."""
    result = {}
    for method in methods:
        result[method] = {}
        for domain in domains:
            result[method][domain] = {
                metric: _mean_std([run[method][domain][metric] for run in per_seed])
                for metric in ("accuracy", "precision", "recall", "f1")}
    return result


def _markdown_metrics(aggregate, domains, labels):
    header = "| training | " + " | ".join(
        f"{labels[d]} {m}" for d in domains for m in ("accuracy", "precision", "recall", "F1"))
    lines = [header + " |", "|---" * (1 + 4 * len(domains)) + "|"]
    for method, per_domain in aggregate.items():
        cells = [_fmt(per_domain[d][m]) for d in domains
                 for m in ("accuracy", "precision", "recall", "f1")]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _check(label, value, target, met):
    return {"target": label, "measured": value, "threshold": target, "met": bool(met)}


def experiment_folder(args):
    """The folder under `--out` of an experiment command's runs and results."""
    if args.experiment == "morphology":
        return f"morphology_{args.arch}"
    if args.experiment == "universal":
        return "universal_semi" if args.labeled_target else "universal"
    return args.experiment


def _prepare(args):
    """An experiment's plan and recipes, announced: `(out, plan, runs, first)` with `first`
    the first seed's recipe of the first label (the scale the tables name)."""
    folder = experiment_folder(args)
    plan = recipe_plan(args)
    runs = build_recipes(args, plan, folder)
    _announce(plan, folder, args)
    first = next(iter(runs[args.seeds[0]].values()))
    return Path(args.out) / folder, plan, runs, first


def _provenance(args, plan):
    """What results.json records of the recipes: the files, their overrides, the seeds."""
    return {"recipes": plan, "seeds": list(args.seeds),
            "per_run": "[experiment].seed from --seeds; [experiment].output and "
                       "[data].directory under --out"}


def _compare_methods(runs, seeds, domains):
    """Trains every recipe of `runs` (`{seed: {label: recipe}}`); Table 2 metrics per seed."""
    directories, per_seed, paired = {}, [], None
    for seed in seeds:
        directories[seed] = {label: _train(recipe) for label, recipe in runs[seed].items()}
        if paired is None:
            paired = _test_images(runs[seed][next(iter(runs[seed]))]["data"]["directory"],
                                  domains)
        models = {label: _load_classifier(d) for label, d in directories[seed].items()}
        per_seed.append(_classification_table(models, paired, domains))
        print(f"  seed {seed}: " + json.dumps(
            {m: {d: round(per_seed[-1][m][d]["accuracy"], 3) for d in domains}
             for m in runs[seed]}), flush=True)
    labels = list(runs[seeds[0]])
    return directories, per_seed, _aggregate(per_seed, labels, domains)


# -- experiment 1 --------------------------------------------------------------------------

def morphology(args):
    """ConvNet (or ResNet18) regular vs MMD on LSST Y10 -> Y1, Ciprijanovic et al. 2022."""
    out, plan, runs, first = _prepare(args)
    domains = ("y10", "y1")
    started = time.time()
    directories, per_seed, aggregate = _compare_methods(runs, args.seeds, domains)
    train_seconds = time.time() - started
    robustness = None
    if args.attack_n > 0:
        robustness = _morphology_robustness(args, out, directories[args.seeds[0]],
                                            first["data"]["directory"])

    accuracy = {m: {d: aggregate[m][d]["accuracy"]["mean"] for d in domains} for m in plan}
    drop = accuracy["regular"]["y10"] - accuracy["regular"]["y1"]
    gain = accuracy["mmd"]["y1"] - accuracy["regular"]["y1"]
    y10_change = accuracy["mmd"]["y10"] - accuracy["regular"]["y10"]
    checks = [
        _check("regular Y1 accuracy at least 15 points below Y10", drop, 0.15, drop >= 0.15),
        _check("MMD raises Y1 accuracy at least 10 points", gain, 0.10, gain >= 0.10),
        _check("MMD keeps Y10 accuracy within 3 points", y10_change, -0.03,
               y10_change >= -0.03),
    ]
    data, training = first["data"], first["training"]
    results = {
        "experiment": "morphology", "paper": PAPER["morphology"], "date": _now(),
        "command": " ".join(sys.argv), "machine": _machine(), **_provenance(args, plan),
        "scale": {"galaxies": data["n"], "size": data["size"], "epochs": training["epochs"],
                  "batch_size": training["batch_size"], "seeds": list(args.seeds),
                  "architecture": first["model"]["architecture"],
                  "schedule": first["optimizer"]["schedule"],
                  "learning_rate": first["optimizer"]["learning_rate"],
                  "mmd_weight": runs[args.seeds[0]]["mmd"]["method"]["weight"]},
        "per_seed": per_seed, "aggregate": aggregate, "checks": checks,
        "robustness": robustness, "seconds": {"training_and_table2": train_seconds},
    }
    labels = {"y10": "Y10", "y1": "Y1"}
    text = [f"# Morphology, Y10 -> Y1 ({first['model']['architecture']}, {data['n']} galaxies, "
            f"{data['size']}x{data['size']}, {training['epochs']} epochs, seeds "
            f"{list(args.seeds)})", "",
            f"Paper: {PAPER['morphology']}", "",
            _markdown_metrics(aggregate, domains, labels), "", _checks_markdown(checks)]
    if robustness is not None:
        text += ["", f"Robustness evaluation of seed {args.seeds[0]}: "
                 f"[{robustness['report']}]({robustness['report']})"]
    _finish(out, results, "\n".join(text))
    return results


def _morphology_robustness(args, out, runs, directory):
    """Latent distances, JS distance, one-pixel attack and plots for one seed's two models."""
    from astrokeras.experiments import run_evaluation

    links = out / "models"
    links.mkdir(parents=True, exist_ok=True)
    paths = []
    for label in ("regular", "mmd"):  # the report names each model after its file
        link = links / f"{label}.keras"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to((Path(runs[label]) / "classifier.keras").resolve())
        paths.append(link)
    started = time.time()
    # the report records the equivalent command that re-runs this evaluation alone
    command = shlex.join(["astrokeras", "evaluate", str(paths[0]), "--compare", str(paths[1]),
                          "--data", str(directory), "--domain", "y10", "--domain", "y1",
                          "--attack", "one-pixel", "--n", str(args.attack_n), "--max-iter",
                          str(args.max_iter), "--popsize", str(args.popsize), "--out",
                          str(out / "evaluation")])
    written = run_evaluation(paths[0], directory, out / "evaluation", compare=paths[1],
                             domains=["y10", "y1"], attack="one-pixel", n=args.attack_n,
                             options={"max_iter": args.max_iter, "popsize": args.popsize},
                             seed=0, command=command)
    summary = json.loads(Path(written["metrics"]).read_text())
    return {"report": str(Path(written["report"]).relative_to(out)),
            "table3": summary.get("table3"), "attack": summary.get("attack"),
            "js_distance": summary.get("js_distance"),
            "latent_scale": summary.get("latent_scale"),
            "table3_scaled": summary.get("table3_scaled"),
            "flipped_both": summary.get("flipped_both"),
            "seconds": time.time() - started,
            "figures": [str(Path(f).relative_to(out)) for f in written["figures"]]}


def _checks_markdown(checks):
    lines = ["| target | measured | met |", "|---|---|---|"]
    for check in checks:
        measured = check["measured"]
        value = f"{measured:+.3f}" if isinstance(measured, float) else str(measured)
        lines.append(f"| {check['target']} | {value} | {'yes' if check['met'] else 'NO'} |")
    return "\n".join(lines)


def _finish(out, results, markdown):
    write_json_atomic(out / "results.json", results, default=float)
    write_text_atomic(out / "results.md", markdown + "\n")
    print(markdown, flush=True)


# -- experiment 2 --------------------------------------------------------------------------

def deepmerge(args):
    """DeepMerge regular, MMD and DANN on HST-like PSF -> PSF + noise, Ciprijanovic 2020."""
    out, plan, runs, first = _prepare(args)
    domains = ("psf", "noisy")
    started = time.time()
    _, per_seed, aggregate = _compare_methods(runs, args.seeds, domains)
    accuracy = {m: aggregate[m]["noisy"]["accuracy"]["mean"] for m in plan}
    best = max(("mmd", "dann"), key=accuracy.get)
    gain = accuracy[best] - accuracy["regular"]
    checks = [_check(f"MMD or DANN raises the noisy-target accuracy at least 10 points "
                     f"(best: {best})", gain, 0.10, gain >= 0.10)]
    data, training = first["data"], first["training"]
    recipes = runs[args.seeds[0]]
    results = {
        "experiment": "deepmerge", "paper": PAPER["deepmerge"], "date": _now(),
        "command": " ".join(sys.argv), "machine": _machine(), **_provenance(args, plan),
        "scale": {"galaxies": data["n"], "size": data["size"], "epochs": training["epochs"],
                  "batch_size": training["batch_size"], "seeds": list(args.seeds),
                  "learning_rate": first["optimizer"]["learning_rate"],
                  "mmd_weight": recipes["mmd"]["method"]["weight"],
                  "dann_weight": recipes["dann"]["method"]["weight"]},
        "per_seed": per_seed, "aggregate": aggregate, "checks": checks,
        "seconds": {"training_and_metrics": time.time() - started},
    }
    text = [f"# DeepMerge, PSF -> PSF + noise ({data['n']} galaxies, {data['size']}x"
            f"{data['size']}, {training['epochs']} epochs, seeds {list(args.seeds)})", "",
            f"Paper: {PAPER['deepmerge']}", "",
            _markdown_metrics(aggregate, domains, {"psf": "PSF", "noisy": "noisy"}), "",
            _checks_markdown(checks)]
    _finish(out, results, "\n".join(text))
    return results


# -- experiment 3 --------------------------------------------------------------------------

#: PGD steps of the photo-z evaluation (step eps / 4) unless `--pgd-steps` gives others.
EVALUATION_PGD_STEPS = 10


def photoz(args):
    """Inception photo-z network: FGSM/PGD attacks and mixed-batch adversarial training."""
    from astrokeras import attacks, evaluation
    from astrokeras.data import load_manifest, load_pairs

    out, plan, runs, first = _prepare(args)
    recipes = runs[args.seeds[0]]
    # the attacks of the evaluation: the adversarial recipes' eps, or --eps for both
    eps = args.eps if args.eps is not None else next(
        r["method"]["eps"] for r in recipes.values() if r["method"]["name"] in ("fgsm", "pgd"))
    steps = args.pgd_steps or EVALUATION_PGD_STEPS
    trained_fa10 = _fraction_label(args.train_attack, 0.1)
    started, per_seed, test = time.time(), [], None
    for seed in args.seeds:
        row = {}
        for label, recipe in runs[seed].items():
            directory = _train(recipe)
            if test is None:
                test = _photoz_test(recipe["data"]["directory"], load_manifest, load_pairs)
            model = load_model(directory / "classifier.keras")
            row[label] = _photoz_row(model, test, eps, steps, attacks, evaluation,
                                     with_pgd=recipe["method"]["name"] in ("none", "pgd"))
        if not per_seed:
            figure = out / "figures" / "photoz_dz.png"
            _plot_dz({m: row[m] for m in ("regular", trained_fa10) if m in row},
                     test["z_spec"], figure)
        for conditions in row.values():
            for values in conditions.values():
                values.pop("z_phot")
        per_seed.append(row)
        print(f"  seed {seed}: " + json.dumps(
            {m: {c: round(v["sigma_mad"], 4) for c, v in r.items()} for m, r in row.items()}),
            flush=True)
    conditions = ("clean", "fgsm", "pgd")
    keys = ("bias", "sigma_mad", "eta")
    aggregate = {m: {c: {k: _mean_std([r[m][c][k] for r in per_seed]) for k in keys}
                     for c in conditions if c in per_seed[0][m]} for m in plan}
    regular = aggregate["regular"]
    ratio = regular["fgsm"]["sigma_mad"]["mean"] / regular["clean"]["sigma_mad"]["mean"]
    checks = [_check("FGSM raises sigma_MAD at least 3x on the regular model", ratio, 3.0,
                     ratio >= 3.0)]
    if trained_fa10 in aggregate:
        kept = (aggregate[trained_fa10]["fgsm"]["sigma_mad"]["mean"]
                / aggregate[trained_fa10]["clean"]["sigma_mad"]["mean"])
        checks.append(_check("f_a = 10 % keeps the FGSM sigma_MAD within 1.5x of clean", kept,
                             1.5, kept <= 1.5))
    data, training = first["data"], first["training"]
    architecture = first["model"]["architecture"]
    results = {
        "experiment": "photoz", "paper": PAPER["photoz"], "date": _now(),
        "command": " ".join(sys.argv), "machine": _machine(), **_provenance(args, plan),
        "scale": {"galaxies": data["n"], "size": data["size"], "epochs": training["epochs"],
                  "batch_size": training["batch_size"], "seeds": list(args.seeds),
                  "architecture": architecture, "eps": eps, "pgd_steps": steps,
                  "train_attack": args.train_attack,
                  "test_galaxies": int(len(test["z_spec"]))},
        "per_seed": per_seed, "aggregate": aggregate, "checks": checks,
        "seconds": {"training_and_metrics": time.time() - started},
    }
    lines = ["| training | images | bias | sigma_MAD | eta |", "|---|---|---|---|---|"]
    for method, per_condition in aggregate.items():
        for condition, stats in per_condition.items():
            lines.append(f"| {method} | {condition} | " + " | ".join(
                _fmt(stats[k], 4) for k in keys) + " |")
    text = [f"# Photo-z, {architecture} ({data['n']} galaxies, {data['size']}x{data['size']}x5, "
            f"{training['epochs']} epochs, seeds {list(args.seeds)}; attacks eps = {eps}, "
            f"PGD {steps} steps)", "", f"Paper: {PAPER['photoz']}", "",
            "z_phot is the probability-weighted mean of the PDF; dz = (z_phot - z_spec) / "
            "(1 + z_spec); eta = fraction with |dz| > 0.05.", "", "\n".join(lines), "",
            _checks_markdown(checks), "",
            f"![dz histograms, seed {args.seeds[0]}](figures/photoz_dz.png)"]
    _finish(out, results, "\n".join(text))
    return results


def _photoz_test(directory, load_manifest, load_pairs):
    """Test images, E(B-V), redshift bins and z_spec of a photo-z dataset, in memory."""
    manifest = load_manifest(directory)
    images, ebv, bins, z_spec = [], [], [], []
    for (image,), labels, values in load_pairs(directory, split="test", batch_size=256,
                                               values=True):
        images.append(image.numpy())
        ebv.append(values["ebv"].numpy())
        bins.append(labels.numpy())
        z_spec.append(values["redshift"].numpy())
    z_range = manifest["simulation"]["z_range"]
    return {"x": {"image": np.concatenate(images), "ebv": np.concatenate(ebv).reshape(-1, 1)},
            "bins": np.concatenate(bins), "z_spec": np.concatenate(z_spec),
            "z_range": (float(z_range[0]), float(z_range[1]))}


def _photoz_row(model, test, eps, steps, attacks, evaluation, with_pgd):
    """bias, sigma_MAD, eta of one model on clean, FGSM and (optionally) PGD images."""
    z_min, z_max = test["z_range"]
    x, bins = test["x"], test["bins"]
    inputs = {"clean": x}
    # with dict inputs the attacks return the dict with only "image" perturbed
    inputs["fgsm"] = attacks.fgsm(model, x, bins, eps=eps, clip=(0.0, 1.0), batch_size=256)
    if with_pgd:
        inputs["pgd"] = attacks.pgd(model, x, bins, eps=eps, step=eps / 4, steps=steps,
                                    clip=(0.0, 1.0), seed=0, batch_size=256)
    row = {}
    for condition, inp in inputs.items():
        got = evaluation.evaluate_photoz(model, inp, test["z_spec"], z_min=z_min, z_max=z_max,
                                         batch_size=256)
        metrics = got["metrics"]["mean"]
        row[condition] = {k: float(metrics[k]) for k in ("bias", "sigma_mad", "eta")}
        row[condition]["z_phot"] = got["z_mean"]
    return row


def _plot_dz(rows, z_spec, path):
    """Histograms of dz for the regular and adversarially trained models, clean vs attacked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from astrokeras.evaluation import photoz_residuals

    figure, axes = plt.subplots(1, len(rows), figsize=(5 * len(rows), 4), sharey=True,
                                squeeze=False)
    edges = np.linspace(-0.15, 0.15, 61)
    for axis, (model, conditions) in zip(axes[0], rows.items()):
        for condition, values in conditions.items():
            dz = photoz_residuals(values["z_phot"], z_spec)
            axis.hist(np.clip(dz, edges[0], edges[-1]), bins=edges, histtype="step",
                      linewidth=1.5, label=f"{condition}: sigma_MAD {values['sigma_mad']:.4f}")
        axis.axvline(0.0, color="grey", linewidth=0.8)
        axis.set_title(model)
        axis.set_xlabel("dz = (z_phot - z_spec) / (1 + z_spec)")
        axis.legend(fontsize=8)
    axes[0][0].set_ylabel("galaxies")
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=100)
    plt.close(figure)


# -- experiment 4 --------------------------------------------------------------------------

def open_set_scores(model, paired, unknown_class, calibration=None):
    """Open-set figures of a `DomainAdaptationModel` on the Y1 test images of `paired`.

    Args:
        model: the trained `DomainAdaptationModel` (its `predict_open_set` rule).
        paired: `load_paired` output with "y10" and "y1" images and the labels.
        unknown_class: the label present only in the target.
        calibration: None, or known-class Y1 images (the validation split's) on which
            `open_set_threshold` sets the entropy threshold that rejects 5 % of them; the
            detection and rejection rates on the test set at that threshold are added.

    Returns:
        A dict: `figures` (known-class accuracy, unknown detected, known rejected, H-score,
        with `calibration` the unknown detected and known rejected at the calibrated
        threshold, and the threshold-free AUROCs of the prediction entropy and of the latent cosine
        distance to the Y10 class means) and the arrays they come from (`labels`,
        `unknown`, `probabilities`, `entropy`, `z10`, `z1`: unit-length latents).
    """
    from sklearn.metrics import roc_auc_score

    from astrokeras import losses
    from astrokeras.evaluation import latent_embeddings
    from astrokeras.training import UNKNOWN

    def unit(z):
        return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)

    y1 = paired["images"]["y1"]
    labels = np.asarray(paired["labels"])
    unknown = labels == unknown_class
    predicted = model.predict_open_set(y1, batch_size=256)
    known_labels = labels[~unknown] - (labels[~unknown] > unknown_class)
    known = float(np.mean(predicted[~unknown] == known_labels))
    detected = float(np.mean(predicted[unknown] == UNKNOWN))
    h_score = 0.0 if known + detected == 0 else 2 * known * detected / (known + detected)
    # Threshold-free: how well each score ranks the unknown class above the known ones on the
    # Y1 test set (AUROC, 0.5 = chance). The rule's own score is the prediction entropy; the
    # latent score is 1 - the largest cosine similarity of a Y1 latent to the Y10 test class
    # means (known classes, labels from Y10).
    probabilities = model.classifier.predict(y1, batch_size=256, verbose=0)
    entropy = np.asarray(losses.entropy(probabilities))
    z10 = unit(latent_embeddings(model, paired["images"]["y10"], batch_size=256))
    z1 = unit(latent_embeddings(model, y1, batch_size=256))
    means = unit(np.stack([z10[labels == c].mean(axis=0) for c in np.unique(labels[~unknown])]))
    figures = {"known_accuracy": known, "unknown_detected": detected,
               "known_rejected": float(np.mean(predicted[~unknown] == UNKNOWN)),
               "h_score": h_score,
               "auroc_entropy": float(roc_auc_score(unknown, entropy)),
               "auroc_latent": float(roc_auc_score(unknown, 1.0 - (z1 @ means.T).max(axis=1)))}
    if calibration is not None:
        threshold = model.open_set_threshold(calibration, rejected=0.05, batch_size=256)
        figures.update(calibrated_threshold=threshold,
                       calibrated_detected=float(np.mean(entropy[unknown] > threshold)),
                       calibrated_rejected=float(np.mean(entropy[~unknown] > threshold)))
    return {"figures": figures, "labels": labels, "unknown": unknown,
            "probabilities": probabilities, "entropy": entropy, "z10": z10, "z1": z1}


def universal(args):
    """Universal DA vs MMD with a class present only in the Y1 target, Ciprijanovic 2023."""
    from astrokeras.evaluation import load_paired

    out, plan, runs, first = _prepare(args)
    data = first["data"]
    unknown_class, semi = data["unknown_class"], data["labeled_target"] > 0
    epochs = first["training"]["epochs"]
    started, per_seed, paired = time.time(), [], None
    for seed in args.seeds:
        row = {}
        for label, recipe in runs[seed].items():
            directory = _train(recipe)
            if paired is None:
                paired = _test_images(data["directory"], ("y10", "y1"))
                validation = load_paired(data["directory"], ["y1"], split="validation")
                calibration = validation["images"]["y1"][
                    np.asarray(validation["labels"]) != unknown_class]
            model = load_model(directory / "model.keras")
            row[label] = open_set_scores(model, paired, unknown_class, calibration)["figures"]
        per_seed.append(row)
        print(f"  seed {seed}: " + json.dumps(row), flush=True)
    keys = ("known_accuracy", "unknown_detected", "known_rejected", "h_score",
            "calibrated_detected", "calibrated_rejected", "auroc_entropy", "auroc_latent")
    aggregate = {m: {k: _mean_std([r[m][k] for r in per_seed]) for k in keys} for m in plan}
    detected_gain = (aggregate["universal"]["unknown_detected"]["mean"]
                     - aggregate["mmd"]["unknown_detected"]["mean"])
    known_change = (aggregate["universal"]["known_accuracy"]["mean"]
                    - aggregate["mmd"]["known_accuracy"]["mean"])
    auroc_gain = (aggregate["universal"]["auroc_entropy"]["mean"]
                  - aggregate["mmd"]["auroc_entropy"]["mean"])
    operating_gain = (aggregate["universal"]["calibrated_detected"]["mean"]
                      - aggregate["mmd"]["calibrated_detected"]["mean"])
    checks = [
        _check("universal DA detects more of the target-only class than MMD", detected_gain,
               0.0, detected_gain > 0.0),
        _check("universal DA detects more of it than MMD at the calibrated threshold",
               operating_gain, 0.0, operating_gain > 0.0),
        _check("universal DA keeps known-class accuracy within 5 points of MMD", known_change,
               -0.05, known_change >= -0.05),
        _check("universal DA's prediction entropy ranks the unknown class better than MMD's "
               "(AUROC difference)", auroc_gain, 0.0, auroc_gain > 0.0),
    ]
    results = {
        "experiment": "universal", "paper": PAPER["universal"], "date": _now(),
        "command": " ".join(sys.argv), "machine": _machine(), **_provenance(args, plan),
        "scale": {"galaxies": data["n"], "size": data["size"], "epochs": epochs,
                  "seeds": list(args.seeds), "unknown_class": unknown_class,
                  "labeled_target": data["labeled_target"],
                  "labeled_share": data["labeled_share"] if semi else None},
        "per_seed": per_seed, "aggregate": aggregate, "checks": checks,
        "seconds": {"training_and_metrics": time.time() - started},
    }
    lines = ["| training | known-class accuracy (Y1) | unknown detected | known rejected | "
             "H-score | calibrated: unknown detected | calibrated: known rejected | "
             "AUROC, entropy | AUROC, latent |", "|---|---|---|---|---|---|---|---|---|"]
    for method in plan:
        lines.append(f"| {method} | " + " | ".join(_fmt(aggregate[method][k]) for k in keys)
                     + " |")
    semi_text = (f"; semi-supervised: {data['labeled_target']} labeled Y1 training galaxies "
                 f"per known class, {data['labeled_share']:g} of each target batch drawn from "
                 "them, for both trainings" if semi else "")
    text = [f"# Universal DA, class {unknown_class} only in the Y1 target ({data['n']} "
            f"galaxies, {data['size']}x{data['size']}, {epochs} epochs, seeds "
            f"{list(args.seeds)}{semi_text})", "", f"Paper: {PAPER['universal']}", "",
            "Open-set rule for both models: predict unknown where the prediction entropy "
            "exceeds log(K)/2 (K = 2 known classes). Calibrated: the same rule with the "
            "threshold that rejects 5 % of the known-class Y1 validation galaxies "
            "(`DomainAdaptationModel.open_set_threshold`), its rates on the test set. "
            "Threshold-free: the AUROC of the "
            "prediction entropy, and of 1 - the largest cosine similarity of a Y1 latent to "
            "the Y10 class-mean latents, for telling the unknown class from the known ones on "
            "the Y1 test set (0.5: chance).", "", "\n".join(lines), "",
            _checks_markdown(checks)]
    _finish(out, results, "\n".join(text))
    return results


# -- docs/results.md -----------------------------------------------------------------------

#: Where the papers' numbers beside ours were read. Only numbers read in these sources (or
#: quoted from the papers' tables when the project was specified, labelled so) are given; the
#: papers' tables themselves were not available here, and everything else reads "not
#: available here".
SOURCES = {
    "tables": "figures of the papers' tables, quoted when the project was specified (the "
              "tables themselves were not available here)",
    "deepadversaries": "abstract of Ciprijanovic et al. 2022, arXiv 2112.14299 (v1/v2), read "
                       "at https://www.bzpeer.com/works/deepadversaries-examining-the-"
                       "robustness-of-deep-learning-models-for-galaxy-morp-11214299 and "
                       "https://deepai.org/publication/deepadversaries-examining-the-robustness"
                       "-of-deep-learning-models-for-galaxy-morphology-classification",
    "deepmerge2": "abstract of Ciprijanovic et al. 2021 (DeepMerge II), arXiv 2103.01373, read "
                  "at https://deepai.org/publication/deepmerge-ii-building-robust-deep-"
                  "learning-algorithms-for-merging-galaxy-identification-across-domains",
    "deepastrouda": "abstract of Ciprijanovic et al. 2023 (DeepAstroUDA), arXiv 2302.02005, "
                    "read at https://www.scholarfeed.org/paper/2302.02005v2 and "
                    "https://cs.paperswithcode.com/paper/deepastrouda-semi-supervised-universal"
                    "-domain",
}
NOT_AVAILABLE = "not available here"
TABLES = "quoted from the tables"


def _mean_of(aggregate, *keys):
    value = aggregate
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value["mean"] if isinstance(value, dict) and "mean" in value else None


def _ours(value, digits=3, signed=False):
    if value is None:
        return "not measured"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def _paper_rows(folder, results):
    """(quantity, the paper's number, its source key, ours) rows for one experiment."""
    agg = results.get("aggregate", {})
    if folder.startswith("morphology"):
        arch = results.get("scale", {}).get("architecture", "convnet")
        reg10, reg1 = _mean_of(agg, "regular", "y10", "accuracy"), _mean_of(
            agg, "regular", "y1", "accuracy")
        mmd10, mmd1 = _mean_of(agg, "mmd", "y10", "accuracy"), _mean_of(
            agg, "mmd", "y1", "accuracy")
        gain = None if mmd1 is None or reg1 is None else mmd1 - reg1
        both = (results.get("robustness") or {}).get("flipped_both")
        if both:
            r = both["ratio"]
            pixel = (f"raw median {_ours(r['raw_median'], 2)}, scaled median "
                     f"{_ours(r['scaled_median'], 2)} (raw mean {_ours(r['raw_mean'], 2)}, "
                     f"scaled mean {_ours(r['scaled_mean'], 2)}; {both['n']} galaxies flipped "
                     f"under both of {both['attacked']} attacked under both)")
        else:
            pixel = "not measured (run before the galaxies flipped under both were reported)"
        return [
            ("regular, Y10 accuracy", "0.72 (ResNet18)", "tables", f"{_ours(reg10)} ({arch})"),
            ("regular, Y1 accuracy", "0.43 (ResNet18)", "tables", f"{_ours(reg1)} ({arch})"),
            ("MMD, Y1 accuracy", "0.66 (ResNet18)", "tables", f"{_ours(mmd1)} ({arch})"),
            ("MMD - regular, Y1 accuracy", "+0.23 (\"by 23%\")", "deepadversaries",
             _ours(gain, signed=True)),
            ("MMD, Y10 accuracy; precision, recall, F1, Brier, AUC; the ConvNet rows (Table 2)",
             NOT_AVAILABLE, None, f"MMD Y10 accuracy {_ours(mmd10)}; the rest above"),
            ("one-pixel latent distance, domain adaptation / regular, galaxies flipped under "
             "both", "about 2.3 (\"by a factor of ~2.3\")", "deepadversaries", pixel),
            ("Y10-Y1 latent distances, one-pixel success and generations, JS distances "
             "(Tables 3-5)", NOT_AVAILABLE, None, "below"),
        ]
    if folder == "deepmerge":
        regular = _mean_of(agg, "regular", "noisy", "accuracy")
        best = max((_mean_of(agg, m, "noisy", "accuracy") or 0.0) for m in ("mmd", "dann"))
        gain = None if regular is None else best - regular
        return [
            ("regular, noisy-target accuracy", "near chance", "tables", _ours(regular)),
            ("best of MMD and DANN - regular, target accuracy", "up to about +0.20 (\"up to "
             "~20%\", over DeepMerge II's two experiments)", "deepmerge2",
             _ours(gain, signed=True)),
            ("Table 1 figures (accuracy, precision, recall, F1, AUC per method)",
             NOT_AVAILABLE, None, "above"),
        ]
    if folder == "photoz":
        clean = _mean_of(agg, "regular", "clean", "sigma_mad")
        rows = [
            ("regular: FGSM sigma_MAD / clean sigma_MAD", "about 6", "tables",
             _ours(_ratio(_mean_of(agg, "regular", "fgsm", "sigma_mad"), clean), 2)),
            ("regular: FGSM eta / clean eta", "about 40", "tables",
             _ours(_ratio(_mean_of(agg, "regular", "fgsm", "eta"),
                          _mean_of(agg, "regular", "clean", "eta")), 2)),
            ("f_a = 10 %: FGSM sigma_MAD / clean sigma_MAD", "near 1 (\"back near the clean "
             "ones\")", "tables",
             _ours(_ratio(_mean_of(agg, "fgsm_fa10", "fgsm", "sigma_mad"),
                          _mean_of(agg, "fgsm_fa10", "clean", "sigma_mad")), 2)),
            ("Tables 1-2 figures (bias, sigma_MAD, eta per training and attack)",
             NOT_AVAILABLE, None, "above"),
        ]
        return rows
    universal = {k: _mean_of(agg, "universal", k) for k in (
        "known_accuracy", "unknown_detected", "calibrated_detected", "auroc_entropy",
        "auroc_latent")}
    mmd = {k: _mean_of(agg, "mmd", k) for k in universal}
    return [
        ("setting", "semi-supervised: a few labeled target samples (\"performs semi-supervised "
         "domain alignment\"); spiral and elliptical known, mergers the unknown class, LSST "
         "Y10 and Y1 among its three examples", "deepastrouda",
         "labeled Y1 galaxies per known class: "
         f"{results.get('scale', {}).get('labeled_target', 0) or 'none (unsupervised)'}"),
        ("unknown class: \"successfully clusters unknown class samples even in the unlabeled "
         "target dataset\"; \"performs well as an anomaly detection algorithm\"",
         "qualitative", "deepastrouda",
         f"mergers detected {_ours(universal['unknown_detected'])} (MMD "
         f"{_ours(mmd['unknown_detected'])}), at the calibrated threshold "
         f"{_ours(universal['calibrated_detected'])} (MMD {_ours(mmd['calibrated_detected'])});"
         f" AUROC of the entropy {_ours(universal['auroc_entropy'])} (MMD "
         f"{_ours(mmd['auroc_entropy'])}), of the latent {_ours(universal['auroc_latent'])} "
         f"(MMD {_ours(mmd['auroc_latent'])})"),
        ("known-class accuracy, detection rate, per-class figures (its tables)", NOT_AVAILABLE,
         None, f"known-class accuracy {_ours(universal['known_accuracy'])} (MMD "
         f"{_ours(mmd['known_accuracy'])}); the rest above"),
    ]


def _paper_table(folder, results):
    lines = ["| quantity | paper | ours, this scale | source of the paper's number |",
             "|---|---|---|---|"]
    for quantity, paper, source, ours in _paper_rows(folder, results):
        where = {"tables": TABLES, "deepadversaries": "Ciprijanovic et al. 2022 abstract",
                 "deepmerge2": "DeepMerge II abstract",
                 "deepastrouda": "DeepAstroUDA abstract", None: "–"}[source]
        lines.append(f"| {quantity} | {paper} | {ours} | {where} |")
    return lines


_DEFAULT_PAGE = "docs/results.md"

_FOLDERS = (("Morphology, LSST Y10 -> Y1, ConvNet", "morphology_convnet"),
            ("Morphology, LSST Y10 -> Y1, ResNet18", "morphology_resnet18"),
            ("DeepMerge, PSF -> PSF + noise", "deepmerge"),
            ("Photo-z under attack, adversarial training", "photoz"),
            ("Universal domain adaptation, unknown class in the target", "universal"),
            ("Universal domain adaptation, semi-supervised", "universal_semi"))


def report(args):
    """Gathers every experiment's results and figures into one markdown page (docs/results.md);
    with `--only`, regenerates just those experiments' sections of the existing page."""
    out, page = Path(args.out), Path(args.page)
    overrides = _overrides(args.use)
    further = _overrides(args.also, many=True)
    only = _only(args.only, page)
    if only and set(further) - only:
        raise SystemExit(f"error: --also {sorted(set(further) - only)}: those sections are not "
                         f"regenerated with --only {sorted(only)}; add them to --only")
    for folder in only:
        if not (overrides.get(folder, out / folder) / "results.json").exists():
            raise SystemExit(f"error: --only {folder}: no results.json under "
                             f"{overrides.get(folder, out / folder)}; the page is left as it is")
    figures = page.parent / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    sections = {folder: _section(title, folder, overrides.get(folder, out / folder),
                                 folder in overrides, further.get(folder, ()), figures,
                                 _page_command(args, folder))
                for title, folder in _FOLDERS if not only or folder in only}
    if only:
        sections = {**_page_sections(page), **sections}
        sections = {key: sections[key] for key in ["", *(f for _, f in _FOLDERS)]
                     if key in sections}
    else:
        sections = {"": _page_header(), **sections}
    write_text_atomic(page, "\n".join(line for lines in sections.values() for line in lines)
                      + "\n")
    print(f"Wrote {page} and {figures}")


def _page_header():
    return ["# Reproducing the papers with astrokeras", "",
            "Generated by `python benchmarks/reproduce.py report` from the runs of "
            "`benchmarks/reproduce.py` (each section gives the command that made its runs, "
            "the recipes shipped in `models/` they trained with the command's overrides, its "
            "machine and time, and the report command that writes the section; each figure "
            "names its command and recipes). "
            "Data are astrokeras' own GalSim simulations at a scale that runs on 2 CPU "
            "cores, so the absolute numbers differ from the papers'; the shape of each "
            "result is what is compared. Means ± standard deviations over training seeds.",
            "", "Each section ends with the papers' numbers beside ours. Sources of the "
            "papers' numbers:", ""] + [f"- {key}: {text}" for key, text in (
                (TABLES, SOURCES["tables"]),
                ("Ciprijanovic et al. 2022 abstract", SOURCES["deepadversaries"]),
                ("DeepMerge II abstract", SOURCES["deepmerge2"]),
                ("DeepAstroUDA abstract", SOURCES["deepastrouda"]))] + [
            "", "The papers' tables (Ciprijanovic et al. 2022 Tables 2-5, Ciprijanovic et al. "
            "2020/2021 Table 1, Campagne Tables 1-2, Ciprijanovic et al. 2023) were not "
            "available here: where a figure is neither in an abstract above nor "
            f"{TABLES} it reads \"not available here\"; none is estimated."]


def _section(title, folder, base, read_from, further, figures, page_command):
    """One experiment's section of the page: its tables, the paper's numbers, its figures
    (copied into `figures`, each with the recipes and command that made it) and the further
    runs of `--also`; `page_command` is the report command that regenerates the section."""
    path = base / "results.json"
    parts = ["", f"## {title}", ""]
    if not path.exists():
        return parts + [f"Not run yet: `python {SCRIPT} {_command_of(folder)}`."]
    results = json.loads(path.read_text())
    parts += _run_summary(base, results, read_from=read_from)
    parts += ["", f"This section of the page: `{page_command}`, after the commands that made "
                  "its runs."]
    parts += ["", "Beside the paper:", ""] + _paper_table(folder, results)
    robustness = results.get("robustness")
    if robustness:
        parts += ["", "Latent distances, one-pixel attack and JS distance (seed "
                      f"{results['scale']['seeds'][0]}, from "
                      f"`{folder}/{robustness['report']}`):", ""]
        parts += _report_sections(base / robustness["report"],
                                  ("### Latent-space distances", "### Attack",
                                   "### Jensen-Shannon"))
    for figure in _figures(base, robustness):
        parts += ["", _copy_figure(figure, figures / f"{folder}_{figure.name}"), "",
                  figure_caption(results, figure.stem)]
    more = [(extra, json.loads((extra / "results.json").read_text())) for extra in further]
    for extra, other in more:
        n, epochs = other["scale"]["galaxies"], other["scale"]["epochs"]
        # a further run of another length than the base says so, in its heading and figures
        longer = epochs != results["scale"]["epochs"]
        heading = f"{n:,} galaxies" + (f", {epochs} epochs" if longer else "")
        prefix = f"{folder}_n{n}" + (f"_e{epochs}" if longer else "")
        parts += ["", f"### The same at {heading}", ""]
        parts += _run_summary(extra, other, read_from=True, skip=("Paper:",))
        for figure in _figures(extra, other.get("robustness")):
            parts += ["", _copy_figure(figure, figures / f"{prefix}_{figure.name}"), "",
                      figure_caption(other, figure.stem)]
    if folder == "photoz" and more:
        parts += ["", "### Adversarial training by training-set size and length", ""]
        parts += _photoz_by_size([results] + [other for _, other in more])
    return parts


def _run_plan(results):
    """`(seeds, plan)` of a finished run: the recipes and overrides its results.json records,
    or, for a run that predates that record, those its command resolves to now (the shipped
    recipes with the command's overrides: what regenerates it)."""
    if "recipes" in results:
        return results["seeds"], results["recipes"]
    argv = shlex.split(results["command"])
    args = _parser().parse_args(argv[1:])  # argv[0] is the script
    return args.seeds, recipe_plan(args)


def _value(value):
    """A recipe value as a TOML file writes it."""
    return json.dumps(value)


def _with_overrides(overrides):
    return ", ".join(f"`{_key(dotted)} = {_value(value)}`" for dotted, value in overrides.items())


def recipe_line(results):
    """The page's line that names the shipped recipes of a run and the command's overrides.

    Args:
        results: a run's results.json (its `command`, and `recipes` and `seeds` where
            recorded).

    Returns:
        One markdown line: each recipe file with its label, the overrides the command gives
        every recipe, those it gives only some, and how seeds and folders are set.
    """
    seeds, plan = _run_plan(results)
    shared = {dotted: value for dotted, value in next(iter(plan.values()))["overrides"].items()
              if all(entry["overrides"].get(dotted, object()) == value
                     for entry in plan.values())}
    recipes = []
    for label, entry in plan.items():
        own = {k: v for k, v in entry["overrides"].items() if k not in shared}
        recipes.append(f"`{entry['file']}`" + (f" with {_with_overrides(own)}" if own else "")
                       + f" ({label})")
    changed = (f"; overrides of the command for all: {_with_overrides(shared)}" if shared
               else "")
    return (f"Recipes: {', '.join(recipes)}{changed}; one run of each per seed of `--seeds` "
            f"({', '.join(map(str, seeds))}) as `[experiment].seed`, its `[experiment].output` "
            "and `[data].directory` under `--out`.")


def figure_caption(results, stem):
    """The line under a figure: the command and the shipped recipes that made it.

    A figure named after one model (`church_window_mmd`) comes from that model's recipe;
    the photo-z dz histograms from the regular and the f_a = 10 % recipes; the others from
    every recipe of the run. Figures are made from the first seed's models.
    """
    seeds, plan = _run_plan(results)
    labels = [label for label in plan if stem.endswith(f"_{label}")]
    if not labels:
        labels = [label for label in plan if stem != "photoz_dz"
                  or label == "regular" or label.endswith("_fa10")]
    files = " and ".join(dict.fromkeys(f"`{plan[label]['file']}`" for label in labels))
    changed = any(plan[label]["overrides"] for label in labels)
    return (f"Made by `python {results['command']}` from {files} (seed {seeds[0]}"
            + (", with the overrides above" if changed else "") + ").")


def _page_command(args, folder):
    """The report command that regenerates `folder`'s section of the page as it is now."""
    command = [f"python {SCRIPT}", f"--out {args.out}", "report"]
    if Path(args.page) != Path(_DEFAULT_PAGE):
        command.append(f"--page {args.page}")
    command.append(f"--only {folder}")
    command += [f"--use {pair}" for pair in args.use or () if pair.startswith(f"{folder}=")]
    command += [f"--also {pair}" for pair in args.also or () if pair.startswith(f"{folder}=")]
    return " ".join(command)


def _only(folders, page):
    """The experiments of `--only`, checked: known ones, and a page that already exists."""
    known = [folder for _, folder in _FOLDERS]
    for folder in folders or ():
        if folder not in known:
            raise SystemExit(f"error: --only {folder!r}: expected one of {known}")
    if folders and not page.exists():
        raise SystemExit(f"error: --only needs an existing --page to update; {page} does not "
                         "exist (run `report` without --only first)")
    return set(folders or ())


def _page_sections(page):
    """`{"": header, folder: lines, ...}` of an existing page, split at its `## ` headings
    (a section's lines start with the blank line before its heading, as `_section` writes)."""
    titles = {f"## {title}": folder for title, folder in _FOLDERS}
    sections, current = {"": []}, ""
    for line in Path(page).read_text().rstrip("\n").splitlines():
        if line in titles:
            if sections[current][-1:] == [""]:
                sections[current].pop()
            current = titles[line]
            sections[current] = [""]
        sections[current].append(line)
    return sections


def _copy_figure(figure, target):
    """Copies `figure` to `target` atomically; returns the page's markdown image line."""
    import shutil

    with atomic_path(target) as temporary:
        shutil.copyfile(figure, temporary)
    return f"![{figure.stem}]({target.parent.name}/{target.name})"


def _run_summary(base, results, read_from, skip=()):
    """A run's own tables (its results.md without title line, figures and lines starting
    with `skip`, blank lines not doubled) and its command."""
    body = (base / "results.md").read_text().splitlines()
    skipped = ("![", "Robustness evaluation") + tuple(skip)
    kept = []
    for line in body[1:]:
        if not line.startswith(skipped) and (line or kept[-1:] != [""]):
            kept.append(line)
    while kept[-1:] == [""]:
        kept.pop()
    machine = results["machine"]
    runs = [json.loads(p.read_text()) for p in sorted(base.rglob("run.json"))]
    fit = sum(run.get("train_seconds", 0.0) for run in runs)
    return [body[0].lstrip("# ").strip() + "."] + kept + ["", _stretch_line(runs)] + [
        "", f"Command: `python {results['command']}` ({results['date']}; "
            f"{machine['cpus']} CPUs, load average {' '.join(machine['load_average'])} "
            f"at the end; {len(runs)} trainings, {fit / 60:.0f} minutes of `fit` in "
            "all, from their run.json; finished runs are reused, not retrained"
            + (f"; read from `{base}`" if read_from else "") + ").", "", recipe_line(results)]


def _stretch_line(runs):
    """How the runs' images were stretched, read from their run.json.

    Runs of this astrokeras record each domain's stretch (`preprocessing`: the one transform
    fitted on the source training split, or the target's own fit for normalisation-based
    adaptation); older runs do not, and stretched every domain with its own clip limits.
    """
    recorded = [run.get("preprocessing") for run in runs]
    if runs and all(isinstance(p, dict) and "source" in p for p in recorded):
        own = sum(p["target"] is not None and p["target"] != p["source"] for p in recorded)
        return ("Preprocessing: one clip + arcsinh transform, fitted on the source training "
                "split, for every domain" + (f" (except the {own} normalisation-based "
                                             "adaptation runs)" if own else "") + ".")
    return ("Preprocessing: these runs predate the one preprocessing; each domain was "
            "stretched with clip limits fitted on its own images, so part of any target "
            "gain here is normalisation-based adaptation. Re-run the command to measure "
            "them under one preprocessing.")


def _photoz_by_size(runs):
    """The regular and f_a = 10 % figures of photo-z runs with different numbers of galaxies,
    one row per run, fewest galaxies (then epochs) first: whether the f_a target is a matter
    of data or of training length."""
    lines = ["| galaxies | epochs | seeds | regular clean sigma_MAD | regular FGSM / clean | "
             "f_a = 10 % clean sigma_MAD | f_a = 10 % FGSM sigma_MAD | f_a = 10 % FGSM / clean |",
             "|---|---|---|---|---|---|---|---|"]
    for results in sorted(runs, key=lambda r: (r["scale"]["galaxies"], r["scale"]["epochs"])):
        scale, aggregate = results["scale"], results["aggregate"]
        trained = aggregate.get(f"{scale.get('train_attack', 'fgsm')}_fa10")
        if trained is None:
            continue
        regular = aggregate["regular"]
        lines.append(
            f"| {scale['galaxies']:,} | {scale['epochs']} | {len(scale['seeds'])} | "
            f"{_fmt(regular['clean']['sigma_mad'], 4)} | "
            f"{_ratio_of_means(regular['fgsm'], regular['clean']):.2f} | "
            f"{_fmt(trained['clean']['sigma_mad'], 4)} | "
            f"{_fmt(trained['fgsm']['sigma_mad'], 4)} | "
            f"{_ratio_of_means(trained['fgsm'], trained['clean']):.2f} |")
    return lines


def _ratio_of_means(numerator, denominator, key="sigma_mad"):
    return numerator[key]["mean"] / denominator[key]["mean"]


def _command_of(folder):
    """The sub-command (and architecture) that writes `folder`."""
    if folder == "universal_semi":
        return "universal --labeled-target 10"
    experiment, _, arch = folder.partition("_")
    return f"{experiment} --arch {arch}" if arch else experiment


def _overrides(pairs, many=False):
    """`{folder: path}` from `--use FOLDER=PATH` arguments, or `{folder: [path, ...]}` from
    `--also FOLDER=PATH` ones (`many`), checked."""
    option = "--also" if many else "--use"
    folders = [folder for _, folder in _FOLDERS]
    overrides = {}
    for pair in pairs or ():
        folder, _, path = pair.partition("=")
        if folder not in folders or not path:
            raise SystemExit(f"error: {option} {pair!r}: expected FOLDER=PATH with FOLDER one "
                             f"of {folders}")
        if not (Path(path) / "results.json").exists():
            raise SystemExit(f"error: {option} {pair!r}: {path} holds no results.json")
        if many:
            overrides.setdefault(folder, []).append(Path(path))
        else:
            overrides[folder] = Path(path)
    return overrides


def _report_sections(path, headings):
    """The markdown sections of an evaluation report that start with `headings`."""
    lines, keep, kept = Path(path).read_text().splitlines(), False, []
    for line in lines:
        if line.startswith("#"):
            keep = line.startswith(headings)
        if keep:
            kept.append(line.replace("### ", "#### ", 1) if line.startswith("### ") else line)
    return kept


def _figures(folder, robustness):
    if robustness:
        return sorted(folder / f for f in robustness["figures"]
                      if "isomap3d" not in f and "roc_" not in f)
    return sorted((folder / "figures").glob("*.png"))


# -- command line --------------------------------------------------------------------------

def _experiment(commands, run, seeds):
    """A sub-command with the options every experiment has; each overrides a key of the
    recipes (`OVERRIDES`) and, left out, keeps the recipe's value."""
    command = commands.add_parser(run.__name__, help=run.__doc__)
    command.add_argument("--n", type=int, help="galaxies to simulate ([data].n)")
    command.add_argument("--size", type=int, help="image side in pixels ([data].size)")
    command.add_argument("--epochs", type=int, help="[training].epochs")
    command.add_argument("--batch-size", type=int, help="[training].batch_size")
    command.add_argument("--learning-rate", type=float, help="[optimizer].learning_rate")
    command.add_argument("--seeds", type=int, nargs="+", default=seeds,
                         help="one run of every recipe per seed ([experiment].seed; default "
                              f"{' '.join(map(str, seeds))})")
    command.add_argument("--softening", type=float,
                         help="arcsinh softening of the data's stretch ([data].softening); each "
                              "value has its own data folder")
    command.set_defaults(run=run)
    return command


def _parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="runs/reproduce",
                        help="output folder: runs, data ([data].directory) and results")
    commands = parser.add_subparsers(dest="experiment", required=True)

    morph = _experiment(commands, morphology, [0, 1, 2])
    morph.add_argument("--arch", choices=("convnet", "resnet18"), default="convnet",
                       help="the recipes: models/ARCH_{regular,mmd}_y10_y1.toml")
    morph.add_argument("--schedule", help="[optimizer].schedule")
    morph.add_argument("--mmd-weight", type=float, help="[method].weight of the MMD recipe")
    morph.add_argument("--attack-n", type=int, default=50,
                       help="correctly classified Y10 images attacked per model (0: skip)")
    morph.add_argument("--max-iter", type=int, default=20, help="one-pixel DE generations")
    morph.add_argument("--popsize", type=int, default=400)

    merge = _experiment(commands, deepmerge, [0, 1, 2])
    merge.add_argument("--mmd-weight", type=float, help="[method].weight of the MMD recipe")
    merge.add_argument("--dann-weight", type=float, help="[method].weight of the DANN recipe")

    open_set = _experiment(commands, universal, [0, 1, 2])
    open_set.add_argument("--unknown-class", type=int,
                          help="[data].unknown_class, the class only the target holds (the "
                               "recipes': 2, mergers)")
    open_set.add_argument("--mmd-weight", type=float, help="[method].weight of the MMD recipe")
    open_set.add_argument("--universal-weight", type=float,
                          help="[method].weight of the universal DA recipe")
    open_set.add_argument("--labeled-target", type=int,
                          help="above 0: the semi-supervised recipes (DeepAstroUDA, "
                               "models/convnet_*_semi_unknown_merger.toml) with this many "
                               "labeled Y1 training galaxies per known class "
                               "([data].labeled_target), results in universal_semi; 0 or left "
                               "out: the unsupervised recipes, results in universal")
    open_set.add_argument("--labeled-share", type=float,
                          help="[data].labeled_share: share of each target batch drawn from the "
                               "labeled galaxies")

    pz = _experiment(commands, photoz, [0])
    pz.add_argument("--arch", dest="architecture",
                    help="[model].architecture, e.g. simple_photoz_cnn (the recipes': "
                         "inception_photoz)")
    pz.add_argument("--schedule", help="[optimizer].schedule")
    pz.add_argument("--eps", type=float,
                    help="[method].eps of the adversarial recipes and the eps of the "
                         "evaluation's attacks (default: the adversarial recipes', 0.01)")
    pz.add_argument("--pgd-steps", type=int,
                    help="steps of the evaluation's PGD (default "
                         f"{EVALUATION_PGD_STEPS}) and [method].steps of PGD-trained recipes")
    pz.add_argument("--fractions", type=float, nargs="+", default=[0.05, 0.10, 0.20],
                    help="f_a of the adversarial trainings: models/inception_photoz_ATTACK_NN"
                         ".toml for f_a = NN %%, or the f_a = 10 %% recipe with "
                         "[method].fraction changed where there is no such file")
    pz.add_argument("--train-attack", choices=("fgsm", "pgd"), default="fgsm",
                    help="attack of the adversarial training (Campagne 2021: FGSM); pgd takes "
                         "the PGD recipes (10 steps of eps / 4) and is evaluated under PGD too; "
                         "runs go to fgsm_faNN or pgd_faNN, so both can share an --out (the "
                         "regular network is trained once), results.json holds the last "
                         "command's")
    pz.add_argument("--label-source",
                    help="[method].label_source of the adversarial recipes: labels the "
                         "training attack raises the loss of, the network's own predictions "
                         "(no label leaking) or the true redshift bins; use another --out for "
                         "each")

    page = commands.add_parser("report", help=report.__doc__)
    page.add_argument("--page", default=_DEFAULT_PAGE)
    page.add_argument("--use", action="append", metavar="FOLDER=PATH",
                      help="read one experiment's results from PATH instead of --out/FOLDER "
                           "(e.g. photoz=runs/old/photoz_n2000_8ep while it is re-run)")
    page.add_argument("--also", action="append", metavar="FOLDER=PATH", default=[],
                      help="add a further run of an experiment (e.g. at another number of "
                           "galaxies) under its section, with its own tables; for photo-z also "
                           "a table of the f_a = 10 %% figures by training-set size "
                           "(e.g. photoz=runs/reproduce_n8000/photoz); repeatable")
    page.add_argument("--only", action="append", metavar="FOLDER",
                      help="regenerate only this experiment's section of the existing --page, "
                           "keeping the others as they are (after re-running one experiment); "
                           "repeatable")
    page.set_defaults(run=report)
    return parser


def main(argv=None):
    from astrokeras.errors import AstroKerasError

    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except AstroKerasError as error:  # a recipe or an override that does not validate
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
