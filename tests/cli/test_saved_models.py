"""The CLI on saved models with astrokeras layers, run in fresh Python processes.

A fresh process knows astrokeras' Keras classes (ResidualBlock, InceptionCell,
DomainAdaptationModel, MMD) only if the command registers them before loading; tests that load
models in the pytest process cannot see a command that forgets to. `attack`, `evaluate`,
`export` and `predict` run on a tiny ResNet18, a tiny Inception photo-z network and a tiny MMD
domain-adaptation model, in two subprocesses (one TensorFlow start-up each, about 10 s): the
commands that read .keras files for evaluation, then export and prediction; `train` on a tiny
recipe, followed in the same process by `attack` on the domain-adaptation model it saved.
"""

import csv
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

# Runs `astrokeras ARGS...` for each argument list of argv[1] (JSON) in one fresh process,
# stopping at the first failure with its exit code.
DRIVER = """
import json, sys
from astrokeras.cli.app import app
for args in json.loads(sys.argv[1]):
    try:
        app(args, prog_name="astrokeras")
    except SystemExit as exit:
        if exit.code:
            print("FAILED: astrokeras " + " ".join(args), file=sys.stderr)
            sys.exit(exit.code)
"""


def run_commands(*commands):
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2",
               MPLBACKEND="Agg", CUDA_VISIBLE_DEVICES="")
    arguments = [[str(a) for a in command] for command in commands]
    return subprocess.run([sys.executable, "-c", DRIVER, json.dumps(arguments)], env=env,
                          capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The three models saved to .keras, with attack (x, y) and evaluation data for each."""
    from astrokeras import models
    from astrokeras.training import MMD, DomainAdaptationModel

    folder = tmp_path_factory.mktemp("saved_models")
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    models.resnet18(input_shape=(32, 32, 3), num_classes=3).save(folder / "resnet18.keras")
    models.inception_photoz(image_shape=(8, 8, 5), num_bins=20).save(folder / "photoz.keras")
    DomainAdaptationModel(models.convnet((16, 16, 3)), MMD()).save(folder / "mmd.keras")
    for name, size in (("resnet18", 32), ("mmd", 16)):
        y10 = rng.uniform(size=(12, size, size, 3)).astype(np.float32)
        y1 = (y10 + 0.1 * rng.normal(size=y10.shape)).astype(np.float32)
        labels = rng.integers(0, 3, 12)
        np.savez(folder / f"{name}_pairs.npz", y10=y10, y1=y1, label=labels)
        np.savez(folder / f"{name}.npz", x=y10[:4], y=labels[:4])
    np.savez(folder / "photoz.npz", x=rng.uniform(size=(6, 8, 8, 5)).astype(np.float32),
             ebv=rng.uniform(0, 0.1, 6).astype(np.float32), z=rng.uniform(0.01, 0.39, 6))
    return folder


def _attack(folder, name):
    return ["attack", folder / f"{name}.keras", folder / f"{name}.npz", "--method", "fgsm",
            "--eps", "0.01", "--out", folder / "attack" / name]


def _evaluate(folder, name):
    data = folder / (f"{name}.npz" if name == "photoz" else f"{name}_pairs.npz")
    return ["evaluate", folder / f"{name}.keras", "--data", data, "--resolution", "3",
            "--bins", "4", "--out", folder / "evaluate" / name]


def test_attack_and_evaluate_load_every_model_in_a_fresh_process(saved):
    # The first command of the process attacks the ResNet18: nothing has registered
    # ResidualBlock yet unless `attack` itself does.
    result = run_commands(_attack(saved, "resnet18"), _evaluate(saved, "photoz"),
                          _attack(saved, "photoz"), _evaluate(saved, "mmd"),
                          _attack(saved, "mmd"), _evaluate(saved, "resnet18"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Could not locate class" not in result.stderr
    for name, count in (("resnet18", 4), ("photoz", 6), ("mmd", 4)):
        summary = json.loads((saved / "attack" / name / "summary.json").read_text())
        assert summary["method"] == "fgsm" and summary["images"] == count
        with np.load(saved / "attack" / name / "adversarial.npz") as adversarial:
            assert adversarial["x"].shape[0] == count
    photoz = json.loads((saved / "evaluate" / "photoz" / "metrics.json").read_text())
    assert photoz["photoz"]["photoz"]["photoz.npz"]["mean"]["n"] == 6
    for name in ("mmd", "resnet18"):
        metrics = json.loads((saved / "evaluate" / name / "metrics.json").read_text())
        assert list(metrics["table2"][name]) == ["y10", "y1"]
        assert metrics["table3"][name]["y1"]["n"] == 12


def test_export_and_predict_every_model_in_a_fresh_process(saved):
    for name in ("resnet18", "mmd"):
        with np.load(saved / f"{name}.npz") as arrays:
            np.save(saved / f"{name}_x.npy", arrays["x"])
    exports = [["export", saved / f"{name}.keras", "--format", "onnx", "--out",
                saved / "onnx" / f"{name}.onnx"] for name in ("mmd", "resnet18", "photoz")]
    predictions = [["predict", saved / "onnx" / f"{name}.onnx", data, "--out",
                    saved / f"{name}.csv", "--threads", "1"]
                   for name, data in (("resnet18", saved / "resnet18_x.npy"),
                                      ("photoz", saved / "photoz.npz"),
                                      ("mmd", saved / "mmd_x.npy"))]
    result = run_commands(*exports, *predictions)
    assert result.returncode == 0, result.stderr[-3000:]
    for name, rows in (("resnet18", 4), ("photoz", 6), ("mmd", 4)):
        with open(saved / f"{name}.csv") as handle:
            assert len(list(csv.DictReader(handle))) == rows


def test_train_then_attack_its_saved_model_in_a_fresh_process(tmp_path):
    # `train` writes model.keras (the DomainAdaptationModel) and classifier.keras; a later
    # command in the same fresh process reads the wrapper back.
    recipe = tmp_path / "mmd.toml"
    recipe.write_text(f"""
[experiment]
name = "tiny_mmd"
output = "{tmp_path / 'run'}"
[data]
kind = "morphology"
directory = "{tmp_path / 'data'}"
n = 40
size = 16
[model]
architecture = "convnet"
latent_dim = 8
[method]
name = "mmd"
[training]
epochs = 1
batch_size = 8
steps_per_epoch = 2
""")
    result = run_commands(["train", recipe, "--verbose", "0"],
                          ["attack", tmp_path / "run" / "model.keras", tmp_path / "data",
                           "--method", "fgsm", "--eps", "0.01", "--n", "4", "--domain", "y1",
                           "--out", tmp_path / "attack"])
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "attack" / "summary.json").read_text())
    assert summary["images"] == 4 and summary["parameters"]["domain"] == "y1"
    assert (tmp_path / "run" / "classifier.keras").is_file()
