"""Flag helpers shared by the experiment parsers.

- Range-checking ``type=`` converters for ``argparse``: a value out of range
  is refused when the command line is parsed, with argparse's usual message
  naming the flag (``argument --batch_size: must be at least 1, got 0``).
  Each converter returns the same type as the original flag's ``type=``
  (``int``, ``float`` or ``numpy.float32``), so parsed values, and the
  defaults (which argparse does not convert unless they are strings), are
  unchanged.
- :func:`add_run_flags` adds the flags every experiment has beside the
  original's: ``--seed``, ``--max_steps``, ``--out``, ``--log`` (and
  ``--data_dir`` where there are data files) and the checkpoint flags.
- :func:`add_checkpoint_flags` adds ``--checkpoint_every``,
  ``--keep_checkpoints`` and ``--resume`` (see :mod:`indrnn.run.checkpoint`).
- :func:`resume_command` is the command line that resumes a run.
- :func:`add_deep_options` adds ``--net plain|residual|dense`` and the
  settings of the Deep IndRNN networks (:mod:`indrnn.deep`).

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

# Beside the loop, whose epoch rows hold JSON's values; re-exported here
# for the reports' flag values.
from .loop import jsonable

__all__ = [
    "positive_int",
    "nonnegative_int",
    "positive_float",
    "nonnegative_float",
    "positive_float32",
    "nonnegative_float32",
    "probability",
    "probability_float32",
    "checkpoint_interval",
    "add_run_flags",
    "add_checkpoint_flags",
    "resume_command",
    "net_name",
    "NETS",
    "DEEP_OPTIONS",
    "add_deep_options",
    "jsonable",
]

#: Architectures of ``--net``: the CVPR stack and the two of the Deep
#: IndRNN paper (see :mod:`indrnn.deep`).
NETS = ('plain', 'residual', 'dense')
#: Destinations of the options :func:`add_deep_options` adds.
DEEP_OPTIONS = ('net', 'num_blocks', 'growth_rate', 'block_config',
                'num_first', 'bn_size', 'add_last_layer', 'bn_location',
                'u_lastlayer_ini', 'dropout', 'dropout_sec', 'dropout_trans',
                'dropout_first')


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


def checkpoint_interval(text):
    """``--checkpoint_every``: steps (``500``) or a time (``30m``, ``1.5h``).

    Parameters
    ----------
    text : str

    Returns
    -------
    indrnn.run.loop.CheckpointInterval

    Raises
    ------
    argparse.ArgumentTypeError
        When ``text`` is neither.

    Examples
    --------
    >>> checkpoint_interval('30m')
    CheckpointInterval(minutes=30.0)
    """
    from indrnn.run.loop import CheckpointInterval
    try:
        return CheckpointInterval.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    parser.add_argument('--checkpoint_every', type=checkpoint_interval,
                        default=None, metavar='N|TIME',
                        help='write a checkpoint every N batches, or every '
                             'TIME (30m, 1.5h, 90s), to %s (default: none, '
                             'unless --resume is given)' % folder_help)
    parser.add_argument('--keep_checkpoints', type=positive_int, default=3,
                        help='how many of the latest checkpoints to keep '
                             '(the best one is kept besides)')
    parser.add_argument('--resume', type=str, default=None, metavar='PATH',
                        help='continue the run saved in this checkpoint; '
                             'the other flags must match its run')
    return parser


def add_run_flags(parser, name, data_dir=None):
    """Add the run flags every experiment has beside the original's.

    ``--seed``, ``--max_steps``, ``--data_dir`` (when ``data_dir`` is
    given), ``--out``, ``--log`` and the checkpoint flags of
    :func:`add_checkpoint_flags`, in one group. Their defaults give the
    original behaviour: a seed drawn at random (and logged), the original
    schedule run to its end, files in the current folder.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    name : str
        The run's file name as the help shows it, e.g.
        ``'<model><seq_len>'``.
    data_dir : str, optional
        Help text of ``--data_dir``; no such flag when None.

    Returns
    -------
    argparse._ArgumentGroup
        The group, for an experiment's own run options.

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> _ = add_run_flags(parser, '<model>')
    >>> args = parser.parse_args(['--max_steps', '10'])
    >>> args.seed, args.max_steps, args.out, args.log, args.resume
    (None, 10, '.', None, None)
    """
    group = parser.add_argument_group('run options (not in the original)')
    group.add_argument('--seed', type=int, default=None,
                       help='random seed of the initial weights and the '
                            'data (default: drawn at random and logged)')
    group.add_argument('--max_steps', type=nonnegative_int, default=None,
                       help='stop after this many batches (default: run '
                            'the original schedule to its end)')
    if data_dir is not None:
        group.add_argument('--data_dir', type=str, default=None,
                           help=data_dir)
    group.add_argument('--out', type=str, default='.',
                       help='folder for the parameters, the log and the '
                            'reports')
    group.add_argument('--log', type=str, default=None,
                       help='text log (default: <out>/%s.log); the reports '
                            'go beside it (.csv, .json, .png)' % name)
    add_checkpoint_flags(group, '<out>/%s_checkpoints/' % name)
    return group


def resume_command(module, argv):
    """The command line resuming a run, with ``{path}`` for the file.

    Parameters
    ----------
    module : str
        The experiment module, e.g. ``'indrnn.experiments.pixelmnist'``.
    argv : sequence of str
        The run's arguments; any ``--resume`` is dropped.

    Returns
    -------
    str

    Examples
    --------
    >>> command = resume_command('indrnn.experiments.adding',
    ...                          ['--seq_len', '10', '--resume', 'a.h5'])
    >>> command.split()[1:3]
    ['-m', 'indrnn.experiments.adding']
    >>> command.split()[3:]
    ['--seq_len', '10', '--resume', '{path}']
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


def add_deep_options(parser, **defaults):
    """Add the Deep IndRNN options (``--net`` and its settings) to a parser.

    Not in the original script; named as in the author's later PyTorch
    code. The default ``--net plain`` is the original network, and the
    other options then have no effect, so the original flags keep their
    meaning and defaults. The other defaults are the paper's pixel-MNIST
    settings (5 residual blocks; dense blocks (8, 6, 4), growth 16, a first
    layer of 6 * 16 units) with ``bn_after`` as in the author's code; no
    dropout unless asked for. An experiment can change these defaults
    (``defaults``), never the names.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    **defaults
        New defaults of the group's options, e.g. ``growth_rate=8``
        (``--net`` itself stays ``'plain'``).

    Returns
    -------
    argparse.ArgumentParser
        ``parser``, with the group added.

    Examples
    --------
    >>> args = add_deep_options(argparse.ArgumentParser()).parse_args(
    ...     ['--net', 'dense', '--block_config', '(2,2)'])
    >>> args.net, args.block_config, args.num_first, args.bn_location
    ('dense', (2, 2), 6, 'bn_after')
    >>> add_deep_options(argparse.ArgumentParser(),
    ...                  growth_rate=8).parse_args([]).growth_rate
    8
    """
    # Imported here: the flag helpers stay light for the scripts that
    # have no deep networks.
    from indrnn import deep
    unknown = set(defaults) - set(DEEP_OPTIONS) | (
        {'net'} & set(defaults))
    if unknown:
        raise ValueError("not Deep IndRNN options: %s"
                         % ', '.join(sorted(unknown)))
    group = parser.add_argument_group(
        'deep IndRNN networks (not in the original; Li et al. 2019)')
    group.add_argument('--net', type=str, default='plain', choices=NETS,
                       help='plain: the original stack of --num_layers '
                            'layers; residual: res-IndRNN; dense: '
                            'dense-IndRNN (IndRNN models only)')
    group.add_argument('--num_blocks', type=positive_int, default=5,
                       help='residual blocks (two IndRNN layers each) of '
                            '--net residual, of width --hidden_units')
    group.add_argument('--growth_rate', type=positive_int, default=16,
                       help='features added by each dense layer')
    group.add_argument('--block_config', type=deep.parse_block_config,
                       default=(8, 6, 4),
                       help="dense layers per dense block, e.g. '(8,6,4)'")
    group.add_argument('--num_first', type=nonnegative_int, default=6,
                       help='first layer of --net dense: num_first * '
                            'growth_rate units (0: none, the first dense '
                            'block takes the input)')
    group.add_argument('--bn_size', type=positive_int, default=4,
                       help='bottleneck width in multiples of growth_rate')
    group.add_argument('--add_last_layer', action='store_true',
                       default=False,
                       help='one more transition layer after the last '
                            'dense block')
    group.add_argument('--bn_location', type=str, default='bn_after',
                       choices=deep.BN_LOCATIONS,
                       help='batch normalisation before or after each '
                            'recurrence')
    group.add_argument('--u_lastlayer_ini', action='store_true',
                       default=False,
                       help='start the last recurrent weights in '
                            '[MAG**(-1/T), MAG**(1/T)] (near 1)')
    group.add_argument('--dropout', type=probability, default=0.0,
                       help='dropout (masks shared over time) after each '
                            'recurrent unit (residual) or growth unit '
                            '(dense)')
    group.add_argument('--dropout_sec', type=probability, default=0.0,
                       help='dense: dropout after each bottleneck unit')
    group.add_argument('--dropout_trans', type=probability, default=0.0,
                       help='dense: dropout after each transition')
    group.add_argument('--dropout_first', type=probability, default=0.0,
                       help='dense: dropout after the first layer')
    if defaults:
        parser.set_defaults(**defaults)
    return parser


def net_name(base, args):
    """A run's file name: ``base``, plus ``'_' + --net`` for a deep network.

    Parameters
    ----------
    base : str
        The original's name, e.g. ``'MNIST_indrnn'``.
    args : argparse.Namespace
        Parsed flags; without :func:`add_deep_options`'s ``--net`` the
        network is the plain one.

    Returns
    -------
    str

    Examples
    --------
    >>> import argparse
    >>> parser = add_deep_options(argparse.ArgumentParser())
    >>> net_name('action_indrnn', parser.parse_args(['--net', 'dense']))
    'action_indrnn_dense'
    >>> net_name('action_indrnn', argparse.Namespace())
    'action_indrnn'
    """
    net = getattr(args, 'net', 'plain')
    return base + ('' if net == 'plain' else '_' + net)
