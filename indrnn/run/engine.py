"""One training run of an experiment: start-up, checkpoints, loop, reports.

An experiment declares what is its own (flags, network, data, evaluation,
schedule) and hands it to :class:`Run`; the engine does the rest the same
way for every experiment:

- start-up (:class:`Run`): the output folder, the log, the seed (drawn and
  logged when not given; a resumed run takes its checkpoint's, after its
  flags were checked against it, before anything is built), one
  ``RandomState(seed)`` as the package's random source;
- :meth:`Run.train`: the checkpointer, resuming, the loop
  (:func:`indrnn.run.loop.train_loop`), the reports
  (:class:`~indrnn.run.report.RunReport`) and the final parameter file.

State is passed explicitly: whatever the experiment needs in a checkpoint
besides the network, the optimizer and the random states (the schedule,
the position in the data, a permutation) is an object with
``state_dict()`` and ``load_state_dict(state)``, named in
``Run.train(state=...)``. An object that also has ``state_arrays()``
(``{name: list of ndarray}``, e.g. the best parameters of
:class:`~indrnn.run.schedules.PlateauDecay`) has those saved exactly, as
datasets of the checkpoint, and gets those it saved back as keyword
arguments: ``load_state_dict(state, **arrays)``. A state carried from
batch to batch (the hidden state of the language models) is such an
object: :class:`Carried`.

Training in epochs (``Run.train(epoch_end=...)``, the Penn Treebank
scripts): the loop ends an epoch when the batches raise ``StopIteration``,
calls the experiment's ``epoch_end`` (its evaluation and schedule), and
reports one row per epoch (see :func:`indrnn.run.loop.train_loop`);
``--max_epochs`` stops it, with a checkpoint.

Examples
--------
The body of a command, from :mod:`indrnn.experiments.adding`::

    def main(argv=None):
        return command(make_parser, train, argv)
"""
import os
import sys

import numpy as np
import pytensor

from .. import lasagne
from .checkpoint import (Checkpointer, CheckpointError,
                         CheckpointMismatchError, check_config,
                         read_checkpoint)
from .flags import jsonable, resume_command
from .loop import ProgressLog, run_command, train_loop
from .report import RunReport

__all__ = ["Run", "Constant", "Carried", "command"]


class Constant:
    """A value kept in checkpoints that a resumed run reads back.

    Parameters
    ----------
    value : JSON-serialisable
        Its :meth:`state_dict`; :meth:`load_state_dict` replaces it.

    Examples
    --------
    >>> kept = Constant([2, 0, 1])
    >>> kept.load_state_dict([1, 0, 2])
    >>> kept.value
    [1, 0, 2]
    """

    def __init__(self, value):
        self.value = value

    def state_dict(self):
        return self.value

    def load_state_dict(self, state):
        self.value = state


class Carried:
    """An array carried from batch to batch, kept in checkpoints.

    E.g. the hidden state a language model hands from one batch to the
    next: the step function reads and replaces :attr:`value`; the batch
    source sets it when an epoch starts and clears it (None) when it ends,
    so a checkpoint between epochs holds none.

    Parameters
    ----------
    name : str
        Its name among the checkpoint's arrays.
    shape : tuple of int, optional
        The shape a checkpoint's array must have.

    Examples
    --------
    >>> hid = Carried('hid', shape=(2,))
    >>> hid.value = np.ones(2)
    >>> again = Carried('hid', shape=(2,))
    >>> again.load_state_dict(hid.state_dict(), **hid.state_arrays())
    >>> again.value
    array([1., 1.])
    >>> again.load_state_dict({'carried': True}, hid=[np.ones(3)])
    Traceback (most recent call last):
    ...
    ValueError: the carried 'hid' is not a (2,) array
    """

    def __init__(self, name, shape=None):
        self.name = name
        self.shape = None if shape is None else tuple(shape)
        self.value = None

    def state_dict(self):
        return {'carried': self.value is not None}

    def state_arrays(self):
        """dict: ``{name: [value]}``, or empty while nothing is carried."""
        return {} if self.value is None else {self.name: [self.value]}

    def load_state_dict(self, state, **arrays):
        self.value = None
        if state['carried']:
            value = (arrays.get(self.name) or [None])[0]
            if value is None or (self.shape is not None
                                 and value.shape != self.shape):
                raise ValueError('the carried %r is not a %s array'
                                 % (self.name, self.shape))
            self.value = value


class Run:
    """Start a run: output folder, log, seed and random source.

    Parameters
    ----------
    args : argparse.Namespace
        Flags, with those of :func:`indrnn.run.flags.add_run_flags`.
    argv : sequence of str or None
        The command line (for the reports and the resume command; None:
        the interruption message gives a generic resume hint).
    name : str
        The run's file name (``<out>/<name>.log``, ``.npz``, ...).
    module : str
        The experiment's module, e.g. ``'indrnn.experiments.adding'``, for the
        resume command and to recognise its checkpoints.
    config_keys : sequence of str
        Flags that must equal the checkpoint's on ``--resume``.

    Attributes
    ----------
    base : str
        ``<out>/<name>``: the parameter file, the checkpoint folder.
    report_base : str
        The log's path without ``.log``: the CSV, JSON and PNG reports.
    log : indrnn.run.loop.ProgressLog
    seed : int
    rng : numpy.random.RandomState
        ``RandomState(seed)``, set as the package's random source
        (initial weights, dropout seeds).
    resumed : dict or None
        What :meth:`train` saved in ``--resume``'s checkpoint, read before
        the network is built: ``'seed'``, ``'state'`` (each
        ``state_dict()``).
    report : indrnn.run.report.RunReport or None
        The reports of :meth:`train`, once it ran (for what the experiment
        adds after training, e.g. test figures).

    Raises
    ------
    indrnn.run.checkpoint.CheckpointError
        ``--resume`` names an unreadable checkpoint or one of another
        experiment; :class:`~indrnn.run.checkpoint.CheckpointMismatchError`
        when a flag of ``config_keys`` differs (named in the message).
    """

    def __init__(self, args, argv, name, module, config_keys=()):
        self.args = args
        self.argv = None if argv is None else list(argv)
        self.name = name
        self.module = module
        self.config_keys = tuple(config_keys)
        os.makedirs(args.out, exist_ok=True)
        self.base = os.path.join(args.out, name)
        log_path = args.log or self.base + '.log'
        self.log = ProgressLog(log_path)
        # The reports go beside the log.
        self.report_base = os.path.splitext(log_path)[0]
        self.resumed = None
        self.report = None
        seed = args.seed
        if args.resume:
            # Read before the network exists: the seed fixes what a
            # checkpoint cannot restore (the dropout seeds drawn when the
            # network is built), and a flag mismatch is refused before
            # the data are loaded and the functions compiled.
            info = read_checkpoint(args.resume)
            self.resumed = info['schedule'] or {}
            if self.resumed.get('script') != module \
                    or 'seed' not in self.resumed:
                raise CheckpointError(
                    'checkpoint %s was not written by %s (its run: %s)'
                    % (args.resume, module,
                       self.resumed.get('script', 'unknown')))
            check_config(info, args, self.config_keys)
            seed = int(self.resumed['seed'])
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2 ** 32))
        self.seed = seed
        self.log(args)
        self.log('seed', seed, 'floatX', pytensor.config.floatX)
        self.rng = np.random.RandomState(seed)
        lasagne.random.set_rng(self.rng)

    def resume_command(self):
        """str or None: the command resuming this run (``{path}`` for the
        checkpoint), see :func:`indrnn.run.flags.resume_command`."""
        if self.argv is None:
            return None
        return resume_command(self.module, self.argv)

    def header(self):
        """dict: what every run's JSON report starts with."""
        return {'script': self.module, 'argv': self.argv, 'seed': self.seed,
                'floatX': pytensor.config.floatX,
                'args': {k: jsonable(v) for k, v in vars(self.args).items()}}

    def train(self, step, next_batch, learning_rate, layer, train_fn, *,
              names=('loss',), report_every=100, evaluate=None,
              schedule=None, state=None, rngs=(), best_metric=None,
              best_mode='min', curves=(), header=None, step_hook=None,
              tables=None, epoch_end=None, max_epochs=None,
              epoch_size=None, throughput=None, columns=None):
        """Train: checkpoints, resume, the loop, reports, final save.

        Parameters
        ----------
        step : callable
            ``step(batch, learning_rate) -> outputs``; the first
            ``len(names)`` are the training figures.
        next_batch : callable
            Returns the next batch.
        learning_rate : float
            The initial rate.
        layer : Layer
            The output layer: its parameters are checkpointed and saved to
            ``<base>.npz`` in the original format.
        train_fn : Function
            The compiled training function (optimizer state, dropout
            counters).
        names : sequence of str
            Names of the training figures.
        report_every : int
            Steps between reports.
        evaluate : callable, optional
            ``evaluate(state) -> dict`` of figures, at every report.
        schedule : callable, optional
            Called after every report (see :mod:`indrnn.run.schedules`);
            its ``state_dict`` goes into the checkpoints.
        state : dict, optional
            ``{name: object}`` with ``state_dict()`` and
            ``load_state_dict(state)``: more that checkpoints keep (see
            the module docstring for ``state_arrays()``), e.g. the
            position in the data or a :class:`Carried` hidden state.
        rngs : sequence of numpy.random.RandomState
            Random states besides :attr:`rng`.
        best_metric : str, optional
            The figure of the best checkpoint.
        best_mode : {'min', 'max'}
        curves : sequence of str
            Figures plotted in ``<base>.png``.
        header : dict, optional
            More entries of the JSON report.
        step_hook : callable, optional
            See :func:`indrnn.run.loop.train_loop`.
        tables : dict, optional
            ``{name: callable}``: rows the experiment reports besides the
            loop's, e.g. one per epoch (see
            :class:`~indrnn.run.report.RunReport`).
        epoch_end, max_epochs, epoch_size, throughput : optional
            Train in epochs (see :func:`indrnn.run.loop.train_loop`): the
            reports are then one row per epoch, plotted against the epoch
            (at every epoch), and ``report_every`` steps give progress
            lines only.
        columns : sequence of str, optional
            The CSV's first columns (rows read back from a checkpoint have
            their keys sorted); by default ``step, learning_rate`` (with
            epochs ``epoch``) and the rest in the order they come.

        Returns
        -------
        indrnn.run.loop.TrainState
        """
        args = self.args
        kept = dict(state or {})
        if schedule is not None and hasattr(schedule, 'state_dict'):
            kept['schedule'] = schedule
        checkpointer = resume = None
        arrays = {}
        if args.checkpoint_every or args.resume:
            checkpointer = Checkpointer(
                self.base + '_checkpoints', layer, train_fn,
                rngs=[self.rng] + list(rngs), args=args,
                keep=args.keep_checkpoints,
                get_state=lambda: {
                    'script': self.module, 'seed': self.seed,
                    'state': {k: v.state_dict() for k, v in kept.items()},
                    # Whose arrays are whose, to give each object its own.
                    'arrays': {k: sorted(v.state_arrays())
                               for k, v in kept.items()
                               if hasattr(v, 'state_arrays')}},
                get_arrays=lambda: {
                    name: values for value in kept.values()
                    if hasattr(value, 'state_arrays')
                    for name, values in value.state_arrays().items()},
                # The engine's own record of what load() read back.
                set_arrays=arrays.update,
                best_metric=best_metric, best_mode=best_mode,
                resume_command=self.resume_command())
            if args.resume:
                resume = checkpointer.load(args.resume,
                                           config_keys=self.config_keys)
                saved = self.resumed.get('state', {})
                for key, value in kept.items():
                    if key not in saved:
                        raise CheckpointError(
                            'checkpoint %s has no %r state: written by an '
                            'older version of %s; start the run again'
                            % (args.resume, key, self.module))
                    try:
                        if hasattr(value, 'state_arrays'):
                            # Checkpoints without the record give every
                            # object all arrays (there was one such
                            # object).
                            own = self.resumed.get('arrays', {}).get(
                                key, arrays)
                            value.load_state_dict(
                                saved[key], **{n: arrays[n] for n in own})
                        else:
                            value.load_state_dict(saved[key])
                    except ValueError as exc:
                        # E.g. a batch order over other samples: other
                        # data than the checkpoint's run (exit status 1).
                        raise CheckpointMismatchError(
                            'checkpoint %s: its %r state does not fit this '
                            'run: %s' % (args.resume, key, exc)) from exc
                where = ''
                if epoch_end is not None:
                    where = (' (epoch %d, batch %d)' % (
                        resume['epoch'], resume['epoch_steps'])
                        if resume['in_epoch']
                        else ' (after epoch %d)' % resume['epoch'])
                self.log('resumed from %s at step %d%s'
                         % (args.resume, resume['step'], where))
        by_epoch = {} if epoch_end is None else dict(
            columns=('epoch',), x='epoch', plot_always=True)
        if columns is not None:
            by_epoch['columns'] = columns
        report = self.report = RunReport(
            self.report_base, dict(self.header(), **(header or {})),
            curves=curves, log=self.log, tables=tables, **by_epoch)

        def after_report(loop):
            report.write(loop.history)
            if schedule is not None:
                schedule(loop)

        loop = train_loop(
            step, next_batch, np.float32(learning_rate), names=names,
            report_every=report_every, evaluate=evaluate,
            schedule=after_report, max_steps=args.max_steps, log=self.log,
            save_path=self.base, save_layer=layer, step_hook=step_hook,
            checkpointer=checkpointer,
            checkpoint_every=args.checkpoint_every, resume=resume,
            epoch_end=epoch_end, max_epochs=max_epochs,
            epoch_size=epoch_size, throughput=throughput)
        report.write(loop.history, stop_reason=loop.stop_reason,
                     steps=loop.step)
        self.log('reports written to', self.report_base + '.csv', 'and',
                 self.report_base + '.json')
        return loop


def command(make_parser, train, argv=None, data_errors=()):
    """Parse the flags and train, as an experiment's ``main`` does.

    Parameters
    ----------
    make_parser : callable
        Returns the experiment's ``argparse.ArgumentParser``.
    train : callable
        ``train(args, argv)`` returns the final ``TrainState``.
    argv : sequence of str, optional
        Command-line arguments (``sys.argv[1:]`` when None).
    data_errors : tuple of exception classes
        Errors about the data: exit status 2.

    Returns
    -------
    int
        The exit status (see :func:`indrnn.run.loop.run_command`).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = make_parser().parse_args(argv)
    return run_command(lambda: train(args, argv), data_errors=data_errors)
