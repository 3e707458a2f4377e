"""Numba implementations of the project's Ops (the default linker)."""
