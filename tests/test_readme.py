"""README.md's test command is the one .ci/run runs, and .ci/run names only files that exist."""

import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"


def _readme_test_command():
    """The last line of the first fenced block after "Run the tests" in README.md."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"Run the tests:?\s*\n+```[a-z]*\n(.*?)\n```", text, re.DOTALL)
    assert match, "README.md has no fenced block after 'Run the tests'"
    lines = [line.strip() for line in match.group(1).splitlines() if line.strip()]
    return lines[-1]


@pytest.mark.skipif(shutil.which("bash") is None, reason=".ci/run is a bash script")
def test_ci_run_extracts_exactly_the_readme_test_command():
    script = CI_RUN.read_text(encoding="utf-8")
    match = re.search(r'^TEST_COMMAND="\$\((.*)\)"$', script, re.MULTILINE)
    assert match, ".ci/run no longer sets TEST_COMMAND from README.md"
    extracted = subprocess.run(["bash", "-c", match.group(1)], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    expected = _readme_test_command()
    assert "pytest" in expected
    assert extracted == expected


def test_ci_run_names_only_files_that_exist():
    script = CI_RUN.read_text(encoding="utf-8")
    named = re.findall(r"\b(?:tests|astrokeras|docs)/[\w/.-]+\.\w+", script)
    assert [name for name in named if not (ROOT / name).exists()] == []
