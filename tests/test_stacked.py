"""indrnn.stacked against the copies the pixel-MNIST and action scripts
had before (their common loop written out below): the same layers in the
same order, the same initial values from the same random state, under the
same keys."""
import types

import numpy as np
import pytest

import indrnn.lasagne as lasagne
from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from indrnn.lasagne.init import Constant, HeNormal, Uniform
from indrnn.lasagne.layers import (BatchNormLayer, DenseLayer,
                                   DimshuffleLayer, DropoutLayer, InputLayer,
                                   ReshapeLayer, get_all_layers,
                                   get_all_param_values)
from indrnn.lasagne.nonlinearities import rectify, softmax
from indrnn.stacked import build_plain_indrnn

SEQ_LEN, BATCH, FEATURES = 6, 4, 3


def _globals(num_layers):
    return types.SimpleNamespace(
        batch_size=BATCH, seq_len=SEQ_LEN, num_layers=num_layers,
        hidden_units=5, outputclass=7, U_bound=1.2, U_lowbound=0.8,
        act=rectify, ini_W=HeNormal(gain=0.5))


def scripts_copy(g, b, use_bn_afterrnn, conv_drop=False, use_dropout=False,
                 droprate=0.0, drop_layers=1):
    """The loop of build_res_rnn_network (indrnn.experiments.pixelmnist) and
    build_indrnn_network (indrnn.experiments.Indrnn_action_network, after its
    input reshape) as they were; ``b()`` is a new bias initializer (the
    pixel script's Uniform((0, ini_b)), the action script's
    Constant(ini_b)), the dropout is the action script's."""
    net = {}
    net['input'] = InputLayer((g.batch_size, SEQ_LEN, FEATURES))
    net['rnn0'] = DimshuffleLayer(net['input'], (1, 0, 2))
    for l in range(1, g.num_layers + 1):
        hidini = 0
        if l == g.num_layers:
            hidini = g.U_lowbound
        net['rnn%d' % (l - 1)] = ReshapeLayer(
            net['rnn%d' % (l - 1)], (g.batch_size * SEQ_LEN, -1))
        net['rnn%d' % (l - 1)] = DenseLayer(
            net['rnn%d' % (l - 1)], g.hidden_units, W=g.ini_W, b=b(),
            nonlinearity=None)
        net['rnn%d' % (l - 1)] = ReshapeLayer(
            net['rnn%d' % (l - 1)], (SEQ_LEN, g.batch_size, -1))
        if conv_drop:
            net['rnn%d' % (l - 1)] = DropoutLayer(
                net['rnn%d' % (l - 1)], p=droprate, shared_axes=(0,))
        net['rnn%d' % l] = net['rnn%d' % (l - 1)]
        if not use_bn_afterrnn:
            net['rnn%d' % l] = BatchNormLayer(net['rnn%d' % l], axes=(0, 1),
                                              beta=b())
        net['rnn%d' % l] = IndRNNLayer_onlyrecurrent(
            net['rnn%d' % l], g.hidden_units,
            W_hid_to_hid=Uniform(range=(hidini, g.U_bound)),
            nonlinearity=g.act, only_return_final=False, grad_clipping=10)
        if use_bn_afterrnn:
            net['rnn%d' % l] = BatchNormLayer(net['rnn%d' % l], axes=(0, 1))
        if use_dropout and l % drop_layers == 0:
            net['rnn%d' % l] = DropoutLayer(net['rnn%d' % l], p=droprate,
                                            shared_axes=(0,))
    net['rnn%d' % g.num_layers] = lasagne.layers.SliceLayer(
        net['rnn%d' % g.num_layers], indices=-1, axis=0)
    net['out'] = DenseLayer(net['rnn%d' % g.num_layers], g.outputclass,
                            nonlinearity=softmax)
    return net


def _same(ref, ours, seed):
    # The keys name the same kinds of layers at the same places.
    assert sorted(ref) == sorted(ours)
    for key in ref:
        assert type(ref[key]) is type(ours[key]), key
        assert ref[key].output_shape == ours[key].output_shape, key
    kinds = lambda net: [(type(l).__name__, l.output_shape)
                         for l in get_all_layers(net['out'])]
    assert kinds(ref) == kinds(ours)
    dropouts = lambda net: [l.p for l in get_all_layers(net['out'])
                            if isinstance(l, DropoutLayer)]
    assert dropouts(ref) == dropouts(ours)
    for a, b in zip(get_all_param_values(ref['out']),
                    get_all_param_values(ours['out'])):
        np.testing.assert_array_equal(a, b)


def _build(seed, build):
    lasagne.random.set_rng(np.random.RandomState(seed))
    return build()


@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("ini_b, bn_after", [(0.0, True), (0.2, False)])
def test_the_pixelmnist_stack(num_layers, ini_b, bn_after):
    g = _globals(num_layers)
    ref = _build(1, lambda: scripts_copy(
        g, lambda: Uniform(range=(0, ini_b)), bn_after))

    def ours():
        net = {'input': InputLayer((BATCH, SEQ_LEN, FEATURES))}
        return build_plain_indrnn(
            net, DimshuffleLayer(net['input'], (1, 0, 2)), g, 10,
            b=Uniform(range=(0, ini_b)), bn_after=bn_after)
    _same(ref, _build(1, ours), 1)


@pytest.mark.parametrize("conv_drop, use_dropout, drop_layers, bn_after", [
    (False, False, 1, False), (True, True, 2, False), (False, True, 1, True)])
def test_the_action_stack(conv_drop, use_dropout, drop_layers, bn_after):
    g = _globals(3)
    ref = _build(2, lambda: scripts_copy(
        g, lambda: Constant(0.1), bn_after, conv_drop, use_dropout, 0.3,
        drop_layers))

    def ours():
        net = {'input': InputLayer((BATCH, SEQ_LEN, FEATURES))}
        return build_plain_indrnn(
            net, DimshuffleLayer(net['input'], (1, 0, 2)), g, 10,
            b=Constant(0.1), bn_after=bn_after,
            input_dropout=0.3 if conv_drop else None,
            dropout=0.3 if use_dropout else None, drop_layers=drop_layers)
    _same(ref, _build(2, ours), 2)
