import extinction
import numpy as np
import pytest

from astrokeras.data import PhotoZSimulation, load, photoz, simulate, write_dataset
from astrokeras.errors import InvalidArgumentError


@pytest.fixture(scope="module")
def nearby():
    sim = PhotoZSimulation(size=48, z_range=(0.05, 0.25), num_bins=20,
                           absolute_magnitude_range=(-22.5, -21.5))
    return sim, simulate(sim, 6, seed=3)


def test_image_colours_are_the_template_colours(nearby):
    sim, data = nearby
    for k in range(6):
        template = photoz.TEMPLATES[int(data["template"][k])]
        mags = photoz.magnitudes(template, float(data["redshift"][k]), -21.0,
                                 float(data["ebv"][k]))
        flux = data["y10"][k].sum(axis=(0, 1))
        measured = -2.5 * np.log10(flux[1:4] / flux[2])  # g, r, i relative to r
        band = [__import__("astrokeras.data.surveys", fromlist=["x"]).lsst_band(b)
                for b in ("g", "r", "i")]
        zeropoint_shift = np.array([b.zeropoint for b in band]) - band[1].zeropoint
        expected = mags[1:4] - mags[2] - zeropoint_shift
        np.testing.assert_allclose(measured, expected, atol=0.05)


def test_colours_redden_with_redshift_as_the_4000_angstrom_break_moves():
    g_r = [np.subtract(*photoz.magnitudes("E", z, -21.0, 0.0, ("g", "r")))
           for z in (0.05, 0.2, 0.35)]
    assert g_r[0] < g_r[1] < g_r[2]
    r_i = [np.subtract(*photoz.magnitudes("E", z, -21.0, 0.0, ("r", "i")))
           for z in (0.3, 0.5, 0.7)]
    assert r_i[0] < r_i[1] < r_i[2]
    # Bluer templates are bluer at the same redshift.
    colours = [np.subtract(*photoz.magnitudes(t, 0.3, -21.0, 0.0, ("g", "r")))
               for t in photoz.TEMPLATES]
    assert colours == sorted(colours, reverse=True)


def test_fainter_and_smaller_at_higher_redshift():
    near = photoz.magnitudes("Sbc", 0.1, -21.0, 0.0, ("r",))[0]
    far = photoz.magnitudes("Sbc", 0.8, -21.0, 0.0, ("r",))[0]
    assert far > near + 4
    assert photoz.size_scale(0.8) < 0.5 * photoz.size_scale(0.1)


def test_ebv_reddens_by_the_ccm89_coefficients():
    clean = photoz.magnitudes("Scd", 0.4, -21.0, 0.0)
    dusty = photoz.magnitudes("Scd", 0.4, -21.0, 0.1)
    coefficients = np.array([photoz.extinction_coefficient(b) for b in photoz.PHOTOZ_BANDS])
    np.testing.assert_allclose(dusty - clean, 0.1 * coefficients, rtol=1e-9)
    # Each coefficient is CCM89 (R_V = 3.1) near the band's effective wavelength.
    for band, coefficient in zip(photoz.PHOTOZ_BANDS, coefficients):
        wave, throughput = photoz._bandpass(band)
        effective = np.trapezoid(wave * throughput, wave) / np.trapezoid(throughput, wave)
        direct = extinction.ccm89(np.array([effective * 10.0]), 3.1, 3.1)[0]
        assert coefficient == pytest.approx(direct, rel=0.06)
    # E(B-V) makes g - r redder by R_g - R_r.
    assert (dusty[1] - dusty[2]) - (clean[1] - clean[2]) == pytest.approx(
        0.1 * (coefficients[1] - coefficients[2]))


def test_labels_are_redshift_bins(nearby):
    sim, data = nearby
    expected = np.floor((data["redshift"] - 0.05) / 0.2 * 20).astype(int)
    np.testing.assert_array_equal(data["label"], expected)
    assert PhotoZSimulation().redshift_bin(0.999) == 179


def test_shards_give_image_and_ebv_inputs(tmp_path):
    manifest = write_dataset(PhotoZSimulation(size=16), 3, tmp_path, seed=0)
    assert manifest["value_names"] == ["redshift", "ebv", "template"]
    inputs, labels = next(iter(load(tmp_path, split="all", batch_size=3)))
    assert inputs["image"].shape == (3, 16, 16, 5) and inputs["ebv"].shape == (3, 1)
    assert labels.dtype.name == "int64"


@pytest.mark.parametrize("kwargs, name", [({"depth": "y3"}, "depth"),
                                          ({"z_range": (1.0, 0.5)}, "z_range"),
                                          ({"num_bins": 0}, "num_bins"),
                                          ({"ebv_max": -0.1}, "ebv_max")])
def test_bad_arguments_name_themselves(kwargs, name):
    with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
        PhotoZSimulation(**kwargs)
