"""Layers that combine several inputs."""
import pytensor.tensor as pt

from .base import MergeLayer

__all__ = [
    "autocrop", "autocrop_array_shapes",
    "ConcatLayer", "concat",
    "ElemwiseMergeLayer",
    "ElemwiseSumLayer",
]


_CROP_MODES = (None, "lower", "center", "upper")


def _padded_cropping(cropping, ndim):
    """One crop mode per axis (None for missing trailing entries)."""
    cropping = list(cropping)
    for mode in cropping:
        if mode not in _CROP_MODES:
            raise ValueError("Unknown crop mode '{0}'".format(mode))
    return cropping + [None] * (ndim - len(cropping))


def _check_same_ndim(ndims):
    if len(set(ndims)) != 1:
        raise ValueError("Not all inputs are of the same dimensionality. "
                         "Got {0} inputs of dimensionalities {1}."
                         .format(len(ndims), ndims))


def autocrop(inputs, cropping):
    """Crop inputs to their smallest size along the chosen axes.

    Parameters
    ----------
    inputs : list of TensorVariable
        Of equal numbers of dimensions.
    cropping : None or list of crop modes
        One per axis (padded with None): None leaves the axis alone;
        ``'lower'`` keeps ``a[:size]``, ``'upper'`` ``a[-size:]`` and
        ``'center'`` ``a[offset:offset + size]`` with ``offset = (a.shape -
        size) // 2``, where ``size`` is the smallest size of that axis.
        None for ``cropping`` returns ``inputs`` as they are.

    Returns
    -------
    list of TensorVariable

    Raises
    ------
    ValueError
        On inputs of different dimensionality or an unknown mode.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.random.random((1, 2, 3, 4))
    >>> b = np.random.random((5, 4, 4, 2))
    >>> c = np.random.random((7, 1, 8, 9))
    >>> cropping = [None, 'lower', 'center', 'upper']
    >>> xa, xb, xc = [v.eval() for v in autocrop(
    ...     [pt.as_tensor(a), pt.as_tensor(b), pt.as_tensor(c)], cropping)]
    >>> bool((xa == a[:, :1, :3, -2:]).all())
    True
    >>> bool((xb == b[:, :1, :3, -2:]).all())
    True
    >>> bool((xc == c[:, :1, 2:5:, -2:]).all())
    True
    """
    if cropping is None:
        return inputs
    _check_same_ndim([x.ndim for x in inputs])
    ndim = inputs[0].ndim
    cropping = _padded_cropping(cropping, ndim)
    slices = [[] for _ in inputs]
    for axis, mode in enumerate(cropping):
        size = (None if mode is None
                else pt.min(pt.stack([x.shape[axis] for x in inputs])))
        for x, per_input in zip(inputs, slices):
            if mode is None:
                per_input.append(slice(None))
            elif mode == "lower":
                per_input.append(slice(None, size))
            elif mode == "upper":
                per_input.append(slice(x.shape[axis] - size, None))
            else:
                offset = (x.shape[axis] - size) // 2
                per_input.append(slice(offset, offset + size))
    return [x[tuple(s)] for x, s in zip(inputs, slices)]


def autocrop_array_shapes(input_shapes, cropping):
    """The shapes of inputs after :func:`autocrop`.

    Parameters
    ----------
    input_shapes : list of tuple
    cropping : None or list of crop modes
        As :func:`autocrop`.

    Returns
    -------
    list of tuple

    Examples
    --------
    >>> shapes = autocrop_array_shapes(
    ...     [(1, 2, 3, 4), (5, 4, 4, 2), (7, 1, 8, 9)],
    ...     [None, 'lower', 'center', 'upper'])
    >>> shapes
    [(1, 1, 3, 2), (5, 1, 3, 2), (7, 1, 3, 2)]
    """
    if cropping is None:
        return input_shapes
    _check_same_ndim([len(s) for s in input_shapes])
    cropping = _padded_cropping(cropping, len(input_shapes[0]))
    columns = []
    for sizes, mode in zip(zip(*input_shapes), cropping):
        if mode is None:
            columns.append(sizes)
        else:
            # as Lasagne: an unknown size counts as unknown (None < ints
            # does not order in Python 3, so None wins)
            known = [s for s in sizes if s is not None]
            size = (min(known) if len(known) == len(sizes) else None)
            columns.append([size] * len(sizes))
    return [tuple(shape) for shape in zip(*columns)]


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
    cropping : None or list of crop modes
        See :func:`autocrop`; the concatenation axis is never cropped.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> ConcatLayer([InputLayer((4, 8)), InputLayer((4, 8))]).output_shape
    (4, 16)
    """

    def __init__(self, incomings, axis=1, cropping=None, **kwargs):
        super().__init__(incomings, **kwargs)
        self.axis = axis
        if cropping is not None:
            # never crop the concatenation axis
            cropping = list(cropping)
            cropping[axis] = None
        self.cropping = cropping

    def get_output_shape_for(self, input_shapes):
        input_shapes = autocrop_array_shapes(input_shapes, self.cropping)
        axis = self.axis % len(input_shapes[0])
        shape = _merge_shapes(input_shapes, skip_axis=axis)
        sizes = [s[axis] for s in input_shapes]
        shape[axis] = None if any(s is None for s in sizes) else sum(sizes)
        return tuple(shape)

    def get_output_for(self, inputs, **kwargs):
        inputs = autocrop(inputs, self.cropping)
        return pt.concatenate(inputs, axis=self.axis)


concat = ConcatLayer  # Lasagne's shortcut


class ElemwiseMergeLayer(MergeLayer):
    """Combine inputs elementwise with a binary function.

    Parameters
    ----------
    incomings : list of Layer or tuple
    merge_function : callable
        Called as ``merge_function(a, b)``, folded over the inputs.
    cropping : None or list of crop modes
        See :func:`autocrop`.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> ElemwiseMergeLayer([InputLayer((2, 3))] * 2, pt.mul).output_shape
    (2, 3)
    """

    def __init__(self, incomings, merge_function, cropping=None, **kwargs):
        super().__init__(incomings, **kwargs)
        self.merge_function = merge_function
        self.cropping = cropping

    def get_output_shape_for(self, input_shapes):
        input_shapes = autocrop_array_shapes(input_shapes, self.cropping)
        return tuple(_merge_shapes(input_shapes))

    def get_output_for(self, inputs, **kwargs):
        inputs = autocrop(inputs, self.cropping)
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
    cropping : None or list of crop modes
        See :func:`autocrop`.

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
