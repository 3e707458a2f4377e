"""The input layer: where data enters a network."""
import pytensor
import pytensor.tensor as pt

from .base import Layer

__all__ = ["InputLayer"]


class InputLayer(Layer):
    """A layer holding a symbolic input variable.

    Parameters
    ----------
    shape : tuple of int or None
        The input shape; ``None`` marks a dimension of any size.
    input_var : TensorVariable, optional
        The variable to use. When omitted a new one of dtype ``floatX`` is
        created, broadcastable where ``shape`` has a 1 (as Lasagne does).
    name : str, optional

    Examples
    --------
    >>> l_in = InputLayer((None, 10))
    >>> l_in.input_var.ndim
    2
    """

    def __init__(self, shape, input_var=None, name=None, **kwargs):
        self.shape = tuple(shape)
        if any(d is not None and d <= 0 for d in self.shape):
            raise ValueError(
                "Cannot create InputLayer with a non-positive shape "
                "dimension. shape=%r, self.name=%r" % (self.shape, name))
        ndim = len(self.shape)
        if input_var is None:
            var_name = ("%s.input" % name) if name is not None else "input"
            static = tuple(1 if s == 1 else None for s in self.shape)
            input_var = pt.TensorType(pytensor.config.floatX,
                                      shape=static)(var_name)
        elif input_var.ndim != ndim:
            raise ValueError("shape has %d dimensions, but variable has %d"
                             % (ndim, input_var.ndim))
        self.input_var = input_var
        self.name = name
        self.params = {}
        self.get_output_kwargs = []

    @Layer.output_shape.getter
    def output_shape(self):
        return self.shape
