"""Example images of a simulated dataset, per class and domain, and its Gini-M20 diagram."""

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from astrokeras.errors import check_positive_int
from astrokeras.plots import _figure

#: Examples are read from the stored dataset in batches of this many galaxies.
_BATCH = 64


def plot_dataset_examples(directory, path=None, per_class=4, gini_m20_path=None):
    """A grid of example images of a dataset: one row per class and domain.

    The check a survey scientist makes before training (Ciprijanovic et al. 2022, figure 2):
    the same kind of galaxy in each domain (Y10 next to the noisier Y1, PSF-only next to
    noisy), every class, with the dataset's one clip + arcsinh stretch (fitted on the source
    training split, so the noisier domain looks noisier, as the network sees it). Images are
    shown in colour, the reddest band as red and the bluest as blue (one band in grey). The
    first `per_class` galaxies of each class are shown, in the order they are stored.

    When the dataset records Gini and M20 (`MorphologySimulation(morphometry=True)`), a
    second figure plots the noiseless galaxies in the Gini-M20 plane with the merger and
    early/late-type boundaries of Lotz et al. 2008.

    Args:
        directory: a dataset directory written by `astrokeras.data.write_dataset`.
        path: optional PNG file to write the example grid to (atomically).
        per_class: examples per class and domain.
        gini_m20_path: optional PNG file for the Gini-M20 diagram (written only when the
            dataset records Gini and M20).

    Returns:
        A dict of matplotlib `Figure`s: "examples", and "gini_m20" when the dataset records
        Gini and M20.

    Raises:
        FileNotFoundError: `directory` holds no dataset manifest.
        DataError: a shard does not match the manifest's checksum.
        InvalidArgumentError: `per_class` is not a positive integer.

    Example:

    >>> import tempfile
    >>> from astrokeras.data import MorphologySimulation, write_dataset
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_dataset(MorphologySimulation(size=16, morphometry=True), 3, folder, seed=0)
    >>> figures = plot_dataset_examples(folder, per_class=1)
    >>> sorted(figures), len(figures["examples"].axes)
    (['examples', 'gini_m20'], 6)
    """
    from astrokeras.data import load_manifest

    per_class = check_positive_int("per_class", per_class)
    manifest = load_manifest(directory)
    figures = {"examples": _example_grid(directory, manifest, per_class)}
    _figure.save(figures["examples"], path, dpi=120)
    if {"gini", "m20"} <= set(manifest["value_names"]):
        figures["gini_m20"] = _gini_m20(directory, manifest)
        _figure.save(figures["gini_m20"], gini_m20_path, dpi=120)
    return figures


def _first_examples(directory, manifest, domain, per_class):
    """{class index: up to `per_class` stretched images of `domain`}, in stored order."""
    from astrokeras.data import load

    classes = manifest["classes"]
    picked = {c: [] for c in range(max(len(classes), 1))}
    for images, labels in load(directory, domain, split="all", batch_size=_BATCH,
                               shuffle=False, augment_images=False):
        images = images["image"] if isinstance(images, dict) else images
        for image, label in zip(images.numpy(), labels.numpy()):
            key = int(label) if classes else 0
            if len(picked[key]) < per_class:
                picked[key].append(image)
        if all(len(v) >= per_class for v in picked.values()):
            break
    return picked


def _rgb(images, bands):
    """(n, h, w, bands) in [0, 1] -> (n, h, w, 3): reddest band as red, bluest as blue."""
    if images.shape[-1] == 1:
        return np.repeat(images, 3, axis=-1)
    picks = [bands - 1, bands // 2, 0] if bands >= 3 else [1, 0, 0]
    return np.clip(images[..., picks], 0, 1)


def _example_grid(directory, manifest, per_class):
    classes = manifest["classes"] or ["all"]
    domains = manifest["domains"]
    picked = {d: _first_examples(directory, manifest, d, per_class) for d in domains}
    rows = [(d, c) for c in range(len(classes)) for d in domains]
    figure = Figure(figsize=(1.6 * per_class, 1.6 * len(rows)), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(rows), per_class, squeeze=False)
    for r, (domain, c) in enumerate(rows):
        stamps = picked[domain][c]
        rgb = _rgb(np.asarray(stamps), len(manifest["bands"])) if stamps else []
        for k in range(per_class):
            ax = axes[r, k]
            ax.set_xticks([])
            ax.set_yticks([])
            if k < len(rgb):
                ax.imshow(rgb[k], origin="lower")
            if k == 0:
                ax.set_ylabel(f"{classes[c]}\n{domain}", fontsize=8)
    figure.suptitle(f"{manifest['kind']}: {manifest['n']} galaxies, seed {manifest['seed']}",
                    fontsize=9)
    return figure


def _gini_m20(directory, manifest):
    """The Gini-M20 diagram of the noiseless galaxies with Lotz et al. 2008's boundaries."""
    from astrokeras.data import read_values

    values = read_values(directory)
    figure, ax = _figure.new_figure((4.5, 4.0))
    for k, name in enumerate(manifest["classes"]):
        chosen = values["label"] == k
        ax.scatter(values["m20"][chosen], values["gini"][chosen], s=6, label=name,
                   color=_figure.class_colour(k))
    m20 = np.linspace(-3.0, 0.0, 50)
    ax.plot(m20, -0.14 * m20 + 0.33, "k-", lw=1, label="merger line (Lotz+08)")
    early = m20[m20 < -1.68]
    ax.plot(early, 0.14 * early + 0.80, "k--", lw=1, label="E/S0/Sa | Sb-Ir")
    ax.set_xlim(0.0, -3.0)
    ax.set_xlabel("M20")
    ax.set_ylabel("Gini")
    ax.legend(fontsize=7)
    return figure
