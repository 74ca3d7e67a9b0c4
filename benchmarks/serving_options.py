"""ONNX Runtime session options vs Keras `predict` at batch 256, interleaved (exploration).

Which ONNX Runtime settings help astrokeras' exported models on this CPU? For each model this
script exports the ONNX file (`astrokeras.export.to_onnx`, parity checked), opens one session
per variant, checks each against Keras on 8 images, then times one pass of `--batches`
batches of 256 per runtime, round by round (`--rounds`), and prints the per-round throughput
ratio to Keras `predict` and the CPU time per image. Variants:

- default: ONNX Runtime's defaults (ORT_ENABLE_ALL, one intra-op thread per core, spinning);
- EXTENDED: graph optimisation level ORT_ENABLE_EXTENDED (no NCHWc layout transformer);
- denormal0: `session.set_denormal_as_zero`;
- nospin: idle intra-op threads do not spin-wait (`OnnxPredictor`'s default);
- 1thr-nospin: one intra-op thread, no spin-waiting;
- parallel: ORT_PARALLEL execution mode with two inter-op threads.

    python benchmarks/serving_options.py --models convnet,resnet18 --variants default,nospin
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

from astrokeras import models  # noqa: E402
from astrokeras.export import to_onnx  # noqa: E402

BATCH = 256
MODELS = {
    "convnet": lambda: models.convnet((100, 100, 3)),
    "resnet18": lambda: models.resnet18((100, 100, 3)),
    "inception_photoz": lambda: models.inception_photoz((64, 64, 5), num_bins=180),
}
VARIANTS = {
    "default": {},
    "EXTENDED": {"level": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED},
    "denormal0": {"denormal": True},
    "nospin": {"spin": False},
    "1thr-nospin": {"threads": 1, "spin": False},
    "parallel": {"parallel": True},
}


def options(level=ort.GraphOptimizationLevel.ORT_ENABLE_ALL, threads=None, spin=True,
            denormal=False, parallel=False):
    opts = ort.SessionOptions()
    opts.graph_optimization_level = level
    if threads:
        opts.intra_op_num_threads = threads
    if not spin:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if denormal:
        opts.add_session_config_entry("session.set_denormal_as_zero", "1")
    if parallel:
        opts.execution_mode = ort.ExecutionMode.ORT_PARALLEL
        opts.inter_op_num_threads = 2
    return opts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--batches", type=int, default=1, help="batches of 256 per pass")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    folder = tempfile.mkdtemp(prefix="astrokeras-serving-options-")
    print(f"# load average {os.getloadavg()}")
    for name in args.models.split(","):
        model = MODELS[name]()
        path = to_onnx(model, os.path.join(folder, f"{name}.onnx"),
                       outputs=("probabilities",)).path
        rng = np.random.default_rng(0)
        arrays = [rng.uniform(0, 0.1 if t.name == "ebv" else 1.0,
                              (args.batches * BATCH,) + tuple(t.shape[1:])).astype(np.float32)
                  for t in model.inputs]
        names = [t.name for t in model.inputs]
        runners = {"keras": lambda a: model.predict(a if len(a) > 1 else a[0],
                                                    batch_size=BATCH, verbose=0)}
        reference = runners["keras"]([a[:8] for a in arrays])
        for label in args.variants.split(","):
            session = ort.InferenceSession(path, options(**VARIANTS[label]),
                                           providers=["CPUExecutionProvider"])
            got = session.run(["probabilities"], dict(zip(names, [a[:8] for a in arrays])))[0]
            print(f"{name} {label}: max |ORT - Keras| {np.abs(got - reference).max():.1e}")
            runners[label] = (lambda s: lambda a: s.run(["probabilities"],
                                                        dict(zip(names, a)))[0])(session)

        def one_pass(run):
            for b in range(args.batches):
                run([a[b * BATCH:(b + 1) * BATCH] for a in arrays])

        for run in runners.values():
            one_pass(run)  # warm-up
        wall = {k: [] for k in runners}
        cpu = {k: [] for k in runners}
        for _ in range(args.rounds):
            for label, run in runners.items():
                time.sleep(0.2)
                start, start_cpu = time.perf_counter(), time.process_time()
                one_pass(run)
                wall[label].append(time.perf_counter() - start)
                cpu[label].append(time.process_time() - start_cpu)
        images = args.batches * BATCH
        for label in runners:
            ratios = np.array(wall["keras"]) / np.array(wall[label])
            print(f"{name:17s} {label:12s} {images / np.median(wall[label]):8.1f} img/s "
                  f"{1e3 * np.median(cpu[label]) / images:6.2f} CPU ms/img | / Keras per "
                  f"round {' '.join(f'{r:.2f}' for r in ratios)} (median "
                  f"{np.median(ratios):.2f}x)", flush=True)
        keras.backend.clear_session()
    print(f"# load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
