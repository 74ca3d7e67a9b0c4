"""Label-free model selection: scores computed without target labels, and a Keras callback
that logs them as `val_<score>` for `ModelCheckpoint` and `EarlyStopping`.

Every score reads a model's predictions on unlabelled target validation images and, where it
compares domains or estimates a risk, on source validation images (labelled for deep embedded
validation). Direction: `score.mode` is "min" (lower is better) or "max" (higher is better).

| score        | class                    | mode | reads                                    |
|--------------|--------------------------|------|------------------------------------------|
| `dev`        | DeepEmbeddedValidation   | min  | target latent; source latent + labels    |
| `snd`        | SoftNeighborhoodDensity  | max  | target probabilities                     |
| `entropy`    | PredictionEntropy        | min  | target probabilities                     |
| `info_max`   | InformationMaximization  | min  | target probabilities                     |
| `domain_auc` | DomainAUC                | min  | target and source latent                 |
| `latent_mmd` | LatentMMD                | min  | target and source latent                 |
"""

from astrokeras.selection.deep_embedded_validation import (DeepEmbeddedValidation,
                                                           deep_embedded_validation, dev_risk,
                                                           importance_weights)
from astrokeras.selection.domain_auc import DomainAUC, domain_auc
from astrokeras.selection.domain_classifier import domain_probabilities
from astrokeras.selection.information_maximization import (InformationMaximization,
                                                           information_maximization)
from astrokeras.selection.latent_mmd import LatentMMD, latent_mmd
from astrokeras.selection.model_outputs import ModelOutputs
from astrokeras.selection.prediction_entropy import PredictionEntropy, prediction_entropy
from astrokeras.selection.score import Score
from astrokeras.selection.score_model import score_model
from astrokeras.selection.selection_callback import SelectionCallback, selection_first
from astrokeras.selection.selection_data import SelectionData
from astrokeras.selection.soft_neighborhood_density import (SoftNeighborhoodDensity,
                                                            soft_neighborhood_density)

__all__ = [
    "DeepEmbeddedValidation",
    "DomainAUC",
    "InformationMaximization",
    "LatentMMD",
    "ModelOutputs",
    "PredictionEntropy",
    "Score",
    "SelectionCallback",
    "SelectionData",
    "SoftNeighborhoodDensity",
    "deep_embedded_validation",
    "dev_risk",
    "domain_auc",
    "domain_probabilities",
    "importance_weights",
    "information_maximization",
    "latent_mmd",
    "prediction_entropy",
    "score_model",
    "selection_first",
    "soft_neighborhood_density",
]
