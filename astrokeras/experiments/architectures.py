"""Architectures by name: the factories of `astrokeras.models` behind one signature.

Every `ARCHITECTURES` entry is

    factory(input_shape, num_classes, **options) -> keras.Model

with a layer named "latent"; `options` are the entry's schema keys from the recipe's `[model]`
table (only those the factory takes). Metadata: `task`, the kind of prediction ("classification"
or "photoz", a distribution over redshift bins), which must be the task of the recipe's data
kind.

Example:

>>> entry = ARCHITECTURES.get("resnet18")
>>> entry.defaults, entry.metadata["task"]
({'latent_dim': 256, 'dropout': 0.5}, 'classification')
>>> model = ARCHITECTURES.get("convnet").factory((32, 32, 3), 2, latent_dim=8)
>>> model.get_layer("latent").output.shape
(None, 8)
"""

from astrokeras import models
from astrokeras.experiments.registry import ARCHITECTURES

_LATENT_DIM = (int, 256, lambda v: v >= 1)
_DROPOUT = ((int, float), 0.5, lambda v: 0 <= v < 1)


def _classifier(factory):
    def build(input_shape, num_classes, **options):
        return factory(input_shape=tuple(input_shape), num_classes=num_classes, **options)

    return build


def _photoz(factory):
    def build(input_shape, num_classes, **options):
        return factory(image_shape=tuple(input_shape), num_bins=num_classes, **options)

    return build


ARCHITECTURES.register(
    "convnet", _classifier(models.convnet), schema={"latent_dim": _LATENT_DIM},
    description="ConvNet of Ciprijanovic et al. 2022 (Table 1)", task="classification")
ARCHITECTURES.register(
    "resnet18", _classifier(models.resnet18),
    schema={"latent_dim": _LATENT_DIM, "dropout": _DROPOUT},
    description="ResNet18 with a linear bottleneck (Ciprijanovic et al. 2022)",
    task="classification")
ARCHITECTURES.register(
    "deepmerge", _classifier(models.deepmerge),
    description="DeepMerge merger classifier (Ciprijanovic et al. 2020)", task="classification")
ARCHITECTURES.register(
    "inception_photoz", _photoz(models.inception_photoz),
    description="Inception photo-z CNN of Pasquet et al. 2019 (Campagne 2021, Table A1)",
    task="photoz")
ARCHITECTURES.register(
    "simple_photoz_cnn", _photoz(models.simple_photoz_cnn),
    description="three-convolution photo-z CNN (Campagne 2021, Table A2)", task="photoz")
