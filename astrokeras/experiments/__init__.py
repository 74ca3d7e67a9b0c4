"""Workflows (run a recipe, evaluate, attack) that the CLI and the benchmarks call, and the
registries that map the names in recipes and on the command line to code."""

from astrokeras.experiments.registry import (ARCHITECTURES, ATTACKS, DATA_KINDS, METHODS,
                                             REQUIRED, Entry, Registry)
from astrokeras.experiments.attacks import AttackOutcome, attack_options  # registers ATTACKS
from astrokeras.experiments.attack import run_attack
from astrokeras.experiments.evaluate import run_evaluation
from astrokeras.experiments.methods import (MethodContext, TrainingSetup, find_method,
                                            plain_training, transfer_method)
from astrokeras.experiments.recipe import (OPTIMIZERS, SCHEDULES, SCHEMA, entry_options,
                                           load_recipe, section_schema, validate_recipe)
from astrokeras.experiments.run import (CLASSIFIER_FILE, HISTORY_FILE, MODEL_FILE, RUN_FILE,
                                        RunResult, build_classifier, build_datasets, clear_run,
                                        ensure_dataset, run_recipe)
from astrokeras.experiments.train import train_recipe
from astrokeras.experiments.default import default_recipes, run_default

__all__ = ["ARCHITECTURES", "ATTACKS", "DATA_KINDS", "METHODS", "REQUIRED", "Entry", "Registry",
           "AttackOutcome", "attack_options", "run_attack", "run_evaluation",
           "MethodContext", "TrainingSetup", "find_method", "plain_training", "transfer_method",
           "OPTIMIZERS", "SCHEDULES", "SCHEMA", "entry_options", "load_recipe",
           "section_schema", "validate_recipe",
           "CLASSIFIER_FILE", "HISTORY_FILE", "MODEL_FILE", "RUN_FILE", "RunResult",
           "build_classifier", "build_datasets", "clear_run", "ensure_dataset", "run_recipe",
           "train_recipe", "default_recipes", "run_default"]
