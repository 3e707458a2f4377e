"""Port of the original ``IndRNN_onlyrecurrent.py``: only the recurrent part
of an IndRNN, ``h_t = f(x_t + u * h_{t-1})``, on **time-first** input
``(time, batch, units)``.

The input projection (a DenseLayer, a convolution...) comes before the
layer, so that batch normalisation can sit between the projection and the
recurrence, as in the paper's deep networks.
"""

from .indrnn import FusedRecurrenceMixin, MulLayer
from .lasagne import init, nonlinearities
from .lasagne.layers import CustomRecurrentLayer, InputLayer, Layer
from .lasagne.layers.recurrent import (_connection_naming,
                                       repeat_initial_state)

__all__ = ["onlyRecurrentLayer", "MulLayer", "IndRNNLayer_onlyrecurrent"]


class onlyRecurrentLayer(CustomRecurrentLayer):
    """A custom recurrent layer without input computation, time-first.

    Like :class:`~indrnn.lasagne.layers.CustomRecurrentLayer`, but the input
    is already projected and comes as ``(time, batch, units)``, and the
    output is time-first too.

    Parameters
    ----------
    incoming : Layer or tuple
        ``(time, batch, units)``.
    input_to_hidden : Layer
        An InputLayer (the identity) in the original use.
    hidden_to_hidden : Layer
    nonlinearity, hid_init, backwards, learn_init, gradient_steps,
    grad_clipping, unroll_scan, precompute_input, mask_input,
    only_return_final
        As :class:`~indrnn.lasagne.layers.CustomRecurrentLayer`; the mask is
        batch-first ``(batch, time)`` as in the original.

    Notes
    -----
    ``input_to_hidden`` is not applied (as in the original). The original
    reported ``(time, units)`` as the output shape with
    ``only_return_final``; the actual output is ``(batch, units)`` and that
    is what this port reports. Likewise the original unrolled (with
    ``unroll_scan=True``) over ``input_shape[1]`` steps, the batch size of a
    time-first input; this port unrolls over the time axis.

    Examples
    --------
    >>> h2h = MulLayer(InputLayer((None, 8)))
    >>> l = onlyRecurrentLayer(InputLayer((12, 4, 8)), InputLayer((12, 4, 8)),
    ...                        h2h)
    >>> l.output_shape
    (12, 4, 8)
    """

    time_axis = 0

    def get_output_shape_for(self, input_shapes):
        input_shape = input_shapes[0]
        units = self.hidden_to_hidden.output_shape[1:]
        if self.only_return_final:
            return (input_shape[1],) + units
        return (input_shape[0], input_shape[1]) + units

    def get_output_for(self, inputs, **kwargs):
        input = inputs[0]
        mask, hid_init = self._optional_inputs(inputs)
        num_batch = input.shape[1]
        non_seqs = self.get_recurrent_params()
        if mask is not None:
            mask = mask.dimshuffle(1, 0, "x")
        if not isinstance(self.hid_init, Layer):
            hid_init = repeat_initial_state(self.hid_init, num_batch)
        hid_out = self.recurrence(input, mask, hid_init, non_seqs,
                                  precomputed=True, **kwargs)
        if self.only_return_final:
            return hid_out[-1]
        if self.backwards:
            hid_out = hid_out[::-1]
        return hid_out

    def get_recurrent_params(self):
        """Parameters the step function uses (the hidden-to-hidden ones).

        Returns
        -------
        list of SharedVariable
        """
        from .lasagne.layers import get_all_params
        return get_all_params(self.hidden_to_hidden)


class IndRNNLayer_onlyrecurrent(FusedRecurrenceMixin, onlyRecurrentLayer):
    """The recurrent part of an IndRNN layer, time-first.

    Parameters
    ----------
    incoming : Layer or tuple
        The projected input, ``(time, batch, num_units)``.
    num_units : int
    W_hid_to_hid : initializer
        The recurrent weights ``hidden_to_hidden.W``, ``(num_units,)``.
    nonlinearity, hid_init, backwards, learn_init, gradient_steps,
    grad_clipping, unroll_scan, precompute_input, mask_input,
    only_return_final
        As :class:`onlyRecurrentLayer`.
    use_fused_op : bool or None
        Run the recurrence with the fused Op (see
        :class:`~indrnn.indrnn.FusedRecurrenceMixin`); None takes the
        default of :func:`~indrnn.indrnn.use_fused_recurrence` (True).

    Notes
    -----
    Parameters: ``hid_init`` (only when the initial state is not a layer),
    then ``hidden_to_hidden.W``.

    Examples
    --------
    >>> l = IndRNNLayer_onlyrecurrent(InputLayer((12, 4, 8)), 8)
    >>> [p.name for p in l.get_params()]
    ['hid_init', 'hidden_to_hidden.W']
    """

    def __init__(self, incoming, num_units, W_hid_to_hid=init.Uniform(),
                 nonlinearity=nonlinearities.rectify,
                 hid_init=init.Constant(0.), backwards=False,
                 learn_init=False, gradient_steps=-1, grad_clipping=0,
                 unroll_scan=False, precompute_input=True, mask_input=None,
                 only_return_final=False, use_fused_op=None, **kwargs):
        self._init_fused(use_fused_op)
        input_shape = (incoming if isinstance(incoming, tuple)
                       else incoming.output_shape)
        basename, layer_kwargs = _connection_naming(kwargs)
        in_to_hid = InputLayer(input_shape)
        hid_to_hid = MulLayer(InputLayer((None, num_units)), W=W_hid_to_hid,
                              name=basename + "hidden_to_hidden",
                              **layer_kwargs)
        self.W_hid_to_hid = hid_to_hid.W
        super().__init__(
            incoming, in_to_hid, hid_to_hid, nonlinearity=nonlinearity,
            hid_init=hid_init, backwards=backwards, learn_init=learn_init,
            gradient_steps=gradient_steps, grad_clipping=grad_clipping,
            unroll_scan=unroll_scan, precompute_input=precompute_input,
            mask_input=mask_input, only_return_final=only_return_final,
            **kwargs)
