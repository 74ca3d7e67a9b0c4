"""Small simulated datasets shared by the data tests (tiny images, few galaxies)."""

import pytest

from astrokeras.data import MorphologySimulation, write_dataset


@pytest.fixture(scope="session")
def tiny_sim():
    return MorphologySimulation(size=24, class_fractions=(1, 1, 1))


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, tiny_sim):
    """12 galaxies of 24 x 24 pixels in 3 shards of 5, 5 and 2; returns (path, manifest)."""
    path = tmp_path_factory.mktemp("tiny")
    manifest = write_dataset(tiny_sim, 12, path, seed=4, shard_size=5)
    return path, manifest
