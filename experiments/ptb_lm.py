"""Training of the Penn Treebank language models, shared by both scripts.

``cPTB/penntree_charlevel_rernn.py`` and
``wordPTB/penntree_wordlevel_rernn_WT.py`` of the original code train the
same way; this module declares that part once, and each script's module
(:mod:`indrnn.experiments.penntree_charlevel_rernn`,
:mod:`indrnn.experiments.penntree_wordlevel_rernn_WT`) supplies its flags,
its network builder and the few places where the two differ, as an
:class:`LMSpec`. The loop, the checkpoints, the reports and the signals
are the run engine's (:meth:`indrnn.run.Run.train`, in epochs).

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
- The schedule (:class:`indrnn.run.schedules.PlateauDecay`): keep a copy
  of all parameter values whenever the validation BPC (the perplexity with
  ``--comp_perp``) improves; once ``--pThre`` further epochs passed without
  improvement, restore that copy and multiply the learning rate by 0.2
  (``--lr_decay`` at word level); stop once it falls below 1e-6.
- At the end the parameters are saved in the legacy format as
  ``indrnn_cPTB<seq_len>.npz`` / ``indrnn_wordPTB<seq_len>.npz``.

Extras (not in the original): ``--seed``, ``--max_epochs``,
``--max_steps``, ``--train_subset`` / ``--eval_subset`` (use only the first
N tokens), ``--report_every`` (progress within an epoch), ``--data_dir``,
``--out``, ``--log``; a per-epoch CSV and JSON log and a learning-curve PNG
next to the log (the PNG needs matplotlib).

Checkpoints and exact resume (``--checkpoint_every N|TIME``,
``--keep_checkpoints``, ``--resume PATH``; see :mod:`indrnn.run.checkpoint`),
in ``<out>/<save name>_checkpoints/``. A checkpoint is taken after a
training batch and holds, besides every parameter (BatchNorm averages and
``hid_init`` included), Adam's state and the dropout counters: the
engine's position in the run (epoch, batches done in it, the running sums
of the epoch's training figures, the epoch rows so far), the epoch's
``--data_aug`` drop index (:class:`TrainText`), the carried hidden state
(:class:`indrnn.run.Carried`), the random state, the schedule (learning
rate, patience, best score and the best parameters it would restore), the
seed and the flags. A run resumed from it goes on bit for bit as if it had
not stopped. One is written every ``--checkpoint_every`` batches (or
minutes), at ``--max_steps`` (before the truncated epoch is evaluated) and
``--max_epochs``, as ``...-best.h5`` when the validation figure improves,
and when SIGINT or SIGTERM arrives: the batch in progress (or the epoch's
evaluation) finishes, the checkpoint is written and the run stops, naming
the file and the command that resumes it. ``--resume`` refuses a
checkpoint of another script or another configuration
(:data:`CONFIG_KEYS`) before anything is compiled.

Examples
--------
Both scripts run through :func:`main`::

    python -m indrnn.experiments.penntree_charlevel_rernn --hidden_units 128 \\
        --num_layers 2 --batch_size 32 --train_subset 200000 --max_steps 300
"""
import dataclasses
import itertools
from typing import Callable

import numpy as np
import pytensor
import pytensor.tensor as pt

import indrnn.lasagne as lasagne
from indrnn.data import ptb
from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from indrnn.run import Carried, PlateauDecay, Run, command
from indrnn.run.flags import DEEP_OPTIONS, add_run_flags
from indrnn.run.functions import (compile_test_fn, compile_train_fn,
                                  weight_decay)

__all__ = ["DataTooShortError", "LMSpec", "add_extra_arguments",
           "compile_functions", "LMFunctions", "run_pass", "TrainText",
           "CONFIG_KEYS", "RESUME_FREE_KEYS", "config_keys", "run_name",
           "train", "main"]


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
        self.net, self.train_fn = net, train_fn
        self.test_fn, self.bn_test_fn = test_fn, bn_test_fn
        self.sum_units, self.U_bound = sum_units, U_bound

    def zero_state(self, batch_size):
        """numpy.ndarray: a zero hidden state, ``(batch_size, sum_units)``
        of floatX."""
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
    tests = []
    for use_averages in (False, True):
        # test_fn with the batch statistics, bn_test_fn with the averages.
        prediction, hid_rec = lasagne.layers.get_output(
            layers, deterministic=True, batch_norm_use_averages=use_averages)
        _, perp, bpc = _figures(prediction, y_flat)
        tests.append(compile_test_fn(inputs, [perp, bpc, hid_rec],
                                     mode=mode))
    # The state's width from the network itself: the plain network's
    # g.sum_units, and the deep networks' sum of their recurrent widths.
    return LMFunctions(net, train_fn, tests[0], tests[1],
                       net['hid_out'].output_shape[1], g.U_bound)


def run_pass(fn, data, batch_size, seq_len, hid):
    """Run ``fn`` over the batches of ``data``, carrying the hidden state
    (an evaluation pass).

    Parameters
    ----------
    fn : callable
        ``fn(x, y, hid) -> [perp, bpc, hid_out]``.
    data : sequence of int
        Token ids.
    batch_size, seq_len : int
        Batch shape (see :func:`indrnn.data.ptb.data_iterator`).
    hid : numpy.ndarray
        Initial state (zero in the scripts).

    Returns
    -------
    dict
        ``perp`` and ``bpc`` (means over the batches), ``batches`` and
        ``hid`` (the last state).

    Examples
    --------
    >>> fn = lambda x, y, h: [np.float32(2.0), np.float32(1.0), h + 1]
    >>> r = run_pass(fn, list(range(40)), 2, 4, np.zeros((2, 3)))
    >>> r['batches'], r['perp'], r['bpc'], float(r['hid'][0, 0])
    (4, 2.0, 1.0, 4.0)
    """
    t_perp = t_bpc = 0.0
    count = 0
    for x, y in ptb.data_iterator(data, batch_size, seq_len):
        perp, bpc, hid = fn(x, y, hid)
        t_perp += float(perp)
        t_bpc += float(bpc)
        count += 1
    return {"perp": t_perp / count, "bpc": t_bpc / count, "batches": count,
            "hid": hid}


class TrainText:
    """The training batches, an epoch at a time, as the engine takes them.

    Each call gives the next batch of the epoch; at its end
    ``StopIteration``. The first call of an epoch draws its drop index
    (``rng.randint(aug_range)`` with ``--data_aug``, as the original) and
    starts the carried state from zeros; the epoch's end clears it.

    Parameters
    ----------
    data : numpy.ndarray
        The training text.
    batch_size, seq_len : int
    aug_range : int or None
        None without ``--data_aug``.
    rng : numpy.random.RandomState
    hid : indrnn.run.Carried
        The carried state.
    zero : callable
        ``zero() -> ndarray``, a zero state.

    Examples
    --------
    >>> from indrnn.run import Carried
    >>> text = TrainText(np.arange(45), 2, 4, None, None, Carried('hid'),
    ...                  lambda: np.zeros(1))
    >>> len(list(iter(text, None)))  # one epoch: 5 batches
    5
    >>> text.dropindex, text.hid.value, text.batch
    (None, None, 5)
    """

    def __init__(self, data, batch_size, seq_len, aug_range, rng, hid,
                 zero):
        self.data, self.batch_size, self.seq_len = data, batch_size, seq_len
        self.aug_range, self.rng, self.hid, self.zero = (aug_range, rng,
                                                         hid, zero)
        # Between epochs: no drop index; the batches of the epoch (from
        # ``batch`` on) once drawn.
        self.dropindex, self.batch, self.batches = None, 0, None

    def __call__(self):
        if self.dropindex is None:
            self.dropindex = 0 if self.aug_range is None \
                else self.rng.randint(self.aug_range)
            self.batch, self.hid.value = 0, self.zero()
        if self.batches is None:
            # Batches are slices of the text: skipping those a resumed
            # epoch did costs nothing.
            self.batches = itertools.islice(ptb.data_iterator(
                self.data[self.dropindex:], self.batch_size, self.seq_len),
                self.batch, None)
        batch = next(self.batches, None)
        if batch is None:
            self.dropindex = self.batches = self.hid.value = None
            raise StopIteration
        self.batch += 1
        return batch

    def size(self):
        """int: the batches of the epoch in progress."""
        return ptb.epoch_size(len(self.data) - self.dropindex,
                              self.batch_size, self.seq_len)

    def state_dict(self):
        return {"dropindex": self.dropindex, "batch": self.batch}

    def load_state_dict(self, state):
        self.dropindex, self.batch = state["dropindex"], state["batch"]
        self.batches = None


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


#: The module of each script, named in the resume command.
_SCRIPT_MODULES = {
    "indrnn_cPTB": "indrnn.experiments.penntree_charlevel_rernn",
    "indrnn_wordPTB": "indrnn.experiments.penntree_wordlevel_rernn_WT"}


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


def _load_texts(spec, args, log):
    """The training, validation and test texts (sliced) and the vocabulary
    size; :class:`DataTooShortError` when one holds no batch."""
    data_dir = args.data_dir or ptb.default_data_path()
    *texts, vocab = ptb.ptb_raw_data(data_dir,
                                     filename=spec.file_prefix(args))
    log('voc', vocab)
    texts = [np.asarray(text[:n], dtype=np.int32) for text, n in zip(
        texts, (args.train_subset, args.eval_subset, args.eval_subset))]
    log("tokens train %d valid %d test %d" % tuple(map(len, texts)))
    # With --data_aug up to aug_range - 1 leading tokens are dropped.
    dropped = spec.aug_range(args) - 1 if args.data_aug else 0
    for name, text, cut in zip(("training", "validation", "test"), texts,
                               (dropped, 0, 0)):
        if ptb.epoch_size(len(text) - cut, args.batch_size,
                          args.seq_len) <= 0:
            raise DataTooShortError(
                "the %s text (%d tokens%s) is too short for one batch of "
                "batch_size %d x seq_len %d"
                % (name, len(text) - cut, " after --data_aug" if cut else "",
                   args.batch_size, args.seq_len))
    return texts, vocab


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
    indrnn.run.loop.TrainState
        The loop's end: ``stop_reason`` (``'schedule'``, ``'max_epochs'``,
        ``'max_steps'``, ``'diverged'`` or ``'interrupted'``), ``history``
        (the epoch rows), ``step``, ``saved`` (path or None), ``signal``.

    Raises
    ------
    indrnn.data.ptb.PTBDataError
        When a PTB file is missing or unreadable.
    DataTooShortError
        When a text is shorter than one batch.
    indrnn.run.checkpoint.CheckpointError
        When ``--resume`` names an unreadable file, or one of another
        script or configuration (:class:`CheckpointMismatchError`).
    indrnn.run.checkpoint.CheckpointWriteError
        When a checkpoint cannot be written.
    """
    module = _SCRIPT_MODULES.get(spec.save_prefix,
                                 getattr(spec.make_parser, "__module__", ""))
    run = Run(args, argv, run_name(spec, args), module, config_keys(args))
    log, batch_size, seq_len = run.log, args.batch_size, args.seq_len
    (train_text, valid_text, test_text), vocab = _load_texts(spec, args, log)
    log('Compiling')
    fns = compile_functions(spec, args, seq_len1=len(train_text),
                            outputclass=vocab)
    out_layer = fns.net['out']
    if spec.print_param_count:
        log(lasagne.layers.count_params(out_layer, trainable=True))
    log("U_bound", fns.U_bound)

    metric = spec.monitor(args)
    schedule = PlateauDecay(args.lr, args.pThre, spec.lr_decay(args),
                            initial_best=spec.initial_best)
    hid = Carried("hid", (batch_size, fns.sum_units))
    # One random state for initialisation, dropout masks and --data_aug,
    # as the original's global np.random.
    batches = TrainText(train_text, batch_size, seq_len,
                        spec.aug_range(args) if args.data_aug else None,
                        run.rng, hid, lambda: fns.zero_state(batch_size))

    def step(batch, lr):
        perp, bpc, hid.value = fns.train_fn(*batch, hid.value, lr)
        return perp, bpc

    def epoch_end(state):
        log('prep', 'bpc', state.train["perp"], state.train["bpc"])
        figures = {}
        for name, fn, text, line in (
                ("valid", fns.bn_test_fn, valid_text, "bn_validprep"),
                ("test", fns.test_fn, test_text, "testprep"),
                ("bn_test", fns.bn_test_fn, test_text, "bn_testprep")):
            result = run_pass(fn, text, batch_size, seq_len,
                              fns.zero_state(batch_size))
            log(line, line.replace("prep", "bpc"), result["perp"],
                result["bpc"])
            figures.update({name + "_perp": result["perp"],
                            name + "_bpc": result["bpc"]})
        action = schedule.update(
            figures["valid_" + metric],
            lambda: lasagne.layers.get_all_param_values(out_layer),
            lambda values: lasagne.layers.set_all_param_values(out_layer,
                                                               values))
        if action == "decayed":
            log('learning rate', schedule.learning_rate)
        state.learning_rate, state.stop = (schedule.learning_rate,
                                           schedule.stop)
        return dict(figures, improved=action == "improved",
                    lr_decayed=action == "decayed")

    loop = run.train(
        step, batches, args.lr, out_layer, fns.train_fn,
        names=("perp", "bpc"), report_every=args.report_every,
        state={"schedule": schedule, "batches": batches, "hid": hid},
        best_metric="valid_" + metric,
        curves=["%s_%s" % (part, spec.curve_metric(args))
                for part in ("train", "valid", "test", "bn_test")],
        header={"vocabulary": vocab}, epoch_end=epoch_end, columns=[
            "epoch", "steps", "learning_rate"] + ["%s_%s" % (part, figure)
            for part in ("train", "valid", "test", "bn_test")
            for figure in ("perp", "bpc")] + ["improved", "lr_decayed",
                                              "epoch_time"],
        max_epochs=args.max_epochs, epoch_size=batches.size,
        throughput=("tokens", batch_size * seq_len))
    run.report.add(best_epoch=schedule.best_epoch, saved=loop.saved, **{
        "best_valid_" + metric: float(schedule.best)
        if schedule.best_epoch else None})
    log("stop:", loop.stop_reason)
    return loop


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
    return command(spec.make_parser, lambda args, argv: train(spec, args,
                                                              argv),
                   argv, data_errors=(ptb.PTBDataError, DataTooShortError))
