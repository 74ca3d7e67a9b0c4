"""The evaluation attacks and the training specifications are one implementation.

`astrokeras.attacks.fgsm` / `pgd` (NumPy batches) and `astrokeras.training.FGSM` / `PGD` (run
on tensors inside a compiled graph) must give the same adversarial images for the same model,
images, loss and seed.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from attack_helpers import photoz_model, small_convnet

from astrokeras.attacks import fgsm, pgd, redshift_bins
from astrokeras.training import FGSM, PGD, AdversarialTrainingModel
from astrokeras.training.adversarial_training_model import _cross_entropy, _unit_scaled

RNG = np.random.default_rng(11)
X = RNG.uniform(0.0, 1.0, size=(6, 8, 8, 2)).astype(np.float32)
Y = RNG.integers(0, 3, size=6)


def _in_graph(spec, model, onehot, feed=lambda image: image):
    """The spec run inside a compiled function on the default attack loss of `attacks`."""

    @tf.function
    def attack(images):
        def loss_of_image(image):
            return keras.losses.categorical_crossentropy(
                onehot, model(feed(image), training=False))

        return spec.perturb(loss_of_image, images)

    return attack


@pytest.mark.parametrize("norm, eps, step", [("inf", 0.05, 0.02), (2, 0.5, 0.2)])
@pytest.mark.parametrize("random_start", [False, True])
def test_training_pgd_in_graph_equals_attacks_pgd(norm, eps, step, random_start):
    model = small_convnet()
    spec = PGD(eps=eps, step=step, steps=4, norm=norm, random_start=random_start,
               clip=(0.0, 1.0), seed=3)
    in_graph = _in_graph(spec, model, np.eye(3, dtype=np.float32)[Y])(tf.constant(X)).numpy()
    evaluation = pgd(model, X, Y, eps=eps, step=step, steps=4, norm=norm,
                     random_start=random_start, clip=(0.0, 1.0), seed=3)
    np.testing.assert_array_equal(in_graph, evaluation)
    assert np.abs(evaluation - X).max() > 0.5 * step  # the attack did move the images


@pytest.mark.parametrize("norm, eps", [("inf", 0.05), (2, 0.5)])
@pytest.mark.parametrize("clip", [(0.0, 1.0), ([0.0, 0.1], [1.0, 0.9])])
def test_training_fgsm_in_graph_equals_attacks_fgsm(norm, eps, clip):
    model = small_convnet()
    spec = FGSM(eps=eps, norm=norm, clip=clip)
    in_graph = _in_graph(spec, model, np.eye(3, dtype=np.float32)[Y])(tf.constant(X)).numpy()
    np.testing.assert_array_equal(in_graph, fgsm(model, X, Y, eps=eps, norm=norm, clip=clip))
    low, high = (np.broadcast_to(np.asarray(bound, np.float32), (2,)) for bound in clip)
    assert np.all(in_graph >= low) and np.all(in_graph <= high)


def test_photoz_spec_in_graph_equals_attacks_pgd_on_image_and_ebv():
    model = photoz_model()
    rng = np.random.default_rng(4)
    x = {"image": rng.uniform(size=(5, 8, 8, 5)).astype(np.float32),
         "ebv": rng.uniform(0.0, 0.1, size=(5, 1)).astype(np.float32)}
    bins = redshift_bins(rng.uniform(0.0, 0.4, size=5))
    spec = PGD(eps=0.05, step=0.02, steps=3, clip=(0.0, 1.0), seed=8)
    ebv = tf.constant(x["ebv"])
    attack = _in_graph(spec, model, np.eye(180, dtype=np.float32)[bins],
                       feed=lambda image: {"image": image, "ebv": ebv})
    evaluation = pgd(model, x, bins, eps=0.05, step=0.02, steps=3, clip=(0.0, 1.0), seed=8)
    np.testing.assert_array_equal(attack(tf.constant(x["image"])).numpy(), evaluation["image"])
    np.testing.assert_array_equal(evaluation["ebv"], x["ebv"])


def test_adversarial_training_batch_is_attacks_pgd_with_the_training_loss():
    classifier = small_convnet()
    spec = PGD(eps=0.05, step=0.02, steps=3, random_start=False, clip=(0.0, 1.0))
    model = AdversarialTrainingModel(classifier, spec, fraction=1.0, label_source="label",
                                     seed=0)
    mixed, attacked = model.mix_batch(tf.constant(X), tf.constant(Y))
    assert attacked.numpy().all()

    def training_loss(onehot, probabilities):
        return _unit_scaled(_cross_entropy(keras.ops.argmax(onehot, axis=-1), probabilities))

    expected = pgd(classifier, X, Y, eps=0.05, step=0.02, steps=3, random_start=False,
                   clip=(0.0, 1.0), loss=training_loss)
    # the batch is attacked in a shuffled order, so equal to float32 rounding only
    np.testing.assert_allclose(mixed.numpy(), expected, atol=1e-6)
    assert np.abs(expected - X).max() > 0.04


def test_random_start_does_not_depend_on_the_chunk_size():
    model = small_convnet()
    whole = pgd(model, X, Y, eps=0.05, step=0.01, steps=2, seed=np.int64(5))
    chunked = pgd(model, X, Y, eps=0.05, step=0.01, steps=2, seed=5, batch_size=4)
    np.testing.assert_array_equal(whole, chunked)


def test_clear_compiled_drops_a_models_compiled_attacks_and_they_rebuild():
    from astrokeras.attacks import _inputs, clear_compiled

    model = small_convnet()
    first = fgsm(model, X, Y, eps=0.05)
    pgd(model, X, Y, eps=0.05, step=0.02, steps=2)
    assert len(_inputs._COMPILED[model]) == 1  # fgsm and pgd share one compiled loop
    clear_compiled(model)
    assert model not in _inputs._COMPILED
    np.testing.assert_array_equal(fgsm(model, X, Y, eps=0.05), first)
    clear_compiled()
    assert len(_inputs._COMPILED) == 0
