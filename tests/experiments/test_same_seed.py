"""Same seed, same numbers: a cold run, a warm run and a resumed run agree.

For every experiment family, at tiny sizes, through the real command line
in the default mode (Numba, the node linker, the threaded products, the
compile cache), and the adding problem in C mode (``CVM``, whose compiled
modules a warm run loads from the compile folder too):

* ``cold``: a run to step N with an empty compile folder (PyTensor's
  ``base_compiledir`` and ``NUMBA_CACHE_DIR``);
* ``warm``: the same command again on that folder (the functions now come
  from the disk caches);
* ``resumed``: a run to step N/2 with another empty folder, then resumed
  from its checkpoint in a new process on that (now warm) folder: the
  first long run of a configuration on a fresh machine, interrupted.

All three must save the same parameters and the same final checkpoint
(parameters, Adam's state, dropout counters, random states), bit for bit.
Issue 19: with Numba's ``fastmath`` on, the char-level PTB runs differed
between cold and warm in 17 of 17 arrays (see
:func:`indrnn._runtime.configure_fastmath`). The two cold runs run side by
side (two processes), then the two warm ones.
"""
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from indrnn.data import mnist
from idx_files import write_idx
from ntu_files import write_tiny_ntu

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

#: Steps of the cold and warm runs; the resumed run stops at half of it.
STEPS = 8
TIMEOUT = 400

PTB_CHAR = ['--hidden_units', '16', '--num_layers', '2', '--batch_size',
            '8', '--seq_len', '10', '--train_subset', '2000',
            '--eval_subset', '400', '--seed', '4', '--lr', '0.002',
            '--report_every', '2', '--use_dropout']

#: family -> (module, flags, data set the flags need); a family ending in
#: ``-cvm`` runs in PyTensor's C mode instead of the default mode.
CASES = {
    'adding': ('indrnn.experiments.adding',
               ['--seq_len', '20', '--hidden_units', '16', '--batch_size',
                '8', '--seed', '0', '--report_every', '2'], None),
    'adding-cvm': ('indrnn.experiments.adding',
                   ['--seq_len', '20', '--hidden_units', '16',
                    '--batch_size', '8', '--seed', '0', '--report_every',
                    '2'], None),
    # the residual network of the Deep IndRNN paper (BN, dropout)
    'pixelmnist-residual': ('indrnn.experiments.pixelmnist',
                            ['--net', 'residual', '--num_blocks', '1',
                             '--num_layers', '2', '--hidden_units', '8',
                             '--batch_size', '4', '--dropout', '0.2',
                             '--use_permute', '--eval_every', '3', '--seed',
                             '0'], 'mnist'),
    # the case that differed cold and warm before fastmath was turned off
    'ptb-char': ('indrnn.experiments.penntree_charlevel_rernn', PTB_CHAR,
                 'ptb'),
    'action': ('indrnn.experiments.Indrnn_action_train',
               ['--num_layers', '2', '--hidden_units', '16', '--batch_size',
                '8', '--seq_len', '8', '--lr', '0.005', '--eval_fold', '1',
                '--test_crops', '1', '--use_dropout', '--seed', '0'],
               'ntu'),
    # word level with the dense network (weight tying, BN, dropout)
    'ptb-word-dense': ('indrnn.experiments.penntree_wordlevel_rernn_WT',
                       ['--w_tying', '--net', 'dense', '--growth_rate', '4',
                        '--bn_size',
                        '2', '--block_config', '1,1', '--embed_size', '8',
                        '--dropout', '0.1', '--batch_size', '8',
                        '--seq_len', '5', '--train_subset', '1600',
                        '--eval_subset', '400', '--comp_perp', '--seed',
                        '0', '--report_every', '2'], 'ptb'),
}




@pytest.fixture(scope='module')
def tiny_mnist(tmp_path_factory):
    """MNIST-format files of 5x5 images (25 time steps)."""
    root = tmp_path_factory.mktemp('mnist_data')
    (root / 'mnist').mkdir()
    rng = np.random.RandomState(0)
    for names, n in ((mnist.FILES[:2], 24), (mnist.FILES[2:], 10)):
        write_idx(root / 'mnist' / names[0], rng.randint(0, 255, (n, 5, 5)))
        write_idx(root / 'mnist' / names[1], np.arange(n) % 10)
    return root


@pytest.fixture(scope='module')
def tiny_ntu(tmp_path_factory):
    """Synthetic ``.skeleton`` files converted to the experiment's arrays."""
    return write_tiny_ntu(tmp_path_factory.mktemp('ntu_data'), 12, 30)


def _environment(compile_dir, mode):
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTENSOR_FLAGS', 'THEANO_FLAGS', 'NUMBA_CACHE_DIR',
                        'INDRNN_COMPILE_CACHE')}
    env['PYTENSOR_FLAGS'] = 'base_compiledir=%s' % compile_dir + (
        ',mode=%s' % mode if mode else '')
    env['NUMBA_CACHE_DIR'] = str(compile_dir / 'numba_cache')
    env['PYTHONPATH'] = str(REPO_ROOT)
    return env


def _run_side_by_side(commands, mode=None):
    """Run ``(argv, compile_dir)`` pairs as processes at the same time."""
    procs = [subprocess.Popen([sys.executable, '-m'] + argv, cwd=REPO_ROOT,
                              env=_environment(compile_dir, mode),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
             for argv, compile_dir in commands]
    try:
        results = [proc.communicate(timeout=TIMEOUT) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc, (argv, _), (stdout, stderr) in zip(procs, commands, results):
        assert proc.returncode == 0, (argv, stdout[-2000:], stderr[-3000:])
    return [stdout for stdout, _ in results]


def _only(folder, pattern):
    [path] = sorted(folder.glob(pattern))
    return path


def _arrays(path):
    """Every array of a checkpoint (HDF5 path -> value) or ``.npz``."""
    if path.suffix == '.npz':
        with np.load(path) as f:
            return {key: f[key] for key in f.files}
    import h5py
    found = {}
    with h5py.File(path, 'r') as f:
        f.visititems(lambda name, obj: found.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return found


def _assert_same(a, b, what):
    assert sorted(a) == sorted(b), what
    different = [key for key in a if not np.array_equal(a[key], b[key])]
    assert not different, '%s: %d of %d arrays differ: %s' % (
        what, len(different), len(a), different[:5])


@pytest.mark.parametrize('family', sorted(CASES))
def test_cold_warm_and_resumed_runs_are_bit_identical(family, tmp_path,
                                                      data_dir, tiny_mnist,
                                                      tiny_ntu):
    module, flags, data = CASES[family]
    mode = 'CVM' if family.endswith('-cvm') else None
    data_flag = {None: [], 'mnist': ['--data_dir', str(tiny_mnist)],
                 'ptb': ['--data_dir', str(data_dir / 'ptb')],
                 'ntu': ['--data_dir', str(tiny_ntu)]}[data]
    base = [module] + flags + data_flag + ['--checkpoint_every', '1000']
    first, second = tmp_path / 'compile1', tmp_path / 'compile2'
    out = {name: tmp_path / name for name in ('cold', 'warm', 'resumed')}
    half = STEPS // 2
    _run_side_by_side([
        (base + ['--max_steps', str(STEPS), '--out', str(out['cold'])],
         first),
        (base + ['--max_steps', str(half), '--out', str(out['resumed'])],
         second)], mode)
    checkpoint = _only(out['resumed'],
                       '*_checkpoints/checkpoint-step%08d.h5' % half)
    stdout = _run_side_by_side([
        (base + ['--max_steps', str(STEPS), '--out', str(out['warm'])],
         first),
        (base + ['--max_steps', str(STEPS), '--out', str(out['resumed']),
                 '--resume', str(checkpoint)], second)], mode)
    assert 'resumed from %s at step %d' % (checkpoint, half) in stdout[1]
    final = '*_checkpoints/checkpoint-step%08d.h5' % STEPS
    cold_params = _arrays(_only(out['cold'], '*.npz'))
    cold_state = _arrays(_only(out['cold'], final))
    assert any(key.startswith('state/') for key in cold_state)
    for name in ('warm', 'resumed'):
        _assert_same(cold_params, _arrays(_only(out[name], '*.npz')),
                     '%s parameters, cold vs %s' % (family, name))
        _assert_same(cold_state, _arrays(_only(out[name], final)),
                     '%s checkpoint at step %d, cold vs %s'
                     % (family, STEPS, name))
