"""Runs the `Example:` blocks of the plot docstrings, so the documentation cannot rot."""

import pytest

from conftest import assert_docstring_examples_pass

MODULES = ["church_window", "isomap", "roc", "distance_histogram", "photoz_plots",
           "dataset_examples"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    assert_docstring_examples_pass(f"astrokeras.plots.{name}")
