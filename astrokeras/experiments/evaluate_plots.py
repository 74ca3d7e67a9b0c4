"""The plots of a classifier robustness evaluation: ROC, isomaps, church windows, distances,
and the label-free shift diagnostics (prediction entropy, class proportions)."""

import re

import numpy as np

from astrokeras import plots
from astrokeras.errors import InvalidArgumentError


def plot_plan(result, models, shift=None):
    """The plots of an evaluation, as one callable per plot (so a progress bar can count them).

    Args:
        result: the `RobustnessEvaluation`.
        models: `{name: classifier}`, in the order of `result.models`.
        shift: optional `{model: {target: shift diagnostics}}` (see
            `shift_diagnostics_by_target`): adds, per target domain, the prediction-entropy
            histograms of the models and their predicted class proportions.

    Returns:
        A list of `make(out, result, images, bins, resolution)`, each returning
        `([(caption, path), ...], note or None)`: the figures it wrote into `out`, or a note
        saying why it made none.
    """
    steps = []
    for name, model in zip(result.models, models.values()):
        steps += [_roc(name), _isomap(name, 2), _isomap(name, 3), _church(name, model)]
    steps.append(_distance_histograms)
    targets = list(dict.fromkeys(t for per in (shift or {}).values() for t in per))
    for target in targets:
        steps += [_entropy(target, shift), _proportions(target, shift)]
    return steps


def _entropy(target, shift):
    def make(out, result, images, bins, resolution):
        source = result.domains[0]
        per_model = {name: shift[name][target]["entropy"] for name in shift
                     if target in shift[name]}
        path = out / f"entropy_{slug(target)}.png"
        plots.plot_entropy_histograms(
            next(iter(per_model.values()))["bin_edges"],
            {name: e["target_counts"] for name, e in per_model.items()},
            {name: e["source_counts"] for name, e in per_model.items()},
            domains=(source, target), path=path,
            title=f"Prediction entropy on {target} (dashed: {source}), no label used")
        return [(f"Prediction entropy of each model on {target} (solid) and {source} (dashed); "
                 "no label used", path)], None
    return make


def _proportions(target, shift):
    def make(out, result, images, bins, resolution):
        source = result.domains[0]
        shares = {name: (shift[name][target]["class_proportions"]["source"],
                         shift[name][target]["class_proportions"]["target"])
                  for name in shift if target in shift[name]}
        path = out / f"class_proportions_{slug(target)}.png"
        plots.plot_class_proportions(shares, result.class_names, domains=(source, target),
                                     path=path, title=f"Predicted class proportions, {source} "
                                                      f"vs {target}, no label used")
        return [(f"Predicted class proportions on {source} and {target}, per model; no label "
                 "used", path)], None
    return make


def _roc(name):
    def make(out, result, images, bins, resolution):
        path = out / f"roc_{slug(name)}.png"
        plots.plot_roc(result.labels, result.probabilities[name], result.class_names,
                       title=f"ROC curves: {name}", path=path)
        return [(f"ROC curves of {name} on {', '.join(result.domains)}", path)], None
    return make


def _isomap(name, components):
    def make(out, result, images, bins, resolution):
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
        path = out / f"isomap{components}d_{slug(name)}.png"
        plots.plot_isomap(latents, labels, n_components=components, highlight=highlight,
                          class_names=result.class_names,
                          title=f"Isomap ({components}-D) of the latent space: {name}",
                          path=path)
        return [(f"Isomap ({components}-D) of {name}'s latent space", path)], None
    return make


def _church(name, model):
    def make(out, result, images, bins, resolution):
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
        path = out / f"church_window_{slug(name)}.png"
        try:
            plots.plot_church_window(model, images[domains[0]][galaxy],
                                     horizontal, vertical, result.class_names, labels=labels,
                                     resolution=resolution,
                                     title=f"Church window: {name}, galaxy {galaxy}", path=path)
        except InvalidArgumentError as error:
            return [], f"No church window for {name}: {error}"
        return [(f"Church window of {name} around galaxy {galaxy} ({labels[0]} horizontal, "
                 f"{labels[1]} vertical)", path)], None
    return make


def _distance_histograms(out, result, images, bins, resolution):
    made = []
    perturbations = list(dict.fromkeys(p for name in result.models
                                       for p in result.distances[name]))
    if len(result.models) > 1:
        for perturbation in perturbations:
            samples = {name: result.distances[name].get(perturbation, np.zeros(0))
                       for name in result.models}
            if not any(np.size(s) for s in samples.values()):
                continue
            path = out / f"distances_{slug(perturbation)}.png"
            plots.plot_latent_distances(samples, bins=bins, path=path,
                                        title=f"Latent distances: {result.domains[0]} vs "
                                              f"{perturbation}")
            made.append((f"Latent distances from {result.domains[0]} to {perturbation}, "
                         "per model", path))
    else:
        name = result.models[0]
        samples = result.distances[name]
        if any(np.size(s) for s in samples.values()):
            path = out / f"distances_{slug(name)}.png"
            plots.plot_latent_distances(samples, bins=bins, path=path,
                                        title=f"Latent distances from {result.domains[0]}: "
                                              f"{name}")
            made.append((f"Latent distances of {name} per perturbation", path))
    return made, None


def slug(text):
    """`text` as a file-name part."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_") or "model"
