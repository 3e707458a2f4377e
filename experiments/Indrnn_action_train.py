"""Skeleton-based action recognition on NTU RGB+D: the training script.

Port of ``action recognition/Indrnn_action_train.py`` of the original
IndRNN code (Theano + Lasagne), with the data readers
``data_reader_numpy_witheval.py`` and ``data_reader_numpy_test.py`` in
:mod:`indrnn.data.ntu`. The network and the flags are
:mod:`experiments.Indrnn_action_network` and :mod:`experiments.opts`.

What it does, as the original:

- reads ``train_ntus`` and ``test_ntus`` (``--test_CV``: ``train_CV_ntus``
  and ``test_CV_ntus``) from ``--data_dir``, in the original ``.npy``
  layout (memory-mapped) or as HDF5 (see :func:`indrnn.data.ntu.open_ntu`);
  :mod:`indrnn.data.ntu_convert` (``indrnn-ntu-convert``) makes them from
  the raw ``.skeleton`` files;
- holds 5 % of the training set out for evaluation; training batches take
  ``--seq_len`` frames of each sequence (one random frame per segment),
  with ``--rotation_aug`` the rotation augmentation;
- trains with Adam on the cross-entropy (plus, with
  ``--use_weightdecay_nohiddenW``, the L2 decay of every weight but the
  recurrent ones); with ``--constrain_U`` the recurrent weights are clipped
  to ``[-U_bound, U_bound]`` *after* each step;
- prints the mean training loss and accuracy every 20 steps;
- after every epoch (``ceil(train size / batch_size)`` steps) evaluates the
  held-out set ``--eval_fold`` times over, with batch statistics
  (``evalacc``) and with the BatchNorm averages (``bn_evalacc``); keeps the
  parameters of the best ``bn_evalacc``; once it has not improved for more
  than 10 evaluations (the original tests ``patience > 10``), restores the
  best parameters and divides the learning rate by 10, and stops when it
  falls below ``--end_rate``;
- tests on 10 random crops of every test sequence, with batch statistics
  (``testacc``) and with the averages (``bn_testacc``), reporting both the
  mean accuracy of the batches and the accuracy per sample of the softmax
  averaged over the crops;
- saves the parameters to ``action_indrnn.npz`` in the original format.

Extras (not in the original): ``--seed``, ``--max_steps``, ``--data_dir``,
``--out``, ``--log``, ``--test_crops``, ``--net residual|dense`` with the
Deep IndRNN options (:func:`make_main_parser`; the files are then named
``action_indrnn_<net>``), a CSV of the training reports and
of the evaluations, a JSON summary, and the confusion matrix of the test
(BatchNorm averages, per sample) as CSV and, when matplotlib is installed,
as a PNG.

Differences from the original, none of which changes what is computed: the
reports count steps over the whole run (the original restarts its count
every epoch, so its reports after the first epoch are shifted); the
training and held-out lists start at their first sample (the original
skips the first one of its first pass); the per-sample test averages count
a sample seen twice in one batch twice.

Examples
--------
Convert the skeletons, then train with the paper's cross-subject flags::

    indrnn-ntu-convert nturgb+d_skeletons/ data/ntu
    python -m experiments.Indrnn_action_train --data_dir data/ntu \\
        --use_bn_afterrnn --use_dropout --droprate 0.25 \\
        --use_weightdecay_nohiddenW

>>> args = make_parser().parse_args(['--test_CV'])
>>> dataset_names(args), args.batch_size, args.eval_fold
(('train_CV_ntus', 'test_CV_ntus'), 128, 5)
"""
import argparse
import csv
import json
import math
import os
import sys

import numpy as np
import pytensor
import pytensor.tensor as pt

import indrnn.lasagne as lasagne
from indrnn.checkpoint import (CheckpointError, CheckpointMismatchError,
                               Checkpointer, check_config)
from indrnn.data import ntu
from indrnn.training import (ProgressLog, compile_test_fn, compile_train_fn,
                             run_command, train_loop, weight_decay, writing)

from experiments import Indrnn_action_network as action_network
from experiments import opts
from indrnn.run.flags import (DEEP_OPTIONS, add_checkpoint_flags,
                                jsonable, resume_command)

__all__ = [
    "SAVE_NAME",
    "DISP_FREQ",
    "PATIENCE_THRE",
    "TEST_NO",
    "make_parser",
    "make_main_parser",
    "save_name",
    "dataset_names",
    "compile_functions",
    "EpochSchedule",
    "mean_accuracy",
    "average_over_crops",
    "confusion_matrix",
    "save_confusion_png",
    "main",
]

#: Base name of the saved parameters, as the original.
SAVE_NAME = "action_indrnn"
#: Steps between reports (the original's ``dispFreq``).
DISP_FREQ = 20
#: Evaluations without improvement tolerated (``patienceThre``): the
#: learning rate drops at the first one after more than this many.
PATIENCE_THRE = 10
#: Random crops per test sample (``test_no``).
TEST_NO = 10


def make_parser():
    """Return the parser of the original script plus the extras.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> args = make_parser().parse_args([])
    >>> args.num_layers, args.hidden_units, args.seq_len, args.data_dir
    (6, 512, 20, '.')
    """
    parser = argparse.ArgumentParser(description='lstm action')
    opts.train_opts(parser)
    # Not in the original.
    parser.add_argument('--seed', type=int, default=None,
                        help='random seed for initialisation, data split, '
                             'batches and dropout (default: drawn at random '
                             'and logged)')
    parser.add_argument('--max_steps', type=int, default=None,
                        help='stop training after this many batches, then '
                             'test (default: run the original schedule to '
                             'its end)')
    parser.add_argument('--data_dir', type=str, default='.',
                        help='folder of train_ntus / test_ntus (or the _CV_ '
                             'sets) as .npy, .h5 or .hdf5 (default: the '
                             'current folder, as the original)')
    parser.add_argument('--out', type=str, default='.',
                        help='folder for the parameters, logs and the '
                             'confusion matrix')
    parser.add_argument('--log', type=str, default=None,
                        help='log file (default: <out>/action_indrnn.log)')
    parser.add_argument('--test_crops', type=int, default=TEST_NO,
                        help='random crops averaged per test sample '
                             '(original: 10)')
    add_checkpoint_flags(parser, '<out>/action_indrnn_checkpoints/')
    return parser


def make_main_parser():
    """Return the parser of :func:`main`: :func:`make_parser` plus the Deep
    IndRNN options (:func:`experiments.opts.deep_opts`, not in the
    original).

    ``--net plain`` (the default) is the original network; ``--net
    residual`` and ``--net dense`` build the res-IndRNN and dense-IndRNN
    of :func:`experiments.Indrnn_action_network.build_deep_network`.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> args = make_main_parser().parse_args(['--net', 'dense'])
    >>> args.net, args.block_config, args.hidden_units
    ('dense', (8, 6, 4), 512)
    """
    return opts.deep_opts(make_parser())


def save_name(args):
    """Base name of the run's files: ``'action_indrnn'`` as the original,
    with ``'_residual'`` or ``'_dense'`` appended for a deep network.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    str

    Examples
    --------
    >>> save_name(make_main_parser().parse_args(['--net', 'residual']))
    'action_indrnn_residual'
    >>> save_name(make_parser().parse_args([]))
    'action_indrnn'
    """
    net = getattr(args, 'net', 'plain')
    return SAVE_NAME + ('' if net == 'plain' else '_' + net)


def dataset_names(args):
    """The training and test set names the flags select.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags; ``--test_CV`` selects the cross-view sets.

    Returns
    -------
    tuple of str
        ``(train, test)``.

    Examples
    --------
    >>> dataset_names(make_parser().parse_args([]))
    ('train_ntus', 'test_ntus')
    """
    if args.test_CV:
        return 'train_CV_ntus', 'test_CV_ntus'
    return 'train_ntus', 'test_ntus'


def compile_functions(args, net, X_sym, y_sym, mode=None):
    """Compile the original's ``train_fn``, ``test_fn`` and ``bn_test_fn``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags.
    net : dict
        From :func:`experiments.Indrnn_action_network.build_indrnn_network`.
    X_sym, y_sym : TensorVariable
        The input (float 4-tensor) and the labels (int32 vector).
    mode : str or Mode, optional
        PyTensor mode (None: the configured default).

    Returns
    -------
    train_fn : callable
        ``train_fn(x, y, lr) -> [loss, acc]``: one Adam step; ``loss``
        includes the weight decay. With ``--constrain_U`` the recurrent
        weights are clipped after the step.
    test_fn : callable
        ``test_fn(x, y) -> [acc, softmax]``, deterministic, BatchNorm with
        the batch's statistics.
    bn_test_fn : callable
        The same with BatchNorm's running averages.
    """
    floatX = pytensor.config.floatX
    out = net['out']
    prediction = lasagne.layers.get_output(out, X_sym, deterministic=False)
    loss = lasagne.objectives.categorical_crossentropy(prediction,
                                                       y_sym).mean()
    if args.use_weightdecay_nohiddenW:
        # Added term by term, in parameter order, as the original.
        loss = sum(weight_decay(out, args.decayrate), loss)
    acc = pt.mean(lasagne.objectives.categorical_accuracy(
        prediction, y_sym, top_k=1), dtype=floatX)
    params = lasagne.layers.get_all_params(out, trainable=True)
    g = action_network.network_globals(args)
    train_fn = compile_train_fn(
        [X_sym, y_sym], loss, params, outputs=[loss, acc],
        U_bound=g.U_bound if args.constrain_U else None,
        clip_after_step=True, mode=mode)

    def test_outputs(**kwargs):
        pred = lasagne.layers.get_output(out, X_sym, deterministic=True,
                                         **kwargs)
        acc = pt.mean(lasagne.objectives.categorical_accuracy(
            pred, y_sym, top_k=1), dtype=floatX)
        return [acc, pred]

    test_fn = compile_test_fn([X_sym, y_sym],
                              test_outputs(batch_norm_use_averages=False),
                              mode=mode)
    bn_test_fn = compile_test_fn([X_sym, y_sym], test_outputs(), mode=mode)
    return train_fn, test_fn, bn_test_fn


def mean_accuracy(fn, get_batch, num_batches):
    """Mean of ``fn``'s accuracy over ``num_batches`` batches.

    Parameters
    ----------
    fn : callable
        ``fn(x, y) -> [acc, ...]``.
    get_batch : callable
        Returns ``(x, y, ...)``.
    num_batches : int
        Batches to average.

    Returns
    -------
    float

    Examples
    --------
    >>> batches = iter([(None, None), (None, None)])
    >>> accs = iter([0.5, 1.0])
    >>> mean_accuracy(lambda x, y: [next(accs)], lambda: next(batches), 2)
    0.75
    """
    total = 0.0
    for _ in range(num_batches):
        batch = get_batch()
        total += float(fn(batch[0], batch[1])[0])
    return total / num_batches


def average_over_crops(fn, get_batch, num_samples, num_batches, num_classes):
    """The original's test: softmax averaged over random crops per sample.

    Parameters
    ----------
    fn : callable
        ``fn(x, y) -> [acc, softmax]``.
    get_batch : callable
        Returns ``(x, y, index)``, ``index`` the samples' positions in the
        test set (:class:`indrnn.data.ntu.BatchHandler` with
        ``with_index``).
    num_samples : int
        Size of the test set.
    num_batches : int
        Batches to run: ``ceil(num_samples / batch_size) * crops``.
    num_classes : int
        Width of the softmax.

    Returns
    -------
    batch_acc : float
        Mean accuracy of the batches (the original's first figure).
    scores : numpy.ndarray
        ``(num_samples, num_classes)``: the mean softmax of each sample over
        its crops; its ``argmax`` against the labels gives the per-sample
        accuracy (the original's second figure).

    Examples
    --------
    >>> batches = iter([(None, [0, 1], [0, 1]), (None, [0, 1], [1, 0])])
    >>> soft = iter([[1.0, [[0.6, 0.4], [0.3, 0.7]]],
    ...              [0.0, [[0.8, 0.2], [0.1, 0.9]]]])
    >>> acc, scores = average_over_crops(lambda x, y: next(soft),
    ...                                  lambda: next(batches), 2, 2, 2)
    >>> acc, scores.round(6).tolist()   # sample 0: (0.6 + 0.1) / 2, ...
    (0.5, [[0.35, 0.65], [0.55, 0.45]])
    """
    sums = np.zeros((num_samples, num_classes))
    counts = np.zeros(num_samples)
    total = 0.0
    for _ in range(num_batches):
        x, y, index = get_batch()
        acc, prediction = fn(x, y)
        total += float(acc)
        # add.at: a sample drawn twice in one batch counts twice.
        np.add.at(sums, np.asarray(index), np.asarray(prediction))
        np.add.at(counts, np.asarray(index), 1)
    scores = sums / np.maximum(counts, 1)[:, None]
    return total / max(num_batches, 1), scores


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


def save_confusion_png(matrix, path, title=None):
    """Draw a confusion matrix as a PNG, if matplotlib is installed.

    Only the classes that occur (as truth or prediction) are drawn, labelled
    ``A001``... as in the NTU sample names; rows are normalised to the share
    of each true class.

    Parameters
    ----------
    matrix : numpy.ndarray
        From :func:`confusion_matrix`.
    path : str
        The PNG file.
    title : str, optional
        Figure title.

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
    names = ['A%03d' % (c + 1) for c in used]
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


class EpochSchedule:
    """The original's per-epoch evaluation, model selection and decay.

    Called after every epoch with the two held-out accuracies. When
    ``bn_evalacc`` beats the best so far, the parameters are kept and the
    patience count restarts; otherwise, if the count is already above
    ``patience`` (10), the best parameters are restored, the learning rate
    divided by 10 and the count restarted, and the run stops once the rate
    falls below ``end_rate``; otherwise the count goes up.

    Parameters
    ----------
    get_params : callable
        Returns the parameter values to keep.
    set_params : callable
        ``set_params(values)`` restores them.
    end_rate : float
        Stop when the learning rate falls below it.
    patience : int
        The original's ``patienceThre``.

    Attributes
    ----------
    best : float
        Best ``bn_evalacc`` so far (the original's ``lastacc``; 0 at first).
    count : int
        The patience count.

    Examples
    --------
    >>> kept = []
    >>> schedule = EpochSchedule(lambda: 'params', kept.append, 1e-6,
    ...                          patience=1)
    >>> [(round(float(lr), 6), event, stop) for lr, event, stop in
    ...  [schedule(acc, 1e-3) for acc in (0.5, 0.4, 0.4, 0.4)]]
    ... # doctest: +NORMALIZE_WHITESPACE
    [(0.001, 'best', False), (0.001, 'wait', False), (0.001, 'wait', False),
     (0.0001, 'decay', False)]
    >>> kept
    ['params']
    """

    def __init__(self, get_params, set_params, end_rate,
                 patience=PATIENCE_THRE):
        self.get_params = get_params
        self.set_params = set_params
        self.end_rate = end_rate
        self.patience = patience
        self.best = 0.0
        self.best_params = None
        self.count = 0

    def __call__(self, bn_evalacc, learning_rate):
        """Apply one evaluation.

        Parameters
        ----------
        bn_evalacc : float
            Held-out accuracy with the BatchNorm averages.
        learning_rate : numpy.float32
            The current learning rate.

        Returns
        -------
        learning_rate : numpy.float32
            The learning rate to go on with.
        event : str
            ``'best'``, ``'wait'`` or ``'decay'``.
        stop : bool
            Whether training ends.
        """
        learning_rate = np.float32(learning_rate)
        if bn_evalacc > self.best:
            self.best_params = self.get_params()
            self.best = bn_evalacc
            self.count = 0
            return learning_rate, 'best', False
        if self.count > self.patience:
            # The original would fail here without a best; keep going.
            if self.best_params is not None:
                self.set_params(self.best_params)
            self.count = 0
            learning_rate = np.float32(learning_rate * 0.1)
            return learning_rate, 'decay', bool(learning_rate <
                                                self.end_rate)
        self.count += 1
        return learning_rate, 'wait', False


class _CsvLog:
    """Appends rows to a CSV file, writing the header first."""

    def __init__(self, path, columns):
        self.path, self.columns = path, columns
        with writing(path, newline='') as f:
            csv.writer(f).writerow(columns)

    def write(self, row):
        with writing(self.path, 'a', newline='') as f:
            csv.writer(f).writerow([_csv_value(row.get(c))
                                    for c in self.columns])


def _csv_value(value):
    if isinstance(value, (float, np.floating)):
        return '%.6g' % value
    return '' if value is None else value


#: Flags that must equal the checkpoint's on ``--resume``, checked before
#: anything is built. The Deep IndRNN options are among them: most change
#: the parameters' shapes, which would be refused anyway but naming a
#: parameter, and some (the dropout rates) change nothing that is checked.
CONFIG_KEYS = ('lr', 'batch_size', 'seq_len', 'num_layers', 'hidden_units',
               'test_CV', 'use_weightdecay_nohiddenW', 'decayrate',
               'use_bn_afterrnn', 'ini_in2hid', 'constrain_U', 'MAG',
               'rotation_aug', 'eval_fold', 'ini_b', 'end_rate',
               'use_dropout', 'droprate', 'rec_drop', 'drop_layers',
               'conv_drop') + tuple(DEEP_OPTIONS)


class _ResumableHandler(ntu.BatchHandler):
    """A :class:`~indrnn.data.ntu.BatchHandler` whose state (order,
    position, random state) after each batch handed out is known, and can
    be restored before the first batch is prepared.

    The handler prepares the next batch in a thread, so when the loop
    checkpoints the handler is one batch ahead; the state saved is the one
    right after the last batch handed out, taken in the thread when that
    batch was made.
    """

    def __init__(self, *args, **kwargs):
        # Hold the first batch until restore() or start().
        self._held = True
        super().__init__(*args, **kwargs)
        self.state = self._snapshot()

    def _snapshot(self):
        algorithm, keys, pos, has_gauss, gauss = self.rng.get_state()
        return {'order': self.order.tolist(), 'idx': int(self.idx),
                'rng': [algorithm, keys.tolist(), int(pos), int(has_gauss),
                        float(gauss)]}

    def _dispatch(self):
        if not self._held:
            super()._dispatch()

    def _make_batch(self):
        return super()._make_batch(), self._snapshot()

    def restore(self, saved):
        """Continue from ``saved`` (a :attr:`state`)."""
        order = np.asarray(saved['order'], dtype=self.order.dtype)
        if sorted(order.tolist()) != sorted(self.order.tolist()):
            raise CheckpointError('the checkpoint\'s batch order holds other '
                                  'samples than this run')
        self.order, self.idx = order, int(saved['idx'])
        algorithm, keys, pos, has_gauss, gauss = saved['rng']
        self.rng.set_state((algorithm, np.asarray(keys, dtype=np.uint32),
                            pos, has_gauss, gauss))
        self.state = self._snapshot()

    def start(self):
        """Start preparing the first batch."""
        self._held = False
        self._dispatch()

    def get_batch(self):
        batch, self.state = super().get_batch()
        return batch


def _saved_seed(path, args):
    """The seed of the run saved in the checkpoint ``path``, after checking
    that ``args`` match its :data:`CONFIG_KEYS`."""
    # Read before the network exists (it fixes the data split and the
    # dropout seeds, which a checkpoint cannot restore), so
    # load_checkpoint, which validates against the network, cannot be used
    # yet. The flags are checked here too, so a mismatch is refused before
    # the data are read and the network compiled.
    info = check_config(path, args, CONFIG_KEYS)
    schedule = info['schedule'] or {}
    if 'seed' not in schedule:
        raise CheckpointError('checkpoint %s was not written by '
                              'experiments.Indrnn_action_train' % path)
    if 'best_params' in schedule:
        # Written before the best parameters moved to the arrays slot.
        raise CheckpointError('checkpoint %s was written by an earlier '
                              'version of this script (best parameters in '
                              'JSON) and cannot be resumed' % path)
    return int(schedule['seed'])


def _restore_best_params(path, arrays, current):
    """The best parameters saved in the arrays slot, or None; checked
    against the network's ``current`` values (the parameters themselves
    are checked by the checkpoint's loader)."""
    best = arrays.get('best_params')
    if best is None:
        return None
    if len(best) != len(current) or any(
            b.shape != c.shape or b.dtype != c.dtype
            for b, c in zip(best, current)):
        raise CheckpointMismatchError(
            'checkpoint %s: its best parameters do not fit this network'
            % path)
    return best


def _data_rngs(seed):
    """Independent random states for the split and the three handlers."""
    children = np.random.SeedSequence(seed).spawn(4)
    return [np.random.RandomState(c.generate_state(1)[0]) for c in children]


def _open_data(args, log):
    train_name, test_name = dataset_names(args)
    train = ntu.open_ntu(os.path.join(args.data_dir, train_name))
    try:
        test = ntu.open_ntu(os.path.join(args.data_dir, test_name))
    except BaseException:
        train.close()
        raise
    try:
        for ds in (train, test):
            log('data', ds.path, len(ds), 'sequences, frames of shape',
                ds.frame_shape)
            if len(ds) and (ds.labels.min() < 0 or
                            ds.labels.max() >= action_network.OUTPUTCLASS):
                raise ntu.NTUCorruptError(
                    '%s: labels must be 0..%d, found %d..%d'
                    % (ds.path, action_network.OUTPUTCLASS - 1,
                       ds.labels.min(), ds.labels.max()))
        if (train.frame_shape != test.frame_shape
                or train.frame_shape[1:] != (3,)):
            raise ntu.NTUCorruptError(
                'frames of %s %s and %s %s: need (joints, 3), the same in '
                'both' % (train.path, train.frame_shape, test.path,
                          test.frame_shape))
    except BaseException:
        train.close()
        test.close()
        raise
    return train, test


def _run(args, log, paths):
    seed = args.seed
    if args.resume:
        seed = _saved_seed(args.resume, args)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2 ** 32))
    log(args)
    log('seed', seed, 'floatX', pytensor.config.floatX)
    train_data, test_data = _open_data(args, log)
    handlers = []
    try:
        return _train_and_test(args, log, paths, seed, train_data, test_data,
                               handlers)
    finally:
        for handler in handlers:
            handler.close()
        train_data.close()
        test_data.close()


def _train_and_test(args, log, paths, seed, train_data, test_data, handlers):
    batch_size, seq_len = args.batch_size, args.seq_len
    outputclass = action_network.OUTPUTCLASS
    indim = train_data.frame_shape[0]
    if indim != action_network.INDIM:
        log('note: %d joints per frame (the original has %d)'
            % (indim, action_network.INDIM))
    split_rng, train_rng, eval_rng, test_rng = _data_rngs(seed)
    train_idx, eval_idx = ntu.split_train_eval(len(train_data), split_rng)
    log('Dataset train size, test size', len(train_idx), len(eval_idx))
    if len(eval_idx) == 0:
        raise ValueError('%s has %d sequences: too few to hold 5 %% out'
                         % (train_data.path, len(train_data)))

    lasagne.random.set_rng(np.random.RandomState(seed))
    X_sym = pt.tensor4('inputs', dtype=pytensor.config.floatX)
    y_sym = pt.ivector('label')
    learn_net = action_network.build_network(args, X_sym, indim=indim)
    log('Compiling')
    train_fn, test_fn, bn_test_fn = compile_functions(args, learn_net,
                                                      X_sym, y_sym)

    dh_train = _ResumableHandler(train_data, train_idx, batch_size, seq_len,
                                train_rng, rotation=args.rotation_aug)
    handlers.append(dh_train)
    dh_eval = _ResumableHandler(train_data, eval_idx, batch_size, seq_len,
                               eval_rng)
    handlers.append(dh_eval)
    dh_test = ntu.BatchHandler(test_data, np.arange(len(test_data)),
                               batch_size, seq_len, test_rng, with_index=True)
    handlers.append(dh_test)
    num_train_batches = int(math.ceil(len(train_idx) / float(batch_size)))
    num_eval_batches = int(math.ceil(len(eval_idx) / float(batch_size)))
    num_test_batches = int(math.ceil(len(test_data) / float(batch_size)))
    log('batches per epoch', num_train_batches)

    out = learn_net['out']
    schedule = EpochSchedule(
        lambda: lasagne.layers.get_all_param_values(out),
        lambda values: lasagne.layers.set_all_param_values(out, values),
        args.end_rate)
    train_csv = _CsvLog(paths['train_csv'], ['step', 'epoch', 'learning_rate',
                                             'train_loss', 'train_acc',
                                             'time'])
    eval_csv = _CsvLog(paths['eval_csv'], ['epoch', 'step', 'learning_rate',
                                           'evalacc', 'bn_evalacc',
                                           'best_bn_evalacc', 'event',
                                           'next_learning_rate', 'time'])
    evals = []
    written = [0]
    earlier = []    # reports before the resumed checkpoint
    live = {}
    saved = {}
    saved_arrays = {}

    def get_state():
        state = live.get('loop')
        return {'seed': seed, 'best': schedule.best, 'count': schedule.count,
                'train_batches': dh_train.state,
                'eval_batches': dh_eval.state, 'evals': evals,
                'history': earlier + (state.history if state else [])}

    checkpointer = resume = None
    if args.checkpoint_every or args.resume:
        checkpointer = Checkpointer(
            os.path.join(args.out, paths['name'] + '_checkpoints'), out,
            train_fn, args=args, keep=args.keep_checkpoints,
            get_state=get_state, set_state=saved.update,
            # The best parameters, exactly, as HDF5 datasets; absent until
            # an evaluation beats the initial best of 0.
            get_arrays=lambda: ({} if schedule.best_params is None else
                                {'best_params': schedule.best_params}),
            set_arrays=saved_arrays.update,
            resume_command=resume_command(
                'experiments.Indrnn_action_train', paths['argv']))
        if args.resume:
            resume = checkpointer.load(args.resume, config_keys=CONFIG_KEYS)
            log('resumed from', args.resume, 'at step', resume['step'])
            schedule.best, schedule.count = saved['best'], saved['count']
            schedule.best_params = _restore_best_params(
                args.resume, saved_arrays,
                lasagne.layers.get_all_param_values(out))
            dh_train.restore(saved['train_batches'])
            dh_eval.restore(saved['eval_batches'])
            evals.extend(saved['evals'])
            earlier.extend(saved['history'])
            for report in earlier:
                train_csv.write(dict(
                    report, epoch=report['step'] // num_train_batches))
            for row in evals:
                eval_csv.write(row)
    dh_train.start()
    dh_eval.start()

    def step_hook(state):
        live['loop'] = state
        epoch = state.step // num_train_batches
        for report in state.history[written[0]:]:
            train_csv.write(dict(report, epoch=epoch))
        written[0] = len(state.history)
        if state.step % num_train_batches:
            return
        eval_batches = num_eval_batches * args.eval_fold
        evalacc = mean_accuracy(test_fn, dh_eval.get_batch, eval_batches)
        bn_evalacc = mean_accuracy(bn_test_fn, dh_eval.get_batch,
                                   eval_batches)
        log('epoch', epoch, 'step', state.step, 'evalacc,bn_evalacc',
            '%.6g' % evalacc, '%.6g' % bn_evalacc)
        lr = state.learning_rate
        new_lr, event, stop = schedule(bn_evalacc, lr)
        if event == 'decay' and schedule.best_params is not None:
            log('learning rate', lr, '-> %s; restored the parameters of '
                'bn_evalacc %.6g' % (new_lr, schedule.best))
        elif event == 'decay':
            log('learning rate', lr, '-> %s; no evaluation above 0 yet, '
                'nothing to restore' % new_lr)
        row = {'epoch': epoch, 'step': state.step, 'learning_rate': float(lr),
               'evalacc': evalacc, 'bn_evalacc': bn_evalacc,
               'best_bn_evalacc': schedule.best, 'event': event,
               'next_learning_rate': float(new_lr), 'time': state.elapsed}
        evals.append(row)
        eval_csv.write(row)
        state.learning_rate = new_lr
        if stop:
            log('learning rate below end_rate %s: stopping' % args.end_rate)
            state.stop = True

    state = train_loop(
        lambda batch, lr: train_fn(batch[0], batch[1], lr),
        dh_train.get_batch, np.float32(args.lr), names=('loss', 'acc'),
        report_every=DISP_FREQ, max_steps=args.max_steps, log=log,
        save_path=os.path.join(args.out, paths['name']), save_layer=out,
        step_hook=step_hook, checkpointer=checkpointer,
        checkpoint_every=args.checkpoint_every, resume=resume)
    live['loop'] = state
    for report in state.history[written[0]:]:
        train_csv.write(dict(report, epoch=state.step // num_train_batches))

    summary = {'args': vars(args), 'seed': seed,
               'floatX': pytensor.config.floatX,
               'train_size': len(train_idx), 'eval_size': len(eval_idx),
               'test_size': len(test_data), 'steps': state.step,
               'epochs': state.step // num_train_batches,
               'stop_reason': state.stop_reason, 'train_time': state.elapsed,
               'reports': earlier + state.history, 'evals': evals}
    if state.stop_reason != 'diverged':
        summary['test'] = _final_test(args, log, paths, test_fn, bn_test_fn,
                                      dh_test, test_data, num_test_batches,
                                      outputclass)
    with writing(paths['json']) as f:
        json.dump(summary, f, indent=1, default=jsonable)
    log('wrote', paths['json'])
    return state


def _final_test(args, log, paths, test_fn, bn_test_fn, dh_test, test_data,
                num_test_batches, outputclass):
    results, predictions = {}, {}
    labels = test_data.labels
    num_batches = num_test_batches * args.test_crops
    for key, fn in (('testacc', test_fn), ('bn_testacc', bn_test_fn)):
        batch_acc, scores = average_over_crops(fn, dh_test.get_batch,
                                               len(test_data), num_batches,
                                               outputclass)
        predictions[key] = np.argmax(scores, axis=-1)
        sample_acc = float(np.mean(np.equal(predictions[key], labels)))
        log(key, '%.6g' % batch_acc, '%.6g' % sample_acc)
        results[key] = {'per_batch': batch_acc, 'per_sample': sample_acc}
    # The confusion matrix of the usual inference: BatchNorm averages.
    matrix = confusion_matrix(labels, predictions['bn_testacc'], outputclass)
    np.savetxt(paths['confusion_csv'], matrix, fmt='%d', delimiter=',')
    title = 'bn_testacc per sample %.4f (%d sequences)' % (
        results['bn_testacc']['per_sample'], len(labels))
    if save_confusion_png(matrix, paths['confusion_png'], title):
        log('confusion matrix:', paths['confusion_png'])
    else:
        log('confusion matrix:', paths['confusion_csv'], '(for the PNG, '
            'install matplotlib: pip install matplotlib)')
    results['confusion_matrix'] = paths['confusion_csv']
    return results


def main(argv=None):
    """Run the action-recognition experiment from the command line.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    int
        0 on success, 1 if the loss became NaN or Inf or a checkpoint could
        not be read or written, 2 if a data file is missing or cannot be
        read (the message names it; nothing is compiled or trained then),
        128 + the signal number if stopped by SIGINT or SIGTERM.

    Examples
    --------
    ::

        python -m experiments.Indrnn_action_train --data_dir data/ntu \\
            --use_bn_afterrnn --use_dropout --droprate 0.25 \\
            --use_weightdecay_nohiddenW --seed 1

    The Deep IndRNN networks (options not in the original)::

        python -m experiments.Indrnn_action_train --data_dir data/ntu \\
            --net dense --block_config 8,6,4 --growth_rate 16 \\
            --num_first 6 --dropout 0.2 --constrain_U --seed 1
        python -m experiments.Indrnn_action_train --data_dir data/ntu \\
            --net residual --num_blocks 5 --hidden_units 512 --constrain_U
    """
    if argv is None:
        argv = sys.argv[1:]
    args = make_main_parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    name = save_name(args)
    base = os.path.join(args.out, name)
    paths = {'train_csv': base + '_train.csv', 'eval_csv': base + '_eval.csv',
             'json': base + '.json', 'confusion_csv': base + '_confusion.csv',
             'confusion_png': base + '_confusion.png', 'argv': list(argv),
             'name': name}
    log = ProgressLog(args.log or base + '.log')
    return run_command(lambda: _run(args, log, paths),
                       data_errors=(ntu.NTUError,))


if __name__ == '__main__':
    raise SystemExit(main())
