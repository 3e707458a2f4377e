"""Fully connected layers."""
import numpy as np
import pytensor.tensor as pt

from .. import init, nonlinearities
from .base import Layer

__all__ = ["DenseLayer"]


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
