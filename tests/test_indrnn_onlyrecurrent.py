"""Tests for indrnn.indrnn_onlyrecurrent: the time-first recurrent part of
an IndRNN, ``h_t = relu(x_t + u * h_{t-1})``, against numpy and finite
differences (built in float64 whatever the session's floatX).

Most checks compile in FAST_COMPILE mode; the two ``*_backend`` tests run
the layer in the session's floatX with the default backend (Numba) and the
C backend (CVM).
"""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.indrnn_onlyrecurrent import (IndRNNLayer_onlyrecurrent,
                                         MulLayer, onlyRecurrentLayer)
from indrnn.lasagne import init, nonlinearities
from indrnn.lasagne.layers import (DenseLayer, InputLayer, get_all_params,
                                   get_output)
from indrnn.lasagne.utils import floatX

MODE = "FAST_COMPILE"
T, B, N = 5, 2, 3          # T != B catches a time/batch axis mix-up
TOL = dict(rtol=1e-10, atol=1e-12)
RNG = np.random.RandomState(0)
X = RNG.randn(T, B, N)     # time-first
MASK = np.array([[1, 1, 0, 1, 1], [0, 1, 1, 1, 0]], dtype="float64")  # (B, T)
H0 = np.abs(RNG.randn(B, N))
U = RNG.uniform(-1, 1, N)
Z0 = np.zeros((B, N))


def f64():
    return pytensor.config.change_flags(floatX="float64")


def np_only_recurrent(x, u, h0, mask=None, backwards=False, nonlin=None):
    """Time-first numpy reference; mask is batch-first (B, T)."""
    nonlin = nonlin or (lambda v: np.maximum(v, 0))
    h = h0
    out = [None] * x.shape[0]
    order = range(x.shape[0] - 1, -1, -1) if backwards else range(x.shape[0])
    for t in order:
        new = nonlin(x[t] + u * h)
        if mask is not None:
            new = np.where(mask[:, t][:, None] > 0, new, h)
        h = new
        out[t] = h
    return np.stack(out), h


def test_params_and_shapes():
    l_in = InputLayer((T, B, N))
    l = IndRNNLayer_onlyrecurrent(l_in, N, name="rec")
    assert [p.name for p in l.get_params()] == ["rec.hid_init",
                                                "rec.hidden_to_hidden.W"]
    assert l.get_params(trainable=True) == [l.W_hid_to_hid]
    assert l.W_hid_to_hid.get_value().shape == (N,)
    assert l.hid_init.get_value().shape == (1, N)
    assert l.output_shape == (T, B, N)
    # only_return_final: the last state, (batch, units)
    final = IndRNNLayer_onlyrecurrent(l_in, N, only_return_final=True)
    assert final.output_shape == (B, N)
    l_h0 = InputLayer((None, N))
    with_h0 = IndRNNLayer_onlyrecurrent(l_in, N, hid_init=l_h0)
    assert [p.name for p in with_h0.get_params()] == ["hidden_to_hidden.W"]
    assert isinstance(l.hidden_to_hidden, MulLayer)
    assert isinstance(l.input_to_hidden, InputLayer)


@pytest.fixture(scope="module")
def forward():
    with f64():
        l_in = InputLayer((T, B, N))
        l_mask = InputLayer((B, T))
        l_h0 = InputLayer((None, N))
        variants = dict(
            fwd=dict(),
            bwd=dict(backwards=True),
            mask=dict(mask_input=l_mask),
            mask_bwd=dict(mask_input=l_mask, backwards=True),
            h0=dict(hid_init=l_h0, mask_input=l_mask),
            final=dict(only_return_final=True),
            final_bwd=dict(only_return_final=True, backwards=True,
                           mask_input=l_mask),
            unrolled=dict(unroll_scan=True, mask_input=l_mask,
                          backwards=True),
            unrolled_final=dict(unroll_scan=True, only_return_final=True),
            no_precompute=dict(precompute_input=False, mask_input=l_mask),
            tanh=dict(nonlinearity=nonlinearities.tanh,
                      hid_init=init.Constant(0.5)),
        )
        layers = dict((k, IndRNNLayer_onlyrecurrent(l_in, N, W_hid_to_hid=U,
                                                    **kw))
                      for k, kw in variants.items())
        # the generic base class with a dense recurrent connection
        Wh = RNG.randn(N, N) * 0.5
        layers["dense_h2h"] = onlyRecurrentLayer(
            l_in, InputLayer((T, B, N)),
            DenseLayer(InputLayer((None, N)), N, W=Wh, b=None,
                       nonlinearity=None), nonlinearity=nonlinearities.tanh)
        keys = sorted(layers)
        f = pytensor.function(
            [l_in.input_var, l_mask.input_var, l_h0.input_var],
            get_output([layers[k] for k in keys]), mode=MODE)
    outs = dict(zip(keys, f(X, MASK, H0)))
    outs["Wh"] = Wh
    return outs


@pytest.mark.parametrize("key, kwargs", [
    ("fwd", dict()),
    ("bwd", dict(backwards=True)),
    ("mask", dict(mask=MASK)),
    ("mask_bwd", dict(mask=MASK, backwards=True)),
    ("unrolled", dict(mask=MASK, backwards=True)),
    ("no_precompute", dict(mask=MASK)),
])
def test_forward_against_numpy(forward, key, kwargs):
    expected, _ = np_only_recurrent(X, U, Z0, **kwargs)
    assert forward[key].shape == (T, B, N)        # time-first output
    np.testing.assert_allclose(forward[key], expected, **TOL)


def test_batch_first_mask_carries_state(forward):
    out = forward["mask"]
    np.testing.assert_allclose(out[2, 0], out[1, 0], **TOL)   # MASK[0, 2]=0
    np.testing.assert_allclose(out[0, 1], 0, **TOL)           # MASK[1, 0]=0
    np.testing.assert_allclose(out[4, 1], out[3, 1], **TOL)   # MASK[1, 4]=0


def test_hid_init_layer_final_and_other_connections(forward):
    expected, _ = np_only_recurrent(X, U, H0, mask=MASK)
    np.testing.assert_allclose(forward["h0"], expected, **TOL)
    _, last = np_only_recurrent(X, U, Z0)
    np.testing.assert_allclose(forward["final"], last, **TOL)
    np.testing.assert_allclose(forward["unrolled_final"], last, **TOL)
    full, last = np_only_recurrent(X, U, Z0, mask=MASK, backwards=True)
    np.testing.assert_allclose(forward["final_bwd"], last, **TOL)
    np.testing.assert_allclose(last, full[0], **TOL)
    expected, _ = np_only_recurrent(X, U, np.full((B, N), 0.5),
                                    nonlin=np.tanh)
    np.testing.assert_allclose(forward["tanh"], expected, **TOL)
    # dense recurrent connection: h_t = tanh(x_t + h_{t-1} Wh)
    h, ref = Z0, []
    for t in range(T):
        h = np.tanh(X[t] + h.dot(forward["Wh"]))
        ref.append(h)
    np.testing.assert_allclose(forward["dense_h2h"], np.stack(ref), **TOL)


def _forward_in_floatx(mode, **kwargs):
    """An IndRNN recurrence in the session's floatX, compiled in ``mode``."""
    l_in = InputLayer((T, B, N))
    inputs, values = [l_in.input_var], [floatX(X)]
    mask = None
    if kwargs.pop("masked", False):
        l_mask = InputLayer((B, T))
        kwargs["mask_input"] = l_mask
        inputs.append(l_mask.input_var)
        values.append(floatX(MASK))
        mask = MASK
    l = IndRNNLayer_onlyrecurrent(l_in, N, W_hid_to_hid=floatX(U), **kwargs)
    f = pytensor.function(inputs, get_output(l), mode=mode)
    expected, _ = np_only_recurrent(
        values[0], floatX(U), np.zeros((B, N), values[0].dtype), mask,
        kwargs.get("backwards", False))
    np.testing.assert_allclose(f(*values), expected, rtol=1e-5, atol=1e-6)


def test_forward_default_backend():
    _forward_in_floatx(None)


def test_forward_c_backend():
    _forward_in_floatx("CVM", masked=True, backwards=True)


def test_unroll_needs_known_time_axis():
    with pytest.raises(ValueError, match="None"):
        IndRNNLayer_onlyrecurrent(InputLayer((None, B, N)), N,
                                  unroll_scan=True)
    # an unknown batch size is fine: only the time axis is unrolled
    IndRNNLayer_onlyrecurrent(InputLayer((T, None, N)), N, unroll_scan=True)


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
    """d sum(C * h) / d(input, u, hid_init) by central differences."""
    C = np.random.RandomState(1).randn(T, B, N)
    with f64():
        l_in = InputLayer((T, B, N))
        l_mask = InputLayer((B, T))
        l = IndRNNLayer_onlyrecurrent(l_in, N, W_hid_to_hid=U,
                                      hid_init=init.Constant(0.3),
                                      learn_init=True, mask_input=l_mask,
                                      backwards=backwards)
        params = get_all_params(l, trainable=True)
        assert params == [l.hid_init, l.W_hid_to_hid]
        loss = pt.sum(C * get_output(l))
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
    for name, g, n in zip(["x", "hid_init", "u"], grads, numeric):
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-8,
                                   err_msg=name)
        assert np.any(g != 0), name


def test_grad_clipping_bounds_input_gradient():
    """The gradient w.r.t. the input is the clipped pre-activation
    gradient itself (x_t enters the pre-activation with weight 1)."""
    clip = 0.1
    C = np.random.RandomState(2).randn(T, B, N) * 5
    with f64():
        l_in = InputLayer((T, B, N))
        gs = []
        for c in (0, clip):
            l = IndRNNLayer_onlyrecurrent(l_in, N, W_hid_to_hid=np.ones(N),
                                          grad_clipping=c)
            gs.append(pt.grad(pt.sum(C * get_output(l)), l_in.input_var))
        g0, g1 = pytensor.function([l_in.input_var], gs, mode=MODE)(X)
    assert np.abs(g0).max() > clip
    assert np.abs(g1).max() <= clip + 1e-12
    # numpy BPTT with clipping: dL/dx_t = clip(relu'(a_t) * dL/dh_t)
    h, pre = [Z0], []
    for t in range(T):
        pre.append(X[t] + h[-1])
        h.append(np.maximum(pre[-1], 0))
    dh, expected = np.zeros((B, N)), np.zeros_like(X)
    for t in range(T - 1, -1, -1):
        da = np.clip((dh + C[t]) * (pre[t] > 0), -clip, clip)
        expected[t] = da
        dh = da * 1.0
    np.testing.assert_allclose(g1, expected, **TOL)
