"""Photo-z diagnostic plots: residual histogram and z_phot against z_spec."""

import numpy as np

from astrokeras.errors import InvalidArgumentError
from astrokeras.plots import _figure


def plot_photoz(z_spec, z_phot, outlier_threshold=0.05, bins=40, title=None, path=None):
    """The dz histogram and the z_phot vs z_spec diagram of a photo-z estimator.

    The diagnostics of Pasquet et al. 2019 and Campagne 2021 (Tables 1-3 summarise them): the
    left panel histograms `dz = (z_phot - z_spec) / (1 + z_spec)` with the outlier limits
    `|dz| = outlier_threshold`; the right panel plots z_phot against z_spec with the one-to-one
    line and the outlier envelope `z_phot = z_spec +- outlier_threshold (1 + z_spec)`.
    `z_phot` may hold several estimates (e.g. clean and attacked) to overlay.

    Args:
        z_spec: spectroscopic redshifts `(n,)`.
        z_phot: photometric redshifts `(n,)`, or `{name: (n,)}` to compare estimates.
        outlier_threshold: the |dz| limit of catastrophic outliers.
        bins: number of bins of the dz histogram.
        title: the figure title.
        path: optional PNG file to write (atomically).

    Returns:
        The matplotlib `Figure`.

    Example:

    >>> import numpy as np
    >>> z = np.linspace(0.01, 0.3, 50)
    >>> figure = plot_photoz(z, z + 0.01 * np.sin(40 * z))
    >>> len(figure.axes)
    2
    """
    z_spec = _figure.finite("z_spec", z_spec, ndim=1)
    if np.any(z_spec <= -1):
        raise InvalidArgumentError("`z_spec` must be greater than -1.", float(z_spec.min()),
                                   "z_spec > -1")
    estimates = z_phot if isinstance(z_phot, dict) else {"z_phot": z_phot}
    if not estimates or len(estimates) > 4:
        raise InvalidArgumentError("`z_phot` must be one array or a dict of 1 to 4.",
                                   len(estimates), "1..4 estimates")
    estimates = {str(k): _figure.finite(f"z_phot[{k!r}]", v, ndim=1) for k, v in estimates.items()}
    for name, values in estimates.items():
        if values.shape != z_spec.shape:
            raise InvalidArgumentError(f"`z_phot` {name!r} and `z_spec` differ in length.",
                                       (values.size, z_spec.size), "equal lengths")
    if not np.isfinite(outlier_threshold) or outlier_threshold <= 0:
        raise InvalidArgumentError("`outlier_threshold` must be positive.", outlier_threshold,
                                   "> 0")
    figure, (left, right) = _figure.new_figure((11.0, 4.6), ncols=2)
    residuals = {k: (v - z_spec) / (1.0 + z_spec) for k, v in estimates.items()}
    joined = np.concatenate(list(residuals.values()))
    limit = max(float(np.max(np.abs(joined))), 2 * outlier_threshold)
    edges = np.linspace(-limit, limit, int(bins) + 1)
    colours = ("tab:blue", "tab:red", "tab:green", "tab:purple")
    for colour, (name, dz) in zip(colours, residuals.items()):
        eta = float(np.mean(np.abs(dz) > outlier_threshold))
        left.hist(dz, bins=edges, histtype="step", color=colour, linewidth=1.5,
                  label=f"{name} (bias {np.mean(dz):.4f}, eta {eta:.3f})")
        right.scatter(z_spec, estimates[name], s=6, color=colour, alpha=0.6, label=name)
    for sign in (-1, 1):
        left.axvline(sign * outlier_threshold, color="gray", linestyle="--", linewidth=1)
    left.set_xlabel(r"$\Delta z = (z_{phot} - z_{spec}) / (1 + z_{spec})$")
    left.set_ylabel("galaxies")
    left.legend(fontsize=8)
    low = min(float(z_spec.min()), min(float(v.min()) for v in estimates.values()))
    high = max(float(z_spec.max()), max(float(v.max()) for v in estimates.values()))
    line = np.linspace(low, high, 50)
    right.plot(line, line, color="black", linewidth=1)
    for sign in (-1, 1):
        right.plot(line, line + sign * outlier_threshold * (1 + line), color="gray",
                   linestyle="--", linewidth=1)
    right.set_xlabel(r"$z_{spec}$")
    right.set_ylabel(r"$z_{phot}$")
    right.legend(fontsize=8)
    figure.suptitle(title or "Photometric redshifts")
    _figure.save(figure, path)
    return figure
