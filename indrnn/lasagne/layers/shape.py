"""Layers that change the shape of their input without computing."""
import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Variable

from ..utils import int_types
from .base import Layer

__all__ = [
    "ReshapeLayer", "reshape",
    "DimshuffleLayer", "dimshuffle",
    "FlattenLayer", "flatten",
    "PadLayer", "pad",
    "SliceLayer",
]


class ReshapeLayer(Layer):
    """Reshape the input.

    Parameters
    ----------
    incoming : Layer or tuple
    shape : tuple
        Each entry is an int (that size), a one-element list ``[i]`` (the
        size of input axis ``i``), a symbolic scalar, or ``-1`` (inferred;
        at most once).

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> ReshapeLayer(InputLayer((12, 4, 8)), (48, -1)).output_shape
    (48, 8)
    >>> ReshapeLayer(InputLayer((None, 4, 8)), ([0], -1)).output_shape
    (None, 32)
    """

    def __init__(self, incoming, shape, **kwargs):
        super().__init__(incoming, **kwargs)
        shape = tuple(shape)
        for s in shape:
            if isinstance(s, int_types):
                if s == 0 or s < -1:
                    raise ValueError("`shape` integers must be positive or -1")
            elif isinstance(s, list):
                if len(s) != 1 or not isinstance(s[0], int_types) \
                        or s[0] < 0:
                    raise ValueError("`shape` input references must be "
                                     "single-element lists of int >= 0")
            elif isinstance(s, Variable):
                if s.ndim != 0:
                    raise ValueError("A symbolic variable in a shape "
                                     "specification must be a scalar, but "
                                     "had %i dimensions" % s.ndim)
            else:
                raise ValueError("`shape` must be a tuple of int and/or [int]")
        if sum(s == -1 for s in shape if isinstance(s, int_types)) > 1:
            raise ValueError("`shape` cannot contain multiple -1")
        self.shape = shape
        # trigger the shape check now, so a bad shape fails at build time
        self.get_output_shape_for(self.input_shape)

    def get_output_shape_for(self, input_shape, **kwargs):
        output_shape = list(self.shape)
        # sizes used to infer -1: an unknown input size referenced by [i]
        # cancels out, so it counts as 1 on both sides
        masked_in = list(input_shape)
        masked_out = list(output_shape)
        for dim, o in enumerate(output_shape):
            if isinstance(o, list):
                if o[0] >= len(input_shape):
                    raise ValueError("specification contains [%d], but input "
                                     "shape has %d dimensions only"
                                     % (o[0], len(input_shape)))
                output_shape[dim] = input_shape[o[0]]
                masked_out[dim] = input_shape[o[0]]
                if input_shape[o[0]] is None and masked_in[o[0]] is None:
                    masked_in[o[0]] = 1
                    masked_out[dim] = 1
        for dim, o in enumerate(output_shape):
            if isinstance(o, Variable):
                output_shape[dim] = None
                masked_out[dim] = None
        in_size = (None if any(x is None for x in masked_in)
                   else int(np.prod(masked_in)))
        out_size = (None if any(x is None for x in masked_out)
                    else int(np.prod(masked_out)))
        if -1 in output_shape:
            dim = output_shape.index(-1)
            if in_size is None or out_size is None:
                output_shape[dim] = None
                out_size = None
            else:
                out_size *= -1
                output_shape[dim] = in_size // out_size
                out_size *= output_shape[dim]
        if in_size is not None and out_size is not None \
                and in_size != out_size:
            raise ValueError(
                "%s cannot be reshaped to specification %s. The total size "
                "mismatches." % (input_shape, self.shape))
        return tuple(output_shape)

    def get_output_for(self, input, **kwargs):
        output_shape = list(self.shape)
        for dim, o in enumerate(output_shape):
            if isinstance(o, list):
                output_shape[dim] = input.shape[o[0]]
        return input.reshape(tuple(output_shape))


reshape = ReshapeLayer  # Lasagne's shortcut


class DimshuffleLayer(Layer):
    """Permute axes and insert broadcastable ones.

    Parameters
    ----------
    incoming : Layer or tuple
    pattern : tuple
        Input axis indices and ``'x'`` for new axes of size 1. Input axes
        left out must have size 1.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> DimshuffleLayer(InputLayer((4, 12, 2)), (1, 0, 2)).output_shape
    (12, 4, 2)
    """

    def __init__(self, incoming, pattern, **kwargs):
        super().__init__(incoming, **kwargs)
        used = set()
        for p in pattern:
            if isinstance(p, int):
                if p in used:
                    raise ValueError("pattern contains dimension {0} more "
                                     "than once".format(p))
                used.add(p)
            elif p != "x":
                raise ValueError("pattern should only contain dimension "
                                 "indices or 'x', not {0}".format(p))
        self.pattern = pattern
        self.get_output_shape_for(self.input_shape)

    def get_output_shape_for(self, input_shape):
        output_shape = []
        dims_used = [False] * len(input_shape)
        for p in self.pattern:
            if isinstance(p, int):
                if p < 0 or p >= len(input_shape):
                    raise ValueError("pattern contains {0}, but input shape "
                                     "has {1} dimensions only"
                                     .format(p, len(input_shape)))
                output_shape.append(input_shape[p])
                dims_used[p] = True
            else:
                output_shape.append(1)
        for i, (size, used) in enumerate(zip(input_shape, dims_used)):
            if not used and size != 1 and size is not None:
                raise ValueError(
                    "pattern attempted to collapse dimension {0} of size "
                    "{1}; dimensions with size != 1/None are not "
                    "broadcastable and cannot be collapsed".format(i, size))
        return tuple(output_shape)

    def get_output_for(self, input, **kwargs):
        return input.dimshuffle(self.pattern)


dimshuffle = DimshuffleLayer  # Lasagne's shortcut


class FlattenLayer(Layer):
    """Flatten the trailing axes so that the output has ``outdim`` axes.

    Parameters
    ----------
    incoming : Layer or tuple
    outdim : int

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> FlattenLayer(InputLayer((2, 3, 4))).output_shape
    (2, 12)
    """

    def __init__(self, incoming, outdim=2, **kwargs):
        super().__init__(incoming, **kwargs)
        self.outdim = outdim
        if outdim < 1:
            raise ValueError("Dim must be >0, was %i" % outdim)

    def get_output_shape_for(self, input_shape):
        to_flatten = input_shape[self.outdim - 1:]
        if any(s is None for s in to_flatten):
            flattened = None
        else:
            flattened = int(np.prod(to_flatten))
        return input_shape[:self.outdim - 1] + (flattened,)

    def get_output_for(self, input, **kwargs):
        return input.flatten(self.outdim)


flatten = FlattenLayer  # Lasagne's shortcut


def _pad_widths(width, ndim, batch_ndim):
    """``(before, after)`` for each axis from ``batch_ndim`` on."""
    if isinstance(width, int_types):
        width = [width] * (ndim - batch_ndim)
    pairs = []
    for w in width:
        try:
            before, after = w
        except TypeError:
            before = after = w
        pairs.append((before, after))
    return pairs


class PadLayer(Layer):
    """Pad the trailing axes with a constant.

    Parameters
    ----------
    incoming : Layer or tuple
    width : int, iterable of int, or iterable of pairs
        Padding on both sides of every padded axis, per axis, or
        ``(before, after)`` per axis (axes from ``batch_ndim`` on).
    val : float
        The value to pad with.
    batch_ndim : int
        Leading axes left alone.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> PadLayer(InputLayer((2, 3, 4, 5)), width=[1, (0, 2)]).output_shape
    (2, 3, 6, 7)
    """

    def __init__(self, incoming, width, val=0, batch_ndim=2, **kwargs):
        super().__init__(incoming, **kwargs)
        self.width = width
        self.val = val
        self.batch_ndim = batch_ndim

    def get_output_shape_for(self, input_shape):
        output_shape = list(input_shape)
        pairs = _pad_widths(self.width, len(input_shape), self.batch_ndim)
        for k, (before, after) in enumerate(pairs):
            axis = k + self.batch_ndim
            if output_shape[axis] is not None:
                output_shape[axis] += before + after
        return tuple(output_shape)

    def get_output_for(self, input, **kwargs):
        shape = [input.shape[i] for i in range(input.ndim)]
        inside = [slice(None)] * input.ndim
        pairs = _pad_widths(self.width, input.ndim, self.batch_ndim)
        for k, (before, after) in enumerate(pairs):
            axis = k + self.batch_ndim
            inside[axis] = slice(before, before + shape[axis])
            shape[axis] = shape[axis] + before + after
        out = pt.full(shape, pt.cast(self.val, input.dtype))
        return pt.set_subtensor(out[tuple(inside)], input)


pad = PadLayer  # Lasagne's shortcut


class SliceLayer(Layer):
    """Take an index or a slice along one axis.

    Parameters
    ----------
    incoming : Layer or tuple
    indices : int or slice
        An int removes the axis; a slice keeps it.
    axis : int

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> SliceLayer(InputLayer((12, 4, 8)), -1, axis=0).output_shape
    (4, 8)
    """

    def __init__(self, incoming, indices, axis=-1, **kwargs):
        super().__init__(incoming, **kwargs)
        self.slice = indices
        self.axis = axis

    def get_output_shape_for(self, input_shape):
        output_shape = list(input_shape)
        if isinstance(self.slice, int):
            del output_shape[self.axis]
        elif input_shape[self.axis] is not None:
            output_shape[self.axis] = len(
                range(*self.slice.indices(input_shape[self.axis])))
        else:
            output_shape[self.axis] = None
        return tuple(output_shape)

    def get_output_for(self, input, **kwargs):
        axis = self.axis
        if axis < 0:
            axis += input.ndim
        return input[(slice(None),) * axis + (self.slice,)]
