"""The Jensen-Shannon distance between two distributions of values (latent distances)."""

import numpy as np
from scipy.spatial import distance

from astrokeras.errors import InvalidArgumentError, check_positive_int
from astrokeras.evaluation import _checks


def shared_bins(*samples, bins=30, value_range=None):
    """Bin edges shared by several samples: `bins` equal bins over their joint range.

    Args:
        *samples: 1-D arrays of values.
        bins: number of bins, or an increasing array of edges (returned as is).
        value_range: `(low, high)`; by default the minimum and maximum over all samples.

    Returns:
        A float64 array of `bins + 1` edges.

    Example:

    >>> shared_bins([0.0, 1.0], [3.0], bins=3).tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    if np.ndim(bins) == 1:
        edges = _checks.float_array("bins", bins, ndim=1, min_length=2)
        if np.any(np.diff(edges) <= 0):
            raise InvalidArgumentError("`bins` edges must increase.", edges.tolist(),
                                       "strictly increasing edges")
        return edges
    bins = check_positive_int("bins", bins)
    values = [_checks.float_array(f"samples[{i}]", s, ndim=1, min_length=0)
              for i, s in enumerate(samples)]
    joined = np.concatenate(values) if values else np.zeros(0)
    if value_range is None:
        if joined.size == 0:
            raise InvalidArgumentError("Cannot choose bins for empty samples.", 0,
                                       "at least one value, or `value_range`")
        value_range = (float(joined.min()), float(joined.max()))
    low, high = (float(v) for v in value_range)
    if not (np.isfinite(low) and np.isfinite(high)) or high < low:
        raise InvalidArgumentError("`value_range` must be finite with low <= high.",
                                   value_range, "(low, high), low <= high")
    return np.histogram_bin_edges(joined, bins=bins, range=(low, high))


def js_distance(a, b, bins=30, value_range=None):
    """Jensen-Shannon distance between the distributions of two samples, on shared bins.

    Ciprijanovic et al. 2022 (figure 6, Table 3) compare distributions of latent distances, e.g.
    those of a regular and a domain-adapted model, by the Jensen-Shannon distance: both
    samples are histogrammed on the same bins and scipy's `jensenshannon` (the square root of
    the JS divergence) is taken in base 2, so the result lies in [0, 1]: 0 for identical
    histograms, 1 for histograms with no bin in common.

    Args:
        a: first sample, 1-D.
        b: second sample, 1-D.
        bins: number of equal bins over the joint range, or an array of shared edges.
        value_range: `(low, high)` of the bins; the joint minimum and maximum by default.

    Returns:
        A float in [0, 1].

    Example:

    >>> js_distance([0.1, 0.2, 0.3], [0.1, 0.2, 0.3])
    0.0
    >>> js_distance([0.0, 0.1], [5.0, 5.1], bins=10)
    1.0
    """
    a = _checks.float_array("a", a, ndim=1)
    b = _checks.float_array("b", b, ndim=1)
    edges = shared_bins(a, b, bins=bins, value_range=value_range)
    p, _ = np.histogram(a, bins=edges)
    q, _ = np.histogram(b, bins=edges)
    if p.sum() == 0 or q.sum() == 0:
        raise InvalidArgumentError("A sample has no value inside the bins.",
                                   (int(p.sum()), int(q.sum())), "values inside the bin range")
    return float(np.clip(distance.jensenshannon(p, q, base=2), 0.0, 1.0))
