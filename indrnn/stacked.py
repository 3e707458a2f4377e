"""The plain stacked IndRNN of the CVPR 2018 paper, as its scripts build it.

The pixel-MNIST and action-recognition scripts of the original code build
the same stack, each in its own copy (``build_res_rnn_network``,
``build_indrnn_network``): for every layer a ``DenseLayer`` on the
``(batch*time, features)`` reshape of the time-first input (the paper's
input weights), BatchNorm over time and batch before the recurrence (or
after it with ``--use_bn_afterrnn``), ``IndRNNLayer_onlyrecurrent``, and
a softmax classifier on the last step. :func:`build_plain_indrnn` is that
stack once, with the scripts' differences (initialisers, dropout,
gradient clipping) as arguments; it creates the layers, and so draws
their initial values, in the scripts' order, under their keys.
:func:`build_deep_classifier` is the same scripts' ``--net residual`` and
``--net dense`` (the Deep IndRNN networks of :mod:`indrnn.deep`).
"""
from .deep import build_from_options
from .indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from .lasagne.init import Constant, Uniform
from .lasagne.layers import (BatchNormLayer, DenseLayer, DropoutLayer,
                             ReshapeLayer, SliceLayer)
from .lasagne.nonlinearities import softmax

__all__ = ["build_plain_indrnn", "build_deep_classifier"]


def build_plain_indrnn(net, incoming, g, grad_clipping, b=Constant(0.),
                       bn_after=False, input_dropout=None, dropout=None,
                       drop_layers=1, rnnmodel=IndRNNLayer_onlyrecurrent):
    """Build the stack on a time-first input and its softmax classifier.

    Parameters
    ----------
    net : dict
        Receives the layers, keyed as in the original scripts:
        ``'rnn%d' % (l - 1)`` is the input of layer ``l`` (its projection,
        after the input dropout) and ``'rnn%d' % l`` its output, so in the
        end ``'rnn%d' % (l - 1)`` names layer ``l``'s projection and
        ``'rnn%d' % num_layers`` the last step; ``'out'`` the classifier.
    incoming : Layer
        Time-first ``(seq_len, batch_size, features)``.
    g : namespace
        The scripts' module globals (their ``network_globals``):
        ``outputclass`` (the softmax's width), ``num_layers``,
        ``hidden_units``, ``batch_size``, ``seq_len``, ``ini_W`` (the input
        weights of every layer, one initializer instance), ``act`` (the
        recurrent nonlinearity); the recurrent weights start in
        ``[0, g.U_bound]``, the last layer's in
        ``[g.U_lowbound, g.U_bound]``.
    grad_clipping : float
        Of the recurrent layers.
    b : initializer
        The input biases, and the shifts of the BatchNorm before the
        recurrence.
    bn_after : bool
        BatchNorm after the recurrence (``--use_bn_afterrnn``), not before.
    input_dropout : float, optional
        Dropout rate after each projection, one mask over time
        (``--conv_drop``); None: no layer.
    dropout : float, optional
        Dropout rate after every ``drop_layers``-th layer, one mask over
        time (``--use_dropout``); None: no layer.
    drop_layers : int
    rnnmodel : class
        The recurrent layer.

    Returns
    -------
    dict
        ``net``; ``net['out']`` is the ``(batch_size, outputclass)``
        softmax.

    Examples
    --------
    >>> import types
    >>> from indrnn.lasagne.init import Normal
    >>> from indrnn.lasagne.layers import InputLayer
    >>> from indrnn.lasagne.nonlinearities import rectify
    >>> g = types.SimpleNamespace(
    ...     outputclass=10, num_layers=2, hidden_units=8, batch_size=4,
    ...     seq_len=12, ini_W=Normal(0.1), act=rectify, U_bound=1.06,
    ...     U_lowbound=0.94)
    >>> net = build_plain_indrnn({}, InputLayer((12, 4, 3)), g, 10)
    >>> net['rnn2'].output_shape, net['out'].output_shape
    ((4, 8), (4, 10))
    """
    l = incoming
    for i in range(1, g.num_layers + 1):
        l = ReshapeLayer(l, (g.batch_size * g.seq_len, -1))
        l = DenseLayer(l, g.hidden_units, W=g.ini_W, b=b, nonlinearity=None)
        l = ReshapeLayer(l, (g.seq_len, g.batch_size, -1))
        if input_dropout is not None:
            l = DropoutLayer(l, p=input_dropout, shared_axes=(0,))
        net['rnn%d' % (i - 1)] = l
        if not bn_after:
            # Lasagne's BatchNormLayer: statistics over time and batch.
            l = BatchNormLayer(l, axes=(0, 1), beta=b)
        l = rnnmodel(
            l, g.hidden_units, W_hid_to_hid=Uniform(range=(
                g.U_lowbound if i == g.num_layers else 0, g.U_bound)),
            nonlinearity=g.act, only_return_final=False,
            grad_clipping=grad_clipping)
        if bn_after:
            l = BatchNormLayer(l, axes=(0, 1))
        if dropout is not None and i % drop_layers == 0:
            l = DropoutLayer(l, p=dropout, shared_axes=(0,))
        net['rnn%d' % i] = l
    net['rnn%d' % g.num_layers] = SliceLayer(l, indices=-1, axis=0)
    net['out'] = DenseLayer(net['rnn%d' % g.num_layers], g.outputclass,
                            nonlinearity=softmax)
    return net


def build_deep_classifier(args, net, time_first, g, grad_clipping):
    """Build the res-IndRNN or dense-IndRNN that ``--net`` selects, as a
    classifier of whole sequences.

    :func:`indrnn.deep.build_from_options` on ``time_first`` with
    sequence-wise batch normalisation (statistics over time and batch, as
    the plain stack), recurrent weights in ``[0, g.U_bound]`` (clipped
    there by the training function) and the softmax over
    ``g.outputclass`` classes on the last step.

    Parameters
    ----------
    args : argparse.Namespace
        Flags with the Deep IndRNN options and ``hidden_units``.
    net : dict
        The input layers so far; receives the builder's layers and
        ``'time_first'``.
    time_first : Layer
        ``(seq_len, batch_size, features)``.
    g : namespace
        ``outputclass`` and ``U_bound``, as in :func:`build_plain_indrnn`.
    grad_clipping : float
        Of the recurrent layers.

    Returns
    -------
    dict
        ``net``; ``net['out']`` is the softmax.

    Examples
    --------
    >>> import argparse, types
    >>> from indrnn.lasagne.layers import InputLayer
    >>> from indrnn.run.flags import add_deep_options
    >>> args = add_deep_options(argparse.ArgumentParser()).parse_args(
    ...     ['--net', 'residual', '--num_blocks', '1'])
    >>> args.hidden_units = 8
    >>> g = types.SimpleNamespace(outputclass=10, U_bound=1.06)
    >>> net = build_deep_classifier(args, {}, InputLayer((12, 4, 3)), g, 10)
    >>> net['out'].output_shape
    (4, 10)
    """
    net.update(build_from_options(
        args, time_first, g.outputclass, bn='sequence', U_bound=g.U_bound,
        grad_clipping=grad_clipping, last_step_only=True))
    net['time_first'] = time_first
    return net
