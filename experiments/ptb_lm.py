"""Training of the Penn Treebank language models, shared by both scripts.

``cPTB/penntree_charlevel_rernn.py`` and
``wordPTB/penntree_wordlevel_rernn_WT.py`` of the original code train the
same way; this module holds that part once, and each script's module
(:mod:`indrnn.experiments.penntree_charlevel_rernn`,
:mod:`indrnn.experiments.penntree_wordlevel_rernn_WT`) supplies its flags, its
network builder and the few places where the two differ, as an
:class:`LMSpec`.

What the original does, and this module repeats:

- Three functions, each returning ``[perplexity, bpc, hid_out]`` of a batch:
  ``train_fn`` (Adam on the cross-entropy plus the optional weight decay,
  recurrent weights clipped to ``[-U_bound, U_bound]`` before every step),
  ``test_fn`` (deterministic, BatchNorm with the batch statistics) and
  ``bn_test_fn`` (deterministic, BatchNorm with its stored averages).
- The hidden state is carried: the last state of every layer
  (``net['hid_out']``) is the next batch's initial state. It starts at zero
  at the start of every training epoch and of every evaluation pass.
- An epoch: with ``--data_aug``, drop a random number of leading tokens of
  the training text (``randint(seq_len * 5)``; ``seq_len * --randstart`` at
  word level) so that the batches start elsewhere each epoch; train over
  all batches; then the validation text with ``bn_test_fn``, the test text
  with ``test_fn`` and again with ``bn_test_fn``. Each figure is the mean
  over the batches of the batch's figure (so the perplexity is the mean of
  per-batch perplexities, as the original prints it).
- The schedule (:class:`indrnn.run.schedules.PlateauDecay`): keep a copy of all parameter
  values whenever the validation BPC (the perplexity with ``--comp_perp``)
  improves; once ``--pThre`` further epochs passed without improvement,
  restore that copy and multiply the learning rate by 0.2 (``--lr_decay``
  at word level); stop once it falls below 1e-6.
- At the end the parameters are saved in the legacy format as
  ``indrnn_cPTB<seq_len>.npz`` / ``indrnn_wordPTB<seq_len>.npz``.

Extras (not in the original): ``--seed``, ``--max_epochs``,
``--max_steps``, ``--train_subset`` / ``--eval_subset`` (use only the first
N tokens), ``--report_every`` (progress within an epoch), ``--data_dir``,
``--out``, ``--log``; a per-epoch CSV and JSON log and a learning-curve PNG
next to the log (the PNG needs matplotlib).

Checkpoints and exact resume (``--checkpoint_every N|TIME``,
``--keep_checkpoints``, ``--resume PATH``; see :mod:`indrnn.checkpoint`),
in ``<out>/<save name>_checkpoints/``. A checkpoint is taken after a
training batch and holds, besides every parameter (BatchNorm averages and
``hid_init`` included), Adam's state and the dropout counters: the position
in the run (:class:`TrainPosition`: epoch, batches done in it, the epoch's
``--data_aug`` drop index, the carried hidden state and the running sums
of the epoch's training figures), the random state, the schedule
(learning rate, patience, best score and the best parameters it would
restore), the epoch rows so far, the seed and the flags. A run resumed
from it goes on bit for bit as if it had not stopped. One is written every
``--checkpoint_every`` batches (or minutes), at ``--max_steps`` (before the
truncated epoch is evaluated) and ``--max_epochs``, as ``...-best.h5`` when
the validation figure improves, and when SIGINT or SIGTERM arrives: the
batch in progress (or the epoch's evaluation) finishes, the checkpoint is
written and the run stops, naming the file and the command that resumes
it. ``--resume`` refuses a checkpoint of another script or another
configuration (:data:`CONFIG_KEYS`) before anything is compiled.

Examples
--------
Both scripts run through :func:`main`::

    python -m indrnn.experiments.penntree_charlevel_rernn --hidden_units 128 \\
        --num_layers 2 --batch_size 32 --train_subset 200000 --max_steps 300
"""
import dataclasses
import itertools
import math
import signal
import sys
import time
from typing import Callable

import numpy as np
import pytensor
import pytensor.tensor as pt

import indrnn.lasagne as lasagne
from indrnn.data import ptb
from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from indrnn.legacy import save_legacy_params
from indrnn.run import PlateauDecay, Run
from indrnn.run.report import RunReport
from indrnn.training import (StopSignals, compile_test_fn, compile_train_fn,
                             last_checkpoint_note, run_command, weight_decay)
from indrnn.checkpoint import CheckpointMismatchError, Checkpointer
from indrnn.run.flags import DEEP_OPTIONS, add_run_flags, jsonable

__all__ = [
    "DataTooShortError",
    "LMSpec",
    "add_extra_arguments",
    "compile_functions",
    "LMFunctions",
    "run_pass",
    "TrainPosition",
    "CONFIG_KEYS",
    "RESUME_FREE_KEYS",
    "config_keys",
    "run_name",
    "train",
    "main",
]

#: Columns of the per-epoch CSV log, in order.
CSV_FIELDS = ("epoch", "steps", "learning_rate", "train_perp", "train_bpc",
              "valid_perp", "valid_bpc", "test_perp", "test_bpc",
              "bn_test_perp", "bn_test_bpc", "improved", "lr_decayed",
              "epoch_time", "time")


class DataTooShortError(ValueError):
    """A text (or its ``--train_subset`` / ``--eval_subset`` slice) is too
    short for one batch of ``batch_size x seq_len`` tokens."""


@dataclasses.dataclass
class LMSpec:
    """What distinguishes the two PTB scripts.

    Parameters
    ----------
    make_parser : callable
        ``make_parser() -> argparse.ArgumentParser`` with the script's flags
        (the extras of :func:`add_extra_arguments` included).
    network_globals : callable
        ``network_globals(args, seq_len1, outputclass)``; its result must
        have ``U_bound``.
    build_rnn_network : callable
        ``build_rnn_network(args, rnnmodel, X_sym, hid_init_sym, *,
        seq_len1, outputclass) -> net`` with ``net['out']`` and
        ``net['hid_out']`` (the carried state, ``(batch, sum_units)``);
        the scripts pass their ``build_network``, which builds the original
        network or, with ``--net residual|dense``, a deep one.
    save_prefix : str
        ``'indrnn_cPTB'`` or ``'indrnn_wordPTB'``; the parameter file is
        ``<save_prefix><seq_len>.npz`` (see :func:`run_name`).
    file_prefix : callable
        ``file_prefix(args)``: ``'ptb.char.'`` or ``'ptb.'``.
    aug_range : callable
        ``aug_range(args)``: with ``--data_aug``, the number of leading
        tokens dropped each epoch is drawn from ``randint(aug_range)``.
    lr_decay : callable
        ``lr_decay(args)``: factor applied to the learning rate.
    monitor : callable
        ``monitor(args)``: ``'bpc'`` or ``'perp'``, the validation figure
        the schedule follows.
    initial_best : float
        The original's starting ``lastbpc`` (100 at char level, 1e8 at word
        level): an epoch counts as an improvement only below it.
    print_param_count : bool
        Log the number of trainable parameters (the char-level script
        prints it).
    curve_metric : callable
        ``curve_metric(args)``: ``'bpc'`` or ``'perp'``, what the
        learning-curve PNG shows.
    """

    make_parser: Callable
    network_globals: Callable
    build_rnn_network: Callable
    save_prefix: str
    file_prefix: Callable
    aug_range: Callable
    lr_decay: Callable
    monitor: Callable = lambda args: "bpc"
    initial_best: float = 100.0
    print_param_count: bool = False
    curve_metric: Callable = lambda args: "bpc"


def add_extra_arguments(parser):
    """Add the flags that are not in the original scripts.

    Their defaults keep the original behaviour (full data, no step limit).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The script's parser; changed in place.

    Returns
    -------
    argparse.ArgumentParser
        The same parser.

    Examples
    --------
    >>> import argparse
    >>> p = add_extra_arguments(argparse.ArgumentParser())
    >>> a = p.parse_args([])
    >>> a.seed, a.max_epochs, a.max_steps, a.train_subset, a.eval_subset
    (None, None, None, None, None)
    >>> p.parse_args(['--checkpoint_every', '30m']).checkpoint_every
    CheckpointInterval(minutes=30.0)
    """
    group = add_run_flags(parser, '<save name>',
                          data_dir='folder of the PTB files (default: '
                                   '$INDRNN_DATA_DIR/ptb, else data/ptb)')
    group.add_argument('--max_epochs', type=int, default=None,
                       help='stop after this many epochs (default: run the '
                            'original schedule to its end)')
    group.add_argument('--train_subset', type=int, default=None,
                       help='train on the first N tokens of the training '
                            'text only (the vocabulary still comes from the '
                            'whole file; U_bound is computed over the N '
                            'tokens)')
    group.add_argument('--eval_subset', type=int, default=None,
                       help='evaluate on the first N tokens of the '
                            'validation and test texts only')
    group.add_argument('--report_every', type=int, default=100,
                       help='training batches between progress lines '
                            'within an epoch (0: none)')
    return parser


class LMFunctions:
    """The three compiled functions of the scripts and the network.

    Attributes
    ----------
    net : dict
        The layers (``net['out']``, ``net['hid_out']``).
    train_fn : callable
        ``train_fn(x, y, hid_init, lr) -> [perp, bpc, hid_out]``.
    test_fn : callable
        ``test_fn(x, y, hid_init) -> [perp, bpc, hid_out]``, BatchNorm with
        batch statistics.
    bn_test_fn : callable
        The same with the stored BatchNorm averages.
    sum_units : int
        Width of the carried state (``net['hid_out']``).
    U_bound : float
        The recurrent-weight bound.
    """

    def __init__(self, net, train_fn, test_fn, bn_test_fn, sum_units,
                 U_bound):
        self.net = net
        self.train_fn = train_fn
        self.test_fn = test_fn
        self.bn_test_fn = bn_test_fn
        self.sum_units = sum_units
        self.U_bound = U_bound

    def zero_state(self, batch_size):
        """A zero hidden state, ``(batch_size, sum_units)`` of floatX.

        Parameters
        ----------
        batch_size : int

        Returns
        -------
        numpy.ndarray
        """
        return np.zeros((batch_size, self.sum_units),
                        dtype=pytensor.config.floatX)


def _figures(prediction, y_flat):
    loss = lasagne.objectives.categorical_crossentropy(prediction,
                                                       y_flat).mean()
    return loss, pt.exp(loss), loss / np.log(2.0)


def compile_functions(spec, args, seq_len1, outputclass, train=True,
                      mode=None):
    """Build the network and compile the script's functions.

    Parameters
    ----------
    spec : LMSpec
        The script.
    args : argparse.Namespace
        Parsed flags.
    seq_len1 : int
        Length of the training text (for ``U_bound``).
    outputclass : int
        Vocabulary size.
    train : bool
        Compile ``train_fn`` too (False leaves it None: evaluation only).
    mode : str or Mode, optional
        PyTensor mode (the configured default when None).

    Returns
    -------
    LMFunctions

    Examples
    --------
    ::

        fns = compile_functions(cptb.SPEC, args, len(train_data), 50)
        perp, bpc, hid = fns.test_fn(x, y, fns.zero_state(len(x)))
    """
    g = spec.network_globals(args, seq_len1, outputclass)
    X_sym = pt.imatrix('inputs')
    y_sym = pt.imatrix('label')
    hid_init_sym = pt.matrix(dtype=pytensor.config.floatX)
    net = spec.build_rnn_network(args, IndRNNLayer_onlyrecurrent, X_sym,
                                 hid_init_sym, seq_len1=seq_len1,
                                 outputclass=outputclass)
    y_flat = y_sym.reshape((-1,))
    layers = [net['out'], net['hid_out']]
    inputs = [X_sym, y_sym, hid_init_sym]

    train_fn = None
    if train:
        prediction, hid_rec = lasagne.layers.get_output(
            layers, deterministic=False)
        loss, perp, bpc = _figures(prediction, y_flat)
        cost = loss
        if args.use_weightdecay_nohiddenW:
            # Added term by term, in get_all_params order, as the original.
            cost = sum(weight_decay(net['out'], args.decayfactor), cost)
        params = lasagne.layers.get_all_params(net['out'], trainable=True)
        train_fn = compile_train_fn(inputs, cost, params,
                                    outputs=[perp, bpc, hid_rec],
                                    U_bound=g.U_bound, mode=mode)

    prediction, hid_rec = lasagne.layers.get_output(
        layers, deterministic=True, batch_norm_use_averages=False)
    _, perp, bpc = _figures(prediction, y_flat)
    test_fn = compile_test_fn(inputs, [perp, bpc, hid_rec], mode=mode)

    prediction, hid_rec = lasagne.layers.get_output(layers,
                                                    deterministic=True)
    _, perp, bpc = _figures(prediction, y_flat)
    bn_test_fn = compile_test_fn(inputs, [perp, bpc, hid_rec], mode=mode)
    # The state's width from the network itself: the plain network's
    # g.sum_units, and the deep networks' sum of their recurrent widths.
    sum_units = net['hid_out'].output_shape[1]
    return LMFunctions(net, train_fn, test_fn, bn_test_fn, sum_units,
                       g.U_bound)


def run_pass(fn, data, batch_size, seq_len, hid_init, progress=None,
             max_batches=None, start=0, sums=(0.0, 0.0), after_batch=None,
             what="cost"):
    """Run ``fn`` over the batches of ``data``, carrying the hidden state.

    Parameters
    ----------
    fn : callable
        ``fn(x, y, hid) -> [perp, bpc, hid_out]``; for training, a wrapper
        that passes the learning rate.
    data : sequence of int
        Token ids.
    batch_size, seq_len : int
        Batch shape (see :func:`indrnn.data.ptb.data_iterator`).
    hid_init : numpy.ndarray
        Initial state (zero at the start of each pass in the scripts; the
        saved state when a pass is resumed).
    progress : callable, optional
        ``progress(batches_done, n_batches, mean_perp, mean_bpc)``, called
        after every batch.
    max_batches : int, optional
        Stop once this many batches (``start`` included) are done.
    start : int
        Batches done before (a resumed pass): they are skipped, and the
        count and the means include them.
    sums : (float, float)
        The sums of the perplexities and BPCs of those ``start`` batches.
    after_batch : callable, optional
        ``after_batch(batches_done, sum_perp, sum_bpc, hid) -> bool``,
        called after every batch (after ``progress``); True stops the pass
        there.
    what : str
        Named in the error when a figure is not finite.

    Returns
    -------
    dict
        ``perp`` and ``bpc`` (means over the batches), ``batches`` (how many
        are done, ``start`` included), ``hid`` (the last state), ``sums``
        (of the perplexities and BPCs) and ``stopped`` (whether
        ``after_batch`` stopped the pass).

    Raises
    ------
    FloatingPointError
        When a batch's perplexity or BPC is NaN or Inf (the original stops
        there).

    Examples
    --------
    >>> fn = lambda x, y, h: [np.float32(2.0), np.float32(1.0), h + 1]
    >>> r = run_pass(fn, list(range(40)), 2, 4, np.zeros((2, 3)))
    >>> r['batches'], r['perp'], r['bpc'], float(r['hid'][0, 0])
    (4, 2.0, 1.0, 4.0)

    The same pass in two parts, the second resumed from the first:

    >>> a = run_pass(fn, list(range(40)), 2, 4, np.zeros((2, 3)),
    ...              max_batches=1)
    >>> b = run_pass(fn, list(range(40)), 2, 4, a['hid'], start=1,
    ...              sums=a['sums'])
    >>> b['batches'], b['perp'], float(b['hid'][0, 0])
    (4, 2.0, 4.0)
    """
    n_batches = ptb.epoch_size(len(data), batch_size, seq_len)
    if max_batches is not None:
        n_batches = min(n_batches, max_batches)
    t_perp, t_bpc = (float(v) for v in sums)
    count = int(start)
    hid = hid_init
    stopped = False
    # Batches are slices of the text, so skipping the first ``start``
    # costs nothing and the rest are the ones an unbroken pass sees.
    batches = itertools.islice(
        ptb.data_iterator(data, batch_size, seq_len), count, None)
    for x, y in batches:
        if count >= n_batches:
            break
        perp, bpc, hid = fn(x, y, hid)
        perp, bpc = float(perp), float(bpc)
        for name, value in (("perplexity", perp), ("BPC", bpc)):
            if not math.isfinite(value):
                raise FloatingPointError(
                    "%s detected in the %s %s at batch %d"
                    % ("NaN" if math.isnan(value) else "Inf", what, name,
                       count + 1))
        t_perp += perp
        t_bpc += bpc
        count += 1
        if progress is not None:
            progress(count, n_batches, t_perp / count, t_bpc / count)
        if after_batch is not None and after_batch(count, t_perp, t_bpc,
                                                   hid):
            stopped = True
            break
    result = {"batches": count, "hid": hid, "sums": (t_perp, t_bpc),
              "stopped": stopped}
    if count == 0:
        result.update(perp=math.nan, bpc=math.nan)
    else:
        result.update(perp=t_perp / count, bpc=t_bpc / count)
    return result


@dataclasses.dataclass
class TrainPosition:
    """Where a PTB training run is: what a checkpoint needs besides the
    network, the optimizer, the random state and the schedule.

    A run is either inside an epoch's training pass (``in_epoch``: batch
    ``batch`` of epoch ``epoch`` is done, the epoch not yet evaluated) or
    between epochs (``epoch`` epochs are done and evaluated).

    Attributes
    ----------
    steps : int
        Training batches done in the run.
    epoch : int
        The epoch in progress, or the number of epochs done.
    in_epoch : bool
        Whether an epoch's training pass is in progress.
    batch : int
        Batches done in that epoch.
    dropindex : int
        Leading tokens dropped in that epoch (``--data_aug``).
    sum_perp, sum_bpc : float
        Sums of that epoch's training perplexities and BPCs so far.
    hid : numpy.ndarray or None
        The carried hidden state after the last batch (None between
        epochs: each starts from zeros).
    elapsed : float
        Seconds since the run started, when the position was saved (a
        resumed run's clock goes on from it).

    Examples
    --------
    >>> pos = TrainPosition()
    >>> pos.start_epoch(dropindex=7, hid=np.zeros((2, 3)))
    >>> pos.epoch, pos.in_epoch, pos.batch, pos.dropindex
    (1, True, 0, 7)
    >>> TrainPosition.from_dict(pos.to_dict(), pos.hid) == pos
    True
    """

    steps: int = 0
    epoch: int = 0
    in_epoch: bool = False
    batch: int = 0
    dropindex: int = 0
    sum_perp: float = 0.0
    sum_bpc: float = 0.0
    hid: np.ndarray = dataclasses.field(default=None, compare=False)
    elapsed: float = dataclasses.field(default=0.0, compare=False)

    def start_epoch(self, dropindex, hid):
        """Begin the next epoch's training pass.

        Parameters
        ----------
        dropindex : int
            Leading tokens dropped in it.
        hid : numpy.ndarray
            The initial state (zeros).
        """
        self.epoch += 1
        self.in_epoch = True
        self.batch = 0
        self.dropindex = int(dropindex)
        self.sum_perp = self.sum_bpc = 0.0
        self.hid = hid

    def end_epoch(self):
        """The epoch's training pass and evaluation are done."""
        self.in_epoch = False
        self.batch = self.dropindex = 0
        self.sum_perp = self.sum_bpc = 0.0
        self.hid = None

    def to_dict(self):
        """The position as JSON-serialisable values, without ``hid``.

        Returns
        -------
        dict
            With ``step`` (= ``steps``), as
            :class:`indrnn.checkpoint.Checkpointer` requires.
        """
        # Python floats survive JSON exactly (repr round-trips).
        return {"step": self.steps, "epoch": self.epoch,
                "in_epoch": self.in_epoch, "batch": self.batch,
                "dropindex": self.dropindex, "sum_perp": self.sum_perp,
                "sum_bpc": self.sum_bpc, "elapsed": self.elapsed}

    @classmethod
    def from_dict(cls, state, hid=None):
        """The position saved by :meth:`to_dict`.

        Parameters
        ----------
        state : dict
        hid : numpy.ndarray, optional
            The carried state (required inside an epoch).

        Returns
        -------
        TrainPosition
        """
        pos = cls(steps=int(state["step"]), epoch=int(state["epoch"]),
                  in_epoch=bool(state["in_epoch"]),
                  batch=int(state["batch"]),
                  dropindex=int(state["dropindex"]),
                  sum_perp=float(state["sum_perp"]),
                  sum_bpc=float(state["sum_bpc"]),
                  elapsed=float(state.get("elapsed", 0.0)))
        pos.hid = hid if pos.in_epoch else None
        return pos


#: Flags that must equal the checkpoint's on ``--resume``: those that shape
#: the network, the data or the training (both scripts' original flags and
#: the data slices). :func:`config_keys` adds the Deep IndRNN options and
#: any other flag not in :data:`RESUME_FREE_KEYS`.
CONFIG_KEYS = ('hidden_units', 'batch_size', 'seq_len', 'num_layers', 'lr',
               'act', 'data_aug', 'gradclipvalue', 'MAG', 'fix_bound',
               'word_level', 'w_tying', 'use_bn_afterrnn', 'use_dropout',
               'drop_embedding', 'droprate', 'droplayers', 'droprate_last',
               'use_residual', 'residual_layers', 'residual_block',
               'unit_factor', 'use_weightdecay_nohiddenW', 'decayfactor',
               'pThre', 'ini_in2hid', 'ini_b', 'ini_last', 'ini_normal',
               'U_std', 'U_mean', 'Heinfactor', 'lr_decay', 'randstart',
               'comp_perp', 'train_subset', 'eval_subset')

#: Flags a resumed run may change: the seed (a resumed run takes the
#: checkpoint's), the stopping rules, where things go and the checkpoint
#: flags themselves.
RESUME_FREE_KEYS = ('seed', 'max_epochs', 'max_steps', 'report_every',
                    'data_dir', 'out', 'log', 'checkpoint_every',
                    'keep_checkpoints', 'resume')


def config_keys(args):
    """The flags of ``args`` a resumed run must share with its checkpoint.

    Those of :data:`CONFIG_KEYS` that ``args`` has (the two scripts
    differ), the Deep IndRNN options (``--net`` and its settings,
    :data:`indrnn.run.flags.DEEP_OPTIONS`) where the parser has them, and
    every other flag not in :data:`RESUME_FREE_KEYS`, so that a flag added
    later is checked unless declared free.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    list of str

    Examples
    --------
    >>> import argparse
    >>> config_keys(argparse.Namespace(seq_len=5, seed=1, net='plain',
    ...                                max_steps=3, embed_size=4))
    ['seq_len', 'net', 'embed_size']
    """
    known = [k for k in CONFIG_KEYS + tuple(DEEP_OPTIONS)
             if hasattr(args, k)]
    others = [k for k in vars(args)
              if k not in known and k not in RESUME_FREE_KEYS]
    return known + others


def _subset(data, n):
    return data if n is None else data[:n]


#: The module of each script, named in the resume command.
_SCRIPT_MODULES = {
    "indrnn_cPTB": "indrnn.experiments.penntree_charlevel_rernn",
    "indrnn_wordPTB": "indrnn.experiments.penntree_wordlevel_rernn_WT"}


def _script_module(spec):
    return _SCRIPT_MODULES.get(spec.save_prefix,
                               getattr(spec.make_parser, "__module__", ""))


def run_name(spec, args):
    """Base name of a run's files: ``<save_prefix><seq_len>`` as the
    original, with ``_residual`` or ``_dense`` after the prefix for a deep
    network, so deep and plain runs in one folder do not overwrite each
    other.

    Parameters
    ----------
    spec : LMSpec
    args : argparse.Namespace

    Returns
    -------
    str

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> spec = SimpleNamespace(save_prefix='indrnn_cPTB')
    >>> run_name(spec, SimpleNamespace(seq_len=50))
    'indrnn_cPTB50'
    >>> run_name(spec, SimpleNamespace(seq_len=50, net='dense'))
    'indrnn_cPTB_dense50'
    """
    net = getattr(args, 'net', 'plain')
    return "%s%s%d" % (spec.save_prefix, '' if net == 'plain' else '_' + net,
                       args.seq_len)


def train(spec, args, argv=None):
    """Train a PTB model as the original script, with the extras.

    Parameters
    ----------
    spec : LMSpec
        The script.
    args : argparse.Namespace
        Parsed flags.
    argv : list of str, optional
        The command line, for the resume command printed when the run is
        interrupted (a generic hint without it).

    Returns
    -------
    dict
        ``stop_reason`` (``'schedule'``, ``'max_epochs'``, ``'max_steps'``,
        ``'diverged'`` or ``'interrupted'``), ``epochs`` (the rows),
        ``steps``, ``best_valid``, ``saved`` (path or None), ``signal``
        (the number of the signal that stopped the run, or None),
        ``checkpoint`` (the last numbered checkpoint written, or None) and
        ``fns`` (:class:`LMFunctions`).

    Raises
    ------
    indrnn.data.ptb.PTBDataError
        When a PTB file is missing or unreadable.
    DataTooShortError
        When a text is shorter than one batch.
    indrnn.checkpoint.CheckpointError
        When ``--resume`` names an unreadable file, or one of another
        script or configuration (:class:`CheckpointMismatchError`).
    indrnn.checkpoint.CheckpointWriteError
        When a checkpoint cannot be written.
    """
    run = Run(args, argv, run_name(spec, args), _script_module(spec),
              config_keys(args))
    log, seed = run.log, run.seed
    # One random state for initialisation, dropout masks and --data_aug,
    # as the original's global np.random.
    rng = run.rng

    data_dir = args.data_dir or ptb.default_data_path()
    train_data, valid_data, test_data, vocab = ptb.ptb_raw_data(
        data_dir, filename=spec.file_prefix(args))
    log('voc', vocab)
    train_data = np.asarray(_subset(train_data, args.train_subset),
                            dtype=np.int32)
    valid_data = np.asarray(_subset(valid_data, args.eval_subset),
                            dtype=np.int32)
    test_data = np.asarray(_subset(test_data, args.eval_subset),
                           dtype=np.int32)
    log("tokens train %d valid %d test %d" % (len(train_data),
                                              len(valid_data),
                                              len(test_data)))
    batch_size, seq_len = args.batch_size, args.seq_len
    # With --data_aug up to aug_range - 1 leading tokens are dropped.
    dropped = spec.aug_range(args) - 1 if args.data_aug else 0
    for name, size in (("training", len(train_data) - dropped),
                       ("validation", len(valid_data)),
                       ("test", len(test_data))):
        if ptb.epoch_size(size, batch_size, seq_len) <= 0:
            raise DataTooShortError(
                "the %s text (%d tokens%s) is too short for one batch of "
                "batch_size %d x seq_len %d"
                % (name, size, " after --data_aug" if dropped and
                   name == "training" else "", batch_size, seq_len))

    log('Compiling')
    fns = compile_functions(spec, args, seq_len1=len(train_data),
                            outputclass=vocab)
    out_layer = fns.net['out']
    if spec.print_param_count:
        log(lasagne.layers.count_params(out_layer, trainable=True))
    log("U_bound", fns.U_bound)

    metric = spec.monitor(args)
    schedule = PlateauDecay(args.lr, args.pThre, spec.lr_decay(args),
                               initial_best=spec.initial_best)
    pos = TrainPosition()
    report = RunReport(run.report_base, dict(run.header(), vocabulary=vocab),
                       curves=['%s_%s' % (part, spec.curve_metric(args))
                               for part in ('train', 'valid', 'test',
                                            'bn_test')],
                       log=log, columns=CSV_FIELDS[:-1], x='epoch',
                       plot_always=True)
    rows = []
    checkpointer = None
    if args.checkpoint_every or args.resume:
        saved_arrays = {}

        def get_state():
            return {"script": run.module, "seed": seed,
                    "state": {"schedule": schedule.state_dict(),
                              "rows": rows}}

        def get_arrays():
            return {"hid": [pos.hid] if pos.in_epoch else [],
                    "best_params": list(schedule.best_params or [])}

        checkpointer = Checkpointer(
            run.base + '_checkpoints',
            # hid_out too, in case it holds parameters out does not.
            [out_layer, fns.net['hid_out']], fns.train_fn, rngs=[rng],
            args=args, keep=args.keep_checkpoints, get_state=get_state,
            get_arrays=get_arrays, set_arrays=saved_arrays.update,
            resume_command=run.resume_command())
        if args.resume:
            loop = checkpointer.load(args.resume,
                                     config_keys=config_keys(args))
            hid = saved_arrays.get("hid") or [None]
            pos = TrainPosition.from_dict(loop, hid[0])
            if pos.in_epoch and (
                    hid[0] is None or hid[0].shape != (batch_size,
                                                       fns.sum_units)):
                raise CheckpointMismatchError(
                    "checkpoint %s: its carried state is not a (%d, %d) "
                    "array" % (args.resume, batch_size, fns.sum_units))
            saved = run.resumed["state"]
            schedule.load_state_dict(saved["schedule"],
                                     saved_arrays.get("best_params"))
            rows.extend(saved["rows"])
            log("resumed from %s at step %d (%s)"
                % (args.resume, pos.steps,
                   "epoch %d, batch %d" % (pos.epoch, pos.batch)
                   if pos.in_epoch else "after epoch %d" % pos.epoch))

    def snapshot():
        return lasagne.layers.get_all_param_values(out_layer)

    def restore(values):
        lasagne.layers.set_all_param_values(out_layer, values)

    start = time.time() - pos.elapsed
    checkpoint_every = args.checkpoint_every
    # The position of the last checkpoint written (a resumed run starts
    # at its checkpoint's).
    written = [None]

    def here():
        return (pos.steps, pos.epoch, pos.in_epoch)

    if args.resume:
        written[0] = here()

    def write_checkpoint(best=False):
        pos.elapsed = time.time() - start
        try:
            path = checkpointer.save(pos.to_dict(), best=best)
        except OSError as exc:
            log("checkpoint at step %d failed: %s" % (pos.steps, exc))
            raise
        if not best:
            written[0] = here()
            if checkpoint_every is not None:
                checkpoint_every.mark()
        return path

    def checkpoint_if_new():
        if checkpointer is not None and (written[0] != here()
                                         or checkpointer.last_path is None):
            return write_checkpoint()
        return checkpointer.last_path if checkpointer is not None else None

    # SIGINT and SIGTERM, with a checkpointer: finish the batch (or the
    # epoch's evaluation), write a checkpoint, stop. A second signal acts
    # as it would without this handler.
    signals = StopSignals(checkpointer is not None)
    signals.install()

    def stop_on_signal():
        path = checkpoint_if_new()
        log("%s received; stopped after step %d; checkpoint written to %s; "
            "%s" % (signal.Signals(signals[0]).name, pos.steps, path,
                    checkpointer.resume_hint(path)))

    def max_steps_reached():
        return args.max_steps is not None and pos.steps >= args.max_steps

    stop_reason = None
    phase = ["training"]    # named when a figure is NaN or Inf
    max_epochs = args.max_epochs if args.max_epochs is not None else 9999
    try:
        while True:
            if not pos.in_epoch:
                if schedule.stop:   # resumed after the schedule's end
                    stop_reason = "schedule"
                    break
                if pos.epoch >= max_epochs:
                    stop_reason = "max_epochs"
                    # A longer --max_epochs can go on from it.
                    checkpoint_if_new()
                    break
                if max_steps_reached():
                    stop_reason = "max_steps"
                    break
                dropindex = 0
                if args.data_aug:
                    dropindex = rng.randint(spec.aug_range(args))
                pos.start_epoch(dropindex, fns.zero_state(batch_size))
            epoch = pos.epoch
            epoch_start = time.time()
            lr = schedule.learning_rate

            def step(x, y, hid):
                return fns.train_fn(x, y, hid, lr)

            first_done = []

            def progress(done, total, perp, bpc):
                now = time.time()
                if not first_done:
                    # The speed leaves out the first batch: with the Numba
                    # backend the functions are compiled on their first call.
                    first_done.append((done, now))
                if args.report_every and (done % args.report_every == 0
                                          or done == total):
                    elapsed = max(now - first_done[0][1], 1e-9)
                    speed = (done - first_done[0][0]) / elapsed
                    log("epoch %d batch %d/%d train_perp %.4f train_bpc "
                        "%.4f  %.2f batch/s %.0f tokens/s"
                        % (epoch, done, total, perp, bpc, speed,
                           speed * batch_size * seq_len))

            def after_batch(done, sum_perp, sum_bpc, hid):
                pos.steps += 1
                pos.batch, pos.hid = done, hid
                pos.sum_perp, pos.sum_bpc = sum_perp, sum_bpc
                if checkpointer is not None and checkpoint_every is not None \
                        and checkpoint_every.due(pos.steps):
                    write_checkpoint()
                return bool(signals)

            max_batches = None
            if args.max_steps is not None:
                # Batches of this epoch, those done before included.
                max_batches = args.max_steps - (pos.steps - pos.batch)
            phase[0] = "training"
            tr = run_pass(step, train_data[pos.dropindex:], batch_size,
                          seq_len, pos.hid, progress=progress,
                          max_batches=max_batches, start=pos.batch,
                          sums=(pos.sum_perp, pos.sum_bpc),
                          after_batch=after_batch, what="training")
            if tr["stopped"]:
                stop_reason = "interrupted"
                stop_on_signal()
                break
            if max_steps_reached():
                # Before the truncated epoch is evaluated (and the schedule
                # perhaps restores parameters): resumed from it, a run
                # finishes the epoch as an uninterrupted one.
                checkpoint_if_new()
            log('prep', 'bpc', tr["perp"], tr["bpc"])
            zero = fns.zero_state(batch_size)
            phase[0] = "validation"
            va = run_pass(fns.bn_test_fn, valid_data, batch_size, seq_len,
                          zero, what="validation")
            log('bn_validprep', 'bn_validbpc', va["perp"], va["bpc"])
            phase[0] = "test"
            te = run_pass(fns.test_fn, test_data, batch_size, seq_len,
                          zero, what="test (batch statistics)")
            log('testprep', 'testbpc', te["perp"], te["bpc"])
            bte = run_pass(fns.bn_test_fn, test_data, batch_size, seq_len,
                           zero, what="test (BN averages)")
            log('bn_testprep', 'bn_testbpc', bte["perp"], bte["bpc"])

            action = schedule.update(va[metric], snapshot, restore)
            pos.end_epoch()
            if action == "decayed":
                log('learning rate', schedule.learning_rate)
            row = {"epoch": epoch, "steps": pos.steps,
                   "learning_rate": lr,
                   "train_perp": tr["perp"], "train_bpc": tr["bpc"],
                   "valid_perp": va["perp"], "valid_bpc": va["bpc"],
                   "test_perp": te["perp"], "test_bpc": te["bpc"],
                   "bn_test_perp": bte["perp"], "bn_test_bpc": bte["bpc"],
                   "improved": action == "improved",
                   "lr_decayed": action == "decayed",
                   "epoch_time": round(time.time() - epoch_start, 3),
                   "time": round(time.time() - start, 3)}
            # JSON's values, as a resumed run reads the earlier rows back
            # (the float32 rate as 0.01, not 0.009999999776482582).
            rows.append({k: jsonable(v) for k, v in row.items()})
            report.write(rows)
            log("epoch %d done: steps %d valid_%s %.4f (best %.4f at epoch "
                "%s) %.1fs" % (epoch, pos.steps, metric, va[metric],
                               schedule.best, schedule.best_epoch,
                               time.time() - start))
            if action == "improved" and checkpointer is not None:
                log("best checkpoint written to",
                    write_checkpoint(best=True))
            if signals:
                # Arrived during the evaluation.
                stop_reason = "interrupted"
                stop_on_signal()
                break
            if schedule.stop:
                stop_reason = "schedule"
                break
            if max_steps_reached():
                stop_reason = "max_steps"
                break
    except FloatingPointError as e:
        stop_reason = "diverged"
        where = ("step %d, epoch %d" % (pos.steps + 1, pos.epoch)
                 if phase[0] == "training" else
                 "epoch %d, after step %d" % (pos.epoch, pos.steps))
        log("%s (%s, learning rate %s); stopping, parameters not saved.%s"
            % (e, where, schedule.learning_rate,
               last_checkpoint_note(checkpointer)))
    except KeyboardInterrupt:
        stop_reason = "interrupted"
        log("interrupted in epoch %d" % pos.epoch)
    finally:
        signals.restore()

    saved = None
    if stop_reason != "diverged":
        saved = save_legacy_params(run.base, out_layer)
        log("saved parameters to", saved)
    report.write(rows, stop_reason=stop_reason, steps=pos.steps,
                 best_epoch=schedule.best_epoch, saved=saved,
                 **{"best_valid_" + metric: jsonable(schedule.best)
                    if schedule.best_epoch else None})
    log("stop:", stop_reason)
    return {"stop_reason": stop_reason, "epochs": rows,
            "steps": pos.steps,
            "best_valid": schedule.best if schedule.best_epoch else None,
            "saved": saved, "fns": fns,
            "signal": signals[0] if stop_reason == "interrupted"
            and signals else None,
            "checkpoint": checkpointer.last_path if checkpointer else None}


def main(spec, argv=None):
    """Parse the flags and train; the body of both scripts' ``main``.

    Parameters
    ----------
    spec : LMSpec
        The script.
    argv : list of str, optional
        Command-line arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    int
        0 on success, 1 if the cost became NaN or Inf or a checkpoint could
        not be read or written (or belongs to another configuration), 2
        when the data cannot be read or is too short, 128 + the signal
        number if stopped by SIGINT or SIGTERM.

    Examples
    --------
    ::

        from . import penntree_charlevel_rernn as cptb
        ptb_lm.main(cptb.SPEC, ['--max_steps', '10'])
    """
    if argv is None:
        argv = sys.argv[1:]
    args = spec.make_parser().parse_args(argv)
    return run_command(lambda: train(spec, args, argv=argv),
                       data_errors=(ptb.PTBDataError, DataTooShortError))
