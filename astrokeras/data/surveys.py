"""Survey constants: every number the simulators use, in one place, with its source.

LSST numbers come from the `surveycodex` package (LSSTDESC's survey-parameter library), which
takes them from Ivezic et al. 2019 (arXiv:0805.2366 v5, table 2): pixel scale 0.2", mirror
diameter 8.36 m, and per band the zero point (AB magnitude giving 1 e-/s), the median sky
brightness (mag/arcsec^2), the PSF FWHM (arcsec) and the 10-year exposure time (s). For g, r, i
they are 28.29, 28.13, 27.81 mag; 22.26, 21.20, 20.48 mag/arcsec^2; 0.86, 0.81, 0.79"; and
2400, 5520, 5520 s. The 1-year (Y1) depth is one tenth of those exposures, applied directly as in
Ciprijanovic et al. 2022 (section 2, after Sanchez et al. 2021).

surveycodex's `obscuration` is the obscured *area* fraction (0.3926, so that the effective area
is 33.3 m^2); GalSim's `Airy` wants the *linear* obscuration, sqrt(0.3926) = 0.627 (the issue and
the paper quote ~0.64).

The HST-like DeepMerge domains (Ciprijanovic et al. 2020) use ACS/WFC F606W and F814W and WFC3/IR
F160W, drizzled to 0.06"/pixel as in CANDELS (Koekemoer et al. 2011); AB zero points for 1 e-/s
from the STScI ACS and WFC3 zero-point tables (26.49, 25.94, 25.95), a 2.4 m mirror with linear
obscuration 0.33, and a zodiacal sky of 22.9, 22.6, 22.3 mag/arcsec^2 (the WFC3 and ACS
instrument handbooks' "average" sky). Effective wavelengths are GalSim's, computed from the
bandpass files GalSim ships.
"""

import dataclasses
import functools
import math

from astrokeras.errors import InvalidArgumentError

#: Depth name -> fraction of the 10-year exposure (Ciprijanovic et al. 2022: Y1 = Y10 / 10).
LSST_DEPTHS = {"y10": 1.0, "y1": 0.1}

#: LSST band names available from surveycodex.
LSST_BANDS = ("u", "g", "r", "i", "z", "y")

#: GalSim bandpass file for each LSST band (shipped with GalSim in share/bandpasses).
LSST_BANDPASS_FILES = {band: f"LSST_{band}.dat" for band in LSST_BANDS}

#: HST-like survey for DeepMerge: band -> (GalSim bandpass file, zero point mag for 1 e-/s,
#: sky mag/arcsec^2, effective wavelength nm). Sources in the module docstring.
HST_BANDS = {
    "f606w": ("ACS_wfc_F606W.dat", 26.49, 22.9, 595.8),
    "f814w": ("ACS_wfc_F814W.dat", 25.94, 22.6, 808.7),
    "f160w": ("WFC3_ir_F160W.dat", 25.95, 22.3, 1539.1),
}
HST_PIXEL_SCALE = 0.06  # arcsec / pixel, CANDELS drizzled mosaics
HST_MIRROR_DIAMETER = 2.4  # m
HST_OBSCURATION = 0.33  # linear
HST_EXPOSURE = 2000.0  # s, a CANDELS-wide-like depth per band


@dataclasses.dataclass(frozen=True)
class Band:
    """One filter of one survey at one depth: everything needed to observe a galaxy.

    Args:
        survey: survey name ("LSST" or "HST").
        name: band name ("g", "r", "f814w", ...).
        pixel_scale: arcsec per pixel.
        zeropoint: AB magnitude that gives 1 electron per second.
        sky_brightness: median sky surface brightness, mag/arcsec^2.
        psf_fwhm: full width at half maximum of the total PSF, arcsec (0 for a
            diffraction-limited telescope: the PSF is then the Airy pattern only).
        exposure: exposure time in seconds at this depth.
        wavelength: effective wavelength in nm (sets the Airy pattern's size).
        mirror_diameter: m.
        obscuration: linear central obscuration of the pupil.
    """

    survey: str
    name: str
    pixel_scale: float
    zeropoint: float
    sky_brightness: float
    psf_fwhm: float
    exposure: float
    wavelength: float
    mirror_diameter: float
    obscuration: float

    def flux_rate(self, magnitude):
        """Electrons per second from a source of AB magnitude `magnitude`: 10^(-0.4 (m - ZP))."""
        return 10.0 ** (-0.4 * (magnitude - self.zeropoint))

    @property
    def sky_rate(self):
        """Sky electrons per second per pixel."""
        return self.flux_rate(self.sky_brightness) * self.pixel_scale**2

    @property
    def sky_counts(self):
        """Sky electrons per pixel collected over the exposure."""
        return self.sky_rate * self.exposure


@functools.lru_cache(maxsize=None)
def _lsst_survey():
    import surveycodex

    return surveycodex.get_survey("LSST")


def lsst_band(name, depth="y10"):
    """The LSST `Band` for filter `name` observed at `depth` ("y10" or "y1").

    Numbers from surveycodex (Ivezic et al. 2019); Y1 uses a tenth of the 10-year exposure.

    Args:
        name: one of "u", "g", "r", "i", "z", "y".
        depth: "y10" (full 10-year exposure) or "y1" (one tenth of it).

    Returns:
        A frozen `Band`.

    Example:

    >>> lsst_band("r", "y1").exposure
    552.0
    """
    if name not in LSST_BANDS:
        raise InvalidArgumentError("`band` must be an LSST band name.", name, list(LSST_BANDS))
    if depth not in LSST_DEPTHS:
        raise InvalidArgumentError("`depth` must be an LSST depth.", depth, list(LSST_DEPTHS))
    survey = _lsst_survey()
    band = survey.get_filter(name)
    return Band(
        survey="LSST",
        name=name,
        pixel_scale=float(survey.pixel_scale.to_value("arcsec")),
        zeropoint=float(band.zeropoint.value),
        sky_brightness=float(band.sky_brightness.value),
        psf_fwhm=float(band.psf_fwhm.to_value("arcsec")),
        exposure=float(band.full_exposure_time.to_value("s")) * LSST_DEPTHS[depth],
        wavelength=float(band.effective_wavelength.to_value("nm")),
        mirror_diameter=float(survey.mirror_diameter.to_value("m")),
        obscuration=math.sqrt(float(survey.obscuration.value)),
    )


def hst_band(name, exposure=HST_EXPOSURE):
    """The HST-like `Band` used for the DeepMerge domains (Ciprijanovic et al. 2020).

    Args:
        name: one of "f606w", "f814w", "f160w".
        exposure: exposure time in seconds (sets the sky shot noise of the noisy domain).

    Returns:
        A frozen `Band` with `psf_fwhm=0` (diffraction-limited Airy PSF).
    """
    if name not in HST_BANDS:
        raise InvalidArgumentError("`band` must be an HST-like band name.", name, list(HST_BANDS))
    if not exposure > 0:
        raise InvalidArgumentError("`exposure` must be positive (seconds).", exposure, "> 0")
    _, zeropoint, sky, wavelength = HST_BANDS[name]
    return Band(
        survey="HST",
        name=name,
        pixel_scale=HST_PIXEL_SCALE,
        zeropoint=zeropoint,
        sky_brightness=sky,
        psf_fwhm=0.0,
        exposure=float(exposure),
        wavelength=wavelength,
        mirror_diameter=HST_MIRROR_DIAMETER,
        obscuration=HST_OBSCURATION,
    )
