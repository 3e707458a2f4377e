"""Tests of the Deep IndRNN network builders (indrnn.deep) and of their
selection in the pixel-MNIST script (``--net residual|dense``).

Shapes and parameter counts are checked against sizes worked out by hand
below, the forward pass of a dense layer against a numpy reference, the
gradient through a dense block against central finite differences
(float64), and the script end to end on tiny MNIST-format files
(FAST_COMPILE: this checks the wiring, not speed).
"""
import json
import os

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import indrnn.lasagne as lasagne
from indrnn.experiments import pixelmnist
from indrnn import deep
from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from indrnn.lasagne.layers import (BatchNormLayer, InputLayer,
                                   get_all_layers, get_all_params,
                                   get_output)
from indrnn.legacy import load_legacy_params
from idx_files import write_learnable_mnist

T, B = 5, 4


def count(params):
    return sum(int(np.prod(p.get_value().shape)) for p in params)


def rnn_layers(layer):
    return [l for l in get_all_layers(layer)
            if isinstance(l, IndRNNLayer_onlyrecurrent)]


@pytest.fixture
def seeded():
    old = lasagne.random.get_rng()
    lasagne.random.set_rng(np.random.RandomState(0))
    yield
    lasagne.random.set_rng(old)


# --------------------------------------------------------------- residual

def test_residual_shapes_parameter_counts_and_wiring(seeded):
    F, H = 3, 6
    net = deep.build_residual_indrnn(InputLayer((T, B, F)), 10,
                                     hidden_units=H, num_blocks=2)
    trainable = get_all_params(net['out'], trainable=True)
    # fc0: W 3x6 + b 6                                    =  24
    # per block, twice: BN beta+gamma 2*6, u 6, fc 6x6 + 6 = 60
    #   -> 2 blocks * 2 * 60                               = 240
    # last: BN 12 + u 6                                    =  18
    # classifier: 6x10 + 10                                =  70
    assert count(trainable) == 24 + 240 + 18 + 70 == 352
    # 2 * 2 + 1 = 5 recurrent layers, and as many BNs.
    assert len(rnn_layers(net['out'])) == 5
    bns = [l for l in get_all_layers(net['out'])
           if isinstance(l, BatchNormLayer)]
    assert len(bns) == 5
    # Sequence-wise BN: one mean per unit.
    assert all(l.mean.get_value().shape == (H,) for l in bns)
    for key in ('fc0', 'block1', 'block2', 'features'):
        assert net[key].output_shape == (T, B, H)
    assert net['out'].output_shape == (B, 10)
    # Pre-activation: the block input goes to BN, then the recurrence,
    # then the weight; the sum adds the identity shortcut.
    assert net['block1.indrnn1.bn'].input_layer is net['fc0']
    rnn = net['block1.indrnn1.rnn']
    assert rnn.input_layers[0] is net['block1.indrnn1.bn']
    assert net['block1.fc1'].input_layer is net['block1.indrnn1.rnn']
    assert net['block1'].input_layers == [net['fc0'], net['block1.fc2']]
    assert net['block2'].input_layers[0] is net['block1']
    assert net['last.bn'].input_layer is net['block2']


def test_bn_after_frame_bn_and_dropout_shared_over_time(seeded):
    F, H = 3, 6
    net = deep.build_residual_indrnn(InputLayer((T, B, F)), None,
                                     hidden_units=H, num_blocks=1,
                                     bn_location='bn_after', bn='frame',
                                     dropout=0.5)
    assert 'out' not in net
    assert net['block1.indrnn1.rnn'].input_layers[0] is net['fc0']
    assert net['block1.indrnn1.bn'].input_layer is net['block1.indrnn1.rnn']
    # Frame-wise BN: statistics per step, (T, H); beta and gamma per unit.
    bn = net['last.bn']
    assert bn.mean.get_value().shape == (T, H)
    assert bn.beta.get_value().shape == (H,)
    # The dropout mask is drawn once per sequence and unit: a dropped unit
    # is zero at every step.
    X = pt.tensor3()
    drop = net['features']
    assert drop.shared_axes == (0,)
    f = pytensor.function([X], get_output(drop, {drop.input_layer: X}),
                          mode='FAST_COMPILE')
    y = f(np.ones((T, B, H), dtype=X.dtype))
    zero = y == 0
    assert zero.any() and (~zero).any()
    assert (zero == zero[:1]).all()
    with pytest.raises(ValueError):
        deep.build_residual_indrnn(InputLayer((T, B, F)), bn_location='x')


def test_recurrent_initialisation_and_names(seeded):
    MAG = 2.0
    hi, lo = deep.recurrent_bounds(T, MAG)
    assert hi == pytest.approx(MAG ** (1.0 / T))
    assert lo == pytest.approx(MAG ** (-1.0 / T))
    net = deep.build_residual_indrnn(InputLayer((T, B, 2)), 10,
                                     hidden_units=200, num_blocks=1,
                                     MAG=MAG, u_lastlayer_ini=True)
    *inner, last = rnn_layers(net['out'])
    assert last is net['last.rnn']
    for l in inner:
        u = l.W_hid_to_hid.get_value()
        assert u.min() >= 0 and u.max() <= hi and u.min() < lo
    u = last.W_hid_to_hid.get_value()
    assert u.min() >= lo and u.max() <= hi
    # The names the U_bound clip and the weight decay look for.
    for l in inner + [last]:
        assert l.W_hid_to_hid.name == 'hidden_to_hidden.W'


# ------------------------------------------------------------------ dense

def test_dense_shapes_and_parameter_counts(seeded):
    # k = 2, bottleneck 4k = 8, first layer 3k = 6, blocks (2, 1), one
    # transition and a last layer.
    net = deep.build_dense_indrnn(InputLayer((T, B, 1)), 10, growth_rate=2,
                                  block_config=(2, 1), num_first=3,
                                  add_last_layer=True)
    # Composite unit Weight(n_in -> n) + BN + IndRNN:
    # n_in*n + n (W, b) + 2n (beta, gamma) + n (u) = n_in*n + 4n.
    unit = lambda n_in, n: n_in * n + 4 * n  # noqa: E731
    expected = (
        unit(1, 6)                    # first layer, 1 -> 6:        30
        + unit(6, 8) + unit(8, 2)     # block1 layer1, 6 -> 8 -> 2: 104
        + unit(8, 8) + unit(8, 2)     # block1 layer2, 8 -> 8 -> 2: 120
        + unit(10, 5)                 # transition, 10 -> 10//2 = 5: 70
        + unit(5, 8) + unit(8, 2)     # block2 layer1, 5 -> 8 -> 2:  96
        + unit(7, 3)                  # last layer, 7 -> 7//2 = 3:   33
        + 3 * 10 + 10)                # classifier:                  40
    assert expected == 493
    assert count(get_all_params(net['out'], trainable=True)) == expected
    # 1 + 2 * 3 + 1 + 1 recurrent layers.
    assert len(rnn_layers(net['out'])) == 9
    widths = {'first.rnn': 6, 'block1.layer1.concat': 8, 'block1': 10,
              'transition1': 5, 'block2': 7, 'features': 3}
    for key, width in widths.items():
        assert net[key].output_shape == (T, B, width), key
    assert net['out'].output_shape == (B, 10)
    assert deep.dense_num_features(2, (2, 1), 3, True) == [6, 10, 5, 7, 3]
    # The paper's configuration for pixel MNIST: 6k = 96 units first,
    # +8k = 224, /2 = 112, +6k = 208, /2 = 104, +4k = 168.
    assert deep.dense_num_features(16, (8, 6, 4), 6) == \
        [96, 224, 112, 208, 104, 168]


def test_dense_layer_matches_a_numpy_reference(seeded):
    # One dense layer (k = 2, bottleneck 8) after a first layer of 4
    # units, batch statistics (training mode), bn_before.
    F = 3
    with pytensor.config.change_flags(floatX='float64'):
        net = deep.build_dense_indrnn(InputLayer((T, B, F)), None,
                                      growth_rate=2, block_config=(1,),
                                      num_first=2)
        rng = np.random.RandomState(1)
        for p in get_all_params(net['features'], trainable=True):
            # Non-zero biases, betas and gammas so that all of them matter.
            p.set_value(p.get_value() + rng.uniform(0.1, 0.5,
                                                    p.get_value().shape))
        X = pt.tensor3(dtype='float64')
        f = pytensor.function([X], get_output(net['features'], X),
                              mode='FAST_COMPILE')
    x = rng.randn(T, B, F)

    def composite(x, fc, bn, rnn):
        a = x @ fc.W.get_value() + fc.b.get_value()
        mean = a.mean(axis=(0, 1))
        var = a.var(axis=(0, 1))
        a = (a - mean) / np.sqrt(var + bn.epsilon) * bn.gamma.get_value() \
            + bn.beta.get_value()
        u = rnn.W_hid_to_hid.get_value()
        h = np.zeros(a.shape[1:])
        out = []
        for t in range(a.shape[0]):
            h = np.maximum(a[t] + u * h, 0)
            out.append(h)
        return np.stack(out)

    first = composite(x, net['fc0'], net['first.bn'], net['first.rnn'])
    p = 'block1.layer1.'
    mid = composite(first, net[p + 'fc1'], net[p + 'indrnn1.bn'],
                    net[p + 'indrnn1.rnn'])
    new = composite(mid, net[p + 'fc2'], net[p + 'indrnn2.bn'],
                    net[p + 'indrnn2.rnn'])
    np.testing.assert_allclose(f(x), np.concatenate([first, new], axis=2),
                               rtol=1e-10, atol=1e-12)


def test_gradient_through_a_dense_block_matches_finite_differences(seeded):
    with pytensor.config.change_flags(floatX='float64'):
        net = deep.build_dense_indrnn(
            InputLayer((3, 2, 2)), None, growth_rate=2, block_config=(2,),
            num_first=1, bn_size=2, bn_location='bn_after')
        X = pt.tensor3(dtype='float64')
        rng = np.random.RandomState(2)
        w = rng.randn(3, 2, 2 + 2 * 2)
        cost = pt.sum(get_output(net['features'], X) * w)
        params = get_all_params(net['features'], trainable=True)
        W1 = net['block1.layer1.fc1'].W  # a weight inside the block
        U = net['block1.layer2.indrnn2.rnn'].W_hid_to_hid
        f = pytensor.function([X], cost, mode='FAST_COMPILE')
        g = pytensor.function([X], pt.grad(cost, [X, W1, U]),
                              mode='FAST_COMPILE')
        assert W1 in params and U in params
    x = rng.randn(3, 2, 2)
    gx, gW1, gU = g(x)
    eps = 1e-6

    def numeric(get, put, index):
        base = get()
        plus, minus = base.copy(), base.copy()
        plus[index] += eps
        minus[index] -= eps
        put(plus)
        fp = f(x)
        put(minus)
        fm = f(x)
        put(base)
        return (fp - fm) / (2 * eps)

    checked = 0
    for index in np.ndindex(*x.shape):
        def put(v, index=index):
            x[...] = v
        assert gx[index] == pytest.approx(
            numeric(lambda: x.copy(), put, index), rel=1e-5, abs=1e-7)
        checked += 1
    for param, grad in ((W1, gW1), (U, gU)):
        for index in np.ndindex(*grad.shape):
            assert grad[index] == pytest.approx(
                numeric(param.get_value, param.set_value, index),
                rel=1e-5, abs=1e-7), (param.name, index)
            checked += 1
    assert checked == 12 + 2 * 4 + 2
    # The gradient is not trivially zero.
    assert np.abs(gx).max() > 1e-3 and np.abs(gW1).max() > 1e-3


def test_dense_without_first_layer(seeded):
    # num_first=0: the input (4 features) goes straight into block 1, as
    # the embedding in the author's language models.
    net = deep.build_dense_indrnn(InputLayer((T, B, 4)), None,
                                  growth_rate=2, block_config=(1,),
                                  num_first=0, bn_size=2)
    unit = lambda n_in, n: n_in * n + 4 * n  # noqa: E731
    assert count(get_all_params(net['features'], trainable=True)) == \
        unit(4, 4) + unit(4, 2) == 48
    assert 'fc0' not in net and 'first.rnn' not in net
    assert isinstance(net['block1.layer1.fc1'].input_layer, InputLayer)
    assert net['features'].output_shape == (T, B, 6)
    assert deep.dense_num_features(2, (1,), 0, num_input=4) == [4, 6]
    with pytest.raises(ValueError):
        deep.dense_num_features(2, (1,), 0)


@pytest.mark.parametrize('kind', ['residual', 'dense'])
def test_initial_states_from_layers(seeded, kind):
    """hid_init gives each recurrent layer its initial state, asked for in
    the order of net['recurrent']; the default (None) is zeros, as
    before."""
    F = 3
    widths = []
    states = []

    def hid_init(num_units):
        widths.append(num_units)
        states.append(InputLayer((B, num_units), name='h%d' % len(states)))
        return states[-1]

    def make(hid_init):
        # The same parameters for both networks.
        lasagne.random.set_rng(np.random.RandomState(0))
        l_in = InputLayer((T, B, F))
        if kind == 'residual':
            return l_in, deep.build_residual_indrnn(
                l_in, None, hidden_units=4, num_blocks=1, bn='frame',
                hid_init=hid_init)
        return l_in, deep.build_dense_indrnn(
            l_in, None, growth_rate=2, block_config=(1,), num_first=2,
            bn_size=2, bn='frame', hid_init=hid_init)

    l_in, net = make(hid_init)
    _, zero = make(None)
    rnns = net['recurrent']
    assert rnns == [l for l in get_all_layers(net['features'])
                    if isinstance(l, IndRNNLayer_onlyrecurrent)]
    assert widths == [r.output_shape[2] for r in rnns] == \
        ([4, 4, 4] if kind == 'residual' else [4, 4, 2])
    for r, s in zip(rnns, states):
        assert r.input_layers[r.hid_init_incoming_index] is s
    assert all(r.hid_init_incoming_index <= 0 for r in zero['recurrent'])
    # Zero states through the inputs give the zero-initialised network's
    # output; other states change it, layer by layer.
    X = pt.tensor3()
    H = [pt.matrix() for _ in states]
    inputs = dict(zip(states, H))
    inputs[l_in] = X
    f = pytensor.function([X] + H, get_output(net['features'], inputs),
                          mode='FAST_COMPILE')
    g = pytensor.function([X], get_output(zero['features'], X),
                          mode='FAST_COMPILE')
    rng = np.random.RandomState(1)
    x = rng.randn(T, B, F).astype(X.dtype)
    h = [np.zeros((B, w), dtype=X.dtype) for w in widths]
    np.testing.assert_allclose(f(x, *h), g(x), rtol=1e-6)
    for i, w in enumerate(widths):
        moved = list(h)
        moved[i] = rng.uniform(0.5, 2.0, (B, w)).astype(X.dtype)
        assert not np.allclose(f(x, *moved), g(x), rtol=1e-4), i


@pytest.mark.parametrize('bn', ['frame', 'sequence'])
def test_frame_bn_does_not_look_ahead(seeded, bn):
    """Training mode: with frame-wise BN the features at step t do not
    depend on later steps; sequence-wise BN (statistics over all steps)
    does look ahead, which is why language models use frame-wise BN."""
    t0 = 2
    net = deep.build_residual_indrnn(InputLayer((T, B, 3)), None,
                                     hidden_units=4, num_blocks=1, bn=bn)
    X = pt.tensor3()
    f = pytensor.function([X], get_output(net['features'], X,
                                          deterministic=False),
                          mode='FAST_COMPILE')
    rng = np.random.RandomState(0)
    x = rng.randn(T, B, 3).astype(X.dtype)
    x2 = x.copy()
    x2[t0 + 1:] = rng.randn(T - t0 - 1, B, 3)
    y, y2 = f(x), f(x2)
    early = np.abs(y[:t0 + 1] - y2[:t0 + 1]).max()
    if bn == 'frame':
        assert early == 0
    else:
        assert early > 1e-3
    assert np.abs(y[t0 + 1:] - y2[t0 + 1:]).max() > 1e-3


def test_block_config_parsing():
    assert deep.parse_block_config('(8,6,4)') == (8, 6, 4)
    assert deep.parse_block_config('8, 6') == (8, 6)
    with pytest.raises(ValueError):
        deep.parse_block_config('(8,0)')


# --------------------------------------------------------- pixel MNIST

N_TRAIN, N_TEST, SIZE = 16, 8, 4




@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """Tiny MNIST-format files (4x4 images: 16 steps)."""
    return write_learnable_mnist(tmp_path_factory.mktemp('data'), N_TRAIN,
                                 N_TEST, SIZE)


def test_pixelmnist_parsers_keep_the_original_flags():
    original = vars(pixelmnist.make_parser().parse_args([]))
    run = vars(pixelmnist.make_run_parser().parse_args([]))
    args = pixelmnist.make_main_parser().parse_args([])
    assert 'net' not in original and 'net' not in run
    for key, value in run.items():
        assert getattr(args, key) == value
    assert args.net == 'plain'
    assert pixelmnist.save_name(args) == 'MNIST_indrnn'
    args = pixelmnist.make_main_parser().parse_args(
        ['--net', 'dense', '--block_config', '(2,1)', '--bn_location',
         'bn_before', '--u_lastlayer_ini'])
    assert (args.block_config, args.bn_location, args.u_lastlayer_ini) == \
        ((2, 1), 'bn_before', True)
    assert pixelmnist.save_name(args) == 'MNIST_indrnn_dense'
    with pytest.raises(ValueError):
        pixelmnist.build_network(pixelmnist.make_main_parser().parse_args(
            ['--net', 'dense', '--model', 'lstm']), seq_len=SIZE * SIZE)


def test_pixelmnist_builds_the_selected_network(seeded):
    args = pixelmnist.make_main_parser().parse_args(
        ['--net', 'residual', '--num_blocks', '2', '--hidden_units', '5',
         '--batch_size', '3', '--MAG', '3'])
    net = pixelmnist.build_network(args, seq_len=7)
    assert net['input'].output_shape == (3, 7, 1)
    assert net['fc0'].output_shape == (7, 3, 5)
    assert len(rnn_layers(net['out'])) == 5
    assert net['out'].output_shape == (3, 10)
    # The recurrent weights start in [0, MAG ** (1 / seq_len)].
    for l in rnn_layers(net['out']):
        assert l.W_hid_to_hid.get_value().max() <= 3 ** (1 / 7.)


def test_pixelmnist_main_trains_the_dense_network(data, tmp_path,
                                                  monkeypatch):
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    out = tmp_path / 'run'
    argv = ['--net', 'dense', '--growth_rate', '2', '--block_config', '1,1',
            '--num_first', '2', '--add_last_layer', '--u_lastlayer_ini',
            '--dropout', '0.1', '--batch_size', '4', '--eval_every', '2',
            '--max_steps', '4', '--seed', '0', '--data_dir', str(data),
            '--out', str(out)]
    with pytensor.config.change_flags(mode='FAST_COMPILE'):
        assert pixelmnist.main(argv) == 0
    with open(out / 'MNIST_indrnn_dense.json') as f:
        report = json.load(f)
    assert report['stop_reason'] == 'max_steps' and report['steps'] == 4
    assert [r['step'] for r in report['reports']] == [2, 4]
    for r in report['reports']:
        assert np.isfinite(r['train_loss']) and r['test_images'] == N_TEST
        assert 0 <= r['bn_accuracy'] <= 1
    # The saved parameters fit the network the flags build, and every
    # recurrent weight stayed within the U_bound clip.
    args = pixelmnist.make_main_parser().parse_args(argv)
    net = pixelmnist.build_network(args, seq_len=SIZE * SIZE)
    load_legacy_params(str(out / 'MNIST_indrnn_dense.npz'), net['out'])
    U_bound = pixelmnist.network_globals(args, SIZE * SIZE).U_bound
    for l in rnn_layers(net['out']):
        assert np.abs(l.W_hid_to_hid.get_value()).max() <= U_bound * (
            1 + 1e-6)
    assert os.path.exists(out / 'MNIST_indrnn_dense.log')


# ------------------------------------------------------------------ action

@pytest.fixture(scope='module')
def ntu_data(tmp_path_factory):
    """A small synthetic NTU set (4 classes), as in
    tests/experiments/test_action.py, converted to the original layout."""
    from indrnn.data import ntu_convert
    from indrnn.data.ntu_synthetic import write_synthetic_skeletons
    root = tmp_path_factory.mktemp('ntu')
    write_synthetic_skeletons(str(root / 'skeletons'), per_class=10, seed=0)
    assert ntu_convert.main([str(root / 'skeletons'), str(root / 'npy'),
                             '--max_frames', '20', '--quiet']) == 0
    return root / 'npy'


def test_action_parsers_keep_the_original_flags():
    from indrnn.experiments import Indrnn_action_network as action_network
    from indrnn.experiments import Indrnn_action_train as action
    original = vars(action_network.make_parser().parse_args([]))
    run = vars(action.make_parser().parse_args([]))
    args = action.make_main_parser().parse_args([])
    assert 'net' not in original and 'net' not in run
    for key, value in run.items():
        assert getattr(args, key) == value
    # The same option names and defaults as the pixel-MNIST script.
    mnist_args = vars(pixelmnist.make_main_parser().parse_args([]))
    for key in ('net', 'num_blocks', 'growth_rate', 'block_config',
                'num_first', 'bn_size', 'add_last_layer', 'bn_location',
                'u_lastlayer_ini', 'dropout', 'dropout_sec',
                'dropout_trans', 'dropout_first'):
        assert getattr(args, key) == mnist_args[key], key
    assert action.save_name(args) == 'action_indrnn'


@pytest.mark.parametrize('net_name', ['residual', 'dense'])
def test_action_builds_the_selected_network(seeded, net_name):
    from indrnn.experiments import Indrnn_action_network as action_network
    from indrnn.experiments import Indrnn_action_train as action
    args = action.make_main_parser().parse_args(
        ['--net', net_name, '--num_blocks', '1', '--hidden_units', '6',
         '--growth_rate', '2', '--block_config', '1', '--num_first', '2',
         '--batch_size', '3', '--seq_len', '4', '--MAG', '3',
         '--u_lastlayer_ini'])
    net = action_network.build_network(args, pt.tensor4(), indim=5)
    # (batch, seq, joints, 3) -> (seq, batch, joints * 3).
    assert net['input0'].output_shape == (3, 4, 5, 3)
    assert net['time_first'].output_shape == (4, 3, 15)
    assert net['fc0'].input_layer is net['time_first']
    assert net['out'].output_shape == (3, 60)
    rnns = rnn_layers(net['out'])
    # residual: 2 * 1 + 1; dense: first + 2 (one dense layer).
    assert len(rnns) == 3
    # Sequence-wise BN, recurrent weights in [0, 3 ** (1 / 4)], the last
    # layer's in [3 ** (-1 / 4), 3 ** (1 / 4)].
    assert all(l.mean.get_value().shape == (l.input_shape[2],)
               for l in get_all_layers(net['out'])
               if isinstance(l, BatchNormLayer))
    for l in rnns:
        assert l.W_hid_to_hid.get_value().max() <= 3 ** 0.25
    assert rnns[-1].W_hid_to_hid.get_value().min() >= 3 ** -0.25


@pytest.mark.parametrize('net_name', ['residual', 'dense'])
def test_action_main_trains_the_deep_network(ntu_data, tmp_path,
                                             monkeypatch, net_name):
    from indrnn.experiments import Indrnn_action_network as action_network
    from indrnn.experiments import Indrnn_action_train as action
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    out = tmp_path / 'run'
    argv = ['--net', net_name, '--num_blocks', '1', '--hidden_units', '8',
            '--growth_rate', '2', '--block_config', '1,1', '--num_first',
            '2', '--dropout', '0.1', '--batch_size', '8', '--seq_len', '4',
            '--eval_fold', '1', '--max_steps', '3', '--test_crops', '1',
            '--constrain_U', '--use_weightdecay_nohiddenW', '--seed', '0',
            '--data_dir', str(ntu_data), '--out', str(out)]
    with pytensor.config.change_flags(mode='FAST_COMPILE'):
        assert action.main(argv) == 0
    name = 'action_indrnn_' + net_name
    summary = json.loads((out / (name + '.json')).read_text())
    assert summary['steps'] == 3 and summary['stop_reason'] == 'max_steps'
    assert summary['args']['net'] == net_name
    for key in ('testacc', 'bn_testacc'):
        assert 0 <= summary['test'][key]['per_sample'] <= 1
    assert (out / (name + '.log')).exists()
    # The saved parameters fit the network the flags build, and the
    # recurrent weights stayed within the --constrain_U clip.
    args = action.make_main_parser().parse_args(argv)
    with pytensor.config.change_flags(floatX='float32'):
        net = action_network.build_network(
            args, pt.tensor4('x', dtype='float32'))
    load_legacy_params(str(out / (name + '.npz')), net['out'])
    bound = action_network.network_globals(args).U_bound
    for l in rnn_layers(net['out']):
        assert np.abs(l.W_hid_to_hid.get_value()).max() <= bound
