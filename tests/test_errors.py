import pickle

import numpy as np
import pytest

from astrokeras.errors import (
    AstroKerasError,
    ConfigError,
    DataError,
    InvalidArgumentError,
    check_images,
    check_positive_int,
)


def test_message_names_value_and_allowed():
    err = InvalidArgumentError("`num_classes` must be positive.", -2, ">= 1")
    assert "`num_classes`" in str(err)
    assert "-2" in str(err)
    assert ">= 1" in str(err)
    assert err.value == -2


@pytest.mark.parametrize("cls, builtin", [
    (InvalidArgumentError, ValueError), (ConfigError, ValueError), (DataError, ValueError)])
def test_errors_subclass_matching_builtin(cls, builtin):
    assert issubclass(cls, AstroKerasError)
    assert issubclass(cls, builtin)


@pytest.mark.parametrize("kwargs", [{}, {"value": (3, 4)}, {"value": None, "allowed": "x"}])
def test_errors_pickle_with_their_value(kwargs):
    err = ConfigError("bad key [train.epochs]", **kwargs)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is ConfigError
    assert str(back) == str(err)
    assert back.value == err.value
    assert back.allowed == err.allowed


def test_check_positive_int():
    assert check_positive_int("n", 3) == 3
    with pytest.raises(InvalidArgumentError, match="`n` must be at least 1"):
        check_positive_int("n", 0)
    with pytest.raises(InvalidArgumentError, match="`n` must be an integer"):
        check_positive_int("n", 2.5)
    with pytest.raises(InvalidArgumentError, match="`n` must be an integer"):
        check_positive_int("n", True)


def test_check_positive_int_takes_numpy_integers_and_names_the_minimum():
    assert check_positive_int("n", np.int64(4)) == 4
    assert type(check_positive_int("n", np.int32(4))) is int
    with pytest.raises(InvalidArgumentError, match="`n` must be at least 2") as info:
        check_positive_int("n", 1, minimum=2)
    assert info.value.value == 1


def test_check_images_returns_float32_batch():
    images = check_images("x", np.ones((2, 4, 5, 3), np.float64))
    assert images.dtype == np.float32 and images.shape == (2, 4, 5, 3)


@pytest.mark.parametrize("value, message", [
    (np.ones((4, 5, 3)), "batch of channels-last images"),
    (np.ones((0, 4, 5, 3)), "batch of channels-last images"),
    (np.full((1, 2, 2, 1), np.nan), "NaN or infinite"),
    ([["a"]], "numeric"),
])
def test_check_images_refuses_what_is_not_a_finite_image_batch(value, message):
    with pytest.raises(InvalidArgumentError, match=message) as info:
        check_images("images['y1']", value)
    assert "`images['y1']`" in str(info.value)


def test_docstring_examples_run():
    from conftest import assert_docstring_examples_pass

    assert_docstring_examples_pass("astrokeras.errors")
