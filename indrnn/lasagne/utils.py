"""Small helpers shared by the layer library (Lasagne's ``lasagne.utils``).

Everything here works on PyTensor variables; the names follow Lasagne so
that original code calling ``lasagne.utils.floatX`` or
``lasagne.utils.unroll_scan`` keeps working.
"""
import inspect
import numbers

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Variable

__all__ = [
    "floatX",
    "shared_empty",
    "as_tensor_expression",
    "as_theano_expression",
    "collect_shared_vars",
    "one_hot",
    "unique",
    "as_tuple",
    "int_types",
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
        In Lasagne's order: a left-recursive depth-first search that starts
        with the first expression and visits each node's inputs left to
        right, listing every shared variable once, where it is first met.
        Expressions that are shared variables themselves are included.

    Examples
    --------
    >>> a = pytensor.shared(np.ones(2), name='a')
    >>> b = pytensor.shared(np.ones(2), name='b')
    >>> [v.name for v in collect_shared_vars([b * a, a])]
    ['b', 'a']
    """
    if isinstance(expressions, Variable):
        expressions = [expressions]
    # PyTensor's own graph walk is right-recursive; the order matters here
    # because get_all_params (and so legacy parameter files) follows it.
    pending = list(reversed(list(expressions)))
    seen = set()
    found = []
    while pending:
        var = pending.pop()
        if var in seen:
            continue
        seen.add(var)
        if isinstance(var, SharedVariable):
            found.append(var)
        if var.owner is not None:
            pending.extend(reversed(var.owner.inputs))
    return found


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


#: The types that count as integers (Python and numpy integers).
int_types = (numbers.Integral, np.integer)


def as_tuple(x, N, t=None):
    """Coerce a value to a tuple of length ``N``.

    Parameters
    ----------
    x : value or iterable
    N : int
        Length of the tuple.
    t : type or tuple of types, optional
        Type every element must have.

    Returns
    -------
    tuple
        ``tuple(x)`` if ``x`` is iterable, ``(x,) * N`` otherwise.

    Raises
    ------
    TypeError
        If ``t`` is given and an element is not of that type.
    ValueError
        If ``x`` is iterable but does not have ``N`` elements.

    Examples
    --------
    >>> as_tuple(3, 2)
    (3, 3)
    >>> as_tuple([1, 2], 2, int)
    (1, 2)
    """
    try:
        values = tuple(x)
    except TypeError:
        values = (x,) * N
    if t is not None and not all(isinstance(v, t) for v in values):
        name = (t.__name__ if isinstance(t, type)
                else " or ".join(c.__name__ for c in t))
        raise TypeError("expected a single value or an iterable of {0}, "
                        "got {1} instead".format(name, x))
    if len(values) != N:
        raise ValueError("expected a single value or an iterable with "
                         "length {0}, got {1} instead".format(N, x))
    return values


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

    Raises
    ------
    RuntimeError
        If ``array`` is neither a numpy array nor a PyTensor variable (as
        in Lasagne: lists and numbers are refused).
    ValueError
        If ``array`` has more than 5 dimensions and no ``norm_axes``.

    Examples
    --------
    >>> compute_norms(np.array([[3., 0.], [4., 1.]])).tolist()
    [5.0, 1.0]
    >>> compute_norms(np.array([-2., 1.])).tolist()
    [2.0, 1.0]
    """
    if not isinstance(array, (Variable, np.ndarray)):
        raise RuntimeError(
            "Unsupported type {}. Only PyTensor variables and numpy arrays "
            "are supported".format(type(array)))
    symbolic = isinstance(array, Variable)
    ndim = array.ndim
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
    if not norm_axes:
        return np.abs(array)
    return np.sqrt(np.sum(array ** 2, axis=norm_axes))


def create_param(spec, shape, name=None):
    """Create a parameter from a number, a numpy array, a shared variable,
    an expression or a callable initializer (Lasagne's rules).

    Parameters
    ----------
    spec : number, numpy array, SharedVariable, Variable or callable
        A number or numpy scalar becomes a 0-d array; a numpy array is
        wrapped in a shared variable keeping its dtype; a shared variable
        or expression is used as it is (e.g. ``embed.W.T`` for weight
        tying); a callable (such as an :mod:`indrnn.lasagne.init`
        initializer) is called with ``shape`` and its result is treated
        by the same rules.
    shape : tuple of int
        The required shape. Arrays must have it exactly; variables only
        its number of dimensions (their shape is not known before run
        time, as in Lasagne).
    name : str, optional
        Name of the created shared variable; given to a variable or
        expression only if it has no name yet.

    Returns
    -------
    Variable
        The parameter.

    Raises
    ------
    ValueError
        If ``shape`` has a non-positive or unknown size, or the array's
        shape or the variable's number of dimensions does not match.
    TypeError
        If ``spec`` (or what the callable returned) is none of the
        accepted kinds.

    Examples
    --------
    >>> p = create_param(np.zeros((2, 3), dtype='float32'), (2, 3), name='W')
    >>> p.name, p.get_value().shape, p.dtype
    ('W', (2, 3), 'float32')
    >>> create_param(0.5, (), name='alpha').get_value()
    array(0.5)
    """
    shape = tuple(shape)
    if any(d is None or d <= 0 for d in shape):
        raise ValueError(
            "Cannot create param with a non-positive shape dimension. "
            "Tried to create param with shape=%r, name=%r" % (shape, name))

    err_prefix = "cannot initialize parameter %s: " % name
    if callable(spec) and not isinstance(spec, Variable):
        spec = spec(shape)
        err_prefix += "the %s returned by the provided callable"
    else:
        err_prefix += "the provided %s"

    if isinstance(spec, numbers.Number) or (
            isinstance(spec, np.generic) and spec.dtype.kind in "biufc"):
        spec = np.asarray(spec)

    if isinstance(spec, np.ndarray):
        if spec.shape != shape:
            raise ValueError("%s has shape %s, should be %s"
                             % (err_prefix % "numpy array", spec.shape,
                                shape))
        # The type carries the full static shape: size-1 axes must be
        # broadcastable (as Lasagne made them; PyTensor refuses to broadcast
        # an axis at run time unless its type says so), and update
        # expressions then have exactly the parameter's type.
        spec = pytensor.shared(spec, shape=shape)

    if isinstance(spec, Variable):
        if spec.ndim != len(shape):
            raise ValueError("%s has %d dimensions, should be %d"
                             % (err_prefix % "PyTensor variable", spec.ndim,
                                len(shape)))
        if not spec.name:
            spec.name = name
        return spec

    if "callable" in err_prefix:
        raise TypeError("%s is not a numpy array or a PyTensor expression"
                        % (err_prefix % "value"))
    raise TypeError("%s is not a numpy array, a PyTensor expression, or a "
                    "callable" % (err_prefix % "spec"))


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


