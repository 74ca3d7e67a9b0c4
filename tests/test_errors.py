import pickle

import pytest

from astrokeras.errors import (
    AstroKerasError,
    ConfigError,
    DataError,
    InvalidArgumentError,
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
