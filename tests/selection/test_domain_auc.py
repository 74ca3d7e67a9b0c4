import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.selection import DomainAUC, ModelOutputs, domain_auc, domain_probabilities


def test_latents_drawn_from_one_distribution_give_an_auc_near_one_half():
    rng = np.random.default_rng(0)
    auc = domain_auc(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)))
    assert abs(auc - 0.5) < 0.08


def test_separated_latents_give_an_auc_near_one():
    rng = np.random.default_rng(0)
    assert domain_auc(rng.normal(size=(200, 8)), rng.normal(size=(200, 8)) + 3.0) > 0.99


def test_auc_grows_with_the_shift_and_lower_is_better():
    rng = np.random.default_rng(1)
    source = rng.normal(size=(200, 4))
    aucs = [domain_auc(source, rng.normal(size=(200, 4)) + shift) for shift in (0.0, 0.3, 1.0)]
    assert aucs[0] < aucs[1] < aucs[2]
    assert DomainAUC.mode == "min"


def test_score_reads_the_latent_points_and_is_reproducible_with_its_seed():
    rng = np.random.default_rng(2)
    outputs = ModelOutputs(np.full((80, 2), 0.5), target_latent=rng.normal(size=(80, 3)) + 0.5,
                           source_latent=rng.normal(size=(80, 3)))
    assert DomainAUC(seed=3)(outputs) == DomainAUC(seed=3)(outputs)
    assert DomainAUC.needs_latent and DomainAUC.needs_source
    assert not DomainAUC.needs_source_labels


def test_an_overfitting_domain_classifier_cannot_separate_one_distribution():
    # More latent dimensions than points: a weakly regularised logistic regression separates
    # its own training points perfectly, but each probability comes from a fold that did not
    # see the point, so one distribution still reads as indistinguishable.
    rng = np.random.default_rng(3)
    source, target = rng.normal(size=(60, 300)), rng.normal(size=(60, 300))
    p_source, p_target = domain_probabilities(source, target, regularization=1e-4)
    assert abs(domain_auc(source, target, regularization=1e-4) - 0.5) < 0.15
    assert p_source.shape == (60,) and p_target.shape == (60,)


def test_bad_arguments_are_named():
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidArgumentError, match="`folds`"):
        domain_auc(rng.normal(size=(10, 2)), rng.normal(size=(10, 2)), folds=1)
    with pytest.raises(InvalidArgumentError, match="`source_latent`"):
        domain_auc(rng.normal(size=(3, 2)), rng.normal(size=(10, 2)), folds=5)
    with pytest.raises(InvalidArgumentError, match="same width"):
        domain_auc(rng.normal(size=(10, 2)), rng.normal(size=(10, 3)))
