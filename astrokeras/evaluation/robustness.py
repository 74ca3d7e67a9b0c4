"""Robustness of one or two classifiers to noise and one-pixel perturbations (Tables 2-3).

`evaluate_robustness` runs every measurement of Ciprijanovic et al. 2022 sections 4-5 on
paired images of the same galaxies in several domains (Y10 and Y1): classification metrics per
domain, latent-space distances between each base image and its perturbed twins (the noisier
domain, and the one-pixel adversarial image), one-pixel attack success and generations, and
Jensen-Shannon distances between distance distributions. `robustness_summary` arranges the
numbers in the layout of the paper's Table 2 (metrics on Y10 and Y1 for each model) and Table 3
(distance medians, means and errors; JS distance; one-pixel success), and `markdown_tables`
prints them.

Two readings make the distances of two models comparable. Raw distances in two latent spaces
are not on one scale (a domain-adapted latent space may be much more compact), so each distance
is also given in units of its model's `latent_scale`: the median distance between the base
embeddings of different galaxies. And the paper compares the one-pixel distances of the
galaxies whose decision the attack flipped under both trainings; with two models that set is
reported beside each model's own flipped galaxies.
"""

import dataclasses

import numpy as np

from scipy.spatial.distance import pdist

from astrokeras.errors import InvalidArgumentError, check_images, check_positive_int
from astrokeras.evaluation import _checks
from astrokeras.evaluation.classification import classification_metrics
from astrokeras.evaluation.jensen_shannon import js_distance
from astrokeras.evaluation.latent import distance_statistics, latent_embeddings
from astrokeras.models.split import LATENT_LAYER, latent_output, unwrap_classifier

#: The Table 2 metrics, in the paper's column order.
TABLE2_METRICS = ("accuracy", "precision", "recall", "f1", "brier", "roc_auc")
#: Base images used for the latent scale at most (all pairs of 2,000 are 2 million distances).
SCALE_GALAXIES = 2000


@dataclasses.dataclass
class RobustnessEvaluation:
    """Everything `evaluate_robustness` measured, for reports and plots.

    Args:
        models: model names, in the order given.
        domains: domain names, the base domain first.
        labels: true classes `(n,)` of the galaxies (the same in every domain).
        class_names: one name per class.
        probabilities: `{model: {domain: (n, classes)}}` predicted probabilities.
        latents: `{model: {name: (m, latent_dim)}}` embeddings of every domain, and of the
            adversarial images under the attack's name (the galaxies `attacked[model]`).
        distances: `{model: {perturbation: (k,)}}` latent distances from the base images:
            one per galaxy for each other domain, one per successful attack for the attack.
        attacks: `{model: OnePixelResult}` of a one-pixel attack (empty otherwise, or where
            the model classified no base image correctly).
        adversarial: `{model: images}` the adversarial images of `attacked[model]`.
        success: `{model: bool array}` whether each attack flipped the decision.
        attack: the attack's name, or None.
        attacked: `{model: indices}` of the attacked galaxies: the first `n` base images the
            model classifies correctly.
        summary: the `robustness_summary` of it all (plain Python, JSON-ready).
    """

    models: list
    domains: list
    labels: np.ndarray
    class_names: list
    probabilities: dict
    latents: dict
    distances: dict
    attacks: dict
    attacked: dict
    summary: dict
    adversarial: dict = dataclasses.field(default_factory=dict)
    success: dict = dataclasses.field(default_factory=dict)
    attack: str = None


def evaluate_robustness(models, images, labels, class_names=None, attack=None, n=150,
                        layer=LATENT_LAYER, batch_size=64, bins=30, progress=None,
                        scale_galaxies=SCALE_GALAXIES):
    """Measure how one or two classifiers respond to noisier data and adversarial attacks.

    The procedure of Ciprijanovic et al. 2022 (sections 4-5): each model classifies the same
    galaxies in every domain of `images` (Y10, the training depth, first; then Y1), giving the
    Table 2 metrics per domain; the Euclidean distance between the latent embedding of each
    base (first-domain) image and that of its twin in each other domain measures how far the
    noise moves it; with an `attack` (the paper's one-pixel attack, or FGSM as in Campagne
    2021: `astrokeras.experiments.robustness_attack("one-pixel", {...})` builds one from the
    attack registry), base images are attacked with their true labels and the distance to
    each successful adversarial image is measured too (Table 3), together with the attack's
    success rate and, for the one-pixel attack, the generations it needed. As in the
    paper, only correctly classified images are attacked: for each model, the first `n` base
    images it classifies correctly, so a success is a flipped decision. With two
    models (e.g. regular and domain-adapted), the Jensen-Shannon distance between their
    distance distributions is reported for every perturbation (figure 6), and the attack's
    distances are also given for the galaxies flipped under both models (the paper's set:
    "flipped under both trainings"). Every distance is also given in units of its model's
    `latent_scale` (Table 3 "scaled"), so that two latent spaces can be compared.

    Args:
        models: `{name: model}`, one or two classifiers (functional models with a latent
            layer and a softmax output, or `DomainAdaptationModel`s), or a single model.
        images: `{domain: images}`, paired images of the same galaxies in the same order, the
            base domain first, all of one shape `(n_galaxies, height, width, bands)`.
        labels: true classes `(n_galaxies,)`.
        class_names: optional names of the classes.
        attack: `None`, or an attack as a callable `attack(model, x, y, batch_size=...)` with
            a `name` attribute, returning `(adversarial, success, summary, result)`: the
            adversarial images, whether each flipped the decision, a summary dict (`images`,
            `succeeded`, `success_rate`, `mean_generations`, `median_generations`) and the
            attack's own result object or None. `astrokeras.experiments.robustness_attack`
            makes one of any attack in the registry, with its options.
        n: number of correctly classified base images attacked per model (the paper: 150).
        layer: name of the latent layer.
        batch_size: images per model call.
        bins: number of shared histogram bins of the Jensen-Shannon distances.
        progress: optional `progress(description, completed, total)` called as the work
            advances (for progress bars).
        scale_galaxies: base images (a seeded random subset where there are more) whose
            pairwise distances give each model's `latent_scale`.

    Returns:
        A `RobustnessEvaluation`; its `summary` also holds `latent_scale`, `table3_scaled`
        and, with two models and an attack, `flipped_both` (see `robustness_summary`).

    Example:

    >>> import numpy as np
    >>> from astrokeras.models import convnet
    >>> rng = np.random.default_rng(0)
    >>> y10 = rng.uniform(size=(6, 16, 16, 3)).astype("float32")
    >>> images = {"y10": y10, "y1": y10 + 0.1 * rng.normal(size=y10.shape).astype("float32")}
    >>> result = evaluate_robustness(convnet((16, 16, 3)), images, [0, 1, 2, 0, 1, 2])
    >>> sorted(result.summary["table2"]["model"]), result.summary["table3"]["model"]["y1"]["n"]
    (['y1', 'y10'], 6)
    """
    models = _check_models(models, layer)
    images, count = _check_images(images)
    domains = list(images)
    base = domains[0]
    num_classes = _num_classes(models)
    labels = _checks.class_labels("labels", labels, count, num_classes)
    batch_size = check_positive_int("batch_size", batch_size)
    n = min(check_positive_int("n", n), count)
    scale_galaxies = check_positive_int("scale_galaxies", scale_galaxies)
    if scale_galaxies < 2:
        raise InvalidArgumentError("`scale_galaxies` must be at least 2 (one pair).",
                                   scale_galaxies, ">= 2")
    if class_names is not None and len(list(class_names)) != num_classes:
        raise InvalidArgumentError("`class_names` must hold one name per class.",
                                   list(class_names), f"{num_classes} names")
    attack, run_attack = _check_attack(attack)
    if attack is None and len(domains) < 2:
        raise InvalidArgumentError("Give a second domain or an attack: there is nothing to "
                                   "compare the base images with.", domains,
                                   "two domains, or an attack")
    steps = len(models) * (2 * len(domains) + (1 if attack else 0))
    report = progress or (lambda description, completed, total: None)
    done = 0

    probabilities, latents, distances, attacks = {}, {}, {}, {}
    attacked, adversarial, succeeded, attack_summaries = {}, {}, {}, {}
    for name, model in models.items():
        probabilities[name], latents[name], distances[name] = {}, {}, {}
        for domain in domains:
            report(f"{name}: classifying {domain}", done, steps)
            probabilities[name][domain] = _predict(model, images[domain], batch_size)
            done += 1
            report(f"{name}: embedding {domain}", done, steps)
            latents[name][domain] = latent_embeddings(model, images[domain], layer, batch_size)
            done += 1
        for domain in domains[1:]:
            distances[name][domain] = _distances(latents[name][base], latents[name][domain])
        if attack is not None:
            correct = np.argmax(probabilities[name][base], axis=1) == labels
            chosen = np.flatnonzero(correct)[:n]
            attacked[name] = chosen
            report(f"{name}: {attack} attack on {chosen.size} images", done, steps)
            if chosen.size:
                adversarial[name], succeeded[name], attack_summaries[name], result = run_attack(
                    model, images[base][chosen], labels[chosen], batch_size=batch_size)
                if result is not None:
                    attacks[name] = result
                latents[name][attack] = latent_embeddings(model, adversarial[name], layer,
                                                          batch_size)
                won = succeeded[name]
                distances[name][attack] = _distances(latents[name][base][chosen][won],
                                                     latents[name][attack][won])
            else:
                distances[name][attack] = np.zeros(0)
                attack_summaries[name] = {"images": 0, "succeeded": 0, "success_rate": None,
                                          "mean_generations": None, "median_generations": None}
            done += 1
        report(f"{name}: done", done, steps)

    metrics = {name: {domain: classification_metrics(labels, probabilities[name][domain],
                                                     class_names)
                      for domain in domains} for name in models}
    scales = {name: latent_scale(latents[name][base], max_galaxies=scale_galaxies)
              for name in models} if count > 1 else None
    if scales and min(v["median_pairwise_distance"] for v in scales.values()) <= 0:
        scales = None  # every galaxy at one point of a latent space: no unit to scale by
    both = None
    if attack is not None and len(models) == 2:
        both = _flipped_both(list(models), attack, attacked, succeeded, latents, base)
    summary = robustness_summary(metrics, distances, attack_summaries, bins=bins,
                                 scales=scales, both=both)
    summary["base_domain"] = base
    summary["galaxies"] = int(count)
    return RobustnessEvaluation(
        models=list(models), domains=domains, labels=labels,
        class_names=metrics[next(iter(models))][base]["class_names"],
        probabilities=probabilities, latents=latents, distances=distances, attacks=attacks,
        attacked=attacked, summary=summary, adversarial=adversarial, success=succeeded,
        attack=attack)


def _check_attack(attack):
    """`(name, callable)` of the `attack` argument (`(None, None)` without an attack)."""
    if attack is None:
        return None, None
    name = getattr(attack, "name", None)
    if not callable(attack) or not isinstance(name, str) or not name:
        raise InvalidArgumentError(
            "`attack` must be a callable with a `name` attribute (a str), e.g. "
            "astrokeras.experiments.robustness_attack('one-pixel', {...}).",
            type(attack).__name__, "None or an attack object with .name")
    return name, attack


def latent_scale(latents, max_galaxies=SCALE_GALAXIES, seed=0):
    """The typical distance between two galaxies in a latent space: a unit for its distances.

    The median Euclidean distance between the embeddings of every pair of different galaxies
    (of a seeded random subset of `max_galaxies` where there are more). Dividing a latent
    distance by it makes distances in two models' latent spaces comparable: domain
    adaptation, which pulls the two domains together, may shrink or stretch the whole latent
    space, so a raw distance of 5 can be far in one model and near in another. This reference
    is chosen over the distance between class centroids because it needs no labels, is
    defined for any number of classes (three classes give only three centroid distances,
    a noisy unit), and measures the spread a perturbation is compared with: a one-pixel image
    at scaled distance 1 has moved as far as a typical different galaxy lies; the median
    keeps a few outlying galaxies from setting the unit.

    Args:
        latents: embeddings `(galaxies, latent_dim)` of the base images, at least two.
        max_galaxies: galaxies used at most (all pairs of m galaxies cost m (m - 1) / 2
            distances).
        seed: seed of the random subset.

    Returns:
        A dict: `median_pairwise_distance` (float) and `galaxies` (the number used).

    Example:

    >>> latent_scale(np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 8.0]]))
    {'median_pairwise_distance': 5.0, 'galaxies': 3}
    """
    latents = np.asarray(latents, np.float64)
    if latents.ndim != 2 or len(latents) < 2:
        raise InvalidArgumentError("`latents` must hold the embeddings of at least two "
                                   "galaxies.", _checks.describe(latents),
                                   "(galaxies >= 2, latent_dim)")
    max_galaxies = check_positive_int("max_galaxies", max_galaxies)
    if max_galaxies < 2:
        raise InvalidArgumentError("`max_galaxies` must be at least 2 (one pair).",
                                   max_galaxies, ">= 2")
    if len(latents) > max_galaxies:
        chosen = np.random.default_rng(seed).choice(len(latents), max_galaxies, replace=False)
        latents = latents[np.sort(chosen)]
    return {"median_pairwise_distance": float(np.median(pdist(latents))),
            "galaxies": int(len(latents))}


def _flipped_both(names, attack, attacked, succeeded, latents, base):
    """Attack distances of the galaxies whose decision flipped under both models."""
    flipped = []
    for name in names:
        if name not in succeeded:
            flipped.append(set())
            continue
        flipped.append(set(np.asarray(attacked[name])[succeeded[name]].tolist()))
    attacked_both = set(np.asarray(attacked.get(names[0], [])).tolist()) & set(
        np.asarray(attacked.get(names[1], [])).tolist())
    common = np.array(sorted(flipped[0] & flipped[1]), dtype=np.int64)
    distances = {}
    for name in names:
        if common.size == 0:
            distances[name] = np.zeros(0)
            continue
        position = {int(g): i for i, g in enumerate(attacked[name])}
        rows = [position[int(g)] for g in common]
        distances[name] = _distances(latents[name][base][common], latents[name][attack][rows])
    return {"perturbation": attack, "galaxies": common.tolist(),
            "attacked": len(attacked_both), "distances": distances}


def robustness_summary(metrics, distances, attacks=None, bins=30, scales=None, both=None):
    """Arrange metrics, latent distances and attack results as Ciprijanovic 2022 Tables 2-3.

    Table 2 of the paper gives, for each model (regular, domain adaptation), accuracy,
    precision, recall, F1, Brier score and AUC on the Y10 and Y1 test sets; Table 3 gives, for
    each model and perturbation (Y1 noise, one-pixel attack), the median and mean latent
    distance with its standard error, and the one-pixel attack's success and generations; the
    Jensen-Shannon distance compares the two models' distance distributions (figure 6).

    Args:
        metrics: `{model: {domain: classification_metrics(...)}}`.
        distances: `{model: {perturbation: 1-D array of latent distances}}`.
        attacks: optional `{model: OnePixelResult.summary()}`.
        bins: number of shared bins for the Jensen-Shannon distances.
        scales: optional `{model: latent_scale(...)}`; gives `table3_scaled`.
        both: optional galaxies flipped under both of two models: `{"perturbation": name,
            "galaxies": indices, "attacked": number attacked under both, "distances":
            {model: 1-D array, one per galaxy}}`.

    Returns:
        A JSON-ready dict: `models`, `table2` (`{model: {domain: {metric: value}}}`),
        `table3` (`{model: {perturbation: distance_statistics}}`), `attack`
        (`{model: {success_rate, succeeded, images, mean_generations, median_generations}}`),
        `js_distance` (a list of `{perturbation, a, b, value}`: between models for each
        perturbation, and between perturbations within each model), and `metrics` (the full
        classification metrics, confusion matrices included). With `scales`: `latent_scale`
        and `table3_scaled` (the statistics of each distance divided by its model's scale).
        With `both`: `flipped_both`, holding `perturbation`, `n`, `galaxies`, `attacked`,
        `raw` and `scaled` (`{model: distance_statistics}`) and `ratio` (second model over
        first: `of`, `raw_median`, `raw_mean`, `scaled_median`, `scaled_mean`).

    Example:

    >>> m = {"model": {"y10": {"accuracy": 1.0, "precision": 1.0, "recall": 1.0, "f1": 1.0,
    ...                        "brier": 0.0, "roc_auc": 1.0}}}
    >>> s = robustness_summary(m, {"model": {"y1": [1.0, 2.0, 3.0]}})
    >>> s["table3"]["model"]["y1"]["median"]
    2.0
    """
    if not isinstance(metrics, dict) or not metrics:
        raise InvalidArgumentError("`metrics` must map model names to per-domain metrics.",
                                   type(metrics).__name__, "{model: {domain: metrics}}")
    if not isinstance(distances, dict):
        raise InvalidArgumentError("`distances` must map model names to distance arrays.",
                                   type(distances).__name__, "{model: {perturbation: array}}")
    names = list(metrics)
    unknown = sorted(set(distances) - set(names))
    if unknown:
        raise InvalidArgumentError("`distances` names a model absent from `metrics`.", unknown,
                                   names)
    table2 = {name: {domain: {key: values.get(key) for key in TABLE2_METRICS}
                     for domain, values in metrics[name].items()} for name in names}
    arrays = {name: {p: np.asarray(d, np.float64) for p, d in distances.get(name, {}).items()}
              for name in names}
    table3 = {name: {p: distance_statistics(d) for p, d in arrays[name].items()}
              for name in names}
    attack = {}
    for name, values in (attacks or {}).items():
        attack[name] = {key: values.get(key) for key in
                        ("images", "succeeded", "success_rate", "mean_generations",
                         "median_generations")}
    js = []
    perturbations = list(dict.fromkeys(p for name in names for p in arrays[name]))
    for perturbation in perturbations:
        having = [n for n in names if arrays[n].get(perturbation, np.zeros(0)).size]
        for i, a in enumerate(having):
            for b in having[i + 1:]:
                js.append({"perturbation": perturbation, "a": a, "b": b,
                           "value": js_distance(arrays[a][perturbation],
                                                arrays[b][perturbation], bins=bins)})
    for name in names:
        filled = [p for p in arrays[name] if arrays[name][p].size]
        for i, first in enumerate(filled):
            for second in filled[i + 1:]:
                js.append({"perturbation": f"{first} vs {second}", "a": name, "b": name,
                           "value": js_distance(arrays[name][first], arrays[name][second],
                                                bins=bins)})
    summary = {"models": names, "table2": table2, "table3": table3, "attack": attack,
               "js_distance": js, "metrics": metrics}
    if scales is not None:
        _check_scales(scales, names)
        unit = {name: scales[name]["median_pairwise_distance"] for name in names}
        summary["latent_scale"] = {name: dict(scales[name]) for name in names}
        summary["table3_scaled"] = {
            name: {p: distance_statistics(d / unit[name]) for p, d in arrays[name].items()}
            for name in names}
    if both is not None:
        summary["flipped_both"] = _both_summary(both, names, scales)
    return summary


def _check_scales(scales, names):
    if not isinstance(scales, dict) or set(scales) != set(names):
        raise InvalidArgumentError("`scales` must give one latent_scale per model.",
                                   sorted(scales) if isinstance(scales, dict)
                                   else type(scales).__name__, names)
    for name, scale in scales.items():
        value = scale.get("median_pairwise_distance") if isinstance(scale, dict) else None
        if value is None or not np.isfinite(value) or value <= 0:
            raise InvalidArgumentError(f"`scales[{name!r}]` must hold a positive "
                                       "median_pairwise_distance.", scale,
                                       "latent_scale(...) of the model's base embeddings")


def _both_summary(both, names, scales):
    if len(names) != 2 or set(both.get("distances", {})) != set(names):
        raise InvalidArgumentError("`both` compares two models: it needs the distances of "
                                   "each.", sorted(both.get("distances", {})), names)
    raw = {name: np.asarray(both["distances"][name], np.float64) for name in names}
    sizes = {name: int(d.size) for name, d in raw.items()}
    if len(set(sizes.values()) | {len(both["galaxies"])}) != 1:
        raise InvalidArgumentError("`both` needs one distance per galaxy for each model.",
                                   sizes, f"{len(both['galaxies'])} per model")
    result = {"perturbation": both["perturbation"], "n": len(both["galaxies"]),
              "galaxies": [int(g) for g in both["galaxies"]],
              "attacked": int(both["attacked"]),
              "raw": {name: distance_statistics(raw[name]) for name in names}}
    if scales is not None:
        result["scaled"] = {name: distance_statistics(
            raw[name] / scales[name]["median_pairwise_distance"]) for name in names}
    first, second = names
    ratio = {"of": f"{second} / {first}"}
    for reading in ("raw", "scaled"):
        for statistic in ("median", "mean"):
            a = result.get(reading, {}).get(first, {}).get(statistic)
            b = result.get(reading, {}).get(second, {}).get(statistic)
            ratio[f"{reading}_{statistic}"] = None if not a or b is None else b / a
    result["ratio"] = ratio
    return result


def markdown_tables(summary):
    """Tables 2 and 3 of a `robustness_summary` as GitHub-flavoured Markdown.

    Args:
        summary: the dict returned by `robustness_summary` (or read back from metrics.json).

    Returns:
        A Markdown string: the metrics table, the latent-distance table, the one-pixel attack
        table and the Jensen-Shannon distances (the last two only where measured).

    Example:

    >>> m = {"a": {"y10": {"accuracy": 0.5, "precision": 0.5, "recall": 0.5, "f1": 0.5,
    ...                    "brier": 0.5, "roc_auc": 0.5}}}
    >>> print(markdown_tables(robustness_summary(m, {})).splitlines()[2])
    | Model | Domain | Accuracy | Precision | Recall | F1 | Brier | AUC |
    """
    lines = ["### Classification metrics (Ciprijanovic et al. 2022, Table 2)", "",
             "| Model | Domain | Accuracy | Precision | Recall | F1 | Brier | AUC |",
             "|---|---|---|---|---|---|---|---|"]
    for name, domains in summary["table2"].items():
        for domain, values in domains.items():
            cells = " | ".join(_number(values.get(key)) for key in TABLE2_METRICS)
            lines.append(f"| {name} | {domain} | {cells} |")
    rows = [(name, p, s) for name, per in summary["table3"].items() for p, s in per.items()]
    if rows:
        lines += ["", "### Latent-space distances from the base images (Table 3)", "",
                  "| Model | Perturbation | N | Median | Mean ± s.e. |", "|---|---|---|---|---|"]
        for name, perturbation, s in rows:
            lines.append(f"| {name} | {perturbation} | {s['n']} | {_number(s['median'])} | "
                         f"{_mean_sem(s)} |")
    scaled = [(name, p, s) for name, per in summary.get("table3_scaled", {}).items()
              for p, s in per.items()]
    if scaled:
        lines += ["", "### Latent-space distances in units of each model's latent scale", "",
                  "Latent scale: the median distance between the base embeddings of different "
                  "galaxies (" + ", ".join(
                      f"{name} {_number(v['median_pairwise_distance'])} over {v['galaxies']} "
                      "galaxies" for name, v in summary["latent_scale"].items()) + ").", "",
                  "| Model | Perturbation | N | Median | Mean ± s.e. |", "|---|---|---|---|---|"]
        for name, perturbation, s in scaled:
            lines.append(f"| {name} | {perturbation} | {s['n']} | {_number(s['median'])} | "
                         f"{_mean_sem(s)} |")
    both = summary.get("flipped_both")
    if both:
        lines += ["", f"### Latent-space distances of the galaxies flipped under both models "
                      f"({both['perturbation']})", "",
                  f"{both['n']} of the {both['attacked']} galaxies attacked under both models "
                  "flipped under both.", "",
                  "| Model | N | Median | Mean ± s.e. | Scaled median | Scaled mean ± s.e. |",
                  "|---|---|---|---|---|---|"]
        for name, s in both["raw"].items():
            t = both.get("scaled", {}).get(name, {})
            lines.append(f"| {name} | {s['n']} | {_number(s['median'])} | {_mean_sem(s)} | "
                         f"{_number(t.get('median'))} | {_mean_sem(t)} |")
        r = both["ratio"]
        lines += ["", f"Ratio {r['of']}: raw median {_number(r['raw_median'])}, raw mean "
                      f"{_number(r['raw_mean'])}; scaled median {_number(r['scaled_median'])}, "
                      f"scaled mean {_number(r['scaled_mean'])}."]
    if summary.get("attack"):
        lines += ["", "### Attack on correctly classified base images (Table 3)", "",
                  "| Model | Attacked | Succeeded | Success rate | Mean generations | "
                  "Median generations |", "|---|---|---|---|---|---|"]
        for name, a in summary["attack"].items():
            lines.append(f"| {name} | {a['images']} | {a['succeeded']} | "
                         f"{_number(a['success_rate'])} | {_number(a['mean_generations'])} | "
                         f"{_number(a['median_generations'])} |")
    if summary.get("js_distance"):
        lines += ["", "### Jensen-Shannon distances between distance distributions", "",
                  "| Perturbation | A | B | JS distance |", "|---|---|---|---|"]
        for entry in summary["js_distance"]:
            lines.append(f"| {entry['perturbation']} | {entry['a']} | {entry['b']} | "
                         f"{_number(entry['value'])} |")
    return "\n".join(lines) + "\n"


def _mean_sem(s):
    text = _number(s.get("mean"))
    if s.get("sem") is not None:
        text += f" ± {_number(s['sem'])}"
    return text


def _number(value):
    if value is None:
        return "–"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    return f"{float(value):.4f}"


def _distances(a, b):
    return np.linalg.norm(np.asarray(b, np.float64) - np.asarray(a, np.float64), axis=1)


def _predict(model, images, batch_size):
    probabilities = unwrap_classifier(model).predict(images, batch_size=batch_size, verbose=0)
    return _checks.probabilities("model output", probabilities)


def _check_models(models, layer):
    import keras

    if isinstance(models, keras.Model):
        models = {"model": models}
    if not isinstance(models, dict) or not 1 <= len(models) <= 2:
        raise InvalidArgumentError("`models` must be one model or a dict of one or two.",
                                   type(models).__name__ if not isinstance(models, dict)
                                   else list(models), "{name: model} with 1 or 2 entries")
    checked = {}
    for name, model in models.items():
        classifier = unwrap_classifier(model)
        latent_output(classifier, layer)
        checked[str(name)] = classifier
    return checked


def _check_images(images):
    if not isinstance(images, dict) or not images:
        raise InvalidArgumentError("`images` must map domain names to image arrays.",
                                   type(images).__name__, "{domain: (n, h, w, bands) array}")
    checked, shapes = {}, {}
    for domain, array in images.items():
        array = check_images(f"images[{domain!r}]", array)
        checked[str(domain)] = array
        shapes[str(domain)] = array.shape
    if len(set(shapes.values())) != 1:
        raise InvalidArgumentError("The domains of `images` must pair the same galaxies: one "
                                   "shape for all.", shapes, "equal shapes")
    return checked, next(iter(shapes.values()))[0]


def _num_classes(models):
    counts = {name: int(model.output.shape[-1]) for name, model in models.items()}
    if len(set(counts.values())) != 1:
        raise InvalidArgumentError("The models must have the same number of classes.", counts,
                                   "one number of classes")
    return next(iter(counts.values()))
