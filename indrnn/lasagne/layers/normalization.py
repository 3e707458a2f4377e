"""Normalisation layers: batch normalisation, local response
normalisation, and standardisation (instance and layer normalisation)."""
import contextlib

import pytensor.tensor as pt

from .. import init, nonlinearities
from ..utils import int_types
from ..default_updates import aliased_clone, attach_default_update
from .base import Layer

__all__ = [
    "LocalResponseNormalization2DLayer",
    "BatchNormLayer", "batch_norm", "use_fused_batchnorm",
    "register_fused_batch_norm",
    "StandardizationLayer", "instance_norm", "layer_norm",
]

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
        Running averages (not trainable, not regularizable, tagged
        ``batch_norm_stat``).

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
        # Lasagne tags the statistics so that they can be selected
        self.mean = self.add_param(mean, stat_shape, "mean",
                                   trainable=False, regularizable=False,
                                   batch_norm_stat=True)
        self.inv_std = self.add_param(inv_std, stat_shape, "inv_std",
                                      trainable=False, regularizable=False,
                                      batch_norm_stat=True)

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
    bn_name = (kwargs.pop("name", None)
               or (getattr(layer, "name", None) and layer.name + "_bn"))
    nonlinearity = _make_linear_without_bias(layer)
    layer = BatchNormLayer(layer, name=bn_name, **kwargs)
    return _reapply_nonlinearity(layer, nonlinearity, bn_name)


def _make_linear_without_bias(layer):
    """Take away ``layer``'s nonlinearity and bias (a normalisation makes
    the bias redundant); return the nonlinearity (None if it had none)."""
    nonlinearity = getattr(layer, "nonlinearity", None)
    if nonlinearity is not None:
        layer.nonlinearity = nonlinearities.identity
    if getattr(layer, "b", None) is not None:
        del layer.params[layer.b]
        layer.b = None
    return nonlinearity


def _reapply_nonlinearity(layer, nonlinearity, base_name):
    """Add a NonlinearityLayer named ``<base_name>_nonlin`` on top."""
    from .special import NonlinearityLayer
    if nonlinearity is None:
        return layer
    return NonlinearityLayer(layer, nonlinearity,
                             name=base_name and base_name + "_nonlin")


class LocalResponseNormalization2DLayer(Layer):
    """Local response normalisation across channels (Krizhevsky et al.,
    2012), as Lasagne computes it:

    .. math::
        b_c = a_c \\left(k + \\alpha \\sum_{c'} a_{c'}^2\\right)^{-\\beta}

    where the sum runs over the ``n`` channels centred on ``c`` (fewer at
    the edges), and ``alpha`` is not divided by ``n``.

    Parameters
    ----------
    incoming : Layer or tuple
        ``(batch, channels, rows, columns)``.
    alpha : float
    k : float
    beta : float
    n : int
        Odd window size.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> LocalResponseNormalization2DLayer(InputLayer((2, 8, 5, 5))).n
    5
    """

    def __init__(self, incoming, alpha=1e-4, k=2, beta=0.75, n=5,
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.alpha = alpha
        self.k = k
        self.beta = beta
        self.n = n
        if n % 2 == 0:
            raise NotImplementedError("Only works with odd n")

    def get_output_for(self, input, **kwargs):
        half = self.n // 2
        squares = pt.sqr(input)
        channels = input.shape[1]
        # zero channels on both sides make every window n wide
        padded = pt.zeros((input.shape[0], channels + 2 * half,
                           input.shape[2], input.shape[3]), dtype=input.dtype)
        padded = pt.set_subtensor(padded[:, half:half + channels], squares)
        window_sum = sum(padded[:, i:i + channels] for i in range(self.n))
        return input / (self.k + self.alpha * window_sum) ** self.beta


class StandardizationLayer(Layer):
    """Normalise each example to zero mean and unit variance over ``axes``:
    ``(x - mean) / sqrt(var + epsilon)``, the same in training and test.

    Parameters
    ----------
    incoming : Layer or tuple
    axes : 'auto', 'spatial', 'features', int or tuple of int
        'spatial': all axes but the first two; 'features': all but the
        first; 'auto': the last axis of 2-D input, else 'spatial'.
    epsilon : float
        Added to the variance.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> StandardizationLayer(InputLayer((10, 3, 28, 28))).axes
    (2, 3)
    >>> StandardizationLayer(InputLayer((10, 20))).axes
    (1,)
    """

    def __init__(self, incoming, axes="auto", epsilon=1e-4, **kwargs):
        super().__init__(incoming, **kwargs)
        ndim = len(self.input_shape)
        if axes == "auto":
            axes = (1,) if ndim == 2 else tuple(range(2, ndim))
        elif axes == "spatial":
            axes = tuple(range(2, ndim))
        elif axes == "features":
            axes = tuple(range(1, ndim))
        elif isinstance(axes, int_types):
            axes = (axes,)
        self.axes = tuple(axes)
        self.epsilon = epsilon

    def get_output_for(self, input, **kwargs):
        mean = input.mean(self.axes, keepdims=True)
        std = pt.sqrt(input.var(self.axes, keepdims=True) + self.epsilon)
        return (input - mean) / std


def _standardize_then_affine(layer, axes, suffix, learn_scale, learn_bias,
                             kwargs):
    """What instance_norm and layer_norm share: remove ``layer``'s bias and
    nonlinearity, standardise, scale and shift per feature, reapply."""
    from .special import BiasLayer, ScaleLayer
    name = (kwargs.pop("name", None)
            or (getattr(layer, "name", None) and layer.name + suffix))
    nonlinearity = _make_linear_without_bias(layer)
    layer = StandardizationLayer(layer, axes=axes, name=name, **kwargs)
    if learn_scale:
        layer = ScaleLayer(layer, shared_axes="auto",
                           name=name and name + "_scale")
    if learn_bias:
        layer = BiasLayer(layer, shared_axes="auto",
                          name=name and name + "_bias")
    return _reapply_nonlinearity(layer, nonlinearity, name)


def instance_norm(layer, learn_scale=True, learn_bias=True, **kwargs):
    """Insert instance normalisation (Ulyanov et al., 2016) after
    ``layer``'s linear part: a :class:`StandardizationLayer` over the
    spatial axes, then (optionally) a :class:`ScaleLayer` and a
    :class:`BiasLayer`, then the removed nonlinearity.

    Parameters
    ----------
    layer : Layer
        Made linear and bias-free (irreversibly).
    learn_scale, learn_bias : bool
        Add the per-channel scale and bias.
    **kwargs
        Passed to :class:`StandardizationLayer`; ``name`` defaults to the
        layer's name + ``'_in'``.

    Returns
    -------
    Layer
        The last layer added.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, get_all_layers
    >>> from indrnn.lasagne.layers import ExpressionLayer
    >>> l1 = InputLayer((10, 3, 28, 28))
    >>> l2 = instance_norm(ExpressionLayer(l1, lambda x: 2 * x))
    >>> [l.__class__.__name__ for l in get_all_layers(l2)][2:]
    ['StandardizationLayer', 'ScaleLayer', 'BiasLayer']
    """
    return _standardize_then_affine(layer, "spatial", "_in", learn_scale,
                                    learn_bias, kwargs)


def layer_norm(layer, **kwargs):
    """Insert layer normalisation (Ba et al., 2016) after ``layer``'s
    linear part: a :class:`StandardizationLayer` over all axes but the
    first, a :class:`ScaleLayer`, a :class:`BiasLayer`, then the removed
    nonlinearity.

    Parameters
    ----------
    layer : Layer
        Made linear and bias-free (irreversibly).
    **kwargs
        Passed to :class:`StandardizationLayer`; ``name`` defaults to the
        layer's name + ``'_ln'``.

    Returns
    -------
    Layer
        The last layer added.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> from indrnn.lasagne.layers import get_all_layers
    >>> from indrnn.lasagne.nonlinearities import rectify
    >>> l1 = InputLayer((10, 28))
    >>> l2 = layer_norm(DenseLayer(l1, num_units=64, nonlinearity=rectify))
    >>> [l.__class__.__name__ for l in get_all_layers(l2)][2:]
    ['StandardizationLayer', 'ScaleLayer', 'BiasLayer', 'NonlinearityLayer']
    """
    return _standardize_then_affine(layer, "features", "_ln", True, True,
                                    kwargs)
