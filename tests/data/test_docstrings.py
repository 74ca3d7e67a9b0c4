"""Runs the `Example:` blocks of astrokeras.data's docstrings, so the documentation cannot rot."""

import pytest

from conftest import assert_docstring_examples_pass

MODULES = [
    "astrokeras.data.surveys",
    "astrokeras.data.observation",
    "astrokeras.data.rendering",
    "astrokeras.data.simulation",
    "astrokeras.data.morphology",
    "astrokeras.data.deepmerge",
    "astrokeras.data.photoz",
    "astrokeras.data.morphometry",
    "astrokeras.data.preprocessing",
    "astrokeras.data.shards",
    "astrokeras.data.pipeline",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    assert_docstring_examples_pass(name)
