import numpy as np
import pytest

from astrokeras.attacks import redshift_bins
from astrokeras.errors import InvalidArgumentError


def test_bins_are_equal_width_over_the_range():
    z = np.array([0.0, 0.4 / 180 - 1e-9, 0.4 / 180 + 1e-9, 0.2, 0.399999, 0.4])
    np.testing.assert_array_equal(redshift_bins(z), [0, 0, 1, 90, 179, 179])


def test_custom_range_and_bin_count():
    np.testing.assert_array_equal(redshift_bins([1.0, 1.49, 2.9], num_bins=4, z_min=1.0,
                                                z_max=3.0), [0, 0, 3])


@pytest.mark.parametrize("z", [[-0.01], [0.41], [np.nan]])
def test_out_of_range_or_nan_redshift_is_rejected(z):
    with pytest.raises(InvalidArgumentError):
        redshift_bins(z)
