"""LSST-like paired Y10 / Y1 galaxy morphology images (Ciprijanovic et al. 2022, section 2).

Each galaxy (spiral, elliptical or merger, built by `galaxies`) is drawn once, noiseless,
through the LSST PSF of each band, then observed at every depth with its own Poisson noise:
the Y10 and Y1 images of one galaxy are the same galaxy (the paper's triplets need it).
Images are in electrons per second, sky subtracted; `preprocessing` turns them into the paper's
clipped arcsinh [0, 1] images with limits computed over the dataset.
"""

import galsim
import numpy as np

from astrokeras.data import galaxies, morphometry, observation, surveys
from astrokeras.data.rendering import Renderer
from astrokeras.data.simulation import Record, Simulation, galaxy_seed
from astrokeras.errors import InvalidArgumentError, check_positive_int

#: Smallest FFT field of the renderer, arcsec: holds the largest z = 0.05 galaxies and tails.
RENDER_FIELD = 32.0

#: The paper's class counts before augmentation (spiral, elliptical, merger).
PAPER_CLASS_COUNTS = (14312, 8151, 2542)


def check_size(size, minimum=16, maximum=512):
    """Validate an image side in pixels."""
    size = check_positive_int("size", size, minimum=minimum)
    if size > maximum:
        raise InvalidArgumentError("`size` is out of range.", size, f"{minimum}..{maximum}")
    return size


def check_range(name, value, low, high):
    """Validate a (min, max) pair inside [low, high]."""
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`{name}` must be a (min, max) pair.", value,
                                   f"{low} <= min < max <= {high}") from None
    if not low <= a < b <= high:
        raise InvalidArgumentError(f"`{name}` must satisfy min < max inside the range.", value,
                                   f"{low} <= min < max <= {high}")
    return (a, b)


def check_fractions(value, n_classes):
    """Validate class weights: `n_classes` non-negative numbers with a positive sum."""
    try:
        weights = [float(v) for v in value]
    except (TypeError, ValueError):
        raise InvalidArgumentError("`class_fractions` must be a sequence of numbers.", value,
                                   f"{n_classes} non-negative weights") from None
    if len(weights) != n_classes or min(weights) < 0 or sum(weights) <= 0:
        raise InvalidArgumentError("`class_fractions` must hold one non-negative weight per "
                                   "class with a positive sum.", value,
                                   f"{n_classes} non-negative weights")
    return tuple(weights)


def check_choices(name, value, allowed, what):
    """Validate a non-empty sequence of distinct names, each one of `allowed`; returns a tuple.

    Args:
        name: the argument's name (for the error).
        value: the names given.
        allowed: the names accepted.
        what: what they are, for the error ("LSST bands").
    """
    names = tuple(value)
    if not names or any(v not in allowed for v in names) or len(set(names)) != len(names):
        raise InvalidArgumentError(f"`{name}` must be distinct {what}.", names, list(allowed))
    return names


def rebase_colours(components, reference_band, catalogue_band):
    """Gives the components' magnitudes in `reference_band` rather than `catalogue_band`.

    A component's colours are magnitude offsets from `catalogue_band` (r for LSST, F814W for
    HST); when that band is not simulated, the offsets are shifted so that the drawn magnitude
    holds in `reference_band`, a simulated one. Changes the components in place.

    Returns:
        `components`.
    """
    if reference_band != catalogue_band:
        for component in components:
            component.colour = {b: o - component.colour[reference_band]
                                for b, o in component.colour.items()}
    return components


class MorphologySimulation(Simulation):
    """Spiral / elliptical / merger galaxies observed by LSST at the Y10 and Y1 depths.

    The LSST model (surveycodex numbers, Kolmogorov x Airy PSF, exposure applied directly,
    Poisson noise on source + sky, sky subtracted) is described in `surveys` and
    `observation`; the galaxy parameter distributions in `galaxies`.

    Args:
        size: image side in pixels (the paper: 100, i.e. 20" at 0.2"/pixel).
        bands: LSST bands, the image channels (the paper: g, r, i).
        depths: the domains, each "y10" or "y1" (paired: the same galaxies at every depth).
        class_fractions: relative numbers of spirals, ellipticals and mergers (default: the
            paper's 14,312 : 8,151 : 2,542).
        magnitude_range: uniform range of the total r-band (or first band) AB magnitude.
        morphometry: also record the Gini and M20 of each noiseless reference-band image.

    Example:

    >>> from astrokeras.data import MorphologySimulation, simulate
    >>> data = simulate(MorphologySimulation(size=48), n=4, seed=0)
    >>> sorted(data)
    ['galaxy_id', 'label', 'y1', 'y10']
    """

    kind = "morphology"
    classes = galaxies.CLASSES

    def __init__(self, size=100, bands=("g", "r", "i"), depths=("y10", "y1"),
                 class_fractions=PAPER_CLASS_COUNTS, magnitude_range=(19.0, 22.0),
                 morphometry=False):
        self.size = check_size(size)
        self.bands = check_choices("bands", bands, ("u", "g", "r", "i", "z"), "LSST bands")
        self.domains = check_choices("depths", depths, surveys.LSST_DEPTHS, "LSST depths")
        self.class_fractions = check_fractions(class_fractions, len(self.classes))
        self.magnitude_range = check_range("magnitude_range", magnitude_range, 10.0, 30.0)
        self.morphometry = bool(morphometry)
        self.value_names = ("gini", "m20") if self.morphometry else ()
        self.reference_band = "r" if "r" in self.bands else self.bands[0]

    def get_config(self):
        return {
            "size": self.size,
            "bands": list(self.bands),
            "depths": list(self.domains),
            "class_fractions": list(self.class_fractions),
            "magnitude_range": list(self.magnitude_range),
            "morphometry": self.morphometry,
        }

    def _observers(self):
        cache = self.__dict__.get("_cache_observers")
        if cache is None:
            renderer = Renderer([surveys.lsst_band(b, self.domains[0]) for b in self.bands],
                                self.size, field=RENDER_FIELD)
            observed = {d: [surveys.lsst_band(b, d) for b in self.bands] for d in self.domains}
            cache = self.__dict__["_cache_observers"] = (renderer, observed)
        return cache

    def noiseless(self, index, seed, label):
        """The noiseless stamp of galaxy `index` (electrons per second, (size, size, bands))."""
        stamp, _ = self._noiseless(index, seed, label)
        return stamp

    def _noiseless(self, index, seed, label):
        params, noise = galaxy_seed(seed, index).spawn(2)
        rng = np.random.default_rng(params)
        magnitude = rng.uniform(*self.magnitude_range)
        components = rebase_colours(galaxies.build(int(label), rng, magnitude),
                                    self.reference_band, "r")
        renderer, _ = self._observers()
        return renderer(components), noise

    def simulate(self, index, seed, label):
        stamp, noise = self._noiseless(index, seed, label)
        _, observed = self._observers()
        states = noise.generate_state(len(self.domains) * len(self.bands))
        images = {}
        k = 0
        for depth in self.domains:
            image = np.empty(stamp.shape, np.float32)
            for b, band in enumerate(observed[depth]):
                rng = galsim.BaseDeviate(int(states[k]) + 1)
                image[:, :, b] = observation.add_noise(stamp[:, :, b], band, rng)
                k += 1
            images[depth] = image
        values = {}
        if self.morphometry:
            reference = stamp[:, :, self.bands.index(self.reference_band)]
            values = {"gini": morphometry.gini(reference), "m20": morphometry.m20(reference)}
        return Record(int(index), int(label), images, values)
