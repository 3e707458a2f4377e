"""Tests for indrnn.batchnorm_step_timefirst: batch normalisation with
statistics per time step (time-first input), against numpy."""
import numpy as np
import pytensor
import pytest

from indrnn.batchnorm_step_timefirst import BatchNorm_step_timefirst_Layer
from indrnn.lasagne import updates
from indrnn.lasagne.layers import InputLayer, get_all_params, get_output

MODE = "FAST_COMPILE"
T, B, C = 4, 5, 3
EPS, ALPHA = 1e-4, 0.2
TOL = dict(rtol=1e-10, atol=1e-12)


def f64():
    return pytensor.config.change_flags(floatX="float64")


def np_step_stats(x):
    """Per-step statistics over the batch axis: shapes (T, C)."""
    return x.mean(axis=1), 1. / np.sqrt(x.var(axis=1) + EPS)


def np_apply(x, mean, inv_std, beta, gamma):
    return (x - mean[:, None, :]) * (gamma * inv_std[:, None, :]) + beta


def test_shapes_axes_and_params():
    bn = BatchNorm_step_timefirst_Layer(InputLayer((T, B, C)), axes=(0, 1),
                                        name="bn")
    assert bn.axes == (0, 1)
    assert bn.mean_axes == (1,)
    assert bn.mean.get_value().shape == (T, C)
    assert bn.inv_std.get_value().shape == (T, C)
    assert bn.beta.get_value().shape == (C,)
    assert bn.gamma.get_value().shape == (C,)
    assert [p.name for p in bn.get_params()] == [
        "bn.beta", "bn.gamma", "bn.mean", "bn.inv_std"]
    assert bn.get_params(trainable=True) == [bn.beta, bn.gamma]
    assert bn.output_shape == (T, B, C)
    # one axis: an ordinary batch normalisation
    plain = BatchNorm_step_timefirst_Layer(InputLayer((B, C)))
    assert plain.axes == plain.mean_axes == (0,)
    assert plain.mean.get_value().shape == (C,)
    # 'auto' on 3-D input, as the original: axes (0, 2), statistics over 2
    auto = BatchNorm_step_timefirst_Layer(InputLayer((T, B, C)))
    assert auto.axes == (0, 2) and auto.mean_axes == (2,)
    assert auto.mean.get_value().shape == (T, B)
    assert auto.beta.get_value().shape == (B,)
    # the time axis must be known: there is one statistic per step
    with pytest.raises(ValueError):
        BatchNorm_step_timefirst_Layer(InputLayer((None, B, C)), axes=(0, 1))


@pytest.fixture
def case():
    rng = np.random.RandomState(0)
    p = dict(beta=rng.randn(C), gamma=rng.uniform(.5, 2, C),
             mean=rng.randn(T, C), inv_std=rng.uniform(.5, 2, (T, C)))
    # each step has its own scale and offset, so per-step statistics differ
    scale = rng.uniform(0.5, 3, (T, 1, C))
    xs = [rng.randn(T, B, C) * scale + np.arange(T)[:, None, None]
          for _ in range(2)]
    with f64():
        l_in = InputLayer((T, B, C))
        bn = BatchNorm_step_timefirst_Layer(l_in, axes=(0, 1), epsilon=EPS,
                                            alpha=ALPHA, **p)
    return l_in, bn, p, xs


def test_forward_against_numpy(case):
    l_in, bn, p, xs = case
    with f64():
        f = pytensor.function(
            [l_in.input_var],
            [get_output(bn, batch_norm_update_averages=False),
             get_output(bn, deterministic=True)], mode=MODE)
    x = xs[0]
    train, det = f(x)
    mean, inv_std = np_step_stats(x)
    np.testing.assert_allclose(
        train, np_apply(x, mean, inv_std, p["beta"], p["gamma"]), **TOL)
    np.testing.assert_allclose(
        det, np_apply(x, p["mean"], p["inv_std"], p["beta"], p["gamma"]),
        **TOL)
    # statistics over the batch only: every step is normalised on its own
    norm = (train - p["beta"]) / p["gamma"]
    np.testing.assert_allclose(norm.mean(axis=1), 0, atol=1e-10)
    # and they differ from statistics pooled over time
    pooled = (x - x.mean(axis=(0, 1))) / np.sqrt(x.var(axis=(0, 1)) + EPS)
    assert not np.allclose(norm, pooled, atol=1e-3)


def test_running_averages_per_step(case):
    l_in, bn, p, xs = case
    with f64():
        out = get_output(bn)
        loss = (out ** 2).mean()
        train_fn = pytensor.function(
            [l_in.input_var], loss, mode=MODE,
            updates=updates.adam(loss, get_all_params(bn, trainable=True)))
    mean, inv_std = p["mean"], p["inv_std"]
    for x in xs:
        train_fn(x)
        bmean, binv = np_step_stats(x)
        mean = (1 - ALPHA) * mean + ALPHA * bmean
        inv_std = (1 - ALPHA) * inv_std + ALPHA * binv
    np.testing.assert_allclose(bn.mean.get_value(), mean, **TOL)
    np.testing.assert_allclose(bn.inv_std.get_value(), inv_std, **TOL)
