"""The evaluation workflow: the robustness of saved models, as metrics.json, plots and report.md.

`run_evaluation` is what `astrokeras evaluate` runs and what benchmarks/reproduce.py calls: it
checks every argument, loads the models (`astrokeras.load_model`) and the paired images, runs
the robustness evaluation of Ciprijanovic et al. 2022 (classifiers) or the photo-z metrics of
Campagne 2021 (photo-z networks), with an optional attack from `ATTACKS` by name, and writes
the results atomically.
"""

from pathlib import Path

import numpy as np

from astrokeras.errors import InvalidArgumentError
from astrokeras.experiments.attacks import attack_options
from astrokeras.experiments.evaluate_photoz import evaluate_photoz_models, is_photoz_dataset

#: The splits of a dataset directory.
SPLITS = ("train", "validation", "test", "all")


def run_evaluation(model, data, out, *, compare=None, domains=None, attack=None, options=None,
                   n=150, split="test", max_images=None, bins=30, resolution=51, z_max=None,
                   batch_size=64, seed=0, progress=None, command=None, flags=None):
    """Evaluate the robustness of a model (and compare it with another) on paired domains.

    Classifiers: Table 2 metrics per model and domain, Table 3 latent distances, the attack's
    success and generations, Jensen-Shannon distances (Ciprijanovic et al. 2022), the plots
    (ROC curves, isomaps in 2-D and 3-D, latent-distance histograms, church windows) and a
    report with the tables and the plots side by side. With two domains or more, also the
    shift diagnostics that need no label, from the first domain (the source) to each other
    one, for every model side by side (`shift_diagnostics_by_target`): latent MMD,
    domain-classifier AUC, predicted class proportions and their distance, prediction
    entropy; in metrics.json under "shift_diagnostics", as a table in the report, and as
    entropy-histogram and class-proportion plots. Photo-z networks (inputs image and
    ebv): bias, sigma_MAD and outlier fraction (Campagne 2021), clean and attacked, and the
    photo-z plot.

    Args:
        model: a `.keras` file (a classifier, a `DomainAdaptationModel` or a photo-z network).
        data: a dataset directory (`astrokeras simulate`), or an .npz file with one image array
            per domain and the classes in `label` (photo-z: x, ebv and z).
        out: the folder for metrics.json, the PNG plots and report.md.
        compare: a second `.keras` file to compare with (e.g. domain adaptation vs regular).
        domains: the domains to evaluate, the base domain first (default: every domain).
        attack: None, or a name in `ATTACKS`: attack the first `n` correctly classified base
            images (photo-z: every galaxy, against its redshift bin).
        options: the attack's options (its schema keys, e.g. `{"eps": 0.01}`).
        n: correctly classified base images attacked per model (the paper: 150).
        split: the split of a dataset directory.
        max_images: evaluate at most this many galaxies (the first ones).
        bins: histogram bins of the Jensen-Shannon distances.
        resolution: church-window grid points per axis.
        z_max: photo-z: upper redshift of the output bins (default: a dataset directory's z
            range; 0.4 for an .npz).
        batch_size: images per model call.
        seed: seed of the attack's randomness and of the shift diagnostics' random halves
            and domain-classifier folds.
        progress: optional `progress(description, completed, total)` for a progress bar.
        command: the command line that ran the evaluation, recorded in the report.
        flags: optional `{option: "--flag"}` naming each attack option on the command line.

    Returns:
        A dict: `metrics` (path of metrics.json), `report` (report.md), `figures` (PNG paths).

    Raises:
        InvalidArgumentError, ConfigError: a bad argument or option, before any work.
        FileNotFoundError: no model or data at the path given.
        DataError: a model or the data cannot be read.
    """
    report = progress or (lambda description, completed, total: None)
    if attack is None:
        entry, given = None, sorted(k for k, v in (options or {}).items() if v is not None)
        if given:
            shown = [(flags or {}).get(key, key) for key in given]
            raise InvalidArgumentError(f"{', '.join(shown)} applies only with an attack.",
                                       shown, "an attack, or no attack options")
        options = {}
    else:
        entry, options = attack_options(attack, options, flags,
                                        chosen_by="--attack" if flags else None)
    paths, out = _check_arguments(model, compare, data, out, domains, n, split, max_images,
                                  bins, resolution, batch_size, seed)
    models = _load_models(paths)
    photoz = ["ebv" in _input_names(m) for m in models.values()]
    if any(photoz):
        if not all(photoz):
            raise InvalidArgumentError("Compare photo-z networks only with photo-z networks.",
                                       [str(p) for p in paths], "models of one kind")
        if entry is not None and not entry.metadata.get("photoz"):
            usable = " or ".join(e.name.upper() for e in _photoz_attacks())
            raise InvalidArgumentError(f"Photo-z networks are attacked with {usable} "
                                       f"(Campagne 2021), not {entry.name}.", entry.name,
                                       ", ".join(e.name for e in _photoz_attacks()))
        out.mkdir(parents=True, exist_ok=True)
        return evaluate_photoz_models(models, Path(data), out, domains, split, max_images,
                                      z_max, batch_size, paths, entry, options, seed, report,
                                      command)
    if Path(data).is_dir() and is_photoz_dataset(data):
        raise InvalidArgumentError("The data is a photo-z dataset; evaluate a photo-z network "
                                   "(inputs image and ebv) on it.", str(data),
                                   "a morphology or DeepMerge dataset for a classifier")
    out.mkdir(parents=True, exist_ok=True)
    return _evaluate_classifiers(models, data, out, domains, entry, options, n, split,
                                 max_images, bins, resolution, batch_size, seed, paths, report,
                                 command)


def _check_arguments(model, compare, data, out, domains, n, split, max_images, bins,
                     resolution, batch_size, seed):
    """Checks the workflow's own arguments; returns the model paths and `out` as a Path."""
    for name, value, minimum in (("--n", n, 1), ("--bins", bins, 1),
                                 ("--resolution", resolution, 2),
                                 ("--batch-size", batch_size, 1), ("--seed", seed, 0)):
        if value < minimum:
            raise InvalidArgumentError(f"{name} must be at least {minimum}.", value,
                                       f">= {minimum}")
    if max_images is not None and max_images < 1:
        raise InvalidArgumentError("--max-images must be at least 1.", max_images, ">= 1")
    if split not in SPLITS:
        raise InvalidArgumentError("Unknown --split.", split, ", ".join(SPLITS))
    paths = [Path(model)] + ([Path(compare)] if compare is not None else [])
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"No such model file: {path}")
    if not Path(data).exists():
        raise FileNotFoundError(f"No such data file or directory: {data}")
    if domains is not None and len(set(domains)) != len(domains):
        raise InvalidArgumentError("--domain names a domain twice.", list(domains),
                                   "distinct domains")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InvalidArgumentError("--out must be a folder.", str(out), "a folder path")
    return paths, out


def _photoz_attacks():
    from astrokeras.experiments.registry import ATTACKS

    return [entry for entry in ATTACKS if entry.metadata.get("photoz")]


def robustness_attack(name, options=None, seed=0, callback=None):
    """An attack of the registry, ready for `evaluation.evaluate_robustness`.

    Args:
        name: a name in `ATTACKS` ("one-pixel", "fgsm", "pgd", or one registered later).
        options: the attack's options (checked against its schema; defaults filled in).
        seed: seed of the attack's randomness.
        callback: optional `callback(description, completed, total)` progress hook.

    Returns:
        A `RobustnessAttack`.

    Example:

    >>> attack = robustness_attack("fgsm", {"eps": 0.01})
    >>> attack.name, attack.options["norm"]
    ('fgsm', 'inf')
    """
    entry, options = attack_options(name, options)
    return RobustnessAttack(entry, options, seed=seed, callback=callback)


class RobustnessAttack:
    """An `ATTACKS` entry in the form `evaluation.evaluate_robustness` calls an attack.

    Args:
        entry: the registry entry.
        options: its checked options (from `attack_options`).
        seed: seed of the attack's randomness.
        callback: optional progress hook of the attack.

    Call arguments:
        model, x, y, batch_size: the classifier, the images, their true classes, images per
            call.

    Returns (of a call):
        `(adversarial, success, summary, result)`: the adversarial images, whether each flipped
        the decision, the summary (`images`, `succeeded`, `success_rate`, `mean_generations`,
        `median_generations`) and the attack's own result object (or None).
    """

    def __init__(self, entry, options, seed=0, callback=None):
        self.name = entry.name
        self.entry, self.options, self.seed, self.callback = entry, options, seed, callback

    def __call__(self, model, x, y, batch_size=None):
        outcome = self.entry.factory(model, x, y, batch_size=batch_size, seed=self.seed,
                                     callback=self.callback, **self.options)
        adversarial = np.asarray(outcome.adversarial, np.float32)
        success = outcome.success
        if success is None:
            after = model.predict(adversarial, batch_size=batch_size, verbose=0)
            success = np.argmax(after, axis=1) != np.asarray(y)
        success = np.asarray(success, bool)
        summary = {"images": int(len(success)), "succeeded": int(success.sum()),
                   "success_rate": float(np.mean(success)) if success.size else None,
                   "mean_generations": None, "median_generations": None}
        summary.update(outcome.summary)
        return adversarial, success, summary, outcome.result


def _evaluate_classifiers(models, data, out, domains, entry, options, n, split, max_images,
                          bins, resolution, batch_size, seed, paths, report, command):
    from astrokeras import evaluation
    from astrokeras.experiments.evaluate_plots import plot_plan

    report("Reading the data", 0, None)
    from astrokeras.experiments.run import trained_stretch

    # the images stretched as the models' training runs stretched them
    paired = evaluation.load_paired(data, domains, split=split, max_images=max_images,
                                    preprocess=trained_stretch(paths))
    images = paired["images"]
    if entry is None and len(images) < 2:
        raise InvalidArgumentError("Give two domains (--domain y10 --domain y1) or an "
                                   "--attack: nothing to compare with.", list(images),
                                   "two domains, or an attack")
    attack = None if entry is None else RobustnessAttack(entry, options, seed, report)
    result = evaluation.evaluate_robustness(
        models, images, paired["labels"], class_names=paired["class_names"], attack=attack,
        n=n, batch_size=batch_size, bins=bins, progress=report)
    shift = shift_diagnostics_by_target(models, images, batch_size=batch_size, seed=seed,
                                        progress=report)
    figures, notes = [], []
    steps = plot_plan(result, models, shift)
    for done, make in enumerate(steps):
        report("Plotting", done, len(steps))
        made, note = make(out, result, images, bins, resolution)
        figures += made
        if note:
            notes.append(note)

    summary = result.summary
    summary["parameters"] = {
        "models": {name: str(path) for name, path in zip(result.models, paths)},
        "data": str(data), "source": paired["source"], "domains": result.domains,
        "attack": None if entry is None else entry.name, "n": n, "attack_options": options,
        "seed": seed, "bins": bins, "max_images": max_images}
    summary["shift_diagnostics"] = shift
    summary["figures"] = [{"caption": c, "file": Path(f).name} for c, f in figures]
    summary["notes"] = notes
    metrics = evaluation.write_metrics(out / "metrics.json", summary)
    written = evaluation.write_report(
        out / "report.md", summary, figures,
        notes=([f"Command: `{command}`"] if command else []) + [f"Data: {paired['source']}"]
        + notes)
    return {"metrics": metrics, "report": written, "figures": [f for _, f in figures]}


def shift_diagnostics_by_target(models, images, *, batch_size=64, seed=0, progress=None):
    """Label-free shift diagnostics of every model from the first domain to each other one.

    The first domain of `images` is the source, every other domain a target. The images are
    paired (row i is the same galaxy in every domain), so each target is compared with the
    source on disjoint halves of the galaxies (`evaluation.shift_diagnostics`, `paired=True`).
    No label is read.

    Args:
        models: `{name: classifier}` (each with a layer named "latent").
        images: `{domain: images}`, the source domain first, the same galaxies in each.
        batch_size: images per model call.
        seed: seed of the halves, subsets and domain-classifier folds.
        progress: optional `progress(description, completed, total)`.

    Returns:
        `{model: {target: diagnostics dict}}`; empty with fewer than two domains or two
        galaxies.

    Example:

    >>> import keras
    >>> inputs = keras.Input((2,))
    >>> latent = keras.layers.Dense(2, name="latent")(inputs)
    >>> model = keras.Model(inputs, keras.layers.Softmax()(latent))
    >>> x = np.random.default_rng(0).normal(size=(20, 2))
    >>> shift = shift_diagnostics_by_target({"m": model}, {"y10": x, "y1": x + 5.0})
    >>> list(shift["m"]), shift["m"]["y1"]["domain_auc"]
    (['y1'], 1.0)
    """
    from astrokeras.evaluation import shift_diagnostics

    report = progress or (lambda description, completed, total: None)
    source, *targets = list(images)
    if not targets or len(images[source]) < 2:
        return {}
    steps, done = len(models) * len(targets), 0
    shift = {}
    for name, model in models.items():
        shift[name] = {}
        for target in targets:
            report(f"{name}: shift diagnostics {source} -> {target}", done, steps)
            shift[name][target] = shift_diagnostics(model, images[source], images[target],
                                                    paired=True, batch_size=batch_size,
                                                    seed=seed)
            done += 1
    return shift


def _load_models(paths):
    """`{name: model}`, each named after its file (made unique), unwrapped to its classifier."""
    from astrokeras import load_model
    from astrokeras.models import unwrap_classifier

    models = {}
    for path in paths:
        name = path.stem
        while name in models:
            name += "-2"
        models[name] = unwrap_classifier(load_model(path))
    return models


def _input_names(model):
    try:
        return [tensor.name for tensor in model.inputs]
    except (AttributeError, ValueError):
        return []
