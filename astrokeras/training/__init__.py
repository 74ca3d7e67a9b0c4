"""Training models with their own train_step (domain adaptation, adversarial training) and AdaBN."""

from astrokeras.training.adabn import BatchNormStatistics, adapt_batch_norm, batch_norm_layers
from astrokeras.training.adversarial_training_model import AdversarialTrainingModel
from astrokeras.training.attack_specs import FGSM, PGD
from astrokeras.training.class_weights import class_weights
from astrokeras.training.domain_adaptation_model import (UNKNOWN, UNLABELED,
                                                          DomainAdaptationModel)
from astrokeras.training.grl_schedule import GRLSchedule, ganin_schedule
from astrokeras.training.methods import CORAL, DANN, MMD, TransferMethod, UniversalDA

__all__ = [
    "AdversarialTrainingModel",
    "BatchNormStatistics",
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
    "adapt_batch_norm",
    "batch_norm_layers",
    "class_weights",
    "ganin_schedule",
]
