"""indrnn.compile.linker: the Numba linker that compiles only the nodes
that compute, and how it is selected (indrnn.compile.modes).

Checked against PyTensor's own Numba linker (the same node code, so the
same bits), against numpy, and for what a graph run from Python must
still do: free intermediates, keep scalar dtypes, name the failing node,
run Ops without Numba code through ``perform`` and reuse compiled entry
points; and for its selection by name, the switch that turns it off and
its fallback to PyTensor's linker where it fails.
"""
import doctest
import gc
import warnings
import weakref

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import get_mode
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.linker import NumbaLinker
from pytensor.tensor.elemwise import Elemwise

from indrnn.compile import (LinkerFallbackWarning, modes, project_mode,
                            use_project_linker)
from indrnn.compile import linker as node_linker
from indrnn.compile.linker import NumbaNodeLinker, runs_perform


def test_default_mode_gets_the_project_linker_and_numba_stays_pytensors():
    new = project_mode(None)
    assert type(new.linker) is NumbaNodeLinker
    assert new.provided_linker == "indrnn_numba"
    old = get_mode(None)
    assert type(old.linker) is NumbaLinker
    assert new.provided_optimizer == old.provided_optimizer
    for mode in ("NUMBA", get_mode("NUMBA").excluding("fusion"), "CVM",
                 "FAST_COMPILE", "JAX", "INDRNN"):
        assert project_mode(mode) is mode
    assert type(get_mode("INDRNN").linker) is NumbaNodeLinker
    assert (get_mode("INDRNN").provided_optimizer
            == get_mode("NUMBA").provided_optimizer)
    assert type(get_mode("NUMBA").linker) is NumbaLinker


def test_the_switch_turns_the_project_linker_off(monkeypatch):
    monkeypatch.setenv("INDRNN_LINKER", "pytensor")
    assert project_mode(None) is None
    with use_project_linker(True):
        assert type(project_mode(None).linker) is NumbaNodeLinker
        with use_project_linker(False):
            assert project_mode(None) is None
        assert type(project_mode(None).linker) is NumbaNodeLinker
    monkeypatch.setenv("INDRNN_LINKER", "Indrnn")
    assert type(project_mode(None).linker) is NumbaNodeLinker
    monkeypatch.setenv("INDRNN_LINKER", "cvm")
    with pytest.raises(ValueError, match="INDRNN_LINKER"):
        project_mode(None)


def test_matches_pytensor_numba():
    """PyTensor's NumbaLinker's outputs: bit for bit where no matrix
    product is involved (the same Numba code, ``fastmath`` off), to
    float32 round-off where one is (numpy's BLAS here, Numba's binding
    there; on an AMD EPYC machine the two round a transposed product
    differently).

    The graph has nodes that run ``perform`` here (products, reshapes,
    transposes, indexing) and nodes that run their Numba code (element-wise
    loops, the fused recurrence and its gradient, full reductions); it
    repeats nodes with one cache key and different arities (``MakeVector``
    of 2 and 3 scalars), which must not share an entry point, and has
    equal nodes (two identical products), which do.
    """
    from indrnn.ops import indrnn_recurrence

    x = pt.tensor3("x", dtype="float32")
    u = pt.vector("u", dtype="float32")
    w = pt.matrix("w", dtype="float32")
    a, b, c = (pt.scalar(name, dtype="float32") for name in "abc")
    h = indrnn_recurrence(x, u, pt.zeros((x.shape[1], x.shape[2]),
                                         dtype="float32"),
                          activation="relu")
    v2 = pt.stack([a, b])
    v3 = pt.stack([a, b, c])
    proj = h.reshape((-1, h.shape[2])) @ w
    loss = (h ** 2).sum() * v2.sum() + v3.prod() + pt.tanh(proj).sum()
    outputs = [loss, pytensor.grad(loss, u), pytensor.grad(loss, w),
               v2 * 2, v3 * 2, pt.exp(x) * u, pt.exp(x * 2) * u,
               proj.T[1:, ::2], pt.argmax(proj, axis=1)]
    rng = np.random.default_rng(1)
    values = [rng.normal(size=(4, 2, 3)).astype("float32"),
              rng.uniform(0, 1, size=3).astype("float32"),
              rng.normal(size=(3, 5)).astype("float32"),
              np.float32(0.5), np.float32(-1.5), np.float32(2.0)]
    ours = pytensor.function([x, u, w, a, b, c], outputs,
                             mode="INDRNN")
    theirs = pytensor.function([x, u, w, a, b, c], outputs, mode="NUMBA")
    kinds = {runs_perform(node.op)
             for node in ours.maker.fgraph.apply_nodes}
    assert kinds == {True, False}
    # loss, its gradients and the product's view go through a product
    through_products = {0, 1, 2, 7}
    first = None
    for _ in range(2):  # the second call runs compiled entry points
        mine_all = ours(*values)
        for i, (mine, ref) in enumerate(zip(mine_all, theirs(*values),
                                            strict=True)):
            assert mine.dtype == ref.dtype
            if i in through_products:
                np.testing.assert_allclose(mine, ref, rtol=1e-6, atol=1e-6)
            else:
                np.testing.assert_array_equal(mine, ref)
        if first is None:
            first = mine_all
        for again, before in zip(mine_all, first, strict=True):
            np.testing.assert_array_equal(again, before)  # same bits


def test_scalar_outputs_keep_their_dtype():
    """A float32 scalar between nodes stays float32 (not Python float)."""
    x = pt.vector("x", dtype="float32")
    s = pt.scalar_from_tensor(x.sum())  # a ScalarType variable
    y = pt.tensor_from_scalar(s * np.float32(1.1)) + x[0]
    fn = pytensor.function([x], [y], mode="INDRNN")
    ref = pytensor.function([x], [y], mode="NUMBA")
    value = np.array([0.1, 0.2, 0.7], dtype="float32")
    [mine], [expected] = fn(value), ref(value)
    assert mine.dtype == np.float32
    np.testing.assert_array_equal(mine, expected)


class _Spy(Op):
    """Identity on a vector that remembers its outputs (weak references)."""

    __props__ = ()

    def __init__(self):
        self.seen = []

    def make_node(self, x):
        x = pt.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        out = inputs[0] * 1.0
        self.seen.append(weakref.ref(out))
        outputs[0][0] = out


def test_ops_without_numba_code_run_perform_without_warning(recwarn):
    spy = _Spy()
    x = pt.vector("x", dtype="float64")
    y = pt.exp(spy(x)) + 1
    assert runs_perform(spy)
    fn = pytensor.function([x], y, mode="INDRNN")
    np.testing.assert_allclose(fn(np.arange(3.0)), np.exp(np.arange(3.0)) + 1)
    assert not [w for w in recwarn if "object mode" in str(w.message)]


def test_intermediates_are_freed_after_last_use():
    """An intermediate is released once no later node reads it; an output
    is returned."""
    spy = _Spy()
    x = pt.vector("x", dtype="float64")
    total = pt.exp(spy(x)).sum()  # a reduction: not computed in place
    fn = pytensor.function([x], [total, spy(x * 3)],
                           mode="INDRNN")
    spy.seen.clear()
    total_value, kept = fn(np.arange(4.0))
    gc.collect()
    assert len(spy.seen) == 2
    [freed] = [ref for ref in spy.seen if ref() is not kept]
    assert freed() is None  # spy(x): read by exp only, then freed
    np.testing.assert_allclose(total_value, np.exp(np.arange(4.0)).sum())
    np.testing.assert_allclose(kept, np.arange(4.0) * 3)


@pytest.mark.parametrize("bad", ["perform", "numba"])
def test_error_names_the_failing_node(bad):
    """The error is reported against the node that raised it (a ``perform``
    node or a Numba one), not the graph's first output."""
    x = pt.vector("x", dtype="float64")
    y = pt.vector("y", dtype="float64")
    shape = pt.lvector("shape")
    fn = pytensor.function(
        [x, y, shape],
        [x[::2], pt.exp(x.reshape(shape, ndim=2)).sum(), pt.exp(x) + y],
        mode="INDRNN")
    args = {"perform": (np.ones(4), np.ones(4), np.array([3, 2])),
            "numba": (np.ones(4), np.ones(3), np.array([2, 2]))}[bad]
    expected = {"perform": "Reshape", "numba": "Composite"}[bad]
    with pytensor.config.change_flags(exception_verbosity="high"):
        with pytest.raises(ValueError) as info:
            fn(*args)
    report = "\n".join([str(info.value)]
                       + getattr(info.value, "__notes__", []))
    [named] = [line for line in report.splitlines()
               if line.startswith("Apply node that caused the error")]
    assert expected in named and "Subtensor" not in named, named
    # the node's own inputs, not the graph's
    [shapes] = [line for line in report.splitlines()
                if line.startswith("Inputs shapes")]
    n_inputs = {"perform": 2, "numba": 2}[bad]
    assert shapes.count("(") == n_inputs, shapes


def test_entry_points_are_shared_and_cached_on_disk():
    """Equal nodes share one entry point in a process; a new process (here:
    the in-process memo emptied) loads the compiled entry from disk."""
    x = pt.matrix("x", dtype="float64")
    graph = pt.exp(x) * 3 + pt.exp(x.T) * 3

    def compile_and_run():
        fn = pytensor.function([x], graph, mode="INDRNN")
        fn(np.ones((2, 2)))
        return fn

    compile_and_run()
    node_linker._ENTRY_POINTS.clear()
    fn = compile_and_run()
    entries = [fn.vm.jit_fn.__globals__[name]
               for name in fn.vm.jit_fn.__code__.co_names
               if name.startswith("node")]
    dispatchers = {id(e): e for e in entries if hasattr(e, "stats")}
    assert dispatchers
    hits = sum(sum(d.stats.cache_hits.values())
               for d in dispatchers.values())
    misses = sum(sum(d.stats.cache_misses.values())
                 for d in dispatchers.values())
    assert hits >= 1 and misses == 0


def test_docstring_examples():
    from indrnn.compile import dot as dot_module
    from indrnn.compile import reduce as reduce_module
    for module in (node_linker, reduce_module, dot_module, modes):
        failures, tests = doctest.testmod(module, extraglobs={"np": np})
        assert tests and not failures, module.__name__


def test_training_falls_back_to_pytensor_linker(monkeypatch):
    """Where the linker cannot be imported (a PyTensor release moved what
    it builds on), or is switched off, the training functions compile with
    PyTensor's linker; the import failure says so once."""
    from indrnn.run.functions import compile_test_fn
    x = pt.vector("x", dtype="float64")
    fn = compile_test_fn([x], [pt.exp(x).sum()], cache=False)
    assert type(fn.maker.linker) is NumbaNodeLinker
    with use_project_linker(False):
        fn = compile_test_fn([x], [pt.exp(x).sum()], cache=False)
    assert type(fn.maker.linker) is NumbaLinker
    monkeypatch.setattr(modes, "NumbaNodeLinker", None)
    monkeypatch.setattr(modes, "_LINKER_IMPORT_ERROR", ImportError("moved"))
    monkeypatch.setattr(modes, "_import_warned", False)
    with pytest.warns(LinkerFallbackWarning, match="cannot be imported"):
        fn = compile_test_fn([x], [pt.exp(x).sum()], cache=False)
    assert type(fn.maker.linker) is NumbaLinker
    np.testing.assert_allclose(fn(np.arange(3.0)), [np.exp([0, 1, 2]).sum()])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once, not for every function
        compile_test_fn([x], [pt.exp(x).sum()], cache=False)


def _fallback_graph():
    """A graph with a matrix product, element-wise nodes and a sum, and
    values for it."""
    x = pt.matrix("x", dtype="float64")
    w = pt.matrix("w", dtype="float64")
    outputs = [pt.tanh(x @ w).sum(), pt.exp(x) * 2]
    rng = np.random.default_rng(0)
    values = [rng.normal(size=(5, 3)), rng.normal(size=(3, 4))]
    return [x, w], outputs, values


def test_falls_back_when_linking_fails(monkeypatch):
    """An error while the linker builds the program: the function runs on
    PyTensor's linker, with one warning, and computes what PyTensor's
    Numba mode computes, bit for bit."""
    inputs, outputs, values = _fallback_graph()

    def broken(*args, **kwargs):
        raise RuntimeError("injected\nsecond line")

    monkeypatch.setattr(node_linker, "graph_function", broken)
    with pytest.warns(LinkerFallbackWarning) as record:
        ours = pytensor.function(inputs, outputs, mode="INDRNN")
    [warning] = record
    message = str(warning.message)
    assert "while linking" in message and "RuntimeError: injected" in message
    assert "\n" not in message
    theirs = pytensor.function(inputs, outputs, mode="NUMBA")
    for mine, ref in zip(ours(*values), theirs(*values), strict=True):
        np.testing.assert_array_equal(mine, ref)
    with pytest.raises(TypeError, match="NumbaNodeLinker"):
        node_linker.graph_source(ours)


def test_falls_back_when_a_node_fails_to_compile(monkeypatch):
    """A Numba error when a node's code compiles (its first call): that
    call and the later ones run on PyTensor's linker, with one warning,
    and give PyTensor's results bit for bit."""
    from numba.core.errors import TypingError

    inputs, outputs, values = _fallback_graph()
    original = node_linker._numba_function

    def failing_exp(node):
        entry = original(node)
        if not isinstance(node.op, Elemwise):
            return entry

        def entry_that_does_not_compile(*args):
            raise TypingError("injected: cannot type the node")

        return entry_that_does_not_compile

    monkeypatch.setattr(node_linker, "_numba_function", failing_exp)
    ours = pytensor.function(inputs, outputs, mode="INDRNN")
    theirs = pytensor.function(inputs, outputs, mode="NUMBA")
    expected = theirs(*values)
    with pytest.warns(LinkerFallbackWarning, match="in a call.*TypingError"):
        first = ours(*values)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = ours(*values)
    for mine, again, ref in zip(first, second, expected, strict=True):
        np.testing.assert_array_equal(mine, ref)
        np.testing.assert_array_equal(again, ref)


@pytest.mark.parametrize("argv", [
    # one network (PyTensor's linker compiles a PTB training function in
    # about a minute, cold; with --use_residual --use_bn_afterrnn as well
    # it took 96 s). The residual and BN networks are checked against the
    # legacy fixtures and cold against warm in the default mode.
    ["--use_dropout", "--use_weightdecay_nohiddenW"],
])
def test_ptb_training_matches_pytensor_linker(argv):
    """The char-level PTB functions (embedding lookup, dropout from the
    counter-based generator, BatchNorm, the state carried between batches,
    weight decay, the U clip): three training steps give the same figures,
    states and parameters with either linker, to round-off.

    Not bit for bit: the matrix products run through numpy's BLAS here
    and through Numba's binding in PyTensor's linker, which may round
    differently (and did, on an AMD EPYC machine). The biases of
    the dense layers feeding a BatchNorm have a gradient that is zero but
    for round-off, which Adam scales up to steps of about the learning
    rate, so they (and the BatchNorm running means that follow them) are
    only checked to stay within three such steps.
    """
    from indrnn.experiments import penntree_charlevel_rernn as cptb
    from indrnn.experiments import ptb_lm
    import indrnn.lasagne as lasagne

    args = cptb.make_parser().parse_args(
        argv + ["--hidden_units", "16", "--num_layers", "3",
                "--batch_size", "4", "--seq_len", "6"])

    def run(pytensor_linker):
        lasagne.random.set_rng(np.random.RandomState(7))
        with use_project_linker(not pytensor_linker):
            fns = ptb_lm.compile_functions(cptb.SPEC, args, 1000, 11)
        linker = type(fns.train_fn.maker.linker)
        assert (linker is NumbaLinker) == pytensor_linker
        rng = np.random.default_rng(3)
        hid = fns.zero_state(4)
        lr = np.float32(2e-4)
        results = []
        for _ in range(3):
            x = rng.integers(0, 11, size=(4, 6)).astype("int32")
            y = rng.integers(0, 11, size=(4, 6)).astype("int32")
            perp, bpc, hid = fns.train_fn(x, y, hid, lr)
            results += [perp, bpc, hid]
        results += [fns.test_fn(x, y, hid)[1]]
        params = lasagne.layers.get_all_params(fns.net["out"])
        return results, [(p.name, p.get_value()) for p in params]

    (ours, our_params), (theirs, their_params) = run(False), run(True)
    for mine, ref in zip(ours, theirs, strict=True):
        assert mine.dtype == ref.dtype
        np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=1e-6)
    noise_driven = 0
    for (name, mine), (_, ref) in zip(our_params, their_params, strict=True):
        if name == "mean" or (name == "b" and mine.shape == (16,)):
            noise_driven += 1
            assert np.abs(mine - ref).max() <= 3 * 2 * 2e-4
        else:
            np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=1e-7,
                                       err_msg=name)
    assert noise_driven and noise_driven < len(our_params)


def test_indexed_increment_runs_perform_small_and_numba_large(monkeypatch):
    """``AdvancedIncSubtensor`` (an embedding gradient): ``perform`` for a
    small update, its Numba code (compiled then) for a large one; both as
    PyTensor's linker computes them, repeated indices included."""
    compiled = []
    original = node_linker._numba_function

    def counting(node):
        compiled.append(type(node.op).__name__)
        return original(node)

    monkeypatch.setattr(node_linker, "_numba_function", counting)
    w = pt.matrix("w", dtype="float32")
    idx = pt.lvector("idx")
    g = pt.matrix("g", dtype="float32")
    out = pt.inc_subtensor(pt.zeros_like(w)[idx], g)
    ours = pytensor.function([w, idx, g], out, mode="INDRNN")
    theirs = pytensor.function([w, idx, g], out, mode="NUMBA")
    assert "AdvancedIncSubtensor" not in compiled
    rng = np.random.default_rng(0)
    limit = node_linker.SIZE_DISPATCHED_OPS[
        pytensor.tensor.subtensor.AdvancedIncSubtensor][1]
    for rows in (7, limit):  # 7 x 8 values, then limit x 8
        values = [np.zeros((50, 8), "float32"),
                  rng.integers(0, 50, size=rows),
                  rng.normal(size=(rows, 8)).astype("float32")]
        np.testing.assert_array_equal(ours(*values), theirs(*values))
        assert compiled.count("AdvancedIncSubtensor") == (rows > 7)


def test_graph_source_shows_the_program():
    from indrnn.compile.linker import graph_source
    x = pt.vector("x", dtype="float64")
    ours = pytensor.function([x], pt.exp(x).sum() * x.shape[0],
                             mode="INDRNN")
    source = graph_source(ours)
    assert source.startswith("def graph_function(v0):")
    n_nodes = len(ours.maker.fgraph.apply_nodes)
    assert source.count(" = node") == n_nodes
    theirs = pytensor.function([x], pt.exp(x).sum(), mode="NUMBA")
    with pytest.raises(TypeError, match="NumbaNodeLinker"):
        graph_source(theirs)
