"""Port of the original ``cPTB/bn_eachstep_withdrop_timefirst.py``:
per-time-step batch normalisation (as
:class:`~indrnn.batchnorm_step_timefirst.BatchNorm_step_timefirst_Layer`)
with dropout applied to the input after its statistics are taken.

The original called this class ``BatchNormLayer``; that name is kept, and
``BatchNorm_step_withdrop_timefirst_Layer`` is an alias that does not
shadow Lasagne's own ``BatchNormLayer`` when both are imported.
"""
import pytensor.tensor as pt

from .batchnorm_step_timefirst import BatchNorm_step_timefirst_Layer
from .lasagne import init
from .lasagne.layers import DropoutLayer

__all__ = ["BatchNormLayer", "BatchNorm_step_withdrop_timefirst_Layer"]


class BatchNormLayer(BatchNorm_step_timefirst_Layer):
    """Per-step batch normalisation with dropout of the normalised input.

    Parameters
    ----------
    incoming : Layer or tuple
        Time-first ``(time, batch, units)`` or ``(batch, units)``.
    axes : 'auto', int or tuple of int
    droprate : float
        Dropout probability. The mask is shared over axes (0, 1) of 3-D
        input and over axis 0 of 2-D input (one mask per unit, as in the
        original).
    epsilon, alpha : float
    sparsity : float
        Expected fraction of non-zero inputs; with ``sparsity < 1`` the
        statistics are corrected as the original does
        (``mean / sparsity`` and ``var / sparsity - (1 - sparsity) mean**2``).
    beta, gamma, mean, inv_std : initializers

    Notes
    -----
    The statistics come from the input *before* dropout; dropout is applied
    to the input just before it is normalised.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> bn = BatchNormLayer(InputLayer((12, 4, 8)), axes=(0, 1), droprate=0.1)
    >>> bn.dropout.shared_axes
    (0, 1)
    """

    def __init__(self, incoming, axes="auto", droprate=0.2, epsilon=1e-4,
                 alpha=0.1, sparsity=1.0, beta=init.Constant(0),
                 gamma=init.Constant(1), mean=init.Constant(0),
                 inv_std=init.Constant(1), **kwargs):
        super().__init__(incoming, axes=axes, epsilon=epsilon, alpha=alpha,
                         beta=beta, gamma=gamma, mean=mean, inv_std=inv_std,
                         **kwargs)
        self.sparsity = sparsity
        shared_axes = (0, 1) if len(self.input_shape) == 3 else (0,)
        self.dropout = DropoutLayer(self.input_shape, p=droprate,
                                    shared_axes=shared_axes, **kwargs)

    def batch_statistics(self, input):
        """Per-step batch statistics, corrected for ``sparsity`` < 1.

        Parameters
        ----------
        input : TensorVariable

        Returns
        -------
        tuple of TensorVariable
            ``(mean, inv_std)`` over :attr:`stat_axes`.
        """
        if self.sparsity == 1:
            return super().batch_statistics(input)
        scale = 1.0 / self.sparsity
        mean = input.mean(self.stat_axes) * scale
        var = (input.var(self.stat_axes) * scale
               - (1 - self.sparsity) * pt.sqr(mean))
        return mean, pt.reciprocal(pt.sqrt(var + self.epsilon))

    def input_to_normalize(self, input, deterministic):
        """The input with dropout applied (none when deterministic).

        Parameters
        ----------
        input : TensorVariable
        deterministic : bool

        Returns
        -------
        TensorVariable
        """
        # statistics from the clean input, normalisation of the dropped one
        return self.dropout.get_output_for(input,
                                           deterministic=deterministic)


BatchNorm_step_withdrop_timefirst_Layer = BatchNormLayer
