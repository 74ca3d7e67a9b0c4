"""Workflows (run a recipe, evaluate, attack) that the CLI and the benchmarks call, and the
registries that map the names in recipes and on the command line to code.

The registries load here; each workflow's module (and with it Keras and TensorFlow) is imported
the first time one of its names is used, so that `astrokeras --help` and the simulation
workers start without TensorFlow.
"""

import importlib

from astrokeras.experiments.registry import (ARCHITECTURES, ATTACKS, DATA_KINDS, METHODS,
                                             REQUIRED, SCORES, Entry, Registry)

_LAZY = {
    "astrokeras.experiments.attacks": ("AttackOutcome", "attack_options"),
    "astrokeras.experiments.attack": ("run_attack",),
    "astrokeras.experiments.evaluate": ("run_evaluation", "robustness_attack",
                                        "RobustnessAttack"),
    "astrokeras.experiments.methods": ("MethodContext", "TrainingSetup", "find_method",
                                       "plain_training", "transfer_method"),
    "astrokeras.experiments.recipe": ("OPTIMIZERS", "SCHEDULES", "SCHEMA", "entry_options",
                                      "load_recipe", "section_schema", "validate_recipe"),
    "astrokeras.experiments.run": ("CLASSIFIER_FILE", "HISTORY_FILE", "MODEL_FILE", "RUN_FILE",
                                   "RunResult", "build_classifier", "build_datasets",
                                   "clear_run", "ensure_dataset", "run_recipe"),
    "astrokeras.experiments.train": ("train_recipe",),
    "astrokeras.experiments.tune": ("TuneResult", "tune_recipe"),
    "astrokeras.experiments.export": ("export_model",),
    "astrokeras.experiments.default": ("default_recipes", "run_default"),
    "astrokeras.experiments.scores": ("build_score", "score_monitor", "selection_callback"),
}
_MODULE_OF = {name: module for module, names in _LAZY.items() for name in names}

__all__ = ["ARCHITECTURES", "ATTACKS", "DATA_KINDS", "METHODS", "REQUIRED", "SCORES", "Entry",
           "Registry", *_MODULE_OF]


def __getattr__(name):
    if name in _MODULE_OF:
        return getattr(importlib.import_module(_MODULE_OF[name]), name)
    raise AttributeError(f"module 'astrokeras.experiments' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
