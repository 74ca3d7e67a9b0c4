"""The one-preprocessing contract: manifest, run, export and predict share one stretch."""

import csv
import json

import numpy as np
import pytest

from astrokeras.experiments import run_recipe, validate_recipe


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from astrokeras.data import MorphologySimulation, write_dataset

    directory = tmp_path_factory.mktemp("one_preprocessing")
    write_dataset(MorphologySimulation(size=16), 40, directory, seed=3)
    return directory


def _recipe(dataset, output, method, **data):
    return validate_recipe({
        "experiment": {"name": "t", "seed": 0, "output": str(output)},
        "data": {"kind": "morphology", "directory": str(dataset), **data},
        "model": {"architecture": "convnet"},
        "method": {"name": method},
        "training": {"epochs": 1, "batch_size": 8},
    })


def _raw(dataset, domain, split):
    from astrokeras.data import load

    return np.concatenate([x.numpy() for x, _ in load(dataset, domain, split, batch_size=64,
                                                      shuffle=False, augment_images=False,
                                                      preprocess=False)])


@pytest.fixture(scope="module")
def mmd_run(dataset, tmp_path_factory):
    return run_recipe(_recipe(dataset, tmp_path_factory.mktemp("mmd") / "run", "mmd"),
                      verbose=0)


def test_the_manifest_the_run_and_the_export_hold_one_stretch(dataset, mmd_run, tmp_path):
    from astrokeras.data import ClipArcsinh, load_manifest
    from astrokeras.experiments import export_model
    from astrokeras.experiments.run import target_training_images, validation_images

    manifest = load_manifest(dataset)
    stored = json.loads((mmd_run.directory / "run.json").read_text())["preprocessing"]
    assert stored == {"source": manifest["preprocessing"], "target": manifest["preprocessing"]}
    assert manifest["preprocessing"]["fitted_on"]["domain"] == "y10"
    result = export_model(mmd_run.directory / "classifier.keras", tmp_path / "m.onnx")
    from astrokeras.export import read_metadata

    exported = read_metadata(result.path)["preprocessing"]
    assert exported == manifest["preprocessing"]
    # What the target's images get in training (AdaBN's images) and in validation: the
    # source-fitted transform, not the target's own limits.
    one = ClipArcsinh.from_config(manifest["preprocessing"])
    own = ClipArcsinh.from_config(manifest["per_domain_preprocessing"]["y1"])
    assert one != own
    images = np.concatenate([x.numpy() for x in target_training_images(mmd_run.recipe,
                                                                       manifest)])
    np.testing.assert_allclose(images, one(_raw(dataset, "y1", "train")), atol=1e-6)
    images = np.concatenate([x.numpy() for x in validation_images(mmd_run.recipe, manifest)])
    np.testing.assert_allclose(images, one(_raw(dataset, "y1", "validation")), atol=1e-6)


def test_the_exported_model_predicts_the_target_as_the_run_evaluates_it(dataset, mmd_run,
                                                                        tmp_path):
    from astrokeras.data import load
    from astrokeras.experiments import export_model
    from astrokeras.export import OnnxPredictor, predict_files

    export_model(mmd_run.directory / "classifier.keras", tmp_path / "m.onnx")
    report = predict_files(OnnxPredictor(tmp_path / "m.onnx"), [dataset], tmp_path / "p.csv",
                           domain="y1")
    assert report.failed == [] and report.rows == 40
    with open(tmp_path / "p.csv") as handle:
        rows = list(csv.DictReader(handle))
    exported = np.array([[float(row[f"p_{c}"]) for c in ("spiral", "elliptical", "merger")]
                         for row in rows])
    stretched = load(dataset, "y1", "all", batch_size=64, shuffle=False, augment_images=False)
    trained = np.concatenate([mmd_run.classifier(x, training=False).numpy()
                              for x, _ in stretched])
    np.testing.assert_allclose(exported, trained, atol=1e-4)


def test_per_domain_fitting_is_the_named_method_and_serves_the_target_own_stretch(dataset,
                                                                                   tmp_path):
    from astrokeras.data import load_manifest
    from astrokeras.errors import ConfigError
    from astrokeras.experiments import export_model
    from astrokeras.export import read_metadata

    for method in ("none", "mmd", "adabn"):
        with pytest.raises(ConfigError, match=r"'per-domain' .*normalisation-based adaptation"
                                              r".*\[method\].name = 'domain_normalisation'"):
            _recipe(dataset, tmp_path / "x", method, preprocessing="per-domain")
    with pytest.raises(ConfigError, match="contradicts"):
        _recipe(dataset, tmp_path / "x", "domain_normalisation", preprocessing="source")
    recipe = _recipe(dataset, tmp_path / "run", "domain_normalisation")
    assert recipe["data"]["preprocessing"] == "per-domain"
    result = run_recipe(recipe, verbose=0)
    manifest = load_manifest(dataset)
    own = manifest["per_domain_preprocessing"]
    stored = json.loads((result.directory / "run.json").read_text())["preprocessing"]
    assert stored == {"source": own["y10"], "target": own["y1"]}
    assert own["y10"] == manifest["preprocessing"]  # the source trains as in every method
    export_model(result.directory / "classifier.keras", tmp_path / "m.onnx")
    assert read_metadata(tmp_path / "m.onnx")["preprocessing"] == own["y1"]


def test_evaluate_and_attack_read_the_images_as_the_models_runs_stretched_them(dataset,
                                                                               mmd_run,
                                                                               tmp_path):
    from astrokeras.data import load_manifest
    from astrokeras.errors import InvalidArgumentError
    from astrokeras.experiments.run import trained_stretch

    manifest = load_manifest(dataset)
    mmd_model = mmd_run.directory / "classifier.keras"
    assert trained_stretch([mmd_model]) == manifest["preprocessing"]
    result = run_recipe(_recipe(dataset, tmp_path / "norm", "domain_normalisation"), verbose=0)
    normalised = result.directory / "classifier.keras"
    assert trained_stretch([normalised]) == "per-domain"
    with pytest.raises(InvalidArgumentError, match="different image stretches"):
        trained_stretch([mmd_model, normalised])
    (tmp_path / "alone").mkdir()
    result.classifier.save(tmp_path / "alone" / "m.keras")
    assert trained_stretch([tmp_path / "alone" / "m.keras"]) is True


def test_the_shipped_normalisation_recipe_is_the_regular_one_with_the_method_changed():
    from pathlib import Path

    from astrokeras.experiments import load_recipe

    models = Path(__file__).resolve().parents[2] / "models"
    normalised = load_recipe(models / "convnet_domain_normalisation_y10_y1.toml")
    regular = load_recipe(models / "convnet_regular_y10_y1.toml")
    assert normalised["method"] == {**regular["method"], "name": "domain_normalisation"}
    assert normalised["data"] == {**regular["data"], "preprocessing": "per-domain"}
    assert regular["data"]["preprocessing"] == "source"
    for section in ("model", "optimizer", "training"):
        assert normalised[section] == regular[section], section


def test_the_serving_guard_of_an_adapted_model_counts_its_target_as_training_data(
        dataset, mmd_run, tmp_path):
    from astrokeras.data import ClipArcsinh, load_manifest
    from astrokeras.experiments import export_model
    from astrokeras.export import read_metadata

    export_model(mmd_run.directory / "classifier.keras", tmp_path / "m.onnx")
    guard = read_metadata(tmp_path / "m.onnx")["serving_guard"]
    reference = guard["outside_clip_reference"]
    one = ClipArcsinh.from_config(load_manifest(dataset)["preprocessing"])
    raw = _raw(dataset, "y1", "train")
    outside = np.mean((raw < np.array(one.low)) | (raw > np.array(one.high)))
    assert reference["adapted_to"]["domain"] == "y1"
    np.testing.assert_allclose(reference["adapted_to"]["fraction"], outside, rtol=1e-3)
    expected = max(0.01, 5 * reference["fraction"], 1.5 * reference["adapted_to"]["fraction"])
    np.testing.assert_allclose(guard["warn_above"]["outside_clip"], expected, rtol=1e-3)
    # a model trained on the source alone has no adapted target
    regular = run_recipe(_recipe(dataset, tmp_path / "regular", "none"), verbose=0)
    export_model(regular.directory / "classifier.keras", tmp_path / "r.onnx")
    assert read_metadata(tmp_path / "r.onnx")["serving_guard"][
        "outside_clip_reference"]["adapted_to"] is None
