"""Transfer losses for `DomainAdaptationModel`: MMD, DANN, CORAL."""

from astrokeras.training.methods.base import TransferMethod
from astrokeras.training.methods.coral import CORAL
from astrokeras.training.methods.dann import DANN
from astrokeras.training.methods.mmd import MMD
