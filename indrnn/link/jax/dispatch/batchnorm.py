"""JAX implementation of the fused batch normalisation (``mode="JAX"``).

Registers :class:`indrnn.ops.batchnorm.BatchNormTrain` and
:class:`~indrnn.ops.batchnorm.BatchNormTrainGrad` with PyTensor's
``jax_funcify``; the same arithmetic as the numpy ``perform`` (float64
sums when JAX has 64-bit types enabled, as PyTensor's JAX backend does
for ``floatX=float64``; else, as in the float32 runs, float32 throughout:
no float64 is asked for, which JAX would refuse with a warning and a GPU
computes slowly).
"""
import jax
import jax.numpy as jnp
from pytensor.link.jax.dispatch.basic import jax_funcify

from ....ops.batchnorm import BatchNormTrain, BatchNormTrainGrad

__all__ = []


def _accumulator(dtype):
    """The dtype of the sums: float64 if JAX has 64-bit types, else
    ``dtype``. Read while tracing, as JAX reads the flag."""
    return jnp.float64 if jax.config.jax_enable_x64 else dtype


@jax_funcify.register(BatchNormTrain)
def jax_funcify_BatchNormTrain(op, node=None, **kwargs):
    """JAX implementation of :class:`BatchNormTrain`.

    Parameters
    ----------
    op : BatchNormTrain

    Returns
    -------
    callable
    """
    epsilon = op.epsilon

    def batch_norm_train(x, gamma, beta):
        dtype = x.dtype
        x2 = x.reshape((-1, x.shape[-1]))
        n = x2.shape[0]
        # one pass, shifted by the first row (see indrnn.ops.batchnorm)
        acc = _accumulator(dtype)
        d = x2.astype(acc) - x2[:1].astype(acc)
        m1 = jnp.sum(d, axis=0) / n
        mean = (x2[0].astype(acc) + m1).astype(dtype)
        var = jnp.maximum(jnp.sum(d * d, axis=0) / n - m1 * m1,
                          0).astype(dtype)
        xc = x2 - mean
        inv_std = 1 / jnp.sqrt(var + jnp.asarray(epsilon, dtype))
        y = xc * (gamma * inv_std) + beta
        return y.reshape(x.shape), mean, inv_std

    return batch_norm_train


@jax_funcify.register(BatchNormTrainGrad)
def jax_funcify_BatchNormTrainGrad(op, node=None, **kwargs):
    """JAX implementation of :class:`BatchNormTrainGrad`.

    Parameters
    ----------
    op : BatchNormTrainGrad

    Returns
    -------
    callable
    """
    stat_grads = op.stat_grads

    def batch_norm_train_grad(x, gamma, mean, inv_std, dy, *stat):
        dtype = x.dtype
        x2 = x.reshape((-1, x.shape[-1]))
        dy2 = dy.reshape(x2.shape)
        acc = _accumulator(dtype)
        n = float(x2.shape[0])
        xc = x2 - mean

        def total(v):
            return jnp.sum(v, axis=0, dtype=acc)
        sdy, sdyxc, sxc = total(dy2), total(dy2 * xc), total(xc)
        g = gamma.astype(acc)
        s = inv_std.astype(acc)
        a = g * s
        dinv = sdyxc * g
        if stat_grads:
            dinv = dinv + stat[1].astype(acc)
        dvar = -0.5 * dinv * s * s * s
        dm = -a * sdy - 2.0 * dvar * sxc / n
        if stat_grads:
            dm = dm + stat[0].astype(acc)
        dx = (dy2 * a.astype(dtype) + xc * (2.0 * dvar / n).astype(dtype)
              + (dm / n).astype(dtype))
        return (dx.reshape(x.shape), (sdyxc * s).astype(dtype),
                sdy.astype(dtype))

    return batch_norm_train_grad
