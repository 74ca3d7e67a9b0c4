"""Runs the `Example:` blocks of the evaluation docstrings, so the documentation cannot rot."""

import pytest

from conftest import assert_docstring_examples_pass

MODULES = ["classification", "photoz_metrics", "latent", "jensen_shannon", "robustness",
           "paired_data",
           "report"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    assert_docstring_examples_pass(f"astrokeras.evaluation.{name}")
