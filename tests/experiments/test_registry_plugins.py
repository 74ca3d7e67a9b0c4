"""Adding a method, an attack, an architecture or a data kind is one definition plus one
registration: toys defined only in this file run through `run_recipe` and `astrokeras train`."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops
from typer.testing import CliRunner

from astrokeras.cli.app import app
from astrokeras.data import Record, Simulation, load_manifest
from astrokeras.errors import ConfigError
from astrokeras.experiments import (ARCHITECTURES, ATTACKS, DATA_KINDS, METHODS, AttackOutcome,
                                    find_method, load_recipe, run_recipe, transfer_method,
                                    validate_recipe)
from astrokeras.training import (FGSM, AdversarialTrainingModel, DomainAdaptationModel,
                                 TransferMethod)

MODELS = Path(__file__).parents[2] / "models"


class Blobs(Simulation):
    """Round (class 0) or elongated (class 1) Gaussian blobs, sharp and with noise."""

    kind = "toy_blobs"
    domains = ("sharp", "noisy")
    classes = ("round", "elongated")
    bands = ("r",)
    class_fractions = (1, 1)

    def __init__(self, size=16):
        self.size = size

    def get_config(self):
        return {"size": self.size}

    def simulate(self, index, seed, label):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, index)))
        y, x = np.mgrid[:self.size, :self.size] - (self.size - 1) / 2
        sx, sy = (2.0, 2.0) if label == 0 else (4.0, 1.5)
        image = np.exp(-0.5 * ((x / sx) ** 2 + (y / sy) ** 2))[..., None].astype(np.float32)
        noisy = image + rng.normal(0.0, 0.1, image.shape).astype(np.float32)
        return Record(int(index), int(label), {"sharp": image, "noisy": noisy})


def tiny_net(input_shape, num_classes, width=4):
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(width, 3, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    latent = keras.layers.Dense(8, name="latent")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(latent)
    return keras.Model(inputs, outputs, name="tiny_net")


@keras.saving.register_keras_serializable(package="test_registry_plugins")
class MeanGap(TransferMethod):
    """Squared distance between the two domains' mean latents."""

    def call(self, source_latent, target_latent, training=None):
        gap = ops.mean(source_latent, axis=0) - ops.mean(target_latent, axis=0)
        return ops.sum(gap * gap)


def sign_noise(model, x, y=None, *, target=None, batch_size=None, seed=0, callback=None,
               budget=0.05):
    """A random +-budget step per pixel (the toy attack's evaluation side)."""
    noise = np.sign(np.random.default_rng(seed).normal(size=np.shape(x)))
    return AttackOutcome(adversarial=np.clip(x + budget * noise, 0.0, 1.0).astype(np.float32))


def sign_noise_training_spec(options, clip, seed):
    return FGSM(eps=options["budget"], clip=clip)


@pytest.fixture(scope="module", autouse=True)
def plugins():
    DATA_KINDS.register("toy_blobs", lambda data: Blobs(size=data["size"]), source="sharp",
                        target="noisy", task="classification", survey="none")
    ARCHITECTURES.register("tiny_net", tiny_net, schema={"width": (int, 4, lambda v: v >= 1)},
                           task="classification")
    METHODS.register("mean_gap", transfer_method(lambda options, context: MeanGap(**options)),
                     schema={"weight": ((int, float), 0.5, lambda v: v >= 0)}, paired=True)
    ATTACKS.register("sign_noise", sign_noise, training_spec=sign_noise_training_spec,
                     schema={"budget": ((int, float), 0.05, lambda v: v > 0)},
                     check=lambda options: ("`budget` must stay below 0.5", ("budget",))
                     if options["budget"] >= 0.5 else None)
    yield
    DATA_KINDS.unregister("toy_blobs")
    ARCHITECTURES.unregister("tiny_net")
    METHODS.unregister("mean_gap")
    ATTACKS.unregister("sign_noise")


def _raw(tmp_path, method):
    return {
        "experiment": {"name": "toy", "seed": 0, "output": str(tmp_path / "run")},
        "data": {"kind": "toy_blobs", "directory": str(tmp_path / "data"), "n": 40,
                 "size": 16, "workers": 1},
        "model": {"architecture": "tiny_net", "width": 2},
        "method": method,
        "training": {"epochs": 1, "batch_size": 8, "steps_per_epoch": 2},
    }


def _check_toy_run(run, data, method):
    info = json.loads((run / "run.json").read_text())
    assert info["recipe"]["model"] == {"architecture": "tiny_net", "width": 2}
    manifest = load_manifest(data)  # the toy simulation wrote a real dataset folder
    assert manifest["kind"] == "toy_blobs" and manifest["domains"] == ["sharp", "noisy"]
    assert manifest["image_shape"] == [16, 16, 1] and manifest["n"] == 40
    assert (run / "model.keras").exists() and (run / "classifier.keras").exists()
    assert info["recipe"]["method"]["name"] == method


METHOD_TABLES = {
    "mean_gap": {"name": "mean_gap", "weight": 0.25},
    "sign_noise": {"name": "sign_noise", "budget": 0.03, "fraction": 0.5},
    "adversarial": {"name": "adversarial", "attack": "sign_noise", "budget": 0.03},
}


@pytest.mark.parametrize("method", sorted(METHOD_TABLES))
def test_toy_plugins_run_through_run_recipe(tmp_path, method):
    recipe = validate_recipe(_raw(tmp_path, METHOD_TABLES[method]))
    result = run_recipe(recipe, verbose=0)
    assert np.all(np.isfinite(result.history["loss"]))
    assert result.classifier.name == "tiny_net"
    convolution = [l for l in result.classifier.layers if isinstance(l, keras.layers.Conv2D)]
    assert convolution[0].filters == 2  # [model].width reached the factory
    if method == "mean_gap":
        assert isinstance(result.model, DomainAdaptationModel)
        assert isinstance(result.model.method, MeanGap) and result.model.method.weight == 0.25
        # validated without target labels: source labels paired with noisy target images
        assert {"val_source_accuracy", "val_transfer_loss"} <= set(result.history)
        assert "val_target_accuracy" not in result.history
    else:
        assert isinstance(result.model, AdversarialTrainingModel)
        assert result.model.attack.eps == pytest.approx(0.03)  # [method].budget reached it
        assert tuple(result.model.attack.clip) == (0.0, 1.0)
    _check_toy_run(tmp_path / "run", tmp_path / "data", method)


@pytest.mark.parametrize("method", ["mean_gap", "sign_noise"])
def test_toy_plugins_run_through_the_cli(tmp_path, method):
    options = "\n".join(f"{key} = {json.dumps(value)}"
                        for key, value in METHOD_TABLES[method].items())
    recipe = tmp_path / "toy.toml"
    recipe.write_text(f"""
[experiment]
name = "toy"
output = "{tmp_path / 'run'}"
[data]
kind = "toy_blobs"
directory = "{tmp_path / 'data'}"
n = 40
size = 16
workers = 1
[model]
architecture = "tiny_net"
width = 2
[method]
{options}
[training]
epochs = 1
batch_size = 8
steps_per_epoch = 2
""")
    result = CliRunner().invoke(app, ["train", str(recipe), "--verbose", "0"])
    assert result.exit_code == 0, result.output
    assert "Trained toy" in result.output
    _check_toy_run(tmp_path / "run", tmp_path / "data", method)
    assert (tmp_path / "run" / "recipe.toml").read_text() == recipe.read_text()


@pytest.mark.parametrize("section, key, value, entry", [
    ("model", "latent_dim", 8, "architecture 'tiny_net'"),
    ("method", "estimator", "biased", "method 'mean_gap'"),
    ("method", "eps", 0.01, "method 'sign_noise'"),  # the toy attack's budget is `budget`
    ("data", "unknown_class", 1, "data kind 'toy_blobs'"),
])
def test_an_entry_rejects_keys_it_does_not_take(tmp_path, section, key, value, entry):
    raw = _raw(tmp_path, {"name": "sign_noise" if "sign" in entry else "mean_gap"})
    raw[section][key] = value
    with pytest.raises(ConfigError, match=rf"unknown key \[{section}\]\.{key} \({entry} does "
                                          r"not take it\)"):
        validate_recipe(raw)


@pytest.mark.parametrize("section, key, registered", [
    ("data", "kind", ["morphology", "deepmerge", "photoz", "toy_blobs"]),
    ("model", "architecture", ["convnet", "resnet18", "tiny_net"]),
    ("method", "name", ["none", "mmd", "dann", "adversarial", "mean_gap", "fgsm", "pgd",
                        "sign_noise"]),
    ("method", "attack", ["fgsm", "pgd", "sign_noise"]),
])
def test_unknown_names_list_the_registered_ones(tmp_path, section, key, registered):
    raw = _raw(tmp_path, {"name": "adversarial", "attack": "sign_noise"})
    raw[section][key] = "no_such_thing"
    with pytest.raises(ConfigError, match=rf"\[{section}\]\.{key} has an unknown value") as info:
        validate_recipe(raw)
    allowed = info.value.allowed.split(", ")
    assert set(registered) <= set(allowed)
    assert "one-pixel" not in allowed  # no training_spec: not a method, not a training attack


def test_an_attacks_own_check_is_reported_in_recipe_terms(tmp_path):
    with pytest.raises(ConfigError, match=r"\[method\]\.budget must stay below 0\.5 "
                                          r"\(budget = 0\.7\)"):
        validate_recipe(_raw(tmp_path, {"name": "sign_noise", "budget": 0.7}))
    with pytest.raises(ConfigError, match=r"\[method\]\.step must not exceed \[method\]\.eps"):
        validate_recipe(_raw(tmp_path, {"name": "pgd", "eps": 0.01, "step": 0.02}))


def test_a_name_and_its_implied_attack_must_agree(tmp_path):
    with pytest.raises(ConfigError, match=r"\[method\]\.attack = 'fgsm' contradicts "
                                          r"\[method\]\.name = 'sign_noise'"):
        validate_recipe(_raw(tmp_path, {"name": "sign_noise", "attack": "fgsm"}))


def test_every_shipped_recipe_validates_and_names_registered_entries():
    recipes = sorted(MODELS.glob("*.toml"))
    assert len(recipes) >= 10
    for path in recipes:
        recipe = load_recipe(path)
        kind = DATA_KINDS.get(recipe["data"]["kind"])
        architecture = ARCHITECTURES.get(recipe["model"]["architecture"])
        assert architecture.metadata["task"] == kind.metadata["task"], path.name
        method, implied = find_method(recipe["method"]["name"])
        assert recipe["method"]["name"] in METHODS or method.name == "adversarial", path.name
        if method.metadata.get("paired"):
            assert recipe["data"]["target"] is not None, path.name


def test_shipped_fgsm_recipes_keep_their_meaning():
    for path in sorted(MODELS.glob("*fgsm*.toml")):
        recipe = load_recipe(path)
        method = recipe["method"]
        assert find_method("fgsm")[0].name == "adversarial"
        assert method["attack"] == "fgsm" and method["eps"] == 0.01, path.name
        assert method["label_source"] == "prediction" and 0 < method["fraction"] < 1
        spec = ATTACKS.get("fgsm").metadata["training_spec"](
            {k: method[k] for k in ATTACKS.get("fgsm").schema}, (0.0, 1.0), 0)
        assert isinstance(spec, FGSM) and spec.eps == 0.01 and tuple(spec.clip) == (0.0, 1.0)
