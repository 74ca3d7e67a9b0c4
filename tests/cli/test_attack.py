import json

import keras
import numpy as np
import pytest
from typer.testing import CliRunner

from astrokeras.cli.app import app

runner = CliRunner()


@pytest.fixture
def classifier(tmp_path):
    """A saved 3-class model on 6x6x2 images and a .npz with x and y."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(10, 6, 6, 2)).astype(np.float32)
    y = np.argmax(model.predict(x, verbose=0), axis=1)  # all correct before the attack
    model.save(tmp_path / "model.keras")
    np.savez(tmp_path / "data.npz", x=x, y=y)
    return tmp_path / "model.keras", tmp_path / "data.npz", x, y


def load(path):
    with np.load(path) as archive:
        return dict(archive)


def run(*args):
    return runner.invoke(app, ["attack", *map(str, args)])


def _tiny_photoz_model(path, size, num_bins):
    """A two-input {"image", "ebv"} softmax over redshift bins, saved to `path`."""
    keras.utils.set_random_seed(0)
    image, ebv = keras.Input((size, size, 5), name="image"), keras.Input((1,), name="ebv")
    h = keras.layers.Concatenate()([keras.layers.Flatten()(image), ebv])
    model = keras.Model({"image": image, "ebv": ebv},
                        keras.layers.Dense(num_bins, activation="softmax")(h))
    model.save(path)
    return model


def test_pgd_writes_adversarial_images_and_summary(classifier, tmp_path):
    model, data, x, y = classifier
    out = tmp_path / "out"
    result = run(model, data, "--method", "pgd", "--eps", "0.5", "--steps", "5", "--n", "8",
                 "--clip-min", "0", "--clip-max", "1", "--out", out)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    saved = load(out / "adversarial.npz")
    assert saved["x"].shape == (8, 6, 6, 2)
    assert np.abs(saved["x"] - x[:8]).max() <= 0.5 + 1e-6
    assert saved["x"].min() >= 0 and saved["x"].max() <= 1
    np.testing.assert_array_equal(saved["y"], y[:8])
    assert summary["method"] == "pgd" and summary["images"] == 8
    assert summary["accuracy_before"] == 1.0
    assert summary["accuracy_after"] < 1.0 and summary["success_rate"] > 0.0
    assert summary["loss_after"] > summary["loss_before"]
    assert summary["parameters"]["step"] == pytest.approx(0.125)
    assert not list(out.glob(".*tmp"))  # no temporary file left behind


def test_fgsm_without_labels_attacks_predictions(classifier, tmp_path):
    model, _, x, _ = classifier
    np.savez(tmp_path / "nolabels.npz", x=x)
    result = run(model, tmp_path / "nolabels.npz", "--method", "fgsm", "--eps", "0.3",
                 "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["labels"] == "predictions" and summary["accuracy_before"] == 1.0
    assert summary["loss_after"] > summary["loss_before"]


def test_one_pixel_reports_generations(classifier, tmp_path):
    model, data, x, _ = classifier
    result = run(model, data, "--method", "one-pixel", "--popsize", "20", "--max-iter", "5",
                 "--n", "4", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    saved = load(tmp_path / "o" / "adversarial.npz")
    assert {"mean_generations", "median_generations"} <= set(summary)
    assert saved["generations"].shape == (4,) and saved["pixels"].shape == (4, 1, 2)
    changed = np.any(saved["x"] != x[:4], axis=-1).reshape(4, -1).sum(axis=1)
    assert np.all(changed <= 1)
    assert summary["succeeded"] == int(saved["success"].sum())


def test_photoz_model_attacks_the_image_and_keeps_ebv(tmp_path):
    _tiny_photoz_model(tmp_path / "photoz.keras", size=6, num_bins=180)
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(5, 6, 6, 5)).astype(np.float32)
    e = rng.uniform(0, 0.1, size=5).astype(np.float32)
    np.savez(tmp_path / "photoz.npz", x=x, ebv=e, z=rng.uniform(0, 0.4, size=5))
    result = run(tmp_path / "photoz.keras", tmp_path / "photoz.npz", "--method", "fgsm",
                 "--eps", "0.05", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    saved = load(tmp_path / "o" / "adversarial.npz")
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    np.testing.assert_array_equal(saved["ebv"].ravel(), e)
    assert np.abs(saved["x"] - x).max() == pytest.approx(0.05, abs=1e-6)
    assert summary["loss_after"] > summary["loss_before"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--method", "pgd"], "--eps is required"),
        (["--method", "fgsm", "--eps", "-1"], "`eps` must be >= 0"),
        (["--method", "pgd", "--eps", "0.1", "--step", "0.5"], "`step` must not exceed"),
        (["--method", "fgsm", "--eps", "0.1", "--norm", "1"], "Unknown `norm` (--norm)"),
        (["--method", "one-pixel", "--popsize", "2"], "popsize"),
        (["--method", "one-pixel", "--strategy", "best2"], "Unknown `strategy`"),
        (["--method", "one-pixel", "--init", "gaussian"], "Unknown `init`"),
    ],
)
def test_bad_arguments_exit_with_one_line(classifier, tmp_path, extra, message):
    model, data, _, _ = classifier
    result = run(model, data, *extra, "--out", tmp_path / "o")
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o" / "summary.json").exists()


def test_missing_files_and_bad_data_are_reported(classifier, tmp_path):
    model, _, _, _ = classifier
    missing = run(tmp_path / "nope.keras", tmp_path / "nope.npz", "--method", "fgsm", "--eps",
                  "0.1", "--out", tmp_path / "o")
    assert missing.exit_code == 1 and "No such file" in missing.output
    np.savez(tmp_path / "bad.npz", images=np.zeros((2, 6, 6, 2)))
    bad = run(model, tmp_path / "bad.npz", "--method", "fgsm", "--eps", "0.1", "--out",
              tmp_path / "o")
    assert bad.exit_code == 1 and "no array named x" in bad.output


def test_unknown_method_is_a_usage_error(classifier, tmp_path):
    model, data, _, _ = classifier
    result = run(model, data, "--method", "cw", "--out", tmp_path / "o")
    assert result.exit_code == 2


@pytest.fixture(scope="module")
def morphology_dir(tmp_path_factory):
    """6 simulated galaxies of 16x16x3 in two domains (y10, y1), and a tiny classifier."""
    from astrokeras.data import MorphologySimulation, write_dataset

    path = tmp_path_factory.mktemp("morphology")
    write_dataset(MorphologySimulation(size=16, class_fractions=(1, 1, 1)), 6, path / "set",
                  seed=0)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    model.save(path / "model.keras")
    return path / "model.keras", path / "set"


def clean_images(path, domain, split, n):
    from astrokeras.data import load

    images, labels = next(iter(load(path, domain, split=split, batch_size=n, shuffle=False,
                                    augment_images=False)))
    return images.numpy(), labels.numpy()


@pytest.mark.parametrize("domain", ["y10", "y1"])
def test_dataset_directory_attacks_the_chosen_domain(morphology_dir, tmp_path, domain):
    model, data = morphology_dir
    out = tmp_path / "o"
    result = run(model, data, "--method", "fgsm", "--eps", "0.05", "--domain", domain,
                 "--split", "all", "--n", "4", "--out", out)
    assert result.exit_code == 0, result.output
    x, y = clean_images(data, domain, "all", 4)
    saved = load(out / "adversarial.npz")
    summary = json.loads((out / "summary.json").read_text())
    assert saved["x"].shape == (4, 16, 16, 3)
    np.testing.assert_array_equal(saved["y"], y)
    # The attacked images are the stretched images of that domain, moved by at most eps.
    assert np.abs(saved["x"] - x).max() == pytest.approx(0.05, abs=1e-6)
    assert summary["images"] == 4 and summary["labels"] != "predictions"
    assert summary["parameters"]["domain"] == domain
    assert summary["parameters"]["split"] == "all"


def test_dataset_directory_defaults_to_first_domain_and_test_split(morphology_dir, tmp_path):
    model, data = morphology_dir
    result = run(model, data, "--method", "one-pixel", "--popsize", "8", "--max-iter", "1",
                 "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    x, _ = clean_images(data, "y10", "test", 6)
    assert summary["parameters"]["domain"] == "y10" and summary["parameters"]["split"] == "test"
    assert summary["images"] == len(x)  # --n 150 is capped by the split's galaxies


def test_dataset_directory_bad_domain_split_and_npz_options(morphology_dir, classifier,
                                                             tmp_path):
    model, data = morphology_dir
    for extra, message in ((["--domain", "hst"], "--domain is not a domain"),
                           (["--split", "dev"], "Unknown --split")):
        result = run(model, data, "--method", "fgsm", "--eps", "0.1", *extra,
                     "--out", tmp_path / "o")
        assert result.exit_code == 1 and message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    npz_model, npz, _, _ = classifier
    result = run(npz_model, npz, "--method", "fgsm", "--eps", "0.1", "--domain", "y1",
                 "--out", tmp_path / "o")
    assert result.exit_code == 1 and "--domain applies to a dataset directory" in result.output
    assert not (tmp_path / "o" / "summary.json").exists()


def test_photoz_dataset_directory_gives_ebv_and_redshift_bins(tmp_path):
    from astrokeras import data as data_lib

    data_lib.write_dataset(data_lib.PhotoZSimulation(size=16, num_bins=12), 5, tmp_path / "set",
                           seed=1)
    _tiny_photoz_model(tmp_path / "photoz.keras", size=16, num_bins=12)
    inputs, bins = next(iter(data_lib.load(tmp_path / "set", split="all", batch_size=5,
                                           shuffle=False, augment_images=False)))
    # The stored labels; then bins recomputed from the z_spec read beside the images
    # (--z-max given): equal only if z_spec is aligned galaxy by galaxy.
    for extra in ([], ["--z-max", "1.0"]):
        out = tmp_path / f"o{len(extra)}"
        result = run(tmp_path / "photoz.keras", tmp_path / "set", "--method", "fgsm", "--eps",
                     "0.05", "--split", "all", *extra, "--out", out)
        assert result.exit_code == 0, result.output
        saved = load(out / "adversarial.npz")
        np.testing.assert_array_equal(saved["ebv"], inputs["ebv"].numpy())
        np.testing.assert_array_equal(saved["y"], bins.numpy())
        assert saved["z"].shape == (5,) and np.all((saved["z"] > 0) & (saved["z"] < 1))
        assert np.abs(saved["x"] - inputs["image"].numpy()).max() == pytest.approx(0.05,
                                                                                   abs=1e-6)
        summary = json.loads((out / "summary.json").read_text())
        assert summary["loss_after"] > summary["loss_before"]
        assert summary["parameters"]["z_max"] == 1.0


def test_options_of_another_attack_are_refused_naming_the_flag(classifier, tmp_path):
    model, data, _, _ = classifier
    result = run(model, data, "--method", "fgsm", "--eps", "0.1", "--popsize", "8",
                 "--out", tmp_path / "o")
    assert result.exit_code == 1
    assert "--popsize does not apply to --method fgsm" in result.output
    bad = run(model, data, "--method", "pgd", "--eps", "0.1", "--option", "steps",
              "--out", tmp_path / "o")
    assert bad.exit_code == 1 and "--option must be KEY=VALUE" in bad.output
    assert not (tmp_path / "o").exists()


def test_option_sets_any_attack_option_by_name(classifier, tmp_path):
    model, data, x, _ = classifier
    result = run(model, data, "--method", "pgd", "--eps", "0.2", "--option", "steps=2",
                 "--option", "random_start=false", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["parameters"]["steps"] == 2
    assert summary["parameters"]["random_start"] is False
