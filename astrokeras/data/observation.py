"""Observing a noiseless galaxy with a survey: PSF, pixelisation, exposure, sky and shot noise.

The PSF is GalSim's Kolmogorov (atmosphere) convolved with an Airy pattern (the optics: the
band's effective wavelength over the mirror diameter, with the central obscuration). The
Kolmogorov width is solved for so that the *total* PSF has the band's FWHM from `surveys`;
a diffraction-limited band (`psf_fwhm == 0`, HST-like) uses the Airy pattern alone.

The noise model follows Ciprijanovic et al. 2022 (section 2): the exposure time is applied
directly, a constant sky at the band's median level is added, Poisson noise is drawn on
source + sky, and the sky is subtracted. Images are returned in flux units (electrons per
second), so an image's noise scales as 1 / sqrt(exposure): the Y1 noise is sqrt(10) times the
Y10 noise.
"""

import functools

import galsim
import numpy as np
from scipy import optimize

from astrokeras.errors import InvalidArgumentError

#: Drawing accuracy: GalSim's defaults made a little looser (folding 1e-2, maxk 3e-3), which
#: keeps flux and PSF widths within 0.1 % and makes the FFTs of 100 x 100 stamps about twice as
#: fast.
GSPARAMS = galsim.GSParams(folding_threshold=1e-2, maxk_threshold=3e-3)


def _airy(band):
    return galsim.Airy(
        lam=band.wavelength,
        diam=band.mirror_diameter,
        obscuration=band.obscuration,
        scale_unit=galsim.arcsec,
        gsparams=GSPARAMS,
    )


def _measured_fwhm(profile, fwhm_guess):
    scale = fwhm_guess / 40.0
    image = profile.drawImage(nx=401, ny=401, scale=scale, method="no_pixel")
    return image.calculateFWHM()


@functools.lru_cache(maxsize=64)
def _kolmogorov_fwhm(total_fwhm, wavelength, diameter, obscuration):
    airy = galsim.Airy(lam=wavelength, diam=diameter, obscuration=obscuration,
                       scale_unit=galsim.arcsec)

    def excess(fwhm):
        psf = galsim.Convolve(galsim.Kolmogorov(fwhm=fwhm), airy)
        return _measured_fwhm(psf, total_fwhm) - total_fwhm

    return optimize.brentq(excess, 0.5 * total_fwhm, total_fwhm, xtol=1e-4)


def make_psf(band):
    """The PSF of `band`: Kolmogorov (atmosphere) x Airy (optics), with the band's total FWHM.

    Args:
        band: a `surveys.Band`.

    Returns:
        A `galsim.GSObject` of unit flux.

    Example:

    >>> from astrokeras.data import surveys
    >>> psf = make_psf(surveys.lsst_band("r"))
    """
    airy = _airy(band)
    if band.psf_fwhm <= 0:
        return airy
    fwhm = _kolmogorov_fwhm(band.psf_fwhm, band.wavelength, band.mirror_diameter, band.obscuration)
    return galsim.Convolve(galsim.Kolmogorov(fwhm=fwhm, gsparams=GSPARAMS), airy, gsparams=GSPARAMS)


def draw(profile, band, size, psf=None):
    """Draw a noiseless profile through `band`'s PSF onto a `size` x `size` stamp.

    Args:
        profile: a `galsim.GSObject` whose flux is in electrons per second.
        band: the `surveys.Band` (pixel scale, PSF).
        size: stamp side in pixels.
        psf: the PSF to use; `make_psf(band)` by default (pass it in to reuse it).

    Returns:
        A float64 numpy array (size, size) in electrons per second per pixel.
    """
    psf = make_psf(band) if psf is None else psf
    image = galsim.ImageD(size, size, scale=band.pixel_scale)
    galsim.Convolve(profile, psf, gsparams=GSPARAMS).drawImage(image=image)
    return image.array


def add_noise(rate, band, rng):
    """Observe a noiseless image for `band.exposure` seconds: sky + Poisson noise, sky subtracted.

    Args:
        rate: noiseless image in electrons per second per pixel (numpy array).
        band: the `surveys.Band` (exposure time and sky level).
        rng: a `galsim.BaseDeviate` (seeded by the caller).

    Returns:
        A float64 numpy array of the same shape, in electrons per second, sky subtracted.
    """
    if band.exposure <= 0:
        raise InvalidArgumentError("`band.exposure` must be positive.", band.exposure, "> 0")
    counts = galsim.ImageD(np.ascontiguousarray(rate, dtype=np.float64) * band.exposure)
    counts.addNoise(galsim.PoissonNoise(rng, sky_level=band.sky_counts))
    return counts.array / band.exposure
