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
- :mod:`indrnn.run.report`: the CSV, JSON and PNG reports.

The loop itself, the training functions and the exit statuses are in
:mod:`indrnn.training`; checkpoints in :mod:`indrnn.checkpoint`.
"""
from .engine import Carried, Constant, Run, command
from .schedules import PlateauDecay, StepDecay

__all__ = ["Run", "Constant", "Carried", "command", "StepDecay",
           "PlateauDecay"]
