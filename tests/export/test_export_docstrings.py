"""The `Example:` blocks of astrokeras.export run and give the documented output."""

import pytest

from conftest import assert_docstring_examples_pass

MODULES = [
    "astrokeras.export.metadata",
    "astrokeras.export.to_onnx",
    "astrokeras.export.to_saved_model",
    "astrokeras.export.onnx_predictor",
    "astrokeras.export.predict_files",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    assert_docstring_examples_pass(name)
