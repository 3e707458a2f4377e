"""Tests of indrnn.run.loop: the training loop, its log, checkpoint
interval and exit statuses."""
import numpy as np
import pytensor
import pytest

import indrnn.lasagne as lasagne
from indrnn.lasagne.layers import (DenseLayer, InputLayer,
                                   get_all_param_values)
from indrnn.legacy import load_legacy_params
from indrnn.run.loop import CheckpointInterval, ProgressLog, train_loop


def fake_steps(values, seen_lr=None):
    it = iter(values)

    def step(batch, lr):
        if seen_lr is not None:
            seen_lr.append(lr)
        return next(it)
    return step


def test_reports_means_hooks_and_log_file(tmp_path):
    losses = [[float(i), 10.0 * i] for i in range(1, 8)]
    log_path = tmp_path / 'sub' / 'run.log'
    lines = []
    log = ProgressLog(str(log_path), print_fn=lines.append)
    evaluated, scheduled = [], []

    def evaluate(state):
        evaluated.append(state.step)
        return {'test_loss': 100.0 + state.step}

    def schedule(state):
        scheduled.append(state.step)

    state = train_loop(fake_steps(losses), lambda: None, 1e-3,
                       names=('loss', 'acc'), report_every=3,
                       evaluate=evaluate, schedule=schedule, max_steps=7,
                       log=log)
    assert state.stop_reason == 'max_steps' and state.step == 7
    # Reports at 3 and 6, and a last one for the unreported step 7; the
    # schedule does not run on that last, partial report.
    assert evaluated == [3, 6, 7] and scheduled == [3, 6]
    means = [(h['train_loss'], h['train_acc']) for h in state.history]
    assert means == [(2.0, 20.0), (5.0, 50.0), (7.0, 70.0)]
    text = log_path.read_text().splitlines()
    assert text == lines and len(text) == 3
    assert text[0].startswith('step 3 lr 0.001 train_loss 2 train_acc 20 '
                              'test_loss 103 time ')
    assert 'train_loss 7 ' in text[2]


def test_schedule_changes_lr_and_stops(tmp_path):
    seen = []

    def schedule(state):
        state.learning_rate = np.float32(state.learning_rate * 0.1)
        state.stop = state.reports >= 2

    state = train_loop(fake_steps([[1.0]] * 100, seen), lambda: None,
                       np.float32(2e-4), report_every=2, schedule=schedule,
                       log=ProgressLog(None, print_fn=None))
    assert state.stop_reason == 'schedule' and state.step == 4
    assert seen[:2] == [np.float32(2e-4)] * 2
    assert seen[2:] == [np.float32(np.float32(2e-4) * 0.1)] * 2
    assert all(isinstance(lr, np.float32) for lr in seen)


@pytest.mark.parametrize('bad, word', [(float('nan'), 'NaN'),
                                       (float('inf'), 'Inf'),
                                       (-float('inf'), 'Inf')])
def test_divergence_stops_with_message(tmp_path, bad, word):
    values = [[1.0, 0.5]] * 3 + [[1.0, bad]] + [[1.0, 0.5]] * 10
    log_path = tmp_path / 'run.log'
    out = DenseLayer(InputLayer((None, 2)), 1)
    state = train_loop(fake_steps(values), lambda: None, 1e-3,
                       names=('loss', 'acc'), report_every=100,
                       log=ProgressLog(str(log_path), print_fn=None),
                       save_path=str(tmp_path / 'params'), save_layer=out)
    assert state.stop_reason == 'diverged' and state.step == 4
    text = log_path.read_text()
    assert '%s detected in acc at step 4' % word in text
    assert 'not saved' in text
    assert not (tmp_path / 'params.npz').exists()


def test_end_of_batches_saves_legacy_params(tmp_path):
    out = DenseLayer(InputLayer((None, 2)), 3)
    batches = iter(range(5))
    state = train_loop(fake_steps([[0.5]] * 5), lambda: next(batches), 1e-3,
                       report_every=2, log=ProgressLog(None, print_fn=None),
                       save_path=str(tmp_path / 'params'), save_layer=out)
    assert state.stop_reason == 'batches exhausted' and state.step == 5
    other = DenseLayer(InputLayer((None, 2)), 3)
    load_legacy_params(str(tmp_path / 'params.npz'), other)
    for a, b in zip(get_all_param_values(out), get_all_param_values(other)):
        np.testing.assert_array_equal(a, b)


def test_step_hook_runs_after_each_step_and_its_report(tmp_path):
    # The hook sees every step, after that step's report; it can change the
    # learning rate used by the next step and stop the loop.
    seen, lrs = [], []

    def step(batch, lr):
        lrs.append(float(lr))
        return [1.0]

    def hook(state):
        seen.append((state.step, state.reports))
        if state.step == 3:
            state.learning_rate = np.float32(state.learning_rate * 0.1)
        if state.step == 5:
            state.stop = True

    state = train_loop(step, lambda: None, 1e-2, report_every=2,
                       log=ProgressLog(None, print_fn=None), step_hook=hook)
    assert seen == [(1, 0), (2, 1), (3, 1), (4, 2), (5, 2)]
    assert lrs == pytest.approx([1e-2] * 3 + [1e-3] * 2)
    assert state.stop_reason == 'schedule' and state.step == 5


def test_run_command_exit_statuses_and_cleanup(capsys):
    from types import SimpleNamespace

    from indrnn.run.checkpoint import CheckpointError
    from indrnn.run.loop import run_command

    class DataMissing(OSError):
        pass

    def state(stop_reason, signal=None):
        return SimpleNamespace(stop_reason=stop_reason, signal=signal)

    old = lasagne.random.get_rng()
    seen = {}

    def run():
        # float32 inside, and the random source may be replaced by the run
        seen['floatX'] = pytensor.config.floatX
        lasagne.random.set_rng(np.random.RandomState(0))
        return state('max_steps')

    assert run_command(run) == 0
    assert seen['floatX'] == 'float32'
    assert lasagne.random.get_rng() is old
    assert run_command(lambda: state('diverged')) == 1
    assert run_command(lambda: state('signal', signal=15)) == 128 + 15
    assert run_command(lambda: {'stop_reason': 'diverged'}) == 1

    def fails(exc):
        def run():
            raise exc
        return run

    assert run_command(fails(DataMissing('no files in data/')),
                       data_errors=(DataMissing,)) == 2
    assert run_command(fails(CheckpointError('truncated ck.h5'))) == 1
    err = capsys.readouterr().err
    assert 'error: no files in data/' in err and 'truncated ck.h5' in err
    with pytest.raises(DataMissing):
        run_command(fails(DataMissing('x')))


# ------------------------------------------------- checkpoint intervals

@pytest.mark.parametrize('text, steps, minutes', [
    ('500', 500, None), (' 7 ', 7, None), ('30m', None, 30.0),
    ('30min', None, 30.0), ('1.5h', None, 90.0), ('90s', None, 1.5),
    ('2.5M', None, 2.5)])
def test_checkpoint_interval_parses_steps_and_times(text, steps, minutes):
    every = CheckpointInterval.parse(text)
    assert (every.steps, every.minutes) == (steps, minutes)


@pytest.mark.parametrize('text', ['0', '-3', '2.5', 'abc', '10 days', '0m',
                                  '', 'm'])
def test_checkpoint_interval_refuses_nonsense(text):
    with pytest.raises(ValueError):
        CheckpointInterval.parse(text)


def test_checkpoint_interval_by_time_counts_from_the_last_checkpoint():
    now = [100.0]
    every = CheckpointInterval(minutes=2, clock=lambda: now[0])
    assert not every.due(1)
    now[0] += 119.9
    assert not every.due(2)
    now[0] += 0.1
    assert every.due(3)
    every.mark()
    assert not every.due(4)
    now[0] += 120
    assert every.due(5)


class _RecordingCheckpointer:
    """Stands in for indrnn.run.checkpoint.Checkpointer: records the steps."""
    last_path = None

    def __init__(self):
        self.steps = []

    def save(self, loop_state, best=False):
        self.steps.append(loop_state['step'])
        return 'ckpt-%d' % loop_state['step']

    def update_best(self, metrics, loop_state):
        return None

    def resume_hint(self, path):
        return ''


def test_loop_writes_checkpoints_by_steps_or_by_time():
    ckpt = _RecordingCheckpointer()
    train_loop(fake_steps([[0.5]] * 10), lambda: None, 1e-3,
               report_every=100, max_steps=10, log=ProgressLog(None, None),
               checkpointer=ckpt, checkpoint_every='4', handle_signals=False)
    assert ckpt.steps == [4, 8, 10]

    # Every 3 "minutes" of a clock that each step moves on by one minute.
    now = [0.0]

    def step(batch, lr):
        now[0] += 60.0
        return [0.5]
    ckpt = _RecordingCheckpointer()
    train_loop(step, lambda: None, 1e-3, report_every=100, max_steps=10,
               log=ProgressLog(None, None), checkpointer=ckpt,
               checkpoint_every=CheckpointInterval(minutes=3,
                                                   clock=lambda: now[0]),
               handle_signals=False)
    assert ckpt.steps == [3, 6, 9, 10]


def test_divergence_names_the_last_good_checkpoint(tmp_path):
    from indrnn.run.checkpoint import Checkpointer
    out = DenseLayer(InputLayer((None, 2)), 1)
    ckpt = Checkpointer(str(tmp_path), out, keep=5)
    log_path = tmp_path / 'run.log'
    values = [[0.5]] * 5 + [[float('nan')]]
    state = train_loop(fake_steps(values), lambda: None, 1e-3,
                       report_every=100, checkpointer=ckpt,
                       checkpoint_every=2, handle_signals=False,
                       log=ProgressLog(str(log_path), print_fn=None))
    assert state.stop_reason == 'diverged' and state.step == 6
    good = ckpt.path_for(4)
    assert ckpt.list() == [ckpt.path_for(2), good]
    assert 'NaN detected in loss at step 6' in log_path.read_text()
    assert 'The last good checkpoint is %s.' % good in log_path.read_text()


def epochs_of(*lengths):
    """next_batch over epochs of these lengths (StopIteration between)."""
    items = iter([b for n in lengths for b in list(range(n)) + [None]])

    def next_batch():
        batch = next(items)
        if batch is None:
            raise StopIteration
        return batch
    return next_batch


def test_epochs_means_progress_and_the_end_hook(tmp_path):
    lines, ended = [], []

    def epoch_end(state):
        ended.append((state.epoch, state.step, dict(state.train)))
        state.learning_rate = np.float32(state.learning_rate * 0.5)
        return {'valid': 1.0 / state.epoch, 'improved': state.epoch == 1}

    losses = [[float(i), 2.0 * i] for i in range(1, 6)]
    state = train_loop(fake_steps(losses), epochs_of(3, 2, 9), 0.5,
                       names=('loss', 'acc'), report_every=2,
                       epoch_end=epoch_end, max_epochs=2,
                       epoch_size=lambda: 3, throughput=('tokens', 10),
                       log=ProgressLog(None, print_fn=lines.append))
    assert state.stop_reason == 'max_epochs' and state.step == 5
    assert ended == [(1, 3, {'loss': 2.0, 'acc': 4.0}),
                     (2, 5, {'loss': 4.5, 'acc': 9.0})]
    # Each row has the rate of its epoch; the hook's change comes after.
    assert [(r['epoch'], r['steps'], r['learning_rate'], r['valid'],
             r['improved']) for r in state.history] == \
        [(1, 3, 0.5, 1.0, True), (2, 5, 0.25, 0.5, False)]
    assert list(state.history[0])[-2:] == ['epoch_time', 'time']
    progress = [l for l in lines if ' batch/s' in l]
    assert [l.split(' batch/s')[0].rsplit(' ', 1)[0] for l in progress] == [
        'epoch 1 batch 2/3 train_loss 1.5000 train_acc 3.0000 ',
        'epoch 1 batch 3/3 train_loss 2.0000 train_acc 4.0000 ',
        'epoch 2 batch 2/3 train_loss 4.5000 train_acc 9.0000 ']
    assert all(l.endswith(' tokens/s') for l in progress)


def test_epochs_stop_at_max_steps_ends_the_truncated_epoch():
    ended = []
    state = train_loop(fake_steps([[1.0]] * 9), epochs_of(3, 3, 3), 0.1,
                       report_every=0, max_steps=4,
                       epoch_end=lambda s: ended.append(s.step) or {},
                       log=ProgressLog(None, print_fn=None))
    assert state.stop_reason == 'max_steps' and ended == [3, 4]
    assert [r['steps'] for r in state.history] == [3, 4]


def test_epochs_divergence_in_the_evaluation(tmp_path):
    out = DenseLayer(InputLayer((None, 2)), 1)
    lines = []
    state = train_loop(fake_steps([[1.0]] * 9), epochs_of(2, 2), 0.1,
                       epoch_end=lambda s: {'valid': float('nan')},
                       log=ProgressLog(None, print_fn=lines.append),
                       save_path=str(tmp_path / 'p'), save_layer=out)
    assert state.stop_reason == 'diverged' and state.history == []
    assert 'NaN detected in valid after epoch 1 (step 2, learning rate ' \
        '0.1); stopping, parameters not saved.' in lines
    assert not (tmp_path / 'p.npz').exists()
