"""Photometric-redshift point estimates and the survey photo-z statistics."""

import numpy as np
from scipy import stats

from astrokeras.errors import InvalidArgumentError, check_positive_int
from astrokeras.evaluation import _checks

#: |dz| above which a galaxy is a catastrophic outlier (Pasquet et al. 2019; Campagne 2021).
OUTLIER_THRESHOLD = 0.05
#: sigma_MAD = 1.4826 x the median absolute deviation (a Gaussian's sigma).
MAD_TO_SIGMA = 1.4826


def redshift_bin_centres(num_bins=180, z_min=0.0, z_max=0.4):
    """Centres of `num_bins` equal redshift bins over `[z_min, z_max)`.

    Args:
        num_bins: number of bins of the network output (180 in Pasquet et al. 2019).
        z_min: lower edge of the first bin.
        z_max: upper edge of the last bin.

    Returns:
        A float64 array `(num_bins,)`.

    Example:

    >>> redshift_bin_centres(4, 0.0, 0.4).round(2).tolist()
    [0.05, 0.15, 0.25, 0.35]
    """
    num_bins = check_positive_int("num_bins", num_bins)
    if not (np.isfinite(z_min) and np.isfinite(z_max)) or z_max <= z_min:
        raise InvalidArgumentError("`z_max` must be greater than `z_min`.", (z_min, z_max),
                                   "finite z_min < z_max")
    edges = np.linspace(z_min, z_max, num_bins + 1)
    return 0.5 * (edges[:-1] + edges[1:])


def photoz_point_estimates(probabilities, z_min=0.0, z_max=0.4):
    """z_phot from the binned redshift PDF: the probability-weighted mean and the mode.

    The photo-z networks of Pasquet et al. 2019 and Campagne 2021 output a softmax over
    `num_bins` redshift bins; the point estimate is the expectation of the bin centres under
    that PDF (`z_mean`), and, alternatively, the centre of the most probable bin (`z_mode`).

    Args:
        probabilities: `(n, num_bins)` bin probabilities, rows summing to 1.
        z_min: lower edge of the first bin.
        z_max: upper edge of the last bin (0.4 for the SDSS network).

    Returns:
        A dict with float64 arrays `mean` and `mode`, both `(n,)`.

    Example:

    >>> p = [[0.5, 0.5, 0.0, 0.0], [0.0, 0.1, 0.9, 0.0]]
    >>> z = photoz_point_estimates(p, 0.0, 0.4)
    >>> z["mean"].round(3).tolist(), z["mode"].round(3).tolist()
    ([0.1, 0.24], [0.05, 0.25])
    """
    probabilities = _checks.probabilities("probabilities", probabilities)
    centres = redshift_bin_centres(probabilities.shape[1], z_min, z_max)
    return {"mean": probabilities @ centres, "mode": centres[np.argmax(probabilities, axis=1)]}


def photoz_metrics(z_phot, z_spec, outlier_threshold=OUTLIER_THRESHOLD):
    """Bias, sigma_MAD and outlier fraction of photometric against spectroscopic redshifts.

    The statistics of Pasquet et al. 2019 used by Campagne 2021 (Tables 1-3): the normalised
    residual `dz = (z_phot - z_spec) / (1 + z_spec)`, the bias `mean(dz)`, the scatter
    `sigma_MAD = 1.4826 median|dz - median(dz)|` (scipy's median absolute deviation) and the
    fraction `eta` of catastrophic outliers with `|dz| > outlier_threshold`.

    Args:
        z_phot: photometric redshifts `(n,)`.
        z_spec: spectroscopic redshifts `(n,)`, each > -1.
        outlier_threshold: the |dz| above which a galaxy is an outlier (0.05).

    Returns:
        A dict: `n`, `bias`, `sigma_mad`, `eta`, `outlier_threshold`.

    Example:

    >>> m = photoz_metrics([0.1, 0.2, 0.5], [0.1, 0.2, 0.2])
    >>> round(m["bias"], 4), m["sigma_mad"], round(m["eta"], 4)
    (0.0833, 0.0, 0.3333)
    """
    z_phot = _checks.float_array("z_phot", z_phot, ndim=1)
    z_spec = _checks.float_array("z_spec", z_spec, ndim=1)
    if z_phot.shape != z_spec.shape:
        raise InvalidArgumentError("`z_phot` and `z_spec` must have the same length.",
                                   (len(z_phot), len(z_spec)), "equal lengths")
    if np.any(z_spec <= -1):
        raise InvalidArgumentError("`z_spec` must be greater than -1.", float(z_spec.min()),
                                   "z_spec > -1")
    if not np.isfinite(outlier_threshold) or outlier_threshold <= 0:
        raise InvalidArgumentError("`outlier_threshold` must be positive.", outlier_threshold,
                                   "> 0")
    dz = photoz_residuals(z_phot, z_spec)
    return {
        "n": int(dz.size),
        "bias": float(np.mean(dz)),
        "sigma_mad": float(stats.median_abs_deviation(dz, scale=1.0 / MAD_TO_SIGMA)),
        "eta": float(np.mean(np.abs(dz) > outlier_threshold)),
        "outlier_threshold": float(outlier_threshold),
    }


def photoz_residuals(z_phot, z_spec):
    """The normalised residuals `dz = (z_phot - z_spec) / (1 + z_spec)`.

    Args:
        z_phot: photometric redshifts.
        z_spec: spectroscopic redshifts.

    Returns:
        A float64 array of `dz`.

    Example:

    >>> photoz_residuals([0.3], [0.2]).round(4).tolist()
    [0.0833]
    """
    z_phot = np.asarray(z_phot, np.float64)
    z_spec = np.asarray(z_spec, np.float64)
    return (z_phot - z_spec) / (1.0 + z_spec)


def evaluate_photoz(model, x, z_spec, z_min=0.0, z_max=0.4, batch_size=64,
                    outlier_threshold=OUTLIER_THRESHOLD):
    """Photo-z point estimates of a binned-PDF network and their statistics against z_spec.

    Runs the network (e.g. `inception_photoz`, inputs `{"image", "ebv"}`), takes the mean and
    the mode of each output PDF (`photoz_point_estimates`) and computes bias, sigma_MAD and
    outlier fraction for both (`photoz_metrics`), as in Campagne 2021, Tables 1-3.

    Args:
        model: a Keras photo-z network whose output is a softmax over redshift bins.
        x: its inputs (an image array or a dict such as `{"image": ..., "ebv": ...}`).
        z_spec: spectroscopic redshifts `(n,)`.
        z_min: lower edge of the first bin.
        z_max: upper edge of the last bin.
        batch_size: galaxies per call.
        outlier_threshold: the |dz| above which a galaxy is an outlier.

    Returns:
        A dict: `z_mean`, `z_mode` (arrays), `metrics` (`{"mean": ..., "mode": ...}`).

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(8, activation="softmax")])
    >>> out = evaluate_photoz(model, np.zeros((3, 4, 4, 1)), [0.1, 0.2, 0.3])
    >>> sorted(out["metrics"]), out["z_mean"].shape
    (['mean', 'mode'], (3,))
    """
    z_spec = _checks.float_array("z_spec", z_spec, ndim=1)
    batch_size = check_positive_int("batch_size", batch_size)
    probabilities = model.predict(x, batch_size=batch_size, verbose=0)
    if len(probabilities) != len(z_spec):
        raise InvalidArgumentError("`x` and `z_spec` must hold the same galaxies.",
                                   (len(probabilities), len(z_spec)), "equal lengths")
    z = photoz_point_estimates(probabilities, z_min, z_max)
    return {"z_mean": z["mean"], "z_mode": z["mode"],
            "metrics": {name: photoz_metrics(z[name], z_spec, outlier_threshold)
                        for name in ("mean", "mode")}}
