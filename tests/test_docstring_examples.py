"""Runs the `Example:` blocks of the public docstrings, so the documentation cannot rot."""

import pytest

from conftest import assert_docstring_examples_pass

MODULES = [
    "astrokeras.files",
    "astrokeras.saving",
    "astrokeras.experiments.registry",
    "astrokeras.experiments.export",
    "astrokeras.experiments.run",
    "astrokeras.layers.gradient_reversal",
    "astrokeras.layers.mmd_loss",
    "astrokeras.layers.residual_block",
    "astrokeras.losses",
    "astrokeras.models.convnet",
    "astrokeras.models.resnet18",
    "astrokeras.models.deepmerge",
    "astrokeras.models.split",
    "astrokeras.layers.inception_cell",
    "astrokeras.models.inception_photoz",
    "astrokeras.models.simple_photoz_cnn",
    "astrokeras.training.class_weights",
    "astrokeras.training.grl_schedule",
    "astrokeras.training.methods.mmd",
    "astrokeras.training.methods.dann",
    "astrokeras.training.methods.coral",
    "astrokeras.training.methods.universal_da",
    "astrokeras.training.attack_specs",
    "astrokeras.training.adversarial_training_model",
    "astrokeras.training.one_cycle",
    "astrokeras.training.domain_adaptation_model",
    "astrokeras.training.adabn", "astrokeras.experiments.adabn",
    "astrokeras.selection.score",
    "astrokeras.selection.model_outputs",
    "astrokeras.selection.prediction_entropy",
    "astrokeras.selection.information_maximization",
    "astrokeras.selection.soft_neighborhood_density",
    "astrokeras.selection.domain_classifier",
    "astrokeras.selection.domain_auc",
    "astrokeras.selection.latent_mmd",
    "astrokeras.selection.deep_embedded_validation",
    "astrokeras.selection.selection_data",
    "astrokeras.selection.score_model",
    "astrokeras.selection.selection_callback",
    "astrokeras.experiments.scores",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    assert_docstring_examples_pass(name)
