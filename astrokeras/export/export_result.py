"""What an export returns: where it went, its parity and its metadata."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class ExportResult:
    """The outcome of `to_onnx` or `to_saved_model`.

    Args:
        path: the written .onnx file or SavedModel folder.
        format: "onnx" or "saved_model".
        max_abs_diff: {output name: max |exported - Keras|} on the parity batch.
        tolerance: the parity tolerance the export passed.
        metadata: the metadata stored with the export (see `astrokeras.export.metadata`).
    """

    path: str
    format: str
    max_abs_diff: dict
    tolerance: float
    metadata: dict

    @property
    def max_difference(self):
        """The largest difference over all outputs."""
        return max(self.max_abs_diff.values())
