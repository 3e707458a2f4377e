"""Tests for indrnn.lasagne.layers.special: NonlinearityLayer and
ExpressionLayer."""
import numpy as np
import pytensor
import pytensor.tensor as pt

from indrnn.lasagne import nonlinearities
from indrnn.lasagne.layers import (ExpressionLayer, InputLayer,
                                   NonlinearityLayer, get_output)
from indrnn.lasagne.utils import floatX

MODE = "FAST_COMPILE"


def test_nonlinearity_layer_values():
    l_in = InputLayer((2, 3))
    relu = NonlinearityLayer(l_in)
    tanh = NonlinearityLayer(l_in, nonlinearities.tanh)
    ident = NonlinearityLayer(l_in, None)
    f = pytensor.function([l_in.input_var],
                          get_output([relu, tanh, ident]), mode=MODE)
    x = floatX(np.array([[-1., 0.5, 2.], [3., -0.2, 0.]]))
    r, t, i = f(x)
    np.testing.assert_allclose(r, np.maximum(x, 0), rtol=1e-6)
    np.testing.assert_allclose(t, np.tanh(x), rtol=1e-5)
    np.testing.assert_array_equal(i, x)
    assert relu.output_shape == (2, 3)


def test_expression_layer_function_and_shapes():
    l_in = InputLayer((2, 3))
    same = ExpressionLayer(l_in, lambda x: 2 * x)
    fixed = ExpressionLayer(l_in, lambda x: x.sum(axis=1), output_shape=(2,))
    call = ExpressionLayer(l_in, lambda x: x.T,
                           output_shape=lambda s: (s[1], s[0]))
    assert same.output_shape == (2, 3)
    assert fixed.output_shape == (2,)
    assert call.output_shape == (3, 2)
    x = floatX(np.arange(6.).reshape(2, 3))
    f = pytensor.function([l_in.input_var],
                          get_output([same, fixed, call]), mode=MODE)
    a, b, c = f(x)
    np.testing.assert_array_equal(a, 2 * x)
    np.testing.assert_allclose(b, x.sum(axis=1))
    np.testing.assert_array_equal(c, x.T)
    assert isinstance(get_output(same), pt.TensorVariable)
