"""Tests for indrnn.lasagne.layers.embedding: EmbeddingLayer."""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.lasagne.layers import EmbeddingLayer, InputLayer, get_output
from indrnn.lasagne.utils import floatX


def test_lookup_matches_numpy_indexing():
    ids = pt.imatrix("ids")
    l_in = InputLayer((None, 4), input_var=ids)
    table = floatX(np.random.RandomState(0).randn(6, 3))
    l = EmbeddingLayer(l_in, input_size=6, output_size=3, W=table, name="e")
    assert l.output_shape == (None, 4, 3)
    assert l.W.name == "e.W"
    assert l.get_params(trainable=True, regularizable=True) == [l.W]
    f = pytensor.function([ids], get_output(l), mode="FAST_COMPILE")
    x = np.array([[0, 5, 2, 2], [1, 1, 4, 3]], dtype="int32")
    np.testing.assert_array_equal(f(x), table[x])


def test_default_init_and_shape_check():
    l = EmbeddingLayer(InputLayer((None,), input_var=pt.ivector()), 10, 4)
    assert l.W.get_value().shape == (10, 4)
    assert l.W.dtype == pytensor.config.floatX
    with pytest.raises(ValueError):
        EmbeddingLayer(InputLayer((None,)), 10, 4, W=np.zeros((4, 10)))
