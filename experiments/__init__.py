"""Experiments: one thin module per original IndRNN script."""
