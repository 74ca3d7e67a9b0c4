import json

import pytest
from typer.testing import CliRunner

from astrokeras.cli.app import app
from astrokeras.cli.tune import parse_grid
from astrokeras.errors import ConfigError

runner = CliRunner()


def _write_recipe(path, data_dir, out):
    path.write_text(f"""
[experiment]
name = "cli"
output = "{out}"
[data]
kind = "morphology"
directory = "{data_dir}"
n = 40
size = 16
workers = 1
augment = false
[model]
architecture = "convnet"
[method]
name = "mmd"
[training]
epochs = 1
batch_size = 16
steps_per_epoch = 1
""")


def test_tune_trains_ranks_prints_and_writes_the_ranking(tmp_path):
    recipe = tmp_path / "recipe.toml"
    _write_recipe(recipe, tmp_path / "data", tmp_path / "run")
    args = ["tune", str(recipe), "--grid", "method.weight=0.01,0.5", "--score", "entropy",
            "--out", str(tmp_path / "tune")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "tune" / "tune.json").read_text())
    assert written["score"] == "entropy" and written["mode"] == "min"
    assert written["recipe"] == str(recipe)
    for line in ("[1/2] method.weight=0.01: training", "Ranked by entropy (lower is better)",
                 f"Label-free choice (entropy): {written['choice']}", "Oracle choice:",
                 "Spearman correlation of entropy", "tune.csv"):
        assert line in result.output
    best = min(written["settings"], key=lambda row: row["score"])
    assert best["name"] == written["choice"]
    assert (tmp_path / "tune" / "tune.csv").read_text().splitlines()[1].startswith(
        f"1,{written['choice']},")
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "[2/2] method.weight=0.5: reusing the finished run" in again.output


@pytest.mark.parametrize("grid, message", [
    ("method.weight", "--grid takes section.key=v1,v2"),
    ("method.weight=", "--grid method.weight: an empty value"),
    ("method.weight=0.1,,0.2", "--grid method.weight: an empty value"),
    ("=0.1", "--grid takes section.key=v1,v2"),
])
def test_a_malformed_grid_fails_with_one_line_before_any_work(tmp_path, grid, message):
    recipe = tmp_path / "recipe.toml"
    _write_recipe(recipe, tmp_path / "data", tmp_path / "run")
    result = runner.invoke(app, ["tune", str(recipe), "--grid", grid])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "data").exists() and not (tmp_path / "run").exists()


def test_a_grid_key_given_twice_or_unknown_is_named(tmp_path):
    recipe = tmp_path / "recipe.toml"
    _write_recipe(recipe, tmp_path / "data", tmp_path / "run")
    twice = runner.invoke(app, ["tune", str(recipe), "--grid", "method.weight=0.1",
                                "--grid", "method.weight=0.2"])
    assert twice.exit_code == 1 and "--grid method.weight is given twice" in twice.output
    unknown = runner.invoke(app, ["tune", str(recipe), "--grid", "method.wieght=0.1"])
    assert unknown.exit_code == 1
    assert "--grid method.wieght=0.1: unknown key [method].wieght" in unknown.output
    score = runner.invoke(app, ["tune", str(recipe), "--grid", "method.weight=0.1",
                                "--score", "accuracy"])
    assert score.exit_code == 1 and "Unknown score 'accuracy'" in score.output
    assert "dev, snd" in score.output
    assert not (tmp_path / "data").exists()


def test_grid_values_are_toml_scalars_or_bare_names():
    grid = parse_grid(["method.weight=0.01, 0.05", "training.epochs=2,4",
                       "data.augment=true,false", "method.name=mmd,dann",
                       'experiment.description="a, b","c"'])
    assert grid == {"method.weight": [0.01, 0.05], "training.epochs": [2, 4],
                    "data.augment": [True, False], "method.name": ["mmd", "dann"],
                    "experiment.description": ["a, b", "c"]}
    assert type(grid["training.epochs"][0]) is int
    with pytest.raises(ConfigError, match="--grid method.weight: values are scalars"):
        parse_grid(["method.weight=[0.1, 0.2]"])
    with pytest.raises(ConfigError, match="--grid is needed at least once"):
        parse_grid([])


def test_docstring_examples_run():
    from conftest import assert_docstring_examples_pass

    assert_docstring_examples_pass("astrokeras.cli.tune")
