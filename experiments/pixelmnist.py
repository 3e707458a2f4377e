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
:mod:`indrnn.deep`), and the training
script (:func:`main`, ``python -m experiments.pixelmnist``): the original
schedule (a report every 1000 batches with the training accuracy and two
passes over the test set, with batch statistics, the original
"accuracy", and with the stored averages, the original "bn_accuracy";
the learning rate x0.1 every 600k batches until it falls below 1e-8;
the parameters saved to ``MNIST_<model>.npz`` in the legacy format), with
checkpoints and exact resume (``--checkpoint_every``,
``--keep_checkpoints``, ``--resume``; see :mod:`indrnn.checkpoint`): a
checkpoint holds, besides the network and Adam's state, the batch order,
its position and random state, the test order, the permutation and the
reports so far, so a resumed run goes on bit for bit as the
uninterrupted one. The
data side (``Data_gen.py``, ``Data_gen_permute.py``) is
:mod:`indrnn.data.mnist`.

Examples
--------
>>> from experiments import pixelmnist
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
from indrnn.lasagne.layers import (BatchNormLayer, DenseLayer,
                                   DimshuffleLayer, InputLayer, LSTMLayer,
                                   RecurrentLayer, ReshapeLayer)
from indrnn.lasagne.nonlinearities import rectify, softmax
from indrnn import deep
from indrnn.data import mnist
from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from indrnn.checkpoint import CheckpointMismatchError
from indrnn.run import Constant, Run, StepDecay, command
from indrnn.run.flags import (DEEP_OPTIONS, NETS, add_deep_options,
                              add_run_flags, nonnegative_float32,
                              positive_float32, positive_int)
from indrnn.training import compile_test_fn, compile_train_fn, weight_decay

__all__ = [
    "OUTPUTCLASS",
    "SEQ_LEN",
    "FEATURE_SIZE",
    "make_parser",
    "network_globals",
    "build_lstm_network",
    "build_rnn_network",
    "build_res_rnn_network",
    "build_deep_network",
    "build_network",
    "LR_DECAY_STEPS",
    "make_run_parser",
    "NETS",
    "add_deep_options",
    "make_main_parser",
    "save_name",
    "compile_functions",
    "evaluate_test_set",
    "main",
]

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
    g = types.SimpleNamespace()
    g.batch_size = args.batch_size
    g.hidden_units = args.hidden_units
    g.outputclass = OUTPUTCLASS
    g.seq_len = seq_len
    g.feature_size = feature_size
    # |u|**seq_len stays within [1/MAG, MAG]: the recurrent weight clip
    # (U_bound) and the lower end of the last layer's initialisation.
    g.U_bound = pow(args.MAG, 1.0 / seq_len)
    g.U_lowbound = pow(1.0 / args.MAG, 1.0 / seq_len)
    g.act = rectify
    g.lr = args.lr
    g.num_layers = args.num_layers
    # One initializer instance shared by all input DenseLayers, as the
    # original's module global.
    g.ini_W = HeNormal(gain=np.sqrt(2) / 2.0)
    if args.use_bn_afterrnn:
        g.ini_W = Uniform(args.ini)
    return g


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
    net = {}
    net['input'] = InputLayer((g.batch_size, seq_len, feature_size))
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
    hidden_units = g.hidden_units
    net = {}
    net['input'] = InputLayer((g.batch_size, seq_len, feature_size))
    net['rnn'] = rnnmodel(
        net['input'], hidden_units, nonlinearity=g.act,
        W_in_to_hid=Normal(args.ini),
        # The original passes a callable that ignores the requested shape.
        W_hid_to_hid=lambda shape: np.identity(hidden_units,
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
    batch_size, hidden_units = g.batch_size, g.hidden_units
    num_layers = g.num_layers
    net = {}
    net['input'] = InputLayer((batch_size, seq_len, feature_size))
    net['rnn0'] = DimshuffleLayer(net['input'], (1, 0, 2))
    for l in range(1, num_layers + 1):
        # Recurrent weights start in [0, U_bound], except the last layer's,
        # which start at U_lowbound so long-term memory is kept there.
        hidini = 0
        if l == num_layers:
            hidini = g.U_lowbound

        net['rnn%d' % (l - 1)] = ReshapeLayer(
            net['rnn%d' % (l - 1)], (batch_size * seq_len, -1))
        # Uniform(range=(0, ini_b)) is the constant 0 for the default ini_b.
        net['rnn%d' % (l - 1)] = DenseLayer(
            net['rnn%d' % (l - 1)], hidden_units, W=g.ini_W,
            b=Uniform(range=(0, args.ini_b)), nonlinearity=None)
        net['rnn%d' % (l - 1)] = ReshapeLayer(
            net['rnn%d' % (l - 1)], (seq_len, batch_size, -1))

        net['rnn%d' % l] = net['rnn%d' % (l - 1)]
        if not args.use_bn_afterrnn:
            # Lasagne's BatchNormLayer: statistics over time and batch.
            net['rnn%d' % l] = BatchNormLayer(
                net['rnn%d' % l], axes=(0, 1),
                beta=Uniform(range=(0, args.ini_b)))

        net['rnn%d' % l] = rnnmodel(
            net['rnn%d' % l], hidden_units,
            W_hid_to_hid=Uniform(range=(hidini, g.U_bound)),
            nonlinearity=g.act, only_return_final=False,
            grad_clipping=args.gradclipvalue)
        if args.use_bn_afterrnn:
            net['rnn%d' % l] = BatchNormLayer(net['rnn%d' % l], axes=(0, 1))
        if l == num_layers:
            net['rnn%d' % num_layers] = lasagne.layers.SliceLayer(
                net['rnn%d' % num_layers], indices=-1, axis=0)

    net['out'] = DenseLayer(net['rnn%d' % num_layers], g.outputclass,
                            nonlinearity=softmax)
    return net


def build_deep_network(args, seq_len=SEQ_LEN, feature_size=FEATURE_SIZE):
    """Build the res-IndRNN or dense-IndRNN that ``--net`` selects.

    The input is made time-first as in :func:`build_res_rnn_network`, then
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
    l_in = InputLayer((g.batch_size, seq_len, feature_size))
    l = DimshuffleLayer(l_in, (1, 0, 2))
    net = deep.build_from_options(
        args, l, g.outputclass, bn='sequence', U_bound=g.U_bound,
        grad_clipping=args.gradclipvalue, last_step_only=True)
    net['input'], net['time_first'] = l_in, l
    return net


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
    if args.model == 'rnn':
        return build_rnn_network(args, RecurrentLayer, seq_len, feature_size)
    elif args.model == 'lstm':
        return build_lstm_network(args, LSTMLayer, seq_len, feature_size)
    elif args.model == 'indrnn':
        return build_res_rnn_network(args, IndRNNLayer_onlyrecurrent,
                                     seq_len, feature_size)
    raise ValueError("unknown --model %r (expected 'rnn', 'lstm' or "
                     "'indrnn')" % (args.model,))


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
    net = getattr(args, 'net', 'plain')
    return 'MNIST_' + args.model + ('' if net == 'plain' else '_' + net)


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
    floatX = pytensor.config.floatX
    X_sym = pt.tensor3('inputs', dtype=floatX)
    y_sym = pt.ivector('label')
    out = net['out']
    prediction = lasagne.layers.get_output(out, X_sym, deterministic=False)
    loss = pt.mean(lasagne.objectives.categorical_crossentropy(prediction,
                                                               y_sym))
    acc = pt.mean(lasagne.objectives.categorical_accuracy(
        prediction, y_sym, top_k=1), dtype=floatX)
    if args.use_weightdecay_nohiddenW:
        # Added term by term, as the original does.
        for term in weight_decay(out, args.decayrate):
            loss += term
    params = lasagne.layers.get_all_params(out, trainable=True)
    train_fn = compile_train_fn(
        [X_sym, y_sym], loss, params, outputs=[loss, acc],
        U_bound=U_bound if args.model == 'indrnn' else None, mode=mode)

    outputs = []
    for use_averages in (False, True):
        test_prediction = lasagne.layers.get_output(
            out, X_sym, deterministic=True,
            batch_norm_use_averages=use_averages)
        outputs.append(lasagne.objectives.categorical_crossentropy(
            test_prediction, y_sym))
        outputs.append(pt.cast(lasagne.objectives.categorical_accuracy(
            test_prediction, y_sym, top_k=1), floatX))
    eval_fn = compile_test_fn([X_sym, y_sym], outputs, mode=mode)
    return train_fn, eval_fn


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
    sums = np.zeros(4)
    count = 0
    batches = mnist.BackgroundBatches(iter(test_batches).__next__)
    try:
        for x, y, n_valid in batches:
            values = eval_fn(x, y)
            sums += [float(np.sum(v[:n_valid])) for v in values]
            count += n_valid
    finally:
        batches.close()
    loss, acc, bn_loss, bn_acc = sums / count
    return {'test_loss': loss, 'accuracy': acc,
            'bn_test_loss': bn_loss, 'bn_accuracy': bn_acc,
            'test_images': count}


def _load_data(args, log, permute_seed, permute=True):
    """The preprocessed data and the permutation (None unless permuted).

    With ``permute=False`` (a resumed run, whose permutation is the
    checkpoint's) the data are returned in pixel order and P is None.
    """
    data_dir = args.data_dir or mnist.default_data_dir()
    if args.download:
        mnist.download_mnist(os.path.join(data_dir, 'mnist'), print_fn=log)
    test_subset = args.test_subset if args.test_subset is not None \
        else args.subset
    # Read without the permutation first: its length is the data's.
    (X_train, y_train), (X_test, y_test) = mnist.load_dataset(
        data_dir, subset=args.subset, test_subset=test_subset)
    P = None
    if args.use_permute and permute:
        if args.permutation:
            P = mnist.load_permutation(args.permutation, X_train.shape[1])
            log('permutation from', args.permutation)
        else:
            P = mnist.make_permutation(X_train.shape[1], permute_seed)
            log('permutation seed', permute_seed)
        X_train, X_test = X_train[:, P, :], X_test[:, P, :]
    log('data from', mnist.find_mnist_dir(data_dir), 'train', X_train.shape,
        'test', X_test.shape)
    return (X_train, y_train), (X_test, y_test), P


#: Flags that must equal the checkpoint's on ``--resume``: those that shape
#: the network, the data or the training, the Deep IndRNN options
#: (``indrnn.run.flags.DEEP_OPTIONS``) included; checked before anything
#: is built. The seeds need not: parameters, permutation, batch order and
#: random states come from the checkpoint.
CONFIG_KEYS = ('model', 'num_layers', 'hidden_units', 'batch_size', 'lr',
               'ini', 'gradclipvalue', 'use_permute',
               'use_weightdecay_nohiddenW', 'decayrate', 'ini_b', 'MAG',
               'use_bn_afterrnn', 'eval_every', 'subset',
               'test_subset') + tuple(DEEP_OPTIONS)


def _run(args, argv):
    run = Run(args, argv, save_name(args), 'experiments.pixelmnist',
              CONFIG_KEYS)
    log = run.log
    permute_seed = run.seed if args.permute_seed is None \
        else args.permute_seed
    # A resumed run takes its permutation from the checkpoint.
    saved_P = run.resumed['state']['permutation'] if run.resumed else None
    (X_train, y_train), (X_test, y_test), P = _load_data(
        args, log, permute_seed, permute=not args.resume)
    seq_len, feature_size = X_train.shape[1], X_train.shape[2]
    if saved_P is not None:
        P = np.asarray(saved_P, dtype=np.int64)
        mnist.check_permutation(P, seq_len)
        if args.permutation and not np.array_equal(
                P, mnist.load_permutation(args.permutation, seq_len)):
            raise CheckpointMismatchError(
                'checkpoint %s was trained with another pixel order than '
                '--permutation %s' % (args.resume, args.permutation))
        X_train, X_test = X_train[:, P, :], X_test[:, P, :]
    permutation = None
    if P is not None:
        permutation = mnist.save_permutation(run.base + '_permutation.npy',
                                             P)
        log('saved permutation to', permutation)

    # The weights from RandomState(seed) (run.rng), as the adding script;
    # the batch order from its own state, so the batch thread never shares
    # a state with the main thread.
    data_rng = np.random.RandomState([run.seed, 1])
    g = network_globals(args, seq_len, feature_size)
    learn_net = build_network(args, seq_len, feature_size)
    log('output shape', lasagne.layers.get_output_shape(learn_net['out']))
    log('Compiling')
    train_fn, eval_fn = compile_functions(args, learn_net, g.U_bound)

    # Both draw their first shuffle here, in this order; the batch thread
    # starts with the first batch, after a resumed run's state is loaded.
    train_batches = mnist.ResumableBatches(mnist.TrainBatches(
        X_train, y_train, g.batch_size, data_rng))
    test_batches = mnist.TestBatches(X_test, y_test, g.batch_size,
                                     rng=data_rng)
    log('learning rate', np.float32(g.lr))
    try:
        return run.train(
            lambda batch, lr: train_fn(batch[0], batch[1], lr), train_batches,
            g.lr, learn_net['out'], train_fn, names=('loss', 'acc'),
            report_every=args.eval_every,
            evaluate=lambda state: evaluate_test_set(eval_fn, test_batches),
            # The original decays at every multiple of 600k batches; with
            # the default --eval_every the report falls on it.
            schedule=StepDecay(LR_DECAY_STEPS, stop_below=1e-8),
            state={'train': train_batches, 'test_order': test_batches,
                   'permutation': Constant(None if P is None
                                           else P.tolist())},
            best_metric='bn_accuracy', best_mode='max',
            curves=('train_acc', 'accuracy', 'bn_accuracy'),
            header={'permutation': permutation})
    finally:
        train_batches.close()


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

        python -m experiments.pixelmnist --use_bn_afterrnn
        python -m experiments.pixelmnist --model indrnn --num_layers 6 \\
            --hidden_units 128 --use_bn_afterrnn --use_permute

    The Deep IndRNN paper's networks (options not in the original)::

        python -m experiments.pixelmnist --net residual --num_blocks 5 \\
            --hidden_units 128 --u_lastlayer_ini
        python -m experiments.pixelmnist --net dense --block_config 8,6,4 \\
            --growth_rate 16 --num_first 6 --add_last_layer \\
            --u_lastlayer_ini --dropout 0.2 --dropout_sec 0.1 \\
            --dropout_trans 0.1 --dropout_first 0.2

    A quick run on part of the data::

        python -m experiments.pixelmnist --num_layers 2 --hidden_units 32 \\
            --subset 2000 --eval_every 100 --max_steps 1000 --seed 0
    """
    return command(make_main_parser, _run, argv,
                   data_errors=(mnist.MNISTError,))


if __name__ == '__main__':
    raise SystemExit(main())
