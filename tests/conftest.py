"""Shared test setup: TensorFlow backend, quiet logs, deterministic seeds."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
    yield


def trainable_count(model):
    """Trainable parameters counted from the weight shapes, independent of count_params."""
    import numpy as np

    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


@pytest.fixture
def keras_round_trip(tmp_path):
    """Saves a model to .keras, loads it in safe mode, and returns the loaded model."""

    def round_trip(model):
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        return keras.models.load_model(path)  # safe_mode=True is the default

    return round_trip


def assert_docstring_examples_pass(module_name):
    """Runs every `Example:` block of a module's docstrings and fails on any wrong output."""
    import doctest
    import importlib

    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, globs=vars(module).copy()) if t.examples]
    assert tests, f"{module_name} has no runnable examples"
    for test in tests:
        result = runner.run(test)
        assert result.failed == 0, f"{test.name}: {result.failed} example(s) failed"
