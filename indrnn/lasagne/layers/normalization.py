"""Batch normalisation."""
import contextlib

import pytensor.tensor as pt

from .. import init, nonlinearities
from ..default_updates import aliased_clone, attach_default_update
from .base import Layer

__all__ = ["BatchNormLayer", "batch_norm", "use_fused_batchnorm",
           "register_fused_batch_norm"]

_FUSED_DEFAULT = [True]
#: The fused training-mode op, ``fn(input, gamma, beta, epsilon) ->
#: (output, mean, inv_std)``, installed from outside the shim (``import
#: indrnn`` installs :func:`indrnn.ops.batchnorm.batch_norm_train`); the
#: shim imports nothing from the rest of the package.
_FUSED_BATCH_NORM = [None]


def register_fused_batch_norm(fn):
    """Install the fused op that batch normalisation layers use in training.

    Parameters
    ----------
    fn : callable or None
        ``fn(input, gamma, beta, epsilon) -> (output, mean, inv_std)``
        over all axes but the last, with the gradient of the symbolic
        graph; None: every layer uses the symbolic graph.

    Returns
    -------
    callable or None
        The op installed before.

    Examples
    --------
    >>> previous = register_fused_batch_norm(None)
    >>> register_fused_batch_norm(previous) is None
    True
    """
    before = _FUSED_BATCH_NORM[0]
    _FUSED_BATCH_NORM[0] = fn
    return before


@contextlib.contextmanager
def use_fused_batchnorm(enabled):
    """Choose whether batch normalisation layers built inside use the fused
    op in training mode (the one :func:`register_fused_batch_norm`
    installed: :func:`indrnn.ops.batchnorm.batch_norm_train`).

    Parameters
    ----------
    enabled : bool
        False keeps the symbolic graph (mean, var, normalisation as
        separate Elemwise/Sum nodes).

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> with use_fused_batchnorm(False):
    ...     bn = BatchNormLayer(InputLayer((12, 4, 8)), axes=(0, 1))
    >>> bn.use_fused_op
    False
    """
    previous = _FUSED_DEFAULT[0]
    _FUSED_DEFAULT[0] = bool(enabled)
    try:
        yield
    finally:
        _FUSED_DEFAULT[0] = previous


def _broadcast_pattern(ndim, dropped_axes):
    """Dimshuffle pattern that puts a parameter lacking ``dropped_axes``
    back into an ``ndim``-dimensional input."""
    kept = iter(range(ndim - len(dropped_axes)))
    return ["x" if axis in dropped_axes else next(kept)
            for axis in range(ndim)]


class BatchNormLayer(Layer):
    """Batch normalisation (Ioffe & Szegedy, 2015), as Lasagne does it.

    ``y = (x - mean) * gamma * inv_std + beta``, where ``mean`` and
    ``inv_std = 1 / sqrt(var + epsilon)`` (biased variance) are the batch
    statistics over ``axes`` in training, or the stored running averages
    when ``deterministic=True``. Each training graph updates the running
    averages as ``running = (1 - alpha) * running + alpha * batch`` when
    its compiled function is called.

    Parameters
    ----------
    incoming : Layer or tuple
    axes : 'auto', int or tuple of int
        Axes to normalise over; 'auto' is all but the second.
    epsilon : float
    alpha : float
        Weight of the new batch in the running averages.
    beta, gamma : initializer or None
        Shift (trainable, not regularizable) and scale (trainable,
        regularizable); None leaves it out.
    mean, inv_std : initializer
        Running averages (not trainable).

    use_fused_op : bool or None
        Compute the training-mode output with the fused Op where it is
        exactly equivalent (see :meth:`fused_applies`); None takes the
        default of :func:`use_fused_batchnorm` (True).

    Notes
    -----
    ``get_output_for`` accepts ``batch_norm_use_averages`` (default:
    ``deterministic``) and ``batch_norm_update_averages`` (default: not
    ``deterministic``).

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> bn = BatchNormLayer(InputLayer((12, 4, 8)), axes=(0, 1))
    >>> [p.name for p in bn.get_params()]
    ['beta', 'gamma', 'mean', 'inv_std']
    """

    def __init__(self, incoming, axes="auto", epsilon=1e-4, alpha=0.1,
                 beta=init.Constant(0), gamma=init.Constant(1),
                 mean=init.Constant(0), inv_std=init.Constant(1),
                 use_fused_op=None, **kwargs):
        super().__init__(incoming, **kwargs)
        self.use_fused_op = (_FUSED_DEFAULT[0] if use_fused_op is None
                             else bool(use_fused_op))
        if axes == "auto":
            axes = (0,) + tuple(range(2, len(self.input_shape)))
        elif isinstance(axes, int):
            axes = (axes,)
        self.axes = tuple(axes)
        self.epsilon = epsilon
        self.alpha = alpha
        self._add_params(beta, gamma, mean, inv_std)

    @property
    def stat_axes(self):
        """tuple of int: axes the batch statistics are taken over."""
        return self.axes

    def _add_params(self, beta, gamma, mean, inv_std):
        shape = [size for axis, size in enumerate(self.input_shape)
                 if axis not in self.axes]
        stat_shape = [size for axis, size in enumerate(self.input_shape)
                      if axis not in self.stat_axes]
        if any(size is None for size in shape + stat_shape):
            raise ValueError(
                "%s needs specified input sizes for all axes not normalized "
                "over; input shape is %r, axes %r"
                % (type(self).__name__, self.input_shape, self.axes))
        self.beta = None if beta is None else self.add_param(
            beta, shape, "beta", trainable=True, regularizable=False)
        self.gamma = None if gamma is None else self.add_param(
            gamma, shape, "gamma", trainable=True, regularizable=True)
        self.mean = self.add_param(mean, stat_shape, "mean",
                                   trainable=False, regularizable=False)
        self.inv_std = self.add_param(inv_std, stat_shape, "inv_std",
                                      trainable=False, regularizable=False)

    def batch_statistics(self, input):
        """Mean and inverse standard deviation of a batch.

        Parameters
        ----------
        input : TensorVariable

        Returns
        -------
        tuple of TensorVariable
            ``(mean, inv_std)`` over :attr:`stat_axes`.
        """
        mean = input.mean(self.stat_axes)
        inv_std = pt.reciprocal(pt.sqrt(input.var(self.stat_axes)
                                        + self.epsilon))
        return mean, inv_std

    def running_average_updates(self, input_mean, input_inv_std):
        """Tie running-average updates to the graph being built.

        The updates are attached to memory-aliased clones of ``mean`` and
        ``inv_std`` (so they belong to this graph only), and the clones
        enter the graph as ``0 * clone`` terms that the compiler removes.

        Parameters
        ----------
        input_mean, input_inv_std : TensorVariable
            This batch's statistics.

        Returns
        -------
        tuple of TensorVariable
            Zero-valued terms to add to the statistics in use.
        """
        terms = []
        for stored, batch in ((self.mean, input_mean),
                              (self.inv_std, input_inv_std)):
            running = aliased_clone(stored)
            alpha = pt.constant(self.alpha, dtype=running.dtype)
            attach_default_update(running,
                                  (1 - alpha) * running + alpha * batch)
            terms.append(0 * running)
        return tuple(terms)

    def fused_applies(self, input, use_averages):
        """Whether the fused Op computes exactly this layer's output.

        It does when the batch statistics are used, they and the
        parameters are taken over all axes but the last, the input is
        float32 or float64, and a subclass does not change how the
        statistics are taken or what they normalise.

        Parameters
        ----------
        input : TensorVariable
        use_averages : bool

        Returns
        -------
        bool
        """
        cls = type(self)
        leading = tuple(range(input.ndim - 1))
        return (self.use_fused_op and _FUSED_BATCH_NORM[0] is not None
                and not use_averages and input.ndim >= 2
                and self.axes == leading and self.stat_axes == leading
                and input.dtype in ("float32", "float64")
                and cls.batch_statistics is BatchNormLayer.batch_statistics
                and cls.input_to_normalize
                is BatchNormLayer.input_to_normalize)

    def _fused_output(self, input, update_averages):
        batch_norm_train = _FUSED_BATCH_NORM[0]
        size = input.shape[-1]
        gamma = (pt.ones((size,), dtype=input.dtype) if self.gamma is None
                 else self.gamma)
        beta = (pt.zeros((size,), dtype=input.dtype) if self.beta is None
                else self.beta)
        output, mean, inv_std = batch_norm_train(input, gamma, beta,
                                                 self.epsilon)
        if update_averages:
            # the zero terms only tie the updates to the graph; the
            # compiler removes them
            zero_mean, zero_inv_std = self.running_average_updates(
                mean, inv_std)
            output = output + pt.cast(zero_mean + zero_inv_std,
                                      output.dtype)
        return output

    def get_output_for(self, input, deterministic=False,
                       batch_norm_use_averages=None,
                       batch_norm_update_averages=None, **kwargs):
        use_averages = (deterministic if batch_norm_use_averages is None
                        else batch_norm_use_averages)
        update_averages = (not deterministic
                           if batch_norm_update_averages is None
                           else batch_norm_update_averages)
        if self.fused_applies(input, use_averages):
            return self._fused_output(input, update_averages)
        input_mean, input_inv_std = self.batch_statistics(input)
        if use_averages:
            mean, inv_std = self.mean, self.inv_std
        else:
            mean, inv_std = input_mean, input_inv_std
        if update_averages:
            zero_mean, zero_inv_std = self.running_average_updates(
                input_mean, input_inv_std)
            mean = mean + zero_mean
            inv_std = inv_std + zero_inv_std

        pattern = _broadcast_pattern(input.ndim, self.axes)
        stat_pattern = _broadcast_pattern(input.ndim, self.stat_axes)
        beta = 0 if self.beta is None else self.beta.dimshuffle(pattern)
        gamma = 1 if self.gamma is None else self.gamma.dimshuffle(pattern)
        mean = mean.dimshuffle(stat_pattern)
        inv_std = inv_std.dimshuffle(stat_pattern)
        input = self.input_to_normalize(input, deterministic)
        return (input - mean) * (gamma * inv_std) + beta

    def input_to_normalize(self, input, deterministic):
        """The tensor that the statistics are applied to.

        The statistics always come from the layer's input; subclasses may
        normalise a transformed input (e.g. with dropout applied).

        Parameters
        ----------
        input : TensorVariable
        deterministic : bool

        Returns
        -------
        TensorVariable
            ``input`` itself here.
        """
        return input


def batch_norm(layer, **kwargs):
    """Insert batch normalisation after ``layer``'s linear part.

    Removes ``layer``'s bias (``b``) and nonlinearity, adds a
    :class:`BatchNormLayer` and then a :class:`NonlinearityLayer` with the
    removed nonlinearity (as Lasagne's ``batch_norm``).

    Parameters
    ----------
    layer : Layer
    **kwargs
        Passed to :class:`BatchNormLayer`; ``name`` defaults to the
        layer's name + ``'_bn'``.

    Returns
    -------
    Layer
        The last layer added.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> out = batch_norm(DenseLayer(InputLayer((None, 3)), 4))
    >>> type(out).__name__
    'NonlinearityLayer'
    """
    from .special import NonlinearityLayer
    nonlinearity = getattr(layer, "nonlinearity", None)
    if nonlinearity is not None:
        layer.nonlinearity = nonlinearities.identity
    if getattr(layer, "b", None) is not None:
        del layer.params[layer.b]
        layer.b = None
    bn_name = (kwargs.pop("name", None)
               or (getattr(layer, "name", None) and layer.name + "_bn"))
    layer = BatchNormLayer(layer, name=bn_name, **kwargs)
    if nonlinearity is not None:
        nonlin_name = bn_name and bn_name + "_nonlin"
        layer = NonlinearityLayer(layer, nonlinearity, name=nonlin_name)
    return layer
