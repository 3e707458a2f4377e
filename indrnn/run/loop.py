"""
The training loop shared by the experiments.

The original scripts call their training function on batch after batch,
averaging the training figures and, every so many steps, evaluating and
adjusting the learning rate. This module holds that loop; each experiment
supplies its network, its batches and its evaluation and schedule hooks
(through :mod:`indrnn.run.engine`), and the functions come from
:mod:`indrnn.run.functions`.

- :func:`train_loop` runs the loop, by steps or in epochs;
  :class:`TrainState` is its state; :class:`ProgressLog` prints and logs;
  :class:`CheckpointInterval` says when a checkpoint is due;
  :class:`StopSignals` turns SIGINT/SIGTERM into a clean stop;
  :func:`writing` opens a result file; :func:`jsonable` gives a figure as
  JSON holds it (the epoch rows, the reports).
- :func:`run_command` runs an experiment's body as its command line does
  and turns the outcome into an exit status.
"""
import contextlib
import errno
import math
import os
import re
import sys
import signal
import threading
import time

import numpy as np

from .. import lasagne
from ..legacy import save_legacy_params
from .functions import float32_unless_configured

__all__ = [
    "ProgressLog",
    "TrainState",
    "CheckpointInterval",
    "StopSignals",
    "last_checkpoint_note",
    "writing",
    "jsonable",
    "train_loop",
    "run_command",
]


@contextlib.contextmanager
def writing(path, mode="w", **kwargs):
    """``open(path, mode)`` for a result file (log, report, CSV).

    A failed write (a full disk) raises an ``OSError`` that names
    ``path``: ``write`` and ``close`` errors do not name their file,
    and :func:`run_command` reports the file in its one-line message.

    Parameters
    ----------
    path : path-like
    mode : str
    **kwargs
        Passed to ``open`` (``newline``, ``encoding``).

    Examples
    --------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), 'a.csv')
    >>> with writing(path, newline='') as f:
    ...     _ = f.write('step,loss\\n')
    >>> open(path).read()
    'step,loss\\n'
    """
    try:
        with open(path, mode, **kwargs) as f:
            yield f
    except OSError as exc:
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror, os.fspath(path)) from exc
        raise


def jsonable(value):
    """A flag value or figure as JSON can hold it, for the run reports.

    Parameters
    ----------
    value : object

    Returns
    -------
    object
        float32 as the shortest decimal that reads back as the same
        float32 (0.001, not 0.0010000000474974513); other numpy scalars as
        Python numbers; arrays as lists; JSON's own types unchanged;
        anything else (``--checkpoint_every``'s interval) as its text.

    Examples
    --------
    >>> jsonable(np.float32(0.001)), jsonable(np.int64(3))
    (0.001, 3)
    >>> jsonable(CheckpointInterval(minutes=30))
    '30m'
    """
    if isinstance(value, np.float32):
        return float(str(value))
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if value is None or isinstance(value, (bool, str, int, float, list,
                                           tuple, dict)):
        return value
    # Returned unchanged as a json.dump default it would fail ("Circular
    # reference detected").
    return str(value)


class ProgressLog:
    """Print progress lines and append them to a log file.

    Parameters
    ----------
    path : str, optional
        Log file; lines are appended (its folder is created). Only printed
        when None.
    print_fn : callable
        Where lines are printed; ``print`` by default, None to not print.

    Examples
    --------
    >>> log = ProgressLog(None)
    >>> log('step', 100, 'loss', 0.5)
    step 100 loss 0.5
    """

    def __init__(self, path=None, print_fn=print):
        self.path = path
        self.print_fn = print_fn
        if path:
            folder = os.path.dirname(os.path.abspath(path))
            os.makedirs(folder, exist_ok=True)

    def __call__(self, *parts):
        line = " ".join(str(p) for p in parts)
        if self.print_fn is not None:
            self.print_fn(line)
        if self.path:
            # Opened per line so the log is complete even if the run is
            # killed; lines are rare (one per report).
            with writing(self.path, "a") as f:
                f.write(line + "\n")


class TrainState:
    """What :func:`train_loop` passes to its hooks.

    Hooks read the figures and may change ``learning_rate``, set ``stop``
    (with ``stop_reason``) and call ``log``.

    Attributes
    ----------
    step : int
        Number of training steps done.
    learning_rate : numpy.float32
        Learning rate of the next step.
    reports : int
        Number of reports so far, this one included.
    train : dict
        Mean of each named training quantity since the previous report.
    metrics : dict
        Figures returned by the evaluation hook at this report.
    history : list of dict
        Every report: ``step``, ``learning_rate``, ``time`` and the figures.
    stop : bool
        Set to True to end the loop after this report.
    stop_reason : str
        Why the loop ended: ``'schedule'``, ``'max_steps'``,
        ``'max_epochs'``, ``'diverged'``, ``'interrupted'`` or ``'batches
        exhausted'``.
    log : ProgressLog
        Print and log a line.
    elapsed : float
        Seconds since the loop started.
    epoch : int
        With epochs (:func:`train_loop`'s ``epoch_end``): the epoch in
        progress, or the number of epochs done between two.
    in_epoch : bool
        Whether an epoch's batches are in progress (or done but not yet
        ended by ``epoch_end``).
    epoch_steps : int
        Steps done in that epoch.
    saved : str or None
        The parameter file written at the end.
    """

    def __init__(self, learning_rate, log):
        self.step = 0
        self.learning_rate = np.float32(learning_rate)
        self.reports = 0
        self.train = {}
        self.metrics = {}
        self.history = []
        self.stop = False
        self.stop_reason = None
        self.log = log
        self.start_time = time.time()
        self.epoch = 0
        self.in_epoch = False
        self.epoch_steps = 0
        self.saved = None

    @property
    def elapsed(self):
        """float: seconds since the loop started."""
        return time.time() - self.start_time


def _fmt(value):
    return "%.6g" % value if isinstance(value, (float, np.floating)) \
        else str(value)


class CheckpointInterval:
    """How often a run writes checkpoints: every so many steps or minutes.

    The value of ``--checkpoint_every``: ``'500'`` (steps) or ``'30m'``
    (minutes; ``'30min'``, ``'1.5h'`` and ``'90s'`` work too). Step
    intervals fall on multiples of ``steps``, so an interrupted and resumed
    run writes its checkpoints at the same steps as an uninterrupted one;
    time intervals count from the last checkpoint written (or the start).
    Either way only when files are written changes, never the training.

    Parameters
    ----------
    steps : int, optional
        Steps between checkpoints.
    minutes : float, optional
        Minutes between checkpoints (exactly one of the two).
    clock : callable
        Seconds, monotonic (``time.monotonic``); replaceable for tests.

    Examples
    --------
    >>> every = CheckpointInterval.parse('500')
    >>> every, every.due(1000), every.due(1001)
    (CheckpointInterval(steps=500), True, False)
    >>> CheckpointInterval.parse('1.5h')
    CheckpointInterval(minutes=90.0)
    >>> str(CheckpointInterval.parse('1.5h'))
    '90m'
    """

    _UNITS = {"s": 1. / 60, "sec": 1. / 60, "m": 1., "min": 1.,
              "h": 60., "hr": 60.}

    def __init__(self, steps=None, minutes=None, clock=time.monotonic):
        if (steps is None) == (minutes is None):
            raise ValueError("give exactly one of steps and minutes")
        if steps is not None and (int(steps) != steps or steps < 1):
            raise ValueError("steps must be a positive integer, got %r"
                             % (steps,))
        if minutes is not None and not (math.isfinite(minutes)
                                        and minutes > 0):
            raise ValueError("minutes must be positive, got %r"
                             % (minutes,))
        self.steps = None if steps is None else int(steps)
        self.minutes = None if minutes is None else float(minutes)
        self.clock = clock
        self.mark()

    @classmethod
    def parse(cls, text):
        """Read ``'500'`` (steps) or ``'30m'``, ``'1.5h'``, ``'90s'``.

        Parameters
        ----------
        text : str

        Returns
        -------
        CheckpointInterval

        Raises
        ------
        ValueError
            Naming what is accepted.
        """
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*"
                         r"([a-zA-Z]*)\s*", str(text))
        unit = m.group(2).lower() if m else None
        if m is None or (unit and unit not in cls._UNITS):
            raise ValueError(
                "expected a number of steps (500) or a time (30m, 1.5h, "
                "90s), got %r" % (text,))
        if not unit:
            value = float(m.group(1))
            if value != int(value) or value < 1:
                raise ValueError("a number of steps must be a positive "
                                 "integer, got %r" % (text,))
            return cls(steps=int(value))
        minutes = float(m.group(1)) * cls._UNITS[unit]
        if not minutes > 0:
            raise ValueError("a time must be positive, got %r" % (text,))
        return cls(minutes=minutes)

    @classmethod
    def coerce(cls, value):
        """None, an int (steps), a string or a CheckpointInterval.

        Parameters
        ----------
        value : None, int, str or CheckpointInterval

        Returns
        -------
        CheckpointInterval or None
        """
        if value is None or isinstance(value, cls):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        return cls(steps=value)

    def due(self, step):
        """bool: whether a checkpoint is due after ``step``."""
        if self.steps is not None:
            return step % self.steps == 0
        return self.clock() - self._last >= 60. * self.minutes

    def mark(self):
        """Note that a checkpoint was just written (restarts the clock)."""
        self._last = self.clock()

    def __str__(self):
        # As given on the command line, for logs and JSON reports.
        if self.steps is not None:
            return str(self.steps)
        return "%gm" % self.minutes

    def __repr__(self):
        if self.steps is not None:
            return "CheckpointInterval(steps=%d)" % self.steps
        return "CheckpointInterval(minutes=%r)" % self.minutes


class StopSignals(list):
    """SIGINT and SIGTERM caught during training: the numbers received.

    While installed, a SIGINT or SIGTERM is only recorded (the list
    becomes true), so the loop can finish its step, write a checkpoint and
    stop cleanly. The first signal puts the previous handlers back, so a
    second one acts as it would without this (Ctrl-C twice still stops a
    run stuck in a step). Handlers can only be set from the main thread;
    elsewhere, or with ``enabled=False``, nothing is installed.

    Parameters
    ----------
    enabled : bool
        Whether to install the handlers at all.

    Examples
    --------
    >>> import os
    >>> signals = StopSignals()
    >>> signals.install()
    >>> os.kill(os.getpid(), signal.SIGTERM)
    >>> signals.restore()
    >>> signals == [signal.SIGTERM]
    True
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, enabled=True):
        super().__init__()
        self.enabled = bool(enabled) and \
            threading.current_thread() is threading.main_thread()
        self._previous = {}

    def _on_signal(self, signum, frame):
        self.append(signum)
        self.restore()

    def install(self):
        """Catch the signals (when enabled)."""
        if self.enabled:
            for sig in self.SIGNALS:
                self._previous[sig] = signal.getsignal(sig)
                signal.signal(sig, self._on_signal)

    def restore(self):
        """Put the previous handlers back."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}


def last_checkpoint_note(checkpointer):
    """The sentence naming the last good checkpoint, for a stop message.

    Parameters
    ----------
    checkpointer : indrnn.run.checkpoint.Checkpointer or None

    Returns
    -------
    str
        ``' The last good checkpoint is <path>.'``, a sentence saying none
        was written, or ``''`` without a checkpointer.
    """
    if checkpointer is None:
        return ""
    if checkpointer.last_path:
        return " The last good checkpoint is %s." % checkpointer.last_path
    return " No checkpoint was written before it."


def train_loop(step_fn, next_batch, learning_rate, names=("loss",),
               report_every=100, evaluate=None, schedule=None,
               max_steps=None, log=None, save_path=None, save_layer=None,
               step_hook=None, checkpointer=None, checkpoint_every=None,
               resume=None, handle_signals=None, epoch_end=None,
               max_epochs=None, epoch_size=None, throughput=None):
    """Run the training loop of the original scripts.

    Each step calls ``step_fn(next_batch(), learning_rate)``. Its first
    ``len(names)`` outputs are checked for NaN/Inf and averaged. Every
    ``report_every`` steps the averages are reported, ``evaluate(state)`` is
    called and its figures reported, then ``schedule(state)`` may change the
    learning rate or stop the loop. At the end the parameters are saved in
    the legacy format (:func:`indrnn.legacy.save_legacy_params`), unless the
    loss diverged.

    **Epochs** (``epoch_end`` given), as the Penn Treebank scripts: a
    ``StopIteration`` from ``next_batch`` ends an epoch instead of the run
    (the next call starts the next epoch), and the report rows are the
    epochs': at the end of each, ``state.train`` holds the means of the
    training figures over the epoch and ``epoch_end(state)`` returns the
    epoch's figures (its evaluation); it may change the learning rate and
    set ``state.stop`` as a schedule does. The row ``{'epoch', 'steps',
    'learning_rate'`` (the epoch's), ``'train_<name>'...``, the figures,
    ``'epoch_time', 'time'}`` (JSON values, see
    :func:`indrnn.run.flags.jsonable`) joins ``state.history``, the best
    checkpoint is written if it improves, then ``schedule(state)`` is
    called. ``report_every`` steps then only print a progress line within
    the epoch (the epoch's means so far and the speed). At ``max_steps``
    within an epoch the checkpoint is written first, then the truncated
    epoch is ended as a whole one, so that a run resumed from that
    checkpoint finishes the epoch as an uninterrupted run does.

    Parameters
    ----------
    step_fn : callable
        ``step_fn(batch, learning_rate) -> sequence``; typically
        ``lambda batch, lr: train_fn(*batch, lr)``. Outputs beyond
        ``names`` (e.g. a carried hidden state) are ignored here.
    next_batch : callable
        Returns the next batch; raising ``StopIteration`` ends the loop
        (with epochs: the epoch).
    learning_rate : float
        Initial learning rate (kept as ``numpy.float32``, as the original).
    names : sequence of str
        Names of the leading scalar outputs of ``step_fn``.
    report_every : int
        Steps between reports (with epochs: between progress lines; 0 or
        None for none).
    evaluate : callable, optional
        ``evaluate(state) -> dict`` of figures to report, e.g. a test loss.
    schedule : callable, optional
        ``schedule(state)``: learning-rate schedule and stopping rule.
    max_steps : int, optional
        Stop after this many steps (with a last report when steps remain
        unreported). None: as long as the schedule runs.
    log : ProgressLog, optional
        Progress output; prints only when None.
    save_path : str, optional
        Where to save the parameters at the end (``.npz`` appended).
    save_layer : Layer, optional
        Output layer whose parameters are saved.
    step_hook : callable, optional
        ``step_hook(state)``, called after every step whose outputs are
        finite, after that step's report (if any). Like ``schedule`` it may
        log, change ``state.learning_rate`` or set ``state.stop``; it serves
        schedules that do not follow the reports, such as the per-epoch
        evaluation of the action-recognition script.
    checkpointer : indrnn.run.checkpoint.Checkpointer, optional
        Writes checkpoints: every ``checkpoint_every`` steps, at
        ``max_steps`` and ``max_epochs``, when a report improves its
        ``best_metric`` (the best checkpoint) and when the run is
        interrupted by a signal. A
        :class:`~indrnn.run.checkpoint.CheckpointWriteError` is logged and
        raised; earlier checkpoints stay intact.
    checkpoint_every : int, str or CheckpointInterval, optional
        Steps (an int) or a :class:`CheckpointInterval` (steps or minutes)
        between checkpoints (None: only at the end and on signals).
    resume : dict, optional
        Loop state from :meth:`Checkpointer.load
        <indrnn.run.checkpoint.Checkpointer.load>`: the step, learning rate,
        report counters, running sums, the reports so far
        (``state.history``), the position in the epochs and the elapsed
        time continue from it, so the run goes on exactly as if it had not
        been interrupted.
    handle_signals : bool, optional
        Catch SIGINT and SIGTERM: the current step (or epoch end)
        finishes, a checkpoint is written and the loop ends with
        ``stop_reason='interrupted'`` (``state.signal`` holds the signal
        number) and a message naming the file and the resume command. A
        second signal acts as usual. By default, when a ``checkpointer``
        is given (main thread only).
    epoch_end : callable, optional
        ``epoch_end(state) -> dict``: train in epochs (see above).
    max_epochs : int, optional
        With epochs: stop (with a checkpoint) once this many are done.
    epoch_size : callable, optional
        With epochs: ``epoch_size() -> int``, the batches of the epoch in
        progress, for the progress lines.
    throughput : (str, int), optional
        With epochs: a unit and how many of it a batch holds (e.g.
        ``('tokens', 640)``), for a speed in that unit on the progress
        lines.

    Returns
    -------
    TrainState
        The final state; ``stop_reason`` tells why the loop ended.

    Examples
    --------
    >>> losses = iter([3., 2., 1., 0.])
    >>> state = train_loop(  # doctest: +ELLIPSIS
    ...     lambda batch, lr: [next(losses)], lambda: None,
    ...     1e-3, report_every=2, max_steps=4)
    step 2 lr 0.001 train_loss 2.5 time ...
    step 4 lr 0.001 train_loss 0.5 time ...
    >>> state.stop_reason
    'max_steps'

    Two epochs of two batches, evaluated at the end of each:

    >>> batches = iter([1, 2, StopIteration, 3, 4, StopIteration])
    >>> def next_batch():
    ...     batch = next(batches)
    ...     if batch is StopIteration:
    ...         raise StopIteration
    ...     return batch
    >>> state = train_loop(  # doctest: +ELLIPSIS
    ...     lambda batch, lr: [float(batch)], next_batch, 1e-3,
    ...     epoch_end=lambda state: {'valid': 0.5}, max_epochs=2)
    epoch 1 steps 2 lr 0.001 train_loss 1.5 valid 0.5 time ...
    epoch 2 steps 4 lr 0.001 train_loss 3.5 valid 0.5 time ...
    >>> state.stop_reason, [row['train_loss'] for row in state.history]
    ('max_epochs', [1.5, 3.5])
    """
    log = log if log is not None else ProgressLog(None)
    state = TrainState(learning_rate, log)
    state.signal = None
    epochs = epoch_end is not None
    # Running sums since the last report, and over the epoch in progress.
    sums = np.zeros(len(names))
    epoch_sums = np.zeros(len(names))
    count = 0
    if resume is not None:
        state.step = int(resume["step"])
        state.learning_rate = np.float32(resume["learning_rate"])
        state.reports = int(resume["reports"])
        sums[:] = resume["sums"]
        count = int(resume["count"])
        # The reports and the time before the interruption (checkpoints of
        # earlier versions have neither).
        state.history = list(resume.get("history", []))
        state.start_time -= float(resume.get("elapsed", 0.0))
        if epochs:
            state.epoch = int(resume["epoch"])
            state.in_epoch = bool(resume["in_epoch"])
            state.epoch_steps = int(resume["epoch_steps"])
            epoch_sums[:] = resume["epoch_sums"]
    checkpoint_every = CheckpointInterval.coerce(checkpoint_every)
    # When an epoch (or a resumed one) started, and the first step of it
    # this process ran: the speed leaves that step out (with the Numba
    # backend the functions are compiled on their first call).
    clock = {"epoch": time.time(), "first": None}

    def position():
        # A checkpoint after an epoch's last step differs from the one
        # after its evaluation at the same step.
        return (state.step, state.epoch, state.in_epoch)

    checkpointed = [position() if resume is not None else None]

    def loop_state():
        # Floats survive JSON exactly (repr round-trips float64, and the
        # float32 learning rate is exact in float64).
        saved = {"step": state.step,
                 "learning_rate": float(state.learning_rate),
                 "reports": state.reports, "count": count,
                 "sums": [float(v) for v in sums],
                 "history": state.history, "elapsed": state.elapsed}
        if epochs:
            saved.update(epoch=state.epoch, in_epoch=state.in_epoch,
                         epoch_steps=state.epoch_steps,
                         epoch_sums=[float(v) for v in epoch_sums])
        return saved

    def write_checkpoint():
        try:
            path = checkpointer.save(loop_state())
        except OSError as exc:
            log("checkpoint at step %d failed: %s" % (state.step, exc))
            raise
        checkpointed[0] = position()
        if checkpoint_every is not None:
            checkpoint_every.mark()
        return path

    def checkpoint_if_new():
        if checkpointer is not None and checkpointed[0] != position():
            write_checkpoint()

    if handle_signals is None:
        handle_signals = checkpointer is not None
    signals = StopSignals(handle_signals)
    signals.install()

    def report(final=False):
        state.reports += 1
        state.train = {n: s / count for n, s in zip(names, sums)}
        state.metrics = dict(evaluate(state)) if evaluate else {}
        figures = [("train_" + n, v) for n, v in state.train.items()]
        figures += list(state.metrics.items())
        state.history.append(dict(figures, step=state.step,
                                  learning_rate=float(state.learning_rate),
                                  time=state.elapsed))
        log("step", state.step, "lr", _fmt(state.learning_rate),
            *[p for n, v in figures for p in (n, _fmt(v))],
            "time", "%.1fs" % state.elapsed)
        if schedule is not None and not final:
            schedule(state)

    def diverged(name, value, where):
        state.stop = True
        state.stop_reason = "diverged"
        log("%s detected in %s %slearning rate %s); stopping, parameters "
            "not saved.%s" % ("NaN" if math.isnan(value) else "Inf", name,
                              where, _fmt(state.learning_rate),
                              last_checkpoint_note(checkpointer)))

    def end_epoch():
        # The epoch's means, its evaluation, its row.
        steps = max(state.epoch_steps, 1)
        state.train = {n: s / steps for n, s in zip(names, epoch_sums)}
        rate = state.learning_rate
        state.metrics = dict(epoch_end(state))
        for name, value in state.metrics.items():
            if isinstance(value, (float, np.floating)) \
                    and not math.isfinite(value):
                diverged(name, value, "after epoch %d (step %d, "
                         % (state.epoch, state.step))
                return
        state.in_epoch = False
        state.reports += 1
        now = time.time()
        row = dict(epoch=state.epoch, steps=state.step, learning_rate=rate,
                   **{"train_" + n: v for n, v in state.train.items()},
                   **state.metrics,
                   epoch_time=round(now - clock["epoch"], 3),
                   time=round(state.elapsed, 3))
        # JSON's values, as a resumed run reads the earlier rows back
        # (the float32 rate as 0.01, not 0.009999999776482582).
        state.history.append({k: jsonable(v) for k, v in row.items()})
        log("epoch", state.epoch, "steps", state.step, "lr", _fmt(rate),
            *[p for n, v in list(row.items())[3:-2] for p in (n, _fmt(v))],
            "time", "%.1fs" % state.elapsed)
        if checkpointer is not None:
            best = checkpointer.update_best(state.metrics, loop_state())
            if best is not None:
                log("best checkpoint written to", best)
        if schedule is not None:
            schedule(state)

    def start_epoch():
        state.epoch += 1
        state.in_epoch = True
        state.epoch_steps = 0
        epoch_sums[:] = 0
        clock["epoch"], clock["first"] = time.time(), None

    def progress():
        # The epoch's means so far and the speed, every report_every
        # steps and at the epoch's last (when epoch_size tells it).
        total = None
        if epoch_size is not None:
            total = epoch_size()
            if max_steps is not None:
                total = min(total,
                            max_steps - state.step + state.epoch_steps)
        now = time.time()
        if clock["first"] is None:
            clock["first"] = (state.epoch_steps, now)
        if not report_every or (state.epoch_steps % report_every
                                and state.epoch_steps != total):
            return
        speed = (state.epoch_steps - clock["first"][0]) / max(
            now - clock["first"][1], 1e-9)
        line = "epoch %d batch %d%s %s  %.2f batch/s" % (
            state.epoch, state.epoch_steps,
            "" if total is None else "/%d" % total, " ".join(
                "train_%s %.4f" % (n, s / state.epoch_steps)
                for n, s in zip(names, epoch_sums)), speed)
        if throughput is not None:
            line += " %.0f %s/s" % (speed * throughput[1], throughput[0])
        log(line)

    def stopped_by_signal():
        if not signals:
            return False
        state.signal = signals[0]
        state.stop_reason = "interrupted"
        name = signal.Signals(signals[0]).name
        if checkpointer is None:
            log("%s received; stopped after step %d" % (name, state.step))
            return True
        path = checkpointer.last_path
        if checkpointed[0] != position():
            path = write_checkpoint()
        log("%s received; stopped after step %d; checkpoint written to %s; "
            "%s" % (name, state.step, path, checkpointer.resume_hint(path)))
        return True

    try:
        while not state.stop:
            if max_steps is not None and state.step >= max_steps:
                state.stop_reason = "max_steps"
                # Before the final report or the truncated epoch's end,
                # which may draw evaluation data or restore parameters: a
                # resumed run then continues as an uninterrupted one.
                checkpoint_if_new()
                if count:
                    report(final=True)
                if state.in_epoch:
                    end_epoch()
                break
            if epochs and not state.in_epoch:
                if max_epochs is not None and state.epoch >= max_epochs:
                    state.stop_reason = "max_epochs"
                    # A longer --max_epochs can go on from it.
                    checkpoint_if_new()
                    break
                start_epoch()
            try:
                batch = next_batch()
            except StopIteration:
                if not epochs:
                    state.stop_reason = "batches exhausted"
                    break
                end_epoch()
                if state.stop or stopped_by_signal():
                    break
                continue
            out = step_fn(batch, state.learning_rate)
            state.step += 1
            values = [float(np.asarray(v)) for v in out[:len(names)]]
            bad = [(n, v) for n, v in zip(names, values)
                   if not math.isfinite(v)]
            if bad:
                where = ("at step %d (epoch %d, batch %d, " % (
                    state.step, state.epoch, state.epoch_steps + 1)
                    if epochs else "at step %d (" % state.step)
                diverged(bad[0][0], bad[0][1], where)
                break
            if epochs:
                epoch_sums += values
                state.epoch_steps += 1
                progress()
            else:
                sums += values
                count += 1
                if state.step % report_every == 0:
                    report()
                    sums[:] = 0
                    count = 0
                    if checkpointer is not None:
                        checkpointer.update_best(state.metrics, loop_state())
            if step_hook is not None:
                step_hook(state)
            if checkpointer is not None and checkpoint_every is not None \
                    and checkpoint_every.due(state.step):
                write_checkpoint()
            if stopped_by_signal():
                break
        if state.stop and state.stop_reason is None:
            state.stop_reason = "schedule"
    except KeyboardInterrupt:
        state.stop_reason = "interrupted"
        log("interrupted at step %d" % state.step)
    finally:
        signals.restore()
    if save_path is not None and state.stop_reason != "diverged":
        state.saved = save_legacy_params(save_path, save_layer)
        log("saved parameters to", state.saved)
    return state


#: The errors of a write that the disk refused: full, over quota, file too
#: large, read-only, failing.
_DISK_FULL_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS",
                                      "EIO") if hasattr(errno, name))


def run_command(run, data_errors=()):
    """Run an experiment's body as its command line does; return the exit
    status.

    Every experiment's ``main`` does the same around its training: float32
    unless the user chose ``floatX`` (:func:`float32_unless_configured`),
    the package's random source restored afterwards, errors the user can
    act on printed as one line instead of a traceback, and the outcome
    turned into an exit status.

    Parameters
    ----------
    run : callable
        ``run()`` trains and returns the final :class:`TrainState`, or a
        dict with a ``"stop_reason"`` entry (and ``"signal"``, the number
        of the signal that stopped the run, if any).
    data_errors : tuple of exception classes
        Errors about the data set (missing or corrupt files): exit status 2.

    Returns
    -------
    int
        0 on success; 1 if the loss diverged, a checkpoint could not be
        read or written, or a result file (parameters, log, report) could
        not be written (e.g. a full disk: the message names the file and
        the last checkpoint, which is whole); 2 for ``data_errors``; 128 +
        the signal number if stopped by SIGINT or SIGTERM.

    Examples
    --------
    >>> run_command(lambda: {"stop_reason": "max_steps"})
    0
    >>> run_command(lambda: {"stop_reason": "diverged"})
    1
    >>> run_command(lambda: {"stop_reason": "interrupted", "signal": 15})
    143
    """
    from .checkpoint import (CheckpointError, CheckpointWriteError,
                             last_written_checkpoint)
    old_rng = lasagne.random.get_rng()
    try:
        with float32_unless_configured():
            outcome = run()
    except tuple(data_errors) as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
    except (CheckpointError, CheckpointWriteError) as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 1
    except OSError as exc:
        # Writing a result (parameters, log, report) failed on a full disk
        # (or a read-only or failing one): one line naming the file and
        # the checkpoint to resume from, which is whole.
        if exc.errno not in _DISK_FULL_ERRNOS:
            raise
        last = last_written_checkpoint()
        print("error: could not write %s (%s).%s" % (
            exc.filename or "an output file", exc.strerror or exc,
            " The last checkpoint, %s, is intact: resume from it with "
            "--resume." % last if last else
            " No checkpoint was written."), file=sys.stderr)
        return 1
    finally:
        lasagne.random.set_rng(old_rng)
    if isinstance(outcome, dict):
        signal, stop_reason = outcome.get("signal"), \
            outcome.get("stop_reason")
    else:
        signal, stop_reason = outcome.signal, outcome.stop_reason
    if signal is not None:
        return 128 + signal
    return 1 if stop_reason == "diverged" else 0
