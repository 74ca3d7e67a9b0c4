"""Robustness evaluation: classification and photo-z metrics, latent distances, JS distance,
label-free shift diagnostics."""

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
from astrokeras.evaluation.shift_diagnostics import (class_proportions, diagnose_outputs,
                                                    disjoint_halves, shift_diagnostics,
                                                    shift_table)

__all__ = [
    "RobustnessEvaluation",
    "class_proportions",
    "classification_metrics",
    "diagnose_outputs",
    "disjoint_halves",
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
    "shift_diagnostics",
    "shift_table",
    "write_metrics",
    "write_report",
]
