import csv

import keras
import numpy as np
import pytest

from astrokeras.training.recipe import validate_recipe
from astrokeras.training.run import run_recipe


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from astrokeras.data import MorphologySimulation, write_dataset

    directory = tmp_path_factory.mktemp("morphology")
    write_dataset(MorphologySimulation(size=32), 80, directory, seed=2)
    return directory


def _recipe(dataset, tmp_path, method="none", epochs=3, unknown_class=-1, **method_options):
    return validate_recipe({
        "experiment": {"name": "t", "seed": 0, "output": str(tmp_path / "run")},
        "data": {"kind": "morphology", "directory": str(dataset), "unknown_class": unknown_class},
        "model": {"architecture": "convnet"},
        "method": {"name": method, **method_options},
        "training": {"epochs": epochs, "batch_size": 16},
    })


class Interrupt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_interrupted_run_resumes_from_its_backup(dataset, tmp_path):
    recipe = _recipe(dataset, tmp_path, "mmd", epochs=4)
    with pytest.raises(KeyboardInterrupt):
        run_recipe(recipe, verbose=0, extra_callbacks=[Interrupt(2)])
    run = tmp_path / "run"
    assert (run / "backup").exists() and not (run / "model.keras").exists()
    result = run_recipe(recipe, verbose=0)
    assert result.resumed
    assert len(result.history["loss"]) == 2  # epochs 2 and 3 only
    with open(run / "history.csv") as handle:
        epochs = [int(row["epoch"]) for row in csv.DictReader(handle)]
    assert epochs == [0, 1, 2, 3]
    assert not (run / "backup").exists()
    assert isinstance(keras.models.load_model(run / "classifier.keras"), keras.Model)


@pytest.mark.parametrize("method", ["none", "dann", "fgsm"])
def test_each_kind_of_method_trains_and_saves(dataset, tmp_path, method):
    result = run_recipe(_recipe(dataset, tmp_path, method, epochs=1), verbose=0)
    assert np.all(np.isfinite(result.history["loss"]))
    run = tmp_path / "run"
    for name in ("model.keras", "classifier.keras", "run.json", "history.csv"):
        assert (run / name).exists(), name
    assert any((run / "logs").rglob("*tfevents*"))


def test_universal_da_holds_the_unknown_class_out_of_the_source(dataset, tmp_path):
    recipe = _recipe(dataset, tmp_path, "universal", epochs=1, unknown_class=2)
    result = run_recipe(recipe, verbose=0)
    assert result.classifier.output.shape[-1] == 2
