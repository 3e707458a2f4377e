"""A Numba linker that compiles only the nodes that compute.

PyTensor 3.3's :class:`~pytensor.link.numba.linker.NumbaLinker` jits the
whole graph as one Numba function. Numba compiles a caller by linking in
the LLVM code of every function it calls and optimising and
code-generating the result again, so each node's code goes through LLVM
once on its own and once more inside the graph's function, and every node
is compiled, even those that only reshape, transpose or index an array or
call BLAS. Timed on the seq-MNIST training function
(``benchmarks/README.md``, "Follow-up: a linker that compiles only the
nodes that compute"): of a 37 s first call, the graph's function was
11 s, the 70 distinct node functions 26 s, of them about 12 s for nodes
that do no arithmetic of their own.

:class:`NumbaNodeLinker` runs the rewritten graph (the same rewrites as
PyTensor's Numba mode) from a generated, straight-line Python function:

* a node that computes (``Elemwise``, reductions, the fused IndRNN and
  BatchNorm Ops, ``Scan``, random variables, ...) calls its PyTensor
  Numba function, the same code as in the graph's function, through a
  small jitted entry point that is cached on disk under the node's
  PyTensor cache key and shared by every graph of the process with an
  equal node;
* a node in :data:`PERFORM_OPS` (views, shapes, indexing, matrix
  products, ``Argmax``, run-time checks) and a node whose Op has no Numba
  implementation runs its Op's ``perform``: no compile at all (the
  matrix products go to numpy's BLAS); an indexed increment
  (:data:`SIZE_DISPATCHED_OPS`) runs ``perform`` for small inputs and
  its Numba code for large ones.

Large products may be split by rows over threads, or run on a pool
thread while the graph goes on (:mod:`.dot`, :func:`runs_in_background`),
and sums over one axis use a kernel of their own (:mod:`.reduce`). Intermediate
arrays are released after their last use, as the graph's function does.

Where this linker fails, PyTensor's does the work: an error while it
builds the graph's program, or an error in Numba when a node's code
compiles or loads from the disk cache (on the node's first call), makes
the function run PyTensor's own
:class:`~pytensor.link.numba.linker.NumbaLinker` on the same graph, with
one :class:`LinkerFallbackWarning` saying so (:meth:`NumbaNodeLinker.\
create_jitable_thunk`). An error that a node's computation raises (a
shape mismatch, a failed check) is the caller's and is raised as it is.

What the results promise: the same bits on every call and in every
process on one machine, whether the process compiled the nodes or loaded
them from the disk cache (with Numba's ``fastmath`` off, as
:func:`indrnn._runtime.configure_fastmath` sets it; tested on every
experiment in ``tests/experiments/test_same_seed.py``), and PyTensor's
linker's results to round-off, not bit for bit: the matrix products run
through numpy's BLAS, PyTensor's through Numba's binding, and on some CPUs
(an AMD EPYC machine) the two round a transposed product differently; the
one-axis sums add in another order. The cold compile is 15-17 s instead
of 50 s and the step about 15 % shorter (with the products on two
threads; within 5 % without); calling about 200 nodes from Python costs
well under a millisecond per step. An error inside a node names
that node and its inputs (``raise_with_op``), not the graph's first
output.
"""
import inspect
import linecache
import os
import sys
import types
import warnings
from itertools import count

import numba
import numpy as np
from numba.core.errors import NumbaError
from pytensor.compile.aliasing import alias_root
from pytensor.configdefaults import config
from pytensor.graph.basic import Constant
from pytensor.link.basic import JITLinker
from pytensor.link.numba.cache import compile_numba_function_src
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.linker import NumbaLinker
from pytensor.link.utils import raise_with_op
from pytensor.raise_op import CheckAndRaise
from pytensor.scalar.basic import ScalarType
from pytensor.tensor.basic import (
    ARange, Alloc, AllocEmpty, Join, MakeVector, ScalarFromTensor, Split,
    TensorFromScalar)
from pytensor.tensor.elemwise import DimShuffle
from pytensor.tensor.math import Argmax, Dot
from pytensor.tensor.shape import Reshape, Shape, Shape_i, SpecifyShape
from pytensor.tensor.subtensor import (
    AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor, Subtensor)

from .dot import (dot_function, dot_threads, is_float_matrix_product,
                  run_in_background)
from .reduce import sum_function

__all__ = ["LinkerFallbackWarning", "NumbaNodeLinker", "PERFORM_OPS",
           "SIZE_DISPATCHED_OPS", "graph_function", "graph_source",
           "runs_in_background", "runs_perform"]

#: Op classes whose nodes run their ``perform`` instead of Numba code:
#: they move, view or index data, multiply matrices through BLAS, or check
#: shapes, so Numba would only add compile time. Their results are those
#: of the Numba code (no floating-point arithmetic of their own, or the
#: same BLAS product).
PERFORM_OPS = (
    Reshape, SpecifyShape, Shape, Shape_i, DimShuffle, Dot, Argmax, Alloc,
    AllocEmpty, MakeVector, ScalarFromTensor, TensorFromScalar, ARange,
    Join, Split, Subtensor, IncSubtensor, AdvancedSubtensor, CheckAndRaise)

#: Op classes whose ``perform`` is only fast for small inputs, with the
#: index of the input whose size decides and the largest size run through
#: ``perform``; larger inputs run the Numba code, compiled on first use.
#: ``AdvancedIncSubtensor`` (the gradient of an embedding lookup) adds
#: with ``np.add.at``: 37 ms instead of 3 ms for 6400 rows of 600, but no
#: compile for the 32 x 10 of a classifier's cross-entropy gradient.
SIZE_DISPATCHED_OPS = {AdvancedIncSubtensor: (1, 4096)}

# The linker overrides JITLinker.create_jitable_thunk, which PyTensor's
# make_all calls; if a release changes that method, importing this module
# fails and indrnn.compile falls back to PyTensor's own linker.
if list(inspect.signature(JITLinker.create_jitable_thunk).parameters) != [
        "self", "compute_map", "order", "input_storage", "output_storage",
        "storage_map"]:
    raise ImportError("PyTensor's JITLinker.create_jitable_thunk changed; "
                      "indrnn's Numba node linker is not used")

#: Bump when the entry points change (part of their disk cache key), and
#: when this module moves: Numba's cached entry names the module it
#: rebuilds the entry's environment from (3: moved to indrnn.compile).
LINKER_VERSION = 3

#: One jitted entry point per PyTensor cache key and node types, shared
#: by all the graphs of the process (PyTensor's key identifies a node's
#: function only together with its argument types: ``MakeVector`` has one
#: key for any number of inputs).
_ENTRY_POINTS = {}

_DISPATCHERS = (numba_basic.numba_funcify,
                numba_basic.numba_funcify_and_cache_key,
                numba_basic.numba_funcify_default_op_cache_key)

_source_ids = count()


def _has_numba_implementation(op):
    """Whether PyTensor registered Numba code for ``op``'s class."""
    cls = type(op)
    return any(d.dispatch(cls) is not d.dispatch(object)
               for d in _DISPATCHERS)


def runs_perform(op):
    """Whether :class:`NumbaNodeLinker` runs ``op`` through ``perform``.

    Parameters
    ----------
    op : Op

    Returns
    -------
    bool
        True for the classes in :data:`PERFORM_OPS` and for Ops without a
        Numba implementation (PyTensor's Numba linker would run their
        ``perform`` in Numba's object mode, with a warning).
    """
    return isinstance(op, PERFORM_OPS) or not _has_numba_implementation(op)


def _perform_function(node):
    """``f(*inputs) -> output or tuple`` calling ``node.op.perform``."""
    op = node.op
    n_out = len(node.outputs)

    def perform(*inputs):
        storage = [[None] for _ in range(n_out)]
        op.perform(node, list(inputs), storage)
        if n_out == 1:
            return storage[0][0]
        return tuple(cell[0] for cell in storage)

    return perform


def _entry_point(node):
    """The node's Numba function behind a Python-callable jitted entry.

    Cached on disk under the node's PyTensor cache key when it has one
    (and ``config.numba__cache``); shared within the process between
    nodes with the same key and types.
    """
    jitable, key = numba_basic.numba_funcify_and_cache_key(node.op,
                                                           node=node)
    memo = None
    if key is not None:
        memo = (key, bool(config.numba__fastmath),
                tuple(v.type for v in node.inputs),
                tuple(v.type for v in node.outputs))
        if memo in _ENTRY_POINTS:
            return _ENTRY_POINTS[memo]
    cache_key = None
    if key is not None and config.numba__cache:
        cache_key = "indrnn_entry%d_%s_fastmath%d" % (
            LINKER_VERSION, key, int(config.numba__fastmath))
    # The module name lets Numba rebuild the function's environment when
    # it loads the entry from its disk cache.
    source = "def node_entry(*args):\n    return jitable_func(*args)\n"
    func = compile_numba_function_src(
        source, "node_entry",
        {"__name__": __name__, "jitable_func": jitable},
        cache_key=cache_key)
    entry = numba_basic.numba_njit(func, final_function=True,
                                   cache=cache_key is not None)
    if memo is not None:
        _ENTRY_POINTS[memo] = entry
    return entry


def _numba_function(node):
    """``f(*inputs)`` running the node's Numba code, scalars typed.

    Numba returns a scalar output as a Python number; it is turned back
    into a numpy scalar of the output's dtype, so that the next node is
    called (and compiled) with the dtype the graph says, e.g. float32
    rather than float64.
    """
    entry = _entry_point(node)
    casts = [np.dtype(out.type.dtype).type
             if isinstance(out.type, ScalarType) else None
             for out in node.outputs]
    if all(cast is None for cast in casts):
        return entry
    if len(casts) == 1:
        cast = casts[0]
        return lambda *inputs: cast(entry(*inputs))

    def typed(*inputs):
        return tuple(value if cast is None else cast(value)
                     for value, cast in zip(entry(*inputs), casts))

    return typed


def _size_dispatched_function(node, position, limit):
    """``perform`` while ``inputs[position]`` has at most ``limit``
    elements, else the node's Numba code (compiled when first needed)."""
    perform = _perform_function(node)
    compiled = []

    def by_size(*inputs):
        if np.size(inputs[position]) <= limit:
            return perform(*inputs)
        if not compiled:
            compiled.append(_numba_function(node))
        return compiled[0](*inputs)

    return by_size


def _node_function(node, may_split=True):
    """How the node runs: ``perform`` (a matrix product split over threads
    if ``may_split``), by input size, a one-axis sum or its Numba code."""
    if runs_perform(node.op):
        return (may_split and dot_function(node)) or _perform_function(node)
    if type(node.op) in SIZE_DISPATCHED_OPS:
        return _size_dispatched_function(node,
                                         *SIZE_DISPATCHED_OPS[type(node.op)])
    return sum_function(node) or _numba_function(node)


def _memory_of(variables):
    """The memory ``variables`` live in: their alias roots (what they view
    or were computed in place of, ``alias_root``), or None when one of
    them views several inputs and its memory is not known."""
    try:
        return {alias_root(var) for var in variables}
    except NotImplementedError:
        return None


def _written_memory(node):
    """The memory ``node`` writes over in place (:func:`_memory_of` of
    the inputs in its ``destroy_map``)."""
    return _memory_of(
        node.inputs[j]
        for positions in getattr(node.op, "destroy_map", {}).values()
        for j in positions)


def runs_in_background(node):
    """Whether :func:`graph_function` starts ``node`` on a pool thread.

    A matrix product whose left operand is a transposed matrix (the weight
    gradients ``X.T @ dY``) cannot be split by rows at a profit
    (:mod:`.dot`); it runs on the products' pool thread while the graph
    goes on (e.g. with the input gradient ``dY @ W.T``), and is waited for
    before its result is read or any of its inputs is written over. The
    product is computed as it would be in the calling thread.

    Parameters
    ----------
    node : Apply

    Returns
    -------
    bool
    """
    if dot_threads() < 2 or not is_float_matrix_product(node):
        return False
    left = node.inputs[0].owner
    return (left is not None and isinstance(left.op, DimShuffle)
            and tuple(left.op.new_order) == (1, 0))


def graph_function(fgraph, order=None):
    """A Python function running ``fgraph`` node by node.

    Parameters
    ----------
    fgraph : FunctionGraph
        A rewritten graph.
    order : list of Apply, optional
        The nodes in execution order (``fgraph.toposort()`` by default).

    Returns
    -------
    function
        ``f(*inputs) -> tuple of outputs``; ``f.line_nodes`` maps a line
        of its source to the node computed there and the names of the
        node's inputs.

    Examples
    --------
    >>> import pytensor, pytensor.tensor as pt
    >>> from pytensor.graph.fg import FunctionGraph
    >>> x = pt.vector("x", dtype="float64")
    >>> f = graph_function(FunctionGraph([x], [(2 * x).sum()], clone=False))
    >>> f(np.arange(3.0))
    (array(6.),)
    """
    order = fgraph.toposort() if order is None else order
    names = {}
    env = {"run_in_background": run_in_background}

    def name(var):
        if var not in names:
            names[var] = "v%d" % len(names)
            if isinstance(var, Constant):
                env[names[var]] = numba_basic.numba_typify(var.data,
                                                           variable=var)
        return names[var]

    arguments = [name(var) for var in fgraph.inputs]
    last_use = {}
    for i, node in enumerate(order):
        for var in node.inputs:
            last_use[var] = i
    keep = set(fgraph.inputs) | set(fgraph.outputs)
    lines = ["def graph_function(%s):" % ", ".join(arguments)]
    line_nodes = {}
    pending = {}  # position -> (node, argument names, memory read)

    def assigned(node):
        outputs = ", ".join(name(var) for var in node.outputs)
        return "(%s,)" % outputs if len(node.outputs) > 1 else outputs

    def free(variables, position):
        # Free what no later node reads, as the graph's jitted function
        # would: intermediates of a long sequence are large.
        dead = sorted({name(var) for var in variables
                       if var not in keep and not isinstance(var, Constant)
                       and last_use.get(var, -1) <= position})
        if dead:
            lines.append("    del %s" % ", ".join(dead))

    def wait_for(k, position):
        node, node_arguments, _ = pending.pop(k)
        line_nodes[len(lines) + 1] = (node, node_arguments)
        lines.append("    %s = pending%d.result()" % (assigned(node), k))
        lines.append("    del pending%d" % k)
        free(node.outputs, position - 1)

    position = {node: i for i, node in enumerate(order)}
    background = [i for i, node in enumerate(order)
                  if runs_in_background(node)]

    def start_ready(done):
        # A background product starts as soon as its inputs exist (a node
        # that writes over them is ordered after it), so that it overlaps
        # the nodes before its place in the order too (the input gradient).
        for k in list(background):
            node = order[k]
            if any(var.owner is not None and (position[var.owner] > done
                                               or position[var.owner]
                                               in pending)
                   for var in node.inputs):
                continue
            background.remove(k)
            read = _memory_of(node.inputs)
            if read is None:  # unknown memory: run it in its place
                continue
            func_name = "node%d" % k
            env[func_name] = _node_function(node)
            node_arguments = [name(var) for var in node.inputs]
            line_nodes[len(lines) + 1] = (node, node_arguments)
            lines.append("    pending%d = run_in_background(%s)" % (
                k, ", ".join([func_name] + node_arguments)))
            pending[k] = (node, node_arguments, read)

    start_ready(-1)
    for i, node in enumerate(order):
        if i in pending and pending[i][0] is node:
            free(node.inputs, i)  # started earlier; its inputs end here
            continue
        if i in background:  # an input came from a pending product
            background.remove(i)
        written = _written_memory(node)
        for k in sorted(pending):
            other = pending[k][0]
            if (written is None or written & pending[k][2]
                    or any(var.owner is other for var in node.inputs)):
                wait_for(k, i)
        func_name = "node%d" % i
        # No split while a background product may hold the pool thread
        # (its blocks would queue behind it). Decided here, once, so that
        # whether a product is split never depends on timing.
        env[func_name] = _node_function(node, may_split=not pending)
        node_arguments = [name(var) for var in node.inputs]
        line_nodes[len(lines) + 1] = (node, node_arguments)
        lines.append("    %s = %s(%s)" % (assigned(node), func_name,
                                         ", ".join(node_arguments)))
        free(node.inputs + node.outputs, i)
        start_ready(i)
    for k in sorted(pending):
        wait_for(k, len(order))
    returned = [name(var) for var in fgraph.outputs]
    lines.append("    return (%s)" % "".join(r + ", " for r in returned))
    source = "\n".join(lines) + "\n"
    filename = "<indrnn-graph-%d>" % next(_source_ids)
    # Tracebacks show the generated line.
    linecache.cache[filename] = (len(source), None, source.splitlines(True),
                                 filename)
    exec(compile(source, filename, "exec"), env)
    func = env["graph_function"]
    func.line_nodes = line_nodes
    # for the fallback: a call may be repeated on another linker if it
    # failed before the inputs were written over
    func.node_position = position
    graph_inputs = set(fgraph.inputs)
    func.first_input_writer = next(
        (i for i, node in enumerate(order)
         if _destroys_input(node, graph_inputs)), len(order))
    return func


def graph_source(function):
    """The Python program a function compiled by the node linker runs.

    Parameters
    ----------
    function : pytensor.compile.function.types.Function
        Compiled with :class:`NumbaNodeLinker` (``mode="INDRNN"``, or
        :func:`indrnn.compile.compile_function` in the default mode).

    Returns
    -------
    str
        The generated source: one line per node (``vK = nodeK(...)``, or
        ``pendingK = run_in_background(...)`` and a later
        ``.result()`` for a product on the pool thread) and ``del`` lines
        where intermediates are freed.

    Raises
    ------
    TypeError
        If ``function`` was not linked by :class:`NumbaNodeLinker`, or
        runs on PyTensor's linker after a fallback.

    Examples
    --------
    >>> import pytensor, pytensor.tensor as pt
    >>> x = pt.vector("x", dtype="float64")
    >>> f = pytensor.function([x], pt.exp(x).sum(), mode="INDRNN")
    >>> print(graph_source(f).splitlines()[0])
    def graph_function(v0):
    """
    linker = getattr(getattr(function, "maker", None), "linker", None)
    program = getattr(getattr(function, "vm", None), "jit_fn", None)
    if (not isinstance(linker, NumbaNodeLinker)
            or not hasattr(program, "line_nodes")):
        raise TypeError(
            "graph_source needs a function compiled with NumbaNodeLinker "
            "(mode='INDRNN', or compile_train_fn/compile_test_fn in the "
            "default mode); got a function linked by %s%s"
            % (type(linker).__name__,
               " that fell back to PyTensor's NumbaLinker"
               if isinstance(linker, NumbaNodeLinker) else ""))
    return "".join(linecache.getlines(program.__code__.co_filename))


def _failed_node(func, trace):
    """The node whose line of ``func`` raised, and its input values.

    Returns ``(None, None)`` if the error did not come from a node's line.
    The values are read from the failing frame, so that the report shows
    the node's own inputs (shapes, strides, values).
    """
    code = func.__code__
    while trace is not None:
        frame = trace.tb_frame
        if frame.f_code is code and trace.tb_lineno in func.line_nodes:
            node, names = func.line_nodes[trace.tb_lineno]
            known = {**frame.f_globals, **frame.f_locals}
            storage = types.SimpleNamespace(
                inputs=[[known.get(name)] for name in names],
                outputs=[[None] for _ in node.outputs])
            return node, storage
        trace = trace.tb_next
    return None, None


class LinkerFallbackWarning(RuntimeWarning):
    """The project's linker failed; a function runs on PyTensor's."""


def _one_line(exc):
    """``Type: first line of the message``, at most 200 characters."""
    lines = str(exc).strip().splitlines()
    text = "%s: %s" % (type(exc).__name__, lines[0] if lines else "")
    return text if len(text) <= 200 else text[:197] + "..."


def _warn_fallback(when, exc):
    warnings.warn(
        "indrnn.compile: the project's Numba linker failed %s (%s); this "
        "function runs on PyTensor's Numba linker instead"
        % (when, _one_line(exc)), LinkerFallbackWarning, stacklevel=3)


def _destroys_input(node, inputs):
    """Whether ``node`` writes over the memory of one of ``inputs``."""
    written = _written_memory(node)
    return written is None or bool(written & inputs)


def _in_numba(trace):
    """Whether the traceback ``trace`` passes through Numba's own Python
    code: its compiler or its disk cache, which run on a node's first
    call; compiled code that raises shows no such frame."""
    while trace is not None:
        if trace.tb_frame.f_code.co_filename.startswith(_NUMBA_DIR):
            return True
        trace = trace.tb_next
    return False


_NUMBA_DIR = os.path.dirname(os.path.abspath(numba.__file__)) + os.sep


def _linker_failure(func, exc, trace, node):
    """Whether ``exc``, raised by ``func`` in ``node``, is this linker's
    failure that PyTensor's linker may not have, and the call can be
    repeated there.

    A Numba error, or any error raised inside Numba's compiler or cache
    (a node's code did not compile or load for its arguments), or an
    error outside every node's line (the generated program itself) is;
    an error of a node's computation is not. The call can be repeated if
    no node that ran before writes over the graph's inputs (in-place
    updates of shared variables): the failing node itself did not run.
    """
    if (node is not None and not isinstance(exc, NumbaError)
            and not _in_numba(trace)):
        return False
    position = func.node_position.get(node, len(func.node_position))
    return position <= func.first_input_writer


class NumbaNodeLinker(NumbaLinker):
    """PyTensor's Numba mode, compiling only the nodes that compute.

    See the module docstring. Registered as the linker ``"indrnn_numba"``
    and, with PyTensor's Numba rewrites, as the mode ``"INDRNN"``; the
    default mode compiles with it (:func:`indrnn.compile.project_mode`).
    """

    def fgraph_convert(self, fgraph, order=None, **kwargs):
        """The graph's Python function (see :func:`graph_function`)."""
        return graph_function(fgraph, order)

    def jit_compile(self, fn):
        """Nothing to compile: the nodes' entry points compile on first
        call."""
        return fn

    def _pytensor_thunk(self, *args):
        """``create_jitable_thunk`` of PyTensor's ``NumbaLinker`` on this
        linker's graph and storage (the fallback)."""
        plain = NumbaLinker(allow_gc=self.allow_gc)
        plain = plain.accept(self.fgraph, no_recycling=self.no_recycling)
        return plain.create_jitable_thunk(*args)

    def create_jitable_thunk(self, compute_map, order, input_storage,
                             output_storage, storage_map):
        """The thunk that runs the graph's function.

        As PyTensor's, except that an error is reported against the node
        that raised it, and that where this linker fails (building the
        program, or compiling a node's code on its first call) the thunk
        runs PyTensor's ``NumbaLinker`` instead, with one
        :class:`LinkerFallbackWarning`.
        """
        args = (compute_map, order, input_storage, output_storage,
                storage_map)
        try:
            return self._node_thunk(*args)
        except Exception as exc:
            _warn_fallback("while linking", exc)
            return self._pytensor_thunk(*args)

    def _node_thunk(self, compute_map, order, input_storage, output_storage,
                    storage_map):
        fgraph = self.fgraph
        func = graph_function(fgraph, order)
        thunk_inputs = self.create_thunk_inputs(storage_map)
        thunk_outputs = [storage_map[var] for var in fgraph.outputs]
        replaced = []  # PyTensor's thunk, once this linker failed

        def thunk():
            if replaced:
                return replaced[0]()
            try:
                outputs = func(*(cell[0] for cell in thunk_inputs))
            except Exception as exc:
                trace = sys.exc_info()[2]
                node, storage = _failed_node(func, trace)
                if _linker_failure(func, exc, trace, node):
                    _warn_fallback("in a call", exc)
                    [fallback], _, jit_fn = self._pytensor_thunk(
                        compute_map, order, input_storage, output_storage,
                        storage_map)
                    replaced.append(fallback)
                    thunk.jit_fn = jit_fn
                    return fallback()
                if node is None:
                    raise
                raise_with_op(fgraph, node, storage)
            for cell, value in zip(thunk_outputs, outputs):
                cell[0] = value

        thunk.inputs = thunk_inputs
        thunk.outputs = thunk_outputs
        thunk.lazy = False
        output_nodes = [var.owner for var in fgraph.outputs
                        if var.owner is not None][:1]
        return [thunk], output_nodes, func
