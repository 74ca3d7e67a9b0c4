"""benchmarks/ uses only astrokeras' public API, as a user's script would."""

import ast
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).resolve().parents[2] / "benchmarks").glob("*.py"))


def _private_uses(source):
    """`(line, what)` of every private astrokeras name a script imports or reaches: a module
    or name starting with `_`, the command line's modules (astrokeras.cli), and attributes
    starting with `_` of an imported astrokeras name."""
    found, imported = [], set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("astrokeras"):
            parts = node.module.split(".")
            for alias in node.names:
                imported.add(alias.asname or alias.name)
                if any(p.startswith("_") for p in parts) or alias.name.startswith("_"):
                    found.append((node.lineno, f"{node.module}.{alias.name}"))
            if parts[:2] == ["astrokeras", "cli"]:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("astrokeras"):
                    imported.add((alias.asname or alias.name).split(".")[0])
                    parts = alias.name.split(".")
                    if any(p.startswith("_") for p in parts) or parts[:2] == ["astrokeras",
                                                                               "cli"]:
                        found.append((node.lineno, alias.name))
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in imported and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            found.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return sorted(found)


def test_the_check_finds_private_imports_and_attributes():
    source = ("from astrokeras.attacks import _gradient, fgsm\n"
              "from astrokeras.cli.evaluate import run_evaluation\n"
              "import astrokeras.attacks._inputs\n"
              "from astrokeras.experiments import run\n"
              "run._method\n"
              "fgsm.__doc__\n")
    assert _private_uses(source) == [
        (1, "astrokeras.attacks._gradient"), (2, "astrokeras.cli.evaluate"),
        (3, "astrokeras.attacks._inputs"), (5, "run._method")]


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.name)
def test_a_benchmark_uses_no_private_astrokeras_name(path):
    assert _private_uses(path.read_text()) == []
