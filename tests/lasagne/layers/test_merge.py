"""Tests for indrnn.lasagne.layers.merge: concatenation and elementwise
merges."""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.lasagne.layers import (ConcatLayer, ElemwiseMergeLayer,
                                   ElemwiseSumLayer, InputLayer, concat,
                                   get_output)
from indrnn.lasagne.utils import floatX

MODE = "FAST_COMPILE"


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    return [floatX(rng.randn(2, 3, 4)) for _ in range(3)]


def _run(layer, inputs, xs):
    f = pytensor.function([l.input_var for l in inputs], get_output(layer),
                          mode=MODE)
    return f(*xs)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_concat_values_and_shape(data, axis):
    ins = [InputLayer((2, 3, 4)) for _ in range(3)]
    l = ConcatLayer(ins, axis=axis)
    expected = np.concatenate(data, axis=axis)
    assert l.output_shape == expected.shape
    np.testing.assert_array_equal(_run(l, ins, data), expected)


def test_concat_shapes_with_none():
    l = ConcatLayer([InputLayer((None, 3)), InputLayer((2, 4))], axis=1)
    assert l.output_shape == (2, 7)
    l = ConcatLayer([InputLayer((None, 3)), InputLayer((2, 4))], axis=0)
    with pytest.raises(ValueError, match="Mismatch"):
        l.output_shape
    l = ConcatLayer([InputLayer((None, 3)), InputLayer((2, 3))], axis=0)
    assert l.output_shape == (None, 3)
    with pytest.raises(ValueError, match="Mismatch"):
        ConcatLayer([InputLayer((2, 3)), InputLayer((2, 3, 1))]).output_shape
    assert concat is ConcatLayer


def test_elemwise_sum_with_coeffs(data):
    ins = [InputLayer((2, 3, 4)) for _ in range(3)]
    l = ElemwiseSumLayer(ins, coeffs=[1, -2, 0.5])
    assert l.output_shape == (2, 3, 4)
    np.testing.assert_allclose(_run(l, ins, data),
                               data[0] - 2 * data[1] + 0.5 * data[2],
                               rtol=1e-5, atol=1e-6)
    l = ElemwiseSumLayer(ins, coeffs=3)
    assert l.coeffs == [3, 3, 3]
    np.testing.assert_allclose(_run(l, ins, data), 3 * sum(data),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="coeffs"):
        ElemwiseSumLayer(ins, coeffs=[1, 2])


def test_elemwise_merge_function(data):
    ins = [InputLayer((2, 3, 4)) for _ in range(3)]
    l = ElemwiseMergeLayer(ins, pt.maximum)
    np.testing.assert_array_equal(_run(l, ins, data),
                                  np.maximum(np.maximum(data[0], data[1]),
                                             data[2]))
    l = ElemwiseMergeLayer([InputLayer((None, 3)), InputLayer((2, None))],
                           pt.mul)
    assert l.output_shape == (2, 3)
    with pytest.raises(ValueError, match="Mismatch"):
        ElemwiseMergeLayer([InputLayer((2, 3)), InputLayer((2, 4))],
                           pt.mul).output_shape


def test_cropping_not_supported():
    ins = [InputLayer((2, 3)), InputLayer((2, 3))]
    with pytest.raises(NotImplementedError):
        ConcatLayer(ins, cropping=[None, "center"])
    with pytest.raises(NotImplementedError):
        ElemwiseSumLayer(ins, cropping=[None, "center"])
