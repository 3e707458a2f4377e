"""The hidden state the shim advances on every call (dropout masks, batch
normalisation running averages) also advances in ``mode="JAX"``, PyTensor's
GPU route, where shared random generators do not. Run here on the CPU;
the masks must equal those of the default mode call for call."""
import numpy as np
import pytensor
import pytensor.tensor as pt

import jax  # noqa: E402,F401  (the `test` extra: fails rather than skips)

from indrnn.lasagne import random as lrandom  # noqa: E402
from indrnn.lasagne.layers import (BatchNormLayer, DropoutLayer,  # noqa: E402
                                   InputLayer, get_output)


def _dropout_fn(mode):
    lrandom.set_rng(np.random.RandomState(7))
    l_in = InputLayer((6, 10))
    out = get_output(DropoutLayer(l_in, p=0.5))
    return pytensor.function([l_in.input_var], out, mode=mode)


def test_dropout_masks_fresh_and_backend_independent_in_jax():
    x = np.ones((6, 10), dtype=pytensor.config.floatX)
    f_jax = _dropout_fn("JAX")
    f_ref = _dropout_fn("FAST_COMPILE")
    jax_masks = [np.asarray(f_jax(x)) for _ in range(3)]
    ref_masks = [f_ref(x) for _ in range(3)]
    for a, b in zip(jax_masks, ref_masks):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(jax_masks[0], jax_masks[1])
    assert not np.array_equal(jax_masks[1], jax_masks[2])
    assert set(np.unique(jax_masks[0])) <= {0.0, 2.0}


def test_batchnorm_running_averages_update_in_jax():
    l_in = InputLayer((8, 3))
    bn = BatchNormLayer(l_in, alpha=0.1)
    x = pt.matrix("x")
    f = pytensor.function([x], get_output(bn, x), mode="JAX")
    data = np.random.RandomState(0).randn(8, 3).astype(pytensor.config.floatX)
    f(data)
    f(data)
    mean = data.mean(0)
    inv_std = 1 / np.sqrt(data.var(0) + 1e-4)
    # two updates from (0, 1): r = 0.81 r0 + 0.19 batch
    np.testing.assert_allclose(bn.mean.get_value(), 0.19 * mean, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(bn.inv_std.get_value(), 0.81 + 0.19 * inv_std,
                               rtol=1e-5)
