"""Functions to generate symbolic parameter update expressions
(Lasagne's ``lasagne.updates``).

Update functions take a loss expression or a list of gradient expressions
and a list of parameters, and return an ordered dictionary of updates
(shared variable -> new value expression) for ``pytensor.function``:

.. autosummary::

    sgd
    momentum
    nesterov_momentum
    adagrad
    rmsprop
    adadelta
    adam
    adamax
    amsgrad

Two functions add momentum to existing updates: :func:`apply_momentum` and
:func:`apply_nesterov_momentum`; two constrain tensors:
:func:`norm_constraint` and :func:`total_norm_constraint`.

The formulas and defaults are Lasagne's. One adaptation to PyTensor:
legacy Theano ran with ``floatX=float32``, where Python-number
hyper-parameters were float32 constants; PyTensor's default ``floatX`` is
float64, which would silently upcast a float32 network's updates to float64
(and make ``pytensor.function`` reject them). So hyper-parameters are
applied in each parameter's dtype, and every update keeps the dtype and
broadcast pattern of the variable it updates. With matching dtypes this is
exactly Lasagne's graph.

Examples
--------
>>> import numpy as np
>>> import pytensor
>>> x = pt.vector('x', dtype='float64')
>>> w = pytensor.shared(np.ones(2), name='w')
>>> loss = pt.sum((w - x) ** 2)
>>> updates = sgd(loss, [w], learning_rate=0.1)
>>> f = pytensor.function([x], loss, updates=updates)
>>> float(f(np.zeros(2)))
2.0
>>> w.get_value().tolist()
[0.8, 0.8]
"""
from collections import OrderedDict

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Variable

from . import utils

__all__ = [
    "sgd",
    "apply_momentum",
    "momentum",
    "apply_nesterov_momentum",
    "nesterov_momentum",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adam",
    "adamax",
    "amsgrad",
    "norm_constraint",
    "total_norm_constraint",
]


# --------------------------------------------------------------------------
# dtype helpers (see the module docstring)
# --------------------------------------------------------------------------

def _in_dtype(value, dtype):
    """Return a hyper-parameter or expression in the given dtype.

    Plain numbers become numpy scalars of ``dtype`` (PyTensor turns them into
    constants of that dtype, as Theano's float32 autocasting did); symbolic
    values are cast when their dtype differs.
    """
    if isinstance(value, Variable):
        return value if value.dtype == dtype else pt.cast(value, dtype)
    if isinstance(value, (int, float, np.number, np.ndarray)):
        return np.asarray(value, dtype=dtype)
    return value


def _match(expr, like):
    """Give ``expr`` the dtype and broadcast pattern of the variable
    ``like`` it will update, so ``pytensor.function`` accepts the update."""
    expr = pt.as_tensor_variable(expr)
    if expr.dtype != like.dtype:
        expr = pt.cast(expr, like.dtype)
    bcast = tuple(i for i, (b, e) in enumerate(zip(like.broadcastable,
                                                   expr.broadcastable))
                  if b and not e)
    if bcast:
        expr = pt.specify_broadcastable(expr, *bcast)
    return expr


def _zeros_like_param(param):
    """A zero-initialised shared state with the param's shape, dtype and
    broadcast pattern (Lasagne's accumulators)."""
    value = param.get_value(borrow=True)
    return pytensor.shared(np.zeros(value.shape, dtype=value.dtype),
                           shape=tuple(1 if b else None
                                       for b in param.broadcastable))


# --------------------------------------------------------------------------
# gradients
# --------------------------------------------------------------------------

def get_or_compute_grads(loss_or_grads, params):
    """Helper function returning a list of gradients

    Parameters
    ----------
    loss_or_grads : symbolic expression or list of expressions
        A scalar loss expression, or a list of gradient expressions
    params : list of shared variables
        The variables to return the gradients for

    Returns
    -------
    list of expressions
        If `loss_or_grads` is a list, it is assumed to be a list of
        gradients and returned as is, unless it does not match the length
        of `params`, in which case a `ValueError` is raised.
        Otherwise, `loss_or_grads` is assumed to be a cost expression and
        the function returns `pytensor.grad(loss_or_grads, params)`.

    Raises
    ------
    ValueError
        If `loss_or_grads` is a list of a different length than `params`, or
        if any element of `params` is not a shared variable (while we could
        still compute its gradient, we can never update it and want to fail
        early).

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> w = pytensor.shared(np.ones(2))
    >>> g, = get_or_compute_grads(pt.sum(3 * w), [w])
    >>> g.eval().tolist()
    [3.0, 3.0]
    """
    if any(not isinstance(p, SharedVariable) for p in params):
        raise ValueError("params must contain shared variables only. If it "
                         "contains arbitrary parameter expressions, then "
                         "lasagne.utils.collect_shared_vars() may help you.")
    if isinstance(loss_or_grads, list):
        if not len(loss_or_grads) == len(params):
            raise ValueError("Got %d gradient expressions for %d parameters" %
                             (len(loss_or_grads), len(params)))
        return loss_or_grads
    else:
        return pytensor.grad(loss_or_grads, params)


def _grads_like_params(loss_or_grads, params):
    """Gradients, each in the dtype of its parameter."""
    grads = get_or_compute_grads(loss_or_grads, params)
    return [_in_dtype(pt.as_tensor_variable(g), p.dtype)
            for p, g in zip(params, grads)]


# --------------------------------------------------------------------------
# update rules
# --------------------------------------------------------------------------

def sgd(loss_or_grads, params, learning_rate):
    """Stochastic Gradient Descent (SGD) updates

    Generates update expressions of the form:

    * ``param := param - learning_rate * gradient``

    Parameters
    ----------
    loss_or_grads : symbolic expression or list of expressions
        A scalar loss expression, or a list of gradient expressions
    params : list of shared variables
        The variables to generate update expressions for
    learning_rate : float or symbolic scalar
        The learning rate controlling the size of update steps

    Returns
    -------
    OrderedDict
        A dictionary mapping each parameter to its update expression

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> w = pytensor.shared(np.zeros(1))
    >>> upd = sgd([pt.as_tensor([2.0])], [w], 0.5)
    >>> upd[w].eval().tolist()
    [-1.0]
    """
    grads = _grads_like_params(loss_or_grads, params)
    updates = OrderedDict()

    for param, grad in zip(params, grads):
        lr = _in_dtype(learning_rate, param.dtype)
        updates[param] = _match(param - lr * grad, param)

    return updates


def apply_momentum(updates, params=None, momentum=0.9):
    """Returns a modified update dictionary including momentum

    Generates update expressions of the form:

    * ``velocity := momentum * velocity + updates[param] - param``
    * ``param := param + velocity``

    Parameters
    ----------
    updates : OrderedDict
        A dictionary mapping parameters to update expressions
    params : iterable of shared variables, optional
        The variables to apply momentum to. If omitted, will apply
        momentum to all `updates.keys()`.
    momentum : float or symbolic scalar, optional
        The amount of momentum to apply. Higher momentum results in
        smoothing over more update steps. Defaults to 0.9.

    Returns
    -------
    OrderedDict
        A copy of `updates` with momentum updates for all `params`.

    Notes
    -----
    Higher momentum also results in larger update steps. To counter that,
    you can optionally scale your learning rate by `1 - momentum`.

    See Also
    --------
    momentum : Shortcut applying momentum to SGD updates

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> w = pytensor.shared(np.zeros(1))
    >>> upd = apply_momentum(sgd([pt.as_tensor([2.0])], [w], 0.5))
    >>> len(upd)
    2
    """
    if params is None:
        params = updates.keys()
    updates = OrderedDict(updates)

    for param in params:
        velocity = _zeros_like_param(param)
        mom = _in_dtype(momentum, param.dtype)
        x = mom * velocity + updates[param]
        updates[velocity] = _match(x - param, velocity)
        updates[param] = _match(x, param)

    return updates


def momentum(loss_or_grads, params, learning_rate, momentum=0.9):
    """Stochastic Gradient Descent (SGD) updates with momentum

    Generates update expressions of the form:

    * ``velocity := momentum * velocity - learning_rate * gradient``
    * ``param := param + velocity``

    Parameters
    ----------
    loss_or_grads : symbolic expression or list of expressions
        A scalar loss expression, or a list of gradient expressions
    params : list of shared variables
        The variables to generate update expressions for
    learning_rate : float or symbolic scalar
        The learning rate controlling the size of update steps
    momentum : float or symbolic scalar, optional
        The amount of momentum to apply. Higher momentum results in
        smoothing over more update steps. Defaults to 0.9.

    Returns
    -------
    OrderedDict
        A dictionary mapping each parameter to its update expression

    Notes
    -----
    Higher momentum also results in larger update steps. To counter that,
    you can optionally scale your learning rate by `1 - momentum`.

    See Also
    --------
    apply_momentum : Generic function applying momentum to updates
    nesterov_momentum : Nesterov's variant of SGD with momentum

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> w = pytensor.shared(np.zeros(1))
    >>> upd = momentum([pt.as_tensor([2.0])], [w], 0.5)
    >>> upd[w].eval().tolist()
    [-1.0]
    """
    updates = sgd(loss_or_grads, params, learning_rate)
    return apply_momentum(updates, momentum=momentum)


def apply_nesterov_momentum(updates, params=None, momentum=0.9):
    """Returns a modified update dictionary including Nesterov momentum

    Generates update expressions of the form:

    * ``velocity := momentum * velocity + updates[param] - param``
    * ``param := param + momentum * velocity + updates[param] - param``

    Parameters
    ----------
    updates : OrderedDict
        A dictionary mapping parameters to update expressions
    params : iterable of shared variables, optional
        The variables to apply momentum to. If omitted, will apply
        momentum to all `updates.keys()`.
    momentum : float or symbolic scalar, optional
        The amount of momentum to apply. Higher momentum results in
        smoothing over more update steps. Defaults to 0.9.

    Returns
    -------
    OrderedDict
        A copy of `updates` with momentum updates for all `params`.

    Notes
    -----
    Higher momentum also results in larger update steps. To counter that,
    you can optionally scale your learning rate by `1 - momentum`.

    The classic formulation of Nesterov momentum (or Nesterov accelerated
    gradient) requires the gradient to be evaluated at the predicted next
    position in parameter space. Here, we use the formulation described at
    https://github.com/lisa-lab/pylearn2/pull/136#issuecomment-10381617,
    which allows the gradient to be evaluated at the current parameters.

    See Also
    --------
    nesterov_momentum : Shortcut applying Nesterov momentum to SGD updates

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> w = pytensor.shared(np.zeros(1))
    >>> upd = apply_nesterov_momentum(sgd([pt.as_tensor([2.0])], [w], 0.5))
    >>> [round(v, 6) for v in upd[w].eval().tolist()]
    [-1.9]
    """
    if params is None:
        params = updates.keys()
    updates = OrderedDict(updates)

    for param in params:
        velocity = _zeros_like_param(param)
        mom = _in_dtype(momentum, param.dtype)
        x = mom * velocity + updates[param] - param
        updates[velocity] = _match(x, velocity)
        updates[param] = _match(mom * x + updates[param], param)

    return updates


def nesterov_momentum(loss_or_grads, params, learning_rate, momentum=0.9):
    """Stochastic Gradient Descent (SGD) updates with Nesterov momentum

    Generates update expressions of the form:

    * ``velocity := momentum * velocity - learning_rate * gradient``
    * ``param := param + momentum * velocity - learning_rate * gradient``

    Parameters
    ----------
    loss_or_grads : symbolic expression or list of expressions
        A scalar loss expression, or a list of gradient expressions
    params : list of shared variables
        The variables to generate update expressions for
    learning_rate : float or symbolic scalar
        The learning rate controlling the size of update steps
    momentum : float or symbolic scalar, optional
        The amount of momentum to apply. Higher momentum results in
        smoothing over more update steps. Defaults to 0.9.

    Returns
    -------
    OrderedDict
        A dictionary mapping each parameter to its update expression

    Notes
    -----
    Higher momentum also results in larger update steps. To counter that,
    you can optionally scale your learning rate by `1 - momentum`.

    The classic formulation of Nesterov momentum (or Nesterov accelerated
    gradient) requires the gradient to be evaluated at the predicted next
    position in parameter space. Here, we use the formulation described at
    https://github.com/lisa-lab/pylearn2/pull/136#issuecomment-10381617,
    which allows the gradient to be evaluated at the current parameters.

    See Also
    --------
    apply_nesterov_momentum : Function applying momentum to updates

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> w = pytensor.shared(np.zeros(1))
    >>> upd = nesterov_momentum([pt.as_tensor([2.0])], [w], 0.5)
    >>> [round(v, 6) for v in upd[w].eval().tolist()]
    [-1.9]
    """
    updates = sgd(loss_or_grads, params, learning_rate)
    return apply_nesterov_momentum(updates, momentum=momentum)


def adagrad(loss_or_grads, params, learning_rate=1.0, epsilon=1e-6):
    """Adagrad updates

    Scale learning rates by dividing with the square root of accumulated
    squared gradients. See [1]_ for further description.

    Parameters
    ----------
    loss_or_grads : symbolic expression or list of expressions
        A scalar loss expression, or a list of gradient expressions
    params : list of shared variables
        The variables to generate update expressions for
    learning_rate : float or symbolic scalar
        The learning rate controlling the size of update steps
    epsilon : float or symbolic scalar
        Small value added for numerical stability

    Returns
    -------
    OrderedDict
        A dictionary mapping each parameter to its update expression

    Notes
    -----
    Using step size eta Adagrad calculates the learning rate for feature i at
    time step t as:

    .. math:: \\eta_{t,i} = \\frac{\\eta}
       {\\sqrt{\\sum^t_{t^\\prime} g^2_{t^\\prime,i}+\\epsilon}} g_{t,i}

    as such the learning rate is monotonically decreasing.

    Epsilon is not included in the typical formula, see [2]_.

    References
    ----------
    .. [1] Duchi, J., Hazan, E., & Singer, Y. (2011):
           Adaptive subgradient methods for online learning and stochastic
           optimization. JMLR, 12:2121-2159.

    .. [2] Chris Dyer:
           Notes on AdaGrad. http://www.ark.cs.cmu.edu/cdyer/adagrad.pdf

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> w = pytensor.shared(np.zeros(1))
    >>> upd = adagrad([pt.as_tensor([2.0])], [w], epsilon=0.0)
    >>> upd[w].eval().tolist()
    [-1.0]
    """
    grads = _grads_like_params(loss_or_grads, params)
    updates = OrderedDict()

    for param, grad in zip(params, grads):
        lr = _in_dtype(learning_rate, param.dtype)
        eps = _in_dtype(epsilon, param.dtype)
        accu = _zeros_like_param(param)
        accu_new = _match(accu + grad ** 2, accu)
        updates[accu] = accu_new
        updates[param] = _match(param - (lr * grad / pt.sqrt(accu_new + eps)),
                                param)

    return updates


def rmsprop(loss_or_grads, params, learning_rate=1.0, rho=0.9, epsilon=1e-6):
    """RMSProp updates

    Scale learning rates by dividing with the moving average of the root mean
    squared (RMS) gradients. See [1]_ for further description.

    Parameters
    ----------
    loss_or_grads : symbolic expression or list of expressions
        A scalar loss expression, or a list of gradient expressions
    params : list of shared variables
        The variables to generate update expressions for
    learning_rate : float or symbolic scalar
        The learning rate controlling the size of update steps
    rho : float or symbolic scalar
        Gradient moving average decay factor
    epsilon : float or symbolic scalar
        Small value added for numerical stability

    Returns
    -------
    OrderedDict
        A dictionary mapping each parameter to its update expression

    Notes
    -----
    `rho` should be between 0 and 1. A value of `rho` close to 1 will decay
    the moving average slowly and a value close to 0 will decay the moving
    average fast.

    Using the step size :math:`\\eta` and a decay factor :math:`\\rho` the
    learning rate :math:`\\eta_t` is calculated as:

    .. math::
       r_t &= \\rho r_{t-1} + (1-\\rho)*g^2\\\\
       \\eta_t &= \\frac{\\eta}{\\sqrt{r_t + \\epsilon}}

    References
    ----------
    .. [1] Tieleman, T. and Hinton, G. (2012):
           Neural Networks for Machine Learning, Lecture 6.5 - rmsprop.
           Coursera. http://www.youtube.com/watch?v=O3sxAc4hxZU (formula @5:20)

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> w = pytensor.shared(np.zeros(1))
    >>> upd = rmsprop([pt.as_tensor([2.0])], [w], rho=0.75, epsilon=0.0)
    >>> upd[w].eval().tolist()
    [-2.0]
    """
    grads = _grads_like_params(loss_or_grads, params)
    updates = OrderedDict()

    # Using a PyTensor constant to prevent upcasting of float32
    one = pt.constant(1)

    for param, grad in zip(params, grads):
        lr = _in_dtype(learning_rate, param.dtype)
        r = _in_dtype(rho, param.dtype)
        eps = _in_dtype(epsilon, param.dtype)
        accu = _zeros_like_param(param)
        accu_new = _match(r * accu + (one - r) * grad ** 2, accu)
        updates[accu] = accu_new
        updates[param] = _match(param - (lr * grad / pt.sqrt(accu_new + eps)),
                                param)

    return updates


def adadelta(loss_or_grads, params, learning_rate=1.0, rho=0.95, epsilon=1e-6):
    """ Adadelta updates

    Scale learning rates by the ratio of accumulated gradients to accumulated
    updates, see [1]_ and notes for further description.

    Parameters
    ----------
    loss_or_grads : symbolic expression or list of expressions
        A scalar loss expression, or a list of gradient expressions
    params : list of shared variables
        The variables to generate update expressions for
    learning_rate : float or symbolic scalar
        The learning rate controlling the size of update steps
    rho : float or symbolic scalar
        Squared gradient moving average decay factor
    epsilon : float or symbolic scalar
        Small value added for numerical stability

    Returns
    -------
    OrderedDict
        A dictionary mapping each parameter to its update expression

    Notes
    -----
    rho should be between 0 and 1. A value of rho close to 1 will decay the
    moving average slowly and a value close to 0 will decay the moving average
    fast.

    rho = 0.95 and epsilon=1e-6 are suggested in the paper and reported to
    work for multiple datasets (MNIST, speech).

    In the paper, no learning rate is considered (so learning_rate=1.0).
    Probably best to keep it at this value.
    epsilon is important for the very first update (so the numerator does
    not become 0).

    Using the step size eta and a decay factor rho the learning rate is
    calculated as:

    .. math::
       r_t &= \\rho r_{t-1} + (1-\\rho)*g^2\\\\
       \\eta_t &= \\eta \\frac{\\sqrt{s_{t-1} + \\epsilon}}
                             {\\sqrt{r_t + \\epsilon}}\\\\
       s_t &= \\rho s_{t-1} + (1-\\rho)*(\\eta_t*g)^2

    References
    ----------
    .. [1] Zeiler, M. D. (2012):
           ADADELTA: An Adaptive Learning Rate Method.
           arXiv Preprint arXiv:1212.5701.

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> w = pytensor.shared(np.zeros(1))
    >>> upd = adadelta([pt.as_tensor([2.0])], [w])
    >>> len(upd)
    3
    """
    grads = _grads_like_params(loss_or_grads, params)
    updates = OrderedDict()

    # Using a PyTensor constant to prevent upcasting of float32
    one = pt.constant(1)

    for param, grad in zip(params, grads):
        lr = _in_dtype(learning_rate, param.dtype)
        r = _in_dtype(rho, param.dtype)
        eps = _in_dtype(epsilon, param.dtype)
        # accu: accumulate gradient magnitudes
        accu = _zeros_like_param(param)
        # delta_accu: accumulate update magnitudes (recursively!)
        delta_accu = _zeros_like_param(param)

        # update accu (as in rmsprop)
        accu_new = _match(r * accu + (one - r) * grad ** 2, accu)
        updates[accu] = accu_new

        # compute parameter update, using the 'old' delta_accu
        update = (grad * pt.sqrt(delta_accu + eps) /
                  pt.sqrt(accu_new + eps))
        updates[param] = _match(param - lr * update, param)

        # update delta_accu (as accu, but accumulating updates)
        delta_accu_new = r * delta_accu + (one - r) * update ** 2
        updates[delta_accu] = _match(delta_accu_new, delta_accu)

    return updates


def _step_size_cache(t, make):
    """Per-dtype cache of a bias-corrected step size ``make(t, dtype)``,
    so parameters of one dtype share a single expression."""
    cache = {}

    def get(dtype):
        if dtype not in cache:
            cache[dtype] = make(_in_dtype(t, dtype), dtype)
        return cache[dtype]
    return get


def adam(loss_or_grads, params, learning_rate=0.001, beta1=0.9,
         beta2=0.999, epsilon=1e-8):
    """Adam updates

    Adam updates implemented as in [1]_.

    Parameters
    ----------
    loss_or_grads : symbolic expression or list of expressions
        A scalar loss expression, or a list of gradient expressions
    params : list of shared variables
        The variables to generate update expressions for
    learning_rate : float or symbolic scalar
        Learning rate
    beta1 : float or symbolic scalar
        Exponential decay rate for the first moment estimates.
    beta2 : float or symbolic scalar
        Exponential decay rate for the second moment estimates.
    epsilon : float or symbolic scalar
        Constant for numerical stability.

    Returns
    -------
    OrderedDict
        A dictionary mapping each parameter to its update expression

    Notes
    -----
    The paper [1]_ includes an additional hyperparameter lambda. This is only
    needed to prove convergence of the algorithm and has no practical use
    (personal communication with the authors), it is therefore omitted here.

    With a time step ``t`` (a ``floatX`` shared scalar starting at 0 and
    included in the updates) the step is

    .. math::
       a_t &= lr \\sqrt{1 - \\beta_2^t} / (1 - \\beta_1^t)\\\\
       m_t &= \\beta_1 m_{t-1} + (1 - \\beta_1) g_t\\\\
       v_t &= \\beta_2 v_{t-1} + (1 - \\beta_2) g_t^2\\\\
       \\theta_t &= \\theta_{t-1} - a_t m_t / (\\sqrt{v_t} + \\epsilon)

    References
    ----------
    .. [1] Kingma, Diederik, and Jimmy Ba (2014):
           Adam: A Method for Stochastic Optimization.
           arXiv preprint arXiv:1412.6980.

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> w = pytensor.shared(np.zeros(1))
    >>> upd = adam([pt.as_tensor([2.0])], [w], learning_rate=0.1)
    >>> [round(v, 6) for v in upd[w].eval().tolist()]
    [-0.1]
    """
    all_grads = _grads_like_params(loss_or_grads, params)
    t_prev = pytensor.shared(utils.floatX(0.))
    updates = OrderedDict()

    # Using a PyTensor constant to prevent upcasting of float32
    one = pt.constant(1)

    t = t_prev + 1

    def make_a_t(t_d, dtype):
        b1 = _in_dtype(beta1, dtype)
        b2 = _in_dtype(beta2, dtype)
        lr = _in_dtype(learning_rate, dtype)
        return lr * pt.sqrt(one - b2 ** t_d) / (one - b1 ** t_d)
    a_t_for = _step_size_cache(t, make_a_t)

    for param, g_t in zip(params, all_grads):
        dtype = param.dtype
        b1 = _in_dtype(beta1, dtype)
        b2 = _in_dtype(beta2, dtype)
        eps = _in_dtype(epsilon, dtype)
        m_prev = _zeros_like_param(param)
        v_prev = _zeros_like_param(param)

        m_t = _match(b1 * m_prev + (one - b1) * g_t, m_prev)
        v_t = _match(b2 * v_prev + (one - b2) * g_t ** 2, v_prev)
        step = a_t_for(dtype) * m_t / (pt.sqrt(v_t) + eps)

        updates[m_prev] = m_t
        updates[v_prev] = v_t
        updates[param] = _match(param - step, param)

    updates[t_prev] = t
    return updates


def adamax(loss_or_grads, params, learning_rate=0.002, beta1=0.9,
           beta2=0.999, epsilon=1e-8):
    """Adamax updates

    Adamax updates implemented as in [1]_. This is a variant of of the Adam
    algorithm based on the infinity norm.

    Parameters
    ----------
    loss_or_grads : symbolic expression or list of expressions
        A scalar loss expression, or a list of gradient expressions
    params : list of shared variables
        The variables to generate update expressions for
    learning_rate : float or symbolic scalar
        Learning rate
    beta1 : float or symbolic scalar
        Exponential decay rate for the first moment estimates.
    beta2 : float or symbolic scalar
        Exponential decay rate for the weighted infinity norm estimates.
    epsilon : float or symbolic scalar
        Constant for numerical stability.

    Returns
    -------
    OrderedDict
        A dictionary mapping each parameter to its update expression

    Notes
    -----
    .. math::
       a_t &= lr / (1 - \\beta_1^t)\\\\
       m_t &= \\beta_1 m_{t-1} + (1 - \\beta_1) g_t\\\\
       u_t &= \\max(\\beta_2 u_{t-1}, |g_t|)\\\\
       \\theta_t &= \\theta_{t-1} - a_t m_t / (u_t + \\epsilon)

    References
    ----------
    .. [1] Kingma, Diederik, and Jimmy Ba (2014):
           Adam: A Method for Stochastic Optimization.
           arXiv preprint arXiv:1412.6980.

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> w = pytensor.shared(np.zeros(1))
    >>> upd = adamax([pt.as_tensor([2.0])], [w], learning_rate=0.1)
    >>> [round(v, 6) for v in upd[w].eval().tolist()]
    [-0.1]
    """
    all_grads = _grads_like_params(loss_or_grads, params)
    t_prev = pytensor.shared(utils.floatX(0.))
    updates = OrderedDict()

    # Using a PyTensor constant to prevent upcasting of float32
    one = pt.constant(1)

    t = t_prev + 1

    def make_a_t(t_d, dtype):
        b1 = _in_dtype(beta1, dtype)
        lr = _in_dtype(learning_rate, dtype)
        return lr / (one - b1 ** t_d)
    a_t_for = _step_size_cache(t, make_a_t)

    for param, g_t in zip(params, all_grads):
        dtype = param.dtype
        b1 = _in_dtype(beta1, dtype)
        b2 = _in_dtype(beta2, dtype)
        eps = _in_dtype(epsilon, dtype)
        m_prev = _zeros_like_param(param)
        u_prev = _zeros_like_param(param)

        m_t = _match(b1 * m_prev + (one - b1) * g_t, m_prev)
        u_t = _match(pt.maximum(b2 * u_prev, abs(g_t)), u_prev)
        step = a_t_for(dtype) * m_t / (u_t + eps)

        updates[m_prev] = m_t
        updates[u_prev] = u_t
        updates[param] = _match(param - step, param)

    updates[t_prev] = t
    return updates


def amsgrad(loss_or_grads, params, learning_rate=0.001, beta1=0.9,
            beta2=0.999, epsilon=1e-8):
    """AMSGrad updates

    AMSGrad updates implemented as in [1]_.

    Parameters
    ----------
    loss_or_grads : symbolic expression or list of expressions
        A scalar loss expression, or a list of gradient expressions
    params : list of shared variables
        The variables to generate update expressions for
    learning_rate : float or symbolic scalar
        Learning rate
    beta1 : float or symbolic scalar
        Exponential decay rate for the first moment estimates.
    beta2 : float or symbolic scalar
        Exponential decay rate for the second moment estimates.
    epsilon : float or symbolic scalar
        Constant for numerical stability.

    Returns
    -------
    OrderedDict
        A dictionary mapping each parameter to its update expression

    Notes
    -----
    As :func:`adam`, but the step divides by the running maximum
    :math:`\\hat{v}_t = \\max(\\hat{v}_{t-1}, v_t)` instead of :math:`v_t`.

    References
    ----------
    .. [1] https://openreview.net/forum?id=ryQu7f-RZ

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> w = pytensor.shared(np.zeros(1))
    >>> upd = amsgrad([pt.as_tensor([2.0])], [w], learning_rate=0.1)
    >>> [round(v, 6) for v in upd[w].eval().tolist()]
    [-0.1]
    """
    all_grads = _grads_like_params(loss_or_grads, params)
    t_prev = pytensor.shared(utils.floatX(0.))
    updates = OrderedDict()

    # Using a PyTensor constant to prevent upcasting of float32
    one = pt.constant(1)

    t = t_prev + 1

    def make_a_t(t_d, dtype):
        b1 = _in_dtype(beta1, dtype)
        b2 = _in_dtype(beta2, dtype)
        lr = _in_dtype(learning_rate, dtype)
        return lr * pt.sqrt(one - b2 ** t_d) / (one - b1 ** t_d)
    a_t_for = _step_size_cache(t, make_a_t)

    for param, g_t in zip(params, all_grads):
        dtype = param.dtype
        b1 = _in_dtype(beta1, dtype)
        b2 = _in_dtype(beta2, dtype)
        eps = _in_dtype(epsilon, dtype)
        m_prev = _zeros_like_param(param)
        v_prev = _zeros_like_param(param)
        v_hat_prev = _zeros_like_param(param)

        m_t = _match(b1 * m_prev + (one - b1) * g_t, m_prev)
        v_t = _match(b2 * v_prev + (one - b2) * g_t ** 2, v_prev)
        v_hat_t = _match(pt.maximum(v_hat_prev, v_t), v_hat_prev)
        step = a_t_for(dtype) * m_t / (pt.sqrt(v_hat_t) + eps)

        updates[m_prev] = m_t
        updates[v_prev] = v_t
        updates[v_hat_prev] = v_hat_t
        updates[param] = _match(param - step, param)

    updates[t_prev] = t
    return updates


# --------------------------------------------------------------------------
# constraints
# --------------------------------------------------------------------------

def _float_dtype(var):
    """The dtype in which to apply constants to ``var`` (floatX for ints)."""
    dtype = str(getattr(var, "dtype", ""))
    return dtype if dtype.startswith("float") else pytensor.config.floatX


def norm_constraint(tensor_var, max_norm, norm_axes=None, epsilon=1e-7):
    """Max weight norm constraints and gradient clipping

    This takes a TensorVariable and rescales it so that incoming weight
    norms are below a specified constraint value. Vectors violating the
    constraint are rescaled so that they are within the allowed range.

    Parameters
    ----------
    tensor_var : TensorVariable
        PyTensor expression for update, gradient, or other quantity.
    max_norm : scalar
        This value sets the maximum allowed value of any norm in
        `tensor_var`.
    norm_axes : sequence (list or tuple)
        The axes over which to compute the norm.  This overrides the
        default norm axes defined for the number of dimensions
        in `tensor_var`. When this is not specified and `tensor_var` is a
        matrix (2D), this is set to `(0,)`. If `tensor_var` is a 3D, 4D or
        5D tensor, it is set to a tuple listing all axes but axis 0. The
        former default is useful for working with dense layers, the latter
        is useful for 1D, 2D and 3D convolutional layers.
        (Optional)
    epsilon : scalar, optional
        Value used to prevent numerical instability when dividing by
        very small or zero norms.

    Returns
    -------
    TensorVariable
        Input `tensor_var` with rescaling applied to weight vectors
        that violate the specified constraints.

    Notes
    -----
    When `norm_axes` is not specified, the axes over which the norm is
    computed depend on the dimensionality of the input variable. If it is
    2D, it is assumed to come from a dense layer, and the norm is computed
    over axis 0. If it is 3D, 4D or 5D, it is assumed to come from a
    convolutional layer and the norm is computed over all trailing axes
    beyond axis 0. For other uses, you should explicitly specify the axes
    over which to compute the norm using `norm_axes`.

    The constants are applied in the dtype of `tensor_var` (Lasagne used
    ``floatX``, which was the same thing in float32 Theano setups).

    Examples
    --------
    >>> w = pt.as_tensor([[3.0, 0.3], [4.0, 0.4]])
    >>> c = norm_constraint(w, 1.0, epsilon=0.0).eval()
    >>> [round(v, 6) for v in c[:, 0].tolist()], c[:, 1].tolist()
    ([0.6, 0.8], [0.3, 0.4])
    """
    ndim = tensor_var.ndim

    if norm_axes is not None:
        sum_over = tuple(norm_axes)
    elif ndim == 2:  # DenseLayer
        sum_over = (0,)
    elif ndim in [3, 4, 5]:  # Conv{1,2,3}DLayer
        sum_over = tuple(range(1, ndim))
    else:
        raise ValueError(
            "Unsupported tensor dimensionality {}."
            "Must specify `norm_axes`".format(ndim)
        )

    dtype = np.dtype(_float_dtype(tensor_var)).type
    norms = pt.sqrt(pt.sum(pt.square(tensor_var), axis=sum_over,
                           keepdims=True))
    target_norms = pt.clip(norms, 0, dtype(max_norm))
    constrained_output = \
        (tensor_var * (target_norms / (dtype(epsilon) + norms)))

    return constrained_output


def total_norm_constraint(tensor_vars, max_norm, epsilon=1e-7,
                          return_norm=False):
    """Rescales a list of tensors based on their combined norm

    If the combined norm of the input tensors exceeds the threshold then all
    tensors are rescaled such that the combined norm is equal to the
    threshold.

    Scaling the norms of the gradients is often used when training recurrent
    neural networks [1]_.

    Parameters
    ----------
    tensor_vars : List of TensorVariables.
        Tensors to be rescaled.
    max_norm : float
        Threshold value for total norm.
    epsilon : scalar, optional
        Value used to prevent numerical instability when dividing by
        very small or zero norms.
    return_norm : bool
        If true the total norm is also returned.

    Returns
    -------
    tensor_vars_scaled : list of TensorVariables
        The scaled tensor variables.
    norm : PyTensor scalar
        The combined norms of the input variables prior to rescaling,
        only returned if ``return_norm=True``.

    Notes
    -----
    The total norm can be used to monitor training.

    Each scaled tensor keeps its dtype; the constants are applied in the
    dtype of the total norm.

    References
    ----------
    .. [1] Sutskever, I., Vinyals, O., & Le, Q. V. (2014): Sequence to
       sequence learning with neural networks. In Advances in Neural
       Information Processing Systems (pp. 3104-3112).

    Examples
    --------
    >>> a, b = pt.as_tensor([3.0]), pt.as_tensor([4.0])
    >>> scaled, norm = total_norm_constraint([a, b], 1.0, epsilon=0.0,
    ...                                      return_norm=True)
    >>> float(norm.eval()), [round(float(s.eval()[0]), 6) for s in scaled]
    (5.0, [0.6, 0.8])
    """
    norm = pt.sqrt(sum(pt.sum(tensor ** 2) for tensor in tensor_vars))
    dtype = np.dtype(_float_dtype(norm)).type
    target_norm = pt.clip(norm, 0, dtype(max_norm))
    multiplier = target_norm / (dtype(epsilon) + norm)
    tensor_vars_scaled = [step * _in_dtype(multiplier, _float_dtype(step))
                          for step in tensor_vars]

    if return_norm:
        return tensor_vars_scaled, norm
    else:
        return tensor_vars_scaled
