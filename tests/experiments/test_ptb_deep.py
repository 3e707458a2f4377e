"""Tests of the deep language models of the PTB scripts (``--net residual``
and ``--net dense``): the res-IndRNN and dense-IndRNN of indrnn.deep with
frame-wise batch normalisation, an output at every step and the state of
every recurrent layer carried between batches.

Checked: the parsers keep the original flags (the deep options are extras
only, ``--net plain`` builds the original network), the carried state
against one batch of twice the length, no look-ahead in training mode,
parameter counts worked out by hand, weight tying at word level, and both
command lines end to end on a slice of the real data. Functions are
compiled with mode FAST_COMPILE, as in test_ptb_lm.py.
"""
import json

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import indrnn.lasagne as lasagne
from indrnn.experiments import penntree_charlevel_rernn as cptb
from indrnn.experiments import penntree_wordlevel_rernn_WT as wptb
from indrnn.experiments import ptb_lm
from indrnn.batchnorm_step_timefirst import BatchNorm_step_timefirst_Layer
from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from indrnn.lasagne.layers import get_all_layers, get_all_params
from indrnn.legacy import load_legacy_params
from lm_checks import halves_equal_whole, randomize_short_and_long

MODE = "FAST_COMPILE"
VOCAB = 50

#: Small networks of each kind, in both scripts: widths chosen so that the
#: last residual/dense features differ from the embedding's (--embed_size
#: 3), which the last layer projects back to.
RESIDUAL = ['--net', 'residual', '--num_blocks', '1', '--hidden_units',
            '4', '--embed_size', '3']
DENSE = ['--net', 'dense', '--growth_rate', '2', '--bn_size', '2',
         '--block_config', '1,1', '--embed_size', '3']


def parse(spec, argv):
    return spec.make_parser().parse_args(argv)


def count(params):
    return sum(int(np.prod(p.get_value().shape)) for p in params)


def build(spec, argv, batch=2, steps=4, vocab=VOCAB, inputs=None):
    args = parse(spec, argv + ['--batch_size', str(batch), '--seq_len',
                               str(steps)])
    X, H = inputs or (pt.imatrix(), pt.matrix())
    return args, spec.build_rnn_network(
        args, IndRNNLayer_onlyrecurrent, X, H, seq_len1=1000,
        outputclass=vocab)


@pytest.fixture
def seeded():
    lasagne.random.set_rng(np.random.RandomState(0))


# ---------------------------------------------------------------- parsers

@pytest.mark.parametrize("module", [cptb, wptb])
def test_parsers_keep_the_original_flags(module, seeded):
    original = vars(module.make_parser().parse_args([]))
    args = module.make_parser(extras=True).parse_args([])
    assert 'net' not in original and 'embed_size' not in original
    for key, value in original.items():
        assert getattr(args, key) == value, key
    # The author's language-model settings for the deep options.
    assert (args.net, args.num_blocks, args.growth_rate, args.block_config,
            args.num_first, args.bn_location, args.embed_size) == \
        ('plain', 5, 256, (8, 6, 4), 0, 'bn_before', 600)
    assert args.dropout == args.dropout_words == args.dropout_extrafc == 0
    # --net plain (the default) builds exactly the original network.
    argv = ['--num_layers', '2', '--hidden_units', '5', '--batch_size', '2',
            '--seq_len', '3']
    spec = module.SPEC
    plain = module.build_rnn_network(
        module.make_parser().parse_args(argv), IndRNNLayer_onlyrecurrent,
        pt.imatrix(), pt.matrix(), seq_len1=100, outputclass=VOCAB)
    chosen = spec.build_rnn_network(
        parse(spec, argv), IndRNNLayer_onlyrecurrent, pt.imatrix(),
        pt.matrix(), seq_len1=100, outputclass=VOCAB)
    assert sorted(plain) == sorted(chosen)
    layers = [type(l).__name__ for l in get_all_layers(plain['out'])]
    assert layers == [type(l).__name__
                      for l in get_all_layers(chosen['out'])]
    assert [(p.name, p.get_value().shape)
            for p in get_all_params(plain['out'])] == \
        [(p.name, p.get_value().shape)
         for p in get_all_params(chosen['out'])]


def test_act_tanh_is_refused(seeded):
    with pytest.raises(ValueError, match="--act tanh"):
        build(cptb.SPEC, RESIDUAL + ['--act', 'tanh'])


# ---------------------------------------------------- structure and counts

def test_residual_parameter_count_and_state_layout(seeded):
    args, net = build(cptb.SPEC, RESIDUAL)
    # embedding 50 x 3                                         = 150
    # fc0 3 -> 4: 12 + 4                                       =  16
    # block: twice BN (beta, gamma) 8 + u 4 + fc 4x4 + 4       =  64
    # last IndRNN_BN: BN 8 + u 4                               =  12
    # head: fc 4 -> 3: 4x3 + 3, BN 6, u 3, extra BN 6          =  30
    # softmax 3 x 50 + 50                                      = 200
    assert count(get_all_params(net['out'], trainable=True)) == \
        150 + 16 + 64 + 12 + 30 + 200 == 472
    widths = [r.output_shape[2] for r in net['recurrent']]
    assert widths == [4, 4, 4, 3]
    assert net['hid_out'].output_shape == (2, 15)
    # Frame-wise BN everywhere: statistics per step.
    bns = [l for l in get_all_layers(net['out'])
           if isinstance(l, lasagne.layers.BatchNormLayer)]
    assert len(bns) == 5
    assert all(isinstance(l, BatchNorm_step_timefirst_Layer) and
               l.mean.get_value().shape[0] == 4 for l in bns)
    # Every recurrent layer reads its initial state from the state matrix:
    # its hid_init is an InputLayer on a slice of hid_init_sym.
    for r in net['recurrent']:
        assert isinstance(r.hid_init_incoming_index, int) and \
            r.hid_init_incoming_index > 0
    assert net['out'].output_shape == (2 * 4, VOCAB)


def test_dense_parameter_count_and_state_layout(seeded):
    args, net = build(cptb.SPEC, DENSE)
    # Composite unit Weight(n_in -> n) + BN + IndRNN: n_in*n + 4n.
    unit = lambda n_in, n: n_in * n + 4 * n  # noqa: E731
    expected = (
        50 * 3                         # embedding, fed to block 1 directly
        + unit(3, 4) + unit(4, 2)      # block1 layer1: 3 -> 4 -> 2, 5 out
        + unit(5, 2)                   # transition 5 -> 5 // 2 = 2
        + unit(2, 4) + unit(4, 2)      # block2 layer1: 2 -> 4 -> 2, 4 out
        + unit(4, 3) + 2 * 3           # head 4 -> 3 and its extra BN
        + 3 * 50 + 50)                 # softmax
    assert expected == 482
    assert count(get_all_params(net['out'], trainable=True)) == expected
    assert [r.output_shape[2] for r in net['recurrent']] == \
        [4, 2, 2, 4, 2, 3]
    assert 'fc0' not in net  # --num_first 0: no first layer
    # With bn_after there is no extra BN (as the author's code).
    args, net = build(cptb.SPEC, DENSE + ['--bn_location', 'bn_after'])
    assert count(get_all_params(net['out'], trainable=True)) == \
        expected - 2 * 3
    assert 'head.extra_bn' not in net


def test_word_level_tying(seeded):
    argv = ['--word_level'] + RESIDUAL + ['--ini_last', '0.05']
    _, untied = build(wptb.SPEC, argv, vocab=30)
    _, tied = build(wptb.SPEC, argv + ['--w_tying'], vocab=30)
    n_untied = count(get_all_params(untied['out'], trainable=True))
    n_tied = count(get_all_params(tied['out'], trainable=True))
    # Tied: no 3 x 30 output matrix of its own; the embedding is
    # Uniform(--ini_last) as in the plain network.
    assert n_untied - n_tied == 3 * 30
    assert tied['out'].get_params()[0] is tied['embed'].W
    assert tied['out'].W is not tied['embed'].W
    W = tied['embed'].W.get_value()
    assert np.abs(W).max() <= 0.05 and np.abs(W).max() > 0.04
    # The output really uses the transposed embedding: the softmax of a
    # feature vector f is softmax(f @ E.T + b).
    f = np.random.RandomState(0).randn(5, 3).astype(np.float32)
    fn = pytensor.function([], tied['out'].get_output_for(pt.constant(f)),
                           mode=MODE)
    logits = f @ W.T + tied['out'].b.get_value()
    ref = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(fn(), ref / ref.sum(axis=1, keepdims=True),
                               rtol=1e-5)
    # Whatever the width of the deep part (dense features of 4 here).
    _, dense = build(wptb.SPEC, ['--word_level', '--w_tying'] + DENSE,
                     vocab=30)
    assert dense['out'].get_params()[0] is dense['embed'].W


# -------------------------------------------------------- carried state

CARRY_CASES = {
    "char-residual": (cptb.SPEC, RESIDUAL, 15),
    "word-dense": (wptb.SPEC, ['--word_level', '--w_tying'] + DENSE, 17),
}


@pytest.mark.parametrize("case", sorted(CARRY_CASES))
def test_state_carry_equals_the_concatenated_sequence(case):
    """Two batches of T steps, the second started from the first's hid_out,
    give what one batch of 2T steps gives (see test_ptb_lm.py for the
    plain networks)."""
    spec, argv, sum_units = CARRY_CASES[case]
    T, batch = 4, 3
    rng = np.random.RandomState(0)
    fns = {}
    for steps in (T, 2 * T):
        args = parse(spec, argv + ['--batch_size', str(batch), '--seq_len',
                                   str(steps)])
        lasagne.random.set_rng(np.random.RandomState(1))
        fns[steps] = ptb_lm.compile_functions(
            spec, args, seq_len1=1000, outputclass=VOCAB, train=False,
            mode=MODE)
    short, long_ = fns[T], fns[2 * T]
    assert short.sum_units == long_.sum_units == sum_units
    # Random parameters, the long network's BN averages being the short
    # one's repeated in time.
    assert (len(get_all_params(short.net['out']))
            == len(get_all_params(long_.net['out'])))
    randomize_short_and_long(short, long_, rng, frames=T)
    x = rng.randint(VOCAB, size=(batch, 2 * T)).astype(np.int32)
    y = rng.randint(VOCAB, size=(batch, 2 * T)).astype(np.int32)
    h0 = rng.uniform(0, 1, (batch, sum_units)).astype(np.float32)
    for name in ("test_fn", "bn_test_fn"):
        f_short, f_long = getattr(short, name), getattr(long_, name)
        # The carried state matters ...
        h1, h2, _ = halves_equal_whole(f_short, f_long, x, y, h0, T)
        # ... and its layout is net['recurrent']'s: changing one layer's
        # slice changes that layer's last state but none of the layers
        # before it (which do not depend on it). Raised by different
        # amounts in each row: batch-statistics BN removes a shift common
        # to the batch, and a zeroed ReLU slice may be zero already.
        start = 0
        for r in short.net['recurrent']:
            end = start + r.output_shape[2]
            h1_moved = h1.copy()
            h1_moved[:, start:end] += rng.uniform(0.5, 2.0,
                                                  (batch, end - start))
            _, _, h2_moved = f_short(x[:, T:], y[:, T:], h1_moved)
            np.testing.assert_array_equal(h2_moved[:, :start],
                                          h2[:, :start])
            assert not np.allclose(h2_moved[:, start:end], h2[:, start:end],
                                   rtol=1e-4, atol=1e-6), start
            start = end
        assert start == sum_units


@pytest.mark.parametrize("net_argv", [RESIDUAL, DENSE],
                         ids=["residual", "dense"])
def test_no_look_ahead_in_training_mode(net_argv, seeded):
    """With frame-wise BN and batch statistics, the output at step t does
    not change when the inputs after t change."""
    T, batch, t0 = 6, 3, 2
    X, H = pt.imatrix(), pt.matrix()
    args, net = build(cptb.SPEC, net_argv, batch=batch, steps=T,
                      inputs=(X, H))
    out = lasagne.layers.get_output(net['out'], deterministic=False)
    f = pytensor.function([X, H], out, mode=MODE)
    rng = np.random.RandomState(0)
    x = rng.randint(VOCAB, size=(batch, T)).astype(np.int32)
    h0 = rng.uniform(0, 1, net['hid_out'].output_shape).astype(np.float32)
    x2 = x.copy()
    x2[:, t0 + 1:] = (x[:, t0 + 1:] + 1 + rng.randint(
        VOCAB - 1, size=x[:, t0 + 1:].shape)) % VOCAB
    o1 = f(x, h0).reshape(batch, T, VOCAB)
    o2 = f(x2, h0).reshape(batch, T, VOCAB)
    np.testing.assert_allclose(o1[:, :t0 + 1], o2[:, :t0 + 1], rtol=1e-5,
                               atol=1e-7)
    assert np.abs(o1[:, t0 + 1:] - o2[:, t0 + 1:]).max() > 1e-4


# ------------------------------------------------------------ command line

def read_json(path):
    return json.loads(path.read_text())


def test_char_level_residual_cli(tmp_path, data_dir, monkeypatch):
    monkeypatch.delenv("PYTENSOR_FLAGS", raising=False)
    out = tmp_path / "run"
    argv = RESIDUAL[:4] + ['--hidden_units', '8', '--embed_size', '6',
                           '--dropout', '0.1', '--dropout_extrafc', '0.1',
                           '--batch_size', '4', '--seq_len', '10',
                           '--train_subset', '1200', '--eval_subset', '400',
                           '--max_epochs', '2', '--seed', '3', '--lr',
                           '0.01', '--data_dir', str(data_dir / "ptb"),
                           '--out', str(out)]
    with pytensor.config.change_flags(mode=MODE):
        assert cptb.main(argv) == 0
    report = read_json(out / "indrnn_cPTB_residual10.json")
    assert report["stop_reason"] == "max_epochs"
    assert report["args"]["net"] == "residual"
    rows = report["reports"]
    assert len(rows) == 2
    for r in rows:
        for k in ("train", "valid", "test", "bn_test"):
            assert 0 < r[k + "_bpc"] < 12
    # Learning: from log2(50) = 5.6 bits at the start, the training and
    # the validation BPC fall.
    assert rows[1]["valid_bpc"] < rows[0]["valid_bpc"]
    assert rows[1]["train_bpc"] < rows[0]["train_bpc"]
    log = (out / "indrnn_cPTB_residual10.log").read_text()
    assert "stop: max_epochs" in log
    # The saved file fits the network the flags build; the recurrent
    # weights stayed within the U_bound clip.
    args = parse(cptb.SPEC, argv)
    net = cptb.build_network(args, IndRNNLayer_onlyrecurrent, pt.imatrix(),
                             pt.matrix(), seq_len1=1200)
    load_legacy_params(str(out / "indrnn_cPTB_residual10.npz"), net['out'])
    U_bound = cptb.network_globals(args, seq_len1=1200).U_bound
    for r in net['recurrent']:
        assert np.abs(r.W_hid_to_hid.get_value()).max() <= U_bound * (
            1 + 1e-6)


def test_word_level_dense_cli(tmp_path, data_dir, monkeypatch):
    monkeypatch.delenv("PYTENSOR_FLAGS", raising=False)
    out = tmp_path / "w"
    # Batches of 8 and growth 4: frame-wise BN has each step's statistics
    # from the batch alone, and after a few steps in batches of 2 the
    # stored averages of nearly dead 2-unit layers are far off (validation
    # perplexities of 1e14 and more).
    argv = ['--word_level', '--w_tying', '--net', 'dense',
            '--growth_rate', '4', '--bn_size', '2', '--block_config', '1,1',
            '--embed_size', '8', '--dropout', '0.1', '--dropout_words',
            '0.1', '--batch_size', '8', '--seq_len', '5', '--train_subset',
            '1600', '--eval_subset', '400', '--max_steps', '30',
            '--comp_perp', '--seed', '0', '--lr', '0.01', '--report_every',
            '5', '--data_dir', str(data_dir / "ptb"), '--out', str(out)]
    with pytensor.config.change_flags(mode=MODE):
        assert wptb.main(argv) == 0
    log = (out / "indrnn_wordPTB_dense5.log").read_text()
    assert "voc 10000" in log and "stop: max_steps" in log
    report = read_json(out / "indrnn_wordPTB_dense5.json")
    assert report["reports"][-1]["steps"] == 30
    for r in report["reports"]:
        for k in ("train", "valid", "test", "bn_test"):
            assert np.isfinite(r[k + "_perp"]) and r[k + "_perp"] >= 1
    # Better than guessing uniformly among the 10000 words.
    assert report["reports"][-1]["test_perp"] < 10000
    # The running training perplexity falls within the epoch (uniform
    # guessing is 10000).
    perps = [float(line.split("train_perp ")[1].split()[0])
             for line in log.splitlines() if " train_perp " in line]
    assert len(perps) >= 3 and perps[-1] < perps[0] < 2e4
    with np.load(out / "indrnn_wordPTB_dense5.npz") as f:
        shapes = [f["arr_%d" % i].shape for i in range(len(f.files))]
    # Tied: the embedding (10000 x 8) is the only vocabulary-sized matrix;
    # the output layer saves its bias only.
    assert shapes[0] == (10000, 8) and shapes[-1] == (10000,)
    assert (8, 10000) not in shapes
