"""GalSim galaxy builders for the three morphology classes: spiral, elliptical, merger.

A galaxy is a list of `Component`s, each a unit-flux GalSim profile with its own colour (a
magnitude offset per band), so the bulge of a spiral is redder than its arms in every image.
`render` turns a galaxy into the profile seen through one band, with fluxes in electrons per
second. The builders draw every parameter from a seeded `numpy.random.Generator`; GalSim's own
randomness (the star-forming knots) gets a `galsim.BaseDeviate` seeded from the same generator.

Parameter distributions (angular sizes in arcsec, for galaxies at z = 0.05 as in Ciprijanovic
et al. 2022 where 1" is about 1 kpc; U = uniform, logN(m, s) = log-normal with median m and
log-scatter s):

- Every galaxy: total magnitude in the reference band (r for LSST) ~ U(magnitude_range), by
  default U(19, 22): low-surface-brightness systems whose sky noise at the Y1 depth is a visible
  fraction of the clipped dynamic range, as in the paper's figure 2. Position angle ~ U(0, pi).
  Colour scatter ~ N(0, 0.05) mag per component and band.
- Elliptical: Sersic index n ~ U{3, 3.5, 4, 4.5, 5} (a grid, so GalSim caches the profile
  tables), half-light radius ~ logN(1.6", 0.3) clipped to [0.7", 4"], axis ratio q ~ U(0.5, 1).
  Colour "old" (g - r = 0.75, r - i = 0.40).
- Spiral: exponential disk, half-light radius ~ logN(2.4", 0.3) clipped to [1.2", 5"];
  de Vaucouleurs bulge with radius ~ U(0.15, 0.3) x disk radius; bulge-to-total B/T ~ U(0.05,
  0.4); 2 to 4 logarithmic spiral arms (pitch angle ~ U(12, 30) degrees) carrying ~ U(0.3, 0.5)
  of the disk light as chains of 16 Gaussian clumps each; 15 to 40 star-forming knots (0.08"
  Gaussians placed like the exponential disk, as GalSim's `RandomKnots`) carrying ~ U(0.05,
  0.15); inclination cos(i) ~ U(0.25, 1) (disk, arms and knots share it). Colours: bulge "old", disk
  "disk" (g - r = 0.45, r - i = 0.25), arms and knots "young" (g - r = 0.20, r - i = 0.10).
- Merger: two galaxies (each a spiral or an elliptical with equal probability), flux ratio of the
  secondary ~ U(0.25, 1), projected separation ~ U(2", 5"), both tidally stretched by a shear
  |g| ~ U(0.1, 0.3); one or two tidal tails: curved chains of Gaussian blobs (sigma growing from
  0.3" to 0.8") of length ~ U(4", 8") carrying ~ U(0.08, 0.2) of the light, colour "tidal"
  (g - r = 0.60, r - i = 0.30). The tails and the double nucleus are what the classifier has to
  see; at the Y1 depth the tails sit close to the noise.
"""

import dataclasses
import math

import galsim
import numpy as np

from astrokeras.data.observation import GSPARAMS
from astrokeras.errors import InvalidArgumentError

CLASSES = ("spiral", "elliptical", "merger")

#: Colour of each stellar population: magnitude offset per band relative to the reference band
#: (r for LSST, f814w for the HST-like set). LSST u and z offsets extend the same populations.
COLOURS = {
    "old": {"u": 2.3, "g": 0.75, "r": 0.0, "i": -0.40, "z": -0.65,
            "f606w": 0.7, "f814w": 0.0, "f160w": -1.0},
    "disk": {"u": 1.5, "g": 0.45, "r": 0.0, "i": -0.25, "z": -0.40,
             "f606w": 0.4, "f814w": 0.0, "f160w": -0.6},
    "young": {"u": 0.8, "g": 0.20, "r": 0.0, "i": -0.10, "z": -0.15,
              "f606w": 0.15, "f814w": 0.0, "f160w": -0.2},
    "tidal": {"u": 1.8, "g": 0.60, "r": 0.0, "i": -0.30, "z": -0.50,
              "f606w": 0.5, "f814w": 0.0, "f160w": -0.8},
}

SERSIC_GRID = (3.0, 3.5, 4.0, 4.5, 5.0)


@dataclasses.dataclass
class Component:
    """One stellar population of a galaxy.

    Args:
        profile: unit-flux `galsim.GSObject` or `Clumps` (position and shape included).
        magnitude: magnitude of this component in the reference band.
        colour: band -> magnitude offset relative to the reference band.
    """

    profile: galsim.GSObject
    magnitude: float
    colour: dict


def _colour(rng, population):
    return {band: offset + rng.normal(0.0, 0.05) if offset else 0.0
            for band, offset in COLOURS[population].items()}


def _split(magnitude, fraction):
    """Magnitude of a component carrying `fraction` of a total of `magnitude`."""
    return magnitude - 2.5 * math.log10(fraction)


def _lognormal(rng, median, scatter, low, high):
    return float(np.clip(median * math.exp(rng.normal(0.0, scatter)), low, high))


class Clumps:
    """A unit-flux sum of round Gaussian clumps: spiral arms, star-forming knots, tidal tails.

    GalSim can draw the same thing as a sum of shifted `galsim.Gaussian`s (`to_galsim`), but a
    sum of N Gaussians costs N passes over the k-space grid; its Fourier transform is separable
    in kx and ky, so `kimage` evaluates all clumps at once as one matrix product. Shearing moves
    the clump centres (an inclined disk's arms) and keeps the clumps round.

    Args:
        x, y: clump centres in arcsec.
        sigma: clump Gaussian widths in arcsec.
        weight: relative clump fluxes (normalised to a total of 1).
    """

    def __init__(self, x, y, sigma, weight):
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.sigma = np.broadcast_to(np.asarray(sigma, dtype=float), self.x.shape).copy()
        weight = np.broadcast_to(np.asarray(weight, dtype=float), self.x.shape)
        self.weight = weight / weight.sum()

    def shear(self, *args, **kwargs):
        """Move the clump centres by a `galsim.Shear` (same arguments as `GSObject.shear`)."""
        shear = args[0] if args else galsim.Shear(**kwargs)
        jac = shear.getMatrix()
        x = jac[0, 0] * self.x + jac[0, 1] * self.y
        y = jac[1, 0] * self.x + jac[1, 1] * self.y
        return Clumps(x, y, self.sigma, self.weight)

    def shift(self, dx, dy):
        """Move every clump by (dx, dy) arcsec."""
        return Clumps(self.x + dx, self.y + dy, self.sigma, self.weight)

    def dilate(self, scale):
        """Scale positions and widths by `scale`."""
        return Clumps(self.x * scale, self.y * scale, self.sigma * scale, self.weight)

    def kimage(self, kx, ky):
        """Fourier transform on the grid `kx` (columns) x `ky` (rows), in radians / arcsec."""
        a = np.exp(-0.5 * np.outer(kx**2, self.sigma**2) - 1j * np.outer(kx, self.x))
        b = np.exp(-0.5 * np.outer(ky**2, self.sigma**2) - 1j * np.outer(ky, self.y))
        return (b * self.weight) @ a.T

    def to_galsim(self):
        """The same clumps as a `galsim.Sum` of shifted Gaussians."""
        return galsim.Add([
            galsim.Gaussian(sigma=float(s), flux=float(w), gsparams=GSPARAMS).shift(x, y)
            for x, y, s, w in zip(self.x, self.y, self.sigma, self.weight)
        ], gsparams=GSPARAMS)

    def withFlux(self, flux):  # noqa: N802 - mirrors the GalSim method name
        """The GalSim equivalent with total flux `flux`."""
        return self.to_galsim().withFlux(flux)


def _exponential_points(rng, n, hlr):
    """`n` positions drawn from a face-on exponential disk of half-light radius `hlr`."""
    radius = rng.gamma(2.0, hlr / 1.678, size=n)
    angle = rng.uniform(0.0, 2 * math.pi, size=n)
    return radius * np.cos(angle), radius * np.sin(angle)


def elliptical(rng, magnitude):
    """An elliptical galaxy: one high-index Sersic profile (see the module docstring).

    Args:
        rng: a `numpy.random.Generator`.
        magnitude: total magnitude in the reference band.

    Returns:
        A list of `Component`.
    """
    n = float(rng.choice(SERSIC_GRID))
    hlr = _lognormal(rng, 1.6, 0.3, 0.7, 4.0)
    q = rng.uniform(0.5, 1.0)
    beta = rng.uniform(0.0, math.pi) * galsim.radians
    profile = galsim.Sersic(n=n, half_light_radius=hlr, gsparams=GSPARAMS).shear(q=q, beta=beta)
    return [Component(profile, magnitude, _colour(rng, "old"))]


def spiral(rng, magnitude):
    """A spiral galaxy: bulge + exponential disk + logarithmic arms + star-forming knots.

    Args:
        rng: a `numpy.random.Generator`.
        magnitude: total magnitude in the reference band.

    Returns:
        A list of `Component`.
    """
    disk_hlr = _lognormal(rng, 2.4, 0.3, 1.2, 5.0)
    bulge_hlr = rng.uniform(0.15, 0.3) * disk_hlr
    bulge_fraction = rng.uniform(0.05, 0.4)
    arm_fraction = rng.uniform(0.3, 0.5) * (1 - bulge_fraction)
    knot_fraction = rng.uniform(0.05, 0.15) * (1 - bulge_fraction)
    disk_fraction = 1 - bulge_fraction - arm_fraction - knot_fraction
    n_arms = int(rng.integers(2, 5))
    pitch = math.radians(rng.uniform(12.0, 30.0))
    cos_i = rng.uniform(0.25, 1.0)
    beta = rng.uniform(0.0, math.pi) * galsim.radians
    phase = rng.uniform(0.0, 2 * math.pi)

    # Logarithmic spirals r = r0 exp(theta tan(pitch)) from 0.5 to 2.5 disk radii.
    r0, r1 = 0.5 * disk_hlr, 2.5 * disk_hlr
    theta_max = math.log(r1 / r0) / math.tan(pitch)
    points, sigmas, weights = [], [], []
    for arm in range(n_arms):
        for theta in np.linspace(0.0, theta_max, 16):
            radius = r0 * math.exp(theta * math.tan(pitch))
            angle = theta + phase + 2 * math.pi * arm / n_arms
            points.append((radius * math.cos(angle), radius * math.sin(angle)))
            sigmas.append(0.12 * disk_hlr * (radius / r0) ** 0.3)
            weights.append(math.exp(-radius / disk_hlr) * rng.uniform(0.5, 1.5))
    points = np.asarray(points)
    arms = Clumps(points[:, 0], points[:, 1], sigmas, weights)
    knot_x, knot_y = _exponential_points(rng, int(rng.integers(15, 40)), disk_hlr)
    knots = Clumps(knot_x, knot_y, 0.08, rng.uniform(0.3, 1.0, size=knot_x.size))
    disk = galsim.Exponential(half_light_radius=disk_hlr, gsparams=GSPARAMS)
    incline = dict(q=max(cos_i, 0.2), beta=beta)
    bulge = galsim.DeVaucouleurs(half_light_radius=bulge_hlr, gsparams=GSPARAMS).shear(
        q=max(cos_i, 0.6), beta=beta)
    return [
        Component(bulge, _split(magnitude, bulge_fraction), _colour(rng, "old")),
        Component(disk.shear(**incline), _split(magnitude, disk_fraction), _colour(rng, "disk")),
        Component(arms.shear(**incline), _split(magnitude, arm_fraction), _colour(rng, "young")),
        Component(knots.shear(**incline), _split(magnitude, knot_fraction), _colour(rng, "young")),
    ]


def _tail(rng, start, length, direction, curvature):
    """A curved chain of Gaussian blobs from `start` (arcsec) along `direction` (radians)."""
    steps = np.linspace(0.0, 1.0, 14)
    points, sigmas, weights = [], [], []
    x, y = start
    for t in steps:
        angle = direction + curvature * t
        points.append((x + length * t * math.cos(angle), y + length * t * math.sin(angle)))
        sigmas.append(0.3 + 0.5 * t)
        weights.append((1.2 - 0.6 * t) * rng.uniform(0.6, 1.4))
    points = np.asarray(points)
    return Clumps(points[:, 0], points[:, 1], sigmas, weights)


def merger(rng, magnitude):
    """A merger: two tidally distorted galaxies with one or two tidal tails.

    Args:
        rng: a `numpy.random.Generator`.
        magnitude: total magnitude of the system in the reference band.

    Returns:
        A list of `Component`.
    """
    ratio = rng.uniform(0.25, 1.0)
    tidal_fraction = rng.uniform(0.08, 0.2)
    separation = rng.uniform(2.0, 5.0)
    axis = rng.uniform(0.0, 2 * math.pi)
    body = 1 - tidal_fraction
    m1 = _split(magnitude, body / (1 + ratio))
    m2 = _split(magnitude, body * ratio / (1 + ratio))
    offsets = (
        (-separation * ratio / (1 + ratio), axis),
        (separation / (1 + ratio), axis),
    )
    components = []
    nuclei = []
    for mag, (distance, angle) in zip((m1, m2), offsets):
        builder = spiral if rng.uniform() < 0.5 else elliptical
        dx, dy = distance * math.cos(angle), distance * math.sin(angle)
        nuclei.append((dx, dy))
        g = rng.uniform(0.1, 0.3)
        shear = galsim.Shear(g=g, beta=rng.uniform(0.0, math.pi) * galsim.radians)
        for part in builder(rng, mag):
            part.profile = part.profile.shear(shear).shift(dx, dy)
            components.append(part)
    n_tails = int(rng.integers(1, 3))
    colour = _colour(rng, "tidal")
    for k in range(n_tails):
        start = nuclei[k]
        direction = axis + (math.pi if k == 0 else 0.0) + rng.uniform(-0.6, 0.6)
        curvature = rng.choice([-1.0, 1.0]) * rng.uniform(0.8, 2.0)
        tail = _tail(rng, start, rng.uniform(4.0, 8.0), direction, curvature)
        components.append(Component(tail, _split(magnitude, tidal_fraction / n_tails), colour))
    return components


BUILDERS = {"spiral": spiral, "elliptical": elliptical, "merger": merger}


def build(label, rng, magnitude, size_scale=1.0):
    """Build a galaxy of class `label` ("spiral", "elliptical", "merger" or its index).

    Args:
        label: class name or index into `CLASSES`.
        rng: a `numpy.random.Generator`.
        magnitude: total magnitude in the reference band.
        size_scale: every angular size and separation is multiplied by it (1 for the z = 0.05
            sizes of the module docstring; about 0.2 for z ~ 2 HST-like galaxies).

    Returns:
        A list of `Component`.
    """
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        if not 0 <= label < len(CLASSES):
            raise InvalidArgumentError("`label` index out of range.", label, f"0..{len(CLASSES) - 1}")
        label = CLASSES[label]
    if label not in BUILDERS:
        raise InvalidArgumentError("`label` must be a morphology class.", label, list(CLASSES))
    components = BUILDERS[label](rng, magnitude)
    if size_scale != 1.0:
        for component in components:
            component.profile = component.profile.dilate(size_scale)
    return components


def render(components, band):
    """The galaxy's profile in `band`, with fluxes in electrons per second.

    Args:
        components: a list of `Component` (from `build`).
        band: a `surveys.Band`; each component's magnitude in it is its reference magnitude
            plus its colour offset for `band.name`.

    Returns:
        A `galsim.GSObject`.
    """
    parts = []
    for component in components:
        if band.name not in component.colour:
            raise InvalidArgumentError("No colour for this band.", band.name,
                                       sorted(component.colour))
        magnitude = component.magnitude + component.colour[band.name]
        parts.append(component.profile.withFlux(band.flux_rate(magnitude)))
    return galsim.Add(parts, gsparams=GSPARAMS) if len(parts) > 1 else parts[0]
