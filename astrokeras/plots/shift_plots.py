"""Plots of label-free shift diagnostics: prediction-entropy histograms and class proportions."""

import numpy as np
from matplotlib.lines import Line2D

from astrokeras.errors import InvalidArgumentError
from astrokeras.plots import _figure

_COLOURS = ("tab:blue", "tab:red", "tab:green", "tab:purple")


def plot_entropy_histograms(bin_edges, target_counts, source_counts=None, domains=None,
                            title=None, path=None):
    """Prediction-entropy histograms of several models on the target, source dashed.

    A model unsure about the target domain spreads its target predictions towards the
    maximum entropy log(classes); a model that handles the shift keeps them near 0, like its
    source predictions. One colour per model: the target histogram solid, the source one
    dashed, each normalised to the fraction of its images so that domains and models of
    different sizes compare. Needs no label.

    Args:
        bin_edges: increasing entropy bin edges shared by every histogram (nats), e.g.
            `shift_diagnostics(...)["entropy"]["bin_edges"]`.
        target_counts: `{model: counts per bin}` on the target images, one to four models.
        source_counts: optional `{model: counts per bin}` on the source images.
        domains: optional `(source, target)` names for the legend.
        title: the figure title.
        path: optional PNG file to write (atomically).

    Returns:
        The matplotlib `Figure`.

    Example:

    >>> figure = plot_entropy_histograms([0.0, 0.35, 0.7], {"regular": [2, 8]},
    ...                                  {"regular": [9, 1]}, domains=("y10", "y1"))
    >>> [line.get_linestyle() for line in figure.axes[0].get_legend().get_lines()]
    ['-', '--']
    """
    edges = _figure.finite("bin_edges", bin_edges, ndim=1)
    if len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise InvalidArgumentError("`bin_edges` must increase.", edges.tolist(),
                                   "at least two increasing edges")
    target = _histograms("target_counts", target_counts, len(edges) - 1)
    source = {} if source_counts is None else _histograms("source_counts", source_counts,
                                                          len(edges) - 1)
    unknown = sorted(set(source) - set(target))
    if unknown:
        raise InvalidArgumentError("`source_counts` names models without target counts.",
                                   unknown, sorted(target))
    source_name, target_name = (str(d) for d in domains) if domains else ("source", "target")
    figure, ax = _figure.new_figure((6.5, 4.5))
    handles = []
    for colour, (name, counts) in zip(_COLOURS, target.items()):
        ax.stairs(counts / counts.sum(), edges, color=colour, linewidth=1.6)
        handles.append(Line2D([], [], color=colour, linewidth=1.6,
                              label=f"{name}: {target_name} (n={int(counts.sum())})"))
        if name in source:
            ax.stairs(source[name] / source[name].sum(), edges, color=colour, linewidth=1.2,
                      linestyle="--")
            handles.append(Line2D([], [], color=colour, linewidth=1.2, linestyle="--",
                                  label=f"{name}: {source_name} (n={int(source[name].sum())})"))
    ax.legend(handles=handles, fontsize=8, loc="best")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel("prediction entropy (nats)")
    ax.set_ylabel("fraction of images")
    ax.set_title(title or "Prediction entropy")
    _figure.save(figure, path)
    return figure


def plot_class_proportions(proportions, class_names=None, domains=None, title=None,
                           path=None):
    """Predicted class proportions on source and target, as grouped bars, one panel per model.

    A shift can move many target images into one class while the latent space looks aligned:
    the fraction of images predicted in each class (argmax) on the source and on the target,
    side by side for every class, shows it without a label.

    Args:
        proportions: `{model: (source_fractions, target_fractions)}`, one fraction per class
            for each domain, one to four models.
        class_names: names of the classes (default: their indices).
        domains: optional `(source, target)` names for the legend.
        title: the figure title.
        path: optional PNG file to write (atomically).

    Returns:
        The matplotlib `Figure`.

    Example:

    >>> figure = plot_class_proportions({"regular": ([0.5, 0.5], [0.9, 0.1]),
    ...                                  "adapted": ([0.5, 0.5], [0.6, 0.4])})
    >>> len(figure.axes), len(figure.axes[0].patches)
    (2, 4)
    """
    if not isinstance(proportions, dict) or not 1 <= len(proportions) <= len(_COLOURS):
        raise InvalidArgumentError("`proportions` must map 1 to 4 models to (source, target) "
                                   "fractions.", type(proportions).__name__
                                   if not isinstance(proportions, dict) else list(proportions),
                                   f"1..{len(_COLOURS)} models")
    pairs = {}
    for name, pair in proportions.items():
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise InvalidArgumentError(f"`proportions[{name!r}]` must be a (source, target) "
                                       "pair.", type(pair).__name__, "(source, target)")
        pairs[str(name)] = [_figure.finite(f"proportions[{name!r}]", p, ndim=1) for p in pair]
    sizes = {p.size for pair in pairs.values() for p in pair}
    if len(sizes) != 1:
        raise InvalidArgumentError("Every fraction array must hold one value per class.",
                                   sorted(sizes), "one number of classes")
    num_classes = sizes.pop()
    names = _figure.names(class_names, num_classes)
    source_name, target_name = (str(d) for d in domains) if domains else ("source", "target")
    figure, axes = _figure.new_figure((3.5 * len(pairs) + 1.0, 4.0), ncols=len(pairs))
    axes = axes if isinstance(axes, list) else [axes]
    positions, width = np.arange(num_classes), 0.38
    for ax, (name, (source, target)) in zip(axes, pairs.items()):
        ax.bar(positions - width / 2, source, width, color="lightgray", edgecolor="dimgray",
               hatch="//", label=source_name)
        ax.bar(positions + width / 2, target, width, color="tab:blue", label=target_name)
        ax.set_xticks(positions, names, rotation=30 if num_classes > 4 else 0)
        ax.set_ylim(0, 1)
        ax.set_title(name)
        ax.set_ylabel("fraction of images predicted")
        ax.legend(fontsize=8)
    figure.suptitle(title or "Predicted class proportions")
    _figure.save(figure, path)
    return figure


def _histograms(name, counts, bins):
    if not isinstance(counts, dict) or not 1 <= len(counts) <= len(_COLOURS):
        raise InvalidArgumentError(f"`{name}` must map 1 to 4 models to counts per bin.",
                                   type(counts).__name__ if not isinstance(counts, dict)
                                   else list(counts), f"1..{len(_COLOURS)} models")
    arrays = {}
    for model, values in counts.items():
        array = _figure.finite(f"{name}[{model!r}]", values, ndim=1)
        if array.size != bins or array.min() < 0 or array.sum() <= 0:
            raise InvalidArgumentError(f"`{name}[{model!r}]` must hold one non-negative count "
                                       "per bin, not all zero.", f"shape {array.shape}",
                                       f"({bins},) counts")
        arrays[str(model)] = array
    return arrays
