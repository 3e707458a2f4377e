"""Pixel MNIST (sequential and permuted MNIST): networks, flags, training.

Port of ``mnist/pixelmnist.py`` of the original IndRNN code (Theano +
Lasagne). This module holds the script's command-line flags
(:func:`make_parser`; :func:`make_run_parser` adds the run options and
:func:`make_main_parser` the Deep IndRNN ones), the
module globals the build functions read
(:func:`network_globals`) and the three build functions
(:func:`build_lstm_network`, :func:`build_rnn_network`,
:func:`build_res_rnn_network`), with :func:`build_network` choosing one of
them from ``--model`` as the original script does (and, beyond the
original, :func:`build_deep_network`, the res-IndRNN and dense-IndRNN of
the Deep IndRNN paper, chosen with ``--net residual|dense``, see
:mod:`indrnn.deep`), and the training script (:func:`main`,
``python -m indrnn.experiments.pixelmnist``): the original
schedule (a report every 1000 batches with the training accuracy and two
passes over the test set, with batch statistics, the original
"accuracy", and with the stored averages, the original "bn_accuracy";
the learning rate x0.1 every 600k batches until it falls below 1e-8;
the parameters saved to ``MNIST_<model>.npz`` in the legacy format), with
checkpoints and exact resume (``--checkpoint_every``,
``--keep_checkpoints``, ``--resume``; see :mod:`indrnn.run.checkpoint`): a
checkpoint holds, besides the network and Adam's state, the batch order,
its position and random state, the test order, the permutation and the
reports so far, so a resumed run goes on bit for bit as the
uninterrupted one. The
data side (``Data_gen.py``, ``Data_gen_permute.py``) is
:mod:`indrnn.data.mnist`.

Examples
--------
>>> from indrnn.experiments import pixelmnist
>>> args = pixelmnist.make_parser().parse_args(
...     ['--model', 'indrnn', '--num_layers', '2', '--hidden_units', '8',
...      '--batch_size', '4'])
>>> net = pixelmnist.build_network(args, seq_len=12)
>>> net['out'].output_shape
(4, 10)
"""
import argparse
import os
import types

import numpy as np
import pytensor
import pytensor.tensor as pt

import indrnn.lasagne as lasagne
from indrnn.lasagne.init import HeNormal, Normal, Uniform
from indrnn.lasagne.layers import (DenseLayer, DimshuffleLayer, InputLayer,
                                   LSTMLayer, RecurrentLayer)
from indrnn.lasagne.nonlinearities import rectify, softmax
from indrnn import deep
from indrnn.data import mnist
from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from indrnn.stacked import build_deep_classifier, build_plain_indrnn
from indrnn.run import Constant, Run, StepDecay, command
from indrnn.run.evaluation import (classifier_figures, compile_classifier,
                                   mean_over_batches)
from indrnn.run.flags import (DEEP_OPTIONS, NETS, add_deep_options,
                              add_run_flags, net_name, nonnegative_float32,
                              positive_float32, positive_int)

__all__ = ["OUTPUTCLASS", "SEQ_LEN", "FEATURE_SIZE", "make_parser",
           "network_globals", "build_lstm_network", "build_rnn_network",
           "build_res_rnn_network", "build_deep_network", "build_network",
           "LR_DECAY_STEPS", "make_run_parser", "NETS", "add_deep_options",
           "make_main_parser", "save_name", "compile_functions",
           "evaluate_test_set", "main"]

#: Number of classes (the original's module global ``outputclass``).
OUTPUTCLASS = 10
#: Sequence length of pixel MNIST. The original reads it from the first data
#: batch (``seq_len = x.shape[1]``): 28 * 28 pixels, one per time step.
SEQ_LEN = 784
#: Features per time step (``feature_size = x.shape[2]`` in the original).
FEATURE_SIZE = 1
#: Batches between learning-rate decays (the original's ``100*6000``).
LR_DECAY_STEPS = 600000


def make_parser():
    """Return the argument parser of the original ``pixelmnist.py``.

    Every flag keeps the original's name, type and default. Floats use
    ``type=np.float32`` as in the original, so a value given on the command
    line is a ``np.float32`` while a default stays a Python float.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> args = make_parser().parse_args([])
    >>> args.model, args.num_layers, args.hidden_units
    ('indrnn', 6, 128)
    """
    parser = argparse.ArgumentParser(
        description='IndRNN solving the pixel MNIST problem')
    parser.add_argument('--model', type=str, default='indrnn', help='models')
    parser.add_argument('--num_layers', type=positive_int, default=6)
    parser.add_argument('--hidden_units', type=positive_int, default=128)
    parser.add_argument('--batch_size', type=positive_int, default=32)
    parser.add_argument('--lr', type=positive_float32, default=2e-4, help='lr')
    parser.add_argument('--ini', type=nonnegative_float32, default=0.001, help='ini')
    parser.add_argument('--gradclipvalue', type=nonnegative_float32, default=10)
    parser.add_argument('--use_permute', action='store_true', default=False)
    parser.add_argument('--use_weightdecay_nohiddenW', action='store_true',
                        default=False)
    # The original's help text for --decayrate is 'lr' (a copy-paste).
    parser.add_argument('--decayrate', type=nonnegative_float32, default=5e-4,
                        help='lr')
    parser.add_argument('--ini_b', type=np.float32, default=0.0)
    parser.add_argument('--MAG', type=positive_int, default=2)
    parser.add_argument('--use_bn_afterrnn', action='store_true',
                        default=False)
    return parser


def make_run_parser():
    """Return the original flags and the run options.

    The run options are not in the original; their defaults give the
    original behaviour. They are kept out of :func:`make_parser`, which
    holds exactly the original's flags. :func:`main` parses with
    :func:`make_main_parser`, which adds the Deep IndRNN options.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> args = make_run_parser().parse_args(['--subset', '100'])
    >>> args.num_layers, args.subset, args.eval_every
    (6, 100, 1000)
    """
    parser = make_parser()
    extra = add_run_flags(
        parser, 'MNIST_<model>',
        data_dir='folder holding mnist/ (or the four MNIST files '
                 'themselves); default: $%s, else data' % mnist.ENV_VAR)
    extra.add_argument('--eval_every', type=positive_int, default=1000,
                       help='batches between reports and test-set '
                            'evaluations (original: 1000)')
    extra.add_argument('--subset', type=positive_int, default=None,
                       help='train and evaluate on the first N training '
                            'and test images only (quick runs)')
    extra.add_argument('--test_subset', type=positive_int, default=None,
                       help='evaluate on the first N test images (default: '
                            '--subset, else all 10000)')
    extra.add_argument('--download', action='store_true', default=False,
                       help='download missing MNIST files into '
                            '<data_dir>/mnist, checking their md5 sums')
    extra.add_argument('--permute_seed', type=int, default=None,
                       help='seed of the --use_permute pixel order '
                            '(default: --seed)')
    extra.add_argument('--permutation', type=str, default=None,
                       help='.npy file of a saved pixel order to use with '
                            '--use_permute (e.g. to evaluate a run again)')
    return parser


def make_main_parser():
    """Return the parser of :func:`main`: :func:`make_run_parser` plus the
    Deep IndRNN options of :func:`add_deep_options`.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> args = make_main_parser().parse_args([])
    >>> args.model, args.net
    ('indrnn', 'plain')
    """
    return add_deep_options(make_run_parser())


def network_globals(args, seq_len=SEQ_LEN, feature_size=FEATURE_SIZE):
    """Compute the module globals the original build functions read.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (see :func:`make_parser`).
    seq_len : int
        Time steps per sequence (784 for pixel MNIST).
    feature_size : int
        Features per time step (1 for pixel MNIST).

    Returns
    -------
    types.SimpleNamespace
        ``batch_size``, ``hidden_units``, ``outputclass``, ``seq_len``,
        ``feature_size``, ``U_bound``, ``U_lowbound``, ``act``, ``lr``,
        ``num_layers`` and ``ini_W``, named as in the original.

    Examples
    --------
    >>> g = network_globals(make_parser().parse_args([]))
    >>> round(g.U_bound ** 784, 6)
    2.0
    """
    # |u|**seq_len stays within [1/MAG, MAG]: the recurrent weight clip
    # (U_bound) and the lower end of the last layer's initialisation.
    U_bound, U_lowbound = deep.recurrent_bounds(seq_len, args.MAG)
    return types.SimpleNamespace(
        batch_size=args.batch_size, hidden_units=args.hidden_units,
        outputclass=OUTPUTCLASS, seq_len=seq_len, feature_size=feature_size,
        U_bound=U_bound, U_lowbound=U_lowbound, act=rectify, lr=args.lr,
        num_layers=args.num_layers,
        # One initializer instance shared by all input DenseLayers, as the
        # original's module global.
        ini_W=Uniform(args.ini) if args.use_bn_afterrnn
        else HeNormal(gain=np.sqrt(2) / 2.0))


def build_lstm_network(args, rnnmodel=LSTMLayer, seq_len=SEQ_LEN,
                       feature_size=FEATURE_SIZE):
    """Build the LSTM baseline (``--model lstm``).

    One ``rnnmodel`` layer (``LSTMLayer``) with forget-gate bias 1 and no
    peepholes, returning its last step, then a softmax ``DenseLayer``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (see :func:`make_parser`).
    rnnmodel : class
        The recurrent layer class; the original passes ``LSTMLayer``.
    seq_len, feature_size : int
        Input sizes (the original's globals read from the data).

    Returns
    -------
    dict
        The layers, keyed as in the original; ``net['out']`` is the output.

    Examples
    --------
    >>> args = make_parser().parse_args(
    ...     ['--model', 'lstm', '--hidden_units', '8', '--batch_size', '4'])
    >>> build_lstm_network(args, seq_len=12)['out'].output_shape
    (4, 10)
    """
    g = network_globals(args, seq_len, feature_size)
    net = {'input': InputLayer((g.batch_size, seq_len, feature_size))}
    net['rnn'] = rnnmodel(
        net['input'], g.hidden_units,
        forgetgate=lasagne.layers.Gate(b=lasagne.init.Constant(1.)),
        peepholes=False, only_return_final=True,
        grad_clipping=args.gradclipvalue)
    net['out'] = DenseLayer(net['rnn'], g.outputclass, nonlinearity=softmax)
    return net


def build_rnn_network(args, rnnmodel=RecurrentLayer, seq_len=SEQ_LEN,
                      feature_size=FEATURE_SIZE):
    """Build the plain-RNN baseline (``--model rnn``, IRNN-style).

    One ``rnnmodel`` layer (``RecurrentLayer``) with ReLU, input weights
    ``Normal(--ini)`` and the identity as recurrent weights, returning its
    last step, then a softmax ``DenseLayer``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (see :func:`make_parser`).
    rnnmodel : class
        The recurrent layer class; the original passes ``RecurrentLayer``.
    seq_len, feature_size : int
        Input sizes (the original's globals read from the data).

    Returns
    -------
    dict
        The layers, keyed as in the original; ``net['out']`` is the output.

    Examples
    --------
    >>> args = make_parser().parse_args(
    ...     ['--model', 'rnn', '--hidden_units', '8', '--batch_size', '4'])
    >>> net = build_rnn_network(args, seq_len=12)
    >>> float(net['rnn'].W_hid_to_hid.get_value().trace())
    8.0
    """
    g = network_globals(args, seq_len, feature_size)
    net = {'input': InputLayer((g.batch_size, seq_len, feature_size))}
    net['rnn'] = rnnmodel(
        net['input'], g.hidden_units, nonlinearity=g.act,
        W_in_to_hid=Normal(args.ini),
        # The original passes a callable that ignores the requested shape.
        W_hid_to_hid=lambda shape: np.identity(g.hidden_units,
                                               dtype=np.float32),
        only_return_final=True, grad_clipping=args.gradclipvalue)
    net['out'] = DenseLayer(net['rnn'], g.outputclass, nonlinearity=softmax)
    return net


def build_res_rnn_network(args, rnnmodel=IndRNNLayer_onlyrecurrent,
                          seq_len=SEQ_LEN, feature_size=FEATURE_SIZE):
    """Build the stacked IndRNN (``--model indrnn``).

    The input is made time-first, then ``--num_layers`` times:
    Reshape to (batch*time, features) -> ``DenseLayer`` (no nonlinearity) ->
    Reshape to (time, batch, units) -> ``BatchNormLayer(axes=(0, 1))`` ->
    ``rnnmodel`` (``IndRNNLayer_onlyrecurrent``, time-first). With
    ``--use_bn_afterrnn`` the BatchNorm follows the recurrent layer instead.
    The last time step is sliced out and fed to a softmax ``DenseLayer``.
    The stack is :func:`indrnn.stacked.build_plain_indrnn`, shared with the
    action-recognition script.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (see :func:`make_parser`).
    rnnmodel : class
        The recurrent layer class; the original passes
        ``IndRNNLayer_onlyrecurrent``.
    seq_len, feature_size : int
        Input sizes (the original's globals read from the data).

    Returns
    -------
    dict
        The layers, keyed as in the original (``'rnn%d'`` is reassigned as
        the stack grows, so it names the last layer of each block);
        ``net['out']`` is the output.

    Examples
    --------
    >>> args = make_parser().parse_args(
    ...     ['--num_layers', '2', '--hidden_units', '8', '--batch_size', '4'])
    >>> net = build_res_rnn_network(args, seq_len=12)
    >>> net['rnn2'].output_shape
    (4, 8)
    """
    g = network_globals(args, seq_len, feature_size)
    net = {'input': InputLayer((g.batch_size, seq_len, feature_size))}
    # Uniform(range=(0, ini_b)) is the constant 0 for the default ini_b.
    return build_plain_indrnn(
        net, DimshuffleLayer(net['input'], (1, 0, 2)), g, args.gradclipvalue,
        b=Uniform(range=(0, args.ini_b)), bn_after=args.use_bn_afterrnn,
        rnnmodel=rnnmodel)


def build_deep_network(args, seq_len=SEQ_LEN, feature_size=FEATURE_SIZE):
    """Build the res-IndRNN or dense-IndRNN that ``--net`` selects.

    The input is made time-first as in :func:`build_res_rnn_network`, then
    (:func:`indrnn.stacked.build_deep_classifier`)
    :func:`indrnn.deep.build_residual_indrnn` (``--num_blocks`` blocks of
    width ``--hidden_units``) or :func:`indrnn.deep.build_dense_indrnn`
    runs with sequence-wise batch normalisation, recurrent weights in
    ``[0, U_bound]`` (``U_bound = MAG ** (1 / seq_len)``, clipped during
    training as in the plain network) and ``--gradclipvalue``; the
    softmax classifier reads the last step. ``--num_layers``, ``--ini``,
    ``--ini_b`` and ``--use_bn_afterrnn`` belong to the plain network and
    are not used (``--bn_location`` places the batch normalisation).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (see :func:`make_main_parser`).
    seq_len, feature_size : int
        Input sizes.

    Returns
    -------
    dict
        The builder's layers plus ``'input'`` and ``'time_first'``;
        ``net['out']`` is the output.

    Examples
    --------
    >>> args = make_main_parser().parse_args(
    ...     ['--net', 'residual', '--num_blocks', '1', '--hidden_units', '8',
    ...      '--batch_size', '4'])
    >>> build_deep_network(args, seq_len=12)['out'].output_shape
    (4, 10)
    """
    if args.model != 'indrnn':
        raise ValueError("--net %s needs --model indrnn, got %r"
                         % (args.net, args.model))
    g = network_globals(args, seq_len, feature_size)
    net = {'input': InputLayer((g.batch_size, seq_len, feature_size))}
    return build_deep_classifier(args, net, DimshuffleLayer(
        net['input'], (1, 0, 2)), g, args.gradclipvalue)


def build_network(args, seq_len=SEQ_LEN, feature_size=FEATURE_SIZE):
    """Build the network ``--model`` selects, as the original script does.

    With ``--net residual`` or ``--net dense`` (options of
    :func:`make_main_parser`, not in the original) it is
    :func:`build_deep_network` instead.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (see :func:`make_parser`).
    seq_len, feature_size : int
        Input sizes (the original's globals read from the data).

    Returns
    -------
    dict
        The ``net`` dict of the chosen build function.

    Raises
    ------
    ValueError
        For a ``--model`` other than ``rnn``, ``lstm`` or ``indrnn`` (the
        original then failed later with a NameError on ``learn_net``).

    Examples
    --------
    >>> args = make_parser().parse_args(['--model', 'lstm',
    ...                                  '--hidden_units', '8'])
    >>> sorted(build_network(args, seq_len=12))
    ['input', 'out', 'rnn']
    """
    if getattr(args, 'net', 'plain') != 'plain':
        return build_deep_network(args, seq_len, feature_size)
    builders = {'rnn': build_rnn_network, 'lstm': build_lstm_network,
                'indrnn': build_res_rnn_network}
    if args.model not in builders:
        raise ValueError("unknown --model %r (expected 'rnn', 'lstm' or "
                         "'indrnn')" % (args.model,))
    return builders[args.model](args, seq_len=seq_len,
                                feature_size=feature_size)


def save_name(args):
    """The original's result name, ``'MNIST_' + args.model``.

    A deep network (``--net residual|dense``) appends ``'_' + args.net``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags.

    Returns
    -------
    str

    Examples
    --------
    >>> save_name(make_parser().parse_args(['--model', 'lstm']))
    'MNIST_lstm'
    """
    return net_name('MNIST_' + args.model, args)


def compile_functions(args, net, U_bound, mode=None):
    """Compile the training and evaluation functions of the original.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (``--model``, ``--use_weightdecay_nohiddenW``,
        ``--decayrate``).
    net : dict
        The network from :func:`build_network`.
    U_bound : float
        Bound of the recurrent weights (clipped before each step for
        ``--model indrnn``, as the original).
    mode : str or Mode, optional
        PyTensor compilation mode.

    Returns
    -------
    train_fn : callable
        ``train_fn(x, y, learning_rate) -> [loss, acc]``: the batch's mean
        cross-entropy (with the weight decay, if any) and accuracy; updates
        the parameters with Adam and the BatchNorm averages.
    eval_fn : callable
        ``eval_fn(x, y) -> [loss, correct, bn_loss, bn_correct]``,
        per-example cross-entropy and correctness (0/1), first with batch
        statistics in BatchNorm (the original ``test_fn``), then with the
        stored averages (the original ``bn_test_fn``). Per-example values
        let a padded last batch be counted exactly.
    """
    X_sym = pt.tensor3('inputs', dtype=pytensor.config.floatX)
    y_sym = pt.ivector('label')
    # One function for both passes: the recurrence before the BatchNorm
    # (--use_bn_afterrnn) is computed once.
    return compile_classifier(
        net['out'], X_sym, y_sym,
        lambda prediction: classifier_figures(prediction, y_sym, True),
        decay=args.decayrate if args.use_weightdecay_nohiddenW else None,
        U_bound=U_bound if args.model == 'indrnn' else None, joint=True,
        mode=mode)


def evaluate_test_set(eval_fn, test_batches):
    """One pass over the test set, every image counted once.

    Parameters
    ----------
    eval_fn : callable
        From :func:`compile_functions`.
    test_batches : indrnn.data.mnist.TestBatches
        The test batches; prepared in a background thread while the
        previous batch is evaluated, as in the original.

    Returns
    -------
    dict
        ``test_loss`` and ``accuracy`` (batch statistics, the original's
        "accuracy"), ``bn_test_loss`` and ``bn_accuracy`` (stored
        averages, the original's "bn_accuracy"), each the mean over all
        test images, and ``test_images``, how many were counted.
    """
    with mnist.BackgroundBatches(iter(test_batches).__next__) as batches:
        figures = mean_over_batches(
            eval_fn, batches, ('test_loss', 'accuracy', 'bn_test_loss',
                               'bn_accuracy'), padded=True)
    return dict(figures, test_images=len(test_batches.y))


def _load_data(args, run):
    """The preprocessed data, permuted as the run's pixel order, and the
    order (None unless permuted): a resumed run's is its checkpoint's."""
    data_dir = args.data_dir or mnist.default_data_dir()
    if args.download:
        mnist.download_mnist(os.path.join(data_dir, 'mnist'),
                             print_fn=run.log)
    test_subset = args.subset if args.test_subset is None else args.test_subset
    # Read without the permutation first: its length is the data's.
    (X_train, y_train), (X_test, y_test) = mnist.load_dataset(
        data_dir, subset=args.subset, test_subset=test_subset)
    P = mnist.run_permutation(
        X_train.shape[1], args.use_permute,
        run.seed if args.permute_seed is None else args.permute_seed,
        args.permutation, run.resumed and run.resumed['state']['permutation'],
        args.resume, log=run.log)
    if P is not None:
        X_train, X_test = X_train[:, P, :], X_test[:, P, :]
    run.log('data from', mnist.find_mnist_dir(data_dir), 'train',
            X_train.shape, 'test', X_test.shape)
    return (X_train, y_train), (X_test, y_test), P


#: Flags that must equal the checkpoint's on ``--resume``: those that shape
#: the network, the data or the training (every flag of the original and
#: the Deep IndRNN options, ``indrnn.run.flags.DEEP_OPTIONS``), checked
#: before anything is built. The seeds need not: parameters, permutation,
#: batch order and random states come from the checkpoint.
CONFIG_KEYS = tuple(vars(make_parser().parse_args([]))) + (
    'eval_every', 'subset', 'test_subset') + tuple(DEEP_OPTIONS)


def _run(args, argv):
    run = Run(args, argv, save_name(args), 'indrnn.experiments.pixelmnist',
              CONFIG_KEYS)
    (X_train, y_train), (X_test, y_test), P = _load_data(args, run)
    permutation = None
    if P is not None:
        permutation = mnist.save_permutation(run.base + '_permutation.npy',
                                             P)
        run.log('saved permutation to', permutation)

    # The weights from RandomState(seed) (run.rng), as the adding script;
    # the batch order from its own state, so the batch thread never shares
    # a state with the main thread.
    data_rng = np.random.RandomState([run.seed, 1])
    g = network_globals(args, *X_train.shape[1:])
    learn_net = build_network(args, *X_train.shape[1:])
    run.log('output shape', learn_net['out'].output_shape)
    run.log('Compiling')
    train_fn, eval_fn = compile_functions(args, learn_net, g.U_bound)

    # Both draw their first shuffle here, in this order; the batch thread
    # starts with the first batch, after a resumed run's state is loaded.
    with mnist.ResumableBatches(mnist.TrainBatches(
            X_train, y_train, g.batch_size, data_rng)) as train_batches:
        test_batches = mnist.TestBatches(X_test, y_test, g.batch_size,
                                         rng=data_rng)
        run.log('learning rate', np.float32(g.lr))
        return run.train(
            lambda batch, lr: train_fn(batch[0], batch[1], lr), train_batches,
            g.lr, learn_net['out'], train_fn, names=('loss', 'acc'),
            report_every=args.eval_every, best_mode='max',
            evaluate=lambda state: evaluate_test_set(eval_fn, test_batches),
            # The original decays at every multiple of 600k batches; with
            # the default --eval_every the report falls on it.
            schedule=StepDecay(LR_DECAY_STEPS, stop_below=1e-8),
            state={'train': train_batches, 'test_order': test_batches,
                   'permutation': Constant(None if P is None
                                           else P.tolist())},
            best_metric='bn_accuracy', header={'permutation': permutation},
            curves=('train_acc', 'accuracy', 'bn_accuracy'))


def main(argv=None):
    """Run pixel MNIST (or permuted MNIST) from the command line.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    int
        0 on success, 1 if the loss became NaN or Inf or a checkpoint could
        not be read or written, 2 if the MNIST files are missing or corrupt
        (nothing is compiled or trained then), 128 + the signal number if
        stopped by SIGINT or SIGTERM.

    Examples
    --------
    The paper's runs (Table 1), with the original command lines::

        python -m indrnn.experiments.pixelmnist --use_bn_afterrnn
        python -m indrnn.experiments.pixelmnist --model indrnn \\
            --num_layers 6 --hidden_units 128 --use_bn_afterrnn --use_permute

    The Deep IndRNN paper's networks (options not in the original)::

        python -m indrnn.experiments.pixelmnist --net residual \\
            --num_blocks 5 --hidden_units 128 --u_lastlayer_ini
        python -m indrnn.experiments.pixelmnist --net dense \\
            --block_config 8,6,4 --growth_rate 16 --num_first 6 \\
            --add_last_layer --u_lastlayer_ini --dropout 0.2 \\
            --dropout_sec 0.1 --dropout_trans 0.1 --dropout_first 0.2

    A quick run on part of the data::

        python -m indrnn.experiments.pixelmnist --num_layers 2 \\
            --hidden_units 32 --subset 2000 --eval_every 100 \\
            --max_steps 1000 --seed 0
    """
    return command(make_main_parser, _run, argv,
                   data_errors=(mnist.MNISTError,))


if __name__ == '__main__':
    raise SystemExit(main())
