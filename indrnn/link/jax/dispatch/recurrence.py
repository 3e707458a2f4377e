"""JAX implementation of the fused IndRNN recurrence (``mode="JAX"``).

Registers :class:`indrnn.ops.recurrence.IndRNNRecurrence` and
:class:`~indrnn.ops.recurrence.IndRNNRecurrenceGrad` with PyTensor's
``jax_funcify``.  Both run one :func:`jax.lax.scan` over time (the
gradient in reverse); ``du`` is reduced after the scan in a single
contraction.  This is the GPU path: with a CUDA ``jaxlib`` the same graph
runs on the GPU.

This module imports JAX; :mod:`indrnn.link` imports it only when JAX is
installed.  Note that importing PyTensor's JAX dispatch sets
``jax_enable_x64`` from ``pytensor.config.floatX`` at that moment.
"""
import jax.numpy as jnp
from jax import lax
from pytensor.link.jax.dispatch.basic import jax_funcify

from ....ops.recurrence import IndRNNRecurrence, IndRNNRecurrenceGrad

__all__ = ["make_forward", "make_backward"]


def _activation(activation):
    if activation == "relu":
        # where(p <= 0, 0, p) keeps NaN, like 0.5 * (x + |x|)
        return lambda p: jnp.where(p <= 0, jnp.zeros_like(p), p)
    if activation == "tanh":
        return jnp.tanh
    return lambda p: p


def make_forward(activation, backwards, masked):
    """Build the JAX forward function ``forward(x, u, h0[, mask]) -> H``.

    Parameters
    ----------
    activation : {"relu", "tanh", "identity"}
    backwards : bool
    masked : bool

    Returns
    -------
    callable
    """
    f = _activation(activation)

    def forward(x, u, h0, mask=None):
        xs = x[::-1] if backwards else x
        if masked:
            ms = (mask[::-1] if backwards else mask) != 0

            def step(h, inp):
                x_t, keep = inp
                h_new = jnp.where(keep[:, None], f(x_t + u * h), h)
                return h_new, h_new
            seqs = (xs, ms)
        else:
            def step(h, x_t):
                h_new = f(x_t + u * h)
                return h_new, h_new
            seqs = xs
        _, H = lax.scan(step, h0, seqs)
        return H

    return forward


def make_backward(activation, grad_clip, backwards, masked):
    """Build the JAX gradient ``backward(x, u, h0[, mask], H, dH)``.

    Parameters
    ----------
    activation, backwards, masked
        As :func:`make_forward`.
    grad_clip : float
        0 for no clipping.

    Returns
    -------
    callable
        Returns ``(dx, du, dh0)``.
    """
    def backward(x, u, h0, *rest):
        mask = rest[0] if masked else None
        H, dH = rest[-2:]
        xs = x[::-1] if backwards else x
        H_prev = jnp.concatenate([h0[None], H[:-1]], axis=0)
        if masked:
            keep = ((mask[::-1] if backwards else mask) != 0)[:, :, None]
        else:
            keep = jnp.ones(x.shape[:2] + (1,), dtype=bool)

        def step(carry, inp):
            x_k, h_k, h_prev, dH_k, keep_k = inp
            g = dH_k + carry
            g_new = jnp.where(keep_k, g, jnp.zeros_like(g))
            if activation == "relu":
                pre = x_k + u * h_prev
                slope = jnp.where(h_k > 0, 1.0,
                                  jnp.where(pre == 0, 0.5, 0.0))
                d = g_new * slope.astype(g.dtype)
            elif activation == "tanh":
                d = g_new * (1 - h_k * h_k)
            else:
                d = g_new
            if grad_clip:
                d = jnp.clip(d, -grad_clip, grad_clip).astype(g.dtype)
            carry = d * u + jnp.where(keep_k, jnp.zeros_like(g), g)
            return carry, d

        dh0, D = lax.scan(step, jnp.zeros_like(h0),
                          (xs, H, H_prev, dH, keep), reverse=True)
        du = jnp.einsum("tbn,tbn->n", D, H_prev)
        dx = D[::-1] if backwards else D
        return dx, du, dh0

    return backward


@jax_funcify.register(IndRNNRecurrence)
def jax_funcify_IndRNNRecurrence(op, node=None, **kwargs):
    """JAX implementation of :class:`IndRNNRecurrence`.

    Parameters
    ----------
    op : IndRNNRecurrence

    Returns
    -------
    callable
    """
    return make_forward(op.activation, op.backwards, op.masked)


@jax_funcify.register(IndRNNRecurrenceGrad)
def jax_funcify_IndRNNRecurrenceGrad(op, node=None, **kwargs):
    """JAX implementation of :class:`IndRNNRecurrenceGrad`.

    Parameters
    ----------
    op : IndRNNRecurrenceGrad

    Returns
    -------
    callable
    """
    return make_backward(op.activation, op.grad_clip, op.backwards,
                         op.masked)
