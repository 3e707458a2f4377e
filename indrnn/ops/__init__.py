"""Custom PyTensor Ops of the project.

recurrence
    The fused IndRNN recurrence, :func:`indrnn_recurrence`, and its
    gradient.
batchnorm
    The fused training-mode batch normalisation, :func:`batch_norm_train`,
    and its gradient.
c
    The C code of both (``mode="CVM"``), returned by the Ops' ``c_code``.

The numpy ``perform`` and the C code live on the Op classes. The Numba and
JAX implementations are backends that register themselves
(:mod:`indrnn.link`, imported by ``import indrnn``); this package imports
none of them.
"""
from .recurrence import (ACTIVATIONS, IndRNNRecurrence,  # noqa: F401
                         IndRNNRecurrenceGrad, activation_name,
                         indrnn_recurrence)
from .batchnorm import (BatchNormTrain, BatchNormTrainGrad,  # noqa: F401
                        batch_norm_train)

__all__ = ["ACTIVATIONS", "IndRNNRecurrence", "IndRNNRecurrenceGrad",
           "activation_name", "indrnn_recurrence", "BatchNormTrain",
           "BatchNormTrainGrad", "batch_norm_train"]
