"""Tests of the pixel-MNIST script (indrnn.experiments.pixelmnist): command
line, schedule, reports, saved files, evaluation.

The networks and one training step are compared with the original
Theano/Lasagne code in ``tests/test_legacy_fixtures.py`` (``-k mnist``) and
the data side in ``tests/data/test_mnist.py``. Here the script runs end to
end on tiny IDX files written by the test (5x5 images: 25 time steps), in
the Python-linker mode FAST_COMPILE: this checks the script, not speed.
"""
import csv
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import indrnn.lasagne as lasagne
from indrnn.experiments import pixelmnist
from indrnn.data import mnist
from indrnn.lasagne.layers import get_all_params
from indrnn.legacy import load_legacy_params
from idx_files import write_learnable_mnist
from sigint_run import assert_same_arrays, interrupt, resume

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

N_TRAIN, N_TEST, SIZE = 24, 10, 5
NET = ['--num_layers', '2', '--hidden_units', '6', '--batch_size', '4']




@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """A data folder with tiny MNIST-format files; the digit is written as
    the brightness of the top rows, so the task is learnable."""
    return write_learnable_mnist(tmp_path_factory.mktemp('data'), N_TRAIN,
                                 N_TEST, SIZE)


def build(argv, seq_len, seed=0):
    args = pixelmnist.make_run_parser().parse_args(argv)
    old = lasagne.random.get_rng()
    lasagne.random.set_rng(np.random.RandomState(seed))
    try:
        return args, pixelmnist.build_network(args, seq_len=seq_len)
    finally:
        lasagne.random.set_rng(old)


def test_parser_extras_default_to_the_original():
    args = pixelmnist.make_run_parser().parse_args([])
    assert (args.model, args.num_layers, args.hidden_units,
            args.batch_size) == ('indrnn', 6, 128, 32)
    assert (args.use_permute, args.use_bn_afterrnn,
            args.use_weightdecay_nohiddenW) == (False, False, False)
    assert (args.seed, args.max_steps, args.eval_every, args.subset,
            args.test_subset, args.data_dir, args.download,
            args.permute_seed, args.permutation, args.out, args.log) == \
        (None, None, 1000, None, None, None, False, None, None, '.', None)
    assert pixelmnist.LR_DECAY_STEPS == 100 * 6000
    # make_parser holds the original flags only; main() adds the options.
    original = vars(pixelmnist.make_parser().parse_args([]))
    assert set(vars(args)) - set(original) == {
        'seed', 'max_steps', 'eval_every', 'subset', 'test_subset',
        'data_dir', 'download', 'permute_seed', 'permutation', 'out', 'log',
        'checkpoint_every', 'keep_checkpoints', 'resume'}


def test_main_runs_the_schedule_and_writes_everything(data, tmp_path,
                                                      monkeypatch):
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    # The original decays every 600k batches; 4 here, so the whole
    # schedule (five decays, stop below 1e-8) runs in 20 batches.
    monkeypatch.setattr(pixelmnist, 'LR_DECAY_STEPS', 4)
    out = tmp_path / 'run'
    argv = NET + ['--eval_every', '2', '--seed', '0', '--use_permute',
                  '--data_dir', str(data), '--out', str(out)]
    with pytensor.config.change_flags(floatX='float64', mode='FAST_COMPILE'):
        assert pixelmnist.main(argv) == 0
        assert pytensor.config.floatX == 'float64'  # float32 did not leak

    log = (out / 'MNIST_indrnn.log').read_text()
    reports = re.findall(
        r'^step (\d+) lr (\S+) train_loss (\S+) train_acc (\S+) test_loss '
        r'\S+ accuracy (\S+) bn_test_loss \S+ bn_accuracy (\S+) '
        r'test_images (\d+) time', log, flags=re.M)
    assert [int(r[0]) for r in reports] == list(range(2, 22, 2))
    lrs = [float(r[1]) for r in reports]
    expected = [2e-4 * 0.1 ** ((step - 1) // 4) for step in range(2, 22, 2)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-6)
    assert re.findall(r'^learning rate (\S+)$', log, flags=re.M)[-1] \
        .startswith('2e-09')
    assert all(int(r[6]) == N_TEST for r in reports)
    for r in reports:
        assert 0 <= float(r[3]) <= 1 and 0 <= float(r[4]) <= 1
    assert 'seed 0 floatX float32' in log

    # CSV and JSON hold every report, the same figures.
    with open(out / 'MNIST_indrnn.csv') as f:
        rows = list(csv.DictReader(f))
    with open(out / 'MNIST_indrnn.json') as f:
        report = json.load(f)
    assert list(rows[0])[:2] == ['step', 'learning_rate']
    assert [int(r['step']) for r in rows] == list(range(2, 22, 2))
    assert report['stop_reason'] == 'schedule' and report['steps'] == 20
    assert report['argv'] == argv and report['seed'] == 0
    assert len(report['reports']) == len(rows)
    for row, rep in zip(rows, report['reports']):
        for key in ('train_acc', 'accuracy', 'bn_accuracy', 'bn_test_loss'):
            assert float(row[key]) == pytest.approx(rep[key], rel=1e-12)

    # The permutation is saved; it is the seed's.
    P = mnist.load_permutation(report['permutation'], SIZE * SIZE)
    assert report['permutation'] == str(out / 'MNIST_indrnn_permutation.npy')
    np.testing.assert_array_equal(P, mnist.make_permutation(SIZE * SIZE, 0))

    # The parameters are a legacy file of the network the flags build, and
    # the last report's stored-average figures are those of these
    # parameters on every test image, computed here independently.
    args, net = build(argv, SIZE * SIZE)
    load_legacy_params(str(out / 'MNIST_indrnn.npz'), net['out'])
    X = pt.tensor3(dtype='float32')
    probs = pytensor.function(
        [X], lasagne.layers.get_output(net['out'], X, deterministic=True),
        mode='FAST_COMPILE')
    _, (x_test, y_test) = mnist.load_dataset(str(data), permutation=P)
    padded = np.concatenate([x_test, x_test[:2]])  # 3 batches of 4
    p = np.concatenate([probs(padded[i:i + 4]) for i in range(0, 12, 4)])
    p = p[:N_TEST]
    bn_accuracy = np.mean(p.argmax(axis=1) == y_test)
    bn_loss = -np.mean(np.log(p[np.arange(N_TEST), y_test]))
    last = report['reports'][-1]
    assert last['bn_accuracy'] == pytest.approx(bn_accuracy, abs=1e-12)
    assert last['bn_test_loss'] == pytest.approx(bn_loss, rel=1e-5)

    # Same seed and saved permutation, same first report.
    out2 = tmp_path / 'again'
    with pytensor.config.change_flags(mode='FAST_COMPILE'):
        assert pixelmnist.main(
            NET + ['--eval_every', '2', '--seed', '0', '--use_permute',
                   '--permutation', report['permutation'], '--max_steps',
                   '2', '--data_dir', str(data), '--out', str(out2)]) == 0
    with open(out2 / 'MNIST_indrnn.json') as f:
        again = json.load(f)
    assert again['stop_reason'] == 'max_steps'
    first, second = report['reports'][0], again['reports'][0]
    for key in ('train_loss', 'train_acc', 'accuracy', 'bn_accuracy'):
        assert second[key] == first[key]
    np.testing.assert_array_equal(np.load(again['permutation']), P)


def test_training_loss_includes_the_weight_decay(data):
    # train_fn reports the cross-entropy (at the parameters before the
    # step, with batch statistics) plus decay * sum of squares of every
    # regularizable parameter except hidden_to_hidden.W.
    argv = NET + ['--use_weightdecay_nohiddenW', '--decayrate', '0.01']
    args, net = build(argv, SIZE * SIZE)
    g = pixelmnist.network_globals(args, SIZE * SIZE)
    train_fn, eval_fn = pixelmnist.compile_functions(
        args, net, g.U_bound, mode='FAST_COMPILE')
    (x, y), _ = mnist.load_dataset(str(data), subset=4)
    x = x.astype(pytensor.config.floatX)
    penalised = [p for p in get_all_params(net['out'], regularizable=True)
                 if p.name != 'hidden_to_hidden.W']
    # The input projections, BatchNorm's gamma (regularizable in Lasagne)
    # and the output layer.
    assert [p.name for p in penalised] == ['W', 'gamma', 'W', 'gamma', 'W']
    penalised = [p.get_value() for p in penalised]
    ce, correct, _, _ = eval_fn(x, y)
    loss, acc = train_fn(x, y, np.float32(1e-3))
    decay = 0.01 * sum(float(np.sum(v.astype(np.float64) ** 2))
                       for v in penalised)
    assert float(loss) == pytest.approx(np.mean(ce) + decay, rel=1e-5)
    assert float(acc) == pytest.approx(np.mean(correct))


def test_missing_or_corrupt_data_stops_before_anything_runs(
        data, tmp_path, capsys):
    out = tmp_path / 'run'
    assert pixelmnist.main(NET + ['--data_dir', str(tmp_path / 'none'),
                                  '--out', str(out)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / 'none') in err
    for name in mnist.FILES:
        assert name in err
    assert not (out / 'MNIST_indrnn.npz').exists()

    bad = tmp_path / 'bad' / 'mnist'
    bad.mkdir(parents=True)
    for name in mnist.FILES:
        (bad / name).write_bytes((data / 'mnist' / name).read_bytes())
    (bad / mnist.FILES[1]).write_bytes(b'\x1f\x8b' + b'\x00' * 10)
    assert pixelmnist.main(NET + ['--data_dir', str(bad.parent),
                                  '--out', str(out)]) == 2
    err = capsys.readouterr().err
    assert mnist.FILES[1] in err and 'gzip' in err
    assert not (out / 'MNIST_indrnn.npz').exists()


def test_module_help_runs():
    proc = subprocess.run([sys.executable, '-m',
                           'indrnn.experiments.pixelmnist', '--help'],
                          cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for flag in ('--model', '--num_layers', '--hidden_units', '--batch_size',
                 '--lr', '--ini', '--gradclipvalue', '--use_permute',
                 '--use_weightdecay_nohiddenW', '--decayrate', '--ini_b',
                 '--MAG', '--use_bn_afterrnn', '--seed', '--max_steps',
                 '--eval_every', '--subset', '--test_subset', '--data_dir',
                 '--download', '--permute_seed', '--permutation', '--out',
                 '--log'):
        assert flag in proc.stdout
    assert 'IndRNN solving the pixel MNIST problem' in proc.stdout


# ------------------------------------------------- checkpoints and resume

def _checkpoint_contents(path):
    """Every dataset of a checkpoint file by its HDF5 path, and its
    schedule state."""
    import h5py
    found = {}
    with h5py.File(path, 'r') as f:
        f.visititems(lambda name, obj: found.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
        state = json.loads(str(f.attrs['state_json']))
    return found, state


def test_resume_gives_bit_identical_parameters(data, tmp_path, monkeypatch):
    # A network with BatchNorm (running averages) and dropout (its masks
    # follow a call counter), permuted pixels; interrupted at step 5, when
    # the batch thread has already drawn batch 6, the last of a pass, and
    # reshuffled: the checkpoint must hold the order before that.
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    argv = NET + ['--net', 'residual', '--num_blocks', '1', '--dropout',
                  '0.3', '--use_permute', '--eval_every', '3',
                  '--data_dir', str(data)]
    ckpts = 'MNIST_indrnn_residual_checkpoints'
    with pytensor.config.change_flags(mode='FAST_COMPILE'):
        assert pixelmnist.main(argv + ['--seed', '0', '--max_steps', '10',
                                       '--out', str(tmp_path / 'a'),
                                       '--checkpoint_every', '100']) == 0
        assert pixelmnist.main(argv + ['--seed', '0', '--max_steps', '5',
                                       '--out', str(tmp_path / 'b'),
                                       '--checkpoint_every', '5',
                                       '--keep_checkpoints', '1']) == 0
        resume = str(tmp_path / 'b' / ckpts / 'checkpoint-step00000005.h5')
        _, state5 = _checkpoint_contents(resume)
        assert state5['schedule']['state']['train']['position'] == 20
        assert state5['schedule']['state']['train']['epoch'] == 0
        # Another seed on the command line: the permutation, batch order
        # and random states still come from the checkpoint.
        assert pixelmnist.main(argv + ['--seed', '1', '--max_steps', '10',
                                       '--out', str(tmp_path / 'b'),
                                       '--resume', resume]) == 0
    name = 'MNIST_indrnn_residual'
    with np.load(tmp_path / 'a' / (name + '.npz')) as a, \
            np.load(tmp_path / 'b' / (name + '.npz')) as b:
        assert_same_arrays(a, b)
    a, state_a = _checkpoint_contents(
        tmp_path / 'a' / ckpts / 'checkpoint-step00000010.h5')
    b, state_b = _checkpoint_contents(
        tmp_path / 'b' / ckpts / 'checkpoint-step00000010.h5')
    # Adam's moments and the dropout counter are in 'state/'.
    assert_same_arrays(a, b)
    assert sum(k.startswith('state/') for k in a) > 3
    assert state_a['schedule']['seed'] == state_b['schedule']['seed']
    sa, sb = state_a['schedule']['state'], state_b['schedule']['state']
    for key in ('train', 'test_order', 'permutation', 'schedule'):
        assert sa[key] == sb[key], key
    assert sa['train']['epoch'] == 1 and sa['train']['position'] == 16
    np.testing.assert_array_equal(
        sa['permutation'], mnist.make_permutation(SIZE * SIZE, 0))
    # The reports, before and after the interruption, are the
    # uninterrupted run's (the one at step 6 averages steps 4-6).
    reports = []
    for run in 'ab':
        with open(tmp_path / run / (name + '.json')) as f:
            reports.append([{k: v for k, v in r.items() if k != 'time'}
                            for r in json.load(f)['reports']])
    assert [r['step'] for r in reports[0]] == [3, 6, 9, 10]
    assert reports[0] == reports[1]


def test_resume_refuses_another_configuration(data, tmp_path, monkeypatch,
                                              capsys):
    # A checkpoint of a residual network with dropout; resumed with other
    # flags, original or Deep IndRNN ones, it is refused naming the flag,
    # before the network is built (let alone compiled or trained).
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    argv = NET + ['--data_dir', str(data), '--out', str(tmp_path),
                  '--net', 'residual', '--num_blocks', '1', '--dropout',
                  '0.3']
    with pytensor.config.change_flags(mode='FAST_COMPILE'):
        assert pixelmnist.main(argv + ['--max_steps', '1',
                                       '--checkpoint_every', '1']) == 0
    path = str(tmp_path / 'MNIST_indrnn_residual_checkpoints' /
               'checkpoint-step00000001.h5')

    def no_build(*args, **kwargs):
        raise AssertionError('the network was built')

    monkeypatch.setattr(pixelmnist, 'build_network', no_build)
    refused = [
        (['--use_permute'], "--use_permute is False in the checkpoint and "
                            "True in this run"),
        (['--hidden_units', '7'], '--hidden_units is 6 in the checkpoint '
                                  'and 7'),
        (['--net', 'dense'], "--net is 'residual' in the checkpoint and "
                             "'dense'"),
        (['--net', 'plain'], "--net is 'residual'"),
        (['--num_blocks', '2'], '--num_blocks is 1 in the checkpoint and 2'),
        # Changes no parameter's shape: only the flags can tell.
        (['--dropout', '0.2'], '--dropout is 0.3.* in the checkpoint and '
                               '0.2'),
        (['--growth_rate', '8'], '--growth_rate is 16 in the checkpoint '
                                 'and 8'),
        (['--block_config', '2,2'], r'--block_config is \[8, 6, 4\] in the '
                                    r'checkpoint and \[2, 2\]'),
    ]
    capsys.readouterr()
    for flags, message in refused:
        assert pixelmnist.main(argv + ['--max_steps', '2', '--resume', path]
                               + flags) == 1, flags
        out, err = capsys.readouterr()
        assert re.search(re.escape(path) + ' does not match this '
                         'configuration: ' + message, err), (flags, err)
        assert 'Compiling' not in out and 'data from' not in out
    # The same flags again resume (and build, so no_build says so).
    with pytest.raises(AssertionError, match='network was built'):
        pixelmnist.main(argv + ['--max_steps', '2', '--resume', path])


def test_sigint_writes_a_checkpoint_and_the_printed_command_resumes(
        data, tmp_path, monkeypatch):
    # Interrupted by SIGINT at whatever step the signal lands: the step
    # finishes, a checkpoint is written and named with the command that
    # resumes it; that command, run to step k, gives the parameters of an
    # uninterrupted run to step k.
    import shlex
    from indrnn.run.checkpoint import read_checkpoint
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    argv = NET + ['--use_bn_afterrnn', '--use_permute', '--eval_every', '2',
                  '--seed', '0', '--data_dir', str(data)]
    out = tmp_path / 'a'
    # No --max_steps: the run goes on until the signal.
    step, path, hint, _ = interrupt(
        'indrnn.experiments.pixelmnist',
        argv + ['--out', str(out), '--checkpoint_every', '100000'],
        str(out / 'MNIST_indrnn.log'), r'^step 4 ')
    assert step >= 4
    assert path == str(out / 'MNIST_indrnn_checkpoints' /
                       ('checkpoint-step%08d.h5' % step))
    assert read_checkpoint(path)['loop']['step'] == step
    command = shlex.split(hint)
    assert command[:3] == [sys.executable, '-m',
                           'indrnn.experiments.pixelmnist']
    assert command[-2:] == ['--resume', path]
    assert '--checkpoint_every' in command and '--use_permute' in command

    # The printed command, run to a few steps past the interruption.
    final = step + 3
    resume(command, path, step, final)
    # The uninterrupted run, in the default mode as the interrupted one.
    assert pixelmnist.main(argv + ['--out', str(tmp_path / 'b'),
                                   '--max_steps', str(final)]) == 0
    with np.load(out / 'MNIST_indrnn.npz') as a, \
            np.load(tmp_path / 'b' / 'MNIST_indrnn.npz') as b:
        assert_same_arrays(a, b)


def test_full_disk_while_writing_the_reports_is_reported(data, tmp_path,
                                                         monkeypatch, capsys):
    """The disk fills while the run rewrites its CSV report: exit status 1
    and one line naming the CSV and the last checkpoint, which is whole."""
    import errno
    from indrnn.run import loop
    from indrnn.run.checkpoint import read_checkpoint
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    real_open = open

    def full_disk_for_csv(path, mode='r', *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        if str(path).endswith('.csv') and 'w' in mode:
            def write(_):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            f.write = write
        return f
    monkeypatch.setattr(loop, 'open', full_disk_for_csv, raising=False)
    out = tmp_path / 'run'
    argv = NET + ['--eval_every', '2', '--seed', '0', '--data_dir',
                  str(data), '--out', str(out), '--max_steps', '4',
                  '--checkpoint_every', '1']
    assert pixelmnist.main(argv) == 1
    err = capsys.readouterr().err
    [line] = [l for l in err.splitlines() if l.startswith('error: ')]
    assert line.startswith('error: could not write %s (No space left on '
                           'device).' % (out / 'MNIST_indrnn.csv')), line
    last = line.split('The last checkpoint, ')[1].split(', is intact')[0]
    # the one before the report at step 2 (reports come first)
    assert read_checkpoint(last)['loop']['step'] == 1
