"""Drawing a multi-band galaxy stamp: one k-space image per component, shared by every band.

GalSim's `drawImage` of `Convolve(galaxy, psf)` evaluates the galaxy's Fourier transform on a
grid, multiplies it by the PSF's and the pixel's, and inverse-FFTs. Drawing the same galaxy in
three bands repeats the (dominant) galaxy part three times. `Renderer` does the same
computation with each unit-flux component's k-image computed once (GalSim's `drawKImage`, or
`Clumps.kimage` for the clump sums), then per band a flux-weighted sum times that band's cached
PSF x pixel k-image and one inverse FFT. It agrees with GalSim's `drawImage` to about 1e-4 of the
peak (tested) and is 4 to 8 times faster for three bands.
"""

import math

import galsim
import numpy as np
from scipy import fft as sp_fft

from astrokeras.data.observation import GSPARAMS, make_psf
from astrokeras.errors import InvalidArgumentError


class Renderer:
    """Draws galaxies (lists of `galaxies.Component`) in several bands of one survey.

    The FFT grid is `pad` times the stamp, and at least `field` arcsec (then rounded up to a
    fast FFT size): light further than half the grid from the centre folds back.

    Args:
        bands: sequence of `surveys.Band` sharing one pixel scale.
        size: stamp side in pixels.
        pad: FFT grid side over stamp side (>= 1.2).
        field: smallest FFT grid side in arcsec: light further than `field / 2` from the
            centre folds back, so make it cover the largest galaxies (32" for the z = 0.05
            LSST sizes of `galaxies`).

    Example:

    >>> import numpy as np
    >>> from astrokeras.data import galaxies, surveys
    >>> renderer = Renderer([surveys.lsst_band(b) for b in "gri"], size=64)
    >>> stamp = renderer(galaxies.build("elliptical", np.random.default_rng(0), 20.0))
    >>> stamp.shape
    (64, 64, 3)
    """

    def __init__(self, bands, size, pad=1.6, field=0.0):
        bands = tuple(bands)
        if not bands:
            raise InvalidArgumentError("`bands` must not be empty.", bands, "one or more Band")
        scales = {band.pixel_scale for band in bands}
        if len(scales) != 1:
            raise InvalidArgumentError("All `bands` must share one pixel scale.", sorted(scales))
        if pad < 1.2:
            raise InvalidArgumentError("`pad` must be at least 1.2.", pad, ">= 1.2")
        self.bands = bands
        self.size = int(size)
        self.scale = scales.pop()
        pixel = galsim.Pixel(self.scale, gsparams=GSPARAMS)
        kernels = [galsim.Convolve(make_psf(band), pixel, gsparams=GSPARAMS) for band in bands]
        # A PSF narrower than two pixels (HST) has power beyond the pixel Nyquist frequency:
        # compute on a grid `oversample` times finer and keep every `oversample`-th sample, so the
        # stamp holds exact samples of the pixel-convolved image, aliasing included (as GalSim).
        maxk = max(kernel.maxk for kernel in kernels)
        self.oversample = max(1, int(math.ceil(maxk * self.scale / math.pi - 0.05)))
        fine = self.scale / self.oversample
        side = max(pad * self.size, field / self.scale)
        self.n = sp_fft.next_fast_len(int(math.ceil(side * self.oversample)))
        if self.n % 2:
            self.n += 1
        self.dk = 2 * math.pi / (self.n * fine)
        self.kx = self.ky = (np.arange(self.n) - self.n // 2) * self.dk
        # An even stamp has its centre on a pixel corner (GalSim's convention), an odd one on a
        # pixel centre; the half-pixel shift goes into the kernel.
        offset = 0.5 * self.scale if self.size % 2 == 0 else 0.0
        self.kernels = [
            kernel.shift(offset, offset).drawKImage(nx=self.n, ny=self.n, scale=self.dk).array
            for kernel in kernels
        ]
        half = self.size // 2 - (1 if self.size % 2 == 0 else 0)
        self.start = self.n // 2 - half * self.oversample

    def _kimage(self, profile):
        if hasattr(profile, "kimage"):
            return profile.kimage(self.kx, self.ky)
        return profile.drawKImage(nx=self.n, ny=self.n, scale=self.dk).array

    def __call__(self, components):
        """Noiseless stamp of `components`, shape (size, size, bands), electrons per second."""
        kimages = [self._kimage(component.profile) for component in components]
        stamp = np.empty((self.size, self.size, len(self.bands)), dtype=np.float64)
        for b, (band, kernel) in enumerate(zip(self.bands, self.kernels)):
            total = np.zeros((self.n, self.n), dtype=np.complex128)
            for component, kimage in zip(components, kimages):
                magnitude = component.magnitude + component.colour[band.name]
                total += band.flux_rate(magnitude) * kimage
            real = sp_fft.fftshift(sp_fft.ifft2(sp_fft.ifftshift(total * kernel))).real
            real *= self.oversample**2  # ifft2 normalises per fine pixel
            stop = self.start + self.size * self.oversample
            stamp[:, :, b] = real[self.start:stop:self.oversample, self.start:stop:self.oversample]
        return stamp
