"""The same seed writes the same bytes, in two separate processes.

Within one process, protobuf's map order and zip timestamps can repeat by chance; a dataset
written by another process (another machine of a batch system, a rerun next week) must still
be byte for byte the same, so the test runs the command line twice, in two processes.
"""

import os
import subprocess
import sys


def _simulate(out):
    command = [sys.executable, "-m", "astrokeras.cli.app", "simulate", "morphology",
               "--n", "4", "--size", "16", "--seed", "7", "--workers", "1",
               "--shard-size", "2", "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=240,
                            env=dict(os.environ, KERAS_BACKEND="tensorflow"))
    assert result.returncode == 0, result.stderr
    return {name: (out / name).read_bytes() for name in sorted(os.listdir(out))}


def test_same_seed_in_two_processes_writes_byte_identical_files(tmp_path):
    first = _simulate(tmp_path / "first")
    second = _simulate(tmp_path / "second")
    assert sorted(first) == sorted(second)
    assert {"manifest.json", "plan.json", "shard-00000-of-00002.tfrecord",
            "shard-00001-of-00002.tfrecord", "shard-00000-of-00002.npz"} <= set(first)
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []
