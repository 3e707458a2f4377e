"""A fused IndRNN recurrence: one Op for the forward pass over time and one
for its gradient.

The recurrence is the element-wise

.. math::

    h_t = f(x_t + u \\odot h_{t-1}),

over a time-first sequence ``x`` of shape ``(T, B, N)`` (the input already
projected), with the recurrent weights ``u`` of shape ``(N,)`` and the
initial state ``h0`` of shape ``(B, N)``.  It computes exactly what
:class:`indrnn.lasagne.layers.CustomRecurrentLayer` computes with
:func:`pytensor.scan` when its hidden-to-hidden connection is a
:class:`indrnn.indrnn.MulLayer`:

* ``f`` is ``relu`` (:func:`indrnn.lasagne.nonlinearities.rectify`, with
  its gradient of 0.5 at exactly 0), ``tanh`` or ``identity``;
* ``grad_clip`` > 0 clips the gradient of the pre-activation to
  ``[-grad_clip, grad_clip]`` at every step, as
  :func:`pytensor.gradient.grad_clip` (Theano's ``grad_clip``) does when
  applied to the pre-activation inside the step function;
* a mask ``m`` of shape ``(T, B)`` keeps the previous state where it is 0:
  ``h_t = m_t ? f(pre_t) : h_{t-1}`` (``pt.switch`` semantics: any non-zero
  value keeps the new state);
* ``backwards`` processes ``t = T-1, ..., 0`` and stacks the states in
  processing order, like ``scan(..., go_backwards=True)``.

:class:`IndRNNRecurrence` always returns the states of all steps (the
gradient needs them anyway); :func:`indrnn_recurrence` slices the last one
for ``only_return_final``.  Its gradient, :class:`IndRNNRecurrenceGrad`,
computes ``dx``, ``du`` and ``dh0`` in a single reverse pass over time from
the stored states, without per-step Jacobians.

Both Ops have a numpy ``perform`` (the Python linker), C code (``mode="CVM"``,
the source lives in :mod:`indrnn.ops.c.recurrence`), a Numba
implementation (the default linker, :mod:`indrnn.link.numba.dispatch.recurrence`)
and a JAX implementation (:mod:`indrnn.link.jax.dispatch.recurrence`,
registered only when JAX is installed).  The backends register
themselves: :mod:`indrnn.link`, which ``import indrnn`` imports.
"""
import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import disconnected_type, grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.link.c.op import COp
from pytensor.scalar import upcast

from .c import recurrence as _c_impl

__all__ = [
    "ACTIVATIONS",
    "IndRNNRecurrence",
    "IndRNNRecurrenceGrad",
    "indrnn_recurrence",
    "activation_name",
]

#: The activations the fused Op implements.
ACTIVATIONS = ("relu", "tanh", "identity")


def activation_name(nonlinearity):
    """The fused-Op activation name of a Lasagne nonlinearity, if any.

    Parameters
    ----------
    nonlinearity : callable or None
        A function from :mod:`indrnn.lasagne.nonlinearities` (or None, which
        Lasagne treats as the identity).

    Returns
    -------
    str or None
        ``"relu"`` for ``rectify``, ``"tanh"`` for ``tanh``, ``"identity"``
        for ``identity``/``linear``/None, and None for anything else (the
        caller must then keep the scan path).

    Examples
    --------
    >>> from indrnn.lasagne import nonlinearities
    >>> activation_name(nonlinearities.rectify)
    'relu'
    >>> activation_name(nonlinearities.sigmoid) is None
    True
    """
    from ..lasagne import nonlinearities as nl
    if nonlinearity is None:
        return "identity"
    known = {nl.rectify: "relu", nl.tanh: "tanh", nl.identity: "identity",
             nl.linear: "identity"}
    for function, name in known.items():
        if nonlinearity is function:
            return name
    return None


def _check_props(activation, grad_clip):
    if activation not in ACTIVATIONS:
        raise ValueError("activation must be one of %r, got %r"
                         % (ACTIVATIONS, activation))
    grad_clip = float(grad_clip)
    if not 0 <= grad_clip < np.inf:
        raise ValueError("grad_clip must be finite and >= 0 (0: no "
                         "clipping), got %r" % grad_clip)
    return grad_clip


def _as_float_tensor(value, ndim, dtype, what):
    var = pt.as_tensor_variable(value)
    if var.ndim != ndim:
        raise TypeError("%s must have %d dimensions, got %d"
                        % (what, ndim, var.ndim))
    if var.dtype != dtype:
        var = pt.cast(var, dtype)
    return var


class _RecurrenceOpBase(COp):
    """Properties and input checks shared by the forward and gradient Ops."""

    __props__ = ("activation", "grad_clip", "backwards", "masked")

    def __init__(self, activation="relu", grad_clip=0.0, backwards=False,
                 masked=False):
        self.grad_clip = _check_props(activation, grad_clip)
        self.activation = activation
        self.backwards = bool(backwards)
        self.masked = bool(masked)

    def _core_inputs(self, x, u, h0, mask):
        x = pt.as_tensor_variable(x)
        u = pt.as_tensor_variable(u)
        h0 = pt.as_tensor_variable(h0)
        dtype = upcast(x.dtype, u.dtype, h0.dtype)
        if not dtype.startswith("float"):
            raise TypeError("IndRNN recurrence needs floating-point inputs, "
                            "got %s" % dtype)
        inputs = [_as_float_tensor(x, 3, dtype, "x"),
                  _as_float_tensor(u, 1, dtype, "u"),
                  _as_float_tensor(h0, 2, dtype, "h0")]
        if self.masked:
            if mask is None:
                raise TypeError("this Op was built with masked=True and "
                                "needs a mask")
            # Only "non-zero" matters (switch semantics), so any numeric
            # mask is cast to the computation dtype: one kernel per dtype.
            inputs.append(_as_float_tensor(mask, 2, dtype, "mask"))
        elif mask is not None:
            raise TypeError("this Op was built with masked=False; "
                            "got a mask")
        return inputs, dtype

    def c_code_cache_version(self):
        return _c_impl.C_CODE_VERSION

    def c_support_code(self, **kwargs):
        return _c_impl.support_code()

    def c_compile_args(self, **kwargs):
        return _c_impl.compile_args()


class IndRNNRecurrence(_RecurrenceOpBase):
    """The IndRNN recurrence ``h_t = f(x_t + u * h_{t-1})`` over time.

    Parameters
    ----------
    activation : {"relu", "tanh", "identity"}
    grad_clip : float
        Clip the gradient of the pre-activation to ``[-grad_clip,
        grad_clip]`` at each step; 0 for no clipping.  Has no effect on
        the forward values.
    backwards : bool
        Process ``t = T-1, ..., 0``; the states are stacked in processing
        order.
    masked : bool
        Whether the node takes a mask ``(T, B)`` as 4th input.

    Notes
    -----
    Inputs ``x (T, B, N)``, ``u (N,)``, ``h0 (B, N)`` and, with ``masked``,
    ``mask (T, B)``; they are cast to their common float dtype.  The output
    ``H (T, B, N)`` holds the state after every step in processing order.
    Use :func:`indrnn_recurrence` rather than the class.

    Examples
    --------
    >>> x, h0 = pt.tensor3("x"), pt.matrix("h0")
    >>> u = pt.vector("u")
    >>> H = IndRNNRecurrence("relu")(x, u, h0)
    >>> H.eval({x: np.ones((3, 1, 2)), u: np.full(2, 2.0),
    ...         h0: np.zeros((1, 2))})[:, 0, 0].tolist()
    [1.0, 3.0, 7.0]
    """

    def make_node(self, x, u, h0, mask=None):
        inputs, _ = self._core_inputs(x, u, h0, mask)
        return Apply(self, inputs, [inputs[0].type()])

    def infer_shape(self, node, shapes):
        return [shapes[0]]

    def connection_pattern(self, node):
        """Which inputs the output depends on differentiably (not the mask).

        Parameters
        ----------
        node : Apply

        Returns
        -------
        list of list of bool
        """
        # The mask selects between values; the output does not depend on it
        # differentiably (the scan path's switch gives it a zero gradient).
        return [[True], [True], [True]] + ([[False]] if self.masked else [])

    def perform(self, node, inputs, output_storage):
        x, u, h0 = inputs[:3]
        mask = inputs[3] if self.masked else None
        _check_shapes(x, u, h0, mask)
        T = x.shape[0]
        H = np.empty(x.shape, dtype=node.outputs[0].dtype)
        h = h0
        for k in range(T):
            t = T - 1 - k if self.backwards else k
            new = _np_activation(self.activation, x[t] + u * h)
            if mask is not None:
                new = np.where(mask[t][:, None] != 0, new, h)
            H[k] = new
            h = H[k]
        output_storage[0][0] = H

    def pullback(self, inputs, outputs, cotangents):
        (H,) = outputs
        (dH,) = cotangents
        grad_op = IndRNNRecurrenceGrad(self.activation, self.grad_clip,
                                       self.backwards, self.masked)
        dx, du, dh0 = grad_op(*inputs, H, dH)
        grads = [dx, du, dh0]
        if self.masked:
            grads.append(disconnected_type())
        return grads

    def c_code(self, node, name, inputs, outputs, sub):
        return _c_impl.forward_code(self, node, inputs, outputs, sub)


class IndRNNRecurrenceGrad(_RecurrenceOpBase):
    """Gradient of :class:`IndRNNRecurrence`: ``dx``, ``du``, ``dh0``.

    One reverse pass over time; for step ``t`` (in processing order)
    ``g = dH_t + carry``, ``g`` is zeroed where the mask is 0,
    ``d = clip(g * f'(pre_t))``, ``dx_t = d``, ``du += sum_b d * h_{t-1}``
    and ``carry = d * u`` (plus ``g`` where the mask is 0).  ``f'`` comes
    from the stored states (``1 - h**2`` for tanh); for relu it is 1 where
    ``h > 0``, 0.5 where the pre-activation is exactly 0 (recomputed only
    there) and 0 elsewhere, the gradient of ``0.5 * (x + |x|)``.

    Parameters
    ----------
    activation, grad_clip, backwards, masked
        As :class:`IndRNNRecurrence`.

    Notes
    -----
    Inputs: the forward inputs ``x, u, h0[, mask]``, the forward output
    ``H`` and its cotangent ``dH``.  The gradient of this Op (second-order
    derivatives) is not implemented.

    Examples
    --------
    >>> x, h0 = pt.tensor3("x"), pt.matrix("h0")
    >>> u = pt.vector("u")
    >>> import pytensor
    >>> H = IndRNNRecurrence("identity")(x, u, h0)
    >>> du = pytensor.grad(H[-1].sum(), u)
    >>> float(du.eval({x: np.ones((2, 1, 1)), u: np.ones(1),
    ...                h0: np.zeros((1, 1))})[0])
    1.0
    """

    def make_node(self, x, u, h0, *rest):
        if len(rest) != (3 if self.masked else 2):
            raise TypeError("expected inputs x, u, h0, [mask,] H, dH")
        mask = rest[0] if self.masked else None
        inputs, dtype = self._core_inputs(x, u, h0, mask)
        H = _as_float_tensor(rest[-2], 3, dtype, "H")
        dH = _as_float_tensor(rest[-1], 3, dtype, "dH")
        inputs += [H, dH]
        return Apply(self, inputs, [inputs[0].type(), inputs[1].type(),
                                    inputs[2].type()])

    def infer_shape(self, node, shapes):
        return [shapes[0], shapes[1], shapes[2]]

    def perform(self, node, inputs, output_storage):
        x, u, h0 = inputs[:3]
        mask = inputs[3] if self.masked else None
        H, dH = inputs[-2:]
        _check_shapes(x, u, h0, mask)
        if H.shape != x.shape or dH.shape != x.shape:
            raise ValueError("H and dH must have the shape of x %r, got %r "
                             "and %r" % (x.shape, H.shape, dH.shape))
        T = x.shape[0]
        dtype = node.outputs[0].dtype
        dx = np.empty(x.shape, dtype=dtype)
        du = np.zeros(u.shape, dtype=dtype)
        carry = np.zeros(h0.shape, dtype=dtype)
        c = self.grad_clip
        for k in range(T - 1, -1, -1):
            t = T - 1 - k if self.backwards else k
            h_prev = H[k - 1] if k > 0 else h0
            g = dH[k] + carry
            if mask is not None:
                keep = mask[t][:, None] != 0
                g_new = np.where(keep, g, 0)
            else:
                g_new = g
            if self.activation == "relu":
                pre = x[t] + u * h_prev
                slope = np.where(pre > 0, 1.0, np.where(pre == 0, 0.5, 0.0))
                d = g_new * slope.astype(dtype)
            elif self.activation == "tanh":
                d = g_new * (1 - H[k] * H[k])
            else:
                d = g_new
            if c:
                d = np.clip(d, -c, c)
            dx[t] = d
            du += (d * h_prev).sum(axis=0)
            carry = d * u
            if mask is not None:
                carry = carry + np.where(keep, 0, g)
        output_storage[0][0] = dx
        output_storage[1][0] = du.astype(dtype, copy=False)
        output_storage[2][0] = carry.astype(dtype, copy=False)

    def pullback(self, inputs, outputs, cotangents):
        return [grad_not_implemented(
            self, i, inp, "second-order derivatives of the fused IndRNN "
            "recurrence are not implemented; use the scan path "
            "(unroll_scan / use_fused=False) for them")
            for i, inp in enumerate(inputs)]

    def c_code(self, node, name, inputs, outputs, sub):
        return _c_impl.backward_code(self, node, inputs, outputs, sub)


def _np_activation(activation, pre):
    if activation == "relu":
        # maximum propagates NaN like 0.5 * (x + |x|) does
        return np.maximum(pre, 0).astype(pre.dtype, copy=False)
    if activation == "tanh":
        return np.tanh(pre)
    return pre


def _check_shapes(x, u, h0, mask):
    T, B, N = x.shape
    if u.shape != (N,) or h0.shape != (B, N):
        raise ValueError("IndRNN recurrence: x %r needs u (%d,) and h0 "
                         "(%d, %d), got %r and %r"
                         % (x.shape, N, B, N, u.shape, h0.shape))
    if mask is not None and mask.shape != (T, B):
        raise ValueError("IndRNN recurrence: x %r needs a mask (%d, %d), "
                         "got %r" % (x.shape, T, B, mask.shape))


def indrnn_recurrence(x, u, h0, mask=None, activation="relu", grad_clip=0,
                      backwards=False, only_return_final=False):
    """Run the IndRNN recurrence with the fused Op.

    Parameters
    ----------
    x : TensorVariable
        Projected input, time-first ``(T, B, N)``.
    u : TensorVariable
        Recurrent weights ``(N,)``.
    h0 : TensorVariable
        Initial state ``(B, N)``.
    mask : TensorVariable, optional
        Time-first ``(T, B)`` (or ``(T, B, 1)``); where 0 the previous
        state is carried over.
    activation : {"relu", "tanh", "identity"}
    grad_clip : float
        Gradient clipping of the pre-activation (0: none).
    backwards : bool
        Process the sequence from the end; outputs in processing order.
    only_return_final : bool
        Return only the last processed state ``(B, N)``.

    Returns
    -------
    TensorVariable
        ``(T, B, N)`` states in processing order, or ``(B, N)``.

    Examples
    --------
    >>> x = pt.as_tensor(np.ones((3, 1, 1)))
    >>> h = indrnn_recurrence(x, np.array([0.5]), np.zeros((1, 1)),
    ...                       only_return_final=True)
    >>> h.eval().tolist()
    [[1.75]]
    """
    if mask is not None:
        mask = pt.as_tensor_variable(mask)
        if mask.ndim == 3:
            mask = mask[:, :, 0]
    op = IndRNNRecurrence(activation, grad_clip, backwards,
                          masked=mask is not None)
    H = op(x, u, h0, mask) if mask is not None else op(x, u, h0)
    if only_return_final:
        return H[-1]
    return H
