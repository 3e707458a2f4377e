"""Tests for indrnn.lasagne.nonlinearities against numpy."""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.lasagne import nonlinearities as nl

X = np.array([[-3.0, -0.5, 0.0, 0.25, 2.0],
              [1.5, -1.0, 0.75, -0.1, 40.0]])


def _np_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717

REFERENCES = [
    (nl.sigmoid, lambda x: 1.0 / (1.0 + np.exp(-x))),
    (nl.softmax, _np_softmax),
    (nl.tanh, np.tanh),
    (nl.ScaledTanH(scale_in=0.5, scale_out=2.27),
     lambda x: 2.27 * np.tanh(0.5 * x)),
    (nl.rectify, lambda x: np.maximum(x, 0)),
    (nl.LeakyRectify(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nl.leaky_rectify, lambda x: np.where(x > 0, x, 0.01 * x)),
    (nl.very_leaky_rectify, lambda x: np.where(x > 0, x, x / 3.0)),
    (nl.elu, lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    (nl.SELU(scale=2.0, scale_neg=3.0),
     lambda x: 2.0 * np.where(x > 0, x, 3.0 * (np.exp(x) - 1))),
    (nl.selu,
     lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1))),
    (nl.softplus, lambda x: np.log1p(np.exp(x))),
    (nl.linear, lambda x: x),
    (nl.identity, lambda x: x),
]


@pytest.fixture(scope="module")
def outputs():
    """All nonlinearities on X, compiled into a single function."""
    x = pt.matrix("x", dtype="float64")
    f = pytensor.function([x], [fn(x) for fn, _ in REFERENCES],
                          mode="FAST_COMPILE")
    return f(X)


@pytest.mark.parametrize("i", range(len(REFERENCES)))
def test_forward_matches_numpy(outputs, i):
    _, ref = REFERENCES[i]
    np.testing.assert_allclose(outputs[i], ref(X), rtol=1e-12, atol=1e-12)


def test_aliases():
    assert nl.ScaledTanh is nl.ScaledTanH
    assert nl.identity is nl.linear
    assert nl.leaky_rectify.leakiness == 0.01
    assert nl.very_leaky_rectify.leakiness == pytest.approx(1.0 / 3)
    x = pt.vector()
    assert nl.linear(x) is x


def test_softmax_rows_sum_to_one(outputs):
    i = [fn for fn, _ in REFERENCES].index(nl.softmax)
    np.testing.assert_allclose(outputs[i].sum(axis=1), 1.0)


def test_rectify_gradient_matches_theano_relu():
    # Theano's relu is 0.5 * (x + |x|): gradient 0.5 at exactly zero.
    x = pt.vector("x", dtype="float64")
    grads = [pytensor.grad(fn(x).sum(), x)
             for fn in (nl.rectify, nl.LeakyRectify(0.2))]
    f = pytensor.function([x], grads, mode="FAST_COMPILE")
    g_relu, g_leaky = f(np.array([-2.0, 0.0, 3.0]))
    np.testing.assert_allclose(g_relu, [0.0, 0.5, 1.0])
    # leaky: 0.5 * (1 + a) + 0.5 * (1 - a) * sign(x)
    np.testing.assert_allclose(g_leaky, [0.2, 0.6, 1.0])


@pytest.mark.parametrize("fn", [fn for fn, _ in REFERENCES])
def test_float32_stays_float32(fn):
    # Legacy Theano ran in float32; constants must not upcast the graph
    # even when pytensor.config.floatX is float64.
    with pytensor.config.change_flags(floatX="float64"):
        x = pt.matrix("x", dtype="float32")
        assert fn(x).dtype == "float32"
