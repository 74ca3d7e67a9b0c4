import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.evaluation import (classification_metrics, distance_statistics,
                                   evaluate_robustness, js_distance, latent_distances,
                                   latent_embeddings, markdown_tables, robustness_summary)
from astrokeras.experiments import robustness_attack
from evaluation_helpers import paired_images, tiny_classifier


@pytest.fixture(scope="module")
def evaluation():
    regular, adapted = tiny_classifier(seed=0, name="a"), tiny_classifier(seed=1, name="b")
    y10, y1 = (6 * x - 3 for x in paired_images(n=15))  # wide enough to vary the classes
    # True classes: the regular model's own decisions, so it has images to attack.
    labels = np.argmax(regular.predict(y10, verbose=0), axis=1)
    result = evaluate_robustness(
        {"regular": regular, "adapted": adapted}, {"y10": y10, "y1": y1}, labels,
        class_names=["spiral", "elliptical", "merger"], n=6, bins=10,
        attack=robustness_attack("one-pixel",
                                 dict(popsize=10, max_iter=5, bounds=(-30.0, 30.0))))
    return result, {"regular": regular, "adapted": adapted}, y10, y1, labels


def test_table2_holds_the_metrics_of_every_model_and_domain(evaluation):
    result, models, y10, y1, labels = evaluation
    table2 = result.summary["table2"]
    assert list(table2) == ["regular", "adapted"] and list(table2["regular"]) == ["y10", "y1"]
    for name, model in models.items():
        for domain, images in (("y10", y10), ("y1", y1)):
            expected = classification_metrics(labels, model.predict(images, verbose=0))
            for key in ("accuracy", "precision", "recall", "f1", "brier", "roc_auc"):
                assert table2[name][domain][key] == pytest.approx(expected[key], abs=1e-6)


def test_table3_holds_distance_statistics_and_attack_results(evaluation):
    result, models, y10, y1, labels = evaluation
    for name, model in models.items():
        expected = latent_distances(model, y10, y1)
        np.testing.assert_allclose(result.distances[name]["y1"], expected, rtol=1e-5)
        stats = result.summary["table3"][name]["y1"]
        assert stats["median"] == pytest.approx(distance_statistics(expected)["median"], rel=1e-5)
        attack = result.attacks[name]
        one_pixel = result.distances[name]["one-pixel"]
        assert one_pixel.size == attack.success.sum() == result.summary["attack"][name][
            "succeeded"]
        chosen = result.attacked[name]
        correct = np.flatnonzero(np.argmax(model.predict(y10, verbose=0), axis=1) == labels)
        np.testing.assert_array_equal(chosen, correct[:6])  # first n correctly classified
        direct = latent_distances(model, y10[chosen][attack.success],
                                  attack.adversarial[attack.success]) if attack.success.any() \
            else np.zeros(0)
        np.testing.assert_allclose(one_pixel, direct, rtol=1e-5, atol=1e-6)
        assert result.summary["attack"][name]["images"] == chosen.size
    assert result.attacks["regular"].success.any()
    assert np.all(result.attacks["regular"].generations[result.attacks["regular"].success] >= 0)
    js = {(e["perturbation"], e["a"], e["b"]): e["value"] for e in result.summary["js_distance"]}
    assert js[("y1", "regular", "adapted")] == pytest.approx(
        js_distance(result.distances["regular"]["y1"], result.distances["adapted"]["y1"],
                    bins=10))
    assert result.latents["regular"]["one-pixel"].shape == (6, 4)
    assert result.summary["attack"]["regular"]["images"] == 6


def test_summary_layout_and_markdown_from_hand_made_numbers():
    metric = {"accuracy": 0.9, "precision": 0.8, "recall": 0.7, "f1": 0.6, "brier": 0.2,
              "roc_auc": 0.95}
    metrics = {"regular": {"y10": metric, "y1": metric}, "da": {"y10": metric, "y1": metric}}
    distances = {"regular": {"y1": [1.0, 1.1, 1.2], "one-pixel": [5.0, 5.5]},
                 "da": {"y1": [1.0, 1.1, 1.2], "one-pixel": [9.0, 9.5]}}
    attacks = {"regular": {"images": 4, "succeeded": 2, "success_rate": 0.5,
                           "mean_generations": 3.0, "median_generations": 3.0}}
    s = robustness_summary(metrics, distances, attacks, bins=5)
    js = {(e["perturbation"], e["a"], e["b"]): e["value"] for e in s["js_distance"]}
    assert js[("y1", "regular", "da")] == 0.0
    assert js[("one-pixel", "regular", "da")] == pytest.approx(1.0)
    assert js[("y1 vs one-pixel", "regular", "regular")] == pytest.approx(1.0)
    assert s["table3"]["da"]["one-pixel"]["mean"] == 9.25
    text = markdown_tables(s)
    assert "| regular | y1 | 0.9000 | 0.8000 | 0.7000 | 0.6000 | 0.2000 | 0.9500 |" in text
    assert "| da | one-pixel | 2 | 9.2500 | 9.2500 ± 0.2500 |" in text
    assert "| regular | 4 | 2 | 0.5000 | 3.0000 | 3.0000 |" in text


def test_bad_arguments_are_refused_before_any_work():
    model = tiny_classifier()
    y10, y1 = paired_images(n=4)
    with pytest.raises(InvalidArgumentError, match="one or two"):
        evaluate_robustness({"a": model, "b": model, "c": model}, {"y10": y10, "y1": y1},
                            [0, 1, 2, 0])
    with pytest.raises(InvalidArgumentError, match="same galaxies"):
        evaluate_robustness(model, {"y10": y10, "y1": y1[:3]}, [0, 1, 2, 0])
    with pytest.raises(InvalidArgumentError, match="attack"):
        evaluate_robustness(model, {"y10": y10, "y1": y1}, [0, 1, 2, 0], attack="one-pixel")
    with pytest.raises(InvalidArgumentError, match="nothing to compare"):
        evaluate_robustness(model, {"y10": y10}, [0, 1, 2, 0])
    with pytest.raises(InvalidArgumentError, match="population does not apply"):
        robustness_attack("one-pixel", {"population": 10})
    with pytest.raises(InvalidArgumentError, match="one name per class"):
        evaluate_robustness(model, {"y10": y10, "y1": y1}, [0, 1, 2, 0], class_names=["a"])
    with pytest.raises(InvalidArgumentError, match="labels"):
        evaluate_robustness(model, {"y10": y10, "y1": y1}, [0, 1, 2])


def test_fgsm_attack_flags_flipped_decisions_and_measures_their_distances():
    from astrokeras.attacks import fgsm

    model = tiny_classifier(seed=0)
    y10, y1 = (6 * x - 3 for x in paired_images(n=8))
    labels = np.argmax(model.predict(y10, verbose=0), axis=1)
    result = evaluate_robustness({"m": model}, {"y10": y10, "y1": y1}, labels, n=8,
                                 attack=robustness_attack("fgsm", {"eps": 1.0}))
    adversarial = fgsm(model, y10, labels, eps=1.0)
    flipped = np.argmax(model.predict(adversarial, verbose=0), axis=1) != labels
    assert 0 < flipped.sum() < 8  # some decisions flip, some hold
    np.testing.assert_array_equal(result.success["m"], flipped)
    np.testing.assert_allclose(result.adversarial["m"], adversarial, atol=1e-6)
    assert result.summary["attack"]["m"]["success_rate"] == pytest.approx(flipped.mean())
    np.testing.assert_allclose(result.distances["m"]["fgsm"],
                               latent_distances(model, y10[flipped], adversarial[flipped]),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(InvalidArgumentError, match="eps"):
        robustness_attack("fgsm", {})


def _pairwise_median(latents):
    """The median distance over all pairs of different rows, by plain numpy broadcasting."""
    differences = latents[:, None, :] - latents[None, :, :]
    matrix = np.sqrt((differences ** 2).sum(axis=-1))
    return float(np.median(matrix[np.triu_indices(len(latents), k=1)]))


def test_latent_scale_is_the_median_distance_between_different_galaxies():
    from astrokeras.evaluation.robustness import latent_scale

    latents = np.random.default_rng(3).normal(size=(9, 5)) * [1.0, 2.0, 3.0, 0.5, 4.0]
    scale = latent_scale(latents)
    assert scale == {"median_pairwise_distance": pytest.approx(_pairwise_median(latents)),
                     "galaxies": 9}
    assert latent_scale(3.0 * latents)["median_pairwise_distance"] == pytest.approx(
        3.0 * scale["median_pairwise_distance"])
    subset = latent_scale(latents, max_galaxies=4, seed=1)
    chosen = np.sort(np.random.default_rng(1).choice(9, 4, replace=False))
    assert subset == {"median_pairwise_distance": pytest.approx(
        _pairwise_median(latents[chosen])), "galaxies": 4}
    with pytest.raises(InvalidArgumentError, match="at least two"):
        latent_scale(latents[:1])
    with pytest.raises(InvalidArgumentError, match="max_galaxies"):
        latent_scale(latents, max_galaxies=1)


def test_scaled_table_and_flipped_both_follow_the_latents(evaluation):
    result, models, y10, y1, labels = evaluation
    summary = result.summary
    for name, model in models.items():
        base = latent_embeddings(model, y10)
        scale = _pairwise_median(np.asarray(base, np.float64))
        assert summary["latent_scale"][name]["median_pairwise_distance"] == pytest.approx(
            scale, rel=1e-5)
        for perturbation, raw in result.distances[name].items():
            scaled = summary["table3_scaled"][name][perturbation]
            assert scaled["n"] == raw.size
            assert scaled["median"] == pytest.approx(np.median(raw) / scale, rel=1e-5)
    both = summary["flipped_both"]
    flipped = [set(result.attacked[m][result.success[m]].tolist()) for m in models]
    common = sorted(flipped[0] & flipped[1])
    assert both["galaxies"] == common and both["n"] == len(common) >= 1
    assert both["attacked"] == len(set(result.attacked["regular"].tolist())
                                   & set(result.attacked["adapted"].tolist()))
    for name, model in models.items():
        rows = [result.attacked[name].tolist().index(g) for g in common]
        direct = latent_distances(model, y10[common], result.adversarial[name][rows])
        assert both["raw"][name]["median"] == pytest.approx(np.median(direct), rel=1e-5)
    assert both["ratio"]["raw_median"] == pytest.approx(
        both["raw"]["adapted"]["median"] / both["raw"]["regular"]["median"])
    text = markdown_tables(summary)
    assert "### Latent-space distances in units of each model's latent scale" in text
    assert f"{len(common)} of the {both['attacked']} galaxies attacked under both" in text


def _stretched_twin(model, factor):
    """The same classifier with its latent space stretched by `factor`: same decisions."""
    import keras

    twin = keras.models.clone_model(model)
    twin.set_weights(model.get_weights())
    kernel, bias = twin.get_layer("latent").get_weights()
    twin.get_layer("latent").set_weights([factor * kernel, factor * bias])
    kernel, bias = twin.get_layer("logits").get_weights()
    twin.get_layer("logits").set_weights([kernel / factor, bias])
    return twin


def test_scaled_reading_removes_a_stretch_of_the_latent_space():
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 2))
    h = keras.layers.Dense(8, activation="tanh")(keras.layers.Flatten()(inputs))
    latent = keras.layers.Dense(4, name="latent")(h)  # linear: stretching it is exact
    outputs = keras.layers.Softmax()(keras.layers.Dense(3, name="logits")(latent))
    model = keras.Model(inputs, outputs)
    twin = _stretched_twin(model, 3.0)
    y10, y1 = (6 * x - 3 for x in paired_images(n=10))
    labels = np.argmax(model.predict(y10, verbose=0), axis=1)
    result = evaluate_robustness(
        {"model": model, "stretched": twin}, {"y10": y10, "y1": y1}, labels,
        n=10, attack=robustness_attack("one-pixel",
                                       dict(popsize=10, max_iter=5, bounds=(-30.0, 30.0))))
    both = result.summary["flipped_both"]
    assert both["n"] >= 2
    assert both["ratio"]["raw_median"] == pytest.approx(3.0, rel=1e-4)
    assert both["ratio"]["scaled_median"] == pytest.approx(1.0, rel=1e-4)
    assert both["ratio"]["scaled_mean"] == pytest.approx(1.0, rel=1e-4)
    scaled = result.summary["table3_scaled"]
    assert scaled["stretched"]["y1"]["median"] == pytest.approx(
        scaled["model"]["y1"]["median"], rel=1e-4)


def test_summary_refuses_scales_that_do_not_fit():
    metric = {"accuracy": 1.0}
    metrics = {"a": {"y10": metric}, "b": {"y10": metric}}
    distances = {"a": {"y1": [1.0]}, "b": {"y1": [2.0]}}
    with pytest.raises(InvalidArgumentError, match="one latent_scale per model"):
        robustness_summary(metrics, distances, scales={"a": {"median_pairwise_distance": 1.0}})
    with pytest.raises(InvalidArgumentError, match="positive"):
        robustness_summary(metrics, distances, scales={
            "a": {"median_pairwise_distance": 1.0}, "b": {"median_pairwise_distance": 0.0}})
    with pytest.raises(InvalidArgumentError, match="one distance per galaxy"):
        robustness_summary(metrics, distances, both={
            "perturbation": "one-pixel", "galaxies": [0, 1], "attacked": 2,
            "distances": {"a": [1.0, 2.0], "b": [1.0]}})


class _ShuffleAttack:
    """A toy attack defined only here: each image replaced by the next one of the batch."""

    name = "shuffle"

    def __init__(self):
        self.calls = []

    def __call__(self, model, x, y, batch_size=None):
        self.calls.append((len(x), batch_size))
        adversarial = np.roll(x, 1, axis=0)
        success = np.argmax(model.predict(adversarial, verbose=0), axis=1) != y
        summary = {"images": len(y), "succeeded": int(success.sum()),
                   "success_rate": float(success.mean()), "mean_generations": None,
                   "median_generations": None}
        return adversarial, success, summary, None


def test_a_callable_attack_runs_under_its_own_name():
    model = tiny_classifier(seed=0)
    y10, y1 = (6 * x - 3 for x in paired_images(n=15))
    labels = np.argmax(model.predict(y10, verbose=0), axis=1)  # every image is attacked
    attack = _ShuffleAttack()
    result = evaluate_robustness({"m": model}, {"y10": y10, "y1": y1}, labels, attack=attack,
                                 n=15, batch_size=16)
    assert attack.calls == [(15, 16)]
    assert result.attack == "shuffle" and "shuffle" in result.distances["m"]
    np.testing.assert_array_equal(result.adversarial["m"], np.roll(y10, 1, axis=0))
    flipped = result.success["m"]
    assert 0 < flipped.sum() < 15
    np.testing.assert_allclose(result.distances["m"]["shuffle"],
                               latent_distances(model, y10[flipped],
                                                result.adversarial["m"][flipped]),
                               rtol=1e-5, atol=1e-6)
    assert result.summary["attack"]["m"]["images"] == 15


def test_an_attack_needs_a_name():
    model = tiny_classifier()
    y10, y1 = paired_images(n=4)
    with pytest.raises(InvalidArgumentError, match="`name` attribute"):
        evaluate_robustness(model, {"y10": y10, "y1": y1}, [0, 1, 2, 0],
                            attack=lambda model, x, y, batch_size=None: None)
