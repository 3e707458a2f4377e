"""The IndRNN layers' two recurrence paths, the fused Op (default) and
``pytensor.scan`` (as the original), give the same outputs and gradients
to float64 round-off, for both layer types and every option the fused
path accepts; and the layers fall back to scan where it does not apply."""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.indrnn import IndRNNLayer, use_fused_recurrence
from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from indrnn.lasagne import init, nonlinearities
from indrnn.lasagne import random as lasagne_random
from indrnn.lasagne.layers import InputLayer, get_all_params, get_output
from indrnn.ops import IndRNNRecurrence

T, B, N, F = 6, 3, 4, 2
MODE = "FAST_COMPILE"

CONFIGS = {
    "relu": dict(nonlinearity=nonlinearities.rectify),
    "relu-clip-backwards": dict(nonlinearity=nonlinearities.rectify,
                                grad_clipping=0.05, backwards=True),
    "tanh-mask": dict(nonlinearity=nonlinearities.tanh, masked=True),
    "identity-final": dict(nonlinearity=None, only_return_final=True),
}


@pytest.fixture(autouse=True)
def restore_rng():
    old = lasagne_random.get_rng()
    yield
    lasagne_random.set_rng(old)


def _uses_fused_op(output):
    return any(isinstance(node.op, IndRNNRecurrence)
               for node in pytensor.graph.traversal.applys_between(
                   [], [output]))


def _build(kind, fused, config):
    """Output, gradients and inputs of a tiny network with one layer."""
    config = dict(config)
    masked = config.pop("masked", False)
    rng = np.random.RandomState(3)
    # the same parameter values for both paths
    lasagne_random.set_rng(np.random.RandomState(5))
    with pytensor.config.change_flags(floatX="float64"):
        mask_layer = InputLayer((B, T)) if masked else None
        u = init.Uniform((0.5, 1.2))
        if kind == "IndRNNLayer":
            l_in = InputLayer((B, T, F))
            layer = IndRNNLayer(l_in, N, W_in_to_hid=init.Normal(0.5, 0.1),
                                W_hid_to_hid=u, b=init.Normal(0.3),
                                mask_input=mask_layer, use_fused_op=fused,
                                **config)
        else:
            l_in = InputLayer((T, B, N))
            layer = IndRNNLayer_onlyrecurrent(l_in, N, W_hid_to_hid=u,
                                              mask_input=mask_layer,
                                              use_fused_op=fused, **config)
        out = get_output(layer)
        params = get_all_params(layer, trainable=True)
        weights = pt.as_tensor(rng.randn(*layer.output_shape))
        cost = pt.sum(out * weights)
        inputs = [l_in.input_var] + ([mask_layer.input_var] if masked else [])
        grads = pytensor.grad(cost, [l_in.input_var] + params)
        fn = pytensor.function(inputs, [out] + grads, mode=MODE)
    shape = l_in.shape
    values = [rng.randn(*shape)]
    if masked:
        values.append((rng.rand(B, T) > 0.3).astype("float64"))
    return fn, values, out


@pytest.mark.parametrize("kind", ["IndRNNLayer", "IndRNNLayer_onlyrecurrent"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_fused_equals_scan(kind, name):
    fused_fn, values, fused_out = _build(kind, True, CONFIGS[name])
    scan_fn, _, scan_out = _build(kind, False, CONFIGS[name])
    assert _uses_fused_op(fused_out) and not _uses_fused_op(scan_out)
    for a, b in zip(fused_fn(*values), scan_fn(*values)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_context_default_and_fallbacks():
    l_in = InputLayer((T, B, N))
    with use_fused_recurrence(False):
        assert not IndRNNLayer_onlyrecurrent(l_in, N).use_fused_op
    layer = IndRNNLayer_onlyrecurrent(l_in, N)
    assert layer.use_fused_op and layer.fused_activation() == "relu"
    # options the fused Op does not implement keep the scan path
    unrolled = IndRNNLayer_onlyrecurrent(l_in, N, unroll_scan=True)
    truncated = IndRNNLayer_onlyrecurrent(l_in, N, gradient_steps=3)
    sigmoid = IndRNNLayer_onlyrecurrent(
        l_in, N, nonlinearity=nonlinearities.sigmoid)
    for layer in (unrolled, truncated, sigmoid):
        assert layer.fused_activation() is None
        assert not _uses_fused_op(get_output(layer))
    not_precomputed = IndRNNLayer(InputLayer((B, T, F)), N,
                                  precompute_input=False)
    assert not _uses_fused_op(get_output(not_precomputed))


# ------------------------------------------------ the lengths users run

def _long_case(case, fused, gradclipvalue="10"):
    """An experiment's network at its real length, float32, and a training
    function returning ``[loss, *gradients]`` (Adam, the U clip before the
    step, the BatchNorm averages: :func:`indrnn.run.functions.compile_train_fn`
    as the experiments call it). The fused path compiles in the default
    mode (what users run), scan in CVM (Numba's scan compile takes
    minutes)."""
    from indrnn.experiments import adding, pixelmnist
    import indrnn.lasagne as lasagne
    from indrnn.run.functions import compile_train_fn

    lasagne_random.set_rng(np.random.RandomState(1))
    x, y = pt.tensor3("x", dtype="float32"), None
    with pytensor.config.change_flags(floatX="float32"), \
            use_fused_recurrence(fused):
        if case == "adding-T1000":
            args = adding.make_parser().parse_args(
                ["--seq_len", "1000", "--hidden_units", "16",
                 "--batch_size", "4", "--gradclipvalue", gradclipvalue])
            net = adding.build_network(args)
            y = pt.matrix("y", dtype="float32")
            loss = lasagne.objectives.squared_error(
                get_output(net["out"], x), y).mean()
            U_bound = adding.network_globals(args).U_bound
        else:
            args = pixelmnist.make_main_parser().parse_args(
                ["--num_layers", "6", "--hidden_units", "8", "--batch_size",
                 "4", "--use_bn_afterrnn"])
            net = pixelmnist.build_network(args, seq_len=784)
            y = pt.ivector("y")
            loss = lasagne.objectives.categorical_crossentropy(
                get_output(net["out"], x), y).mean()
            U_bound = pixelmnist.network_globals(
                args, seq_len=784, feature_size=1).U_bound
        params = get_all_params(net["out"], trainable=True)
        fn = compile_train_fn(
            [x, y], loss, params, outputs=[loss] + pytensor.grad(loss, params),
            U_bound=U_bound, mode=None if fused else "CVM")
    assert _uses_fused_op(loss) == fused
    return net, fn, np.float32(args.lr)


def _long_data(case):
    rng = np.random.RandomState(0)
    if case == "adding-T1000":
        from indrnn.experiments import adding
        x, y = adding.generate_data(1000, 4, rng)
        # Targets 500 times the task's: the error reaching the recurrence
        # then exceeds the gradient clip (10) at the time steps, so the
        # clip is active (checked below).
        return x.astype("float32"), (500 * y).astype("float32")
    return (rng.rand(4, 784, 1).astype("float32"),
            rng.randint(0, 10, 4).astype("int32"))


@pytest.mark.parametrize("case", ["adding-T1000", "mnist-T784-6-layers-bn"])
def test_fused_equals_scan_at_full_length_in_float32(case):
    """Fused vs scan where it matters: T = 1000 (adding, relu, the clip of
    10 active) and T = 784 (6 layers, BatchNorm after each), float32, over
    20 Adam steps from the same start.

    Tolerances. Both paths do the same float32 operations per time step
    (the fused Op in Numba, scan in C), but not always in the same order
    or with the same contractions, so each step may differ by an ulp; over
    T steps with recurrent weights near 1 (|u| <= U_bound = 2**(1/T))
    that grows to about T * eps = 6e-5 relative at worst. Hence: the loss
    to 1e-5 relative, each gradient to 1e-4 of its largest element (the
    gradient of a sum over T steps). After 20 Adam steps each element has
    moved at most 20 * lr; an element whose gradient is round-off noise
    could move differently, so the parameters are compared to 1e-4
    relative plus a tenth of that largest travel. (Measured on an AMD EPYC
    machine: loss equal, gradients within 1.5e-5 of their scale, the
    parameters within 6e-5 absolute.)
    """
    x, y = _long_data(case)
    runs = {}
    for fused in (True, False):
        net, fn, lr = _long_case(case, fused)
        outputs = [fn(x, y, lr) for _ in range(20)]
        runs[fused] = (outputs, [p.get_value() for p in
                                 get_all_params(net["out"])])
    (fused_out, fused_params), (scan_out, scan_params) = runs[True], \
        runs[False]
    np.testing.assert_allclose(fused_out[0][0], scan_out[0][0], rtol=1e-5)
    for i, (mine, ref) in enumerate(zip(fused_out[0][1:], scan_out[0][1:],
                                        strict=True)):
        np.testing.assert_allclose(mine, ref, rtol=0,
                                   atol=1e-4 * np.abs(ref).max(),
                                   err_msg="gradient %d" % i)
    np.testing.assert_allclose(fused_out[-1][0], scan_out[-1][0], rtol=1e-4)
    assert fused_out[-1][0] < fused_out[0][0]  # it trains
    for i, (mine, ref) in enumerate(zip(fused_params, scan_params,
                                        strict=True)):
        np.testing.assert_allclose(mine, ref, rtol=1e-4, atol=0.1 * 20 * lr,
                                   err_msg="parameter %d after 20 steps" % i)
    if case == "adding-T1000":
        _, unclipped, lr = _long_case(case, True, gradclipvalue="0")
        # the same start (seeded builders), no clip: other gradients
        grads = unclipped(x, y, lr)[1:]
        assert max(float(np.abs(a - b).max()) for a, b in
                   zip(grads, fused_out[0][1:])) > 1.0
