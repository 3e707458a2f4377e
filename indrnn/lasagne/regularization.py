"""Functions to apply regularization to the weights in a network
(Lasagne's ``lasagne.regularization``).

Penalties (:func:`l1`, :func:`l2`) map a tensor to a scalar; the helper
functions apply a penalty to a tensor, a list of tensors, the parameters of
some layers, or all parameters of a network.

Examples
--------
L2 weight decay over all regularizable parameters (weights, not biases) of
a network, as the original IndRNN scripts do::

    from indrnn.lasagne.regularization import regularize_network_params, l2
    loss = loss + 1e-4 * regularize_network_params(network, l2)
"""
import pytensor.tensor as pt
from pytensor.graph.basic import Variable

__all__ = [
    "l1",
    "l2",
    "apply_penalty",
    "regularize_layer_params",
    "regularize_layer_params_weighted",
    "regularize_network_params",
]


def l1(x):
    """Computes the L1 norm of a tensor.

    Parameters
    ----------
    x : Theano tensor

    Returns
    -------
    Theano scalar
        l1 norm (sum of absolute values of elements)

    Examples
    --------
    >>> float(l1(pt.as_tensor([1.0, -2.0])).eval())
    3.0
    """
    return pt.sum(abs(x))


def l2(x):
    """Computes the squared L2 norm of a tensor.

    Parameters
    ----------
    x : Theano tensor

    Returns
    -------
    Theano scalar
        squared l2 norm (sum of squared values of elements)

    Examples
    --------
    >>> float(l2(pt.as_tensor([1.0, -2.0])).eval())
    5.0
    """
    return pt.sum(x ** 2)


def apply_penalty(tensor_or_tensors, penalty, **kwargs):
    """Computes the total cost for applying a specified penalty
    to a tensor or group of tensors.

    Parameters
    ----------
    tensor_or_tensors : Theano tensor or list of tensors
    penalty : callable
    **kwargs
        keyword arguments passed to penalty.

    Returns
    -------
    Theano scalar
        a scalar expression for the total penalty cost

    Examples
    --------
    >>> a, b = pt.as_tensor([1.0]), pt.as_tensor([2.0, 2.0])
    >>> float(apply_penalty([a, b], l2).eval())
    9.0
    """
    # Lasagne tries to iterate and falls back to a single tensor on
    # TypeError; a PyTensor vector of known length is iterable, though, so
    # a single variable is recognised explicitly.
    if isinstance(tensor_or_tensors, Variable):
        return penalty(tensor_or_tensors, **kwargs)
    try:
        return sum(penalty(x, **kwargs) for x in tensor_or_tensors)
    except (TypeError, ValueError):
        return penalty(tensor_or_tensors, **kwargs)


def regularize_layer_params(layer, penalty,
                            tags={'regularizable': True}, **kwargs):
    """Computes a regularization cost by applying a penalty to the parameters
    of a layer or group of layers.

    Parameters
    ----------
    layer : a :class:`Layer` instances or list of layers.
    penalty : callable
    tags: dict
        Tag specifications which filter the parameters of the layer or layers.
        By default, only parameters with the `regularizable` tag are included.
    **kwargs
        keyword arguments passed to penalty.

    Returns
    -------
    Theano scalar
        a scalar expression for the cost

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> from indrnn.lasagne.init import Constant
    >>> l = DenseLayer(InputLayer((None, 2)), 3, W=Constant(1.0))
    >>> float(regularize_layer_params(l, l2).eval())
    6.0
    """
    from .layers import Layer

    layers = [layer, ] if isinstance(layer, Layer) else layer
    all_params = []

    for layer in layers:
        all_params += layer.get_params(**tags)

    return apply_penalty(all_params, penalty, **kwargs)


def regularize_layer_params_weighted(layers, penalty,
                                     tags={'regularizable': True}, **kwargs):
    """Computes a regularization cost by applying a penalty to the parameters
    of a layer or group of layers, weighted by a coefficient for each layer.

    Parameters
    ----------
    layers : dict
        A mapping from :class:`Layer` instances to coefficients.
    penalty : callable
    tags: dict
        Tag specifications which filter the parameters of the layer or layers.
        By default, only parameters with the `regularizable` tag are included.
    **kwargs
        keyword arguments passed to penalty.

    Returns
    -------
    Theano scalar
        a scalar expression for the cost

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> from indrnn.lasagne.init import Constant
    >>> l = DenseLayer(InputLayer((None, 2)), 3, W=Constant(1.0))
    >>> float(regularize_layer_params_weighted({l: 0.5}, l2).eval())
    3.0
    """
    return sum(coeff * apply_penalty(layer.get_params(**tags),
                                     penalty,
                                     **kwargs)
               for layer, coeff in layers.items()
               )


def regularize_network_params(layer, penalty,
                              tags={'regularizable': True}, **kwargs):
    """Computes a regularization cost by applying a penalty to the parameters
    of all layers in a network.

    Parameters
    ----------
    layer : a :class:`Layer` instance.
        Parameters of this layer and all layers below it will be penalized.
    penalty : callable
    tags: dict
        Tag specifications which filter the parameters of the layer or layers.
        By default, only parameters with the `regularizable` tag are included.
    **kwargs
        keyword arguments passed to penalty.

    Returns
    -------
    Theano scalar
        a scalar expression for the cost

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> from indrnn.lasagne.init import Constant
    >>> l1_ = DenseLayer(InputLayer((None, 2)), 3, W=Constant(1.0))
    >>> l2_ = DenseLayer(l1_, 1, W=Constant(2.0))
    >>> float(regularize_network_params(l2_, l2).eval())
    18.0
    """
    from .layers import get_all_params

    return apply_penalty(get_all_params(layer, **tags), penalty, **kwargs)
