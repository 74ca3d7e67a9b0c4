import numpy as np
import pytest

from astrokeras.data import galaxies, observation, surveys
from astrokeras.data.rendering import Renderer
from astrokeras.errors import InvalidArgumentError


@pytest.mark.parametrize("size, survey", [(64, "lsst"), (33, "lsst"), (45, "hst"), (40, "hst")])
def test_renderer_matches_galsim_draw_image(size, survey):
    if survey == "lsst":
        bands = [surveys.lsst_band(b) for b in "gri"]
        scale, field = 1.0, 32.0
    else:
        bands = [surveys.hst_band(b) for b in ("f606w", "f814w", "f160w")]
        scale, field = 0.25, 8.0
    renderer = Renderer(bands, size, field=field)  # the simulations' settings
    rng = np.random.default_rng(5)
    for label in galaxies.CLASSES:
        components = galaxies.build(label, rng, 20.0, size_scale=scale)
        stamp = renderer(components)
        for b, band in enumerate(bands):
            reference = observation.draw(galaxies.render(components, band), band, size)
            assert np.abs(stamp[:, :, b] - reference).max() < 2e-3 * reference.max()


def test_renderer_refuses_mixed_pixel_scales():
    with pytest.raises(InvalidArgumentError, match="pixel scale"):
        Renderer([surveys.lsst_band("r"), surveys.hst_band("f814w")], 32)
