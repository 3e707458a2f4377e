"""Tests of indrnn.checkpoint and the checkpointing of train_loop.

The central check: a BatchNorm + dropout network trained with ``train_loop``
and interrupted at step k, then resumed from its checkpoint to step n,
ends with bit-identical parameters and state to an uninterrupted run to n.
The adding problem's command line is checked in
``tests/experiments/test_adding.py``.
"""
import errno
import os

import h5py
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import indrnn
import indrnn.lasagne as lasagne
from indrnn import checkpoint
from indrnn.checkpoint import (CheckpointError, CheckpointMismatchError,
                               Checkpointer, CheckpointWriteError,
                               load_checkpoint, save_checkpoint,
                               training_state_variables)
from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from indrnn.lasagne.layers import (BatchNormLayer, DenseLayer, DropoutLayer,
                                   InputLayer, ReshapeLayer, SliceLayer,
                                   get_all_params)
from indrnn.training import compile_train_fn, train_loop

MODE = 'FAST_COMPILE'
T, B, F = 4, 3, 2


def build(units=5, seed=0):
    """Dense -> BatchNorm -> Dropout -> IndRNN (time-first) -> Dense, with
    its Adam training function (float64, U_bound clip)."""
    with pytensor.config.change_flags(floatX='float64'):
        old = lasagne.random.get_rng()
        lasagne.random.set_rng(np.random.RandomState(seed))
        try:
            l_in = InputLayer((T, B, F))
            flat = ReshapeLayer(l_in, (T * B, F))
            dense = DenseLayer(flat, units, nonlinearity=None,
                               W=lasagne.init.Normal(0.5))
            bn = BatchNormLayer(dense, axes=(0,))
            drop = DropoutLayer(bn, p=0.3)
            seq = ReshapeLayer(drop, (T, B, units))
            rnn = IndRNNLayer_onlyrecurrent(
                seq, units, W_hid_to_hid=lasagne.init.Uniform((0, 1.2)))
            last = SliceLayer(rnn, indices=-1, axis=0)
            out = DenseLayer(last, 1, nonlinearity=None)
        finally:
            lasagne.random.set_rng(old)
        X = pt.tensor3('X')
        y = pt.matrix('y')
        loss = lasagne.objectives.squared_error(
            lasagne.layers.get_output(out, X), y).mean()
        params = get_all_params(out, trainable=True)
        train_fn = compile_train_fn([X, y], loss, params, U_bound=1.0,
                                    mode=MODE)
    return out, train_fn


def make_batches(rng):
    def next_batch():
        return (rng.uniform(0, 1, (T, B, F)), rng.uniform(0, 2, (B, 1)))
    return next_batch


def snapshot(out, train_fn):
    """Every value training changes: parameters, Adam state, counters."""
    return ([p.get_value().copy() for p in get_all_params(out)]
            + [v.get_value().copy()
               for v in training_state_variables(train_fn, out)])


def assert_identical(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


def quiet(*parts):
    pass


@pytest.fixture(scope='module')
def net():
    return build()


def run(out, train_fn, rng, steps, lr=0.01, **kwargs):
    return train_loop(lambda batch, lr: train_fn(*batch, lr),
                      make_batches(rng), lr, report_every=2,
                      max_steps=steps, log=quiet, **kwargs)


# ------------------------------------------------------ exact resumption

def test_resume_bn_dropout_network_is_bit_identical(tmp_path, net):
    out, train_fn = net
    initial = snapshot(out, train_fn)
    state_vars = training_state_variables(train_fn, out)
    names = [v.name for v in state_vars]
    # Adam's t and moments and the dropout counter are saved; the
    # BatchNorm averages are network parameters.
    assert 'dropout_counter' in names
    assert {p.name for p in get_all_params(out)} >= {'mean', 'inv_std',
                                                     'hid_init'}

    def restart():
        for var, value in zip(get_all_params(out) + state_vars, initial):
            var.set_value(value)

    # Uninterrupted: 7 steps.
    restart()
    run(out, train_fn, np.random.RandomState(1), 7)
    reference = snapshot(out, train_fn)

    # Interrupted at step 4 (checkpoint), then the process carries on and
    # changes everything before the resume.
    restart()
    rng = np.random.RandomState(1)
    ckpt = Checkpointer(tmp_path, out, train_fn, rngs=[rng], keep=2)
    run(out, train_fn, rng, 4, checkpointer=ckpt, checkpoint_every=4)
    path = ckpt.path_for(4)
    assert ckpt.list() == [path]
    run(out, train_fn, rng, 3, lr=0.1)
    assert not np.array_equal(snapshot(out, train_fn)[0], reference[0])

    resume = ckpt.load(path)
    assert resume['step'] == 4 and resume['count'] == 0
    state = run(out, train_fn, rng, 7, checkpointer=ckpt, resume=resume)
    assert state.step == 7 and state.stop_reason == 'max_steps'
    assert_identical(snapshot(out, train_fn), reference)
    # Written at max_steps too; keep=2 left the last two.
    assert ckpt.list() == [path, ckpt.path_for(7)]

    # The dropout counter matters: restored at 0 instead, the masks and
    # therefore the parameters differ.
    ckpt.load(path)
    counter = state_vars[names.index('dropout_counter')]
    assert int(counter.get_value()) == 4
    counter.set_value(np.int64(0))
    run(out, train_fn, rng, 7, resume=resume)
    assert not np.array_equal(snapshot(out, train_fn)[0], reference[0])


def test_resume_in_a_fresh_build(tmp_path, net):
    # A new process: new shared variables, a new compiled function.
    out, train_fn = net
    rng = np.random.RandomState(3)
    save_checkpoint(tmp_path / 'a.h5', out, train_fn, [rng],
                    state={'step': 9}, args={'units': 5})
    expected = snapshot(out, train_fn)
    expected_rng = rng.uniform(size=3)
    out2, train_fn2 = build(seed=5)
    rng2 = np.random.RandomState(0)
    state = load_checkpoint(tmp_path / 'a.h5', out2, train_fn2, [rng2],
                            args={'units': 5}, config_keys=['units'])
    assert state['step'] == 9 and state['_args'] == {'units': 5}
    assert state['_indrnn_version'] == indrnn.__version__
    assert_identical(snapshot(out2, train_fn2), expected)
    np.testing.assert_array_equal(rng2.uniform(size=3), expected_rng)


# ------------------------------------------------------------ bad input

def test_mismatching_configuration_is_refused_naming_the_parameter(
        tmp_path, net):
    out, train_fn = net
    path = tmp_path / 'a.h5'
    save_checkpoint(path, out, train_fn, state={'step': 1}, args={'u': 5})
    out6, train_fn6 = build(units=6, seed=2)
    before = snapshot(out6, train_fn6)
    params = get_all_params(out6)
    with pytest.raises(CheckpointMismatchError) as info:
        load_checkpoint(path, out6, train_fn6)
    # The first parameter whose shape differs: the first Dense layer's W.
    first = next(i for i, (p, q) in enumerate(zip(params, get_all_params(out)))
                 if p.get_value().shape != q.get_value().shape)
    message = str(info.value)
    assert 'parameter %d ' % first in message
    assert repr(params[first].name) in message
    assert str(params[first].get_value().shape) in message
    assert str(get_all_params(out)[first].get_value().shape) in message
    # Nothing was set.
    assert_identical(snapshot(out6, train_fn6), before)
    # A mismatching flag is named too, and nothing is set.
    with pytest.raises(CheckpointMismatchError, match=r'--u is 5 .* 7'):
        load_checkpoint(path, out, train_fn, args={'u': 7},
                        config_keys=['u'])
    with pytest.raises(CheckpointMismatchError, match='random states'):
        load_checkpoint(path, out, train_fn, rngs=[np.random.RandomState()])


def test_truncated_and_corrupt_files(tmp_path, net):
    out, train_fn = net
    path = tmp_path / 'a.h5'
    save_checkpoint(path, out, train_fn)
    data = path.read_bytes()
    before = snapshot(out, train_fn)
    truncated = tmp_path / 'truncated.h5'
    truncated.write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match='truncated or corrupt'):
        load_checkpoint(truncated, out, train_fn)
    garbage = tmp_path / 'garbage.h5'
    garbage.write_bytes(b'not hdf5' * 100)
    with pytest.raises(CheckpointError, match='truncated or corrupt'):
        load_checkpoint(garbage, out, train_fn)
    other = tmp_path / 'other.h5'
    with h5py.File(other, 'w') as f:
        f['x'] = np.zeros(3)
    with pytest.raises(CheckpointError, match='not an indrnn checkpoint'):
        load_checkpoint(other, out, train_fn)
    with pytest.raises(CheckpointError, match='does not exist'):
        load_checkpoint(tmp_path / 'missing.h5', out, train_fn)
    assert_identical(snapshot(out, train_fn), before)


def test_failed_write_leaves_the_previous_checkpoint(tmp_path, net,
                                                     monkeypatch):
    out, train_fn = net
    path = tmp_path / 'a.h5'
    save_checkpoint(path, out, train_fn, state={'step': 1})
    old = path.read_bytes()
    write = checkpoint._write_hdf5

    def full_disk(tmp, contents):
        write(tmp, contents)  # a partial file exists when the disk fills
        with open(tmp, 'r+b') as f:
            f.truncate(100)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(checkpoint, '_write_hdf5', full_disk)
    with pytest.raises(CheckpointWriteError,
                       match='No space left.*left intact') as info:
        save_checkpoint(path, out, train_fn, state={'step': 2})
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ['a.h5']  # no temporary file left
    monkeypatch.undo()
    assert load_checkpoint(path, out, train_fn)['step'] == 1


def test_unwritable_folder_fails_at_start(tmp_path, net):
    out, train_fn = net
    blocker = tmp_path / 'file'
    blocker.write_text('')
    # A folder inside a regular file cannot be created, even by root.
    with pytest.raises(CheckpointWriteError, match='cannot be written'):
        Checkpointer(blocker / 'ckpt', out, train_fn)
    with pytest.raises(CheckpointWriteError, match='could not write'):
        save_checkpoint(blocker / 'a.h5', out, train_fn)


def test_keep_last_and_best(tmp_path, net):
    out, train_fn = net
    ckpt = Checkpointer(tmp_path, out, train_fn, keep=2,
                        best_metric='err')
    for step in (1, 2, 3):
        ckpt.save({'step': step})
    assert [os.path.basename(p) for p in ckpt.list()] == [
        'checkpoint-step00000002.h5', 'checkpoint-step00000003.h5']
    assert ckpt.update_best({'err': 0.5}, {'step': 3}) == ckpt.best_path
    assert ckpt.update_best({'err': 0.7}, {'step': 4}) is None
    assert ckpt.update_best({'err': 0.4}, {'step': 5}) == ckpt.best_path
    assert ckpt.load(ckpt.best_path)['step'] == 5
    assert ckpt.best_score == 0.4
    with pytest.raises(ValueError):
        Checkpointer(tmp_path, out, keep=0)
