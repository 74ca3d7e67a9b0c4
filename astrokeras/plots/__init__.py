"""Robustness plots: church windows, isomaps, ROC curves, latent distances, photo-z, shift
diagnostics (prediction entropy, class proportions) and example images of a dataset."""

from astrokeras.plots.church_window import church_window_grid, plot_church_window
from astrokeras.plots.dataset_examples import plot_dataset_examples
from astrokeras.plots.distance_histogram import plot_latent_distances
from astrokeras.plots.isomap import isomap_embedding, plot_isomap
from astrokeras.plots.photoz_plots import plot_photoz
from astrokeras.plots.roc import plot_roc
from astrokeras.plots.shift_plots import plot_class_proportions, plot_entropy_histograms

__all__ = [
    "church_window_grid",
    "isomap_embedding",
    "plot_church_window",
    "plot_class_proportions",
    "plot_dataset_examples",
    "plot_entropy_histograms",
    "plot_isomap",
    "plot_latent_distances",
    "plot_photoz",
    "plot_roc",
]
