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
