"""The teaching pictures' command: :mod:`indrnn.viz` with the adding
experiment's networks passed in.

The library draws (``indrnn/viz.py``); the networks are the adding
experiment's, which sit above it, so the command that joins the two is
here. ``python -m indrnn.experiments.viz <picture> ...`` or ``indrnn-viz``.
"""
import sys

from indrnn import viz

from . import adding


def main(argv=None):
    """Draw a picture (see :mod:`indrnn.viz`).

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    int
        0 on success.
    """
    return viz.main(argv, task=adding)


if __name__ == "__main__":
    sys.exit(main())
