"""`astrokeras evaluate`: robustness of trained models, as metrics.json, PNG plots and report.md."""

import enum
import re
import shlex
import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from astrokeras.errors import AstroKerasError, DataError, InvalidArgumentError


class Attack(str, enum.Enum):
    none = "none"
    one_pixel = "one-pixel"
    fgsm = "fgsm"


def evaluate(
    model_path: Annotated[Path, typer.Argument(
        metavar="MODEL", help="Trained classifier (or DomainAdaptationModel), a .keras file.")],
    data: Annotated[Path, typer.Option(
        "--data", help="A dataset directory (astrokeras simulate) or an .npz file with one "
                       "image array per domain and the classes in `label`; for photo-z models "
                       "a photo-z dataset directory (astrokeras simulate photoz) or an .npz "
                       "with x, ebv and z.")],
    out: Annotated[Path, typer.Option(
        help="Folder for metrics.json, the PNG plots and report.md.")],
    domain: Annotated[Optional[List[str]], typer.Option(
        "--domain", help="A domain to evaluate, repeatable; the first is the base domain "
                         "(default: every domain of the data, e.g. --domain y10 --domain y1).")
    ] = None,
    compare: Annotated[Optional[Path], typer.Option(
        help="A second model to compare with (e.g. domain adaptation vs regular).")] = None,
    attack: Annotated[Attack, typer.Option(
        help="Attack the correctly classified base images: none, one-pixel or fgsm.")
    ] = Attack.none,
    n: Annotated[int, typer.Option(
        "--n", help="Correctly classified base images attacked per model (the paper: 150).")
    ] = 150,
    popsize: Annotated[int, typer.Option(help="One-pixel: population per image.")] = 400,
    max_iter: Annotated[int, typer.Option(help="One-pixel: maximum generations.")] = 80,
    eps: Annotated[Optional[float], typer.Option(
        help="FGSM: perturbation size (required with --attack fgsm).")] = None,
    norm: Annotated[str, typer.Option(help='FGSM: norm, "inf" or "2".')] = "inf",
    split: Annotated[str, typer.Option(
        help="Split of a dataset directory: train, validation, test or all.")] = "test",
    max_images: Annotated[Optional[int], typer.Option(
        help="Evaluate at most this many galaxies (the first ones).")] = None,
    bins: Annotated[int, typer.Option(help="Histogram bins of the JS distances.")] = 30,
    resolution: Annotated[int, typer.Option(
        help="Church-window grid points per axis.")] = 51,
    z_max: Annotated[Optional[float], typer.Option(
        help="Photo-z: upper redshift of the output bins (default: the z range of a dataset "
             "directory, the one its networks are trained on; 0.4 for an .npz, as Pasquet "
             "et al. 2019).")] = None,
    batch_size: Annotated[int, typer.Option(help="Images per model call.")] = 64,
    seed: Annotated[int, typer.Option(help="Seed of the one-pixel attack.")] = 0,
):
    """Evaluate the robustness of a model (and compare it with another) on paired domains.

    Writes metrics.json (Table 2 metrics per model and domain; Table 3 latent distances,
    one-pixel success and generations, Jensen-Shannon distances: Ciprijanovic et al. 2022),
    the plots (ROC curves, isomaps in 2-D and 3-D, latent-distance histograms, church windows)
    and report.md with the tables and the plots side by side. Photo-z networks (inputs image
    and ebv) get bias, sigma_MAD and outlier fraction (Campagne 2021) and their photo-z plot.
    """
    try:
        written = run_evaluation(
            model_path=model_path, data=data, out=out, domains=domain, compare=compare,
            attack=Attack(attack), n=n, popsize=popsize, max_iter=max_iter, eps=eps, norm=norm,
            split=split,
            max_images=max_images, bins=bins, resolution=resolution, z_max=z_max,
            batch_size=batch_size, seed=seed)
    except (AstroKerasError, FileNotFoundError) as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"Wrote {written['metrics']}, {written['report']} and "
               f"{len(written['figures'])} plots to {out}")


def run_evaluation(*, model_path, data, out, domains=None, compare=None, attack=Attack.none,
                   n=150, popsize=400, max_iter=80, eps=None, norm="inf", split="test",
                   max_images=None, bins=30,
                   resolution=51, z_max=None, batch_size=64, seed=0):
    """Check the arguments, load models and data, evaluate, plot, write; return the paths."""
    for name, value, minimum in (("--n", n, 1), ("--popsize", popsize, 4),
                                 ("--max-iter", max_iter, 0), ("--bins", bins, 1),
                                 ("--resolution", resolution, 2),
                                 ("--batch-size", batch_size, 1), ("--seed", seed, 0)):
        if value < minimum:
            raise InvalidArgumentError(f"{name} must be at least {minimum}.", value,
                                       f">= {minimum}")
    if attack is Attack.fgsm and (eps is None or not eps >= 0):
        raise InvalidArgumentError("--attack fgsm needs --eps >= 0.", eps, "a size >= 0")
    if norm not in ("inf", "2"):
        raise InvalidArgumentError("Unknown --norm.", norm, '"inf" or "2"')
    if max_images is not None and max_images < 1:
        raise InvalidArgumentError("--max-images must be at least 1.", max_images, ">= 1")
    if split not in ("train", "validation", "test", "all"):
        raise InvalidArgumentError("Unknown --split.", split, "train, validation, test, all")
    paths = [Path(model_path)] + ([Path(compare)] if compare is not None else [])
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

    models = _load_models(paths)
    from astrokeras.evaluation import as_classifier

    photoz = ["ebv" in _input_names(as_classifier(m)) for m in models.values()]
    out.mkdir(parents=True, exist_ok=True)
    if any(photoz):
        if not all(photoz):
            raise InvalidArgumentError("Compare photo-z networks only with photo-z networks.",
                                       [str(p) for p in paths], "models of one kind")
        if attack is Attack.one_pixel:
            raise InvalidArgumentError("Photo-z networks are attacked with FGSM (Campagne "
                                       "2021), not the one-pixel attack.", attack.value,
                                       "none or fgsm")
        fgsm_options = (dict(eps=eps, norm=2 if norm == "2" else "inf")
                        if attack is Attack.fgsm else None)
        return _evaluate_photoz(models, data, out, domains, split, max_images, z_max,
                                batch_size, paths, fgsm_options)
    if Path(data).is_dir() and _is_photoz_dataset(data):
        raise InvalidArgumentError("The data is a photo-z dataset; evaluate a photo-z network "
                                   "(inputs image and ebv) on it.", str(data),
                                   "a morphology or DeepMerge dataset for a classifier")
    if attack is Attack.fgsm:
        options = dict(eps=eps, norm=2 if norm == "2" else "inf")
    else:
        options = dict(popsize=popsize, max_iter=max_iter, seed=seed)
    return _evaluate_classifiers(models, data, out, domains, attack, n, options, split,
                                 max_images, bins, resolution, batch_size, paths)


def _evaluate_classifiers(models, data, out, domains, attack, n, options, split, max_images,
                          bins, resolution, batch_size, paths):
    import numpy as np

    from astrokeras import evaluation, plots

    with _Progress() as progress:
        progress.start("Reading the data", None)
        paired = evaluation.load_paired(data, domains, split=split, max_images=max_images)
        images = paired["images"]
        if attack is Attack.none and len(images) < 2:
            raise InvalidArgumentError("Give two domains (--domain y10 --domain y1) or "
                                       "--attack one-pixel: nothing to compare with.",
                                       list(images), "two domains, or an attack")
        if attack is Attack.one_pixel:
            options = dict(options, callback=progress.generation(options["max_iter"]))
        result = evaluation.evaluate_robustness(
            models, images, paired["labels"], class_names=paired["class_names"],
            attack=None if attack is Attack.none else attack.value, n=n,
            attack_options=options, batch_size=batch_size, bins=bins,
            progress=progress.step)
        figures, notes = [], []
        plot_steps = _plot_plan(result, models)
        progress.start("Plotting", len(plot_steps))
        for make in plot_steps:
            made, note = make(out, result, images, bins, resolution, plots, np)
            figures += made
            if note:
                notes.append(note)
            progress.advance()

    summary = result.summary
    summary["parameters"] = {
        "models": {name: str(path) for name, path in zip(result.models, paths)},
        "data": str(data), "source": paired["source"], "domains": result.domains,
        "attack": attack.value, "n": n, "attack_options": {
            k: v for k, v in options.items() if k != "callback"},
        "bins": bins, "max_images": max_images}
    summary["figures"] = [{"caption": c, "file": Path(f).name} for c, f in figures]
    summary["notes"] = notes
    metrics = evaluation.write_metrics(out / "metrics.json", summary)
    report = evaluation.write_report(
        out / "report.md", summary, figures,
        notes=[f"Command: `{_command_line()}`", f"Data: {paired['source']}"] + notes)
    return {"metrics": metrics, "report": report, "figures": [f for _, f in figures]}


def _plot_plan(result, models):
    """One callable per plot: `make(out, result, images, bins, resolution, plots, np)`."""
    steps = []
    for name, model in zip(result.models, models.values()):
        steps += [_roc(name), _isomap(name, 2), _isomap(name, 3), _church(name, model)]
    steps.append(_distance_histograms)
    return steps


def _roc(name):
    def make(out, result, images, bins, resolution, plots, np):
        path = out / f"roc_{_slug(name)}.png"
        plots.plot_roc(result.labels, result.probabilities[name], result.class_names,
                       title=f"ROC curves: {name}", path=path)
        return [(f"ROC curves of {name} on {', '.join(result.domains)}", path)], None
    return make


def _isomap(name, components):
    def make(out, result, images, bins, resolution, plots, np):
        # Attacked galaxies first, so row i is the same galaxy in every domain (triplets).
        chosen = result.attacked.get(name, np.zeros(0, int))
        rest = np.setdiff1d(np.arange(len(result.labels)), chosen)
        order = np.concatenate([chosen, rest]).astype(int)
        latents = {d: result.latents[name][d][order] for d in result.domains[:2]}
        labels = {d: result.labels[order] for d in latents}
        highlight = None
        if result.attack in result.latents[name] and len(result.domains) <= 2:
            latents[result.attack] = result.latents[name][result.attack]
            labels[result.attack] = result.labels[chosen]
            won = np.flatnonzero(result.success[name])
            highlight = int(won[0]) if won.size else 0
        path = out / f"isomap{components}d_{_slug(name)}.png"
        plots.plot_isomap(latents, labels, n_components=components, highlight=highlight,
                          class_names=result.class_names,
                          title=f"Isomap ({components}-D) of the latent space: {name}",
                          path=path)
        return [(f"Isomap ({components}-D) of {name}'s latent space", path)], None
    return make


def _church(name, model):
    def make(out, result, images, bins, resolution, plots, np):
        from astrokeras.errors import InvalidArgumentError as Invalid

        domains = result.domains
        success = result.success.get(name)
        if success is not None and success.any() and len(domains) >= 2:
            k = int(np.flatnonzero(success)[0])
            galaxy = int(result.attacked[name][k])
            horizontal = result.adversarial[name][k]
            labels = (result.attack, domains[1])
            vertical = images[domains[1]][galaxy]
        elif len(domains) >= 3:
            galaxy = 0
            horizontal, vertical = images[domains[1]][0], images[domains[2]][0]
            labels = (domains[1], domains[2])
        else:
            return [], (f"No church window for {name}: it needs a successful attack and a "
                        "second domain, or three domains.")
        path = out / f"church_window_{_slug(name)}.png"
        try:
            plots.plot_church_window(model, images[domains[0]][galaxy],
                                     horizontal, vertical, result.class_names, labels=labels,
                                     resolution=resolution,
                                     title=f"Church window: {name}, galaxy {galaxy}", path=path)
        except Invalid as error:
            return [], f"No church window for {name}: {error}"
        return [(f"Church window of {name} around galaxy {galaxy} ({labels[0]} horizontal, "
                 f"{labels[1]} vertical)", path)], None
    return make


def _distance_histograms(out, result, images, bins, resolution, plots, np):
    made = []
    perturbations = list(dict.fromkeys(p for name in result.models
                                       for p in result.distances[name]))
    if len(result.models) > 1:
        for perturbation in perturbations:
            samples = {name: result.distances[name].get(perturbation, np.zeros(0))
                       for name in result.models}
            if not any(np.size(s) for s in samples.values()):
                continue
            path = out / f"distances_{_slug(perturbation)}.png"
            plots.plot_latent_distances(samples, bins=bins, path=path,
                                        title=f"Latent distances: {result.domains[0]} vs "
                                              f"{perturbation}")
            made.append((f"Latent distances from {result.domains[0]} to {perturbation}, "
                         "per model", path))
    else:
        name = result.models[0]
        samples = result.distances[name]
        if any(np.size(s) for s in samples.values()):
            path = out / f"distances_{_slug(name)}.png"
            plots.plot_latent_distances(samples, bins=bins, path=path,
                                        title=f"Latent distances from {result.domains[0]}: "
                                              f"{name}")
            made.append((f"Latent distances of {name} per perturbation", path))
    return made, None


def _evaluate_photoz(models, data, out, domains, split, max_images, z_max, batch_size, paths,
                     fgsm_options):
    from astrokeras import attacks, evaluation, plots

    data = Path(data)
    with _Progress() as progress:
        progress.start("Reading the data", None)
        x, z_spec, z_range, label = _photoz_data(data, domains, split, max_images, z_max,
                                                 batch_size)
    z_min, z_max = z_range
    photoz, estimates, figures = {}, {}, []
    with _Progress() as progress:
        progress.start("Photo-z", len(models) * (2 if fgsm_options else 1))
        for name, model in models.items():
            model = evaluation.as_classifier(model)
            got = evaluation.evaluate_photoz(model, x, z_spec, z_min=z_min, z_max=z_max,
                                             batch_size=batch_size)
            photoz[name] = {label: got["metrics"]}
            estimates[name] = got["z_mean"]
            progress.advance()
            if fgsm_options:
                # Campagne 2021: FGSM against the one-hot redshift bin of z_spec.
                bins = attacks.redshift_bins(z_spec, num_bins=int(model.outputs[0].shape[-1]),
                                             z_min=z_min, z_max=z_max)
                adversarial = attacks.fgsm(model, x, bins, batch_size=batch_size,
                                           **fgsm_options)
                attack_label = f"FGSM eps={fgsm_options['eps']:g}"
                attacked = evaluation.evaluate_photoz(model, adversarial, z_spec, z_min=z_min,
                                                      z_max=z_max, batch_size=batch_size)
                photoz[name][f"{label}, {attack_label}"] = attacked["metrics"]
                estimates[f"{name}, {attack_label}"] = attacked["z_mean"]
                progress.advance()
    path = out / "photoz.png"
    plots.plot_photoz(z_spec, estimates, path=path, title="Photometric redshifts")
    figures.append(("dz histogram and z_phot vs z_spec (probability-weighted mean)", path))
    summary = {"models": list(models), "galaxies": int(len(z_spec)), "photoz": photoz,
               "parameters": {"models": {n: str(p) for n, p in zip(models, paths)},
                              "data": str(data), "source": label, "z_min": z_min,
                              "z_max": z_max, "max_images": max_images,
                              "fgsm": fgsm_options},
               "figures": [{"caption": c, "file": Path(f).name} for c, f in figures]}
    metrics = evaluation.write_metrics(out / "metrics.json", summary)
    report = evaluation.write_report(out / "report.md", summary, figures,
                                     title="astrokeras photo-z evaluation",
                                     notes=[f"Command: `{_command_line()}`",
                                            f"Data: {label}; redshift bins over "
                                            f"[{z_min:g}, {z_max:g})"])
    return {"metrics": metrics, "report": report, "figures": [path]}


def _photoz_data(data, domains, split, max_images, z_max, batch_size):
    """Photo-z inputs, z_spec, the bins' (z_min, z_max) and a label for the data.

    A dataset directory (`astrokeras simulate photoz`) is read with `load_paired` (the split,
    the manifest's stretch, z_spec and E(B-V) stored with every galaxy); its bins span the
    simulation's z range unless `z_max` is given. An .npz holds x, ebv and z; its bins span
    [0, z_max or 0.4).
    """
    import numpy as np

    from astrokeras import evaluation

    if data.is_dir():
        if not _is_photoz_dataset(data):
            raise InvalidArgumentError("A photo-z network needs a photo-z dataset (with "
                                       "redshift and E(B-V) per galaxy), from `astrokeras "
                                       "simulate photoz`.", str(data),
                                       "a photo-z dataset directory or an .npz with x, ebv, z")
        if domains is not None and len(domains) > 1:
            raise InvalidArgumentError("Photo-z networks are evaluated on one domain.",
                                       list(domains), "at most one --domain")
        paired = evaluation.load_paired(data, domains, split=split, max_images=max_images,
                                        batch_size=max(batch_size, 32))
        domain = next(iter(paired["images"]))
        low, high = paired["manifest"]["simulation"]["z_range"]
        x = {"image": paired["images"][domain],
             "ebv": paired["values"]["ebv"].astype(np.float32)[:, None]}
        z_range = (float(low), float(high) if z_max is None else float(z_max))
        return x, paired["values"]["redshift"], z_range, f"{paired['source']}, {domain}"
    if data.suffix != ".npz":
        raise InvalidArgumentError("Photo-z models are evaluated from a photo-z dataset "
                                   "directory or an .npz file with arrays x, ebv and z.",
                                   str(data), "a directory or *.npz")
    try:
        with np.load(data, allow_pickle=False) as archive:
            arrays = {key: archive[key][:max_images] for key in archive.files}
    except (ValueError, OSError) as error:
        raise DataError(f"Cannot read {data} as an .npz archive: {error}") from None
    missing = [k for k in ("x", "ebv", "z") if k not in arrays]
    if missing:
        raise DataError(f"{data} lacks arrays {missing}.", sorted(arrays), "x, ebv, z")
    x = {"image": arrays["x"].astype(np.float32),
         "ebv": arrays["ebv"].reshape(len(arrays["x"]), -1).astype(np.float32)}
    z_range = (0.0, 0.4 if z_max is None else float(z_max))
    return x, arrays["z"].astype(np.float64), z_range, data.name


def _is_photoz_dataset(directory):
    from astrokeras import data as data_lib

    return "ebv" in data_lib.load_manifest(directory).get("value_names", [])


def _load_models(paths):
    import keras

    import astrokeras.training  # noqa: F401  (registers DomainAdaptationModel for loading)

    models = {}
    for path in paths:
        try:
            model = keras.models.load_model(path, compile=False)
        except (ValueError, OSError, TypeError) as error:
            raise DataError(f"Cannot load the model {path}: {error}", str(path)) from None
        name = path.stem
        while name in models:
            name += "-2"
        models[name] = model
    return models


def _input_names(model):
    try:
        return [tensor.name for tensor in model.inputs]
    except (AttributeError, ValueError):
        return []


def _slug(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_") or "model"


def _command_line():
    return "astrokeras " + " ".join(shlex.quote(a) for a in sys.argv[1:])


class _Progress:
    """A rich progress bar over evaluation steps, one-pixel generations and plots."""

    def __init__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.bar = Progress("[progress.description]{task.description}", BarColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(), transient=True)
        self.task = None
        self.label = ""

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)

    def start(self, description, total):
        if self.task is not None:
            self.bar.remove_task(self.task)
        self.task = self.bar.add_task(description, total=total)

    def advance(self):
        self.bar.advance(self.task)

    def step(self, description, completed, total):
        """`evaluate_robustness` progress: one step per domain, embedding and attack."""
        if self.task is None or self.bar.tasks[-1].total != total:
            self.start(description, total)
        self.label = description
        self.bar.update(self.task, completed=completed, description=description)

    def generation(self, max_iter):
        """A one-pixel callback showing the generation inside the current step."""
        def callback(generation, succeeded):
            self.bar.update(self.task, description=f"{self.label} (generation {generation}/"
                                                   f"{max_iter}, {succeeded} succeeded)")
        return callback
