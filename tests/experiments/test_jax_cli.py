"""The experiments' command lines in ``mode="JAX"`` (the GPU route), on the
CPU: each family trains a few steps through its own ``main``, and a
checkpoint written in one mode resumes in the other.

The reference is another mode running the same command line: the default
mode (Numba) for the checkpoints, whose dtypes are the point; the Python
linker (``FAST_COMPILE``, the Ops' numpy code, cheap to compile) for the
families, whose graphs the default mode compiles slowly and
``tests/test_jax_training.py`` compares at the function level already.

Tolerance: the figures and arrays must agree to ``RTOL * max|ref| +
ATOL`` (``RTOL=1e-4``, ``ATOL=1e-7``), the bound of
``tests/test_jax_training.py`` and for the same reason: both modes
compute in float32, with their sums in another order, so they differ by
round-off relative to the largest terms (observed: a few 1e-6 after six
Adam steps), while a wrong mask, a missed update or a state lost on
resume changes the first digits. Integers (the dropout counters, the
step) must be equal.
"""
import json
import re

import numpy as np
import pytensor
import pytest

import jax  # noqa: F401  (the `test` extra: fails rather than skips)

from experiments import pixelmnist
from idx_files import write_learnable_mnist

RTOL, ATOL = 1e-4, 1e-7
DEFAULT = pytensor.config.mode


def _assert_close(got, ref, what):
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.shape == ref.shape, what
    if ref.dtype.kind in "iub":
        np.testing.assert_array_equal(got, ref, err_msg=what)
        return
    scale = float(np.abs(ref).max()) if ref.size else 0.0
    np.testing.assert_allclose(got, ref, rtol=0, atol=RTOL * scale + ATOL,
                               err_msg=what)


@pytest.fixture(scope='module')
def mnist_data(tmp_path_factory):
    return write_learnable_mnist(tmp_path_factory.mktemp('data'), 24, 10, 4)


def _checkpoint(path):
    """``{dataset path: array}`` of the parameters and training state of a
    checkpoint file, and its loop state."""
    import h5py
    found = {}
    with h5py.File(path, 'r') as f:
        for group in ('params', 'state'):
            for key, ds in f[group].items():
                found['%s/%s %s' % (group, key, ds.attrs['name'])] = ds[()]
        loop = json.loads(str(f.attrs['state_json']))
    return found, loop


#: pixel MNIST with every kind of training state: BatchNorm running
#: averages, a dropout counter, Adam's moments (residual net, BN after
#: the recurrence; 16 pixels, so the runs are short).
MNIST_ARGV = ['--num_layers', '2', '--hidden_units', '6', '--batch_size',
              '4', '--net', 'residual', '--num_blocks', '1', '--dropout',
              '0.3', '--bn_location', 'bn_after', '--eval_every', '3',
              '--seed', '0']
CKPTS = 'MNIST_indrnn_residual_checkpoints'


def test_checkpoints_resume_in_the_other_mode(mnist_data, tmp_path,
                                              monkeypatch):
    """Six steps in each mode, checkpointed at 3; each checkpoint resumed
    in the other mode to step 6 gives the default mode's six steps."""
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    argv = MNIST_ARGV + ['--data_dir', str(mnist_data), '--max_steps', '6']

    def run(mode, name, extra):
        with pytensor.config.change_flags(mode=mode):
            assert pixelmnist.main(argv + ['--out', str(tmp_path / name)]
                                   + extra) == 0
        return _checkpoint(tmp_path / name / CKPTS
                           / 'checkpoint-step00000006.h5')

    every = ['--checkpoint_every', '3', '--keep_checkpoints', '2']
    ref, ref_loop = run(DEFAULT, 'default', every)
    got = {'jax': run('JAX', 'jax', every)}
    for name, mode, source in (('jax_from_default', 'JAX', 'default'),
                               ('default_from_jax', DEFAULT, 'jax')):
        start = str(tmp_path / source / CKPTS / 'checkpoint-step00000003.h5')
        got[name] = run(mode, name, ['--resume', start])
    # What a JAX run writes is what the default mode writes: same
    # datasets, same dtypes (the int64 dropout counter too, which JAX
    # holds as int32 in a float32 run).
    jax_step3, _ = _checkpoint(tmp_path / 'jax' / CKPTS
                               / 'checkpoint-step00000003.h5')
    counters = [k for k in jax_step3 if k.endswith('dropout_counter')]
    assert counters
    for key in counters:
        assert jax_step3[key].dtype == np.int64 and jax_step3[key] == 3
    for name, (arrays, loop) in got.items():
        assert sorted(arrays) == sorted(ref), name
        for key, value in arrays.items():
            assert value.dtype == ref[key].dtype, (name, key)
            _assert_close(value, ref[key], '%s: %s' % (name, key))
        assert loop['loop']['step'] == ref_loop['loop']['step'] == 6
    # A trained state: the counters count the six steps, the BatchNorm
    # averages left their initial 0 (means) and 1 (inverse deviations).
    assert all(ref[k] == 6 for k in counters)
    for stat, initial in (('mean', 0), ('inv_std', 1)):
        keys = [k for k in ref if k.endswith(' ' + stat)]
        assert keys and all(np.all(ref[k] != initial) for k in keys), stat
