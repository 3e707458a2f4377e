"""Skeleton-based action recognition on NTU RGB+D: the training script.

Port of ``action recognition/Indrnn_action_train.py`` of the original
IndRNN code (Theano + Lasagne), with the data readers
``data_reader_numpy_witheval.py`` and ``data_reader_numpy_test.py`` in
:mod:`indrnn.data.ntu`. The network and the flags are
:mod:`indrnn.experiments.Indrnn_action_network` and
:mod:`indrnn.experiments.opts`.

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

Extras (not in the original): the run flags of
:func:`indrnn.run.flags.add_run_flags` (``--seed``, ``--max_steps``,
``--data_dir``, ``--out``, ``--log``, checkpoints and ``--resume``),
``--test_crops``, ``--net residual|dense`` with the Deep IndRNN options
(:func:`make_main_parser`; the files are then named
``action_indrnn_<net>``); the run engine's reports (:mod:`indrnn.run`:
``action_indrnn.csv`` of the training reports, ``action_indrnn_evals.csv``
of the evaluations, ``action_indrnn.json`` with both and the test figures,
the learning curve ``action_indrnn.png``), and the confusion matrix of the
test (BatchNorm averages, per sample) as CSV and, when matplotlib is
installed, as a PNG.

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
    python -m indrnn.experiments.Indrnn_action_train --data_dir data/ntu \\
        --use_bn_afterrnn --use_dropout --droprate 0.25 \\
        --use_weightdecay_nohiddenW

>>> args = make_parser().parse_args(['--test_CV'])
>>> dataset_names(args), args.batch_size, args.eval_fold
(('train_CV_ntus', 'test_CV_ntus'), 128, 5)
"""
import argparse
import math
import os

import numpy as np
import pytensor
import pytensor.tensor as pt

import indrnn.lasagne as lasagne
from indrnn.data import ntu
from indrnn.run import Constant, PlateauDecay, Run, command
from indrnn.run.evaluation import (classifier_figures, compile_classifier,
                                   confusion_matrix, mean_over_batches,
                                   save_confusion_png, write_confusion)
from indrnn.run.flags import DEEP_OPTIONS, add_run_flags, net_name

from . import Indrnn_action_network as action_network
from . import opts

__all__ = ["SAVE_NAME", "DISP_FREQ", "PATIENCE_THRE", "TEST_NO", "EVENTS",
           "CONFIG_KEYS", "make_parser", "make_main_parser", "save_name",
           "dataset_names", "compile_functions", "epoch_schedule",
           "average_over_crops", "confusion_matrix",
           "save_confusion_png", "main"]

#: Base name of the saved parameters, as the original.
SAVE_NAME = "action_indrnn"
#: Steps between reports (the original's ``dispFreq``).
DISP_FREQ = 20
#: Evaluations without improvement tolerated (``patienceThre``): the
#: learning rate drops at the first one after more than this many.
PATIENCE_THRE = 10
#: Random crops per test sample (``test_no``).
TEST_NO = 10
#: The evaluations' ``event`` column: :meth:`PlateauDecay.update
#: <indrnn.run.schedules.PlateauDecay.update>`'s outcome in this script's
#: earlier words.
EVENTS = {'improved': 'best', 'waiting': 'wait', 'decayed': 'decay'}
#: Flags that must equal the checkpoint's on ``--resume``, checked before
#: anything is built: every flag of the original and the Deep IndRNN
#: options. Most of those change the parameters' shapes, which would be
#: refused anyway but naming a parameter; some (the dropout rates) change
#: nothing that is checked.
CONFIG_KEYS = tuple(vars(action_network.make_parser().parse_args([]))) \
    + tuple(DEEP_OPTIONS)


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
    extra = add_run_flags(
        parser, SAVE_NAME, data_dir='folder of train_ntus / test_ntus (or '
        'the _CV_ sets) as .npy, .h5 or .hdf5 (default: the current '
        'folder, as the original)')
    parser.set_defaults(data_dir='.')
    extra.add_argument('--test_crops', type=int, default=TEST_NO,
                       help='random crops averaged per test sample '
                            '(original: 10)')
    return parser


def make_main_parser():
    """Return the parser of :func:`main`: :func:`make_parser` plus the Deep
    IndRNN options (:func:`indrnn.experiments.opts.deep_opts`, not in the
    original).

    ``--net plain`` (the default) is the original network; ``--net
    residual`` and ``--net dense`` build the res-IndRNN and dense-IndRNN
    of :func:`indrnn.experiments.Indrnn_action_network.build_deep_network`.

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
    return net_name(SAVE_NAME, args)


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
        From
        :func:`indrnn.experiments.Indrnn_action_network.build_indrnn_network`.
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
    # With the batch's statistics, then with BatchNorm's averages.
    return compile_classifier(
        net['out'], X_sym, y_sym,
        lambda prediction: [classifier_figures(prediction, y_sym)[1],
                            prediction],
        decay=args.decayrate if args.use_weightdecay_nohiddenW else None,
        U_bound=action_network.network_globals(args).U_bound
        if args.constrain_U else None, clip_after_step=True, mode=mode)


def epoch_schedule(args):
    """The original's model selection and decay after every epoch.

    When ``bn_evalacc`` beats the best so far (at first 0) the parameters
    are kept and the patience count restarts; otherwise, if the count is
    already above :data:`PATIENCE_THRE`, the best parameters are restored,
    the learning rate divided by 10 and the count restarted, and the run
    stops once the rate falls below ``--end_rate``; otherwise the count
    goes up.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    indrnn.run.schedules.PlateauDecay

    Examples
    --------
    >>> schedule = epoch_schedule(make_parser().parse_args(['--lr', '1']))
    >>> [EVENTS[schedule.update(acc, lambda: 'params', print)]
    ...  for acc in [0.5] + [0.4] * 12]   # doctest: +ELLIPSIS
    params
    ['best', 'wait', ..., 'wait', 'decay']
    >>> bool(schedule.learning_rate == np.float32(0.1))
    True
    """
    return PlateauDecay(args.lr, patience=PATIENCE_THRE, decay=0.1,
                        initial_best=0.0, stop_below=args.end_rate,
                        mode='max')


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


def _data_rngs(seed):
    """Independent random states for the split and the three handlers."""
    children = np.random.SeedSequence(seed).spawn(4)
    return [np.random.RandomState(c.generate_state(1)[0]) for c in children]


def _run(args, argv):
    run = Run(args, argv, save_name(args),
              'indrnn.experiments.Indrnn_action_train', CONFIG_KEYS)
    log, batch_size, seq_len = run.log, args.batch_size, args.seq_len
    train_data, test_data = ntu.open_train_test(
        *[os.path.join(args.data_dir, name) for name in dataset_names(args)],
        num_classes=action_network.OUTPUTCLASS)
    with train_data, test_data:
        for ds in (train_data, test_data):
            log('data', ds.path, len(ds), 'sequences, frames of shape',
                ds.frame_shape)
        indim = train_data.frame_shape[0]
        if indim != action_network.INDIM:
            log('note: %d joints per frame (the original has %d)'
                % (indim, action_network.INDIM))
        split_rng, train_rng, eval_rng, test_rng = _data_rngs(run.seed)
        train_idx, eval_idx = ntu.split_train_eval(len(train_data), split_rng)
        log('Dataset train size, test size', len(train_idx), len(eval_idx))
        if len(eval_idx) == 0:
            raise ValueError('%s has %d sequences: too few to hold 5 %% out'
                             % (train_data.path, len(train_data)))
        X_sym = pt.tensor4('inputs', dtype=pytensor.config.floatX)
        y_sym = pt.ivector('label')
        out = action_network.build_network(args, X_sym, indim=indim)['out']
        log('Compiling')
        train_fn, test_fn, bn_test_fn = compile_functions(
            args, {'out': out}, X_sym, y_sym)
        steps_per_epoch = int(math.ceil(len(train_idx) / float(batch_size)))
        eval_batches = int(math.ceil(len(eval_idx) / float(batch_size))) \
            * args.eval_fold
        log('batches per epoch', steps_per_epoch)
        schedule = epoch_schedule(args)
        evals = Constant([])    # the rows of the evaluations so far

        def after_step(loop):
            # The original's evaluation at the end of every epoch.
            if loop.step % steps_per_epoch:
                return
            epoch, lr = loop.step // steps_per_epoch, loop.learning_rate
            # Each function on its own eval_batches batches, in turn.
            accs = [mean_over_batches(
                fn, (dh_eval.get_batch() for _ in range(eval_batches)),
                ['acc'])['acc'] for fn in (test_fn, bn_test_fn)]
            log('epoch', epoch, 'step', loop.step, 'evalacc,bn_evalacc',
                *['%.6g' % acc for acc in accs])
            event = EVENTS[schedule.update(
                accs[1], lambda: lasagne.layers.get_all_param_values(out),
                lambda values: lasagne.layers.set_all_param_values(out,
                                                                   values))]
            loop.learning_rate = new_lr = schedule.learning_rate
            if event == 'decay' and schedule.best_params is not None:
                log('learning rate', lr, '-> %s; restored the parameters of '
                    'bn_evalacc %.6g' % (new_lr, schedule.best))
            elif event == 'decay':
                log('learning rate', lr, '-> %s; no evaluation above 0 yet, '
                    'nothing to restore' % new_lr)
            evals.value.append({
                'epoch': epoch, 'step': loop.step, 'learning_rate': float(lr),
                'evalacc': accs[0], 'bn_evalacc': accs[1],
                'best_bn_evalacc': schedule.best, 'event': event,
                'next_learning_rate': float(new_lr), 'time': loop.elapsed})
            if schedule.stop:
                log('learning rate below end_rate %s: stopping'
                    % args.end_rate)
                loop.stop = True

        with ntu.ResumableBatchHandler(
                train_data, train_idx, batch_size, seq_len, train_rng,
                rotation=args.rotation_aug) as dh_train, \
                ntu.ResumableBatchHandler(train_data, eval_idx, batch_size,
                                          seq_len, eval_rng) as dh_eval:
            loop = run.train(
                lambda batch, lr: train_fn(batch[0], batch[1], lr),
                dh_train.get_batch, args.lr, out, train_fn,
                names=('loss', 'acc'), report_every=DISP_FREQ,
                state={'schedule': schedule, 'train_batches': dh_train,
                       'eval_batches': dh_eval, 'evals': evals},
                step_hook=after_step, curves=('train_acc',),
                tables={'evals': lambda: evals.value},
                header={'train_size': len(train_idx),
                        'eval_size': len(eval_idx),
                        'test_size': len(test_data)})
        if loop.stop_reason != 'diverged':
            run.report.add(test=_final_test(args, run, test_fn, bn_test_fn,
                                            test_data, test_rng))
        return loop


def _final_test(args, run, test_fn, bn_test_fn, test_data, rng):
    results, predictions = {}, {}
    labels, classes = test_data.labels, action_network.OUTPUTCLASS
    num_batches = int(math.ceil(len(test_data) / float(args.batch_size))) \
        * args.test_crops
    with ntu.BatchHandler(test_data, np.arange(len(test_data)),
                          args.batch_size, args.seq_len, rng,
                          with_index=True) as handler:
        for key, fn in (('testacc', test_fn), ('bn_testacc', bn_test_fn)):
            batch_acc, scores = average_over_crops(
                fn, handler.get_batch, len(test_data), num_batches, classes)
            predictions[key] = np.argmax(scores, axis=-1)
            sample_acc = float(np.mean(np.equal(predictions[key], labels)))
            run.log(key, '%.6g' % batch_acc, '%.6g' % sample_acc)
            results[key] = {'per_batch': batch_acc, 'per_sample': sample_acc}
    # The confusion matrix of the usual inference: BatchNorm averages.
    title = 'bn_testacc per sample %.4f (%d sequences)' % (
        results['bn_testacc']['per_sample'], len(labels))
    return dict(results, confusion_matrix=write_confusion(
        labels, predictions['bn_testacc'], classes, run.base + '_confusion',
        title, run.log))


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

        python -m indrnn.experiments.Indrnn_action_train --data_dir data/ntu \\
            --use_bn_afterrnn --use_dropout --droprate 0.25 \\
            --use_weightdecay_nohiddenW --seed 1

    The Deep IndRNN networks (options not in the original)::

        python -m indrnn.experiments.Indrnn_action_train --data_dir data/ntu \\
            --net dense --block_config 8,6,4 --growth_rate 16 \\
            --num_first 6 --dropout 0.2 --constrain_U --seed 1
        python -m indrnn.experiments.Indrnn_action_train --data_dir data/ntu \\
            --net residual --num_blocks 5 --hidden_units 512 --constrain_U
    """
    return command(make_main_parser, _run, argv,
                   data_errors=(ntu.NTUError,))


if __name__ == '__main__':
    raise SystemExit(main())
