import numpy as np
import pytest

from astrokeras.errors import DataError, InvalidArgumentError
from astrokeras.evaluation import load_paired


def test_npz_domains_come_in_file_order_with_their_labels(tmp_path):
    rng = np.random.default_rng(0)
    y10, y1 = rng.normal(size=(5, 4, 4, 3)), rng.normal(size=(5, 4, 4, 3))
    np.savez(tmp_path / "p.npz", y10=y10, y1=y1, y=[2, 1, 0, 1, 2], ebv=np.zeros(5))
    data = load_paired(tmp_path / "p.npz", domains=["y1", "y10"], max_images=4)
    assert list(data["images"]) == ["y1", "y10"]
    np.testing.assert_allclose(data["images"]["y10"], y10[:4].astype(np.float32))
    assert data["images"]["y1"].dtype == np.float32
    assert data["labels"].tolist() == [2, 1, 0, 1]


def test_dataset_directory_pairs_galaxies_across_domains(tmp_path):
    from astrokeras.data import MorphologySimulation, load, write_dataset

    write_dataset(MorphologySimulation(size=16), 6, tmp_path / "d", seed=2)
    data = load_paired(tmp_path / "d", split="all")
    assert list(data["images"]) == ["y10", "y1"]
    assert data["class_names"] == list(MorphologySimulation.classes)
    x, y = next(iter(load(tmp_path / "d", "y1", split="all", batch_size=6, shuffle=False,
                          augment_images=False)))
    np.testing.assert_array_equal(data["images"]["y1"], x.numpy())
    np.testing.assert_array_equal(data["labels"], y.numpy())
    assert not np.array_equal(data["images"]["y10"], data["images"]["y1"])  # noise differs


def test_bad_sources_are_refused(tmp_path):
    np.savez(tmp_path / "nolabels.npz", y10=np.zeros((2, 4, 4, 1)))
    with pytest.raises(DataError, match="no array of classes"):
        load_paired(tmp_path / "nolabels.npz")
    np.savez(tmp_path / "p.npz", y10=np.zeros((2, 4, 4, 1)), label=[0, 1])
    with pytest.raises(InvalidArgumentError, match="y1"):
        load_paired(tmp_path / "p.npz", domains=["y10", "y1"])
    with pytest.raises(InvalidArgumentError, match="max_images"):
        load_paired(tmp_path / "p.npz", max_images=0)
    with pytest.raises(FileNotFoundError):
        load_paired(tmp_path / "absent.npz")


def test_photoz_dataset_directory_carries_redshift_and_ebv(tmp_path):
    from astrokeras.data import PhotoZSimulation, load, write_dataset

    write_dataset(PhotoZSimulation(size=16, z_range=(0.0, 0.5), num_bins=10), 8,
                  tmp_path / "pz", seed=1)
    data = load_paired(tmp_path / "pz", split="all", max_images=7)
    assert list(data["images"]) == ["y10"] and data["images"]["y10"].shape == (7, 16, 16, 5)
    assert sorted(data["values"]) == ["ebv", "redshift", "template"]
    assert data["manifest"]["simulation"]["z_range"] == [0.0, 0.5]
    inputs, bins = next(iter(load(tmp_path / "pz", split="all", batch_size=7, shuffle=False,
                                  augment_images=False)))
    np.testing.assert_array_equal(data["images"]["y10"], inputs["image"].numpy())
    np.testing.assert_array_equal(data["values"]["ebv"], inputs["ebv"].numpy()[:, 0])
    # z_spec is the galaxy's own: the label (its bin of 10 over [0, 0.5)) follows from it.
    z = data["values"]["redshift"]
    assert np.all((z > 0) & (z < 0.5)) and len(np.unique(z)) == 7
    np.testing.assert_array_equal(np.floor(z / 0.05).astype(int), bins.numpy())
    np.testing.assert_array_equal(data["labels"], bins.numpy())
