"""Numba implementation of the fused batch normalisation (the default
linker).

Registers :class:`indrnn.ops.batchnorm.BatchNormTrain` and
:class:`~indrnn.ops.batchnorm.BatchNormTrainGrad` with PyTensor's
``numba_funcify`` through ``register_funcify_and_cache_key`` (compiled
kernels go to PyTensor's Numba cache).

The input is viewed as ``(n, C)`` with the features last; every pass runs
over the rows with the features innermost and per-feature float64 sums
(both forward statistics in one pass, see :mod:`indrnn.ops.batchnorm`),
so memory is read contiguously and the inner loop vectorises.  The kernels
are serial: like the recurrence kernels (see
:mod:`indrnn.link.numba.dispatch.recurrence`) they are memory-bound, and a
``prange`` version would compile slower and could not be cached.
"""
import functools
from hashlib import sha256

import numpy as np
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_and_cache_key

from ....ops.batchnorm import BatchNormTrain, BatchNormTrainGrad

__all__ = ["KERNEL_VERSION", "make_kernels"]

#: Bump when the kernels change (part of the Numba cache key).
KERNEL_VERSION = 2


@functools.lru_cache(maxsize=None)
def make_kernels(dtype):
    """Jitted ``forward(x, gamma, beta, eps)`` and
    ``backward(x, gamma, mean, inv_std, dy, dmean, dinv_std, stat_grads)``
    for one float dtype.

    Parameters
    ----------
    dtype : str
        ``"float32"`` or ``"float64"``; the kernels cast the float64 sums
        back to it where the symbolic graph does.

    Returns
    -------
    tuple of numba dispatchers
        Callable from jitted code.
    """
    cast = np.float32 if np.dtype(dtype) == np.float32 else np.float64

    @numba_basic.numba_njit
    def forward(x, gamma, beta, eps):
        C = x.shape[-1]
        if gamma.shape[0] != C or beta.shape[0] != C:
            raise ValueError("fused batch normalisation: gamma and beta "
                             "need the size of x's last axis")
        x2 = np.ascontiguousarray(x).reshape((-1, C))
        n = x2.shape[0]
        # one pass for both statistics: float64 sums of the data shifted by
        # its first row (which keeps E[d**2] - E[d]**2 free of
        # cancellation unless the spread is huge against the variance)
        shift = np.empty(C, dtype=np.float64)
        s1 = np.zeros(C, dtype=np.float64)
        s2 = np.zeros(C, dtype=np.float64)
        if n > 0:
            for c in range(C):
                shift[c] = x2[0, c]
        for i in range(n):
            for c in range(C):
                d = np.float64(x2[i, c]) - shift[c]
                s1[c] += d
                s2[c] += d * d
        mean = np.empty(C, dtype=x.dtype)
        inv_std = np.empty(C, dtype=x.dtype)
        scale = np.empty(C, dtype=x.dtype)
        for c in range(C):
            m1 = s1[c] / n
            mean[c] = cast(shift[c] + m1)
            var = max(s2[c] / n - m1 * m1, 0.0)
            inv_std[c] = cast(1) / np.sqrt(cast(var) + eps)
            scale[c] = gamma[c] * inv_std[c]
        y = np.empty((n, C), dtype=x.dtype)
        for i in range(n):
            for c in range(C):
                y[i, c] = (x2[i, c] - mean[c]) * scale[c] + beta[c]
        return y.reshape(x.shape), mean, inv_std

    @numba_basic.numba_njit
    def backward(x, gamma, mean, inv_std, dy, dmean, dinv_std, stat_grads):
        C = x.shape[-1]
        if (gamma.shape[0] != C or mean.shape[0] != C
                or inv_std.shape[0] != C or dy.shape != x.shape):
            raise ValueError("fused batch normalisation: inconsistent "
                             "shapes in the gradient")
        x2 = np.ascontiguousarray(x).reshape((-1, C))
        dy2 = np.ascontiguousarray(dy).reshape((-1, C))
        n = x2.shape[0]
        sdy = np.zeros(C, dtype=np.float64)
        sdyxc = np.zeros(C, dtype=np.float64)
        sxc = np.zeros(C, dtype=np.float64)
        for i in range(n):
            for c in range(C):
                d = x2[i, c] - mean[c]
                g = dy2[i, c]
                sdy[c] += g
                sdyxc[c] += g * d
                sxc[c] += d
        ca = np.empty(C, dtype=x.dtype)
        cb = np.empty(C, dtype=x.dtype)
        cc = np.empty(C, dtype=x.dtype)
        dgamma = np.empty(C, dtype=x.dtype)
        dbeta = np.empty(C, dtype=x.dtype)
        dn = float(n)
        for c in range(C):
            g = float(gamma[c])
            s = float(inv_std[c])
            a = g * s
            dinv = sdyxc[c] * g
            if stat_grads:
                dinv += float(dinv_std[c])
            dvar = -0.5 * dinv * s * s * s
            dm = -a * sdy[c] - 2.0 * dvar * sxc[c] / dn
            if stat_grads:
                dm += float(dmean[c])
            ca[c] = a
            cb[c] = 2.0 * dvar / dn
            cc[c] = dm / dn
            dgamma[c] = sdyxc[c] * s
            dbeta[c] = sdy[c]
        dx = np.empty((n, C), dtype=x.dtype)
        for i in range(n):
            for c in range(C):
                dx[i, c] = (dy2[i, c] * ca[c] + (x2[i, c] - mean[c]) * cb[c]
                            + cc[c])
        return dx.reshape(x.shape), dgamma, dbeta

    return forward, backward


def _cache_key(op, node, kind):
    props = tuple(op._props_dict().items())
    return sha256(repr((
        "indrnn.ops.batchnorm", kind, props, node.outputs[0].type.dtype,
        node.inputs[0].type.ndim, KERNEL_VERSION)).encode()).hexdigest()


@register_funcify_and_cache_key(BatchNormTrain)
def numba_funcify_BatchNormTrain(op, node, **kwargs):
    """Numba implementation of :class:`BatchNormTrain`.

    Parameters
    ----------
    op : BatchNormTrain
    node : Apply

    Returns
    -------
    tuple
        The jitted function and its cache key.
    """
    dtype = node.outputs[0].type.dtype
    kernel, _ = make_kernels(dtype)
    eps = np.dtype(dtype).type(op.epsilon)

    @numba_basic.numba_njit
    def batch_norm_train(x, gamma, beta):
        return kernel(x, gamma, beta, eps)

    return batch_norm_train, _cache_key(op, node, "forward")


@register_funcify_and_cache_key(BatchNormTrainGrad)
def numba_funcify_BatchNormTrainGrad(op, node, **kwargs):
    """Numba implementation of :class:`BatchNormTrainGrad`.

    Parameters
    ----------
    op : BatchNormTrainGrad
    node : Apply

    Returns
    -------
    tuple
        The jitted function and its cache key.
    """
    _, kernel = make_kernels(node.outputs[0].type.dtype)
    if op.stat_grads:
        @numba_basic.numba_njit
        def batch_norm_train_grad(x, gamma, mean, inv_std, dy, dmean,
                                  dinv_std):
            return kernel(x, gamma, mean, inv_std, dy, dmean, dinv_std,
                          True)
    else:
        @numba_basic.numba_njit
        def batch_norm_train_grad(x, gamma, mean, inv_std, dy):
            return kernel(x, gamma, mean, inv_std, dy, mean, mean, False)
    return batch_norm_train_grad, _cache_key(op, node, "backward")
