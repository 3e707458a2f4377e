"""Tests of indrnn.run.checkpoint and the checkpointing of train_loop.

The central check: a BatchNorm + dropout network trained with ``train_loop``
and interrupted at step k, then resumed from its checkpoint to step n,
ends with bit-identical parameters and state to an uninterrupted run to n.
The adding problem's command line is checked in
``tests/experiments/test_adding.py``.
"""
import errno
import os
import re

import h5py
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import indrnn
import indrnn.lasagne as lasagne
from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from indrnn.lasagne.layers import (BatchNormLayer, DenseLayer, DropoutLayer,
                                   InputLayer, ReshapeLayer, SliceLayer,
                                   get_all_params)
from indrnn.run import checkpoint
from indrnn.run.checkpoint import (CheckpointError, CheckpointMismatchError,
                                   Checkpointer, CheckpointWriteError,
                                   load_checkpoint, save_checkpoint,
                                   training_state_variables)
from indrnn.run.functions import compile_train_fn
from indrnn.run.loop import train_loop

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


def test_counters_held_as_int32_are_saved_and_loaded_as_declared(
        tmp_path, net):
    # In mode="JAX" with 64-bit types off, JAX holds the int64 dropout
    # counter as int32 after a step. The file keeps the declared int64, and
    # a file of int32 counters (written so before) still loads as int64.
    out, train_fn = net
    names = [v.name for v in training_state_variables(train_fn, out)]
    counter = training_state_variables(train_fn, out)[
        names.index('dropout_counter')]
    assert counter.type.dtype == 'int64'
    counter.set_value(np.int64(7))
    counter.container.storage[0] = np.asarray(7, dtype=np.int32)  # as JAX
    path = save_checkpoint(tmp_path / 'a.h5', out, train_fn)
    key = 'state/%06d' % names.index('dropout_counter')
    with h5py.File(path, 'a') as f:
        assert f[key].dtype == np.int64 and f[key][()] == 7
        # now as the earlier JAX runs wrote it
        del f[key]
        f[key] = np.int32(7)
        f[key].attrs['name'] = 'dropout_counter'
    counter.set_value(np.int64(0))
    load_checkpoint(path, out, train_fn)
    value = counter.get_value()
    assert value.dtype == np.int64 and value == 7
    # A float saved for an integer is still refused.
    with h5py.File(path, 'a') as f:
        del f[key]
        f[key] = np.float32(7)
        f[key].attrs['name'] = 'dropout_counter'
    with pytest.raises(CheckpointMismatchError, match='dropout_counter'):
        load_checkpoint(path, out, train_fn)


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


@pytest.mark.parametrize('group', ['params', 'state'])
def test_non_finite_values_are_refused_naming_the_variable(tmp_path, net,
                                                           group):
    """NaN or Inf in a saved parameter or optimizer state: refused, naming
    it, and nothing is restored."""
    out, train_fn = net
    path = tmp_path / 'a.h5'
    save_checkpoint(path, out, train_fn)
    with h5py.File(path, 'r+') as f:
        names = []
        f[group].visititems(lambda name, obj: names.append(name)
                            if isinstance(obj, h5py.Dataset)
                            and obj.dtype.kind == 'f' else None)
        dataset = f[group][sorted(names)[-1]]
        value = dataset[()]
        value.flat[0] = np.nan
        dataset[...] = value
    before = snapshot(out, train_fn)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, out, train_fn)
    msg = str(info.value)
    kind = {'params': 'parameter', 'state': 'optimizer state variable'}
    assert re.search(r'checkpoint \S+a\.h5 is damaged: %s \d+ \(Lasagne '
                     r'name .*\) holds 1 NaN and 0 infinite values'
                     % kind[group], msg), msg
    assert 'earlier checkpoint' in msg
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


# ------------------------------------------------------------ arrays slot

def example_arrays():
    rng = np.random.RandomState(4)
    # Names out of alphabetical order: the order given must come back.
    return {
        'zeta': [rng.standard_normal((3, 2)).astype(np.float32),
                 np.arange(5, dtype=np.int64),
                 np.array(2.5),                      # 0-d
                 np.array([True, False, True]),
                 np.array([1 + 2j, -3j], dtype=np.complex128),
                 np.zeros((0, 4), dtype=np.float64)],
        'alpha': [],
        'mid': [np.array([7], dtype=np.uint8)],
    }


def assert_same_arrays(got, expected):
    assert list(got) == list(expected)
    for name in expected:
        assert len(got[name]) == len(expected[name])
        for a, b in zip(got[name], expected[name]):
            assert isinstance(a, np.ndarray)
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


def test_arrays_slot_round_trip_as_hdf5_datasets(tmp_path, net):
    out, train_fn = net
    arrays = example_arrays()
    path = tmp_path / 'a.h5'
    save_checkpoint(path, out, train_fn, state={'step': 3}, arrays=arrays)
    # Real datasets of exact dtype and shape, read back with h5py alone.
    with h5py.File(path, 'r') as f:
        ds = f['arrays/zeta/000000']
        assert isinstance(ds, h5py.Dataset)
        assert ds.dtype == np.float32 and ds.shape == (3, 2)
        np.testing.assert_array_equal(ds[()], arrays['zeta'][0])
        assert f['arrays/zeta/000002'].shape == ()
        assert len(f['arrays/alpha']) == 0
    state = load_checkpoint(path, out, train_fn)
    assert state['step'] == 3
    assert_same_arrays(state['arrays'], arrays)
    assert_same_arrays(checkpoint.read_checkpoint(path)['arrays'], arrays)
    # Without the slot: an empty dict.
    save_checkpoint(path, out, train_fn, state={'step': 4})
    assert load_checkpoint(path, out, train_fn)['arrays'] == {}


def test_arrays_slot_refuses_what_it_cannot_store(tmp_path, net):
    out, train_fn = net
    path = tmp_path / 'a.h5'
    bad = [({'a/b': [np.zeros(2)]}, "'a/b'"),
           ({'': [np.zeros(2)]}, "''"),
           ({'x': np.zeros(2)}, 'list of arrays'),
           ({'x': [np.array(['text'])]}, 'dtype <U4'),
           ({'x': [np.array([None])]}, 'dtype object'),
           ([np.zeros(2)], 'dict')]
    for arrays, message in bad:
        with pytest.raises(ValueError, match=message):
            save_checkpoint(path, out, train_fn, arrays=arrays)
    with pytest.raises(ValueError, match="key 'arrays'"):
        save_checkpoint(path, out, train_fn, state={'arrays': 1})
    assert not os.path.exists(path)
    assert os.listdir(tmp_path) == []


def test_checkpointer_get_and_set_arrays(tmp_path, net):
    out, train_fn = net
    kept = {'best': [np.full(3, 1.5, dtype=np.float32)]}
    received = []
    ckpt = Checkpointer(tmp_path, out, train_fn,
                        get_arrays=lambda: kept,
                        set_arrays=received.append)
    path = ckpt.save({'step': 2})
    # What was saved is the value at save time, not a reference.
    kept['best'][0][:] = -1
    kept['best'].append(np.zeros(1))
    assert ckpt.load(path) == {'step': 2}
    assert len(received) == 1
    assert_same_arrays(received[0],
                       {'best': [np.full(3, 1.5, dtype=np.float32)]})
    # The best checkpoint carries the arrays too.
    best = ckpt.save({'step': 3}, best=True)
    ckpt.load(best)
    assert_same_arrays(received[1], kept)
    # A Checkpointer without get_arrays writes an empty slot, which
    # set_arrays receives as {}.
    Checkpointer(tmp_path, out, train_fn).save({'step': 5})
    ckpt.load(ckpt.path_for(5))
    assert received[2] == {}


def make_format_1(path):
    """Turn a checkpoint into what format version 1 wrote: the same file
    without the arrays group."""
    with h5py.File(path, 'a') as f:
        del f['arrays']
        f.attrs['format_version'] = 1


def test_version_1_checkpoints_without_arrays_still_load(tmp_path, net):
    out, train_fn = net
    rng = np.random.RandomState(6)
    received = []
    ckpt = Checkpointer(tmp_path, out, train_fn, rngs=[rng],
                        get_state=lambda: {'lr': 0.5},
                        get_arrays=lambda: {'best': [np.ones(2)]},
                        set_arrays=received.append)
    path = ckpt.save({'step': 8})
    make_format_1(path)
    expected = snapshot(out, train_fn)
    draw = rng.uniform(size=2)
    out2, train_fn2 = build(seed=7)
    rng2 = np.random.RandomState(0)
    ckpt2 = Checkpointer(tmp_path, out2, train_fn2, rngs=[rng2],
                         set_arrays=received.append)
    assert ckpt2.load(path) == {'step': 8}
    assert received == [{}]
    assert_identical(snapshot(out2, train_fn2), expected)
    np.testing.assert_array_equal(rng2.uniform(size=2), draw)
    info = checkpoint.read_checkpoint(path)
    assert info['format_version'] == 1 and info['arrays'] == {}
    assert info['loop'] == {'step': 8} and info['schedule'] == {'lr': 0.5}
    # A version from the future is refused rather than misread.
    with h5py.File(path, 'a') as f:
        f.attrs['format_version'] = 99
    with pytest.raises(CheckpointError, match='format version 99'):
        checkpoint.read_checkpoint(path)


def test_read_checkpoint_needs_no_network(tmp_path, net):
    out, train_fn = net
    ckpt = Checkpointer(tmp_path, out, train_fn, args={'seed': 11, 'u': 5},
                        get_state=lambda: {'seed': 11},
                        get_arrays=lambda: {'p': [np.arange(4.0)]},
                        best_metric='err')
    ckpt.update_best({'err': 0.25}, {'step': 6})
    info = checkpoint.read_checkpoint(str(ckpt.best_path))
    assert info['loop'] == {'step': 6}
    assert info['schedule'] == {'seed': 11}
    assert info['best_score'] == 0.25
    assert info['state'] == {'loop': {'step': 6}, 'schedule': {'seed': 11},
                             'best_score': 0.25}
    assert info['args'] == {'seed': 11, 'u': 5}
    assert info['indrnn_version'] == indrnn.__version__
    assert info['format_version'] == 2
    assert_same_arrays(info['arrays'], {'p': [np.arange(4.0)]})
    params = get_all_params(out)
    assert [name for name, _ in info['params']] == [p.name for p in params]
    for (_, value), p in zip(info['params'], params):
        np.testing.assert_array_equal(value, p.get_value())
    # A plain save_checkpoint file has no Checkpointer entries.
    save_checkpoint(tmp_path / 'plain.h5', out, state={'step': 1})
    info = checkpoint.read_checkpoint(tmp_path / 'plain.h5')
    assert info['state'] == {'step': 1}
    assert info['loop'] is None and info['schedule'] is None


@pytest.mark.parametrize('keep', [0, 7, 512, 0.5, 0.99, -1])
def test_truncated_checkpoint_is_refused_naming_the_path(tmp_path, net,
                                                         keep):
    out, train_fn = net
    ckpt = Checkpointer(tmp_path, out, train_fn,
                        get_arrays=lambda: {'p': [np.arange(50.0)]})
    path = ckpt.save({'step': 1})
    data = open(path, 'rb').read()
    # Cut to a few bytes, past the superblock, halfway, or just short of
    # the end (the last byte of the last dataset missing).
    size = (len(data) + keep if keep == -1 else keep if isinstance(keep, int)
            else int(len(data) * keep))
    assert size < len(data)
    with open(path, 'wb') as f:
        f.write(data[:size])
    before = snapshot(out, train_fn)
    for read in (checkpoint.read_checkpoint,
                 lambda p: load_checkpoint(p, out, train_fn),
                 ckpt.load):
        with pytest.raises(CheckpointError,
                           match='truncated or corrupt') as info:
            read(path)
        assert path in str(info.value)
    assert_identical(snapshot(out, train_fn), before)


def test_read_checkpoint_missing_file_or_folder(tmp_path):
    missing = str(tmp_path / 'missing.h5')
    with pytest.raises(CheckpointError, match=missing + ' does not exist'):
        checkpoint.read_checkpoint(missing)
    with pytest.raises(CheckpointError, match='is not a file'):
        checkpoint.read_checkpoint(tmp_path)
    # A legacy .npz parameter file is not a checkpoint.
    npz = tmp_path / 'params.npz'
    np.savez(str(npz), np.zeros(3))
    with pytest.raises(CheckpointError, match='not an HDF5 file'):
        checkpoint.read_checkpoint(npz)


def test_check_config_names_the_flag_without_the_network(tmp_path, net):
    out, train_fn = net
    path = str(tmp_path / 'a.h5')
    save_checkpoint(path, out, train_fn,
                    args={'net': 'dense', 'growth_rate': 16,
                          'block_config': (8, 6, 4), 'seed': 1})
    same = {'net': 'dense', 'growth_rate': 16, 'block_config': [8, 6, 4],
            'seed': 2}
    keys = ['net', 'growth_rate', 'block_config']
    info = checkpoint.check_config(path, same, keys)
    assert info['args']['seed'] == 1 and info['path'] == path
    assert checkpoint.check_config(info, same, keys) is info
    for key, value, message in [
            ('net', 'residual', "--net is 'dense' in the checkpoint and "
                                "'residual' in this run"),
            ('growth_rate', 8, '--growth_rate is 16 in the checkpoint and 8'),
            ('block_config', (8, 6), r'--block_config is \[8, 6, 4\] in '
                                     r'the checkpoint and \[8, 6\]')]:
        with pytest.raises(CheckpointMismatchError,
                           match=re.escape(path) + '.*' + message):
            checkpoint.check_config(path, dict(same, **{key: value}), keys)
    # load_checkpoint checks them too; nothing is set when one differs.
    rng = np.random.RandomState(0)
    save_checkpoint(path, out, train_fn, rngs=[rng], args=same)
    before = snapshot(out, train_fn)
    changed = [v.get_value() + 1 for v in get_all_params(out)]
    for var, value in zip(get_all_params(out), changed):
        var.set_value(value)
    with pytest.raises(CheckpointMismatchError, match='--net is'):
        load_checkpoint(path, out, train_fn, [rng],
                        args=dict(same, net='plain'), config_keys=keys)
    for var, value in zip(get_all_params(out), changed):
        np.testing.assert_array_equal(var.get_value(), value)
    load_checkpoint(path, out, train_fn, [rng], args=same, config_keys=keys)
    assert_identical(snapshot(out, train_fn), before)
