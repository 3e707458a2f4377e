"""C code of the project's Ops (used by ``mode="CVM"``)."""
