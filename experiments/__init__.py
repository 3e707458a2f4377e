"""Experiments: one thin module per original IndRNN script.

This folder is installed as the package ``indrnn.experiments`` (setup.cfg);
from the repository root it is also importable as ``experiments``
(``python -m experiments.adding``). Its modules import one another
relatively, so either name works; the runs record the installed name
(``indrnn.experiments.adding``) in their checkpoints and reports.
"""
# Every experiment module imports pytensor before indrnn, but PyTensor reads
# its flags once, on import: importing indrnn first translates a legacy
# THEANO_FLAGS (indrnn.theano_flags). As ``indrnn.experiments`` (python -m
# indrnn.experiments.X, the console commands) the parent package indrnn is
# imported first anyway; as ``experiments`` (python -m experiments.X from the
# repository root) this import does it.
import indrnn  # noqa: F401
