"""The `Example:` blocks of astrokeras.export run and give the documented output."""

import doctest
import importlib

import pytest

MODULES = [
    "astrokeras.export.metadata",
    "astrokeras.export.to_onnx",
    "astrokeras.export.to_saved_model",
    "astrokeras.export.onnx_predictor",
    "astrokeras.export.predict_files",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, globs=vars(module).copy()) if t.examples]
    assert tests, f"{name} has no runnable examples"
    for test in tests:
        result = runner.run(test)
        assert result.failed == 0, f"{test.name}: {result.failed} example(s) failed"
