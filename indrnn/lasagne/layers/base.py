"""Base classes of all layers: :class:`Layer` and :class:`MergeLayer`."""
from collections import OrderedDict

from pytensor.graph.basic import Variable

from .. import utils

__all__ = ["Layer", "MergeLayer"]


def _checked_shape(layer, shape):
    """``shape``, unless ``get_output_shape_for`` returned a symbolic
    size, which Lasagne refuses: shapes are ints and Nones."""
    if any(isinstance(s, Variable) for s in shape):
        raise ValueError("%s returned a symbolic output shape from its "
                         "get_output_shape_for() method: %r. This is not "
                         "allowed; shapes must be tuples of integers for "
                         "fixed-size dimensions and Nones for variable "
                         "dimensions." % (layer.__class__.__name__, shape))
    return shape


class Layer(object):
    """Base class of layers with a single input.

    Parameters
    ----------
    incoming : Layer or tuple
        The layer feeding into this one, or the expected input shape.
    name : str, optional
        A name for the layer; parameters it creates are called
        ``"<name>.<param name>"``.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> l_in = InputLayer((None, 3))
    >>> DenseLayer(l_in, 2, name='fc').W.name
    'fc.W'
    """

    def __init__(self, incoming, name=None):
        if isinstance(incoming, tuple):
            self.input_shape = incoming
            self.input_layer = None
        else:
            self.input_shape = incoming.output_shape
            self.input_layer = incoming
        self.name = name
        # param -> set of tags, in creation order (the order legacy files use)
        self.params = OrderedDict()
        self.get_output_kwargs = []
        if any(d is not None and d <= 0 for d in self.input_shape):
            raise ValueError(
                "Cannot create Layer %s with a non-positive input_shape "
                "dimension. input_shape=%r, self.name=%r"
                % (type(self).__name__, self.input_shape, self.name))

    @property
    def output_shape(self):
        """tuple: the shape of this layer's output (None for unknown)."""
        return _checked_shape(self, self.get_output_shape_for(
            self.input_shape))

    def get_params(self, unwrap_shared=True, **tags):
        """Return this layer's parameters, filtered by tags.

        Parameters
        ----------
        unwrap_shared : bool
            Return the shared variables an expression parameter depends on
            instead of the expression (as Lasagne does).
        **tags
            ``tag=True`` keeps only parameters with that tag, ``tag=False``
            drops those with it (e.g. ``trainable=True``).

        Returns
        -------
        list of Variable
            In the order the parameters were added.

        Examples
        --------
        >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
        >>> l = DenseLayer(InputLayer((None, 3)), 2)
        >>> [p.name for p in l.get_params(regularizable=True)]
        ['W']
        """
        result = list(self.params.keys())
        only = set(tag for tag, value in tags.items() if value)
        if only:
            result = [p for p in result if not (only - self.params[p])]
        exclude = set(tag for tag, value in tags.items() if not value)
        if exclude:
            result = [p for p in result if not (self.params[p] & exclude)]
        if unwrap_shared:
            result = utils.collect_shared_vars(result)
        return result

    def get_output_shape_for(self, input_shape):
        """Compute the output shape for a given input shape.

        Parameters
        ----------
        input_shape : tuple

        Returns
        -------
        tuple
            The input shape, unless a subclass says otherwise.
        """
        return input_shape

    def get_output_for(self, input, **kwargs):
        """Build the symbolic output for a symbolic input.

        Parameters
        ----------
        input : TensorVariable
        **kwargs
            Flags such as ``deterministic``.

        Returns
        -------
        TensorVariable
        """
        raise NotImplementedError

    def add_param(self, spec, shape, name=None, **tags):
        """Create a parameter, register it with tags and return it.

        Parameters
        ----------
        spec : array, SharedVariable, expression or callable
            See :func:`indrnn.lasagne.utils.create_param`.
        shape : tuple of int
        name : str, optional
            Prefixed with the layer's name when the layer has one.
        **tags
            ``trainable`` and ``regularizable`` default to True.

        Returns
        -------
        Variable
            The parameter.

        Examples
        --------
        >>> from indrnn.lasagne.layers import InputLayer
        >>> from indrnn.lasagne import init
        >>> l = Layer(InputLayer((None, 2)), name='l')
        >>> l.add_param(init.Constant(0.), (2,), name='c', trainable=False).name
        'l.c'
        """
        if name is not None and self.name is not None:
            name = "%s.%s" % (self.name, name)
        param = utils.create_param(spec, shape, name)
        tags.setdefault("trainable", True)
        tags.setdefault("regularizable", True)
        self.params[param] = set(tag for tag, value in tags.items() if value)
        return param


class MergeLayer(Layer):
    """Base class of layers with several inputs.

    Parameters
    ----------
    incomings : list of Layer or tuple
        The layers (or shapes) feeding into this one.
    name : str, optional

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, ConcatLayer
    >>> ConcatLayer([InputLayer((2, 3)), InputLayer((2, 4))]).output_shape
    (2, 7)
    """

    def __init__(self, incomings, name=None):
        self.input_shapes = [inc if isinstance(inc, tuple)
                             else inc.output_shape for inc in incomings]
        self.input_layers = [None if isinstance(inc, tuple) else inc
                             for inc in incomings]
        self.name = name
        self.params = OrderedDict()
        self.get_output_kwargs = []

    @Layer.output_shape.getter
    def output_shape(self):
        return _checked_shape(self, self.get_output_shape_for(
            self.input_shapes))

    def get_output_shape_for(self, input_shapes):
        """Compute the output shape from the list of input shapes.

        Parameters
        ----------
        input_shapes : list of tuple

        Returns
        -------
        tuple
        """
        raise NotImplementedError

    def get_output_for(self, inputs, **kwargs):
        """Build the symbolic output from the list of symbolic inputs.

        Parameters
        ----------
        inputs : list of TensorVariable
        **kwargs

        Returns
        -------
        TensorVariable
        """
        raise NotImplementedError
