"""Word-level Penn Treebank language model with weight tying: network
builder and flags.

Port of ``wordPTB/penntree_wordlevel_rernn_WT.py`` of the original IndRNN
code (Theano + Lasagne). This module holds the script's command-line flags
(:func:`make_parser`), the module globals the build function reads
(:func:`network_globals`), the build function (:func:`build_rnn_network`)
and the training script (:func:`main`, run with
``python -m indrnn.experiments.penntree_wordlevel_rernn_WT``); the training
itself, shared with the character-level script, is in
:mod:`indrnn.experiments.ptb_lm`.

Compared with the character-level script (``penntree_charlevel_rernn``) it
adds ``--word_level`` (10000 words instead of 50 characters),
``--w_tying`` (the output layer's weights are the transposed embedding),
embedding dropout and a separate dropout rate for the last layer, and the
``--ini_normal`` initialisation of the recurrent weights.

Not in the original: ``--net residual`` and ``--net dense`` select the
res-IndRNN and dense-IndRNN language models of the Deep IndRNN paper
(:func:`build_deep_network`); ``--w_tying`` then ties the output weights
to the embedding through a last layer of the embedding's width
(``--embed_size``), as in the author's PyTorch code.

Examples
--------
>>> import pytensor.tensor as pt
>>> from indrnn.experiments import penntree_wordlevel_rernn_WT as wptb
>>> args = wptb.make_parser().parse_args(
...     ['--num_layers', '2', '--hidden_units', '8', '--batch_size', '4',
...      '--seq_len', '5', '--w_tying'])
>>> net = wptb.build_rnn_network(args, wptb.IndRNNLayer_onlyrecurrent,
...                              pt.imatrix('inputs'), pt.matrix(),
...                              seq_len1=1000)
>>> net['out'].output_shape
(20, 50)
"""
import argparse

import numpy as np

from indrnn.run.flags import (nonnegative_float32, nonnegative_int,
                                positive_float32, positive_int,
                                probability_float32)
from indrnn.lasagne.init import Normal, Uniform
from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from indrnn.data.ptb import CHAR_PREFIX, WORD_PREFIX
from . import penntree_charlevel_rernn as _char_level
from . import ptb_lm

__all__ = [
    "IndRNNLayer_onlyrecurrent",
    "make_parser",
    "network_globals",
    "build_rnn_network",
    "build_deep_network",
    "build_network",
    "SPEC",
    "main",
]


def make_parser(extras=False):
    """Return the argument parser of the original script.

    Every flag keeps the original's name, type, default and help text
    (the description still says "char level", as in the original). Floats
    use ``type=np.float32`` as in the original. With ``extras``, the flags
    of :func:`indrnn.experiments.ptb_lm.add_extra_arguments` and the Deep
    IndRNN options
    (:func:`indrnn.experiments.penntree_charlevel_rernn.add_deep_lm_options`)
    follow (the command line has them; without, the parser holds exactly
    the original's flags).

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
    >>> args.lr, args.droprate_last, args.U_mean
    (0.0005, 0.8, 0.4)
    """
    parser = argparse.ArgumentParser(
        description='IndRNN for the char level PennTreeBank Language Model')
    parser.add_argument('--hidden_units', type=positive_int, default=2000)
    parser.add_argument('--batch_size', type=positive_int, default=128,
                        help='batch_size')
    parser.add_argument('--seq_len', type=positive_int, default=50, help='seq_len')
    parser.add_argument('--num_layers', type=positive_int, default=6,
                        help='num_layers')
    parser.add_argument('--lr', type=positive_float32, default=5e-4, help='lr')
    parser.add_argument('--act', type=str, default='relu', help='act')
    parser.add_argument('--data_aug', action='store_true', default=False)
    parser.add_argument('--gradclipvalue', type=nonnegative_float32, default=10,
                        help='gradclipvalue')
    parser.add_argument('--MAG', type=positive_int, default=2)
    parser.add_argument('--fix_bound', action='store_true', default=False)
    parser.add_argument('--word_level', action='store_true', default=False)
    parser.add_argument('--w_tying', action='store_true', default=False)

    # bn
    parser.add_argument('--use_bn_afterrnn', action='store_true',
                        default=False)

    # drop
    parser.add_argument('--use_dropout', action='store_true', default=False)
    parser.add_argument('--drop_embedding', action='store_true',
                        default=False)
    parser.add_argument('--droprate', type=probability_float32, default=0.35,
                        help='lr')
    parser.add_argument('--droplayers', type=positive_int, default=1,
                        help='droplayers')
    parser.add_argument('--droprate_last', type=probability_float32, default=0.8,
                        help='lr')

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
    parser.add_argument('--ini_in2hid', type=nonnegative_float32, default=0.005,
                        help='ini_in2hid')
    parser.add_argument('--ini_b', type=np.float32, default=0.0,
                        help='ini_in2hid')
    parser.add_argument('--ini_last', type=nonnegative_float32, default=0.04,
                        help='ini_in2hid')
    parser.add_argument('--ini_normal', action='store_true', default=False)
    parser.add_argument('--U_std', type=nonnegative_float32, default=0.2,
                        help='ini_in2hid')
    parser.add_argument('--U_mean', type=np.float32, default=0.4,
                        help='ini_in2hid')
    parser.add_argument('--Heinfactor', type=np.float32, default=2.0)

    parser.add_argument('--pThre', type=nonnegative_int, default=20)
    parser.add_argument('--lr_decay', type=positive_float32, default=0.2)
    parser.add_argument('--randstart', type=nonnegative_int, default=5)
    parser.add_argument('--comp_perp', action='store_true', default=False)
    if extras:
        ptb_lm.add_extra_arguments(parser)
        _char_level.add_deep_lm_options(parser)
    return parser


def network_globals(args, seq_len1, outputclass=None):
    """Compute the module globals the original build function reads.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (see :func:`make_parser`).
    seq_len1 : int
        Length of the whole training text, ``len(train_data)`` in the
        original (the hidden state is carried over the whole text, so the
        recurrent-weight bound is computed over it).
    outputclass : int, optional
        Vocabulary size. By default 50, or 10000 with ``--word_level``, as
        in the original.

    Returns
    -------
    types.SimpleNamespace
        Those of
        :func:`indrnn.experiments.penntree_charlevel_rernn.common_globals`
        (``HeNormal`` gain ``sqrt(2) / --Heinfactor``; unlike the
        char-level script, the width grows every layer: the original has
        the block-wise division commented out), ``ini_U`` (one initializer
        of the recurrent weights for all layers: ``[0, U_bound]``, unlike
        the char-level script also with tanh, or ``--ini_normal``),
        ``embed_W`` (``Uniform(--ini_last)``) and ``droprate_last``.

    Examples
    --------
    >>> g = network_globals(make_parser().parse_args(['--word_level']),
    ...                     seq_len1=1000)
    >>> g.outputclass, g.sum_units
    (10000, 12000)
    """
    if outputclass is None:
        outputclass = 10000 if args.word_level else 50
    g = _char_level.common_globals(
        args, seq_len1, outputclass, np.sqrt(2) / args.Heinfactor,
        lambda l: np.power(args.unit_factor, l))
    g.ini_U = Uniform(range=(0, g.U_bound))
    if args.ini_normal:
        g.ini_U = Normal(std=args.U_std, mean=args.U_mean)
    g.embed_W, g.droprate_last = Uniform(args.ini_last), args.droprate_last
    return g


def build_rnn_network(args, rnnmodel, X_sym, hid_init_sym, *, seq_len1,
                      outputclass=None):
    """Build the stacked (optionally residual, weight-tied) IndRNN model.

    The network of
    :func:`indrnn.experiments.penntree_charlevel_rernn.build_rnn_network` with
    this script's globals (:func:`network_globals`) and flags:
    ``EmbeddingLayer`` (``Uniform(--ini_last)``) -> time-first ->
    [embedding dropout], then ``--num_layers`` times: Reshape ->
    ``DenseLayer`` (no nonlinearity) -> Reshape to (time, batch, units) ->
    [``ElemwiseSumLayer`` shortcut with ``--use_residual``] ->
    ``BatchNorm_step_timefirst_Layer(axes=(0, 1))`` -> ``rnnmodel`` whose
    initial state is the layer's slice of ``hid_init_sym`` -> [Dropout,
    ``--droprate_last`` on the last layer] -> [BatchNorm with
    ``--use_bn_afterrnn``]. The last time step of every recurrent layer is
    concatenated into ``net['hid_out']``. The output is a softmax
    ``DenseLayer``; with ``--w_tying`` its weight matrix is the expression
    ``net['embed'].W.T``, so it has no parameter of its own.

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
        ``len(train_data)``, for the recurrent-weight bound.
    outputclass : int, optional
        Vocabulary size; see :func:`network_globals`.

    Returns
    -------
    dict
        The layers, keyed as in the original; ``net['out']`` is the output
        and ``net['hid_out']`` the concatenated last hidden states.

    Raises
    ------
    ValueError
        With ``--w_tying`` when ``--unit_factor`` makes the last layer wider
        or narrower than the embedding.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> args = make_parser().parse_args(
    ...     ['--num_layers', '1', '--hidden_units', '8', '--batch_size', '4',
    ...      '--seq_len', '5', '--w_tying'])
    >>> net = build_rnn_network(args, IndRNNLayer_onlyrecurrent,
    ...                         pt.imatrix(), pt.matrix(), seq_len1=1000,
    ...                         outputclass=30)
    >>> net['out'].get_params()[0] is net['embed'].W
    True
    """
    return _char_level.build_rnn_network(
        args, rnnmodel, X_sym, hid_init_sym, seq_len1=seq_len1,
        g=network_globals(args, seq_len1, outputclass))


def build_deep_network(args, X_sym, hid_init_sym, *, seq_len1,
                       outputclass=None):
    """Build the res-IndRNN or dense-IndRNN language model ``--net`` names.

    The network of
    :func:`indrnn.experiments.penntree_charlevel_rernn.build_deep_network`
    (frame-wise BN, the state of every recurrent layer carried between
    batches, a last layer of ``--embed_size`` units), with this script's
    embedding initialisation ``Uniform(--ini_last)`` and, with
    ``--w_tying``, the output weights tied to the embedding.

    Weight tying: the deep networks always end with a layer as wide as the
    embedding (the author's ``last_fc``/``extra_fc``), so ``--w_tying``
    works for any ``--hidden_units``, ``--growth_rate`` or
    ``--block_config``; the output layer then has a bias only.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (``make_parser(extras=True)``).
    X_sym, hid_init_sym : TensorVariable
        Token ids (batch, seq_len) and initial states.
    seq_len1 : int
        ``len(train_data)``, for the recurrent-weight bound.
    outputclass : int, optional
        Vocabulary size; see :func:`network_globals`.

    Returns
    -------
    dict
        See
        :func:`indrnn.experiments.penntree_charlevel_rernn.build_deep_network`.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> args = make_parser(extras=True).parse_args(
    ...     ['--net', 'residual', '--num_blocks', '1', '--hidden_units', '8',
    ...      '--embed_size', '6', '--batch_size', '4', '--seq_len', '5',
    ...      '--w_tying'])
    >>> net = build_deep_network(args, pt.imatrix(), pt.matrix(),
    ...                          seq_len1=1000, outputclass=30)
    >>> net['out'].get_params()[0] is net['embed'].W
    True
    """
    g = network_globals(args, seq_len1, outputclass)
    return _char_level.build_deep_network(
        args, X_sym, hid_init_sym, U_bound=g.U_bound,
        outputclass=g.outputclass, embed_W=Uniform(args.ini_last),
        w_tying=args.w_tying)


def build_network(args, rnnmodel, X_sym, hid_init_sym, *, seq_len1,
                  outputclass=None):
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
    ...     ['--num_layers', '1', '--hidden_units', '8', '--batch_size', '4',
    ...      '--seq_len', '5'])
    >>> 'rnn1' in build_network(args, IndRNNLayer_onlyrecurrent,
    ...                         pt.imatrix(), pt.matrix(), seq_len1=1000)
    True
    """
    if getattr(args, 'net', 'plain') == 'plain':
        return build_rnn_network(args, rnnmodel, X_sym, hid_init_sym,
                                 seq_len1=seq_len1, outputclass=outputclass)
    return build_deep_network(args, X_sym, hid_init_sym, seq_len1=seq_len1,
                              outputclass=outputclass)


#: How :mod:`indrnn.experiments.ptb_lm` trains this script: word files with
#: ``--word_level`` (character files otherwise), ``randint(seq_len *
#: --randstart)`` tokens dropped with ``--data_aug``, learning rate times
#: ``--lr_decay`` on a plateau of the validation BPC, or perplexity with
#: ``--comp_perp`` (initial best 1e8).
SPEC = ptb_lm.LMSpec(
    make_parser=lambda: make_parser(extras=True),
    network_globals=network_globals,
    build_rnn_network=build_network,
    save_prefix='indrnn_wordPTB',
    file_prefix=lambda args: WORD_PREFIX if args.word_level else CHAR_PREFIX,
    aug_range=lambda args: args.seq_len * args.randstart,
    lr_decay=lambda args: args.lr_decay,
    monitor=lambda args: 'perp' if args.comp_perp else 'bpc',
    initial_best=100000000.0,
    print_param_count=False,
    curve_metric=lambda args: 'perp' if args.word_level else 'bpc',
)


def main(argv=None):
    """Train the word-level (or, without ``--word_level``, character-level)
    model from the command line.

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
    The paper's residual model (perplexity 65.3)::

        python -m indrnn.experiments.penntree_wordlevel_rernn_WT \\
            --word_level --w_tying --data_aug --lr 5e-4 --seq_len 50 \\
            --use_residual --num_layers 11 --hidden_units 2000 \\
            --batch_size 128 --use_dropout --drop_embedding \\
            --droprate_last 0.8 --droprate 0.35 --ini_normal --U_std 0.2 \\
            --U_mean 0.4 --ini_last 0.03

    The dense-IndRNN and res-IndRNN with the settings of the author's
    PyTorch runs (``PTB/run_dense_wptb.sh``, ``PTB/run_res.sh``)::

        python -m indrnn.experiments.penntree_wordlevel_rernn_WT \\
            --word_level --w_tying --net dense --growth_rate 256 \\
            --block_config 8,6,4 --embed_size 600 --dropout 0.5 \\
            --dropout_sec 0.1 --dropout_trans 0.4 --dropout_words 0.65 \\
            --dropout_extrafc 0.65 --lr 2e-4 --seq_len 50 \\
            --batch_size 128 --pThre 200 --data_aug
        python -m indrnn.experiments.penntree_wordlevel_rernn_WT \\
            --word_level --w_tying --net residual --num_blocks 5 \\
            --hidden_units 2000 --embed_size 600 --dropout 0.45 \\
            --dropout_words 0.65 --dropout_extrafc 0.65 --lr 2e-4 \\
            --seq_len 50 --batch_size 128 --pThre 200 --data_aug
    """
    return ptb_lm.main(SPEC, argv)


if __name__ == '__main__':
    raise SystemExit(main())
