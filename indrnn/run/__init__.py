"""The run engine: what every experiment's command does the same way.

An experiment module declares only what is its own (the original's flags,
its network builders, its data and evaluation, which schedule) and calls
the engine:

- :mod:`indrnn.run.flags`: the flag types and the run flags every
  experiment has (:func:`~indrnn.run.flags.add_run_flags`);
- :mod:`indrnn.run.schedules`: the two learning-rate rules of the
  originals, with saveable state;
- :mod:`indrnn.run.engine`: start-up (:class:`Run`), checkpoints and
  resume, the loop (by steps, or in epochs with an epoch-end evaluation),
  the final parameter file (:meth:`Run.train`), the command body
  (:func:`command`) and the state objects :class:`Constant` and
  :class:`Carried`;
- :mod:`indrnn.run.functions`: the training and test functions (Adam, the
  ``U_bound`` clip, weight decay; compiled through :mod:`indrnn.compile`)
  and float32 unless configured;
- :mod:`indrnn.run.loop`: the loop itself (:func:`~indrnn.run.loop.train_loop`,
  its state, progress log, checkpoint interval and signal handling), the
  result files and the exit statuses (:func:`~indrnn.run.loop.run_command`);
- :mod:`indrnn.run.checkpoint`: checkpoints and exact resume;
- :mod:`indrnn.run.report`: the CSV, JSON and PNG reports;
- :mod:`indrnn.run.evaluation`: the evaluation pair of the originals
  (BatchNorm with batch statistics and with stored averages,
  :func:`compile_eval_pair`), a classifier's training function and that
  pair (:func:`compile_classifier`), means over batches and the confusion
  matrix files.
"""
from .engine import Carried, Constant, Run, command
from .evaluation import (compile_classifier, compile_eval_pair,
                         mean_over_batches)
from .schedules import PlateauDecay, StepDecay

__all__ = ["Run", "Constant", "Carried", "command", "StepDecay",
           "PlateauDecay", "compile_eval_pair", "compile_classifier",
           "mean_over_batches"]
