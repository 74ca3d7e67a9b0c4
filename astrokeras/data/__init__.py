"""Simulated survey data: survey constants, GalSim galaxies, simulators, preprocessing."""

from astrokeras.data.morphology import MorphologySimulation
from astrokeras.data.preprocessing import ClipArcsinh, fit_clip_arcsinh
from astrokeras.data.simulation import Record, Simulation, simulate
from astrokeras.data.surveys import Band, hst_band, lsst_band

__all__ = [
    "Band",
    "ClipArcsinh",
    "MorphologySimulation",
    "Record",
    "Simulation",
    "fit_clip_arcsinh",
    "hst_band",
    "lsst_band",
    "simulate",
]
