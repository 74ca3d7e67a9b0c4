import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.plots import plot_roc
from plot_helpers import assert_real_png


def test_roc_writes_a_real_png_with_one_curve_per_class_and_domain(tmp_path):
    rng = np.random.default_rng(0)
    y = np.arange(30) % 3
    clean = rng.dirichlet(np.ones(3), 30) + 2 * np.eye(3)[y]
    clean /= clean.sum(axis=1, keepdims=True)
    noisy = rng.dirichlet(np.ones(3), 30)
    figure = plot_roc(y, {"y10": clean, "y1": noisy}, ["spiral", "elliptical", "merger"],
                      path=tmp_path / "roc.png")
    assert_real_png(tmp_path / "roc.png")
    texts = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert len(texts) == 6 and "y10: spiral (AUC 1.000)" in texts


def test_mismatched_labels_are_refused():
    with pytest.raises(InvalidArgumentError, match="one class per"):
        plot_roc([0, 1], {"y10": np.full((3, 2), 0.5)})
