import keras
import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.evaluation import (distance_statistics, latent_distances, latent_embeddings)
from astrokeras.training import DomainAdaptationModel
from evaluation_helpers import paired_images, tiny_classifier


def test_distances_equal_a_direct_computation():
    model = tiny_classifier()
    base, perturbed = paired_images()
    latent = keras.Model(model.input, model.get_layer("latent").output)
    expected = np.linalg.norm(latent.predict(perturbed, verbose=0)
                              - latent.predict(base, verbose=0), axis=1)
    got = latent_distances(model, base, perturbed, batch_size=5)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert got.shape == (12,) and np.all(got > 0)


def test_embeddings_come_from_the_named_layer():
    model = tiny_classifier()
    base, _ = paired_images(n=3)
    z = latent_embeddings(model, base, layer="logits")
    assert z.shape == (3, 3)
    with pytest.raises(InvalidArgumentError, match="no layer named"):
        latent_embeddings(model, base, layer="missing")


def test_domain_adaptation_model_uses_its_classifier():
    classifier = tiny_classifier()
    wrapped = DomainAdaptationModel(classifier)
    base, perturbed = paired_images(n=4)
    np.testing.assert_allclose(latent_distances(wrapped, base, perturbed),
                               latent_distances(classifier, base, perturbed), rtol=1e-6)


def test_statistics_are_median_mean_and_standard_error():
    d = np.array([1.0, 2.0, 4.0, 9.0])
    s = distance_statistics(d)
    assert s["median"] == 3.0 and s["mean"] == 4.0
    assert s["std"] == pytest.approx(np.std(d, ddof=1))
    assert s["sem"] == pytest.approx(np.std(d, ddof=1) / 2.0)
    assert distance_statistics([])["median"] is None
    assert distance_statistics([2.0])["sem"] is None


def test_mismatched_pairs_are_refused_before_any_work():
    model = tiny_classifier()
    base, perturbed = paired_images(n=4)
    with pytest.raises(InvalidArgumentError, match="same galaxies"):
        latent_distances(model, base, perturbed[:3])
    bad = perturbed.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(InvalidArgumentError, match="NaN"):
        latent_distances(model, base, bad)
