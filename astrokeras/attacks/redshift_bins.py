"""Redshift -> class bin, the labels of the classification photo-z networks."""

import numpy as np

from astrokeras.errors import InvalidArgumentError, check_positive_int


def redshift_bins(z, num_bins=180, z_min=0.0, z_max=0.4):
    """Index of the redshift bin holding each spectroscopic redshift.

    The photo-z networks of Pasquet et al. 2019 (and Campagne 2021) classify redshift into
    `num_bins = 180` equal bins over `0 <= z < 0.4`; the attack loss is the cross-entropy
    between the binned output and the one-hot bin of z_spec. This function gives that bin, to be
    passed as `y` to `fgsm`, `pgd` or `one_pixel`. `z == z_max` falls in the last bin.

    Args:
        z: spectroscopic redshifts, any shape.
        num_bins: number of bins of the network output.
        z_min: lower edge of the first bin.
        z_max: upper edge of the last bin.

    Returns:
        An int64 array of bin indices with the shape of `z`.

    Example:

    >>> redshift_bins([0.0, 0.1, 0.4]).tolist()
    [0, 45, 179]
    """
    num_bins = check_positive_int("num_bins", num_bins)
    if not np.isfinite(z_min) or not np.isfinite(z_max) or z_max <= z_min:
        raise InvalidArgumentError("`z_max` must be greater than `z_min`.", (z_min, z_max),
                                   "finite z_min < z_max")
    z = np.asarray(z, dtype=np.float64)
    if not np.all(np.isfinite(z)):
        raise InvalidArgumentError("`z` holds NaN or infinite values.", f"array of shape {z.shape}",
                                   "finite redshifts")
    if z.size and (z.min() < z_min or z.max() > z_max):
        raise InvalidArgumentError("`z` lies outside the range of the redshift bins.",
                                   (float(z.min()), float(z.max())), f"[{z_min}, {z_max}]")
    index = np.floor((z - z_min) / (z_max - z_min) * num_bins).astype(np.int64)
    return np.clip(index, 0, num_bins - 1)
