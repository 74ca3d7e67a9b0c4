"""Reusable Keras layers of astrokeras; each is registered and round-trips through .keras files."""
from astrokeras.layers.gradient_reversal import GradientReversal
from astrokeras.layers.mmd_loss import MMDLoss
from astrokeras.layers.residual_block import ResidualBlock
from astrokeras.layers.inception_cell import InceptionCell
