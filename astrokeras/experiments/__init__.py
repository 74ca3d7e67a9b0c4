"""Workflows (run a recipe, evaluate, attack) that the CLI and the benchmarks call, and the
registries that map the names in recipes and on the command line to code."""

from astrokeras.experiments.registry import (ARCHITECTURES, ATTACKS, DATA_KINDS, METHODS,
                                             REQUIRED, Entry, Registry)
from astrokeras.experiments.attacks import AttackOutcome, attack_options  # registers ATTACKS

__all__ = ["ARCHITECTURES", "ATTACKS", "DATA_KINDS", "METHODS", "REQUIRED", "Entry", "Registry",
           "AttackOutcome", "attack_options"]
