"""HST-like DeepMerge domains: merger vs non-merger, PSF only vs PSF + sky noise.

Ciprijanovic et al. 2020 (DeepMerge domain adaptation) train on simulated merger and
non-merger images that are only convolved with the telescope PSF (the source domain) and test
on the same images with observational noise added (the target domain). astrokeras builds the
galaxies with `galaxies` (a non-merger is a spiral or an elliptical with equal probability)
scaled to z ~ 2 angular sizes (x 0.25), draws them through the diffraction-limited HST-like
PSF of three filters (ACS F606W, F814W, WFC3/IR F160W at 0.06"/pixel, see `surveys`), and
gives every galaxy two images:

- "psf": the noiseless PSF-convolved image (electrons per second);
- "noisy": the same image observed for `exposure` seconds with the HST-like sky, Poisson noise
  on source + sky, sky subtracted.

Total F814W magnitudes ~ U(22, 24.5) by default: faint z ~ 2 galaxies whose tidal features
and double nuclei sink into the sky noise of the noisy domain.
"""

import galsim
import numpy as np

from astrokeras.data import galaxies, observation, surveys
from astrokeras.data.morphology import (check_choices, check_fractions, check_range,
                                         check_size, rebase_colours)
from astrokeras.data.rendering import Renderer
from astrokeras.data.simulation import Record, Simulation, galaxy_seed
from astrokeras.errors import InvalidArgumentError

SIZE_SCALE = 0.25
#: Smallest FFT field of the renderer, arcsec (the morphology field scaled to z ~ 2 sizes).
RENDER_FIELD = 32.0 * SIZE_SCALE


class DeepMergeSimulation(Simulation):
    """Merger / non-merger HST-like images in a noiseless ("psf") and a noisy domain.

    Args:
        size: image side in pixels (75 in Ciprijanovic et al. 2020).
        bands: HST-like filters, the image channels.
        class_fractions: relative numbers of non-mergers and mergers.
        magnitude_range: uniform range of the total F814W AB magnitude.
        exposure: seconds of exposure of the noisy domain (sets its sky shot noise).

    Example:

    >>> from astrokeras.data import DeepMergeSimulation, simulate
    >>> data = simulate(DeepMergeSimulation(size=32), n=2, seed=0)
    >>> data["psf"].shape, data["noisy"].shape
    ((2, 32, 32, 3), (2, 32, 32, 3))
    """

    kind = "deepmerge"
    classes = ("non-merger", "merger")
    domains = ("psf", "noisy")

    def __init__(self, size=75, bands=("f606w", "f814w", "f160w"), class_fractions=(1, 1),
                 magnitude_range=(22.0, 24.5), exposure=surveys.HST_EXPOSURE):
        self.size = check_size(size)
        self.bands = check_choices("bands", bands, surveys.HST_BANDS, "HST-like bands")
        self.class_fractions = check_fractions(class_fractions, len(self.classes))
        self.magnitude_range = check_range("magnitude_range", magnitude_range, 10.0, 32.0)
        if isinstance(exposure, bool) or not isinstance(exposure, (int, float)) or \
                not exposure > 0:
            raise InvalidArgumentError("`exposure` must be a positive number of seconds.",
                                       exposure, "> 0")
        self.exposure = float(exposure)
        self.reference_band = "f814w" if "f814w" in self.bands else self.bands[0]

    def get_config(self):
        return {"size": self.size, "bands": list(self.bands),
                "class_fractions": list(self.class_fractions),
                "magnitude_range": list(self.magnitude_range), "exposure": self.exposure}

    def _observers(self):
        cache = self.__dict__.get("_cache_observers")
        if cache is None:
            bands = [surveys.hst_band(b, self.exposure) for b in self.bands]
            cache = self.__dict__["_cache_observers"] = (Renderer(bands, self.size, pad=1.2,
                                                                  field=RENDER_FIELD),
                                                         bands)
        return cache

    def simulate(self, index, seed, label):
        params, noise = galaxy_seed(seed, index).spawn(2)
        rng = np.random.default_rng(params)
        magnitude = rng.uniform(*self.magnitude_range)
        if label == 1:
            kind = "merger"
        else:
            kind = "spiral" if rng.uniform() < 0.5 else "elliptical"
        components = rebase_colours(galaxies.build(kind, rng, magnitude, size_scale=SIZE_SCALE),
                                    self.reference_band, "f814w")
        renderer, bands = self._observers()
        clean = renderer(components)
        noisy = np.empty(clean.shape, np.float32)
        for b, (band, state) in enumerate(zip(bands, noise.generate_state(len(bands)))):
            noisy[:, :, b] = observation.add_noise(clean[:, :, b], band,
                                                   galsim.BaseDeviate(int(state) + 1))
        return Record(int(index), int(label),
                      {"psf": clean.astype(np.float32), "noisy": noisy})
