import json

import keras
import numpy as np
import pytest

import astrokeras.experiments.adabn as adabn_module
from astrokeras import data as data_lib
from astrokeras.errors import ConfigError
from astrokeras.experiments import ARCHITECTURES, load_recipe, run_recipe, validate_recipe
from astrokeras.saving import load_model
from astrokeras.training import batch_norm_layers

BN = ("bn1", "bn2", "bn3")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from astrokeras.data import MorphologySimulation, write_dataset

    directory = tmp_path_factory.mktemp("morphology")
    write_dataset(MorphologySimulation(size=16), 40, directory, seed=2)
    return directory


def _recipe(dataset, tmp_path, **sections):
    raw = {
        "experiment": {"name": "t", "seed": 0, "output": str(tmp_path / "run")},
        "data": {"kind": "morphology", "directory": str(dataset), "n": 40, "size": 16},
        "model": {"architecture": "convnet"},
        "method": {"name": "adabn"},
        "training": {"epochs": 1, "batch_size": 8, "steps_per_epoch": 2},
    }
    for section, values in sections.items():
        raw[section].update(values)
    return validate_recipe(raw)


class _StatisticsAtTrainEnd(keras.callbacks.Callback):
    """The batch-norm statistics `fit` left, before anything runs after it."""

    def on_train_end(self, logs=None):
        self.statistics = {layer.name: (layer.moving_mean.numpy().copy(),
                                        layer.moving_variance.numpy().copy())
                           for layer in batch_norm_layers(self.model)}


def _target_moments(classifier, dataset, name):
    """Per-channel mean and variance of a layer's inputs over the Y1 training images."""
    images = np.concatenate([x.numpy() for x, _ in data_lib.load(
        dataset, "y1", "train", batch_size=64, shuffle=False, augment_images=False)])
    inputs = keras.Model(classifier.inputs, classifier.get_layer(name).input).predict(
        images, verbose=0).astype(np.float64)
    return inputs.mean(axis=(0, 1, 2)), inputs.var(axis=(0, 1, 2)), len(images)


def test_the_saved_models_hold_the_target_statistics_not_those_fit_left(dataset, tmp_path):
    trained = _StatisticsAtTrainEnd()
    result = run_recipe(_recipe(dataset, tmp_path), verbose=0, extra_callbacks=[trained])
    run = tmp_path / "run"
    for file in ("classifier.keras", "model.keras"):
        saved = load_model(run / file)
        for name in BN:
            layer = saved.get_layer(name)
            mean, variance, count = _target_moments(saved, dataset, name)
            assert not np.allclose(layer.moving_mean.numpy(), trained.statistics[name][0])
            assert not np.allclose(layer.moving_variance.numpy(), trained.statistics[name][1])
            np.testing.assert_allclose(layer.moving_mean.numpy(), mean, rtol=1e-4, atol=1e-6)
            np.testing.assert_allclose(layer.moving_variance.numpy(), variance, rtol=1e-4,
                                       atol=1e-6)
    record = json.loads((run / "run.json").read_text())["after_fit"]
    assert record == {"method": "adabn", "images": count, "layers": list(BN)}
    assert result.classifier.get_layer("bn1").moving_mean.numpy() == pytest.approx(
        load_model(run / "classifier.keras").get_layer("bn1").moving_mean.numpy())


def test_the_adaptation_is_handed_the_target_images_and_no_label(dataset, tmp_path,
                                                                  monkeypatch):
    seen = []
    real = adabn_module.adapt_batch_norm

    def spy(model, images, **kwargs):
        seen.append(images.element_spec)
        return real(model, images, **kwargs)

    monkeypatch.setattr(adabn_module, "adapt_batch_norm", spy)
    run_recipe(_recipe(dataset, tmp_path), verbose=0)
    (spec,) = seen
    # one tensor of image batches: the target's labels are dropped before the hook
    assert spec.shape.as_list() == [None, 16, 16, 3]
    assert spec.dtype.name == "float32"


def test_a_recipe_without_a_target_domain_is_refused_as_for_domain_adaptation():
    raw = {"experiment": {"name": "t"}, "data": {"kind": "photoz", "directory": "d"},
           "model": {"architecture": "simple_photoz_cnn"}, "method": {"name": "adabn"}}
    with pytest.raises(ConfigError, match=r"\[method\]\.name = 'adabn' needs a target domain "
                                          r"\(\[data\]\.target\)"):
        validate_recipe(raw)


def test_an_architecture_without_batch_normalisation_is_refused_before_training(
        dataset, tmp_path):
    def dense(input_shape, num_classes):
        inputs = keras.Input(input_shape, name="image")
        latent = keras.layers.Dense(4, name="latent")(keras.layers.Flatten()(inputs))
        return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(latent))

    ARCHITECTURES.register("dense_no_bn", dense, task="classification")
    try:
        recipe = _recipe(dataset, tmp_path, model={"architecture": "dense_no_bn"})
        with pytest.raises(ConfigError, match="'adabn' needs an architecture with batch "
                                              "normalisation"):
            run_recipe(recipe, verbose=0)
    finally:
        ARCHITECTURES.unregister("dense_no_bn")
    assert not (tmp_path / "run" / "history.csv").exists()


def test_the_shipped_adabn_recipe_is_the_regular_one_with_the_method_changed():
    from pathlib import Path

    models = Path(__file__).resolve().parents[2] / "models"
    adabn = load_recipe(models / "convnet_adabn_y10_y1.toml")
    regular = load_recipe(models / "convnet_regular_y10_y1.toml")
    assert adabn["method"] == {**regular["method"], "name": "adabn"}
    for section in ("data", "model", "optimizer", "training"):
        assert adabn[section] == regular[section], section
