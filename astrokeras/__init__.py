"""astrokeras: Keras 3 deep learning for astronomical survey images under domain shift."""

__version__ = "0.1.0"

from astrokeras.errors import (  # noqa: E402
    AstroKerasError,
    AstroKerasWarning,
    ConfigError,
    DataError,
    InvalidArgumentError,
)
from astrokeras.saving import load_model  # noqa: E402  (imports Keras only when called)

__all__ = [
    "__version__",
    "AstroKerasError",
    "AstroKerasWarning",
    "ConfigError",
    "DataError",
    "InvalidArgumentError",
    "load_model",
]
