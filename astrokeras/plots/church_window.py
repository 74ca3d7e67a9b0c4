"""Church-window plots: the model's decisions on a plane of its latent space."""

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from astrokeras.errors import InvalidArgumentError, check_positive_int
from astrokeras.models.split import LATENT_LAYER, split_at_latent, unwrap_classifier
from astrokeras.plots import _figure


def church_window_grid(model, base, horizontal, vertical, resolution=51, margin=1.5,
                       layer=LATENT_LAYER, batch_size=1024):
    """Classify a grid of latent points on the plane through a base image and two perturbations.

    The church-window construction of Ciprijanovic et al. 2022 (section 4.4, figure 8, after
    Warde-Farley & Goodfellow 2016): the base image's latent embedding `z0` is the origin; the
    horizontal axis is the unit latent direction `e1` towards the first perturbed image (e.g.
    its one-pixel adversarial image), the vertical axis the unit direction `e2` towards the
    second (e.g. its noisier Y1 twin), made orthogonal to `e1` (Gram-Schmidt). The grid points
    `z0 + s (a e1 + b e2)` with `a, b` in [-1, 1] are classified by the model's head (the
    layers after the latent layer, same weights), where `s = margin x` the larger of the two
    latent distances, so both perturbed images lie inside the window.

    Args:
        model: a functional classifier with a latent layer (or a `DomainAdaptationModel`).
        base: the base image `(height, width, bands)` (a leading batch axis of 1 is allowed;
            a dict of inputs for a multi-input model).
        horizontal: the first perturbed image (the horizontal axis).
        vertical: the second perturbed image (the vertical axis).
        resolution: grid points per axis (>= 2).
        margin: window half-width in units of the larger latent distance (> 1 keeps both
            images inside).
        layer: name of the latent layer.
        batch_size: latent points per head call.

    Returns:
        A dict: `coordinates` (`(resolution,)` values in [-1, 1], for both axes), `classes`
        (`(resolution, resolution)` int, row = vertical index, column = horizontal index),
        `probabilities` (`(resolution, resolution, classes)`), `points` (`{"base",
        "horizontal", "vertical"}` -> `(a, b)` coordinates of the three images), `scale` (`s`)
        and `predictions` (the head's class for the three images).

    Example:

    >>> import numpy as np
    >>> from astrokeras.models import convnet
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(size=(3, 16, 16, 3)).astype("float32")
    >>> grid = church_window_grid(convnet((16, 16, 3)), x[0], x[1], x[2], resolution=5)
    >>> grid["classes"].shape, grid["points"]["base"]
    ((5, 5), (0.0, 0.0))
    """
    resolution = check_positive_int("resolution", resolution, minimum=2)
    if not isinstance(margin, (int, float, np.floating)) or not np.isfinite(margin) \
            or margin <= 0:
        raise InvalidArgumentError("`margin` must be a positive number.", margin, "> 0")
    encoder, head = split_at_latent(unwrap_classifier(model), layer)
    batch = _stack(encoder, {"base": base, "horizontal": horizontal, "vertical": vertical})
    z = np.asarray(encoder.predict(batch, verbose=0), np.float64).reshape(3, -1)
    d1, d2 = z[1] - z[0], z[2] - z[0]
    n1, n2 = np.linalg.norm(d1), np.linalg.norm(d2)
    if n1 == 0:
        raise InvalidArgumentError("`horizontal` has the same latent embedding as `base`: "
                                   "there is no direction to plot.", 0.0,
                                   "an image whose embedding differs from the base's")
    e1 = d1 / n1
    along = float(d2 @ e1)
    across = d2 - along * e1
    n_across = np.linalg.norm(across)
    if n_across <= 1e-9 * max(n2, 1e-30):
        raise InvalidArgumentError("`vertical` lies on the latent line through `base` and "
                                   "`horizontal`: the two directions do not span a plane.",
                                   float(n_across), "a second, independent direction")
    e2 = across / n_across
    scale = float(margin * max(n1, n2))
    coordinates = np.linspace(-1.0, 1.0, int(resolution))
    a, b = np.meshgrid(coordinates, coordinates)  # rows: vertical b, columns: horizontal a
    points = z[0] + scale * (a.reshape(-1, 1) * e1 + b.reshape(-1, 1) * e2)
    latent_shape = tuple(int(d) for d in head.input.shape[1:])
    output = head.predict(points.reshape(-1, *latent_shape).astype(np.float32),
                          batch_size=batch_size, verbose=0)
    output = np.asarray(output, np.float64).reshape(resolution, resolution, -1)
    own = np.asarray(head.predict(z.reshape(3, *latent_shape).astype(np.float32), verbose=0))
    own_classes = np.argmax(own.reshape(3, -1), axis=-1)
    return {
        "coordinates": coordinates,
        "classes": np.argmax(output, axis=-1),
        "probabilities": output,
        "points": {"base": (0.0, 0.0), "horizontal": (n1 / scale, 0.0),
                   "vertical": (along / scale, n_across / scale)},
        "scale": scale,
        "predictions": {"base": int(own_classes[0]), "horizontal": int(own_classes[1]),
                        "vertical": int(own_classes[2])},
    }


def plot_church_window(model, base, horizontal, vertical, class_names=None,
                       labels=("one-pixel", "Y1"), resolution=51, margin=1.5,
                       layer=LATENT_LAYER, title=None, path=None):
    """Church-window plot: the classes the model's head gives to a plane of its latent space.

    The figure of Ciprijanovic et al. 2022 (figure 8): the base image's embedding at the
    origin, the horizontal axis towards the first perturbed image (one-pixel), the vertical
    towards the second (Y1 noise); each grid point coloured by the class the head assigns it;
    the three images marked. A robust model keeps a wide region of the base image's class
    around the origin. See `church_window_grid` for the construction.

    Args:
        model: a functional classifier with a latent layer (or a `DomainAdaptationModel`).
        base: the base image (no batch axis, or a batch of one).
        horizontal: the first perturbed image (horizontal axis).
        vertical: the second perturbed image (vertical axis).
        class_names: names of the classes for the legend.
        labels: names of the two perturbations `(horizontal, vertical)`.
        resolution: grid points per axis.
        margin: window half-width in units of the larger latent distance.
        layer: name of the latent layer.
        title: the figure title.
        path: optional PNG file to write (atomically).

    Returns:
        The matplotlib `Figure`.

    Example:

    >>> import numpy as np
    >>> from astrokeras.models import convnet
    >>> x = np.random.default_rng(0).uniform(size=(3, 16, 16, 3)).astype("float32")
    >>> figure = plot_church_window(convnet((16, 16, 3)), x[0], x[1], x[2], resolution=5)
    >>> figure.axes[0].get_xlabel()
    'latent direction to one-pixel'
    """
    grid = church_window_grid(model, base, horizontal, vertical, resolution, margin, layer)
    num_classes = grid["probabilities"].shape[-1]
    class_names = _figure.names(class_names, num_classes)
    figure, ax = _figure.new_figure((7.5, 5.0))
    colours = [_figure.class_colour(k) for k in range(num_classes)]
    ax.imshow(grid["classes"], origin="lower", extent=(-1, 1, -1, 1), aspect="equal",
              cmap=ListedColormap(colours), vmin=-0.5, vmax=num_classes - 0.5,
              interpolation="nearest")
    markers = (("base", "o", "base image"), ("horizontal", "*", labels[0]),
               ("vertical", "^", labels[1]))
    handles = []
    for key, marker, text in markers:
        a, b = grid["points"][key]
        ax.plot([a], [b], marker=marker, color="black", markersize=13, markeredgecolor="white",
                linestyle="none")
        handles.append(Line2D([], [], marker=marker, color="black", linestyle="none",
                              markersize=10,
                              label=f"{text} ({class_names[grid['predictions'][key]]})"))
    present = sorted(set(np.unique(grid["classes"]).tolist()))
    handles += [Patch(color=colours[k], label=class_names[k]) for k in present]
    ax.axhline(0, color="white", linewidth=0.5)
    ax.axvline(0, color="white", linewidth=0.5)
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_xlabel(f"latent direction to {labels[0]}")
    ax.set_ylabel(f"latent direction to {labels[1]} (orthogonalised)")
    figure.legend(handles=handles, loc="outside right upper", fontsize=8)
    ax.set_title(title or f"Church window (scale {grid['scale']:.3g})")
    _figure.save(figure, path)
    return figure


def _stack(encoder, images):
    """A batch of the three images, each given without batch axis or with a batch of one."""
    ranks = {t.name: len(t.shape) for t in encoder.inputs}

    def one(name, x, rank):
        array = np.asarray(x, np.float32)
        if array.ndim == rank - 1:
            array = array[None]
        if array.ndim != rank or array.shape[0] != 1:
            raise InvalidArgumentError(f"`{name}` must be one input.", f"shape {array.shape}",
                                       f"a single input of rank {rank - 1} (or a batch of 1)")
        if not np.all(np.isfinite(array)):
            raise InvalidArgumentError(f"`{name}` holds NaN or infinite values.",
                                       f"shape {array.shape}", "finite values")
        return array

    if not any(isinstance(x, dict) for x in images.values()):
        rank = next(iter(ranks.values()))
        return np.concatenate([one(name, x, rank) for name, x in images.items()])
    if not all(isinstance(x, dict) for x in images.values()):
        raise InvalidArgumentError("Give all three images as dicts of inputs, or none.",
                                   {k: type(v).__name__ for k, v in images.items()},
                                   "three dicts keyed by input name")
    batch = {}
    for key, rank in ranks.items():
        for name, x in images.items():
            if key not in x:
                raise InvalidArgumentError(f"`{name}` lacks the model input {key!r}.",
                                           sorted(x), sorted(ranks))
        batch[key] = np.concatenate([one(f"{name}[{key!r}]", x[key], rank)
                                     for name, x in images.items()])
    return batch
