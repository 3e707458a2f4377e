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

def test_create_param_from_array_keeps_dtype():
    # Lasagne wraps the array as it is: floatX is the initializers' job
    arr = np.arange(6.).reshape(2, 3)
    p = utils.create_param(arr, (2, 3), name="W")
    assert p.name == "W"
    assert p.dtype == "float64"
    np.testing.assert_array_equal(p.get_value(), arr)
    assert utils.create_param(arr.astype("float32"), (2, 3)).dtype \
        == "float32"
    ints = utils.create_param(np.arange(3, dtype="int32"), (3,))
    assert ints.dtype == "int32"
    with pytest.raises(ValueError, match="numpy array has shape"):
        utils.create_param(arr, (3, 2))


@pytest.mark.parametrize("number, dtype", [
    (0.25, "float64"), (3, "int64"), (np.float32(0.5), "float32"),
    (np.int16(2), "int16"), (True, "bool")])
def test_create_param_from_number_or_numpy_scalar(number, dtype):
    p = utils.create_param(number, (), name="alpha")
    assert p.ndim == 0 and p.dtype == dtype and p.name == "alpha"
    assert p.get_value() == number
    with pytest.raises(ValueError, match="has shape"):
        utils.create_param(number, (1,))


def test_create_param_from_callable():
    p = utils.create_param(init.Constant(2.), [2, 3], name="c")
    np.testing.assert_array_equal(p.get_value(), np.full((2, 3), 2.))
    assert p.dtype == pytensor.config.floatX     # what init returns
    seen = []

    def initializer(shape):
        seen.append(shape)
        return np.zeros(shape, dtype="float64")
    assert utils.create_param(initializer, (4,)).dtype == "float64"
    assert seen == [(4,)]
    with pytest.raises(ValueError, match="returned by the provided "
                                         "callable has shape"):
        utils.create_param(lambda shape: np.zeros((5,)), (4,), name="W")
    # a callable may return a number, or a shared variable
    assert utils.create_param(lambda shape: 1.5, ()).get_value() == 1.5
    shared = pytensor.shared(np.zeros((4,)))
    assert utils.create_param(lambda shape: shared, (4,)) is shared
    with pytest.raises(ValueError, match="has 1 dimensions, should be 2"):
        utils.create_param(lambda shape: shared, (4, 1))
    with pytest.raises(TypeError, match="callable is not a numpy array or"):
        utils.create_param(lambda shape: "nonsense", (4,))


def test_create_param_from_shared_and_expression():
    shared = pytensor.shared(np.ones((2, 3)))
    assert utils.create_param(shared, (2, 3), name="W") is shared
    assert shared.name == "W"                    # named when it had no name
    named = pytensor.shared(np.ones((2,)), name="keep")
    utils.create_param(named, (2,), name="other")
    assert named.name == "keep"
    # Only the number of dimensions of a variable is checked (Lasagne's
    # rule: a placeholder such as shared_empty() may be filled in later).
    placeholder = utils.shared_empty(2)
    assert utils.create_param(placeholder, (3, 4)) is placeholder
    expr = shared.T
    assert utils.create_param(expr, (3, 2)) is expr
    with pytest.raises(ValueError, match="has 2 dimensions, should be 1"):
        utils.create_param(expr, (6,))


@pytest.mark.parametrize("shape", [(0, 3), (2, -1), (None, 3), (2.5,)])
def test_create_param_bad_shapes(shape):
    with pytest.raises(ValueError):
        utils.create_param(np.zeros((2, 3)), shape)


@pytest.mark.parametrize("spec", ["not a spec", [1.0, 2.0], None,
                                  np.array(["a"])[0]])
def test_create_param_bad_spec(spec):
    with pytest.raises(TypeError, match="is not a numpy array, a PyTensor "
                                        "expression, or a callable"):
        utils.create_param(spec, (2,), name="W")


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
    # Lasagne's order: depth first, left to right, first expression first
    assert utils.collect_shared_vars([b * x, a + c, a * b]) == [b, a, c]
    assert utils.collect_shared_vars((c + a) * (b - c)) == [c, a, b]
    assert utils.collect_shared_vars(pt.concatenate([b, x, a, b])) == [b, a]
    assert utils.collect_shared_vars([c, a, b]) == [c, a, b]


def test_get_params_unwraps_expressions_in_lasagne_order():
    from indrnn.lasagne.layers import DenseLayer, InputLayer
    u = pytensor.shared(np.ones((3, 1)), name="u")
    v = pytensor.shared(np.ones((1, 2)), name="v")
    b = pytensor.shared(np.zeros(2), name="b")
    # a low-rank weight u v: its shared variables in place of the product
    layer = DenseLayer(InputLayer((None, 3)), 2, W=pt.dot(u, v), b=b)
    assert layer.get_params() == [u, v, b]
    assert layer.get_params(regularizable=True) == [u, v]
    assert layer.get_params(unwrap_shared=False)[1] is b


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


@pytest.mark.parametrize("value", [[[1.0, 2.0]], 3.0, (1.0, 2.0)])
def test_compute_norms_refuses_what_lasagne_refuses(value):
    with pytest.raises(RuntimeError, match="Unsupported type"):
        utils.compute_norms(value)


def test_as_tuple():
    assert utils.as_tuple(3, 2) == (3, 3)
    assert utils.as_tuple([1, 2, 3], 3) == (1, 2, 3)
    assert utils.as_tuple((np.int64(2), 5), 2, utils.int_types) == (2, 5)
    with pytest.raises(ValueError, match="length 2, got"):
        utils.as_tuple([1, 2, 3], 2)
    with pytest.raises(TypeError, match="iterable of int, got"):
        utils.as_tuple((1, 2.5), 2, int)


def test_int_types():
    for value in (3, np.int8(3), np.uint64(3), True):
        assert isinstance(value, utils.int_types)
    for value in (3.0, np.float32(3), "3"):
        assert not isinstance(value, utils.int_types)


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
