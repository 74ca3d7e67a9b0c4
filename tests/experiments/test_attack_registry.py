import json

import keras
import numpy as np
import pytest
from typer.testing import CliRunner

from experiment_helpers import saved_classifier
from astrokeras.cli.app import app
from astrokeras.errors import ConfigError, InvalidArgumentError
from astrokeras.experiments import (ATTACKS, REQUIRED, AttackOutcome, attack_options,
                                    run_attack, run_evaluation)
from astrokeras.training import FGSM, PGD


def test_the_three_attacks_are_registered_with_their_schemas():
    assert ATTACKS.names()[:3] == ("fgsm", "pgd", "one-pixel")
    assert ATTACKS.get("fgsm").schema["eps"][1] is REQUIRED
    assert ATTACKS.get("pgd").defaults == {"norm": "inf", "clip": None, "step": None,
                                           "steps": 10, "random_start": True}
    assert ATTACKS.get("one-pixel").defaults == {"pixels": 1, "popsize": 400, "max_iter": 80,
                                                 "strategy": "rand1", "init": "normal",
                                                 "bounds": None}
    assert "training_spec" not in ATTACKS.get("one-pixel").metadata


def test_training_specs_build_the_in_graph_attacks():
    fgsm = ATTACKS.get("fgsm").metadata["training_spec"]({"eps": 0.02}, (0.0, 1.0), 3)
    assert isinstance(fgsm, FGSM)
    assert fgsm.get_config() == {"eps": 0.02, "norm": "inf", "clip": (0.0, 1.0)}
    pgd = ATTACKS.get("pgd").metadata["training_spec"](
        {"eps": 0.02, "step": None, "steps": 3, "norm": "2"}, None, 7)
    assert isinstance(pgd, PGD)
    assert (pgd.step, pgd.steps, pgd.norm, pgd.seed, pgd.clip) == (0.005, 3, 2, 7, None)


def test_attack_options_fill_defaults_and_convert_command_line_text():
    _, options = attack_options("pgd", {"eps": "0.1", "steps": "3", "random_start": "false"})
    assert options == {"eps": 0.1, "norm": "inf", "clip": None, "step": 0.025, "steps": 3,
                       "random_start": False}


@pytest.mark.parametrize("name, given, message", [
    ("fgsm", {}, "`eps` is required for attack 'fgsm'"),
    ("fgsm", {"eps": 0.1, "popsize": 10}, "popsize does not apply to attack 'fgsm'"),
    ("fgsm", {"eps": -0.1}, "`eps` must be >= 0"),
    ("fgsm", {"eps": 0.1, "norm": "1"}, "Unknown `norm`"),
    ("pgd", {"eps": 0.1, "steps": 2.5}, "`steps` must be of type int"),
    ("pgd", {"eps": 0.1, "step": 0.2}, "`step` must not exceed `eps`"),
    ("one-pixel", {"popsize": 3}, "`popsize` must be >= 4"),
])
def test_attack_options_refuse_bad_options(name, given, message):
    with pytest.raises(InvalidArgumentError) as error:
        attack_options(name, given)
    assert message in str(error.value)


def test_attack_options_name_the_command_line_flags():
    with pytest.raises(InvalidArgumentError) as error:
        attack_options("fgsm", {"eps": 0.1, "popsize": 10},
                       {"eps": "--eps", "popsize": "--popsize"}, chosen_by="--method")
    assert "--popsize does not apply to --method fgsm" in str(error.value)
    with pytest.raises(ConfigError, match="Unknown attack 'cw'"):
        attack_options("cw", {})


def toy_attack(model, x, y=None, *, target=None, batch_size=None, seed=0, callback=None,
               shift=0.5):
    """Adds `shift` to every pixel: a toy attack defined only in this test."""
    if callback is not None:
        callback("shifting", 1, 1)
    return AttackOutcome(adversarial=np.asarray(x, np.float32) + shift,
                         summary={"toy_shift": shift})


@pytest.fixture
def toy():
    ATTACKS.register("toy-shift", toy_attack, description="adds a constant (test only)",
                     schema={"shift": ((int, float), 0.5, lambda v: v != 0)})
    yield
    ATTACKS.unregister("toy-shift")


@pytest.fixture
def files(tmp_path):
    _, x, y = saved_classifier(tmp_path, 10)
    np.savez(tmp_path / "pairs.npz", y10=x, y1=x + 0.1, label=y)
    return tmp_path, x


def test_a_registered_toy_attack_runs_through_the_cli(toy, files):
    folder, x = files
    result = CliRunner().invoke(app, [
        "attack", str(folder / "model.keras"), str(folder / "data.npz"), "--method",
        "toy-shift", "--option", "shift=0.25", "--n", "5", "--out", str(folder / "out")])
    assert result.exit_code == 0, result.output
    summary = json.loads((folder / "out" / "summary.json").read_text())
    assert summary["method"] == "toy-shift" and summary["toy_shift"] == 0.25
    assert summary["parameters"]["shift"] == 0.25 and summary["images"] == 5
    with np.load(folder / "out" / "adversarial.npz") as saved:
        np.testing.assert_allclose(saved["x"], x[:5] + 0.25, atol=1e-6)
    refused = CliRunner().invoke(app, [
        "attack", str(folder / "model.keras"), str(folder / "data.npz"), "--method",
        "toy-shift", "--eps", "0.1", "--out", str(folder / "refused")])
    assert refused.exit_code == 1
    assert "--eps does not apply to --method toy-shift" in refused.output


def test_a_registered_toy_attack_runs_through_the_library_workflows(toy, files):
    folder, x = files
    summary = run_attack(folder / "model.keras", folder / "data.npz", folder / "attack",
                         attack="toy-shift", n=4)
    assert summary["parameters"]["shift"] == 0.5 and summary["toy_shift"] == 0.5
    written = run_evaluation(folder / "model.keras", folder / "pairs.npz", folder / "evaluate",
                             domains=["y10", "y1"], attack="toy-shift",
                             options={"shift": -1.0}, n=6, resolution=3, bins=4)
    metrics = json.loads(open(written["metrics"]).read())
    assert metrics["parameters"]["attack"] == "toy-shift"
    assert metrics["parameters"]["attack_options"] == {"shift": -1.0}
    assert metrics["attack"]["model"]["images"] == 6
    # Success is judged from the model's predictions on the shifted images.
    model = keras.models.load_model(folder / "model.keras")
    labels = np.argmax(model.predict(x[:6], verbose=0), axis=1)
    flipped = np.argmax(model.predict(x[:6] - 1.0, verbose=0), axis=1) != labels
    assert flipped.any()
    assert metrics["attack"]["model"]["succeeded"] == int(flipped.sum())
    assert metrics["table3"]["model"]["toy-shift"]["n"] == int(flipped.sum())
