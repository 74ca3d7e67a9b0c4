"""Architectures of the papers: factories returning keras.Model with a layer named "latent"."""
from astrokeras.models.convnet import convnet
from astrokeras.models.deepmerge import deepmerge
from astrokeras.models.resnet18 import resnet18
from astrokeras.models.split import latent_output, split_at_latent, unwrap_classifier
from astrokeras.models.inception_photoz import inception_photoz
from astrokeras.models.simple_photoz_cnn import simple_photoz_cnn
