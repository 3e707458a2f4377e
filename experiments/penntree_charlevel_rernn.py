"""Character-level Penn Treebank language model: network builder and flags.

Port of ``cPTB/penntree_charlevel_rernn.py`` of the original IndRNN code
(Theano + Lasagne). This module holds the script's command-line flags
(:func:`make_parser`), the module globals the build function reads
(:func:`network_globals`), the build function (:func:`build_rnn_network`)
and the training script (:func:`main`, run with
``python -m indrnn.experiments.penntree_charlevel_rernn``); the training
itself, shared with the word-level script, is in
:mod:`indrnn.experiments.ptb_lm`.

``--unit_factor`` works here, unlike in the original (see
:func:`network_globals`).

Not in the original: ``--net residual`` and ``--net dense`` (options of
:func:`add_deep_lm_options`) select the res-IndRNN and dense-IndRNN of the
Deep IndRNN paper as language models (:func:`build_deep_network`, shared
with the word-level script); the default ``--net plain`` is the original
network.

The network carries the hidden state across batches: the last state of every
IndRNN layer is concatenated into ``net['hid_out']`` and fed back through
``hid_init_sym`` (one matrix of ``sum_units`` columns; layer ``l`` reads the
columns ``acc_units[l-1]:acc_units[l]``).

Examples
--------
>>> import pytensor.tensor as pt
>>> from indrnn.experiments import penntree_charlevel_rernn as cptb
>>> args = cptb.make_parser().parse_args(
...     ['--num_layers', '2', '--hidden_units', '8', '--batch_size', '4',
...      '--seq_len', '5'])
>>> net = cptb.build_rnn_network(args, cptb.IndRNNLayer_onlyrecurrent,
...                              pt.imatrix('inputs'), pt.matrix(),
...                              seq_len1=1000)
>>> net['out'].output_shape, net['hid_out'].output_shape
((20, 50), (4, 16))
"""
import argparse
import itertools
import types

import numpy as np

import indrnn.lasagne as lasagne
from indrnn.run.flags import (add_deep_options, nonnegative_float32,
                                nonnegative_int, positive_float32,
                                positive_int, probability,
                                probability_float32)
from indrnn import deep
from indrnn.lasagne.init import HeNormal, Normal, Uniform
from indrnn.lasagne.layers import (ConcatLayer, DenseLayer, DimshuffleLayer,
                                   ElemwiseSumLayer, InputLayer, ReshapeLayer,
                                   SliceLayer)
from indrnn.lasagne.nonlinearities import rectify, softmax, tanh
from indrnn.batchnorm_step_timefirst import BatchNorm_step_timefirst_Layer
from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from indrnn.data.ptb import CHAR_PREFIX
from . import ptb_lm

__all__ = [
    "OUTPUTCLASS",
    "DEEP_LM_DEFAULTS",
    "IndRNNLayer_onlyrecurrent",
    "make_parser",
    "add_deep_lm_options",
    "common_globals",
    "network_globals",
    "build_rnn_network",
    "build_deep_network",
    "build_network",
    "SPEC",
    "main",
]

#: Vocabulary size of character-level PTB (the original's ``outputclass``).
OUTPUTCLASS = 50

#: Defaults of the Deep IndRNN options in the PTB scripts: the author's
#: language models (``PTB/run_res.sh``, ``PTB/run_dense_*.sh`` of his
#: PyTorch code): 5 residual blocks; dense blocks (8, 6, 4) of growth 256
#: fed by the embedding itself (no first layer); BN before the recurrence,
#: which keeps the statistics stable when the states are carried.
DEEP_LM_DEFAULTS = dict(num_blocks=5, growth_rate=256, num_first=0,
                        bn_location='bn_before')


def make_parser(extras=False):
    """Return the argument parser of the original script.

    Every flag keeps the original's name, type, default and help text
    (including help texts copied from other flags, such as ``'lr'`` for
    ``--droprate``). Floats use ``type=np.float32`` as in the original.
    With ``extras``, the flags of
    :func:`indrnn.experiments.ptb_lm.add_extra_arguments` and the Deep IndRNN
    options (:func:`add_deep_lm_options`) follow (the command line has
    them; without, the parser holds exactly the original's flags).

    Parameters
    ----------
    extras : bool
        Add the port's extra flags (``--seed``, ``--max_steps``,
        ``--net``, ...).

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> args = make_parser().parse_args([])
    >>> args.hidden_units, args.seq_len, args.num_layers
    (2000, 50, 6)
    """
    parser = argparse.ArgumentParser(
        description='IndRNN for the char level PennTreeBank Language Model')
    parser.add_argument('--hidden_units', type=positive_int, default=2000)
    parser.add_argument('--batch_size', type=positive_int, default=128,
                        help='batch_size')
    parser.add_argument('--seq_len', type=positive_int, default=50, help='seq_len')
    parser.add_argument('--num_layers', type=positive_int, default=6,
                        help='num_layers')
    parser.add_argument('--lr', type=positive_float32, default=2e-4, help='lr')
    parser.add_argument('--act', type=str, default='relu', help='act')
    parser.add_argument('--data_aug', action='store_true', default=False)
    parser.add_argument('--gradclipvalue', type=nonnegative_float32, default=10,
                        help='gradclipvalue')
    parser.add_argument('--MAG', type=positive_int, default=2)
    parser.add_argument('--fix_bound', action='store_true', default=False)

    # bn
    parser.add_argument('--use_bn_afterrnn', action='store_true',
                        default=False)

    # drop
    parser.add_argument('--use_dropout', action='store_true', default=False)
    parser.add_argument('--droprate', type=probability_float32, default=0.3,
                        help='lr')
    parser.add_argument('--droplayers', type=positive_int, default=1,
                        help='droplayers')

    # residual
    parser.add_argument('--use_residual', action='store_true', default=False)
    parser.add_argument('--residual_layers', type=positive_int, default=2)
    parser.add_argument('--residual_block', type=positive_int, default=3)
    parser.add_argument('--unit_factor', type=positive_float32, default=1,
                        help='lr')

    # weight decay
    parser.add_argument('--use_weightdecay_nohiddenW', action='store_true',
                        default=False)
    parser.add_argument('--decayfactor', type=nonnegative_float32, default=1e-4,
                        help='decayfactor')

    # initialization
    parser.add_argument('--pThre', type=nonnegative_int, default=20)
    parser.add_argument('--ini_in2hid', type=nonnegative_float32, default=0.005,
                        help='ini_in2hid')
    parser.add_argument('--ini_b', type=np.float32, default=0.0,
                        help='ini_in2hid')
    if extras:
        ptb_lm.add_extra_arguments(parser)
        add_deep_lm_options(parser)
    return parser


def add_deep_lm_options(parser):
    """Add ``--net plain|residual|dense`` and the deep language models'
    options to a PTB parser.

    The options of :func:`indrnn.run.flags.add_deep_options` (the names
    of the other experiments) with the defaults :data:`DEEP_LM_DEFAULTS`,
    plus three of the author's language-model options: ``--embed_size``,
    ``--dropout_words`` and ``--dropout_extrafc``. None of them changes
    the default ``--net plain``. Without a flag, no dropout, as in the
    other experiments; the author's runs use ``--dropout 0.5
    --dropout_sec 0.1 --dropout_trans 0.4`` (dense) or ``--dropout 0.45``
    (residual), and at word level ``--dropout_words 0.65
    --dropout_extrafc 0.65`` (at character level 0 and 0.2).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Changed in place.

    Returns
    -------
    argparse.ArgumentParser
        The same parser.

    Examples
    --------
    >>> args = add_deep_lm_options(argparse.ArgumentParser()).parse_args(
    ...     ['--net', 'dense'])
    >>> args.net, args.growth_rate, args.num_first, args.embed_size
    ('dense', 256, 0, 600)
    """
    add_deep_options(parser, **DEEP_LM_DEFAULTS)
    group = parser.add_argument_group(
        'deep IndRNN language models (not in the original)')
    group.add_argument('--embed_size', type=positive_int, default=600,
                       help='--net residual|dense: width of the embedding '
                            'and of the last layer (so that --w_tying can '
                            'tie them); --net plain embeds into '
                            '--hidden_units')
    group.add_argument('--dropout_words', type=probability, default=0.0,
                       help='--net residual|dense: dropout of the embedded '
                            'input (masks shared over time)')
    group.add_argument('--dropout_extrafc', type=probability, default=0.0,
                       help='--net residual|dense: dropout after the last '
                            'layer, before the softmax')
    return parser


def common_globals(args, seq_len1, outputclass, he_gain, unit_factor):
    """The module globals both original scripts compute alike.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags of either script.
    seq_len1 : int
        Length of the whole training text, ``len(train_data)`` in the
        original. The hidden state is carried from batch to batch, so the
        recurrent-weight bound is computed over the whole text.
    outputclass : int
        Vocabulary size.
    he_gain : float
        Gain of the ``HeNormal`` input weights (without
        ``--use_bn_afterrnn``).
    unit_factor : callable
        ``unit_factor(l)``: how much wider than ``--hidden_units`` layer
        ``l >= 1`` is (layer 0 is not).

    Returns
    -------
    types.SimpleNamespace
        ``num_layers``, ``droplayers``, ``outputclass``, ``batch_size``,
        ``seq_len``, ``hidden_units``, ``use_dropout``, ``lr``, ``droprate``,
        ``act``, ``seq_len1``, ``U_bound``, ``taxdrop``, ``ini_W``,
        ``units``, ``acc_units`` and ``sum_units``, named as in the original.
    """
    g = types.SimpleNamespace()
    g.num_layers = args.num_layers
    g.droplayers = args.droplayers
    g.outputclass = outputclass
    g.batch_size = args.batch_size
    g.seq_len = args.seq_len
    g.hidden_units = args.hidden_units
    g.use_dropout = args.use_dropout
    g.lr = np.float32(args.lr)
    g.droprate = np.float32(args.droprate)

    g.act = rectify
    if args.act == 'tanh':
        g.act = tanh

    g.seq_len1 = seq_len1
    g.U_bound = pow(args.MAG, 1.0 / seq_len1)
    if args.act == 'tanh':
        g.U_bound = pow(args.MAG / (pow(0.9, seq_len1 / 10.0)),
                        1.0 / seq_len1)
    if args.fix_bound:
        g.U_bound = 1.0
    # The original: "Because the last state of one batch is used as the
    # initial state of the next batch, the total length is used here. This
    # bound can simply set to 1. (1) the sequence is too long and they are
    # already very close to 1. (2) Due to the precision of GPU, if it is
    # rounded to a larger value, it may explode."

    # Dropout masks are shared over the time axis.
    g.taxdrop = (0,)

    g.ini_W = HeNormal(gain=he_gain)
    if args.use_bn_afterrnn:
        g.ini_W = Normal(args.ini_in2hid)

    # ``np.int`` in the original (removed from NumPy): truncation.
    g.units = [int(g.hidden_units * (unit_factor(l) if l >= 1 else 1))
               for l in range(g.num_layers)]
    g.acc_units = list(itertools.accumulate(g.units, initial=0))
    g.sum_units = g.acc_units[-1]
    return g


def network_globals(args, seq_len1, outputclass=OUTPUTCLASS):
    """Compute the module globals the original build function reads.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (see :func:`make_parser`).
    seq_len1 : int
        Length of the whole training text (see :func:`common_globals`).
    outputclass : int
        Vocabulary size.

    Returns
    -------
    types.SimpleNamespace
        Those of :func:`common_globals`, and what
        :func:`build_rnn_network` reads where the scripts differ:
        ``ini_U`` (the recurrent weights' initializer, from ``-U_bound``
        with tanh), ``embed_W`` (None: ``EmbeddingLayer``'s default) and
        ``droprate_last`` (the last layer's dropout rate, ``droprate``).

    Raises
    ------
    ValueError
        When ``--unit_factor`` is not 1 and ``--num_layers`` is not
        ``k * residual_block * residual_layers + 1`` (the original crashed
        on any ``--unit_factor`` other than 1, reading an undefined flag).

    Examples
    --------
    >>> args = make_parser().parse_args(['--num_layers', '3',
    ...                                  '--hidden_units', '8'])
    >>> g = network_globals(args, seq_len1=1000)
    >>> g.units, g.acc_units, g.sum_units
    ([8, 8, 8], [0, 8, 16, 24], 24)

    Widths grow by ``--unit_factor`` every block of
    ``residual_block * residual_layers`` layers after the first:

    >>> args = make_parser().parse_args(
    ...     ['--num_layers', '5', '--hidden_units', '8', '--unit_factor', '2',
    ...      '--residual_block', '2', '--residual_layers', '2'])
    >>> network_globals(args, seq_len1=1000).units
    [8, 8, 8, 8, 8]
    >>> args.num_layers = 9
    >>> network_globals(args, seq_len1=1000).units
    [8, 8, 8, 8, 8, 16, 16, 16, 16]
    """
    # The original's check reads ``args.start_residual``, a flag the script
    # never defines, so any --unit_factor other than 1 crashed with an
    # AttributeError. Its message ("layers should be layers =
    # args.residual_block*args.residual_layers +1") and the widths below
    # (layer 0 alone, then blocks of residual_block*residual_layers layers,
    # each block unit_factor times wider than the one before) show the
    # intent: the first layer plus whole blocks (written so that blocks of
    # one layer work too, where a remainder of 1 cannot occur).
    block = args.residual_block * args.residual_layers
    if args.unit_factor != 1 and (args.num_layers - 1) % block != 0:
        raise ValueError(
            '--unit_factor %s needs --num_layers = k * residual_block * '
            'residual_layers + 1 (here k * %d + 1, e.g. %d), got %d'
            % (args.unit_factor, block, block + 1, args.num_layers))
    g = common_globals(args, seq_len1, outputclass, np.sqrt(2) / 2.0,
                       lambda l: np.power(args.unit_factor, (l - 1) // block))
    g.ini_U = Uniform(range=(-1 * g.U_bound if g.act == tanh else 0,
                             g.U_bound))
    g.embed_W, g.droprate_last = None, g.droprate
    return g


def build_rnn_network(args, rnnmodel, X_sym, hid_init_sym, *, seq_len1,
                      outputclass=OUTPUTCLASS, g=None):
    """Build the stacked (optionally residual) IndRNN language model.

    ``EmbeddingLayer`` -> time-first -> [embedding dropout], then
    ``--num_layers`` times: Reshape -> ``DenseLayer`` (no nonlinearity) ->
    Reshape to (time, batch, units) -> [``ElemwiseSumLayer`` shortcut
    every ``--residual_layers`` layers with ``--use_residual``] ->
    ``BatchNorm_step_timefirst_Layer(axes=(0, 1))`` (per-time-step batch
    statistics) -> ``rnnmodel`` whose initial state is the layer's slice of
    ``hid_init_sym`` -> [Dropout] -> [BatchNorm with ``--use_bn_afterrnn``].
    The last time step of every recurrent layer is concatenated into
    ``net['hid_out']``. The output is a softmax ``DenseLayer`` over
    (batch*time, vocabulary), batch-major.

    The word-level script builds the same network from its own globals
    (``g``) and flags: an embedding initialised ``Uniform(--ini_last)``,
    embedding dropout (``--drop_embedding``), the last layer's dropout
    rate ``--droprate_last`` and, with ``--w_tying``, the output weights
    tied to the embedding.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (see :func:`make_parser`).
    rnnmodel : class
        The recurrent layer class; the original passes
        ``IndRNNLayer_onlyrecurrent``.
    X_sym : TensorVariable
        int32 matrix (batch, seq_len) of token ids, the input variable of
        ``net['input0']``.
    hid_init_sym : TensorVariable
        float matrix (batch, sum_units) of initial hidden states.
    seq_len1 : int
        ``len(train_data)``, for the recurrent-weight bound (see
        :func:`network_globals`).
    outputclass : int
        Vocabulary size.
    g : types.SimpleNamespace, optional
        The globals (this script's :func:`network_globals` by default).

    Returns
    -------
    dict
        The layers, keyed as in the originals (the embedding as both
        ``'input'`` and ``'embed'``); ``net['out']`` is the output and
        ``net['hid_out']`` the concatenated last hidden states.

    Raises
    ------
    ValueError
        With ``--w_tying`` when ``--unit_factor`` makes the last layer wider
        or narrower than the embedding.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> args = make_parser().parse_args(
    ...     ['--num_layers', '3', '--use_residual', '--residual_layers', '2',
    ...      '--hidden_units', '8', '--batch_size', '4', '--seq_len', '5'])
    >>> net = build_rnn_network(args, IndRNNLayer_onlyrecurrent,
    ...                         pt.imatrix(), pt.matrix(), seq_len1=1000)
    >>> type(net['sum3']).__name__
    'ElemwiseSumLayer'
    """
    if g is None:
        g = network_globals(args, seq_len1, outputclass)
    outputclass, batch_size, seq_len = g.outputclass, g.batch_size, g.seq_len
    num_layers, units, acc_units = g.num_layers, g.units, g.acc_units

    net = {}
    net['input0'] = InputLayer((batch_size, seq_len), X_sym)
    kwargs = {} if g.embed_W is None else {'W': g.embed_W}
    net['input'] = net['embed'] = lasagne.layers.EmbeddingLayer(
        net['input0'], outputclass, units[0], **kwargs)
    # change to (time, batch_size, hidden_units)
    net['rnn0'] = DimshuffleLayer(net['embed'], (1, 0, 2))
    if g.use_dropout and getattr(args, 'drop_embedding', False):
        net['rnn0'] = lasagne.layers.DropoutLayer(net['rnn0'], p=g.droprate,
                                                  shared_axes=g.taxdrop)

    for l in range(1, num_layers + 1):
        net['hiddeninput%d' % l] = InputLayer(
            (batch_size, units[l - 1]),
            hid_init_sym[:, acc_units[l - 1]:acc_units[l]])
        net['rnn%d' % (l - 1)] = ReshapeLayer(net['rnn%d' % (l - 1)],
                                              (batch_size * seq_len, -1))
        net['rnn%d' % (l - 1)] = DenseLayer(
            net['rnn%d' % (l - 1)], units[l - 1], W=g.ini_W,
            b=lasagne.init.Constant(args.ini_b), nonlinearity=None)
        net['rnn%d' % (l - 1)] = ReshapeLayer(net['rnn%d' % (l - 1)],
                                              (seq_len, batch_size, -1))

        # Shortcut: the input of layer l-residual_layers (its 'sum') is
        # added to this layer's input-to-hidden output, every
        # residual_layers layers.
        if (args.use_residual and l > args.residual_layers
                and (l - 1) % args.residual_layers == 0):
            if units[l - 1] != units[l - 1 - args.residual_layers]:
                # Project the shortcut when the widths differ.
                name = 'leftbranch%d' % (l - 1)
                net[name] = ReshapeLayer(
                    net['sum%d' % (l - args.residual_layers)],
                    (batch_size * seq_len, -1))
                net[name] = DenseLayer(net[name], units[l - 1], W=g.ini_W,
                                       nonlinearity=None)
                net[name] = ReshapeLayer(net[name],
                                         (seq_len, batch_size, -1))
                net[name] = BatchNorm_step_timefirst_Layer(net[name],
                                                           axes=(0, 1))
                print('left branch')
            else:
                net['leftbranch%d' % (l - 1)] = \
                    net['sum%d' % (l - args.residual_layers)]
            net['sum%d' % l] = ElemwiseSumLayer(
                (net['rnn%d' % (l - 1)], net['leftbranch%d' % (l - 1)]))
        else:
            net['sum%d' % l] = net['rnn%d' % (l - 1)]

        net['rnn%d' % l] = net['sum%d' % l]
        if not args.use_bn_afterrnn:
            net['rnn%d' % l] = BatchNorm_step_timefirst_Layer(
                net['rnn%d' % l], axes=(0, 1),
                beta=lasagne.init.Constant(args.ini_b))

        net['rnn%d' % l] = rnnmodel(
            net['rnn%d' % l], units[l - 1], hid_init=net['hiddeninput%d' % l],
            W_hid_to_hid=g.ini_U, nonlinearity=g.act, only_return_final=False,
            grad_clipping=args.gradclipvalue)

        net['last_state%d' % l] = SliceLayer(net['rnn%d' % l], -1, axis=0)
        if l == 1:
            net['hid_out'] = net['last_state%d' % l]
        else:
            net['hid_out'] = ConcatLayer(
                [net['hid_out'], net['last_state%d' % l]], axis=1)

        if g.use_dropout and l % g.droplayers == 0:
            net['rnn%d' % l] = lasagne.layers.DropoutLayer(
                net['rnn%d' % l],
                p=g.droprate if l != num_layers else g.droprate_last,
                shared_axes=g.taxdrop)

        if args.use_bn_afterrnn:
            net['rnn%d' % l] = BatchNorm_step_timefirst_Layer(
                net['rnn%d' % l], axes=(0, 1))

    # Back to batch-major, so the rows of the output are (batch, time).
    net['rnn%d' % num_layers] = DimshuffleLayer(net['rnn%d' % num_layers],
                                                (1, 0, 2))
    net['reshape_rnn'] = ReshapeLayer(net['rnn%d' % num_layers],
                                      (-1, units[num_layers - 1]))
    W = {}
    if getattr(args, 'w_tying', False):
        if units[num_layers - 1] != units[0]:
            # The original fails later with a shape error in the dot.
            raise ValueError(
                '--w_tying needs the last layer as wide as the embedding; '
                'with --unit_factor %s the widths are %s'
                % (args.unit_factor, units))
        # Weight tying: W is an expression of the embedding's parameter, so
        # get_all_params lists no separate output W.
        W = {'W': net['embed'].W.T}
    net['out'] = DenseLayer(net['reshape_rnn'], outputclass,
                            nonlinearity=softmax, **W)
    return net


def build_deep_network(args, X_sym, hid_init_sym, *, U_bound,
                       outputclass=OUTPUTCLASS, embed_W=None,
                       w_tying=False):
    """Build the res-IndRNN or dense-IndRNN language model ``--net`` names.

    As the author's PyTorch language models
    (``Indrnn_residualnet_preact_returnstates.py``,
    ``Indrnn_densenet_returnstates.py``)::

        tokens -> Embedding (--embed_size) -> time-first
          -> [dropout, --dropout_words]
          -> deep.build_residual_indrnn / deep.build_dense_indrnn
          -> last layer: Weight -> IndRNN_BN (--embed_size)
             [-> BN with --bn_location bn_before]
          -> [dropout, --dropout_extrafc] -> softmax over the vocabulary
             at every step (rows batch-major, as the plain network)

    Batch normalisation is frame-wise (statistics per time step, as the
    plain network's ``BatchNorm_step_timefirst_Layer``), so the output at
    step ``t`` depends on the steps up to ``t`` only. Every recurrent
    layer takes its initial state from a slice of ``hid_init_sym`` and its
    last step goes into ``net['hid_out']``, in the order of
    ``net['recurrent']``, so the state is carried between batches as in the
    plain network. The recurrent weights start in ``[0, U_bound]`` and are
    clipped there during training (``--u_lastlayer_ini`` starts the last
    recurrent layer of the residual or dense part in
    ``[1 / U_bound, U_bound]``); ``--gradclipvalue`` clips inside the
    recurrence as in the plain network.

    Weight tying: the last layer projects to ``--embed_size`` as in the
    author's code, so the output weights can always be the transposed
    embedding (``w_tying``), whatever the width of the residual or dense
    part.

    Flags of the plain network not used here: ``--num_layers``,
    ``--use_residual``, ``--residual_layers``, ``--residual_block``,
    ``--unit_factor``, ``--use_bn_afterrnn``, ``--use_dropout``,
    ``--droprate``, ``--droplayers``, ``--ini_in2hid``, ``--ini_b`` (and at
    word level ``--drop_embedding``, ``--droprate_last``,
    ``--ini_normal``, ``--U_std``, ``--U_mean``, ``--Heinfactor``). Not
    ported from the author's options: ``--dropout_embedding`` (dropping
    whole words of the embedding matrix) and ``--small_normini``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags with the deep options (:func:`add_deep_lm_options`).
    X_sym : TensorVariable
        int32 matrix (batch, seq_len) of token ids.
    hid_init_sym : TensorVariable
        float matrix (batch, sum of the recurrent widths) of initial
        states.
    U_bound : float
        The recurrent-weight bound (:func:`network_globals`).
    outputclass : int
        Vocabulary size.
    embed_W : initializer, optional
        The embedding's weights (default: ``EmbeddingLayer``'s).
    w_tying : bool
        Output weights = transposed embedding.

    Returns
    -------
    dict
        The builder's layers plus ``'input0'``, ``'embed'``,
        ``'time_first'``, ``'head.*'`` (the last layer), ``'hid_out'`` and
        ``'out'``; ``'recurrent'`` lists the recurrent layers in the order
        of their states in ``hid_init_sym`` and ``net['hid_out']``.

    Raises
    ------
    ValueError
        For ``--act`` other than ``relu`` (the deep networks are ReLU
        IndRNNs) or an unknown ``--net``.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> args = make_parser(extras=True).parse_args(
    ...     ['--net', 'residual', '--num_blocks', '1', '--hidden_units', '8',
    ...      '--embed_size', '6', '--batch_size', '4', '--seq_len', '5'])
    >>> net = build_deep_network(args, pt.imatrix(), pt.matrix(),
    ...                          U_bound=1.0)
    >>> net['out'].output_shape, net['hid_out'].output_shape
    ((20, 50), (4, 30))
    """
    if args.act != 'relu':
        raise ValueError("--net %s is a ReLU IndRNN; --act %s works with "
                         "--net plain only" % (args.net, args.act))
    batch_size, seq_len, embed_size = (args.batch_size, args.seq_len,
                                       args.embed_size)
    net = {}
    net['input0'] = InputLayer((batch_size, seq_len), X_sym)
    kwargs = {} if embed_W is None else {'W': embed_W}
    net['embed'] = lasagne.layers.EmbeddingLayer(
        net['input0'], outputclass, embed_size, **kwargs)
    l = net['time_first'] = DimshuffleLayer(net['embed'], (1, 0, 2))
    l = deep.dropout_overtime(l, args.dropout_words)

    # Each recurrent layer reads the next columns of the state matrix.
    ends = [0]

    def state(num_units):
        start = ends[-1]
        ends.append(start + num_units)
        return InputLayer((batch_size, num_units),
                          hid_init_sym[:, start:start + num_units])

    body = deep.build_from_options(
        args, l, None, bn='frame', U_bound=U_bound,
        grad_clipping=args.gradclipvalue, last_step_only=False,
        hid_init=state)
    net.update(body)

    # The last layer, to the embedding's width (the author's last_fc +
    # last_indrnn, or the dense net's last transition).
    l = net['head.fc'] = deep.linear_overtime(net['features'], embed_size)
    l = deep.indrnn_bn(l, embed_size, args.bn_location, 'frame',
                       Uniform(range=(0., U_bound)), args.gradclipvalue,
                       net, 'head.', hid_init=state(embed_size))
    net['recurrent'].append(net['head.rnn'])
    if args.bn_location == 'bn_before':
        # The author's extra_bn: the softmax input is normalised too.
        l = net['head.extra_bn'] = deep.batch_norm_overtime(l, 'frame')
    l = deep.dropout_overtime(l, args.dropout_extrafc)

    last_states = [SliceLayer(r, -1, axis=0) for r in net['recurrent']]
    net['hid_out'] = ConcatLayer(last_states, axis=1)
    assert net['hid_out'].output_shape[1] == ends[-1]

    # Back to batch-major, so the rows of the output are (batch, time).
    l = DimshuffleLayer(l, (1, 0, 2))
    l = net['reshape_rnn'] = ReshapeLayer(l, (-1, embed_size))
    if w_tying:
        # W is an expression of the embedding's parameter, so the output
        # layer has no weight matrix of its own.
        net['out'] = DenseLayer(l, outputclass, W=net['embed'].W.T,
                                nonlinearity=softmax)
    else:
        net['out'] = DenseLayer(l, outputclass, nonlinearity=softmax)
    return net


def build_network(args, rnnmodel, X_sym, hid_init_sym, *, seq_len1,
                  outputclass=OUTPUTCLASS):
    """Build the network the flags select: :func:`build_rnn_network`
    (the original) or, with ``--net residual|dense``,
    :func:`build_deep_network`.

    Parameters
    ----------
    args, rnnmodel, X_sym, hid_init_sym, seq_len1, outputclass
        As :func:`build_rnn_network` (``rnnmodel`` is used by the plain
        network only).

    Returns
    -------
    dict
        With ``net['out']`` and ``net['hid_out']``.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> args = make_parser(extras=True).parse_args(
    ...     ['--net', 'dense', '--growth_rate', '2', '--block_config', '1',
    ...      '--embed_size', '4', '--batch_size', '3', '--seq_len', '5'])
    >>> net = build_network(args, IndRNNLayer_onlyrecurrent, pt.imatrix(),
    ...                     pt.matrix(), seq_len1=1000)
    >>> [r.output_shape[2] for r in net['recurrent']]
    [8, 2, 4]
    """
    if getattr(args, 'net', 'plain') == 'plain':
        return build_rnn_network(args, rnnmodel, X_sym, hid_init_sym,
                                 seq_len1=seq_len1, outputclass=outputclass)
    g = network_globals(args, seq_len1, outputclass)
    return build_deep_network(args, X_sym, hid_init_sym, U_bound=g.U_bound,
                              outputclass=outputclass)


#: How :mod:`indrnn.experiments.ptb_lm` trains this script: character files,
#: ``randint(seq_len * 5)`` tokens dropped with ``--data_aug``, learning
#: rate times 0.2 on a plateau of the validation BPC (initial best 100).
SPEC = ptb_lm.LMSpec(
    make_parser=lambda: make_parser(extras=True),
    network_globals=network_globals,
    build_rnn_network=build_network,
    save_prefix='indrnn_cPTB',
    file_prefix=lambda args: CHAR_PREFIX,
    aug_range=lambda args: args.seq_len * 5,
    lr_decay=lambda args: 0.2,
    monitor=lambda args: 'bpc',
    initial_best=100.0,
    print_param_count=True,
    curve_metric=lambda args: 'bpc',
)


def main(argv=None):
    """Train the character-level model from the command line.

    See :mod:`indrnn.experiments.ptb_lm` for what a run does and writes.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    int
        0 on success, 1 if the cost became NaN or Inf, 2 when the data
        cannot be read.

    Examples
    --------
    The paper's stacked model (BPC 1.23)::

        python -m indrnn.experiments.penntree_charlevel_rernn --data_aug \\
            --hidden_units 2000 --use_dropout --num_layers 6 \\
            --droprate 0.25 --seq_len 150 --use_weightdecay_nohiddenW

    A dense-IndRNN with the settings of the author's PyTorch run
    (``PTB/run_dense_cptb.sh``; untied, as this script has no
    ``--w_tying``)::

        python -m indrnn.experiments.penntree_charlevel_rernn --net dense \\
            --growth_rate 256 --block_config 8,6,4 --embed_size 600 \\
            --dropout 0.5 --dropout_sec 0.1 --dropout_trans 0.4 \\
            --dropout_extrafc 0.2 --seq_len 50 --batch_size 128 \\
            --pThre 200 --data_aug
    """
    return ptb_lm.main(SPEC, argv)


if __name__ == '__main__':
    raise SystemExit(main())
