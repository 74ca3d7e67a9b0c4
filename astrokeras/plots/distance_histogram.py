"""Histograms of latent-space distances with their means, medians and JS distances."""

import numpy as np
from matplotlib.lines import Line2D
from scipy.spatial import distance

from astrokeras.errors import InvalidArgumentError, check_positive_int
from astrokeras.plots import _figure

_COLOURS = ("tab:blue", "tab:red", "tab:green", "tab:purple")


def plot_latent_distances(distances, bins=30, title=None, xlabel="latent-space distance",
                          path=None):
    """Histograms of latent distances on shared bins, mean and median lines, JS distance.

    Figure 6 of Ciprijanovic et al. 2022: the distributions of latent-space distances between
    base images and their perturbed versions for a regular and a domain-adapted model (or for
    two perturbations), drawn on the same bins, each with its mean (dashed) and median (dotted)
    line; the legend gives the Jensen-Shannon distance between every pair of distributions,
    scipy's `jensenshannon` in base 2 on the histograms drawn (the same number
    `astrokeras.evaluation.js_distance` gives with these bins).

    Args:
        distances: `{name: 1-D distances}`, one to four samples (empty ones are skipped).
        bins: number of shared bins over the joint range, or an array of edges.
        title: the figure title.
        xlabel: the horizontal axis label.
        path: optional PNG file to write (atomically).

    Returns:
        The matplotlib `Figure`.

    Example:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> figure = plot_latent_distances({"regular": rng.gamma(2, size=200),
    ...                                 "domain adaptation": rng.gamma(4, size=200)})
    >>> any("JS distance" in t.get_text() for t in figure.axes[0].get_legend().get_texts())
    True
    """
    if not isinstance(distances, dict) or not 1 <= len(distances) <= len(_COLOURS):
        raise InvalidArgumentError("`distances` must map 1 to 4 names to distance arrays.",
                                   type(distances).__name__ if not isinstance(distances, dict)
                                   else list(distances), f"1..{len(_COLOURS)} samples")
    samples = {}
    for name, values in distances.items():
        array = np.asarray(values, np.float64)
        if array.size:
            samples[str(name)] = _figure.finite(f"distances[{name!r}]", array, ndim=1)
    if not samples:
        raise InvalidArgumentError("Every sample of `distances` is empty.",
                                   {k: 0 for k in distances}, "at least one distance")
    joined = np.concatenate(list(samples.values()))
    if np.ndim(bins) == 1:
        edges = _figure.finite("bins", bins, ndim=1)
        if len(edges) < 2 or np.any(np.diff(edges) <= 0):
            raise InvalidArgumentError("`bins` edges must increase.", edges.tolist(),
                                       "at least two increasing edges")
    else:
        edges = np.histogram_bin_edges(joined, bins=check_positive_int("bins", bins))
    figure, ax = _figure.new_figure((6.5, 4.5))
    counts = {}
    handles = []
    for colour, (name, values) in zip(_COLOURS, samples.items()):
        counts[name], _, _ = ax.hist(values, bins=edges, histtype="step", color=colour,
                                     linewidth=1.6, label=name)
        mean, median = float(np.mean(values)), float(np.median(values))
        ax.axvline(mean, color=colour, linestyle="--", linewidth=1.2)
        ax.axvline(median, color=colour, linestyle=":", linewidth=1.2)
        handles.append(Line2D([], [], color=colour, linewidth=1.6,
                              label=f"{name} (n={values.size}, mean {mean:.3g}, "
                                    f"median {median:.3g})"))
    handles += [Line2D([], [], color="gray", linestyle="--", label="mean"),
                Line2D([], [], color="gray", linestyle=":", label="median")]
    names = list(samples)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if counts[a].sum() and counts[b].sum():
                js = float(distance.jensenshannon(counts[a], counts[b], base=2))
                handles.append(Line2D([], [], linestyle="none",
                                      label=f"JS distance {a} / {b} = {js:.3f}"))
    ax.legend(handles=handles, fontsize=8, loc="upper right")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("galaxies")
    ax.set_title(title or "Latent-space distances")
    _figure.save(figure, path)
    return figure
