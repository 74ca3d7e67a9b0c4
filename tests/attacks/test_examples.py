"""The `Example:` blocks of the attack docstrings run and give what they show."""

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["astrokeras.attacks.fgsm", "astrokeras.attacks.pgd",
                                  "astrokeras.attacks.one_pixel", "astrokeras.attacks.incremental",
                                  "astrokeras.attacks.redshift_bins",
                                  "astrokeras.attacks.summarize"])
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    tests = [t for t in doctest.DocTestFinder().find(module, globs=vars(module).copy())
             if t.examples]
    assert tests
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
