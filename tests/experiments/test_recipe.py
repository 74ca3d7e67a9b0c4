import pytest

from astrokeras.errors import ConfigError
from astrokeras.experiments import load_recipe, validate_recipe


def _minimal(**sections):
    recipe = {"experiment": {"name": "t"}, "data": {"directory": "d"}}
    for section, values in sections.items():
        recipe.setdefault(section, {}).update(values)
    return recipe


def test_defaults_are_filled_in():
    recipe = validate_recipe(_minimal())
    assert recipe["method"]["name"] == "none"
    assert recipe["optimizer"]["beta_1"] == 0.7 and recipe["optimizer"]["beta_2"] == 0.8
    assert recipe["data"]["source"] == "y10" and recipe["data"]["target"] == "y1"
    assert recipe["experiment"]["output"].endswith("t")


@pytest.mark.parametrize("changes, message", [
    ({"method": {"wieght": 0.1}}, r"unknown key \[method\].wieght"),
    ({"optimiser": {}}, r"unknown section \[optimiser\]"),
    ({"training": {"epochs": "ten"}}, r"\[training\].epochs must be of type int"),
    ({"training": {"epochs": True}}, r"\[training\].epochs must be of type int"),
    ({"training": {"epochs": 0}}, r"\[training\].epochs is out of range"),
    ({"method": {"name": "mmd", "weight": -1.0}}, r"\[method\].weight is out of range"),
    ({"model": {"architecture": "vgg16"}}, r"\[model\].architecture has an unknown value"),
    ({"model": {"architecture": "inception_photoz"}}, r"does not fit \[data\].kind"),
    ({"method": {"name": "pgd", "eps": 0.01, "step": 0.02}}, r"\[method\].step must not"),
    ({"method": {"name": "universal"}}, r"needs \[data\].unknown_class"),
    ({"data": {"softening": 0}}, r"\[data\].softening is out of range"),
    ({"data": {"softening": float("nan")}}, r"\[data\].softening is out of range"),
    ({"data": {"softening": "0.001"}}, r"\[data\].softening must be of type"),
])
def test_bad_recipes_name_the_key(changes, message):
    with pytest.raises(ConfigError, match=message):
        validate_recipe(_minimal(**changes))


def test_missing_required_key():
    with pytest.raises(ConfigError, match=r"missing required key \[data\].directory"):
        validate_recipe({"experiment": {"name": "x"}})


def test_load_recipe_reads_toml_and_reports_syntax_errors(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[experiment]\nname = "a"\n[data]\ndirectory = "d"\n[method]\nname = "dann"\n')
    assert load_recipe(good)["method"]["schedule"] == "ganin"
    bad = tmp_path / "bad.toml"
    bad.write_text("[experiment\nname = 1")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_recipe(bad)
    with pytest.raises(FileNotFoundError, match="recipe not found"):
        load_recipe(tmp_path / "missing.toml")


def test_every_shipped_recipe_is_valid():
    from pathlib import Path

    recipes = sorted((Path(__file__).parents[2] / "models").glob("*.toml"))
    assert len(recipes) >= 10
    for path in recipes:
        recipe = load_recipe(path)
        assert recipe["experiment"]["expected_runtime"], path.name
        assert recipe["experiment"]["description"], path.name
