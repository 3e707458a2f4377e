"""Matrix products of :class:`~indrnn.compile.linker.NumbaNodeLinker`.

The node linker runs ``Dot`` through numpy's BLAS. On a machine with at
most 2 CPUs, :mod:`indrnn._runtime` keeps OpenBLAS at one thread (a
second OpenBLAS thread spins while it waits and makes everything several
times slower as soon as another process wants the CPU). A product whose
left operand is stored row by row is then split by rows between the
calling thread and a pool thread, each calling single-threaded BLAS on its
block: the seq-MNIST input projections and their input gradients
(25088 x 128 by 128 x 128) take 4.1 and 5.1 ms instead of 7.9 and 7.5 ms
on the 2-CPU machine, and the pool thread sleeps, not spins, between
products. A product whose left operand is a transposed view (the
weight gradients, ``X.T @ dY``) is not split: its row blocks are strided
and took twice as long. Instead the node linker starts it on the pool
thread (:func:`run_in_background`) as soon as its operands exist and
goes on with the graph (the input gradient ``dY @ W.T`` among the next
nodes), waiting for it before its result is read or its operands are
written over: the two gradient products of a layer took 9.7 ms together
instead of 15-17 ms one after the other.

What the split promises:

* the same bits on every call with the same operands, in every process
  on the machine (so a rerun and a resumed run repeat a run exactly):
  whether a product is split, and where, follows from the shapes, the
  layout and the generated program alone, never from timing (the linker
  decides when it generates the program that no product is split while a
  background product may run; the block bounds follow from the rows);
* equal to the unsplit product to round-off; bit for bit on the machines
  measured (Intel Xeon, AMD EPYC: ``benchmarks/split_products.py`` prints
  it for the machine at hand), but OpenBLAS does not promise it: each row
  block is computed by the same BLAS routine over the same inner
  dimension, yet OpenBLAS may pick another kernel for another number of
  rows.

Neither the split nor the unsplit product is bit for bit the product of
PyTensor's own Numba linker, which calls BLAS through Numba's binding
rather than numpy: on an AMD EPYC machine the float32 weight gradient
``x.T @ dY`` differed by a few ulps (up to 1.5e-5), float64 by 1e-12.

``INDRNN_DOT_THREADS`` sets the number of threads (``1`` turns both the
split and the background products off); by default it is the number of
usable CPUs, at most 4, when BLAS runs on one thread, and 1 otherwise.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from pytensor.tensor.math import Dot

from .._runtime import BLAS_THREAD_VARS

__all__ = ["dot_function", "dot_threads", "is_float_matrix_product",
           "run_in_background", "MIN_SPLIT_WORK"]

#: Smallest product (multiply-adds) that is split: handing a block to the
#: pool thread costs some tens of microseconds.
MIN_SPLIT_WORK = 2 ** 22

#: Fewest rows per block.
MIN_ROWS = 64

_pool = None
_pool_lock = threading.Lock()


def dot_threads(environ=None, cpus=None):
    """How many threads a split product uses.

    Parameters
    ----------
    environ : mapping, optional
        ``os.environ`` by default.
    cpus : int, optional
        Usable CPUs; those of this process by default.

    Returns
    -------
    int
        ``INDRNN_DOT_THREADS`` if set; else ``min(cpus, 4)`` when one of
        the BLAS thread variables is ``1`` (as :mod:`indrnn._runtime` sets
        on machines with at most 2 CPUs), else 1.

    Raises
    ------
    ValueError
        If ``INDRNN_DOT_THREADS`` is not a positive integer.

    Examples
    --------
    >>> dot_threads({"OPENBLAS_NUM_THREADS": "1"}, cpus=2)
    2
    >>> dot_threads({}, cpus=16)
    1
    >>> dot_threads({"INDRNN_DOT_THREADS": "1", "OMP_NUM_THREADS": "1"}, 8)
    1
    """
    environ = os.environ if environ is None else environ
    value = environ.get("INDRNN_DOT_THREADS")
    if value is not None:
        try:
            threads = int(value)
        except ValueError:
            threads = 0
        if threads < 1:
            raise ValueError(
                "INDRNN_DOT_THREADS=%r: expected a positive integer (1 "
                "turns the split of matrix products off)" % (value,))
        return threads
    if cpus is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cpus = os.cpu_count() or 1
    single_blas = any(environ.get(name) == "1" for name in BLAS_THREAD_VARS)
    return min(cpus, 4) if single_blas else 1


def _forget_pool():
    # A forked child has the pool object but not its threads: work handed
    # to it would never run. The child starts a pool of its own.
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def run_in_background(func, *args):
    """Start ``func(*args)`` on the product threads' pool.

    Parameters
    ----------
    func : callable
        A product that releases the GIL (numpy BLAS).
    *args
        Its arguments.

    Returns
    -------
    concurrent.futures.Future
        ``.result()`` gives the product or raises its error.
    """
    return _executor(max(2, dot_threads())).submit(func, *args)


def _executor(threads):
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < threads - 1:
            _pool = ThreadPoolExecutor(max_workers=threads - 1,
                                       thread_name_prefix="indrnn-dot")
        return _pool


def is_float_matrix_product(node):
    """Whether ``node`` is a ``Dot`` of two float matrices whose output
    dtype is numpy's for the inputs (what :func:`dot_function` handles).

    Parameters
    ----------
    node : Apply

    Returns
    -------
    bool
    """
    if not isinstance(node.op, Dot):
        return False
    a_var, b_var = node.inputs
    out_dtype = np.dtype(node.outputs[0].type.dtype)
    return ((a_var.type.ndim, b_var.type.ndim) == (2, 2)
            and out_dtype.kind == "f"
            and np.result_type(a_var.type.dtype,
                               b_var.type.dtype) == out_dtype)


def dot_function(node, threads=None):
    """``f(a, b)`` computing ``node`` (a ``Dot`` of matrices), rows split.

    Parameters
    ----------
    node : Apply
    threads : int, optional
        :func:`dot_threads` by default.

    Returns
    -------
    callable or None
        None unless ``node`` is a ``Dot`` of two float matrices whose
        output dtype is numpy's for the inputs, or when ``threads`` is 1.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> a, b = pt.matrix("a"), pt.matrix("b")
    >>> f = dot_function(pt.dot(a, b).owner, threads=2)
    >>> x = np.ones((4096, 64), dtype=a.dtype)
    >>> bool((f(x, x.T[:, :64]) == 64).all())
    True
    """
    threads = dot_threads() if threads is None else threads
    if threads < 2 or not is_float_matrix_product(node):
        return None

    def split_matmul(a, b):
        rows, inner = a.shape
        cols = b.shape[1]
        parts = min(threads, rows // MIN_ROWS)
        if (parts < 2 or rows * inner * cols < MIN_SPLIT_WORK
                or a.strides[0] < a.strides[1]):
            return np.matmul(a, b)
        out = np.empty((rows, cols), dtype=np.result_type(a, b))
        bounds = [rows * i // parts for i in range(parts + 1)]
        pool = _executor(threads)
        pending = [pool.submit(np.matmul, a[lo:hi], b, out=out[lo:hi])
                   for lo, hi in zip(bounds[1:-1], bounds[2:])]
        np.matmul(a[:bounds[1]], b, out=out[:bounds[1]])
        for future in pending:
            future.result()
        return out

    return split_matmul
