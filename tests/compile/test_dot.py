"""indrnn.compile.dot: matrix products split by rows over threads.

What the module promises (its docstring): the same bits on every call, and
numpy's unsplit product to round-off, for every layout and shape it takes
or declines. Bit-identity with the unsplit product holds on the machines
measured but OpenBLAS does not promise it, so it is printed by
``benchmarks/split_products.py``, not asserted; products it declines are
numpy's own call and so numpy's bits.
"""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.compile.dot import (MIN_ROWS, MIN_SPLIT_WORK, dot_function,
                                dot_threads)


def _node(dtype="float64"):
    a, b = pt.matrix("a", dtype=dtype), pt.matrix("b", dtype=dtype)
    return pt.dot(a, b).owner


def assert_round_off(got, expected):
    """``got`` equals ``expected`` to the round-off of a sum of 128..4096
    products: a few of the float's epsilon times the largest magnitude."""
    scale = np.finfo(expected.dtype).eps * max(np.abs(expected).max(), 1)
    np.testing.assert_allclose(got, expected, rtol=0, atol=64 * scale)


def test_threads_from_environment():
    assert dot_threads({"OPENBLAS_NUM_THREADS": "1"}, cpus=2) == 2
    assert dot_threads({"OMP_NUM_THREADS": "1"}, cpus=64) == 4
    assert dot_threads({"OPENBLAS_NUM_THREADS": "2"}, cpus=2) == 1
    assert dot_threads({}, cpus=2) == 1  # BLAS threads its own products
    assert dot_threads({"INDRNN_DOT_THREADS": "3"}, cpus=2) == 3
    for bad in ("0", "-1", "two", ""):
        with pytest.raises(ValueError, match="INDRNN_DOT_THREADS"):
            dot_threads({"INDRNN_DOT_THREADS": bad}, cpus=2)


@pytest.mark.parametrize("threads", [2, 3, 4])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_split_product_is_numpys_and_repeats_its_bits(threads, dtype):
    rng = np.random.default_rng(threads)
    func = dot_function(_node(dtype), threads=threads)
    assert func is not None
    # rows not divisible by the parts; a transposed right operand (the
    # input gradient's W.T)
    a = rng.normal(size=(3001, 128)).astype(dtype)
    w = rng.normal(size=(128, 96)).astype(dtype)
    assert a.shape[0] * 128 * 96 >= MIN_SPLIT_WORK
    for b in (w, np.ascontiguousarray(w.T).T, w[:, ::2]):
        got = func(a, b)
        assert got.dtype == np.dtype(dtype) and got.flags.c_contiguous
        assert_round_off(got, np.matmul(a, b))
        for _ in range(3):
            np.testing.assert_array_equal(func(a, b), got)


def test_products_it_does_not_split_are_numpys():
    rng = np.random.default_rng(0)
    func = dot_function(_node(), threads=2)
    cases = [
        # a transposed left operand (weight gradients): strided row blocks
        (rng.normal(size=(4000, 128)).T, rng.normal(size=(4000, 64))),
        # too little work, too few rows
        (rng.normal(size=(100, 8)), rng.normal(size=(8, 8))),
        (rng.normal(size=(2 * MIN_ROWS - 1, 4096)),
         rng.normal(size=(4096, 256))),
        # empty
        (np.zeros((0, 5)), np.zeros((5, 3))),
    ]
    for a, b in cases:
        np.testing.assert_array_equal(func(a, b), np.matmul(a, b))


def test_declines_other_nodes():
    assert dot_function(_node(), threads=1) is None
    a = pt.matrix("a")
    assert dot_function(pt.dot(a, pt.vector("v")).owner, threads=2) is None
    assert dot_function(pt.exp(a).owner, threads=2) is None
    i = pt.matrix("i", dtype="int64")
    assert dot_function(pt.dot(i, i).owner, threads=2) is None


def test_errors_reach_the_caller():
    func = dot_function(_node(), threads=2)
    with pytest.raises(ValueError):
        func(np.ones((4096, 64)), np.ones((32, 64)))


def test_in_a_compiled_function(monkeypatch):
    """The linker uses the split for a large product; the results equal
    PyTensor's linker to round-off, gradients included (its products call
    BLAS through Numba, whose rounding of ``x.T @ dY`` differs on some
    CPUs), and repeat their bits call after call."""
    monkeypatch.setenv("INDRNN_DOT_THREADS", "2")
    x = pt.matrix("x", dtype="float32")
    w = pt.matrix("w", dtype="float32")
    cost = pt.tanh(x @ w).sum()
    outputs = [x @ w, *pytensor.grad(cost, [x, w])]
    ours = pytensor.function([x, w], outputs, mode="INDRNN")
    theirs = pytensor.function([x, w], outputs, mode="NUMBA")
    code = ours.vm.jit_fn
    used = {getattr(code.__globals__.get(name), "__name__", "")
            for name in code.__code__.co_names}
    assert "split_matmul" in used
    rng = np.random.default_rng(5)
    values = [rng.normal(size=(1024, 128)).astype("float32"),
              rng.normal(size=(128, 128)).astype("float32")]
    first = ours(*values)
    for mine, ref in zip(first, theirs(*values), strict=True):
        assert_round_off(mine, ref)
    for again, mine in zip(ours(*values), first, strict=True):
        np.testing.assert_array_equal(again, mine)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded")
def test_forked_child_gets_a_pool_of_its_own():
    """After a split product in the parent, a forked child's split product
    must not wait for the parent's pool threads (which it does not have)."""
    import os
    import signal
    func = dot_function(_node(), threads=2)
    a, b = np.ones((4096, 64)), np.ones((64, 64))
    func(a, b)  # the parent's pool exists now
    pid = os.fork()
    if pid == 0:  # child
        signal.alarm(20)  # a deadlock ends the child instead of the test
        ok = bool((func(a, b) == 64).all())
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status


def _background_graph():
    x = pt.matrix("x", dtype="float64")
    y = pt.matrix("y", dtype="float64")
    z = pt.exp(y)  # an intermediate the graph may write over
    grad_w = pt.dot(x.T, z)  # a transposed left operand: background
    changed = pt.inc_subtensor(z[-1], 1.0)  # in place on z (read last)
    return [x, y], [grad_w, changed.sum(axis=0), pt.dot(z, x.T[:, :5])]


def test_background_products_wait_for_writers(monkeypatch):
    """A product started on the pool thread (``X.T @ dY``) overlaps the
    nodes after it but is waited for before anything writes over its
    inputs: the results are those of the same program run without the
    pool (the same numpy calls, so the same bits), call after call, and
    PyTensor's to round-off. A product that read an input already written
    over would be off by far more (the in-place increment adds 1)."""
    from indrnn.compile.linker import runs_in_background

    monkeypatch.setenv("INDRNN_DOT_THREADS", "2")
    inputs, outputs = _background_graph()
    ours = pytensor.function(inputs, outputs, mode="INDRNN")
    theirs = pytensor.function(inputs, outputs, mode="NUMBA")
    nodes = ours.maker.fgraph.toposort()
    assert any(runs_in_background(node) for node in nodes)
    assert any(getattr(node.op, "destroy_map", None) for node in nodes
               if type(node.op).__name__ == "IncSubtensor")
    monkeypatch.setenv("INDRNN_DOT_THREADS", "1")
    alone = pytensor.function(inputs, outputs, mode="INDRNN")
    assert not any(runs_in_background(node)
                   for node in alone.maker.fgraph.toposort())
    rng = np.random.default_rng(2)
    values = [rng.normal(size=(20000, 64)), rng.normal(size=(20000, 64))]
    expected = alone(*values)
    for mine, ref in zip(expected, theirs(*values), strict=True):
        assert_round_off(mine, ref)
    for _ in range(5):
        for mine, ref in zip(ours(*values), expected, strict=True):
            np.testing.assert_array_equal(mine, ref)


def test_split_is_decided_when_the_program_is_generated(monkeypatch):
    """Whether a product is split follows from the generated program, not
    from timing: a product placed while a background product may run is
    generated unsplit, the others split (so a rerun computes the same
    blocks)."""
    from pytensor.graph.fg import FunctionGraph

    from indrnn.compile.linker import graph_function

    monkeypatch.setenv("INDRNN_DOT_THREADS", "2")
    x, y, w = (pt.matrix(name, dtype="float64") for name in "xyw")
    grad_w = pt.dot(x.T, y)  # starts on the pool thread
    during = pt.dot(y, w)  # placed before grad_w is read
    after = pt.dot(pt.exp(grad_w).sum() * x, w)  # placed after
    fgraph = FunctionGraph([x, y, w], [during, after], clone=False)
    order = fgraph.toposort()
    # the place of `during`: right after the background product
    order.remove(during.owner)
    order.insert(order.index(grad_w.owner) + 1, during.owner)
    func = graph_function(fgraph, order)
    kinds = {node: getattr(func.__globals__["node%d" % i], "__name__", "")
             for i, node in enumerate(order)}
    assert kinds[during.owner] == "perform"
    assert kinds[after.owner] == "split_matmul"
    rng = np.random.default_rng(0)
    values = [rng.normal(size=(4096, 64)), rng.normal(size=(4096, 64)),
              rng.normal(size=(64, 64)) / 64]
    first = func(*values)
    for again, mine in zip(func(*values), first, strict=True):
        np.testing.assert_array_equal(again, mine)
    assert_round_off(first[0], values[1] @ values[2])
