"""The simulation framework: seeding, the `Simulation` base class, worker processes, in memory.

A `Simulation` describes one kind of dataset (morphology, DeepMerge, photo-z): its domains
(e.g. "y10" and "y1"), bands, classes and image size, and how to simulate galaxy number `i`.
Every galaxy has its own random streams, derived from the dataset seed alone:

    np.random.SeedSequence(seed).spawn(2)      -> [galaxies, labels]
    galaxies.spawn(n)[i]                       -> galaxy i (parameters and noise)

built directly as `SeedSequence(seed, spawn_key=(0, i))` (identical to the spawned child), so
galaxy `i` is the same whichever shard, worker process or machine simulates it: the same seed
gives byte-identical data whatever the number of workers.

Simulation runs in worker processes (GalSim holds the GIL, so threads would not scale), started
with the "spawn" method so they never inherit TensorFlow's threads.
"""

import abc
import concurrent.futures
import dataclasses
import multiprocessing
import os

import numpy as np

from astrokeras.errors import InvalidArgumentError, check_positive_int


def galaxy_seed(seed, index):
    """The `numpy.random.SeedSequence` of galaxy `index` in a dataset made with `seed`.

    Args:
        seed: the dataset seed (non-negative int).
        index: the galaxy's index in the dataset.

    Returns:
        `SeedSequence(seed, spawn_key=(0, index))`, the same as
        `SeedSequence(seed).spawn(2)[0].spawn(index + 1)[index]`.
    """
    return np.random.SeedSequence(int(seed), spawn_key=(0, int(index)))


def check_seed(seed):
    """Validate a dataset seed: a non-negative integer."""
    return check_positive_int("seed", seed, minimum=0)


def balanced_counts(n, fractions):
    """Split `n` into integer counts proportional to `fractions` (largest remainder).

    Args:
        n: total count.
        fractions: relative weights, one per class.

    Returns:
        A list of ints summing to `n`.
    """
    weights = np.asarray(fractions, dtype=float)
    exact = n * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return [int(c) for c in counts]


@dataclasses.dataclass
class Record:
    """One simulated galaxy.

    Args:
        galaxy_id: its index in the dataset.
        label: class index (or redshift bin for photo-z).
        images: domain name -> float32 array (height, width, bands).
        values: name -> float scalars stored with it (redshift, E(B-V), Gini, M20...).
    """

    galaxy_id: int
    label: int
    images: dict
    values: dict = dataclasses.field(default_factory=dict)


class Simulation(abc.ABC):
    """Base class of a dataset kind. Subclasses set the class attributes and `simulate`.

    Attributes:
        kind: dataset kind name ("morphology", "deepmerge", "photoz").
        domains: tuple of domain names; every galaxy has one image per domain.
        classes: tuple of class names (label i is classes[i]).
        bands: tuple of band names (the image channels, in order).
        size: image side in pixels.
        value_names: names of the float scalars stored with each galaxy.
        softening: the arcsinh softening `c` of the dataset's stretch when `write_dataset`
            is given none (see `astrokeras.data.preprocessing`).
    """

    kind = None
    domains = ()
    classes = ()
    bands = ()
    size = 0
    value_names = ()
    softening = 0.85  # the morphology papers' stretch

    @property
    def image_shape(self):
        """(height, width, bands)."""
        return (self.size, self.size, len(self.bands))

    @abc.abstractmethod
    def get_config(self):
        """Every constructor argument, JSON-serialisable (stored in the manifest)."""

    @classmethod
    def from_config(cls, config):
        """Rebuild from `get_config()`."""
        return cls(**config)

    def labels(self, n, seed):
        """The label of each of the `n` galaxies of a dataset made with `seed`.

        The default draws classes in the proportions of `self.class_fractions`, shuffled with
        the seed's label stream (`SeedSequence(seed, spawn_key=(1,))`).
        """
        counts = balanced_counts(n, self.class_fractions)
        labels = np.repeat(np.arange(len(counts)), counts)
        rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(1,)))
        return rng.permutation(labels)

    @abc.abstractmethod
    def simulate(self, index, seed, label):
        """Simulate galaxy `index` of a dataset made with `seed`. Returns a `Record`."""

    def __getstate__(self):
        # Caches (renderers, PSF k-images) are rebuilt in each worker process.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_cache")}


# Worker-process state: the simulation is sent once per process, not once per galaxy.
_WORKER = {}


def _init_worker(simulation, seed):
    _WORKER["simulation"] = simulation
    _WORKER["seed"] = seed


def _work(task):
    index, label = task
    return _WORKER["simulation"].simulate(index, _WORKER["seed"], label)


def check_workers(workers):
    """Validate `workers`: a positive int, or None / 0 for every core."""
    if workers is None or (not isinstance(workers, bool) and workers == 0):
        return os.cpu_count() or 1
    return check_positive_int("workers", workers)


def run(simulation, seed, indices, labels, workers=1):
    """Simulate galaxies `indices` (with `labels`), yielding `Record`s in index order.

    Args:
        simulation: a `Simulation`.
        seed: the dataset seed.
        indices: galaxy indices to simulate.
        labels: their labels (same length).
        workers: number of worker processes (1 runs in this process; None or 0: every core).

    Yields:
        `Record`s, in the order of `indices`.
    """
    workers = check_workers(workers)
    tasks = [(int(i), int(label)) for i, label in zip(indices, labels)]
    if workers == 1 or len(tasks) <= 1:
        # The renderer's small matrix products run 4x faster on one BLAS thread than on
        # several contending ones.
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            for index, label in tasks:
                yield simulation.simulate(index, seed, label)
        return
    context = multiprocessing.get_context("spawn")
    chunk = max(1, min(16, len(tasks) // (4 * workers)))
    # One worker per core: keep each worker's BLAS / OpenMP single-threaded (read by numpy
    # when the spawned process imports it).
    saved = {name: os.environ.get(name) for name in _THREAD_VARIABLES}
    os.environ.update({name: "1" for name in _THREAD_VARIABLES})
    try:
        with concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_init_worker,
            initargs=(simulation, seed),
        ) as pool:
            results = pool.map(_work, tasks, chunksize=chunk)
            _restore(saved)
            yield from results
    finally:
        _restore(saved)


_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _restore(saved):
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def simulate(simulation, n, seed=0, workers=1):
    """Simulate `n` galaxies in memory: for tests, notebooks and quick experiments.

    Args:
        simulation: a `Simulation` (e.g. `MorphologySimulation(size=64)`).
        n: number of galaxies.
        seed: dataset seed; the same seed gives identical arrays (and the same galaxies as a
            sharded dataset written with that seed).
        workers: worker processes (1: in this process; None or 0: every core).

    Returns:
        A dict of numpy arrays: one float32 array (n, height, width, bands) per domain name,
        "label" (n,) int64, "galaxy_id" (n,) int64, and one float32 (n,) array per value name.

    Example:

    >>> from astrokeras.data import MorphologySimulation, simulate
    >>> data = simulate(MorphologySimulation(size=32), n=3, seed=1)
    >>> data["y10"].shape, data["y1"].shape
    ((3, 32, 32, 3), (3, 32, 32, 3))
    """
    n = check_positive_int("n", n)
    seed = check_seed(seed)
    labels = simulation.labels(n, seed)
    out = {domain: np.empty((n, *simulation.image_shape), np.float32)
           for domain in simulation.domains}
    out["label"] = np.empty(n, np.int64)
    out["galaxy_id"] = np.arange(n, dtype=np.int64)
    for name in simulation.value_names:
        out[name] = np.empty(n, np.float32)
    for k, record in enumerate(run(simulation, seed, range(n), labels, workers)):
        for domain in simulation.domains:
            out[domain][k] = record.images[domain]
        out["label"][k] = record.label
        for name in simulation.value_names:
            out[name][k] = record.values[name]
    return out
