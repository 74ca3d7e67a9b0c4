import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.plots import plot_photoz
from plot_helpers import assert_real_png


def test_photoz_plot_writes_a_real_png_and_reports_outliers(tmp_path):
    rng = np.random.default_rng(0)
    z = rng.uniform(0.02, 0.35, 200)
    clean = z + 0.01 * rng.normal(size=z.size) * (1 + z)
    attacked = clean.copy()
    attacked[:20] += 0.2
    figure = plot_photoz(z, {"clean": clean, "attacked": attacked}, path=tmp_path / "pz.png")
    assert_real_png(tmp_path / "pz.png")
    texts = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    eta = np.mean(np.abs((attacked - z) / (1 + z)) > 0.05)
    assert any(t.startswith("attacked") and f"eta {eta:.3f}" in t for t in texts)


def test_bad_redshifts_are_refused():
    with pytest.raises(InvalidArgumentError, match="differ in length"):
        plot_photoz([0.1, 0.2], [0.1])
