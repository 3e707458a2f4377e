"""What the port keeps of the original scripts' own formats and usage.

- :mod:`indrnn.legacy.params`: parameter files in the format of the
  original Theano/Lasagne scripts (``np.savez`` of all the network's
  parameter values, ``arr_0 ... arr_{N-1}``): :func:`save_legacy_params`,
  :func:`load_legacy_params`, :func:`param_table`;
- :mod:`indrnn.legacy.runner`: running an original Theano + Lasagne script
  unmodified, ``python -m indrnn.legacy SCRIPT [ARGS...]``, with ``theano``
  resolving to PyTensor and ``lasagne`` to :mod:`indrnn.lasagne` only inside
  that command.
"""
from .params import load_legacy_params, param_table, save_legacy_params

__all__ = [
    "save_legacy_params",
    "load_legacy_params",
    "param_table",
    "main",
]


def main(argv=None):
    """``python -m indrnn.legacy SCRIPT [ARGS...]``: run an original script
    unmodified; :func:`indrnn.legacy.runner.main` (its parameters and
    exit status), imported only when called."""
    # Imported here: the runner is only needed by the command.
    from .runner import main as runner_main
    return runner_main(argv)
