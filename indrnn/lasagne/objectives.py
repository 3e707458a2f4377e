"""Loss functions and accuracy measures (Lasagne's ``lasagne.objectives``).

The loss functions return an element-wise (or per-example) loss expression;
reduce it to a scalar with :func:`aggregate` (or ``.mean()``) before taking
gradients.

Examples
--------
Build a loss for a softmax classifier and aggregate it::

    import indrnn.lasagne as lasagne
    predictions = lasagne.layers.get_output(network)
    loss = lasagne.objectives.categorical_crossentropy(predictions, targets)
    loss = lasagne.objectives.aggregate(loss, mode='mean')
"""
import pytensor.tensor as pt
from pytensor.tensor.special import Softmax, log_softmax

from .nonlinearities import rectify
from .utils import as_theano_expression

__all__ = [
    "binary_crossentropy",
    "categorical_crossentropy",
    "squared_error",
    "huber_loss",
    "aggregate",
    "binary_hinge_loss",
    "multiclass_hinge_loss",
    "binary_accuracy",
    "categorical_accuracy",
]


def align_targets(predictions, targets):
    """Helper function turning a target 1D vector into a column if needed.

    This way, combining a network of a single output unit with a target
    vector works as expected by most users, not broadcasting outputs against
    targets.

    Parameters
    ----------
    predictions : Theano tensor
        Expression for the predictions of a neural network.
    targets : Theano tensor
        Expression or variable for corresponding targets.

    Returns
    -------
    predictions : Theano tensor
        The predictions unchanged.
    targets : Theano tensor
        If `predictions` is a column vector and `targets` is a 1D vector,
        returns `targets` turned into a column vector. Otherwise, returns
        `targets` unchanged.

    Examples
    --------
    >>> p, t = align_targets(pt.col(), pt.vector())
    >>> t.ndim
    2
    """
    if (getattr(predictions, 'broadcastable', None) == (False, True) and
            getattr(targets, 'ndim', None) == 1):
        targets = as_theano_expression(targets).dimshuffle(0, 'x')
    return predictions, targets


def _log_predictions(predictions):
    """``log(predictions)``, taken through the softmax when there is one.

    Theano's FAST_RUN optimizer rewrote the cross-entropy of a softmax into
    a fused, numerically stable op (``crossentropy_softmax_argmax_1hot``)
    whose gradient is ``softmax - onehot``. PyTensor does not rewrite the
    gradient, which becomes NaN as soon as a probability underflows to 0.
    Taking ``log_softmax`` of the softmax input reproduces Theano's result.
    """
    owner = getattr(predictions, 'owner', None)
    if (owner is not None and isinstance(owner.op, Softmax) and
            owner.op.axis is not None and
            tuple(owner.op.axis) == (predictions.ndim - 1,)):
        return log_softmax(owner.inputs[0], axis=-1)
    return pt.log(predictions)


def binary_crossentropy(predictions, targets):
    """Computes the binary cross-entropy between predictions and targets.

    .. math:: L = -t \\log(p) - (1 - t) \\log(1 - p)

    Parameters
    ----------
    predictions : Theano tensor
        Predictions in (0, 1), such as sigmoidal output of a neural network.
    targets : Theano tensor
        Targets in [0, 1], such as ground truth labels.

    Returns
    -------
    Theano tensor
        An expression for the element-wise binary cross-entropy.

    Notes
    -----
    This is the loss function of choice for binary classification problems
    and sigmoid output units.

    Examples
    --------
    >>> l = binary_crossentropy(pt.as_tensor([0.5]), pt.as_tensor([1.0]))
    >>> round(float(l.eval()[0]), 6)
    0.693147
    """
    predictions, targets = align_targets(predictions, targets)
    # Theano's T.nnet.binary_crossentropy, written out.
    return -(targets * pt.log(predictions) +
             (1.0 - targets) * pt.log(1.0 - predictions))


def categorical_crossentropy(predictions, targets):
    """Computes the categorical cross-entropy between predictions and targets.

    .. math:: L_i = - \\sum_j{t_{i,j} \\log(p_{i,j})}

    :math:`p` are the predictions, :math:`t` are the targets, :math:`i`
    denotes the data point and :math:`j` denotes the class.

    Parameters
    ----------
    predictions : Theano 2D tensor
        Predictions in (0, 1), such as softmax output of a neural network,
        with data points in rows and class probabilities in columns.
    targets : Theano 2D tensor or 1D tensor
        Either targets in [0, 1] (float32 or float64) matching the layout of
        `predictions`, or a vector of int giving the correct class index per
        data point. In the case of an integer vector argument, each element
        represents the position of the '1' in a one-hot encoding.

    Returns
    -------
    Theano 1D tensor
        An expression for the item-wise categorical cross-entropy.

    Notes
    -----
    This is the loss function of choice for multi-class classification
    problems and softmax output units. For hard targets, i.e., targets
    that assign all of the probability to a single class per data point,
    providing a vector of int for the targets is usually slightly more
    efficient than providing a matrix with a single 1.0 per row.

    When `predictions` is directly the output of a softmax, the loss is
    computed from ``log_softmax`` of its input, as Theano's optimizer did;
    this is the same value, with a gradient that stays finite.

    Examples
    --------
    >>> p = pt.as_tensor([[0.25, 0.75]])
    >>> l = categorical_crossentropy(p, pt.as_tensor([1]))
    >>> round(float(l.eval()[0]), 6)
    0.287682
    """
    predictions = as_theano_expression(predictions)
    targets = as_theano_expression(targets)
    if targets.ndim == predictions.ndim:
        return -pt.sum(targets * _log_predictions(predictions),
                       axis=predictions.ndim - 1)
    elif targets.ndim == predictions.ndim - 1:
        # Theano's crossentropy_categorical_1hot: -log(p[i, t_i]).
        if predictions.ndim != 2:
            raise TypeError('predictions must be a 2-D tensor when targets '
                            'are class indices, got %d dimensions'
                            % predictions.ndim)
        if not targets.dtype.startswith(('int', 'uint')):
            raise TypeError('integer targets required, got dtype %s'
                            % targets.dtype)
        rows = pt.arange(targets.shape[0])
        owner = predictions.owner
        if owner is not None and isinstance(owner.op, Softmax):
            # Index the stable log-probabilities (see _log_predictions).
            return -_log_predictions(predictions)[rows, targets]
        # Index first, so that a probability of 0 elsewhere in the row gives
        # no 0/0 in the gradient.
        return -pt.log(predictions[rows, targets])
    else:
        raise TypeError('rank mismatch between coding and true distributions')


def squared_error(a, b):
    """Computes the element-wise squared difference between two tensors.

    .. math:: L = (p - t)^2

    Parameters
    ----------
    a, b : Theano tensor
        The tensors to compute the squared difference between.

    Returns
    -------
    Theano tensor
        An expression for the element-wise squared difference.

    Notes
    -----
    This is the loss function of choice for many regression problems
    or auto-encoders with linear output units.

    Examples
    --------
    >>> err = squared_error(pt.as_tensor([1.0, 2.0]), pt.as_tensor([0.0, 4.0]))
    >>> err.eval().tolist()
    [1.0, 4.0]
    """
    a, b = align_targets(a, b)
    return pt.square(a - b)


def huber_loss(predictions, targets, delta=1):
    """Computes the element-wise Huber loss (squared near 0, linear beyond
    ``delta``), as Lasagne does.

    .. math:: L = \\begin{cases} \\frac{1}{2} (p - t)^2 & |p - t| \\le
              \\delta \\\\ \\delta (|p - t| - \\frac{\\delta}{2}) &
              \\text{otherwise} \\end{cases}

    Parameters
    ----------
    predictions : TensorVariable
        Predicted values.
    targets : TensorVariable
        Ground-truth values, of the same shape (or a column to broadcast,
        see :func:`align_targets`).
    delta : scalar
        Where the loss turns from quadratic to linear.

    Returns
    -------
    TensorVariable
        The element-wise loss; the gradient's size is at most ``delta``.

    Examples
    --------
    >>> p, t = pt.as_tensor([0.5, 3.0, -2.0]), pt.as_tensor([0.0, 0.0, 0.0])
    >>> huber_loss(p, t).eval().tolist()
    [0.125, 2.5, 1.5]
    """
    predictions, targets = align_targets(predictions, targets)
    abs_diff = pt.abs(targets - predictions)
    quadratic = 0.5 * squared_error(targets, predictions)
    linear = delta * (abs_diff - delta / 2.)
    return pt.switch(abs_diff <= delta, quadratic, linear)


def aggregate(loss, weights=None, mode='mean'):
    """Aggregates an element- or item-wise loss to a scalar loss.

    Parameters
    ----------
    loss : Theano tensor
        The loss expression to aggregate.
    weights : Theano tensor, optional
        The weights for each element or item, must be broadcastable to
        the same shape as `loss` if given. If omitted, all elements will
        be weighted the same.
    mode : {'mean', 'sum', 'normalized_sum'}
        Whether to aggregate by averaging, by summing or by summing and
        dividing by the total weights (which requires `weights` to be given).

    Returns
    -------
    Theano scalar
        A scalar loss expression suitable for differentiation.

    Notes
    -----
    By supplying binary weights (i.e., only using values 0 and 1), this
    function can also be used for masking out particular entries in the
    loss expression. Note that masked entries still need to be valid
    values, not-a-numbers (NaNs) will propagate through.

    When applied to batch-wise loss expressions, setting `mode` to
    ``'normalized_sum'`` ensures that the loss per batch is of a similar
    magnitude, independent of associated weights. However, it means that
    a given data point contributes more to the loss when it shares a batch
    with low-weighted or masked data points than with high-weighted ones.

    Examples
    --------
    >>> float(aggregate(pt.as_tensor([1.0, 3.0])).eval())
    2.0
    """
    if weights is not None:
        loss = loss * weights
    if mode == 'mean':
        return loss.mean()
    elif mode == 'sum':
        return loss.sum()
    elif mode == 'normalized_sum':
        if weights is None:
            raise ValueError("require weights for mode='normalized_sum'")
        return loss.sum() / weights.sum()
    else:
        raise ValueError("mode must be 'mean', 'sum' or 'normalized_sum', "
                         "got %r" % mode)


def binary_hinge_loss(predictions, targets, delta=1, log_odds=None,
                      binary=True):
    """Computes the binary hinge loss between predictions and targets.

    .. math:: L_i = \\max(0, \\delta - t_i p_i)

    Parameters
    ----------
    predictions : Theano tensor
        Predictions in (0, 1), such as sigmoidal output of a neural network
        (or log-odds of predictions depending on `log_odds`).
    targets : Theano tensor
        Targets in {0, 1} (or in {-1, 1} depending on `binary`), such as
        ground truth labels.
    delta : scalar, default 1
        The hinge loss margin
    log_odds : bool, default None
        ``False`` if predictions are sigmoid outputs in (0, 1), ``True`` if
        predictions are sigmoid inputs, or real-valued log odds of
        predictions. As in Lasagne, it must be given explicitly: the default
        ``None`` raises a ``FutureWarning`` (its default was to change).
    binary : bool, default True
        ``True`` if targets are in {0, 1}, ``False`` if they are in {-1, 1}

    Returns
    -------
    Theano tensor
        An expression for the element-wise binary hinge loss

    Notes
    -----
    This is an alternative to the binary cross-entropy loss for binary
    classification problems.

    Examples
    --------
    >>> l = binary_hinge_loss(pt.as_tensor([0.5, -2.0]), pt.as_tensor([1, 1]),
    ...                       log_odds=True)
    >>> l.eval().tolist()
    [0.5, 3.0]
    """
    if log_odds is None:
        raise FutureWarning(
            "The `log_odds` argument to `binary_hinge_loss` will change "
            "its default to `False` in a future version. Explicitly give "
            "`log_odds=True` to retain current behavior in your code, "
            "but also check the documentation if this is what you want.")
    if not log_odds:
        predictions = pt.log(predictions / (1 - predictions))
    if binary:
        targets = 2 * targets - 1
    predictions, targets = align_targets(predictions, targets)
    return rectify(delta - predictions * targets)


def multiclass_hinge_loss(predictions, targets, delta=1):
    """Computes the multi-class hinge loss between predictions and targets.

    .. math:: L_i = \\max_{j \\not = t_i} (0, p_j - p_{t_i} + \\delta)

    Parameters
    ----------
    predictions : Theano 2D tensor
        Predictions in (0, 1), such as softmax output of a neural network,
        with data points in rows and class probabilities in columns.
    targets : Theano 2D tensor or 1D tensor
        Either a vector of int giving the correct class index per data point
        or a 2D tensor of one-hot encoding of the correct class in the same
        layout as predictions (non-binary targets in [0, 1] do not work!)
    delta : scalar, default 1
        The hinge loss margin

    Returns
    -------
    Theano 1D tensor
        An expression for the item-wise multi-class hinge loss

    Notes
    -----
    This is an alternative to the categorical cross-entropy loss for
    multi-class classification problems

    Examples
    --------
    >>> p = pt.as_tensor([[0.2, 0.5, 0.3]])
    >>> loss = multiclass_hinge_loss(p, pt.as_tensor([0]))
    >>> [round(v, 6) for v in loss.eval().tolist()]
    [1.3]
    """
    predictions = as_theano_expression(predictions)
    targets = as_theano_expression(targets)
    num_cls = predictions.shape[1]
    if targets.ndim == predictions.ndim - 1:
        targets = pt.eq(targets.dimshuffle(0, 'x'),
                        pt.arange(num_cls).dimshuffle('x', 0))
        targets = pt.cast(targets, 'int8')
    elif targets.ndim != predictions.ndim:
        raise TypeError('rank mismatch between targets and predictions')
    corrects = predictions[targets.nonzero()]
    rest = pt.reshape(predictions[(1 - targets).nonzero()],
                      (-1, num_cls - 1))
    rest = pt.max(rest, axis=1)
    return rectify(rest - corrects + delta)


def binary_accuracy(predictions, targets, threshold=0.5):
    """Computes the binary accuracy between predictions and targets.

    .. math:: L_i = \\mathbb{I}(t_i = \\mathbb{I}(p_i \\ge \\alpha))

    Parameters
    ----------
    predictions : Theano tensor
        Predictions in [0, 1], such as a sigmoidal output of a neural network,
        giving the probability of the positive class
    targets : Theano tensor
        Targets in {0, 1}, such as ground truth labels.
    threshold : scalar, default: 0.5
        Specifies at what threshold to consider the predictions being of the
        positive class

    Returns
    -------
    Theano tensor
        An expression for the element-wise binary accuracy in {0, 1}

    Notes
    -----
    This objective function should not be used with a gradient calculation;
    its gradient is zero everywhere. It is intended as a convenience for
    validation and testing, not training.

    To obtain the average accuracy, call :func:`theano.tensor.mean()` on the
    result, passing ``dtype=theano.config.floatX`` to compute the mean on GPU.

    Examples
    --------
    >>> acc = binary_accuracy(pt.as_tensor([0.2, 0.7]), pt.as_tensor([0, 0]))
    >>> acc.eval().tolist()
    [True, False]
    """
    predictions, targets = align_targets(predictions, targets)
    predictions = pt.ge(predictions, threshold)
    return pt.eq(predictions, targets)


def categorical_accuracy(predictions, targets, top_k=1):
    """Computes the categorical accuracy between predictions and targets.

    .. math:: L_i = \\mathbb{I}(t_i = \\operatorname{argmax}_c p_{i,c})

    Can be relaxed to allow matches among the top :math:`k` predictions:

    .. math::
        L_i = \\mathbb{I}(t_i \\in \\operatorname{argsort}_c (-p_{i,c})_{:k})

    Parameters
    ----------
    predictions : Theano 2D tensor
        Predictions in (0, 1), such as softmax output of a neural network,
        with data points in rows and class probabilities in columns.
    targets : Theano 2D tensor or 1D tensor
        Either a vector of int giving the correct class index per data point
        or a 2D tensor of 1 hot encoding of the correct class in the same
        layout as predictions
    top_k : int
        Regard a prediction to be correct if the target class is among the
        `top_k` largest class probabilities. For the default value of 1, a
        prediction is correct only if the target class is the most probable.

    Returns
    -------
    Theano 1D tensor
        An expression for the item-wise categorical accuracy in {0, 1}

    Notes
    -----
    This is a strictly non differential function as it includes an argmax.
    This objective function should never be used with a gradient
    calculation. It is intended as a convenience for validation and
    testing not training.

    To obtain the average accuracy, call :func:`theano.tensor.mean()` on the
    result, passing ``dtype=theano.config.floatX`` to compute the mean on GPU.

    Examples
    --------
    >>> p = pt.as_tensor([[0.1, 0.9], [0.8, 0.2]])
    >>> categorical_accuracy(p, pt.as_tensor([1, 1])).eval().tolist()
    [True, False]
    """
    predictions = as_theano_expression(predictions)
    targets = as_theano_expression(targets)
    if targets.ndim == predictions.ndim:
        targets = pt.argmax(targets, axis=-1)
    elif targets.ndim != predictions.ndim - 1:
        raise TypeError('rank mismatch between targets and predictions')

    if top_k == 1:
        # standard categorical accuracy
        top = pt.argmax(predictions, axis=-1)
        return pt.eq(top, targets)
    else:
        # top-k accuracy
        top = pt.argsort(predictions, axis=-1)
        top = top[(slice(None),) * (top.ndim - 1) + (slice(-top_k, None),)]
        targets = pt.shape_padaxis(targets, axis=-1)
        return pt.any(pt.eq(top, targets), axis=-1)
