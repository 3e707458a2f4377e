"""The schedules of the run engine (indrnn.run.schedules) against the
original scripts' rules, written out line by line."""
import numpy as np
import pytensor
import pytest

import indrnn.lasagne as lasagne
from indrnn.run.schedules import PlateauDecay, StepDecay


def plateau_events(schedule, values):
    """Feed ``values`` to ``schedule`` as one evaluation each; the decays
    (with the "parameters" restored: the evaluation they were copied at)
    and the stop, in the form of the reference rules below."""
    events, params = [], {"value": None}
    for epoch, value in enumerate(values, 1):
        action = schedule.update(value, snapshot=lambda e=epoch: e,
                                 restore=lambda p: params.update(value=p))
        if action == 'decayed':
            events.append((epoch, 'decay', float(schedule.learning_rate),
                           params["value"]))
        if schedule.stop:
            events.append((epoch, 'stop'))
            break
    return events


def original_schedule(values, lr, pThre, decay, lastbpc):
    """The original's end-of-epoch rule, line by line (best_para as the
    epoch index it was taken at)."""
    patience = 0
    events = []
    best_para = None
    for epoch, validbpc in enumerate(values, 1):
        if validbpc < lastbpc:
            best_para = epoch
            lastbpc = validbpc
            patience = 0
        elif patience > pThre:
            lr = np.float32(lr * decay)
            events.append((epoch, 'decay', float(lr), best_para))
            patience = 0
            if lr < 1e-6:
                events.append((epoch, 'stop'))
                break
        else:
            patience += 1
    return events, lastbpc


@pytest.mark.parametrize("seed", range(5))
def test_schedule_follows_the_original(seed):
    rng = np.random.RandomState(seed)
    # Improvements get rarer: long plateaus, several decays.
    values = 5 - np.log1p(np.arange(400)) + rng.uniform(0, 1.5, 400)
    pThre = int(rng.randint(0, 4))
    ref, ref_best = original_schedule(values, np.float32(0.01), pThre, 0.2,
                                      100.0)
    assert any(e[1] == 'decay' for e in ref)
    schedule = PlateauDecay(0.01, pThre, 0.2, initial_best=100.0)
    assert plateau_events(schedule, values) == ref
    assert schedule.best == ref_best


def test_schedule_restores_parameters():
    with pytensor.config.change_flags(floatX="float32"):
        layer = lasagne.layers.DenseLayer(lasagne.layers.InputLayer((2, 3)),
                                          4)
    snap = lambda: lasagne.layers.get_all_param_values(layer)  # noqa: E731
    restore = lambda v: lasagne.layers.set_all_param_values(  # noqa: E731
        layer, v)
    schedule = PlateauDecay(1e-5, patience=0, decay=0.05)
    assert schedule.update(3.0, snap, restore) == 'improved'
    best = [v.copy() for v in snap()]
    layer.W.set_value(layer.W.get_value() + 1)
    assert schedule.update(3.5, snap, restore) == 'waiting'
    assert schedule.update(3.5, snap, restore) == 'decayed'
    for v, w in zip(snap(), best):
        np.testing.assert_array_equal(v, w)
    assert schedule.learning_rate == np.float32(np.float32(1e-5) * 0.05)
    assert schedule.stop  # 5e-7 < 1e-6


def original_action_schedule(values, lr, patienceThre=10, end_rate=1e-6):
    """The action-recognition script's end-of-epoch rule (``lastacc``
    starts at 0, higher is better, the rate divided by 10)."""
    lastacc, count, best_para, events = 0.0, 0, None, []
    for epoch, acc in enumerate(values, 1):
        if acc > lastacc:
            best_para, lastacc, count = epoch, acc, 0
        elif count > patienceThre:
            count = 0
            lr = np.float32(lr * 0.1)
            events.append((epoch, 'decay', float(lr), best_para))
            if lr < end_rate:
                events.append((epoch, 'stop'))
                break
        else:
            count += 1
    return events, lastacc


@pytest.mark.parametrize("seed", range(3))
def test_plateau_max_mode_follows_the_action_script(seed):
    rng = np.random.RandomState(seed)
    values = np.log1p(np.arange(600)) / 10 + rng.uniform(0, 0.2, 600)
    ref, ref_best = original_action_schedule(values, np.float32(1e-3),
                                             end_rate=1e-7)
    assert any(e[1] == 'decay' for e in ref)
    schedule = PlateauDecay(1e-3, 10, 0.1, initial_best=0.0,
                            stop_below=1e-7, mode='max')
    assert plateau_events(schedule, values) == ref
    assert schedule.best == ref_best


class _LoopState:
    def __init__(self, learning_rate):
        self.step, self.stop = 0, False
        self.learning_rate = np.float32(learning_rate)
        self.lines = []

    def log(self, *parts):
        self.lines.append(parts)


def original_adding_rates(lr, reports):
    """The adding script's rule: count reports, decay after the 201st."""
    count, rates = 0, []
    for _ in range(reports):
        count += 1
        if count > 200:
            lr = np.float32(lr * 0.1)
            count = 0
            if lr < 1e-6:
                rates.append(lr)
                break
        rates.append(lr)
    return rates


@pytest.mark.parametrize("report_every", [1, 100])
def test_step_decay_follows_the_adding_script(report_every):
    ref = original_adding_rates(np.float32(2e-4), 1000)
    decay = StepDecay(201 * report_every, stop_below=1e-6)
    state, rates = _LoopState(2e-4), []
    while not state.stop:
        state.step += report_every
        decay(state)
        rates.append(state.learning_rate)
    assert [float(r) for r in rates] == [float(r) for r in ref]
    assert len(rates) == 3 * 201


def test_step_decay_resumes_where_it_was():
    decay = StepDecay(50)
    state = _LoopState(1.0)
    state.step = 120
    decay(state)
    assert float(state.learning_rate) == float(np.float32(np.float32(0.1)
                                                          * 0.1))
    again = StepDecay(50)
    again.load_state_dict(decay.state_dict())
    state.step = 149
    again(state)
    assert len(state.lines) == 2      # nothing due before step 150
    state.step = 150
    again(state)
    assert len(state.lines) == 3


def test_step_decay_refuses_a_bad_interval():
    with pytest.raises(ValueError, match="positive number of steps"):
        StepDecay(0)
