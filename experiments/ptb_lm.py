"""Training of the Penn Treebank language models, shared by both scripts.

``cPTB/penntree_charlevel_rernn.py`` and
``wordPTB/penntree_wordlevel_rernn_WT.py`` of the original code train the
same way; this module holds that part once, and each script's module
(:mod:`experiments.penntree_charlevel_rernn`,
:mod:`experiments.penntree_wordlevel_rernn_WT`) supplies its flags, its
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
- The schedule (:class:`PlateauSchedule`): keep a copy of all parameter
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

Examples
--------
Both scripts run through :func:`main`::

    python -m experiments.penntree_charlevel_rernn --hidden_units 128 \\
        --num_layers 2 --batch_size 32 --train_subset 200000 --max_steps 300
"""
import csv
import dataclasses
import json
import math
import os
import time
from typing import Callable

import numpy as np
import pytensor
import pytensor.tensor as pt

import indrnn.lasagne as lasagne
from indrnn.data import ptb
from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from indrnn.legacy import save_legacy_params
from indrnn.training import (ProgressLog, compile_test_fn, compile_train_fn,
                             run_command, weight_decay)

__all__ = [
    "DataTooShortError",
    "LMSpec",
    "add_extra_arguments",
    "compile_functions",
    "LMFunctions",
    "run_pass",
    "PlateauSchedule",
    "EpochLog",
    "plot_learning_curve",
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
        have ``U_bound`` and ``sum_units``.
    build_rnn_network : callable
        ``build_rnn_network(args, rnnmodel, X_sym, hid_init_sym, *,
        seq_len1, outputclass) -> net``.
    save_prefix : str
        ``'indrnn_cPTB'`` or ``'indrnn_wordPTB'``; the parameter file is
        ``<save_prefix><seq_len>.npz``.
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
    """
    group = parser.add_argument_group('extras (not in the original)')
    group.add_argument('--seed', type=int, default=None,
                       help='random seed for initialisation, dropout and '
                            '--data_aug (default: drawn at random and '
                            'logged)')
    group.add_argument('--max_epochs', type=int, default=None,
                       help='stop after this many epochs (default: run the '
                            'original schedule to its end)')
    group.add_argument('--max_steps', type=int, default=None,
                       help='stop after this many training batches; the '
                            'epoch in progress is then evaluated as usual')
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
    group.add_argument('--data_dir', type=str, default=None,
                       help='folder of the PTB files (default: '
                            '$INDRNN_DATA_DIR/ptb, else data/ptb)')
    group.add_argument('--out', type=str, default='.',
                       help='folder for the parameter file and the logs')
    group.add_argument('--log', type=str, default=None,
                       help='text log (default: <out>/<save name>.log); the '
                            'CSV, JSON and PNG go next to it')
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
        Width of the carried state.
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
    return LMFunctions(net, train_fn, test_fn, bn_test_fn, g.sum_units,
                       g.U_bound)


def run_pass(fn, data, batch_size, seq_len, hid_init, progress=None,
             max_batches=None):
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
        Initial state (zero at the start of each pass in the scripts).
    progress : callable, optional
        ``progress(batches_done, n_batches, mean_perp, mean_bpc)``, called
        after every batch.
    max_batches : int, optional
        Stop after this many batches.

    Returns
    -------
    dict
        ``perp`` and ``bpc`` (means over the batches), ``batches`` (how many
        ran) and ``hid`` (the last state).

    Raises
    ------
    FloatingPointError
        When a batch's perplexity is NaN or Inf (the original stops there).

    Examples
    --------
    >>> fn = lambda x, y, h: [np.float32(2.0), np.float32(1.0), h + 1]
    >>> r = run_pass(fn, list(range(40)), 2, 4, np.zeros((2, 3)))
    >>> r['batches'], r['perp'], r['bpc'], float(r['hid'][0, 0])
    (4, 2.0, 1.0, 4.0)
    """
    n_batches = ptb.epoch_size(len(data), batch_size, seq_len)
    if max_batches is not None:
        n_batches = min(n_batches, max_batches)
    t_perp = t_bpc = 0.0
    count = 0
    hid = hid_init
    for x, y in ptb.data_iterator(data, batch_size, seq_len):
        if count >= n_batches:
            break
        perp, bpc, hid = fn(x, y, hid)
        perp, bpc = float(perp), float(bpc)
        if not math.isfinite(perp):
            raise FloatingPointError(
                "%s detected in cost at batch %d"
                % ("NaN" if math.isnan(perp) else "INF", count + 1))
        t_perp += perp
        t_bpc += bpc
        count += 1
        if progress is not None:
            progress(count, n_batches, t_perp / count, t_bpc / count)
    if count == 0:
        return {"perp": math.nan, "bpc": math.nan, "batches": 0, "hid": hid}
    return {"perp": t_perp / count, "bpc": t_bpc / count, "batches": count,
            "hid": hid}


class PlateauSchedule:
    """The original's learning-rate schedule over epochs.

    After each epoch, :meth:`update` is given the validation figure:

    - below the best so far: it becomes the best, the parameters are copied
      (``snapshot()``) and the patience counter resets;
    - else, if the counter already exceeds ``pThre``: the learning rate is
      multiplied by ``decay``, the best parameters are restored
      (``restore(copy)``), the counter resets, and the run stops if the rate
      fell below 1e-6;
    - else the counter grows by one.

    So the first decay comes at the ``pThre + 2``-th epoch in a row without
    improvement, and every ``pThre + 2`` such epochs after that.

    Parameters
    ----------
    learning_rate : float
        Initial rate (kept as ``numpy.float32``).
    pThre : int
        Patience threshold (``--pThre``).
    decay : float
        Factor (0.2 at char level, ``--lr_decay`` at word level).
    initial_best : float
        Starting best value (the original's ``lastbpc``).
    min_lr : float
        The run stops once the rate falls below it.

    Attributes
    ----------
    learning_rate : numpy.float32
    best : float
    best_epoch : int or None
    patience : int
    stop : bool

    Examples
    --------
    >>> s = PlateauSchedule(1.0, pThre=1, decay=0.5)
    >>> [s.update(v, lambda: v, lambda p: None) for v in (5, 4, 4, 4, 4)]
    ['improved', 'improved', 'waiting', 'waiting', 'decayed']
    >>> float(s.learning_rate), s.best, s.best_epoch
    (0.5, 4, 2)
    """

    def __init__(self, learning_rate, pThre, decay, initial_best=100.0,
                 min_lr=1e-6):
        self.learning_rate = np.float32(learning_rate)
        self.pThre = pThre
        self.decay = decay
        self.best = initial_best
        self.best_epoch = None
        self.best_params = None
        self.patience = 0
        self.min_lr = min_lr
        self.stop = False
        self.epoch = 0

    def update(self, value, snapshot, restore):
        """Apply the rule to one epoch's validation figure.

        Parameters
        ----------
        value : float
            Validation BPC (or perplexity).
        snapshot : callable
            ``snapshot() -> params``, a copy of all parameter values.
        restore : callable
            ``restore(params)`` sets them back.

        Returns
        -------
        str
            ``'improved'``, ``'decayed'`` or ``'waiting'``.
        """
        self.epoch += 1
        if value < self.best:
            self.best_params = snapshot()
            self.best = value
            self.best_epoch = self.epoch
            self.patience = 0
            return "improved"
        if self.patience > self.pThre:
            self.learning_rate = np.float32(self.learning_rate * self.decay)
            # The original restores even if no epoch ever improved, which
            # fails there (best_para undefined); here nothing is restored.
            if self.best_params is not None:
                restore(self.best_params)
            self.patience = 0
            if self.learning_rate < self.min_lr:
                self.stop = True
            return "decayed"
        self.patience += 1
        return "waiting"


def _jsonable(value):
    if isinstance(value, np.float32):
        # The shortest decimal that reads back as the same float32 (0.001,
        # not 0.0010000000474974513).
        return float(str(value))
    if isinstance(value, np.generic):
        return value.item()
    return value


class EpochLog:
    """Per-epoch CSV and JSON logs, and the learning-curve PNG.

    The CSV gets one row per epoch (columns :data:`CSV_FIELDS`); the JSON
    (rewritten after every epoch, so it is complete if the run is killed)
    holds the flags, the seed and every epoch's row.

    Parameters
    ----------
    base : str
        Path without suffix; writes ``base.csv``, ``base.json`` and
        ``base.png``.
    meta : dict
        Stored under ``"run"`` in the JSON.
    metric : str
        ``'bpc'`` or ``'perp'``: what the PNG plots.
    log : ProgressLog, optional
        Where a missing matplotlib is reported (once).

    Examples
    --------
    >>> import tempfile
    >>> base = os.path.join(tempfile.mkdtemp(), 'run')
    >>> elog = EpochLog(base, {'seed': 0}, plot=False)
    >>> elog.add({'epoch': 1, 'train_bpc': 2.0})
    >>> open(base + '.csv').read().splitlines()[1].startswith('1,')
    True
    """

    def __init__(self, base, meta, metric="bpc", log=None, plot=True):
        self.base = base
        self.meta = meta
        self.metric = metric
        self.log = log
        self.plot = plot
        self.rows = []
        self.final = {}
        folder = os.path.dirname(os.path.abspath(base))
        os.makedirs(folder, exist_ok=True)
        with open(base + ".csv", "w", newline="") as f:
            csv.writer(f).writerow(CSV_FIELDS)

    def add(self, row):
        """Append an epoch's row to the CSV, rewrite the JSON and PNG.

        Parameters
        ----------
        row : dict
            Values keyed by :data:`CSV_FIELDS` (missing ones are empty).
        """
        row = {k: _jsonable(v) for k, v in row.items()}
        self.rows.append(row)
        with open(self.base + ".csv", "a", newline="") as f:
            csv.writer(f).writerow([row.get(k, "") for k in CSV_FIELDS])
        self.write_json()
        if self.plot:
            path = plot_learning_curve(self.rows, self.base + ".png",
                                       metric=self.metric)
            if path is None:
                self.plot = False
                if self.log is not None:
                    self.log("matplotlib is not installed: no learning-curve "
                             "PNG (pip install matplotlib)")

    def write_json(self):
        """Rewrite the JSON log."""
        with open(self.base + ".json", "w") as f:
            json.dump({"run": self.meta, "epochs": self.rows,
                       **self.final}, f, indent=1)


def plot_learning_curve(rows, path, metric="bpc"):
    """Plot train/valid/test figures per epoch into a PNG.

    Parameters
    ----------
    rows : list of dict
        Epoch rows with ``epoch`` and ``train_<metric>``,
        ``valid_<metric>``, ``test_<metric>``, ``bn_test_<metric>``.
    path : str
        The PNG to write.
    metric : str
        ``'bpc'`` or ``'perp'``.

    Returns
    -------
    str or None
        ``path``, or None when matplotlib is not installed.

    Examples
    --------
    ::

        plot_learning_curve([{'epoch': 1, 'train_bpc': 2.1,
                              'valid_bpc': 2.0}], 'curve.png')
    """
    try:
        import matplotlib
        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        return None
    label = {"bpc": "bits per character", "perp": "perplexity"}[metric]
    fig, ax = plt.subplots(figsize=(6, 4))
    try:
        epochs = [r["epoch"] for r in rows]
        for key, name in (("train", "train (training mode)"),
                          ("valid", "valid (BN averages)"),
                          ("test", "test (batch BN)"),
                          ("bn_test", "test (BN averages)")):
            values = [r.get(key + "_" + metric) for r in rows]
            if all(v is not None for v in values):
                ax.plot(epochs, values, marker="o", label=name)
        # Epochs are whole numbers.
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path


def _subset(data, n):
    return data if n is None else data[:n]


def train(spec, args):
    """Train a PTB model as the original script, with the extras.

    Parameters
    ----------
    spec : LMSpec
        The script.
    args : argparse.Namespace
        Parsed flags.

    Returns
    -------
    dict
        ``stop_reason`` (``'schedule'``, ``'max_epochs'``, ``'max_steps'``,
        ``'diverged'`` or ``'interrupted'``), ``epochs`` (the rows),
        ``steps``, ``best_valid``, ``saved`` (path or None) and ``fns``
        (:class:`LMFunctions`).

    Raises
    ------
    indrnn.data.ptb.PTBDataError
        When a PTB file is missing or unreadable.
    DataTooShortError
        When a text is shorter than one batch.
    """
    save_name = spec.save_prefix + str(args.seq_len)
    log_path = args.log or os.path.join(args.out, save_name + '.log')
    base = os.path.splitext(log_path)[0]
    os.makedirs(args.out, exist_ok=True)
    log = ProgressLog(log_path)
    seed = args.seed
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2 ** 32))
    log(args)
    log("seed", seed, "floatX", pytensor.config.floatX)
    # One random state for initialisation, dropout masks and --data_aug,
    # as the original's global np.random.
    rng = np.random.RandomState(seed)
    lasagne.random.set_rng(rng)

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
    schedule = PlateauSchedule(args.lr, args.pThre, spec.lr_decay(args),
                               initial_best=spec.initial_best)
    elog = EpochLog(base, {"script": spec.save_prefix, "seed": seed,
                           "floatX": pytensor.config.floatX,
                           "vocabulary": vocab,
                           "args": {k: _jsonable(v)
                                    for k, v in vars(args).items()}},
                    metric=spec.curve_metric(args), log=log)

    def snapshot():
        return lasagne.layers.get_all_param_values(out_layer)

    def restore(values):
        lasagne.layers.set_all_param_values(out_layer, values)

    steps = 0
    stop_reason = None
    start = time.time()
    max_epochs = args.max_epochs if args.max_epochs is not None else 9999
    epoch = 0
    try:
        while epoch < max_epochs:
            if args.max_steps is not None and steps >= args.max_steps:
                stop_reason = "max_steps"
                break
            epoch += 1
            epoch_start = time.time()
            dropindex = 0
            if args.data_aug:
                dropindex = rng.randint(spec.aug_range(args))
            lr = schedule.learning_rate

            def step(x, y, hid):
                return fns.train_fn(x, y, hid, lr)

            first_done = []

            def progress(done, total, perp, bpc):
                now = time.time()
                if done == 1:
                    # The speed leaves out the first batch: with the Numba
                    # backend the functions are compiled on their first call.
                    first_done.append(now)
                if args.report_every and (done % args.report_every == 0
                                          or done == total):
                    elapsed = max(now - first_done[0], 1e-9)
                    speed = (done - 1) / elapsed
                    log("epoch %d batch %d/%d train_perp %.4f train_bpc "
                        "%.4f  %.2f batch/s %.0f tokens/s"
                        % (epoch, done, total, perp, bpc, speed,
                           speed * batch_size * seq_len))

            max_batches = None
            if args.max_steps is not None:
                max_batches = args.max_steps - steps
            tr = run_pass(step, train_data[dropindex:], batch_size, seq_len,
                          fns.zero_state(batch_size), progress=progress,
                          max_batches=max_batches)
            steps += tr["batches"]
            log('prep', 'bpc', tr["perp"], tr["bpc"])
            va = run_pass(fns.bn_test_fn, valid_data, batch_size, seq_len,
                          fns.zero_state(batch_size))
            log('bn_validprep', 'bn_validbpc', va["perp"], va["bpc"])
            te = run_pass(fns.test_fn, test_data, batch_size, seq_len,
                          fns.zero_state(batch_size))
            log('testprep', 'testbpc', te["perp"], te["bpc"])
            bte = run_pass(fns.bn_test_fn, test_data, batch_size, seq_len,
                           fns.zero_state(batch_size))
            log('bn_testprep', 'bn_testbpc', bte["perp"], bte["bpc"])

            action = schedule.update(va[metric], snapshot, restore)
            if action == "decayed":
                log('learning rate', schedule.learning_rate)
            elog.add({"epoch": epoch, "steps": steps,
                      "learning_rate": lr,
                      "train_perp": tr["perp"], "train_bpc": tr["bpc"],
                      "valid_perp": va["perp"], "valid_bpc": va["bpc"],
                      "test_perp": te["perp"], "test_bpc": te["bpc"],
                      "bn_test_perp": bte["perp"], "bn_test_bpc": bte["bpc"],
                      "improved": action == "improved",
                      "lr_decayed": action == "decayed",
                      "epoch_time": round(time.time() - epoch_start, 3),
                      "time": round(time.time() - start, 3)})
            log("epoch %d done: steps %d valid_%s %.4f (best %.4f at epoch "
                "%s) %.1fs" % (epoch, steps, metric, va[metric],
                               schedule.best, schedule.best_epoch,
                               time.time() - start))
            if schedule.stop:
                stop_reason = "schedule"
                break
            if args.max_steps is not None and steps >= args.max_steps:
                stop_reason = "max_steps"
                break
        else:
            stop_reason = "max_epochs"
    except FloatingPointError as e:
        stop_reason = "diverged"
        log(str(e), "(learning rate %s); stopping, parameters not saved."
            % schedule.learning_rate)
    except KeyboardInterrupt:
        stop_reason = "interrupted"
        log("interrupted in epoch %d" % epoch)

    saved = None
    if stop_reason != "diverged":
        saved = save_legacy_params(os.path.join(args.out, save_name),
                                   out_layer)
        log("saved parameters to", saved)
    elog.final = {"stop_reason": stop_reason, "steps": steps,
                  "best_valid_" + metric: _jsonable(schedule.best)
                  if schedule.best_epoch else None,
                  "best_epoch": schedule.best_epoch, "saved": saved}
    elog.write_json()
    log("stop:", stop_reason)
    return {"stop_reason": stop_reason, "epochs": elog.rows, "steps": steps,
            "best_valid": schedule.best if schedule.best_epoch else None,
            "saved": saved, "fns": fns}


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
        0 on success, 1 if the cost became NaN or Inf, 2 when the data
        cannot be read or is too short.

    Examples
    --------
    ::

        from experiments import penntree_charlevel_rernn as cptb
        ptb_lm.main(cptb.SPEC, ['--max_steps', '10'])
    """
    args = spec.make_parser().parse_args(argv)
    return run_command(lambda: train(spec, args),
                       data_errors=(ptb.PTBDataError, DataTooShortError))
