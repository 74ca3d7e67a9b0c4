"""`astrokeras.load_model` loads every astrokeras model in a fresh process."""

import subprocess
import sys

import pytest

from astrokeras import DataError, load_model

FRESH_LOAD = """
import sys
import astrokeras
model = astrokeras.load_model(sys.argv[1])
print(type(model).__name__, model.count_params())
"""


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    import keras

    from astrokeras import models, training

    folder = tmp_path_factory.mktemp("saved")
    resnet = models.resnet18(input_shape=(32, 32, 3), num_classes=2)
    photoz = models.inception_photoz(image_shape=(32, 32, 5), num_bins=8)
    adapted = training.DomainAdaptationModel(
        models.convnet(input_shape=(32, 32, 3), num_classes=2, latent_dim=8),
        training.MMD(weight=0.1))
    adapted.compile(optimizer=keras.optimizers.Adam(1e-3))
    adapted((keras.ops.zeros((2, 32, 32, 3))))
    paths = {}
    for name, model in (("resnet18", resnet), ("inception", photoz), ("mmd", adapted)):
        paths[name] = folder / f"{name}.keras"
        model.save(paths[name])
    return paths, {"resnet18": resnet.count_params(), "inception": photoz.count_params(),
                   "mmd": adapted.count_params()}


@pytest.mark.parametrize("name", ["resnet18", "inception", "mmd"])
def test_fresh_process_loads_models_with_astrokeras_layers(saved, name):
    paths, params = saved
    done = subprocess.run([sys.executable, "-c", FRESH_LOAD, str(paths[name])],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    kind, count = done.stdout.split()[-2:]
    assert int(count) == params[name]
    assert kind == ("DomainAdaptationModel" if name == "mmd" else "Functional")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.keras"):
        load_model(tmp_path / "nope.keras")


def test_unreadable_file_is_a_data_error_naming_it(tmp_path):
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="bad.keras"):
        load_model(bad)
