"""Tests for indrnn.lasagne.updates against independent numpy
implementations of the published update rules."""
from collections import OrderedDict

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.lasagne import updates as upd

MODE = "FAST_COMPILE"
N_STEPS = 3

RNG = np.random.RandomState(42)
W0 = RNG.randn(3, 2)
B0 = RNG.randn(2)
# Quadratic loss 0.5 * sum(C * p**2) + sum(D * p) per parameter: its gradient
# C * p + D changes from step to step, so the state of each rule matters.
CW, DW = RNG.uniform(0.5, 2.0, size=(3, 2)), RNG.randn(3, 2)
CB, DB = RNG.uniform(0.5, 2.0, size=2), RNG.randn(2)


def _loss(w, b):
    return (0.5 * pt.sum(CW * w ** 2) + pt.sum(DW * w) +
            0.5 * pt.sum(CB * b ** 2) + pt.sum(DB * b))


def _np_grads(ps):
    return [CW * ps[0] + DW, CB * ps[1] + DB]


# ---- numpy references: each step(params, grads, state, t) -> params ----

def np_sgd(lr):
    def step(ps, gs, st, t):
        return [p - lr * g for p, g in zip(ps, gs)]
    return step


def np_momentum(lr, mom, nesterov=False):
    def step(ps, gs, st, t):
        out = []
        for i, (p, g) in enumerate(zip(ps, gs)):
            v = mom * st.get(i, 0.0) - lr * g
            st[i] = v
            out.append(p + mom * v - lr * g if nesterov else p + v)
        return out
    return step


def np_adagrad(lr, eps):
    def step(ps, gs, st, t):
        out = []
        for i, (p, g) in enumerate(zip(ps, gs)):
            st[i] = st.get(i, 0.0) + g ** 2
            out.append(p - lr * g / np.sqrt(st[i] + eps))
        return out
    return step


def np_rmsprop(lr, rho, eps):
    def step(ps, gs, st, t):
        out = []
        for i, (p, g) in enumerate(zip(ps, gs)):
            st[i] = rho * st.get(i, 0.0) + (1 - rho) * g ** 2
            out.append(p - lr * g / np.sqrt(st[i] + eps))
        return out
    return step


def np_adadelta(lr, rho, eps):
    def step(ps, gs, st, t):
        out = []
        for i, (p, g) in enumerate(zip(ps, gs)):
            r, s = st.get(i, (0.0, 0.0))
            r = rho * r + (1 - rho) * g ** 2
            dx = np.sqrt(s + eps) / np.sqrt(r + eps) * g
            s = rho * s + (1 - rho) * dx ** 2
            st[i] = (r, s)
            out.append(p - lr * dx)
        return out
    return step


def np_adam(lr, b1, b2, eps, variant="adam"):
    def step(ps, gs, st, t):
        out = []
        for i, (p, g) in enumerate(zip(ps, gs)):
            m, v, vmax = st.get(i, (0.0, 0.0, 0.0))
            m = b1 * m + (1 - b1) * g
            if variant == "adamax":
                v = np.maximum(b2 * v, np.abs(g))
                p = p - lr / (1 - b1 ** t) * m / (v + eps)
            else:
                v = b2 * v + (1 - b2) * g ** 2
                vmax = np.maximum(vmax, v)
                denom = np.sqrt(vmax if variant == "amsgrad" else v)
                a_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
                p = p - a_t * m / (denom + eps)
            st[i] = (m, v, vmax)
            out.append(p)
        return out
    return step


CASES = [
    ("sgd", lambda l, p: upd.sgd(l, p, 0.1), np_sgd(0.1)),
    ("momentum", lambda l, p: upd.momentum(l, p, 0.1, momentum=0.8),
     np_momentum(0.1, 0.8)),
    ("momentum_default", lambda l, p: upd.momentum(l, p, 0.05),
     np_momentum(0.05, 0.9)),
    ("nesterov", lambda l, p: upd.nesterov_momentum(l, p, 0.1, momentum=0.7),
     np_momentum(0.1, 0.7, nesterov=True)),
    ("nesterov_default", lambda l, p: upd.nesterov_momentum(l, p, 0.05),
     np_momentum(0.05, 0.9, nesterov=True)),
    ("adagrad", lambda l, p: upd.adagrad(l, p, 0.5, epsilon=1e-3),
     np_adagrad(0.5, 1e-3)),
    ("adagrad_default", lambda l, p: upd.adagrad(l, p), np_adagrad(1.0, 1e-6)),
    ("rmsprop", lambda l, p: upd.rmsprop(l, p, 0.01, rho=0.8, epsilon=1e-4),
     np_rmsprop(0.01, 0.8, 1e-4)),
    ("rmsprop_default", lambda l, p: upd.rmsprop(l, p),
     np_rmsprop(1.0, 0.9, 1e-6)),
    ("adadelta", lambda l, p: upd.adadelta(l, p, 0.5, rho=0.8, epsilon=1e-3),
     np_adadelta(0.5, 0.8, 1e-3)),
    ("adadelta_default", lambda l, p: upd.adadelta(l, p),
     np_adadelta(1.0, 0.95, 1e-6)),
    ("adam", lambda l, p: upd.adam(l, p, 0.01),
     np_adam(0.01, 0.9, 0.999, 1e-8)),
    ("adam_default", lambda l, p: upd.adam(l, p),
     np_adam(0.001, 0.9, 0.999, 1e-8)),
    ("adam_custom", lambda l, p: upd.adam(l, p, 0.3, 0.5, 0.6, 1e-2),
     np_adam(0.3, 0.5, 0.6, 1e-2)),
    ("adamax", lambda l, p: upd.adamax(l, p, 0.3, 0.5, 0.6, 1e-2),
     np_adam(0.3, 0.5, 0.6, 1e-2, "adamax")),
    ("adamax_default", lambda l, p: upd.adamax(l, p),
     np_adam(0.002, 0.9, 0.999, 1e-8, "adamax")),
    # a small beta2 and a large step make v_t shrink, so the running max of
    # AMSGrad differs from Adam
    ("amsgrad", lambda l, p: upd.amsgrad(l, p, 0.5, 0.5, 0.3, 1e-2),
     np_adam(0.5, 0.5, 0.3, 1e-2, "amsgrad")),
    ("amsgrad_default", lambda l, p: upd.amsgrad(l, p),
     np_adam(0.001, 0.9, 0.999, 1e-8, "amsgrad")),
]


@pytest.mark.parametrize("name, rule, reference", CASES,
                         ids=[c[0] for c in CASES])
def test_rule_matches_numpy(name, rule, reference):
    w = pytensor.shared(W0.copy(), name="w")
    b = pytensor.shared(B0.copy(), name="b")
    updates = rule(_loss(w, b), [w, b])
    assert isinstance(updates, OrderedDict)
    f = pytensor.function([], [], updates=updates, mode=MODE)

    ps, state = [W0.copy(), B0.copy()], {}
    for t in range(1, N_STEPS + 1):
        ps = reference(ps, _np_grads(ps), state, t)
        f()
        msg = "%s step %d" % (name, t)
        np.testing.assert_allclose(w.get_value(), ps[0], rtol=1e-10,
                                   atol=1e-12, err_msg=msg)
        np.testing.assert_allclose(b.get_value(), ps[1], rtol=1e-10,
                                   atol=1e-12, err_msg=msg)
    # the parameters really moved
    assert not np.allclose(w.get_value(), W0)


def test_amsgrad_differs_from_adam():
    # guards the amsgrad case above: its setting does exercise the max
    ps_a, ps_b, st_a, st_b = [W0, B0], [W0, B0], {}, {}
    adam_ref = np_adam(0.5, 0.5, 0.3, 1e-2)
    ams_ref = np_adam(0.5, 0.5, 0.3, 1e-2, "amsgrad")
    for t in range(1, N_STEPS + 1):
        ps_a = adam_ref(ps_a, _np_grads(ps_a), st_a, t)
        ps_b = ams_ref(ps_b, _np_grads(ps_b), st_b, t)
    assert not np.allclose(ps_a[0], ps_b[0])


def test_adam_update_structure():
    w = pytensor.shared(W0.copy())
    b = pytensor.shared(B0.copy())
    updates = upd.adam(_loss(w, b), [w, b])
    keys = list(updates)
    # per param: m, v, param; then the time step
    assert len(keys) == 7
    assert keys[2] is w and keys[5] is b
    t_prev = keys[-1]
    assert t_prev.get_value() == 0 and t_prev.dtype == pytensor.config.floatX
    f = pytensor.function([], [], updates=updates, mode=MODE)
    f()
    f()
    assert t_prev.get_value() == 2
    for k in keys[:-1]:
        assert k.get_value().shape in (W0.shape, B0.shape)


def test_given_gradients_are_used():
    w = pytensor.shared(np.zeros(2))
    g = pt.as_tensor(np.array([1.0, -2.0]))
    updates = upd.sgd([g], [w], 0.5)
    np.testing.assert_allclose(updates[w].eval(), [-0.5, 1.0])


def test_get_or_compute_grads_errors():
    w = pytensor.shared(np.zeros(2))
    with pytest.raises(ValueError):
        upd.get_or_compute_grads(pt.sum(w), [w, 2 * w])
    with pytest.raises(ValueError):
        upd.get_or_compute_grads([pt.zeros(2)], [w, w])
    grads = [pt.ones(2)]
    assert upd.get_or_compute_grads(grads, [w]) is grads


def test_symbolic_hyperparameters():
    # The original scripts pass the learning rate as a symbolic scalar.
    w = pytensor.shared(W0.copy())
    b = pytensor.shared(B0.copy())
    lr = pt.scalar("lr", dtype="float64")
    f = pytensor.function([lr], [], updates=upd.adam(_loss(w, b), [w, b],
                                                     learning_rate=lr),
                          mode=MODE)
    ps, st = [W0.copy(), B0.copy()], {}
    for t, lr_val in enumerate([0.1, 0.02], start=1):
        ps = np_adam(lr_val, 0.9, 0.999, 1e-8)(ps, _np_grads(ps), st, t)
        f(lr_val)
    np.testing.assert_allclose(w.get_value(), ps[0], rtol=1e-10)
    np.testing.assert_allclose(b.get_value(), ps[1], rtol=1e-10)


ALL_RULES = [
    lambda l, p: upd.sgd(l, p, 0.01),
    lambda l, p: upd.momentum(l, p, 0.01),
    lambda l, p: upd.nesterov_momentum(l, p, 0.01),
    lambda l, p: upd.adagrad(l, p, 0.01),
    lambda l, p: upd.rmsprop(l, p, 0.01),
    lambda l, p: upd.adadelta(l, p),
    lambda l, p: upd.adam(l, p, 0.01),
    lambda l, p: upd.adamax(l, p),
    lambda l, p: upd.amsgrad(l, p),
]


@pytest.mark.parametrize("floatx", ["float64", "float32"])
def test_float32_params_stay_float32(floatx):
    # Legacy Theano ran with floatX=float32. Python-float hyper-parameters
    # and a float64 symbolic learning rate must not upcast the updates,
    # whatever pytensor.config.floatX is.
    with pytensor.config.change_flags(floatX=floatx):
        w = pytensor.shared(W0.astype("float32"))
        b = pytensor.shared(B0.astype("float32"))
        loss = _loss(w, b)
        for rule in ALL_RULES:
            for var, expr in rule(loss, [w, b]).items():
                assert expr.dtype == var.dtype
                if var is w or var is b:
                    assert expr.dtype == "float32"
        lr = pt.scalar("lr", dtype="float64")
        updates = upd.adam(loss, [w, b], learning_rate=lr)
        assert all(e.dtype == v.dtype for v, e in updates.items())
        # the time step is a floatX scalar, as in Lasagne
        assert list(updates)[-1].dtype == floatx


@pytest.mark.parametrize("floatx", ["float64", "float32"])
def test_float32_adam_matches_float32_numpy(floatx):
    w = pytensor.shared(W0.astype("float32"))
    b = pytensor.shared(B0.astype("float32"))
    with pytensor.config.change_flags(floatX=floatx):
        updates = upd.adam(_loss(w, b), [w, b], 0.01)
        f = pytensor.function([], [], updates=updates, mode=MODE)
    f32 = np.float32
    ps, st = [W0.astype("float32"), B0.astype("float32")], {}
    for t in range(1, 3):
        gs = [(CW * ps[0] + DW).astype("float32"),
              (CB * ps[1] + DB).astype("float32")]
        ps = np_adam(f32(0.01), f32(0.9), f32(0.999), f32(1e-8))(
            ps, gs, st, f32(t))
        f()
    assert w.get_value().dtype == np.float32
    np.testing.assert_allclose(w.get_value(), ps[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.get_value(), ps[1], rtol=1e-5, atol=1e-6)


def test_broadcastable_params_keep_their_pattern():
    # e.g. a (1, units) hid_init parameter that is broadcast over the batch
    h = pytensor.shared(np.ones((1, 3)), shape=(1, None))
    x = pt.matrix("x", dtype="float64")
    loss = pt.sum((x + h) ** 2)
    for rule in ALL_RULES:
        updates = rule(loss, [h])
        for var, expr in updates.items():
            assert expr.broadcastable == var.broadcastable
    f = pytensor.function([x], [], updates=upd.adam(loss, [h], 0.1),
                          mode=MODE)
    f(np.zeros((4, 3)))
    assert h.get_value().shape == (1, 3)
    np.testing.assert_allclose(h.get_value(), 0.9)


def test_norm_constraint():
    rng = np.random.RandomState(1)
    w2 = rng.randn(4, 5)
    w4 = rng.randn(3, 2, 2, 2)
    w1 = rng.randn(6)
    max_norm = 1.5

    def ref(a, axes, eps=1e-7):
        norms = np.sqrt((a ** 2).sum(axis=axes, keepdims=True))
        return a * (np.clip(norms, 0, max_norm) / (eps + norms))

    out2 = upd.norm_constraint(pt.as_tensor(w2), max_norm).eval()
    np.testing.assert_allclose(out2, ref(w2, (0,)))
    # the columns that were short are (almost) unchanged, the long ones have
    # exactly max_norm
    norms = np.sqrt((out2 ** 2).sum(axis=0))
    assert np.all(norms <= max_norm + 1e-6)
    assert np.any(np.abs(norms - max_norm) < 1e-6)
    out4 = upd.norm_constraint(pt.as_tensor(w4), max_norm).eval()
    np.testing.assert_allclose(out4, ref(w4, (1, 2, 3)))
    out = upd.norm_constraint(pt.as_tensor(w2), max_norm, norm_axes=(1,),
                              epsilon=1e-3).eval()
    np.testing.assert_allclose(out, ref(w2, (1,), 1e-3))
    out = upd.norm_constraint(pt.as_tensor(w1), max_norm,
                              norm_axes=[0]).eval()
    np.testing.assert_allclose(out, ref(w1, (0,)))
    with pytest.raises(ValueError):
        upd.norm_constraint(pt.as_tensor(w1), max_norm)
    with pytensor.config.change_flags(floatX="float64"):
        assert upd.norm_constraint(pt.matrix(dtype="float32"),
                                   1.0).dtype == "float32"


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_total_norm_constraint(max_norm):
    rng = np.random.RandomState(2)
    arrays = [rng.randn(3, 4), rng.randn(5)]
    scaled, norm = upd.total_norm_constraint(
        [pt.as_tensor(a) for a in arrays], max_norm, return_norm=True)
    total = np.sqrt(sum((a ** 2).sum() for a in arrays))
    mult = min(total, max_norm) / (1e-7 + total)
    np.testing.assert_allclose(norm.eval(), total)
    for s, a in zip(scaled, arrays):
        np.testing.assert_allclose(s.eval(), a * mult)
    only = upd.total_norm_constraint([pt.as_tensor(a) for a in arrays],
                                     max_norm)
    assert isinstance(only, list) and len(only) == 2
    with pytensor.config.change_flags(floatX="float64"):
        f32 = upd.total_norm_constraint([pt.matrix(dtype="float32")], 1.0)
    assert f32[0].dtype == "float32"


FIXTURES = __import__("pathlib").Path(__file__).resolve().parents[1] / \
    "legacy_fixtures"
FIXTURE_CASES = sorted(p.name[:-len(".json")]
                       for p in FIXTURES.glob("*.json"))


@pytest.mark.parametrize("case", FIXTURE_CASES)
def test_adam_step_matches_legacy_theano(case):
    # One Adam step of the original training loop, run by real Theano +
    # Lasagne in float32 (tests/legacy_fixtures/README.md): from the
    # clipped parameters and the gradients Theano computed there, our adam
    # must give Theano's parameters after the step.
    import json
    meta = json.loads((FIXTURES / (case + ".json")).read_text())
    data = np.load(FIXTURES / (case + ".npz"))
    idx = meta["trainable_indices"]
    params = [pytensor.shared(data["clipped_arr_%d" % i].astype("float32"))
              for i in idx]
    grads = [pt.as_tensor(data["step_grad_arr_%d" % i].astype("float32"))
             for i in idx]
    # the scripts feed the learning rate as a floatX (float32) scalar
    lr = pt.scalar("lr", dtype="float32")
    hyper = meta["adam"]
    updates = upd.adam(grads, params, learning_rate=lr, beta1=hyper["beta1"],
                       beta2=hyper["beta2"], epsilon=hyper["epsilon"])
    pytensor.function([lr], [], updates=updates, mode=MODE)(
        np.float32(meta["learning_rate"]))
    # Gradients that are 0 in theory (a Dense bias feeding a BatchNorm) are
    # float noise, different in the fixture's gradient function and in its
    # training function; Adam moves such elements by about +-lr, so only
    # require that there (README: recommended tolerances).
    big = max(np.abs(data["step_grad_arr_%d" % i]).max() for i in idx)
    for i, p in zip(idx, params):
        got = p.get_value()
        if (meta.get("clip_hidden_to_hidden_W_after_step") and
                meta["params"][i]["name"] == "hidden_to_hidden.W"):
            # the action script clips U after the step, as its loop does
            got = np.clip(got, -meta["U_bound"], meta["U_bound"])
        ref = data["after_step_arr_%d" % i]
        real = np.abs(data["step_grad_arr_%d" % i]) > 1e-6 * big
        assert got.dtype == np.float32
        np.testing.assert_allclose(got[real], ref[real], rtol=1e-5, atol=1e-6,
                                   err_msg="%s arr_%d" % (case, i))
        assert np.all(np.abs(got - ref)[~real] <=
                      2 * meta["learning_rate"] + 1e-7)
    assert sum(int(np.sum(np.abs(data["step_grad_arr_%d" % i]) > 1e-6 * big))
               for i in idx) > 0
