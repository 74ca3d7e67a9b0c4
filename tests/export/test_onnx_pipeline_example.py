"""examples/onnx_pipeline.py runs as is, with only onnxruntime, numpy and astropy."""

import csv
import os
import subprocess
import sys
from pathlib import Path

from tests.export.export_helpers import CLASSES, export_classifier

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


def test_onnx_pipeline_classifies_a_simulated_stream(tmp_path):
    export_classifier(tmp_path / "convnet.onnx")
    results = tmp_path / "results"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(EXAMPLE), str(tmp_path / "convnet.onnx"),
         "--results", str(results), "--batch-size", "16"],
        capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "skipped alert00011.fits" in done.stdout
    assert "classified 39 of 40 cutouts in 3 batches" in done.stdout
    assert "imports ok" in done.stdout
    rows = [row for name in sorted(os.listdir(results))
            for row in csv.DictReader(open(results / name))]
    assert len(rows) == 39
    assert {row["class"] for row in rows} <= set(CLASSES)
    assert all(abs(sum(float(row[f"p_{c}"]) for c in CLASSES) - 1) < 1e-3 for row in rows)
