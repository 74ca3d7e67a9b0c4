"""Export to SavedModel and ONNX with metadata and a parity check; an ONNX Runtime predictor."""

from astrokeras.export.export_parity_error import ExportParityError
from astrokeras.export.export_result import ExportResult
from astrokeras.export.metadata import model_metadata, read_metadata
from astrokeras.export.onnx_predictor import OnnxPredictor
from astrokeras.export.predict_files import PredictionReport, predict_files
from astrokeras.export.serving_guard import ServingGuard, fit_serving_guard
from astrokeras.export.to_onnx import to_onnx
from astrokeras.export.to_saved_model import to_saved_model

__all__ = [
    "ExportParityError",
    "ExportResult",
    "OnnxPredictor",
    "PredictionReport",
    "ServingGuard",
    "fit_serving_guard",
    "model_metadata",
    "predict_files",
    "read_metadata",
    "to_onnx",
    "to_saved_model",
]
