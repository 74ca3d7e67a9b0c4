"""The score base class: what a new score must declare."""

import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.selection.score import Score


def test_a_score_without_compute_cannot_be_made():
    class Incomplete(Score):
        name, mode = "incomplete", "min"

    with pytest.raises(TypeError, match="compute"):
        Incomplete()


def test_a_score_with_an_unknown_direction_is_refused_when_defined():
    with pytest.raises(InvalidArgumentError, match="mode"):
        class Sideways(Score):
            name, mode = "sideways", "up"

            def compute(self, outputs):
                return 0.0
