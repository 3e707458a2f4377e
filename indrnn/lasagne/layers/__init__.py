"""Lasagne's layer API on PyTensor (``lasagne.layers``)."""
from .base import *  # noqa: F401,F403
from .helper import *  # noqa: F401,F403
from .input import *  # noqa: F401,F403
from .dense import *  # noqa: F401,F403
from .special import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .merge import *  # noqa: F401,F403
from .noise import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403

# Lasagne's convolution and pooling modules and layers: not available
# (PyTensor 3 has no such Ops); say so instead of a bare "not found".
from . import _unavailable  # noqa: E402

_unavailable.install_import_guard(__name__)


def __getattr__(name):
    if name in _unavailable.LAYERS or name in _unavailable.MODULES:
        raise AttributeError(_unavailable.reason(name))
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
