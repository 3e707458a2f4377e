"""Layers that combine several inputs."""
import pytensor.tensor as pt

from .base import MergeLayer

__all__ = [
    "ConcatLayer", "concat",
    "ElemwiseMergeLayer",
    "ElemwiseSumLayer",
]


def _merge_shapes(input_shapes, skip_axis=None):
    """Check that shapes agree except on ``skip_axis``; known sizes win
    over None. Returns the merged shape (``skip_axis`` entry: first's)."""
    ndims = set(len(s) for s in input_shapes)
    if len(ndims) != 1:
        raise ValueError("Mismatch: inputs have different numbers of "
                         "dimensions: %r" % (input_shapes,))
    merged = []
    for axis, sizes in enumerate(zip(*input_shapes)):
        if axis == skip_axis:
            merged.append(sizes[0])
            continue
        known = set(s for s in sizes if s is not None)
        if len(known) > 1:
            raise ValueError("Mismatch: input shapes must be the same except "
                             "on the merge axis; got %r" % (input_shapes,))
        merged.append(known.pop() if known else None)
    return merged


class ConcatLayer(MergeLayer):
    """Concatenate inputs along an axis.

    Parameters
    ----------
    incomings : list of Layer or tuple
    axis : int
    cropping : None
        Only None is supported.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> ConcatLayer([InputLayer((4, 8)), InputLayer((4, 8))]).output_shape
    (4, 16)
    """

    def __init__(self, incomings, axis=1, cropping=None, **kwargs):
        super().__init__(incomings, **kwargs)
        if cropping is not None:
            raise NotImplementedError("ConcatLayer: cropping is not "
                                      "supported by this port; pass inputs "
                                      "of matching shapes.")
        self.axis = axis
        self.cropping = cropping

    def get_output_shape_for(self, input_shapes):
        axis = self.axis % len(input_shapes[0])
        shape = _merge_shapes(input_shapes, skip_axis=axis)
        sizes = [s[axis] for s in input_shapes]
        shape[axis] = None if any(s is None for s in sizes) else sum(sizes)
        return tuple(shape)

    def get_output_for(self, inputs, **kwargs):
        return pt.concatenate(inputs, axis=self.axis)


concat = ConcatLayer  # Lasagne's shortcut


class ElemwiseMergeLayer(MergeLayer):
    """Combine inputs elementwise with a binary function.

    Parameters
    ----------
    incomings : list of Layer or tuple
    merge_function : callable
        Called as ``merge_function(a, b)``, folded over the inputs.
    cropping : None
        Only None is supported.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> ElemwiseMergeLayer([InputLayer((2, 3))] * 2, pt.mul).output_shape
    (2, 3)
    """

    def __init__(self, incomings, merge_function, cropping=None, **kwargs):
        super().__init__(incomings, **kwargs)
        if cropping is not None:
            raise NotImplementedError("cropping is not supported by this "
                                      "port")
        self.merge_function = merge_function
        self.cropping = cropping

    def get_output_shape_for(self, input_shapes):
        return tuple(_merge_shapes(input_shapes))

    def get_output_for(self, inputs, **kwargs):
        output = None
        for input in inputs:
            output = input if output is None else \
                self.merge_function(output, input)
        return output


class ElemwiseSumLayer(ElemwiseMergeLayer):
    """Sum inputs elementwise, each scaled by a coefficient.

    Parameters
    ----------
    incomings : list of Layer or tuple
    coeffs : number or list of numbers
        One per input, or one for all.
    cropping : None

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> ElemwiseSumLayer([InputLayer((2, 3))] * 2, coeffs=[1, -1]).coeffs
    [1, -1]
    """

    def __init__(self, incomings, coeffs=1, cropping=None, **kwargs):
        super().__init__(incomings, merge_function=pt.add,
                         cropping=cropping, **kwargs)
        if isinstance(coeffs, list):
            if len(coeffs) != len(incomings):
                raise ValueError("Mismatch: got %d coeffs for %d incomings"
                                 % (len(coeffs), len(incomings)))
        else:
            coeffs = [coeffs] * len(incomings)
        self.coeffs = coeffs

    def get_output_for(self, inputs, **kwargs):
        # scale only where needed, so the graph stays as Lasagne built it
        scaled = [x if c == 1 else x * c for c, x in zip(self.coeffs, inputs)]
        return super().get_output_for(scaled, **kwargs)
