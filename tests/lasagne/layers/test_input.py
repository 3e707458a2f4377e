"""Tests for indrnn.lasagne.layers.input: InputLayer."""
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.lasagne.layers import InputLayer


def test_creates_floatx_variable_broadcastable_where_size_one():
    l = InputLayer((None, 1, 4))
    v = l.input_var
    assert v.ndim == 3
    assert v.dtype == pytensor.config.floatX
    assert v.broadcastable == (False, True, False)
    assert v.name == "input"
    assert l.output_shape == (None, 1, 4)
    assert l.shape == (None, 1, 4)
    assert l.get_params() == []


def test_named_input_variable():
    assert InputLayer((2, 3), name="x").input_var.name == "x.input"


def test_given_variable_is_used():
    v = pt.itensor3("ids")
    l = InputLayer((None, 5, 2), input_var=v)
    assert l.input_var is v


def test_variable_dimension_mismatch():
    with pytest.raises(ValueError, match="dimensions"):
        InputLayer((None, 5), input_var=pt.tensor3())


@pytest.mark.parametrize("shape", [(0, 3), (None, -2)])
def test_non_positive_shape(shape):
    with pytest.raises(ValueError, match="non-positive"):
        InputLayer(shape)
