"""Port of the original ``wordPTB/BatchNorm_step_timefirst.py``: batch
normalisation with statistics **per time step** for time-first input.

For language modelling the output at step ``t`` may only depend on steps up
to ``t``; normalising over time would leak the future. This layer takes the
batch statistics over the batch axis only, separately for every step, and
keeps running averages per step.
"""
from .lasagne import init
from .lasagne.layers import BatchNormLayer

__all__ = ["BatchNorm_step_timefirst_Layer"]


class BatchNorm_step_timefirst_Layer(BatchNormLayer):
    """Batch normalisation with per-time-step statistics (time-first).

    Parameters
    ----------
    incoming : Layer or tuple
        Time-first input, e.g. ``(time, batch, units)``.
    axes : 'auto', int or tuple of int
        Axes that ``beta`` and ``gamma`` are shared over (``(0, 1)`` in the
        original scripts: one value per unit).
    epsilon, alpha, beta, gamma, mean, inv_std
        As :class:`~indrnn.lasagne.layers.BatchNormLayer`.

    Notes
    -----
    With two or more ``axes`` the statistics are taken over ``axes[1]``
    only (the batch): ``mean`` and ``inv_std`` then have shape
    ``(time, units)`` while ``beta`` and ``gamma`` have ``(units,)``. With
    one axis it is an ordinary batch normalisation. Attribute
    ``mean_axes`` holds the statistics axes, as in the original.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> bn = BatchNorm_step_timefirst_Layer(InputLayer((12, 4, 8)), axes=(0, 1))
    >>> bn.mean.get_value().shape, bn.beta.get_value().shape
    ((12, 8), (8,))
    """

    def __init__(self, incoming, axes="auto", epsilon=1e-4, alpha=0.1,
                 beta=init.Constant(0), gamma=init.Constant(1),
                 mean=init.Constant(0), inv_std=init.Constant(1), **kwargs):
        super().__init__(incoming, axes=axes, epsilon=epsilon, alpha=alpha,
                         beta=beta, gamma=gamma, mean=mean, inv_std=inv_std,
                         **kwargs)

    @property
    def mean_axes(self):
        """tuple of int: the axes of the batch statistics."""
        if len(self.axes) == 1:
            return self.axes
        return (self.axes[1],)

    @property
    def stat_axes(self):
        """tuple of int: the axes of the batch statistics (``mean_axes``)."""
        return self.mean_axes
