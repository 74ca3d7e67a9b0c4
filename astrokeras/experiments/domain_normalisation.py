"""The "domain_normalisation" method: each domain stretched with its own clip limits.

Normalisation-based adaptation. Every other method stretches all domains with one transform,
fitted on the labelled source training split (the dataset manifest's `preprocessing`). This
one trains like `[method].name = "none"` (the source stretched with its own fit, which is that
same transform) and stretches the target with clip limits fitted on the target's own
unlabelled training images (the manifest's `per_domain_preprocessing`), in training
validation, evaluation and the export. Part of the shift is then absorbed by the
normalisation alone, which is why it is a method of its own, reported as its own row beside
regular training, AdaBN and the transfer losses, and never the hidden default. No target
label is read: the limits are percentiles of unlabelled pixels.

    [method]
    name = "domain_normalisation"

A recipe may say the same with `[data].preprocessing = "per-domain"`; with any other method
that is refused, so a per-domain fit cannot hide inside another method's row.

Example:

>>> from astrokeras.experiments import METHODS, validate_recipe
>>> METHODS.get("domain_normalisation").metadata["preprocessing"]
'per-domain'
>>> recipe = validate_recipe({"experiment": {"name": "demo"}, "data": {"directory": "d"},
...                           "method": {"name": "domain_normalisation"}})
>>> recipe["data"]["preprocessing"]
'per-domain'
"""

from astrokeras.data.pipeline import PER_DOMAIN
from astrokeras.experiments.methods import needs_target, plain_training
from astrokeras.experiments.registry import METHODS

METHODS.register(
    "domain_normalisation",
    lambda classifier, options, context: plain_training(classifier, context),
    description="normalisation-based adaptation: plain training on the source; the target "
                "stretched with clip limits fitted on its own unlabelled training images",
    paired=False, uses_target_images=True, preprocessing=PER_DOMAIN,
    check=needs_target)
