"""Tests for indrnn.lasagne.layers.normalization: BatchNormLayer against a
numpy reference, its running averages, and the batch_norm() helper."""
import warnings

import numpy as np
import pytensor
import pytest

from indrnn.lasagne import nonlinearities, updates
from indrnn.lasagne.layers import (BatchNormLayer, DenseLayer, InputLayer,
                                   NonlinearityLayer, batch_norm,
                                   get_all_params, get_output)
from indrnn.lasagne.utils import floatX

MODE = "FAST_COMPILE"
TOL = dict(rtol=1e-5, atol=1e-5)
EPS = 1e-4
ALPHA = 0.3
SHAPE = (4, 3, 2)          # 'auto' axes: (0, 2); one statistic per channel


def np_bn(x, mean, inv_std, beta, gamma, axes=(0, 2)):
    shape = [1 if a in axes else s for a, s in enumerate(x.shape)]
    r = lambda v: np.reshape(v, shape)  # noqa: E731
    return (x - r(mean)) * (r(gamma) * r(inv_std)) + r(beta)


def np_stats(x, axes=(0, 2)):
    return x.mean(axis=axes), 1. / np.sqrt(x.var(axis=axes) + EPS)


@pytest.fixture
def bn_case():
    rng = np.random.RandomState(0)
    l_in = InputLayer(SHAPE)
    p = dict(beta=floatX(rng.randn(3)), gamma=floatX(rng.uniform(.5, 2, 3)),
             mean=floatX(rng.randn(3)), inv_std=floatX(rng.uniform(.5, 2, 3)))
    bn = BatchNormLayer(l_in, epsilon=EPS, alpha=ALPHA, **p)
    xs = [floatX(rng.randn(*SHAPE) * 2 + 1) for _ in range(2)]
    return l_in, bn, p, xs


def test_params_names_tags_shapes():
    bn = BatchNormLayer(InputLayer((None, 3, 5)), name="bn")
    assert bn.axes == (0, 2)
    assert [p.name for p in bn.get_params()] == [
        "bn.beta", "bn.gamma", "bn.mean", "bn.inv_std"]
    assert bn.get_params(trainable=True) == [bn.beta, bn.gamma]
    assert bn.get_params(regularizable=True) == [bn.gamma]
    for p in bn.get_params():
        assert p.get_value().shape == (3,)
    np.testing.assert_array_equal(bn.gamma.get_value(), np.ones(3))
    np.testing.assert_array_equal(bn.inv_std.get_value(), np.ones(3))
    np.testing.assert_array_equal(bn.mean.get_value(), np.zeros(3))
    bn2 = BatchNormLayer(InputLayer((None, 3, 5)), axes=(0, 1))
    assert bn2.beta.get_value().shape == (5,)
    bn3 = BatchNormLayer(InputLayer((None, 3)), axes=0, beta=None,
                         gamma=None)
    assert bn3.axes == (0,)
    assert bn3.get_params() == [bn3.mean, bn3.inv_std]
    with pytest.raises(ValueError, match="specified input sizes"):
        BatchNormLayer(InputLayer((None, None, 5)))


def test_forward_modes_against_numpy(bn_case):
    l_in, bn, p, xs = bn_case
    x = xs[0]
    outs = [get_output(bn, batch_norm_update_averages=False),
            get_output(bn, deterministic=True),
            get_output(bn, deterministic=True,
                       batch_norm_use_averages=False)]
    f = pytensor.function([l_in.input_var], outs, mode=MODE)
    train, det, det_batch = f(x)
    mean, inv_std = np_stats(x)
    expect_batch = np_bn(x, mean, inv_std, p["beta"], p["gamma"])
    np.testing.assert_allclose(train, expect_batch, **TOL)
    np.testing.assert_allclose(det_batch, expect_batch, **TOL)
    np.testing.assert_allclose(
        det, np_bn(x, p["mean"], p["inv_std"], p["beta"], p["gamma"]), **TOL)
    # training output is normalised per channel
    norm = (train - p["beta"][None, :, None]) / p["gamma"][None, :, None]
    np.testing.assert_allclose(norm.mean(axis=(0, 2)), 0, atol=1e-5)
    # none of these graphs updated the running averages
    np.testing.assert_array_equal(bn.mean.get_value(), p["mean"])
    np.testing.assert_array_equal(bn.inv_std.get_value(), p["inv_std"])


def test_running_averages_with_adam_updates(bn_case):
    """The original training pattern: pytensor.function(..., updates=adam)
    must also apply the running-average updates of the BN layer."""
    l_in, bn, p, xs = bn_case
    out = get_output(bn)
    loss = (out ** 2).mean()
    params = get_all_params(bn, trainable=True)
    assert params == [bn.beta, bn.gamma]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train_fn = pytensor.function([l_in.input_var], loss, mode=MODE,
                                     updates=updates.adam(loss, params))
    mean, inv_std = p["mean"].astype(np.float64), p["inv_std"]
    for x in xs:
        train_fn(x)
        bmean, binv = np_stats(x.astype(np.float64))
        mean = (1 - ALPHA) * mean + ALPHA * bmean
        inv_std = (1 - ALPHA) * inv_std + ALPHA * binv
    np.testing.assert_allclose(bn.mean.get_value(), mean, **TOL)
    np.testing.assert_allclose(bn.inv_std.get_value(), inv_std, **TOL)
    # adam did move the trainable parameters
    assert not np.allclose(bn.beta.get_value(), p["beta"])
    # a function from a deterministic graph uses but never updates them
    det_fn = pytensor.function([l_in.input_var],
                               get_output(bn, deterministic=True), mode=MODE)
    before = bn.mean.get_value(), bn.inv_std.get_value()
    out_det = det_fn(xs[0])
    det_fn(xs[1])
    np.testing.assert_array_equal(bn.mean.get_value(), before[0])
    np.testing.assert_array_equal(bn.inv_std.get_value(), before[1])
    np.testing.assert_allclose(
        out_det, np_bn(xs[0], before[0], before[1], bn.beta.get_value(),
                       bn.gamma.get_value()), **TOL)


def test_update_averages_flag_in_deterministic_graph(bn_case):
    l_in, bn, p, xs = bn_case
    f = pytensor.function(
        [l_in.input_var],
        get_output(bn, deterministic=True, batch_norm_update_averages=True),
        mode=MODE)
    out = f(xs[0])
    # used the stored averages, then updated them
    np.testing.assert_allclose(
        out, np_bn(xs[0], p["mean"], p["inv_std"], p["beta"], p["gamma"]),
        **TOL)
    bmean, binv = np_stats(xs[0])
    np.testing.assert_allclose(bn.mean.get_value(),
                               (1 - ALPHA) * p["mean"] + ALPHA * bmean, **TOL)
    np.testing.assert_allclose(bn.inv_std.get_value(),
                               (1 - ALPHA) * p["inv_std"] + ALPHA * binv,
                               **TOL)


def test_batch_norm_helper():
    rng = np.random.RandomState(1)
    l_in = InputLayer((5, 4))
    dense = DenseLayer(l_in, 3, name="fc", nonlinearity=nonlinearities.tanh)
    old_b = dense.b
    out = batch_norm(dense)
    assert isinstance(out, NonlinearityLayer)
    assert out.nonlinearity is nonlinearities.tanh
    bn = out.input_layer
    assert isinstance(bn, BatchNormLayer)
    assert bn.input_layer is dense
    assert (bn.name, out.name) == ("fc_bn", "fc_bn_nonlin")
    # the bias is removed (BN's beta replaces it), the nonlinearity moved
    assert dense.b is None and old_b not in dense.params
    assert get_all_params(out) == [dense.W, bn.beta, bn.gamma, bn.mean,
                                   bn.inv_std]
    x = floatX(rng.randn(5, 4))
    f = pytensor.function([l_in.input_var],
                          get_output(out, batch_norm_update_averages=False),
                          mode=MODE)
    h = x.dot(dense.W.get_value())
    mean, inv_std = h.mean(0), 1 / np.sqrt(h.var(0) + 1e-4)
    np.testing.assert_allclose(f(x), np.tanh((h - mean) * inv_std), **TOL)
    # keyword arguments reach the BatchNormLayer; explicit name wins
    out2 = batch_norm(DenseLayer(l_in, 3, b=None), alpha=0.5, name="x")
    assert out2.input_layer.alpha == 0.5
    assert out2.input_layer.name == "x" and out2.name == "x_nonlin"
    # a layer without a nonlinearity gets no NonlinearityLayer
    assert isinstance(batch_norm(InputLayer((5, 4))), BatchNormLayer)


def _leading_axes_case(use_fused_op, seed=3):
    """A (time, batch, features) BatchNormLayer over axes (0, 1), with the
    same parameters and running averages for both paths."""
    from indrnn.lasagne.layers import use_fused_batchnorm
    rng = np.random.RandomState(seed)
    l_in = InputLayer((6, 4, 3))
    p = dict(beta=floatX(rng.randn(3)), gamma=floatX(rng.uniform(.5, 2, 3)),
             mean=floatX(rng.randn(3)), inv_std=floatX(rng.uniform(.5, 2, 3)))
    with use_fused_batchnorm(use_fused_op):
        bn = BatchNormLayer(l_in, axes=(0, 1), epsilon=EPS, alpha=ALPHA,
                            **p)
    assert bn.use_fused_op is use_fused_op
    return l_in, bn


def test_fused_path_equals_symbolic_path():
    """Training output, gradients, Adam steps and running averages of the
    fused Op equal those of the symbolic graph (float32 round-off)."""
    from indrnn.ops import BatchNormTrain
    rng = np.random.RandomState(4)
    xs = [floatX(rng.randn(6, 4, 3) * 2 + 1) for _ in range(2)]
    w = floatX(rng.randn(6, 4, 3))
    results = []
    for fused in (False, True):
        l_in, bn = _leading_axes_case(fused)
        out = get_output(bn)
        loss = ((out * w) ** 2).mean()
        params = get_all_params(bn, trainable=True)
        grads = pytensor.grad(loss, [l_in.input_var] + params)
        fn = pytensor.function([l_in.input_var], [out] + grads, mode=MODE,
                               updates=updates.adam(loss, params))
        ops = [type(n.op) for n in fn.maker.fgraph.toposort()]
        assert (BatchNormTrain in ops) is fused
        outs = [fn(x) for x in xs]
        det = pytensor.function([l_in.input_var],
                                get_output(bn, deterministic=True),
                                mode=MODE)(xs[0])
        results.append((outs, [p.get_value() for p in bn.get_params()],
                        det))
    (outs_s, params_s, det_s), (outs_f, params_f, det_f) = results
    for a, b in zip(outs_s, outs_f):
        for u, v in zip(a, b):
            np.testing.assert_allclose(v, u, rtol=1e-5, atol=1e-6)
    for u, v in zip(params_s, params_f):
        np.testing.assert_allclose(v, u, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(det_f, det_s, rtol=1e-5, atol=1e-6)


def test_fused_path_only_where_exact():
    from indrnn.lasagne.layers import use_fused_batchnorm
    from indrnn.ops import BatchNormTrain

    def uses_fused(layer, **kwargs):
        out = get_output(layer, **kwargs)
        return any(isinstance(v.owner.op, BatchNormTrain)
                   for v in pytensor.graph.ancestors([out])
                   if v.owner is not None)

    l_in, bn = _leading_axes_case(True)
    assert uses_fused(bn)
    assert uses_fused(bn, batch_norm_update_averages=False)
    assert not uses_fused(bn, deterministic=True)
    assert uses_fused(bn, deterministic=True, batch_norm_use_averages=False)
    # statistics not over the leading axes: the symbolic graph
    assert not uses_fused(BatchNormLayer(InputLayer((6, 4, 3))))
    with use_fused_batchnorm(False):
        assert not uses_fused(BatchNormLayer(l_in, axes=(0, 1)))
    assert uses_fused(BatchNormLayer(l_in, axes=(0, 1), beta=None,
                                     gamma=None))


# ---- tags, LRN, standardization, instance and layer norm ------------------

def test_batch_norm_statistics_are_tagged():
    bn = BatchNormLayer(InputLayer(SHAPE))
    stats = bn.get_params(batch_norm_stat=True)
    assert stats == [bn.mean, bn.inv_std]
    assert bn.get_params(batch_norm_stat=False) == [bn.beta, bn.gamma]


def np_lrn(x, alpha, k, beta, n):
    out = np.empty_like(x)
    for c in range(x.shape[1]):
        lo, hi = max(0, c - n // 2), min(x.shape[1], c + n // 2 + 1)
        out[:, c] = x[:, c] / (k + alpha * (x[:, lo:hi] ** 2).sum(1)) ** beta
    return out


def np_standardize(x, axes, eps=1e-4):
    return ((x - x.mean(axis=axes, keepdims=True))
            / np.sqrt(x.var(axis=axes, keepdims=True) + eps))


@pytest.fixture(scope="module")
def normalized():
    from indrnn.lasagne.layers import (LocalResponseNormalization2DLayer,
                                       StandardizationLayer, instance_norm,
                                       layer_norm)
    rng = np.random.RandomState(3)
    l_img = InputLayer((2, 6, 3, 2))
    l_vec = InputLayer((4, 5))
    layers = dict(
        lrn=LocalResponseNormalization2DLayer(l_img, alpha=0.3, k=1.5,
                                              beta=0.6, n=3),
        lrn_default=LocalResponseNormalization2DLayer(l_img),
        spatial=StandardizationLayer(l_img),
        features=StandardizationLayer(l_img, axes="features"),
        auto_2d=StandardizationLayer(l_vec, epsilon=0.5),
        instance=instance_norm(DenseLayer(l_img, 4, num_leading_axes=-1,
                                          name="d")),
        layer=layer_norm(DenseLayer(l_vec, 3, name="e",
                                    nonlinearity=nonlinearities.tanh)),
    )
    keys = sorted(layers)
    f = pytensor.function([l_img.input_var, l_vec.input_var],
                          get_output([layers[k] for k in keys]), mode=MODE)
    x_img, x_vec = floatX(rng.randn(2, 6, 3, 2)), floatX(rng.randn(4, 5))
    return dict(layers=layers, outs=dict(zip(keys, f(x_img, x_vec))),
                x_img=x_img.astype("float64"), x_vec=x_vec.astype("float64"))


def test_local_response_normalization_against_numpy(normalized):
    from indrnn.lasagne.layers import LocalResponseNormalization2DLayer
    x = normalized["x_img"]
    np.testing.assert_allclose(normalized["outs"]["lrn"],
                               np_lrn(x, 0.3, 1.5, 0.6, 3), **TOL)
    np.testing.assert_allclose(normalized["outs"]["lrn_default"],
                               np_lrn(x, 1e-4, 2, 0.75, 5), **TOL)
    with pytest.raises(NotImplementedError, match="odd n"):
        LocalResponseNormalization2DLayer(InputLayer((2, 6, 3, 2)), n=4)


def test_standardization_layer_axes_and_values(normalized):
    layers, outs = normalized["layers"], normalized["outs"]
    assert layers["spatial"].axes == (2, 3)
    assert layers["features"].axes == (1, 2, 3)
    assert layers["auto_2d"].axes == (1,)
    np.testing.assert_allclose(outs["spatial"],
                               np_standardize(normalized["x_img"], (2, 3)),
                               **TOL)
    np.testing.assert_allclose(outs["features"],
                               np_standardize(normalized["x_img"],
                                              (1, 2, 3)), **TOL)
    np.testing.assert_allclose(outs["auto_2d"],
                               np_standardize(normalized["x_vec"], (1,),
                                              eps=0.5), **TOL)


def test_instance_and_layer_norm_structure_and_values(normalized):
    from indrnn.lasagne.layers import get_all_layers
    instance, layer = normalized["layers"]["instance"], \
        normalized["layers"]["layer"]
    assert [type(l).__name__ for l in get_all_layers(instance)][1:] == [
        "DenseLayer", "StandardizationLayer", "ScaleLayer", "BiasLayer",
        "NonlinearityLayer"]
    assert [l.name for l in get_all_layers(layer)][1:] == [
        "e", "e_ln", "e_ln_scale", "e_ln_bias", "e_ln_nonlin"]
    assert get_all_layers(instance)[2].name == "d_in"
    dense = get_all_layers(layer)[1]
    assert dense.b is None and dense.nonlinearity is nonlinearities.identity
    # gains start at 1 and biases at 0: the output is the standardised
    # linear part through the removed nonlinearity
    x, W = normalized["x_vec"], dense.W.get_value()
    np.testing.assert_allclose(normalized["outs"]["layer"],
                               np.tanh(np_standardize(x.dot(W), (1,))),
                               **TOL)
    d = get_all_layers(instance)[1]
    linear = normalized["x_img"].dot(d.W.get_value())
    np.testing.assert_allclose(normalized["outs"]["instance"],
                               np.maximum(np_standardize(linear, (2, 3)), 0),
                               **TOL)
    from indrnn.lasagne.layers import instance_norm
    bare = instance_norm(DenseLayer(InputLayer((2, 3, 4)), 4,
                                    num_leading_axes=-1),
                         learn_scale=False, learn_bias=False)
    assert [type(l).__name__ for l in get_all_layers(bare)][2:] == [
        "StandardizationLayer", "NonlinearityLayer"]
