"""Layers that apply a function: :class:`NonlinearityLayer`,
:class:`ExpressionLayer`."""
from .. import nonlinearities
from .base import Layer

__all__ = ["NonlinearityLayer", "ExpressionLayer"]


class NonlinearityLayer(Layer):
    """Apply a nonlinearity elementwise.

    Parameters
    ----------
    incoming : Layer or tuple
    nonlinearity : callable or None
        None means identity.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> NonlinearityLayer(InputLayer((None, 3))).output_shape
    (None, 3)
    """

    def __init__(self, incoming, nonlinearity=nonlinearities.rectify,
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.nonlinearity = (nonlinearities.identity if nonlinearity is None
                             else nonlinearity)

    def get_output_for(self, input, **kwargs):
        return self.nonlinearity(input)


class ExpressionLayer(Layer):
    """Apply an arbitrary function to the input.

    Parameters
    ----------
    incoming : Layer or tuple
    function : callable
        Maps the input expression to the output expression.
    output_shape : None, tuple, callable or 'auto'
        None: same as the input; a tuple; a callable of the input shape.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> ExpressionLayer(InputLayer((2, 3)), lambda x: 2 * x).output_shape
    (2, 3)
    """

    def __init__(self, incoming, function, output_shape=None, **kwargs):
        super().__init__(incoming, **kwargs)
        self.function = function
        self._output_shape = output_shape

    def get_output_shape_for(self, input_shape):
        if self._output_shape is None:
            return input_shape
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        return tuple(self._output_shape)

    def get_output_for(self, input, **kwargs):
        return self.function(input)
