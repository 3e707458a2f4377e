"""Checkpoints and exact resume of the PTB scripts (indrnn.experiments.ptb_lm).

A resumed run must go on bit for bit as if it had not stopped: the truth
is an uninterrupted run with the same flags, compared parameter by
parameter (the legacy .npz), dataset by dataset (every array of the
checkpoints both write at the same steps: parameters, Adam's state and the
dropout counters, the random state, the carried hidden state and the
schedule's best parameters) and row by row (the epoch log). The runs use
dropout and --data_aug, so the dropout counters, the random state and the
epoch's drop index all matter, on a slice of the real character-level data
(13 training batches per epoch with this seed), compiled with
FAST_COMPILE.
"""
import csv
import os
import re

import numpy as np
import pytensor
import pytest

from indrnn.experiments import penntree_charlevel_rernn as cptb
from indrnn.experiments import penntree_wordlevel_rernn_WT as wptb
from indrnn.experiments import ptb_lm
from indrnn.run.checkpoint import read_checkpoint
from indrnn.run.loop import CheckpointInterval
from sigint_run import interrupt

MODE = "FAST_COMPILE"
NAME = "indrnn_cPTB10"
CKPTS = NAME + "_checkpoints"
# Epoch 1 has 13 batches with seed 3 (its --data_aug drop index leaves
# 13 * 4 * 10 + 4 tokens or more of the 600).
ARGV = ['--hidden_units', '8', '--num_layers', '2', '--batch_size', '4',
        '--seq_len', '10', '--train_subset', '600', '--eval_subset', '200',
        '--seed', '3', '--report_every', '5', '--data_aug', '--use_dropout',
        '--lr', '0.01']
# Columns that are clock readings, not results.
TIMES = ("epoch_time", "time")


def ckpt(folder, step):
    return str(folder / CKPTS / ("checkpoint-step%08d.h5" % step))


def datasets(path):
    """Every dataset of a checkpoint file, by its HDF5 path."""
    import h5py
    found = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: found.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return found


def results(row):
    return {k: v for k, v in row.items() if k not in TIMES}


def read_rows(folder, name=NAME):
    """The epoch rows of a run's CSV log, without the clock readings."""
    with open(folder / (name + ".csv"), newline="") as f:
        return [results(r) for r in csv.DictReader(f)]


def assert_same_checkpoint(a, b):
    """Same arrays, same loop and schedule state (clock readings aside)."""
    da, db = datasets(a), datasets(b)
    assert sorted(da) == sorted(db)
    # What must be there: Adam's state and dropout counters, the random
    # state, the carried state.
    for prefix in ("params/", "state/", "rngs/", "arrays/hid/"):
        assert any(k.startswith(prefix) for k in da), prefix
    for key in da:
        np.testing.assert_array_equal(da[key], db[key], err_msg=key)
    ia, ib = read_checkpoint(a), read_checkpoint(b)
    for info in (ia, ib):
        info["loop"].pop("elapsed")
        info["loop"]["history"] = [results(r)
                                   for r in info["loop"]["history"]]
    assert ia["loop"] == ib["loop"]
    assert ia["schedule"] == ib["schedule"]


@pytest.fixture(scope="module")
def runs(data_dir, tmp_path_factory):
    """The uninterrupted run and the interrupted ones, trained once."""
    root = tmp_path_factory.mktemp("ptb_ckpt")
    base = ARGV + ['--data_dir', str(data_dir / "ptb")]
    a, b, c = root / "a", root / "b", root / "c"
    with pytest.MonkeyPatch.context() as mp, \
            pytensor.config.change_flags(mode=MODE):
        mp.delenv("PYTENSOR_FLAGS", raising=False)
        # Uninterrupted, 20 steps: all of epoch 1 and 7 batches of epoch 2.
        assert cptb.main(base + ['--max_steps', '20', '--out', str(a),
                                 '--checkpoint_every', '4']) == 0
        # Stopped at step 10 (mid epoch 1; this checkpoint is the one
        # written at --max_steps, before the truncated epoch is
        # evaluated), resumed to 16 (across the epoch boundary), and from
        # that checkpoint, whose best parameters were taken after the
        # resume, to 20.
        assert cptb.main(base + ['--max_steps', '10', '--out', str(b),
                                 '--checkpoint_every', '4',
                                 '--keep_checkpoints', '9']) == 0
        assert cptb.main(base + ['--max_steps', '16', '--out', str(b),
                                 '--checkpoint_every', '4',
                                 '--keep_checkpoints', '9',
                                 '--resume', ckpt(b, 10)]) == 0
        assert cptb.main(base + ['--max_steps', '20', '--out', str(b),
                                 '--checkpoint_every', '4',
                                 '--keep_checkpoints', '9',
                                 '--resume', ckpt(b, 16)]) == 0
        # Stopped between epochs (--max_epochs 1 writes a checkpoint after
        # the evaluation), resumed to 20.
        assert cptb.main(base + ['--max_epochs', '1', '--out', str(c),
                                 '--checkpoint_every', '100']) == 0
        assert cptb.main(base + ['--max_steps', '20', '--out', str(c),
                                 '--checkpoint_every', '4',
                                 '--resume', ckpt(c, 13)]) == 0
    return a, b, c


def test_resume_mid_epoch_is_bit_identical(runs):
    a, b, _ = runs
    # The interruption was mid epoch, the epoch's drop index, carried state
    # and running sums in the checkpoint (epoch 1 has 13 batches).
    first = read_checkpoint(ckpt(b, 10))
    assert first["loop"]["epoch"] == 1 and first["loop"]["in_epoch"]
    assert first["loop"]["epoch_steps"] == 10
    assert first["loop"]["epoch_sums"][0] > 0
    batches = first["schedule"]["state"]["batches"]
    assert batches["batch"] == 10 and batches["dropindex"] is not None
    assert first["arrays"]["hid"][0].shape == (4, 16)
    assert first["loop"]["history"] == []
    assert first["arrays"].get("best_params", []) == []
    # The one at 16 is in epoch 2 and holds epoch 1's best parameters.
    second = read_checkpoint(ckpt(b, 16))
    assert (second["loop"]["epoch"], second["loop"]["epoch_steps"]) == (2, 3)
    assert len(second["arrays"]["best_params"]) == len(second["params"])
    rows = read_rows(a)
    assert [r["steps"] for r in rows] == ["13", "20"]

    with np.load(a / (NAME + ".npz")) as fa, \
            np.load(b / (NAME + ".npz")) as fb:
        assert sorted(fa.files) == sorted(fb.files) and len(fa.files) > 5
        for key in fa.files:
            np.testing.assert_array_equal(fa[key], fb[key], err_msg=key)
    # The checkpoints the resumed runs wrote are the uninterrupted run's.
    for step in (12, 16, 20):
        assert_same_checkpoint(ckpt(a, step), ckpt(b, step))
    # The epoch log is the uninterrupted run's: epoch 1 came from the
    # checkpoints, epoch 2 was trained across the last resume.
    assert read_rows(b) == rows
    log = (b / (NAME + ".log")).read_text()
    assert "resumed from %s at step 10 (epoch 1, batch 10)" % ckpt(b, 10) \
        in log
    # The progress line after the resume averages batches 1-10 with
    # 11-13, as the uninterrupted run's.
    pattern = r"^epoch 1 batch 13/13 train_perp \S+ train_bpc \S+"
    assert re.findall(pattern, log, flags=re.M)[-1] == re.findall(
        pattern, (a / (NAME + ".log")).read_text(), flags=re.M)[0]


def test_resume_between_epochs_is_bit_identical(runs):
    a, _, c = runs
    saved = read_checkpoint(ckpt(c, 13))
    assert (saved["loop"]["epoch"], saved["loop"]["in_epoch"]) == (1, False)
    assert saved["arrays"].get("hid", []) == []
    assert saved["schedule"]["state"]["batches"]["dropindex"] is None
    with np.load(a / (NAME + ".npz")) as fa, \
            np.load(c / (NAME + ".npz")) as fc:
        for key in fa.files:
            np.testing.assert_array_equal(fa[key], fc[key], err_msg=key)
    assert_same_checkpoint(ckpt(a, 20), ckpt(c, 20))
    assert read_rows(c) == read_rows(a)
    # The best checkpoint: after epoch 2's evaluation, which improved.
    best = read_checkpoint(str(c / CKPTS / "checkpoint-best.h5"))
    assert (best["loop"]["step"], best["loop"]["in_epoch"]) == (20, False)
    assert best["schedule"]["state"]["schedule"]["best_epoch"] == 2


def test_resume_refuses_another_configuration(runs, tmp_path, capsys,
                                              monkeypatch):
    a, _, _ = runs
    monkeypatch.delenv("PYTENSOR_FLAGS", raising=False)
    path = ckpt(a, 12)
    out = tmp_path / "x"
    argv = ARGV + ['--data_dir', str(tmp_path / "nowhere"), '--out',
                   str(out), '--max_steps', '14', '--resume', path]
    capsys.readouterr()

    def refused(args, spec=cptb):
        # Refused before the data are read (the folder does not exist)
        # and before anything is compiled or trained.
        assert spec.main(args) == 1
        assert not (out / (NAME + ".npz")).exists()
        return capsys.readouterr().err

    err = refused([v if v != '8' else '9' for v in argv])
    assert ("checkpoint %s does not match this configuration: "
            "--hidden_units is 8 in the checkpoint and 9 in this run"
            % path) in err
    err = refused([v for v in argv if v != '--use_dropout'])
    assert "--use_dropout is True in the checkpoint and False" in err
    err = refused(argv + ['--pThre', '3'])
    assert "--pThre is 20 in the checkpoint and 3 in this run" in err
    if hasattr(cptb.make_parser(extras=True).parse_args([]), "net"):
        err = refused(argv + ['--net', 'residual'])
        assert "--net is 'plain' in the checkpoint and 'residual'" in err
    err = refused(argv + ['--word_level'], spec=wptb)
    assert ("checkpoint %s was not written by "
            "indrnn.experiments.penntree_wordlevel_rernn_WT (its run: "
            "indrnn.experiments.penntree_charlevel_rernn)"
            % path) in err
    # The flags a resumed run may change are not compared.
    assert {"seed", "max_steps", "out", "log"} <= set(
        ptb_lm.RESUME_FREE_KEYS)
    keys = ptb_lm.config_keys(cptb.SPEC.make_parser().parse_args([]))
    assert not set(keys) & set(ptb_lm.RESUME_FREE_KEYS)
    assert {"hidden_units", "data_aug", "train_subset", "pThre"} <= set(keys)


def test_sigint_writes_a_checkpoint_and_names_it(data_dir, tmp_path):
    argv = ARGV + ['--data_dir', str(data_dir / "ptb"), '--report_every',
                   '1', '--checkpoint_every', '100000', '--out',
                   str(tmp_path)]
    log = tmp_path / (NAME + ".log")
    step, path, hint, _ = interrupt(
        "indrnn.experiments.penntree_charlevel_rernn", argv, str(log),
        r"^epoch 1 batch 3/")
    assert step >= 3
    assert path == ckpt(tmp_path, step)
    assert "-m indrnn.experiments.penntree_charlevel_rernn" in hint
    assert hint.endswith("--resume " + path)
    assert "--checkpoint_every 100000" in hint
    saved = read_checkpoint(path)
    assert saved["loop"]["step"] == step
    assert saved["schedule"]["seed"] == 3
    assert "stop: interrupted" in log.read_text()
    # The file resumes: two more steps, in this process (default mode).
    assert cptb.main(argv + ['--resume', path, '--max_steps',
                             str(step + 2)]) == 0
    assert "stop: max_steps" in log.read_text()
    assert os.path.exists(ckpt(tmp_path, step + 2))


def test_checkpoint_every_takes_minutes(data_dir, tmp_path):
    for spec in (cptb.SPEC, wptb.SPEC):
        parser = spec.make_parser()
        every = parser.parse_args(['--checkpoint_every', '30m']) \
            .checkpoint_every
        assert (every.steps, every.minutes) == (None, 30.0)
        assert parser.parse_args(['--checkpoint_every', '1.5h']) \
            .checkpoint_every.minutes == 90.0
        assert parser.parse_args(['--checkpoint_every', '7']) \
            .checkpoint_every.steps == 7
        for bad in ('0', '5x', '-1m'):
            with pytest.raises(SystemExit):
                parser.parse_args(['--checkpoint_every', bad])
    # Every minute, by a clock that advances 45 s at each reading: read at
    # the start (0 s), after each step, and when a checkpoint restarts it;
    # so steps 2 (90 s), 4 (225 s, 90 s after the mark at 135 s) and 6.
    args = cptb.SPEC.make_parser().parse_args(
        ARGV + ['--data_dir', str(data_dir / "ptb"), '--out',
                str(tmp_path), '--max_steps', '6'])
    clock = iter(range(0, 10000, 45)).__next__
    args.checkpoint_every = CheckpointInterval(minutes=1, clock=clock)
    with pytensor.config.change_flags(mode=MODE):
        result = ptb_lm.train(cptb.SPEC, args)
    assert result.stop_reason == "max_steps"
    names = sorted(os.listdir(tmp_path / CKPTS))
    assert names == ["checkpoint-best.h5", "checkpoint-step00000002.h5",
                     "checkpoint-step00000004.h5",
                     "checkpoint-step00000006.h5"]


def test_divergence_names_quantity_step_and_last_checkpoint(data_dir,
                                                            tmp_path):
    # A learning rate of 1e30: the first step (at the initial weights) is
    # finite, the second is not.
    argv = ARGV + ['--data_dir', str(data_dir / "ptb"), '--out',
                   str(tmp_path), '--lr', '1e30', '--checkpoint_every', '1']
    with pytensor.config.change_flags(mode=MODE), \
            np.errstate(all="ignore"):
        assert cptb.main(argv) == 1
    log = (tmp_path / (NAME + ".log")).read_text()
    m = re.search(r"^(NaN|Inf) detected in (perp|bpc) at step (\d+) "
                  r"\(epoch 1, batch (\d+), learning rate 1e\+30\); "
                  r"stopping, parameters not saved\. The last good "
                  r"checkpoint is (\S+)\.$", log, flags=re.M)
    assert m, log
    step = int(m.group(3))
    assert int(m.group(4)) == step >= 2
    assert m.group(5) == ckpt(tmp_path, step - 1)
    assert "stop: diverged" in log
    assert not (tmp_path / (NAME + ".npz")).exists()


def test_word_level_resume_is_bit_identical(data_dir, tmp_path,
                                            monkeypatch):
    """The word-level script (tied weights, embedding dropout, perplexity
    schedule) resumes as exactly, across an epoch boundary (7 to 9
    batches per epoch with its --data_aug drop index)."""
    monkeypatch.delenv("PYTENSOR_FLAGS", raising=False)
    argv = ['--word_level', '--w_tying', '--hidden_units', '6',
            '--num_layers', '1', '--batch_size', '2', '--seq_len', '5',
            '--train_subset', '100', '--eval_subset', '60', '--comp_perp',
            '--data_aug', '--use_dropout', '--drop_embedding', '--seed', '0',
            '--data_dir', str(data_dir / "ptb"), '--checkpoint_every', '4']
    a, b = tmp_path / "a", tmp_path / "b"
    name = "indrnn_wordPTB5"
    path = str(b / (name + "_checkpoints") / "checkpoint-step00000005.h5")
    with pytensor.config.change_flags(mode=MODE):
        assert wptb.main(argv + ['--max_steps', '12', '--out', str(a)]) == 0
        assert wptb.main(argv + ['--max_steps', '5', '--out', str(b)]) == 0
        assert wptb.main(argv + ['--max_steps', '12', '--out', str(b),
                                 '--resume', path]) == 0
    rows = [read_rows(d, name) for d in (a, b)]
    assert [r["steps"] for r in rows[0]][-1] == "12" and len(rows[0]) == 2
    assert rows[0] == rows[1]
    with np.load(a / (name + ".npz")) as fa, \
            np.load(b / (name + ".npz")) as fb:
        assert sorted(fa.files) == sorted(fb.files)
        for key in fa.files:
            np.testing.assert_array_equal(fa[key], fb[key], err_msg=key)
    ckpts = name + "_checkpoints/checkpoint-step00000012.h5"
    assert_same_checkpoint(str(a / ckpts), str(b / ckpts))
