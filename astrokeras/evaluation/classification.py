"""Classification metrics of the morphology papers, computed with scikit-learn."""

import numpy as np
from sklearn import metrics as sk

from astrokeras.errors import InvalidArgumentError
from astrokeras.evaluation import _checks


def classification_metrics(y_true, probabilities, class_names=None):
    """Accuracy, weighted precision / recall / F1, Brier score, ROC AUC and confusion matrix.

    The performance measures of Ciprijanovic et al. 2022 (Table 2) and Ciprijanovic et al.
    2020: precision, recall and F1 are averaged over classes weighted by the number of true
    instances of each class (scikit-learn's `average="weighted"`); the Brier score is the
    multi-class one, `mean_i sum_c (p_ic - y_ic)^2` (range [0, 2]); the ROC AUC is one-vs-rest,
    reported per class, as the unweighted (macro) mean and weighted by true instances. Classes
    absent from `y_true` get no AUC (it is undefined) and are left out of the AUC averages.
    Everything is computed by scikit-learn.

    Args:
        y_true: true classes, `(n,)` integers or one-hot rows `(n, classes)`.
        probabilities: predicted class probabilities `(n, classes)` (softmax outputs).
        class_names: optional names of the classes, one per column.

    Returns:
        A dict of plain Python values: `n`, `accuracy`, `precision`, `recall`, `f1`, `brier`,
        `roc_auc` (macro), `roc_auc_weighted`, `per_class` (name -> precision, recall, f1,
        support, roc_auc), `confusion_matrix` (rows true, columns predicted) and
        `class_names`.

    Example:

    >>> import numpy as np
    >>> p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    >>> m = classification_metrics([0, 1, 1, 1], p)
    >>> m["accuracy"], m["confusion_matrix"]
    (0.75, [[1, 0], [1, 2]])
    """
    probabilities = _checks.probabilities("probabilities", probabilities)
    n, num_classes = probabilities.shape
    y_true = _checks.class_labels("y_true", y_true, n, num_classes)
    class_names = _names(class_names, num_classes)
    labels = np.arange(num_classes)
    predicted = np.argmax(probabilities, axis=1)

    precision, recall, f1, _ = sk.precision_recall_fscore_support(
        y_true, predicted, labels=labels, average="weighted", zero_division=0)
    per_precision, per_recall, per_f1, support = sk.precision_recall_fscore_support(
        y_true, predicted, labels=labels, average=None, zero_division=0)
    auc = _per_class_auc(y_true, probabilities)
    present = [k for k in labels if auc[k] is not None]
    weights = support[present].astype(np.float64)
    return {
        "n": int(n),
        "accuracy": float(sk.accuracy_score(y_true, predicted)),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "brier": float(sk.brier_score_loss(y_true, probabilities, labels=labels,
                                           scale_by_half=False)),
        "roc_auc": float(np.mean([auc[k] for k in present])) if present else None,
        "roc_auc_weighted": (float(np.average([auc[k] for k in present], weights=weights))
                             if present else None),
        "per_class": {
            class_names[k]: {"precision": float(per_precision[k]),
                             "recall": float(per_recall[k]), "f1": float(per_f1[k]),
                             "support": int(support[k]), "roc_auc": auc[k]}
            for k in labels
        },
        "confusion_matrix": sk.confusion_matrix(y_true, predicted, labels=labels).tolist(),
        "class_names": class_names,
    }


def _per_class_auc(y_true, probabilities):
    """One-vs-rest ROC AUC of every class, `None` where the class is absent or alone."""
    auc = []
    for k in range(probabilities.shape[1]):
        positive = y_true == k
        if positive.all() or not positive.any():
            auc.append(None)
        else:
            auc.append(float(sk.roc_auc_score(positive, probabilities[:, k])))
    return auc


def _names(class_names, num_classes):
    if class_names is None:
        return [str(k) for k in range(num_classes)]
    names = [str(name) for name in class_names]
    if len(names) != num_classes or len(set(names)) != num_classes:
        raise InvalidArgumentError("`class_names` must hold one distinct name per class.",
                                   list(class_names), f"{num_classes} distinct names")
    return names
