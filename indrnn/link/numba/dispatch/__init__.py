"""``numba_funcify`` registrations; import a module to register it."""
