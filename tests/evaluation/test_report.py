import json

import numpy as np
import pytest

from astrokeras.evaluation import robustness_summary, write_metrics, write_report


def _summary():
    metric = {"accuracy": 0.875, "precision": 0.5, "recall": 0.25, "f1": 0.125, "brier": 0.1,
              "roc_auc": 0.75}
    s = robustness_summary({"regular": {"y10": metric, "y1": metric}},
                           {"regular": {"y1": np.array([1.0, 2.0, 3.0])}})
    s["base_domain"], s["galaxies"] = "y10", 3
    return s


def test_report_holds_the_tables_and_links_the_figures(tmp_path):
    (tmp_path / "plots").mkdir()
    figure = tmp_path / "plots" / "roc.png"
    figure.write_bytes(b"png")
    path = write_report(tmp_path / "report.md", _summary(), [("ROC curves", figure)],
                        notes=["made by a test"])
    text = path.read_text()
    assert "| regular | y10 | 0.8750 | 0.5000 | 0.2500 | 0.1250 | 0.1000 | 0.7500 |" in text
    assert "| regular | y1 | 3 | 2.0000 | 2.0000 ± 0.5774 |" in text
    assert '<img src="plots/roc.png"' in text and "ROC curves" in text
    assert "Base domain: `y10`" in text and "made by a test" in text
    assert not list(tmp_path.glob(".*tmp"))


def test_metrics_json_round_trips_numpy_values(tmp_path):
    path = write_metrics(tmp_path / "metrics.json",
                         {"a": np.float32(0.5), "b": np.arange(3), "c": [np.int64(2)]})
    assert json.loads(path.read_text()) == {"a": 0.5, "b": [0, 1, 2], "c": [2]}


def test_metrics_json_refuses_nan_and_leaves_no_file(tmp_path):
    with pytest.raises(ValueError):
        write_metrics(tmp_path / "metrics.json", {"a": float("nan")})
    assert list(tmp_path.iterdir()) == []


def test_report_shows_confusion_matrices_with_class_names(tmp_path):
    from astrokeras.evaluation import classification_metrics

    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    metrics = classification_metrics([0, 1, 1], p, class_names=["spiral", "merger"])
    text = write_report(tmp_path / "r.md", robustness_summary({"m": {"y1": metrics}}, {})
                        ).read_text()
    assert "| true \\ predicted | spiral | merger |" in text
    assert "| merger | 1 | 1 |" in text
