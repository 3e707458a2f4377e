"""The run engine (indrnn.run): start-up, resume checks and reports,
through the adding experiment's command (the default mode) and directly."""
import csv
import doctest
import json
import re

import numpy as np
import pytest

from indrnn.experiments import adding
from indrnn import run as run_package
from indrnn.run import engine, flags, report, schedules
from indrnn.run.report import RunReport

ARGV = ['--seq_len', '10', '--hidden_units', '8', '--batch_size', '4',
        '--report_every', '2', '--seed', '3']


@pytest.mark.parametrize("module", [engine, flags, report, schedules,
                                    run_package])
def test_docstring_examples(module):
    failures, tests = doctest.testmod(module, extraglobs={"np": np})
    assert not failures, module.__name__
    assert tests or module is run_package


def test_a_run_writes_its_reports(tmp_path):
    out = tmp_path / 'a'
    assert adding.main(ARGV + ['--max_steps', '6', '--out', str(out)]) == 0
    log = (out / 'indrnn10.log').read_text()
    logged = [float(v) for v in re.findall(r'test_mse (\S+)', log)]
    with open(out / 'indrnn10.csv') as f:
        rows = list(csv.DictReader(f))
    with open(out / 'indrnn10.json') as f:
        saved = json.load(f)
    assert [int(r['step']) for r in rows] == [2, 4, 6]
    # The CSV and JSON hold the logged figures (printed to 6 digits).
    np.testing.assert_allclose([float(r['test_mse']) for r in rows], logged,
                               rtol=1e-5)
    assert [r['test_mse'] for r in saved['reports']] == \
        [float(r['test_mse']) for r in rows]
    assert saved['stop_reason'] == 'max_steps' and saved['steps'] == 6
    assert saved['seed'] == 3
    assert saved['script'] == 'indrnn.experiments.adding'
    assert saved['args']['hidden_units'] == 8
    png = (out / 'indrnn10.png').read_bytes()
    assert png.startswith(b'\x89PNG')


def test_a_checkpoint_of_another_experiment_is_refused(tmp_path, capsys):
    out = tmp_path / 'a'
    assert adding.main(ARGV + ['--max_steps', '2', '--out', str(out),
                               '--checkpoint_every', '2']) == 0
    path = out / 'indrnn10_checkpoints' / 'checkpoint-step00000002.h5'
    import h5py
    with h5py.File(path, 'r+') as f:
        state = json.loads(str(f.attrs['state_json']))
        state['schedule']['script'] = 'indrnn.experiments.pixelmnist'
        f.attrs['state_json'] = json.dumps(state)
    capsys.readouterr()
    assert adding.main(ARGV + ['--max_steps', '4', '--out', str(out),
                               '--resume', str(path)]) == 1
    assert ('checkpoint %s was not written by indrnn.experiments.adding'
            % path) in capsys.readouterr().err


def test_a_resumed_run_continues_its_reports_and_time(tmp_path):
    a, b = tmp_path / 'a', tmp_path / 'b'
    assert adding.main(ARGV + ['--max_steps', '8', '--out', str(a)]) == 0
    assert adding.main(ARGV + ['--max_steps', '4', '--out', str(b),
                               '--checkpoint_every', '4']) == 0
    ckpt = b / 'indrnn10_checkpoints' / 'checkpoint-step00000004.h5'
    assert adding.main(ARGV + ['--max_steps', '8', '--out', str(b),
                               '--resume', str(ckpt)]) == 0
    reports = []
    for out in (a, b):
        with open(out / 'indrnn10.json') as f:
            reports.append(json.load(f)['reports'])
    strip = [[{k: v for k, v in r.items() if k != 'time'} for r in rs]
             for rs in reports]
    assert [r['step'] for r in strip[1]] == [2, 4, 6, 8]
    assert strip[0] == strip[1]
    # The time goes on from the checkpoint's, not from zero.
    times = [r['time'] for r in reports[1]]
    assert times == sorted(times)


def test_report_without_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setattr(report, 'plot_curves', lambda *a, **k: None)
    lines = []
    writer = RunReport(str(tmp_path / 'r'), {'seed': 1}, curves=('loss',),
                       log=lambda *parts: lines.append(parts))
    rows = [{'step': 1, 'learning_rate': 0.1, 'loss': 1.0, 'time': 0.1}]
    writer.write(rows)
    assert lines == []           # drawn only at the end
    writer.write(rows, stop_reason='max_steps', steps=1)
    writer.write(rows, stop_reason='max_steps', steps=1)
    assert len(lines) == 1 and 'matplotlib is not installed' in lines[0][0]
    assert not (tmp_path / 'r.png').exists()


def test_report_rows_appended_read_as_one_write(tmp_path):
    rows = [{'step': i, 'learning_rate': 0.1, 'loss': 1.0 / i, 'time': i}
            for i in range(1, 6)]
    rows[3]['accuracy'] = 0.5       # a column that appears late
    growing = RunReport(str(tmp_path / 'a'), {})
    for n in range(1, len(rows) + 1):
        growing.write(rows[:n])
    RunReport(str(tmp_path / 'b'), {}).write(rows)
    assert (tmp_path / 'a.csv').read_text() == \
        (tmp_path / 'b.csv').read_text()
    # Other rows than those written before: the file is rewritten.
    growing.write(rows[:2])
    assert (tmp_path / 'a.csv').read_text().splitlines()[0] == \
        'step,learning_rate,loss,time'
    assert len((tmp_path / 'a.csv').read_text().splitlines()) == 3


# ---------------------------------------------------------------- epochs
#
# A toy experiment in epochs, as the PTB scripts: a state carried from
# batch to batch (it changes the figures), a drop index drawn from the
# run's random state at the start of each epoch, an evaluation at its end.

EPOCH_BATCHES = 3


class ToyText:
    """Batches of rows of a fixed array, an epoch at a time."""

    def __init__(self, rng, hid):
        self.data = np.linspace(-1, 1, 60, dtype='float32').reshape(20, 3)
        self.rng, self.hid = rng, hid
        self.start = self.batch = None

    def __call__(self):
        if self.start is None:
            self.start = int(self.rng.randint(4))
            self.batch, self.hid.value = 0, np.zeros((2, 3), 'float32')
        if self.batch == EPOCH_BATCHES:
            self.start = self.hid.value = None
            raise StopIteration
        i = self.start + 2 * self.batch
        self.batch += 1
        return self.data[i:i + 2]

    def state_dict(self):
        return {'start': self.start, 'batch': self.batch}

    def load_state_dict(self, state):
        self.start, self.batch = state['start'], state['batch']


def toy_run(out, extra, steps=None):
    """Train the toy in epochs; ``steps`` collects each step's loss."""
    import argparse
    import pytensor
    import pytensor.tensor as pt
    import indrnn.lasagne as lasagne
    from indrnn.lasagne.layers import DenseLayer, InputLayer
    from indrnn.lasagne.nonlinearities import tanh
    from indrnn.run.functions import compile_test_fn, compile_train_fn
    parser = argparse.ArgumentParser()
    flags.add_run_flags(parser, 'toy')
    parser.add_argument('--max_epochs', type=int)
    parser.add_argument('--report_every', type=int, default=0)
    args = parser.parse_args(['--seed', '5', '--out', str(out)] + extra)
    with pytensor.config.change_flags(floatX='float32'):
        run = engine.Run(args, None, 'toy', 'tests.toy')
        net = DenseLayer(InputLayer((None, 3)), 3, nonlinearity=tanh)
        X, H = pt.matrix('x'), pt.matrix('h')
        hid_out = lasagne.layers.get_output(net, X + H)
        loss = (hid_out ** 2).mean()
        train_fn = compile_train_fn(
            [X, H], loss, lasagne.layers.get_all_params(net),
            outputs=[loss, hid_out], mode='FAST_COMPILE')
        test_fn = compile_test_fn([X, H], [loss], mode='FAST_COMPILE')
        hid = engine.Carried('hid', (2, 3))
        text = ToyText(run.rng, hid)

        def step(batch, lr):
            value, hid.value = train_fn(batch, hid.value, lr)
            if steps is not None:
                steps.append(float(value))
            return [value]

        def epoch_end(state):
            valid, = test_fn(text.data[:2], np.zeros((2, 3), 'float32'))
            return {'valid': float(valid)}

        loop = run.train(step, text, 0.01, net, train_fn,
                         state={'text': text, 'hid': hid},
                         epoch_end=epoch_end, max_epochs=args.max_epochs,
                         best_metric='valid', curves=('valid',),
                         epoch_size=lambda: EPOCH_BATCHES,
                         report_every=args.report_every)
    return loop, net


def without_times(rows):
    return [{k: v for k, v in r.items() if k not in ('time', 'epoch_time')}
            for r in rows]


def test_epochs_report_rows_and_stop_at_max_epochs(tmp_path):
    steps = []
    loop, _ = toy_run(tmp_path, ['--max_epochs', '3', '--report_every',
                                 '2'], steps)
    assert loop.stop_reason == 'max_epochs' and loop.step == 9
    assert [r['epoch'] for r in loop.history] == [1, 2, 3]
    assert [r['steps'] for r in loop.history] == [3, 6, 9]
    # The training figure of a row is the mean over its epoch's steps.
    for e, row in enumerate(loop.history):
        assert row['train_loss'] == pytest.approx(
            np.mean(steps[3 * e:3 * e + 3]), rel=1e-12)
    with open(tmp_path / 'toy.csv') as f:
        header = f.readline().strip().split(',')
    assert header == ['epoch', 'steps', 'learning_rate', 'train_loss',
                      'valid', 'epoch_time', 'time']
    log = (tmp_path / 'toy.log').read_text()
    assert re.findall(r'^epoch 1 batch (\d)/3 train_loss \S+  \S+ batch/s$',
                      log, flags=re.M) == ['2', '3']
    assert re.search(r'^epoch 3 steps 9 lr 0.01 train_loss \S+ valid \S+ '
                     r'time ', log, flags=re.M)


def test_epochs_checkpoint_at_max_steps_before_the_epoch_end(tmp_path):
    from indrnn.run.checkpoint import read_checkpoint
    loop, _ = toy_run(tmp_path, ['--max_steps', '4', '--checkpoint_every',
                                 '100'])
    assert loop.stop_reason == 'max_steps'
    # The truncated epoch 2 was ended (evaluated) after the checkpoint.
    assert [r['steps'] for r in loop.history] == [3, 4]
    saved = read_checkpoint(str(tmp_path / 'toy_checkpoints'
                                / 'checkpoint-step00000004.h5'))
    assert (saved['loop']['epoch'], saved['loop']['in_epoch'],
            saved['loop']['epoch_steps']) == (2, True, 1)
    assert len(saved['loop']['history']) == 1
    # The carried state, and whose array it is.
    assert saved['arrays']['hid'][0].shape == (2, 3)
    assert saved['schedule']['arrays'] == {'hid': ['hid']}
    assert saved['schedule']['state']['text']['batch'] == 1


@pytest.mark.parametrize('stop', ['4', '3'])
def test_epochs_resume_is_bit_identical(tmp_path, stop):
    """Resumed mid epoch (step 4) or between epochs (--max_epochs 1, step
    3), a run goes on as the uninterrupted one: same parameters, same
    rows, same checkpoint arrays."""
    from indrnn.run.checkpoint import read_checkpoint
    a, b = tmp_path / 'a', tmp_path / 'b'
    loop_a, net_a = toy_run(a, ['--max_epochs', '3', '--checkpoint_every',
                                '5'])
    first = (['--max_steps', '4'] if stop == '4' else ['--max_epochs', '1'])
    toy_run(b, first + ['--checkpoint_every', '5'])
    path = str(b / 'toy_checkpoints' / ('checkpoint-step%08d.h5'
                                        % int(stop)))
    assert read_checkpoint(path)['loop']['in_epoch'] == (stop == '4')
    loop_b, net_b = toy_run(b, ['--max_epochs', '3', '--checkpoint_every',
                                '5', '--resume', path])
    assert loop_b.stop_reason == 'max_epochs'
    assert without_times(loop_a.history) == without_times(loop_b.history)
    import indrnn.lasagne as lasagne
    for pa, pb in zip(lasagne.layers.get_all_param_values(net_a),
                      lasagne.layers.get_all_param_values(net_b)):
        np.testing.assert_array_equal(pa, pb)
    ca, cb = (read_checkpoint(str(d / 'toy_checkpoints'
                                  / 'checkpoint-step00000005.h5'))
              for d in (a, b))
    np.testing.assert_array_equal(ca['arrays']['hid'][0],
                                  cb['arrays']['hid'][0])
    assert ca['schedule']['state'] == cb['schedule']['state']
    log = (b / 'toy.log').read_text()
    assert ('at step 4 (epoch 2, batch 1)' if stop == '4'
            else 'at step 3 (after epoch 1)') in log
