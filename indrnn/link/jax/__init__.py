"""JAX implementations of the project's Ops (``mode="JAX"``; optional)."""
