"""Custom PyTensor Ops of the project.

recurrence
    The fused IndRNN recurrence, :func:`indrnn_recurrence`, and its
    gradient.
batchnorm
    The fused training-mode batch normalisation, :func:`batch_norm_train`,
    and its gradient.

Importing this package registers the Ops' Numba implementations and, when
JAX is installed, their JAX implementations (skipped silently otherwise);
the numpy ``perform`` and the C code live on the Op classes.
"""
import importlib.util

from .recurrence import (ACTIVATIONS, IndRNNRecurrence,  # noqa: F401
                         IndRNNRecurrenceGrad, activation_name,
                         indrnn_recurrence)
from .batchnorm import (BatchNormTrain, BatchNormTrainGrad,  # noqa: F401
                        batch_norm_train)
from ..link.numba.dispatch import recurrence as _numba_recurrence  # noqa
from ..link.numba.dispatch import batchnorm as _numba_batchnorm  # noqa

__all__ = ["ACTIVATIONS", "IndRNNRecurrence", "IndRNNRecurrenceGrad",
           "activation_name", "indrnn_recurrence", "BatchNormTrain",
           "BatchNormTrainGrad", "batch_norm_train", "JAX_REGISTERED"]


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
        from ..link.jax.dispatch import recurrence  # noqa: F401
        from ..link.jax.dispatch import batchnorm  # noqa: F401
        # concrete shapes for the JAX mode (a "jax"-tagged graph rewrite)
        from ..link.jax.dispatch import shape  # noqa: F401
    except ImportError:
        # an incomplete JAX installation: the JAX mode cannot work anyway
        return False
    return True


#: Whether :func:`indrnn_recurrence` and :func:`batch_norm_train` can run in ``mode="JAX"``.
JAX_REGISTERED = _register_jax()
