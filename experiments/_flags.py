"""Flag helpers shared by the experiment parsers.

- Range-checking ``type=`` converters for ``argparse``: a value out of range
  is refused when the command line is parsed, with argparse's usual message
  naming the flag (``argument --batch_size: must be at least 1, got 0``).
  Each converter returns the same type as the original flag's ``type=``
  (``int``, ``float`` or ``numpy.float32``), so parsed values, and the
  defaults (which argparse does not convert unless they are strings), are
  unchanged.
- :func:`add_checkpoint_flags` adds ``--checkpoint_every``,
  ``--keep_checkpoints`` and ``--resume`` (see :mod:`indrnn.checkpoint`).
- :func:`resume_command` is the command line that resumes a run.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog='demo')
>>> _ = parser.add_argument('--batch_size', type=positive_int, default=32)
>>> parser.parse_args(['--batch_size', '4']).batch_size
4
"""
import argparse
import shlex
import sys

import numpy as np

__all__ = [
    "positive_int",
    "nonnegative_int",
    "positive_float",
    "nonnegative_float",
    "positive_float32",
    "nonnegative_float32",
    "probability",
    "probability_float32",
    "add_checkpoint_flags",
    "resume_command",
]


def _number(text, convert):
    try:
        return convert(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(
            "invalid %s value: %r" % (convert.__name__, text))


def _finite(value, text):
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError("must be a finite number, got %s"
                                         % text)
    return value


def positive_int(text):
    """``int`` of at least 1 (sizes, lengths, step counts).

    Parameters
    ----------
    text : str
        The command-line value.

    Returns
    -------
    int

    Raises
    ------
    argparse.ArgumentTypeError
        Not an integer, or below 1.

    Examples
    --------
    >>> positive_int('3')
    3
    >>> positive_int('0')
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be at least 1, got 0
    """
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1, got %s" % text)
    return value


def nonnegative_int(text):
    """``int`` of at least 0.

    Parameters
    ----------
    text : str

    Returns
    -------
    int

    Examples
    --------
    >>> nonnegative_int('0')
    0
    >>> nonnegative_int('-2')
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be at least 0, got -2
    """
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError("must be at least 0, got %s" % text)
    return value


def _positive(convert):
    def check(text):
        value = _finite(_number(text, convert), text)
        if not value > 0:
            raise argparse.ArgumentTypeError("must be greater than 0, got %s"
                                             % text)
        return value
    return check


def _nonnegative(convert):
    def check(text):
        value = _finite(_number(text, convert), text)
        if value < 0:
            raise argparse.ArgumentTypeError("must be at least 0, got %s"
                                             % text)
        return value
    return check


def _probability(convert):
    def check(text):
        value = _finite(_number(text, convert), text)
        if not 0 <= value < 1:
            raise argparse.ArgumentTypeError("must be in [0, 1), got %s"
                                             % text)
        return value
    return check


positive_float = _positive(float)
positive_float.__name__ = "positive_float"
positive_float.__doc__ = """``float`` greater than 0 (learning rates).

Examples
--------
>>> positive_float('0.5')
0.5
"""
nonnegative_float = _nonnegative(float)
nonnegative_float.__name__ = "nonnegative_float"
nonnegative_float.__doc__ = """``float`` of at least 0.

Examples
--------
>>> nonnegative_float('0')
0.0
"""
positive_float32 = _positive(np.float32)
positive_float32.__name__ = "positive_float32"
positive_float32.__doc__ = """``numpy.float32`` greater than 0, for the
original's ``type=np.float32`` flags (learning rates, clip values).

Examples
--------
>>> type(positive_float32('2e-4')).__name__
'float32'
"""
nonnegative_float32 = _nonnegative(np.float32)
nonnegative_float32.__name__ = "nonnegative_float32"
nonnegative_float32.__doc__ = """``numpy.float32`` of at least 0 (decay
rates, initialisation scales).

Examples
--------
>>> float(nonnegative_float32('0'))
0.0
"""
probability = _probability(float)
probability.__name__ = "probability"
probability.__doc__ = """``float`` in [0, 1) (drop rates).

Examples
--------
>>> probability('0.25')
0.25
>>> probability('1')
Traceback (most recent call last):
...
argparse.ArgumentTypeError: must be in [0, 1), got 1
"""
probability_float32 = _probability(np.float32)
probability_float32.__name__ = "probability_float32"
probability_float32.__doc__ = """``numpy.float32`` in [0, 1), for drop
rates the original parses with ``type=np.float32``.

Examples
--------
>>> type(probability_float32('0.1')).__name__
'float32'
"""


def add_checkpoint_flags(parser, folder_help='the output folder'):
    """Add ``--checkpoint_every``, ``--keep_checkpoints`` and ``--resume``.

    Parameters
    ----------
    parser : argparse.ArgumentParser or argument group
    folder_help : str
        Where the checkpoints go, for the help text.

    Returns
    -------
    parser
        The same object.

    Examples
    --------
    >>> args = add_checkpoint_flags(argparse.ArgumentParser()).parse_args([])
    >>> args.checkpoint_every, args.keep_checkpoints, args.resume
    (None, 3, None)
    """
    parser.add_argument('--checkpoint_every', type=positive_int,
                        default=None,
                        help='write a checkpoint every this many batches to '
                             '%s (default: none, unless --resume is given)'
                             % folder_help)
    parser.add_argument('--keep_checkpoints', type=positive_int, default=3,
                        help='how many of the latest checkpoints to keep '
                             '(the best one is kept besides)')
    parser.add_argument('--resume', type=str, default=None, metavar='PATH',
                        help='continue the run saved in this checkpoint; '
                             'the other flags must match its run')
    return parser


def resume_command(module, argv):
    """The command line resuming a run, with ``{path}`` for the file.

    Parameters
    ----------
    module : str
        The experiment module, e.g. ``'experiments.pixelmnist'``.
    argv : sequence of str
        The run's arguments; any ``--resume`` is dropped.

    Returns
    -------
    str

    Examples
    --------
    >>> resume_command('experiments.adding',
    ...                ['--seq_len', '10', '--resume', 'a.h5']).split()[1:]
    ['-m', 'experiments.adding', '--seq_len', '10', '--resume', '{path}']
    """
    kept = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == '--resume':
            skip = True
        elif not arg.startswith('--resume='):
            kept.append(arg)
    command = [sys.executable, '-m', module] + kept
    return shlex.join(command) + ' --resume {path}'
