"""The serving guard: references fitted from the source training data, checks at predict time."""

import csv

import keras
import numpy as np
import pytest

from astrokeras import models
from astrokeras.data import MorphologySimulation, load, load_manifest, write_dataset
from astrokeras.experiments import export_model
from astrokeras.export import OnnxPredictor, predict_files, serving_guard
from conftest import assert_docstring_examples_pass


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """A 200-galaxy Y10/Y1 dataset and an (untrained) ConvNet exported with its guard."""
    folder = tmp_path_factory.mktemp("guard")
    write_dataset(MorphologySimulation(size=16), 200, str(folder / "data"), seed=3)
    keras.utils.set_random_seed(0)
    model = models.convnet((16, 16, 3))
    model.save(folder / "convnet.keras")
    export_model(folder / "convnet.keras", folder / "convnet.onnx", dataset=folder / "data")
    return folder, model, OnnxPredictor(folder / "convnet.onnx")


def images(directory, domain, split, preprocess=False):
    return np.concatenate([x.numpy() for x, _ in load(
        str(directory), domain, split, batch_size=64, shuffle=False, augment_images=False,
        preprocess=preprocess)])


def test_stored_reference_matches_numpy_on_the_source_images(guarded):
    folder, model, predictor = guarded
    guard = predictor.metadata["serving_guard"]
    stretch = predictor.metadata["preprocessing"]
    raw = images(folder / "data", "y10", "train")
    low, high = np.array(stretch["low"]), np.array(stretch["high"])
    outside = (raw < low) | (raw > high)
    reference = guard["outside_clip_reference"]
    assert reference["domain"] == "y10" and reference["images"] == len(raw) == 140
    assert reference["fraction"] == pytest.approx(outside.mean(), rel=1e-5)
    np.testing.assert_allclose(reference["per_band"], outside.mean(axis=(0, 1, 2)), rtol=1e-5)
    assert 0.001 < reference["fraction"] < 0.003  # the 0.1 / 99.9 percentile clip
    assert guard["warn_above"] == {"outside_clip": 0.01, "above_latent_threshold": 0.05,
                                   "min_objects": 20}

    encoder = keras.Model(model.inputs, model.get_layer("latent").output)
    train = encoder.predict(images(folder / "data", "y10", "train", stretch), verbose=0)
    validation = encoder.predict(images(folder / "data", "y10", "validation", stretch),
                                 verbose=0)
    fit = train[0::2].astype(np.float64)
    std = fit.std(axis=0)
    scale = np.maximum(std, 0.01 * std.mean())
    latent = guard["latent"]
    np.testing.assert_allclose(latent["mean"], fit.mean(axis=0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(latent["scale"], scale, rtol=1e-4)
    held = np.concatenate([train[1::2], validation])
    scores = np.sqrt((((held - fit.mean(axis=0)) / scale) ** 2).mean(axis=1))
    assert latent["threshold"] == pytest.approx(np.quantile(scores, 0.99), rel=1e-4)
    assert (latent["fit_images"], latent["calibration_images"]) == (70, 90)
    assert (scores > latent["threshold"]).sum() == 1  # 1 % of 90 held-out images


def test_in_range_inputs_do_not_warn_and_shifted_ones_do(guarded, tmp_path):
    folder, _, predictor = guarded
    test = images(folder / "data", "y10", "test")
    np.save(tmp_path / "y10_test.npy", test)
    np.save(tmp_path / "y1_test.npy", images(folder / "data", "y1", "test"))
    np.save(tmp_path / "bright.npy", 20 * test)
    clean = predict_files(predictor, [tmp_path / "y10_test.npy"], tmp_path / "a.csv")
    assert clean.rows == 40 and clean.warnings == []
    stats = clean.guard.files[0][1]
    assert stats.outside_clip < 0.01 and stats.above_latent_threshold <= 0.05

    report = predict_files(predictor, [tmp_path / "y10_test.npy", tmp_path / "y1_test.npy",
                                       tmp_path / "bright.npy"], tmp_path / "b.csv")
    [(_, y10), (_, y1), (_, bright)] = report.guard.files
    assert y10 == stats
    # Y1 (shallower, noisier) images cross the clip limit; x 20 cross both.
    assert y1.outside_clip > 0.02 and bright.outside_clip > 0.5
    assert bright.above_latent_threshold == 1.0 and bright.mean_ood_score > 3
    named = [w.split(":")[0] for w in report.warnings]
    assert named == [str(tmp_path / "y1_test.npy"), str(tmp_path / "bright.npy"),
                     str(tmp_path / "bright.npy"), "all inputs", "all inputs"]
    assert "outside the training clip range (limit 1.00%" in report.warnings[0]
    assert "above the latent out-of-distribution threshold" in report.warnings[2]
    assert report.guard.total.objects == 120
    assert report.guard.total.outside_clip == pytest.approx(
        np.mean([y10.outside_clip, y1.outside_clip, bright.outside_clip]))


def test_csv_columns_are_the_per_object_numbers(guarded, tmp_path):
    folder, _, predictor = guarded
    raw = images(folder / "data", "y1", "test")[:5]
    np.save(tmp_path / "x.npy", raw)
    predict_files(predictor, [tmp_path / "x.npy"], tmp_path / "x.csv", batch_size=2)
    with open(tmp_path / "x.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[-2:] == ["outside_clip", "ood_score"]
    stretch = predictor.metadata["preprocessing"]
    outside = ((raw < stretch["low"]) | (raw > stretch["high"])).reshape(5, -1).mean(axis=1)
    np.testing.assert_allclose([float(r["outside_clip"]) for r in rows], outside, rtol=1e-5)
    _, latent = predictor.predict(raw, preprocess=True, return_latent=True)
    guard = predictor.metadata["serving_guard"]["latent"]
    expected = np.sqrt((((latent - guard["mean"]) / np.array(guard["scale"])) ** 2).mean(1))
    np.testing.assert_allclose([float(r["ood_score"]) for r in rows], expected, rtol=1e-4)


def test_small_files_are_reported_not_judged():
    meta = {"preprocessing": {"method": "clip_arcsinh", "low": [0.0], "high": [1.0]},
            "serving_guard": {"outside_clip_reference": {"fraction": 0.002}, "latent": None,
                              "warn_above": {"outside_clip": 0.01,
                                             "above_latent_threshold": 0.05,
                                             "min_objects": 20}}}
    guard = serving_guard.ServingGuard(meta)
    out = np.full((19, 2, 2, 1), 5.0)
    guard.observe(["few"] * 19, out)
    guard.observe(["many"] * 20, np.concatenate([out[:1], np.zeros((19, 2, 2, 1))]))
    report = guard.report()
    assert [(name, s.objects, s.outside_clip) for name, s in report.files] == [
        ("few", 19, 1.0), ("many", 20, 0.05)]
    assert report.warnings == [
        "many: 5.00% of the pixels are outside the training clip range (limit 1.00%; 0.20% "
        "in training).",
        "all inputs: 51.28% of the pixels are outside the training clip range (limit 1.00%; "
        "0.20% in training)."]
    assert "no latent out-of-distribution score" in report.notes[0]


def test_docstring_examples_run():
    assert_docstring_examples_pass("astrokeras.export.serving_guard")


def test_a_run_fits_on_its_source_with_the_source_stretch(guarded, tmp_path):
    import json

    folder, model, _ = guarded
    manifest = load_manifest(str(folder / "data"))
    source = dict(manifest["per_domain_preprocessing"]["y10"])
    target = dict(manifest["per_domain_preprocessing"]["y1"])  # as for domain_normalisation
    recipe = {"data": {"directory": str(folder / "data"), "source": "y10", "target": "y1"}}
    run = tmp_path / "run"
    run.mkdir()
    model.save(run / "classifier.keras")
    (run / "run.json").write_text(json.dumps({"recipe": recipe, "dataset": {},
                                              "preprocessing": {"source": source,
                                                                "target": target}}))
    result = export_model(run / "classifier.keras", tmp_path / "m.onnx")
    guard = result.metadata["serving_guard"]
    assert result.metadata["preprocessing"]["high"] == target["high"]
    # The clip reference is measured where the served stretch was fitted (Y1's training
    # split), so it is again about 0.2 %; the latent one on the source as it was trained.
    assert guard["outside_clip_reference"]["domain"] == "y1"
    assert 0.001 < guard["outside_clip_reference"]["fraction"] < 0.004
    assert guard["fitted_on"] == {"domain": "y10", "split": "train", "images": 140}
    assert guard["latent"]["preprocessing"]["high"] == source["high"] != target["high"]

    result = export_model(run / "classifier.keras", tmp_path / "m.onnx",
                          outputs="probabilities")
    assert result.metadata["serving_guard"]["latent"] is None
