"""A Numba linker that compiles every distinct function once.

PyTensor 3.3's :class:`~pytensor.link.numba.linker.NumbaLinker` makes each
node's function cacheable on disk by wrapping it in a one-line jitted
function (``def f(*args): return jitable_func(*args)``) and does the same
with the function of the whole graph, whose final, Python-callable version
is jitted once more from that wrapper. Numba compiles a caller by linking
in the LLVM code of everything it calls and optimising and code-generating
the result again, so every node's code goes through LLVM twice (function,
wrapper) before the graph's function, and the graph's function, the
largest of all, twice (inner function, final wrapper). Timed on the
seq-MNIST training function (``benchmarks/README.md``, "Follow-up:
compile time"): the second compile of the graph's function is 10-11 s of
a 49-52 s first call; without it and the wrappers the cold compile is
about 23% shorter (25% for a 21-layer residual network).

:class:`SingleCompileNumbaLinker` builds the graph's function from the
nodes' own jitted functions, shares one function between all nodes with
the same PyTensor cache key (what PyTensor's disk cache also does between
processes), and jits the graph's function once, directly as the final
function, cached on disk under the graph's PyTensor cache key. The code
run is the same (the same node functions in the same order, the same
flags); only the compile work differs.

What is lost: a node's compiled code is no longer stored on its own, so a
new graph that shares nodes with an earlier one (in another process)
compiles them again; a graph already compiled is loaded whole, as before.
"""
import types
from hashlib import sha256

from pytensor.configdefaults import config
from pytensor.graph.basic import Constant
from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.linker import NumbaLinker
from pytensor.link.utils import fgraph_to_python

__all__ = ["SingleCompileNumbaLinker", "funcify_fgraph", "numba_mode"]

# The PyTensor internals this module builds on, looked up at import: if a
# PyTensor release renames them, importing fails and
# indrnn.training falls back to PyTensor's own linker.
_REQUIRED_INTERNALS = (numba_basic.numba_funcify_and_cache_key,
                       numba_basic.numba_njit,
                       numba_basic.cache_key_for_constant,
                       numba_basic.numba_typify,
                       NumbaLinker.fgraph_convert, NumbaLinker.jit_compile)

#: Bump when the generated graph function changes (part of its cache key).
LINKER_VERSION = 1

#: One jitted function per PyTensor cache key and node types, shared by all
#: the graphs of the process. PyTensor's key identifies a node's function
#: only together with the argument types (its disk cache adds Numba's
#: signature), e.g. ``MakeVector`` has one key for any number of inputs;
#: the node's input and output types fix the number, dtypes and ranks of
#: the arguments (Numba specialises a shared function on the layouts
#: itself, which the generated code cannot depend on).
_NODE_FUNCTIONS = {}


def _node_function(op, node, **kwargs):
    """The node's jitted function and PyTensor cache key (None: no key)."""
    func, key = numba_basic.numba_funcify_and_cache_key(op, node=node,
                                                        **kwargs)
    if key is None:
        return func, None
    key = "%s_fastmath%d" % (key, int(config.numba__fastmath))
    memo = (key, tuple(v.type for v in node.inputs),
            tuple(v.type for v in node.outputs))
    return _NODE_FUNCTIONS.setdefault(memo, func), key


def funcify_fgraph(fgraph, fgraph_name="numba_funcified_fgraph", **kwargs):
    """The graph's Python function, calling the nodes' jitted functions.

    Like PyTensor's ``numba_funcify_FunctionGraph``, with the same cache
    key for the graph, but without a cacheable wrapper around every node.

    Parameters
    ----------
    fgraph : FunctionGraph
    fgraph_name : str
    **kwargs
        Passed to ``fgraph_to_python`` and the nodes' ``numba_funcify``.

    Returns
    -------
    py_func : function
        Not jitted.
    key : str or None
        The graph's cache key; None when a node has none.
    """
    kwargs.setdefault("ofg_memo", {})
    cacheable = [True]
    keys = []
    coords = {inp: (0, i) for i, inp in enumerate(fgraph.inputs)}
    coords.update({out: (i, j)
                   for i, node in enumerate(fgraph.toposort(), start=1)
                   for j, out in enumerate(node.outputs)})

    def convert_op(op, *args, node, **kw):
        func, key = _node_function(op, node, *args, **kw)
        if key is None:
            cacheable[0] = False
        else:
            keys.append((tuple(coords[inp] for inp in node.inputs), key))
        return func

    def convert_type(value, variable, **kw):
        if isinstance(variable, Constant):
            coords[variable] = (-1, numba_basic.cache_key_for_constant(value))
        return numba_basic.numba_typify(value, variable=variable, **kw)

    py_func = fgraph_to_python(fgraph, op_conversion_fn=convert_op,
                               type_conversion_fn=convert_type,
                               fgraph_name=fgraph_name, **kwargs)
    if not cacheable[0]:
        return py_func, None
    outputs = tuple(coords[out] for out in fgraph.outputs)
    key = sha256(repr(("indrnn.link.numba.linker", LINKER_VERSION,
                       type(fgraph).__name__, tuple(keys),
                       len(fgraph.inputs), outputs,
                       int(config.numba__fastmath))).encode()).hexdigest()
    return py_func, key


class SingleCompileNumbaLinker(NumbaLinker):
    """``NumbaLinker`` that compiles each distinct function once.

    See the module docstring. Used by :func:`indrnn.training.compile_train_fn`
    and :func:`~indrnn.training.compile_test_fn` in place of PyTensor's
    Numba linker (:func:`numba_mode`).
    """

    def fgraph_convert(self, fgraph, **kwargs):
        """The graph's Python function and cache key (see
        :func:`funcify_fgraph`)."""
        return funcify_fgraph(fgraph, **kwargs)

    def jit_compile(self, fn_and_key):
        """Jit the graph's function once, as the final function.

        With a key it is cached in PyTensor's Numba cache folder; the
        function is rebuilt with the file name ``<string>`` because
        ``fgraph_to_python`` wrote its source to a temporary file, whose
        random name would otherwise be part of the cache file's name.
        """
        py_func, key = fn_and_key
        if key is None or not config.numba__cache:
            return numba_basic.numba_njit(py_func, final_function=True)
        code = py_func.__code__.replace(co_filename="<string>")
        func = types.FunctionType(code, py_func.__globals__,
                                  py_func.__name__, py_func.__defaults__,
                                  py_func.__closure__)
        CACHED_SRC_FUNCTIONS[func] = key
        return numba_basic.numba_njit(func, final_function=True, cache=True)


def numba_mode(mode):
    """``mode`` with :class:`SingleCompileNumbaLinker` if it links with Numba.

    Parameters
    ----------
    mode : str, Mode or None
        A PyTensor mode (None: ``config.mode``).

    Returns
    -------
    str, Mode or None
        ``mode`` itself unless its linker is PyTensor's ``NumbaLinker``
        (exactly that class); then a mode of the same class with the same
        rewrites and this module's linker.
    """
    from pytensor.compile.mode import get_mode
    try:
        resolved = get_mode(mode)
    except Exception:  # an unknown or unusual mode: leave it to PyTensor
        return mode
    if type(getattr(resolved, "linker", None)) is not NumbaLinker:
        return mode
    return type(resolved)(linker=SingleCompileNumbaLinker(),
                          optimizer=resolved.provided_optimizer)
