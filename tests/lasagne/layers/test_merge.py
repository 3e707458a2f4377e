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


def test_autocrop_documentation_example():
    from indrnn.lasagne.layers import autocrop, autocrop_array_shapes
    rng = np.random.RandomState(0)
    a, b, c = (rng.random_sample(s) for s in
               ((1, 2, 3, 4), (5, 4, 4, 2), (7, 1, 8, 9)))
    cropping = [None, "lower", "center", "upper"]
    xa, xb, xc = pytensor.function([], autocrop(
        [pt.as_tensor(a), pt.as_tensor(b), pt.as_tensor(c)], cropping),
        mode="FAST_COMPILE")()
    np.testing.assert_array_equal(xa, a[:, :1, :3, -2:])
    np.testing.assert_array_equal(xb, b[:, :1, :3, -2:])
    np.testing.assert_array_equal(xc, c[:, :1, 2:5, -2:])
    assert autocrop_array_shapes([a.shape, b.shape, c.shape], cropping) == [
        (1, 1, 3, 2), (5, 1, 3, 2), (7, 1, 3, 2)]
    # short cropping lists are padded with None; unknown sizes stay unknown
    assert autocrop_array_shapes([(2, None), (3, 4)], ["lower", "upper"]) \
        == [(2, None), (2, None)]
    with pytest.raises(ValueError, match="Unknown crop mode"):
        autocrop_array_shapes([(2,), (3,)], ["middle"])
    with pytest.raises(ValueError, match="same dimensionality"):
        autocrop([pt.matrix(), pt.vector()], ["lower"])


def test_cropping_in_concat_and_elemwise_sum():
    l_a, l_b = InputLayer((2, 3, 5)), InputLayer((2, 4, 3))
    # the concatenation axis (1) is never cropped
    concat = ConcatLayer([l_a, l_b], axis=1, cropping=[None, "lower",
                                                       "center"])
    total = ElemwiseSumLayer([l_a, l_b], coeffs=[1, -1],
                             cropping=[None, "upper", "center"])
    assert concat.cropping == [None, None, "center"]
    assert concat.output_shape == (2, 7, 3)
    assert total.output_shape == (2, 3, 3)
    rng = np.random.RandomState(1)
    a, b = rng.randn(2, 3, 5), rng.randn(2, 4, 3)
    f = pytensor.function([l_a.input_var, l_b.input_var],
                          get_output([concat, total]), mode="FAST_COMPILE")
    c, t = f(floatX(a), floatX(b))
    np.testing.assert_allclose(c, np.concatenate([a[:, :, 1:4], b], axis=1),
                               rtol=1e-6)
    np.testing.assert_allclose(t, a[:, :, 1:4] - b[:, 1:, :], rtol=1e-6,
                               atol=1e-6)


def test_merge_layer_refuses_a_symbolic_output_shape():
    from indrnn.lasagne.layers import MergeLayer

    class Symbolic(MergeLayer):
        def get_output_shape_for(self, input_shapes):
            return (pt.iscalar("n"), 3)
    with pytest.raises(ValueError, match="symbolic output shape"):
        Symbolic([InputLayer((2, 3))]).output_shape
