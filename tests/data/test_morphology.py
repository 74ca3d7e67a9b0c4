import numpy as np
import pytest

from astrokeras.data import MorphologySimulation, simulate, surveys
from astrokeras.errors import InvalidArgumentError


@pytest.fixture(scope="module")
def balanced():
    sim = MorphologySimulation(size=64, class_fractions=(1, 1, 1), morphometry=True)
    return sim, simulate(sim, 24, seed=1)


def test_shapes_domains_and_labels(balanced):
    sim, data = balanced
    assert data["y10"].shape == data["y1"].shape == (24, 64, 64, 3)
    assert data["y10"].dtype == np.float32
    assert np.bincount(data["label"]).tolist() == [8, 8, 8]


def test_y10_and_y1_show_the_same_galaxy_with_their_own_noise(balanced):
    sim, data = balanced
    for k in range(3):
        clean = sim.noiseless(k, 1, data["label"][k])
        for depth in ("y10", "y1"):
            residual = data[depth][k] - clean
            corner = residual[:12, :12]
            for b, name in enumerate(sim.bands):
                band = surveys.lsst_band(name, depth)
                expected = np.sqrt(band.sky_counts) / band.exposure
                assert corner[..., b].std() == pytest.approx(expected, rel=0.25)
    y10, y1 = data["y10"][:3].mean(axis=-1), data["y1"][:3].mean(axis=-1)
    for a, b in zip(y10, y1):
        assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.5


def test_classes_differ_in_gini_and_m20(balanced):
    sim, data = balanced
    gini = {c: np.median(data["gini"][data["label"] == k]) for k, c in enumerate(sim.classes)}
    m20 = {c: np.median(data["m20"][data["label"] == k]) for k, c in enumerate(sim.classes)}
    assert gini["elliptical"] > gini["spiral"] + 0.02
    assert m20["merger"] > max(m20["spiral"], m20["elliptical"]) + 0.3


def test_default_class_balance_is_the_papers():
    sim = MorphologySimulation()
    labels = sim.labels(25005, seed=0)
    assert np.bincount(labels).tolist() == [14312, 8151, 2542]


def test_config_round_trip():
    sim = MorphologySimulation(size=32, bands=("r",), depths=("y1",), magnitude_range=(18, 20))
    again = MorphologySimulation.from_config(sim.get_config())
    assert again.get_config() == sim.get_config()


@pytest.mark.parametrize("kwargs, name", [
    ({"size": 8}, "size"), ({"size": 32.5}, "size"), ({"bands": ("r", "q")}, "bands"),
    ({"depths": ("y10", "y3")}, "depths"), ({"class_fractions": (1, 1)}, "class_fractions"),
    ({"magnitude_range": (22, 19)}, "magnitude_range"),
])
def test_bad_arguments_name_themselves(kwargs, name):
    with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
        MorphologySimulation(**kwargs)
