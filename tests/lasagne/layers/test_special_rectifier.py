"""Tests for the learned and randomized rectifiers of
indrnn.lasagne.layers.special (ParametricRectifierLayer / prelu,
RandomizedRectifierLayer / rrelu) against numpy and Lasagne's
documentation examples."""
import numpy as np
import pytensor
import pytest

from indrnn.lasagne import nonlinearities, random
from indrnn.lasagne.layers import (DenseLayer, InputLayer,
                                   ParametricRectifierLayer,
                                   RandomizedRectifierLayer, get_output,
                                   prelu, rrelu)
from indrnn.lasagne.utils import floatX

MODE = "FAST_COMPILE"
X = floatX(np.random.RandomState(0).randn(4, 3, 5))


def test_prelu_shapes_tags_values_and_gradient():
    # Lasagne's documentation example
    assert ParametricRectifierLayer((20, 3, 28, 28), shared_axes=(0, 3)) \
        .alpha.get_value().shape == (3, 28)
    l_in = InputLayer((None, 3, 5))
    alpha = floatX(np.array([0.1, 0.5, 2.0]))
    per_channel = ParametricRectifierLayer(l_in, alpha=alpha)
    scalar = ParametricRectifierLayer(l_in, alpha=0.25, shared_axes="all")
    assert per_channel.alpha.get_value().shape == (3,)
    assert scalar.alpha.ndim == 0
    assert per_channel.get_params(trainable=True) == [per_channel.alpha]
    assert per_channel.get_params(regularizable=True) == []
    out = get_output([per_channel, scalar])
    grad = pytensor.grad(out[0].sum(), per_channel.alpha)
    f = pytensor.function([l_in.input_var], out + [grad], mode=MODE)
    a, s, g = f(X)
    slope = alpha[None, :, None]
    np.testing.assert_allclose(a, np.where(X > 0, X, slope * X), rtol=1e-6)
    np.testing.assert_allclose(s, np.where(X > 0, X, 0.25 * X), rtol=1e-6)
    np.testing.assert_allclose(g, np.minimum(X, 0).sum(axis=(0, 2)),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="needs input sizes"):
        ParametricRectifierLayer(InputLayer((None, None)))


def test_prelu_and_rrelu_take_over_the_nonlinearity():
    for wrap, cls in ((prelu, ParametricRectifierLayer),
                      (rrelu, RandomizedRectifierLayer)):
        dense = DenseLayer(InputLayer((32, 100)), num_units=200)
        layer = wrap(dense)
        assert isinstance(layer, cls) and layer.input_layer is dense
        assert dense.nonlinearity is nonlinearities.identity
    assert prelu(DenseLayer(InputLayer((32, 100)), 200)).alpha.get_value(
        ).shape == (200,)


@pytest.fixture
def restore_rng():
    old = random.get_rng()
    yield
    random.set_rng(old)


@pytest.fixture(scope="module")
def randomized():
    old = random.get_rng()
    random.set_rng(np.random.RandomState(42))
    l_in = InputLayer((4, 3, 5))
    shared = RandomizedRectifierLayer(l_in, lower=0.1, upper=0.4)
    each = RandomizedRectifierLayer(l_in, lower=0.1, upper=0.4,
                                    shared_axes=())
    f_train = pytensor.function([l_in.input_var],
                                get_output([shared, each]), mode=MODE)
    f_test = pytensor.function(
        [l_in.input_var], get_output(shared, deterministic=True), mode=MODE)
    random.set_rng(old)
    return dict(l_in=l_in, shared=shared, train=f_train, test=f_test)


def test_rrelu_deterministic_uses_the_mean_slope(randomized):
    np.testing.assert_allclose(randomized["test"](X),
                               np.where(X > 0, X, 0.25 * X), rtol=1e-6)


def test_rrelu_training_slopes(randomized):
    shared, each = randomized["train"](X)
    negative = X < 0
    # (Theano's formula, 0.5 (1 + a) x + 0.5 (1 - a) |x|, rounds in float32)
    np.testing.assert_allclose(shared[~negative], X[~negative], rtol=1e-6)
    for out in (shared, each):
        slope = out[negative] / X[negative]
        assert slope.min() >= 0.1 - 1e-6 and slope.max() <= 0.4 + 1e-6
    # 'auto' shares a slope over batch and time: one per channel
    slopes = np.where(negative, shared / np.where(negative, X, 1), np.nan)
    for c in range(3):
        values = slopes[:, c][~np.isnan(slopes[:, c])]
        np.testing.assert_allclose(values, values[0], rtol=1e-5)
    each_slopes = each[negative] / X[negative]
    assert np.std(each_slopes) > 0.01
    # fresh slopes on the next call
    assert not np.allclose(randomized["train"](X)[1], each)


def test_rrelu_is_reproducible_from_the_seed_and_checks_bounds(
        restore_rng):
    def draw():
        random.set_rng(np.random.RandomState(7))
        l_in = InputLayer((4, 3, 5))
        layer = RandomizedRectifierLayer(l_in, shared_axes=())
        return pytensor.function([l_in.input_var], get_output(layer),
                                 mode=MODE)(X)
    np.testing.assert_array_equal(draw(), draw())
    with pytest.raises(ValueError, match="Upper bound"):
        RandomizedRectifierLayer((None, 3), lower=0.9, upper=0.1)
    assert RandomizedRectifierLayer((2, 3, 4), shared_axes="all") \
        .shared_axes == (0, 1, 2)
