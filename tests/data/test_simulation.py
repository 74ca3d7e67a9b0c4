import numpy as np
import pytest

from astrokeras.data import MorphologySimulation, simulate
from astrokeras.data.simulation import balanced_counts, galaxy_seed
from astrokeras.errors import InvalidArgumentError


def test_galaxy_seed_is_the_spawned_child():
    child = np.random.SeedSequence(7).spawn(2)[0].spawn(5)[4]
    assert np.array_equal(galaxy_seed(7, 4).generate_state(4), child.generate_state(4))


def test_balanced_counts_sum_and_proportions():
    assert balanced_counts(10, (14312, 8151, 2542)) == [6, 3, 1]
    assert sum(balanced_counts(101, (1, 1, 1))) == 101


def test_same_seed_same_arrays_and_other_seed_differs():
    sim = MorphologySimulation(size=24)
    a = simulate(sim, 3, seed=5)
    b = simulate(sim, 3, seed=5)
    c = simulate(sim, 3, seed=6)
    for key in ("y10", "y1", "label"):
        assert np.array_equal(a[key], b[key])
    assert not np.array_equal(a["y10"], c["y10"])


def test_worker_processes_give_byte_identical_results():
    sim = MorphologySimulation(size=24)
    one = simulate(sim, 4, seed=9, workers=1)
    two = simulate(sim, 4, seed=9, workers=2)
    for key in ("y10", "y1", "label"):
        assert one[key].tobytes() == two[key].tobytes()


def test_galaxy_does_not_depend_on_dataset_size():
    sim = MorphologySimulation(size=24, class_fractions=(1, 0, 0))
    small = simulate(sim, 2, seed=3)
    large = simulate(sim, 3, seed=3)
    assert np.array_equal(small["y10"][1], large["y10"][1])


@pytest.mark.parametrize("kwargs, name", [({"n": 0}, "n"), ({"n": 2, "seed": -1}, "seed"),
                                          ({"n": 2, "workers": -2}, "workers")])
def test_bad_arguments_are_refused_before_work(kwargs, name):
    with pytest.raises(InvalidArgumentError, match=f"`{name}`"):
        simulate(MorphologySimulation(size=24), **kwargs)
