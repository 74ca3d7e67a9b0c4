"""The `Example:` blocks of the attack docstrings run and give what they show."""

import pytest
from conftest import assert_docstring_examples_pass


@pytest.mark.parametrize("name", ["astrokeras.attacks.fgsm", "astrokeras.attacks.pgd",
                                  "astrokeras.attacks.one_pixel", "astrokeras.attacks.incremental",
                                  "astrokeras.attacks.redshift_bins",
                                  "astrokeras.attacks.summarize", "astrokeras.attacks._inputs",
                                  "astrokeras.attacks.checks",
                                  "astrokeras.attacks.input_gradient",
                                  "astrokeras.attacks.projected_gradient"])
def test_docstring_examples_run(name):
    assert_docstring_examples_pass(name)
