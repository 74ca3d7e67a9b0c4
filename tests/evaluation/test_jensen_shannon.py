import numpy as np
import pytest
from scipy.spatial import distance

from astrokeras.errors import InvalidArgumentError
from astrokeras.evaluation import js_distance, shared_bins


def test_identical_distributions_are_at_distance_zero():
    sample = np.random.default_rng(0).gamma(2.0, size=500)
    assert js_distance(sample, sample.copy()) == pytest.approx(0.0, abs=1e-12)
    assert js_distance(sample, sample[::-1]) == pytest.approx(0.0, abs=1e-12)


def test_disjoint_distributions_are_at_distance_one():
    assert js_distance(np.linspace(0, 1, 50), np.linspace(2, 3, 70), bins=20) == pytest.approx(1.0)


def test_value_matches_scipy_on_shared_histograms():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 400), rng.normal(0.7, 1.3, 300)
    edges = np.histogram_bin_edges(np.concatenate([a, b]), bins=25)
    expected = distance.jensenshannon(np.histogram(a, edges)[0], np.histogram(b, edges)[0],
                                      base=2)
    assert js_distance(a, b, bins=25) == pytest.approx(expected)
    assert 0.0 < js_distance(a, b, bins=25) < 1.0
    assert js_distance(a, b, bins=edges) == pytest.approx(expected)


def test_shared_bins_cover_both_samples():
    edges = shared_bins([1.0, 2.0], [5.0], bins=4)
    np.testing.assert_allclose(edges, [1.0, 2.0, 3.0, 4.0, 5.0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(a=[], b=[1.0]), "at least 1"),
    (dict(a=[1.0], b=[np.inf]), "NaN or infinite"),
    (dict(a=[1.0], b=[2.0], bins=0), "bins"),
    (dict(a=[1.0], b=[2.0], value_range=(5.0, 6.0)), "no value inside"),
])
def test_bad_samples_are_refused(kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match):
        js_distance(**kwargs)
