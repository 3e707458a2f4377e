"""Tiny MNIST-format (IDX) files for the tests of the MNIST experiments.

``tests/`` is on ``sys.path`` while the suite runs (its ``conftest.py``
puts it there), so every test module can import this one.
"""
import gzip
import struct

import numpy as np


def write_idx(path, array):
    """Write ``array`` (uint8) as a gzipped IDX file, as MNIST's.

    Parameters
    ----------
    path : path-like
        The ``.gz`` file to write.
    array : array-like
        Images ``(n, rows, cols)`` or labels ``(n,)``; stored as uint8.
    """
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack('>I', 0x800 + array.ndim)
    header += struct.pack('>%dI' % array.ndim, *array.shape)
    with gzip.open(path, 'wb') as f:
        f.write(header + array.tobytes())
