"""Tests for indrnn.lasagne.layers.special against numpy re-implementations
and Lasagne's documentation examples. The spatial transformers and the
rectifier layers are in test_special_transformer.py and
test_special_rectifier.py."""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.lasagne import nonlinearities
from indrnn.lasagne.layers import (ExpressionLayer, InputLayer,
                                   NonlinearityLayer, get_all_params,
                                   get_output)
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


# ---- BiasLayer, ScaleLayer, standardize --------------------------------

def test_bias_and_scale_layers_shapes_tags_values():
    from indrnn.lasagne.layers import BiasLayer, ScaleLayer
    # Lasagne's documentation example
    assert BiasLayer((20, 30, 40, 50), shared_axes=(0, 2)).b.get_value(
        ).shape == (30, 50)
    assert ScaleLayer((20, 30, 40, 50), shared_axes=(0, 2)).scales \
        .get_value().shape == (30, 50)
    l_in = InputLayer((None, 3, 2))
    bias = BiasLayer(l_in, b=floatX(np.array([1., 2., 3.])))
    scale = ScaleLayer(l_in, scales=floatX(np.array([2., 3.])),
                       shared_axes=(0, 1))
    none = BiasLayer(l_in, b=None)
    for layer, param in ((bias, "b"), (scale, "scales")):
        assert layer.get_params(trainable=True) == [getattr(layer, param)]
        assert layer.get_params(regularizable=True) == []
    assert none.get_params() == []
    x = floatX(np.arange(12.).reshape(2, 3, 2))
    f = pytensor.function([l_in.input_var],
                          get_output([bias, scale, none]), mode=MODE)
    b, s, n = f(x)
    np.testing.assert_array_equal(b, x + np.array([1., 2., 3.])[None, :,
                                                                   None])
    np.testing.assert_array_equal(s, x * np.array([2., 3.])[None, None, :])
    np.testing.assert_array_equal(n, x)
    with pytest.raises(ValueError, match="needs specified input sizes"):
        BiasLayer(InputLayer((2, None)))
    with pytest.raises(ValueError, match="needs specified input sizes"):
        ScaleLayer(InputLayer((2, 3, None)), shared_axes=0)


def test_standardize_subtracts_and_divides_and_is_not_trainable():
    from indrnn.lasagne.layers import standardize
    rng = np.random.RandomState(0)
    data = floatX(rng.standard_normal((10, 4)))
    offset, scale = data.mean(axis=0), data.std(axis=0)
    l_in = InputLayer((None, 4))
    l_std = standardize(l_in, offset, scale, shared_axes=0)
    assert get_all_params(l_std, trainable=True) == []
    assert len(get_all_params(l_std)) == 2
    out = pytensor.function([l_in.input_var], get_output(l_std),
                            mode=MODE)(data)
    np.testing.assert_allclose(out, (data - offset) / scale, rtol=1e-5)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)


# ---- ExpressionLayer 'auto' ---------------------------------------------

def test_expression_layer_auto_shape():
    # Lasagne's documentation example, and unknown sizes staying unknown
    l1 = ExpressionLayer(InputLayer((32, 100, 20)), lambda X: X.mean(-1),
                         output_shape="auto")
    assert l1.output_shape == (32, 100)
    l2 = ExpressionLayer(InputLayer((None, 6)),
                         lambda X: X.reshape((-1, 2, 3)).sum(1),
                         output_shape="auto")
    assert l2.output_shape == (None, 3)


# ---- InverseLayer -------------------------------------------------------

def test_inverse_layer_is_the_transposed_derivative():
    from indrnn.lasagne.layers import DenseLayer, InverseLayer
    rng = np.random.RandomState(1)
    l_in = InputLayer((3, 4))
    dense = DenseLayer(l_in, 5, nonlinearity=nonlinearities.tanh,
                       W=floatX(rng.randn(4, 5)), b=floatX(rng.randn(5)))
    l_code = InputLayer((3, 5))
    inverse = InverseLayer(l_code, dense)
    assert inverse.output_shape == (3, 4)
    x, code = floatX(rng.randn(3, 4)), floatX(rng.randn(3, 5))
    f = pytensor.function([l_in.input_var, l_code.input_var],
                          get_output(inverse), mode=MODE)
    W, b = dense.W.get_value(), dense.b.get_value()
    expected = (code * (1 - np.tanh(x.dot(W) + b) ** 2)).dot(W.T)
    np.testing.assert_allclose(f(x, code), expected, rtol=1e-4, atol=1e-5)
