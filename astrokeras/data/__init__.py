"""Simulated survey data: survey constants, GalSim galaxies, simulators, shards, tf.data."""

from astrokeras.data.deepmerge import DeepMergeSimulation
from astrokeras.data.morphology import MorphologySimulation
from astrokeras.data.pipeline import (PER_DOMAIN, from_arrays, load, load_domain_adaptation,
                                      load_pairs, pair_domains, pick_labeled, read_values,
                                      split_ids, stretch)
from astrokeras.data.photoz import PhotoZSimulation
from astrokeras.data.preprocessing import ClipArcsinh, clip_arcsinh, fit_clip_arcsinh
from astrokeras.data.shards import finalize, load_manifest, shard_paths, write_dataset
from astrokeras.data.simulation import Record, Simulation, simulate
from astrokeras.data.surveys import Band, hst_band, lsst_band

__all__ = [
    "PER_DOMAIN",
    "Band",
    "ClipArcsinh",
    "DeepMergeSimulation",
    "MorphologySimulation",
    "PhotoZSimulation",
    "Record",
    "Simulation",
    "clip_arcsinh",
    "finalize",
    "fit_clip_arcsinh",
    "from_arrays",
    "hst_band",
    "load",
    "load_domain_adaptation",
    "load_manifest",
    "load_pairs",
    "lsst_band",
    "pair_domains",
    "pick_labeled",
    "read_values",
    "shard_paths",
    "simulate",
    "split_ids",
    "stretch",
    "write_dataset",
]
