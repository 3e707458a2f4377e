"""A disk cache of rewritten PyTensor functions, across processes.

PyTensor caches compiled code (C modules, and Numba's machine code for every
node and for the whole graph) but not the graph rewriting that precedes it:
compiling the seq-MNIST training function a second time still spends about
3 s in the rewrites, most of a warm start (``benchmarks/README.md``).
:func:`cached_function` keeps, for each graph, the rewritten function
(its ``FunctionMaker``: the rewritten ``FunctionGraph`` and the linker set up
for it) in a pickle under PyTensor's ``compiledir``; a later process that
builds the same graph unpickles it and links it, which finds PyTensor's
own caches warm, instead of rewriting again.

The key is a structural hash of the graph as given to ``pytensor.function``
(every Op with its parameters, every type, the constants' values, how the
nodes are connected, which inputs, outputs and updates), of the mode, of
the PyTensor configuration flags that change rewriting or code, of the
versions of Python, numpy, PyTensor and Numba, and of the source of the
``indrnn`` package. The values of shared variables are not part of the key
(a network initialised differently reuses the function) and are not
stored: the stored function is reconnected to the calling process's shared
variables, in the order in which the graph reaches them, so its updates go
to them as in a freshly compiled function.

Graphs with an Op that cannot be pickled, or a mode that cannot, are
compiled as usual and not stored. A damaged or unreadable entry is compiled
again and replaced. ``INDRNN_COMPILE_CACHE=0`` in the environment turns the
cache off.

Like PyTensor's own compile cache, the entries are code that the process
loads and runs (pickles): the ``compiledir`` must be trusted.
"""
import hashlib
import io
import os
import pickle
import platform
import sys
import tempfile
import warnings
from collections.abc import Mapping
from functools import lru_cache

import numpy as np

import pytensor
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant, Variable
from pytensor.graph.traversal import io_toposort

__all__ = ["CACHE_VERSION", "cache_dir", "cache_enabled", "cached_function",
           "graph_key"]

#: Bump when the layout of the entries or of the key changes.
CACHE_VERSION = 1

#: PyTensor configuration flags that change the rewritten graph or the code
#: compiled from it (others, e.g. paths and verbosity, do not). Typed by
#: hand from PyTensor 3.3's ``configdefaults``: PyTensor does not say which
#: of its flags affect compilation, so a flag a release adds is not in the
#: key until it is added here (see the list in :mod:`indrnn.compile`).
_CONFIG_FLAGS = ("floatX", "cast_policy", "mode", "linker", "allow_gc",
                 "optimizer", "optimizer_excluding", "optimizer_including",
                 "optimizer_requiring", "on_opt_error", "cxx",
                 "gcc__cxxflags", "tensor__cmp_sloppy", "vm__lazy",
                 "numba__fastmath", "numba__cache", "scan__allow_gc",
                 "scan__allow_output_prealloc")


def cache_enabled():
    """Whether :func:`cached_function` uses the cache.

    Returns
    -------
    bool
        False when the environment sets ``INDRNN_COMPILE_CACHE`` to ``0``,
        ``false``, ``no`` or ``off``.
    """
    value = os.environ.get("INDRNN_COMPILE_CACHE", "1").strip().lower()
    return value not in ("0", "false", "no", "off")


def cache_dir():
    """The folder of the entries: ``<compiledir>/indrnn_functions``.

    Returns
    -------
    str
    """
    return os.path.join(str(pytensor.config.compiledir), "indrnn_functions")


@lru_cache(maxsize=None)
def _source_digest():
    # any change to the package (Ops, their implementations, rewrites)
    # invalidates the entries: the whole of indrnn/, not only this folder
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    digest = hashlib.sha256()
    for folder, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, root).encode())
                with open(path, "rb") as f:
                    digest.update(f.read())
    return digest.hexdigest()


def _environment_key():
    import numba
    flags = tuple((name, repr(getattr(pytensor.config, name, None)))
                  for name in _CONFIG_FLAGS)
    return (CACHE_VERSION, sys.version, platform.machine(), np.__version__,
            pytensor.__version__, numba.__version__, _source_digest(), flags)


def _pickle_digest(obj):
    # pickle, not repr: an Op's repr need not show all of its parameters
    return hashlib.sha256(
        pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()


def _object_digest(obj):
    """Digest of an Op (or type): its class and ``__props__`` if it has them.

    ``__props__`` are what PyTensor itself compares Ops by (equal props,
    equal Op: the merge rewrite shares their nodes). Pickling the whole Op
    would not do: e.g. ``Elemwise`` keeps lazily built caches (its numpy
    ufunc) in its ``__dict__`` after its first use.
    """
    return hashlib.sha256(repr(_canonical(obj)).encode()).hexdigest()


def _canonical(obj):
    # a value that repr()s the same in every process for equal objects:
    # not a pickle, which also holds caches filled on use (an Elemwise's
    # ufunc, a frozendict's hash)
    if obj is None or isinstance(obj, (bool, int, float, complex, str,
                                       bytes)):
        return obj
    if isinstance(obj, np.generic):
        return (obj.dtype.str, obj.item())
    if isinstance(obj, np.dtype):
        return ("dtype", obj.str)
    if isinstance(obj, (tuple, list)):
        return (type(obj).__name__, tuple(_canonical(v) for v in obj))
    if isinstance(obj, (Mapping)):
        return ("mapping", tuple(sorted((repr(_canonical(k)),
                                         _canonical(v))
                                        for k, v in obj.items())))
    if isinstance(obj, (frozenset, set)):
        return ("set", tuple(sorted(repr(_canonical(v)) for v in obj)))
    props = getattr(type(obj), "__props__", None)
    if isinstance(props, tuple):
        return (type(obj).__module__, type(obj).__qualname__,
                tuple((name, _canonical(getattr(obj, name)))
                      for name in props))
    # classes and module-level functions pickle by name; local functions
    # (closures, which a name would not tell apart) do not pickle at all,
    # and the graph is then not cached
    return ("pickle", _pickle_digest(obj))


def graph_key(inputs, outputs, updates=(), mode=None):
    """Structural key of a function's graph, and its shared variables.

    Parameters
    ----------
    inputs : list of Variable
        The function's explicit inputs.
    outputs : list of Variable
    updates : list of (SharedVariable, Variable)
    mode : str, Mode or None
        The compilation mode (part of the key).

    Returns
    -------
    key : str
        Hex digest; equal for two graphs that compute the same thing the
        same way, whatever the values of their shared variables.
    shared : list of SharedVariable
        The shared variables in the order the key numbers them.

    Raises
    ------
    TypeError
        If an Op, a type or the mode cannot be pickled (such a graph cannot
        be stored either), or a root of the graph is neither an input, a
        shared variable nor a constant.
    """
    updates = list(updates)
    ids = {var: ("input", i) for i, var in enumerate(inputs)}
    shared = []
    tokens = {}

    def token(obj):
        # Ops and types are shared by many nodes: digest each object once
        key = id(obj)
        if key not in tokens:
            try:
                tokens[key] = (obj, _object_digest(obj))
            except Exception as exc:
                raise TypeError("cannot pickle %r: %s" % (obj, exc)) from exc
        return tokens[key][1]

    def ident(var):
        if var in ids:
            return ids[var]
        if isinstance(var, SharedVariable):
            ids[var] = ("shared", len(shared), token(var.type))
            shared.append(var)
        elif isinstance(var, Constant):
            ids[var] = ("constant", token(var.type), _pickle_digest(var.data))
        else:
            raise TypeError("graph input %r is neither an input, a shared "
                            "variable nor a constant" % (var,))
        return ids[var]

    ends = list(outputs) + [value for _, value in updates]
    description = [("inputs", tuple(token(v.type) for v in inputs))]
    for number, node in enumerate(io_toposort(list(inputs), ends)):
        in_ids = tuple(ident(v) for v in node.inputs)
        for index, out in enumerate(node.outputs):
            ids[out] = ("node", number, index)
        description.append((token(node.op), in_ids,
                            tuple(token(o.type) for o in node.outputs)))
    description.append(("outputs", tuple(ident(v) for v in outputs)))
    description.append(("updates", tuple((ident(var), ident(value))
                                         for var, value in updates)))
    if mode is None or isinstance(mode, str):
        mode_token = ("mode", mode)
    else:
        mode_token = ("mode", token(mode))
    digest = hashlib.sha256(repr((_environment_key(), mode_token,
                                  description)).encode()).hexdigest()
    return digest, shared


class _SharedPickler(pickle.Pickler):
    """Stores the function's shared variables and containers by number."""

    def __init__(self, file, shared):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._refs = {}
        for number, var in enumerate(shared):
            self._refs[id(var)] = ("shared", number)
            self._refs[id(var.container)] = ("container", number)

    def persistent_id(self, obj):
        return self._refs.get(id(obj))


class _SharedUnpickler(pickle.Unpickler):
    """Puts the calling process's shared variables back in their place."""

    def __init__(self, file, shared):
        super().__init__(file)
        self._shared = shared

    def persistent_load(self, pid):
        kind, number = pid
        var = self._shared[number]
        return var if kind == "shared" else var.container


def _write_atomic(path, data):
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)  # concurrent writers: the last one wins whole
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _normalise_updates(updates):
    if updates is None:
        return []
    if hasattr(updates, "items"):
        return list(updates.items())
    return list(updates)


def cached_function(inputs, outputs, updates=None, mode=None, **kwargs):
    """``pytensor.function``, with the rewritten function cached on disk.

    Parameters
    ----------
    inputs : list of Variable
    outputs : Variable or list of Variable
    updates : dict or list of (SharedVariable, Variable), optional
    mode : str, Mode or None
    **kwargs
        Passed to ``pytensor.function``. Any other keyword than ``name``
        and ``on_unused_input`` (e.g. ``givens``, ``profile``) compiles
        without the cache.

    Returns
    -------
    pytensor.compile.function.types.Function
        As ``pytensor.function`` would return it, its shared variables the
        caller's.

    Examples
    --------
    >>> import numpy as np, pytensor, pytensor.tensor as pt
    >>> w = pytensor.shared(np.ones(2), name='w')
    >>> x = pt.vector('x', dtype='float64')
    >>> f = cached_function([x], (x * w).sum(), updates=[(w, 2 * w)],
    ...                     mode='FAST_COMPILE')
    >>> float(f(np.ones(2))), w.get_value().tolist()
    (2.0, [2.0, 2.0])
    """
    updates = _normalise_updates(updates)
    plain = set(kwargs) - {"name", "on_unused_input"}
    if (not cache_enabled() or plain or pytensor.config.profile
            or not all(isinstance(v, Variable) for v in inputs)):
        return pytensor.function(inputs, outputs, updates=updates,
                                 mode=mode, **kwargs)
    single = not isinstance(outputs, (list, tuple))
    out_list = [outputs] if single else list(outputs)
    try:
        key, shared = graph_key(inputs, out_list, updates, mode)
    except TypeError:
        return pytensor.function(inputs, outputs, updates=updates,
                                 mode=mode, **kwargs)
    key = hashlib.sha256(repr((key, single, sorted(kwargs.items()))).encode()
                         ).hexdigest()
    path = os.path.join(cache_dir(), key + ".pkl")
    if os.path.exists(path):
        try:
            with open(path, "rb") as f:
                maker = _SharedUnpickler(f, shared).load()
            return maker.create()
        except Exception as exc:  # damaged or stale: compile again
            warnings.warn("indrnn.compile.cache: entry %s not usable (%s); "
                          "compiling again" % (path, exc), RuntimeWarning)
    fn = pytensor.function(inputs, outputs, updates=updates, mode=mode,
                           **kwargs)
    known = {id(var) for var in shared}
    if any(spec.shared and id(spec.variable) not in known
           for spec in fn.maker.inputs):
        # a shared variable the key does not number would be stored as a
        # copy and not be updated in the next process: do not store
        return fn
    try:
        buffer = io.BytesIO()
        _SharedPickler(buffer, shared).dump(fn.maker)
        _write_atomic(path, buffer.getvalue())
    except Exception as exc:  # the function works; it is just not stored
        warnings.warn("indrnn.compile.cache: not stored (%s)" % (exc,),
                      RuntimeWarning)
    return fn
