import json

from typer.testing import CliRunner

from astrokeras.cli.app import app

runner = CliRunner()


def _write_recipe(path, data_dir, out, extra=""):
    path.write_text(f"""
[experiment]
name = "cli"
output = "{out}"
[data]
kind = "morphology"
directory = "{data_dir}"
n = 40
size = 32
workers = 1
[model]
architecture = "convnet"
[method]
name = "mmd"
[training]
epochs = 1
batch_size = 8
{extra}
""")


def test_train_runs_a_recipe_and_fills_the_run_directory(tmp_path):
    recipe = tmp_path / "recipe.toml"
    _write_recipe(recipe, tmp_path / "data", tmp_path / "run")
    result = runner.invoke(app, ["train", str(recipe), "--verbose", "0"])
    assert result.exit_code == 0, result.output
    assert "Trained cli" in result.output
    run = tmp_path / "run"
    for name in ("model.keras", "classifier.keras", "run.json", "history.csv", "recipe.toml"):
        assert (run / name).exists(), name
    info = json.loads((run / "run.json").read_text())
    assert info["recipe"]["method"]["name"] == "mmd"
    assert (tmp_path / "data" / "manifest.json").exists()


def test_bad_recipe_fails_with_one_line_naming_the_key(tmp_path):
    recipe = tmp_path / "recipe.toml"
    _write_recipe(recipe, tmp_path / "data", tmp_path / "run", extra="epoch = 3")
    result = runner.invoke(app, ["train", str(recipe)])
    assert result.exit_code == 1
    assert "unknown key [training].epoch" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "data").exists()  # nothing simulated before the check
    missing = runner.invoke(app, ["train", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 1 and "recipe not found" in missing.output


def test_default_experiment_prints_its_table_and_reuses_finished_runs(tmp_path):
    args = ["train", "--n", "40", "--size", "32", "--epochs", "1", "--verbose", "0",
            "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "runs")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    for text in ("regular", "adabn", "mmd", "(oracle)", "(label-free)"):
        assert text in result.output
    metrics = json.loads((tmp_path / "runs" / "metrics.json").read_text())
    for name in ("regular", "adabn", "mmd"):
        for domain in ("y10", "y1"):
            assert 0.0 <= metrics["metrics"][name][domain]["accuracy"] <= 1.0
        assert 0.0 <= metrics["shift"][name]["domain_auc"] <= 1.0
    manifest = json.loads((tmp_path / "cache" / "morphology_n40_s32_seed0" /
                           "manifest.json").read_text())
    assert metrics["preprocessing"] == {"source": manifest["preprocessing"],
                                        "target": manifest["preprocessing"]}
    assert [metrics["runs"][name]["reused"] for name in ("regular", "mmd")] == [False, False]
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "reusing the finished run" in again.output
    metrics = json.loads((tmp_path / "runs" / "metrics.json").read_text())
    assert [metrics["runs"][name]["reused"] for name in ("regular", "mmd")] == [True, True]


def test_epochs_must_be_positive(tmp_path):
    recipe = tmp_path / "recipe.toml"
    _write_recipe(recipe, tmp_path / "data", tmp_path / "run")
    result = runner.invoke(app, ["train", str(recipe), "--epochs", "0"])
    assert result.exit_code != 0 and "--epochs" in result.output
    assert not (tmp_path / "data").exists()
