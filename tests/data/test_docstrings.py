"""Runs the `Example:` blocks of astrokeras.data's docstrings, so the documentation cannot rot."""

import doctest
import importlib

import pytest

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
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, globs=vars(module).copy()) if t.examples]
    assert tests, f"{name} has no runnable examples"
    for test in tests:
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
