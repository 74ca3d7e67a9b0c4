import csv
import tracemalloc

import numpy as np
import pytest
from astropy.io import fits

from astrokeras.data import ClipArcsinh
from astrokeras.errors import InvalidArgumentError
from astrokeras.export import OnnxPredictor, predict_files
from astrokeras.export import inputs as inputs_lib
from tests.export.export_helpers import BANDS, CLASSES, STRETCH, export_classifier, export_photoz


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    path = tmp_path_factory.mktemp("classifier") / "convnet.onnx"
    return export_classifier(path), OnnxPredictor(path)


def write_cutout(path, image, ebv=None):
    """A FITS cutout as surveys store it: a (bands, height, width) cube in the primary HDU."""
    header = fits.Header()
    header["BANDS"] = "g,r,i"
    if ebv is not None:
        header["EBV"] = ebv
    fits.PrimaryHDU(np.moveaxis(image, -1, 0).astype(">f4"), header=header).writeto(path)


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_fits_cutouts_with_a_corrupt_one_among_them(classifier, tmp_path):
    model, predictor = classifier
    rng = np.random.default_rng(0)
    raw = rng.uniform(0, 60, (5, 16, 16, 3)).astype("float32")
    folder = tmp_path / "alerts"
    folder.mkdir()
    for i, image in enumerate(raw):
        write_cutout(folder / f"obj{i}.fits", image)
    (folder / "obj2.fits").write_bytes(b"SIMPLE  =    T" + b"\x00" * 100)  # truncated header
    write_cutout(folder / "wrongshape.fits", rng.uniform(size=(8, 8, 3)))
    write_cutout(folder / "twobands.fits", rng.uniform(size=(16, 16, 2)))
    truncated = (folder / "obj4.fits").read_bytes()
    (folder / "truncated.fits").write_bytes(truncated[: len(truncated) // 2])

    report = predict_files(predictor, [folder], tmp_path / "predictions.csv", batch_size=2)

    assert report.rows == 4 and report.files == 4
    assert [p.split("/")[-1] for p, _ in report.failed] == [
        "obj2.fits", "truncated.fits", "twobands.fits", "wrongshape.fits"]
    assert "cannot read as FITS" in report.failed[0][1]
    assert "cannot read as FITS" in report.failed[1][1]
    # The file is named once, with the bands expected and the shape found.
    assert report.failed[2][1] == (
        f"{folder / 'twobands.fits'}: the images have 2 bands; the model expects 3 bands "
        "(g, r, i). Got: (1, 16, 16, 2). Allowed: (images, 16, 16, 3), channels last.")
    for path, reason in report.failed:
        assert reason.startswith(f"{path}: ")
        assert reason.count(path.split("/")[-1]) == 1, reason
    assert "wrong shape" in report.failed[3][1] and "(3, 8, 8)" in report.failed[3][1]
    rows = read_csv(tmp_path / "predictions.csv")
    assert [r["id"] for r in rows] == ["obj0", "obj1", "obj3", "obj4"]
    assert list(rows[0]) == ["id", "source", "class"] + [f"p_{c}" for c in CLASSES]
    good = raw[[0, 1, 3, 4]]
    expected = model.predict(ClipArcsinh.from_config(STRETCH)(good), verbose=0)
    got = np.array([[float(r[f"p_{c}"]) for c in CLASSES] for r in rows])
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert [r["class"] for r in rows] == [CLASSES[k] for k in expected.argmax(axis=1)]


def test_npy_and_npz_are_streamed_in_batches(classifier, tmp_path):
    model, predictor = classifier
    x = np.random.default_rng(1).uniform(size=(7, 16, 16, 3)).astype("float32")
    np.save(tmp_path / "a.npy", x)
    np.savez(tmp_path / "b.npz", x=x[:3], ids=np.array(["g1", "g2", "g3"]))
    report = predict_files(predictor, [tmp_path / "a.npy", tmp_path / "b.npz"],
                           tmp_path / "out.csv", batch_size=3, preprocess=False)
    assert report.rows == 10 and report.failed == []
    rows = read_csv(tmp_path / "out.csv")
    assert [r["id"] for r in rows] == [f"a:{i}" for i in range(7)] + ["g1", "g2", "g3"]
    got = np.array([[float(r[f"p_{c}"]) for c in CLASSES] for r in rows])
    expected = model.predict(np.concatenate([x, x[:3]]), verbose=0)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_tfrecord_shards_of_an_astrokeras_dataset(classifier, tmp_path):
    from astrokeras.data import MorphologySimulation, load, write_dataset

    directory = tmp_path / "dataset"
    write_dataset(MorphologySimulation(size=16), 6, str(directory), seed=2, shard_size=4)
    _, predictor = classifier
    report = predict_files(predictor, [directory], tmp_path / "out.csv", batch_size=4,
                           domain="y1")
    assert report.rows == 6 and report.files == 2 and report.failed == []
    rows = read_csv(tmp_path / "out.csv")
    assert [r["id"] for r in rows] == [str(i) for i in range(6)]
    raw = np.concatenate([images.numpy() for images, _ in load(
        str(directory), "y1", split="all", batch_size=6, shuffle=False, preprocess=False)])
    expected = predictor.predict(raw, preprocess=True)
    got = np.array([[float(r[f"p_{c}"]) for c in CLASSES] for r in rows])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_photoz_fits_read_ebv_from_the_header(tmp_path):
    model = export_photoz(tmp_path / "pz.onnx")
    predictor = OnnxPredictor(tmp_path / "pz.onnx")
    rng = np.random.default_rng(4)
    images = rng.uniform(size=(2, 16, 16, 5)).astype("float32")
    write_cutout(tmp_path / "a.fits", images[0], ebv=0.05)
    write_cutout(tmp_path / "b.fits", images[1])  # no EBV keyword
    report = predict_files(predictor, [tmp_path / "a.fits", tmp_path / "b.fits"],
                           tmp_path / "pz.csv")
    assert report.rows == 1
    assert "no EBV keyword" in report.failed[0][1]
    row = read_csv(tmp_path / "pz.csv")[0]
    pdf = model.predict([images[:1], np.array([[0.05]], "float32")], verbose=0)
    assert float(row["z_phot"]) == pytest.approx(
        float(pdf[0] @ predictor.redshift_bin_centers), rel=1e-4)
    assert list(row) == ["id", "source", "z_phot", "z_mode", "z_sigma", "z_p16", "z_p50",
                         "z_p84"]


def test_nothing_to_read_is_refused(classifier, tmp_path):
    with pytest.raises(InvalidArgumentError, match="`inputs` holds no files"):
        predict_files(classifier[1], [tmp_path], tmp_path / "out.csv")


@pytest.mark.parametrize("kind", ["npy", "npz", "npz_compressed"])
def test_array_files_are_read_one_batch_at_a_time(classifier, tmp_path, kind, monkeypatch):
    model, predictor = classifier
    x = np.random.default_rng(2).uniform(size=(2000, 16, 16, 3)).astype("float32")  # 6.1 MB
    path = tmp_path / ("a.npy" if kind == "npy" else "a.npz")
    {"npy": lambda: np.save(path, x), "npz": lambda: np.savez(path, x=x),
     "npz_compressed": lambda: np.savez_compressed(path, x=x)}[kind]()
    sizes, read = [], inputs_lib.read

    def spy(*args, **kwargs):
        for chunk in read(*args, **kwargs):
            sizes.append(len(chunk.image))
            yield chunk

    monkeypatch.setattr(inputs_lib, "read", spy)
    tracemalloc.start()
    try:
        report = predict_files(predictor, [path], tmp_path / "out.csv", batch_size=50,
                               preprocess=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.rows == 2000 and report.failed == []
    assert max(sizes) <= 50 and sum(sizes) == 2000
    # Reading the whole array (what np.load(...)["x"] does) alone would peak above 6.1 MB.
    assert peak < x.nbytes / 4, f"peak {peak / 1e6:.2f} MB while predicting"
    rows = read_csv(tmp_path / "out.csv")
    picked = [0, 49, 50, 1999]
    got = np.array([[float(rows[i][f"p_{c}"]) for c in CLASSES] for i in picked])
    np.testing.assert_allclose(got, model.predict(x[picked], verbose=0), atol=1e-4)
    assert [rows[i]["id"] for i in picked] == [f"a:{i}" for i in picked]


def test_corrupt_npz_among_good_files_is_reported_and_skipped(classifier, tmp_path):
    model, predictor = classifier
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(10, 16, 16, 3)).astype("float32")
    np.savez(tmp_path / "good.npz", x=x[:4], ids=np.array([f"g{i}" for i in range(4)]))
    np.save(tmp_path / "good.npy", x[4:6])
    whole = (tmp_path / "good.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "garbage.npz").write_bytes(rng.bytes(5000))
    np.savez(tmp_path / "bad_crc.npz", x=x)
    damaged = bytearray((tmp_path / "bad_crc.npz").read_bytes())
    damaged[len(damaged) // 2: len(damaged) // 2 + 64] = bytes(64)  # inside the image data
    (tmp_path / "bad_crc.npz").write_bytes(bytes(damaged))
    inputs = [tmp_path / name for name in ("good.npz", "truncated.npz", "garbage.npz",
                                           "bad_crc.npz", "good.npy")]
    report = predict_files(predictor, inputs, tmp_path / "out.csv", batch_size=2,
                           preprocess=False)
    assert [f for f, _ in report.failed] == [str(tmp_path / n) for n in
                                             ("truncated.npz", "garbage.npz", "bad_crc.npz")]
    assert all("cannot read as .npz" in reason for _, reason in report.failed)
    assert "CRC" in report.failed[2][1]
    assert report.files == 2 and report.rows == 6
    rows = read_csv(tmp_path / "out.csv")
    assert [r["id"] for r in rows] == ["g0", "g1", "g2", "g3", "good:0", "good:1"]
    got = np.array([[float(r[f"p_{c}"]) for c in CLASSES] for r in rows])
    np.testing.assert_allclose(got, model.predict(x[:6], verbose=0), atol=1e-4)


def test_npz_in_fortran_order_or_with_one_image_is_read_right(classifier, tmp_path):
    model, predictor = classifier
    x = np.random.default_rng(5).uniform(size=(5, 16, 16, 3)).astype("float32")
    np.savez(tmp_path / "f.npz", x=np.asfortranarray(x))
    np.savez_compressed(tmp_path / "one.npz", image=x[0].astype(">f8"))
    report = predict_files(predictor, [tmp_path / "f.npz", tmp_path / "one.npz"],
                           tmp_path / "out.csv", batch_size=2, preprocess=False)
    assert report.rows == 6 and report.failed == []
    rows = read_csv(tmp_path / "out.csv")
    assert [r["id"] for r in rows] == [f"f:{i}" for i in range(5)] + ["one:0"]
    got = np.array([[float(r[f"p_{c}"]) for c in CLASSES] for r in rows])
    np.testing.assert_allclose(got, model.predict(np.concatenate([x, x[:1]]), verbose=0),
                               atol=1e-4)


@pytest.fixture(scope="module")
def in_graph(classifier, tmp_path_factory):
    """The classifier's model exported again with its stretch in the ONNX graph."""
    from astrokeras.export import model_metadata, to_onnx

    model, _ = classifier
    path = tmp_path_factory.mktemp("in_graph") / "convnet.onnx"
    to_onnx(model, path, metadata=model_metadata(model, class_names=CLASSES, bands="g,r,i",
                                                 preprocessing=STRETCH),
            include_preprocessing=True)
    return OnnxPredictor(path)


def test_no_preprocess_is_refused_up_front_for_an_export_that_stretches_itself(in_graph,
                                                                                tmp_path):
    np.save(tmp_path / "a.npy", np.ones((3, 16, 16, 3), "float32"))
    with pytest.raises(InvalidArgumentError, match="stretches its inputs in its graph") as info:
        predict_files(in_graph, [tmp_path / "a.npy"], tmp_path / "out.csv", preprocess=False)
    assert "`preprocess=False`" in str(info.value) and in_graph.path in str(info.value)
    assert not (tmp_path / "out.csv").exists()


def test_an_export_that_stretches_itself_predicts_raw_files_as_the_numpy_stretch(
        classifier, in_graph, tmp_path):
    _, predictor = classifier
    raw = np.random.default_rng(6).uniform(-10, 80, (5, 16, 16, 3)).astype("float32")
    np.save(tmp_path / "raw.npy", raw)
    for name, onnx in (("numpy", predictor), ("graph", in_graph)):
        report = predict_files(onnx, [tmp_path / "raw.npy"], tmp_path / f"{name}.csv")
        assert report.rows == 5 and report.failed == []
    numpy_rows, graph_rows = read_csv(tmp_path / "numpy.csv"), read_csv(tmp_path / "graph.csv")
    for c in CLASSES:
        np.testing.assert_allclose([float(r[f"p_{c}"]) for r in graph_rows],
                                   [float(r[f"p_{c}"]) for r in numpy_rows], atol=1e-5)


def guarded_export(path, outputs=("probabilities", "latent")):
    """A ConvNet exported with a hand-made serving guard: latent mean 0, scale 2."""
    from astrokeras import models
    from astrokeras.export import model_metadata, to_onnx

    model = models.convnet((16, 16, 3))
    meta = model_metadata(model, class_names=CLASSES, bands=BANDS, preprocessing=STRETCH)
    meta["serving_guard"] = {
        "fitted_on": {"domain": "y10", "split": "train", "images": 10},
        "outside_clip_reference": {"fraction": 0.002, "per_band": [0.002] * 3,
                                   "domain": "y10", "split": "train", "images": 10},
        "latent": {"layer": "latent", "score": "rms_standardised", "mean": [0.0] * 256,
                   "scale": [2.0] * 256, "threshold": 0.05, "quantile": 0.99},
        "warn_above": {"outside_clip": 0.01, "above_latent_threshold": 0.05,
                       "min_objects": 2}}
    to_onnx(model, path, outputs=outputs, metadata=meta)
    return OnnxPredictor(path)


def test_serving_guard_columns_report_and_what_is_skipped(classifier, tmp_path):
    predictor = guarded_export(tmp_path / "guarded.onnx")
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 55, (6, 16, 16, 3)).astype("float32")  # above high in g only
    np.save(tmp_path / "a.npy", x[:4])
    np.save(tmp_path / "b.npy", x[4:] / 10)
    report = predict_files(predictor, [tmp_path / "a.npy", tmp_path / "b.npy"],
                           tmp_path / "out.csv", batch_size=3)
    rows = read_csv(tmp_path / "out.csv")
    assert list(rows[0])[-2:] == ["outside_clip", "ood_score"]
    raw = np.concatenate([x[:4], x[4:] / 10])
    outside = (raw > np.array(STRETCH["high"])).reshape(6, -1).mean(axis=1)
    np.testing.assert_allclose([float(r["outside_clip"]) for r in rows], outside, rtol=1e-5)
    _, latent = predictor.predict(raw, preprocess=True, return_latent=True)
    scores = np.sqrt(((latent / 2.0) ** 2).mean(axis=1))
    np.testing.assert_allclose([float(r["ood_score"]) for r in rows], scores, rtol=1e-4)
    [(first, a), (second, b)] = report.guard.files
    assert (first, second) == (str(tmp_path / "a.npy"), str(tmp_path / "b.npy"))
    assert (a.objects, b.objects) == (4, 2) and b.outside_clip == 0.0
    assert a.outside_clip == pytest.approx(outside[:4].mean())
    assert a.above_latent_threshold == np.mean(scores[:4] > 0.05)
    assert a.mean_ood_score == pytest.approx(scores[:4].mean(), rel=1e-4)
    assert report.guard.total.objects == 6 and report.guard.notes == []
    assert report.warnings[0].startswith(f"{tmp_path / 'a.npy'}: ")
    assert not any(w.startswith(str(tmp_path / "b.npy")) and "clip" in w
                   for w in report.warnings)

    # Already-stretched inputs: no raw pixels to count, the latent score still.
    stretched = predict_files(predictor, [tmp_path / "b.npy"], tmp_path / "s.csv",
                              preprocess=False)
    assert list(read_csv(tmp_path / "s.csv")[0])[-1] == "ood_score"
    assert stretched.guard.files[0][1].outside_clip is None
    assert "already stretched" in stretched.guard.notes[0]

    # An export that does not return "latent": the pixel part alone.
    no_latent = guarded_export(tmp_path / "no_latent.onnx", outputs=("probabilities",))
    report = predict_files(no_latent, [tmp_path / "a.npy"], tmp_path / "n.csv")
    assert list(read_csv(tmp_path / "n.csv")[0])[-1] == "outside_clip"
    assert report.guard.files[0][1].above_latent_threshold is None
    assert "does not return the 'latent' output" in report.guard.notes[0]

    # No guard at all: predictions as before, and the report says so.
    report = predict_files(classifier[1], [tmp_path / "a.npy"], tmp_path / "p.csv")
    assert report.rows == 4 and report.guard.total is None and report.warnings == []
    assert list(read_csv(tmp_path / "p.csv")[0])[-1] == f"p_{CLASSES[-1]}"
    assert "has no serving guard" in report.guard.notes[0]
