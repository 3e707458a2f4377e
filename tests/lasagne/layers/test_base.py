"""Tests for indrnn.lasagne.layers.base: Layer and MergeLayer."""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.lasagne import init
from indrnn.lasagne.layers import InputLayer, Layer, MergeLayer


class _Identity(Layer):
    def get_output_for(self, input, **kwargs):
        return input


def test_layer_from_shape_tuple():
    l = _Identity((None, 3), name="a")
    assert l.input_shape == (None, 3)
    assert l.input_layer is None
    assert l.output_shape == (None, 3)
    assert l.name == "a"


def test_layer_from_layer():
    l_in = InputLayer((2, 3))
    l = _Identity(l_in)
    assert l.input_layer is l_in
    assert l.input_shape == (2, 3)


@pytest.mark.parametrize("shape", [(0, 3), (2, -1)])
def test_layer_rejects_non_positive_input_shape(shape):
    with pytest.raises(ValueError, match="non-positive"):
        _Identity(shape)


def test_base_get_output_for_not_implemented():
    with pytest.raises(NotImplementedError):
        Layer((2, 3)).get_output_for(pt.matrix())


def test_symbolic_output_shape_rejected():
    class Bad(Layer):
        def get_output_shape_for(self, input_shape):
            return (pt.iscalar(), 3)

    with pytest.raises(ValueError, match="symbolic output shape"):
        Bad((2, 3)).output_shape


def test_add_param_names_and_default_tags():
    l = _Identity((None, 3), name="lay")
    w = l.add_param(init.Constant(1.), (3, 2), name="W")
    b = l.add_param(init.Constant(0.), (2,), name="b", regularizable=False)
    c = l.add_param(init.Constant(0.), (2,), name="c", trainable=False,
                    regularizable=False, custom=True)
    assert (w.name, b.name, c.name) == ("lay.W", "lay.b", "lay.c")
    assert l.params[w] == {"trainable", "regularizable"}
    assert l.params[b] == {"trainable"}
    assert l.params[c] == {"custom"}
    np.testing.assert_array_equal(w.get_value(), np.ones((3, 2)))
    # unnamed layer: the parameter keeps its own name
    l2 = _Identity((None, 3))
    assert l2.add_param(init.Constant(0.), (3,), name="W").name == "W"


def test_get_params_tag_filters_keep_creation_order():
    l = _Identity((None, 3))
    p1 = l.add_param(np.zeros((3,)), (3,), name="p1")
    p2 = l.add_param(np.zeros((3,)), (3,), name="p2", regularizable=False)
    p3 = l.add_param(np.zeros((3,)), (3,), name="p3", trainable=False)
    p4 = l.add_param(np.zeros((3,)), (3,), name="p4", trainable=False,
                     regularizable=False)
    assert l.get_params() == [p1, p2, p3, p4]
    assert l.get_params(trainable=True) == [p1, p2]
    assert l.get_params(regularizable=True) == [p1, p3]
    assert l.get_params(trainable=True, regularizable=True) == [p1]
    assert l.get_params(trainable=False) == [p3, p4]
    assert l.get_params(trainable=True, regularizable=False) == [p2]
    assert l.get_params(trainable=False, regularizable=False) == [p4]


def test_get_params_unwraps_expression_parameters():
    shared = pytensor.shared(np.zeros((2, 3)), name="s")
    l = _Identity((None, 3))
    expr = l.add_param(shared.T, (3, 2), name="W")
    assert expr is not shared
    assert l.get_params() == [shared]
    assert l.get_params(unwrap_shared=False) == [expr]


def test_merge_layer_inputs():
    l_a = InputLayer((2, 3))
    m = MergeLayer([l_a, (2, 4)], name="m")
    assert m.input_shapes == [(2, 3), (2, 4)]
    assert m.input_layers == [l_a, None]
    assert m.name == "m"
    assert m.get_params() == []
    with pytest.raises(NotImplementedError):
        m.output_shape
    with pytest.raises(NotImplementedError):
        m.get_output_for([pt.matrix(), pt.matrix()])
