"""Tests for indrnn.lasagne.layers._unavailable: Lasagne's convolution and
pooling modules and layers fail with a message naming the reason."""
import importlib

import pytest

import indrnn.lasagne.layers as layers
from indrnn.lasagne.layers import _unavailable

REASON = "PyTensor 3 has no 2-D convolution or pooling Op"


@pytest.mark.parametrize("module", ["conv", "pool", "local", "dnn",
                                    "cuda_convnet", "corrmm"])
def test_importing_a_convolution_or_pooling_module_says_why(module):
    with pytest.raises(ImportError, match=REASON) as info:
        importlib.import_module("indrnn.lasagne.layers." + module)
    assert info.value.name == "indrnn.lasagne.layers." + module
    with pytest.raises(ImportError, match=REASON):
        exec("from indrnn.lasagne.layers import %s" % module, {})


@pytest.mark.parametrize("name", ["Conv2DLayer", "MaxPool2DLayer",
                                  "GlobalPoolLayer", "Upscale2DLayer",
                                  "LocallyConnected2DLayer"])
def test_their_layer_names_say_why_and_hasattr_still_works(name):
    with pytest.raises(AttributeError, match=REASON):
        getattr(layers, name)
    assert not hasattr(layers, name)
    with pytest.raises(ImportError):
        exec("from indrnn.lasagne.layers import %s" % name, {})


def test_other_names_and_modules_are_untouched():
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        layers.Nope
    assert importlib.import_module("indrnn.lasagne.layers.special")
    assert set(_unavailable.LAYERS.values()) <= set(_unavailable.MODULES)
