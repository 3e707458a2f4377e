"""Training in ``mode="JAX"`` (PyTensor's GPU route), checked on the CPU.

For each network family of the experiments (the plain two-layer IndRNN,
the LSTM baseline, IndRNN with batch normalisation, with dropout, and the
char and word PTB models that carry their hidden state from batch to
batch), a few Adam steps are taken twice from the same initial weights
and on the same batches: in the default mode (Numba) and in JAX mode.
The losses, the carried state and every parameter (the BatchNorm running
averages included) must agree, the BatchNorm averages and the dropout
counters must have advanced, and a batch of another size (the last,
partial batch of a data set) must run in both.

Tolerance: every array must agree to ``RTOL * max|ref| + ATOL`` with
``RTOL=1e-4, ATOL=1e-7`` (:func:`_assert_close`). Both modes compute in
float32 (the experiments' precision, and JAX's default), but XLA and
Numba order their sums (the matrix products, the reductions over batch
and time) differently. The rounding error of a sum is relative to the
size of its terms, not of its result, so the bound is relative to the
array's largest value (an element that has nearly cancelled is as
accurate as its neighbours in absolute terms, not relatively). Observed
here: at most 4e-6 of the largest value after three Adam steps, so 1e-4
leaves a margin of about 25, while a real difference of the computation
(a wrong mask, a missed update, a stale state) changes the figures in the
first digits. Networks where a parameter's gradient is zero in exact
arithmetic (a bias right before a batch normalisation, ``bn_before``) are
not used here: there Adam turns pure rounding noise into steps of size
``lr``, and any two backends (Numba and C included) differ.
"""
import re

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import jax  # noqa: F401  (the `test` extra: fails rather than skips)

import indrnn.lasagne as lasagne
from indrnn.experiments import adding, pixelmnist, ptb_lm
from indrnn.experiments import penntree_charlevel_rernn as cptb
from indrnn.experiments import penntree_wordlevel_rernn_WT as wptb
from indrnn.lasagne.layers import InputLayer, get_all_params
from indrnn.indrnn import IndRNNLayer
from indrnn.link.jax.dispatch.shape import ShapeExpr
from indrnn.ops import IndRNNRecurrence
from indrnn.run.functions import (compile_test_fn, compile_train_fn,
                                  float32_unless_configured, weight_decay)

#: Tolerance between the modes, relative to each array's largest value
#: (module docstring).
RTOL, ATOL = 1e-4, 1e-7
LR = np.float32(2e-3)


@pytest.fixture(autouse=True)
def float32_run():
    """float32 and 32-bit JAX, as the experiments' command lines run."""
    with float32_unless_configured():
        yield


def _values(variables):
    return [np.array(v.get_value()) for v in variables]


def _run(build, batches, mode):
    """Build with seed 0, compile for ``mode``, take one step per batch.

    Returns
    -------
    dict
        ``outputs`` (per step, as arrays), ``params`` and ``shared`` (the
        values of all the function's shared variables at the end, by
        name and position), ``initial`` (the shared values before).
    """
    lasagne.random.set_rng(np.random.RandomState(0))
    step, shared = build(mode)
    initial = _values(shared)
    outputs = [[np.asarray(o) for o in step(*batch)] for batch in batches]
    return {"outputs": outputs, "shared": _values(shared),
            "names": [v.name for v in shared], "initial": initial}


def _assert_close(got, ref, what):
    """``|got - ref| <= RTOL * max|ref| + ATOL`` everywhere, same shape."""
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.shape == ref.shape, what
    scale = float(np.abs(ref).max()) if ref.size else 0.0
    np.testing.assert_allclose(got, ref, rtol=0, atol=RTOL * scale + ATOL,
                               err_msg=what)


def _compare(build, batches):
    ref = _run(build, batches, None)
    got = _run(build, batches, "JAX")
    assert got["names"] == ref["names"]
    for k, (a, b) in enumerate(zip(got["outputs"], ref["outputs"])):
        for x, y in zip(a, b):
            _assert_close(x, y, "step %d" % k)
    for name, a, b in zip(ref["names"], got["shared"], ref["shared"]):
        if b.dtype.kind == "f":
            # float32 stays float32 (no float64 leaking out of JAX)
            assert a.dtype == b.dtype, name
        else:
            # JAX in 32 bits holds the int64 dropout counters as int32
            assert a.dtype.kind == b.dtype.kind, name
        _assert_close(a, b, str(name))
    return ref, got


def _train_step(net, inputs, loss, outputs=None, U_bound=None):
    params = get_all_params(net, trainable=True)

    def build(mode):
        fn = compile_train_fn(inputs, loss, params, outputs=outputs,
                              U_bound=U_bound, mode=mode)
        shared = sorted(fn.get_shared(), key=lambda v: str(v.name))
        return (lambda *batch: fn(*batch, LR)), shared
    return build


def _adding(model, batch_sizes=(5, 5, 3)):
    args = adding.make_parser().parse_args(
        ['--model', model, '--seq_len', '12', '--hidden_units', '6'])
    rng = np.random.RandomState(1)
    batches = [adding.generate_data(12, n, rng) for n in batch_sizes]

    def build(mode):
        net = adding.build_network(args)
        X = pt.tensor3('X', dtype='float32')
        y = pt.matrix('y', dtype='float32')
        pred = lasagne.layers.get_output(net['out'], X)
        loss = lasagne.objectives.squared_error(pred, y).mean()
        g = adding.network_globals(args)
        return _train_step(net['out'], [X, y], loss,
                           U_bound=g.U_bound if model == 'indrnn' else None
                           )(mode)
    return build, batches


@pytest.mark.parametrize("model", ["indrnn", "lstm"])
def test_adding_networks_train_alike(model):
    """Plain IndRNN (fused recurrence, clip of U) and the LSTM (scan);
    the last batch is smaller: variable batch sizes in both modes."""
    build, batches = _adding(model)
    ref, got = _compare(build, batches)
    losses = [float(o[0]) for o in got["outputs"]]
    assert len(set(losses)) == len(losses)   # it trains: the loss moves


def _pixel(argv, batch_sizes=(4, 4, 4)):
    args = pixelmnist.make_main_parser().parse_args(
        ['--num_layers', '2', '--hidden_units', '5', '--batch_size', '4']
        + argv)
    rng = np.random.RandomState(2)
    batches = [(rng.rand(n, 9, 1).astype('float32'),
                rng.randint(0, 10, n).astype('int32')) for n in batch_sizes]

    def build(mode):
        net = pixelmnist.build_network(args, seq_len=9)
        X = pt.tensor3('X', dtype='float32')
        y = pt.ivector('y')
        pred = lasagne.layers.get_output(net['out'], X)
        loss = lasagne.objectives.categorical_crossentropy(pred, y).mean()
        for term in weight_decay(net['out'], 1e-3):
            loss += term
        g = pixelmnist.network_globals(args, seq_len=9)
        return _train_step(net['out'], [X, y], loss, U_bound=g.U_bound)(mode)
    return build, batches


def _changed(run, prefix):
    return [not np.array_equal(a, b) for name, a, b in
            zip(run["names"], run["shared"], run["initial"])
            if str(name).startswith(prefix)]


def test_batch_norm_network_trains_alike_and_its_averages_advance():
    build, batches = _pixel(['--use_bn_afterrnn'])
    ref, got = _compare(build, batches)
    for prefix in ("mean", "inv_std"):
        changed = _changed(got, prefix)
        assert changed and all(changed), prefix


def test_dropout_network_trains_alike_and_its_masks_advance():
    build, batches = _pixel(['--dropout', '0.3', '--net', 'residual',
                             '--num_blocks', '1', '--bn_location',
                             'bn_after'])
    ref, got = _compare(build, batches)
    counters = [v for name, v in zip(got["names"], got["shared"])
                if name == "dropout_counter"]
    # one call per step: every mask of the run was a fresh one
    assert counters and all(int(c) == len(batches) for c in counters)


def _ptb(spec, argv, vocab, steps=3, batch=3, seq_len=5):
    args = spec.make_parser().parse_args(
        argv + ['--batch_size', str(batch), '--seq_len', str(seq_len)])
    rng = np.random.RandomState(3)
    data = [(rng.randint(0, vocab, (batch, seq_len)).astype('int32'),
             rng.randint(0, vocab, (batch, seq_len)).astype('int32'))
            for _ in range(steps)]

    def build(mode):
        fns = ptb_lm.compile_functions(spec, args, 2000, vocab, mode=mode)
        shared = sorted(fns.train_fn.get_shared(), key=lambda v: str(v.name))
        state = {"hid": fns.zero_state(batch)}

        def step(x, y):
            # the state goes on from batch to batch, as in run_pass
            perp, bpc, hid = fns.train_fn(x, y, state["hid"], LR)
            state["hid"] = np.asarray(hid)
            return perp, bpc, hid
        return step, shared
    return build, data


@pytest.mark.parametrize("case", ["char", "word"])
def test_ptb_models_with_carried_state_train_alike(case):
    """Char level: frame-wise BN and dropout; word level: weight tying,
    embedding dropout and BN. The carried state is compared step by step
    (it is an output)."""
    if case == "char":
        build, data = _ptb(cptb.SPEC, ['--num_layers', '2',
                                       '--hidden_units', '6',
                                       '--use_bn_afterrnn', '--use_dropout'],
                           50)
    else:
        build, data = _ptb(wptb.SPEC, ['--num_layers', '2',
                                       '--hidden_units', '6', '--word_level',
                                       '--w_tying', '--use_dropout',
                                       '--drop_embedding',
                                       '--use_bn_afterrnn'], 40)
    ref, got = _compare(build, data)
    hids = [o[2] for o in got["outputs"]]
    assert not np.array_equal(hids[0], hids[1])
    assert all(_changed(got, "mean"))


def test_shape_arithmetic_is_concrete_in_jax_only():
    """The rewrite that makes shapes concrete runs for JAX only: the
    default mode's graph (and so its arithmetic) is untouched."""
    layer = IndRNNLayer(InputLayer((None, 4, 2)), 3)
    x = pt.tensor3('x', dtype='float32')
    out = lasagne.layers.get_output(layer, x).sum()
    n_shape_expr = {}
    for mode in (None, "JAX"):
        fn = compile_test_fn([x], [out], mode=mode)
        n_shape_expr[mode] = sum(isinstance(node.op, ShapeExpr)
                                 for node in fn.maker.fgraph.apply_nodes)
        for batch in (2, 5):   # any batch size, in both modes
            data = np.ones((batch, 4, 2), dtype='float32')
            assert np.isfinite(float(fn(data)[0]))
    assert n_shape_expr[None] == 0 and n_shape_expr["JAX"] > 0


def test_training_step_is_one_gpu_ready_program():
    """What the GPU needs of a step, read from the program JAX compiles
    (the residual net with BatchNorm and dropout, 3 recurrent layers):
    PyTensor's JAX linker hands the whole graph to one ``jax.jit``; the
    program calls nothing on the host (no callbacks), computes no float64
    (a GPU's float64 is slow; the float32 runs keep JAX in 32 bits), and
    runs two loops per recurrent layer: the forward ``lax.scan`` and the
    gradient's one reverse pass, nothing unrolled in time."""
    build, batches = _pixel(['--dropout', '0.3', '--net', 'residual',
                             '--num_blocks', '1', '--bn_location',
                             'bn_after'])
    lasagne.random.set_rng(np.random.RandomState(0))
    step, shared = build("JAX")
    fn = next(c.cell_contents for c in step.__closure__
              if hasattr(c.cell_contents, "vm"))
    # PyTensor's JIT thunk keeps its jitted function and the storage of
    # the graph's inputs as default arguments (pytensor.link.basic).
    jitted, cells, _ = fn.vm.__defaults__
    assert type(jitted).__name__ == "PjitFunction"
    explicit = iter(list(batches[0]) + [LR])  # the rest: shared values
    args = [c[0] if c[0] is not None else next(explicit) for c in cells]
    program = jitted.lower(*args).as_text()
    assert "callback" not in program
    assert "f64" not in program
    n_recurrent = sum(isinstance(node.op, IndRNNRecurrence)
                      for node in fn.maker.fgraph.apply_nodes)
    assert n_recurrent == 3
    assert len(re.findall(r"stablehlo\.while", program)) == 2 * n_recurrent


def _figures(log):
    return [[float(v) for v in re.findall(r'(?:train|test)_mse (\S+)', line)]
            for line in log.splitlines() if line.startswith('step ')]


def test_adding_command_line_trains_in_jax_mode(tmp_path, monkeypatch):
    """The experiment's own main, as ``PYTENSOR_FLAGS=mode=JAX`` runs it,
    reports the figures of the default mode."""
    monkeypatch.delenv('PYTENSOR_FLAGS', raising=False)
    argv = ['--seq_len', '10', '--hidden_units', '6', '--batch_size', '4',
            '--max_steps', '4', '--report_every', '2', '--seed', '0']
    logs = {}
    for mode in (pytensor.config.mode, "JAX"):
        out = tmp_path / mode
        with pytensor.config.change_flags(mode=mode):
            assert adding.main(argv + ['--out', str(out)]) == 0
        logs[mode] = (out / 'indrnn10.log').read_text()
        assert (out / 'indrnn10.npz').exists()
    ref, got = _figures(logs[pytensor.config.mode]), _figures(logs["JAX"])
    assert len(got) == 2 and len(ref) == 2
    np.testing.assert_allclose(got, ref, rtol=RTOL)
