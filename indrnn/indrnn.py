"""Port of the original ``IndRNN.py``: the IndRNN layer with its own input
projection, built on :class:`~indrnn.lasagne.layers.CustomRecurrentLayer`
exactly as the original (Li et al., CVPR 2018).

``h_t = f(W x_t + b + u * h_{t-1})`` where ``u`` is a vector: every neuron
has one recurrent weight and is independent of the others in its layer.
"""
from .lasagne import init, nonlinearities
from .lasagne.layers import CustomRecurrentLayer, DenseLayer, InputLayer, Layer
from .lasagne.layers.recurrent import _connection_naming

__all__ = ["MulLayer", "IndRNNLayer"]


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


class IndRNNLayer(CustomRecurrentLayer):
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
                 only_return_final=False, **kwargs):
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
