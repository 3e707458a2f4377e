"""Thread defaults for numpy's BLAS and for Numba.

:func:`configure_threads` is called at the very top of
``indrnn/__init__.py``, before anything imports numpy, because OpenBLAS
reads ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` once, when numpy
loads it; setting them later has no effect on the running process.  This
module must therefore not import numpy, numba or pytensor at module level.

Why these defaults (see ``benchmarks/README.md`` for the measurements):

* On a machine with at most 2 CPUs, a second OpenBLAS thread speeds up a
  large float32 matmul by about 1.3-1.5x when the machine is otherwise
  idle and a recurrent training step by a few percent, but makes both
  several times slower as soon as another process competes for the CPUs
  (OpenBLAS threads spin while they wait).  One thread is the predictable
  choice there.  On larger machines nothing is changed.
* ``NUMBA_THREADING_LAYER=workqueue`` selects the threading layer built
  into Numba.  Numba's default tries TBB, then OpenMP, then workqueue, so
  the layer (and whether a second OpenMP runtime is loaded next to
  OpenBLAS's threads) would otherwise depend on what happens to be
  installed.

A value the user has already set is never changed.
"""
import dataclasses
import logging
import os
import sys

__all__ = ["ThreadSettings", "configure_threads", "BLAS_THREAD_VARS",
           "configure_fastmath", "FASTMATH_FLAG",
           "configure_malloc", "MALLOC_VARS"]

_log = logging.getLogger(__name__)

#: Environment variables that choose the number of BLAS threads.  If the
#: user set any of them, the BLAS thread count is left alone entirely:
#: OpenBLAS falls back from ``OPENBLAS_NUM_THREADS`` to ``GOTO_NUM_THREADS``
#: to ``OMP_NUM_THREADS``, so setting one of ours would override theirs.
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS",
                    "OMP_NUM_THREADS", "MKL_NUM_THREADS")

#: The machines (``os.cpu_count()``) on which BLAS is limited to 1 thread.
MAX_CPUS_FOR_SINGLE_BLAS_THREAD = 2


@dataclasses.dataclass
class ThreadSettings:
    """What :func:`configure_threads` did.

    Parameters
    ----------
    set_env : dict
        Environment variables this call set, name -> value.
    kept_env : dict
        Relevant variables the user had already set (left unchanged),
        name -> value.
    numpy_already_imported : bool
        True when numpy was loaded before the call, so BLAS variables in
        `set_env` cannot affect this process (they still reach child
        processes).
    blas_limited_at_runtime : bool
        True when the BLAS of this process, already loaded, was limited to
        one thread with ``threadpoolctl`` instead.
    """

    set_env: dict = dataclasses.field(default_factory=dict)
    kept_env: dict = dataclasses.field(default_factory=dict)
    numpy_already_imported: bool = False
    blas_limited_at_runtime: bool = False


def _limit_loaded_blas(n_threads):
    """Limit an already-loaded BLAS to `n_threads` with threadpoolctl.

    Parameters
    ----------
    n_threads : int
        Maximum number of BLAS threads.

    Returns
    -------
    bool
        True if ``threadpoolctl`` is installed and the limit was applied,
        False otherwise (threadpoolctl is optional, not a dependency).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    # Called as a plain function (not a context manager) the limit stays
    # in force for the rest of the process.
    threadpool_limits(limits=n_threads, user_api="blas")
    return True


def configure_threads(environ=None, cpu_count=None):
    """Set thread defaults for BLAS and Numba unless the user chose them.

    * ``NUMBA_THREADING_LAYER`` is set to ``"workqueue"`` if unset.
    * If ``cpu_count <= 2`` and none of :data:`BLAS_THREAD_VARS` is set,
      ``OPENBLAS_NUM_THREADS`` and ``OMP_NUM_THREADS`` are set to ``"1"``.

    The BLAS variables only take effect if numpy has not been imported yet,
    so call this before importing numpy (``indrnn/__init__.py`` does).  If
    numpy is already loaded, the result says so, and the loaded BLAS is
    limited through ``threadpoolctl`` when that package is installed; no
    warning is emitted, only a debug log record.

    Parameters
    ----------
    environ : mutable mapping, optional
        The environment to read and update; ``os.environ`` by default.
    cpu_count : int, optional
        Number of CPUs; ``os.cpu_count()`` by default.

    Returns
    -------
    ThreadSettings
        What was set, what was kept, and whether numpy was already loaded.

    Examples
    --------
    >>> env = {}
    >>> configure_threads(env, cpu_count=2).set_env == env
    True
    >>> env["OPENBLAS_NUM_THREADS"], env["NUMBA_THREADING_LAYER"]
    ('1', 'workqueue')
    >>> env = {"OMP_NUM_THREADS": "4"}
    >>> configure_threads(env, cpu_count=2).kept_env
    {'OMP_NUM_THREADS': '4'}
    >>> sorted(configure_threads({}, cpu_count=8).set_env)
    ['NUMBA_THREADING_LAYER']
    """
    if environ is None:
        environ = os.environ
    if cpu_count is None:
        cpu_count = os.cpu_count() or 1
    result = ThreadSettings(numpy_already_imported="numpy" in sys.modules)

    if "NUMBA_THREADING_LAYER" in environ:
        result.kept_env["NUMBA_THREADING_LAYER"] = (
            environ["NUMBA_THREADING_LAYER"])
    else:
        environ["NUMBA_THREADING_LAYER"] = "workqueue"
        result.set_env["NUMBA_THREADING_LAYER"] = "workqueue"
        # Numba reads the variable when it is imported but picks the layer
        # only at the first parallel launch, so an imported Numba can still
        # be told.
        numba = sys.modules.get("numba")
        if numba is not None and environ is os.environ:
            numba.config.THREADING_LAYER = "workqueue"

    user_blas = {name: environ[name] for name in BLAS_THREAD_VARS
                 if name in environ}
    result.kept_env.update(user_blas)
    if not user_blas and cpu_count <= MAX_CPUS_FOR_SINGLE_BLAS_THREAD:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
            environ[name] = "1"
            result.set_env[name] = "1"
        # Only the real environment describes this process; a mapping
        # passed in by a caller must not limit the threads of this one.
        if result.numpy_already_imported and environ is os.environ:
            result.blas_limited_at_runtime = _limit_loaded_blas(1)
            _log.debug(
                "numpy was imported before indrnn.configure_threads(); "
                "OPENBLAS_NUM_THREADS=1 only reaches child processes%s. "
                "Import indrnn before numpy to limit BLAS threads here.",
                " (limited now with threadpoolctl)"
                if result.blas_limited_at_runtime else "")
    return result


#: glibc ``mallopt`` parameters (from ``malloc.h``).
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3

#: The environment variables through which a user tunes glibc's malloc
#: himself; if any is set, :func:`configure_malloc` changes nothing.
MALLOC_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
               "MALLOC_TOP_PAD_", "MALLOC_ARENA_MAX")


def configure_malloc(environ=None):
    """Keep freed memory inside the process (glibc on Linux only).

    A training step allocates and frees the same large temporaries on every
    call. With glibc's defaults the freed memory goes back to the kernel
    and the next step faults it in again, page by page: about 250 MiB per
    step for the 6-layer sequential-MNIST network, 30-40 % of the step
    (``benchmarks/README.md``, "page faults"). This sets what the
    ``MALLOC_MMAP_THRESHOLD_=32MiB``, ``MALLOC_TRIM_THRESHOLD_`` and
    ``MALLOC_TOP_PAD_=512MiB`` environment variables would, through
    ``mallopt``, since the variables only work when set before the process
    starts. The process then keeps its peak memory instead of returning it.

    Nothing is changed when the user set one of :data:`MALLOC_VARS` or
    ``INDRNN_MALLOC=default``, or on another C library.

    Parameters
    ----------
    environ : mapping, optional
        The environment to read; ``os.environ`` when omitted.

    Returns
    -------
    bool
        Whether the settings were applied.

    Examples
    --------
    >>> configure_malloc({"INDRNN_MALLOC": "default"})
    False
    """
    environ = os.environ if environ is None else environ
    if environ.get("INDRNN_MALLOC", "") == "default":
        return False
    if any(name in environ for name in MALLOC_VARS):
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        gnu_get_libc_version = libc.gnu_get_libc_version  # glibc only
    except (OSError, AttributeError):
        return False
    del gnu_get_libc_version
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    settings = ((_M_MMAP_THRESHOLD, 32 * 2 ** 20),
                (_M_TRIM_THRESHOLD, 2 ** 31 - 1),
                (_M_TOP_PAD, 2 ** 29))
    return all(mallopt(param, value) == 1 for param, value in settings)


#: PyTensor's flag for Numba's ``fastmath`` (its default is on).
FASTMATH_FLAG = "numba__fastmath"


def _flag_names(pytensor_flags):
    return {item.split("=", 1)[0].strip()
            for item in pytensor_flags.split(",") if item.strip()}


def configure_fastmath(environ=None, config=None):
    """Turn Numba's ``fastmath`` off unless ``PYTENSOR_FLAGS`` sets it.

    With ``fastmath`` (PyTensor's default) LLVM may reassociate float
    arithmetic, and a function compiled in this process then computes
    other bits than the same function loaded from Numba's disk cache by the
    next one: Numba merges the separately compiled copy of a callee into
    the caller by symbol name, while the cached caller carries its own,
    re-optimised copy. A first (cold) run of a configuration and every
    later (warm) run then differ, and so does a run resumed after it
    (issue 19: 17 of 17 parameter arrays after 100 char-PTB steps).
    Without ``fastmath`` no copy may change the arithmetic, so a cold and
    a warm run give the same bits; the training step is as fast within
    the noise of ``benchmarks/training_step.py`` (``benchmarks/README.md``).
    The original Theano code did not use fast-math either.

    ``PYTENSOR_FLAGS=numba__fastmath=True`` keeps PyTensor's default (and
    gives up that promise). Called by ``indrnn/__init__.py`` after the
    thread defaults (it imports PyTensor); it sets ``pytensor.config``,
    not the environment, so child processes still see the user's own
    ``PYTENSOR_FLAGS`` (or none, which a ``THEANO_FLAGS`` translation
    needs). The Numba functions read the flag when they are compiled.

    Parameters
    ----------
    environ : mapping, optional
        The environment to read; ``os.environ`` by default.
    config : object, optional
        What to set ``numba__fastmath`` on; ``pytensor.config`` by default.

    Returns
    -------
    bool
        Whether this call turned ``fastmath`` off (False when the user's
        ``PYTENSOR_FLAGS`` names the flag).

    Examples
    --------
    >>> import types
    >>> config = types.SimpleNamespace(numba__fastmath=True)
    >>> configure_fastmath({"PYTENSOR_FLAGS": "floatX=float32"}, config)
    True
    >>> config.numba__fastmath
    False
    >>> configure_fastmath({"PYTENSOR_FLAGS": "numba__fastmath=True"}, config)
    False
    """
    environ = os.environ if environ is None else environ
    if FASTMATH_FLAG in _flag_names(environ.get("PYTENSOR_FLAGS", "")):
        return False
    if config is None:
        from pytensor import config
    config.numba__fastmath = False
    return True
