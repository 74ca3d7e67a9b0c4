"""Non-parametric morphology: Gini and M20 (Lotz, Primack & Madau 2004), and the G-M20 diagram.

Both are measured on the pixels of a segmentation map which, as in Lotz et al. 2004 (section
3), holds the pixels brighter than the mean surface brightness at the Petrosian radius (eta =
0.2, circular apertures about the flux-weighted centre). The G-M20 class boundaries are those
of Lotz et al. 2008 (eq. 1-2), used by the morphology papers:

- mergers: G > -0.14 M20 + 0.33
- E/S0/Sa: G <= -0.14 M20 + 0.33 and G > 0.14 M20 + 0.80
- Sb/Sc/Ir: G <= -0.14 M20 + 0.33 and G <= 0.14 M20 + 0.80

The implementation is checked against the `statmorph` package (Rodriguez-Gomez et al. 2019) in
the tests: identical Gini and M20 on the same pixels, and within a few hundredths when each uses
its own segmentation (statmorph smooths the image and uses elliptical Petrosian apertures).
"""

import numpy as np

from astrokeras.errors import InvalidArgumentError

PETROSIAN_ETA = 0.2


def _check_image(image):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or min(image.shape) < 3:
        raise InvalidArgumentError("`image` must be a 2-D array of at least 3 x 3 pixels.",
                                   image.shape, "(height, width)")
    if not np.all(np.isfinite(image)):
        raise InvalidArgumentError("`image` holds NaN or infinite pixels.", "non-finite",
                                   "finite values")
    return image


def _centroid(image, mask):
    y, x = np.indices(image.shape)
    weights = np.where(mask, np.clip(image, 0, None), 0.0)
    total = weights.sum()
    if total <= 0:
        raise InvalidArgumentError("`image` has no positive flux in its segmentation map.",
                                   float(total), "> 0")
    return (weights * x).sum() / total, (weights * y).sum() / total


def petrosian_radius(image, eta=PETROSIAN_ETA):
    """Circular Petrosian radius in pixels: where mu(r) / <mu(<r)> falls to `eta`.

    Args:
        image: 2-D array, background subtracted.
        eta: the Petrosian ratio (0.2 in Lotz et al. 2004).

    Returns:
        The radius in pixels (float).
    """
    image = _check_image(image)
    xc, yc = _centroid(image, np.ones(image.shape, bool))
    y, x = np.indices(image.shape)
    r = np.hypot(x - xc, y - yc)
    radii = np.arange(1.0, 0.5 * min(image.shape), 0.5)
    for radius in radii:
        annulus = (r >= 0.8 * radius) & (r < 1.25 * radius)
        inside = r < radius
        if not annulus.any() or not inside.any():
            continue
        ratio = image[annulus].mean() / max(image[inside].mean(), 1e-300)
        if ratio < eta:
            return float(radius)
    return float(radii[-1])


def segmentation(image, eta=PETROSIAN_ETA):
    """Lotz et al. 2004 segmentation: pixels above the mean surface brightness at r_Petrosian.

    Args:
        image: 2-D array, background subtracted.
        eta: the Petrosian ratio.

    Returns:
        A boolean mask of the image's shape.
    """
    image = _check_image(image)
    radius = petrosian_radius(image, eta)
    xc, yc = _centroid(image, np.ones(image.shape, bool))
    y, x = np.indices(image.shape)
    r = np.hypot(x - xc, y - yc)
    annulus = (r >= 0.8 * radius) & (r < 1.25 * radius)
    level = image[annulus].mean() if annulus.any() else 0.0
    return image >= level


def gini(image, mask=None):
    """The Gini coefficient of the pixel fluxes (Lotz et al. 2004, eq. 6).

    G = sum_i (2 i - n - 1) |X_i| / (|mean X| n (n - 1)), pixels sorted by increasing |X|:
    0 when every pixel holds the same flux, 1 when one pixel holds it all.

    Args:
        image: 2-D array, background subtracted.
        mask: boolean mask of the pixels to use; `segmentation(image)` by default.

    Returns:
        The Gini coefficient (float).

    Example:

    >>> import numpy as np
    >>> round(gini(np.ones((5, 5)), mask=np.ones((5, 5), bool)), 6)
    0.0
    """
    image = _check_image(image)
    mask = segmentation(image) if mask is None else np.asarray(mask, bool)
    values = np.sort(np.abs(image[mask]))
    n = values.size
    if n < 2 or values.mean() == 0:
        raise InvalidArgumentError("Gini needs at least two pixels with flux in the mask.", n,
                                   ">= 2")
    i = np.arange(1, n + 1)
    return float(((2 * i - n - 1) * values).sum() / (values.mean() * n * (n - 1)))


def m20(image, mask=None):
    """M20: the normalised second moment of the brightest 20 % of the light (Lotz et al. 2004).

    M20 = log10(sum_i M_i / M_tot) over the brightest pixels holding 20 % of the flux, with
    M_i = f_i ((x_i - x_c)^2 + (y_i - y_c)^2) about the centre (x_c, y_c) that minimises M_tot
    (the flux-weighted centroid of the mask).

    Args:
        image: 2-D array, background subtracted.
        mask: boolean mask of the pixels to use; `segmentation(image)` by default.

    Returns:
        M20 (float, negative; about -2.5 for concentrated ellipticals, -1 for mergers).
    """
    image = _check_image(image)
    mask = segmentation(image) if mask is None else np.asarray(mask, bool)
    flux = np.where(mask, np.clip(image, 0, None), 0.0)
    xc, yc = _centroid(image, mask)
    y, x = np.indices(image.shape)
    moments = flux * ((x - xc) ** 2 + (y - yc) ** 2)
    total = moments.sum()
    if total <= 0:
        raise InvalidArgumentError("M20 needs flux outside the centre pixel.", float(total), "> 0")
    order = np.argsort(flux, axis=None)[::-1]
    cumulative = np.cumsum(flux.ravel()[order])
    # The brightest pixels holding 20 % of the flux, plus the one that crosses 20 %, and any
    # pixel as bright as that one (a symmetric noiseless galaxy has exact ties), as statmorph.
    count = int(np.searchsorted(cumulative, 0.2 * cumulative[-1], side="right")) + 1
    threshold = flux.ravel()[order[min(count, order.size) - 1]]
    brightest = mask & (flux >= threshold)
    return float(np.log10(max(moments[brightest].sum(), 1e-300) / total))


def gm20_class(g, m):
    """Lotz et al. 2008 G-M20 region: "merger", "E/S0/Sa" or "Sb/Sc/Ir"."""
    if g > -0.14 * m + 0.33:
        return "merger"
    if g > 0.14 * m + 0.80:
        return "E/S0/Sa"
    return "Sb/Sc/Ir"
