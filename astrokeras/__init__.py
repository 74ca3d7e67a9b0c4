"""astrokeras: Keras 3 deep learning for astronomical survey images under domain shift."""

__version__ = "0.1.0"

from astrokeras.errors import (  # noqa: E402
    AstroKerasError,
    AstroKerasWarning,
    ConfigError,
    DataError,
    InvalidArgumentError,
)

__all__ = [
    "__version__",
    "AstroKerasError",
    "AstroKerasWarning",
    "ConfigError",
    "DataError",
    "InvalidArgumentError",
]
