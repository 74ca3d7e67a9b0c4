import math

import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.selection import ModelOutputs, SoftNeighborhoodDensity, soft_neighborhood_density


def _clustered(rng, n=120, classes=3):
    # Confident predictions: each image near one of the class corners.
    p = np.eye(classes)[np.arange(n) % classes] * 8.0 + rng.normal(0, 0.05, (n, classes))
    p = np.exp(p)
    return p / p.sum(axis=1, keepdims=True)


def _random(rng, n=120, classes=3):
    # Predictions scattered over the simplex (towards its edges): few close neighbours each.
    return rng.dirichlet(np.full(classes, 0.3), n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_well_clustered_target_predictions_score_higher_than_random_ones(seed):
    rng = np.random.default_rng(seed)
    score = SoftNeighborhoodDensity()
    assert score.mode == "max" and score.higher_is_better
    clustered = score(ModelOutputs(_clustered(rng)))
    # Each clustered point spreads its soft neighbours evenly over its 39 cluster mates.
    assert clustered == pytest.approx(math.log(39), abs=1e-3)
    assert score(ModelOutputs(_random(rng))) < clustered - 0.1


def test_exact_clusters_give_log_of_the_number_of_neighbours():
    # Two clusters of 4 identical one-hot rows: each point has 3 twins at similarity 1/T and
    # the rest at 0, so its neighbour distribution is ~uniform over its 3 twins.
    p = np.eye(2)[[0, 0, 0, 0, 1, 1, 1, 1]]
    assert soft_neighborhood_density(p) == pytest.approx(math.log(3), abs=1e-6)


def test_chunking_does_not_change_the_score():
    p = _random(np.random.default_rng(1), n=50)
    assert soft_neighborhood_density(p, chunk_size=7) == pytest.approx(
        soft_neighborhood_density(p, chunk_size=1000), rel=1e-12)


def test_bad_arguments_are_named():
    with pytest.raises(InvalidArgumentError, match="`temperature`"):
        SoftNeighborhoodDensity(temperature=0.0)
    with pytest.raises(InvalidArgumentError, match="`probabilities`"):
        soft_neighborhood_density(np.array([[0.5, 0.5]]))  # one point has no neighbours
