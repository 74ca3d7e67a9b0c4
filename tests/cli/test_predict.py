import csv

import numpy as np
import pytest
from astropy.io import fits
from typer.testing import CliRunner

from astrokeras.cli.app import app
from astrokeras.data import ClipArcsinh
from astrokeras.export import model_metadata, to_onnx
from astrokeras import models

runner = CliRunner()
STRETCH = {"method": "clip_arcsinh", "low": [0.0, 0.0, 0.0], "high": [40.0, 40.0, 40.0],
           "c": 0.85}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    model = models.convnet((16, 16, 3))
    to_onnx(model, folder / "convnet.onnx", metadata=model_metadata(
        model, class_names="spiral,elliptical,merger", bands="g,r,i", preprocessing=STRETCH))
    return model, folder / "convnet.onnx"


def cutouts(folder, n, seed=0):
    raw = np.random.default_rng(seed).uniform(0, 50, (n, 16, 16, 3)).astype("float32")
    folder.mkdir(exist_ok=True)
    for i, image in enumerate(raw):
        fits.PrimaryHDU(np.moveaxis(image, -1, 0)).writeto(folder / f"cut{i:02d}.fits")
    return raw


def run(*args):
    return runner.invoke(app, ["predict", *map(str, args)])


def test_fits_folder_to_csv(exported, tmp_path):
    model, path = exported
    raw = cutouts(tmp_path / "in", 5)
    out = tmp_path / "predictions.csv"
    result = run(path, tmp_path / "in", "--out", out, "--batch-size", "2", "--threads", "1")
    assert result.exit_code == 0, result.output
    assert f"Wrote 5 predictions from 5 files to {out}." in result.output
    rows = list(csv.DictReader(out.open()))
    assert [r["id"] for r in rows] == [f"cut{i:02d}" for i in range(5)]
    expected = model.predict(ClipArcsinh.from_config(STRETCH)(raw), verbose=0)
    got = np.array([[float(r[k]) for k in ("p_spiral", "p_elliptical", "p_merger")]
                    for r in rows])
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_corrupt_fits_is_reported_by_name_and_the_rest_predicted(exported, tmp_path):
    _, path = exported
    cutouts(tmp_path / "in", 4)
    (tmp_path / "in" / "cut01.fits").write_bytes(b"garbage" * 50)
    out = tmp_path / "predictions.csv"
    result = run(path, tmp_path / "in", "--out", out)
    assert result.exit_code == 3
    assert f"Skipped {tmp_path / 'in' / 'cut01.fits'}: cannot read as FITS" in result.output
    assert "cannot read as FITS" in result.output
    assert "Wrote 3 predictions from 3 files" in result.output
    assert "1 inputs skipped" in result.output
    assert [r["id"] for r in csv.DictReader(out.open())] == ["cut00", "cut02", "cut03"]


def test_wrong_band_count_file_is_skipped_with_the_documented_error(exported, tmp_path):
    _, path = exported
    np.save(tmp_path / "five_bands.npy", np.zeros((2, 16, 16, 5), "float32"))
    np.save(tmp_path / "good.npy", np.zeros((2, 16, 16, 3), "float32"))
    result = run(path, tmp_path / "five_bands.npy", tmp_path / "good.npy", "--out",
                 tmp_path / "p.csv", "--no-preprocess")
    assert result.exit_code == 3
    skipped = [line for line in result.output.splitlines() if line.startswith("Skipped")]
    assert skipped == [
        f"Skipped {tmp_path / 'five_bands.npy'}: the images have 5 bands; the model expects "
        "3 bands (g, r, i). Got: (2, 16, 16, 5). Allowed: (images, 16, 16, 3), channels last."]
    assert result.output.count("five_bands.npy") == 1
    assert "Wrote 2 predictions" in result.output


def test_bad_model_exits_1(tmp_path):
    (tmp_path / "junk.onnx").write_bytes(b"junk")
    np.save(tmp_path / "x.npy", np.zeros((1, 16, 16, 3), "float32"))
    result = run(tmp_path / "junk.onnx", tmp_path / "x.npy", "--out", tmp_path / "p.csv")
    assert result.exit_code == 1 and "Cannot load" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "p.csv").exists()


def test_corrupt_npz_is_reported_by_name_and_the_rest_predicted(exported, tmp_path):
    _, path = exported
    x = np.random.default_rng(1).uniform(0, 50, (3, 16, 16, 3)).astype("float32")
    np.savez_compressed(tmp_path / "a.npz", x=x)
    np.savez_compressed(tmp_path / "c.npz", x=x[:2])
    whole = (tmp_path / "a.npz").read_bytes()
    (tmp_path / "b.npz").write_bytes(whole[: len(whole) - 40])  # cut short
    out = tmp_path / "predictions.csv"
    result = run(path, tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "c.npz", "--out",
                 out, "--batch-size", "2")
    assert result.exit_code == 3
    assert f"Skipped {tmp_path / 'b.npz'}: cannot read as .npz" in result.output
    assert "Wrote 5 predictions from 2 files" in result.output
    assert [r["id"] for r in csv.DictReader(out.open())] == ["a:0", "a:1", "a:2", "c:0", "c:1"]


def test_no_preprocess_for_an_export_that_stretches_itself_exits_1_before_reading(tmp_path):
    model = models.convnet((16, 16, 3))
    to_onnx(model, tmp_path / "m.onnx", include_preprocessing=True, metadata=model_metadata(
        model, class_names="spiral,elliptical,merger", bands="g,r,i", preprocessing=STRETCH))
    cutouts(tmp_path / "in", 2)
    out = tmp_path / "predictions.csv"
    result = run(tmp_path / "m.onnx", tmp_path / "in", "--out", out, "--no-preprocess")
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "stretches its inputs in its graph" in lines[0]
    assert "Skipped" not in result.output and not out.exists()


def test_serving_guard_table_and_a_warning_naming_the_file(tmp_path):
    model = models.convnet((16, 16, 3))
    meta = model_metadata(model, class_names="spiral,elliptical,merger", bands="g,r,i",
                          preprocessing=STRETCH)
    meta["serving_guard"] = {
        "fitted_on": {"domain": "y10", "split": "train", "images": 10},
        "outside_clip_reference": {"fraction": 0.002, "per_band": [0.002] * 3,
                                   "domain": "y10", "split": "train", "images": 10},
        "latent": {"layer": "latent", "score": "rms_standardised", "mean": [0.0] * 256,
                   "scale": [1e6] * 256, "threshold": 1.0, "quantile": 0.99},
        "warn_above": {"outside_clip": 0.01, "above_latent_threshold": 0.05,
                       "min_objects": 20}}
    to_onnx(model, tmp_path / "m.onnx", metadata=meta)
    rng = np.random.default_rng(3)
    np.save(tmp_path / "faint.npy", rng.uniform(0, 30, (20, 16, 16, 3)).astype("float32"))
    bright = rng.uniform(0, 80, (20, 16, 16, 3)).astype("float32")
    np.save(tmp_path / "bright.npy", bright)
    share = f"{(bright > 40).mean():.2%}"  # the clip range is [0, 40]
    total = f"{(bright > 40).mean() / 2:.2%}"
    result = run(tmp_path / "m.onnx", tmp_path / "faint.npy", tmp_path / "bright.npy",
                 "--out", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "warns above 1.00% of pixels outside the clip range or 5% of objects" in \
        "\n".join(lines)
    table = {line.split()[0]: line.split()[1:] for line in lines if line.startswith("  ")}
    assert table[str(tmp_path / "faint.npy")][:3] == ["20", "0.00%", "0.0%"]
    assert table[str(tmp_path / "bright.npy")][:2] == ["20", share]
    assert table["total"][:2] == ["40", total]
    assert "WARNING" not in result.stdout
    assert result.stderr.splitlines() == [
        f"WARNING: {tmp_path / 'bright.npy'}: {share} of the pixels are outside the training "
        "clip range (limit 1.00%; 0.20% in training).",
        f"WARNING: all inputs: {total} of the pixels are outside the training clip range "
        "(limit 1.00%; 0.20% in training)."]


def test_an_export_without_a_guard_says_so_and_predicts(exported, tmp_path):
    cutouts(tmp_path / "in", 2)
    result = run(exported[1], tmp_path / "in", "--out", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    assert "Wrote 2 predictions" in result.stdout
    assert "The export has no serving guard" in result.stdout and "WARNING" not in \
        result.output
