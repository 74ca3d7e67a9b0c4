"""Robustness evaluation: classification and photo-z metrics, latent distances, JS distance."""

from astrokeras.evaluation.classification import classification_metrics
from astrokeras.evaluation.jensen_shannon import js_distance, shared_bins
from astrokeras.evaluation.latent import distance_statistics, latent_distances, latent_embeddings
from astrokeras.evaluation.paired_data import load_paired
from astrokeras.evaluation.photoz_metrics import (evaluate_photoz, photoz_metrics,
                                                  photoz_point_estimates, photoz_residuals,
                                                  redshift_bin_centres)
from astrokeras.evaluation.report import write_metrics, write_report
from astrokeras.evaluation.robustness import (RobustnessEvaluation, evaluate_robustness,
                                              markdown_tables, robustness_summary)

__all__ = [
    "RobustnessEvaluation",
    "classification_metrics",
    "distance_statistics",
    "evaluate_photoz",
    "evaluate_robustness",
    "js_distance",
    "latent_distances",
    "latent_embeddings",
    "load_paired",
    "markdown_tables",
    "photoz_metrics",
    "photoz_point_estimates",
    "photoz_residuals",
    "redshift_bin_centres",
    "robustness_summary",
    "shared_bins",
    "write_metrics",
    "write_report",
]
