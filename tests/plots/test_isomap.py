import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.plots import isomap_embedding, plot_isomap
from plot_helpers import assert_real_png


def _latents(n=20, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    centres = rng.normal(scale=1.0, size=(3, 8))
    y10 = centres[labels] + rng.normal(size=(n, 8))
    return {"y10": y10, "y1": y10 + rng.normal(scale=0.5, size=y10.shape)}, labels


@pytest.mark.parametrize("components", [2, 3])
def test_isomap_writes_a_real_png(tmp_path, components):
    latents, labels = _latents()
    latents["one-pixel"] = latents["y10"][:5] + 0.1
    path = tmp_path / f"isomap{components}.png"
    figure = plot_isomap(latents, {"y10": labels, "y1": labels, "one-pixel": labels[:5]},
                         n_components=components, highlight=2,
                         class_names=["spiral", "elliptical", "merger"], path=path)
    assert_real_png(path)
    texts = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert {"y10", "y1", "one-pixel", "spiral", "galaxy 2"} <= set(texts)


def test_one_isomap_is_fitted_for_all_domains():
    latents, _ = _latents()
    twin = {"y10": latents["y10"], "copy": latents["y10"].copy()}
    embedded = isomap_embedding(twin, n_components=2, n_neighbors=5)
    np.testing.assert_allclose(embedded["y10"], embedded["copy"], atol=1e-8)


def test_bad_arguments_are_refused():
    latents, labels = _latents()
    with pytest.raises(InvalidArgumentError, match="2 or 3"):
        plot_isomap(latents, labels, n_components=4)
    with pytest.raises(InvalidArgumentError, match="highlight"):
        plot_isomap(latents, labels, highlight=99)
    with pytest.raises(InvalidArgumentError, match="one class per"):
        plot_isomap(latents, labels[:3])
    with pytest.raises(InvalidArgumentError, match="`n_neighbors` must be at least 1"):
        plot_isomap(latents, labels, n_neighbors=0)
