"""Backend implementations of the project's Ops, one subpackage per
PyTensor linker (in the spirit of ``pytensor.link.<backend>.dispatch``):

numba
    ``numba_funcify`` registrations (the default linker).
jax
    ``jax_funcify`` registrations (``mode="JAX"``; optional).

Importing this package registers them (``import indrnn`` does); the Ops
(:mod:`indrnn.ops`, which hold their C code) do not import it.
"""
import importlib.util

from .numba.dispatch import recurrence as _numba_recurrence  # noqa: F401
from .numba.dispatch import batchnorm as _numba_batchnorm  # noqa: F401

__all__ = ["JAX_REGISTERED"]


def _register_jax():
    """Import the JAX registrations if JAX is installed.

    Returns
    -------
    bool
        Whether the JAX implementations are registered.
    """
    if importlib.util.find_spec("jax") is None:
        return False
    try:
        from .jax.dispatch import recurrence  # noqa: F401
        from .jax.dispatch import batchnorm  # noqa: F401
        # concrete shapes for the JAX mode (a "jax"-tagged graph rewrite)
        from .jax.dispatch import shape  # noqa: F401
    except ImportError:
        # an incomplete JAX installation: the JAX mode cannot work anyway
        return False
    return True


#: Whether :func:`~indrnn.ops.indrnn_recurrence` and
#: :func:`~indrnn.ops.batch_norm_train` can run in ``mode="JAX"``.
JAX_REGISTERED = _register_jax()
