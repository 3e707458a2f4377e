"""indrnn: the IndRNN reference code (Li et al., CVPR 2018) on PyTensor.

Subpackages and modules
-----------------------
lasagne
    A Lasagne-compatible layer library (``import indrnn.lasagne as lasagne``).
indrnn, indrnn_onlyrecurrent, batchnorm_step_timefirst,
bn_eachstep_withdrop_timefirst
    Ports of the original IndRNN modules, one to one.
legacy
    The originals' own formats and usage: parameter files in the original
    ``np.savez`` format (``legacy.params``) and running an original script
    unmodified, ``python -m indrnn.legacy SCRIPT`` (``legacy.runner``).
run
    The run engine the experiments share: flags, start-up and resume, the
    training and test functions (``run.functions``), the loop and exit
    statuses (``run.loop``), checkpoints (``run.checkpoint``), schedules,
    reports and evaluation.
data
    Readers of MNIST, Penn Treebank and NTU RGB+D.
reproduce
    ``indrnn reproduce``: the papers' tables as resumable runs.
ops
    The fused recurrence and BatchNorm Ops (numpy ``perform`` and C code).
link
    Their Numba and JAX implementations, registered on ``import indrnn``.
compile
    The project's Numba linker (the default mode's; ``INDRNN_LINKER=pytensor``
    turns it off) and the disk cache of rewritten functions: the only
    modules that use PyTensor beyond its documented API.
"""
# Thread defaults must be in place before numpy/numba start their pools.
from ._runtime import configure_malloc as _configure_malloc
from ._runtime import configure_threads as _configure_threads

_configure_threads()

# PyTensor reads PYTENSOR_FLAGS once, on import: translate a legacy
# THEANO_FLAGS first (theano_flags never imports pytensor; it imports JAX,
# and so numpy, only for device=cuda*, to say whether JAX has a GPU, which
# is why the thread defaults come first).
from .theano_flags import apply_theano_flags as _apply_theano_flags

_apply_theano_flags()
# Same seed, same bits, whether this process compiled its functions or
# loaded them from the disk cache (see configure_fastmath).
from ._runtime import configure_fastmath as _configure_fastmath

_configure_fastmath()
# Keep freed memory in the process: a training step reuses it every call.
_configure_malloc()

__version__ = "0.1.0"

# The backends register the Ops' Numba and JAX implementations (the Ops do
# not import them), and the compile layer registers its linker and mode
# names, so that any function compiled after ``import indrnn`` finds them.
from . import link as _link  # noqa: E402,F401
from . import compile as _compile  # noqa: E402,F401


def _fused_batch_norm_train(input, gamma, beta, epsilon):
    """:func:`indrnn.ops.batchnorm.batch_norm_train`, imported when a
    layer first builds it (``import indrnn`` stays light)."""
    from .ops.batchnorm import batch_norm_train
    return batch_norm_train(input, gamma, beta, epsilon)


# The Lasagne shim imports nothing from the rest of the package; its
# BatchNormLayer gets the fused BatchNorm Op from here.
from .lasagne.layers import normalization as _normalization  # noqa: E402

_normalization.register_fused_batch_norm(_fused_batch_norm_train)
