"""One-vs-rest ROC curves of a classifier on several domains."""

import numpy as np
from sklearn import metrics as sk

from astrokeras.errors import InvalidArgumentError
from astrokeras.plots import _figure

_LINESTYLES = ("-", "--", ":", "-.")


def plot_roc(y_true, probabilities, class_names=None, title=None, path=None):
    """ROC curves, one per class (one-vs-rest) and domain, with their AUC in the legend.

    Ciprijanovic et al. 2022 and 2020 show how a classifier trained on one domain loses
    discriminating power on the other (Y10 vs Y1, PSF-only vs noisy): one colour per class,
    one line style per domain. Curves and AUCs are scikit-learn's `roc_curve` and
    `roc_auc_score`; a class absent from a domain's labels has no curve.

    Args:
        y_true: true classes `(n,)` shared by every domain, or `{domain: (n_domain,)}`.
        probabilities: `{domain: (n_domain, classes)}` predicted probabilities (a single
            array is taken as one domain named "data").
        class_names: names of the classes.
        title: the figure title.
        path: optional PNG file to write (atomically).

    Returns:
        The matplotlib `Figure`.

    Example:

    >>> import numpy as np
    >>> p = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9]])
    >>> figure = plot_roc([0, 1, 0, 1], {"y10": p, "y1": p[::-1]})
    >>> len(figure.axes[0].lines)
    5
    """
    if not isinstance(probabilities, dict):
        probabilities = {"data": probabilities}
    if not probabilities or len(probabilities) > len(_LINESTYLES):
        raise InvalidArgumentError("`probabilities` must map 1 to 4 domains to arrays.",
                                   len(probabilities), f"1..{len(_LINESTYLES)} domains")
    arrays = {str(k): _figure.finite(f"probabilities[{k!r}]", v, ndim=2)
              for k, v in probabilities.items()}
    classes = {a.shape[1] for a in arrays.values()}
    if len(classes) != 1:
        raise InvalidArgumentError("The domains' probabilities differ in number of classes.",
                                   sorted(classes), "one number of classes")
    num_classes = classes.pop()
    class_names = _figure.names(class_names, num_classes)
    truths = {}
    for name, array in arrays.items():
        truth = np.asarray(y_true[name] if isinstance(y_true, dict) else y_true)
        if truth.shape != (len(array),):
            raise InvalidArgumentError(f"`y_true` for domain {name!r} must hold one class per "
                                       "row of probabilities.", f"shape {truth.shape}",
                                       f"({len(array)},)")
        truths[name] = truth.astype(np.int64)
    figure, ax = _figure.new_figure((6.0, 5.0))
    ax.plot([0, 1], [0, 1], color="lightgray", linewidth=1)
    for style, (name, array) in zip(_LINESTYLES, arrays.items()):
        for k in range(num_classes):
            positive = truths[name] == k
            if positive.all() or not positive.any():
                continue
            fpr, tpr, _ = sk.roc_curve(positive, array[:, k])
            auc = sk.roc_auc_score(positive, array[:, k])
            ax.plot(fpr, tpr, linestyle=style, color=_figure.class_colour(k),
                    label=f"{name}: {class_names[k]} (AUC {auc:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("False positive rate")
    ax.set_ylabel("True positive rate")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title or "ROC curves (one vs rest)")
    _figure.save(figure, path)
    return figure
