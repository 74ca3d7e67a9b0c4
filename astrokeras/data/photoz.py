"""Photometric-redshift cutouts: u, g, r, i, z LSST images with z_spec and Milky-Way E(B-V).

After Pasquet et al. 2019 and Campagne 2021 (64 x 64 cutouts, five bands, the network's second
input is E(B-V)). Colours follow physics:

- each galaxy has one of GalSim's Coleman, Wu & Weedman (1980) SED templates (E, Sbc, Scd, Im,
  the `CWW_*_ext.sed` files GalSim ships), redshifted and integrated through GalSim's LSST
  bandpass files. The AB magnitude in band b of a galaxy of rest-frame r absolute magnitude M at
  redshift z is

      m_b = M + DM(z) - 2.5 log10(1 + z) + A_b(z) - A_r(0) + R_b E(B-V)

  with A_b(z) = -2.5 log10(int L_nu(lambda / (1 + z)) T_b dlambda/lambda / int T_b
  dlambda/lambda) (photon-counting AB), DM the Planck 2018 distance modulus (astropy). The
  integrals are computed once per template on a redshift grid (`REDSHIFT_GRID`, step 0.005)
  and interpolated, instead of drawing chromatic profiles per object;
- Milky-Way extinction: CCM89 (Cardelli, Clayton & Mathis 1989) with R_V = 3.1 from the
  `extinction` package, integrated over each bandpass for a flat-f_nu source, gives the band
  coefficients R_b = A_b / E(B-V) (`extinction_coefficients()`): u 4.81, g 3.64, r 2.70,
  i 2.06, z 1.59, close to Schlegel et al. 1998's SDSS values (5.16, 3.79, 2.75, 2.09, 1.48);
- sizes shrink with redshift as the angular-diameter distance grows (the z = 0.05 sizes of
  `galaxies` times D_A(0.05) / D_A(z), at most 1.5), and magnitudes fade with DM(z).

Distributions: z ~ U(max(z_min, 0.01), z_max); template E, Sbc, Scd, Im with probabilities
0.25, 0.30, 0.30, 0.15 (E gets an elliptical profile, the others spirals); M_r ~ U(-22.5, -19);
E(B-V) ~ U(0, 0.1). The label is the redshift bin: `num_bins` equal bins over [z_min, z_max)
(180 over [0, 1) by default, as Campagne 2021).
"""

import functools
import math

import galsim
import numpy as np

from astrokeras.data import galaxies, observation, surveys
from astrokeras.data.morphology import check_range, check_size
from astrokeras.data.rendering import Renderer
from astrokeras.data.simulation import Record, Simulation, galaxy_seed
from astrokeras.errors import InvalidArgumentError, check_positive_int

TEMPLATES = ("E", "Sbc", "Scd", "Im")
TEMPLATE_PROBABILITIES = (0.25, 0.30, 0.30, 0.15)
PHOTOZ_BANDS = ("u", "g", "r", "i", "z")
R_V = 3.1
REDSHIFT_GRID = np.arange(0.0, 3.0 + 1e-9, 0.005)


@functools.lru_cache(maxsize=None)
def _bandpass(name):
    bandpass = galsim.Bandpass(surveys.LSST_BANDPASS_FILES[name], "nm")
    wave = np.asarray(bandpass.wave_list, float)
    return wave, np.asarray(bandpass(wave), float)


@functools.lru_cache(maxsize=None)
def _template(name):
    sed = galsim.SED(f"CWW_{name}_ext.sed", wave_type="A", flux_type="flambda")
    wave = np.asarray(sed.wave_list, float)
    # GalSim evaluates photons / nm / cm^2 / s, proportional to f_lambda * lambda; f_nu is
    # proportional to f_lambda * lambda^2.
    return wave, np.asarray(sed(wave), float) * wave


def _band_magnitude(template, band, z):
    """A_b(z): un-normalised AB magnitude of the redshifted template in `band`."""
    sed_wave, f_nu = _template(template)
    wave, throughput = _bandpass(band)
    fine = np.linspace(wave[0], wave[-1], 800)
    t = np.interp(fine, wave, throughput)
    rest = np.interp(fine / (1 + z), sed_wave, f_nu, left=0.0, right=0.0)
    signal = np.trapezoid(rest * t / fine, fine)
    norm = np.trapezoid(t / fine, fine)
    return -2.5 * math.log10(max(signal / norm, 1e-300))


@functools.lru_cache(maxsize=None)
def magnitude_table(template, bands=PHOTOZ_BANDS):
    """A_b(z) - A_r(0) of `template` on `REDSHIFT_GRID`: array (len(grid), len(bands)).

    The colour and k-correction table of one template, computed once per process.
    """
    if template not in TEMPLATES:
        raise InvalidArgumentError("`template` must be a CWW template name.", template,
                                   list(TEMPLATES))
    reference = _band_magnitude(template, "r", 0.0)
    return np.array([[_band_magnitude(template, b, z) - reference for b in bands]
                     for z in REDSHIFT_GRID])


@functools.lru_cache(maxsize=None)
def extinction_coefficient(band, r_v=R_V):
    """R_b = A_b / E(B-V) of LSST `band` for CCM89 with `r_v`, flat-f_nu source.

    Args:
        band: an LSST band name.
        r_v: total-to-selective extinction ratio (3.1).

    Returns:
        The coefficient (float).

    Example:

    >>> round(extinction_coefficient("g"), 2) > round(extinction_coefficient("r"), 2)
    True
    """
    import extinction

    wave, throughput = _bandpass(band)
    fine = np.linspace(wave[0], wave[-1], 800)
    t = np.interp(fine, wave, throughput)
    a_lambda = extinction.ccm89(fine * 10.0, r_v * 1.0, r_v)  # A_V = R_V x E(B-V) = R_V
    weights = t / fine
    transmitted = np.trapezoid(weights * 10 ** (-0.4 * a_lambda), fine) / np.trapezoid(weights,
                                                                                       fine)
    return float(-2.5 * math.log10(transmitted))


def extinction_coefficients(bands=PHOTOZ_BANDS):
    """Dict band -> R_b (CCM89, R_V = 3.1) for `bands`."""
    return {b: extinction_coefficient(b) for b in bands}


def magnitudes(template, z, absolute_magnitude, ebv, bands=PHOTOZ_BANDS):
    """AB magnitudes of a galaxy in `bands` (see the module docstring's formula).

    Args:
        template: CWW template name ("E", "Sbc", "Scd", "Im").
        z: redshift (0 < z <= 3).
        absolute_magnitude: rest-frame r-band absolute magnitude M_r.
        ebv: Milky-Way E(B-V) in magnitudes.
        bands: LSST band names.

    Returns:
        A numpy array of magnitudes, one per band.

    Example:

    >>> m = magnitudes("E", 0.3, -21.0, 0.0, ("g", "r"))
    >>> bool(1.0 < m[0] - m[1] < 2.5)   # an elliptical at z = 0.3 is red
    True
    """
    from astropy.cosmology import Planck18

    if not 0 < z <= REDSHIFT_GRID[-1]:
        raise InvalidArgumentError("`z` is out of range.", z, f"0 < z <= {REDSHIFT_GRID[-1]}")
    if not ebv >= 0:
        raise InvalidArgumentError("`ebv` must be non-negative.", ebv, ">= 0")
    table = magnitude_table(template, tuple(bands))
    kcorr = np.array([np.interp(z, REDSHIFT_GRID, table[:, k]) for k in range(len(bands))])
    reddening = np.array([extinction_coefficient(b) for b in bands]) * ebv
    distance = float(Planck18.distmod(z).value)
    return absolute_magnitude + distance - 2.5 * math.log10(1 + z) + kcorr + reddening


@functools.lru_cache(maxsize=None)
def _size_scale_table():
    from astropy.cosmology import Planck18

    grid = np.linspace(0.005, 3.0, 600)
    da = Planck18.angular_diameter_distance(grid).value
    da_ref = Planck18.angular_diameter_distance(0.05).value
    return grid, np.minimum(da_ref / da, 1.5)


def size_scale(z):
    """Angular size factor D_A(0.05) / D_A(z), at most 1.5 (Planck 2018 cosmology)."""
    grid, scale = _size_scale_table()
    return float(np.interp(z, grid, scale))


class PhotoZSimulation(Simulation):
    """Five-band LSST cutouts labelled with a redshift bin, with z_spec and E(B-V) values.

    Args:
        size: cutout side in pixels (64 in Pasquet et al. 2019).
        depth: LSST depth of the images ("y10" or "y1"); also the domain name.
        z_range: (z_min, z_max) of the redshift bins and of the redshift distribution.
        num_bins: number of equal redshift bins (the label).
        ebv_max: E(B-V) ~ U(0, ebv_max).
        absolute_magnitude_range: M_r ~ U(range).

    Example:

    >>> from astrokeras.data import PhotoZSimulation, simulate
    >>> data = simulate(PhotoZSimulation(size=32), n=2, seed=0)
    >>> data["y10"].shape, sorted(k for k in data if k not in ("y10",))
    ((2, 32, 32, 5), ['ebv', 'galaxy_id', 'label', 'redshift', 'template'])
    """

    kind = "photoz"
    bands = PHOTOZ_BANDS
    value_names = ("redshift", "ebv", "template")
    # About 10x the sky noise of the clipped range (6e-5 to 4e-4 per band at Y10), so the
    # galaxy lies in the arcsinh's logarithmic part and colours are differences. The
    # morphology stretch (0.85) left the Inception network at sigma_MAD 0.078 on 2,000
    # galaxies, this one at 0.030 +- 0.004 (2 seeds; benchmarks/RESULTS.md, Reproduction,
    # experiment 3).
    softening = 0.001

    def __init__(self, size=64, depth="y10", z_range=(0.0, 1.0), num_bins=180, ebv_max=0.1,
                 absolute_magnitude_range=(-22.5, -19.0)):
        self.size = check_size(size)
        if depth not in surveys.LSST_DEPTHS:
            raise InvalidArgumentError("`depth` must be an LSST depth.", depth,
                                       list(surveys.LSST_DEPTHS))
        self.depth = depth
        self.domains = (depth,)
        self.z_range = check_range("z_range", z_range, 0.0, float(REDSHIFT_GRID[-1]))
        self.num_bins = check_positive_int("num_bins", num_bins)
        if isinstance(ebv_max, bool) or not isinstance(ebv_max, (int, float)) or \
                not 0 <= ebv_max <= 1:
            raise InvalidArgumentError("`ebv_max` must be in [0, 1] magnitudes.", ebv_max,
                                       "0..1")
        self.ebv_max = float(ebv_max)
        self.absolute_magnitude_range = check_range("absolute_magnitude_range",
                                                    absolute_magnitude_range, -26.0, -10.0)
        self.classes = ()

    def get_config(self):
        return {"size": self.size, "depth": self.depth, "z_range": list(self.z_range),
                "num_bins": self.num_bins, "ebv_max": self.ebv_max,
                "absolute_magnitude_range": list(self.absolute_magnitude_range)}

    def labels(self, n, seed):
        """Labels are redshift bins, drawn with the galaxy (returned as -1 placeholders)."""
        return np.full(n, -1, np.int64)

    def redshift_bin(self, z):
        """The label of redshift `z`: its bin among `num_bins` equal bins over `z_range`."""
        low, high = self.z_range
        return int(min(self.num_bins - 1, max(0, math.floor((z - low) / (high - low)
                                                              * self.num_bins))))

    def _observers(self):
        cache = self.__dict__.get("_cache_observers")
        if cache is None:
            bands = [surveys.lsst_band(b, self.depth) for b in self.bands]
            cache = self.__dict__["_cache_observers"] = (Renderer(bands, self.size, field=32.0),
                                                         bands)
        return cache

    def simulate(self, index, seed, label):
        params, noise = galaxy_seed(seed, index).spawn(2)
        rng = np.random.default_rng(params)
        z = rng.uniform(max(self.z_range[0], 0.01), self.z_range[1])
        template = TEMPLATES[rng.choice(len(TEMPLATES), p=TEMPLATE_PROBABILITIES)]
        absolute = rng.uniform(*self.absolute_magnitude_range)
        ebv = rng.uniform(0.0, self.ebv_max)
        mags = magnitudes(template, z, absolute, ebv, self.bands)
        shape = "elliptical" if template == "E" else "spiral"
        components = galaxies.build(shape, rng, float(mags[self.bands.index("r")]),
                                    size_scale=size_scale(z))
        colour = {b: float(m - mags[self.bands.index("r")]) for b, m in zip(self.bands, mags)}
        for component in components:
            component.colour = colour  # one SED for the whole galaxy
        renderer, bands = self._observers()
        clean = renderer(components)
        image = np.empty(clean.shape, np.float32)
        for b, (band, state) in enumerate(zip(bands, noise.generate_state(len(bands)))):
            image[:, :, b] = observation.add_noise(clean[:, :, b], band,
                                                   galsim.BaseDeviate(int(state) + 1))
        return Record(int(index), self.redshift_bin(z), {self.depth: image},
                      {"redshift": z, "ebv": ebv, "template": float(TEMPLATES.index(template))})
