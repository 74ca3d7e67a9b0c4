import json

import numpy as np
import pytest

from experiment_helpers import saved_classifier
from astrokeras.errors import InvalidArgumentError
from astrokeras.experiments import run_attack


@pytest.fixture
def files(tmp_path):
    """A saved 3-class classifier on 6x6x2 images, and an .npz it classifies (x, y)."""
    model, x, y = saved_classifier(tmp_path, 8)
    return tmp_path, model, x, y


def test_targeted_pgd_moves_images_towards_the_target(files):
    folder, model, x, y = files
    target = int((y[0] + 1) % 3)
    calls = []
    summary = run_attack(folder / "model.keras", folder / "data.npz", folder / "out",
                         attack="pgd", options={"eps": 1.0, "steps": 5, "clip": (0.0, 1.0)},
                         target=target, seed=1, callback=lambda *call: calls.append(call))
    with np.load(folder / "out" / "adversarial.npz") as saved:
        adversarial = saved["x"]
    reached = np.argmax(model.predict(adversarial, verbose=0), axis=1) == target
    assert summary["success_rate"] == pytest.approx(reached.mean())
    assert reached.any()
    assert summary["parameters"] == {"n": 8, "seed": 1, "target": target, "eps": 1.0,
                                     "norm": "inf", "clip": (0.0, 1.0), "step": 0.25,
                                     "steps": 5, "random_start": True}
    assert adversarial.min() >= 0.0 and adversarial.max() <= 1.0
    assert calls[-1] == ("images", 8, 8)
    assert json.loads((folder / "out" / "summary.json").read_text()) == json.loads(
        json.dumps(summary))


def test_one_pixel_writes_its_own_arrays_and_generations(files):
    folder, _, x, _ = files
    calls = []
    summary = run_attack(folder / "model.keras", folder / "data.npz", folder / "out",
                         attack="one-pixel", options={"popsize": 8, "max_iter": 2}, n=3,
                         callback=lambda *call: calls.append(call))
    with np.load(folder / "out" / "adversarial.npz") as saved:
        assert saved["generations"].shape == (3,) and saved["values"].shape == (3, 1, 2)
        assert summary["succeeded"] == int(saved["success"].sum())
    assert "mean_generations" in summary
    assert calls and calls[-1][1:] == (3, 3)  # generations 0..2 of max_iter 2


def test_a_domain_adaptation_model_is_attacked_through_its_classifier(files):
    from astrokeras.training import MMD, DomainAdaptationModel

    folder, model, x, y = files
    DomainAdaptationModel(model, MMD()).save(folder / "adapted.keras")
    summary = run_attack(folder / "adapted.keras", folder / "data.npz", folder / "out",
                         attack="fgsm", options={"eps": 0.2})
    with np.load(folder / "out" / "adversarial.npz") as saved:
        np.testing.assert_allclose(np.abs(saved["x"] - x).max(), 0.2, atol=1e-6)
    assert summary["accuracy_before"] == 1.0


def test_a_second_run_replaces_the_outputs_and_leaves_no_temporary_file(files):
    folder = files[0]
    for eps in (0.1, 0.3):
        run_attack(folder / "model.keras", folder / "data.npz", folder / "out",
                   attack="fgsm", options={"eps": eps})
    summary = json.loads((folder / "out" / "summary.json").read_text())
    assert summary["parameters"]["eps"] == 0.3
    assert sorted(p.name for p in (folder / "out").iterdir()) == ["adversarial.npz",
                                                                  "summary.json"]


@pytest.mark.parametrize("arguments, message", [
    ({"attack": "fgsm", "options": {"eps": 0.1}, "n": 0}, "--n must be at least 1"),
    ({"attack": "fgsm", "options": {"eps": 0.1, "pixels": 2}},
     "pixels does not apply to attack 'fgsm'"),
    ({"attack": "fgsm", "options": {"eps": 0.1}, "z_max": -1.0}, "--z-max must be positive"),
    ({"attack": "fgsm", "options": {"eps": 0.1}, "split": "test"},
     "--split applies to a dataset directory"),
])
def test_bad_arguments_are_refused_before_any_work(files, arguments, message):
    folder = files[0]
    with pytest.raises(InvalidArgumentError) as error:
        run_attack(folder / "model.keras", folder / "data.npz", folder / "out", **arguments)
    assert message in str(error.value)
    assert not (folder / "out").exists()


@pytest.mark.parametrize("name", ["astrokeras.experiments.attacks",
                                  "astrokeras.experiments.attack"])
def test_docstring_examples_run(name):
    from conftest import assert_docstring_examples_pass

    assert_docstring_examples_pass(name)
