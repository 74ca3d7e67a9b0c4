import numpy as np
import pytest

from astrokeras.data import ClipArcsinh
from astrokeras.errors import DataError, InvalidArgumentError
from astrokeras.export import OnnxPredictor
from tests.export.export_helpers import (CLASSES, STRETCH, export_classifier, export_photoz,
                                         random_inputs)


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    path = tmp_path_factory.mktemp("classifier") / "convnet.onnx"
    return export_classifier(path), OnnxPredictor(path)


@pytest.fixture(scope="module")
def photoz(tmp_path_factory):
    path = tmp_path_factory.mktemp("photoz") / "photoz.onnx"
    return export_photoz(path), OnnxPredictor(path)


def test_reads_its_metadata_and_runs_on_cpu(classifier):
    _, predictor = classifier
    assert predictor.providers == ["CPUExecutionProvider"]  # no CUDA in this onnxruntime
    assert predictor.input_names == ["image"]
    assert predictor.output_names == ["probabilities", "latent"]
    assert predictor.image_shape == (16, 16, 3)
    assert predictor.class_names == list(CLASSES)
    assert predictor.bands == ["g", "r", "i"]
    assert predictor.task == "classification" and not predictor.needs_ebv


def test_predictions_match_keras_in_any_batch_size(classifier):
    model, predictor = classifier
    x = random_inputs(model, 11)[0]
    expected = model.predict(x, verbose=0)
    for batch_size in (1, 4, 256):
        np.testing.assert_allclose(predictor.predict(x, batch_size=batch_size), expected,
                                   atol=1e-4)
    probabilities, latent = predictor.predict(x, return_latent=True)
    assert latent.shape == (11, 256)


def test_preprocess_applies_the_metadata_stretch(classifier):
    _, predictor = classifier
    raw = np.random.default_rng(3).uniform(-5, 80, (6, 16, 16, 3)).astype("float32")
    stretched = ClipArcsinh.from_config(STRETCH)(raw)
    np.testing.assert_allclose(predictor.predict(raw, preprocess=True),
                               predictor.predict(stretched), atol=1e-6)
    assert not np.allclose(predictor.predict(raw), predictor.predict(stretched), atol=1e-3)


def test_wrong_band_count_gives_the_documented_error(classifier):
    _, predictor = classifier
    with pytest.raises(InvalidArgumentError) as caught:
        predictor.predict(np.zeros((2, 16, 16, 5), "float32"))
    message = str(caught.value)
    assert "`x` has 5 bands; the model expects 3 bands (g, r, i)" in message
    assert "(2, 16, 16, 5)" in message and "(batch, 16, 16, 3)" in message
    assert caught.value.value == (2, 16, 16, 5)


@pytest.mark.parametrize("x, message", [
    (np.zeros((2, 8, 8, 3), "float32"), "`x` has the wrong shape"),
    (np.zeros((16, 16, 3), "float32"), r"add a batch axis: x\[None\]"),
    (np.zeros((2, 16, 16, 3), "complex64"), "must hold real numbers"),
    (np.full((2, 16, 16, 3), np.nan, "float32"), "NaN or infinite"),
])
def test_bad_shapes_and_dtypes_are_refused(classifier, x, message):
    _, predictor = classifier
    with pytest.raises(InvalidArgumentError, match=message):
        predictor.predict(x)


def test_other_real_dtypes_are_cast(classifier):
    _, predictor = classifier
    x = np.random.default_rng(0).uniform(size=(3, 16, 16, 3))
    np.testing.assert_allclose(predictor.predict(x.astype(">f8")),
                               predictor.predict(x.astype("float32")), atol=1e-6)


def test_photoz_needs_ebv_and_summarises_the_pdf(photoz):
    model, predictor = photoz
    image, ebv = random_inputs(model, 4)
    with pytest.raises(InvalidArgumentError, match="pass `ebv`"):
        predictor.predict(image)
    pdf = predictor.predict({"image": image, "ebv": ebv[:, 0]})
    np.testing.assert_allclose(pdf, model.predict([image, ebv], verbose=0), atol=1e-4)
    summary = predictor.redshift_summary(pdf)
    centers = predictor.redshift_bin_centers
    np.testing.assert_allclose(summary["z_phot"], pdf @ centers, rtol=1e-5)
    assert np.all(summary["z_p16"] <= summary["z_p50"])
    assert np.all(summary["z_p50"] <= summary["z_p84"])
    np.testing.assert_allclose(centers[:2], [0.4 / 24, 3 * 0.4 / 24])


def test_redshift_summary_of_a_delta_pdf(photoz):
    _, predictor = photoz
    pdf = np.zeros((1, 12))
    pdf[0, 3] = 1.0
    summary = predictor.redshift_summary(pdf)
    z = predictor.redshift_bin_centers[3]
    for key in ("z_phot", "z_mode", "z_p16", "z_p50", "z_p84"):
        assert summary[key][0] == pytest.approx(z)
    assert summary["z_sigma"][0] == pytest.approx(0.0, abs=1e-9)


def test_bad_constructor_arguments(tmp_path, classifier):
    with pytest.raises(FileNotFoundError):
        OnnxPredictor(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"junk")
    with pytest.raises(DataError, match="Cannot load"):
        OnnxPredictor(tmp_path / "junk.onnx")
    with pytest.raises(InvalidArgumentError, match="`providers`"):
        OnnxPredictor(classifier[1].path, providers=["TensorrtExecutionProvider"])
    with pytest.raises(InvalidArgumentError, match="`batch_size`"):
        classifier[1].predict(np.zeros((1, 16, 16, 3), "float32"), batch_size=0)


def test_single_thread_without_spinning_predicts_the_same(classifier):
    model, predictor = classifier
    steady = OnnxPredictor(predictor.path, threads=1, spinning=False)
    x = random_inputs(model, 3)[0]
    np.testing.assert_allclose(steady.predict(x), predictor.predict(x), atol=1e-6)
    spinning = OnnxPredictor(predictor.path, spinning=True)
    np.testing.assert_allclose(spinning.predict(x), predictor.predict(x), atol=1e-6)
    entry = "session.intra_op.allow_spinning"
    # Idle threads do not spin-wait by default (shared survey nodes); True restores ORT's way.
    assert predictor._session.get_session_options().get_session_config_entry(entry) == "0"
    with pytest.raises(Exception, match=entry):  # ORT's default: the entry is not set
        spinning._session.get_session_options().get_session_config_entry(entry)
    with pytest.raises(InvalidArgumentError, match="`spinning` must be a bool"):
        OnnxPredictor(predictor.path, spinning="no")
    with pytest.raises(InvalidArgumentError, match="`threads`"):
        OnnxPredictor(predictor.path, threads=0)


def test_predicting_never_imports_tensorflow(classifier):
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from astrokeras.export import OnnxPredictor\n"
        f"p = OnnxPredictor({str(classifier[1].path)!r})\n"
        "print(p.predict(np.ones((2, 16, 16, 3)), preprocess=True).shape)\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'tf2onnx') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["(2, 3)", "[]"]
