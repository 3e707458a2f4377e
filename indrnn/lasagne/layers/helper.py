"""Functions that act on whole networks: collect layers and parameters,
build outputs, get and set parameter values."""
from collections import deque
from difflib import get_close_matches
from warnings import warn

import numpy as np

from .. import utils
from .base import Layer, MergeLayer
from .input import InputLayer

__all__ = [
    "get_all_layers",
    "get_output",
    "get_output_shape",
    "get_all_params",
    "count_params",
    "get_all_param_values",
    "set_all_param_values",
]


def get_all_layers(layer, treat_as_input=None):
    """List every layer a network's output depends on, inputs first.

    The order is Lasagne's: a depth-first walk that lists each layer once,
    after all of its incomings, visiting incomings in their given order.
    Legacy parameter files are positional, so this order matters.

    Parameters
    ----------
    layer : Layer or list of Layer
        The output layer(s).
    treat_as_input : iterable of Layer, optional
        Layers whose incomings are not followed.

    Returns
    -------
    list of Layer

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> l_in = InputLayer((None, 3)); l_out = DenseLayer(l_in, 2)
    >>> get_all_layers(l_out) == [l_in, l_out]
    True
    """
    try:
        queue = deque(layer)
    except TypeError:
        queue = deque([layer])
    seen = set(treat_as_input) if treat_as_input is not None else set()
    done = set()
    result = []
    while queue:
        current = queue[0]
        if current is None:
            queue.popleft()
        elif current not in seen:
            # first visit: put the incomings in front of it, in order
            seen.add(current)
            if hasattr(current, "input_layers"):
                queue.extendleft(reversed(current.input_layers))
            elif hasattr(current, "input_layer"):
                queue.appendleft(current.input_layer)
        else:
            # second visit: its incomings are done
            queue.popleft()
            if current not in done:
                result.append(current)
                done.add(current)
    return result


def get_output(layer_or_layers, inputs=None, **kwargs):
    """Build the symbolic output expression(s) of a network.

    Parameters
    ----------
    layer_or_layers : Layer or list of Layer
        The layer(s) whose output is wanted.
    inputs : None, Variable, array or dict, optional
        ``None`` uses the input layers' variables; a single expression
        replaces the only input layer's variable; a dict maps layers (any
        layer, not only input layers) to expressions that replace their
        output.
    **kwargs
        Passed to every layer's ``get_output_for``, e.g.
        ``deterministic=True``, ``batch_norm_use_averages=False``,
        ``batch_norm_update_averages=False``. Unknown keywords warn.

    Returns
    -------
    TensorVariable or list of TensorVariable

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> l_out = DenseLayer(InputLayer((None, 3)), 2)
    >>> get_output(l_out).ndim
    2
    """
    if isinstance(inputs, dict):
        for key in inputs:
            if key is not None and not isinstance(key, Layer):
                raise TypeError(
                    "The inputs dictionary keys must be Layer instances; "
                    "got %r" % (key,))
    treat_as_input = list(inputs.keys()) if isinstance(inputs, dict) else []
    all_layers = get_all_layers(layer_or_layers, treat_as_input)
    all_outputs = dict((l, l.input_var) for l in all_layers
                       if isinstance(l, InputLayer)
                       and l not in treat_as_input)
    if isinstance(inputs, dict):
        all_outputs.update((l, utils.as_tensor_expression(expr))
                           for l, expr in inputs.items())
    elif inputs is not None:
        if len(all_outputs) > 1:
            raise ValueError(
                "get_output() was called with a single input expression on "
                "a network with %d input layers. Please call it with a "
                "dictionary of input expressions instead." % len(all_outputs))
        for l in all_outputs:
            all_outputs[l] = utils.as_tensor_expression(inputs)

    accepted = {"deterministic"}
    for l in all_layers:
        if l in all_outputs:
            continue
        try:
            if isinstance(l, MergeLayer):
                l_inputs = [all_outputs[i] for i in l.input_layers]
            else:
                l_inputs = all_outputs[l.input_layer]
        except KeyError:
            raise ValueError(
                "get_output() was called without giving an input expression "
                "for the free-floating layer %r. Please call it with a "
                "dictionary mapping this layer to an input expression." % l)
        all_outputs[l] = l.get_output_for(l_inputs, **kwargs)
        try:
            accepted |= set(utils.inspect_kwargs(l.get_output_for))
        except (TypeError, ValueError):
            pass
        accepted |= set(l.get_output_kwargs)

    unused = set(kwargs) - accepted
    if unused:
        hints = []
        for kw in sorted(unused):
            close = get_close_matches(kw, accepted)
            hints.append("%s (perhaps you meant %s)" % (kw, close[0])
                         if close else kw)
        warn("get_output() was called with unused kwargs:\n\t%s"
             % "\n\t".join(hints))
    try:
        return [all_outputs[l] for l in layer_or_layers]
    except TypeError:
        return all_outputs[layer_or_layers]


def get_output_shape(layer_or_layers, input_shapes=None):
    """Compute the output shape(s) of a network.

    Parameters
    ----------
    layer_or_layers : Layer or list of Layer
    input_shapes : None, tuple or dict, optional
        Replacement shapes, as ``inputs`` of :func:`get_output`.

    Returns
    -------
    tuple or list of tuple

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> get_output_shape(DenseLayer(InputLayer((5, 3)), 2))
    (5, 2)
    """
    if input_shapes is None or input_shapes == {}:
        try:
            return [l.output_shape for l in layer_or_layers]
        except TypeError:
            return layer_or_layers.output_shape
    treat_as_input = (list(input_shapes.keys())
                      if isinstance(input_shapes, dict) else [])
    all_layers = get_all_layers(layer_or_layers, treat_as_input)
    if isinstance(input_shapes, dict):
        all_shapes = dict(input_shapes)
    else:
        inputs = [l for l in all_layers if isinstance(l, InputLayer)]
        if len(inputs) > 1:
            raise ValueError("get_output_shape() was called with a single "
                             "input shape on a network with multiple input "
                             "layers. Please call it with a dictionary.")
        all_shapes = {inputs[0]: input_shapes}
    for l in all_layers:
        if l in all_shapes:
            continue
        if isinstance(l, InputLayer):
            all_shapes[l] = l.shape
        elif isinstance(l, MergeLayer):
            all_shapes[l] = l.get_output_shape_for(
                [all_shapes[i] for i in l.input_layers])
        else:
            all_shapes[l] = l.get_output_shape_for(all_shapes[l.input_layer])
    try:
        return [all_shapes[l] for l in layer_or_layers]
    except TypeError:
        return all_shapes[layer_or_layers]


def get_all_params(layer, unwrap_shared=True, **tags):
    """Collect the parameters of a network, in Lasagne's order.

    Layers are visited as :func:`get_all_layers` lists them; each layer
    contributes ``layer.get_params(**tags)``; duplicates (shared or tied
    weights) are kept at their first place.

    Parameters
    ----------
    layer : Layer or list of Layer
    unwrap_shared : bool
        See :meth:`Layer.get_params`.
    **tags
        Tag filters such as ``trainable=True``.

    Returns
    -------
    list of Variable

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> l = DenseLayer(InputLayer((None, 3)), 2)
    >>> [p.name for p in get_all_params(l, trainable=True)]
    ['W', 'b']
    """
    layers = get_all_layers(layer)
    params = []
    for l in layers:
        params.extend(l.get_params(unwrap_shared=unwrap_shared, **tags))
    return utils.unique(params)


def count_params(layer, **tags):
    """Count the scalar values in a network's parameters.

    Parameters
    ----------
    layer : Layer or list of Layer
    **tags
        Tag filters, as :func:`get_all_params`.

    Returns
    -------
    int

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> count_params(DenseLayer(InputLayer((None, 3)), 2))
    8
    """
    params = get_all_params(layer, **tags)
    return int(sum(np.prod(p.get_value(borrow=True).shape) for p in params))


def get_all_param_values(layer, **tags):
    """Return copies of the values of a network's parameters.

    Parameters
    ----------
    layer : Layer or list of Layer
    **tags
        Tag filters, as :func:`get_all_params`.

    Returns
    -------
    list of numpy.ndarray
        In :func:`get_all_params` order: what the original scripts saved
        with ``np.savez(name, *values)``.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> [v.shape for v in get_all_param_values(
    ...     DenseLayer(InputLayer((None, 3)), 2))]
    [(3, 2), (2,)]
    """
    return [p.get_value() for p in get_all_params(layer, **tags)]


def set_all_param_values(layer, values, **tags):
    """Set a network's parameters from a list of arrays, in order.

    Every count and shape is checked before anything is set, so a
    mismatching list leaves the network untouched.

    Parameters
    ----------
    layer : Layer or list of Layer
    values : list of numpy.ndarray
        In :func:`get_all_params` order.
    **tags
        Tag filters, as :func:`get_all_params`.

    Raises
    ------
    ValueError
        On a count or shape mismatch, naming the parameter.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> l = DenseLayer(InputLayer((None, 3)), 2)
    >>> set_all_param_values(l, [np.ones((3, 2)), np.zeros(2)])
    >>> float(l.W.get_value().sum())
    6.0
    """
    params = get_all_params(layer, **tags)
    if len(params) != len(values):
        raise ValueError("mismatch: got %d values to set %d parameters"
                         % (len(values), len(params)))
    for i, (p, v) in enumerate(zip(params, values)):
        shape = p.get_value(borrow=True).shape
        if shape != np.shape(v):
            raise ValueError(
                "mismatch: parameter %d (%s) has shape %r but value to set "
                "has shape %r" % (i, p.name, shape, np.shape(v)))
    for p, v in zip(params, values):
        p.set_value(np.asarray(v, dtype=p.dtype))
