import math

import keras
import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.evaluation import disjoint_halves, shift_diagnostics, shift_table
from astrokeras.plots import plot_class_proportions, plot_entropy_histograms
from conftest import assert_docstring_examples_pass


@pytest.fixture(scope="module")
def passthrough():
    """A classifier whose latent points are its inputs and whose output is softmax(inputs).

    Feeding it log-probabilities makes it predict exactly those probabilities, and adding a
    constant to every input moves the latent points without changing any prediction.
    """
    inputs = keras.Input((3,))
    latent = keras.layers.Dense(3, name="latent", kernel_initializer="identity",
                                bias_initializer="zeros")(inputs)
    return keras.Model(inputs, keras.layers.Softmax()(latent))


def _entropy(row):
    return -sum(p * math.log(p) for p in row)


def test_identical_domains_show_no_shift(passthrough):
    x = np.random.default_rng(0).normal(size=(400, 3)).astype("float32")
    same = shift_diagnostics(passthrough, x, x)
    assert same["latent_mmd"] == 0.0
    assert same["class_proportions"]["total_variation"] == 0.0
    assert same["class_proportions"]["jensen_shannon"] == 0.0
    halves = shift_diagnostics(passthrough, x, x, paired=True)
    assert halves["source_images"] == halves["target_images"] == 200
    assert halves["domain_auc"] == pytest.approx(0.5, abs=0.1)
    assert halves["latent_mmd"] < 0.05  # the biased estimate of two samples of 200


def test_twins_need_disjoint_halves_for_an_honest_domain_auc(passthrough):
    # The same galaxies in both domains: the cross-validated domain classifier learns the
    # galaxies, and its AUC drops far below 0.5 unless each galaxy is in one domain only.
    x = np.random.default_rng(1).normal(size=(200, 3)).astype("float32")
    assert shift_diagnostics(passthrough, x, x)["domain_auc"] < 0.4
    assert shift_diagnostics(passthrough, x, x, paired=True)["domain_auc"] > 0.4


def test_a_target_far_away_in_latent_space_is_separated(passthrough):
    x = np.random.default_rng(0).normal(size=(400, 3)).astype("float32")
    near = shift_diagnostics(passthrough, x, x, paired=True)
    far = shift_diagnostics(passthrough, x, x + 10.0, paired=True)
    assert far["domain_auc"] > 0.95
    assert far["latent_mmd"] > 0.5 and far["latent_mmd"] > 20 * near["latent_mmd"]
    # softmax ignores the shared offset: the predictions, hence the proportions, are unchanged
    assert far["class_proportions"]["source"] == near["class_proportions"]["source"]


def test_class_proportions_and_their_distances_follow_the_argmax_counts(passthrough):
    source = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    target = np.array([[0.1, 0.8, 0.1], [0.3, 0.6, 0.1], [0.2, 0.3, 0.5], [0.2, 0.5, 0.3],
                       [0.6, 0.2, 0.2], [0.3, 0.4, 0.3]])
    d = shift_diagnostics(passthrough, np.log(source), np.log(target))
    p, q = [2 / 4, 1 / 4, 1 / 4], [1 / 6, 4 / 6, 1 / 6]
    shares = d["class_proportions"]
    assert shares["source"] == pytest.approx(p) and shares["target"] == pytest.approx(q)
    assert shares["total_variation"] == pytest.approx(0.5 * (1 / 3 + 5 / 12 + 1 / 12))
    m = [(a + b) / 2 for a, b in zip(p, q)]
    divergence = sum(0.5 * a * math.log2(a / c) + 0.5 * b * math.log2(b / c)
                     for a, b, c in zip(p, q, m))
    assert shares["jensen_shannon"] == pytest.approx(math.sqrt(divergence), rel=1e-6)


def test_entropy_mean_and_histogram_match_a_hand_computation(passthrough):
    table = [[0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.25, 0.25], [0.1, 0.8, 0.1]]
    source = [[0.9, 0.05, 0.05], [0.8, 0.1, 0.1]]
    d = shift_diagnostics(passthrough, np.log(source), np.log(table), bins=4)
    entropy = d["entropy"]
    # by hand: 0.8018, log 3 = 1.0986 (the maximum), 1.5 log 2 = 1.0397, 0.6390
    assert entropy["target_mean"] == pytest.approx(np.mean([_entropy(r) for r in table]),
                                                   abs=1e-5)
    assert entropy["source_mean"] == pytest.approx(np.mean([_entropy(r) for r in source]),
                                                   abs=1e-5)
    assert entropy["bin_edges"] == pytest.approx(np.linspace(0, math.log(3), 5))
    assert entropy["target_counts"] == [0, 0, 2, 2]
    assert entropy["source_counts"] == [0, 1, 1, 0]  # 0.3944 and 0.6390


def test_labels_are_refused_and_pairs_must_match(passthrough):
    x = np.zeros((4, 3), "float32")
    with pytest.raises(InvalidArgumentError, match="images only"):
        shift_diagnostics(passthrough, (x, np.zeros(4)), x)
    with pytest.raises(InvalidArgumentError, match="images only"):
        shift_diagnostics(passthrough, x, (x, np.zeros(4)))
    with pytest.raises(InvalidArgumentError, match="same galaxies"):
        shift_diagnostics(passthrough, x, x[:3], paired=True)
    with pytest.raises(InvalidArgumentError, match="bins"):
        shift_diagnostics(passthrough, x, x, bins=0)


def test_disjoint_halves_keep_every_galaxy_in_one_domain_only():
    ids = np.arange(9)
    source, target = disjoint_halves({"image": ids}, {"image": ids + 100}, seed=3)
    assert len(source["image"]) == 4 and len(target["image"]) == 5
    assert not set(source["image"]) & set(target["image"] - 100)
    assert set(source["image"]) | set(target["image"] - 100) == set(ids)


def test_table_puts_models_in_columns_and_says_no_label_is_used(passthrough):
    x = np.random.default_rng(0).normal(size=(20, 3)).astype("float32")
    shift = {"regular": {"y1": shift_diagnostics(passthrough, x, x + 5.0)},
             "adapted": {"y1": shift_diagnostics(passthrough, x, x)}}
    text = "\n".join(shift_table(shift, "y10"))
    assert "No label of either domain is used" in text
    assert "| Diagnostic | regular | adapted |" in text
    assert "| Domain-classifier AUC (0.5: aligned) | 1.0000 |" in text
    assert "| Latent MMD^2 (lower: aligned) | " in text and "| 0.0000 |" in text


def test_class_proportion_bars_have_the_given_heights():
    figure = plot_class_proportions({"m": ([0.25, 0.75], [0.6, 0.4])}, ["a", "b"],
                                    domains=("y10", "y1"))
    heights = [bar.get_height() for bar in figure.axes[0].patches]
    assert heights == pytest.approx([0.25, 0.75, 0.6, 0.4])
    with pytest.raises(InvalidArgumentError, match="one value per class"):
        plot_class_proportions({"m": ([0.5, 0.5], [0.2, 0.3, 0.5])})


def test_entropy_histograms_refuse_counts_that_do_not_match_the_bins():
    with pytest.raises(InvalidArgumentError, match="one non-negative count per bin"):
        plot_entropy_histograms([0.0, 0.5, 1.0], {"m": [1, 2, 3]})
    with pytest.raises(InvalidArgumentError, match="without target counts"):
        plot_entropy_histograms([0.0, 0.5, 1.0], {"m": [1, 2]}, {"other": [1, 1]})


@pytest.mark.parametrize("name", ["astrokeras.evaluation.shift_diagnostics",
                                  "astrokeras.plots.shift_plots"])
def test_docstring_examples_run(name):
    assert_docstring_examples_pass(name)
