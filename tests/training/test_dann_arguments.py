import json

import numpy as np
import pytest

from astrokeras.errors import InvalidArgumentError
from astrokeras.training import DANN


@pytest.mark.parametrize("hidden, message", [
    ((64, 0), r"`hidden\[1\]` must be at least 1"),
    ((True,), r"`hidden\[0\]` must be an integer"),
    ((8.0,), r"`hidden\[0\]` must be an integer"),
    ((), "`hidden` of DANN must be positive layer widths"),
])
def test_bad_hidden_widths_are_named(hidden, message):
    with pytest.raises(InvalidArgumentError, match=message):
        DANN(hidden=hidden)


def test_numpy_widths_are_stored_as_plain_ints():
    method = DANN(hidden=(np.int64(8), 4))
    assert method.hidden == (8, 4)
    assert json.loads(json.dumps(method.get_config()))["hidden"] == [8, 4]
