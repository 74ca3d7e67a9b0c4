"""Benchmark: simulated images per second per core, astrokeras vs plain GalSim drawing.

For each dataset kind, simulates `--n` galaxies in one process (workers=1) after a warm-up (PSF
solving, Sersic and SED tables), and reports, per CPU-second of that process (the machine is
shared, so wall-clock time would measure the neighbours), galaxies/s, images/s (one image = one
galaxy in one domain, all bands) and milliseconds per band of a complete stamp (all domains). For the
morphology set it also draws the same galaxies the straightforward GalSim way (one
`Convolve(galaxy, psf).drawImage` per band, then the same noise) to show what the shared
k-space renderer saves, and times `write_dataset` with `--workers` processes end to end
(TFRecord writing included).

    python benchmarks/simulate.py --n 200 --workers 2

Prints a Markdown table (paste into benchmarks/RESULTS.md with the command and machine).

`--shift-check N` also checks that the Y1 noise hurts (what the domain-adaptation experiments
need): it writes N balanced morphology galaxies, trains a small plain CNN on the Y10 training
split and reports its test accuracy on Y10 and on Y1 (same galaxies, noisier).
"""

import argparse
import os
import platform
import tempfile
import time

import galsim
import numpy as np


def _time(function, repeat):
    """CPU seconds of this process (all its threads): per-core cost on a shared machine."""
    start = time.process_time()
    for i in range(repeat):
        function(i)
    return time.process_time() - start


def bench_kind(simulation, n, seed=0):
    """CPU seconds to simulate n galaxies in this process (one core, after a warm-up)."""
    from astrokeras.data.simulation import run

    labels = simulation.labels(n + 5, seed)
    list(run(simulation, seed, range(n, n + 5), labels[n:], workers=1))  # tables, PSFs
    start = time.process_time()
    for _ in run(simulation, seed, range(n), labels[:n], workers=1):
        pass
    return time.process_time() - start


def bench_plain_galsim(simulation, n, seed=0):
    """The same morphology galaxies drawn with one GalSim drawImage per band."""
    from astrokeras.data import galaxies, observation, surveys
    from astrokeras.data.simulation import galaxy_seed

    bands = {d: [surveys.lsst_band(b, d) for b in simulation.bands] for d in simulation.domains}
    psfs = [observation.make_psf(b) for b in bands[simulation.domains[0]]]
    labels = simulation.labels(n + 1, seed)

    def one(i):
        params, noise = galaxy_seed(seed, i).spawn(2)
        rng = np.random.default_rng(params)
        components = galaxies.build(int(labels[i]), rng, rng.uniform(*simulation.magnitude_range))
        clean = [observation.draw(galaxies.render(components, band), band, simulation.size, psf)
                 for band, psf in zip(bands[simulation.domains[0]], psfs)]
        states = iter(noise.generate_state(len(simulation.domains) * len(clean)))
        for depth in simulation.domains:
            for image, band in zip(clean, bands[depth]):
                observation.add_noise(image, band, galsim.BaseDeviate(int(next(states)) + 1))

    one(n)  # warm-up
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _time(one, n)


def shift_check(n, workers, epochs=12):
    """Train a small CNN on Y10, evaluate on Y10 and Y1 test splits; returns the accuracies."""
    import keras
    from keras import layers

    from astrokeras.data import MorphologySimulation, load, write_dataset

    with tempfile.TemporaryDirectory() as directory:
        write_dataset(MorphologySimulation(class_fractions=(1, 1, 1)), n, directory, seed=7,
                      workers=workers)
        keras.utils.set_random_seed(0)
        model = keras.Sequential([
            keras.Input((100, 100, 3)),
            layers.Conv2D(8, 5, padding="same", activation="relu"), layers.MaxPooling2D(2),
            layers.Conv2D(16, 3, padding="same", activation="relu"), layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(2),
            layers.Flatten(), layers.Dense(64, activation="relu"),
            layers.Dense(3, activation="softmax"),
        ])
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(load(directory, "y10", "train", batch_size=64),
                  validation_data=load(directory, "y10", "validation", batch_size=128),
                  epochs=epochs, verbose=0)
        return {d: model.evaluate(load(directory, d, "test", batch_size=128), verbose=0)[1]
                for d in ("y10", "y1")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="galaxies per measurement")
    parser.add_argument("--workers", type=int, default=2, help="processes for write_dataset")
    parser.add_argument("--kinds", default="morphology,deepmerge,photoz")
    parser.add_argument("--shift-check", type=int, default=0, metavar="N",
                        help="also train a CNN on N Y10 galaxies and test it on Y10 and Y1")
    args = parser.parse_args()

    from astrokeras.data import (DeepMergeSimulation, MorphologySimulation, PhotoZSimulation,
                                 write_dataset)

    kinds = {"morphology": MorphologySimulation(), "deepmerge": DeepMergeSimulation(),
             "photoz": PhotoZSimulation()}
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}, python {platform.python_version()}, "
          f"galsim {galsim.__version__}, n = {args.n}")
    print()
    print("| dataset | image | domains x bands | galaxies/s/core | images/s/core | "
          "ms per band per stamp |")
    print("|---|---|---|---|---|---|")
    for name in args.kinds.split(","):
        sim = kinds[name]
        seconds = bench_kind(sim, args.n)
        per_galaxy = seconds / args.n
        bands = len(sim.bands)
        print(f"| {name} | {sim.size}x{sim.size} | {len(sim.domains)} x {bands} | "
              f"{1 / per_galaxy:.1f} | {len(sim.domains) / per_galaxy:.1f} | "
              f"{1000 * per_galaxy / bands:.2f} |")
        if name == "morphology":
            plain = bench_plain_galsim(sim, args.n) / args.n
            print(f"| morphology, plain GalSim drawImage per band | {sim.size}x{sim.size} | "
                  f"{len(sim.domains)} x {bands} | {1 / plain:.1f} | "
                  f"{len(sim.domains) / plain:.1f} | {1000 * plain / bands:.2f} |")
    if "morphology" in args.kinds:
        with tempfile.TemporaryDirectory() as directory:
            start = time.perf_counter()
            write_dataset(MorphologySimulation(), args.n, directory, seed=1, shard_size=64,
                          workers=args.workers)
            seconds = time.perf_counter() - start
        print()
        print(f"write_dataset(MorphologySimulation(), {args.n}, workers={args.workers}) end to "
              f"end, wall clock (process start-up, TFRecord writing, manifest): {seconds:.1f} s, "
              f"{args.n / seconds:.1f} galaxies/s, {2 * args.n / seconds:.1f} images/s; load "
              f"average afterwards {os.getloadavg()[0]:.1f}")
    if args.shift_check:
        start = time.perf_counter()
        accuracy = shift_check(args.shift_check, args.workers)
        print()
        print(f"Domain shift check ({args.shift_check} balanced galaxies, 70:10:20 split by "
              f"galaxy, small CNN trained 12 epochs on Y10): test accuracy Y10 "
              f"{accuracy['y10']:.3f}, Y1 {accuracy['y1']:.3f} "
              f"({100 * (accuracy['y10'] - accuracy['y1']):.1f} points lower); "
              f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
