"""Transfer losses for `DomainAdaptationModel`: MMD, DANN, CORAL, universal DA."""

from astrokeras.training.methods.base import TransferMethod
from astrokeras.training.methods.coral import CORAL
from astrokeras.training.methods.dann import DANN
from astrokeras.training.methods.mmd import MMD
from astrokeras.training.methods.universal_da import UniversalDA
