"""Tests for indrnn.lasagne.layers.shape: reshape, dimshuffle, flatten and
slice layers, against numpy."""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.lasagne.layers import (DimshuffleLayer, FlattenLayer, InputLayer,
                                   ReshapeLayer, SliceLayer, dimshuffle,
                                   flatten, get_output, reshape)
from indrnn.lasagne.utils import floatX

MODE = "FAST_COMPILE"
X = floatX(np.arange(2 * 3 * 4).reshape(2, 3, 4))


def _run(layer, l_in, x=X, extra=()):
    f = pytensor.function([l_in.input_var] + [v for v, _ in extra],
                          get_output(layer), mode=MODE)
    return f(x, *[val for _, val in extra])


@pytest.mark.parametrize("spec, expected_shape", [
    ((6, 4), (6, 4)),
    ((-1, 4), (6, 4)),
    (([0], -1), (2, 12)),
    (([0], [2], [1]), (2, 4, 3)),
    ((4, [1], -1), (4, 3, 2)),
])
def test_reshape_known_shape(spec, expected_shape):
    l_in = InputLayer((2, 3, 4))
    l = ReshapeLayer(l_in, spec)
    assert l.output_shape == expected_shape
    # [i] copies a size; the data order is numpy's C order
    np.testing.assert_array_equal(_run(l, l_in), X.reshape(expected_shape))


def test_reshape_unknown_sizes():
    l_in = InputLayer((None, 3, 4))
    # [0] references the unknown batch size, so -1 can still be inferred
    l = ReshapeLayer(l_in, ([0], -1))
    assert l.output_shape == (None, 12)
    np.testing.assert_array_equal(_run(l, l_in), X.reshape(2, 12))
    # -1 with an unknown size that is not referenced: unknown
    l2 = ReshapeLayer(l_in, (-1, 4))
    assert l2.output_shape == (None, 4)
    np.testing.assert_array_equal(_run(l2, l_in), X.reshape(6, 4))


def test_reshape_symbolic_size():
    l_in = InputLayer((2, 3, 4))
    n = pt.iscalar("n")
    l = ReshapeLayer(l_in, (n, -1))
    assert l.output_shape == (None, None)
    np.testing.assert_array_equal(_run(l, l_in, extra=[(n, 4)]),
                                  X.reshape(4, 6))


def test_reshape_errors():
    l_in = InputLayer((2, 3, 4))
    with pytest.raises(ValueError, match="total size"):
        ReshapeLayer(l_in, (5, -1))
    with pytest.raises(ValueError, match="total size"):
        ReshapeLayer(l_in, (2, 3, 5))
    with pytest.raises(ValueError, match="multiple -1"):
        ReshapeLayer(l_in, (-1, -1))
    with pytest.raises(ValueError):
        ReshapeLayer(l_in, (0, 24))
    with pytest.raises(ValueError):
        ReshapeLayer(l_in, ([0, 1], -1))
    with pytest.raises(ValueError, match="dimensions only"):
        ReshapeLayer(l_in, ([3], -1))
    with pytest.raises(ValueError):
        ReshapeLayer(l_in, (pt.ivector(), -1))
    with pytest.raises(ValueError):
        ReshapeLayer(l_in, ("a", -1))
    assert reshape is ReshapeLayer


@pytest.mark.parametrize("pattern", [(1, 0, 2), (2, "x", 0, 1), (0, 2, 1)])
def test_dimshuffle(pattern):
    l_in = InputLayer((2, 3, 4))
    l = DimshuffleLayer(l_in, pattern)
    np_pattern = [p for p in pattern if p != "x"]
    expected = X.transpose(np_pattern)
    if "x" in pattern:
        expected = np.expand_dims(expected, pattern.index("x"))
    assert l.output_shape == expected.shape
    np.testing.assert_array_equal(_run(l, l_in), expected)


def test_dimshuffle_drops_broadcastable_axis_and_errors():
    l_in = InputLayer((2, 1, 4))
    l = DimshuffleLayer(l_in, (2, 0))
    assert l.output_shape == (4, 2)
    np.testing.assert_array_equal(_run(l, l_in, X[:, :1]), X[:, 0].T)
    with pytest.raises(ValueError, match="collapse"):
        DimshuffleLayer(InputLayer((2, 3, 4)), (0, 2))
    with pytest.raises(ValueError, match="more than once"):
        DimshuffleLayer(l_in, (0, 0, 1, 2))
    with pytest.raises(ValueError, match="dimensions only"):
        DimshuffleLayer(l_in, (0, 1, 3))
    with pytest.raises(ValueError):
        DimshuffleLayer(l_in, (0, "y", 1, 2))
    assert dimshuffle is DimshuffleLayer


@pytest.mark.parametrize("outdim, shape", [(1, (24,)), (2, (2, 12)),
                                           (3, (2, 3, 4))])
def test_flatten(outdim, shape):
    l_in = InputLayer((2, 3, 4))
    l = FlattenLayer(l_in, outdim=outdim)
    assert l.output_shape == shape
    np.testing.assert_array_equal(_run(l, l_in), X.reshape(shape))


def test_flatten_unknown_and_errors():
    assert FlattenLayer(InputLayer((None, 3, 4))).output_shape == (None, 12)
    assert FlattenLayer(InputLayer((2, None, 4))).output_shape == (2, None)
    with pytest.raises(ValueError):
        FlattenLayer(InputLayer((2, 3)), outdim=0)
    assert flatten is FlattenLayer


@pytest.mark.parametrize("indices, axis", [
    (1, 0), (-1, 1), (2, -1), (0, -2),
    (slice(0, 2), 1), (slice(None, None, -1), -1), (slice(1, None), 0),
    (slice(-2, None), -2),
])
def test_slice(indices, axis):
    l_in = InputLayer((2, 3, 4))
    l = SliceLayer(l_in, indices, axis=axis)
    ax = axis % 3
    expected = X[(slice(None),) * ax + (indices,)]
    assert l.output_shape == expected.shape
    np.testing.assert_array_equal(_run(l, l_in), expected)


def test_slice_unknown_axis_size():
    l_in = InputLayer((None, 3, 4))
    assert SliceLayer(l_in, slice(0, 2), axis=0).output_shape == (None, 3, 4)
    assert SliceLayer(l_in, -1, axis=0).output_shape == (3, 4)
    assert SliceLayer(l_in, slice(1, 3), axis=1).output_shape == (None, 2, 4)


def test_pad_layer_against_numpy():
    from indrnn.lasagne.layers import PadLayer, pad
    assert pad is PadLayer
    l_in = InputLayer((2, None, 4))
    both = PadLayer(l_in, width=1, val=-1)          # every axis from 2 on
    pairs = PadLayer(l_in, width=[(1, 0), (0, 2)], batch_ndim=1)
    assert both.output_shape == (2, None, 6)
    assert pairs.output_shape == (2, None, 6)
    f = pytensor.function([l_in.input_var], get_output([both, pairs]),
                          mode=MODE)
    got_both, got_pairs = f(X)
    np.testing.assert_array_equal(
        got_both, np.pad(X, [(0, 0), (0, 0), (1, 1)], constant_values=-1))
    np.testing.assert_array_equal(got_pairs,
                                  np.pad(X, [(0, 0), (1, 0), (0, 2)]))


def test_reshape_with_symbolic_entries():
    x_len = pt.iscalar("n")
    l_in = InputLayer((2, 3, 4))
    l = ReshapeLayer(l_in, ([0], x_len, -1))
    assert l.output_shape == (2, None, None)
    np.testing.assert_array_equal(_run(l, l_in, extra=[(x_len, 6)]),
                                  X.reshape(2, 6, 2))
    l_np = ReshapeLayer(l_in, (np.int64(6), -1))     # numpy ints count
    assert l_np.output_shape == (6, 4)
    with pytest.raises(ValueError, match="must be a scalar"):
        ReshapeLayer(l_in, (pt.ivector(), -1))
