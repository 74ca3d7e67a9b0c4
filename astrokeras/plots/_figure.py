"""Figures without pyplot state, saved atomically (private to astrokeras.plots)."""

import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from astrokeras.errors import InvalidArgumentError
from astrokeras.files import atomic_path

#: Colours of the classes (matplotlib's tab10 cycle).
CLASS_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown",
                 "tab:pink", "tab:gray", "tab:olive", "tab:cyan")


def new_figure(figsize=(6.0, 5.0), projection=None, ncols=1):
    """A `Figure` with an Agg canvas (no pyplot, so nothing leaks between calls) and its axes."""
    figure = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(figure)
    kwargs = {"projection": projection} if projection else {}
    axes = [figure.add_subplot(1, ncols, i + 1, **kwargs) for i in range(ncols)]
    return figure, axes[0] if ncols == 1 else axes


def class_colour(k):
    return CLASS_COLOURS[int(k) % len(CLASS_COLOURS)]


def save(figure, path, dpi=100):
    """Save `figure` as PNG at `path` atomically (see `astrokeras.files`); return the path."""
    if path is None:
        return None
    path = os.fspath(path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=dpi)
    return path


def names(class_names, num_classes):
    """Class names, one per class, defaulting to the class indices."""
    if class_names is None:
        return [str(k) for k in range(num_classes)]
    class_names = [str(c) for c in class_names]
    if len(class_names) < num_classes:
        raise InvalidArgumentError("`class_names` must hold a name for every class.",
                                   class_names, f"at least {num_classes} names")
    return class_names


def finite(name, value, ndim=None):
    """`value` as a finite float64 array (optionally of `ndim` dimensions)."""
    try:
        array = np.asarray(value, np.float64)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`{name}` must be numeric.", type(value).__name__,
                                   "an array of numbers") from None
    if ndim is not None and array.ndim != ndim:
        raise InvalidArgumentError(f"`{name}` must have {ndim} dimension(s).",
                                   f"shape {array.shape}", f"{ndim}-D")
    if array.size == 0:
        raise InvalidArgumentError(f"`{name}` is empty.", f"shape {array.shape}",
                                   "at least one value")
    if not np.all(np.isfinite(array)):
        raise InvalidArgumentError(f"`{name}` holds NaN or infinite values.",
                                   f"shape {array.shape}", "finite values")
    return array
