"""Numba implementation of the fused IndRNN recurrence (the default linker).

Registers :class:`indrnn.ops.recurrence.IndRNNRecurrence` and
:class:`~indrnn.ops.recurrence.IndRNNRecurrenceGrad` with PyTensor's
``numba_funcify`` (through ``register_funcify_and_cache_key``, so that the
compiled kernels go to PyTensor's Numba cache and a warm start does not
recompile them).

Within a kernel time is the outer loop and the ``B * N`` independent
chains the inner ones, so every step streams through contiguous memory and
the activation is vectorised.

Threads: the chains are independent, so the kernels can split the batch
into one chunk per Numba thread and run the whole time loop inside a single
parallel region (``prange`` over the chunks; one launch per call, not per
step; ``parallel=True`` in :func:`make_kernels`).  On the 2-core
machines this project targets that did not pay: the kernels are
memory-bound (T=784, B=32, N=128, float32: forward about 1.0 ms serial vs
1.1 ms with 2 threads, backward 2.7 ms vs 4.6 ms, ``workqueue`` layer),
the parallel version compiles about 4x slower (8 s vs 2 s) and Numba
cannot cache a function that calls a parfor from PyTensor's graph (it
warns "Cannot cache compiled function ... dynamic globals").  So the
registered implementation is serial (:data:`PARALLEL`); the benchmark
script times both.

The kernels are specialised on the activation; direction, mask flag and clip value are runtime arguments (see
:func:`_kernels`), and each Op gets a one-line jitted wrapper.  The cache key holds the Op's
properties, the dtype (the wrappers pass float constants typed like the
arrays, so that float32 stays float32) and :data:`KERNEL_VERSION`.
"""
import functools
from hashlib import sha256

import numba
import numpy as np
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_and_cache_key

from ....ops.recurrence import IndRNNRecurrence, IndRNNRecurrenceGrad

__all__ = ["KERNEL_VERSION", "PARALLEL", "make_kernels"]

#: Bump when the kernels change (part of the Numba cache key).
KERNEL_VERSION = 4

#: Whether the registered kernels use ``prange`` over batch chunks (see
#: the module docstring for why not).
PARALLEL = False


@numba_basic.numba_njit(inline="always")
def _check_shapes(x, u, h0, mask, masked):
    # the kernels index without bounds checks
    T, B, N = x.shape
    if u.shape[0] != N or h0.shape[0] != B or h0.shape[1] != N:
        raise ValueError("IndRNN recurrence: x (T, B, N) needs u (N,) and "
                         "h0 (B, N)")
    if masked and (mask.shape[0] != T or mask.shape[1] != B):
        raise ValueError("IndRNN recurrence: x (T, B, N) needs a mask "
                         "(T, B)")


RELU, TANH, IDENTITY = 0, 1, 2
_ACTIVATION_CODES = {"relu": RELU, "tanh": TANH, "identity": IDENTITY}


@functools.lru_cache(maxsize=None)
def _kernels(act, parallel):
    """The forward and backward kernels of one activation.

    The activation is a compile-time constant (it sits in the vectorised
    inner loop).  The direction, the mask flag and the clip value are
    runtime arguments (cheap, loop-invariant branches), so a network whose layers differ only in those shares one
    compiled kernel per dtype and layout; the float constants are passed
    in, typed like the arrays, so that float32 stays float32.  The
    ``lru_cache`` makes every Op of a process reuse the same dispatchers.
    """
    chunked = numba.prange if parallel else range

    @numba_basic.numba_njit(parallel=parallel)
    def forward(x, u, h0, mask, backwards, masked, zero):
        T, B, N = x.shape
        _check_shapes(x, u, h0, mask, masked)
        H = np.empty((T, B, N), dtype=x.dtype)
        n_chunks = min(B, numba.get_num_threads()) if parallel else 1
        for c in chunked(n_chunks):
            b_start = c * B // n_chunks
            b_stop = (c + 1) * B // n_chunks
            for k in range(T):
                t = T - 1 - k if backwards else k
                for b in range(b_start, b_stop):
                    h_prev = H[k - 1, b] if k > 0 else h0[b]
                    h_new = H[k, b]
                    if masked and mask[t, b] == 0:
                        for n in range(N):
                            h_new[n] = h_prev[n]
                        continue
                    x_t = x[t, b]
                    if act == RELU:
                        for n in range(N):
                            p = x_t[n] + u[n] * h_prev[n]
                            # NaN stays NaN, like 0.5 * (x + |x|)
                            h_new[n] = zero if p <= zero else p
                    elif act == TANH:
                        for n in range(N):
                            h_new[n] = np.tanh(x_t[n] + u[n] * h_prev[n])
                    else:
                        for n in range(N):
                            h_new[n] = x_t[n] + u[n] * h_prev[n]
        return H

    @numba_basic.numba_njit(parallel=parallel)
    def backward(x, u, h0, mask, H, dH, backwards, masked, clip, zero, half,
                 one):
        T, B, N = x.shape
        _check_shapes(x, u, h0, mask, masked)
        if (H.shape[0] != T or H.shape[1] != B or H.shape[2] != N
                or dH.shape[0] != T or dH.shape[1] != B or dH.shape[2] != N):
            raise ValueError("IndRNN recurrence gradient: H and dH must "
                             "have the shape of x")
        clipping = clip > zero
        dx = np.empty((T, B, N), dtype=x.dtype)
        # dh0 holds the gradient carried to the previous step until the
        # loop ends, when it is the gradient of h0
        dh0 = np.zeros((B, N), dtype=x.dtype)
        n_chunks = min(B, numba.get_num_threads()) if parallel else 1
        du_parts = np.zeros((n_chunks, N), dtype=x.dtype)
        for c in chunked(n_chunks):
            b_start = c * B // n_chunks
            b_stop = (c + 1) * B // n_chunks
            du_c = du_parts[c]
            for k in range(T - 1, -1, -1):
                t = T - 1 - k if backwards else k
                for b in range(b_start, b_stop):
                    carry = dh0[b]
                    dH_k = dH[k, b]
                    dx_t = dx[t, b]
                    if masked and mask[t, b] == 0:
                        # switch: all of the gradient goes to h_{t-1}, the
                        # pre-activation gets clip(0) = 0
                        for n in range(N):
                            dx_t[n] = zero
                            carry[n] += dH_k[n]
                        continue
                    h_prev = H[k - 1, b] if k > 0 else h0[b]
                    h_k = H[k, b]
                    x_t = x[t, b]
                    for n in range(N):
                        g = dH_k[n] + carry[n]
                        if act == RELU:
                            # the gradient of 0.5 * (x + |x|): 0.5 at 0
                            if h_k[n] > zero:
                                d = g
                            elif x_t[n] + u[n] * h_prev[n] == zero:
                                d = g * half
                            else:
                                d = g * zero
                        elif act == TANH:
                            d = g * (one - h_k[n] * h_k[n])
                        else:
                            d = g
                        if clipping:
                            d = min(max(d, -clip), clip)
                        dx_t[n] = d
                        du_c[n] += d * h_prev[n]
                        carry[n] = d * u[n]
        # plain loops: array expressions cost seconds of compile time
        du = np.zeros(N, dtype=x.dtype)
        for c in range(n_chunks):
            for n in range(N):
                du[n] += du_parts[c, n]
        return dx, du, dh0

    return forward, backward


def make_kernels(activation, grad_clip, backwards, masked, dtype,
                 parallel=PARALLEL):
    """Jitted ``forward(x, u, h0, mask)`` and
    ``backward(x, u, h0, mask, H, dH)`` for one configuration.

    Parameters
    ----------
    activation : {"relu", "tanh", "identity"}
    grad_clip : float
        0 for no clipping.
    backwards, masked : bool
        Without `masked`, the ``mask`` argument is ignored (any 2-d array
        of the dtype).
    dtype : str or numpy dtype
        The float dtype of the arrays.
    parallel : bool
        Use the ``prange`` kernels (compiled on first use).

    Returns
    -------
    tuple of numba dispatchers
        Callable only from jitted code (no CPython wrapper), e.g. from a
        ``numba.njit`` function.
    """
    dtype = np.dtype(dtype).type
    fwd, bwd = _kernels(_ACTIVATION_CODES[activation], bool(parallel))
    backwards, masked = bool(backwards), bool(masked)
    zero, half, one, clip = dtype(0), dtype(0.5), dtype(1), dtype(grad_clip)

    @numba_basic.numba_njit
    def forward(x, u, h0, mask):
        return fwd(x, u, h0, mask, backwards, masked, zero)

    @numba_basic.numba_njit
    def backward(x, u, h0, mask, H, dH):
        return bwd(x, u, h0, mask, H, dH, backwards, masked, clip, zero,
                   half, one)

    return forward, backward


def _cache_key(op, node, kind):
    props = tuple(op._props_dict().items())
    return sha256(repr((
        "indrnn.ops.recurrence", kind, props, node.outputs[0].type.dtype,
        KERNEL_VERSION, PARALLEL)).encode()).hexdigest()


@register_funcify_and_cache_key(IndRNNRecurrence)
def numba_funcify_IndRNNRecurrence(op, node, **kwargs):
    """Numba implementation of :class:`IndRNNRecurrence`.

    Parameters
    ----------
    op : IndRNNRecurrence
    node : Apply

    Returns
    -------
    tuple
        The jitted function and its cache key.
    """
    kernel, _ = make_kernels(op.activation, op.grad_clip, op.backwards,
                             op.masked, node.outputs[0].type.dtype)
    if op.masked:
        @numba_basic.numba_njit
        def indrnn_recurrence(x, u, h0, mask):
            return kernel(x, u, h0, mask)
    else:
        @numba_basic.numba_njit
        def indrnn_recurrence(x, u, h0):
            return kernel(x, u, h0, np.empty((0, 0), dtype=x.dtype))
    return indrnn_recurrence, _cache_key(op, node, "forward")


@register_funcify_and_cache_key(IndRNNRecurrenceGrad)
def numba_funcify_IndRNNRecurrenceGrad(op, node, **kwargs):
    """Numba implementation of :class:`IndRNNRecurrenceGrad`.

    Parameters
    ----------
    op : IndRNNRecurrenceGrad
    node : Apply

    Returns
    -------
    tuple
        The jitted function and its cache key.
    """
    _, kernel = make_kernels(op.activation, op.grad_clip, op.backwards,
                             op.masked, node.outputs[0].type.dtype)
    if op.masked:
        @numba_basic.numba_njit
        def indrnn_recurrence_grad(x, u, h0, mask, H, dH):
            return kernel(x, u, h0, mask, H, dH)
    else:
        @numba_basic.numba_njit
        def indrnn_recurrence_grad(x, u, h0, H, dH):
            return kernel(x, u, h0, np.empty((0, 0), dtype=x.dtype), H, dH)
    return indrnn_recurrence_grad, _cache_key(op, node, "backward")
