"""Domain adaptation under one preprocessing, selected without target labels, against its baselines.

For every training seed, trains the shipped recipes (ConvNet regular and MMD on LSST Y10 -> Y1,
or the three DeepMerge recipes on PSF -> PSF + noise), the transfer methods over a grid of
loss weights, and records at every epoch (a) every label-free selection score of `SCORES` on
the unlabelled target validation images (and the labelled source validation split where a
score needs it) and (b) the oracle figures that only a simulation has: the target validation
accuracy and the test accuracy of both domains. The oracle figures are written beside the
scores and never read by a choice; a choice of (weight, epoch) by a score is then compared
with the oracle choice (best target validation accuracy), on target test accuracy.

The honest baselines come from the regular run of each seed: AdaBN (its batch-norm statistics
set from the unlabelled target training images, `astrokeras.training.adapt_batch_norm`) and
normalisation-based adaptation (the target stretched with clip limits fitted on its own
unlabelled training images). Both methods train exactly as regular training does (same seed,
same source data, same stretch of the source), so they are computed from the regular run's
final classifier instead of training it again; `[method].name = "adabn"` and
`"domain_normalisation"` run the same computations inside `astrokeras train`.

    python benchmarks/label_free_selection.py morphology --out runs/label_free
    python benchmarks/label_free_selection.py deepmerge --out runs/label_free --seeds 0

Writes `results.json` and `results.md` under `--out/<experiment>` and prints the tables.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import tomllib
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from astrokeras.files import write_json_atomic, write_text_atomic  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = {
    "morphology": {"regular": "convnet_regular_y10_y1", "mmd": "convnet_mmd_y10_y1",
                   "dann": None, "mmd_weights": (0.01, 0.05, 0.2, 1.0),
                   "dann_weights": (0.1, 1.0)},
    "deepmerge": {"regular": "deepmerge_regular", "mmd": "deepmerge_mmd",
                  "dann": "deepmerge_dann", "mmd_weights": (0.1, 1.0),
                  "dann_weights": (0.1, 1.0)},
}
EPOCHS_FILE = "epochs.json"


def _recipe(name, overrides):
    from astrokeras.experiments import validate_recipe

    raw = tomllib.loads((ROOT / "models" / f"{name}.toml").read_text())
    for dotted, value in overrides.items():
        section, key = dotted.split(".")
        raw.setdefault(section, {})[key] = value
    return validate_recipe(raw, source=f"models/{name}.toml")


class EpochRecord(keras.callbacks.Callback):
    """Oracle figures at every epoch end: target validation, source and target test accuracy.

    Only for the report: nothing reads them to choose a model.
    """

    def __init__(self, arrays):
        super().__init__()
        self.arrays = arrays
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        from astrokeras.models import unwrap_classifier

        classifier = unwrap_classifier(self.model)
        row = {"epoch": epoch + 1}
        for name, (images, labels) in self.arrays.items():
            predicted = np.argmax(classifier.predict(images, batch_size=256, verbose=0), -1)
            row[name] = float(np.mean(predicted == labels))
        row.update({k: float(v) for k, v in (logs or {}).items() if k.startswith("val_")})
        self.epochs.append(row)


def _arrays(recipe, manifest, preprocess):
    from astrokeras import data as data_lib

    spec, out = recipe["data"], {}
    for name, domain, split in (("oracle_target_validation", spec["target"], "validation"),
                                ("oracle_target_test", spec["target"], "test"),
                                ("oracle_source_test", spec["source"], "test")):
        batches = list(data_lib.load(spec["directory"], domain, split, batch_size=256,
                                     shuffle=False, augment_images=False,
                                     preprocess=preprocess))
        out[name] = (np.concatenate([x.numpy() for x, _ in batches]),
                     np.concatenate([y.numpy() for _, y in batches]))
    return out


def _train(recipe, scores):
    """Trains one recipe with the per-epoch record (or reuses it); returns its epochs."""
    from astrokeras.experiments import ensure_dataset, run_recipe, selection_callback
    from astrokeras.experiments.run import (finished_run, labelled_validation,
                                            run_preprocessing, validation_images)

    directory = Path(recipe["experiment"]["output"])
    if finished_run(directory, recipe) and (directory / EPOCHS_FILE).exists():
        print(f"  reuse {directory}", flush=True)
        return json.loads((directory / EPOCHS_FILE).read_text())
    manifest = ensure_dataset(recipe)
    record = EpochRecord(_arrays(recipe, manifest, run_preprocessing(recipe, manifest)[0]))
    selection = selection_callback(
        scores, validation_images(recipe, manifest),
        source=labelled_validation(recipe, manifest, recipe["data"]["source"]),
        batch_size=256, seed=recipe["experiment"]["seed"])
    started = time.time()
    print(f"  train {directory}", flush=True)
    run_recipe(recipe, verbose=0, extra_callbacks=[selection, record])
    print(f"  done in {time.time() - started:.0f} s", flush=True)
    write_json_atomic(directory / EPOCHS_FILE, record.epochs)
    return record.epochs


def _accuracy(classifier, images, labels):
    return float(np.mean(np.argmax(classifier.predict(images, batch_size=256, verbose=0), -1)
                         == labels))


def _baselines(recipe):
    """Final-epoch figures of the regular run's classifier, AdaBN and per-domain stretch."""
    from astrokeras import data as data_lib, load_model
    from astrokeras.training import adapt_batch_norm

    directory = Path(recipe["experiment"]["output"])
    spec = recipe["data"]
    manifest = data_lib.load_manifest(spec["directory"])
    rows = {}
    classifier = load_model(directory / "classifier.keras")
    one = _arrays(recipe, manifest, True)
    rows["regular"] = {"target": _accuracy(classifier, *one["oracle_target_test"]),
                       "source": _accuracy(classifier, *one["oracle_source_test"])}
    own = _arrays(recipe, manifest, data_lib.PER_DOMAIN)
    rows["domain_normalisation"] = {"target": _accuracy(classifier, *own["oracle_target_test"]),
                                    "source": _accuracy(classifier, *own["oracle_source_test"])}
    target_train = data_lib.load(spec["directory"], spec["target"], "train", batch_size=256,
                                 shuffle=False, augment_images=False).map(lambda x, y: x)
    adapt_batch_norm(classifier, target_train)
    rows["adabn"] = {"target": _accuracy(classifier, *one["oracle_target_test"]),
                     "source": _accuracy(classifier, *one["oracle_source_test"])}
    return rows


def _choose(candidates, key, mode):
    """The candidate (a per-epoch row) with the best `key` in its direction."""
    usable = [c for c in candidates if np.isfinite(c.get(key, np.nan))]
    if not usable:
        return None
    pick = min if mode == "min" else max
    return pick(usable, key=lambda c: c[key])


def _stat(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0, "n": len(values)}


def _fmt(stat, digits=3):
    if stat is None:
        return "n/a"
    return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"


def run(args):
    from astrokeras.experiments import SCORES

    plan = EXPERIMENTS[args.experiment]
    out = Path(args.out) / args.experiment
    scores = list(SCORES.names())
    modes = {name: SCORES.get(name).metadata["mode"] for name in scores}
    data_dir = str(out / "data")
    started = time.time()
    per_seed = []
    for seed in args.seeds:
        print(f"seed {seed}", flush=True)
        common = {"experiment.seed": seed, "data.directory": data_dir,
                  **({"data.n": args.n} if args.n else {}),
                  **({"training.epochs": args.epochs} if args.epochs else {})}
        regular = _recipe(plan["regular"], {**common, "experiment.output":
                                            str(out / "regular" / f"seed{seed}")})
        runs = {"regular": _train(regular, scores)}
        for method, weights in (("mmd", args.mmd_weights or plan["mmd_weights"]),
                                ("dann", args.dann_weights or plan["dann_weights"])):
            base = plan[method] or plan["mmd"]
            for weight in weights:
                overrides = {**common, "method.weight": weight,
                             "experiment.output": str(out / f"{method}_w{weight:g}" /
                                                      f"seed{seed}")}
                if plan[method] is None:  # the ConvNet recipe with the DANN loss
                    overrides["method.name"] = method
                runs[f"{method}_w{weight:g}"] = _train(_recipe(base, overrides), scores)
        per_seed.append({"seed": seed, "runs": runs, "baselines": _baselines(regular)})

    results = analyse(per_seed, scores, modes, plan, args)
    results.update({"experiment": args.experiment, "command": " ".join(sys.argv),
                    "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
                               f"Python {platform.python_version()}",
                    "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "seconds": round(time.time() - started), "per_seed": per_seed})
    write_json_atomic(out / "results.json", results)
    text = markdown(results)
    write_text_atomic(out / "results.md", text)
    print(text)
    return results


def analyse(per_seed, scores, modes, plan, args):
    """Rows of the method table and of the score table, over the seeds."""
    methods = {}
    for name in ("regular", "domain_normalisation", "adabn"):
        methods[name] = {"target": _stat([s["baselines"][name]["target"] for s in per_seed]),
                         "source": _stat([s["baselines"][name]["source"] for s in per_seed])}
    default_keys = {"mmd": _default_weight(plan, "mmd"), "dann": _default_weight(plan, "dann")}
    for method in ("mmd", "dann"):
        key = f"{method}_w{default_keys[method]:g}"
        if all(key in s["runs"] for s in per_seed):
            last = [s["runs"][key][-1] for s in per_seed]
            methods[f"{method} (recipe weight {default_keys[method]:g}, last epoch)"] = {
                "target": _stat([r["oracle_target_test"] for r in last]),
                "source": _stat([r["oracle_source_test"] for r in last])}
    table = {}
    for method in ("regular", "mmd", "dann"):
        candidates_per_seed = [[dict(row, run=name) for name, rows in s["runs"].items()
                                if name == method or name.startswith(f"{method}_w")
                                for row in rows] for s in per_seed]
        oracle = [_choose(c, "oracle_target_validation", "max") for c in candidates_per_seed]
        entry = {"oracle": {"target": _stat([o["oracle_target_test"] for o in oracle]),
                            "source": _stat([o["oracle_source_test"] for o in oracle]),
                            "choices": [(o["run"], o["epoch"]) for o in oracle]}}
        for score in scores:
            chosen = [_choose(c, f"val_{score}", modes[score]) for c in candidates_per_seed]
            if any(c is None for c in chosen):
                continue
            gaps = [o["oracle_target_test"] - c["oracle_target_test"]
                    for o, c in zip(oracle, chosen)]
            entry[score] = {"target": _stat([c["oracle_target_test"] for c in chosen]),
                            "source": _stat([c["oracle_source_test"] for c in chosen]),
                            "gap": _stat(gaps),
                            "choices": [(c["run"], c["epoch"]) for c in chosen]}
        table[method] = entry
    return {"methods": methods, "selection": table, "scores": scores, "modes": modes,
            "seeds": list(args.seeds)}


def _default_weight(plan, method):
    name = plan[method] or plan["mmd"]
    raw = tomllib.loads((ROOT / "models" / f"{name}.toml").read_text())
    if plan[method] is None:
        return 1.0  # DANN's own default weight on the ConvNet recipe
    return float(raw["method"]["weight"])


def markdown(results):
    lines = [f"# Label-free selection, {results['experiment']} (seeds {results['seeds']})", "",
             f"Command: `{results['command']}`  ", f"Machine: {results['machine']}; "
             f"{results['date']}; {results['seconds']} s", "",
             "## Methods under one preprocessing (last epoch)", "",
             "| method | source test accuracy | target test accuracy |", "|---|---|---|"]
    for name, row in results["methods"].items():
        lines.append(f"| {name} | {_fmt(row['source'])} | {_fmt(row['target'])} |")
    lines += ["", "## Choice of weight and epoch by each score (target labels only in the "
              "oracle column)", ""]
    for method, entry in results["selection"].items():
        lines += [f"### {method}", "",
                  "| choice by | target test accuracy | source test accuracy | gap to the "
                  "oracle choice |", "|---|---|---|---|"]
        ranked = sorted((s for s in results["scores"] if s in entry),
                        key=lambda s: entry[s]["gap"]["mean"])
        for score in ranked:
            lines.append(f"| {score} ({results['modes'][score]}) | {_fmt(entry[score]['target'])}"
                         f" | {_fmt(entry[score]['source'])} | {_fmt(entry[score]['gap'])} |")
        lines.append(f"| oracle (target validation accuracy) | {_fmt(entry['oracle']['target'])}"
                     f" | {_fmt(entry['oracle']['source'])} | 0 |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", choices=sorted(EXPERIMENTS))
    parser.add_argument("--out", default="runs/label_free")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n", type=int, default=None, help="galaxies (default the recipe's)")
    parser.add_argument("--epochs", type=int, default=None, help="default the recipe's")
    parser.add_argument("--mmd-weights", type=float, nargs="+", default=None)
    parser.add_argument("--dann-weights", type=float, nargs="+", default=None)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
