import json

import keras
import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.experiments import run_evaluation


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    """A saved classifier with a latent layer and paired y10 / y1 images it classifies."""
    folder = tmp_path_factory.mktemp("evaluate_workflow")
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 2), name="image")
    latent = keras.layers.Dense(4, activation="tanh", name="latent")(
        keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(latent))
    rng = np.random.default_rng(0)
    y10 = (6 * rng.uniform(size=(10, 6, 6, 2)) - 3).astype(np.float32)
    labels = np.argmax(model.predict(y10, verbose=0), axis=1)
    model.save(folder / "model.keras")
    np.savez(folder / "pairs.npz", y10=y10, y1=y10 + 0.2, label=labels)
    return folder, model, y10, labels


def test_pgd_from_the_registry_is_measured_like_the_paper_attacks(classifier, tmp_path):
    from astrokeras.attacks import pgd

    folder, model, y10, labels = classifier
    calls = []
    written = run_evaluation(folder / "model.keras", folder / "pairs.npz", tmp_path,
                             attack="pgd", options={"eps": 1.0, "steps": 3}, n=5, seed=2,
                             resolution=3, bins=4, command="astrokeras evaluate ...",
                             progress=lambda *call: calls.append(call))
    metrics = json.loads(open(written["metrics"]).read())
    adversarial = pgd(model, y10[:5], labels[:5], eps=1.0, step=0.25, steps=3, seed=2)
    flipped = np.argmax(model.predict(adversarial, verbose=0), axis=1) != labels[:5]
    assert flipped.any()
    assert metrics["attack"]["model"]["succeeded"] == int(flipped.sum())
    assert metrics["table3"]["model"]["pgd"]["n"] == int(flipped.sum())
    assert metrics["parameters"]["attack_options"]["step"] == 0.25
    assert "Command: `astrokeras evaluate ...`" in open(written["report"]).read()
    descriptions = [call[0] for call in calls]
    assert "Reading the data" in descriptions and "Plotting" in descriptions


def test_attack_options_without_an_attack_are_refused(classifier, tmp_path):
    folder = classifier[0]
    with pytest.raises(InvalidArgumentError, match="--eps applies only with an attack"):
        run_evaluation(folder / "model.keras", folder / "pairs.npz", tmp_path / "out",
                       options={"eps": 0.1}, flags={"eps": "--eps"})
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def photoz(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photoz_workflow")
    keras.utils.set_random_seed(0)
    image, ebv = keras.Input((6, 6, 5), name="image"), keras.Input((1,), name="ebv")
    h = keras.layers.Concatenate()([keras.layers.Flatten()(image), ebv])
    model = keras.Model([image, ebv], keras.layers.Dense(20, activation="softmax")(h))
    model.save(folder / "pz.keras")
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(8, 6, 6, 5)).astype(np.float32)
    e = rng.uniform(0, 0.1, size=8).astype(np.float32)
    z = rng.uniform(0.01, 0.39, size=8)
    np.savez(folder / "pz.npz", x=x, ebv=e, z=z)
    return folder, model, {"image": x, "ebv": e[:, None]}, z


def test_photoz_networks_take_pgd_and_name_it_in_the_metrics(photoz, tmp_path):
    from astrokeras.attacks import pgd, redshift_bins
    from astrokeras.evaluation import photoz_metrics

    folder, model, inputs, z = photoz
    written = run_evaluation(folder / "pz.keras", folder / "pz.npz", tmp_path, attack="pgd",
                             options={"eps": 0.2, "steps": 2, "random_start": False})
    metrics = json.loads(open(written["metrics"]).read())
    adversarial = pgd(model, inputs, redshift_bins(z, num_bins=20), eps=0.2, step=0.05,
                      steps=2, random_start=False)
    centres = (np.arange(20) + 0.5) * 0.4 / 20
    expected = photoz_metrics(model.predict(adversarial, verbose=0) @ centres, z)
    got = metrics["photoz"]["pz"]["pz.npz, PGD eps=0.2"]["mean"]
    assert got["bias"] == pytest.approx(expected["bias"], abs=1e-6)
    assert metrics["parameters"]["attack"] == "pgd"


def test_photoz_networks_refuse_attacks_not_meant_for_them(photoz, tmp_path):
    folder = photoz[0]
    with pytest.raises(InvalidArgumentError, match="attacked with FGSM or PGD"):
        run_evaluation(folder / "pz.keras", folder / "pz.npz", tmp_path / "out",
                       attack="one-pixel")


def test_shift_diagnostics_of_one_model_need_no_label(classifier, tmp_path):
    from astrokeras.evaluation import shift_diagnostics

    folder, model, y10, labels = classifier
    written = run_evaluation(folder / "model.keras", folder / "pairs.npz", tmp_path / "a",
                             resolution=3, bins=4, seed=1)
    metrics = json.loads(open(written["metrics"]).read())
    expected = shift_diagnostics(model, y10, y10 + 0.2, paired=True, seed=1)
    got = metrics["shift_diagnostics"]["model"]["y1"]
    assert got["latent_mmd"] == pytest.approx(expected["latent_mmd"], rel=1e-5)
    assert got["domain_auc"] == pytest.approx(expected["domain_auc"])
    assert got["class_proportions"] == expected["class_proportions"]
    assert got["entropy"]["target_counts"] == expected["entropy"]["target_counts"]
    report = open(written["report"]).read()
    assert "No label of either domain is used" in report
    assert "| Diagnostic | model |" in report
    assert f"| Mean target prediction entropy (nats) | {got['entropy']['target_mean']:.4f} |" \
        in report
    for name in ("entropy_y1.png", "class_proportions_y1.png"):
        assert (tmp_path / "a" / name).stat().st_size > 0 and f'src="{name}"' in report
    # Other labels change the accuracy, not a single diagnostic.
    np.savez(tmp_path / "relabelled.npz", y10=y10, y1=y10 + 0.2, label=(labels + 1) % 3)
    relabelled = run_evaluation(folder / "model.keras", tmp_path / "relabelled.npz",
                                tmp_path / "b", resolution=3, bins=4, seed=1)
    again = json.loads(open(relabelled["metrics"]).read())
    assert again["table2"] != metrics["table2"]
    assert again["shift_diagnostics"] == metrics["shift_diagnostics"]


def test_docstring_examples_run():
    from conftest import assert_docstring_examples_pass

    assert_docstring_examples_pass("astrokeras.experiments.evaluate")
