"""Time per training step of astrokeras domain adaptation against plain Keras `fit` and adapt.

What it measures: the cost of one training step of `DomainAdaptationModel` with
`MMD` and with `DANN`, each step taking B source and B target images, against

- a plain Keras `fit` of the same classifier on batches of 2B labeled images (the same number
  of images through the network per step; target: astrokeras at most 1.2x its time), and
- the `adapt` package's `DANN` (adapt 0.4.5, `adapt.feature_based.DANN`) on the same encoder
  (input -> "latent"), head ("latent" -> probabilities), a domain classifier of the same size
  and the same images, B source + B target per step (target: astrokeras faster).

All models start from the same architecture (`astrokeras.models.convnet` or `deepmerge`) and
use Adam(1e-3). The methods are run in interleaved rounds in one process: every round fits each
method for one epoch of `--steps` steps, in a rotated order, so a busy neighbour on the
machine slows all of them alike. A callback stamps the end of every batch; a step's time is
the gap between two consecutive batch ends (data, step and callbacks included; the start-up
of `fit` excluded), both in wall-clock time and in CPU time of the whole process (all threads),
which a neighbour on a shared machine disturbs much less. Round 0 is a warm-up (tracing) and
is not counted. The figure per method is the median over all counted steps; the ratios are
medians of the per-round ratios of the per-round medians.

The images are random (timing does not depend on their content): source N(0, 1), target
N(0.2, 1.5), labels uniform over the classes.

Run:

    python benchmarks/training.py --threads 1          # the numbers in benchmarks/RESULTS.md
    python benchmarks/training.py --rounds 1 --steps 6 # a smoke run
"""

import argparse
import os
import platform
import subprocess
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from astrokeras.data import pair_domains  # noqa: E402
from astrokeras.files import write_json_atomic  # noqa: E402
from astrokeras.models import convnet, deepmerge  # noqa: E402
from astrokeras.models.split import LATENT_LAYER  # noqa: E402
from astrokeras.training import DANN, MMD, DomainAdaptationModel  # noqa: E402

ARCHITECTURES = {"convnet": convnet, "deepmerge": deepmerge}


class StepTimer(keras.callbacks.Callback):
    """Records the gaps between consecutive batch ends of one `fit` call.

    Both wall-clock time and the CPU time of the whole process (every thread: TensorFlow's
    kernels and the tf.data pipeline), which a busy neighbour on a shared machine disturbs far
    less than the wall clock.
    """

    def __init__(self):
        super().__init__()
        self.wall = []
        self.cpu = []
        self._last = None

    def on_train_begin(self, logs=None):
        self._last = None

    def on_train_batch_end(self, batch, logs=None):
        now = (time.perf_counter(), time.process_time())
        if self._last is not None:
            self.wall.append(now[0] - self._last[0])
            self.cpu.append(now[1] - self._last[1])
        self._last = now


def make_data(args, num_classes):
    rng = np.random.default_rng(args.seed)
    n = args.steps * args.batch
    shape = (n, args.image, args.image, 3)
    source = rng.normal(0.0, 1.0, shape).astype("float32")
    target = rng.normal(0.2, 1.5, shape).astype("float32")
    labels = rng.integers(0, num_classes, n).astype("int32")
    target_labels = rng.integers(0, num_classes, n).astype("int32")
    return source, labels, target, target_labels


def classifier(args):
    keras.utils.set_random_seed(args.seed)
    return ARCHITECTURES[args.arch](input_shape=(args.image, args.image, 3),
                                    num_classes=args.classes)


def shuffled(tensors, n, seed):
    return tf.data.Dataset.from_tensor_slices(tensors).shuffle(n, seed=seed)


# -- the methods: each returns a function that runs one epoch with the given callbacks --------

def plain_fit(args, data):
    source, labels, target, target_labels = data
    model = classifier(args)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=args.jit)
    images = np.concatenate([source, target])
    all_labels = np.concatenate([labels, target_labels])
    dataset = shuffled((images, all_labels), len(images), args.seed).batch(
        2 * args.batch, drop_remainder=True)
    return lambda callbacks: model.fit(dataset, epochs=1, verbose=0, callbacks=callbacks)


def astrokeras_fit(method_factory):
    def build(args, data):
        source, labels, target, _ = data
        model = DomainAdaptationModel(classifier(args), method_factory(args))
        model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=args.jit)
        n = len(source)
        dataset = pair_domains(
            shuffled((source, labels), n, args.seed).batch(args.batch, drop_remainder=True),
            shuffled(target, n, args.seed + 1).batch(args.batch, drop_remainder=True))
        return lambda callbacks: model.fit(dataset, epochs=1, verbose=0, callbacks=callbacks)
    return build


def adapt_dann(args, data):
    from adapt.feature_based import DANN as AdaptDANN

    source, labels, target, _ = data
    full = classifier(args)
    latent = full.get_layer(LATENT_LAYER).output
    encoder = keras.Model(full.input, latent, name="encoder")
    head_input = keras.Input(latent.shape[1:])
    x = head_input
    after = False
    for layer in full.layers:
        if after:
            x = layer(x)
        after = after or layer.name == LATENT_LAYER
    task = keras.Model(head_input, x, name="task")
    disc_input = keras.Input(latent.shape[1:])
    x = disc_input
    for width in args.dann_hidden:
        x = keras.layers.Dense(width, activation="relu",
                               kernel_initializer=keras.initializers.RandomNormal(stddev=0.01))(x)
        x = keras.layers.Dropout(args.dann_dropout)(x)
    x = keras.layers.Dense(1, activation="sigmoid",
                           kernel_initializer=keras.initializers.RandomNormal(stddev=0.3))(x)
    discriminator = keras.Model(disc_input, x, name="discriminator")
    # adapt takes the compile arguments in the constructor and compiles in its first `fit`.
    model = AdaptDANN(encoder, task, discriminator, lambda_=1.0, random_state=args.seed,
                      verbose=0, copy=False, optimizer=keras.optimizers.Adam(1e-3),
                      loss="categorical_crossentropy", metrics=["accuracy"])
    onehot = np.eye(args.classes, dtype="float32")[labels]
    return lambda callbacks: model.fit(source, onehot, Xt=target, epochs=1,
                                       batch_size=args.batch, verbose=0, callbacks=callbacks)


def dann_method(args):
    return DANN(weight=1.0, hidden=tuple(args.dann_hidden), dropout=args.dann_dropout)


def mmd_method(args):
    return MMD(weight=0.05)


METHODS = {
    "plain fit (2B)": plain_fit,
    "astrokeras no transfer": astrokeras_fit(lambda args: None),
    "astrokeras MMD": astrokeras_fit(mmd_method),
    "astrokeras DANN": astrokeras_fit(dann_method),
    "adapt DANN": adapt_dann,
}


def run(args):
    data = make_data(args, args.classes)
    names = [name for name in METHODS if name in args.methods]
    runners = {name: METHODS[name](args, data) for name in names}
    per_round = {"wall": {name: [] for name in names}, "cpu": {name: [] for name in names}}
    for round_index in range(args.rounds + 1):
        order = names[round_index % len(names):] + names[:round_index % len(names)]
        for name in order:
            timer = StepTimer()
            runners[name]([timer])
            if round_index > 0:  # round 0: warm-up (tracing), not counted
                per_round["wall"][name].append(timer.wall)
                per_round["cpu"][name].append(timer.cpu)
        if round_index > 0:
            print(f"round {round_index} (ms/step wall / cpu): " + ", ".join(
                f"{name} {1e3 * np.median(per_round['wall'][name][-1]):.1f} / "
                f"{1e3 * np.median(per_round['cpu'][name][-1]):.1f}" for name in names),
                flush=True)
    return per_round


def summarise(per_round, reference="plain fit (2B)"):
    """Median ms/step per method, and the medians of the per-round ratios."""
    medians = {name: 1e3 * float(np.median(np.concatenate(gaps)))
               for name, gaps in per_round.items()}
    ratios = {}
    for name, gaps in per_round.items():
        for other in (reference, "adapt DANN"):
            if other in per_round and other != name and not (
                    name == reference and other == "adapt DANN"):
                each = [np.median(a) / np.median(b) for a, b in zip(gaps, per_round[other])]
                ratios[f"{name} / {other}"] = float(np.median(each))
    return medians, ratios


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="convnet")
    parser.add_argument("--image", type=int, default=64, help="image side in pixels")
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32,
                        help="B: source images per step (and target images per step)")
    parser.add_argument("--steps", type=int, default=20, help="steps per epoch (one epoch a round)")
    parser.add_argument("--rounds", type=int, default=5, help="counted rounds after the warm-up")
    parser.add_argument("--dann-hidden", type=int, nargs="+", default=[1024, 1024],
                        help="domain classifier widths (astrokeras DANN default: 1024 1024)")
    parser.add_argument("--dann-dropout", type=float, default=0.5)
    parser.add_argument("--jit", action="store_true",
                        help="compile every Keras model with jit_compile=True (XLA); adapt "
                             "cannot be given it and keeps Keras' default")
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), metavar="METHOD",
                        default=[name for name in METHODS if name != "astrokeras no transfer"],
                        help=f"subset of {list(METHODS)} ('astrokeras no transfer': the "
                             "DomainAdaptationModel train step with method=None, B + B images "
                             "through the network, for profiling)")
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow intra- and inter-op threads (0: TensorFlow's default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    if not args.jit:
        args.jit = "auto"
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=os.path.dirname(os.path.abspath(__file__))).stdout
    print(f"commit {commit.strip()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, TF {tf.__version__}, Keras {keras.__version__}, "
          f"devices {[d.device_type for d in tf.config.list_physical_devices()]}")
    print(f"{args.arch} {args.image}x{args.image}x3, B = {args.batch} source + {args.batch} "
          f"target per step (plain fit: {2 * args.batch}), {args.steps} steps x {args.rounds} "
          f"rounds, DANN hidden {args.dann_hidden}, jit_compile={args.jit}, "
          f"threads {args.threads or 'default'}")
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[:3]
    per_round = run(args)
    with open("/proc/loadavg") as f:
        load_after = f.read().split()[:3]
    wall, wall_ratios = summarise(per_round["wall"])
    cpu, cpu_ratios = summarise(per_round["cpu"])
    print(f"\nload average before {' '.join(load_before)}, after {' '.join(load_after)}")
    print("\n| method | median ms/step, wall | median ms/step, CPU |\n|---|---|---|")
    for name in wall:
        print(f"| {name} | {wall[name]:.1f} | {cpu[name]:.1f} |")
    print("\n| ratio (median of per-round ratios) | wall | CPU |\n|---|---|---|")
    for name in wall_ratios:
        print(f"| {name} | {wall_ratios[name]:.2f} | {cpu_ratios[name]:.2f} |")
    if args.json:
        write_json_atomic(args.json, {"args": vars(args), "wall_ms": wall, "cpu_ms": cpu,
                                      "wall_ratios": wall_ratios, "cpu_ratios": cpu_ratios,
                                      "load_before": load_before, "load_after": load_after,
                                      "gaps_s": per_round}, indent=1)


if __name__ == "__main__":
    main()
