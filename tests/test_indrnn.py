"""Tests for indrnn.indrnn: MulLayer and IndRNNLayer against numpy,
finite differences and a numpy BPTT reference with gradient clipping.

Everything is built in float64 (the session may use float32) so that the
comparisons can be tight.
"""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.indrnn import IndRNNLayer, MulLayer
from indrnn.lasagne import init, nonlinearities
from indrnn.lasagne.layers import (InputLayer, get_all_params, get_output,
                                   set_all_param_values)

MODE = "FAST_COMPILE"
B, T, F, N = 2, 5, 2, 3
TOL = dict(rtol=1e-10, atol=1e-12)
RNG = np.random.RandomState(0)
X = RNG.randn(B, T, F)
MASK = np.array([[1, 1, 0, 1, 1], [0, 1, 1, 1, 0]], dtype="float64")
H0 = np.abs(RNG.randn(B, N))
W_IN = RNG.randn(F, N)
BIAS = RNG.randn(N) * 0.5
U = RNG.uniform(-1, 1, N)


def f64():
    return pytensor.config.change_flags(floatX="float64")


def np_indrnn(x, W, b, u, h0, mask=None, backwards=False, nonlin=None):
    """h_t = relu(x_t W + b + u * h_{t-1}); where mask is 0 the previous
    state is carried. Returns outputs aligned with the input time axis and
    the last state computed."""
    nonlin = nonlin or (lambda v: np.maximum(v, 0))
    h = h0
    out = [None] * x.shape[1]
    order = range(x.shape[1] - 1, -1, -1) if backwards else range(x.shape[1])
    for t in order:
        new = nonlin(x[:, t].dot(W) + b + u * h)
        if mask is not None:
            new = np.where(mask[:, t][:, None] > 0, new, h)
        h = new
        out[t] = h
    return np.stack(out, axis=1), h


def test_mul_layer():
    with f64():
        l_in = InputLayer((None, N))
        l = MulLayer(l_in, name="hidden_to_hidden")
        w = RNG.randn(N)
        l2 = MulLayer(l_in, W=w)
        f = pytensor.function([l_in.input_var], get_output(l2), mode=MODE)
    assert l.W.name == "hidden_to_hidden.W"
    assert l.W.get_value().shape == (N,)
    assert l.output_shape == (None, N)
    # default init: Normal(0.01)
    big = MulLayer(InputLayer((None, 2000)))
    assert 0.008 < big.W.get_value().std() < 0.012
    h = RNG.randn(4, N)
    np.testing.assert_allclose(f(h), h * w, **TOL)


def test_params_and_shapes():
    l_in = InputLayer((B, T, F))
    l = IndRNNLayer(l_in, N, name="rnn")
    assert [p.name for p in l.get_params()] == [
        "rnn.hid_init", "rnn.input_to_hidden.W", "rnn.input_to_hidden.b",
        "rnn.hidden_to_hidden.W"]
    assert l.get_params(trainable=True) == [l.W_in_to_hid, l.b,
                                            l.W_hid_to_hid]
    assert l.W_hid_to_hid.get_value().shape == (N,)
    assert l.W_in_to_hid.get_value().shape == (F, N)
    assert l.output_shape == (B, T, N)
    assert IndRNNLayer(l_in, N, only_return_final=True).output_shape == (B, N)
    assert isinstance(l.hidden_to_hidden, MulLayer)
    # no bias
    assert [p.name for p in IndRNNLayer(l_in, N, b=None).get_params()] == [
        "hid_init", "input_to_hidden.W", "hidden_to_hidden.W"]
    # an initial-state layer is an incoming, not a parameter
    l_h0 = InputLayer((None, N))
    l2 = IndRNNLayer(l_in, N, hid_init=l_h0)
    assert l2.input_layers == [l_in, l_h0]
    assert [p.name for p in l2.get_params()] == [
        "input_to_hidden.W", "input_to_hidden.b", "hidden_to_hidden.W"]
    # learn_init makes hid_init trainable
    l3 = IndRNNLayer(l_in, N, learn_init=True)
    assert l3.hid_init in l3.get_params(trainable=True)
    assert l3.hid_init not in l3.get_params(regularizable=True)


@pytest.fixture(scope="module")
def forward():
    with f64():
        l_in = InputLayer((B, T, F))
        l_mask = InputLayer((B, T))
        l_h0 = InputLayer((None, N))
        common = dict(W_in_to_hid=W_IN, W_hid_to_hid=U, b=BIAS)
        variants = dict(
            fwd=dict(),
            bwd=dict(backwards=True),
            mask=dict(mask_input=l_mask),
            mask_bwd=dict(mask_input=l_mask, backwards=True),
            h0=dict(hid_init=l_h0, mask_input=l_mask),
            final=dict(only_return_final=True),
            final_bwd=dict(only_return_final=True, backwards=True,
                           mask_input=l_mask),
            unrolled=dict(unroll_scan=True, backwards=True,
                          mask_input=l_mask),
            tanh=dict(nonlinearity=nonlinearities.tanh,
                      hid_init=init.Constant(0.5)),
            no_precompute=dict(precompute_input=False, mask_input=l_mask,
                               backwards=True),
        )
        layers = dict((k, IndRNNLayer(l_in, N, **common, **kw))
                      for k, kw in variants.items())
        keys = sorted(layers)
        f = pytensor.function(
            [l_in.input_var, l_mask.input_var, l_h0.input_var],
            get_output([layers[k] for k in keys]), mode=MODE)
    return dict(zip(keys, f(X, MASK, H0)))


Z0 = np.zeros((B, N))


@pytest.mark.parametrize("key, kwargs", [
    ("fwd", dict()),
    ("bwd", dict(backwards=True)),
    ("mask", dict(mask=MASK)),
    ("mask_bwd", dict(mask=MASK, backwards=True)),
    ("unrolled", dict(mask=MASK, backwards=True)),
    ("no_precompute", dict(mask=MASK, backwards=True)),
])
def test_forward_against_numpy(forward, key, kwargs):
    expected, _ = np_indrnn(X, W_IN, BIAS, U, Z0, **kwargs)
    np.testing.assert_allclose(forward[key], expected, **TOL)


def test_mask_carries_previous_state(forward):
    out = forward["mask"]
    # batch 0 is masked at t=2, batch 1 at t=0 (initial state) and t=4
    np.testing.assert_allclose(out[0, 2], out[0, 1], **TOL)
    np.testing.assert_allclose(out[1, 0], 0, **TOL)
    np.testing.assert_allclose(out[1, 4], out[1, 3], **TOL)
    assert not np.allclose(out[0, 3], out[0, 2])


def test_hid_init_layer_and_only_return_final(forward):
    expected, _ = np_indrnn(X, W_IN, BIAS, U, H0, mask=MASK)
    np.testing.assert_allclose(forward["h0"], expected, **TOL)
    np.testing.assert_allclose(forward["h0"][1, 0], H0[1], **TOL)
    _, last = np_indrnn(X, W_IN, BIAS, U, Z0)
    np.testing.assert_allclose(forward["final"], last, **TOL)
    full, last = np_indrnn(X, W_IN, BIAS, U, Z0, mask=MASK, backwards=True)
    np.testing.assert_allclose(forward["final_bwd"], last, **TOL)
    np.testing.assert_allclose(forward["final_bwd"], full[:, 0], **TOL)


def test_other_nonlinearity_and_constant_init(forward):
    expected, _ = np_indrnn(X, W_IN, BIAS, U, np.full((B, N), 0.5),
                            nonlin=np.tanh)
    np.testing.assert_allclose(forward["tanh"], expected, **TOL)


def _numeric_grad(f, values, set_value, get_value, eps=1e-6):
    base = get_value().copy()
    g = np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        res = []
        for sign in (1, -1):
            pert = base.copy()
            pert[idx] += sign * eps
            set_value(pert)
            res.append(f(*values))
        g[idx] = (res[0] - res[1]) / (2 * eps)
    set_value(base)
    return g


@pytest.mark.parametrize("backwards", [False, True])
def test_gradients_finite_differences(backwards):
    """d sum(C * h) / d(input, u, W, b, hid_init) by central differences."""
    rng = np.random.RandomState(1)
    C = rng.randn(B, T, N)
    with f64():
        l_in = InputLayer((B, T, F))
        l_mask = InputLayer((B, T))
        l = IndRNNLayer(l_in, N, W_in_to_hid=W_IN, W_hid_to_hid=U, b=BIAS,
                        hid_init=init.Constant(0.3), learn_init=True,
                        mask_input=l_mask, backwards=backwards)
        loss = pt.sum(C * get_output(l))
        params = [l.W_hid_to_hid, l.W_in_to_hid, l.b, l.hid_init]
        inputs = [l_in.input_var, l_mask.input_var]
        grad_fn = pytensor.function(
            inputs, pt.grad(loss, [l_in.input_var] + params), mode=MODE)
        # a loss-only function for the many perturbed evaluations
        f = pytensor.function(inputs, loss, mode=MODE)
    values = [X.copy(), MASK]
    grads = grad_fn(*values)

    def set_x(v):
        values[0] = v
    numeric = [_numeric_grad(f, values, set_x, lambda: values[0])]
    numeric += [_numeric_grad(f, values, p.set_value, p.get_value)
                for p in params]
    for name, g, n in zip(["x", "u", "W", "b", "hid_init"], grads,
                          numeric):
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-8,
                                   err_msg=name)
        assert np.any(g != 0), name


def np_indrnn_bptt(x, W, b, u, C, clip):
    """Gradients of sum(C * h) for h_t = relu(x_t W + b + u * h_{t-1}),
    h_0 = 0, with each pre-activation's gradient clipped."""
    hs, pre = [np.zeros((x.shape[0], len(u)))], []
    for t in range(x.shape[1]):
        pre.append(x[:, t].dot(W) + b + u * hs[-1])
        hs.append(np.maximum(pre[-1], 0))
    gx, gW, gb, gu = (np.zeros_like(x), np.zeros_like(W), np.zeros_like(b),
                      np.zeros_like(u))
    dh = np.zeros_like(hs[0])
    for t in range(x.shape[1] - 1, -1, -1):
        dh = dh + C[:, t]
        da = np.clip(dh * (pre[t] > 0), -clip, clip)
        gx[:, t] = da.dot(W.T)
        gW += x[:, t].T.dot(da)
        gb += da.sum(axis=0)
        gu += (hs[t] * da).sum(axis=0)
        dh = da * u
    return gx, gu, gW, gb


def test_grad_clipping_against_numpy_bptt():
    rng = np.random.RandomState(2)
    C = rng.randn(B, T, N) * 3
    u = rng.uniform(0.5, 1.5, N)     # recurrent gradients that grow
    clip = 0.5
    with f64():
        l_in = InputLayer((B, T, F))
        grads = []
        for c in (0, clip):
            l = IndRNNLayer(l_in, N, W_in_to_hid=W_IN, W_hid_to_hid=u,
                            b=BIAS, grad_clipping=c)
            loss = pt.sum(C * get_output(l))
            grads += pt.grad(loss, [l_in.input_var, l.W_hid_to_hid,
                                    l.W_in_to_hid, l.b])
        res = pytensor.function([l_in.input_var], grads, mode=MODE)(X)
    for got, ref in zip(res[:4], np_indrnn_bptt(X, W_IN, BIAS, u, C,
                                                np.inf)):
        np.testing.assert_allclose(got, ref, **TOL)
    for got, ref in zip(res[4:], np_indrnn_bptt(X, W_IN, BIAS, u, C, clip)):
        np.testing.assert_allclose(got, ref, **TOL)
    assert not np.allclose(res[1], res[5])   # clipping was active
    assert np.all(np.abs(res[7]) <= B * T * clip + 1e-12)


def test_set_all_param_values_order():
    """Legacy files list hid_init, W, b, u: loading puts each in place."""
    l = IndRNNLayer(InputLayer((B, T, F)), N)
    vals = [np.full((1, N), 1.), np.full((F, N), 2.), np.full((N,), 3.),
            np.full((N,), 4.)]
    set_all_param_values(l, vals)
    assert np.all(l.hid_init.get_value() == 1.)
    assert np.all(l.W_in_to_hid.get_value() == 2.)
    assert np.all(l.b.get_value() == 3.)
    assert np.all(l.W_hid_to_hid.get_value() == 4.)
    assert len(get_all_params(l)) == 4
