"""Tests of indrnn.experiments.Indrnn_action_train: flags, schedule, test, CLI.

The network builder is compared with the original Theano/Lasagne code in
``tests/test_legacy_fixtures.py`` (``-k action``). Here: the flags, the
per-epoch schedule against the original's loop, the averaging over test
crops, the clip after the step, and an end-to-end run on a small synthetic
data set of ``.skeleton`` files, converted with ``indrnn-ntu-convert`` and
trained through the command line, that must learn well above chance.
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
from indrnn.experiments import Indrnn_action_network as action_network
from indrnn.experiments import Indrnn_action_train as action
from indrnn.data import ntu_convert
from indrnn.data.ntu_synthetic import write_synthetic_skeletons
from indrnn.lasagne.layers import get_all_params
from indrnn.legacy import load_legacy_params
from sigint_run import assert_same_arrays, interrupt, resume

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


# ------------------------------------------------------------------ flags

def test_parser_has_the_original_flags_and_defaults():
    args = action.make_parser().parse_args([])
    expected = {
        'lr': 2e-4, 'batch_size': 128, 'seq_len': 20, 'num_layers': 6,
        'hidden_units': 512, 'test_CV': False,
        'use_weightdecay_nohiddenW': False, 'decayrate': 1e-4,
        'use_bn_afterrnn': False, 'ini_in2hid': 0.002, 'constrain_U': False,
        'MAG': 5.0, 'rotation_aug': False, 'eval_fold': 5, 'ini_b': 0.0,
        'end_rate': 1e-6, 'use_dropout': False, 'droprate': 0.1,
        'rec_drop': False, 'drop_layers': 1, 'conv_drop': False,
        # Extras.
        'seed': None, 'max_steps': None, 'data_dir': '.', 'out': '.',
        'log': None, 'test_crops': 10}
    for name, value in expected.items():
        assert getattr(args, name) == pytest.approx(value), name
    args = action.make_parser().parse_args(
        ['--lr', '0.01', '--droprate', '0.25', '--test_CV'])
    assert type(args.lr) is np.float32 and type(args.droprate) is np.float32
    assert action.dataset_names(args) == ('train_CV_ntus', 'test_CV_ntus')


# --------------------------------------------------------------- schedule

def original_schedule(accuracies, lr, end_rate, patience_thre=10):
    """The original loop's model selection, restated: returns its events."""
    lastacc, patience, events = 0, 0, []
    for epocacc in accuracies:
        if epocacc > lastacc:
            lastacc, patience = epocacc, 0
            events.append(('best', lr))
        elif patience > patience_thre:
            patience = 0
            lr = np.float32(lr * 0.1)
            events.append(('decay', lr))
            if lr < end_rate:
                events.append(('stop', lr))
                break
        else:
            patience += 1
            events.append(('wait', lr))
    return events


def test_epoch_schedule_is_the_original():
    rng = np.random.RandomState(0)
    for trial in range(20):
        # Mostly flat accuracies, so that the patience runs out often.
        accs = np.round(rng.uniform(0.5, 0.6, size=200), 1 + trial % 2)
        expected = original_schedule(accs, np.float32(2e-4), 1e-6)
        kept, restored = [], []
        params = {'value': 0}
        schedule = action.epoch_schedule(action.make_parser().parse_args(
            ['--lr', '2e-4']))
        events = []
        for i, acc in enumerate(accs):
            params['value'] = i
            event = action.EVENTS[schedule.update(
                acc,
                lambda: (kept.append(params['value']), params['value'])[1],
                restored.append)]
            lr = schedule.learning_rate
            events.append((event, lr))
            if event == 'decay':
                # The best parameters are restored: those of the best epoch.
                assert restored[-1] == kept[-1]
            if schedule.stop:
                events.append(('stop', lr))
                break
        assert events == expected
    assert any(e[0] == 'stop' for e in expected)
    # Decay only after more than 10 evaluations without improvement.
    schedule = action.epoch_schedule(action.make_parser().parse_args(
        ['--lr', '1e-3']))
    events = [action.EVENTS[schedule.update(a, lambda: 'p', lambda v: None)]
              for a in [0.5] + [0.4] * 12]
    assert events == ['best'] + ['wait'] * 11 + ['decay']


def test_average_over_crops_and_confusion():
    rng = np.random.RandomState(0)
    num, classes, batch = 7, 5, 4
    labels = rng.randint(classes, size=num)
    batches, outputs = [], []
    for _ in range(6):
        index = rng.randint(num, size=batch)   # duplicates on purpose
        soft = rng.dirichlet(np.ones(classes), size=batch)
        batches.append((None, labels[index], index))
        outputs.append([float((soft.argmax(1) == labels[index]).mean()),
                        soft])
    it_b, it_o = iter(batches), iter(outputs)
    acc, scores = action.average_over_crops(
        lambda x, y: next(it_o), lambda: next(it_b), num, 6, classes)
    assert acc == pytest.approx(np.mean([o[0] for o in outputs]))
    for i in range(num):
        crops = [o[1][j] for (_, _, index), o in zip(batches, outputs)
                 for j in range(batch) if index[j] == i]
        expected = np.mean(crops, axis=0) if crops else np.zeros(classes)
        np.testing.assert_allclose(scores[i], expected)
    pred = scores.argmax(axis=1)
    matrix = action.confusion_matrix(labels, pred, classes)
    for t in range(classes):
        for p in range(classes):
            assert matrix[t, p] == np.sum((labels == t) & (pred == p))


# ---------------------------------------------------------- clip after step

ARGV_SMALL = ['--num_layers', '2', '--hidden_units', '6', '--batch_size',
              '3', '--seq_len', '4', '--lr', '0.5']


def test_constrain_u_clips_after_the_step():
    def step(extra):
        args = action.make_parser().parse_args(ARGV_SMALL + extra)
        lasagne.random.set_rng(np.random.RandomState(0))
        X = pt.tensor4('inputs', dtype=pytensor.config.floatX)
        y = pt.ivector('label')
        net = action_network.build_indrnn_network(args, X, indim=5)
        train_fn, _, _ = action.compile_functions(args, net, X, y,
                                                  mode='FAST_COMPILE')
        rng = np.random.RandomState(1)
        x = rng.normal(size=(3, 4, 5, 3)).astype(np.float32)
        loss, _ = train_fn(x, np.array([0, 5, 59], np.int32),
                           np.float32(args.lr))
        return float(loss), [p.get_value() for p in get_all_params(net['out'])
                             if p.name == 'hidden_to_hidden.W'], args

    old = lasagne.random.get_rng()
    try:
        loss_free, free, args = step([])
        loss_clip, clipped, _ = step(['--constrain_U'])
    finally:
        lasagne.random.set_rng(old)
    bound = action_network.network_globals(args).U_bound
    # The loss is computed before the clip: the same in both runs.
    assert loss_clip == loss_free
    # A large step leaves the bound, and the clip brings W back to it.
    assert any(np.abs(w).max() > bound for w in free)
    for w_free, w_clip in zip(free, clipped):
        np.testing.assert_array_equal(
            w_clip, np.clip(w_free, -np.float32(bound), np.float32(bound)))


# ----------------------------------------------------------- command line

@pytest.fixture(scope='module')
def synthetic_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('action')
    # Four actions with class-dependent motion, 240 samples.
    write_synthetic_skeletons(str(root / 'skeletons'), per_class=60, seed=0)
    assert ntu_convert.main([str(root / 'skeletons'), str(root / 'npy'),
                             '--max_frames', '60', '--quiet']) == 0
    assert ntu_convert.main([str(root / 'skeletons'), str(root / 'h5'),
                             '--max_frames', '60', '--quiet', '--format',
                             'h5', '--benchmark', 'CV']) == 0
    return root


ARGV = ['--num_layers', '2', '--hidden_units', '32', '--batch_size', '16',
        '--seq_len', '8', '--lr', '0.005', '--eval_fold', '1', '--seed', '0']


def test_end_to_end_learns(synthetic_data, tmp_path, monkeypatch):
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    out = tmp_path / 'run'
    argv = ARGV + ['--data_dir', str(synthetic_data / 'npy'), '--out',
                   str(out), '--max_steps', '150', '--test_crops', '3',
                   '--constrain_U', '--use_weightdecay_nohiddenW']
    # The Python linker: this checks the script end to end, not speed; the
    # compiled modes are covered by the fixture tests.
    with pytensor.config.change_flags(floatX='float64', mode='FAST_COMPILE'):
        assert action.main(argv) == 0
        assert pytensor.config.floatX == 'float64'
    log = (out / 'action_indrnn.log').read_text()
    assert 'seed 0 floatX float32' in log
    assert 'Dataset train size, test size 171 9' in log
    # Reports every 20 steps, an evaluation every epoch of 11 batches.
    steps = [int(s) for s in re.findall(r'^step (\d+) lr', log, flags=re.M)]
    assert steps == [20, 40, 60, 80, 100, 120, 140, 150]
    evals = re.findall(r'^epoch (\d+) step (\d+) evalacc,bn_evalacc (\S+) '
                       r'(\S+)$', log, flags=re.M)
    assert [(int(e), int(s)) for e, s, _, _ in evals] == [
        (e, 11 * e) for e in range(1, 14)]
    test = dict((k, (float(a), float(b))) for k, a, b in re.findall(
        r'^(testacc|bn_testacc) (\S+) (\S+)$', log, flags=re.M))
    # 4 classes (the test set has 15 of each): chance is 0.25. With batch
    # statistics (the original's "testacc") the net is far above it; the
    # BatchNorm averages lag behind a net that learns this fast (at this
    # learning rate), but must be valid figures.
    assert test['testacc'][1] > 0.6 and test['testacc'][0] > 0.6
    assert 0 <= test['bn_testacc'][0] <= 1 and 0 <= test['bn_testacc'][1] <= 1

    summary = json.loads((out / 'action_indrnn.json').read_text())
    assert summary['steps'] == 150 and summary['stop_reason'] == 'max_steps'
    assert summary['test_size'] == 60 and summary['seed'] == 0
    assert summary['test']['testacc']['per_sample'] == pytest.approx(
        test['testacc'][1], abs=1e-5)
    with open(out / 'action_indrnn_evals.csv') as f:
        rows = list(csv.DictReader(f))
    assert [int(r['epoch']) for r in rows] == list(range(1, 14))
    # The events follow the original's rule on the logged bn_evalacc.
    accs = [float(r['bn_evalacc']) for r in rows]
    assert accs == [float(b) for _, _, _, b in evals]
    assert [r['event'] for r in rows] == [
        e for e, _ in original_schedule(accs, np.float32(0.005), 1e-6)]
    with open(out / 'action_indrnn.csv') as f:
        rows = list(csv.DictReader(f))
    assert [int(r['step']) for r in rows] == steps
    assert float(rows[-1]['train_loss']) < float(rows[0]['train_loss'])
    matrix = np.loadtxt(out / 'action_indrnn_confusion.csv', delimiter=',')
    assert matrix.shape == (60, 60) and matrix.sum() == 60
    assert matrix[4:].sum() == 0      # the true classes are 0-3
    assert np.trace(matrix) / 60 == pytest.approx(test['bn_testacc'][1],
                                                  abs=1e-5)
    try:
        import matplotlib  # noqa: F401
        assert (out / 'action_indrnn_confusion.png').read_bytes()[:4] == \
            b'\x89PNG'
    except ImportError:
        assert 'install matplotlib' in log

    # The parameters, saved in the original format, load into the network
    # the flags build, and the recurrent weights respect the bound.
    args = action.make_parser().parse_args(argv)
    with pytensor.config.change_flags(floatX='float32'):
        net = action_network.build_indrnn_network(
            args, pt.tensor4('x', dtype='float32'))
    load_legacy_params(str(out / 'action_indrnn.npz'), net['out'])
    bound = action_network.network_globals(args).U_bound
    ws = [p.get_value() for p in get_all_params(net['out'])
          if p.name == 'hidden_to_hidden.W']
    assert len(ws) == 2 and all(np.abs(w).max() <= bound for w in ws)


def test_cross_view_from_hdf5(synthetic_data, tmp_path, monkeypatch):
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    out = tmp_path / 'cv'
    with pytensor.config.change_flags(mode='FAST_COMPILE'):
        assert action.main(ARGV + [
            '--data_dir', str(synthetic_data / 'h5'), '--out', str(out),
            '--test_CV', '--max_steps', '3', '--test_crops', '1',
            '--use_bn_afterrnn', '--use_dropout', '--rotation_aug']) == 0
    log = (out / 'action_indrnn.log').read_text()
    names = open(synthetic_data / 'npy' / 'train_CV_ntus_names.txt').read()
    count = len(names.split())
    assert re.search(r'data \S+train_CV_ntus\.h5 %d sequences' % count, log)
    assert re.search(r'data \S+test_CV_ntus\.h5 %d sequences' % (240 - count),
                     log)
    assert 'bn_testacc' in log
    assert not re.search('^epoch', log, flags=re.M)   # 3 steps: no epoch


def _broken_copy(source, target, name, damage):
    import shutil
    shutil.copytree(source, target)
    path = target / name
    damage(path)
    return path


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


@pytest.mark.parametrize('folder, name, damage, message', [
    ('npy', 'train_ntus.npy', _truncate, 'cannot read'),
    ('npy', 'test_ntus_label.npy', lambda p: p.write_bytes(b'\x93NUMPY'),
     'cannot read'),
    ('npy', 'train_ntus_len.npy', lambda p: p.unlink(), 'no file'),
    ('npy', 'test_ntus.npy', lambda p: p.unlink(), 'no data set'),
    ('h5', 'train_CV_ntus.h5', _truncate, 'not a readable HDF5 file'),
])
def test_missing_or_corrupt_data_exits_2_naming_the_file(
        synthetic_data, tmp_path, capsys, folder, name, damage, message):
    """Through the command line: exit status 2 and one line naming the file
    and what to do, before anything compiles (no traceback, no output
    files)."""
    data = tmp_path / 'data'
    path = _broken_copy(synthetic_data / folder, data, name, damage)
    argv = ARGV + ['--data_dir', str(data), '--out', str(tmp_path / 'out'),
                   '--max_steps', '2']
    if folder == 'h5':
        argv += ['--test_CV']
    assert action.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'Traceback' not in err
    assert message in err and str(path.with_suffix('')) in err
    assert 'indrnn-ntu-convert' in err
    assert not list((tmp_path / 'out').glob('*.npz'))


def test_missing_data_is_reported(tmp_path):
    proc = subprocess.run(
        [sys.executable, '-m', 'indrnn.experiments.Indrnn_action_train',
         '--data_dir', str(tmp_path), '--out', str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert 'Traceback' not in proc.stderr
    assert 'no data set %s' % (tmp_path / 'train_ntus') in proc.stderr
    assert 'indrnn-ntu-convert' in proc.stderr


@pytest.mark.parametrize('module, flags', [
    ('indrnn.experiments.Indrnn_action_train',
     ('--use_bn_afterrnn', '--constrain_U', '--eval_fold', '--end_rate',
      '--conv_drop', '--seed', '--max_steps', '--data_dir', '--test_crops')),
    ('indrnn.data.ntu_convert', ('--format', '--benchmark', '--max_frames',
                                 '--missing_list')),
])
def test_module_help_runs(module, flags):
    proc = subprocess.run([sys.executable, '-m', module, '--help'],
                          cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    for flag in flags:
        assert flag in proc.stdout


# ------------------------------------------------- checkpoints and resume

def test_resume_gives_bit_identical_results(synthetic_data, tmp_path,
                                            monkeypatch):
    # Interrupted at step 16, mid-epoch (11 batches per epoch), after the
    # first evaluation: the patience count, the best parameters and score,
    # both batch handlers (one batch ahead in their threads) and the
    # dropout counter must all continue as in the uninterrupted run.
    import h5py
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    argv = ARGV + ['--data_dir', str(synthetic_data / 'npy'),
                   '--test_crops', '1', '--use_dropout', '--droprate', '0.2',
                   '--rotation_aug']
    ckpts = 'action_indrnn_checkpoints'
    with pytensor.config.change_flags(mode='FAST_COMPILE'):
        assert action.main(argv + ['--max_steps', '25', '--out',
                                   str(tmp_path / 'a'),
                                   '--checkpoint_every', '100']) == 0
        assert action.main(argv + ['--max_steps', '16', '--out',
                                   str(tmp_path / 'b'),
                                   '--checkpoint_every', '16']) == 0
        resume = str(tmp_path / 'b' / ckpts / 'checkpoint-step00000016.h5')
        # Another --seed: the checkpoint's is used (it fixes the split).
        assert action.main([a if a != '0' else '3' for a in argv]
                           + ['--max_steps', '25', '--out',
                              str(tmp_path / 'b'), '--resume', resume]) == 0
    with np.load(tmp_path / 'a' / 'action_indrnn.npz') as a, \
            np.load(tmp_path / 'b' / 'action_indrnn.npz') as b:
        assert_same_arrays(a, b)
    files = [tmp_path / run / ckpts / 'checkpoint-step00000025.h5'
             for run in 'ab']
    contents = []
    for path in files:
        with h5py.File(path, 'r') as f:
            arrays = {}
            f.visititems(lambda name, obj: arrays.__setitem__(name, obj[()])
                         if isinstance(obj, h5py.Dataset) else None)
            contents.append((arrays, json.loads(str(f.attrs['state_json']))))
    (a, sa), (b, sb) = contents
    assert_same_arrays(a, b)
    # The best parameters are in the arrays slot (compared above), one
    # dataset per parameter, as the network's.
    best = sorted(k for k in a if k.startswith('arrays/best_params/'))
    params = sorted(k for k in a if k.startswith('params/'))
    assert len(best) == len(params) > 0
    for key_best, key_param in zip(best, params):
        assert a[key_best].shape == a[key_param].shape
        assert a[key_best].dtype == a[key_param].dtype
    sa, sb = sa['schedule'], sb['schedule']
    assert 'best_params' not in sa['state']['schedule']
    assert sa['seed'] == sb['seed']
    for key in ('train_batches', 'eval_batches'):
        assert sa['state'][key] == sb['state'][key], key
    # The best score and the patience count.
    for key in ('best', 'patience'):
        assert sa['state']['schedule'][key] == sb['state']['schedule'][key]
    strip = [[{k: v for k, v in r.items() if k != 'time'}
              for r in s['state']['evals']] for s in (sa, sb)]
    assert len(strip[0]) == 2 and strip[0] == strip[1]
    # The test figures, drawn after training, agree too.
    summaries = [json.loads((tmp_path / run / 'action_indrnn.json')
                            .read_text()) for run in 'ab']
    for key in ('testacc', 'bn_testacc'):
        assert summaries[0]['test'][key] == summaries[1]['test'][key]
    assert [r['step'] for r in summaries[1]['reports']] == [20, 25]


def test_resume_refuses_other_flags_before_building(synthetic_data, tmp_path,
                                                    monkeypatch, capsys):
    # Resumed with other flags, original or Deep IndRNN ones, a checkpoint
    # is refused naming the flag, before the data are opened or the
    # network built.
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    argv = ARGV + ['--data_dir', str(synthetic_data / 'npy'), '--out',
                   str(tmp_path), '--test_crops', '1', '--use_dropout']
    with pytensor.config.change_flags(mode='FAST_COMPILE'):
        assert action.main(argv + ['--max_steps', '1',
                                   '--checkpoint_every', '1']) == 0
    path = str(tmp_path / 'action_indrnn_checkpoints' /
               'checkpoint-step00000001.h5')

    def no_build(*args, **kwargs):
        raise AssertionError('the network was built')

    monkeypatch.setattr(action_network, 'build_network', no_build)
    refused = [
        (['--net', 'residual'], "--net is 'plain' in the checkpoint and "
                                "'residual'"),
        (['--net', 'dense'], "--net is 'plain' in the checkpoint and "
                             "'dense'"),
        # Options of a network other than the checkpoint's: refused too
        # (the printed resume command repeats the original flags).
        (['--growth_rate', '8'], '--growth_rate is 16 in the checkpoint '
                                 'and 8'),
        (['--num_blocks', '2'], '--num_blocks is 5 in the checkpoint and 2'),
        (['--dropout', '0.1'], '--dropout is 0.0 in the checkpoint and '
                               '0.1'),
        (['--droprate', '0.2'], '--droprate is 0.1.* in the checkpoint and '
                                '0.2'),
        (['--hidden_units', '16'], '--hidden_units is 32 in the checkpoint '
                                   'and 16'),
    ]
    capsys.readouterr()
    for flags, message in refused:
        assert action.main(argv + ['--max_steps', '2', '--resume', path]
                           + flags) == 1, flags
        out, err = capsys.readouterr()
        assert re.search(re.escape(path) + ' does not match this '
                         'configuration: ' + message, err), (flags, err)
        assert 'sequences' not in out      # the data were not opened
    with pytest.raises(AssertionError, match='network was built'):
        action.main(argv + ['--max_steps', '2', '--resume', path])


def test_sigint_writes_a_checkpoint_and_the_printed_command_resumes(
        synthetic_data, tmp_path, monkeypatch):
    # SIGINT after an evaluation that keeps the parameters as the best,
    # wherever it lands: the step finishes, a checkpoint with them is
    # written and named with the command resuming it; that command, run
    # past the next evaluation, gives the parameters, evaluations and test
    # figures of an uninterrupted run.
    import shlex
    from indrnn.run.checkpoint import read_checkpoint
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    argv = ARGV + ['--data_dir', str(synthetic_data / 'npy'),
                   '--test_crops', '1', '--use_dropout', '--rotation_aug']
    out = tmp_path / 'a'
    # No --max_steps: the run goes on until the signal, sent after an
    # evaluation above 0 (the initial best), which keeps parameters.
    step, path, hint, _ = interrupt(
        'indrnn.experiments.Indrnn_action_train',
        argv + ['--out', str(out), '--checkpoint_every', '100000'],
        str(out / 'action_indrnn.log'),
        r'^epoch \d+ step \d+ evalacc,bn_evalacc \S+ \S*[1-9]')
    assert step >= 11
    assert path == str(out / 'action_indrnn_checkpoints' /
                       ('checkpoint-step%08d.h5' % step))
    saved = read_checkpoint(path)
    assert saved['loop']['step'] == step
    assert len(saved['arrays']['best_params']) == len(saved['params'])
    command = shlex.split(hint)
    assert command[:3] == [sys.executable, '-m',
                           'indrnn.experiments.Indrnn_action_train']
    assert command[-2:] == ['--resume', path]
    assert '--rotation_aug' in command

    # The printed command, run past the next evaluation.
    final = step + 12
    resume(command, path, step, final)
    # The uninterrupted run, in the default mode as the interrupted one.
    assert action.main(argv + ['--out', str(tmp_path / 'b'),
                               '--max_steps', str(final)]) == 0
    with np.load(out / 'action_indrnn.npz') as a, \
            np.load(tmp_path / 'b' / 'action_indrnn.npz') as b:
        assert_same_arrays(a, b)
    summaries = [json.loads((tmp_path / run / 'action_indrnn.json')
                            .read_text()) for run in 'ab']
    evals = [[{k: v for k, v in r.items() if k != 'time'} for r in s['evals']]
             for s in summaries]
    assert len(evals[1]) == final // 11 and evals[0] == evals[1]
    for key in ('testacc', 'bn_testacc'):
        assert summaries[0]['test'][key] == summaries[1]['test'][key]
