"""A Lasagne-compatible layer library on PyTensor.

``import indrnn.lasagne as lasagne`` lets code written for Lasagne run on
PyTensor with the same layer classes, parameter names and order, update
rules and helper functions.
"""
from . import utils  # noqa: F401
from . import random  # noqa: F401
from . import init  # noqa: F401
from . import nonlinearities  # noqa: F401
from . import default_updates  # noqa: F401
from . import layers  # noqa: F401
from . import objectives  # noqa: F401
from . import regularization  # noqa: F401
from . import updates  # noqa: F401
