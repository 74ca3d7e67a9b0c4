"""Label-free model-selection scores by name: the entries of `SCORES`.

Every `SCORES` entry is

    factory(**options) -> astrokeras.selection.Score

where `options` are the entry's schema keys (each score's constructor checks its values). The
entry's name is the score's `name`, which callbacks log as `val_<name>`. Metadata read by the
workflows:

- `mode` ("min" or "max"): the direction, lower or higher is better, as Keras' `mode` of
  `EarlyStopping` / `ModelCheckpoint` takes it.
- `needs_source` (bool): the score compares domains and needs source validation images.
- `needs_source_labels` (bool): the score needs labelled source validation images (DEV).

No score reads target labels. A workflow adds selection to a training run with
`selection_callback(name, target_images, source=(images, labels))`, listed before the
callbacks that monitor it, and monitors `score_monitor(name)`.

Example:

>>> from astrokeras.experiments import SCORES
>>> SCORES.names()
('dev', 'snd', 'entropy', 'info_max', 'domain_auc', 'latent_mmd')
>>> score_monitor("dev"), score_monitor("snd")
(('val_dev', 'min'), ('val_snd', 'max'))
>>> build_score("snd", {"temperature": 0.1})
SoftNeighborhoodDensity(temperature=0.1)
"""

from astrokeras import selection
from astrokeras.errors import InvalidArgumentError
from astrokeras.experiments.registry import SCORES

_NUMBER = (int, float)
_DOMAIN_CLASSIFIER = {
    "folds": (int, 5, lambda v: v >= 2),
    "regularization": (_NUMBER, 1.0, lambda v: v > 0),
    "seed": (int, 0, None),
}


def _register(cls, description, schema=None):
    SCORES.register(cls.name, cls, schema=schema, description=description, mode=cls.mode,
                    needs_source=cls.needs_source, needs_source_labels=cls.needs_source_labels)


_register(selection.DeepEmbeddedValidation, "deep embedded validation: importance-weighted "
          "source risk (You et al. 2019), lower is better", _DOMAIN_CLASSIFIER)
_register(selection.SoftNeighborhoodDensity, "soft neighbourhood density of the target "
          "predictions (Saito et al. 2021), higher is better",
          {"temperature": (_NUMBER, 0.05, lambda v: v > 0)})
_register(selection.PredictionEntropy, "mean entropy of the target predictions, lower is better")
_register(selection.InformationMaximization, "mean target prediction entropy minus entropy of "
          "the mean prediction, lower is better")
_register(selection.DomainAUC, "cross-validated domain-classifier AUC on the latent space, "
          "lower is better", _DOMAIN_CLASSIFIER)
_register(selection.LatentMMD, "MMD between source and target latent points, lower is better",
          {"estimator": (str, "biased", ("biased", "unbiased"))})


def build_score(name, options=None):
    """The `Score` registered as `name`, built with `options`.

    Args:
        name: a name in `SCORES`.
        options: `{option: value}` among the entry's schema keys (None: the defaults).

    Returns:
        A `Score`.

    Raises:
        ConfigError: `name` is not registered.
        InvalidArgumentError: an option the score does not take, or a bad value.
    """
    entry = SCORES.get(name)
    options = dict(options or {})
    unknown = sorted(set(options) - set(entry.schema))
    if unknown:
        raise InvalidArgumentError(f"Score {name!r} takes no option {', '.join(unknown)}.",
                                   unknown, ", ".join(entry.schema) or "no options")
    return entry.factory(**{**entry.defaults, **options})


def score_monitor(name):
    """`(monitor, mode)` for `EarlyStopping` / `ModelCheckpoint` on score `name`.

    Example:

    >>> score_monitor("domain_auc")
    ('val_domain_auc', 'min')
    """
    return f"val_{name}", SCORES.get(name).metadata["mode"]


def selection_callback(names, target_images, source=None, *, options=None, **kwargs):
    """A `SelectionCallback` logging the named scores as `val_<name>` at every epoch end.

    List it before the callbacks that read its scores (`ModelCheckpoint`, `EarlyStopping`,
    `CSVLogger`): Keras calls callbacks in list order (`astrokeras.selection.selection_first`
    reorders a list).

    Args:
        names: a score name or a sequence of names in `SCORES`.
        target_images: unlabelled target validation images (an array, a dict of model inputs
            or a batched `tf.data.Dataset` of images); labels are refused.
        source: source validation images, or `(images, labels)` for the scores that need
            labels (DEV); None when only target-only scores are named.
        options: `{name: {option: value}}` for the named scores.
        **kwargs: further `SelectionCallback` arguments (`latent`, `batch_size`,
            `max_samples`, `seed`).

    Returns:
        A `SelectionCallback`.

    Example:

    >>> import numpy as np
    >>> callback = selection_callback(["entropy", "snd"], np.zeros((4, 8, 8, 1)))
    >>> [score.monitor for score in callback.scores]
    ['val_entropy', 'val_snd']
    """
    names = (names,) if isinstance(names, str) else tuple(names)
    options = dict(options or {})
    stray = sorted(set(options) - set(names))
    if stray:
        raise InvalidArgumentError("`options` names scores that are not selected.", stray,
                                   ", ".join(names))
    scores = [build_score(name, options.get(name)) for name in names]
    return selection.SelectionCallback(scores, target_images, source, **kwargs)
