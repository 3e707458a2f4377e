"""Small helpers shared by the layer library (Lasagne's ``lasagne.utils``).

Everything here works on PyTensor variables; the names follow Lasagne so
that original code calling ``lasagne.utils.floatX`` or
``lasagne.utils.unroll_scan`` keeps working.
"""
import inspect

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Variable
from pytensor.graph.traversal import graph_inputs

__all__ = [
    "floatX",
    "shared_empty",
    "as_tensor_expression",
    "as_theano_expression",
    "collect_shared_vars",
    "one_hot",
    "unique",
    "compute_norms",
    "create_param",
    "unroll_scan",
    "inspect_kwargs",
]


def floatX(arr):
    """Convert an array-like to a numpy array of ``pytensor.config.floatX``.

    Parameters
    ----------
    arr : array_like
        The data to convert.

    Returns
    -------
    numpy.ndarray
        ``arr`` as an array of dtype ``floatX`` (no copy if already so).

    Examples
    --------
    >>> floatX([1, 2]).dtype == pytensor.config.floatX
    True
    """
    return np.asarray(arr, dtype=pytensor.config.floatX)


def shared_empty(dim=2, dtype=None):
    """Create an empty shared variable of ``dim`` dimensions.

    Parameters
    ----------
    dim : int
        Number of dimensions.
    dtype : str, optional
        Data type; ``floatX`` when omitted.

    Returns
    -------
    SharedVariable
        A shared variable holding zeros of shape ``(1,) * dim``.

    Examples
    --------
    >>> shared_empty(3).get_value().shape
    (1, 1, 1)
    """
    if dtype is None:
        dtype = pytensor.config.floatX
    return pytensor.shared(np.zeros((1,) * dim, dtype=dtype))


def as_tensor_expression(input):
    """Wrap ``input`` as a PyTensor expression unless it already is one.

    Parameters
    ----------
    input : Variable or array_like
        A symbolic variable, or a constant value.

    Returns
    -------
    Variable
        The input itself, or a tensor constant holding it.

    Raises
    ------
    TypeError
        If ``input`` cannot be converted.

    Examples
    --------
    >>> as_tensor_expression(1.0).ndim
    0
    """
    if isinstance(input, Variable):
        return input
    try:
        return pt.constant(input)
    except Exception as exc:
        raise TypeError(
            "Input of type %s is not a PyTensor expression and cannot be "
            "wrapped as one: %s" % (type(input), exc))


#: Lasagne's name for :func:`as_tensor_expression`.
as_theano_expression = as_tensor_expression


def collect_shared_vars(expressions):
    """Return all shared variables the given expression(s) depend on.

    Parameters
    ----------
    expressions : Variable or list of Variable
        Expression(s) to walk.

    Returns
    -------
    list of SharedVariable
        In the order they are first met, each once.

    Examples
    --------
    >>> w = pytensor.shared(np.ones(2), name='w')
    >>> collect_shared_vars(2 * w.T) == [w]
    True
    """
    if isinstance(expressions, Variable):
        expressions = [expressions]
    # one expression at a time, so the order follows the given list
    found = []
    for expr in expressions:
        found.extend(v for v in graph_inputs([expr])
                     if isinstance(v, SharedVariable))
    return unique(found)


def one_hot(x, m=None):
    """One-hot encode an integer vector.

    Parameters
    ----------
    x : integer tensor vector
        Class indices.
    m : int or scalar, optional
        Number of classes; ``max(x) + 1`` when omitted.

    Returns
    -------
    TensorVariable
        A matrix of shape ``(len(x), m)`` and dtype floatX.

    Examples
    --------
    >>> one_hot(pt.as_tensor([0, 2])).eval().tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    if m is None:
        m = pt.cast(pt.max(x) + 1, "int32")
    return pt.eye(m, dtype=pytensor.config.floatX)[pt.cast(x, "int32")]


def unique(l):
    """Remove duplicates from a list, keeping the first occurrence's order.

    Parameters
    ----------
    l : iterable

    Returns
    -------
    list

    Examples
    --------
    >>> unique([3, 1, 3, 2, 1])
    [3, 1, 2]
    """
    seen = set()
    out = []
    for item in l:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def compute_norms(array, norm_axes=None):
    """Compute the L2 norms of an array or expression along ``norm_axes``.

    Parameters
    ----------
    array : numpy.ndarray or TensorVariable
        Weights.
    norm_axes : sequence of int, optional
        Axes to sum over. Defaults as in Lasagne: none for vectors (the
        absolute values), axis 0 for matrices, all axes but the first for
        3-D to 5-D arrays (filters).

    Returns
    -------
    numpy.ndarray or TensorVariable
        The norms, of the input's kind.

    Examples
    --------
    >>> compute_norms(np.array([[3., 0.], [4., 1.]])).tolist()
    [5.0, 1.0]
    >>> compute_norms(np.array([-2., 1.])).tolist()
    [2.0, 1.0]
    """
    symbolic = isinstance(array, Variable)
    ndim = array.ndim if symbolic else np.ndim(array)
    if norm_axes is None:
        if ndim == 1:
            norm_axes = ()
        elif ndim == 2:
            norm_axes = (0,)
        elif ndim in (3, 4, 5):
            norm_axes = tuple(range(1, ndim))
        else:
            raise ValueError(
                "Unsupported tensor dimensionality {}. Must specify "
                "`norm_axes`".format(ndim))
    norm_axes = tuple(norm_axes)
    if symbolic:
        if not norm_axes:
            return pt.abs(array)
        return pt.sqrt(pt.sum(pt.sqr(array), axis=norm_axes))
    array = np.asarray(array)
    if not norm_axes:
        return np.abs(array)
    return np.sqrt(np.sum(array ** 2, axis=norm_axes))


def create_param(spec, shape, name=None):
    """Create a parameter from a numpy array, a shared variable, an
    expression or a callable initializer, checking its shape.

    Parameters
    ----------
    spec : numpy.ndarray, SharedVariable, Variable or callable
        A numpy array is wrapped in a shared variable (cast to floatX when it
        is floating point); a shared variable or expression is used as is
        (e.g. ``embed.W.T`` for weight tying); a callable (such as an
        :mod:`indrnn.lasagne.init` initializer) is called with ``shape`` and
        must return a numpy array or a shared variable.
    shape : tuple of int
        The required shape.
    name : str, optional
        Name of the created shared variable.

    Returns
    -------
    Variable
        The parameter.

    Raises
    ------
    ValueError
        If the shape or dimensionality does not match ``shape``.
    RuntimeError
        If ``spec`` is none of the accepted kinds.

    Examples
    --------
    >>> p = create_param(np.zeros((2, 3)), (2, 3), name='W')
    >>> p.name, p.get_value().shape
    ('W', (2, 3))
    """
    import numbers
    shape = tuple(shape)
    if any(not isinstance(d, numbers.Integral) or d <= 0 for d in shape):
        raise ValueError(
            "Cannot create param %r with a shape %s that has a "
            "non-positive or unknown size: every dimension must be a "
            "positive integer." % (name, shape))

    err_prefix = "cannot initialize parameter %s: " % name if name else \
        "cannot initialize parameter: "

    if isinstance(spec, Variable):
        if spec.ndim != len(shape):
            raise ValueError(
                "%sparameter variable has %d dimensions, should be %d"
                % (err_prefix, spec.ndim, len(shape)))
        if isinstance(spec, SharedVariable):
            actual = spec.get_value(borrow=True).shape
            if actual != shape:
                raise ValueError(
                    "%sparameter has shape %s, should be %s"
                    % (err_prefix, actual, shape))
        if name is not None and spec.name is None:
            spec.name = name
        return spec

    if callable(spec) and not isinstance(spec, np.ndarray):
        spec = spec(shape)
        if isinstance(spec, Variable):
            return create_param(spec, shape, name)
        err_prefix += "initializer returned an array: "

    if isinstance(spec, np.ndarray):
        if spec.shape != shape:
            raise ValueError("%sarray has shape %s, should be %s"
                             % (err_prefix, spec.shape, shape))
        if np.issubdtype(spec.dtype, np.floating):
            spec = floatX(spec)
        # The type carries the full static shape: size-1 axes must be
        # broadcastable (as Lasagne made them; PyTensor refuses to broadcast
        # an axis at run time unless its type says so), and update
        # expressions then have exactly the parameter's type.
        return pytensor.shared(spec, name=name, shape=shape)

    raise RuntimeError(
        "%scannot initialize parameters: 'spec' is not a numpy array, a "
        "PyTensor expression, or a callable (got %r)" % (err_prefix, spec))


def unroll_scan(fn, sequences, outputs_info, non_sequences, n_steps,
                go_backwards=False):
    """Unroll a scan-like recurrence into a plain graph (Lasagne's helper).

    Parameters
    ----------
    fn : callable
        Step function called as ``fn(*seq_slices, *prev_outputs,
        *non_sequences)``; returns one output or a list of them.
    sequences : Variable or list of Variable
        Sequences iterated over their first axis.
    outputs_info : list of Variable
        Initial values of the recurrent outputs.
    non_sequences : list of Variable
        Passed unchanged to every step.
    n_steps : int
        Number of steps; must be a Python int (the graph is unrolled).
    go_backwards : bool
        Iterate from the last element to the first. As in Lasagne, the
        outputs are stacked in the order they were computed.

    Returns
    -------
    list of TensorVariable
        One stacked tensor of shape ``(n_steps, ...)`` per output.

    Examples
    --------
    >>> x = pt.vector('x')
    >>> out = unroll_scan(lambda a, acc: acc + a, [x], [pt.constant(0.)],
    ...                   [], 3)[0]
    >>> out.eval({x: np.array([1., 2., 3.])}).tolist()
    [1.0, 3.0, 6.0]
    """
    if not isinstance(sequences, (list, tuple)):
        sequences = [sequences]
    if not isinstance(n_steps, (int, np.integer)):
        raise ValueError("unroll_scan needs a known, integer n_steps; got %r"
                         % (n_steps,))
    counter = range(n_steps)
    if go_backwards:
        counter = counter[::-1]
    output = []
    prev_vals = list(outputs_info)
    for i in counter:
        step_input = [s[i] for s in sequences] + prev_vals + \
            list(non_sequences)
        out_ = fn(*step_input)
        if isinstance(out_, Variable):
            out_ = [out_]
        if isinstance(out_, tuple):
            out_ = list(out_)
        output.append(out_)
        prev_vals = output[-1]
    # stack each output over time
    return [pt.stack([step[j] for step in output])
            for j in range(len(output[0]))]


def inspect_kwargs(func):
    """Return the names of a function's keyword arguments with defaults.

    Parameters
    ----------
    func : callable

    Returns
    -------
    list of str

    Examples
    --------
    >>> inspect_kwargs(lambda x, deterministic=False, **kw: x)
    ['deterministic']
    """
    sig = inspect.signature(func)
    return [n for n, p in sig.parameters.items()
            if p.default is not inspect.Parameter.empty]


