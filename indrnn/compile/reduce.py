"""Sums over one axis for :class:`~indrnn.compile.linker.NumbaNodeLinker`.

PyTensor's Numba code for ``Sum`` handles any axes, layouts and strides;
compiling it pulls in Numba's sort and error-formatting machinery, about
5 s of a cold compile of the seq-MNIST training function for its two
sums. The sums of a training graph (bias gradients, softmax
normalisers) are over one axis, and this module's kernel computes them
in about 0.3 s of compile time and at the same speed.

The kernel adds along the reduced axis in index order in the
accumulator dtype (float64 for ``Sum{acc=float64}``), then casts to the
output dtype. PyTensor's code, compiled with ``fastmath``, may reassociate
the additions, so the two agree to round-off of the accumulator dtype,
not always bit for bit.
"""
import math

import numba
import numpy as np
from pytensor.scalar.basic import Add
from pytensor.tensor.elemwise import CAReduce

__all__ = ["sum_function"]


@numba.njit(cache=True, nogil=True)
def _sum_middle_axis(x, out):  # pragma: no cover - runs compiled
    """``out[p, q] += x[p, k, q]`` for k in order (``out`` starts at 0)."""
    for p in range(x.shape[0]):
        for k in range(x.shape[1]):
            for q in range(x.shape[2]):
                out[p, q] += x[p, k, q]


def sum_function(node):
    """``f(x)`` summing like ``node`` if it is a one-axis float sum.

    Parameters
    ----------
    node : Apply

    Returns
    -------
    callable or None
        None unless ``node.op`` is a ``CAReduce`` with ``Add`` over exactly
        one axis of a float input, with float accumulator and output
        dtypes.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> x = pt.matrix("x", dtype="float32")
    >>> node = x.sum(axis=0, acc_dtype="float64").owner
    >>> f = sum_function(node)
    >>> f(np.ones((3, 2), dtype="float32"))
    array([3., 3.], dtype=float32)
    """
    op = node.op
    if not (isinstance(op, CAReduce) and isinstance(op.scalar_op, Add)):
        return None
    axes = op.axis
    [x_var] = node.inputs
    if axes is None or len(axes) != 1 or x_var.type.ndim == 0:
        return None
    acc_dtype = getattr(op, "acc_dtype", None)
    out_dtype = node.outputs[0].type.dtype
    if not all(dtype is not None and np.dtype(dtype).kind == "f"
               for dtype in (x_var.type.dtype, acc_dtype, out_dtype)):
        return None
    axis = axes[0]
    acc_dtype, out_dtype = np.dtype(acc_dtype), np.dtype(out_dtype)

    def sum_over_axis(x):
        shape = x.shape
        outer = math.prod(shape[:axis])
        inner = math.prod(shape[axis + 1:])
        out = np.zeros((outer, inner), dtype=acc_dtype)
        _sum_middle_axis(x.reshape(outer, shape[axis], inner), out)
        return out.reshape(shape[:axis] + shape[axis + 1:]).astype(
            out_dtype, copy=False)

    return sum_over_axis
