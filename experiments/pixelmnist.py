"""Pixel MNIST (sequential MNIST): network builder and flags.

Port of ``mnist/pixelmnist.py`` of the original IndRNN code (Theano +
Lasagne). This module holds the script's command-line flags
(:func:`make_parser`), the module globals the build functions read
(:func:`network_globals`) and the three build functions
(:func:`build_lstm_network`, :func:`build_rnn_network`,
:func:`build_res_rnn_network`), with :func:`build_network` choosing one of
them from ``--model`` as the original script does.

The training script is ported in a later issue.

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
import types

import numpy as np

import indrnn.lasagne as lasagne
from indrnn.lasagne.init import HeNormal, Normal, Uniform
from indrnn.lasagne.layers import (BatchNormLayer, DenseLayer,
                                   DimshuffleLayer, InputLayer, LSTMLayer,
                                   RecurrentLayer, ReshapeLayer)
from indrnn.lasagne.nonlinearities import rectify, softmax
from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent

__all__ = [
    "OUTPUTCLASS",
    "SEQ_LEN",
    "FEATURE_SIZE",
    "make_parser",
    "network_globals",
    "build_lstm_network",
    "build_rnn_network",
    "build_res_rnn_network",
    "build_network",
]

#: Number of classes (the original's module global ``outputclass``).
OUTPUTCLASS = 10
#: Sequence length of pixel MNIST. The original reads it from the first data
#: batch (``seq_len = x.shape[1]``): 28 * 28 pixels, one per time step.
SEQ_LEN = 784
#: Features per time step (``feature_size = x.shape[2]`` in the original).
FEATURE_SIZE = 1


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
    parser.add_argument('--num_layers', type=int, default=6)
    parser.add_argument('--hidden_units', type=int, default=128)
    parser.add_argument('--batch_size', type=int, default=32)
    parser.add_argument('--lr', type=np.float32, default=2e-4, help='lr')
    parser.add_argument('--ini', type=np.float32, default=0.001, help='ini')
    parser.add_argument('--gradclipvalue', type=np.float32, default=10)
    parser.add_argument('--use_permute', action='store_true', default=False)
    parser.add_argument('--use_weightdecay_nohiddenW', action='store_true',
                        default=False)
    # The original's help text for --decayrate is 'lr' (a copy-paste).
    parser.add_argument('--decayrate', type=np.float32, default=5e-4,
                        help='lr')
    parser.add_argument('--ini_b', type=np.float32, default=0.0)
    parser.add_argument('--MAG', type=int, default=2)
    parser.add_argument('--use_bn_afterrnn', action='store_true',
                        default=False)
    return parser


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


def build_network(args, seq_len=SEQ_LEN, feature_size=FEATURE_SIZE):
    """Build the network ``--model`` selects, as the original script does.

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
    if args.model == 'rnn':
        return build_rnn_network(args, RecurrentLayer, seq_len, feature_size)
    elif args.model == 'lstm':
        return build_lstm_network(args, LSTMLayer, seq_len, feature_size)
    elif args.model == 'indrnn':
        return build_res_rnn_network(args, IndRNNLayer_onlyrecurrent,
                                     seq_len, feature_size)
    raise ValueError("unknown --model %r (expected 'rnn', 'lstm' or "
                     "'indrnn')" % (args.model,))
