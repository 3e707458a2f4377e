"""Fully connected layers."""
import numpy as np
import pytensor.tensor as pt

from .. import init, nonlinearities
from .base import Layer

__all__ = ["DenseLayer", "NINLayer"]


class DenseLayer(Layer):
    """A fully connected layer: ``nonlinearity(dot(input, W) + b)``.

    Parameters
    ----------
    incoming : Layer or tuple
    num_units : int
        Number of output units.
    W : initializer, array or expression
        Weights of shape ``(num_inputs, num_units)``; an expression such as
        ``embedding.W.T`` ties weights (it adds no new shared variable).
    b : initializer, array, expression or None
        Biases of shape ``(num_units,)``; None for no bias.
    nonlinearity : callable or None
        None means identity.
    num_leading_axes : int
        Axes kept as they are; the rest are flattened into the input
        features. Negative counts from the end.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> DenseLayer(InputLayer((None, 4, 3)), 5).output_shape
    (None, 5)
    """

    def __init__(self, incoming, num_units, W=init.GlorotUniform(),
                 b=init.Constant(0.), nonlinearity=nonlinearities.rectify,
                 num_leading_axes=1, **kwargs):
        super().__init__(incoming, **kwargs)
        self.nonlinearity = (nonlinearities.identity if nonlinearity is None
                             else nonlinearity)
        self.num_units = num_units
        ndim = len(self.input_shape)
        if num_leading_axes >= ndim:
            raise ValueError(
                "Got num_leading_axes=%d for a %d-dimensional input, leaving "
                "no trailing dimensions for the dot product."
                % (num_leading_axes, ndim))
        if num_leading_axes < -ndim:
            raise ValueError(
                "Got num_leading_axes=%d for a %d-dimensional input, "
                "requesting more trailing axes than there are input "
                "dimensions." % (num_leading_axes, ndim))
        # kept as given (negative counts from the end), as Lasagne does
        self.num_leading_axes = num_leading_axes
        if any(s is None for s in self.input_shape[num_leading_axes:]):
            raise ValueError(
                "A DenseLayer requires a fixed input shape (except for the "
                "leading axes). Got %r for num_leading_axes=%d."
                % (self.input_shape, num_leading_axes))
        num_inputs = int(np.prod(self.input_shape[num_leading_axes:]))
        self.W = self.add_param(W, (num_inputs, num_units), name="W")
        if b is None:
            self.b = None
        else:
            self.b = self.add_param(b, (num_units,), name="b",
                                    regularizable=False)

    def get_output_shape_for(self, input_shape):
        return input_shape[:self.num_leading_axes] + (self.num_units,)

    def get_output_for(self, input, **kwargs):
        num_leading_axes = self.num_leading_axes
        if num_leading_axes < 0:
            num_leading_axes += input.ndim
        if input.ndim > num_leading_axes + 1:
            # flatten the trailing axes into one
            input = input.flatten(num_leading_axes + 1)
        activation = pt.dot(input, self.W)
        if self.b is not None:
            activation = activation + self.b
        return self.nonlinearity(activation)


class NINLayer(Layer):
    """A network-in-network layer (Lin et al., 2013): a dense layer
    applied along the second axis at every position of the trailing axes
    (a 1 x 1 convolution).

    Parameters
    ----------
    incoming : Layer or tuple
        ``(batch, channels, ...)``; the channels must be known.
    num_units : int
        Output channels.
    untie_biases : bool
        One bias per unit and position, shape ``(num_units,) +
        input_shape[2:]``, instead of one per unit.
    W : initializer, array or expression
        ``(channels, num_units)``.
    b : initializer, array, expression or None
    nonlinearity : callable or None

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> l = NINLayer(InputLayer((None, 3, 8, 8)), 5, untie_biases=True)
    >>> l.output_shape, l.b.get_value().shape
    ((None, 5, 8, 8), (5, 8, 8))
    """

    def __init__(self, incoming, num_units, untie_biases=False,
                 W=init.GlorotUniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, **kwargs):
        super().__init__(incoming, **kwargs)
        self.nonlinearity = (nonlinearities.identity if nonlinearity is None
                             else nonlinearity)
        self.num_units = num_units
        self.untie_biases = untie_biases
        num_input_channels = self.input_shape[1]
        self.W = self.add_param(W, (num_input_channels, num_units), name="W")
        if b is None:
            self.b = None
        else:
            shape = ((num_units,) + tuple(self.input_shape[2:])
                     if untie_biases else (num_units,))
            self.b = self.add_param(b, shape, name="b", regularizable=False)

    def get_output_shape_for(self, input_shape):
        return (input_shape[0], self.num_units) + tuple(input_shape[2:])

    def get_output_for(self, input, **kwargs):
        # (batch, ..., units) from the channel axis, then units second
        out = pt.tensordot(input, self.W, axes=[[1], [0]])
        trailing = list(range(1, input.ndim - 1))
        activation = out.dimshuffle(0, input.ndim - 1, *trailing)
        if self.b is not None:
            if self.untie_biases:
                bias = self.b.dimshuffle("x", *range(self.b.ndim))
            else:
                bias = self.b.dimshuffle("x", 0, *["x"] * len(trailing))
            activation = activation + bias
        return self.nonlinearity(activation)
