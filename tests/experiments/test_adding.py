"""Tests of indrnn.experiments.adding: flags, data generator, networks,
command line.

The networks' parameters, outputs and one training step are compared with
the original Theano/Lasagne code in ``tests/test_legacy_fixtures.py``; here
the rest of the script is checked.
"""
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytensor
import pytest

import indrnn.lasagne as lasagne
from indrnn.experiments import adding
from indrnn.lasagne.layers import get_all_params
from indrnn.legacy import load_legacy_params
from sigint_run import assert_same_arrays, interrupt, resume, subprocess_env

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


# ------------------------------------------------------------------ flags

def test_parser_matches_the_original():
    args = adding.make_parser().parse_args([])
    assert (args.model, args.hidden_units, args.batch_size, args.seq_len,
            args.MAG, args.act) == ('indrnn', 128, 32, 500, 2, 'relu')
    assert args.lr == pytest.approx(2e-4)
    assert args.in2hidW == pytest.approx(0.001)
    assert args.gradclipvalue == 10
    # Extras default to the original behaviour.
    assert (args.seed, args.max_steps, args.report_every, args.out,
            args.log) == (None, None, 100, '.', None)
    # Float flags are np.float32 when given, as with the original's type=.
    args = adding.make_parser().parse_args(
        ['--lr', '0.001', '--in2hidW', '0.01', '--gradclipvalue', '5',
         '--MAG', '3', '--seq_len', '7'])
    for name in ('lr', 'in2hidW', 'gradclipvalue'):
        assert type(getattr(args, name)) is np.float32
    assert args.MAG == 3 and args.seq_len == 7


def test_globals_bounds():
    g = adding.network_globals(adding.make_parser().parse_args(
        ['--seq_len', '50', '--MAG', '3']))
    assert g.U_bound ** 50 == pytest.approx(3)
    assert g.U_lowbound ** 50 == pytest.approx(1 / 3)
    assert g.act is lasagne.nonlinearities.rectify
    g = adding.network_globals(adding.make_parser().parse_args(
        ['--seq_len', '50', '--act', 'tanh']))
    assert g.U_bound ** 50 == pytest.approx(2 / 0.9 ** 5)
    assert g.act is lasagne.nonlinearities.tanh


# ------------------------------------------------------------------- data

def original_generator(time_steps, n_data):
    """The original generator's draws, from the global numpy.random."""
    x = np.zeros((time_steps, n_data, 2), dtype='float32')
    x[:, :, 0] = np.random.uniform(0., 1., size=(time_steps, n_data))
    marks = np.random.randint(time_steps // 2, size=(n_data, 2))
    marks[:, 1] += time_steps // 2
    for i in range(n_data):
        x[marks[i, 0], i, 1] = 1.0
        x[marks[i, 1], i, 1] = 1.0
    y = (x[:, :, 0] * x[:, :, 1]).sum(axis=0).reshape(n_data, 1)
    return x.transpose(1, 0, 2), y


def test_generate_data_is_the_original_generator():
    with pytensor.config.change_flags(floatX='float32'):
        np.random.seed(7)
        ref = [original_generator(13, 6) for _ in range(2)]
        rng = np.random.RandomState(7)
        got = [adding.generate_data(13, 6, rng) for _ in range(2)]
    for (rx, ry), (gx, gy) in zip(ref, got):
        assert gx.dtype == gy.dtype == np.float32
        np.testing.assert_array_equal(gx, rx)
        np.testing.assert_array_equal(gy, ry)


@pytest.mark.parametrize('time_steps', [2, 11, 100])
def test_generate_data_task(time_steps):
    x, y = adding.generate_data(time_steps, 500, np.random.RandomState(0))
    assert x.shape == (500, time_steps, 2) and y.shape == (500, 1)
    values, marks = x[:, :, 0], x[:, :, 1]
    assert np.all((values >= 0) & (values < 1))
    assert set(np.unique(marks)) <= {0.0, 1.0}
    half = time_steps // 2
    # One mark in the first half, one in the second.
    np.testing.assert_array_equal(marks[:, :half].sum(axis=1), 1)
    np.testing.assert_array_equal(marks[:, half:].sum(axis=1), 1)
    first = values[np.arange(500), marks[:, :half].argmax(axis=1)]
    second = values[np.arange(500), half + marks[:, half:].argmax(axis=1)]
    np.testing.assert_allclose(y[:, 0], first + second, rtol=1e-6)
    if time_steps == 100:
        # The marks are spread over each half, not always at one place.
        assert len(np.unique(marks[:, :half].argmax(axis=1))) > 40
        # Predicting the mean gives the baseline MSE of about 1/6.
        assert np.mean((y - 1.0) ** 2) == pytest.approx(1 / 6, abs=0.03)


# --------------------------------------------------------------- networks

def build(argv, seed=0):
    args = adding.make_parser().parse_args(argv)
    old = lasagne.random.get_rng()
    lasagne.random.set_rng(np.random.RandomState(seed))
    try:
        return args, adding.build_network(args)
    finally:
        lasagne.random.set_rng(old)


def values_named(net, name):
    return [p.get_value() for p in get_all_params(net['out'])
            if p.name == name]


def test_indrnn_network_initialisation():
    args, net = build(['--hidden_units', '200', '--seq_len', '20'])
    g = adding.network_globals(args)
    w0, w1 = values_named(net, 'hidden_to_hidden.W')
    assert w0.shape == w1.shape == (200,)
    assert w0.min() >= 0 and w0.max() <= g.U_bound and w0.min() < 0.1
    assert w1.min() >= g.U_lowbound and w1.max() <= g.U_bound
    w_in = values_named(net, 'input_to_hidden.W')
    assert [w.shape for w in w_in] == [(2, 200), (200, 200)]
    assert np.std(w_in[1]) == pytest.approx(0.001, rel=0.05)
    assert net['rnn'].output_shape == (32, 200)
    assert net['out'].output_shape == (32, 1)


def test_indrnn_tanh_scalar_range_quirk():
    # Uniform(range=(U_bound)) is a scalar range: [-U_bound, U_bound].
    args, net = build(['--act', 'tanh', '--hidden_units', '200',
                       '--seq_len', '20'])
    bound = adding.network_globals(args).U_bound
    for w in values_named(net, 'hidden_to_hidden.W'):
        assert w.min() >= -bound and w.max() <= bound
        assert w.min() < -0.5 * bound and w.max() > 0.5 * bound


def test_rnn_networks():
    _, net = build(['--model', 'rnn', '--hidden_units', '6'])
    np.testing.assert_array_equal(
        values_named(net, 'hidden_to_hidden.W')[0], np.identity(6))
    _, net = build(['--model', 'rnn', '--act', 'tanh', '--hidden_units', '6'])
    w = values_named(net, 'hidden_to_hidden.W')[0]
    assert w.shape == (6, 6) and not np.allclose(w, np.identity(6))
    _, net = build(['--model', 'lstm', '--hidden_units', '6'])
    names = [p.name for p in get_all_params(net['out'])]
    b_forget = values_named(net, 'b_forgetgate')
    assert len(b_forget) == 1 and np.all(b_forget[0] == 1)
    assert np.all(values_named(net, 'b_ingate')[0] == 0)
    assert 'W_cell_to_ingate' in names  # Lasagne's default peepholes
    with pytest.raises(ValueError, match='gru'):
        build(['--model', 'gru'])


# ----------------------------------------------------------- command line

ARGV = ['--seq_len', '10', '--hidden_units', '8', '--batch_size', '4',
        '--seed', '0']


def test_main_trains_logs_and_saves(tmp_path, monkeypatch):
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    out = tmp_path / 'run'
    # The Python linker: this checks the script end to end, not speed; the
    # compiled modes are covered by the fixture tests.
    with pytensor.config.change_flags(floatX='float64', mode='FAST_COMPILE'):
        rc = adding.main(ARGV + ['--max_steps', '30', '--report_every', '10',
                                 '--out', str(out)])
        # The script's float32 default does not leak out of main().
        assert pytensor.config.floatX == 'float64'
    assert rc == 0
    log = (out / 'indrnn10.log').read_text()
    reports = re.findall(r'^step (\d+) lr 0.0002 train_mse (\S+) '
                         r'test_mse (\S+) time', log, flags=re.M)
    assert [int(r[0]) for r in reports] == [10, 20, 30]
    for _, train, test in reports:
        assert 0 < float(train) < 10 and 0 < float(test) < 10
    assert 'seed 0 floatX float32' in log
    assert 'saved parameters to' in log

    # The saved file is a legacy file of the network the flags build.
    with np.load(out / 'indrnn10.npz') as f:
        saved = [f['arr_%d' % i] for i in range(len(f.files))]
    assert all(a.dtype == np.float32 for a in saved)
    with pytensor.config.change_flags(floatX='float32'):
        _, net = build(ARGV)
    load_legacy_params(str(out / 'indrnn10.npz'), net['out'])
    params = get_all_params(net['out'])
    for p, a in zip(params, saved):
        np.testing.assert_array_equal(p.get_value(), a)
    # Training moved the trainable parameters away from the initial ones
    # (same seed), and hid_init stayed zero.
    _, fresh = build(ARGV)
    for p, q in zip(params, get_all_params(fresh['out'])):
        if p.name == 'hid_init':
            assert not np.any(p.get_value())
        else:
            assert not np.array_equal(p.get_value(), q.get_value()), p.name

    # Same seed, same run: the log figures repeat exactly.
    out2 = tmp_path / 'run2'
    with pytensor.config.change_flags(mode='FAST_COMPILE'):
        adding.main(ARGV + ['--max_steps', '10', '--report_every', '10',
                            '--out', str(out2), '--log',
                            str(tmp_path / 'other.log')])
    assert not (out2 / 'indrnn10.log').exists()
    again = re.findall(r'train_mse (\S+) test_mse (\S+)',
                       (tmp_path / 'other.log').read_text())
    assert again == [reports[0][1:]]


def test_main_respects_floatx_from_pytensor_flags(tmp_path, monkeypatch):
    monkeypatch.setenv('PYTENSOR_FLAGS', 'mode=FAST_COMPILE,floatX=float64')
    with pytensor.config.change_flags(floatX='float64', mode='FAST_COMPILE'):
        assert adding.main(['--model', 'rnn', '--max_steps', '0',
                            '--out', str(tmp_path)] + ARGV) == 0
    with np.load(tmp_path / 'rnn10.npz') as f:
        # W_hid_to_hid: the original's identity callable returns float32.
        dtypes = [f[k].dtype for k in sorted(f.files)]
    assert np.dtype(np.float64) in dtypes


def test_module_help_runs():
    proc = subprocess.run([sys.executable, '-m', 'indrnn.experiments.adding',
                           '--help'], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for flag in ('--model', '--hidden_units', '--batch_size', '--seq_len',
                 '--MAG', '--act', '--lr', '--in2hidW', '--gradclipvalue',
                 '--seed', '--max_steps', '--report_every', '--out', '--log'):
        assert flag in proc.stdout
    assert 'IndRNN solving the adding problem' in proc.stdout


# ------------------------------------------------- checkpoints and resume

def _checkpoint_arrays(path):
    """Every dataset of a checkpoint file, by its HDF5 path."""
    import h5py
    found = {}
    with h5py.File(path, 'r') as f:
        f.visititems(lambda name, obj: found.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return found


def test_resume_gives_bit_identical_parameters(tmp_path, monkeypatch):
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    argv = ARGV + ['--report_every', '4']
    ckpts = 'indrnn10_checkpoints'
    with pytensor.config.change_flags(mode='FAST_COMPILE'):
        # Uninterrupted to step 10 (its checkpoint is written at max_steps).
        assert adding.main(argv + ['--max_steps', '10', '--out',
                                   str(tmp_path / 'a'),
                                   '--checkpoint_every', '100']) == 0
        # Interrupted at step 6: between two reports, so the running sums
        # and the final report's evaluation draws matter.
        assert adding.main(argv + ['--max_steps', '6', '--out',
                                   str(tmp_path / 'b'),
                                   '--checkpoint_every', '3',
                                   '--keep_checkpoints', '1']) == 0
        saved = sorted(os.listdir(tmp_path / 'b' / ckpts))
        assert saved == ['checkpoint-best.h5', 'checkpoint-step00000006.h5']
        resume = str(tmp_path / 'b' / ckpts / 'checkpoint-step00000006.h5')
        assert adding.main(argv + ['--max_steps', '10', '--out',
                                   str(tmp_path / 'b'),
                                   '--resume', resume]) == 0
    with np.load(tmp_path / 'a' / 'indrnn10.npz') as a, \
            np.load(tmp_path / 'b' / 'indrnn10.npz') as b:
        assert len(a.files) == 10
        assert_same_arrays(a, b)
    # Everything else too: Adam's state and the data generator's.
    a = _checkpoint_arrays(tmp_path / 'a' / ckpts /
                           'checkpoint-step00000010.h5')
    b = _checkpoint_arrays(tmp_path / 'b' / ckpts /
                           'checkpoint-step00000010.h5')
    assert_same_arrays(a, b)
    assert any(k.startswith('state/') for k in a)
    # The reports after the resume repeat the uninterrupted run's: the one
    # at step 8 averages steps 5-8, across the interruption.
    lines = [re.findall(r'^step (?:8|10) lr .*test_mse \S+', (tmp_path / d /
                        'indrnn10.log').read_text(), flags=re.M)
             for d in 'ab']
    assert len(lines[0]) == 2 and lines[0] == lines[1]


def test_resume_refuses_another_configuration(tmp_path, monkeypatch,
                                              capsys):
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    with pytensor.config.change_flags(mode='FAST_COMPILE'):
        assert adding.main(ARGV + ['--max_steps', '2', '--out',
                                   str(tmp_path),
                                   '--checkpoint_every', '2']) == 0
        path = str(tmp_path / 'indrnn10_checkpoints' /
                   'checkpoint-step00000002.h5')
        capsys.readouterr()
        argv = ARGV + ['--max_steps', '4', '--out', str(tmp_path / 'x'),
                       '--resume', path]
        assert adding.main([a if a != '8' else '9' for a in argv]) == 1
        err = capsys.readouterr().err
        # Refused from the flags, before the network is built.
        assert ("does not match this configuration: --hidden_units is 8 in "
                "the checkpoint and 9 in this run") in err
        assert adding.main(argv[:1] + ['12'] + argv[2:]) == 1
        assert "--seq_len is 10 in the checkpoint and 12" in \
            capsys.readouterr().err
    assert not (tmp_path / 'x' / 'indrnn10.npz').exists()


def test_checkpoint_flags_are_checked():
    parser = adding.make_parser()
    args = parser.parse_args([])
    assert (args.checkpoint_every, args.keep_checkpoints,
            args.resume) == (None, 3, None)
    for flag in ('--checkpoint_every', '--keep_checkpoints'):
        with pytest.raises(SystemExit):
            parser.parse_args([flag, '0'])


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM],
                         ids=['SIGINT', 'SIGTERM'])
def test_a_signal_writes_a_checkpoint_and_the_run_resumes_exactly(tmp_path,
                                                                  sig):
    """A real SIGINT or SIGTERM to the running command (default mode):
    the step finishes, a checkpoint is written and named with the command
    that resumes it; that command, run a few steps on, gives the
    parameters and checkpoint of an uninterrupted run, bit for bit."""
    import shlex
    from indrnn.run.checkpoint import load_checkpoint
    out = tmp_path / 'a'
    argv = ARGV + ['--report_every', '5', '--checkpoint_every', '100000']
    step, path, hint, _ = interrupt(
        'indrnn.experiments.adding', argv + ['--out', str(out)],
        str(out / 'indrnn10.log'), r'^step 5 ', sig=sig)
    assert step >= 5
    assert path == str(out / 'indrnn10_checkpoints' /
                       ('checkpoint-step%08d.h5' % step))
    assert '-m indrnn.experiments.adding' in hint and hint.endswith(
        '--resume ' + path)
    assert '--checkpoint_every 100000' in hint
    with pytensor.config.change_flags(floatX='float32'):
        _, net = build(ARGV)
    state = load_checkpoint(path, net['out'],
                            rngs=[np.random.RandomState()])
    assert state['loop']['step'] == step
    # The legacy parameter file is written on the way out as well.
    assert (out / 'indrnn10.npz').exists()
    final = step + 7
    resume(shlex.split(hint), path, step, final)
    reference = tmp_path / 'b'
    proc = subprocess.run(
        [sys.executable, '-m', 'indrnn.experiments.adding'] + argv
        + ['--out', str(reference), '--max_steps', str(final)],
        cwd=REPO_ROOT, env=subprocess_env(), capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stderr
    with np.load(out / 'indrnn10.npz') as a, \
            np.load(reference / 'indrnn10.npz') as b:
        assert_same_arrays(a, b)
    name = 'indrnn10_checkpoints/checkpoint-step%08d.h5' % final
    assert_same_arrays(_checkpoint_arrays(out / name),
                       _checkpoint_arrays(reference / name))


# A run killed (SIGKILL) half-way through writing its checkpoint of step 6,
# as by kill -9 or a power loss.
_KILLED_IN_A_WRITE = '''
import os, runpy, signal, sys
from indrnn.run import checkpoint
write = checkpoint._write_hdf5

def write_then_die(path, contents):
    write(path, contents)
    if "-step00000006.h5." in os.path.basename(path):
        with open(path, 'r+b') as f:
            f.truncate(os.path.getsize(path) // 2)
        os.kill(os.getpid(), signal.SIGKILL)

checkpoint._write_hdf5 = write_then_die
sys.argv = ['adding'] + sys.argv[1:]
runpy.run_module('indrnn.experiments.adding', run_name='__main__')
'''


def test_kill_during_a_checkpoint_write_keeps_the_previous_one(tmp_path):
    """kill -9 while a checkpoint is written: the checkpoints before it are
    whole and loadable, the unfinished file is not taken for one (and is
    removed by the next run), and the run resumed from the last whole
    checkpoint ends as the uninterrupted run, bit for bit."""
    from indrnn.run.checkpoint import read_checkpoint
    argv = ARGV + ['--report_every', '3', '--checkpoint_every', '3',
                   '--keep_checkpoints', '5']
    out, ckpts = tmp_path / 'a', tmp_path / 'a' / 'indrnn10_checkpoints'
    killed = subprocess.run(
        [sys.executable, '-c', _KILLED_IN_A_WRITE] + argv
        + ['--out', str(out), '--max_steps', '12'], cwd=REPO_ROOT,
        env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    names = sorted(os.listdir(ckpts))
    whole = [n for n in names if not n.startswith('.')]
    assert whole == ['checkpoint-best.h5', 'checkpoint-step00000003.h5']
    assert any(n.endswith('.tmp') for n in names)  # the unfinished write
    last = str(ckpts / 'checkpoint-step00000003.h5')
    assert read_checkpoint(last)['loop']['step'] == 3
    resumed = subprocess.run(
        [sys.executable, '-m', 'indrnn.experiments.adding'] + argv
        + ['--out', str(out), '--max_steps', '12', '--resume', last],
        cwd=REPO_ROOT, env=subprocess_env(), capture_output=True, text=True,
        timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert 'resumed from %s at step 3' % last in resumed.stdout
    assert not [n for n in os.listdir(ckpts) if n.endswith('.tmp')]
    reference = subprocess.run(
        [sys.executable, '-m', 'indrnn.experiments.adding'] + argv
        + ['--out', str(tmp_path / 'b'), '--max_steps', '12'],
        cwd=REPO_ROOT, env=subprocess_env(), capture_output=True, text=True,
        timeout=300)
    assert reference.returncode == 0, reference.stderr
    with np.load(out / 'indrnn10.npz') as a, \
            np.load(tmp_path / 'b' / 'indrnn10.npz') as b:
        assert_same_arrays(a, b)


def _full_disk(target):
    """A stand-in for ``target`` that fails as a full disk would."""
    import errno

    def write(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return write


@pytest.mark.parametrize('what', ['parameters', 'log'])
def test_full_disk_at_the_end_is_reported_and_the_checkpoint_stays(
        tmp_path, monkeypatch, capsys, what):
    """The disk fills while the run writes its final parameters (or a log
    line): exit status 1, one line naming the file and the last
    checkpoint, which loads and resumes; an older parameter file is not
    overwritten by a truncated one."""
    from indrnn.run import loop
    from indrnn.legacy import params as legacy_params
    from indrnn.run.checkpoint import read_checkpoint
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    out = tmp_path / 'run'
    argv = ARGV + ['--report_every', '3', '--checkpoint_every', '3',
                   '--out', str(out)]
    assert adding.main(argv + ['--max_steps', '3']) == 0
    before = (out / 'indrnn10.npz').read_bytes()
    capsys.readouterr()
    if what == 'parameters':
        monkeypatch.setattr(legacy_params.np, 'savez', _full_disk(np.savez))
        target = out / 'indrnn10.npz'
    else:
        real_open = open
        lines = []

        def log_open(path, mode='r', *args, **kwargs):
            if str(path).endswith('indrnn10.log') and 'a' in mode:
                lines.append(path)
                if len(lines) > 3:
                    raise OSError(28, os.strerror(28))
            return real_open(path, mode, *args, **kwargs)
        monkeypatch.setattr(loop, 'open', log_open, raising=False)
        target = out / 'indrnn10.log'
    assert adding.main(argv + ['--max_steps', '9', '--resume', str(
        out / 'indrnn10_checkpoints' / 'checkpoint-step00000003.h5')]) == 1
    err = capsys.readouterr().err
    [line] = [l for l in err.splitlines() if l.startswith('error: ')]
    assert line.startswith('error: could not write %s (No space left on '
                           'device).' % target), line
    last = line.split('The last checkpoint, ')[1].split(', is intact')[0]
    assert read_checkpoint(last)['loop']['step'] in (3, 6, 9)
    assert (out / 'indrnn10.npz').read_bytes() == before
    assert not [p for p in os.listdir(out) if p.endswith('.tmp')]
