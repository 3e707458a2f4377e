"""Tests for indrnn.lasagne.layers.dense: DenseLayer against numpy."""
import numpy as np
import pytensor
import pytest

from indrnn.lasagne import init, nonlinearities
from indrnn.lasagne.layers import DenseLayer, InputLayer, get_output
from indrnn.lasagne.utils import floatX

MODE = "FAST_COMPILE"
TOL = dict(rtol=1e-5, atol=1e-6)


def _run(layer, l_in, x):
    f = pytensor.function([l_in.input_var], get_output(layer), mode=MODE)
    return f(floatX(x))


def test_params_shapes_names_tags():
    l = DenseLayer(InputLayer((None, 4)), 3, name="fc")
    assert l.W.get_value().shape == (4, 3)
    assert l.b.get_value().shape == (3,)
    assert (l.W.name, l.b.name) == ("fc.W", "fc.b")
    assert l.get_params() == [l.W, l.b]
    assert l.get_params(regularizable=True) == [l.W]
    assert l.get_params(trainable=True) == [l.W, l.b]
    np.testing.assert_array_equal(l.b.get_value(), np.zeros(3))
    assert l.output_shape == (None, 3)


def test_no_bias():
    l = DenseLayer(InputLayer((None, 4)), 3, b=None)
    assert l.b is None
    assert l.get_params() == [l.W]


def test_forward_rectify_and_identity():
    rng = np.random.RandomState(0)
    l_in = InputLayer((None, 4))
    W, b = floatX(rng.randn(4, 3)), floatX(rng.randn(3))
    x = rng.randn(5, 4)
    relu = DenseLayer(l_in, 3, W=W, b=b)
    lin = DenseLayer(l_in, 3, W=W, b=b, nonlinearity=None)
    tanh = DenseLayer(l_in, 3, W=W, b=None, nonlinearity=nonlinearities.tanh)
    pre = floatX(x).dot(W)
    np.testing.assert_allclose(_run(relu, l_in, x), np.maximum(pre + b, 0),
                               **TOL)
    np.testing.assert_allclose(_run(lin, l_in, x), pre + b, **TOL)
    np.testing.assert_allclose(_run(tanh, l_in, x), np.tanh(pre), **TOL)


def test_trailing_axes_are_flattened():
    rng = np.random.RandomState(1)
    l_in = InputLayer((None, 2, 3))
    l = DenseLayer(l_in, 4, nonlinearity=None)
    assert l.W.get_value().shape == (6, 4)
    assert l.output_shape == (None, 4)
    x = rng.randn(5, 2, 3)
    np.testing.assert_allclose(
        _run(l, l_in, x),
        floatX(x).reshape(5, 6).dot(l.W.get_value()) + l.b.get_value(), **TOL)


@pytest.mark.parametrize("num_leading_axes", [2, -1])
def test_num_leading_axes(num_leading_axes):
    rng = np.random.RandomState(2)
    l_in = InputLayer((None, 5, 3))
    l = DenseLayer(l_in, 4, num_leading_axes=num_leading_axes,
                   nonlinearity=None, b=init.Normal())
    assert l.W.get_value().shape == (3, 4)
    assert l.output_shape == (None, 5, 4)
    x = rng.randn(2, 5, 3)
    np.testing.assert_allclose(
        _run(l, l_in, x), floatX(x).dot(l.W.get_value()) + l.b.get_value(),
        **TOL)


def test_bad_configurations():
    with pytest.raises(ValueError, match="leaving no trailing"):
        DenseLayer(InputLayer((None, 3)), 2, num_leading_axes=2)
    with pytest.raises(ValueError, match="more trailing axes"):
        DenseLayer(InputLayer((None, 3)), 2, num_leading_axes=-3)
    with pytest.raises(ValueError, match="fixed input shape"):
        DenseLayer(InputLayer((None, None)), 2)
    with pytest.raises(ValueError):
        DenseLayer(InputLayer((None, 3)), 2, W=np.zeros((2, 3)))


def test_negative_num_leading_axes_is_kept_as_given():
    # Lasagne keeps the count as given and names it so in its errors
    l = DenseLayer(InputLayer((2, 3, 4)), 5, num_leading_axes=-1)
    assert l.num_leading_axes == -1
    assert l.output_shape == (2, 3, 5)
    with pytest.raises(ValueError, match=r"Got \(2, 3, None\) for "
                                         r"num_leading_axes=-2\."):
        DenseLayer(InputLayer((2, 3, None)), 5, num_leading_axes=-2)


def test_nin_layer_against_numpy():
    from indrnn.lasagne.layers import NINLayer
    rng = np.random.RandomState(0)
    l_in = InputLayer((None, 3, 4, 2))
    W = floatX(rng.randn(3, 5))
    tied = NINLayer(l_in, 5, W=W, b=floatX(rng.randn(5)),
                    nonlinearity=None)
    untied = NINLayer(l_in, 5, W=W, untie_biases=True,
                      b=floatX(rng.randn(5, 4, 2)))
    no_bias = NINLayer(l_in, 5, b=None)
    assert tied.output_shape == (None, 5, 4, 2)
    assert untied.b.get_value().shape == (5, 4, 2)
    assert [p.name for p in no_bias.get_params()] == ["W"]
    assert tied.get_params(regularizable=True) == [tied.W]
    x = rng.randn(2, 3, 4, 2)
    f = pytensor.function([l_in.input_var], get_output([tied, untied]),
                          mode=MODE)
    got_tied, got_untied = f(floatX(x))
    linear = np.einsum("bchw,cu->buhw", x, W)
    np.testing.assert_allclose(
        got_tied, linear + tied.b.get_value()[None, :, None, None], **TOL)
    np.testing.assert_allclose(
        got_untied, np.maximum(linear + untied.b.get_value()[None], 0),
        **TOL)
