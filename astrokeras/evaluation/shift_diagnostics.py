"""Label-free diagnostics of a domain shift, as seen by one classifier."""

import numpy as np
from scipy.spatial import distance

from astrokeras.errors import InvalidArgumentError, check_positive_int
from astrokeras.models.split import LATENT_LAYER
from astrokeras.selection import SelectionData, domain_auc, latent_mmd, prediction_entropy
from astrokeras.selection.domain_classifier import DEFAULT_FOLDS
from astrokeras.selection.prediction_entropy import row_entropy
from astrokeras.selection.score_model import feature_model, predict_outputs
from astrokeras.selection.selection_data import DEFAULT_MAX_SAMPLES

#: Default number of equal bins of the entropy histograms on [0, log(classes)].
DEFAULT_ENTROPY_BINS = 20

#: The rows of the diagnostics table: (label, reader of one diagnostics dict).
TABLE_ROWS = (
    ("Latent MMD^2 (lower: aligned)", lambda d: d["latent_mmd"]),
    ("Domain-classifier AUC (0.5: aligned)", lambda d: d["domain_auc"]),
    ("Class proportions, total variation", lambda d: d["class_proportions"]["total_variation"]),
    ("Class proportions, Jensen-Shannon distance",
     lambda d: d["class_proportions"]["jensen_shannon"]),
    ("Mean target prediction entropy (nats)", lambda d: d["entropy"]["target_mean"]),
    ("Mean source prediction entropy (nats)", lambda d: d["entropy"]["source_mean"]),
)


def shift_diagnostics(classifier, source_images, target_images, *, paired=False,
                      latent=LATENT_LAYER, bins=DEFAULT_ENTROPY_BINS, folds=DEFAULT_FOLDS,
                      max_samples=DEFAULT_MAX_SAMPLES, batch_size=256, seed=0):
    """Measures how far a classifier sees the target domain from the source, without labels.

    On real survey targets there are no labels, so whether a model is fooled by the shift
    from simulation (or deep Y10 images) to observation (or shallow Y1 images) has to be read
    from its own outputs. These diagnostics read only images: the classifier's latent points
    and class probabilities on source and target images. No label of either domain is used.

    - `latent_mmd`: the squared multi-kernel MMD between source and target latent points
      (`astrokeras.selection.latent_mmd`, the transfer loss of the MMD models); 0 when the
      two sets coincide.
    - `domain_auc`: the cross-validated ROC AUC of a logistic-regression domain classifier
      on the latent points (`astrokeras.selection.domain_auc`); 0.5 when the domains cannot
      be told apart, 1 when they are separated.
    - `class_proportions`: the fraction of images predicted in each class (argmax) on source
      and target, their total variation distance (half the L1 distance, in [0, 1]) and their
      Jensen-Shannon distance (scipy's `jensenshannon` in base 2, in [0, 1]). A shift that
      moves many target images into one class shows here even when the latent space looks
      aligned.
    - `entropy`: the Shannon entropy (nats) of each predicted class distribution, its mean on
      source and target, and histograms of both on `bins` equal bins over [0, log(classes)].
      A model that is unsure on the target has a higher target entropy than source entropy.

    Both measures of alignment are probes, not accuracies: a latent space that maps every
    image to one point is perfectly aligned and useless.

    Paired data (row i of both domains is the same galaxy, as in a robustness evaluation)
    needs `paired=True`: otherwise the domain classifier, cross-validated, sees a galaxy's
    twin among its training points and learns galaxies instead of domains, which pushes the
    AUC far below 0.5. With `paired=True` the galaxies are split in two seeded random halves,
    the source images taken from one and the target images from the other, so no galaxy is
    in both domains, as on real survey data.

    Args:
        classifier: a functional Keras classifier with a softmax output and a layer named
            `latent` (every astrokeras architecture), or a training model wrapping one
            (`DomainAdaptationModel`, `AdversarialTrainingModel`).
        source_images: source images `(n_source, ...)` (or a dict of model inputs), without
            labels.
        target_images: target images `(n_target, ...)` (or a dict of model inputs), without
            labels.
        paired: the two domains hold the same galaxies in the same order; use disjoint
            halves of them (see above).
        latent: the name of the latent layer.
        bins: number of equal entropy-histogram bins on [0, log(classes)].
        folds: cross-fitting folds of the domain classifier, >= 2; fewer when a domain has
            fewer images (with fewer than 2 images in a domain `domain_auc` is None).
        max_samples: images kept per domain (a seeded random subset of larger sets), which
            bounds the memory of the MMD (it grows as the square of the images kept); None
            keeps all.
        batch_size: images per prediction batch.
        seed: seed of the subsets and of the domain classifier's folds.

    Returns:
        A JSON-ready dict: `source_images` and `target_images` (the numbers of images used),
        `latent_mmd`, `domain_auc` (float or None), `domain_auc_folds`, `class_proportions`
        (`source`, `target`: one fraction per class; `total_variation`, `jensen_shannon`) and
        `entropy` (`source_mean`, `target_mean`, `bin_edges`, `source_counts`,
        `target_counts`).

    Example:

    >>> import keras, numpy as np
    >>> inputs = keras.Input((3,))
    >>> latent = keras.layers.Dense(3, name="latent")(inputs)
    >>> model = keras.Model(inputs, keras.layers.Softmax()(latent))
    >>> rng = np.random.default_rng(0)
    >>> source = rng.normal(size=(40, 3))
    >>> same = shift_diagnostics(model, source, source)
    >>> same["latent_mmd"], same["class_proportions"]["total_variation"]
    (0.0, 0.0)
    >>> shifted = shift_diagnostics(model, source, source + 10.0)
    >>> shifted["domain_auc"], shifted["latent_mmd"] > 0.5
    (1.0, True)
    """
    bins = check_positive_int("bins", bins)
    folds = check_positive_int("folds", folds, minimum=2)
    for name, value in (("source_images", source_images), ("target_images", target_images)):
        if isinstance(value, (tuple, list)):
            raise InvalidArgumentError(f"`{name}` must be images only: these diagnostics use no "
                                       "label.", f"a {type(value).__name__}",
                                       "an array of images, or a dict of model inputs")
    if paired:
        source_images, target_images = disjoint_halves(source_images, target_images, seed)
    data = SelectionData(target_images, source=source_images, max_samples=max_samples,
                         seed=seed)
    outputs = predict_outputs(feature_model(classifier, latent), data, True, batch_size)
    return diagnose_outputs(outputs.source_probabilities, outputs.target_probabilities,
                            outputs.source_latent, outputs.target_latent, bins=bins,
                            folds=folds, seed=seed)


def diagnose_outputs(source_probabilities, target_probabilities, source_latent, target_latent,
                     *, bins=DEFAULT_ENTROPY_BINS, folds=DEFAULT_FOLDS, seed=0):
    """The diagnostics of `shift_diagnostics` from a model's outputs on both domains.

    Args:
        source_probabilities: class probabilities on source images `(n_source, classes)`.
        target_probabilities: class probabilities on target images `(n_target, classes)`.
        source_latent: latent points of the source images `(n_source, d)`.
        target_latent: latent points of the target images `(n_target, d)`.
        bins: number of equal entropy-histogram bins on [0, log(classes)].
        folds: cross-fitting folds of the domain classifier (fewer when a domain has fewer
            points; with fewer than 2 points in a domain `domain_auc` is None).
        seed: seed of the domain classifier's folds.

    Returns:
        The dict described in `shift_diagnostics`.

    Example:

    >>> p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> z = np.arange(6.0).reshape(3, 2)
    >>> d = diagnose_outputs(p, p[[0, 0, 0]], z, z)
    >>> d["class_proportions"]["target"], round(d["class_proportions"]["total_variation"], 4)
    ([1.0, 0.0], 0.3333)
    """
    bins = check_positive_int("bins", bins)
    source_mean = prediction_entropy(source_probabilities)
    target_mean = prediction_entropy(target_probabilities)
    source_p = np.asarray(source_probabilities, np.float64)
    target_p = np.asarray(target_probabilities, np.float64)
    if source_p.shape[1] != target_p.shape[1]:
        raise InvalidArgumentError("Source and target probabilities must have the same classes.",
                                   (source_p.shape, target_p.shape), "equal numbers of columns")
    num_classes = source_p.shape[1]
    mmd = latent_mmd(source_latent, target_latent)
    for name, latent_points, probabilities in (("source", source_latent, source_p),
                                               ("target", target_latent, target_p)):
        if len(latent_points) != len(probabilities):
            raise InvalidArgumentError(f"`{name}_latent` and `{name}_probabilities` must hold "
                                       "one row per image each.",
                                       (len(latent_points), len(probabilities)), "equal lengths")
    source_share = class_proportions(source_p)
    target_share = class_proportions(target_p)
    folds = min(check_positive_int("folds", folds, minimum=2), len(source_latent),
                len(target_latent))
    auc = domain_auc(source_latent, target_latent, folds=folds, seed=seed) if folds >= 2 \
        else None
    edges = np.linspace(0.0, np.log(num_classes), bins + 1)
    return {
        "source_images": int(len(source_p)),
        "target_images": int(len(target_p)),
        "latent_mmd": mmd,
        "domain_auc": auc,
        "domain_auc_folds": int(folds) if auc is not None else None,
        "class_proportions": {
            "source": source_share.tolist(),
            "target": target_share.tolist(),
            "total_variation": float(0.5 * np.abs(source_share - target_share).sum()),
            "jensen_shannon": float(distance.jensenshannon(source_share, target_share, base=2)),
        },
        "entropy": {
            "source_mean": source_mean,
            "target_mean": target_mean,
            "bin_edges": edges.tolist(),
            "source_counts": _entropy_counts(source_p, edges).tolist(),
            "target_counts": _entropy_counts(target_p, edges).tolist(),
        },
    }


def disjoint_halves(source_images, target_images, seed=0):
    """Source images of one random half of paired galaxies, target images of the other.

    Args:
        source_images: source images `(n, ...)`, or a dict of such arrays.
        target_images: the same `n` galaxies in the target domain, in the same order.
        seed: seed of the split.

    Returns:
        `(source, target)`: `n // 2` source images and `n - n // 2` target images of
        different galaxies.

    Example:

    >>> source, target = disjoint_halves(np.arange(5.0), -np.arange(5.0))
    >>> sorted(np.concatenate([source, -target]).tolist())
    [0.0, 1.0, 2.0, 3.0, 4.0]
    """
    def rows(value):
        return len(next(iter(value.values()))) if isinstance(value, dict) else len(value)

    def take(value, index):
        if isinstance(value, dict):
            return {key: np.asarray(item)[index] for key, item in value.items()}
        return np.asarray(value)[index]

    n = rows(source_images)
    if rows(target_images) != n or n < 2:
        raise InvalidArgumentError("Paired source and target images must hold the same "
                                   "galaxies, at least 2.", (n, rows(target_images)),
                                   "equal numbers of images, >= 2")
    order = np.random.default_rng([_seed(seed), 2]).permutation(n)
    return take(source_images, np.sort(order[:n // 2])), take(target_images,
                                                              np.sort(order[n // 2:]))


def _seed(value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise InvalidArgumentError("`seed` must be an integer >= 0.", value, ">= 0")
    return int(value)


def class_proportions(probabilities):
    """The fraction of rows whose largest probability is each class (argmax, first on ties).

    Args:
        probabilities: class probabilities `(n, classes)`.

    Returns:
        A float64 array `(classes,)` summing to 1.

    Example:

    >>> class_proportions([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.6, 0.3, 0.1]]).tolist()
    [0.666..., 0.333..., 0.0]
    """
    probabilities = np.asarray(probabilities, np.float64)
    predicted = np.argmax(probabilities, axis=1)
    return np.bincount(predicted, minlength=probabilities.shape[1]) / len(predicted)


def _entropy_counts(probabilities, edges):
    # Rounding can put an entropy a hair outside [0, log K]; it belongs in the edge bins.
    entropies = np.clip(row_entropy(probabilities), edges[0], edges[-1])
    return np.histogram(entropies, bins=edges)[0].astype(np.int64)


def shift_table(diagnostics, source):
    """Markdown lines of the diagnostics table: one table per target, one column per model.

    Args:
        diagnostics: `{model: {target_domain: shift_diagnostics dict}}`.
        source: the name of the source domain.

    Returns:
        A list of lines (a heading, a sentence on what the rows mean, and the tables).

    Example:

    >>> p, z = np.array([[0.9, 0.1]]), np.array([[0.0, 1.0]])
    >>> lines = shift_table({"regular": {"y1": diagnose_outputs(p, p, z, z)}}, "y10")
    >>> lines[-7:-5]
    ['| Latent MMD^2 (lower: aligned) | 0.0000 |', '| Domain-classifier AUC (0.5: aligned) | n/a |']
    """
    if not isinstance(diagnostics, dict) or not diagnostics:
        raise InvalidArgumentError("`diagnostics` must map models to {target: diagnostics}.",
                                   type(diagnostics).__name__, "a non-empty dict")
    models = list(diagnostics)
    targets = list(dict.fromkeys(t for per in diagnostics.values() for t in per))
    lines = ["### Shift diagnostics without labels", "", _READING, ""]
    for target in targets:
        counts = next(per[target] for per in diagnostics.values() if target in per)
        lines += [f"{source} (source, {counts['source_images']} images) -> {target} (target, "
                  f"{counts['target_images']} images):", "",
                  "| Diagnostic | " + " | ".join(models) + " |",
                  "|---" * (len(models) + 1) + "|"]
        for label, read in TABLE_ROWS:
            cells = [_cell(read(diagnostics[m][target])) if target in diagnostics[m] else "-"
                     for m in models]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


_READING = (
    "No label of either domain is used for these: they read only each model's latent points "
    "and predicted class probabilities on source and target images, so they can be computed "
    "on real survey data. Latent MMD^2 (multi-kernel, as the MMD transfer loss) and the "
    "cross-validated AUC of a logistic-regression domain classifier on the latent space "
    "measure how far apart the domains lie for the model (AUC 0.5: indistinguishable); the "
    "class-proportion distances compare the fractions of images predicted in each class on "
    "source and target (total variation and Jensen-Shannon distance, base 2, both in [0, 1]); "
    "the mean prediction entropy (nats, at most log(classes)) grows as the model becomes "
    "unsure. They measure shift and alignment, not accuracy. Paired galaxies are split in two "
    "random halves, the source images taken from one and the target images from the other, so "
    "no galaxy is in both domains; with few images both alignment measures are noisy (two "
    "samples of one distribution give an MMD^2 above 0 and an AUC around 0.5).")


def _cell(value):
    return "n/a" if value is None else f"{value:.4f}"
