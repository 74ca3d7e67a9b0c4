"""Isomap views of latent spaces: domains side by side, coloured by class."""

import numpy as np
from matplotlib.lines import Line2D
from sklearn.manifold import Isomap

from astrokeras.errors import InvalidArgumentError, check_positive_int
from astrokeras.plots import _figure

#: Marker fill of the domains in order: the first filled, the second empty, then crosses.
_STYLES = ("filled", "empty", "cross")


def isomap_embedding(latents, n_components=2, n_neighbors=10):
    """Embed the latent vectors of several domains together with scikit-learn's Isomap.

    One Isomap is fitted on the union of all domains, so their positions are comparable.

    Args:
        latents: `{domain: (n_domain, latent_dim)}` latent vectors.
        n_components: 2 or 3.
        n_neighbors: neighbours of the Isomap graph (at most the number of points minus 1).

    Returns:
        `{domain: (n_domain, n_components)}` embedded coordinates.

    Example:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> out = isomap_embedding({"y10": rng.normal(size=(12, 8)), "y1": rng.normal(size=(12, 8))})
    >>> out["y1"].shape
    (12, 2)
    """
    if n_components not in (2, 3):
        raise InvalidArgumentError("`n_components` must be 2 or 3.", n_components, "2 or 3")
    if not isinstance(latents, dict) or not latents:
        raise InvalidArgumentError("`latents` must map domain names to latent arrays.",
                                   type(latents).__name__, "{domain: (n, latent_dim)}")
    arrays = {str(k): _figure.finite(f"latents[{k!r}]", v, ndim=2) for k, v in latents.items()}
    dims = {k: a.shape[1] for k, a in arrays.items()}
    if len(set(dims.values())) != 1:
        raise InvalidArgumentError("The latent arrays differ in dimension.", dims,
                                   "one latent dimension")
    joined = np.concatenate(list(arrays.values()))
    if len(joined) < n_components + 2:
        raise InvalidArgumentError("Too few latent vectors for an Isomap.", len(joined),
                                   f">= {n_components + 2}")
    neighbours = min(check_positive_int("n_neighbors", n_neighbors), len(joined) - 1)
    embedded = Isomap(n_neighbors=neighbours, n_components=n_components).fit_transform(joined)
    out, start = {}, 0
    for name, array in arrays.items():
        out[name] = embedded[start:start + len(array)]
        start += len(array)
    return out


def plot_isomap(latents, labels, n_components=2, n_neighbors=10, highlight=None,
                class_names=None, title=None, path=None):
    """Isomap of latent spaces in 2-D or 3-D: domains by marker fill, classes by colour.

    The latent-space visualisation of Ciprijanovic et al. 2022 (figures 5 and 7): the base
    domain (Y10) with filled markers, the perturbed one (Y1) with empty markers (a third, e.g.
    the one-pixel images, with crosses), coloured by true class; a domain-adapted model shows
    the two domains overlapping, a regular one shows them apart. `highlight` marks one galaxy
    in every domain (a triplet: base, noisy, one-pixel) and joins its points.

    Args:
        latents: `{domain: (n_domain, latent_dim)}`, at most three domains.
        labels: true classes: one array for every domain (when all have the same length), or
            `{domain: (n_domain,)}`.
        n_components: 2 or 3.
        n_neighbors: neighbours of the Isomap graph.
        highlight: optional index of one galaxy (the same row in every domain) to mark.
        class_names: names of the classes for the legend.
        title: the figure title.
        path: optional PNG file to write (atomically).

    Returns:
        The matplotlib `Figure`.

    Example:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = {"y10": rng.normal(size=(12, 8)), "y1": rng.normal(size=(12, 8))}
    >>> figure = plot_isomap(z, rng.integers(0, 3, 12), highlight=0)
    >>> len(figure.axes)
    1
    """
    if isinstance(latents, dict) and len(latents) > len(_STYLES):
        raise InvalidArgumentError("At most three domains can be told apart by marker.",
                                   list(latents), f"<= {len(_STYLES)} domains")
    embedded = isomap_embedding(latents, n_components, n_neighbors)
    labels = _labels(labels, embedded)
    num_classes = int(max(int(v.max()) for v in labels.values()) + 1)
    class_names = _figure.names(class_names, num_classes)
    if highlight is not None:
        if isinstance(highlight, bool) or not isinstance(highlight, (int, np.integer)) or not \
                all(0 <= highlight < len(v) for v in embedded.values()):
            raise InvalidArgumentError("`highlight` must index a galaxy present in every "
                                       "domain.", highlight,
                                       f"0 <= highlight < {min(len(v) for v in embedded.values())}")
    projection = "3d" if n_components == 3 else None
    figure, ax = _figure.new_figure((7.0, 5.5), projection=projection)
    for style, (name, points) in zip(_STYLES, embedded.items()):
        colours = [_figure.class_colour(k) for k in labels[name]]
        coords = [points[:, i] for i in range(n_components)]
        if style == "filled":
            ax.scatter(*coords, c=colours, s=18, alpha=0.8)
        elif style == "empty":
            ax.scatter(*coords, facecolors="none", edgecolors=colours, s=22, alpha=0.9)
        else:
            ax.scatter(*coords, c=colours, marker="x", s=22, alpha=0.9)
    if highlight is not None:
        triplet = np.stack([points[highlight] for points in embedded.values()])
        ax.plot(*[triplet[:, i] for i in range(n_components)], color="black", linewidth=1.2)
        ax.scatter(*[triplet[:, i] for i in range(n_components)], s=140, facecolors="none",
                   edgecolors="black", linewidths=1.8)
    markers = {"filled": dict(marker="o", markerfacecolor="gray", markeredgecolor="gray"),
               "empty": dict(marker="o", markerfacecolor="none", markeredgecolor="gray"),
               "cross": dict(marker="x", color="gray")}
    handles = [Line2D([], [], linestyle="none", label=name, **markers[style])
               for style, name in zip(_STYLES, embedded)]
    present = sorted(set(np.concatenate(list(labels.values())).tolist()))
    handles += [Line2D([], [], linestyle="none", marker="o", color=_figure.class_colour(k),
                       label=class_names[k]) for k in present]
    if highlight is not None:
        handles.append(Line2D([], [], color="black", marker="o", markerfacecolor="none",
                              label=f"galaxy {highlight}"))
    ax.legend(handles=handles, fontsize=8, loc="best")
    ax.set_xlabel("Isomap 1")
    ax.set_ylabel("Isomap 2")
    if n_components == 3:
        ax.set_zlabel("Isomap 3")
    ax.set_title(title or f"Isomap of the latent space ({n_components}-D)")
    _figure.save(figure, path)
    return figure


def _labels(labels, embedded):
    if isinstance(labels, dict):
        out = {}
        for name, points in embedded.items():
            if name not in labels:
                raise InvalidArgumentError(f"`labels` has no entry for domain {name!r}.",
                                           sorted(labels), sorted(embedded))
            out[name] = np.asarray(labels[name])
    else:
        out = {name: np.asarray(labels) for name in embedded}
    for name, values in out.items():
        if values.shape != (len(embedded[name]),) or not np.issubdtype(values.dtype, np.integer) \
                or values.min() < 0:
            raise InvalidArgumentError(f"`labels` for domain {name!r} must hold one class per "
                                       "latent vector.", f"shape {values.shape}",
                                       f"({len(embedded[name])},) non-negative integers")
    return out
