import json

import keras
import numpy as np
import pytest
from matplotlib import image as mpimg
from typer.testing import CliRunner

from astrokeras.cli.app import app
from astrokeras.evaluation import classification_metrics, disjoint_halves, latent_distances
from astrokeras.training import DomainAdaptationModel

runner = CliRunner()


def _classifier(seed, shape=(6, 6, 2), name="classifier"):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape, name="image")
    h = keras.layers.Flatten()(inputs)
    latent = keras.layers.Dense(4, activation="tanh", name="latent")(h)
    logits = keras.layers.Dense(3, name="logits")(latent)
    return keras.Model(inputs, keras.layers.Softmax(name="probabilities")(logits), name=name)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A regular classifier, a DomainAdaptationModel, and paired Y10/Y1 images in an .npz."""
    folder = tmp_path_factory.mktemp("evaluate")
    regular, adapted = _classifier(0, name="regular"), _classifier(1, name="adapted")
    rng = np.random.default_rng(0)
    y10 = (6 * rng.uniform(size=(14, 6, 6, 2)) - 3).astype(np.float32)
    y1 = (y10 + 0.5 * rng.normal(size=y10.shape)).astype(np.float32)
    labels = np.argmax(regular.predict(y10, verbose=0), axis=1)
    regular.save(folder / "regular.keras")
    DomainAdaptationModel(adapted).save(folder / "adapted.keras")
    np.savez(folder / "pairs.npz", y10=y10, y1=y1, label=labels)
    return folder, regular, adapted, y10, y1, labels


def _run(*args):
    return runner.invoke(app, ["evaluate", *map(str, args)])


def _assert_real_png(path):
    pixels = mpimg.imread(path)
    assert path.stat().st_size > 0
    assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 10


def test_compare_two_models_with_one_pixel_attack_writes_everything(saved, tmp_path):
    folder, regular, adapted, y10, y1, labels = saved
    out = tmp_path / "out"
    result = _run(folder / "regular.keras", "--data", folder / "pairs.npz", "--domain", "y10",
                  "--domain", "y1", "--compare", folder / "adapted.keras", "--attack",
                  "one-pixel", "--n", "4", "--popsize", "8", "--max-iter", "3",
                  "--resolution", "9", "--bins", "8", "--out", out)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["models"] == ["regular", "adapted"]
    expected = classification_metrics(labels, adapted.predict(y1, verbose=0))
    assert metrics["table2"]["adapted"]["y1"]["f1"] == pytest.approx(expected["f1"], abs=1e-6)
    distances = latent_distances(regular, y10, y1)
    assert metrics["table3"]["regular"]["y1"]["mean"] == pytest.approx(distances.mean(),
                                                                       rel=1e-5)
    assert metrics["attack"]["regular"]["images"] == 4
    assert {e["perturbation"] for e in metrics["js_distance"]} >= {"y1"}
    files = {f["file"] for f in metrics["figures"]}
    assert {"roc_regular.png", "roc_adapted.png", "isomap2d_regular.png",
            "isomap3d_adapted.png", "distances_y1.png"} <= files
    for name in files:
        _assert_real_png(out / name)
    report = (out / "report.md").read_text()
    assert "| regular | y10 |" in report and "| adapted | y1 |" in report
    assert "Latent-space distances" in report and "Attack on correctly classified" in report
    for name in files:
        assert f'src="{name}"' in report
    assert not list(out.glob(".*tmp"))


def test_compared_models_get_shift_diagnostics_side_by_side(saved, tmp_path):
    folder, regular, adapted, y10, y1, labels = saved
    out = tmp_path / "out"
    result = _run(folder / "regular.keras", "--data", folder / "pairs.npz", "--compare",
                  folder / "adapted.keras", "--resolution", "3", "--bins", "4", "--out", out)
    assert result.exit_code == 0, result.output
    shift = json.loads((out / "metrics.json").read_text())["shift_diagnostics"]
    assert list(shift) == ["regular", "adapted"] and list(shift["adapted"]) == ["y1"]
    assert shift["regular"]["y1"]["source_images"] == 7
    for name, model in (("regular", regular), ("adapted", adapted)):
        source, target = disjoint_halves(y10, y1, seed=0)
        for domain, half in (("source", source), ("target", target)):
            predicted = np.argmax(model.predict(half, verbose=0), axis=1)
            assert shift[name]["y1"]["class_proportions"][domain] == pytest.approx(
                np.bincount(predicted, minlength=3) / len(half))
    report = (out / "report.md").read_text()
    assert "| Diagnostic | regular | adapted |" in report
    auc = [shift[m]["y1"]["domain_auc"] for m in ("regular", "adapted")]
    assert f"| Domain-classifier AUC (0.5: aligned) | {auc[0]:.4f} | {auc[1]:.4f} |" in report
    for name in ("entropy_y1.png", "class_proportions_y1.png"):
        _assert_real_png(out / name)
        assert f'src="{name}"' in report


def test_single_model_without_attack_on_a_dataset_directory(tmp_path):
    from astrokeras.data import MorphologySimulation, write_dataset

    write_dataset(MorphologySimulation(size=16), 10, tmp_path / "data", seed=1)
    model = _classifier(2, shape=(16, 16, 3))
    model.save(tmp_path / "model.keras")
    out = tmp_path / "out"
    result = _run(tmp_path / "model.keras", "--data", tmp_path / "data", "--split", "all",
                  "--out", out)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["galaxies"] == 10 and metrics["base_domain"] == "y10"
    assert list(metrics["table2"]["model"]) == ["y10", "y1"]
    assert metrics["table2"]["model"]["y10"]["accuracy"] is not None
    assert metrics["attack"] == {}
    assert "No church window" in " ".join(metrics["notes"])
    _assert_real_png(out / "distances_model.png")
    classes = list(MorphologySimulation.classes)
    assert metrics["metrics"]["model"]["y10"]["class_names"] == classes
    assert f"| model | y10 | {metrics['table2']['model']['y10']['accuracy']:.4f} |" in (
        out / "report.md").read_text()


def _photoz_files(tmp_path):
    keras.utils.set_random_seed(0)
    image = keras.Input((6, 6, 5), name="image")
    ebv = keras.Input((1,), name="ebv")
    h = keras.layers.Concatenate()([keras.layers.Flatten()(image), ebv])
    model = keras.Model([image, ebv], keras.layers.Dense(20, activation="softmax")(h))
    model.save(tmp_path / "pz.keras")
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(12, 6, 6, 5)).astype(np.float32)
    e = rng.uniform(0, 0.1, size=12).astype(np.float32)
    z = rng.uniform(0.01, 0.39, size=12)
    np.savez(tmp_path / "pz.npz", x=x, ebv=e, z=z)
    return model, x, e, z


def test_photoz_model_gets_bias_scatter_and_outliers(tmp_path):
    model, x, e, z = _photoz_files(tmp_path)
    out = tmp_path / "out"
    result = _run(tmp_path / "pz.keras", "--data", tmp_path / "pz.npz", "--out", out)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    got = metrics["photoz"]["pz"]["pz.npz"]["mean"]
    centres = (np.arange(20) + 0.5) * 0.4 / 20
    z_phot = model.predict({"image": x, "ebv": e[:, None]}, verbose=0) @ centres
    dz = (z_phot - z) / (1 + z)
    assert got["bias"] == pytest.approx(dz.mean(), abs=1e-6)
    assert got["eta"] == pytest.approx(np.mean(np.abs(dz) > 0.05))
    _assert_real_png(out / "photoz.png")
    assert "sigma_MAD" in (out / "report.md").read_text()


@pytest.mark.parametrize("extra, message", [
    (["--domain", "y5"], "y5"),
    (["--n", "0"], "--n must be at least 1"),
    (["--domain", "y10"], "nothing to compare"),
])
def test_bad_arguments_fail_with_one_line(saved, tmp_path, extra, message):
    folder = saved[0]
    result = _run(folder / "regular.keras", "--data", folder / "pairs.npz", "--out",
                  tmp_path / "o", *extra)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_model_fails_before_any_work(tmp_path):
    result = _run(tmp_path / "absent.keras", "--data", tmp_path, "--out", tmp_path / "o")
    assert result.exit_code == 1 and "No such model file" in result.output
    assert not (tmp_path / "o").exists()


def test_fgsm_attack_measures_distances_to_flipped_images(saved, tmp_path):
    folder, regular, _, y10, _, labels = saved
    out = tmp_path / "out"
    result = _run(folder / "regular.keras", "--data", folder / "pairs.npz", "--attack", "fgsm",
                  "--eps", "1.0", "--n", "5", "--resolution", "9", "--out", out)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    from astrokeras.attacks import fgsm

    adversarial = fgsm(regular, y10[:5], labels[:5], eps=1.0)
    flipped = np.argmax(regular.predict(adversarial, verbose=0), axis=1) != labels[:5]
    assert flipped.any()
    assert metrics["attack"]["regular"]["succeeded"] == int(flipped.sum())
    assert metrics["table3"]["regular"]["fgsm"]["n"] == int(flipped.sum())
    assert metrics["parameters"]["attack_options"]["eps"] == 1.0
    _assert_real_png(out / "distances_regular.png")


def test_fgsm_without_eps_is_refused(saved, tmp_path):
    folder = saved[0]
    result = _run(folder / "regular.keras", "--data", folder / "pairs.npz", "--attack", "fgsm",
                  "--out", tmp_path / "o")
    assert result.exit_code == 1 and "--eps" in result.output


def test_photoz_fgsm_reports_the_attacked_statistics(tmp_path):
    from astrokeras.attacks import fgsm, redshift_bins
    from astrokeras.evaluation import photoz_metrics

    model, x, e, z = _photoz_files(tmp_path)
    out = tmp_path / "out"
    result = _run(tmp_path / "pz.keras", "--data", tmp_path / "pz.npz", "--attack", "fgsm",
                  "--eps", "0.2", "--out", out)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    inputs = {"image": x, "ebv": e[:, None]}
    adversarial = fgsm(model, inputs, redshift_bins(z, num_bins=20), eps=0.2)
    centres = (np.arange(20) + 0.5) * 0.4 / 20
    expected = photoz_metrics(model.predict(adversarial, verbose=0) @ centres, z)
    got = metrics["photoz"]["pz"]["pz.npz, FGSM eps=0.2"]["mean"]
    assert got["bias"] == pytest.approx(expected["bias"], abs=1e-6)
    assert got["sigma_mad"] == pytest.approx(expected["sigma_mad"], abs=1e-6)
    assert got["bias"] != pytest.approx(metrics["photoz"]["pz"]["pz.npz"]["mean"]["bias"])
    assert "FGSM eps=0.2" in (out / "report.md").read_text()
    refused = _run(tmp_path / "pz.keras", "--data", tmp_path / "pz.npz", "--attack",
                   "one-pixel", "--out", tmp_path / "o")
    assert refused.exit_code == 1 and "FGSM" in refused.output


@pytest.fixture(scope="module")
def photoz_dataset(tmp_path_factory):
    """A tiny photo-z dataset (10 galaxies, 16 x 16 x 5, 10 bins over [0, 0.5)) and a tiny
    two-input photo-z network saved beside it."""
    from astrokeras.data import PhotoZSimulation, write_dataset

    folder = tmp_path_factory.mktemp("photoz")
    write_dataset(PhotoZSimulation(size=16, z_range=(0.0, 0.5), num_bins=10), 10,
                  folder / "data", seed=2)
    keras.utils.set_random_seed(0)
    image = keras.Input((16, 16, 5), name="image")
    ebv = keras.Input((1,), name="ebv")
    pooled = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(image))
    h = keras.layers.Concatenate()([pooled, ebv])
    model = keras.Model([image, ebv], keras.layers.Dense(10, activation="softmax")(h))
    model.save(folder / "pz.keras")
    return folder, model


def test_photoz_model_on_a_photoz_dataset_directory(photoz_dataset, tmp_path):
    from astrokeras.attacks import fgsm
    from astrokeras.data import load_pairs

    folder, model = photoz_dataset
    out = tmp_path / "out"
    result = _run(folder / "pz.keras", "--data", folder / "data", "--split", "all",
                  "--attack", "fgsm", "--eps", "0.1", "--out", out)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    (images,), bins, values = next(iter(load_pairs(folder / "data", split="all", batch_size=10,
                                                   values=True)))
    z = values["redshift"].numpy().astype(np.float64)
    inputs = {"image": images.numpy(), "ebv": values["ebv"].numpy()[:, None]}
    centres = (np.arange(10) + 0.5) * 0.05  # the dataset's bins: 10 over [0, 0.5)
    dz = (model.predict(inputs, verbose=0) @ centres - z) / (1 + z)
    got = metrics["photoz"]["pz"]["data (all split), y10"]["mean"]
    assert got["n"] == 10
    assert got["bias"] == pytest.approx(dz.mean(), abs=1e-6)
    assert got["sigma_mad"] == pytest.approx(
        1.4826 * np.median(np.abs(dz - np.median(dz))), abs=1e-6)
    assert got["eta"] == pytest.approx(np.mean(np.abs(dz) > 0.05))
    assert (metrics["parameters"]["z_min"], metrics["parameters"]["z_max"]) == (0.0, 0.5)
    adversarial = fgsm(model, inputs, bins.numpy(), eps=0.1)
    dz_fgsm = (model.predict(adversarial, verbose=0) @ centres - z) / (1 + z)
    attacked = metrics["photoz"]["pz"]["data (all split), y10, FGSM eps=0.1"]["mean"]
    assert attacked["bias"] == pytest.approx(dz_fgsm.mean(), abs=1e-6)
    _assert_real_png(out / "photoz.png")
    report = (out / "report.md").read_text()
    assert "sigma_MAD" in report and "data (all split), y10" in report


def test_photoz_and_classifier_datasets_are_not_mixed_up(photoz_dataset, saved, tmp_path):
    folder = photoz_dataset[0]
    result = _run(saved[0] / "regular.keras", "--data", folder / "data", "--out",
                  tmp_path / "o")
    assert result.exit_code == 1 and "photo-z dataset" in result.output
    assert len(result.output.strip().splitlines()) == 1
    from astrokeras.data import MorphologySimulation, write_dataset

    write_dataset(MorphologySimulation(size=16), 3, tmp_path / "morph", seed=0)
    result = _run(folder / "pz.keras", "--data", tmp_path / "morph", "--out", tmp_path / "o")
    assert result.exit_code == 1 and "needs a photo-z dataset" in result.output


def test_attack_choices_and_options_come_from_the_registry(saved, tmp_path):
    folder = saved[0]
    common = [folder / "regular.keras", "--data", folder / "pairs.npz", "--out", tmp_path / "o"]
    assert _run(*common, "--attack", "cw").exit_code == 2
    alone = _run(*common, "--eps", "0.1")
    assert alone.exit_code == 1 and "--eps applies only with an attack" in alone.output
    wrong = _run(*common, "--attack", "fgsm", "--eps", "0.1", "--popsize", "8")
    assert wrong.exit_code == 1
    assert "--popsize does not apply to --attack fgsm" in wrong.output
    help_text = runner.invoke(app, ["evaluate", "--help"]).output
    assert all(name in help_text for name in ("fgsm", "pgd", "one-pixel"))
    assert not (tmp_path / "o").exists()
