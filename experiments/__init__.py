"""Experiments: one thin module per original IndRNN script."""
# Every experiment module imports pytensor before indrnn, but PyTensor reads
# its flags once, on import: importing indrnn here, before any experiment
# module, translates a legacy THEANO_FLAGS (indrnn.theano_flags) first, for
# ``python -m experiments.X`` and for the console commands alike.
import indrnn  # noqa: F401
