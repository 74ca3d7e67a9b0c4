import importlib

import keras
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from astrokeras import models
from astrokeras.errors import InvalidArgumentError
from astrokeras.export import ExportParityError, read_metadata, to_onnx
from tests.export.export_helpers import ARCHITECTURES, random_inputs, with_random_statistics

onnx_module = importlib.import_module("astrokeras.export.to_onnx")


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_architecture_matches_keras_with_a_dynamic_batch(name, tmp_path):
    model = with_random_statistics(ARCHITECTURES[name]())
    result = to_onnx(model, tmp_path / f"{name}.onnx")
    assert result.max_difference <= 1e-4

    session = _session(result.path)
    input_names = [i.name for i in session.get_inputs()]
    assert input_names == [t.name for t in model.inputs]  # "image" (+ "ebv" for photo-z)
    assert [o.name for o in session.get_outputs()] == ["probabilities", "latent"]
    for value in list(session.get_inputs()) + list(session.get_outputs()):
        assert value.shape[0] == "batch"
    if name == "inception_photoz":  # PReLU after every convolution: fused to PRelu nodes
        ops = [node.op_type for node in onnx.load(result.path).graph.node]
        assert ops.count("PRelu") == 29 and "Neg" not in ops

    # An independent check on other data and two other batch sizes than the export's own.
    keras_latent = keras.Model(model.inputs, models.latent_output(model))
    for n in (1, 5):
        arrays = random_inputs(model, n, seed=n)
        probabilities, latent = session.run(None, dict(zip(input_names, arrays)))
        feed = arrays if len(arrays) > 1 else arrays[0]
        np.testing.assert_allclose(probabilities, model.predict(feed, verbose=0), atol=1e-4)
        np.testing.assert_allclose(latent, keras_latent.predict(feed, verbose=0), atol=1e-4)
        assert probabilities.shape == (n, model.output.shape[-1])


def test_outputs_follow_the_requested_names_and_order(tmp_path):
    model = models.convnet((16, 16, 3), num_classes=4)
    result = to_onnx(model, tmp_path / "m.onnx", outputs=("latent", "logits"))
    session = _session(result.path)
    assert [o.name for o in session.get_outputs()] == ["latent", "logits"]
    assert [o["name"] for o in result.metadata["outputs"]] == ["latent", "logits"]
    assert result.metadata["outputs"][1]["shape"] == [None, 4]


def test_metadata_is_embedded_in_metadata_props(tmp_path):
    path = tmp_path / "m.onnx"
    result = to_onnx(models.convnet((16, 16, 3)), path, opset=17)
    proto = onnx.load(path)
    assert proto.producer_name == "astrokeras"
    assert {p.key for p in proto.metadata_props} == {"astrokeras"}
    meta = read_metadata(path)
    assert meta == result.metadata
    assert meta["opset"] == 17
    assert meta["parity"]["tolerance"] == 1e-4
    assert set(meta["parity"]["max_abs_diff"]) == {"probabilities", "latent"}
    assert meta["inputs"] == [{"name": "image", "shape": [None, 16, 16, 3], "dtype": "float32"}]


def test_parity_failure_above_tolerance_raises_and_writes_nothing(tmp_path, monkeypatch):
    real_run = onnx_module._run

    def off_by_2e_4(model_bytes, specs, arrays):
        outputs = real_run(model_bytes, specs, arrays)
        outputs["latent"] = outputs["latent"] + 2e-4
        return outputs

    monkeypatch.setattr(onnx_module, "_run", off_by_2e_4)
    path = tmp_path / "m.onnx"
    with pytest.raises(ExportParityError) as caught:
        to_onnx(models.convnet((16, 16, 3)), path)
    assert caught.value.value["latent"] > 1e-4
    assert caught.value.value["probabilities"] < 1e-4
    assert "<= 0.0001" in str(caught.value)
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_parity_uses_the_given_sample(tmp_path):
    model = models.simple_photoz_cnn((16, 16, 5), num_bins=8)
    sample = {"image": np.ones((3, 16, 16, 5), "float32"), "ebv": np.zeros(3, "float32")}
    result = to_onnx(model, tmp_path / "m.onnx", sample=sample)
    assert result.metadata["parity"]["batch_size"] == 3


def test_domain_adaptation_model_exports_its_classifier(tmp_path):
    from astrokeras.training import DomainAdaptationModel, MMD

    classifier = models.convnet((16, 16, 3))
    result = to_onnx(DomainAdaptationModel(classifier, MMD()), tmp_path / "da.onnx")
    assert result.metadata["model_name"] == classifier.name
    x = random_inputs(classifier, 4)[0]
    probabilities = _session(result.path).run(["probabilities"], {"image": x})[0]
    np.testing.assert_allclose(probabilities, classifier.predict(x, verbose=0), atol=1e-4)


@pytest.mark.parametrize("kwargs, message", [
    ({"opset": 7}, "`opset`"),
    ({"outputs": ("probabilities", "nope")}, "`outputs` names layers"),
    ({"outputs": ()}, "`outputs` must be distinct"),
    ({"tolerance": -1.0}, "`tolerance`"),
    ({"sample": np.zeros((2, 8, 8, 3), "float32")}, "`sample` input 'image'"),
    ({"metadata": {"oops": 1}}, "`metadata`"),
    ({"include_preprocessing": True}, "`include_preprocessing=True` needs the stretch"),
    ({"include_preprocessing": "yes"}, "`include_preprocessing` must be a bool"),
])
def test_bad_arguments_are_refused_before_conversion(kwargs, message, tmp_path, monkeypatch):
    def no_conversion(*args, **kw):
        raise AssertionError("converted despite a bad argument")

    monkeypatch.setattr(onnx_module, "convert", no_conversion)
    with pytest.raises(InvalidArgumentError, match=message):
        to_onnx(models.convnet((16, 16, 3)), tmp_path / "m.onnx", **kwargs)


def test_adversarial_training_model_exports_its_classifier(tmp_path):
    from astrokeras.training import FGSM, AdversarialTrainingModel

    classifier = models.convnet((16, 16, 3))
    result = to_onnx(AdversarialTrainingModel(classifier, FGSM(0.01)), tmp_path / "adv.onnx")
    assert result.metadata["model_name"] == classifier.name


def test_included_stretch_makes_the_onnx_model_take_raw_images(tmp_path):
    from astrokeras.data import ClipArcsinh
    from astrokeras.export import OnnxPredictor, model_metadata
    from tests.export.export_helpers import STRETCH

    model = with_random_statistics(models.convnet((16, 16, 3)))
    meta = model_metadata(model, preprocessing=STRETCH)
    result = to_onnx(model, tmp_path / "raw.onnx", metadata=meta, include_preprocessing=True)
    assert result.metadata["preprocessing_in_graph"] is True
    assert read_metadata(result.path)["preprocessing"]["high"] == STRETCH["high"]
    raw = np.random.default_rng(5).uniform(-10, 90, (6, 16, 16, 3)).astype("float32")
    expected = model.predict(ClipArcsinh.from_config(STRETCH)(raw), verbose=0)
    onnx_raw = _session(result.path).run(["probabilities"], {"image": raw})[0]
    np.testing.assert_allclose(onnx_raw, expected, atol=1e-4)
    predictor = OnnxPredictor(result.path)
    assert predictor.preprocessing_in_graph
    np.testing.assert_allclose(predictor.predict(raw), expected, atol=1e-4)
    np.testing.assert_allclose(predictor.predict(raw, preprocess=True), expected, atol=1e-4)
    with pytest.raises(InvalidArgumentError, match="stretches its inputs in its graph"):
        predictor.predict(raw, preprocess=False)


def test_an_export_without_included_stretch_says_so(tmp_path):
    result = to_onnx(models.convnet((16, 16, 3)), tmp_path / "m.onnx")
    assert result.metadata["preprocessing_in_graph"] is False
