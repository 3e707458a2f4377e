"""Tests for indrnn.lasagne.layers.noise: the counter-based uniform
generator, dropout and Gaussian noise."""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.lasagne import random as lrandom
from indrnn.lasagne.layers import (DropoutLayer, GaussianNoiseLayer,
                                   InputLayer, dropout, dropout_channels,
                                   get_output, spatial_dropout)
from indrnn.lasagne.layers.noise import uniform
from indrnn.lasagne.utils import floatX

MODE = "FAST_COMPILE"


@pytest.fixture
def restore_rng():
    old = lrandom.get_rng()
    yield
    lrandom.set_rng(old)


def _compile(layer, **kwargs):
    l_in = layer
    while not isinstance(l_in, InputLayer):
        l_in = l_in.input_layer
    return pytensor.function([l_in.input_var], get_output(layer, **kwargs),
                             mode=MODE)


# ---- uniform() ----

@pytest.fixture(scope="module")
def uniform_fn():
    counter = pt.lscalar("counter")
    n = 20000
    f = pytensor.function(
        [counter], [uniform((n,), 1234, counter, dtype="float64"),
                    uniform((n,), 99, counter, dtype="float64")],
        mode=MODE)
    return f


def test_uniform_statistics(uniform_fn):
    u, _ = uniform_fn(0)
    n = len(u)
    assert u.dtype == np.float64
    assert u.min() >= 0. and u.max() < 1.
    # mean and variance of U(0, 1), within ~5 standard errors
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1. / 12 / n)
    assert abs(u.var() - 1. / 12) < 5 * np.sqrt(1. / 180 / n)
    # no correlation between neighbours (index i and i+1, and i+2)
    for lag in (1, 2):
        r = np.corrcoef(u[:-lag], u[lag:])[0, 1]
        assert abs(r) < 5 / np.sqrt(n)
    # roughly flat histogram
    counts = np.histogram(u, bins=10, range=(0, 1))[0]
    assert np.all(np.abs(counts - n / 10) < 5 * np.sqrt(n / 10))


def test_uniform_counters_and_seeds(uniform_fn):
    a0, b0 = uniform_fn(0)
    a0_again, _ = uniform_fn(0)
    a1, b1 = uniform_fn(1)
    a7, _ = uniform_fn(7)
    np.testing.assert_array_equal(a0, a0_again)   # a pure function
    for other in (a1, a7, b0):
        assert np.mean(a0 == other) < 0.01
        # independent draws: uncorrelated
        assert abs(np.corrcoef(a0, other)[0, 1]) < 5 / np.sqrt(len(a0))
    assert np.mean(b0 == b1) < 0.01


def test_uniform_shape_and_dtype():
    u = uniform((3, 4), 5, pt.constant(2, dtype="int64"), dtype="float32")
    assert u.dtype == "float32"
    x = pt.matrix()
    sym = uniform((x.shape[0], x.shape[1]), 5, pt.constant(2))
    val, val_sym = pytensor.function([x], [u, sym], mode=MODE)(
        np.zeros((3, 4), dtype=x.dtype))
    assert val.shape == (3, 4) and val.dtype == np.float32
    assert val_sym.shape == (3, 4)
    # the same seed and counter give the same numbers, whatever the shape
    np.testing.assert_allclose(val, val_sym.astype(np.float32).reshape(3, 4))


# ---- DropoutLayer ----

def test_dropout_deterministic_and_p0_pass_through():
    l_in = InputLayer((None, 3))
    l = DropoutLayer(l_in, p=0.5)
    assert get_output(l, deterministic=True) is l_in.input_var
    assert get_output(DropoutLayer(l_in, p=0.)) is l_in.input_var
    assert l.output_shape == (None, 3)


def test_dropout_invalid_p():
    for p in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError):
            DropoutLayer((2, 3), p=p)


@pytest.mark.parametrize("rescale", [True, False])
def test_dropout_fraction_and_rescale(rescale):
    p = 0.3
    shape = (200, 50)
    l = DropoutLayer(InputLayer(shape), p=p, rescale=rescale)
    x = floatX(np.random.RandomState(0).uniform(1, 2, size=shape))
    out = _compile(l)(x)
    dropped = out == 0
    n = dropped.size
    assert abs(dropped.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
    scale = 1. / (1 - p) if rescale else 1.
    np.testing.assert_allclose(out[~dropped], x[~dropped] * scale,
                               rtol=1e-6)


def test_dropout_p_as_scalar_tensor():
    """Lasagne documents ``p : float or scalar tensor`` (e.g. a shared
    variable to schedule the dropout rate during training)."""
    p = pytensor.shared(floatX(0.25), name="p")
    l = DropoutLayer(InputLayer((100, 50)), p=p)
    f = _compile(l)
    x = floatX(np.ones((100, 50)))
    out = f(x)
    assert abs((out == 0).mean() - 0.25) < 0.03
    np.testing.assert_allclose(out[out != 0], 1 / 0.75, rtol=1e-6)
    p.set_value(floatX(0.5))
    out = f(x)
    assert abs((out == 0).mean() - 0.5) < 0.03
    np.testing.assert_allclose(out[out != 0], 2., rtol=1e-6)


def test_dropout_unknown_shape():
    l = DropoutLayer(InputLayer((None, None)), p=0.5)
    x = floatX(np.ones((100, 40)))
    out = _compile(l)(x)
    assert out.shape == x.shape
    assert abs((out == 0).mean() - 0.5) < 0.05
    assert set(np.unique(out)) <= {0., 2.}


@pytest.mark.parametrize("shared_axes, input_shape", [
    ((0,), (8, 5, 30)), ((0, 1), (8, 5, 30)), ((-1,), (8, 5, 30)),
    ((0,), (None, 5, 30)),
])
def test_dropout_shared_axes(shared_axes, input_shape):
    l = DropoutLayer(InputLayer(input_shape), p=0.5, shared_axes=shared_axes)
    x = floatX(np.ones((8, 5, 30)))
    mask = _compile(l)(x) != 0
    axes = tuple(a % 3 for a in shared_axes)
    first = mask[tuple(slice(0, 1) if a in axes else slice(None)
                       for a in range(3))]
    # the mask is the same all along the shared axes...
    np.testing.assert_array_equal(mask, np.broadcast_to(first, mask.shape))
    # ...but not constant along the others
    assert 0 < first.mean() < 1


def test_dropout_fresh_mask_on_every_call():
    l = DropoutLayer(InputLayer((20, 30)), p=0.5)
    f = _compile(l)
    x = floatX(np.ones((20, 30)))
    masks = [f(x) != 0 for _ in range(3)]
    for i in range(3):
        for j in range(i + 1, 3):
            # independent masks agree on about half of the entries
            agree = np.mean(masks[i] == masks[j])
            assert 0.35 < agree < 0.65


def _two_dropout_net(seed_rng):
    lrandom.set_rng(np.random.RandomState(seed_rng))
    l_in = InputLayer((10, 40))
    l1 = DropoutLayer(l_in, p=0.5)
    l2 = DropoutLayer(l1, p=0.5)
    return _compile(l2)


def test_dropout_reproducible_with_package_rng(restore_rng):
    x = floatX(np.ones((10, 40)))
    f_a = _two_dropout_net(42)
    f_b = _two_dropout_net(42)
    f_c = _two_dropout_net(43)
    a = [f_a(x) for _ in range(2)]
    b = [f_b(x) for _ in range(2)]
    c = f_c(x)
    # same seed: the same sequence of masks, call after call
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])
    assert not np.array_equal(a[0], c)


def test_dropout_layers_in_one_network_differ(restore_rng):
    lrandom.set_rng(np.random.RandomState(0))
    l_in = InputLayer((10, 40))
    l1 = DropoutLayer(l_in, p=0.5)
    l2 = DropoutLayer(l_in, p=0.5)
    assert l1.seed != l2.seed
    f = pytensor.function([l_in.input_var], get_output([l1, l2]), mode=MODE)
    m1, m2 = f(floatX(np.ones((10, 40))))
    assert 0.35 < np.mean((m1 != 0) == (m2 != 0)) < 0.65
    # an explicit seed is used as is
    assert DropoutLayer(l_in, seed=5).seed == 5


@pytest.mark.parametrize("cls", [DropoutLayer, GaussianNoiseLayer])
def test_construction_draws_one_seed_like_lasagne(restore_rng, cls):
    """Lasagne seeds each noise layer's stream with one
    ``get_rng().randint(1, 2147462579)`` at construction; the same draw
    keeps later weight initialisations identical to the original's."""
    lrandom.set_rng(np.random.RandomState(11))
    layer = cls(InputLayer((2, 3)))
    after = lrandom.get_rng().uniform()
    ref = np.random.RandomState(11)
    assert layer.seed == ref.randint(1, 2147462579)
    assert after == ref.uniform()


def test_dropout_channels_and_aliases():
    l = dropout_channels(InputLayer((2, 3, 4, 5)), p=0.2)
    assert isinstance(l, DropoutLayer)
    assert l.shared_axes == (2, 3)
    assert l.p == 0.2
    assert dropout_channels((2, 3, 4)).shared_axes == (2,)
    assert spatial_dropout is dropout_channels
    assert dropout is DropoutLayer


# ---- GaussianNoiseLayer ----

def test_gaussian_noise():
    sigma = 0.5
    l_in = InputLayer((100, 100))
    l = GaussianNoiseLayer(l_in, sigma=sigma)
    assert get_output(l, deterministic=True) is l_in.input_var
    assert get_output(GaussianNoiseLayer(l_in, sigma=0.)) is l_in.input_var
    f = _compile(l)
    x = floatX(np.full((100, 100), 3.))
    n1 = f(x) - x
    n2 = f(x) - x
    n = n1.size
    assert abs(n1.mean()) < 5 * sigma / np.sqrt(n)
    assert abs(n1.std() - sigma) < 5 * sigma / np.sqrt(2 * n)
    # roughly Gaussian: about 68% within one sigma
    assert abs(np.mean(np.abs(n1) < sigma) - 0.6827) < 0.03
    # fresh noise on every call
    assert abs(np.corrcoef(n1.ravel(), n2.ravel())[0, 1]) < 5 / np.sqrt(n)


def test_dropout_locations_drops_all_channels_of_a_position(restore_rng):
    from indrnn.lasagne.layers import dropout_locations
    lrandom.set_rng(np.random.RandomState(3))
    l_in = InputLayer((4, 3, 5, 6))
    layer = dropout_locations(l_in, p=0.5)
    assert isinstance(layer, DropoutLayer) and layer.shared_axes == (1,)
    assert layer.p == 0.5
    f = pytensor.function([l_in.input_var], get_output(layer), mode=MODE)
    kept = f(floatX(np.ones((4, 3, 5, 6)))) != 0
    # the same mask in every channel, and some positions dropped
    assert (kept == kept[:, :1]).all()
    assert 0.3 < kept.mean() < 0.7
