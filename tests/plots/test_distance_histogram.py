import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.evaluation import js_distance
from astrokeras.plots import plot_latent_distances
from plot_helpers import assert_real_png


def test_histogram_writes_a_real_png_with_the_js_distance(tmp_path):
    rng = np.random.default_rng(0)
    regular, adapted = rng.gamma(2.0, size=300), rng.gamma(5.0, size=300)
    figure = plot_latent_distances({"regular": regular, "domain adaptation": adapted}, bins=20,
                                   path=tmp_path / "d.png")
    assert_real_png(tmp_path / "d.png")
    texts = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    expected = js_distance(regular, adapted, bins=20)
    assert f"JS distance regular / domain adaptation = {expected:.3f}" in texts
    assert any(f"median {np.median(regular):.3g}" in t for t in texts)
    # Mean and median lines of both samples.
    assert len(figure.axes[0].lines) == 4


def test_empty_samples_are_skipped_and_all_empty_refused():
    figure = plot_latent_distances({"a": [1.0, 2.0], "b": []})
    assert not any("JS" in t.get_text() for t in figure.axes[0].get_legend().get_texts())
    with pytest.raises(InvalidArgumentError, match="empty"):
        plot_latent_distances({"a": []})
