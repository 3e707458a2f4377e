"""Tests of the fused batch normalisation Ops (indrnn.ops.batchnorm) in
every backend.

Truth is (a) the symbolic graph :class:`BatchNormLayer` builds (``mean``,
``1 / sqrt(var + epsilon)``, ``(x - mean) * (gamma * inv_std) + beta``)
with PyTensor's own gradient, compiled with the Python linker, and (b)
finite differences (``verify_grad``).  One compiled function per backend
covers the outputs and the gradients with and without cotangents of the
statistics.
"""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import NullTypeGradError, verify_grad

from indrnn.link import JAX_REGISTERED
from indrnn.ops import BatchNormTrain, batch_norm_train

SHAPE = (5, 3, 4)
EPS = 1e-4
PY_MODE = pytensor.compile.mode.Mode(linker="py", optimizer="fast_compile")
BACKENDS = [None, "CVM", "JAX"]
IDS = ["numba", "cvm", "jax"]


def _data(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return dict(x=(rng.normal(size=SHAPE) * 3 + 1).astype(dtype),
                gamma=rng.uniform(0.5, 2, SHAPE[-1]).astype(dtype),
                beta=rng.normal(size=SHAPE[-1]).astype(dtype),
                w=rng.normal(size=SHAPE).astype(dtype),
                wm=rng.normal(size=SHAPE[-1]).astype(dtype),
                ws=rng.normal(size=SHAPE[-1]).astype(dtype))


def _outputs(dtype, fused):
    """Outputs and gradients of a cost on ``y`` only and of one on ``y``,
    ``mean`` and ``inv_std``, by the fused Op or the symbolic graph."""
    v = {k: (pt.tensor3(k, dtype=dtype) if k in ("x", "w")
             else pt.vector(k, dtype=dtype))
         for k in ("x", "gamma", "beta", "w", "wm", "ws")}
    x = v["x"]
    if fused:
        y, mean, inv_std = batch_norm_train(x, v["gamma"], v["beta"], EPS)
    else:
        mean = x.mean((0, 1))
        inv_std = pt.reciprocal(pt.sqrt(x.var((0, 1)) + EPS))
        y = (x - mean) * (v["gamma"] * inv_std) + v["beta"]
    wrt = [x, v["gamma"], v["beta"]]
    cost_y = (y * v["w"]).sum()
    cost_all = cost_y + (mean * v["wm"]).sum() + (inv_std * v["ws"]).sum()
    outs = ([y, mean, inv_std] + pytensor.grad(cost_y, wrt)
            + pytensor.grad(cost_all, wrt))
    return [v[k] for k in ("x", "gamma", "beta", "w", "wm", "ws")], outs


@pytest.fixture(scope="module")
def reference():
    """Symbolic results with the Python linker, float64 and float32."""
    ref = {}
    with pytensor.config.change_flags(cxx=""):
        for dtype in ("float64", "float32"):
            inputs, outs = _outputs(dtype, fused=False)
            fn = pytensor.function(inputs, outs, mode=PY_MODE)
            d = _data(dtype)
            ref[dtype] = fn(*[d[k] for k in ("x", "gamma", "beta", "w",
                                             "wm", "ws")])
    return ref


def _check(mode, dtype, reference):
    inputs, outs = _outputs(dtype, fused=True)
    fn = pytensor.function(inputs, outs, mode=mode)
    nodes = fn.maker.fgraph.toposort()
    assert any(isinstance(n.op, BatchNormTrain) for n in nodes)
    d = _data(dtype)
    got = fn(*[d[k] for k in ("x", "gamma", "beta", "w", "wm", "ws")])
    # float32: the sums accumulate in float64 on both sides, so the
    # differences are a few float32 ulps of the largest terms
    tol = (dict(rtol=1e-12, atol=1e-12) if dtype == "float64"
           else dict(rtol=2e-6, atol=2e-6))
    for i, (g, r) in enumerate(zip(got, reference[dtype])):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, r, err_msg="output %d" % i, **tol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_perform_matches_symbolic(dtype, reference):
    with pytensor.config.change_flags(cxx=""):
        _check(PY_MODE, dtype, reference)


@pytest.fixture
def jax_x64():
    """Enable float64 in JAX for the test (floatX is float32 here)."""
    import jax
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", BACKENDS, ids=IDS)
def test_backend_matches_symbolic(mode, dtype, reference, jax_x64):
    assert JAX_REGISTERED
    _check(mode, dtype, reference)


@pytest.mark.parametrize("mode", [PY_MODE] + BACKENDS,
                         ids=["perform"] + IDS)
@pytest.mark.parametrize("stats", [False, True], ids=["y", "y+stats"])
def test_verify_grad(mode, stats, jax_x64):
    d = _data("float64", seed=1)

    def fun(x, gamma, beta):
        y, mean, inv_std = batch_norm_train(x, gamma, beta, EPS)
        if stats:
            return pt.concatenate([y.ravel(), mean, inv_std])
        return y

    with pytensor.config.change_flags(cxx="" if mode is PY_MODE else
                                      pytensor.config.cxx):
        verify_grad(fun, [d["x"], d["gamma"], d["beta"]],
                    rng=np.random.default_rng(1), mode=mode)


def test_non_contiguous_input_and_2d():
    rng = np.random.default_rng(2)
    xt = rng.normal(size=(4, 6, 3))
    x = pt.tensor3("x", dtype="float64")
    # a transposed (non-contiguous) input, as from a dimshuffle
    xs = x.dimshuffle(1, 0, 2)
    y, mean, inv_std = batch_norm_train(xs, np.ones(3), np.zeros(3), EPS)
    dx = pytensor.grad((y * pt.arange(3)).sum(), x)
    for mode in (None, "CVM"):
        fn = pytensor.function([x], [y, mean, dx], mode=mode)
        got_y, got_m, got_dx = fn(xt)
        ref = xt.transpose(1, 0, 2)
        np.testing.assert_allclose(got_m, ref.mean((0, 1)), rtol=1e-12)
        np.testing.assert_allclose(
            got_y, (ref - ref.mean((0, 1))) / np.sqrt(ref.var((0, 1)) + EPS),
            rtol=1e-10)
        assert got_dx.shape == xt.shape
    x2 = pt.matrix("x2", dtype="float64")
    y2, _, _ = batch_norm_train(x2, np.ones(2), np.zeros(2), 0.0)
    np.testing.assert_allclose(
        pytensor.function([x2], y2)(np.array([[1.0, 2.0], [3.0, 6.0]])),
        [[-1, -1], [1, 1]], rtol=1e-12)


def test_second_order_is_a_clear_error():
    x = pt.matrix("x")
    y, _, _ = batch_norm_train(x, np.ones(2), np.zeros(2))
    dx = pytensor.grad((y ** 3).sum(), x)
    with pytest.raises(NullTypeGradError):
        pytensor.grad(dx.sum(), x)


@pytest.mark.parametrize("mode", [None, "CVM"], ids=["numba", "cvm"])
def test_shape_mismatch_raises(mode):
    x, g = pt.matrix("x"), pt.vector("g")
    y, _, _ = batch_norm_train(x, g, g)
    fn = pytensor.function([x, g], y, mode=mode)
    with pytest.raises(ValueError):
        fn(np.ones((3, 2), dtype=x.dtype), np.ones(3, dtype=x.dtype))
