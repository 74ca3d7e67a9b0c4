"""Serving benchmark: ONNX Runtime vs Keras `predict` vs the SavedModel, in one run.

For ConvNet, ResNet18 (100x100x3, Ciprijanovic et al. 2022) and the Inception photo-z network
(64x64x5 + E(B-V), 180 bins, Pasquet et al. 2019) this script exports each model with
`astrokeras.export.to_onnx` and `to_saved_model` (parity checked), then measures, in the same
process and on the same inputs:

- throughput at batch 256: images per second over `--batches` batches (and the CPU time per
  image, all threads of the process, which a busy neighbour disturbs less), the median of
  `--rounds` timed passes after one warm-up pass,
  the runtimes interleaved round by round (the machine may be shared);
- latency at batch 1: p50 and p99 over `--calls` single-image calls after warm-up.

Runtimes: Keras `model.predict(x, batch_size=256)` (the call users write), Keras
`model.predict_on_batch` at batch 1, the SavedModel's `serving_default` signature
(`tf.saved_model.load`), and ONNX Runtime (`InferenceSession.run`) with the CPU execution
provider (default threads, and one thread without spin-waiting), plus the CUDA one when the
installed onnxruntime has it, and astrokeras' own `OnnxPredictor.predict` (the session as
`astrokeras.export` configures it, input checks included: what `astrokeras predict` runs).
Weights are random: the cost of inference does not depend on their values. Thread pools are the libraries' defaults
(one thread per core for both TensorFlow and ONNX Runtime). The ONNX Runtime batch-1 latency
is measured twice: interleaved with the other runtimes in this process, and alone in a fresh
process that imports only onnxruntime and numpy, as a pipeline serving the model would run.

    python benchmarks/serving.py                      # all three models
    python benchmarks/serving.py --models convnet --json serving.json
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402

from astrokeras import models  # noqa: E402
from astrokeras.export import OnnxPredictor, to_onnx, to_saved_model  # noqa: E402
from astrokeras.files import write_json_atomic  # noqa: E402

BATCH = 256
# Seconds of rest before each timed block, so that the thread pools of the runtime timed
# before (TensorFlow's and ONNX Runtime's spin-wait for a while) are idle again.
PAUSE = 0.2
MODELS = {
    "convnet": lambda: models.convnet((100, 100, 3)),
    "resnet18": lambda: models.resnet18((100, 100, 3)),
    "inception_photoz": lambda: models.inception_photoz((64, 64, 5), num_bins=180),
}


def inputs_for(model, n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(0, 0.1 if t.name == "ebv" else 1.0, (n,) + tuple(t.shape[1:]))
            .astype(np.float32) for t in model.inputs]


def throughput(runners, arrays, batches, rounds):
    """Images per second at batch 256, runtimes interleaved round by round.

    The machine is shared, so each round times one pass (`batches` batches of 256) of every
    runtime back to back: a neighbour's load hits all runtimes of a round alike, and the
    per-round ratios stay meaningful. Returns {name: [pass seconds]} after one warm-up pass.
    """
    def one_pass(run_batch):
        for b in range(batches):
            run_batch([a[b * BATCH:(b + 1) * BATCH] for a in arrays])

    times = {name: [] for name in runners}
    cpu = {name: [] for name in runners}
    for name, run_batch in runners.items():
        one_pass(run_batch)  # warm-up: graph building, allocator, thread pools
    for _ in range(rounds):
        for name, run_batch in runners.items():
            time.sleep(PAUSE)
            start, start_cpu = time.perf_counter(), time.process_time()
            one_pass(run_batch)
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return times, cpu


def latency(runners, arrays, calls, rounds, warmup=20):
    """Batch-1 call times in ms per runtime, interleaved in `rounds` blocks."""
    singles = [[a[i % len(a)][None] for a in arrays] for i in range(calls)]
    samples = {name: [] for name in runners}
    for name, run_batch in runners.items():
        for one in singles[:warmup]:
            run_batch(one)
    block = max(1, calls // rounds)
    for start_index in range(0, calls, block):
        for name, run_batch in runners.items():
            time.sleep(PAUSE)
            for one in singles[start_index:start_index + block]:
                start = time.perf_counter()
                run_batch(one)
                samples[name].append((time.perf_counter() - start) * 1e3)
    return samples


ISOLATED = r"""
import json, sys, time
import numpy as np
import onnxruntime as ort

path, calls, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
options = ort.SessionOptions()
if threads:
    options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
rng = np.random.default_rng(0)
feeds = [{i.name: rng.uniform(0, 0.1 if i.name == "ebv" else 1.0, [1] + i.shape[1:])
          .astype(np.float32) for i in session.get_inputs()} for _ in range(16)]
for k in range(50):
    session.run(None, feeds[k % 16])
samples = []
for k in range(calls):
    start = time.perf_counter()
    session.run(None, feeds[k % 16])
    samples.append((time.perf_counter() - start) * 1e3)
print(json.dumps([float(np.percentile(samples, 50)), float(np.percentile(samples, 99))]))
"""


def isolated_onnx_latency(onnx_path, calls, threads):
    """Batch-1 p50/p99 (ms) in a fresh process importing only onnxruntime and numpy.

    That is what a pipeline process serving the model sees: no TensorFlow thread pools
    in the same process. threads=0: ONNX Runtime's defaults; threads=1: one thread, no
    spin-waiting.
    """
    done = subprocess.run([sys.executable, "-c", ISOLATED, onnx_path, str(calls),
                           str(threads)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def runtimes(model, onnx_path, saved_path, names):
    """name -> (batch-256 runner, batch-1 runner) for every runtime measured."""
    def keras_predict(arrays):
        return model.predict(arrays if len(arrays) > 1 else arrays[0], batch_size=BATCH,
                             verbose=0)

    def keras_on_batch(arrays):
        return model.predict_on_batch(arrays if len(arrays) > 1 else arrays[0])

    signature = tf.saved_model.load(saved_path).signatures["serving_default"]

    def saved(arrays):
        return signature(**{n: tf.constant(a) for n, a in zip(names, arrays)})["probabilities"]

    out = {"Keras predict": (keras_predict, keras_on_batch), "SavedModel": (saved, saved)}
    variants = [("ONNX Runtime CPU", "CPUExecutionProvider", None),
                ("ORT CPU 1 thread", "CPUExecutionProvider", 1)]
    if "CUDAExecutionProvider" in ort.get_available_providers():
        variants.append(("ONNX Runtime CUDA", "CUDAExecutionProvider", None))
    for label, provider, threads in variants:
        options = ort.SessionOptions()
        if threads is not None:  # one thread, no spin-waiting: steadier on a busy machine
            options.intra_op_num_threads = threads
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(onnx_path, options, providers=[provider])

        def run(arrays, session=session):
            return session.run(["probabilities"], dict(zip(names, arrays)))[0]

        out[label] = (run, run)
    predictor = OnnxPredictor(onnx_path, providers=["CPUExecutionProvider"])

    def astrokeras_predictor(arrays):
        return predictor.predict(arrays[0], ebv=arrays[1] if len(arrays) > 1 else None,
                                 batch_size=BATCH)

    out["OnnxPredictor"] = (astrokeras_predictor, astrokeras_predictor)
    return out


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS),
                        help="comma-separated: " + ", ".join(MODELS))
    parser.add_argument("--batches", type=int, default=2, help="batches of 256 per pass")
    parser.add_argument("--rounds", type=int, default=5,
                        help="interleaved timed passes per runtime (median)")
    parser.add_argument("--calls", type=int, default=300, help="batch-1 calls for p50/p99")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=os.path.dirname(os.path.abspath(__file__))).stdout
    results = {"commit": commit.strip(),
               "machine": {"cpu": _cpu_name(),
                           "cores": os.cpu_count(), "load_before": os.getloadavg(),
                           "tensorflow": tf.__version__, "keras": keras.__version__,
                           "onnxruntime": ort.__version__,
                           "onnxruntime_providers": ort.get_available_providers()},
               "settings": vars(args), "models": {}}
    print(f"# {results['machine']}")
    folder = tempfile.mkdtemp(prefix="astrokeras-serving-")
    for name in args.models.split(","):
        model = MODELS[name]()
        names = [t.name for t in model.inputs]
        onnx_result = to_onnx(model, os.path.join(folder, f"{name}.onnx"),
                              outputs=("probabilities",))
        to_saved_model(model, os.path.join(folder, name), outputs=("probabilities",))
        arrays = inputs_for(model, args.batches * BATCH)
        entry = {"parameters": int(model.count_params()),
                 "onnx_parity_max_abs_diff": onnx_result.max_difference, "runtimes": {}}
        pairs = runtimes(model, onnx_result.path, os.path.join(folder, name), names)
        times, cpu = throughput({k: v[0] for k, v in pairs.items()}, arrays, args.batches,
                           args.rounds)
        samples = latency({k: v[1] for k, v in pairs.items()}, arrays, args.calls,
                          args.rounds)
        for label in pairs:
            rate = args.batches * BATCH / float(np.median(times[label]))
            p50, p99 = np.percentile(samples[label], [50, 99])
            cpu_ms = 1e3 * float(np.median(cpu[label])) / (args.batches * BATCH)
            entry["runtimes"][label] = {"images_per_s": rate, "pass_seconds": times[label],
                                        "cpu_ms_per_image": cpu_ms,
                                        "p50_ms": float(p50), "p99_ms": float(p99)}
            print(f"{name:17s} {label:18s} {rate:9.1f} img/s at batch 256 "
                  f"({cpu_ms:6.2f} CPU ms/img) | "
                  f"batch 1: p50 {p50:7.2f} ms  p99 {p99:7.2f} ms", flush=True)
        ratios = np.array(times["Keras predict"]) / np.array(times["ONNX Runtime CPU"])
        entry["onnx_over_keras_throughput_per_round"] = ratios.tolist()
        saved_ratios = np.array(times["SavedModel"]) / np.array(times["ONNX Runtime CPU"])
        entry["onnx_over_savedmodel_throughput_per_round"] = saved_ratios.tolist()
        print(f"{name:17s} ONNX Runtime CPU / Keras predict throughput per round: "
              f"{' '.join(f'{r:.2f}' for r in ratios)} (median {np.median(ratios):.2f}x); "
              f"/ SavedModel: median {np.median(saved_ratios):.2f}x", flush=True)
        for label in ("ORT CPU 1 thread", "OnnxPredictor"):
            other = np.array(times["Keras predict"]) / np.array(times[label])
            entry[f"{label} over keras throughput per round"] = other.tolist()
            print(f"{name:17s} {label} / Keras predict throughput per round: "
                  f"{' '.join(f'{r:.2f}' for r in other)} (median {np.median(other):.2f}x)",
                  flush=True)
        for threads, label in ((0, "ONNX Runtime CPU"), (1, "ORT CPU 1 thread")):
            p50, p99 = isolated_onnx_latency(onnx_result.path, args.calls, threads)
            entry["runtimes"][label]["isolated_p50_ms"] = p50
            entry["runtimes"][label]["isolated_p99_ms"] = p99
            print(f"{name:17s} {label:18s} batch 1 in a process without TensorFlow: "
                  f"p50 {p50:7.2f} ms  p99 {p99:7.2f} ms", flush=True)
        results["models"][name] = entry
        keras.backend.clear_session()
    results["machine"]["load_after"] = os.getloadavg()
    if args.json:
        write_json_atomic(args.json, results)


if __name__ == "__main__":
    main()
