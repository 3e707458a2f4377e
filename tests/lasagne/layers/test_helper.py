"""Tests for indrnn.lasagne.layers.helper: walking networks, collecting
parameters, building outputs and shapes, getting and setting values."""
import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.lasagne import init
from indrnn.lasagne.layers import (BatchNormLayer, ConcatLayer, DenseLayer,
                                   DropoutLayer, EmbeddingLayer,
                                   ElemwiseSumLayer, InputLayer,
                                   RecurrentLayer, count_params, get_all_layers,
                                   get_all_param_values, get_all_params,
                                   get_output, get_output_shape,
                                   set_all_param_values)
from indrnn.lasagne.utils import floatX

MODE = "FAST_COMPILE"


@pytest.fixture
def diamond():
    """in -> a -> m and in -> b -> c -> m, with m = Concat([c, a]).

    Lasagne's order is a depth-first post-order that visits incomings in
    their given order: m's first incoming c pulls in b and in first, so
    a (m's second incoming) comes after c.
    """
    l_in = InputLayer((None, 2), name="in")
    l_a = DenseLayer(l_in, 3, name="a")
    l_b = DenseLayer(l_in, 3, name="b")
    l_c = DenseLayer(l_b, 3, name="c")
    l_m = ConcatLayer([l_c, l_a], name="m")
    return dict(l_in=l_in, a=l_a, b=l_b, c=l_c, m=l_m)


def _names(layers):
    return [l.name for l in layers]


def test_get_all_layers_single_and_chain():
    l_in = InputLayer((None, 3))
    l1 = DenseLayer(l_in, 2)
    l2 = DenseLayer(l1, 2)
    assert get_all_layers(l_in) == [l_in]
    assert get_all_layers(l2) == [l_in, l1, l2]


def test_get_all_layers_diamond_order(diamond):
    assert _names(get_all_layers(diamond["m"])) == ["in", "b", "c", "a", "m"]
    # swapping the merge order changes the walk accordingly
    m2 = ConcatLayer([diamond["a"], diamond["c"]], name="m2")
    assert _names(get_all_layers(m2)) == ["in", "a", "b", "c", "m2"]


def test_get_all_layers_list_of_outputs_each_once(diamond):
    got = get_all_layers([diamond["a"], diamond["m"]])
    assert _names(got) == ["in", "a", "b", "c", "m"]
    got = get_all_layers([diamond["m"], diamond["a"]])
    assert _names(got) == ["in", "b", "c", "a", "m"]


def test_get_all_layers_treat_as_input(diamond):
    got = get_all_layers(diamond["m"], treat_as_input=[diamond["b"]])
    # b is listed, but its incoming is only reached through a
    assert _names(got) == ["b", "c", "in", "a", "m"]
    got = get_all_layers(diamond["m"], treat_as_input=[diamond["c"],
                                                       diamond["a"]])
    assert _names(got) == ["c", "a", "m"]


def test_get_all_params_order_follows_layers(diamond):
    params = get_all_params(diamond["m"])
    expected = []
    for name in ["b", "c", "a"]:
        expected += [diamond[name].W, diamond[name].b]
    assert params == expected
    assert get_all_params(diamond["m"], regularizable=True) == [
        diamond["b"].W, diamond["c"].W, diamond["a"].W]
    assert get_all_params(diamond["m"], regularizable=False) == [
        diamond["b"].b, diamond["c"].b, diamond["a"].b]


def test_get_all_params_tied_weights_unique():
    l_ids = InputLayer((None,), input_var=pt.ivector("ids"))
    emb = EmbeddingLayer(l_ids, input_size=5, output_size=3, name="emb")
    dec = DenseLayer(emb, 5, W=emb.W.T, nonlinearity=None, name="dec")
    assert get_all_params(dec) == [emb.W, dec.b]
    assert get_all_params(dec, trainable=True) == [emb.W, dec.b]
    assert get_all_params(dec, regularizable=True) == [emb.W]
    # without unwrapping, the expression itself is listed
    wrapped = get_all_params(dec, unwrap_shared=False)
    assert wrapped[0] is emb.W and wrapped[2] is dec.b
    assert wrapped[1] is dec.W and dec.W is not emb.W
    # shared between layers given as a list: listed once, first place
    dec2 = DenseLayer(emb, 5, W=emb.W.T, b=dec.b, name="dec2")
    assert get_all_params([dec, dec2]) == [emb.W, dec.b]
    assert count_params([dec, dec2]) == 5 * 3 + 5


def test_get_all_params_non_trainable_and_recurrent_order():
    l_in = InputLayer((2, 4, 3))
    rnn = RecurrentLayer(l_in, 5, name="r")
    bn = BatchNormLayer(rnn, axes=(0, 1))
    assert [p.name for p in get_all_params(bn)] == [
        "r.hid_init", "r.input_to_hidden.W", "r.input_to_hidden.b",
        "r.hidden_to_hidden.W", "beta", "gamma", "mean", "inv_std"]
    assert [p.name for p in get_all_params(bn, trainable=True)] == [
        "r.input_to_hidden.W", "r.input_to_hidden.b",
        "r.hidden_to_hidden.W", "beta", "gamma"]
    assert [p.name for p in get_all_params(bn, trainable=False)] == [
        "r.hid_init", "mean", "inv_std"]
    assert count_params(bn) == 5 + 15 + 5 + 25 + 4 * 5
    assert count_params(bn, trainable=True) == 15 + 5 + 25 + 2 * 5


def _compile(inputs, outputs):
    return pytensor.function(inputs, outputs, mode=MODE)


def test_get_output_default_and_replaced_input():
    l_in = InputLayer((None, 2))
    l_out = DenseLayer(l_in, 3, nonlinearity=None)
    x = floatX(np.random.RandomState(0).randn(4, 2))
    W, b = l_out.W.get_value(), l_out.b.get_value()
    out = get_output(l_out)
    np.testing.assert_allclose(_compile([l_in.input_var], out)(x),
                               x.dot(W) + b, rtol=1e-5)
    # a single expression replaces the only input layer's variable
    y = pt.matrix("y", dtype=pytensor.config.floatX)
    out_y = get_output(l_out, y)
    np.testing.assert_allclose(_compile([y], out_y)(x), x.dot(W) + b,
                               rtol=1e-5)
    # a numpy array is wrapped as a constant
    np.testing.assert_allclose(_compile([], get_output(l_out, x))(),
                               x.dot(W) + b, rtol=1e-5)


def test_get_output_dict_replaces_intermediate_layer(diamond):
    l_in, l_a, l_b, l_c, l_m = (diamond[k] for k in
                                ("l_in", "a", "b", "c", "m"))
    rng = np.random.RandomState(1)
    x = floatX(rng.randn(4, 2))
    hb = floatX(rng.randn(4, 3))
    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    val = lambda l: (l.W.get_value(), l.b.get_value())  # noqa: E731
    Wa, ba = val(l_a)
    Wc, bc = val(l_c)
    v = pt.matrix("v", dtype=pytensor.config.floatX)
    out = get_output(l_m, {l_b: v})
    f = _compile([l_in.input_var, v], out)
    expect = np.concatenate([relu(hb.dot(Wc) + bc), relu(x.dot(Wa) + ba)],
                            axis=1)
    np.testing.assert_allclose(f(x, hb), expect, rtol=1e-5, atol=1e-6)
    # only the replaced branch: the input layer is not needed at all
    out_c = get_output(l_c, {l_b: v})
    np.testing.assert_allclose(_compile([v], out_c)(hb),
                               relu(hb.dot(Wc) + bc), rtol=1e-5, atol=1e-6)


def test_get_output_several_layers_at_once(diamond):
    outs = get_output([diamond["a"], diamond["m"], diamond["l_in"]])
    assert isinstance(outs, list) and len(outs) == 3
    assert outs[2] is diamond["l_in"].input_var
    x = floatX(np.random.RandomState(2).randn(4, 2))
    a, m, i = _compile([diamond["l_in"].input_var], outs)(x)
    np.testing.assert_allclose(m[:, 3:], a, rtol=1e-6)
    np.testing.assert_array_equal(i, x)


def test_get_output_errors():
    l1, l2 = InputLayer((None, 2)), InputLayer((None, 2))
    s = ElemwiseSumLayer([l1, l2])
    with pytest.raises(ValueError, match="dictionary"):
        get_output(s, pt.matrix())
    with pytest.raises(TypeError):
        get_output(s, {"l1": pt.matrix()})
    # a layer fed by a shape tuple has nothing to take its input from
    free = DenseLayer((None, 2), 3)
    with pytest.raises(ValueError, match="free-floating"):
        get_output(free)


def test_get_output_unused_kwarg_warns_with_hint():
    l_in = InputLayer((None, 2))
    l_out = DenseLayer(DropoutLayer(l_in), 3)
    with pytest.warns(UserWarning, match="perhaps you meant deterministic"):
        get_output(l_out, determinstic=True)
    with pytest.warns(UserWarning, match="unused kwargs"):
        get_output(l_out, completely_unknown=1)
    # used keywords, including a layer-specific one, do not warn
    bn = BatchNormLayer(l_out)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_output(bn, deterministic=True)
        get_output(bn, batch_norm_use_averages=False,
                   batch_norm_update_averages=False)


def test_get_output_shape(diamond):
    l_in, l_a, l_m = diamond["l_in"], diamond["a"], diamond["m"]
    assert get_output_shape(l_m) == (None, 6)
    assert get_output_shape([l_a, l_m]) == [(None, 3), (None, 6)]
    assert get_output_shape(l_m, (7, 2)) == (7, 6)
    assert get_output_shape([l_a, l_m], {l_in: (5, 2)}) == [(5, 3), (5, 6)]
    # an intermediate layer's shape can be replaced too
    assert get_output_shape(diamond["c"], {diamond["b"]: (9, 3)}) == (9, 3)
    two = ElemwiseSumLayer([InputLayer((None, 2)), InputLayer((None, 2))])
    with pytest.raises(ValueError, match="dictionary"):
        get_output_shape(two, (3, 2))


def test_get_and_set_all_param_values_roundtrip(diamond):
    values = get_all_param_values(diamond["m"])
    params = get_all_params(diamond["m"])
    assert [v.shape for v in values] == [(2, 3), (3,), (3, 3), (3,),
                                         (2, 3), (3,)]
    for p, v in zip(params, values):
        np.testing.assert_array_equal(p.get_value(), v)
    # the values are copies
    values[0][...] = 123.
    assert not np.any(params[0].get_value() == 123.)
    rng = np.random.RandomState(3)
    new = [rng.randn(*v.shape) for v in values]  # float64 arrays
    set_all_param_values(diamond["m"], new)
    for p, v in zip(params, new):
        assert p.get_value().dtype == p.dtype
        np.testing.assert_allclose(p.get_value(), v, rtol=1e-6)
    # with tags: only those parameters, in that order
    reg = [np.full(v.shape, 7.) for v in new[::2]]
    set_all_param_values(diamond["m"], reg, regularizable=True)
    for p in params[::2]:
        assert np.all(p.get_value() == 7.)
    for p, v in zip(params[1::2], new[1::2]):
        np.testing.assert_allclose(p.get_value(), v, rtol=1e-6)


def test_set_all_param_values_checks_everything_first(diamond):
    params = get_all_params(diamond["m"])
    before = [p.get_value() for p in params]
    good = [np.ones(v.shape) for v in before]
    with pytest.raises(ValueError, match="mismatch"):
        set_all_param_values(diamond["m"], good[:-1])
    # the last shape is wrong: the first five must stay untouched
    bad = good[:-1] + [np.ones((4,))]
    with pytest.raises(ValueError, match="mismatch"):
        set_all_param_values(diamond["m"], bad)
    for p, v in zip(params, before):
        np.testing.assert_array_equal(p.get_value(), v)


def test_count_params(diamond):
    # b: 2x3 + 3, c: 3x3 + 3, a: 2x3 + 3
    assert count_params(diamond["m"]) == (6 + 3) + (9 + 3) + (6 + 3)
    assert count_params(diamond["a"]) == 2 * 3 + 3
    assert count_params(diamond["m"], regularizable=False) == 9
    assert count_params(InputLayer((2, 3))) == 0
    l = DenseLayer(InputLayer((None, 4)), 2, W=init.Constant(1.), b=None)
    assert count_params(l) == 8
