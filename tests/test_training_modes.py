"""Mode handling of indrnn.run.functions: no duplicated matmuls in C mode.

PyTensor's ``local_dot22_to_dot22scalar`` rewrite folds Adam's
``(1 - beta1) * g`` into the weight-gradient product while ``g ** 2`` still
needs the plain product, so in ``mode="CVM"`` every weight gradient was
computed twice. ``compile_train_fn`` / ``compile_test_fn`` exclude that
rewrite under the C linker; these tests count the products of the compiled
graphs and check the training step against the default (Numba) mode.
"""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import get_mode

import indrnn.lasagne as lasagne
from indrnn.lasagne.layers import (DenseLayer, InputLayer,
                                   get_all_param_values, get_all_params,
                                   get_output, set_all_param_values)
from indrnn.compile import c_linker_mode
from indrnn.run.functions import compile_test_fn, compile_train_fn

#: Op class names of PyTensor's matrix products (blas and plain).
MATMUL_OPS = ("Dot22", "Dot22Scalar", "Gemm", "Gemv", "Ger", "Dot")


def _n_matmuls(fn):
    names = (type(node.op).__name__ for node in fn.maker.fgraph.apply_nodes)
    return sum(name in MATMUL_OPS for name in names)


def _network(seed=0):
    """Two Dense layers on a matrix input, float64, fixed weights."""
    with pytensor.config.change_flags(floatX="float64"):
        old = lasagne.random.get_rng()
        lasagne.random.set_rng(np.random.RandomState(seed))
        try:
            l_in = InputLayer((None, 5))
            l1 = DenseLayer(l_in, 7)
            net = DenseLayer(l1, 3, nonlinearity=None)
        finally:
            lasagne.random.set_rng(old)
        x = pt.matrix("x", dtype="float64")
        y = pt.matrix("y", dtype="float64")
        loss = ((get_output(net, x) - y) ** 2).mean()
    return net, x, y, loss


@pytest.fixture(scope="module")
def cvm_functions():
    net, x, y, loss = _network()
    params = get_all_params(net, trainable=True)
    train_fn = compile_train_fn([x, y], loss, params, mode="CVM")
    grads = pytensor.grad(loss, params)
    grads_fn = pytensor.function([x, y], [loss] + grads, mode="CVM")
    return net, x, y, loss, train_fn, grads_fn


def test_no_duplicated_weight_gradient_products(cvm_functions):
    _, _, _, _, train_fn, grads_fn = cvm_functions
    n_grads = _n_matmuls(grads_fn)
    # forward: 2 products; gradients: 2 weight gradients + 1 input
    # gradient of the second layer
    assert n_grads >= 5
    assert _n_matmuls(train_fn) == n_grads
    names = [type(n.op).__name__ for n in train_fn.maker.fgraph.apply_nodes]
    assert "Dot22Scalar" not in names


def test_cvm_step_matches_default_mode(cvm_functions):
    net, x, y, loss, train_fn, _ = cvm_functions
    rng = np.random.default_rng(1)
    xv = rng.normal(size=(4, 5))
    yv = rng.normal(size=(4, 3))
    start = get_all_param_values(net)
    losses_cvm = [float(train_fn(xv, yv, 0.01)[0]) for _ in range(3)]
    after_cvm = get_all_param_values(net)

    set_all_param_values(net, start)
    # Adam's state lives in the first function's shared variables, so the
    # reference gets its own fresh updates
    ref_fn = compile_train_fn([x, y], loss, get_all_params(net, trainable=True))
    losses_ref = [float(ref_fn(xv, yv, 0.01)[0]) for _ in range(3)]
    after_ref = get_all_param_values(net)
    np.testing.assert_allclose(losses_cvm, losses_ref, rtol=1e-12)
    for a, b in zip(after_cvm, after_ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_compile_test_fn_in_cvm():
    a = pt.matrix("a", dtype="float64")
    b = pt.matrix("b", dtype="float64")
    expr = 0.5 * pt.dot(a, b)
    fn = compile_test_fn([a, b], [expr, pt.dot(a, b).sum()], mode="CVM")
    av = np.arange(6.0).reshape(2, 3)
    bv = np.arange(12.0).reshape(3, 4)
    out, total = fn(av, bv)
    np.testing.assert_allclose(out, 0.5 * av @ bv, rtol=1e-14)
    np.testing.assert_allclose(total, (av @ bv).sum(), rtol=1e-14)
    assert _n_matmuls(fn) == 1


@pytest.mark.parametrize("mode", [None, "NUMBA", "FAST_COMPILE", "JAX"])
def test_other_modes_unchanged(mode):
    assert c_linker_mode(mode) is mode


def test_c_modes_exclude_the_rewrite():
    for mode in ("CVM", get_mode("CVM"), pytensor.compile.mode.Mode(
            linker="c", optimizer="fast_run")):
        new = c_linker_mode(mode)
        assert new is not mode
        assert "local_dot22_to_dot22scalar" in new.provided_optimizer.exclude
