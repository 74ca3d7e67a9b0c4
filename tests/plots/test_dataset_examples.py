import numpy as np
import pytest

from astrokeras.data import MorphologySimulation, PhotoZSimulation, write_dataset
from astrokeras.data import read_values
from astrokeras.errors import InvalidArgumentError
from astrokeras.plots import plot_dataset_examples
from plot_helpers import assert_real_png


@pytest.fixture(scope="module")
def morphology(tmp_path_factory):
    """6 galaxies, 2 per class, in the Y10 and Y1 domains, with Gini and M20 recorded."""
    path = tmp_path_factory.mktemp("morphology")
    sim = MorphologySimulation(size=16, class_fractions=(1, 1, 1), morphometry=True)
    write_dataset(sim, 6, path, seed=3, shard_size=4)
    return path


def images_shown(axes):
    return [ax for ax in axes if ax.images]


def test_grid_has_a_row_per_class_and_domain_and_both_pngs_are_written(morphology, tmp_path):
    figures = plot_dataset_examples(morphology, tmp_path / "grid.png", per_class=2,
                                    gini_m20_path=tmp_path / "gm20.png")
    assert_real_png(tmp_path / "grid.png")
    assert_real_png(tmp_path / "gm20.png")
    axes = figures["examples"].axes
    assert len(axes) == 3 * 2 * 2  # (spiral, elliptical, merger) x (y10, y1) x per_class
    assert len(images_shown(axes)) == 12  # two galaxies of each class, in each domain
    labels = [ax.get_ylabel() for ax in axes if ax.get_ylabel()]
    assert labels == ["spiral\ny10", "spiral\ny1", "elliptical\ny10", "elliptical\ny1",
                      "merger\ny10", "merger\ny1"]
    shown = axes[0].images[0].get_array()
    assert shown.shape == (16, 16, 3) and 0.0 <= shown.min() and shown.max() <= 1.0


def test_more_examples_than_galaxies_leave_the_cells_empty(morphology):
    axes = plot_dataset_examples(morphology, per_class=3)["examples"].axes
    assert len(axes) == 18 and len(images_shown(axes)) == 12


def test_gini_m20_diagram_plots_every_galaxy_by_class(morphology):
    figure = plot_dataset_examples(morphology, per_class=1)["gini_m20"]
    values = read_values(morphology)
    points = [c.get_offsets() for c in figure.axes[0].collections]
    assert len(points) == 3
    for k, offsets in enumerate(points):
        chosen = values["label"] == k
        np.testing.assert_allclose(offsets[:, 0], values["m20"][chosen])
        np.testing.assert_allclose(offsets[:, 1], values["gini"][chosen])


def test_photoz_dataset_has_one_row_per_domain_and_no_gini_m20(tmp_path):
    write_dataset(PhotoZSimulation(size=16, num_bins=4), 2, tmp_path, seed=0)
    figures = plot_dataset_examples(tmp_path, tmp_path / "examples.png", per_class=2,
                                    gini_m20_path=tmp_path / "gm20.png")
    assert list(figures) == ["examples"] and not (tmp_path / "gm20.png").exists()
    assert len(images_shown(figures["examples"].axes)) == 2
    assert figures["examples"].axes[0].images[0].get_array().shape == (16, 16, 3)


def test_bad_arguments_are_named_before_reading(morphology, tmp_path):
    with pytest.raises(InvalidArgumentError, match="`per_class`"):
        plot_dataset_examples(morphology, per_class=0)
    with pytest.raises(FileNotFoundError, match="manifest"):
        plot_dataset_examples(tmp_path)
