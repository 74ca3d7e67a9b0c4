"""examples/onnx_pipeline.py runs as is, with only onnxruntime, numpy and astropy."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from astrokeras.data import ClipArcsinh
from tests.export.export_helpers import (BANDS, CLASSES, STRETCH, export_classifier,
                                         with_random_statistics)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "onnx_pipeline.py"

RUNNER = """
import runpy, sys
sys.argv = [sys.argv[1]] + sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras",
                                                              "astrokeras", "tf2onnx"))
assert not heavy, f"the example imported {heavy[:5]}"
print("imports ok")
"""


def run_example(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-c", RUNNER, str(EXAMPLE), *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=env)


def read_rows(results):
    return [row for name in sorted(os.listdir(results))
            for row in csv.DictReader(open(results / name))]


@pytest.fixture(scope="module")
def in_graph(tmp_path_factory):
    """A ConvNet on 16x16 gri images exported with its clip + arcsinh stretch in the graph."""
    from astrokeras import models
    from astrokeras.export import model_metadata, to_onnx

    path = tmp_path_factory.mktemp("model") / "convnet.onnx"
    model = with_random_statistics(models.convnet((16, 16, 3)))
    to_onnx(model, path, include_preprocessing=True, metadata=model_metadata(
        model, class_names=CLASSES, bands=BANDS, preprocessing=STRETCH))
    return model, path


def test_onnx_pipeline_classifies_a_simulated_stream(in_graph, tmp_path):
    results = tmp_path / "results"
    done = run_example(in_graph[1], "--results", results, "--batch-size", "16")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "skipped alert00011.fits" in done.stdout
    assert "classified 39 of 40 cutouts in 3 batches" in done.stdout
    assert "imports ok" in done.stdout
    rows = read_rows(results)
    assert len(rows) == 39
    assert {row["class"] for row in rows} <= set(CLASSES)
    assert all(abs(sum(float(row[f"p_{c}"]) for c in CLASSES) - 1) < 1e-3 for row in rows)


def test_raw_cutouts_get_the_probabilities_of_the_stretched_images(in_graph, tmp_path):
    model, path = in_graph
    raw = np.random.default_rng(3).uniform(-5, 80, (4, 16, 16, 3)).astype("float32")
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for i, image in enumerate(raw):
        fits.PrimaryHDU(np.moveaxis(image, -1, 0)).writeto(incoming / f"c{i}.fits")
    done = run_example(path, "--incoming", incoming, "--results", tmp_path / "results",
                       "--idle-seconds", "0.3")
    assert done.returncode == 0, done.stderr[-2000:]
    rows = read_rows(tmp_path / "results")
    assert [row["file"] for row in rows] == [f"c{i}.fits" for i in range(4)]
    got = np.array([[float(row[f"p_{c}"]) for c in CLASSES] for row in rows])
    expected = model.predict(ClipArcsinh.from_config(STRETCH)(raw), verbose=0)
    np.testing.assert_allclose(got, expected, atol=2e-4)  # the CSV holds 4 decimals
    assert np.abs(model.predict(raw, verbose=0) - expected).max() > 1e-2  # the stretch matters


def test_a_model_that_expects_stretched_images_is_refused(tmp_path):
    export_classifier(tmp_path / "recorded.onnx")  # the stretch recorded, not in the graph
    done = run_example(tmp_path / "recorded.onnx", "--results", tmp_path / "results")
    assert done.returncode == 1
    assert "export it with --include-preprocessing" in done.stderr
    assert not (tmp_path / "results").exists()
