"""Tests for indrnn.lasagne.layers.recurrent.GRULayer against a numpy loop
(Lasagne's documented equations), a numpy back-propagation through time
with Lasagne's three gradient-clipping points, and finite differences.

The variants share their weights and compile into one function without
the C linker; the default mode (Numba) runs once, on the forward pass of
a one-unit float32 layer.
"""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.lasagne import init, nonlinearities
from indrnn.lasagne.layers import (Gate, GRULayer, InputLayer,
                                   get_all_params, get_output,
                                   set_all_param_values)

MODE = pytensor.compile.mode.Mode(linker="py", optimizer="fast_compile")
B, T, F, N = 2, 4, 3, 3
TOL = dict(rtol=1e-10, atol=1e-12)
GATES = ("updategate", "resetgate", "hidden_update")


def f64():
    return pytensor.config.change_flags(floatX="float64")


def sigm(v):
    return 1 / (1 + np.exp(-v))


def np_gru(x, p, h0, mask=None, backwards=False):
    """Lasagne's GRU equations in numpy. Returns the states aligned with
    the input (batch, time, units) and the state after the last processed
    step."""
    h = h0
    out = [None] * x.shape[1]
    order = range(x.shape[1] - 1, -1, -1) if backwards else range(x.shape[1])
    for t in order:
        x_t = x[:, t].reshape(len(x), -1)

        def pre(g):
            return x_t.dot(p["W_in_to_" + g]) + p["b_" + g]
        r = sigm(pre("resetgate") + h.dot(p["W_hid_to_resetgate"]))
        u = sigm(pre("updategate") + h.dot(p["W_hid_to_updategate"]))
        c = np.tanh(pre("hidden_update")
                    + r * h.dot(p["W_hid_to_hidden_update"]))
        new = (1 - u) * h + u * c
        if mask is not None:
            new = np.where(mask[:, t][:, None] > 0, new, h)
        h = new
        out[t] = h
    return np.stack(out, axis=1), h


def np_gru_grads(x, p, h0, weights, clip=0.):
    """Gradients of ``sum(weights * output)`` (full output, forward, no
    mask) with respect to the stacked parameters, by hand: the backward
    pass of the equations above, clipping the gradient that reaches the
    input projection, ``h_{t-1} W_hid`` and the candidate's
    pre-activation, as Lasagne does."""
    names = ("resetgate", "updategate", "hidden_update")
    W_in = np.concatenate([p["W_in_to_" + g] for g in names], axis=1)
    W_hid = np.concatenate([p["W_hid_to_" + g] for g in names], axis=1)
    b = np.concatenate([p["b_" + g] for g in names])

    def clipped(g):
        return np.clip(g, -clip, clip) if clip else g
    tape, h = [], h0
    for t in range(x.shape[1]):
        a = x[:, t].dot(W_in) + b
        hi = h.dot(W_hid)
        r = sigm(a[:, :N] + hi[:, :N])
        u = sigm(a[:, N:2 * N] + hi[:, N:2 * N])
        c = np.tanh(a[:, 2 * N:] + r * hi[:, 2 * N:])
        tape.append((h, hi, r, u, c))
        h = (1 - u) * h + u * c
    grads = dict(W_in=np.zeros_like(W_in), W_hid=np.zeros_like(W_hid),
                 b=np.zeros_like(b))
    dh = np.zeros_like(h0)
    for t in range(x.shape[1] - 1, -1, -1):
        h_prev, hi, r, u, c = tape[t]
        dh = dh + weights[:, t]
        dcpre = clipped(dh * u * (1 - c ** 2))
        dpre_r = dcpre * hi[:, 2 * N:] * r * (1 - r)
        dpre_u = dh * (c - h_prev) * u * (1 - u)
        da = clipped(np.concatenate([dpre_r, dpre_u, dcpre], axis=1))
        dhi = clipped(np.concatenate([dpre_r, dpre_u, dcpre * r], axis=1))
        grads["W_in"] += x[:, t].T.dot(da)
        grads["b"] += da.sum(axis=0)
        grads["W_hid"] += h_prev.T.dot(dhi)
        dh = dh * (1 - u) + dhi.dot(W_hid.T)
    return grads


def randomize(layer, rng, scale=0.5):
    """Give every parameter random values; return them by name."""
    params = get_all_params(layer)
    values = [rng.randn(*p.get_value().shape) * scale for p in params]
    set_all_param_values(layer, values)
    return dict((p.name, v) for p, v in zip(params, values))


RNG = np.random.RandomState(0)
X = RNG.randn(B, T, F)
MASK = np.array([[1, 1, 0, 1], [0, 1, 1, 0]], dtype="float64")
H0 = RNG.randn(B, N)
WEIGHTS = RNG.randn(B, T, N)


@pytest.fixture(scope="module")
def gru():
    """GRULayer variants with equal weights, compiled into one function
    together with the gradients of the plain and the clipped layer."""
    with f64():
        l_in = InputLayer((B, T, F))
        l_mask = InputLayer((B, T))
        l_h0 = InputLayer((None, N))
        ref = GRULayer(l_in, N)
        p = randomize(ref, np.random.RandomState(1))
        values = [p[q.name] for q in get_all_params(ref)]
        variants = dict(
            fwd=dict(), bwd=dict(backwards=True),
            mask=dict(mask_input=l_mask),
            mask_bwd=dict(mask_input=l_mask, backwards=True),
            final_bwd_mask=dict(only_return_final=True, backwards=True,
                                mask_input=l_mask),
            no_precompute=dict(mask_input=l_mask, backwards=True,
                               precompute_input=False),
            unrolled=dict(mask_input=l_mask, backwards=True,
                          unroll_scan=True),
            unrolled_final=dict(only_return_final=True, unroll_scan=True),
            clipped=dict(grad_clipping=0.05),
            clipped_no_precompute=dict(grad_clipping=0.05,
                                       precompute_input=False),
            truncated=dict(gradient_steps=2),
        )
        layers = {}
        for key, kw in variants.items():
            layers[key] = GRULayer(l_in, N, **kw)
            set_all_param_values(layers[key], values)
        layers["h0"] = GRULayer(l_in, N, hid_init=l_h0, mask_input=l_mask)
        set_all_param_values(layers["h0"], values[:-1])
        keys = sorted(layers)
        outputs = get_output([layers[k] for k in keys])
        w = pt.tensor3("w")
        grad_keys = ("fwd", "clipped", "clipped_no_precompute", "truncated")
        grads = []
        for key in grad_keys:
            loss = (outputs[keys.index(key)] * w).sum()
            grads += pytensor.grad(loss, get_all_params(layers[key]))
        f = pytensor.function(
            [l_in.input_var, l_mask.input_var, l_h0.input_var, w],
            outputs + grads, mode=MODE)
        got = f(X, MASK, H0, WEIGHTS)
    outs = dict(zip(keys, got[:len(keys)]))
    n_params = len(values)
    param_grads = {}
    for i, key in enumerate(grad_keys):
        chunk = got[len(keys) + i * n_params:len(keys) + (i + 1) * n_params]
        param_grads[key] = dict(zip([q.name for q in get_all_params(ref)],
                                    chunk))
    h0 = np.repeat(p["hid_init"], B, axis=0)
    return dict(layers=layers, outs=outs, grads=param_grads, p=p, h0=h0)


def test_param_names_order_shapes_and_tags(gru):
    layer = gru["layers"]["fwd"]
    # Lasagne's creation order: legacy parameter files are positional
    assert [q.name for q in layer.get_params()] == [
        "W_in_to_updategate", "W_hid_to_updategate", "b_updategate",
        "W_in_to_resetgate", "W_hid_to_resetgate", "b_resetgate",
        "W_in_to_hidden_update", "W_hid_to_hidden_update",
        "b_hidden_update", "hid_init"]
    shapes = [q.get_value().shape for q in layer.get_params()]
    assert shapes == [(F, N), (N, N), (N,)] * 3 + [(1, N)]
    assert [q.name for q in layer.get_params(regularizable=True)] == [
        "W_in_to_" + g if i == 0 else "W_hid_to_" + g
        for g in GATES for i in (0, 1)]
    assert layer.hid_init not in layer.get_params(trainable=True)
    learned = GRULayer(InputLayer((B, T, F)), N, learn_init=True)
    assert learned.hid_init in learned.get_params(trainable=True)
    named = GRULayer(InputLayer((B, T, F)), N, name="gru")
    assert named.W_in_to_resetgate.name == "gru.W_in_to_resetgate"
    assert layer.output_shape == (B, T, N)
    assert gru["layers"]["final_bwd_mask"].output_shape == (B, N)
    assert layer.nonlinearity_hid is nonlinearities.tanh
    assert layer.nonlinearity_resetgate is nonlinearities.sigmoid
    # an initial-state layer replaces the hid_init parameter
    assert "hid_init" not in [q.name for q in
                              gru["layers"]["h0"].get_params()]


@pytest.mark.parametrize("key, backwards, masked", [
    ("fwd", False, False), ("bwd", True, False), ("mask", False, True),
    ("mask_bwd", True, True), ("no_precompute", True, True),
    ("unrolled", True, True), ("clipped", False, False),
    ("truncated", False, False)])
def test_forward_against_numpy(gru, key, backwards, masked):
    expected, _ = np_gru(X, gru["p"], gru["h0"],
                         MASK if masked else None, backwards)
    np.testing.assert_allclose(gru["outs"][key], expected, **TOL)


def test_only_return_final(gru):
    _, last = np_gru(X, gru["p"], gru["h0"])
    np.testing.assert_allclose(gru["outs"]["unrolled_final"], last, **TOL)
    # backwards: the state after the first time step (processed last)
    full, last = np_gru(X, gru["p"], gru["h0"], MASK, backwards=True)
    np.testing.assert_allclose(gru["outs"]["final_bwd_mask"], last, **TOL)
    np.testing.assert_allclose(last, full[:, 0], **TOL)


def test_hid_init_layer(gru):
    expected, _ = np_gru(X, gru["p"], H0, MASK)
    np.testing.assert_allclose(gru["outs"]["h0"], expected, **TOL)
    # the masked-out first step of sequence 1 carries the given state
    np.testing.assert_allclose(gru["outs"]["h0"][1, 0], H0[1], **TOL)


def _stacked(grads, prefix):
    axis = 0 if prefix == "b_" else 1
    return np.concatenate([grads[prefix + g] for g in
                           ("resetgate", "updategate", "hidden_update")],
                          axis=axis)


def test_gradient_against_finite_differences_and_bptt(gru):
    p, grads = gru["p"], gru["grads"]["fwd"]

    def loss(params):
        return float((np_gru(X, params, gru["h0"])[0] * WEIGHTS).sum())
    eps = 1e-6
    for name in ("W_hid_to_resetgate", "b_updategate",
                 "W_in_to_hidden_update"):
        numeric = np.zeros_like(p[name])
        for idx in np.ndindex(*p[name].shape):
            for sign in (1, -1):
                moved = dict(p)
                moved[name] = p[name].copy()
                moved[name][idx] += sign * eps
                numeric[idx] += sign * loss(moved) / (2 * eps)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6,
                                   atol=1e-8)
    by_hand = np_gru_grads(X, p, gru["h0"], WEIGHTS)
    np.testing.assert_allclose(_stacked(grads, "W_hid_to_"),
                               by_hand["W_hid"], rtol=1e-9, atol=1e-12)


def test_grad_clipping_at_lasagnes_three_points(gru):
    p, grads = gru["p"], gru["grads"]["clipped"]
    by_hand = np_gru_grads(X, p, gru["h0"], WEIGHTS, clip=0.05)
    unclipped = np_gru_grads(X, p, gru["h0"], WEIGHTS)
    for key, prefix in (("W_in", "W_in_to_"), ("W_hid", "W_hid_to_"),
                        ("b", "b_")):
        np.testing.assert_allclose(_stacked(grads, prefix), by_hand[key],
                                   rtol=1e-9, atol=1e-12)
        # the clipping is active with these values
        assert not np.allclose(by_hand[key], unclipped[key], atol=1e-3)


def test_grad_clipping_without_precompute_clips_the_raw_input(gru):
    # Lasagne clips the gradient of x_t there, which does not reach the
    # parameters: only the other two clipping points change them.
    grads = gru["grads"]["clipped_no_precompute"]
    by_hand = np_gru_grads(X, gru["p"], gru["h0"], WEIGHTS, clip=0.05)
    np.testing.assert_allclose(_stacked(grads, "W_hid_to_"), by_hand["W_hid"],
                               rtol=1e-9, atol=1e-12)
    assert not np.allclose(_stacked(grads, "W_in_to_"), by_hand["W_in"],
                           atol=1e-3)


def test_gradient_steps_truncate_backpropagation(gru):
    full = gru["grads"]["fwd"]["W_hid_to_resetgate"]
    truncated = gru["grads"]["truncated"]["W_hid_to_resetgate"]
    assert not np.allclose(full, truncated)
    # with gradient_steps >= T nothing is truncated
    with f64():
        l_in = InputLayer((B, T, F))
        long = GRULayer(l_in, N, gradient_steps=T)
        set_all_param_values(long, [gru["p"][q.name]
                                    for q in get_all_params(long)])
        loss = (get_output(long) * WEIGHTS).sum()
        g = pytensor.function([l_in.input_var],
                              pytensor.grad(loss, long.W_hid_to_resetgate),
                              mode=MODE)(X)
    np.testing.assert_allclose(g, full, **TOL)


def test_gradient_of_hid_init_against_finite_differences(gru):
    p = gru["p"]

    def loss_of(h0_row):
        h0 = np.repeat(h0_row, B, axis=0)
        return float((np_gru(X, p, h0)[0] * WEIGHTS).sum())
    eps = 1e-6
    numeric = np.zeros_like(p["hid_init"])
    for idx in np.ndindex(*numeric.shape):
        up, down = p["hid_init"].copy(), p["hid_init"].copy()
        up[idx] += eps
        down[idx] -= eps
        numeric[idx] = (loss_of(up) - loss_of(down)) / (2 * eps)
    np.testing.assert_allclose(gru["grads"]["fwd"]["hid_init"], numeric,
                               rtol=1e-6, atol=1e-8)


def test_default_mode_single_unit_float32():
    """The default compile mode (Numba), in float32, with one unit (size-1
    axes), a mask, custom gates and a 4-D input, against numpy. (Forward
    only: the gradient's cold Numba compilation takes over a minute.)"""
    l_in = InputLayer((B, T, F, 1))
    l_mask = InputLayer((B, T))
    layer = GRULayer(
        l_in, 1, resetgate=Gate(W_cell=None, b=init.Constant(0.3)),
        hidden_update=Gate(W_cell=None, nonlinearity=nonlinearities.tanh),
        mask_input=l_mask, learn_init=True)
    assert all(q.dtype == "float32" for q in layer.get_params())
    p = randomize(layer, np.random.RandomState(2))
    f = pytensor.function([l_in.input_var, l_mask.input_var],
                          get_output(layer))
    got = f(X[..., None].astype("float32"), MASK.astype("float32"))
    assert got.dtype == np.float32
    expected, _ = np_gru(X, p, np.repeat(p["hid_init"], B, axis=0), MASK)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_bad_options():
    l_in = InputLayer((B, None, F))
    with pytest.raises(ValueError, match="Gradient steps must be -1"):
        GRULayer(InputLayer((B, T, F)), N, unroll_scan=True,
                 gradient_steps=2)
    with pytest.raises(ValueError, match="cannot be specified as None"):
        GRULayer(l_in, N, unroll_scan=True)
    assert GRULayer(l_in, N).output_shape == (B, None, N)
