"""benchmarks/reproduce.py trains the recipes shipped in models/, and the published figures
came from them.

`recipes_built_in_code.json` holds the recipes reproduce.py built in its own code before it
ran the shipped files, for every command that made a figure of docs/results.md or
benchmarks/RESULTS.md. The shipped recipes with the overrides of the same command must give
the same recipes, key for key (names and descriptions aside): then every published figure can
be regenerated from a shipped recipe by its command.
"""

import importlib.util
import json
import re
import shlex
from pathlib import Path

import pytest

from astrokeras.experiments import validate_recipe

ROOT = Path(__file__).resolve().parents[2]
BEFORE = json.loads((Path(__file__).parent / "recipes_built_in_code.json").read_text())

#: Keys that name or document a run without changing what it computes.
DESCRIPTIVE = {("experiment", "name"), ("experiment", "description"),
               ("experiment", "expected_runtime")}

#: The bare photo-z command trained 8 epochs, which no published figure used (every photo-z
#: figure came from `--epochs 20` or `--epochs 40`); the shipped photo-z recipes hold the 20
#: epochs of the published figures, so that bare command now trains 20.
CHANGED_DEFAULTS = {"photoz": {"training.epochs": (8, 20)},
                    "photoz --train-attack pgd": {"training.epochs": (8, 20)}}




def _with_target_labels(raw):
    """A stored recipe with the `[data].target_labels` its run implied.

    The recipe format of the published runs had no `[data].target_labels`: target labels
    entered training through `[data].labeled_target > 0` alone (semi-supervised adaptation),
    and that is what "semi-supervised" names now; every other run is "none". (None of those
    runs stopped early: none sets `[training].early_stopping_patience`, whose default is 0, so
    the validation data, which held target labels then and holds none by default now, did not
    choose their weights.)
    """
    raw = json.loads(json.dumps(raw))
    labeled = raw.get("data", {}).get("labeled_target", 0) > 0
    raw["data"]["target_labels"] = "semi-supervised" if labeled else "none"
    return raw


@pytest.fixture(scope="module")
def reproduce():
    spec = importlib.util.spec_from_file_location("reproduce", ROOT / "benchmarks/reproduce.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _computing(recipe):
    """The recipe without its descriptive keys, as it reads back from JSON."""
    plain = json.loads(json.dumps(recipe))
    for section, key in DESCRIPTIVE:
        plain[section].pop(key, None)
    return plain


def _differences(a, b):
    return {f"{section}.{key}": (a[section].get(key), b[section].get(key))
            for section in a for key in set(a[section]) | set(b[section])
            if a[section].get(key) != b[section].get(key)}


def _built_now(reproduce, command):
    """`{output: recipe}` of every run the command trains now, from the shipped recipes."""
    args = reproduce._parser().parse_args(shlex.split(command))
    runs = reproduce.build_recipes(args, reproduce.recipe_plan(args),
                                   reproduce.experiment_folder(args))
    return {recipe["experiment"]["output"]: recipe
            for per_label in runs.values() for recipe in per_label.values()}


@pytest.mark.parametrize("entry", BEFORE["commands"], ids=lambda e: e["command"])
def test_the_shipped_recipes_give_the_recipes_of_the_published_figures(reproduce, entry):
    before = {raw["experiment"]["output"]: validate_recipe(_with_target_labels(raw))
              for raw in entry["recipes"]}
    now = _built_now(reproduce, entry["command"])
    assert sorted(now) == sorted(before)
    expected = CHANGED_DEFAULTS.get(entry["command"], {})
    for output, recipe in before.items():
        assert _differences(_computing(recipe), _computing(now[output])) == expected, output


def test_every_recipe_reproduce_trains_is_a_shipped_file_that_says_what_it_reproduces(
        reproduce):
    files = set()
    for entry in BEFORE["commands"]:
        args = reproduce._parser().parse_args(shlex.split(entry["command"]))
        files |= {file for file, _ in reproduce.recipe_files(args).values()}
    assert len(files) == 16
    for file in files:
        recipe = reproduce._shipped(file)
        assert (ROOT / file).parent == ROOT / "models"
        assert "benchmarks/reproduce.py" in recipe["experiment"]["description"], file
        assert re.search(r"(Ciprijanovic|Campagne) .*20\d\d", recipe["experiment"]["description"])


def test_a_fraction_without_its_own_recipe_is_the_ten_percent_recipe_with_that_fraction(
        reproduce):
    args = reproduce._parser().parse_args(
        "--out o photoz --n 8000 --epochs 20 --fractions 0.1 0.3 --eps 0.002".split())
    plan = reproduce.recipe_plan(args)
    assert plan == {
        "regular": {"file": "models/inception_photoz_regular.toml",
                    "overrides": {"data.n": 8000}},
        "fgsm_fa10": {"file": "models/inception_photoz_fgsm_10.toml",
                      "overrides": {"data.n": 8000, "method.eps": 0.002}},
        "fgsm_fa30": {"file": "models/inception_photoz_fgsm_10.toml",
                      "overrides": {"method.fraction": 0.3, "data.n": 8000,
                                    "method.eps": 0.002}}}
    runs = reproduce.build_recipes(args, plan, "photoz")
    assert runs[0]["fgsm_fa30"]["method"]["fraction"] == 0.3
    assert runs[0]["fgsm_fa30"]["data"]["directory"] == "o/data/photoz_n8000_s32_c0.001"


def test_an_override_that_does_not_validate_names_the_recipe_and_the_key(reproduce, capsys):
    with pytest.raises(SystemExit, match=r"deepmerge_regular\.toml with .*\[training\]\.epochs"):
        reproduce.main(["--out", "o", "deepmerge", "--epochs", "0"])


def test_the_recipe_line_names_each_file_its_own_and_the_shared_overrides(reproduce):
    command = ("benchmarks/reproduce.py --out runs/reproduce_n8000 photoz --n 8000 --seeds 0 "
               "--epochs 20 --fractions 0.1 0.3")
    assert reproduce.recipe_line({"command": command}) == (
        "Recipes: `models/inception_photoz_regular.toml` (regular), "
        "`models/inception_photoz_fgsm_10.toml` (fgsm_fa10), "
        "`models/inception_photoz_fgsm_10.toml` with `[method].fraction = 0.3` (fgsm_fa30); "
        "overrides of the command for all: `[data].n = 8000`; one run of each per seed of "
        "`--seeds` (0) as `[experiment].seed`, its `[experiment].output` and "
        "`[data].directory` under `--out`.")
    # a run that recorded its recipes is described by its record, not by today's files
    recorded = {"command": command, "seeds": [3],
                "recipes": {"regular": {"file": "models/x.toml", "overrides": {}}}}
    assert reproduce.recipe_line(recorded).startswith(
        "Recipes: `models/x.toml` (regular); one run of each per seed of `--seeds` (3)")


def test_a_figure_caption_names_the_recipe_of_its_model(reproduce):
    command = "benchmarks/reproduce.py --out runs/reproduce morphology --seeds 1 2"
    assert reproduce.figure_caption({"command": command}, "church_window_mmd") == (
        f"Made by `python {command}` from `models/convnet_mmd_y10_y1.toml` (seed 1).")
    assert reproduce.figure_caption({"command": command}, "distances_y1") == (
        f"Made by `python {command}` from `models/convnet_regular_y10_y1.toml` and "
        "`models/convnet_mmd_y10_y1.toml` (seed 1).")
    command = ("benchmarks/reproduce.py --out o photoz --n 8000 --seeds 0 --fractions 0.1 0.3")
    assert reproduce.figure_caption({"command": command}, "photoz_dz") == (
        f"Made by `python {command}` from `models/inception_photoz_regular.toml` and "
        "`models/inception_photoz_fgsm_10.toml` (seed 0, with the overrides above).")


def test_docs_results_names_the_recipes_and_command_of_every_table_and_figure(reproduce):
    """Each run's "Command:" line on the page is followed by the recipe line the report writes
    for it, and each figure by the caption the report writes for it."""
    lines = [line for line in (ROOT / "docs/results.md").read_text().splitlines() if line]
    commands = figures = 0
    command = None
    for i, line in enumerate(lines):
        found = re.match(r"Command: `python (.+?)` \(", line)
        if found:
            command = found.group(1)
            assert lines[i + 1] == reproduce.recipe_line({"command": command})
            commands += 1
        found = re.match(r"!\[(.+?)\]\(figures/", line)
        if found:
            assert lines[i + 1] == reproduce.figure_caption({"command": command},
                                                            found.group(1))
            figures += 1
    assert commands == 9 and figures == 16


def test_docs_results_header_is_the_one_the_report_writes(reproduce):
    page = (ROOT / "docs/results.md").read_text().split("\n## ")[0].splitlines()
    assert page == reproduce._page_header()


#: run.json's recipe of a published photo-z run (seed 1, f_a = 10 %), as the recipe format of
#: that time stored it: every method's options in every recipe, None for "the default".
STORED = json.loads("""{"experiment": {"name": "inception_photoz_fgsm_fa10", "description":
"benchmarks/reproduce.py: inception_photoz_fgsm_fa10", "seed": 1, "output":
"runs/reproduce/photoz/seed1/fgsm_fa10", "expected_runtime": ""}, "data": {"kind": "photoz",
"directory": "runs/reproduce/data/photoz_n2000_s32_c0.001", "n": 2000, "size": 32, "source":
"y10", "target": null, "workers": 0, "augment": true, "unknown_class": -1, "labeled_target": 0,
"labeled_share": 0.25, "softening": 0.001}, "model": {"architecture": "inception_photoz",
"latent_dim": null, "dropout": null}, "method": {"name": "fgsm", "weight": null, "estimator":
"biased", "hidden": null, "dropout": 0.5, "schedule": "ganin", "eps": 0.01, "step": null,
"steps": 10, "fraction": 0.1, "label_source": "prediction", "class_weights": true},
"optimizer": {"name": "adam", "learning_rate": 0.001, "beta_1": 0.7, "beta_2": 0.8,
"weight_decay": 0.0, "schedule": "cosine"}, "training": {"epochs": 20, "batch_size": 32,
"steps_per_epoch": null, "early_stopping_patience": 0, "monitor": null, "jit_compile": false,
"checkpoint_every": 0}}""")


def _published_photoz_run(reproduce, tmp_path, monkeypatch, stored):
    """The seed-1 f_a = 10 % recipe of the published photo-z command, with `stored` as the
    run.json of its run folder; training is replaced by a failure."""
    import astrokeras.experiments

    def no_training(*args, **kwargs):
        raise AssertionError("trained instead of reusing the finished run")

    monkeypatch.setattr(astrokeras.experiments, "run_recipe", no_training)
    monkeypatch.chdir(tmp_path)
    args = reproduce._parser().parse_args(shlex.split(
        "--out runs/reproduce photoz --seeds 0 1 --epochs 20 --fractions 0.05 0.1 0.2"))
    recipe = reproduce.build_recipes(args, reproduce.recipe_plan(args), "photoz")[1]["fgsm_fa10"]
    folder = Path(recipe["experiment"]["output"])
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"recipe": stored}))
    return recipe


def test_a_published_run_stored_in_the_former_recipe_format_is_reused(
        reproduce, tmp_path, monkeypatch, capsys):
    recipe = _published_photoz_run(reproduce, tmp_path, monkeypatch, STORED)
    assert reproduce._train(recipe) == Path("runs/reproduce/photoz/seed1/fgsm_fa10")
    assert "reuse runs/reproduce/photoz/seed1/fgsm_fa10" in capsys.readouterr().out


def test_a_finished_run_of_another_recipe_is_not_reused(reproduce, tmp_path, monkeypatch):
    other = json.loads(json.dumps(STORED))
    other["method"]["fraction"] = 0.2
    recipe = _published_photoz_run(reproduce, tmp_path, monkeypatch, other)
    with pytest.raises(reproduce.RecipeMismatch, match=r"method\.fraction \(0\.2 stored, 0\.1"):
        reproduce._train(recipe)


def test_a_tiny_run_trains_the_shipped_recipes_and_the_report_names_them(reproduce, tmp_path):
    out, page = tmp_path / "runs", tmp_path / "docs" / "results.md"
    reproduce.main(["--out", str(out), "morphology", "--n", "40", "--size", "16", "--epochs",
                    "1", "--seeds", "0", "--batch-size", "8", "--attack-n", "0"])
    results = json.loads((out / "morphology_convnet" / "results.json").read_text())
    shared = {"data.n": 40, "data.size": 16, "training.epochs": 1, "training.batch_size": 8}
    assert results["recipes"] == {
        "regular": {"file": "models/convnet_regular_y10_y1.toml", "overrides": shared},
        "mmd": {"file": "models/convnet_mmd_y10_y1.toml", "overrides": shared}}
    run = json.loads((out / "morphology_convnet/seed0/mmd/run.json").read_text())["recipe"]
    shipped = reproduce._shipped("models/convnet_mmd_y10_y1.toml")
    assert run["method"] == shipped["method"] and run["optimizer"] == shipped["optimizer"]
    assert (run["data"]["n"], run["training"]["epochs"]) == (40, 1)
    reproduce.main(["--out", str(out), "report", "--page", str(page)])
    lines = page.read_text().splitlines()
    assert reproduce.recipe_line(results) in lines
    assert (f"This section of the page: `python benchmarks/reproduce.py --out {out} report "
            f"--page {page} --only morphology_convnet`, after the commands that made its "
            "runs.") in lines
