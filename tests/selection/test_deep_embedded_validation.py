import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.selection import (DeepEmbeddedValidation, ModelOutputs, deep_embedded_validation,
                                  dev_risk, importance_weights)


def _cross_entropy(probabilities, labels):
    return float(-np.log(probabilities[np.arange(len(labels)), labels]).mean())


def test_weights_all_one_give_the_plain_mean_loss():
    losses = np.random.default_rng(0).exponential(size=50)
    assert dev_risk(losses, np.ones(50)) == pytest.approx(losses.mean(), rel=1e-12)


def test_control_variate_removes_the_weights_correlated_noise():
    # Losses constant: whatever the weights, the target risk is that constant. The plain
    # importance-weighted mean is off by (mean(w) - 1) times it; the control variate is exact.
    weights = np.random.default_rng(1).exponential(size=40)
    losses = np.full(40, 0.7)
    assert abs(np.mean(weights * losses) - 0.7) > 0.01
    assert dev_risk(losses, weights) == pytest.approx(0.7, rel=1e-12)


def test_importance_weights_follow_bayes_rule_with_the_domain_prior():
    weights = importance_weights(np.array([0.5, 0.75, 0.2]), n_source=200, n_target=100)
    np.testing.assert_allclose(weights, [2.0, 6.0, 0.5])


def test_dev_equals_the_source_risk_when_the_domains_cannot_be_told_apart():
    rng = np.random.default_rng(2)
    n = 300
    source_latent, target_latent = rng.normal(size=(n, 4)), rng.normal(size=(n, 4))
    probabilities = rng.dirichlet(np.ones(3), n)
    labels = rng.integers(0, 3, n)
    plain = _cross_entropy(probabilities, labels)
    dev = deep_embedded_validation(source_latent, probabilities, labels, target_latent)
    assert dev == pytest.approx(plain, rel=0.03)


def _two_cluster_problem():
    """Most source images lie far from the target; a few (cluster B) look like the target."""
    rng = np.random.default_rng(3)
    far = rng.normal(size=(180, 2))
    target_like = rng.normal(size=(20, 2)) + [4.0, 0.0]
    source_latent = np.concatenate([far, target_like])
    target_latent = rng.normal(size=(200, 2)) + [4.0, 0.0]
    labels = np.zeros(200, int)
    in_b = np.arange(200) >= 180

    def model(p_right_far, p_right_b):
        right = np.where(in_b, p_right_b, p_right_far)
        return np.stack([right, 1.0 - right], axis=1)

    # Model 1 is right on the many far images and wrong on the target-like ones; model 2 the
    # opposite. On the target (which looks like cluster B) model 2 is the better one.
    return source_latent, target_latent, labels, model(0.9, 0.2), model(0.4, 0.9)


def test_dev_prefers_the_model_that_is_right_on_target_like_source_images():
    source_latent, target_latent, labels, first, second = _two_cluster_problem()
    assert _cross_entropy(first, labels) < _cross_entropy(second, labels)  # plain source risk
    dev = DeepEmbeddedValidation()
    assert dev.mode == "min"
    scores = [dev(ModelOutputs(np.full((200, 2), 0.5), target_latent, p, source_latent, labels))
              for p in (first, second)]
    assert scores[1] < scores[0]
    # Each lands near the model's risk on the target-like cluster, far from its source risk.
    for score, p, risk_b in zip(scores, (first, second), (-np.log(0.2), -np.log(0.9))):
        assert abs(score - risk_b) < 0.25 * abs(_cross_entropy(p, labels) - risk_b)


def test_labels_and_shapes_are_checked_before_any_fit():
    rng = np.random.default_rng(4)
    latent, probabilities = rng.normal(size=(20, 2)), np.full((20, 2), 0.5)
    with pytest.raises(InvalidArgumentError, match="`source_labels`"):
        deep_embedded_validation(latent, probabilities, np.full(20, 2), latent)
    with pytest.raises(InvalidArgumentError, match="`source_probabilities`"):
        deep_embedded_validation(latent, probabilities[:10], np.zeros(10, int), latent)
    with pytest.raises(InvalidArgumentError, match="`weights`"):
        dev_risk(np.ones(3), np.array([1.0, -1.0, 1.0]))
