import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.plots import church_window_grid, plot_church_window
from astrokeras.training import DomainAdaptationModel
from plot_helpers import assert_real_png, linear_head_model, tiny_image_classifier

# logits = (x0 - 1, 1 - x0): class 0 where the latent's first coordinate exceeds 1.
HORIZONTAL_BOUNDARY = ([[1.0, -1.0], [0.0, 0.0]], [-1.0, 1.0])
# logits = (x1, -x1): class 0 where the latent's second coordinate is positive.
VERTICAL_BOUNDARY = ([[0.0, 0.0], [1.0, -1.0]], [0.0, 0.0])


def test_known_linear_head_gives_the_expected_class_regions():
    model = linear_head_model(*HORIZONTAL_BOUNDARY)
    base, horizontal, vertical = np.zeros(2), np.array([2.0, 0.0]), np.array([0.0, 1.0])
    grid = church_window_grid(model, base, horizontal, vertical, resolution=31, margin=1.5)
    # Window half-width: 1.5 x the larger distance (2) = 3; the boundary x0 = 1 sits at a = 1/3.
    assert grid["scale"] == pytest.approx(3.0)
    a = grid["coordinates"]
    right, left = a > 1 / 3 + 1e-6, a < 1 / 3 - 1e-6
    assert np.all(grid["classes"][:, right] == 0)
    assert np.all(grid["classes"][:, left] == 1)
    assert grid["points"]["horizontal"] == pytest.approx((2 / 3, 0.0))
    assert grid["points"]["vertical"] == pytest.approx((0.0, 1 / 3))
    assert grid["predictions"] == {"base": 1, "horizontal": 0, "vertical": 1}


def test_vertical_axis_follows_the_second_perturbation():
    model = linear_head_model(*VERTICAL_BOUNDARY)
    grid = church_window_grid(model, np.zeros(2), np.array([1.0, 0.0]), np.array([0.5, 1.0]),
                              resolution=21)
    b = grid["coordinates"]
    assert np.all(grid["classes"][b > 1e-6, :] == 0)
    assert np.all(grid["classes"][b < -1e-6, :] == 1)
    # The vertical image is made orthogonal: along e1 by 0.5, across by 1 (scale 1.5 * |d2|).
    scale = 1.5 * np.hypot(0.5, 1.0)
    assert grid["points"]["vertical"] == pytest.approx((0.5 / scale, 1.0 / scale))


def test_plot_writes_a_real_png(tmp_path):
    model = tiny_image_classifier()
    x = np.random.default_rng(0).uniform(size=(3, 6, 6, 2)).astype("float32")
    figure = plot_church_window(DomainAdaptationModel(model), x[0], x[1:2], x[2],
                                class_names=["spiral", "elliptical", "merger"], resolution=15,
                                path=tmp_path / "church.png")
    assert_real_png(tmp_path / "church.png")
    texts = [t.get_text() for t in figure.legends[0].get_texts()]
    assert any(t.startswith("base image") for t in texts)
    assert any(t.startswith("one-pixel") for t in texts)


def test_degenerate_directions_are_refused():
    model = linear_head_model(*VERTICAL_BOUNDARY)
    with pytest.raises(InvalidArgumentError, match="same latent embedding"):
        church_window_grid(model, np.zeros(2), np.zeros(2), np.ones(2))
    with pytest.raises(InvalidArgumentError, match="do not span a plane"):
        church_window_grid(model, np.zeros(2), np.array([1.0, 1.0]), np.array([2.0, 2.0]))
    with pytest.raises(InvalidArgumentError, match="resolution"):
        church_window_grid(model, np.zeros(2), np.array([1.0, 0]), np.array([0, 1.0]),
                           resolution=1)
    with pytest.raises(InvalidArgumentError, match="one input"):
        church_window_grid(model, np.zeros((2, 2)), np.array([1.0, 0]), np.array([0, 1.0]))
