import json

import numpy as np
import pytest
from scipy import stats

from astrokeras.errors import ConfigError
import astrokeras.experiments.tune as tune_module
from astrokeras.experiments.tune import rank_settings, setting_name, tune_recipe


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from astrokeras.data import MorphologySimulation, write_dataset

    directory = tmp_path_factory.mktemp("morphology")
    # 50 galaxies: 5 validation images per domain, as many as DEV's 5 cross-fitting folds need
    write_dataset(MorphologySimulation(size=16), 50, directory, seed=1)
    return directory


def _raw(dataset, tmp_path, **method):
    return {
        "experiment": {"name": "t", "seed": 0, "output": str(tmp_path / "run")},
        "data": {"kind": "morphology", "directory": str(dataset), "augment": False},
        "model": {"architecture": "convnet"},
        "method": {"name": "mmd", **method},
        "training": {"epochs": 1, "batch_size": 16, "steps_per_epoch": 1},
    }


def _no_training(*args, **kwargs):
    raise AssertionError("run_recipe was called")


def test_grid_trains_each_setting_ranks_by_score_and_reuses_finished_runs(dataset, tmp_path,
                                                                          monkeypatch):
    result = tune_recipe(_raw(dataset, tmp_path), {"method.weight": [0.01, 0.5]}, score="dev")
    out = tmp_path / "run" / "tune"
    assert result.directory == out and result.mode == "min"
    names = ["method.weight=0.01", "method.weight=0.5"]
    assert [row["name"] for row in result.settings] == names
    assert all(row["trained"] for row in result.settings)
    for row in result.settings:
        info = json.loads((out / row["name"] / "run.json").read_text())
        assert info["recipe"]["method"]["weight"] == row["setting"]["method.weight"]
        assert row["oracle_accuracy"] == info["oracle"]["target_validation_accuracy"]
    # DEV is a risk: the lower score ranks first and is the choice
    best = min(result.settings, key=lambda row: row["score"])
    assert best["rank"] == 1 and result.choice == best["name"]
    assert sorted(row["rank"] for row in result.settings) == [1, 2]
    oracle = max(result.settings, key=lambda row: row["oracle_accuracy"])
    assert result.gap == pytest.approx(oracle["oracle_accuracy"]
                                       - best["oracle_accuracy"])
    assert result.correlation is None  # two settings only

    written = json.loads((out / "tune.json").read_text())
    assert written["score"] == "dev" and written["mode"] == "min"
    assert written["choice"] == result.choice and written["settings"] == result.settings
    lines = (out / "tune.csv").read_text().splitlines()
    assert lines[0].split(",")[:4] == ["rank", "name", "method.weight", "dev"]
    assert lines[1].split(",")[:2] == ["1", result.choice]

    mtimes = {name: (out / name / "run.json").stat().st_mtime_ns for name in names}
    monkeypatch.setattr(tune_module, "run_recipe", _no_training)
    again = tune_recipe(_raw(dataset, tmp_path), {"method.weight": [0.01, 0.5]}, score="dev")
    assert not any(row["trained"] for row in again.settings)
    assert [row["score"] for row in again.settings] == pytest.approx(
        [row["score"] for row in result.settings])
    assert {name: (out / name / "run.json").stat().st_mtime_ns for name in names} == mtimes


def test_a_folder_holding_another_recipe_is_refused_before_training(dataset, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setattr(tune_module, "run_recipe", _no_training)
    other = tmp_path / "out" / "method.weight=0.5"
    other.mkdir(parents=True)
    (other / "run.json").write_text(json.dumps({"recipe": {"method": {"weight": 0.5}}}))
    with pytest.raises(ConfigError, match="holds a run of another recipe"):
        tune_recipe(_raw(dataset, tmp_path), {"method.weight": [0.01, 0.5]},
                    out=tmp_path / "out")
    assert json.loads((other / "run.json").read_text()) == {"recipe": {"method": {"weight": 0.5}}}


@pytest.mark.parametrize("grid, message", [
    ({"method.wieght": [0.1]}, r"--grid method.wieght=0.1: unknown key \[method\].wieght"),
    ({"method.weight": [0.1, "high"]}, r'--grid method.weight="high": \[method\].weight '
                                       "must be of type"),
    ({"training.epochs": [2, 0]}, r"--grid training.epochs=0: \[training\].epochs is out of "
                                  "range"),
    ({"weight": [0.1]}, "--grid 'weight': a grid key is a recipe key written section.key"),
    ({"method.weight": []}, "--grid method.weight: the list of values is empty"),
    ({"method.weight": [0.1, 0.1]}, "--grid method.weight: a value is listed twice"),
])
def test_every_bad_grid_entry_is_named_before_any_training(dataset, tmp_path, monkeypatch,
                                                           grid, message):
    monkeypatch.setattr(tune_module, "run_recipe", _no_training)
    with pytest.raises(ConfigError, match=message):
        tune_recipe(_raw(dataset, tmp_path), {"method.weight": [0.05], **grid})
    assert not (tmp_path / "run").exists()


def test_unknown_score_lists_the_scores_and_a_score_needs_a_target(dataset, tmp_path,
                                                                   monkeypatch):
    from astrokeras.experiments import SCORES

    monkeypatch.setattr(tune_module, "run_recipe", _no_training)
    with pytest.raises(ConfigError, match="Unknown score 'accuracy'") as error:
        tune_recipe(_raw(dataset, tmp_path), {"method.weight": [0.1]}, score="accuracy")
    assert error.value.allowed == ", ".join(SCORES.names())
    no_target = {"experiment": {"name": "z"}, "data": {"kind": "photoz", "directory": "z"},
                 "model": {"architecture": "simple_photoz_cnn"}}
    with pytest.raises(ConfigError, match=r"no target domain \(\[data\].target\)"):
        tune_recipe(no_target, {"training.epochs": [1]}, score="entropy", out=tmp_path / "z")


def test_ranking_follows_the_direction_of_the_score():
    scores, oracle = [0.40, 0.10, 0.30, 0.20], [0.60, 0.90, 0.70, 0.95]
    low = rank_settings(scores, "min", oracle)
    assert low["ranks"] == [4, 1, 3, 2] and low["choice"] == 1
    assert low["oracle_choice"] == 3 and low["gap"] == pytest.approx(0.05)
    high = rank_settings(scores, "max", oracle)
    assert high["ranks"] == [1, 4, 2, 3] and high["choice"] == 0
    assert high["gap"] == pytest.approx(0.35)


def test_correlation_is_spearman_of_the_oriented_score_and_the_oracle():
    scores, oracle = [0.40, 0.10, 0.30, 0.20, 0.25], [0.60, 0.90, 0.70, 0.95, 0.80]
    low = rank_settings(scores, "min", oracle)["correlation"]
    assert low == pytest.approx(stats.spearmanr(-np.array(scores), oracle).statistic)
    assert low == pytest.approx(0.9)  # a lower risk goes with a higher accuracy
    assert rank_settings(scores, "max", oracle)["correlation"] == pytest.approx(-0.9)


def test_correlation_is_none_without_enough_varying_oracle_numbers():
    assert rank_settings([0.1, 0.2], "min", [0.5, 0.6])["correlation"] is None
    assert rank_settings([0.1, 0.2, 0.3], "min", [0.5, 0.5, 0.5])["correlation"] is None
    assert rank_settings([0.1, 0.1, 0.1], "min", [0.4, 0.5, 0.6])["correlation"] is None
    without = rank_settings([0.1, 0.2, 0.3], "max", [None, None, None])
    assert without["correlation"] is None and without["oracle_choice"] is None
    assert without["gap"] is None and without["choice"] == 2


def test_a_nan_score_ranks_last():
    ranking = rank_settings([float("nan"), 0.2, 0.1], "min", [0.9, 0.5, 0.6])
    assert ranking["ranks"] == [3, 2, 1] and ranking["choice"] == 2


def test_setting_names_are_filesystem_safe_and_distinct():
    assert setting_name({"method.weight": 0.05, "training.epochs": 4}) \
        == "method.weight=0.05__training.epochs=4"
    assert setting_name({"experiment.description": "a/b c"}) == "experiment.description=a_b_c"
    long = {f"method.key{i}": "x" * 40 for i in range(6)}
    other = {**long, "method.key5": "x" * 39 + "y"}
    assert len(setting_name(long)) <= 160 and setting_name(long) != setting_name(other)


def test_docstring_examples_run():
    from conftest import assert_docstring_examples_pass

    assert_docstring_examples_pass("astrokeras.experiments.tune")
