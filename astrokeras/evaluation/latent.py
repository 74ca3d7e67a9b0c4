"""Latent-space embeddings and distances between base images and their perturbed counterparts."""

import weakref

import numpy as np
from scipy import stats

from astrokeras.errors import InvalidArgumentError, check_positive_int
from astrokeras.evaluation import _checks
from astrokeras.models.split import LATENT_LAYER, split_at_latent, unwrap_classifier

# Encoders built per (model, layer), so repeated calls reuse one compiled predict function.
_ENCODERS = weakref.WeakKeyDictionary()


def latent_embeddings(model, x, layer=LATENT_LAYER, batch_size=64):
    """The output of `model`'s latent layer for every image of `x`.

    Args:
        model: a functional classifier with a layer named `layer` (every astrokeras
            architecture), or a `DomainAdaptationModel` (its `.classifier` is used).
        x: images `(n, height, width, bands)`, or a dict of inputs for a multi-input model.
        layer: name of the latent layer.
        batch_size: images per call.

    Returns:
        A float32 array `(n, latent_dim)`.

    Example:

    >>> import numpy as np
    >>> from astrokeras.models import convnet
    >>> z = latent_embeddings(convnet((16, 16, 3)), np.zeros((2, 16, 16, 3), "float32"))
    >>> z.shape
    (2, 256)
    """
    batch_size = check_positive_int("batch_size", batch_size)
    _check_inputs("x", x)
    encoder = _encoder(unwrap_classifier(model), layer)
    latent = encoder.predict(x, batch_size=batch_size, verbose=0)
    return np.asarray(latent, np.float32).reshape(len(latent), -1)


def latent_distances(model, base, perturbed, layer=LATENT_LAYER, batch_size=64):
    """Euclidean distances in latent space between each base image and its perturbed twin.

    Ciprijanovic et al. 2022 (section 4.3, Table 3) measure robustness by how far a
    perturbation moves an image in the network's latent space: the distance between the
    "latent" embedding of a baseline (Y10) image and that of the same galaxy perturbed (its Y1
    twin with more noise, or its one-pixel or FGSM adversarial image).

    Args:
        model: a functional classifier with a latent layer, or a `DomainAdaptationModel`.
        base: base images `(n, ...)` (or a dict of inputs).
        perturbed: the same galaxies perturbed, in the same order and shape as `base`.
        layer: name of the latent layer.
        batch_size: images per call.

    Returns:
        A float64 array `(n,)` of distances.

    Example:

    >>> import numpy as np
    >>> from astrokeras.models import convnet
    >>> x = np.zeros((3, 16, 16, 3), "float32")
    >>> latent_distances(convnet((16, 16, 3)), x, x).tolist()
    [0.0, 0.0, 0.0]
    """
    n_base = _check_inputs("base", base)
    n_perturbed = _check_inputs("perturbed", perturbed)
    if n_base != n_perturbed:
        raise InvalidArgumentError("`base` and `perturbed` must hold the same galaxies.",
                                   (n_base, n_perturbed), "the same number of images")
    z_base = latent_embeddings(model, base, layer, batch_size).astype(np.float64)
    z_perturbed = latent_embeddings(model, perturbed, layer, batch_size).astype(np.float64)
    return np.linalg.norm(z_perturbed - z_base, axis=1)


def distance_statistics(distances):
    """Median, mean, standard deviation and standard error of the mean of latent distances.

    The numbers Ciprijanovic et al. 2022 report per model and perturbation (Table 3). The
    standard error is scipy's `sem` (sample standard deviation over sqrt(n)).

    Args:
        distances: a 1-D array of distances (may be empty: every statistic is then `None`).

    Returns:
        A dict: `n`, `median`, `mean`, `std`, `sem`.

    Example:

    >>> distance_statistics([1.0, 2.0, 3.0, 6.0])
    {'n': 4, 'median': 2.5, 'mean': 3.0, 'std': 2.160246899469287, 'sem': 1.0801234497346435}
    """
    distances = np.asarray(distances, np.float64)
    if distances.ndim != 1:
        raise InvalidArgumentError("`distances` must be 1-D.", _checks.describe(distances),
                                   "a 1-D array")
    if distances.size == 0:
        return {"n": 0, "median": None, "mean": None, "std": None, "sem": None}
    distances = _checks.float_array("distances", distances, ndim=1)
    several = distances.size > 1
    return {
        "n": int(distances.size),
        "median": float(np.median(distances)),
        "mean": float(np.mean(distances)),
        "std": float(np.std(distances, ddof=1)) if several else None,
        "sem": float(stats.sem(distances)) if several else None,
    }


def _check_inputs(name, x):
    """Number of samples of an image array or dict of arrays; finite values only."""
    arrays = x.values() if isinstance(x, dict) else [x]
    lengths = set()
    for array in arrays:
        try:
            array = np.asarray(array, dtype=np.float32)
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"`{name}` must be numeric.", type(array).__name__,
                                       "a float array (or a dict of them)") from None
        if array.ndim < 2 or len(array) == 0:
            raise InvalidArgumentError(f"`{name}` must be a non-empty batch of inputs.",
                                       _checks.describe(array), "(n, ...) with n >= 1")
        if not np.all(np.isfinite(array)):
            raise InvalidArgumentError(f"`{name}` holds NaN or infinite values.",
                                       _checks.describe(array), "finite values")
        lengths.add(len(array))
    if len(lengths) != 1:
        raise InvalidArgumentError(f"The inputs of `{name}` differ in length.", sorted(lengths),
                                   "one length")
    return lengths.pop()


def _encoder(model, layer):
    per_model = _ENCODERS.setdefault(model, {})
    if layer not in per_model:
        per_model[layer] = split_at_latent(model, layer)[0]
    return per_model[layer]
