"""Evaluation as the original scripts do it, written once.

Every original script evaluates its network twice over: with the batch
statistics in BatchNorm (its ``test_fn``) and with BatchNorm's stored
averages (its ``bn_test_fn``), both deterministic (no dropout).
:func:`compile_eval_pair` compiles that pair from the figures an
experiment wants; :func:`compile_classifier` adds the training function of
a softmax classifier (cross-entropy, accuracy, optional weight decay and
recurrent-weight clip), as pixel MNIST and action recognition have it;
:func:`mean_over_batches` averages a compiled function's figures over
batches, per batch or per example (a padded last batch counted exactly);
:func:`write_confusion` writes a test's confusion matrix (CSV and PNG).

Examples
--------
The PTB scripts' pair (figures of a prediction and a carried state)::

    test_fn, bn_test_fn = compile_eval_pair(
        [net['out'], net['hid_out']], [X_sym, y_sym, hid_init_sym],
        lambda outputs: list(_figures(outputs[0], y_flat)[1:])
        + [outputs[1]])
"""
import numpy as np
import pytensor
import pytensor.tensor as pt

from .. import lasagne
from .functions import compile_test_fn, compile_train_fn, weight_decay

__all__ = ["compile_eval_pair", "classifier_figures", "compile_classifier",
           "mean_over_batches", "confusion_matrix", "save_confusion_png",
           "write_confusion"]


def compile_eval_pair(layers, inputs, figures, feed=None, joint=False,
                      mode=None):
    """Compile the evaluation with batch statistics and with the averages.

    Parameters
    ----------
    layers : Layer or list of Layer
        What ``lasagne.layers.get_output`` is asked for.
    inputs : list of Variable
        The compiled functions' inputs.
    figures : callable
        ``figures(outputs) -> list of Variable``: the figures of the
        deterministic ``outputs`` (``get_output(layers, ...)``).
    feed : Variable or dict, optional
        ``get_output``'s ``inputs``, for networks whose ``InputLayer``
        holds no variable of ``inputs``.
    joint : bool
        One function with both sets of figures (computing what the two
        share, e.g. a recurrence before the BatchNorm, once) instead of
        two.
    mode : str or Mode, optional
        PyTensor compilation mode.

    Returns
    -------
    test_fn, bn_test_fn : callable
        ``fn(*inputs) -> figures``, BatchNorm with the batch statistics
        (the originals' ``test_fn``) and with its stored averages
        (``bn_test_fn``); or, with ``joint``, one callable returning the
        first figures and then the second.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> from indrnn.lasagne.layers import BatchNormLayer, InputLayer
    >>> x = pt.matrix('x')
    >>> bn = BatchNormLayer(InputLayer((None, 2), x))
    >>> test_fn, bn_test_fn = compile_eval_pair(
    ...     bn, [x], lambda out: [out], mode='FAST_COMPILE')
    >>> data = np.array([[1., 0.], [3., 2.]], dtype=x.dtype)
    >>> test_fn(data)[0].round(3).tolist()    # the batch's statistics
    [[-1.0, -1.0], [1.0, 1.0]]
    >>> bn_test_fn(data)[0].round(3).tolist()  # mean 0, std 1 at start
    [[1.0, 0.0], [3.0, 2.0]]
    """
    outputs = []
    for averages in (False, True):
        outputs.append(list(figures(lasagne.layers.get_output(
            layers, feed, deterministic=True,
            batch_norm_use_averages=averages))))
    if joint:
        return compile_test_fn(inputs, outputs[0] + outputs[1], mode=mode)
    return tuple(compile_test_fn(inputs, out, mode=mode) for out in outputs)


def classifier_figures(prediction, y_sym, per_example=False):
    """Cross-entropy and accuracy of a softmax ``prediction``.

    Parameters
    ----------
    prediction : Variable
        ``(batch, classes)`` probabilities.
    y_sym : Variable
        int32 labels.
    per_example : bool
        Each example's figures instead of the batch means.

    Returns
    -------
    loss, accuracy : Variable
        The cross-entropy and the top-1 accuracy (floatX), means over the
        batch, or ``(batch,)`` vectors with ``per_example``.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> p, y = pt.matrix('p'), pt.ivector('y')
    >>> loss, acc = classifier_figures(p, y)
    >>> float(acc.eval({p: np.array([[.9, .1], [.8, .2]], dtype=p.dtype),
    ...                 y: np.array([0, 1], dtype='int32')}))
    0.5
    """
    loss = lasagne.objectives.categorical_crossentropy(prediction, y_sym)
    correct = lasagne.objectives.categorical_accuracy(prediction, y_sym,
                                                      top_k=1)
    floatX = pytensor.config.floatX
    if per_example:
        return loss, pt.cast(correct, floatX)
    return loss.mean(), pt.mean(correct, dtype=floatX)


def compile_classifier(out, X_sym, y_sym, figures, decay=None, U_bound=None,
                       clip_after_step=False, joint=False, mode=None):
    """Compile the training function and the evaluation pair of a
    softmax classifier, as the pixel-MNIST and action scripts do.

    Parameters
    ----------
    out : Layer
        The softmax output layer.
    X_sym, y_sym : Variable
        The input (fed to every ``InputLayer``) and the int32 labels.
    figures : callable
        ``figures(prediction) -> list of Variable``: the evaluation's
        figures (see :func:`compile_eval_pair`).
    decay : float, optional
        The originals' ``--use_weightdecay_nohiddenW``: the L2 terms of
        :func:`indrnn.run.functions.weight_decay` added to the loss, one by
        one in parameter order (None: no terms).
    U_bound : float, optional
        Clip of the recurrent weights (None: no clip).
    clip_after_step : bool
        Clip after the Adam step (action recognition) instead of before.
    joint : bool
        See :func:`compile_eval_pair`.
    mode : str or Mode, optional
        PyTensor compilation mode.

    Returns
    -------
    tuple
        ``train_fn(x, y, learning_rate) -> [loss, acc]`` (the batch's
        mean cross-entropy with the decay, and its accuracy; one Adam step
        on the trainable parameters), then the functions of
        :func:`compile_eval_pair`.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> from indrnn.lasagne.layers import (BatchNormLayer, DenseLayer,
    ...                                    InputLayer)
    >>> from indrnn.lasagne.nonlinearities import softmax
    >>> x, y = pt.matrix('x'), pt.ivector('y')
    >>> out = DenseLayer(BatchNormLayer(InputLayer((None, 3))), 2,
    ...                  nonlinearity=softmax)
    >>> train_fn, test_fn, bn_test_fn = compile_classifier(
    ...     out, x, y, lambda p: classifier_figures(p, y),
    ...     mode='FAST_COMPILE')
    >>> len(train_fn(np.ones((4, 3), dtype=x.dtype),
    ...              np.zeros(4, dtype='int32'), np.float32(0.1)))
    2
    """
    prediction = lasagne.layers.get_output(out, X_sym, deterministic=False)
    loss, acc = classifier_figures(prediction, y_sym)
    if decay is not None:
        loss = sum(weight_decay(out, decay), loss)
    train_fn = compile_train_fn(
        [X_sym, y_sym], loss,
        lasagne.layers.get_all_params(out, trainable=True),
        outputs=[loss, acc], U_bound=U_bound,
        clip_after_step=clip_after_step, mode=mode)
    fns = compile_eval_pair(out, [X_sym, y_sym], figures, feed=X_sym,
                            joint=joint, mode=mode)
    return (train_fn,) + (fns if isinstance(fns, tuple) else (fns,))


def mean_over_batches(fn, batches, names, padded=False):
    """Mean of each of ``fn``'s first figures over ``batches``.

    Parameters
    ----------
    fn : callable
        ``fn(x, y) -> [figure, ...]``.
    batches : iterable
        ``(x, y, ...)`` tuples; with ``padded``, ``(x, y, n_valid)``.
    names : sequence of str
        Names of ``fn``'s first ``len(names)`` figures.
    padded : bool
        The figures are per example and only the first ``n_valid`` of a
        batch count: the means are over examples (an evaluation set in
        padded batches, each example counted once); else each figure is
        one number per batch and the means are over batches.

    Returns
    -------
    dict
        ``{name: float}``, the means (accumulated in float64).

    Examples
    --------
    >>> fn = lambda x, y: [np.array(x), np.array(y)]
    >>> mean_over_batches(fn, [(0.5, 1.0), (1.0, 0.0)], ['a', 'b'])
    {'a': 0.75, 'b': 0.5}
    >>> mean_over_batches(fn, [([1, 2], [0, 0], 2), ([3, 9], [1, 1], 1)],
    ...                   ['a', 'b'], padded=True)
    {'a': 2.0, 'b': 0.3333333333333333}
    """
    sums, count = np.zeros(len(names)), 0
    for batch in batches:
        values = fn(batch[0], batch[1])[:len(names)]
        n = batch[2] if padded else None
        sums += [float(np.sum(v[:n] if padded else v)) for v in values]
        count += n if padded else 1
    return {name: float(s) for name, s in zip(names, sums / count)}


def confusion_matrix(labels, predictions, num_classes):
    """Counts of (true class, predicted class).

    Parameters
    ----------
    labels, predictions : array-like of int
        True and predicted classes.
    num_classes : int
        Size of the matrix.

    Returns
    -------
    numpy.ndarray
        ``(num_classes, num_classes)`` int64; rows are true classes.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1], [0, 0, 1], 2).tolist()
    [[1, 0], [1, 1]]
    """
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix


def save_confusion_png(matrix, path, title=None, class_name='A%03d'):
    """Draw a confusion matrix as a PNG, if matplotlib is installed.

    Only the classes that occur (as truth or prediction) are drawn, labelled
    by ``class_name`` (by default ``A001``... as in the NTU sample names);
    rows are normalised to the share of each true class.

    Parameters
    ----------
    matrix : numpy.ndarray
        From :func:`confusion_matrix`.
    path : str
        The PNG file.
    title : str, optional
        Figure title.
    class_name : str
        ``%``-format of a class's label from its number counted from 1.

    Returns
    -------
    bool
        False (and nothing written) when matplotlib is missing.
    """
    try:
        # The figure API without pyplot: no global state, no display.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return False
    used = np.nonzero(matrix.sum(axis=0) + matrix.sum(axis=1))[0]
    sub = matrix[np.ix_(used, used)].astype(float)
    share = sub / np.maximum(sub.sum(axis=1, keepdims=True), 1)
    size = min(4 + 0.2 * len(used), 16)
    fig = Figure(figsize=(size + 1, size))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(share, cmap='Blues', vmin=0, vmax=1)
    names = [class_name % (c + 1) for c in used]
    step = max(1, len(used) // 30)
    ax.set_xticks(range(0, len(used), step))
    ax.set_xticklabels(names[::step], rotation=90, fontsize=7)
    ax.set_yticks(range(0, len(used), step))
    ax.set_yticklabels(names[::step], fontsize=7)
    ax.set_xlabel('predicted class')
    ax.set_ylabel('true class')
    if len(used) <= 12:
        for i in range(len(used)):
            for j in range(len(used)):
                if sub[i, j]:
                    ax.text(j, i, '%d' % sub[i, j], ha='center',
                            va='center', fontsize=8,
                            color='white' if share[i, j] > 0.5 else 'black')
    if title:
        ax.set_title(title)
    fig.colorbar(image, ax=ax, label='share of the true class')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def write_confusion(labels, predictions, num_classes, base, title=None,
                    log=print):
    """Write a test's confusion matrix as ``<base>.csv`` and ``.png``.

    Parameters
    ----------
    labels, predictions, num_classes
        As in :func:`confusion_matrix`.
    base : str
        The files' path without suffix.
    title : str, optional
        Title of the PNG.
    log : callable
        Says which file to look at (the PNG, or without matplotlib the
        CSV and how to get the PNG).

    Returns
    -------
    str
        The CSV file: the counts of :func:`confusion_matrix`, rows the true
        classes.

    Examples
    --------
    >>> import os, tempfile
    >>> base = os.path.join(tempfile.mkdtemp(), 'test_confusion')
    >>> path = write_confusion([0, 1], [0, 0], 2, base, log=lambda *a: None)
    >>> open(path).read().splitlines()
    ['1,0', '1,0']
    """
    matrix = confusion_matrix(labels, predictions, num_classes)
    np.savetxt(base + '.csv', matrix, fmt='%d', delimiter=',')
    if save_confusion_png(matrix, base + '.png', title):
        log('confusion matrix:', base + '.png')
    else:
        log('confusion matrix:', base + '.csv', '(for the PNG, install '
            'matplotlib: pip install matplotlib)')
    return base + '.csv'
