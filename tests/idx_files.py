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


def write_learnable_mnist(root, n_train, n_test, size, seed=0):
    """Write tiny MNIST files to ``root/mnist``, digits one can learn.

    The label is written as the brightness of the top two rows of noise
    images, so a few steps of training lower the loss.

    Parameters
    ----------
    root : pathlib.Path
        The data folder (``--data_dir``); ``root/mnist`` is created.
    n_train, n_test : int
        Number of training and test images (labels ``arange(n) % 10``).
    size : int
        Image side: ``size * size`` time steps.
    seed : int
        Seed of the noise.

    Returns
    -------
    pathlib.Path
        ``root``.
    """
    from indrnn.data import mnist
    folder = root / 'mnist'
    folder.mkdir()
    rng = np.random.RandomState(seed)
    for names, n in ((mnist.FILES[:2], n_train), (mnist.FILES[2:], n_test)):
        labels = np.arange(n) % 10
        images = rng.randint(0, 50, (n, size, size))
        images[:, :2, :] += 20 * labels[:, None, None]
        write_idx(folder / names[0], images)
        write_idx(folder / names[1], labels)
    return root
