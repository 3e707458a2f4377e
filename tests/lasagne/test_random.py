"""Tests for indrnn.lasagne.random: the package-level generator."""
import numpy as np
import pytest

from indrnn.lasagne import random as lrandom


@pytest.fixture
def restore_rng():
    old = lrandom.get_rng()
    yield
    lrandom.set_rng(old)


def test_default_is_numpy_random_module(restore_rng):
    # Lasagne's default: the global numpy.random module itself, so that
    # np.random.seed() controls network initialisation.
    assert lrandom.get_rng() is np.random
    np.random.seed(123)
    a = lrandom.get_rng().uniform(size=5)
    np.random.seed(123)
    b = np.random.uniform(size=5)
    np.testing.assert_array_equal(a, b)


def test_set_rng_replaces_generator(restore_rng):
    rng = np.random.RandomState(7)
    lrandom.set_rng(rng)
    assert lrandom.get_rng() is rng
    drawn = lrandom.get_rng().normal(size=4)
    np.testing.assert_array_equal(drawn,
                                  np.random.RandomState(7).normal(size=4))


def test_initializers_use_the_package_generator(restore_rng):
    from indrnn.lasagne import init
    lrandom.set_rng(np.random.RandomState(3))
    a = init.Normal()((5, 4))
    lrandom.set_rng(np.random.RandomState(3))
    b = init.Normal()((5, 4))
    lrandom.set_rng(np.random.RandomState(4))
    c = init.Normal()((5, 4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
