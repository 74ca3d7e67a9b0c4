import numpy as np
import pytest

from astrokeras.data import DeepMergeSimulation, load, simulate, surveys, write_dataset
from astrokeras.data import morphometry
from astrokeras.errors import InvalidArgumentError


@pytest.fixture(scope="module")
def data():
    sim = DeepMergeSimulation(size=64)
    return sim, simulate(sim, 12, seed=2)


def test_psf_domain_is_noiseless_and_noisy_domain_adds_sky_noise(data):
    sim, d = data
    for k in range(3):
        clean, noisy = d["psf"][k], d["noisy"][k]
        corner_clean, corner_noise = clean[:8, :8], (noisy - clean)[:8, :8]
        for b, name in enumerate(sim.bands):
            band = surveys.hst_band(name)
            expected = np.sqrt(band.sky_counts) / band.exposure
            # The PSF-only image is smooth: no pixel-to-pixel noise.
            assert np.diff(corner_clean[..., b], axis=0).std() < 0.05 * expected
            assert corner_noise[..., b].std() == pytest.approx(expected, rel=0.35)
        assert np.corrcoef(clean.ravel(), noisy.ravel())[0, 1] > 0.3


def test_mergers_are_less_concentrated_than_non_mergers(data):
    sim, d = data
    m20 = np.array([morphometry.m20(image[..., 1]) for image in d["psf"]])
    assert np.median(m20[d["label"] == 1]) > np.median(m20[d["label"] == 0]) + 0.2


def test_balanced_classes_and_hst_pixel_scale(data):
    sim, d = data
    assert np.bincount(d["label"]).tolist() == [6, 6]
    assert surveys.hst_band("f814w").pixel_scale == pytest.approx(0.06)
    assert d["psf"].shape == (12, 64, 64, 3)


def test_written_and_loaded_as_source_and_target(tmp_path):
    manifest = write_dataset(DeepMergeSimulation(size=24), 4, tmp_path, seed=1)
    assert manifest["domains"] == ["psf", "noisy"]
    assert manifest["counts"]["per_class"] == {"non-merger": 2, "merger": 2}
    images, labels = next(iter(load(tmp_path, "noisy", split="all", batch_size=4)))
    assert images.shape == (4, 24, 24, 3)


@pytest.mark.parametrize("kwargs, name", [({"bands": ("f814w", "r")}, "bands"),
                                          ({"exposure": 0}, "exposure"),
                                          ({"class_fractions": (1,)}, "class_fractions")])
def test_bad_arguments_name_themselves(kwargs, name):
    with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
        DeepMergeSimulation(**kwargs)
