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
round-off relative to the largest terms (observed: at most 1.1e-5 of an
array's largest value, a margin of 9; parameters after three to six
Adam steps), while a wrong mask, a missed update or a state lost on
resume changes the first digits. Integers (the dropout counters, the
step) must be equal. As there, the BatchNorm layers follow the recurrence
(``--use_bn_afterrnn``, ``bn_after``): a BatchNorm right after a biased
layer makes that bias's gradient zero in exact arithmetic, so Adam turns
round-off into steps of size ``lr``, which differ between any two modes
(observed for the PTB networks' default ``bn_before``: the biases 1e-4
apart, and the figures that use the stored averages 0.3 % apart).

One more case of the same kind: a relu unit that is dead in every step of
the reference run has a gradient of exactly zero there, so its bias stays
at exactly 0.0; in the other mode round-off can leave its pre-activation a
hair above zero in one step, and Adam, which divides by the gradient's own
size, moves the bias by up to ``lr`` per step (observed on an AMD EPYC
machine: word PTB, one of six biases at -2.8e-5 against 0.0). Such entries
(exactly 0.0 in the reference, a bias) may differ by at most ``steps *
lr``; every other entry keeps the round-off bound.
"""
import json
import re

import numpy as np
import pytensor
import pytest

import jax  # noqa: F401  (the `test` extra: fails rather than skips)

from indrnn.experiments import Indrnn_action_train as action
from indrnn.experiments import adding, pixelmnist
from indrnn.experiments import penntree_charlevel_rernn as cptb
from indrnn.experiments import penntree_wordlevel_rernn_WT as wptb
from idx_files import write_learnable_mnist
from ntu_files import write_tiny_ntu

RTOL, ATOL = 1e-4, 1e-7
DEFAULT = pytensor.config.mode


def _assert_close(got, ref, what, dead_bias_step=None):
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.shape == ref.shape, what
    if ref.dtype.kind in "iub":
        np.testing.assert_array_equal(got, ref, err_msg=what)
        return
    scale = float(np.abs(ref).max()) if ref.size else 0.0
    bound = np.full(ref.shape, RTOL * scale + ATOL)
    if dead_bias_step is not None and ref.ndim == 1:
        # A bias whose unit was dead in every reference step (see the
        # module docstring): Adam's steps of round-off, at most lr each.
        bound[ref == 0.0] = dead_bias_step
    np.testing.assert_array_less(np.abs(got - ref), bound + 1e-30,
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


# ------------------------------------------------- each family, its CLI

@pytest.fixture(scope='module')
def ntu_data(tmp_path_factory):
    return write_tiny_ntu(tmp_path_factory.mktemp('ntu'), 6, 20)


#: Tiny runs of every family: (module, flags, where the data is). The
#: adding problem's IndRNN runs through its CLI in
#: ``tests/test_jax_training.py``, its LSTM is compared there at the
#: function level (through the CLI it took 23 s cold, for the same code).
FAMILIES = {
    'adding_rnn': (adding, ['--model', 'rnn', '--seq_len', '10',
                            '--hidden_units', '6', '--batch_size', '4',
                            '--max_steps', '4', '--report_every', '2'],
                   None),
    # frame-wise BN, dropout, the state carried from batch to batch
    'char_ptb': (cptb, ['--hidden_units', '6', '--num_layers', '2',
                        '--batch_size', '3', '--seq_len', '5',
                        '--train_subset', '200', '--eval_subset', '100',
                        '--max_steps', '3', '--use_dropout',
                        '--use_bn_afterrnn'], 'ptb'),
    # weight tying, embedding dropout
    'word_ptb': (wptb, ['--word_level', '--w_tying', '--hidden_units', '6',
                        '--num_layers', '2', '--batch_size', '2',
                        '--seq_len', '5', '--train_subset', '200',
                        '--eval_subset', '100', '--max_steps', '3',
                        '--use_dropout', '--drop_embedding',
                        '--use_bn_afterrnn'], 'ptb'),
    'action': (action, ['--num_layers', '2', '--hidden_units', '6',
                        '--batch_size', '4', '--seq_len', '5',
                        '--eval_fold', '1', '--max_steps', '3',
                        '--test_crops', '1', '--use_bn_afterrnn'], 'ntu'),
    # dense-IndRNN, permuted pixels (the residual net: the resume test)
    'dense_mnist': (pixelmnist, ['--net', 'dense', '--hidden_units', '6',
                                 '--batch_size', '4', '--max_steps', '3',
                                 '--eval_every', '3', '--growth_rate', '3',
                                 '--block_config', '1,1', '--num_first',
                                 '4', '--use_permute'], 'mnist'),
}

#: The loss figures of the logs (accuracies are left out: counts of a
#: few samples, which round-off may tip): ``train_loss 2.3`` and the like,
#: and the PTB scripts' ``bn_testprep bn_testbpc 9.1 3.2`` lines.
FIGURES = (re.compile(r'\b((?:train|test|bn_test)_(?:mse|loss|perp|bpc)) '
                      r'(\S+)'),
           re.compile(r'^(\w*prep \w*bpc) (\S+ \S+)$', flags=re.M))


def _figures(out):
    """The loss figures of the run's log and its saved parameters."""
    (log,) = [p for p in out.iterdir() if p.suffix == '.log']
    (npz,) = [p for p in out.iterdir() if p.suffix == '.npz']
    text = log.read_text()
    figures = [(key, [float(v) for v in values.split()])
               for pattern in FIGURES for key, values in pattern.findall(text)]
    with np.load(npz) as f:
        params = [f[k] for k in sorted(f.files,
                                       key=lambda k: int(k.split('_')[1]))]
    return figures, params


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_every_family_trains_in_jax_mode_through_its_command_line(
        family, tmp_path, monkeypatch, request):
    """The same command line in JAX mode and in the Python linker's mode
    (numpy, the independent reference): the same losses and the same
    trained parameters (BatchNorm averages included)."""
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    module, argv, data = FAMILIES[family]
    if data == 'ptb':
        argv = argv + ['--data_dir',
                       str(request.getfixturevalue('data_dir') / 'ptb')]
    elif data == 'ntu':
        argv = argv + ['--data_dir', str(request.getfixturevalue('ntu_data'))]
    elif data == 'mnist':
        argv = argv + ['--data_dir',
                       str(request.getfixturevalue('mnist_data'))]
    runs = {}
    for mode in ('FAST_COMPILE', 'JAX'):
        out = tmp_path / mode
        with pytensor.config.change_flags(mode=mode):
            assert module.main(argv + ['--seed', '0', '--out', str(out)]) == 0
        runs[mode] = _figures(out)
    (ref_figures, ref_params), (figures, params) = (runs['FAST_COMPILE'],
                                                    runs['JAX'])
    assert figures and [k for k, _ in figures] == [k for k, _ in ref_figures]
    for (key, got), (_, ref) in zip(figures, ref_figures):
        assert np.all(np.isfinite(got)), key
        _assert_close(got, ref, key)
    assert len(params) == len(ref_params) > 0
    steps = int(argv[argv.index('--max_steps') + 1])
    lr = (float(argv[argv.index('--lr') + 1]) if '--lr' in argv
          else float(module.make_parser().get_default('lr')))
    for i, (got, ref) in enumerate(zip(params, ref_params)):
        assert got.dtype == ref.dtype == np.float32, i
        _assert_close(got, ref, 'parameter %d' % i,
                      dead_bias_step=1.01 * steps * lr)
