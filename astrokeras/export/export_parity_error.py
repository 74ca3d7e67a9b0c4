"""The error raised when an exported model does not reproduce the Keras model."""

from astrokeras.errors import AstroKerasError


class ExportParityError(AstroKerasError, RuntimeError):
    """The exported model's outputs differ from the Keras model's by more than the tolerance.

    Raised by `to_onnx` and `to_saved_model` after comparing both on a sample batch; nothing
    is written to the export path. `.value` holds `{output: max |difference|}`, `.allowed` the
    tolerance.
    """
