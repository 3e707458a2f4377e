"""Lasagne's convolution and pooling layers, which this port does not have.

PyTensor 3 has no 2-D (or 3-D) convolution or pooling Op, so Lasagne's
``conv``, ``pool`` and ``local`` modules, and its cuDNN, cuda-convnet and
corrmm wrappers, cannot be built on it. Importing one of those modules
raises an ImportError that says so; asking ``indrnn.lasagne.layers`` for
one of their layer names raises an AttributeError that says so (an
AttributeError, so that ``hasattr`` stays usable).
"""
import importlib.abc
import sys

__all__ = ["MODULES", "LAYERS", "reason", "install_import_guard"]

_NO_OP = ("PyTensor 3 has no 2-D convolution or pooling Op, so indrnn.lasagne "
          "does not port Lasagne's convolution and pooling layers")

#: Lasagne's modules that need those Ops, and what each provided.
MODULES = {
    "conv": "convolution layers",
    "pool": "pooling and upscaling layers",
    "local": "locally connected layers",
    "dnn": "cuDNN convolution and pooling layers",
    "cuda_convnet": "cuda-convnet convolution and pooling layers",
    "corrmm": "GpuCorrMM convolution layers",
}

#: Lasagne's public layer names from those modules, by module.
LAYERS = dict(
    [(name, "conv") for name in (
        "Conv1DLayer", "Conv2DLayer", "Conv3DLayer", "TransposedConv2DLayer",
        "Deconv2DLayer", "TransposedConv3DLayer", "Deconv3DLayer",
        "DilatedConv2DLayer")]
    + [(name, "pool") for name in (
        "Pool1DLayer", "Pool2DLayer", "Pool3DLayer", "MaxPool1DLayer",
        "MaxPool2DLayer", "MaxPool3DLayer", "Upscale1DLayer",
        "Upscale2DLayer", "Upscale3DLayer", "GlobalPoolLayer",
        "FeaturePoolLayer", "FeatureWTALayer",
        "SpatialPyramidPoolingLayer")]
    + [("LocallyConnected2DLayer", "local")])


def reason(what):
    """The message for a missing module or layer name.

    Parameters
    ----------
    what : str
        A module name from :data:`MODULES` or a layer from :data:`LAYERS`.

    Returns
    -------
    str

    Examples
    --------
    >>> "no 2-D convolution" in reason("Conv2DLayer")
    True
    """
    if what in LAYERS:
        return ("lasagne.layers.%s (from lasagne.layers.%s) is not "
                "available: %s." % (what, LAYERS[what], _NO_OP))
    return ("lasagne.layers.%s (Lasagne's %s) is not available: %s."
            % (what, MODULES[what], _NO_OP))


class _ImportGuard(importlib.abc.MetaPathFinder):
    """Refuse ``indrnn.lasagne.layers.<module>`` for the modules above
    with an ImportError that names the reason (instead of Python's plain
    'No module named')."""

    def __init__(self, package):
        self.package = package

    def find_spec(self, fullname, path=None, target=None):
        parent, _, module = fullname.rpartition(".")
        if parent == self.package and module in MODULES:
            raise ImportError(reason(module), name=fullname)
        return None


def install_import_guard(package):
    """Put the guard for ``package``'s missing modules on sys.meta_path
    (once).

    Parameters
    ----------
    package : str
        ``'indrnn.lasagne.layers'``.
    """
    if not any(isinstance(f, _ImportGuard) and f.package == package
               for f in sys.meta_path):
        sys.meta_path.insert(0, _ImportGuard(package))
