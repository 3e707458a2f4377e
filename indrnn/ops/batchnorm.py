"""A fused training-mode batch normalisation: one Op for the forward pass
and one for its gradient.

Over an input ``x`` whose last axis holds the ``C`` features and whose
leading axes (``n`` elements per feature) are normalised over, the forward
Op :class:`BatchNormTrain` computes, as
:class:`indrnn.lasagne.layers.BatchNormLayer` does symbolically,

.. math::

    \\mu = \\frac{1}{n}\\sum x, \\quad
    \\sigma^{-1} = 1 / \\sqrt{\\tfrac{1}{n}\\sum (x - \\mu)^2 + \\epsilon},
    \\quad
    y = (x - \\mu) (\\gamma \\sigma^{-1}) + \\beta,

and returns ``(y, mean, inv_std)`` (the statistics feed the running
averages).  The sums accumulate in float64, as PyTensor's ``Sum`` does for
float32 inputs; everything else runs in the input dtype, in the order the
symbolic graph uses.  The gradient Op :class:`BatchNormTrainGrad` returns
``(dx, dgamma, dbeta)`` from one reduction pass and one element-wise pass,
with the gradient flowing through ``mean`` and ``inv_std`` exactly as the
symbolic graph's does (including the round-off sized ``sum(x - mean)``
term of the variance's own mean), plus cotangents of the ``mean`` and
``inv_std`` outputs when they are used (``stat_grads``).

The one difference in the arithmetic: the forward Op takes both statistics
in one pass over ``x`` (the symbolic graph takes two), from float64 sums
of ``x`` shifted by its first row: ``mean = shift + s1 / n`` and ``var =
s2 / n - (s1 / n)**2``.  With the shift (a sample of the data, so within a
few standard deviations of the mean) the subtraction does not cancel, and
the results agree with the two-pass graph to the round-off of the input
dtype (the tests hold float64 to 1e-12); one pass fewer over a 12.8 MB
input is what makes the fused forward cheaper than the graph's.

``epsilon`` is an Op property rather than an input: the layer's epsilon is
a Python float, and a property keeps it a compile-time constant of every
kernel (cast to the input dtype, as the symbolic ``var + epsilon`` does).

Both Ops have a numpy ``perform``, C code (``mode="CVM"``, in
:mod:`indrnn.ops.c.batchnorm`), a Numba implementation
(:mod:`indrnn.link.numba.dispatch.batchnorm`) and a JAX implementation
(:mod:`indrnn.link.jax.dispatch.batchnorm`), which register themselves
(:mod:`indrnn.link`, imported by ``import indrnn``).
"""
import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.link.c.op import COp
from pytensor.scalar import upcast

from .c import batchnorm as _c_impl
from .recurrence import _as_float_tensor as _as_float

__all__ = ["BatchNormTrain", "BatchNormTrainGrad", "batch_norm_train"]


class _BatchNormOpBase(COp):
    """Properties shared by the forward and gradient Ops."""

    def __init__(self, epsilon=1e-4):
        self.epsilon = float(epsilon)
        if not self.epsilon >= 0:
            raise ValueError("epsilon must be >= 0, got %r" % epsilon)

    def _x_and_gamma(self, x, gamma):
        x = pt.as_tensor_variable(x)
        gamma = pt.as_tensor_variable(gamma)
        dtype = upcast(x.dtype, gamma.dtype)
        if dtype not in ("float32", "float64"):
            raise TypeError("fused batch normalisation needs float32 or "
                            "float64 inputs, got %s" % dtype)
        if x.ndim < 1:
            raise TypeError("x needs at least one (feature) axis")
        return _as_float(x, x.ndim, dtype, "x"), _as_float(
            gamma, 1, dtype, "gamma"), dtype

    def c_code_cache_version(self):
        return _c_impl.C_CODE_VERSION

    def c_support_code(self, **kwargs):
        return _c_impl.support_code()


class BatchNormTrain(_BatchNormOpBase):
    """Batch normalisation with batch statistics over all axes but the last.

    Parameters
    ----------
    epsilon : float
        Added to the variance.

    Notes
    -----
    Inputs ``x (..., C)``, ``gamma (C,)``, ``beta (C,)``; outputs
    ``y`` (like ``x``), ``mean (C,)`` and ``inv_std (C,)``.

    Examples
    --------
    >>> x = pt.matrix("x")
    >>> y, m, s = BatchNormTrain(0.0)(x, np.ones(1), np.zeros(1))
    >>> y.eval({x: np.array([[1.0], [3.0]])}).ravel().tolist()
    [-1.0, 1.0]
    """

    __props__ = ("epsilon",)

    def make_node(self, x, gamma, beta):
        x, gamma, dtype = self._x_and_gamma(x, gamma)
        beta = _as_float(beta, 1, dtype, "beta")
        return Apply(self, [x, gamma, beta],
                     [x.type(), gamma.type(), gamma.type()])

    def infer_shape(self, node, shapes):
        return [shapes[0], (shapes[0][-1],), (shapes[0][-1],)]

    def perform(self, node, inputs, output_storage):
        x, gamma, beta = inputs
        y, mean, inv_std = forward_numpy(x, gamma, beta, self.epsilon)
        output_storage[0][0] = y
        output_storage[1][0] = mean
        output_storage[2][0] = inv_std

    def pullback(self, inputs, outputs, cotangents):
        x, gamma, beta = inputs
        _, mean, inv_std = outputs
        dy, dmean, dinv_std = cotangents
        stat_used = [not isinstance(g.type, DisconnectedType)
                     for g in (dmean, dinv_std)]
        if isinstance(dy.type, DisconnectedType):
            dy = pt.zeros_like(x)
        grad_op = BatchNormTrainGrad(self.epsilon, stat_grads=any(stat_used))
        if any(stat_used):
            dmean = dmean if stat_used[0] else pt.zeros_like(mean)
            dinv_std = dinv_std if stat_used[1] else pt.zeros_like(inv_std)
            dx, dgamma, dbeta = grad_op(x, gamma, mean, inv_std, dy, dmean,
                                        dinv_std)
        else:
            dx, dgamma, dbeta = grad_op(x, gamma, mean, inv_std, dy)
        return [dx, dgamma, dbeta]

    def c_code(self, node, name, inputs, outputs, sub):
        return _c_impl.forward_code(self, node, inputs, outputs, sub)


class BatchNormTrainGrad(_BatchNormOpBase):
    """Gradient of :class:`BatchNormTrain`: ``dx``, ``dgamma``, ``dbeta``.

    Per feature, with ``xc = x - mean``: ``dbeta = sum(dy)``,
    ``dgamma = sum(dy * xc) * inv_std``, ``dinv = sum(dy * xc) * gamma
    + dinv_std``, ``dvar = -0.5 * dinv * inv_std**3``, ``dmean =
    -gamma * inv_std * dbeta - 2 * dvar * sum(xc) / n + dmean_in`` and
    ``dx = dy * gamma * inv_std + 2 * dvar / n * xc + dmean / n``.  The
    sums accumulate in float64 and the per-feature coefficients are
    computed in float64.

    Parameters
    ----------
    epsilon : float
        As the forward Op (unused by the kernels; kept so that the pair
        shares its properties).
    stat_grads : bool
        Whether the node takes the cotangents ``dmean`` and ``dinv_std``
        of the statistics.

    Notes
    -----
    Inputs ``x, gamma, mean, inv_std, dy[, dmean, dinv_std]``.
    """

    __props__ = ("epsilon", "stat_grads")

    def __init__(self, epsilon=1e-4, stat_grads=False):
        super().__init__(epsilon)
        self.stat_grads = bool(stat_grads)

    def make_node(self, x, gamma, mean, inv_std, dy, *stat):
        if len(stat) != (2 if self.stat_grads else 0):
            raise TypeError("expected inputs x, gamma, mean, inv_std, dy"
                            + (", dmean, dinv_std" if self.stat_grads
                               else ""))
        x, gamma, dtype = self._x_and_gamma(x, gamma)
        inputs = [x, gamma, _as_float(mean, 1, dtype, "mean"),
                  _as_float(inv_std, 1, dtype, "inv_std"),
                  _as_float(dy, x.ndim, dtype, "dy")]
        inputs += [_as_float(s, 1, dtype, "dstat") for s in stat]
        return Apply(self, inputs, [x.type(), gamma.type(), gamma.type()])

    def infer_shape(self, node, shapes):
        return [shapes[0], shapes[1], shapes[1]]

    def perform(self, node, inputs, output_storage):
        dx, dgamma, dbeta = backward_numpy(*inputs)
        output_storage[0][0] = dx
        output_storage[1][0] = dgamma
        output_storage[2][0] = dbeta

    def pullback(self, inputs, outputs, cotangents):
        return [grad_not_implemented(
            self, i, inp, "second-order derivatives of the fused batch "
            "normalisation are not implemented")
            for i, inp in enumerate(inputs)]

    def c_code(self, node, name, inputs, outputs, sub):
        return _c_impl.backward_code(self, node, inputs, outputs, sub)


def _check(x, *per_feature):
    c = x.shape[-1]
    for v in per_feature:
        if v.shape != (c,):
            raise ValueError("fused batch normalisation: x %r needs "
                             "per-feature vectors of shape (%d,), got %r"
                             % (x.shape, c, v.shape))


def forward_numpy(x, gamma, beta, epsilon):
    """Reference forward pass (``perform``).

    Parameters
    ----------
    x, gamma, beta : ndarray
    epsilon : float

    Returns
    -------
    tuple of ndarray
        ``y, mean, inv_std``.
    """
    _check(x, gamma, beta)
    dtype = x.dtype.type
    x2 = x.reshape(-1, x.shape[-1])
    n = x2.shape[0]
    shift = x2[:1].astype(np.float64) if n else np.zeros((1, x2.shape[1]))
    d = x2.astype(np.float64) - shift
    m1 = d.sum(axis=0) / n
    mean = (shift[0] + m1).astype(dtype)
    var = np.maximum((d * d).sum(axis=0) / n - m1 * m1, 0).astype(dtype)
    xc = x2 - mean
    inv_std = (dtype(1) / np.sqrt(var + dtype(epsilon))).astype(dtype)
    y = (xc * (gamma * inv_std) + beta).astype(dtype, copy=False)
    return y.reshape(x.shape), mean, inv_std


def backward_numpy(x, gamma, mean, inv_std, dy, dmean=None, dinv_std=None):
    """Reference gradient (``perform``).

    Parameters
    ----------
    x, gamma, mean, inv_std, dy : ndarray
    dmean, dinv_std : ndarray, optional

    Returns
    -------
    tuple of ndarray
        ``dx, dgamma, dbeta``.
    """
    _check(x, gamma, mean, inv_std)
    if dy.shape != x.shape:
        raise ValueError("dy must have the shape of x %r, got %r"
                         % (x.shape, dy.shape))
    dtype = x.dtype.type
    c = x.shape[-1]
    x2 = x.reshape(-1, c)
    dy2 = dy.reshape(-1, c)
    n = float(x2.shape[0])
    xc = x2 - mean
    sdy = dy2.sum(axis=0, dtype=np.float64)
    sdyxc = (dy2 * xc).sum(axis=0, dtype=np.float64)
    sxc = xc.sum(axis=0, dtype=np.float64)
    coef = _coefficients(gamma.astype(np.float64),
                         inv_std.astype(np.float64), sdy, sdyxc, sxc, n,
                         None if dmean is None else dmean.astype(np.float64),
                         None if dinv_std is None
                         else dinv_std.astype(np.float64))
    a, b, cc, dgamma, dbeta = (v.astype(dtype) for v in coef)
    dx = (dy2 * a + xc * b + cc).astype(dtype, copy=False)
    return dx.reshape(x.shape), dgamma, dbeta


def _coefficients(gamma, inv_std, sdy, sdyxc, sxc, n, dmean, dinv_std):
    """Per-feature coefficients of the gradient, in float64:
    ``dx = dy * a + xc * b + cc``, and ``dgamma``, ``dbeta``."""
    a = gamma * inv_std
    dinv = sdyxc * gamma
    if dinv_std is not None:
        dinv = dinv + dinv_std
    dvar = -0.5 * dinv * inv_std * inv_std * inv_std
    dm = -a * sdy - 2.0 * dvar * sxc / n
    if dmean is not None:
        dm = dm + dmean
    return a, 2.0 * dvar / n, dm / n, sdyxc * inv_std, sdy


def batch_norm_train(x, gamma, beta, epsilon=1e-4):
    """Normalise ``x`` over all axes but the last with the fused Op.

    Parameters
    ----------
    x : TensorVariable
        ``(..., C)``.
    gamma, beta : TensorVariable or array_like
        ``(C,)``.
    epsilon : float

    Returns
    -------
    tuple of TensorVariable
        ``y, mean, inv_std``.

    Examples
    --------
    >>> y, m, s = batch_norm_train(np.array([[0.0], [2.0]]), np.ones(1),
    ...                            np.zeros(1), epsilon=0.0)
    >>> m.eval().tolist(), s.eval().tolist()
    ([1.0], [1.0])
    """
    return BatchNormTrain(epsilon)(x, gamma, beta)
