import numpy as np
import onnxruntime as ort
import pytest
from typer.testing import CliRunner

from astrokeras import models
from astrokeras.cli.app import app
from astrokeras.export import read_metadata

runner = CliRunner()


@pytest.fixture
def saved_convnet(tmp_path):
    model = models.convnet((16, 16, 3))
    model.save(tmp_path / "convnet.keras")
    return model, tmp_path / "convnet.keras"


def run(*args):
    return runner.invoke(app, ["export", *map(str, args)])


def test_onnx_export_with_metadata_and_parity_line(saved_convnet, tmp_path):
    model, path = saved_convnet
    recipe = tmp_path / "recipe.toml"
    recipe.write_text("[model]\n")
    out = tmp_path / "out" / "convnet.onnx"
    result = run(path, "--format", "onnx", "--out", out, "--class-names",
                 "spiral,elliptical,merger", "--bands", "g,r,i", "--recipe", recipe)
    assert result.exit_code == 0, result.output
    assert f"Wrote {out} (onnx, opset 15); parity max |diff|: probabilities" in result.output
    meta = read_metadata(out)
    assert meta["class_names"] == ["spiral", "elliptical", "merger"]
    assert meta["bands"] == ["g", "r", "i"] and meta["recipe"]["file"] == "recipe.toml"
    x = np.random.default_rng(0).uniform(size=(2, 16, 16, 3)).astype("float32")
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(["probabilities"], {"image": x})[0],
                               model.predict(x, verbose=0), atol=1e-4)


def test_saved_model_export_of_a_photoz_model(tmp_path):
    models.simple_photoz_cnn((16, 16, 5), num_bins=6).save(tmp_path / "pz.keras")
    result = run(tmp_path / "pz.keras", "--format", "saved_model", "--out", tmp_path / "pz",
                 "--z-min", "0", "--z-max", "0.6", "--outputs", "probabilities")
    assert result.exit_code == 0, result.output
    meta = read_metadata(tmp_path / "pz")
    assert meta["redshift_bins"] == {"z_min": 0.0, "z_max": 0.6, "num_bins": 6}
    assert [o["name"] for o in meta["outputs"]] == ["probabilities"]


def test_manifest_fills_classes_bands_and_preprocessing(saved_convnet, tmp_path):
    from astrokeras.data import MorphologySimulation, write_dataset

    write_dataset(MorphologySimulation(size=16), 4, str(tmp_path / "data"), seed=1)
    result = run(saved_convnet[1], "--format", "onnx", "--out", tmp_path / "m.onnx",
                 "--dataset", tmp_path / "data", "--domain", "y1")
    assert result.exit_code == 0, result.output
    meta = read_metadata(tmp_path / "m.onnx")
    assert meta["class_names"] == ["spiral", "elliptical", "merger"]
    assert meta["preprocessing"]["method"] == "clip_arcsinh"
    assert meta["dataset"]["domain"] == "y1"


@pytest.mark.parametrize("extra, message", [
    (["--format", "saved_model", "--opset", "13"], "--opset applies to --format onnx only"),
    (["--format", "onnx", "--outputs", "probabilities,nope"], "`outputs` names layers"),
    (["--format", "onnx", "--class-names", "a,b"], "`class_names` must hold 3"),
    (["--format", "onnx", "--z-max", "0.4"], "Give both --z-min and --z-max"),
    (["--format", "onnx", "--dataset", "/nonexistent"], "No manifest.json"),
    (["--format", "onnx", "--include-preprocessing"], "needs the stretch in the metadata"),
])
def test_bad_arguments_exit_1_with_one_line(saved_convnet, tmp_path, extra, message):
    result = run(saved_convnet[1], "--out", tmp_path / "x.onnx", *extra)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.onnx").exists()


def test_missing_or_unloadable_model(tmp_path):
    result = run(tmp_path / "missing.keras", "--format", "onnx", "--out", tmp_path / "x.onnx")
    assert result.exit_code == 1 and "No such model file" in result.output
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    result = run(tmp_path / "bad.keras", "--format", "onnx", "--out", tmp_path / "x.onnx")
    assert result.exit_code == 1 and "Cannot load the model" in result.output


def test_unknown_format_is_a_usage_error(saved_convnet, tmp_path):
    result = run(saved_convnet[1], "--format", "tflite", "--out", tmp_path / "x")
    assert result.exit_code == 2


def test_run_directory_beside_the_model_gives_recipe_and_dataset(tmp_path):
    import json

    from astrokeras.data import MorphologySimulation, write_dataset

    write_dataset(MorphologySimulation(size=16), 4, str(tmp_path / "data"), seed=1)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    models.convnet((16, 16, 3)).save(run_dir / "classifier.keras")
    recipe = {"data": {"kind": "morphology", "directory": str(tmp_path / "data"),
                       "source": "y10", "target": "y1"}, "model": {"architecture": "convnet"}}
    (run_dir / "run.json").write_text(json.dumps({"recipe": recipe, "dataset": {}}))
    result = run(run_dir / "classifier.keras", "--format", "onnx", "--out", tmp_path / "m.onnx")
    assert result.exit_code == 0, result.output
    meta = read_metadata(tmp_path / "m.onnx")
    assert meta["recipe"] == recipe
    # the served domain is the run's target; its stretch the one source-fitted transform
    assert meta["dataset"]["domain"] == "y1" and meta["class_names"][0] == "spiral"
    manifest = json.loads((tmp_path / "data" / "manifest.json").read_text())
    assert meta["preprocessing"]["high"] == manifest["preprocessing"]["high"]
    assert manifest["preprocessing"]["high"] != \
        manifest["per_domain_preprocessing"]["y1"]["high"]
    for domain in ("y10", "y1"):
        result = run(run_dir / "classifier.keras", "--format", "onnx", "--out",
                     tmp_path / "m.onnx", "--domain", domain)
        assert result.exit_code == 0, result.output
        meta = read_metadata(tmp_path / "m.onnx")
        assert meta["preprocessing"]["high"] == manifest["preprocessing"]["high"]
        assert meta["dataset"]["domain"] == domain


def test_include_preprocessing_puts_the_recorded_stretch_in_the_graph(saved_convnet, tmp_path):
    from astrokeras.data import MorphologySimulation, stretch, write_dataset
    from astrokeras.export import OnnxPredictor

    model, path = saved_convnet
    manifest = write_dataset(MorphologySimulation(size=16), 4, str(tmp_path / "data"), seed=1)
    predictors = {}
    for flag in ("--include-preprocessing", "--no-include-preprocessing"):
        out = tmp_path / f"{flag.strip('-')}.onnx"
        result = run(path, "--format", "onnx", "--out", out, "--dataset", tmp_path / "data",
                     flag)
        assert result.exit_code == 0, result.output
        predictors[flag] = OnnxPredictor(out)
    in_graph = predictors["--include-preprocessing"]
    recorded = predictors["--no-include-preprocessing"]
    assert in_graph.preprocessing_in_graph and not recorded.preprocessing_in_graph
    assert in_graph.metadata["preprocessing"] == recorded.metadata["preprocessing"]

    clip = stretch(manifest, "y10")
    low, high = np.asarray(clip.low), np.asarray(clip.high)
    unit = np.random.default_rng(2).uniform(-0.2, 1.2, (6, 16, 16, 3))
    raw = (low + (high - low) * unit).astype("float32")  # raw flux, beyond the clip limits too
    expected = model.predict(clip(raw), verbose=0)
    np.testing.assert_allclose(in_graph.predict(raw), expected, atol=1e-4)
    np.testing.assert_allclose(recorded.predict(raw, preprocess=True), expected, atol=1e-4)
    np.testing.assert_allclose(in_graph.predict(raw), recorded.predict(raw, preprocess=True),
                               atol=1e-5)
    assert np.abs(recorded.predict(raw, preprocess=False) - expected).max() > 1e-3


def test_include_preprocessing_for_a_saved_model(saved_convnet, tmp_path):
    from astrokeras.data import MorphologySimulation, write_dataset

    write_dataset(MorphologySimulation(size=16), 4, str(tmp_path / "data"), seed=1)
    result = run(saved_convnet[1], "--format", "saved_model", "--out", tmp_path / "sm",
                 "--dataset", tmp_path / "data", "--include-preprocessing")
    assert result.exit_code == 0, result.output
    assert read_metadata(tmp_path / "sm")["preprocessing_in_graph"] is True


def test_export_prints_the_serving_guard_it_stored(saved_convnet, tmp_path):
    from astrokeras.data import MorphologySimulation, write_dataset

    write_dataset(MorphologySimulation(size=16), 4, str(tmp_path / "data"), seed=1)
    result = run(saved_convnet[1], "--format", "onnx", "--out", tmp_path / "m.onnx",
                 "--dataset", tmp_path / "data")
    assert result.exit_code == 0, result.output
    guard = read_metadata(tmp_path / "m.onnx")["serving_guard"]
    reference = guard["outside_clip_reference"]
    assert (reference["domain"], reference["images"]) == ("y10", 3)
    assert len(guard["latent"]["mean"]) == 256
    limit = guard["warn_above"]["outside_clip"]
    assert limit == pytest.approx(max(0.01, 5 * reference["fraction"]), rel=1e-5)
    line = result.output.strip().splitlines()[-1]
    assert line.startswith(f"Serving guard: {reference['fraction']:.2%} of y10 training "
                           f"pixels outside the clip range (predict warns above {limit:.2%}); "
                           "latent out-of-distribution threshold "
                           f"{guard['latent']['threshold']:.4g}")

    for extra in (["--no-serving-guard", "--dataset", tmp_path / "data"], []):
        result = run(saved_convnet[1], "--format", "onnx", "--out", tmp_path / "m.onnx",
                     *extra)
        assert result.exit_code == 0, result.output
        assert read_metadata(tmp_path / "m.onnx")["serving_guard"] is None
        assert "Serving guard: none stored" in result.output
