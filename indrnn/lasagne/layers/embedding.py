"""Lookup-table layers."""
from .. import init
from .base import Layer

__all__ = ["EmbeddingLayer"]


class EmbeddingLayer(Layer):
    """Map integer indices to learned vectors: ``W[input]``.

    Parameters
    ----------
    incoming : Layer or tuple
        Integer indices of any shape.
    input_size : int
        Number of distinct indices (vocabulary size).
    output_size : int
        Size of each vector.
    W : initializer, array or expression
        The table, shape ``(input_size, output_size)``.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> EmbeddingLayer(InputLayer((4, 12)), 50, 8).output_shape
    (4, 12, 8)
    """

    def __init__(self, incoming, input_size, output_size, W=init.Normal(),
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.input_size = input_size
        self.output_size = output_size
        self.W = self.add_param(W, (input_size, output_size), name="W")

    def get_output_shape_for(self, input_shape):
        return input_shape + (self.output_size,)

    def get_output_for(self, input, **kwargs):
        return self.W[input]
