"""Training models with their own train_step: domain adaptation and adversarial training."""

from astrokeras.training.adversarial_training_model import AdversarialTrainingModel
from astrokeras.training.attack_specs import FGSM, PGD
from astrokeras.training.class_weights import class_weights
from astrokeras.training.domain_adaptation_model import (UNKNOWN, UNLABELED,
                                                          DomainAdaptationModel)
from astrokeras.training.grl_schedule import GRLSchedule, ganin_schedule
from astrokeras.training.methods import CORAL, DANN, MMD, TransferMethod, UniversalDA

__all__ = [
    "AdversarialTrainingModel",
    "FGSM",
    "PGD",
    "CORAL",
    "DANN",
    "DomainAdaptationModel",
    "GRLSchedule",
    "MMD",
    "TransferMethod",
    "UNKNOWN",
    "UNLABELED",
    "UniversalDA",
    "class_weights",
    "ganin_schedule",
]
