"""The base class of the label-free model-selection scores."""

import abc

from astrokeras.errors import InvalidArgumentError

#: Keras' names for the two directions: "min" (lower is better), "max" (higher is better).
MODES = ("min", "max")


class Score(abc.ABC):
    """A number that ranks models on unlabelled target data; the base of every score.

    A score is computed from a model's `ModelOutputs` on the selection data: class
    probabilities and latent points of target images (never target labels) and, for the
    scores that compare domains or estimate a risk, of labelled source images. Its class
    attributes say what it needs and which way is better, so that a callback can predict only
    what is needed and `EarlyStopping` / `ModelCheckpoint` get the right `mode`.

    Subclasses set the class attributes and implement `compute(outputs) -> float`.

    Attributes:
        name: the score's name; the callback logs it as `val_<name>`.
        mode: "min" when lower is better, "max" when higher is better (Keras' `mode`).
        needs_latent: the score reads latent points (the model needs a layer named "latent").
        needs_source: the score reads predictions on source images.
        needs_source_labels: the score reads the source images' labels.

    Example:

    >>> import numpy as np
    >>> from astrokeras.selection import ModelOutputs
    >>> class Confidence(Score):
    ...     name, mode = "confidence", "max"
    ...     def compute(self, outputs):
    ...         return outputs.target_probabilities.max(axis=1).mean()
    >>> Confidence()(ModelOutputs(np.array([[0.9, 0.1], [0.3, 0.7]])))
    0.8
    >>> Confidence().monitor
    'val_confidence'
    """

    name = None
    mode = None
    needs_latent = False
    needs_source = False
    needs_source_labels = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.mode is not None and cls.mode not in MODES:
            raise InvalidArgumentError(f"Score {cls.__name__}'s `mode` is unknown.", cls.mode,
                                       MODES)

    @abc.abstractmethod
    def compute(self, outputs):
        """The score of one model's `outputs` (a `ModelOutputs`), as a float."""

    def __call__(self, outputs):
        return float(self.compute(outputs))

    @property
    def monitor(self):
        """The name under which callbacks log the score: `val_<name>`."""
        return f"val_{self.name}"

    @property
    def higher_is_better(self):
        """True when a higher score means a better model (`mode == "max"`)."""
        return self.mode == "max"

    def get_config(self):
        """The constructor arguments (public attributes not set on the class)."""
        return {key: value for key, value in vars(self).items() if not key.startswith("_")}

    def __repr__(self):
        options = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({options})"
