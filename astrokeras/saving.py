"""`load_model`: the one way astrokeras (its CLI, workflows and benchmarks) reads a .keras file.

`keras.models.load_model` finds a custom class only if the module that registers it has been
imported in the running process; a fresh process that loads a ResNet18 (`ResidualBlock`), an
Inception photo-z network (`InceptionCell`) or a `DomainAdaptationModel` without importing
astrokeras' layers and training models first fails with "Could not locate class". This module
imports every module that registers a class, then loads, always with `safe_mode` on.
"""

import os

from astrokeras.errors import DataError


def register_custom_objects():
    """Imports every astrokeras module that registers a Keras class.

    The layers (`ClipArcsinhStretch` of `astrokeras.data` among them), the architectures and
    the training models.

    Returns:
        The names under which astrokeras classes are registered (`"astrokeras>ResidualBlock"`).
    """
    import keras

    import astrokeras.data.clip_arcsinh_stretch  # noqa: F401
    import astrokeras.layers  # noqa: F401
    import astrokeras.models  # noqa: F401
    import astrokeras.training  # noqa: F401

    return sorted(name for name in keras.saving.get_custom_objects()
                  if name.startswith("astrokeras>"))


def load_model(path, compile=False):
    """Loads a `.keras` file saved by astrokeras (or any Keras model using its layers).

    Args:
        path: the `.keras` file.
        compile: whether to restore the training configuration (optimizer, losses) too; not
            needed for prediction, evaluation, attacks or export.

    Returns:
        The `keras.Model`: a functional classifier, or a `DomainAdaptationModel` /
        `AdversarialTrainingModel` wrapping one.

    Raises:
        FileNotFoundError: there is no file at `path`.
        DataError: the file exists but Keras cannot read it as a model (named in the message).

    Example:

    >>> import tempfile, pathlib
    >>> from astrokeras import models
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "resnet18.keras"
    >>> models.resnet18(input_shape=(32, 32, 3), num_classes=2).save(path)
    >>> load_model(path).get_layer("latent").output.shape
    (None, 256)
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such model file: {path}")
    register_custom_objects()
    import keras

    try:
        return keras.models.load_model(path, compile=compile, safe_mode=True)
    except (ValueError, OSError, TypeError, KeyError) as error:
        raise DataError(f"Cannot load the model {path}: {error}", path,
                        "a .keras file saved by Keras 3") from None
