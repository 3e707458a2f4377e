"""Backend implementations of the project's Ops, one subpackage per
PyTensor linker (in the spirit of ``pytensor.link.<backend>.dispatch``):

c
    C code for ``mode="CVM"``.
numba
    ``numba_funcify`` registrations (the default linker).
jax
    ``jax_funcify`` registrations (``mode="JAX"``; optional).

Importing :mod:`indrnn.ops` registers all of them.
"""
