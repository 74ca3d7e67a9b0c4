"""The "adabn" method: plain training on the source, then the target's batch-norm statistics.

AdaBN (Li et al. 2016) trains like `[method].name = "none"` and, once `fit` has finished,
gives every batch-normalisation layer the statistics of the target domain's unlabelled
training images (`astrokeras.training.adapt_batch_norm`) before the run saves the models, so
`classifier.keras` and `model.keras` hold the adapted statistics. No target label is read: the
run hands the hook the target images alone. With the normalisation-free baselines it is what
MMD and DANN have to beat. A recipe needs a target domain (`[data].target`, by default the data
kind's) and an architecture with batch normalisation (convnet, resnet18, deepmerge).

    [method]
    name = "adabn"

Example:

>>> from astrokeras.experiments import METHODS, validate_recipe
>>> METHODS.get("adabn").metadata["paired"]
False
>>> recipe = validate_recipe({"experiment": {"name": "demo"}, "data": {"directory": "d"},
...                           "method": {"name": "adabn"}})
>>> recipe["method"], recipe["data"]["target"]
({'name': 'adabn', 'class_weights': True}, 'y1')
"""

from astrokeras.errors import ConfigError
from astrokeras.experiments.methods import needs_target, plain_training
from astrokeras.experiments.registry import METHODS
from astrokeras.training.adabn import adapt_batch_norm, batch_norm_layers


def adabn_training(classifier, options, context):
    """The `METHODS` factory of "adabn": supervised training, then AdaBN after `fit`.

    Args:
        classifier: the recipe's classifier.
        options: the `[method]` options (AdaBN has none of its own).
        context: the `MethodContext`.

    Returns:
        The `TrainingSetup` of plain training with an `after_fit` hook that adapts the
        classifier's batch normalisation to the target images and reports what it did.

    Raises:
        ConfigError: the classifier has no batch normalisation (before any training).
    """
    if not batch_norm_layers(classifier):
        raise ConfigError("[method].name = 'adabn' needs an architecture with batch "
                          "normalisation; this classifier has none.", classifier.name,
                          "an architecture with BatchNormalization layers (convnet, resnet18)")
    setup = plain_training(classifier, context)

    def after_fit(target_images):
        statistics = adapt_batch_norm(classifier, target_images)
        return {"method": "adabn", "images": statistics.images,
                "layers": list(statistics.mean)}

    setup.after_fit = after_fit
    return setup


METHODS.register(
    "adabn", adabn_training,
    description="plain training on the source, then the target's batch-norm statistics "
                "(AdaBN, Li et al. 2016)",
    paired=False, uses_target_images=True, check=needs_target)
