"""The command line sets TensorFlow's environment before TensorFlow loads, keeping the user's."""

import os
import subprocess
import sys

from astrokeras.cli import _environment
from astrokeras.data import MorphologySimulation, write_dataset

_SET_BY_US = ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLED_DEVICE_TYPES")


def test_a_command_that_runs_tensorflow_prints_no_info_lines_and_no_cuinit_error(tmp_path):
    write_dataset(MorphologySimulation(size=16), 2, tmp_path / "set", seed=0)
    environment = {k: v for k, v in os.environ.items() if k not in _SET_BY_US}
    result = subprocess.run(
        [sys.executable, "-m", "astrokeras.cli.app", "simulate", "show", str(tmp_path / "set"),
         "--per-class", "1"],
        capture_output=True, text=True, timeout=240,
        env=dict(environment, KERAS_BACKEND="tensorflow"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "set" / "examples.png").exists()  # TensorFlow did read the shards
    # The CPU-instructions notice and the input pipeline's information line (INFO level),
    # and, on a machine without the CUDA driver, the "failed call to cuInit" error.
    for line in ("cpu_feature_guard", "This TensorFlow binary is optimized",
                 "tf_record_dataset_op", "cuInit"):
        assert line not in result.stderr


def test_loading_the_command_line_does_not_import_tensorflow():
    # `--version` and `--help` stay fast, and the simulation's spawned worker processes (which
    # import the main module, here the command line) start without TensorFlow and its banner.
    code = ("import sys, astrokeras.cli.app; "
            "print(sorted({'tensorflow', 'keras'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=240, env=dict(os.environ, KERAS_BACKEND="tensorflow"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_values_the_user_set_are_kept(monkeypatch):
    monkeypatch.setattr(_environment, "gpu_possible", lambda: False)
    environment = {"TF_CPP_MIN_LOG_LEVEL": "0", "TF_ENABLED_DEVICE_TYPES": "CPU,GPU"}
    assert _environment.quiet_tensorflow(environment) == []
    assert environment == {"TF_CPP_MIN_LOG_LEVEL": "0", "TF_ENABLED_DEVICE_TYPES": "CPU,GPU"}


def test_devices_are_limited_to_the_cpu_only_where_no_gpu_can_be_used(monkeypatch):
    monkeypatch.setattr(_environment, "gpu_possible", lambda: True)
    environment = {}
    _environment.quiet_tensorflow(environment)
    # Information lines off; TensorFlow's warnings and errors (level 1 and 2) still printed.
    assert environment == {"TF_CPP_MIN_LOG_LEVEL": "1"}

    monkeypatch.setattr(_environment, "gpu_possible", lambda: False)
    environment = {}
    _environment.quiet_tensorflow(environment)
    assert environment == {"TF_CPP_MIN_LOG_LEVEL": "1", "TF_ENABLED_DEVICE_TYPES": "CPU"}


def test_a_pluggable_device_plugin_counts_as_a_possible_gpu(monkeypatch, tmp_path):
    if not sys.platform.startswith("linux"):
        assert _environment.gpu_possible()
        return
    (tmp_path / "tensorflow-plugins").mkdir()
    monkeypatch.setattr(sys, "path", [str(tmp_path)] + sys.path)
    assert _environment.gpu_possible()


def test_docstring_example_runs():
    import doctest

    assert doctest.testmod(_environment).failed == 0
