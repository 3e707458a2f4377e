"""Skeleton-based action recognition (NTU RGB+D): network builder and flags.

Port of ``action recognition/Indrnn_action_network.py`` of the original
IndRNN code (Theano + Lasagne). This module holds the script's parser
(:func:`make_parser`, the flags of :mod:`indrnn.experiments.opts`), the module
globals the build function reads (:func:`network_globals`) and the build
function (:func:`build_indrnn_network`). Not in the original:
:func:`build_deep_network`, the res-IndRNN and dense-IndRNN of the Deep
IndRNN paper (:mod:`indrnn.deep`), which :func:`build_network` picks with
``--net residual|dense`` (:func:`indrnn.experiments.opts.deep_opts`).

The training script is :mod:`indrnn.experiments.Indrnn_action_train`.
Note that it clips the recurrent weights *after* each Adam step (with
``--constrain_U``), unlike the other experiments, which clip before it.

The module keeps the original's file name so that it can be found from the
original's; the name is not PEP 8.

Examples
--------
>>> import pytensor.tensor as pt
>>> from indrnn.experiments import Indrnn_action_network as action
>>> args = action.make_parser().parse_args(
...     ['--num_layers', '2', '--hidden_units', '8', '--batch_size', '4',
...      '--seq_len', '5'])
>>> net = action.build_indrnn_network(args, pt.tensor4('inputs'), indim=5)
>>> net['out'].output_shape
(4, 60)
"""
import argparse
import types

import numpy as np

import indrnn.lasagne as lasagne
from indrnn.lasagne.init import HeNormal, Uniform
from indrnn.lasagne.layers import DimshuffleLayer, InputLayer, ReshapeLayer
from indrnn.lasagne.nonlinearities import rectify
from indrnn import deep
from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from indrnn.stacked import build_deep_classifier, build_plain_indrnn

from . import opts

__all__ = ["OUTPUTCLASS", "INDIM", "GRADCLIPVALUE", "make_parser",
           "network_globals", "build_indrnn_network", "build_deep_network",
           "build_network"]

#: Number of action classes of NTU RGB+D (the original's ``outputclass``).
OUTPUTCLASS = 60
#: Joints per skeleton frame (``indim``); each joint has 3 coordinates. The
#: original's comment mentions 150, i.e. two skeletons of 25 joints * 3.
INDIM = 50
#: Gradient clipping inside the recurrence; a constant, not a flag, in the
#: original.
GRADCLIPVALUE = 10


def make_parser():
    """Return the parser of the original script (the flags of ``opts``).

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> args = make_parser().parse_args([])
    >>> args.hidden_units, args.num_layers, args.MAG
    (512, 6, 5.0)
    """
    parser = argparse.ArgumentParser(description='network')
    opts.train_opts(parser)
    return parser


def network_globals(args, indim=INDIM, outputclass=OUTPUTCLASS):
    """Compute the module globals the original build function reads.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (see :func:`make_parser`).
    indim : int
        Joints per frame; the input has ``indim * 3`` features per step.
    outputclass : int
        Number of classes.

    Returns
    -------
    types.SimpleNamespace
        ``batch_size``, ``seq_len``, ``num_layers``, ``hidden_units``,
        ``outputclass``, ``indim``, ``droprate``, ``gradclipvalue``, ``act``,
        ``U_bound``, ``U_lowbound``, ``rnnmodel`` and ``ini_W``, named as in
        the original.

    Examples
    --------
    >>> g = network_globals(make_parser().parse_args(['--MAG', '2']))
    >>> round(g.U_bound ** 20, 6), type(g.U_bound).__name__
    (2.0, 'float')
    """
    # --MAG is parsed as np.float32. Under the NumPy 1.x the original ran
    # with, ``pow(np.float32, float)`` gave a float64; NumPy 2 keeps float32.
    # float() keeps the original's (float64) bound, which the training
    # script clips to.
    U_bound, U_lowbound = deep.recurrent_bounds(args.seq_len, float(args.MAG))
    return types.SimpleNamespace(
        batch_size=args.batch_size, seq_len=args.seq_len,
        num_layers=args.num_layers, hidden_units=args.hidden_units,
        outputclass=outputclass, indim=indim, droprate=args.droprate,
        gradclipvalue=GRADCLIPVALUE, act=rectify, U_bound=U_bound,
        U_lowbound=U_lowbound, rnnmodel=IndRNNLayer_onlyrecurrent,
        ini_W=Uniform(args.ini_in2hid)
        if getattr(args, 'bn_drop', False) or args.use_bn_afterrnn
        else HeNormal(gain=np.sqrt(2) / np.sqrt(args.seq_len)))


def build_indrnn_network(args, X_sym, indim=INDIM, outputclass=OUTPUTCLASS):
    """Build the stacked IndRNN action classifier.

    The (batch, seq_len, indim, 3) input is flattened to
    (batch, seq_len, indim*3) and made time-first, then ``--num_layers``
    times: Reshape -> ``DenseLayer`` (no nonlinearity) -> Reshape to
    (time, batch, units) -> [Dropout with ``--conv_drop``] ->
    ``BatchNormLayer(axes=(0, 1))`` -> ``IndRNNLayer_onlyrecurrent`` ->
    [BatchNorm with ``--use_bn_afterrnn``] -> [Dropout with
    ``--use_dropout``]. The last time step goes to a softmax ``DenseLayer``.
    The stack is :func:`indrnn.stacked.build_plain_indrnn`, shared with the
    pixel-MNIST script.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (see :func:`make_parser`).
    X_sym : TensorVariable
        float 4-tensor (batch, seq_len, indim, 3), the input variable of
        ``net['input0']``.
    indim : int
        Joints per frame.
    outputclass : int
        Number of classes.

    Returns
    -------
    dict
        The layers, keyed as in the original; ``net['out']`` is the output.

    Raises
    ------
    NotImplementedError
        With ``--bn_drop``: the original's later revision then uses a
        BatchNorm-with-dropout layer (``batch_norm_withdrop_timefirst.py``)
        that is not ported.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> args = make_parser().parse_args(
    ...     ['--num_layers', '1', '--hidden_units', '8', '--batch_size', '4',
    ...      '--seq_len', '5'])
    >>> net = build_indrnn_network(args, pt.tensor4(), indim=5)
    >>> net['input'].output_shape
    (4, 5, 15)
    """
    if getattr(args, 'bn_drop', False):
        raise NotImplementedError(
            "--bn_drop needs the original's batch_norm_withdrop_timefirst "
            "BatchNormLayer, which is not ported")
    g = network_globals(args, indim, outputclass)
    net = {'input0': InputLayer((g.batch_size, g.seq_len, indim, 3), X_sym)}
    net['input'] = ReshapeLayer(net['input0'],
                                (g.batch_size, g.seq_len, indim * 3))
    return build_plain_indrnn(
        net, DimshuffleLayer(net['input'], (1, 0, 2)), g, g.gradclipvalue,
        b=lasagne.init.Constant(args.ini_b), bn_after=args.use_bn_afterrnn,
        input_dropout=g.droprate if args.conv_drop else None,
        dropout=g.droprate if args.use_dropout else None,
        drop_layers=args.drop_layers, rnnmodel=g.rnnmodel)


def build_deep_network(args, X_sym, indim=INDIM, outputclass=OUTPUTCLASS):
    """Build the res-IndRNN or dense-IndRNN that ``--net`` selects.

    The input is reshaped and made time-first as in
    :func:`build_indrnn_network`, then
    :func:`indrnn.deep.build_residual_indrnn` (``--num_blocks`` blocks of
    width ``--hidden_units``) or :func:`indrnn.deep.build_dense_indrnn`
    (:func:`indrnn.deep.build_from_options`, through
    :func:`indrnn.stacked.build_deep_classifier`) runs with sequence-wise
    batch normalisation (statistics over time and batch, as the plain
    network), recurrent weights in ``[0, U_bound]``
    (``U_bound = MAG ** (1 / seq_len)``, clipped after each step with
    ``--constrain_U``; with ``--u_lastlayer_ini`` the last layer starts in
    ``[U_lowbound, U_bound]``) and the original's gradient clipping; the
    softmax over the ``outputclass`` actions reads the last step.
    ``--num_layers``, ``--ini_in2hid``, ``--ini_b``, ``--use_bn_afterrnn``,
    ``--use_dropout``, ``--droprate``, ``--conv_drop`` and
    ``--drop_layers`` belong to the plain network and are not used
    (``--bn_location`` places the batch normalisation, ``--dropout`` and
    its kin set the dropout).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags with the deep options
        (:func:`indrnn.experiments.opts.deep_opts`).
    X_sym : TensorVariable
        float 4-tensor (batch, seq_len, indim, 3).
    indim : int
        Joints per frame.
    outputclass : int
        Number of classes.

    Returns
    -------
    dict
        The builder's layers plus ``'input0'``, ``'input'`` and
        ``'time_first'``; ``net['out']`` is the output.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> from indrnn.experiments import opts
    >>> args = opts.deep_opts(make_parser()).parse_args(
    ...     ['--net', 'residual', '--num_blocks', '1', '--hidden_units', '8',
    ...      '--batch_size', '4', '--seq_len', '5'])
    >>> net = build_deep_network(args, pt.tensor4(), indim=5)
    >>> net['time_first'].output_shape, net['out'].output_shape
    ((5, 4, 15), (4, 60))
    """
    if getattr(args, 'bn_drop', False):
        raise NotImplementedError(
            "--bn_drop needs the original's batch_norm_withdrop_timefirst "
            "BatchNormLayer, which is not ported")
    g = network_globals(args, indim, outputclass)
    net = {'input0': InputLayer((g.batch_size, g.seq_len, indim, 3), X_sym)}
    net['input'] = ReshapeLayer(net['input0'],
                                (g.batch_size, g.seq_len, indim * 3))
    return build_deep_classifier(args, net, DimshuffleLayer(
        net['input'], (1, 0, 2)), g, g.gradclipvalue)


def build_network(args, X_sym, indim=INDIM, outputclass=OUTPUTCLASS):
    """Build the network the flags select.

    :func:`build_indrnn_network` (the original) unless ``--net`` (an
    option of :func:`indrnn.experiments.opts.deep_opts`) is ``residual`` or
    ``dense``, then :func:`build_deep_network`.

    Parameters
    ----------
    args : argparse.Namespace
    X_sym : TensorVariable
    indim, outputclass : int

    Returns
    -------
    dict

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> args = make_parser().parse_args(
    ...     ['--num_layers', '1', '--hidden_units', '8', '--batch_size', '4',
    ...      '--seq_len', '5'])
    >>> 'rnn1' in build_network(args, pt.tensor4(), indim=5)
    True
    """
    if getattr(args, 'net', 'plain') == 'plain':
        return build_indrnn_network(args, X_sym, indim, outputclass)
    return build_deep_network(args, X_sym, indim, outputclass)
