"""Port of the original ``IndRNN.py``: the IndRNN layer with its own input
projection, built on :class:`~indrnn.lasagne.layers.CustomRecurrentLayer`
exactly as the original (Li et al., CVPR 2018).

``h_t = f(W x_t + b + u * h_{t-1})`` where ``u`` is a vector: every neuron
has one recurrent weight and is independent of the others in its layer.

The recurrence runs through the fused Op of :mod:`indrnn.ops` by default
(one kernel over time forward, one backward) wherever it computes exactly
what the original scan did; ``use_fused_op=False`` on a layer, or the
:func:`use_fused_recurrence` context, keeps the scan path.
"""
import contextlib

from .lasagne import init, nonlinearities
from .lasagne.layers import CustomRecurrentLayer, DenseLayer, InputLayer, Layer
from .lasagne.layers.recurrent import _connection_naming
from .ops import activation_name, indrnn_recurrence

__all__ = ["MulLayer", "IndRNNLayer", "FusedRecurrenceMixin",
           "use_fused_recurrence"]

_FUSED_DEFAULT = [True]


@contextlib.contextmanager
def use_fused_recurrence(enabled):
    """Choose the default recurrence path of IndRNN layers built inside.

    Parameters
    ----------
    enabled : bool
        True: the fused Op (the default); False: ``pytensor.scan`` as the
        original.

    Examples
    --------
    >>> with use_fused_recurrence(False):
    ...     l = IndRNNLayer(InputLayer((2, 5, 3)), 4)
    >>> l.use_fused_op
    False
    """
    previous = _FUSED_DEFAULT[0]
    _FUSED_DEFAULT[0] = bool(enabled)
    try:
        yield
    finally:
        _FUSED_DEFAULT[0] = previous


class FusedRecurrenceMixin(object):
    """Run an IndRNN layer's recurrence with the fused Op when possible.

    The fused path is taken when the layer asks for it
    (``use_fused_op``), its nonlinearity is rectify, tanh or identity, the
    input is already projected, and neither ``unroll_scan`` nor truncated
    back-propagation (``gradient_steps``) is requested; otherwise the
    layer's scan path runs. Both compute the same values and gradients,
    including ``grad_clipping``.
    """

    def _init_fused(self, use_fused_op):
        self.use_fused_op = (_FUSED_DEFAULT[0] if use_fused_op is None
                             else bool(use_fused_op))

    def fused_activation(self, precomputed=True):
        """The fused Op's activation for this layer, or None for scan.

        Parameters
        ----------
        precomputed : bool
            Whether the input reaches the recurrence already projected.

        Returns
        -------
        str or None
        """
        if (not self.use_fused_op or not precomputed or self.unroll_scan
                or self.gradient_steps != -1):
            return None
        return activation_name(self.nonlinearity)

    def recurrence(self, input, mask, hid_init, non_seqs, precomputed,
                   **kwargs):
        """Run the recurrence on the fused Op, or on scan (see the class).

        Parameters
        ----------
        input, mask, hid_init, non_seqs, precomputed, **kwargs
            As :meth:`~indrnn.lasagne.layers.CustomRecurrentLayer.recurrence`.

        Returns
        -------
        TensorVariable
            ``(time, batch, units)`` in processing order.
        """
        activation = self.fused_activation(precomputed)
        if activation is None:
            return super().recurrence(input, mask, hid_init, non_seqs,
                                      precomputed, **kwargs)
        return indrnn_recurrence(input, self.W_hid_to_hid, hid_init, mask,
                                 activation=activation,
                                 grad_clip=self.grad_clipping,
                                 backwards=self.backwards)


class MulLayer(Layer):
    """Elementwise product with a weight vector: ``input * W``.

    The hidden-to-hidden connection of an IndRNN.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of shape ``(batch, units)``.
    W : initializer, array or expression
        Weights of shape ``(units,)``.

    Examples
    --------
    >>> MulLayer(InputLayer((None, 4)), name='hidden_to_hidden').W.name
    'hidden_to_hidden.W'
    """

    def __init__(self, incoming, W=init.Normal(0.01), **kwargs):
        super().__init__(incoming, **kwargs)
        num_inputs = self.input_shape[1]
        self.W = self.add_param(W, (num_inputs,), name="W")

    def get_output_for(self, input, **kwargs):
        return input * self.W

    def get_output_shape_for(self, input_shape):
        return input_shape


class IndRNNLayer(FusedRecurrenceMixin, CustomRecurrentLayer):
    """An IndRNN layer on batch-first input ``(batch, time, features...)``.

    Parameters
    ----------
    incoming : Layer or tuple
    num_units : int
    W_in_to_hid : initializer
        Input weights ``input_to_hidden.W``, ``(features, num_units)``.
    W_hid_to_hid : initializer
        Recurrent weights ``hidden_to_hidden.W``, ``(num_units,)``.
    b : initializer or None
        Bias ``input_to_hidden.b``.
    nonlinearity : callable
    hid_init, backwards, learn_init, gradient_steps, grad_clipping,
    unroll_scan, precompute_input, mask_input, only_return_final
        As :class:`~indrnn.lasagne.layers.CustomRecurrentLayer`.
    use_fused_op : bool or None
        Run the recurrence with the fused Op (see
        :class:`FusedRecurrenceMixin`); None takes the default of
        :func:`use_fused_recurrence` (True).

    Notes
    -----
    Parameters come in the original order: ``hid_init``,
    ``input_to_hidden.W``, ``input_to_hidden.b``, ``hidden_to_hidden.W``.

    Examples
    --------
    >>> l = IndRNNLayer(InputLayer((4, 12, 2)), 8, only_return_final=True)
    >>> l.output_shape, [p.name for p in l.get_params(trainable=True)]
    ((4, 8), ['input_to_hidden.W', 'input_to_hidden.b', 'hidden_to_hidden.W'])
    """

    def __init__(self, incoming, num_units, W_in_to_hid=init.Uniform(),
                 W_hid_to_hid=init.Uniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify,
                 hid_init=init.Constant(0.), backwards=False,
                 learn_init=False, gradient_steps=-1, grad_clipping=0,
                 unroll_scan=False, precompute_input=True, mask_input=None,
                 only_return_final=False, use_fused_op=None, **kwargs):
        self._init_fused(use_fused_op)
        input_shape = (incoming if isinstance(incoming, tuple)
                       else incoming.output_shape)
        basename, layer_kwargs = _connection_naming(kwargs)
        # the input projection sees one time step at a time: drop the
        # time axis from its input shape
        in_to_hid = DenseLayer(InputLayer((None,) + tuple(input_shape[2:])),
                               num_units, W=W_in_to_hid, b=b,
                               nonlinearity=None,
                               name=basename + "input_to_hidden",
                               **layer_kwargs)
        hid_to_hid = MulLayer(InputLayer((None, num_units)), W=W_hid_to_hid,
                              name=basename + "hidden_to_hidden",
                              **layer_kwargs)
        self.W_in_to_hid = in_to_hid.W
        self.W_hid_to_hid = hid_to_hid.W
        self.b = in_to_hid.b
        super().__init__(
            incoming, in_to_hid, hid_to_hid, nonlinearity=nonlinearity,
            hid_init=hid_init, backwards=backwards, learn_init=learn_init,
            gradient_steps=gradient_steps, grad_clipping=grad_clipping,
            unroll_scan=unroll_scan, precompute_input=precompute_input,
            mask_input=mask_input, only_return_final=only_return_final,
            **kwargs)
