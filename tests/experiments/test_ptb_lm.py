"""Tests of the PTB training scripts: indrnn.experiments.ptb_lm and the two
script modules (penntree_charlevel_rernn, penntree_wordlevel_rernn_WT).

The builders are compared with the original Theano/Lasagne networks in
``tests/test_legacy_fixtures.py`` (``-k ptb``); here the training side is
checked: the hidden state carried across batches, the schedule against the
original's loop, ``--unit_factor``, and the command line end to end on a
slice of the real data. Functions are compiled with mode FAST_COMPILE (the
Python linker): cheap to compile, and the compiled modes are covered by the
fixture tests.
"""
import csv
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytensor
import pytest

import indrnn.lasagne as lasagne
from indrnn.experiments import penntree_charlevel_rernn as cptb
from indrnn.experiments import penntree_wordlevel_rernn_WT as wptb
from indrnn.experiments import ptb_lm
from indrnn.data import ptb
from indrnn.legacy import load_legacy_params
from lm_checks import halves_equal_whole, randomize_short_and_long

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MODE = "FAST_COMPILE"


def parse(spec, argv):
    return spec.make_parser().parse_args(argv)


# ------------------------------------------------------------ state carry

CARRY_CASES = {
    # Residual shortcuts every layer, widths 8, 8, 16 (--unit_factor 2 with
    # blocks of one layer), so the last shortcut is the Dense+BN branch and
    # the carried state is 32 wide.
    "char": (cptb.SPEC, ['--num_layers', '3', '--hidden_units', '8',
                         '--use_residual', '--residual_layers', '1',
                         '--residual_block', '1', '--unit_factor', '2',
                         '--use_dropout'], 50),
    "word": (wptb.SPEC, ['--num_layers', '2', '--hidden_units', '6',
                         '--word_level', '--w_tying', '--use_dropout',
                         '--drop_embedding', '--use_bn_afterrnn'], 30),
}


@pytest.mark.parametrize("case", sorted(CARRY_CASES))
def test_state_carry_equals_the_concatenated_sequence(case):
    """Two batches of T steps, the second started from the first's hid_out,
    give what one batch of 2T steps gives: the same last state and the same
    mean BPC (with batch-statistics BN, and with stored averages when those
    of the 2T network are the T network's repeated)."""
    spec, argv, vocab = CARRY_CASES[case]
    T, batch = 5, 3
    rng = np.random.RandomState(0)
    with pytensor.config.change_flags(floatX="float32"):
        fns = {}
        for steps in (T, 2 * T):
            args = parse(spec, argv + ['--batch_size', str(batch),
                                       '--seq_len', str(steps)])
            lasagne.random.set_rng(np.random.RandomState(1))
            fns[steps] = ptb_lm.compile_functions(
                spec, args, seq_len1=1000, outputclass=vocab, train=False,
                mode=MODE)
        short, long_ = fns[T], fns[2 * T]
        assert short.sum_units == (32 if case == "char" else 12)
        # Random parameters (BN averages included, inv_std positive), the
        # long network's averages being the short one's repeated in time.
        randomize_short_and_long(short, long_, rng)
        x = rng.randint(vocab, size=(batch, 2 * T)).astype(np.int32)
        y = rng.randint(vocab, size=(batch, 2 * T)).astype(np.int32)
        h0 = rng.uniform(0, 1, (batch, short.sum_units)).astype(np.float32)

        for name in ("test_fn", "bn_test_fn"):
            f_short, f_long = getattr(short, name), getattr(long_, name)
            # The carried state matters: from zeros the result differs.
            _, h2, h2_zero = halves_equal_whole(f_short, f_long, x, y, h0,
                                                T)
            assert not np.allclose(h2_zero, h2, rtol=1e-3)
            # run_pass carries the state the same way over the batches of a
            # text laid out for data_iterator (one row per batch row).
            text = np.concatenate([np.concatenate([x[b], y[b, -1:]])
                                   for b in range(batch)])
            text_x, text_y = next(ptb.data_iterator(text, batch, 2 * T))
            np.testing.assert_array_equal(text_x, x)
            np.testing.assert_array_equal(text_y[:, :-1], x[:, 1:])
            result = run_two(f_short, text, batch, T, h0)
            _, bpc_ref, h_ref = f_long(text_x, text_y, h0)
            np.testing.assert_allclose(result["hid"], h_ref, rtol=1e-5,
                                       atol=1e-6)
            np.testing.assert_allclose(result["bpc"], bpc_ref, rtol=1e-5)


def run_two(fn, text, batch, T, h0):
    result = ptb_lm.run_pass(fn, text, batch, T, h0)
    assert result["batches"] == 2
    return result


# ------------------------------------------------------------ unit_factor

def test_unit_factor_char_level():
    args = cptb.make_parser().parse_args(
        ['--num_layers', '7', '--hidden_units', '10', '--unit_factor', '1.5',
         '--use_residual'])
    g = cptb.network_globals(args, seq_len1=100)
    # Layer 0, then one block of residual_block * residual_layers = 6.
    assert g.units == [10] * 7
    args.num_layers = 13
    g = cptb.network_globals(args, seq_len1=100)
    assert g.units == [10] * 7 + [15] * 6
    assert g.acc_units[-1] == g.sum_units == 10 * 7 + 15 * 6
    args.num_layers = 8
    with pytest.raises(ValueError, match="k \\* 6 \\+ 1"):
        cptb.network_globals(args, seq_len1=100)
    # The residual network builds, with a projected shortcut where the
    # width changes (layer 9: units[8] = 15 against units[6] = 10).
    args.num_layers, args.batch_size, args.seq_len = 13, 2, 3
    import pytensor.tensor as pt
    with pytensor.config.change_flags(floatX="float32"):
        net = cptb.build_rnn_network(args, cptb.IndRNNLayer_onlyrecurrent,
                                     pt.imatrix(), pt.matrix(),
                                     seq_len1=100)
    assert 'leftbranch8' in net and net['leftbranch8'] is not net['sum7']
    assert net['leftbranch6'] is net['sum5']
    assert net['hid_out'].output_shape == (2, g.sum_units)


def test_word_level_unit_factor_and_tying():
    import pytensor.tensor as pt
    args = wptb.make_parser().parse_args(
        ['--num_layers', '3', '--hidden_units', '4', '--unit_factor', '2',
         '--batch_size', '2', '--seq_len', '3'])
    assert wptb.network_globals(args, 100, 20).units == [4, 8, 16]
    with pytensor.config.change_flags(floatX="float32"):
        net = wptb.build_rnn_network(args, wptb.IndRNNLayer_onlyrecurrent,
                                     pt.imatrix(), pt.matrix(),
                                     seq_len1=100, outputclass=20)
        assert net['out'].output_shape == (6, 20)
        args.w_tying = True
        with pytest.raises(ValueError, match="w_tying"):
            wptb.build_rnn_network(args, wptb.IndRNNLayer_onlyrecurrent,
                                   pt.imatrix(), pt.matrix(), seq_len1=100,
                                   outputclass=20)


# ----------------------------------------------------------- command line

CHAR_ARGV = ['--hidden_units', '8', '--num_layers', '2', '--batch_size', '4',
             '--seq_len', '10', '--train_subset', '1200', '--eval_subset',
             '600', '--seed', '3', '--report_every', '10', '--data_aug',
             '--use_dropout', '--use_weightdecay_nohiddenW', '--lr', '0.01']


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_char_level_cli_end_to_end(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("INDRNN_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PYTENSOR_FLAGS", raising=False)
    out = tmp_path / "run"
    with pytensor.config.change_flags(mode=MODE, floatX="float64"):
        rc = cptb.main(CHAR_ARGV + ['--max_epochs', '2', '--out', str(out)])
        assert pytensor.config.floatX == "float64"
    assert rc == 0
    log = (out / "indrnn_cPTB10.log").read_text()
    assert "seed 3 floatX float32" in log
    assert "voc 50" in log
    assert "tokens train 1200 valid 600 test 600" in log
    # The original's per-epoch lines, twice.
    for key in ("prep bpc", "bn_validprep bn_validbpc", "testprep testbpc",
                "bn_testprep bn_testbpc"):
        assert len(re.findall("^%s " % key, log, flags=re.M)) == 2, key
    # Progress within the epoch, every 10 batches and at the end. With
    # --data_aug, d < 5 * seq_len leading tokens are dropped, leaving
    # ((1200 - d) // 4 - 1) // 10 batches: 28 or 29.
    progress = re.findall(r"^epoch (\d) batch (\d+)/(\d+) train_perp \S+ "
                          r"train_bpc \S+ +\S+ batch/s \S+ tokens/s$", log,
                          flags=re.M)
    totals = {int(e): int(n) for e, _, n in progress}
    assert set(totals) == {1, 2}
    assert set(totals.values()) <= {28, 29}
    assert [int(d) for e, d, _ in progress if e == "1"] == \
        [10, 20, totals[1]]
    assert "stop: max_epochs" in log

    rows = read_csv(out / "indrnn_cPTB10.csv")
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert [int(r["steps"]) for r in rows] == [totals[1],
                                               totals[1] + totals[2]]
    for r in rows:
        for k in ("train", "valid", "test", "bn_test"):
            bpc, perp = float(r[k + "_bpc"]), float(r[k + "_perp"])
            assert 0 < bpc < 12 and perp >= 1
    # Learning: the validation BPC fell from epoch 1 to 2.
    assert float(rows[1]["valid_bpc"]) < float(rows[0]["valid_bpc"])
    report = json.loads((out / "indrnn_cPTB10.json").read_text())
    assert report["seed"] == 3 and report["vocabulary"] == 50
    assert report["args"]["hidden_units"] == 8
    assert report["stop_reason"] == "max_epochs"
    assert report["best_epoch"] == 2
    assert report["best_valid_bpc"] == pytest.approx(
        float(rows[1]["valid_bpc"]))
    assert len(report["reports"]) == 2
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in log
    else:
        png = (out / "indrnn_cPTB10.png").read_bytes()
        assert png.startswith(b"\x89PNG")

    # The saved file is a legacy file of the network the flags build, and
    # evaluating it again gives the last epoch's figures: the validation
    # and test texts from a zero state, with the state carried.
    with pytensor.config.change_flags(floatX="float32"):
        args = parse(cptb.SPEC, CHAR_ARGV)
        fns = ptb_lm.compile_functions(cptb.SPEC, args, seq_len1=1200,
                                       outputclass=50, train=False,
                                       mode=MODE)
        load_legacy_params(str(out / "indrnn_cPTB10.npz"), fns.net['out'])
        _, valid, test, _ = ptb.ptb_raw_data(data_dir / "ptb", "ptb.char.")
        for name, fn, data in (("valid", fns.bn_test_fn, valid[:600]),
                               ("test", fns.test_fn, test[:600]),
                               ("bn_test", fns.bn_test_fn, test[:600])):
            again = ptb_lm.run_pass(fn, data, 4, 10, fns.zero_state(4))
            assert again["batches"] == 14
            assert again["bpc"] == pytest.approx(
                float(rows[1][name + "_bpc"]), rel=1e-6)
            assert again["perp"] == pytest.approx(
                float(rows[1][name + "_perp"]), rel=1e-6)

    # Same seed, same run (initialisation, dropout and --data_aug), cut
    # short by --max_steps in the middle of the first epoch.
    log2 = tmp_path / "other.log"
    with pytensor.config.change_flags(mode=MODE):
        rc = cptb.main(CHAR_ARGV + ['--max_steps', '10', '--out', str(out),
                                    '--log', str(log2)])
    assert rc == 0
    text = log2.read_text()
    pattern = r"^epoch 1 batch 10/\d+ train_perp (\S+) train_bpc (\S+)"
    first = re.search(pattern, log, flags=re.M).groups()
    assert re.search(pattern, text, flags=re.M).groups() == first
    assert "stop: max_steps" in text
    rows = read_csv(tmp_path / "other.csv")
    assert [r["steps"] for r in rows] == ["10"]


def test_word_level_cli(tmp_path, data_dir, monkeypatch):
    monkeypatch.delenv("PYTENSOR_FLAGS", raising=False)
    out = tmp_path / "w"
    with pytensor.config.change_flags(mode=MODE):
        rc = wptb.main(['--word_level', '--w_tying', '--hidden_units', '6',
                        '--num_layers', '1', '--batch_size', '2',
                        '--seq_len', '5', '--train_subset', '200',
                        '--eval_subset', '100', '--max_steps', '3',
                        '--comp_perp', '--seed', '0',
                        '--data_dir', str(data_dir / "ptb"),
                        '--out', str(out)])
    assert rc == 0
    log = (out / "indrnn_wordPTB5.log").read_text()
    assert "voc 10000" in log and "stop: max_steps" in log
    report = json.loads((out / "indrnn_wordPTB5.json").read_text())
    assert report["reports"][0]["steps"] == 3
    # --comp_perp: the schedule follows the validation perplexity.
    assert report["best_valid_perp"] == pytest.approx(
        report["reports"][0]["valid_perp"])
    with np.load(out / "indrnn_wordPTB5.npz") as f:
        # Tied weights: the embedding (10000 x 6) is the only matrix of
        # that size; the output layer saves its bias only.
        shapes = [f["arr_%d" % i].shape for i in range(len(f.files))]
    assert shapes[0] == (10000, 6) and shapes[-1] == (10000,)
    assert (6, 10000) not in shapes


def test_cli_errors(tmp_path, capsys):
    rc = cptb.main(['--data_dir', str(tmp_path), '--out', str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "ptb.char.train.txt" in err and "simple-examples" in err
    # A slice shorter than one batch.
    for part in ("train", "valid", "test"):
        (tmp_path / ("ptb.char.%s.txt" % part)).write_text(" a b \n" * 50)
    rc = cptb.main(['--data_dir', str(tmp_path), '--out', str(tmp_path),
                    '--batch_size', '4', '--seq_len', '10',
                    '--eval_subset', '30'])
    assert rc == 2
    assert "validation text (30 tokens) is too short" in \
        capsys.readouterr().err


@pytest.mark.parametrize("module", ["penntree_charlevel_rernn",
                                    "penntree_wordlevel_rernn_WT"])
def test_module_help_runs(module):
    proc = subprocess.run([sys.executable, "-m",
                           "indrnn.experiments." + module, "--help"],
                          cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for flag in ("--hidden_units", "--data_aug", "--unit_factor", "--pThre",
                 "--seed", "--max_epochs", "--max_steps", "--eval_subset",
                 "--train_subset", "--report_every", "--data_dir", "--out"):
        assert flag in proc.stdout
    if module.startswith("penntree_word"):
        for flag in ("--w_tying", "--lr_decay", "--randstart",
                     "--comp_perp"):
            assert flag in proc.stdout
