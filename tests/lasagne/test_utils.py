"""Tests for indrnn.lasagne.utils.

The reference for behaviour is Lasagne master's ``lasagne/utils.py`` (the
Lasagne the legacy fixtures were produced with).
"""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.lasagne import init, utils

MODE = "FAST_COMPILE"


def test_floatx():
    a = utils.floatX([1, 2])
    assert a.dtype == pytensor.config.floatX
    assert utils.floatX(a) is a


def test_shared_empty():
    s = utils.shared_empty(3)
    assert s.dtype == pytensor.config.floatX
    assert s.ndim == 3
    assert utils.shared_empty(2, dtype="int32").dtype == "int32"
    # Lasagne: ``np.zeros(tuple([1] * dim))``
    assert s.get_value().shape == (1, 1, 1)
    np.testing.assert_array_equal(s.get_value(), np.zeros((1, 1, 1)))


def test_as_tensor_expression():
    v = pt.matrix()
    assert utils.as_tensor_expression(v) is v
    c = utils.as_tensor_expression(np.ones((2, 3)))
    assert c.ndim == 2
    np.testing.assert_array_equal(pytensor.function([], c, mode=MODE)(),
                                  np.ones((2, 3)))
    assert utils.as_theano_expression is utils.as_tensor_expression
    with pytest.raises(TypeError):
        utils.as_tensor_expression(object())


# ---- create_param ----

def test_create_param_from_array():
    arr = np.arange(6.).reshape(2, 3)
    p = utils.create_param(arr, (2, 3), name="W")
    assert p.name == "W"
    assert p.dtype == pytensor.config.floatX   # floats are cast to floatX
    np.testing.assert_array_equal(p.get_value(), arr)
    ints = utils.create_param(np.arange(3, dtype="int32"), (3,))
    assert ints.dtype == "int32"                 # integers are kept
    with pytest.raises(ValueError, match="shape"):
        utils.create_param(arr, (3, 2))


def test_create_param_from_callable():
    p = utils.create_param(init.Constant(2.), [2, 3], name="c")
    np.testing.assert_array_equal(p.get_value(), np.full((2, 3), 2.))
    seen = []

    def initializer(shape):
        seen.append(shape)
        return np.zeros(shape)
    utils.create_param(initializer, (4,))
    assert seen == [(4,)]
    with pytest.raises(ValueError, match="initializer returned"):
        utils.create_param(lambda shape: np.zeros((5,)), (4,))
    # a callable may return a shared variable, which is then checked
    shared = pytensor.shared(np.zeros((4,)))
    assert utils.create_param(lambda shape: shared, (4,)) is shared
    with pytest.raises(ValueError):
        utils.create_param(lambda shape: shared, (5,))


def test_create_param_from_shared_and_expression():
    shared = pytensor.shared(np.ones((2, 3)))
    assert utils.create_param(shared, (2, 3), name="W") is shared
    assert shared.name == "W"                    # named when it had no name
    named = pytensor.shared(np.ones((2,)), name="keep")
    utils.create_param(named, (2,), name="other")
    assert named.name == "keep"
    with pytest.raises(ValueError, match="shape"):
        utils.create_param(shared, (3, 2))
    expr = shared.T
    assert utils.create_param(expr, (3, 2)) is expr
    with pytest.raises(ValueError, match="dimensions"):
        utils.create_param(expr, (6,))


@pytest.mark.parametrize("shape", [(0, 3), (2, -1), (None, 3), (2.5,)])
def test_create_param_bad_shapes(shape):
    with pytest.raises(ValueError):
        utils.create_param(np.zeros((2, 3)), shape)


def test_create_param_bad_spec():
    # Lasagne master raises TypeError, older versions RuntimeError
    with pytest.raises((TypeError, RuntimeError)):
        utils.create_param("not a spec", (2,))


def test_create_param_unit_dims_broadcastable():
    """Lasagne fixes the broadcast pattern of created parameters: axes of
    size 1 are broadcastable, so that e.g. a (1, n) parameter broadcasts
    against a batch. PyTensor refuses to broadcast a size-1 axis at run
    time unless its type says so."""
    p = utils.create_param(np.ones((1, 3)), (1, 3))
    assert p.broadcastable == (True, False)
    q = utils.create_param(init.Constant(1.), (3, 1))
    assert q.broadcastable == (False, True)
    x = pt.matrix("x", dtype=p.dtype)
    f = pytensor.function([x], x + p, mode=MODE)
    np.testing.assert_array_equal(f(np.zeros((2, 3), dtype=p.dtype)),
                                  np.ones((2, 3)))


# ---- the rest ----

def test_collect_shared_vars_order_and_unique():
    a = pytensor.shared(np.ones(2), name="a")
    b = pytensor.shared(np.ones(2), name="b")
    c = pytensor.shared(np.ones(2), name="c")
    x = pt.vector()
    assert utils.collect_shared_vars(a) == [a]
    assert utils.collect_shared_vars(x * 2) == []
    got = utils.collect_shared_vars([b * x, a + c, a * b])
    # the first expression's variables come first; each listed once
    assert got[0] is b
    assert set(got[1:]) == {a, c} and len(got) == 3
    assert utils.collect_shared_vars([c, a, b]) == [c, a, b]


def test_one_hot():
    x = pt.ivector()
    f = pytensor.function([x], [utils.one_hot(x), utils.one_hot(x, 5)],
                          mode=MODE)
    idx = np.array([2, 0, 1, 2], dtype="int32")
    auto, five = f(idx)
    np.testing.assert_array_equal(auto, np.eye(3)[idx])
    np.testing.assert_array_equal(five, np.eye(5)[idx])


def test_one_hot_dtype_is_floatx():
    # Lasagne: ``T.eye(m)[T.cast(x, 'int32')]``, a floatX matrix, so that
    # products with float32 predictions stay float32
    assert utils.one_hot(pt.ivector()).dtype == pytensor.config.floatX


def test_unique():
    assert utils.unique([3, 1, 3, 2, 1]) == [3, 1, 2]
    assert utils.unique([]) == []


def test_compute_norms():
    rng = np.random.RandomState(0)
    m = rng.randn(3, 4)
    np.testing.assert_allclose(utils.compute_norms(m),
                               np.sqrt((m ** 2).sum(axis=0)))
    t = rng.randn(2, 3, 4, 5)
    np.testing.assert_allclose(utils.compute_norms(t),
                               np.sqrt((t ** 2).sum(axis=(1, 2, 3))))
    np.testing.assert_allclose(utils.compute_norms(m, norm_axes=[1]),
                               np.linalg.norm(m, axis=1))
    with pytest.raises(ValueError):
        utils.compute_norms(rng.randn(1, 1, 1, 1, 1, 1))


def test_compute_norms_of_vector_is_elementwise_abs():
    # Lasagne: a vector (a bias) gets norm_axes=(), i.e. abs per element
    v = np.array([3., -4., 0.5])
    np.testing.assert_allclose(utils.compute_norms(v), np.abs(v))


def test_compute_norms_symbolic():
    # Lasagne accepts a Theano expression as well as a numpy array
    m = np.random.RandomState(1).randn(3, 4)
    x = pt.matrix("x", dtype="float64")
    norms = utils.compute_norms(x)
    f = pytensor.function([x], norms, mode=MODE)
    np.testing.assert_allclose(f(m), np.sqrt((m ** 2).sum(axis=0)))


def test_inspect_kwargs():
    def f(a, b=1, *args, c=2, **kw):
        return a
    assert utils.inspect_kwargs(f) == ["b", "c"]


def _numpy_scan(xs, h0, w, backwards):
    order = range(len(xs))[::-1] if backwards else range(len(xs))
    out, h = [], h0
    for t in order:
        h = np.tanh(xs[t] + w * h)
        out.append(h)
    return np.stack(out)


@pytest.mark.parametrize("backwards", [False, True])
def test_unroll_scan_matches_numpy_and_scan(backwards):
    rng = np.random.RandomState(1)
    xs_val = rng.randn(4, 3)
    h0_val = rng.randn(3)
    w_val = rng.randn(3)
    xs = pt.matrix("xs", dtype="float64")
    h0 = pt.vector("h0", dtype="float64")
    w = pt.vector("w", dtype="float64")

    def step(x_t, h, w_):
        return pt.tanh(x_t + w_ * h)
    unrolled = utils.unroll_scan(step, [xs], [h0], [w], 4,
                                 go_backwards=backwards)
    assert isinstance(unrolled, list) and len(unrolled) == 1
    scanned = pytensor.scan(step, sequences=[xs], outputs_info=[h0],
                            non_sequences=[w], go_backwards=backwards,
                            return_updates=False)
    f = pytensor.function([xs, h0, w], [unrolled[0], scanned], mode=MODE)
    got, ref = f(xs_val, h0_val, w_val)
    expected = _numpy_scan(xs_val, h0_val, w_val, backwards)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(ref, expected, rtol=1e-12)


def test_unroll_scan_several_outputs_and_bad_steps():
    x = pt.vector("x", dtype="float64")
    s, p = utils.unroll_scan(lambda a, acc, prod: (acc + a, prod * a), x,
                             [pt.constant(0.), pt.constant(1.)], [], 3)
    s_val, p_val = pytensor.function([x], [s, p], mode=MODE)(
        np.array([1., 2., 3.]))
    np.testing.assert_array_equal(s_val, [1., 3., 6.])
    np.testing.assert_array_equal(p_val, [1., 2., 6.])
    with pytest.raises(ValueError):
        utils.unroll_scan(lambda a, acc: acc + a, [x], [pt.constant(0.)],
                          [], x.shape[0])
