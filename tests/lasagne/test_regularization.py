"""Tests for indrnn.lasagne.regularization against numpy."""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.lasagne import regularization as reg

A = np.array([[1.0, -2.0], [0.5, 3.0]])
B = np.array([-1.5, 0.25, 4.0])


def test_penalties_and_apply_penalty():
    a = pytensor.shared(A)
    b = pytensor.shared(B)
    f = pytensor.function(
        [], [reg.l1(a), reg.l2(a),
             reg.apply_penalty(a, reg.l2),
             reg.apply_penalty([a, b], reg.l2),
             reg.apply_penalty((a, b), reg.l1)],
        mode="FAST_COMPILE")
    l1a, l2a, pen_single, pen_list, pen_tuple = f()
    np.testing.assert_allclose(l1a, np.abs(A).sum())
    np.testing.assert_allclose(l2a, (A ** 2).sum())
    np.testing.assert_allclose(pen_single, (A ** 2).sum())
    np.testing.assert_allclose(pen_list, (A ** 2).sum() + (B ** 2).sum())
    np.testing.assert_allclose(pen_tuple, np.abs(A).sum() + np.abs(B).sum())


def test_apply_penalty_passes_kwargs():
    def scaled(x, factor=1.0):
        return factor * pt.sum(x)
    a = pt.as_tensor(A)
    assert float(reg.apply_penalty([a], scaled, factor=3.0).eval()) == \
        pytest.approx(3.0 * A.sum())


def test_apply_penalty_on_vector_of_known_length():
    # A single vector must be penalised as a whole, not element by element.
    v = pt.as_tensor(B)
    sq_sum = reg.apply_penalty(v, lambda x: pt.sum(x) ** 2)
    np.testing.assert_allclose(sq_sum.eval(), B.sum() ** 2)


@pytest.fixture
def network():
    from indrnn.lasagne import layers
    rng = np.random.RandomState(0)
    l_in = layers.InputLayer((None, 3))
    l1 = layers.DenseLayer(l_in, 4, W=rng.randn(3, 4), b=rng.randn(4))
    l2 = layers.DenseLayer(l1, 2, W=rng.randn(4, 2), b=rng.randn(2))
    return l1, l2


def _val(layer, name):
    return getattr(layer, name).get_value()


def test_regularize_layer_params(network):
    l1, l2 = network
    got = reg.regularize_layer_params(l1, reg.l2).eval()
    # only the regularizable W, not the bias
    np.testing.assert_allclose(got, (_val(l1, "W") ** 2).sum())
    got = reg.regularize_layer_params([l1, l2], reg.l1).eval()
    np.testing.assert_allclose(
        got, np.abs(_val(l1, "W")).sum() + np.abs(_val(l2, "W")).sum())
    got = reg.regularize_layer_params(l2, reg.l2, tags={}).eval()
    np.testing.assert_allclose(
        got, (_val(l2, "W") ** 2).sum() + (_val(l2, "b") ** 2).sum())


def test_regularize_layer_params_weighted(network):
    l1, l2 = network
    got = reg.regularize_layer_params_weighted({l1: 0.1, l2: 2.0},
                                               reg.l2).eval()
    ref = 0.1 * (_val(l1, "W") ** 2).sum() + 2.0 * (_val(l2, "W") ** 2).sum()
    np.testing.assert_allclose(got, ref)


def test_regularize_network_params(network):
    l1, l2 = network
    got = reg.regularize_network_params(l2, reg.l2).eval()
    ref = (_val(l1, "W") ** 2).sum() + (_val(l2, "W") ** 2).sum()
    np.testing.assert_allclose(got, ref)
    got = reg.regularize_network_params(l2, reg.l1,
                                        tags={'trainable': True}).eval()
    ref = sum(np.abs(_val(l, n)).sum() for l in (l1, l2) for n in "Wb")
    np.testing.assert_allclose(got, ref)
