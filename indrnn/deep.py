"""Residual and densely connected IndRNN networks (the Deep IndRNN paper).

Network builders for the two architectures of Li et al., "Deep
Independently Recurrent Neural Network (IndRNN)" (arXiv 1910.06251), made
of the same layers as the CVPR networks. Every builder works on a
**time-first** layer ``(time, batch, features)`` and returns a dict of the
layers it made, with ``net['features']`` the last time-first feature layer
and, when ``num_classes`` is given, ``net['out']`` the classifier.

The building unit is the "IndRNN with BN" of the author's PyTorch code
(:func:`indrnn_bn`): a batch normalisation before (``'bn_before'``) or after
(``'bn_after'``) an
:class:`~indrnn.indrnn_onlyrecurrent.IndRNNLayer_onlyrecurrent` with ReLU. The "Weight" of the paper is a ``DenseLayer`` applied at every
time step (:func:`linear_overtime`).

res-IndRNN (:func:`build_residual_indrnn`), pre-activation blocks with
identity shortcuts::

    x (T, B, F) -> Weight -> +------------------------------+
                             |                              |
                             BN -> IndRec+ReLU -> Weight    |  x num_blocks
                             BN -> IndRec+ReLU -> Weight    |
                             |                              |
                             +------------ (+) <------------+
                -> BN -> IndRec+ReLU -> [last step] -> classifier

dense-IndRNN (:func:`build_dense_indrnn`), growth rate ``k``::

    x (T, B, F) -> Weight -> BN -> IndRec+ReLU  (num_first * k; none if 0)
      -> dense block 1 -> transition -> dense block 2 -> transition -> ...
      -> dense block n [-> last layer] -> [last step] -> classifier

    dense layer (one of block_config[i] in a block):
        x ----------------------------------------------------+
        |                                                     |
        Weight -> BN -> IndRec+ReLU  (bottleneck, bn_size * k) |
        Weight -> BN -> IndRec+ReLU  (growth, k)               |
        |                                                     |
        +------------------- concat [x, new] <----------------+
    transition: Weight -> BN -> IndRec+ReLU, features halved (floor)

(with ``bn_location='bn_after'`` every "BN -> IndRec+ReLU" above becomes
"IndRec+ReLU -> BN", as in the author's code). Dropout, when asked for,
uses one mask per sequence, shared over time
(``DropoutLayer(shared_axes=(0,))``).

Batch normalisation is sequence-wise (``bn='sequence'``: statistics over
time and batch, ``BatchNormLayer(axes=(0, 1))``) for classification and
frame-wise (``bn='frame'``: statistics per time step,
:class:`~indrnn.batchnorm_step_timefirst.BatchNorm_step_timefirst_Layer`)
for language modelling, where a step must not see later steps.

A language model carries the state of every recurrent layer from one
batch to the next: each builder takes ``hid_init``, a callable that gives
every recurrent layer its initial state (e.g. an ``InputLayer`` on a slice
of one state matrix), and lists the recurrent layers in
``net['recurrent']`` in the same order, so that their last steps make the
next batch's state matrix (see
:func:`indrnn.experiments.penntree_charlevel_rernn.build_deep_network`).

Initialisation as in the paper and the author's code: recurrent weights
``u ~ Uniform[0, MAG ** (1 / T)]`` (so ``|u| ** T`` stays below ``MAG``);
with ``u_lastlayer_ini`` the last recurrent layer starts in
``[MAG ** (-1 / T), MAG ** (1 / T)]``, near 1, which keeps long-term memory
for tasks that use only the last step. Input weights
``HeUniform(gain=sqrt(2 / 65))`` (PyTorch's ``kaiming_uniform_(a=8)``),
classifier ``HeNormal(gain='relu')``, biases and BN ``beta`` 0, BN
``gamma`` 1.

Examples
--------
>>> from indrnn.lasagne.layers import InputLayer
>>> net = build_dense_indrnn(InputLayer((12, 4, 3)), num_classes=10,
...                          growth_rate=4, block_config=(2, 2),
...                          num_first=2)
>>> net['features'].output_shape
(12, 4, 16)
>>> net['out'].output_shape
(4, 10)
"""
import numpy as np

from .batchnorm_step_timefirst import BatchNorm_step_timefirst_Layer
from .indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from .lasagne.init import Constant, HeNormal, HeUniform, Uniform
from .lasagne.layers import (BatchNormLayer, ConcatLayer, DenseLayer,
                             DropoutLayer, ElemwiseSumLayer, SliceLayer)
from .lasagne.nonlinearities import rectify, softmax

__all__ = [
    "BN_LOCATIONS",
    "BN_KINDS",
    "recurrent_bounds",
    "linear_overtime",
    "batch_norm_overtime",
    "dropout_overtime",
    "indrnn_bn",
    "build_residual_indrnn",
    "build_dense_indrnn",
    "dense_num_features",
    "build_from_options",
    "parse_block_config",
]

#: Where the batch normalisation sits relative to the recurrence.
BN_LOCATIONS = ('bn_before', 'bn_after')
#: Sequence-wise (classification) or frame-wise (language modelling) BN.
BN_KINDS = ('sequence', 'frame')


def recurrent_bounds(seq_len, MAG=2.0):
    """Bounds of the recurrent weights for sequences of ``seq_len`` steps.

    Parameters
    ----------
    seq_len : int
        Time steps ``T``.
    MAG : float
        Largest allowed growth ``|u| ** T`` of a unit's own memory.

    Returns
    -------
    U_bound : float
        ``MAG ** (1 / T)``: the clip of the recurrent weights and the upper
        end of their initialisation.
    U_lowbound : float
        ``(1 / MAG) ** (1 / T)``: the lower end of the last layer's
        initialisation with ``u_lastlayer_ini``.

    Examples
    --------
    >>> hi, lo = recurrent_bounds(784, 2)
    >>> round(hi ** 784, 6), round(lo ** 784, 6)
    (2.0, 0.5)
    """
    return (pow(MAG, 1.0 / seq_len), pow(1.0 / MAG, 1.0 / seq_len))


def linear_overtime(incoming, num_units, W=None, b=Constant(0.)):
    """The paper's "Weight": one ``DenseLayer`` applied at every time step.

    Parameters
    ----------
    incoming : Layer
        Time-first ``(time, batch, features)``.
    num_units : int
    W, b : initializer
        ``W`` defaults to ``HeUniform(gain=sqrt(2 / 65))``, the bound
        ``sqrt(6 / (65 * fan_in))`` of the author's
        ``kaiming_uniform_(a=8)``.

    Returns
    -------
    DenseLayer
        ``(time, batch, num_units)``, no nonlinearity; ``W`` is
        ``(features, num_units)``.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> linear_overtime(InputLayer((12, 4, 3)), 5).output_shape
    (12, 4, 5)
    """
    if W is None:
        W = HeUniform(gain=np.sqrt(2.0 / 65.0))
    # num_leading_axes=2 is the (time*batch, features) reshape of the CVPR
    # networks without fixing the time and batch sizes.
    return DenseLayer(incoming, num_units, W=W, b=b, nonlinearity=None,
                      num_leading_axes=2)


def batch_norm_overtime(incoming, bn='sequence'):
    """Batch normalisation of a time-first layer, sequence- or frame-wise.

    Parameters
    ----------
    incoming : Layer
        Time-first ``(time, batch, units)``.
    bn : {'sequence', 'frame'}
        ``'sequence'``: statistics over time and batch (one mean per unit);
        ``'frame'``: statistics over the batch for each step (the time
        size must be known).

    Returns
    -------
    BatchNormLayer or BatchNorm_step_timefirst_Layer

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> l = batch_norm_overtime(InputLayer((12, 4, 3)), 'frame')
    >>> l.mean.get_value().shape
    (12, 3)
    """
    if bn == 'sequence':
        return BatchNormLayer(incoming, axes=(0, 1))
    if bn == 'frame':
        return BatchNorm_step_timefirst_Layer(incoming, axes=(0, 1))
    raise ValueError("bn must be one of %r, got %r" % (BN_KINDS, bn))


def dropout_overtime(incoming, p):
    """Dropout with one mask per sequence, shared over all time steps.

    Parameters
    ----------
    incoming : Layer
        Time-first ``(time, batch, units)``.
    p : float
        Drop probability; 0 adds no layer.

    Returns
    -------
    Layer
        ``DropoutLayer(p, shared_axes=(0,))``, or ``incoming`` for ``p=0``.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> dropout_overtime(InputLayer((12, 4, 3)), 0.1).shared_axes
    (0,)
    """
    if p > 0:
        return DropoutLayer(incoming, p=p, shared_axes=(0,))
    return incoming


def indrnn_bn(incoming, num_units, bn_location='bn_before', bn='sequence',
              U_init=None, grad_clipping=0, layers=None, prefix='',
              hid_init=None):
    """The author's "IndRNNwithBN": BN and IndRec+ReLU in either order.

    Parameters
    ----------
    incoming : Layer
        Time-first, already projected to ``num_units``.
    num_units : int
    bn_location : {'bn_before', 'bn_after'}
        BN before the recurrence (the paper's pre-activation order) or
        after it.
    bn : {'sequence', 'frame'}
        See :func:`batch_norm_overtime`.
    U_init : initializer
        Recurrent weights; default ``Uniform((0, 1))``.
    grad_clipping : float
        Passed to the recurrent layer.
    layers : dict, optional
        Collects the new layers under ``prefix + 'bn'`` and
        ``prefix + 'rnn'``.
    prefix : str
    hid_init : Layer or initializer, optional
        Initial state of the recurrence, ``(batch, num_units)``: a layer
        (e.g. an ``InputLayer`` on a state carried between batches) or an
        initializer; default zeros.

    Returns
    -------
    Layer
        ``(time, batch, num_units)``.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, get_all_layers
    >>> l = indrnn_bn(InputLayer((12, 4, 3)), 3, 'bn_after')
    >>> [type(x).__name__ for x in get_all_layers(l)][1:]
    ['IndRNNLayer_onlyrecurrent', 'BatchNormLayer']
    """
    if bn_location not in BN_LOCATIONS:
        raise ValueError("bn_location must be one of %r, got %r"
                         % (BN_LOCATIONS, bn_location))
    if U_init is None:
        U_init = Uniform(range=(0., 1.))
    if hid_init is None:
        hid_init = Constant(0.)
    layers = {} if layers is None else layers
    l = incoming
    if bn_location == 'bn_before':
        l = layers[prefix + 'bn'] = batch_norm_overtime(l, bn)
    # Unnamed, so the recurrent weights keep the name hidden_to_hidden.W
    # that the U_bound clip and the weight decay look for.
    l = layers[prefix + 'rnn'] = IndRNNLayer_onlyrecurrent(
        l, num_units, W_hid_to_hid=U_init, nonlinearity=rectify,
        hid_init=hid_init, grad_clipping=grad_clipping)
    if bn_location == 'bn_after':
        l = layers[prefix + 'bn'] = batch_norm_overtime(l, bn)
    return l


def _classifier(net, features, num_classes, last_step_only):
    if num_classes is None:
        return
    l = features
    if last_step_only:
        l = net['last_step'] = SliceLayer(l, indices=-1, axis=0)
    net['out'] = DenseLayer(l, num_classes, W=HeNormal(gain='relu'),
                            b=Constant(0.), nonlinearity=softmax,
                            num_leading_axes=1 if last_step_only else 2)


def _u_inits(seq_len, MAG, U_bound):
    if U_bound is None:
        if seq_len is None:
            raise ValueError("the time size must be known (or U_bound "
                             "given) to initialise the recurrent weights")
        U_bound, U_lowbound = recurrent_bounds(seq_len, MAG)
    else:
        U_lowbound = 1.0 / U_bound
    return Uniform(range=(0., U_bound)), Uniform(range=(U_lowbound, U_bound))


def _recurrent_maker(net, bn_location, bn, grad_clipping, hid_init):
    # Every recurrent layer of a builder goes through here, so that they
    # are listed in net['recurrent'] in the order hid_init was asked for
    # their states (the layout of a state carried between batches).
    net['recurrent'] = []

    def make(l, num_units, U_init, prefix):
        state = None if hid_init is None else hid_init(num_units)
        l = indrnn_bn(l, num_units, bn_location, bn, U_init, grad_clipping,
                      net, prefix, hid_init=state)
        net['recurrent'].append(net[prefix + 'rnn'])
        return l
    return make


def build_residual_indrnn(incoming, num_classes=None, hidden_units=128,
                          num_blocks=5, bn_location='bn_before',
                          bn='sequence', dropout=0.0, MAG=2.0, U_bound=None,
                          u_lastlayer_ini=False, grad_clipping=0,
                          last_step_only=True, hid_init=None):
    """Build a res-IndRNN with pre-activation residual blocks.

    ``Weight`` to ``hidden_units``, then ``num_blocks`` blocks
    ``x + Weight(IndRNN_BN(Weight(IndRNN_BN(x))))`` (dropout after each
    ``IndRNN_BN``), then a last ``IndRNN_BN`` (and dropout), as the
    author's ``ResidualNet`` with ``_residualBlock_preact``. Each block has
    two recurrent layers, so the network has ``2 * num_blocks + 1``.

    Parameters
    ----------
    incoming : Layer
        Time-first ``(time, batch, features)``.
    num_classes : int or None
        Classes of a softmax classifier on the output (``net['out']``);
        None builds the features only.
    hidden_units : int
        Width of every layer (the shortcuts are identities).
    num_blocks : int
    bn_location : {'bn_before', 'bn_after'}
    bn : {'sequence', 'frame'}
    dropout : float
        Drop probability of every dropout layer (masks shared over time).
    MAG : float
        Recurrent weights start in ``[0, MAG ** (1 / T)]``.
    U_bound : float, optional
        The upper bound directly (then the last layer's lower one is
        ``1 / U_bound``); needed when the time size is not known.
    u_lastlayer_ini : bool
        Start the last recurrent layer in ``[MAG ** (-1/T), MAG ** (1/T)]``.
    grad_clipping : float
        Passed to the recurrent layers.
    last_step_only : bool
        Classify the last time step (pixel MNIST, actions) or every step.
    hid_init : callable, optional
        ``hid_init(num_units)`` gives the initial state of a recurrent
        layer (a ``(batch, num_units)`` layer or an initializer); it is
        called once per recurrent layer, in the order of
        ``net['recurrent']``. None: every layer starts from zeros. With
        the last step of each layer of ``net['recurrent']`` fed back, a
        language model carries its state between batches.

    Returns
    -------
    dict
        Layers under ``'fc0'``, ``'block<i>.<part>'``, ``'block<i>'`` (the
        sum), ``'last.bn'``, ``'last.rnn'``, ``'features'`` and ``'out'``;
        ``'recurrent'`` is the list of the ``2 * num_blocks + 1``
        recurrent layers, from input to output.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> net = build_residual_indrnn(InputLayer((12, 4, 3)), 10,
    ...                             hidden_units=8, num_blocks=2)
    >>> net['block2'].output_shape, net['out'].output_shape
    ((12, 4, 8), (4, 10))
    """
    u_init, u_last = _u_inits(incoming.output_shape[0], MAG, U_bound)
    net = {}
    recurrent = _recurrent_maker(net, bn_location, bn, grad_clipping,
                                 hid_init)
    l = net['fc0'] = linear_overtime(incoming, hidden_units)
    for i in range(1, num_blocks + 1):
        p = 'block%d.' % i
        shortcut = l
        for j in (1, 2):
            l = recurrent(l, hidden_units, u_init, p + 'indrnn%d.' % j)
            l = dropout_overtime(l, dropout)
            l = net[p + 'fc%d' % j] = linear_overtime(l, hidden_units)
        l = net['block%d' % i] = ElemwiseSumLayer([shortcut, l])
    l = recurrent(l, hidden_units, u_last if u_lastlayer_ini else u_init,
                  'last.')
    l = net['features'] = dropout_overtime(l, dropout)
    _classifier(net, l, num_classes, last_step_only)
    return net


def dense_num_features(growth_rate, block_config, num_first,
                       add_last_layer=False, num_input=None):
    """Feature sizes of a dense-IndRNN: after each stage, and the output.

    Parameters
    ----------
    growth_rate, block_config, num_first, add_last_layer
        As :func:`build_dense_indrnn`.
    num_input : int, optional
        Input features; needed only with ``num_first=0`` (no first layer).

    Returns
    -------
    list of int
        The width after the first layer (the input's with
        ``num_first=0``), after each dense block and each transition, and
        (last) that of the features.

    Examples
    --------
    >>> dense_num_features(16, (8, 6, 4), 6)
    [96, 224, 112, 208, 104, 168]
    >>> dense_num_features(4, (2,), 0, num_input=10)
    [10, 18]
    """
    if num_first:
        n = num_first * growth_rate
    elif num_input is None:
        raise ValueError("num_first=0 needs num_input")
    else:
        n = num_input
    sizes = [n]
    for i, num_layers in enumerate(block_config):
        n += num_layers * growth_rate
        sizes.append(n)
        if i != len(block_config) - 1 or add_last_layer:
            n //= 2
            sizes.append(n)
    return sizes


def build_dense_indrnn(incoming, num_classes=None, growth_rate=16,
                       block_config=(8, 6, 4), num_first=6, bn_size=4,
                       bn_location='bn_before', bn='sequence', dropout=0.0,
                       dropout_sec=0.0, dropout_trans=0.0, dropout_first=0.0,
                       add_last_layer=False, MAG=2.0, U_bound=None,
                       u_lastlayer_ini=False, grad_clipping=0,
                       last_step_only=True, hid_init=None):
    """Build a dense-IndRNN (the author's ``DenseNet`` of IndRNN layers).

    First ``Weight -> IndRNN_BN`` to ``num_first * growth_rate`` units;
    then for each entry ``n`` of ``block_config`` a dense block of ``n``
    dense layers, each concatenating to its input ``growth_rate`` new
    features made by two composite units ``Weight -> IndRNN_BN``
    (bottleneck ``bn_size * growth_rate``, then ``growth_rate``); between
    blocks a transition ``Weight -> IndRNN_BN`` halving the features
    (floor). ``add_last_layer`` adds one more transition after the last
    block (the author's ``--add_last_layer``).

    Parameters
    ----------
    incoming : Layer
        Time-first ``(time, batch, features)``.
    num_classes : int or None
        Classes of the softmax classifier (``net['out']``); None: features
        only.
    growth_rate : int
        ``k``, the features each dense layer adds.
    block_config : sequence of int
        Dense layers per block.
    num_first : int
        The first layer has ``num_first * growth_rate`` units; 0 builds no
        first layer, the input going straight into the first dense block
        (as in the author's language models, where it is the embedding).
    bn_size : int
        Bottleneck width, in multiples of ``growth_rate``.
    bn_location : {'bn_before', 'bn_after'}
    bn : {'sequence', 'frame'}
    dropout : float
        After each dense layer's growth unit (the author's ``--dropout``).
    dropout_sec : float
        After each bottleneck unit (``--dropout_sec``).
    dropout_trans : float
        After each transition, the last layer included
        (``--dropout_trans``).
    dropout_first : float
        After the first layer (``--dropout_first``).
    add_last_layer : bool
    MAG, U_bound, grad_clipping, last_step_only
        As :func:`build_residual_indrnn`.
    u_lastlayer_ini : bool
        Start the last recurrent layer of the network (the last layer with
        ``add_last_layer``, as in the author's code; otherwise the growth
        unit of the last dense layer) in ``[MAG ** (-1/T), MAG ** (1/T)]``.
    hid_init : callable, optional
        Initial states, as in :func:`build_residual_indrnn`.

    Returns
    -------
    dict
        Layers under ``'fc0'``, ``'first.*'`` (not with ``num_first=0``),
        ``'block<i>.layer<j>.*'`` (``fc1``, ``indrnn1.*``, ``fc2``,
        ``indrnn2.*``), ``'block<i>'``, ``'transition<i>.*'``,
        ``'lastlayer.*'``, ``'features'`` and ``'out'``; ``'recurrent'``
        lists the recurrent layers from input to output.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> net = build_dense_indrnn(InputLayer((12, 4, 1)), 10, growth_rate=2,
    ...                          block_config=(2, 1), num_first=3,
    ...                          add_last_layer=True)
    >>> [net[k].output_shape[2] for k in ('first.rnn', 'block1',
    ...                                   'transition1', 'block2')]
    [6, 10, 5, 7]
    >>> net['features'].output_shape
    (12, 4, 3)
    """
    u_init, u_last = _u_inits(incoming.output_shape[0], MAG, U_bound)
    block_config = tuple(block_config)
    net = {}
    recurrent = _recurrent_maker(net, bn_location, bn, grad_clipping,
                                 hid_init)

    def composite(l, units, prefix, last=False):
        # Weight -> IndRNN_BN; `last` marks the network's last recurrence.
        l = net[prefix + 'fc'] = linear_overtime(l, units)
        return recurrent(l, units,
                         u_last if (last and u_lastlayer_ini) else u_init,
                         prefix)

    if num_first:
        n = num_first * growth_rate
        l = composite(incoming, n, 'first.')
        net['fc0'] = net.pop('first.fc')
        l = dropout_overtime(l, dropout_first)
    else:
        n = incoming.output_shape[2]
        l = incoming
    for i, num_layers in enumerate(block_config):
        final_block = i == len(block_config) - 1
        for j in range(1, num_layers + 1):
            p = 'block%d.layer%d.' % (i + 1, j)
            new = composite(l, bn_size * growth_rate, p + 'indrnn1.')
            net[p + 'fc1'] = net.pop(p + 'indrnn1.fc')
            new = dropout_overtime(new, dropout_sec)
            last = final_block and j == num_layers and not add_last_layer
            new = composite(new, growth_rate, p + 'indrnn2.', last)
            net[p + 'fc2'] = net.pop(p + 'indrnn2.fc')
            new = dropout_overtime(new, dropout)
            l = net[p + 'concat'] = ConcatLayer([l, new], axis=2)
        n += num_layers * growth_rate
        net['block%d' % (i + 1)] = l
        if not final_block or add_last_layer:
            n //= 2
            p = ('lastlayer.' if final_block
                 else 'transition%d.' % (i + 1))
            l = composite(l, n, p, last=final_block)
            l = net[p.rstrip('.')] = dropout_overtime(l, dropout_trans)
    net['features'] = l
    _classifier(net, l, num_classes, last_step_only)
    return net


def build_from_options(args, incoming, num_classes=None, **kwargs):
    """Build the network the Deep IndRNN options select.

    The options are those of :func:`indrnn.run.flags.add_deep_options`:
    ``args.net`` ``'residual'`` builds :func:`build_residual_indrnn`
    (``args.hidden_units`` wide, ``args.num_blocks`` blocks), ``'dense'``
    :func:`build_dense_indrnn` (``args.growth_rate``, ``block_config``,
    ``num_first``, ``bn_size``, ``add_last_layer`` and the dropout rates
    ``dropout_sec``, ``dropout_trans``, ``dropout_first``); both get
    ``args.bn_location``, ``args.dropout`` and ``args.u_lastlayer_ini``.
    The experiments call it with what is theirs.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags with the Deep IndRNN options and ``hidden_units``.
    incoming : Layer
        Time-first input ``(time, batch, features)``.
    num_classes : int, optional
        See the builders.
    **kwargs
        Passed on to the builder: ``bn``, ``U_bound`` (or ``MAG``),
        ``grad_clipping``, ``last_step_only``, ``hid_init``.

    Returns
    -------
    dict
        The builder's layers.

    Raises
    ------
    ValueError
        For another ``args.net`` (``'plain'`` is the experiment's own
        network).

    Examples
    --------
    >>> import argparse
    >>> from indrnn.lasagne.layers import InputLayer
    >>> from indrnn.run.flags import add_deep_options
    >>> parser = add_deep_options(argparse.ArgumentParser())
    >>> parser.set_defaults(hidden_units=8)
    >>> args = parser.parse_args(['--net', 'residual', '--num_blocks', '1'])
    >>> net = build_from_options(args, InputLayer((5, 4, 3)), 10)
    >>> net['out'].output_shape
    (4, 10)
    """
    common = dict(bn_location=args.bn_location, dropout=args.dropout,
                  u_lastlayer_ini=args.u_lastlayer_ini, **kwargs)
    if args.net == 'residual':
        return build_residual_indrnn(
            incoming, num_classes, hidden_units=args.hidden_units,
            num_blocks=args.num_blocks, **common)
    if args.net == 'dense':
        return build_dense_indrnn(
            incoming, num_classes, growth_rate=args.growth_rate,
            block_config=args.block_config, num_first=args.num_first,
            bn_size=args.bn_size, dropout_sec=args.dropout_sec,
            dropout_trans=args.dropout_trans,
            dropout_first=args.dropout_first,
            add_last_layer=args.add_last_layer, **common)
    raise ValueError("unknown --net %r (expected 'residual' or 'dense')"
                     % (args.net,))


def parse_block_config(text):
    """Parse a ``--block_config`` value such as ``'(8,6,4)'`` or ``8,6,4``.

    Parameters
    ----------
    text : str

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> parse_block_config('(8,6,4)')
    (8, 6, 4)
    """
    parts = [s for s in text.strip().strip('()[]').split(',') if s.strip()]
    config = tuple(int(s) for s in parts)
    if not config or min(config) < 1:
        raise ValueError("block_config needs positive layer counts, got %r"
                         % (text,))
    return config
