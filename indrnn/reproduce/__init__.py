"""Reproduce the papers' tables and figures as grids of command lines.

A *registry* (:mod:`indrnn.reproduce.registry`) lists, for each table or
figure of the two IndRNN papers, its rows: the original command line of
an experiment, verbatim, the paper's number, and how the number is read
from the run's reports (:mod:`indrnn.reproduce.metrics`). A *profile*
chooses the scale: ``paper`` runs the command line as it is, ``cpu`` adds
a stated step budget that a 2-core machine can finish, and ``smoke`` makes
it tiny (for tests).

:mod:`indrnn.reproduce.runner` runs one row for one seed as its own
process (``python -m <experiment> <flags> --seed S --out <folder>``),
resuming from the run's last checkpoint when the folder holds one, and
writes ``result.json`` beside the experiment's own reports.
:mod:`indrnn.reproduce.command` runs every (row, seed) of a table as one
Ray task and collects the results as they finish
(:mod:`indrnn.reproduce.table`: markdown, CSV and a PNG beside the
paper's numbers).

The library knows no experiment: the registry names the modules to run,
as data (``experiments/papers.toml``, read by ``indrnn reproduce``).
"""
from .registry import Family, Metric, Registry, Row, load_registry

__all__ = ["Family", "Metric", "Registry", "Row", "load_registry"]
