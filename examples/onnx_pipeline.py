"""ONNX in a survey pipeline: classify FITS cutouts as they arrive, in batches.

A pipeline that receives alerts gets a cutout per object, written into a folder by some
upstream process. This script watches such a folder, picks up every new cutout, classifies
them in batches with an astrokeras model exported to ONNX, and writes one CSV per batch.
It imports only onnxruntime, numpy and astropy (plus the standard library): no TensorFlow,
no Keras, no astrokeras. Everything the model needs to know (input shape, band names, class
names) is read from the metadata that `astrokeras export` embedded in the .onnx file, and the
clip + arcsinh stretch the model was trained with is part of its graph: the script hands it
the raw cutouts (electrons per second) as they arrive.

First export a trained model with its stretch in the graph, giving the dataset it was trained
on (whose manifest holds the stretch's clip limits):

    astrokeras export convnet.keras --format onnx --out convnet.onnx --dataset data/morphology \
        --include-preprocessing

Then run this script on it. Without a folder it simulates an alert stream itself (noisy
galaxy-like blobs written as FITS, one damaged file among them) so that it runs as is:

    python examples/onnx_pipeline.py convnet.onnx
    python examples/onnx_pipeline.py convnet.onnx --incoming /data/alerts --results out/
"""

import argparse
import csv
import json
import os
import tempfile
import time
import warnings

import numpy as np
import onnxruntime as ort
from astropy.io import fits

# ## 1. The model and its metadata
#
# ONNX Runtime picks the CUDA execution provider when the installed onnxruntime has it
# (onnxruntime-gpu), else the CPU one. The astrokeras metadata is one JSON document under the
# key "astrokeras" of the model's custom metadata.
#
# The stretch the model was trained with (Ciprijanovic et al. 2022: clip each band to dataset
# percentiles, scale to [0, 1], then arcsinh) is applied by the graph when the metadata says
# "preprocessing_in_graph". A model that only records its stretch expects stretched images,
# which raw cutouts are not: it is refused here rather than fed the wrong inputs. A model
# that records no stretch at all takes the cutouts as they are.


def load_model(path):
    available = ort.get_available_providers()
    providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
    session = ort.InferenceSession(path, providers=providers)
    metadata = json.loads(session.get_modelmeta().custom_metadata_map["astrokeras"])
    if metadata["task"] != "classification":
        raise SystemExit(f"{path} is a {metadata['task']} model; this example classifies.")
    if metadata.get("preprocessing") and not metadata.get("preprocessing_in_graph"):
        raise SystemExit(f"{path} expects stretched images; export it with "
                         "--include-preprocessing so that it takes raw cutouts.")
    return session, metadata


# ## 2. Publishing a file
#
# Writers publish each file under a temporary name starting with "." and rename it when it is
# complete, so a reader never sees a half-written file; the reader ignores names starting
# with ".".


def publish(final, write):
    """Call `write(temporary_path)`, then rename the temporary file to `final`."""
    folder, name = os.path.split(final)
    temporary = os.path.join(folder, f".{name}.tmp")
    write(temporary)
    os.replace(temporary, final)


# ## 3. Reading one cutout
#
# FITS stores a multi-band cutout as a cube (bands, height, width); the model wants
# channels-last (height, width, bands). A file that cannot be read or has the wrong shape is
# reported and skipped; it must not stop the stream.


def read_cutout(path, image_shape):
    height, width, bands = image_shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a damaged file fails below with one clear message
        with fits.open(path, memmap=False) as hdus:
            data = np.asarray(hdus[0].data, dtype=np.float32)
    if data.shape != (bands, height, width):
        raise ValueError(f"shape {data.shape}, expected {(bands, height, width)}")
    if not np.all(np.isfinite(data)):
        raise ValueError("NaN or infinite pixels")
    return np.moveaxis(data, 0, -1)


# ## 4. A simulated alert stream (when no folder is given)
#
# Cutouts of galaxy-like blobs in electrons per second, published as they are written.


def write_truncated(path):
    with open(path, "wb") as handle:  # a FITS header cut short, as by a broken transfer
        handle.write(b"SIMPLE  =                    T" + b" " * 50)


def simulate_stream(folder, image_shape, count=40, burst=7, seed=0):
    """Yield after each burst of new cutouts written to `folder`; one of them is damaged."""
    height, width, bands = image_shape
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width] - np.array([height, width])[:, None, None] / 2
    for start in range(0, count, burst):
        for index in range(start, min(start + burst, count)):
            size = rng.uniform(1.5, 5.0)
            blob = np.exp(-(xx ** 2 + (yy * rng.uniform(0.4, 1.0)) ** 2) / (2 * size ** 2))
            cube = np.stack([rng.uniform(20, 200) * blob + rng.normal(0, 3, blob.shape)
                             for _ in range(bands)]).astype(np.float32)
            write = write_truncated if index == 11 else fits.PrimaryHDU(cube).writeto
            publish(os.path.join(folder, f"alert{index:05d}.fits"), write)
        yield


# ## 5. The loop: poll, batch, classify, write
#
# New cutouts are collected until a batch is full (or the stream pauses), then classified in
# one ONNX Runtime call on the raw cutouts. Each batch's results go to their own CSV,
# published like the cutouts.


def classify(session, metadata, paths, results, batch_number):
    image_shape = tuple(metadata["inputs"][0]["shape"][1:])
    images, names = [], []
    for path in paths:
        try:
            images.append(read_cutout(path, image_shape))
            names.append(os.path.basename(path))
        except (OSError, ValueError, TypeError) as error:
            print(f"  skipped {os.path.basename(path)}: {error}")
    if not images:
        return 0
    probabilities = session.run(["probabilities"], {"image": np.stack(images)})[0]
    classes = metadata["class_names"]

    def write(path):
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "class"] + [f"p_{c}" for c in classes])
            for name, p in zip(names, probabilities):
                writer.writerow([name, classes[int(p.argmax())]] + [f"{v:.4f}" for v in p])

    publish(os.path.join(results, f"batch-{batch_number:05d}.csv"), write)
    counts = {c: int((probabilities.argmax(axis=1) == k).sum()) for k, c in enumerate(classes)}
    print(f"  batch {batch_number}: {len(names)} cutouts -> {counts}")
    return len(names)


def run(model_path, incoming=None, results=None, batch_size=16, idle_seconds=2.0):
    session, metadata = load_model(model_path)
    image_shape = tuple(metadata["inputs"][0]["shape"][1:])
    print(f"{model_path}: {metadata['model_name']}, inputs {image_shape} "
          f"(bands {metadata.get('bands')}), classes {metadata['class_names']}, "
          f"on {session.get_providers()[0]}")
    stream = None
    if incoming is None:
        incoming = tempfile.mkdtemp(prefix="alerts-")
        stream = simulate_stream(incoming, image_shape)
    results = results or os.path.join(incoming, "results")
    os.makedirs(results, exist_ok=True)
    seen, pending, batches, done, last_new = set(), [], 0, 0, time.monotonic()
    while True:
        arrived = next(stream, "end") if stream is not None else None
        new = sorted(name for name in os.listdir(incoming)
                     if name.endswith(".fits") and not name.startswith(".")
                     and name not in seen)
        seen.update(new)
        pending += [os.path.join(incoming, name) for name in new]
        if new:
            last_new = time.monotonic()
        finished = arrived == "end" or (stream is None and
                                        time.monotonic() - last_new > idle_seconds)
        while len(pending) >= batch_size or (finished and pending):
            batches += 1
            done += classify(session, metadata, pending[:batch_size], results, batches)
            pending = pending[batch_size:]
        if finished:
            break
        if stream is None:
            time.sleep(0.2)
    print(f"classified {done} of {len(seen)} cutouts in {batches} batches; results in "
          f"{results}")
    return done


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="an .onnx file written by `astrokeras export`")
    parser.add_argument("--incoming", help="folder the cutouts arrive in (default: simulate)")
    parser.add_argument("--results", help="folder for the per-batch CSVs")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--idle-seconds", type=float, default=2.0,
                        help="stop after this long without new cutouts (real folders)")
    args = parser.parse_args()
    run(args.model, args.incoming, args.results, args.batch_size, args.idle_seconds)
