"""Runs the `Example:` blocks of the evaluation docstrings, so the documentation cannot rot."""

import doctest
import importlib

import pytest

MODULES = ["classification", "photoz_metrics", "latent", "jensen_shannon", "robustness",
           "paired_data",
           "report"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"astrokeras.evaluation.{name}")
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, globs=vars(module).copy()) if t.examples]
    assert tests, f"{name} has no runnable examples"
    for test in tests:
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
