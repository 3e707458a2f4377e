"""Tests for indrnn.lasagne.init against numpy draws of the documented
distributions (same generator, same seed) and their statistics."""
import numpy as np
import pytensor
import pytest

from indrnn.lasagne import init
from indrnn.lasagne import random as lrandom

FLOATX = pytensor.config.floatX
SEED = 1234


@pytest.fixture
def seeded():
    """Seed the package generator; give a twin generator for references."""
    old = lrandom.get_rng()
    lrandom.set_rng(np.random.RandomState(SEED))
    yield np.random.RandomState(SEED)
    lrandom.set_rng(old)


def test_initializer_base():
    with pytest.raises(NotImplementedError):
        init.Initializer()((2, 2))

    class Fives(init.Initializer):
        def sample(self, shape):
            return np.full(shape, 5.0)

    # __call__ delegates to sample
    np.testing.assert_array_equal(Fives()((2, 3)), np.full((2, 3), 5.0))


def test_constant():
    w = init.Constant(2.5)((3, 4))
    assert w.shape == (3, 4) and w.dtype == FLOATX
    assert np.all(w == 2.5)
    assert np.all(init.Constant()((2,)) == 0.0)


def test_normal_matches_numpy_draw(seeded):
    w = init.Normal(std=0.3, mean=1.5)((40, 50))
    ref = seeded.normal(1.5, 0.3, size=(40, 50)).astype(FLOATX)
    assert w.dtype == FLOATX
    np.testing.assert_array_equal(w, ref)
    assert abs(w.mean() - 1.5) < 0.02
    assert abs(w.std() - 0.3) < 0.02


def test_normal_defaults(seeded):
    w = init.Normal()((200, 200))
    assert abs(w.mean()) < 1e-3
    assert abs(w.std() - 0.01) < 5e-4


def test_uniform_range_forms(seeded):
    # scalar range -> (-r, r)
    u = init.Uniform(0.2)
    assert u.range == (-0.2, 0.2)
    w = u((30, 30))
    np.testing.assert_array_equal(
        w, seeded.uniform(low=-0.2, high=0.2, size=(30, 30)).astype(FLOATX))
    # default range 0.01
    assert init.Uniform().range == (-0.01, 0.01)
    # tuple range
    u = init.Uniform(range=(1.0, 3.0))
    assert u.range == (1.0, 3.0)
    w = u((100, 100))
    assert w.min() >= 1.0 and w.max() <= 3.0
    assert abs(w.mean() - 2.0) < 0.02
    # std / mean form: U(mean - sqrt(3) std, mean + sqrt(3) std) has that std
    u = init.Uniform(std=0.5, mean=2.0, range=123.0)
    np.testing.assert_allclose(u.range, (2.0 - np.sqrt(3) * 0.5,
                                         2.0 + np.sqrt(3) * 0.5))
    w = u((200, 200))
    assert abs(w.std() - 0.5) < 0.01
    assert abs(w.mean() - 2.0) < 0.01


@pytest.mark.parametrize("shape, c01b, fan_in, fan_out, receptive", [
    ((20, 30), False, 20, 30, 1),
    ((8, 4, 3, 5), False, 8, 4, 15),
    ((8, 3, 5, 4), True, 8, 4, 15),
])
@pytest.mark.parametrize("gain", [1.0, 'relu', 0.5])
def test_glorot_normal_std(seeded, shape, c01b, fan_in, fan_out, receptive,
                           gain):
    g = np.sqrt(2) if gain == 'relu' else gain
    std = g * np.sqrt(2.0 / ((fan_in + fan_out) * receptive))
    w = init.GlorotNormal(gain=gain, c01b=c01b)(shape)
    ref = seeded.normal(0.0, std, size=shape).astype(FLOATX)
    np.testing.assert_array_equal(w, ref)


def test_glorot_uniform_bounds(seeded):
    shape = (60, 40)
    bound = np.sqrt(6.0 / (60 + 40))  # sqrt(3) * glorot std
    w = init.GlorotUniform()(shape)
    ref = seeded.uniform(low=-bound, high=bound, size=shape).astype(FLOATX)
    np.testing.assert_allclose(w, ref, rtol=1e-12)
    assert np.abs(w).max() <= bound
    # relu gain scales the bound by sqrt(2)
    w = init.GlorotUniform('relu')((200, 200))
    assert np.abs(w).max() <= np.sqrt(2) * np.sqrt(6.0 / 400)
    assert np.abs(w).max() > 0.95 * np.sqrt(2) * np.sqrt(6.0 / 400)


def test_glorot_shape_errors():
    with pytest.raises(RuntimeError):
        init.GlorotUniform()((5,))
    with pytest.raises(RuntimeError):
        init.GlorotUniform(c01b=True)((5, 5, 5))


@pytest.mark.parametrize("shape, c01b, fan_in", [
    ((20, 30), False, 20),
    ((8, 4, 3, 5), False, 60),
    ((8, 3, 5, 4), True, 120),
])
@pytest.mark.parametrize("gain", [1.0, 'relu'])
def test_he_normal_std(seeded, shape, c01b, fan_in, gain):
    g = np.sqrt(2) if gain == 'relu' else gain
    std = g * np.sqrt(1.0 / fan_in)
    w = init.HeNormal(gain=gain, c01b=c01b)(shape)
    np.testing.assert_array_equal(
        w, seeded.normal(0.0, std, size=shape).astype(FLOATX))


def test_he_uniform_bounds(seeded):
    w = init.HeUniform()((50, 20))
    bound = np.sqrt(3.0 / 50)
    np.testing.assert_allclose(
        w, seeded.uniform(-bound, bound, size=(50, 20)).astype(FLOATX),
        rtol=1e-12)


def test_he_shape_errors():
    with pytest.raises(RuntimeError):
        init.HeNormal()((5,))
    with pytest.raises(RuntimeError):
        init.HeNormal(c01b=True)((5, 5))


def test_sparse(seeded):
    w = init.Sparse(sparsity=0.2, std=2.0)((50, 300))
    assert w.dtype == FLOATX
    # int(0.2 * 50) = 10 non-zeros in each column
    assert np.all((w != 0).sum(axis=0) == 10)
    nz = w[w != 0]
    assert abs(nz.std() - 2.0) < 0.1
    assert abs(nz.mean()) < 0.1
    # default sparsity 0.1 and std 0.01
    w = init.Sparse()((100, 50))
    assert np.all((w != 0).sum(axis=0) == 10)
    assert np.abs(w).max() < 0.1
    with pytest.raises(RuntimeError):
        init.Sparse()((3, 3, 3))


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (3, 2, 4)])
def test_orthogonal(seeded, shape):
    w = init.Orthogonal()(shape).astype(np.float64)
    assert w.shape == shape
    flat = w.reshape(shape[0], -1)
    if flat.shape[0] <= flat.shape[1]:
        gram = flat.dot(flat.T)  # orthonormal rows
    else:
        gram = flat.T.dot(flat)  # orthonormal columns
    np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-5)


def test_orthogonal_gain(seeded):
    w = init.Orthogonal(gain='relu')((5, 5)).astype(np.float64)
    np.testing.assert_allclose(w.dot(w.T), 2.0 * np.eye(5), atol=1e-5)
    w = init.Orthogonal(gain=3.0)((5, 5)).astype(np.float64)
    np.testing.assert_allclose(w.dot(w.T), 9.0 * np.eye(5), atol=1e-4)
    with pytest.raises(RuntimeError):
        init.Orthogonal()((5,))
