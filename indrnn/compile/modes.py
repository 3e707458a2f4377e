"""Which linker compiles a function, and the switch that decides it.

The project's linker (:class:`~indrnn.compile.linker.NumbaNodeLinker`)
is registered with PyTensor under a name of its own, so that it is
selected by name like PyTensor's linkers and modes:

``"indrnn_numba"``
    the linker (``pytensor.compile.mode.register_linker``);
``"INDRNN"``
    the mode: PyTensor's Numba rewrites with that linker
    (``register_mode``), e.g. ``pytensor.function(..., mode="INDRNN")``.

:func:`compile_function` (what ``compile_train_fn`` and
``compile_test_fn`` call) gives the *default* mode (``mode=None``, i.e.
PyTensor's configured ``config.mode``, when that links with Numba) the
project's linker: it is the path the experiments run and the benchmarks
measured. An explicit ``mode="NUMBA"`` is PyTensor's own Numba linker,
and every other mode is left as it is.

The switch: ``INDRNN_LINKER=pytensor`` in the environment, or
:func:`use_project_linker` ``(False)`` in the process, makes the default
mode PyTensor's own (``INDRNN_LINKER=indrnn``, the default, or
``use_project_linker(True)`` brings it back; ``mode="INDRNN"`` still asks
for the project's linker explicitly). Where the linker cannot be imported
(a PyTensor release moved what it builds on), the default mode is
PyTensor's, with one warning.
"""
import os
import warnings

import pytensor
from pytensor.compile.mode import get_mode, register_linker, register_mode
from pytensor.link.numba.linker import NumbaLinker

try:
    from .linker import LinkerFallbackWarning, NumbaNodeLinker
except (ImportError, AttributeError) as exc:  # PyTensor internals moved
    NumbaNodeLinker = None
    _LINKER_IMPORT_ERROR = exc

    class LinkerFallbackWarning(RuntimeWarning):
        """The project's linker failed; a function runs on PyTensor's."""
else:
    _LINKER_IMPORT_ERROR = None

__all__ = ["LINKER_NAME", "MODE_NAME", "LinkerFallbackWarning",
           "c_linker_mode", "compile_function", "input_specs",
           "project_linker_enabled", "project_mode", "use_project_linker"]

#: The name the project's linker is registered under.
LINKER_NAME = "indrnn_numba"
#: The name of PyTensor's Numba mode with the project's linker.
MODE_NAME = "INDRNN"

#: Values of ``INDRNN_LINKER``: the project's linker, or PyTensor's.
_ENV_VALUES = {"indrnn": True, "pytensor": False}

# Set by use_project_linker; None: INDRNN_LINKER decides.
_choice = None
_import_warned = False


def _register():
    from pytensor.compile.mode import NUMBA
    register_linker(LINKER_NAME, NumbaNodeLinker())
    register_mode(MODE_NAME, type(NUMBA)(linker=LINKER_NAME,
                                         optimizer=NUMBA.provided_optimizer))


if NumbaNodeLinker is not None:
    _register()


def project_linker_enabled(environ=None):
    """Whether the default mode compiles with the project's linker.

    Parameters
    ----------
    environ : mapping, optional
        ``os.environ`` by default.

    Returns
    -------
    bool
        What :func:`use_project_linker` last set; else False when
        ``INDRNN_LINKER`` is ``pytensor``, True when it is unset or
        ``indrnn``.

    Raises
    ------
    ValueError
        If ``INDRNN_LINKER`` has another value.

    Examples
    --------
    >>> project_linker_enabled({"INDRNN_LINKER": "pytensor"})
    False
    """
    if _choice is not None:
        return _choice
    environ = os.environ if environ is None else environ
    value = environ.get("INDRNN_LINKER", "indrnn").strip().lower() or "indrnn"
    if value not in _ENV_VALUES:
        raise ValueError("INDRNN_LINKER=%r: expected 'indrnn' (the project's "
                         "Numba linker, the default) or 'pytensor'"
                         % (environ["INDRNN_LINKER"],))
    return _ENV_VALUES[value]


class use_project_linker:
    """Turn the project's linker on or off for the default mode.

    Takes effect at once and for the whole process; used as a context
    manager, the previous setting comes back at the end of the block.

    Parameters
    ----------
    enabled : bool or None
        False: the default mode compiles with PyTensor's own Numba linker;
        True: with the project's; None: as ``INDRNN_LINKER`` says.

    Examples
    --------
    >>> with use_project_linker(False):
    ...     project_mode(None) is None
    True
    >>> project_mode(None).linker.__class__.__name__
    'NumbaNodeLinker'
    """

    def __init__(self, enabled=True):
        global _choice
        self.previous = _choice
        _choice = None if enabled is None else bool(enabled)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        global _choice
        _choice = self.previous


def project_mode(mode):
    """``mode``, with the project's linker if it is the default Numba mode.

    Parameters
    ----------
    mode : str, Mode or None
        A PyTensor mode; None is PyTensor's configured default
        (``config.mode``).

    Returns
    -------
    str, Mode or None
        For ``mode=None`` whose configured mode links with PyTensor's
        ``NumbaLinker`` (exactly that class), and the project's linker
        enabled (:func:`project_linker_enabled`) and importable: a mode of
        the same class with the same rewrites and the linker
        ``"indrnn_numba"``. Otherwise ``mode`` itself: ``"NUMBA"`` is
        PyTensor's own Numba linker, ``"INDRNN"`` the project's.

    Examples
    --------
    >>> type(project_mode(None).linker).__name__
    'NumbaNodeLinker'
    >>> project_mode("NUMBA"), project_mode("CVM")
    ('NUMBA', 'CVM')
    """
    global _import_warned
    if mode is not None or not project_linker_enabled():
        return mode
    try:
        resolved = get_mode(mode)
    except Exception:  # an unusual configured mode: leave it to PyTensor
        return mode
    if type(getattr(resolved, "linker", None)) is not NumbaLinker:
        return mode
    if NumbaNodeLinker is None:
        if not _import_warned:
            _import_warned = True
            warnings.warn(
                "indrnn.compile: the project's Numba linker cannot be "
                "imported (%s: %s); the default mode uses PyTensor's Numba "
                "linker" % (type(_LINKER_IMPORT_ERROR).__name__,
                            _LINKER_IMPORT_ERROR),
                LinkerFallbackWarning, stacklevel=2)
        return mode
    return type(resolved)(linker=LINKER_NAME,
                          optimizer=resolved.provided_optimizer)


def c_linker_mode(mode):
    """``mode``, without the rewrite that duplicates matmuls under the C linker.

    PyTensor's ``local_dot22_to_dot22scalar`` folds a scalar factor into a
    ``Dot22`` without checking whether the product has other clients. With
    Adam in the graph each weight gradient ``g`` is used as ``g ** 2`` and
    as ``(1 - beta1) * g``, so every weight-gradient matmul was computed
    twice (``Dot22`` and ``Dot22Scalar``): 25 instead of 19 products in the
    seq-MNIST training function (see ``benchmarks/README.md``). Only the C
    backend (``mode="CVM"`` or any mode whose linker runs C thunks) has
    that rewrite; other modes are returned unchanged.

    Parameters
    ----------
    mode : str, Mode or None
        A PyTensor compilation mode.

    Returns
    -------
    str, Mode or None
        ``mode`` itself, or a ``Mode`` excluding the rewrite.

    Examples
    --------
    >>> c_linker_mode("NUMBA")
    'NUMBA'
    >>> "local_dot22_to_dot22scalar" in c_linker_mode(
    ...     "CVM").provided_optimizer.exclude
    True
    """
    from pytensor.link.c.basic import CLinker, OpWiseCLinker
    from pytensor.link.vm import VMLinker

    try:
        resolved = get_mode(mode)
    except Exception:  # an unknown or unusual mode: leave it to PyTensor
        return mode
    linker = getattr(resolved, "linker", None)
    c_linker = isinstance(linker, (CLinker, OpWiseCLinker)) or (
        isinstance(linker, VMLinker)
        and (linker.c_thunks or (linker.c_thunks is None
                                 and bool(pytensor.config.cxx))))
    if not c_linker or not hasattr(resolved, "excluding"):
        return mode
    return resolved.excluding("local_dot22_to_dot22scalar")


def compile_function(inputs, outputs, updates=None, mode=None, cache=True):
    """``pytensor.function``, linked as the project links and cached.

    The default mode gets the project's linker (:func:`project_mode`),
    which compiles only the nodes that compute (same node code; the cold
    compile of the seq-MNIST training function about 17 s instead of
    41 s). With ``cache``, the rewritten function goes through
    :func:`indrnn.compile.cache.cached_function`: a warm start then skips
    PyTensor's graph rewriting (about 3 s of the 5 s warm compile of the
    seq-MNIST training function); the cache is keyed by the graph's
    structure, so results are those of a fresh compile.

    Parameters
    ----------
    inputs : list of Variable
    outputs : Variable or list of Variable
    updates : dict or list of (SharedVariable, Variable), optional
    mode : str, Mode or None
        A PyTensor mode; None is the configured default.
    cache : bool
        Use the disk cache of rewritten functions (also off when the
        environment sets ``INDRNN_COMPILE_CACHE=0``).

    Returns
    -------
    pytensor.compile.function.types.Function

    Examples
    --------
    >>> import numpy as np, pytensor.tensor as pt
    >>> x = pt.vector("x", dtype="float64")
    >>> f = compile_function([x], (2 * x).sum(), cache=False)
    >>> float(f(np.ones(3))), type(f.maker.linker).__name__
    (6.0, 'NumbaNodeLinker')
    """
    mode = project_mode(mode)
    if cache:
        from .cache import cached_function
        return cached_function(inputs, outputs, updates=updates, mode=mode)
    return pytensor.function(inputs, outputs, updates=updates, mode=mode)


def input_specs(function):
    """The input specifications of a compiled function, shared ones too.

    Parameters
    ----------
    function : pytensor.compile.function.types.Function

    Returns
    -------
    list of pytensor.compile.io.In
        ``Function.maker.inputs``: the explicit inputs, then the shared
        variables, each with ``variable`` and ``update`` (None if the
        function does not update it).

    Examples
    --------
    >>> import numpy as np, pytensor, pytensor.tensor as pt
    >>> w = pytensor.shared(np.ones(2), name="w")
    >>> x = pt.vector("x", dtype="float64")
    >>> f = pytensor.function([x], x, updates=[(w, 2 * w)],
    ...                       mode="FAST_COMPILE")
    >>> [(spec.variable.name, spec.update is not None)
    ...  for spec in input_specs(f)]
    [('x', False), ('w', True)]
    """
    return list(function.maker.inputs)
