"""Tests for indrnn.lasagne.layers.recurrent: CustomRecurrentLayer,
RecurrentLayer and LSTMLayer against numpy loops, finite differences and a
numpy back-propagation-through-time reference for gradient clipping.

Layers are built in float64 (whatever floatX the session uses) so that the
comparisons can be tight. Everything compiles in FAST_COMPILE mode; the
forward checks in the Numba and C backends are in
tests/test_indrnn_onlyrecurrent.py.
"""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.lasagne import init, nonlinearities
from indrnn.lasagne.layers import (ConcatLayer, CustomRecurrentLayer,
                                   DenseLayer, Gate,
                                   InputLayer, LSTMLayer, RecurrentLayer,
                                   get_all_params, get_output,
                                   set_all_param_values)

MODE = "FAST_COMPILE"
B, T, F, N = 2, 4, 3, 3
TOL = dict(rtol=1e-10, atol=1e-12)


def f64():
    return pytensor.config.change_flags(floatX="float64")


def relu(v):
    return np.maximum(v, 0)


def sigm(v):
    return 1 / (1 + np.exp(-v))


def np_recurrence(x, step, state0, mask=None, backwards=False):
    """Run ``state = step(x_t, *state)`` over batch-first ``x``; where the
    mask is 0 the previous state is kept. Returns the last state entry at
    every time index (aligned with the input) and the final state."""
    state = tuple(state0)
    out = [None] * x.shape[1]
    order = range(x.shape[1] - 1, -1, -1) if backwards else range(x.shape[1])
    for t in order:
        new = step(x[:, t], *state)
        if mask is not None:
            keep = mask[:, t][:, None] > 0
            new = tuple(np.where(keep, n, s) for n, s in zip(new, state))
        state = new
        out[t] = state[-1]
    return np.stack(out, axis=1), state[-1]


def rnn_step(W_in, b, W_hid, nonlin=relu):
    def step(x_t, h):
        return (nonlin(x_t.reshape(len(x_t), -1).dot(W_in) + b
                       + h.dot(W_hid)),)
    return step


def lstm_step(p, peepholes=True):
    gates = ("ingate", "forgetgate", "cell", "outgate")
    Wi = np.concatenate([p["W_in_to_" + g] for g in gates], axis=1)
    Wh = np.concatenate([p["W_hid_to_" + g] for g in gates], axis=1)
    bb = np.concatenate([p["b_" + g] for g in gates])
    n = Wh.shape[0]

    def step(x_t, c, h):
        a = x_t.dot(Wi) + bb + h.dot(Wh)
        i, f, g, o = (a[:, k * n:(k + 1) * n] for k in range(4))
        if peepholes:
            i = i + c * p["W_cell_to_ingate"]
            f = f + c * p["W_cell_to_forgetgate"]
        c_new = sigm(f) * c + sigm(i) * np.tanh(g)
        if peepholes:
            o = o + c_new * p["W_cell_to_outgate"]
        return c_new, sigm(o) * np.tanh(c_new)
    return step


def randomize(layer, rng, scale=0.5):
    """Give every parameter random values; return them by short name."""
    params = get_all_params(layer)
    values = [rng.randn(*p.get_value().shape) * scale for p in params]
    set_all_param_values(layer, values)
    return dict((p.name.split(".", 1)[-1] if p.name.startswith("r.")
                 else p.name, v) for p, v in zip(params, values))


def same_params(dst, src):
    set_all_param_values(dst, [p.get_value() for p in get_all_params(src)])


# ---------------------------------------------------------------- data ----

RNG = np.random.RandomState(0)
X = RNG.randn(B, T, F)
MASK = np.array([[1, 1, 0, 1], [0, 1, 1, 0]], dtype="float64")
H0 = RNG.randn(B, N)


# ------------------------------------------------- RecurrentLayer ---------

@pytest.fixture(scope="module")
def rnn():
    """Many RecurrentLayer variants with equal weights, one function."""
    with f64():
        l_in = InputLayer((B, T, F))
        l_mask = InputLayer((B, T))
        l_h0 = InputLayer((None, N))
        ref = RecurrentLayer(l_in, N, name="r")
        p = randomize(ref, np.random.RandomState(1))
        variants = dict(
            fwd=dict(),
            bwd=dict(backwards=True),
            mask=dict(mask_input=l_mask),
            mask_bwd=dict(mask_input=l_mask, backwards=True),
            final=dict(only_return_final=True),
            final_bwd_mask=dict(only_return_final=True, backwards=True,
                                mask_input=l_mask),
            no_precompute=dict(mask_input=l_mask, backwards=True,
                               precompute_input=False),
            unrolled=dict(mask_input=l_mask, backwards=True,
                          unroll_scan=True),
            unrolled_final=dict(only_return_final=True, unroll_scan=True),
        )
        layers = {}
        for key, kw in variants.items():
            layers[key] = RecurrentLayer(l_in, N, name="r", **kw)
            same_params(layers[key], ref)
        layers["h0"] = RecurrentLayer(l_in, N, hid_init=l_h0,
                                      mask_input=l_mask)
        set_all_param_values(layers["h0"], [p["input_to_hidden.W"],
                                            p["input_to_hidden.b"],
                                            p["hidden_to_hidden.W"]])
        keys = sorted(layers)
        f = pytensor.function(
            [l_in.input_var, l_mask.input_var, l_h0.input_var],
            get_output([layers[k] for k in keys]), mode=MODE)
        outs = dict(zip(keys, f(X, MASK, H0)))
    step = rnn_step(p["input_to_hidden.W"], p["input_to_hidden.b"],
                    p["hidden_to_hidden.W"])
    h0 = np.repeat(p["hid_init"], B, axis=0)
    return dict(layers=layers, outs=outs, step=step, h0=h0, p=p)


def test_rnn_params_and_shapes(rnn):
    fwd = rnn["layers"]["fwd"]
    assert [p.name for p in fwd.get_params()] == [
        "r.hid_init", "r.input_to_hidden.W", "r.input_to_hidden.b",
        "r.hidden_to_hidden.W"]
    assert fwd.W_in_to_hid is fwd.input_to_hidden.W
    assert fwd.W_hid_to_hid is fwd.hidden_to_hidden.W
    assert fwd.b is fwd.input_to_hidden.b
    assert fwd.output_shape == (B, T, N)
    assert rnn["layers"]["final"].output_shape == (B, N)
    # an initial-state layer replaces the hid_init parameter
    assert [p.name for p in rnn["layers"]["h0"].get_params()] == [
        "input_to_hidden.W", "input_to_hidden.b", "hidden_to_hidden.W"]


@pytest.mark.parametrize("key, backwards, masked", [
    ("fwd", False, False), ("bwd", True, False),
    ("mask", False, True), ("mask_bwd", True, True),
    ("no_precompute", True, True), ("unrolled", True, True)])
def test_rnn_forward_against_numpy(rnn, key, backwards, masked):
    expected, _ = np_recurrence(X, rnn["step"], (rnn["h0"],),
                                MASK if masked else None, backwards)
    np.testing.assert_allclose(rnn["outs"][key], expected, **TOL)


def test_rnn_only_return_final(rnn):
    _, last = np_recurrence(X, rnn["step"], (rnn["h0"],))
    np.testing.assert_allclose(rnn["outs"]["final"], last, **TOL)
    np.testing.assert_allclose(rnn["outs"]["unrolled_final"], last, **TOL)
    # backwards: the state after the first time step (processed last)
    full, last = np_recurrence(X, rnn["step"], (rnn["h0"],), MASK, True)
    np.testing.assert_allclose(rnn["outs"]["final_bwd_mask"], last, **TOL)
    np.testing.assert_allclose(last, full[:, 0], **TOL)


def test_rnn_hid_init_layer(rnn):
    expected, _ = np_recurrence(X, rnn["step"], (H0,), MASK)
    np.testing.assert_allclose(rnn["outs"]["h0"], expected, **TOL)
    # the masked-out first step of sequence 1 carries the given state
    np.testing.assert_allclose(rnn["outs"]["h0"][1, 0], H0[1], **TOL)


def test_learn_init_tags():
    l_in = InputLayer((B, T, F))
    fixed = RecurrentLayer(l_in, N)
    learned = RecurrentLayer(l_in, N, learn_init=True)
    assert fixed.hid_init not in fixed.get_params(trainable=True)
    assert fixed.hid_init in fixed.get_params(trainable=False)
    assert learned.hid_init in learned.get_params(trainable=True)
    for l in (fixed, learned):
        assert l.hid_init not in l.get_params(regularizable=True)
        assert l.hid_init.get_value().shape == (1, N)
    lstm = LSTMLayer(l_in, N, learn_init=True, name="lstm")
    assert [p.name for p in lstm.get_params(trainable=False)] == []
    assert [p.name for p in lstm.get_params(trainable=True)][-2:] == [
        "lstm.cell_init", "lstm.hid_init"]
    lstm = LSTMLayer(l_in, N)
    assert [p.name for p in lstm.get_params(trainable=False)] == [
        "cell_init", "hid_init"]


# ---------------------------------------------- CustomRecurrentLayer ------

def test_custom_recurrent_layer_forward():
    rng = np.random.RandomState(2)
    with f64():
        l_in = InputLayer((B, T, 2, 2))      # trailing axes are features
        i2h = DenseLayer(InputLayer((None, 2, 2)), N, nonlinearity=None,
                         W=rng.randn(4, N), b=rng.randn(N))
        h2h = DenseLayer(InputLayer((None, N)), N, nonlinearity=None,
                         b=None, W=rng.randn(N, N) * .5)
        l = CustomRecurrentLayer(l_in, i2h, h2h,
                                 nonlinearity=nonlinearities.tanh,
                                 hid_init=init.Constant(0.3))
        l_np = CustomRecurrentLayer(l_in, i2h, h2h,
                                    nonlinearity=nonlinearities.tanh,
                                    hid_init=init.Constant(0.3),
                                    precompute_input=False)
        f = pytensor.function([l_in.input_var], get_output([l, l_np]),
                              mode=MODE)
    assert l.output_shape == (B, T, N)
    assert l.get_params() == [l.hid_init, i2h.W, i2h.b, h2h.W]
    x = rng.randn(B, T, 2, 2)
    out, out_np = f(x)
    step = rnn_step(i2h.W.get_value(), i2h.b.get_value(), h2h.W.get_value(),
                    np.tanh)
    expected, _ = np_recurrence(x, step, (np.full((B, N), 0.3),))
    np.testing.assert_allclose(out, expected, **TOL)
    np.testing.assert_allclose(out_np, expected, **TOL)


def test_custom_recurrent_layer_errors():
    l_in = InputLayer((B, T, F))
    i2h = DenseLayer(InputLayer((None, F)), N)
    h2h = DenseLayer(InputLayer((None, N)), N)
    two_inputs = DenseLayer(
        ConcatLayer([InputLayer((None, F)), InputLayer((None, F))]), N)
    with pytest.raises(ValueError, match="exactly one InputLayer"):
        CustomRecurrentLayer(l_in, two_inputs, h2h)
    with pytest.raises(ValueError, match="exactly one InputLayer"):
        CustomRecurrentLayer(l_in, i2h, two_inputs)
    with pytest.raises(ValueError):
        CustomRecurrentLayer(l_in, i2h, DenseLayer(InputLayer((None, N)),
                                                   N + 1))
    with pytest.raises(ValueError):
        CustomRecurrentLayer(l_in, DenseLayer(InputLayer((None, F)), N + 1),
                             h2h)
    with pytest.raises(ValueError, match="Gradient steps"):
        RecurrentLayer(l_in, N, unroll_scan=True, gradient_steps=2)
    with pytest.raises(ValueError, match="None"):
        RecurrentLayer(InputLayer((B, None, F)), N, unroll_scan=True)
    with pytest.raises(ValueError, match="None"):
        LSTMLayer(InputLayer((B, None, F)), N, unroll_scan=True)


# ------------------------------------------------------- LSTMLayer --------

@pytest.fixture(scope="module")
def lstm():
    with f64():
        l_in = InputLayer((B, T, F))
        l_mask = InputLayer((B, T))
        l_c0 = InputLayer((None, N))
        l_h0 = InputLayer((None, N))
        ref = LSTMLayer(l_in, N)
        p = randomize(ref, np.random.RandomState(3), scale=0.8)
        variants = dict(
            fwd=dict(),
            mask_bwd=dict(mask_input=l_mask, backwards=True),
            final=dict(only_return_final=True, mask_input=l_mask),
            no_precompute=dict(mask_input=l_mask, backwards=True,
                               precompute_input=False),
            unrolled=dict(mask_input=l_mask, backwards=True,
                          unroll_scan=True))
        layers = {}
        for key, kw in variants.items():
            layers[key] = LSTMLayer(l_in, N, **kw)
            same_params(layers[key], ref)
        layers["init_layers"] = LSTMLayer(l_in, N, cell_init=l_c0,
                                          hid_init=l_h0, mask_input=l_mask)
        set_all_param_values(layers["init_layers"],
                             [p[q.name] for q in
                              get_all_params(layers["init_layers"])])
        nopeep = LSTMLayer(l_in, N, peepholes=False)
        p_nopeep = randomize(nopeep, np.random.RandomState(4), scale=0.8)
        layers["nopeep"] = nopeep
        keys = sorted(layers)
        f = pytensor.function(
            [l_in.input_var, l_mask.input_var, l_c0.input_var,
             l_h0.input_var],
            get_output([layers[k] for k in keys]), mode=MODE)
    C0 = RNG.randn(B, N)
    outs = dict(zip(keys, f(X, MASK, C0, H0)))
    init_state = (np.repeat(p["cell_init"], B, 0),
                  np.repeat(p["hid_init"], B, 0))
    return dict(layers=layers, outs=outs, p=p, p_nopeep=p_nopeep, C0=C0,
                init_state=init_state)


def test_lstm_param_order(lstm):
    names = [p.name for p in lstm["layers"]["fwd"].get_params()]
    expected = []
    for g in ("ingate", "forgetgate", "cell", "outgate"):
        expected += ["W_in_to_" + g, "W_hid_to_" + g, "b_" + g]
    expected += ["W_cell_to_ingate", "W_cell_to_forgetgate",
                 "W_cell_to_outgate", "cell_init", "hid_init"]
    assert names == expected
    assert "W_cell_to_ingate" not in [
        p.name for p in lstm["layers"]["nopeep"].get_params()]
    assert [p.name for p in lstm["layers"]["init_layers"].get_params()] \
        == expected[:-2]
    assert lstm["layers"]["fwd"].output_shape == (B, T, N)
    assert lstm["layers"]["final"].output_shape == (B, N)
    assert [p.name for p in lstm["layers"]["fwd"].get_params(
        regularizable=False)][:2] == ["b_ingate", "b_forgetgate"]
    g = Gate(W_cell=None, nonlinearity=None)
    assert g.W_cell is None and g.nonlinearity is nonlinearities.identity


@pytest.mark.parametrize("key, backwards, masked", [
    ("fwd", False, False), ("mask_bwd", True, True),
    ("no_precompute", True, True), ("unrolled", True, True)])
def test_lstm_forward_against_numpy(lstm, key, backwards, masked):
    expected, _ = np_recurrence(X, lstm_step(lstm["p"]), lstm["init_state"],
                                MASK if masked else None, backwards)
    np.testing.assert_allclose(lstm["outs"][key], expected, **TOL)


def test_lstm_final_initial_layers_and_no_peepholes(lstm):
    _, last = np_recurrence(X, lstm_step(lstm["p"]), lstm["init_state"],
                            MASK)
    np.testing.assert_allclose(lstm["outs"]["final"], last, **TOL)
    expected, _ = np_recurrence(X, lstm_step(lstm["p"]), (lstm["C0"], H0),
                                MASK)
    np.testing.assert_allclose(lstm["outs"]["init_layers"], expected, **TOL)
    pn = lstm["p_nopeep"]
    expected, _ = np_recurrence(X, lstm_step(pn, peepholes=False),
                                (np.repeat(pn["cell_init"], B, 0),
                                 np.repeat(pn["hid_init"], B, 0)))
    np.testing.assert_allclose(lstm["outs"]["nopeep"], expected, **TOL)


# --------------------------------------------------- gradients ------------

def central_difference_check(layer, l_in, extra_inputs=(), eps=1e-6,
                             rtol=1e-5, atol=1e-8):
    """Compare symbolic gradients of ``sum(C * output)`` w.r.t. the input
    and all trainable parameters with numpy central differences."""
    rng = np.random.RandomState(7)
    out = get_output(layer)
    C = rng.randn(*[s for s in layer.output_shape])
    loss = pt.sum(C * out)
    params = get_all_params(layer, trainable=True)
    x_var = l_in.input_var
    inputs = [x_var] + [v for v, _ in extra_inputs]
    values = [X] + [val for _, val in extra_inputs]
    grads = pytensor.function(inputs, pt.grad(loss, [x_var] + params),
                              mode=MODE)(*values)
    # a loss-only function for the many perturbed evaluations
    loss_fn = pytensor.function(inputs, loss, mode=MODE)

    def num_grad(get, set_):
        base = get().copy()
        g = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            vals = []
            for sign in (1, -1):
                pert = base.copy()
                pert[idx] += sign * eps
                set_(pert)
                vals.append(loss_fn(*values))
            g[idx] = (vals[0] - vals[1]) / (2 * eps)
        set_(base)
        return g

    x_box = [X.copy()]

    def set_x(v):
        x_box[0] = v
        values[0] = v
    numeric = [num_grad(lambda: x_box[0], set_x)]
    for p in params:
        numeric.append(num_grad(p.get_value, p.set_value))
    for name, g, n in zip(["input"] + [p.name for p in params], grads,
                          numeric):
        np.testing.assert_allclose(g, n, rtol=rtol, atol=atol,
                                   err_msg=name)
        assert np.any(g != 0), name
    return grads


def test_rnn_gradient_finite_differences():
    with f64():
        l_in = InputLayer((B, T, F))
        l_mask = InputLayer((B, T))
        # tanh keeps the loss smooth everywhere
        l = RecurrentLayer(l_in, N, nonlinearity=nonlinearities.tanh,
                           mask_input=l_mask, learn_init=True,
                           hid_init=init.Normal(0.5))
        randomize(l, np.random.RandomState(8))
        central_difference_check(l, l_in, [(l_mask.input_var, MASK)])


def test_lstm_gradient_finite_differences():
    with f64():
        l_in = InputLayer((B, T, F))
        l = LSTMLayer(l_in, N, backwards=True, learn_init=True)
        randomize(l, np.random.RandomState(9), scale=0.8)
        central_difference_check(l, l_in)


def np_rnn_bptt(x, W_in, b, W_hid, h0, C, clip):
    """Gradients of sum(C * h) for h_t = relu(x_t W_in + b + h_{t-1} W_hid),
    with the gradient of each pre-activation clipped to [-clip, clip]."""
    T_ = x.shape[1]
    hs, pre = [h0], []
    for t in range(T_):
        pre.append(x[:, t].dot(W_in) + b + hs[-1].dot(W_hid))
        hs.append(relu(pre[-1]))
    gW_in, gb, gW_hid = (np.zeros_like(W_in), np.zeros_like(b),
                         np.zeros_like(W_hid))
    gx = np.zeros_like(x)
    dh = np.zeros_like(h0)
    for t in range(T_ - 1, -1, -1):
        dh = dh + C[:, t]
        da = np.clip(dh * (pre[t] > 0), -clip, clip)
        gW_in += x[:, t].T.dot(da)
        gb += da.sum(axis=0)
        gW_hid += hs[t].T.dot(da)
        gx[:, t] = da.dot(W_in.T)
        dh = da.dot(W_hid.T)
    return gx, gW_in, gb, gW_hid


def test_rnn_grad_clipping_against_numpy_bptt():
    rng = np.random.RandomState(10)
    W_in, W_hid, b = rng.randn(F, N), rng.randn(N, N) * .8, rng.randn(N)
    C = rng.randn(B, T, N) * 3
    clip = 0.7
    with f64():
        l_in = InputLayer((B, T, F))
        layers = [RecurrentLayer(l_in, N, W_in_to_hid=W_in, W_hid_to_hid=W_hid,
                                 b=b, grad_clipping=c) for c in (0, clip)]
        grads = []
        for l in layers:
            loss = pt.sum(C * get_output(l))
            grads.append(pt.grad(loss, [l_in.input_var, l.W_in_to_hid, l.b,
                                        l.W_hid_to_hid]))
        f = pytensor.function([l_in.input_var], grads[0] + grads[1],
                              mode=MODE)
    res = f(X)
    unclipped, clipped = res[:4], res[4:]
    h0 = np.zeros((B, N))
    for got, ref in zip(unclipped, np_rnn_bptt(X, W_in, b, W_hid, h0, C,
                                               np.inf)):
        np.testing.assert_allclose(got, ref, **TOL)
    for got, ref in zip(clipped, np_rnn_bptt(X, W_in, b, W_hid, h0, C,
                                             clip)):
        np.testing.assert_allclose(got, ref, **TOL)
    # clipping is active here, and bounds the bias gradient by B*T*clip
    assert not np.allclose(unclipped[2], clipped[2])
    assert np.all(np.abs(clipped[2]) <= B * T * clip + 1e-12)


def test_lstm_grad_clipping_bounds_gate_gradients():
    clip = 1e-3
    with f64():
        l_in = InputLayer((B, T, F))
        layers = [LSTMLayer(l_in, N, grad_clipping=c) for c in (0, clip)]
        rng = np.random.RandomState(11)
        vals = [rng.randn(*p.get_value().shape)
                for p in get_all_params(layers[0])]
        for l in layers:
            set_all_param_values(l, vals)
        C = np.random.RandomState(12).randn(B, T, N) * 10
        biases = []
        for l in layers:
            loss = pt.sum(C * get_output(l))
            biases.append(pt.grad(loss, [l.b_ingate, l.b_forgetgate,
                                         l.b_cell, l.b_outgate]))
        res = pytensor.function([l_in.input_var], biases[0] + biases[1],
                                mode=MODE)(X)
    bound = B * T * clip
    # each bias gradient is a sum of B*T clipped gate gradients
    assert all(np.all(np.abs(g) <= bound + 1e-12) for g in res[4:])
    assert all(np.any(np.abs(g) > bound) for g in res[:4])


def test_gradient_steps_truncates_backpropagation():
    with f64():
        l_in = InputLayer((B, T, F))
        full = RecurrentLayer(l_in, N, nonlinearity=nonlinearities.tanh,
                              only_return_final=True)
        trunc = RecurrentLayer(l_in, N, nonlinearity=nonlinearities.tanh,
                               only_return_final=True, gradient_steps=1)
        same_params(trunc, full)
        g_full, g_trunc = [pt.grad(get_output(l).sum(), l_in.input_var)
                           for l in (full, trunc)]
        gf, gt = pytensor.function([l_in.input_var], [g_full, g_trunc],
                                   mode=MODE)(X)
    # the final state only sees the last step through one-step truncation
    np.testing.assert_allclose(gt[:, :-1], 0, atol=1e-15)
    np.testing.assert_allclose(gt[:, -1], gf[:, -1], **TOL)
    assert np.all(np.abs(gf[:, :-1]).sum(axis=-1) > 0)
