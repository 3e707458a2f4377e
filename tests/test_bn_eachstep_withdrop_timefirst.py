"""Tests for indrnn.bn_eachstep_withdrop_timefirst: per-step batch
normalisation whose statistics come from the clean input while the
normalised input has dropout applied (one mask per unit)."""
import numpy as np
import pytensor
import pytest

from indrnn.batchnorm_step_timefirst import BatchNorm_step_timefirst_Layer
from indrnn.bn_eachstep_withdrop_timefirst import (
    BatchNorm_step_withdrop_timefirst_Layer, BatchNormLayer)
from indrnn.lasagne.layers import DropoutLayer, InputLayer, get_output

MODE = "FAST_COMPILE"
T, B, C = 3, 4, 40
EPS, ALPHA, P = 1e-4, 0.1, 0.5
TOL = dict(rtol=1e-9, atol=1e-10)


def f64():
    return pytensor.config.change_flags(floatX="float64")


def np_step_stats(x):
    return x.mean(axis=1), 1. / np.sqrt(x.var(axis=1) + EPS)


def test_structure():
    bn = BatchNormLayer(InputLayer((T, B, C)), axes=(0, 1), droprate=0.3)
    assert BatchNorm_step_withdrop_timefirst_Layer is BatchNormLayer
    assert isinstance(bn, BatchNorm_step_timefirst_Layer)
    assert isinstance(bn.dropout, DropoutLayer)
    assert bn.dropout.p == 0.3
    assert bn.dropout.shared_axes == (0, 1)
    assert bn.mean.get_value().shape == (T, C)
    assert [p.name for p in bn.get_params()] == ["beta", "gamma", "mean",
                                                 "inv_std"]
    bn2 = BatchNormLayer(InputLayer((B, C)), droprate=0.3)
    assert bn2.dropout.shared_axes == (0,)
    assert bn2.mean.get_value().shape == (C,)


@pytest.fixture(scope="module")
def case():
    rng = np.random.RandomState(0)
    p = dict(beta=rng.randn(C), gamma=rng.uniform(.5, 2, C),
             mean=rng.randn(T, C), inv_std=rng.uniform(.5, 2, (T, C)))
    x = rng.randn(T, B, C) * 2 + 1
    with f64():
        l_in = InputLayer((T, B, C))
        bn = BatchNormLayer(l_in, axes=(0, 1), droprate=P, epsilon=EPS,
                            alpha=ALPHA, **p)
        f = pytensor.function(
            [l_in.input_var],
            [get_output(bn, batch_norm_update_averages=False),
             get_output(bn, deterministic=True)], mode=MODE)
    return f, bn, p, x


def test_deterministic_no_dropout_uses_averages(case):
    f, bn, p, x = case
    _, det = f(x)
    expected = ((x - p["mean"][:, None]) * (p["gamma"] * p["inv_std"][:, None])
                + p["beta"])
    np.testing.assert_allclose(det, expected, **TOL)


def test_training_statistics_from_clean_input_dropout_per_unit(case):
    f, bn, p, x = case
    train, _ = f(x)
    mean, inv_std = np_step_stats(x)       # before dropout
    scale = p["gamma"] * inv_std[:, None]
    kept = (x / (1 - P) - mean[:, None]) * scale + p["beta"]
    dropped = (0 - mean[:, None]) * scale + p["beta"]
    is_kept = np.isclose(train, kept, rtol=1e-9, atol=1e-10)
    is_dropped = np.isclose(train, dropped, rtol=1e-9, atol=1e-10)
    assert np.all(is_kept | is_dropped)
    unit_kept = is_kept[0, 0]
    # one decision per unit, shared over time and batch
    assert np.all(is_kept == unit_kept[None, None, :])
    assert 0 < unit_kept.mean() < 1
    # a new mask on the next call
    masks = [np.isclose(f(x)[0], kept)[0, 0] for _ in range(3)]
    assert any(not np.array_equal(m, unit_kept) for m in masks)
    # statistics were not updated by this graph
    np.testing.assert_array_equal(bn.mean.get_value(), p["mean"])


def test_sparsity_corrected_statistics():
    rng = np.random.RandomState(1)
    s = 0.6
    # per-step batch mean 0.3 and variance 4: the corrected variance
    # stays positive
    z = rng.randn(T, B, C)
    z = (z - z.mean(axis=1, keepdims=True)) / z.std(axis=1, keepdims=True)
    x = 2 * z + 0.3
    with f64():
        l_in = InputLayer((T, B, C))
        bn = BatchNormLayer(l_in, axes=(0, 1), droprate=0., sparsity=s,
                            alpha=ALPHA, epsilon=EPS)
        f = pytensor.function([l_in.input_var], get_output(bn), mode=MODE)
    out = f(x)
    # the original's formula: mean / s, var / s - (1 - s) * (mean / s)**2
    mean = x.mean(axis=1) / s
    var = x.var(axis=1) / s - (1 - s) * mean ** 2
    assert np.all(var > 0)
    inv_std = 1 / np.sqrt(var + EPS)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, (x - mean[:, None]) * inv_std[:, None],
                               **TOL)
    # the running averages follow the corrected statistics
    np.testing.assert_allclose(bn.mean.get_value(), ALPHA * mean, **TOL)
    np.testing.assert_allclose(bn.inv_std.get_value(),
                               (1 - ALPHA) + ALPHA * inv_std, **TOL)


def test_two_dimensional_input():
    rng = np.random.RandomState(2)
    x = rng.randn(B, C)
    with f64():
        l_in = InputLayer((B, C))
        bn = BatchNormLayer(l_in, droprate=P)
        f = pytensor.function([l_in.input_var],
                              get_output(bn, batch_norm_update_averages=False),
                              mode=MODE)
    out = f(x)
    inv_std = 1 / np.sqrt(x.var(0) + 1e-4)
    kept = (x / (1 - P) - x.mean(0)) * inv_std
    dropped = -x.mean(0) * inv_std
    is_kept = np.isclose(out, kept)
    assert np.all(is_kept | np.isclose(out, dropped))
    assert np.all(is_kept == is_kept[0])       # shared over the batch
    assert 0 < is_kept[0].mean() < 1
