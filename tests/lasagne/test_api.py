"""Every public name of Lasagne's API outside convolution and pooling, in
the module Lasagne has it in, with Lasagne's signature where the tests
elsewhere do not already pin it. The lists are Lasagne's documented API
(lasagne.readthedocs.io, Lasagne master)."""
import importlib
import inspect

import pytest

LASAGNE_API = {
    "layers.base": ["Layer", "MergeLayer"],
    "layers.helper": [
        "get_all_layers", "get_output", "get_output_shape",
        "get_all_params", "count_params", "get_all_param_values",
        "set_all_param_values"],
    "layers.input": ["InputLayer"],
    "layers.dense": ["DenseLayer", "NINLayer"],
    "layers.embedding": ["EmbeddingLayer"],
    "layers.noise": [
        "DropoutLayer", "dropout", "dropout_channels", "spatial_dropout",
        "dropout_locations", "GaussianNoiseLayer"],
    "layers.shape": [
        "FlattenLayer", "flatten", "ReshapeLayer", "reshape",
        "DimshuffleLayer", "dimshuffle", "PadLayer", "pad", "SliceLayer"],
    "layers.merge": [
        "autocrop", "autocrop_array_shapes", "ConcatLayer", "concat",
        "ElemwiseMergeLayer", "ElemwiseSumLayer"],
    "layers.normalization": [
        "LocalResponseNormalization2DLayer", "BatchNormLayer", "batch_norm",
        "StandardizationLayer", "instance_norm", "layer_norm"],
    "layers.recurrent": [
        "CustomRecurrentLayer", "RecurrentLayer", "Gate", "LSTMLayer",
        "GRULayer"],
    "layers.special": [
        "NonlinearityLayer", "BiasLayer", "ScaleLayer", "standardize",
        "ExpressionLayer", "InverseLayer", "TransformerLayer",
        "TPSTransformerLayer", "ParametricRectifierLayer", "prelu",
        "RandomizedRectifierLayer", "rrelu"],
    "init": [
        "Initializer", "Normal", "Uniform", "Glorot", "GlorotNormal",
        "GlorotUniform", "He", "HeNormal", "HeUniform", "Constant",
        "Sparse", "Orthogonal"],
    "nonlinearities": [
        "sigmoid", "softmax", "tanh", "ScaledTanH", "ScaledTanh",
        "rectify", "LeakyRectify", "leaky_rectify", "very_leaky_rectify",
        "elu", "SELU", "selu", "softplus", "linear", "identity"],
    "objectives": [
        "binary_crossentropy", "categorical_crossentropy", "squared_error",
        "binary_hinge_loss", "multiclass_hinge_loss", "huber_loss",
        "binary_accuracy", "categorical_accuracy", "aggregate"],
    "regularization": [
        "apply_penalty", "regularize_layer_params",
        "regularize_layer_params_weighted", "regularize_network_params",
        "l1", "l2"],
    "updates": [
        "sgd", "apply_momentum", "momentum", "apply_nesterov_momentum",
        "nesterov_momentum", "adagrad", "rmsprop", "adadelta", "adam",
        "adamax", "amsgrad", "norm_constraint", "total_norm_constraint",
        "get_or_compute_grads"],
    "utils": [
        "floatX", "shared_empty", "as_theano_expression",
        "collect_shared_vars", "one_hot", "unique", "as_tuple",
        "int_types", "compute_norms", "create_param", "unroll_scan"],
    "random": ["get_rng", "set_rng"],
}


@pytest.mark.parametrize("module", sorted(LASAGNE_API))
def test_every_lasagne_name_is_in_its_module(module):
    mod = importlib.import_module("indrnn.lasagne." + module)
    missing = [n for n in LASAGNE_API[module] if not hasattr(mod, n)]
    assert missing == []
    if module.startswith("layers."):
        layers = importlib.import_module("indrnn.lasagne.layers")
        assert all(getattr(layers, n) is getattr(mod, n)
                   for n in LASAGNE_API[module])


SIGNATURES = {
    "layers.GRULayer": (
        "(incoming, num_units, resetgate=, updategate=, hidden_update=, "
        "hid_init=, backwards=False, learn_init=False, gradient_steps=-1, "
        "grad_clipping=0, unroll_scan=False, precompute_input=True, "
        "mask_input=None, only_return_final=False, **kwargs)"),
    "layers.NINLayer": ("(incoming, num_units, untie_biases=False, W=, b=, "
                        "nonlinearity=, **kwargs)"),
    "layers.PadLayer": "(incoming, width, val=0, batch_ndim=2, **kwargs)",
    "layers.StandardizationLayer": ("(incoming, axes='auto', "
                                    "epsilon=0.0001, **kwargs)"),
    "layers.LocalResponseNormalization2DLayer": (
        "(incoming, alpha=0.0001, k=2, beta=0.75, n=5, **kwargs)"),
    "layers.instance_norm": ("(layer, learn_scale=True, learn_bias=True, "
                             "**kwargs)"),
    "layers.layer_norm": "(layer, **kwargs)",
    "layers.BiasLayer": "(incoming, b=, shared_axes='auto', **kwargs)",
    "layers.ScaleLayer": "(incoming, scales=, shared_axes='auto', **kwargs)",
    "layers.standardize": "(layer, offset, scale, shared_axes='auto')",
    "layers.TransformerLayer": (
        "(incoming, localization_network, downsample_factor=1, "
        "border_mode='nearest', **kwargs)"),
    "layers.TPSTransformerLayer": (
        "(incoming, localization_network, downsample_factor=1, "
        "control_points=16, precompute_grid='auto', border_mode='nearest', "
        "**kwargs)"),
    "layers.ParametricRectifierLayer": ("(incoming, alpha=, "
                                        "shared_axes='auto', **kwargs)"),
    "layers.RandomizedRectifierLayer": (
        "(incoming, lower=0.3, upper=0.8, shared_axes='auto', **kwargs)"),
    "layers.InverseLayer": "(incoming, layer, **kwargs)",
    "layers.autocrop": "(inputs, cropping)",
    "layers.ConcatLayer": "(incomings, axis=1, cropping=None, **kwargs)",
    "layers.ElemwiseSumLayer": "(incomings, coeffs=1, cropping=None, "
                               "**kwargs)",
    "objectives.huber_loss": "(predictions, targets, delta=1)",
    "utils.as_tuple": "(x, N, t=None)",
    "utils.create_param": "(spec, shape, name=None)",
}


def _shown(signature):
    """A signature with object defaults shown as ``name=`` only."""
    parts = []
    for p in signature.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            parts.append("**" + p.name)
        elif p.default is p.empty:
            parts.append(p.name)
        elif isinstance(p.default, (int, float, str, type(None))):
            parts.append("%s=%r" % (p.name, p.default))
        else:
            parts.append(p.name + "=")
    return "(%s)" % ", ".join(parts)


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_lasagne_signature(name):
    module, _, attr = name.rpartition(".")
    obj = getattr(importlib.import_module("indrnn.lasagne." + module), attr)
    assert _shown(inspect.signature(obj)) == SIGNATURES[name]
