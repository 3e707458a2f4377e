"""
MNIST for the pixel-MNIST experiment: reading, batches and permutation.

Port of the data side of the original ``mnist/Data_gen.py`` and
``mnist/Data_gen_permute.py``:

- :func:`read_idx` reads one IDX file (gzip-compressed or not) and checks
  it (magic number, declared size, complete gzip stream), and
  :func:`load_mnist` reads the four standard files from a folder, naming
  the folder and the files, and how to get them, when they are missing.
- :func:`preprocess_images` turns images into the original's sequences:
  ``pixels / 256``, shape ``(N, 784, 1)``, scaled to ``[-1, 1)``.
- :func:`load_dataset` does both, optionally on the first ``N`` images and
  with a pixel permutation (:func:`make_permutation`) for permuted MNIST.
- :class:`TrainBatches` draws training batches from shuffled passes that
  reshuffle every epoch; :class:`TestBatches` covers every test image
  exactly once per pass; :class:`BackgroundBatches` prepares the next batch
  in a thread while the current one is used, as the original did.
- :func:`download_mnist` fetches the files and verifies their checksums.
  Nothing here downloads unless asked to.
"""
import gzip
import hashlib
import os
import struct
import threading
import urllib.request
import zlib

import numpy as np

__all__ = [
    "FILES",
    "MD5",
    "MIRRORS",
    "ENV_VAR",
    "MNISTError",
    "MNISTNotFoundError",
    "MNISTCorruptError",
    "default_data_dir",
    "find_mnist_dir",
    "read_idx",
    "load_mnist",
    "preprocess_images",
    "make_permutation",
    "save_permutation",
    "load_permutation",
    "check_permutation",
    "load_dataset",
    "TrainBatches",
    "TestBatches",
    "BackgroundBatches",
    "download_mnist",
]

#: The four files, in the order ``load_mnist`` reads them. An uncompressed
#: copy (the same name without ``.gz``) is accepted as well.
FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

#: md5 sums of the gzip-compressed files (as listed in ``data/README.md``).
MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

#: Where :func:`download_mnist` looks, in order. The original downloaded
#: from Yann LeCun's page, which is often unavailable; the first entry is a
#: widely used mirror of the same files (the checksums guard both).
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

#: Environment variable naming the data folder (the one holding
#: ``mnist/``); the default is ``data/`` in the working directory.
ENV_VAR = "INDRNN_DATA_DIR"

# IDX magic numbers of the MNIST files: two zero bytes, the type code
# (0x08, unsigned byte) and the number of dimensions.
_IMAGES_MAGIC = 0x00000803
_LABELS_MAGIC = 0x00000801
# IDX type codes and the big-endian numpy type each one stands for.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4",
              0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"


class MNISTError(Exception):
    """Base class of the errors of this module."""


class MNISTNotFoundError(MNISTError, FileNotFoundError):
    """The MNIST files are not where they were looked for."""


class MNISTCorruptError(MNISTError, ValueError):
    """An MNIST file is corrupt (bad magic number, size, gzip stream or
    checksum)."""


def _how_to_get(folder):
    return ("To get them, run `python -m indrnn.experiments.pixelmnist "
            "--download --data_dir %s` (or call "
            "indrnn.data.mnist.download_mnist(%r)), or copy the four files "
            "from any MNIST mirror into that folder and check their md5 "
            "sums against data/README.md."
            % (folder, folder))


def default_data_dir():
    """The data folder: ``$INDRNN_DATA_DIR`` if set, else ``data``.

    Returns
    -------
    str
        A folder; the MNIST files are looked for in its ``mnist/``
        sub-folder and in the folder itself (see :func:`find_mnist_dir`).

    Examples
    --------
    >>> import os
    >>> os.environ.pop(ENV_VAR, None) and None
    >>> default_data_dir()
    'data'
    """
    return os.environ.get(ENV_VAR) or "data"


def _locate(folder, name):
    """Path of ``name`` (or its uncompressed twin) in ``folder``, or None."""
    for candidate in (name, name[:-len(".gz")]):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


def find_mnist_dir(data_dir=None):
    """Find the folder holding the four MNIST files.

    ``data_dir/mnist`` is tried first (the layout of ``data/README.md``),
    then ``data_dir`` itself.

    Parameters
    ----------
    data_dir : str, optional
        The data folder; :func:`default_data_dir` when None.

    Returns
    -------
    str
        The folder with all four files (each gzip-compressed or not).

    Raises
    ------
    MNISTNotFoundError
        Naming the folders looked in, the files missing there and how to
        get them.

    Examples
    --------
    >>> find_mnist_dir('/nonexistent')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indrnn.data.mnist.MNISTNotFoundError: MNIST files not found. Looked in ...
    """
    if data_dir is None:
        data_dir = default_data_dir()
    data_dir = os.fspath(data_dir)
    candidates = [os.path.join(data_dir, "mnist"), data_dir]
    for folder in candidates:
        if all(_locate(folder, name) for name in FILES):
            return folder
    # Describe the candidate with the most files, so a partial copy shows
    # exactly what is missing.
    best = max(candidates,
               key=lambda f: sum(bool(_locate(f, n)) for n in FILES))
    missing = [n for n in FILES if not _locate(best, n)]
    raise MNISTNotFoundError(
        "MNIST files not found. Looked in %s. Needed there: %s "
        "(gzip-compressed, or the same names without .gz); missing in %s: "
        "%s. Set the folder with --data_dir or the environment variable %s. "
        "%s" % (" and ".join(repr(os.path.abspath(f)) for f in candidates),
                ", ".join(FILES), os.path.abspath(best), ", ".join(missing),
                ENV_VAR, _how_to_get(os.path.join(data_dir, "mnist"))))


def _read_bytes(path):
    """The content of ``path``, decompressed if it is gzip."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError as exc:
        raise MNISTCorruptError(
            "%s: truncated gzip file (%s); the download was probably cut "
            "short. Delete it and get it again." % (path, exc)) from None
    except (OSError, zlib.error) as exc:
        raise MNISTCorruptError(
            "%s: corrupt gzip data (%s). Delete it and get it again."
            % (path, exc)) from None


def read_idx(path, magic=None):
    """Read an IDX file (the format of the MNIST files).

    Parameters
    ----------
    path : str
        The file, gzip-compressed or not (recognised by its content).
    magic : int, optional
        The magic number required, e.g. ``0x00000803`` for MNIST images.

    Returns
    -------
    numpy.ndarray
        The array, with the shape and type the header declares (native
        byte order).

    Raises
    ------
    MNISTCorruptError
        If the gzip stream is truncated or corrupt, the magic number is not
        an IDX one (or not ``magic``), or the data is shorter or longer than
        the header declares.

    Examples
    --------
    >>> import tempfile, os, struct
    >>> path = os.path.join(tempfile.mkdtemp(), 'tiny-idx1-ubyte')
    >>> with open(path, 'wb') as f:
    ...     _ = f.write(struct.pack('>II', 0x801, 3) + bytes([7, 0, 9]))
    >>> read_idx(path)
    array([7, 0, 9], dtype=uint8)
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise MNISTCorruptError(
            "%s: file too short for an IDX header (%d bytes)"
            % (path, len(data)))
    (found,) = struct.unpack(">I", data[:4])
    code, ndim = (found >> 8) & 0xFF, found & 0xFF
    if (magic is not None and found != magic) or found >> 16 \
            or code not in _IDX_TYPES:
        expected = ("0x%08X" % magic if magic is not None
                    else "an IDX magic number")
        raise MNISTCorruptError(
            "%s: bad magic number 0x%08X (expected %s); not the right IDX "
            "file, or a corrupt one. Delete it and get it again."
            % (path, found, expected))
    header = 4 + 4 * ndim
    if len(data) < header:
        raise MNISTCorruptError(
            "%s: header truncated (%d bytes, %d needed for %d dimensions)"
            % (path, len(data), header, ndim))
    shape = struct.unpack(">%dI" % ndim, data[4:header])
    dtype = np.dtype(_IDX_TYPES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise MNISTCorruptError(
            "%s: wrong size: the header declares shape %s (%d data bytes) "
            "but the file holds %d data bytes. Delete it and get it again."
            % (path, tuple(shape), expected, len(data) - header))
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def load_mnist(data_dir=None):
    """Read the four MNIST files, unprocessed.

    Parameters
    ----------
    data_dir : str, optional
        The data folder (see :func:`find_mnist_dir`); ``$INDRNN_DATA_DIR``
        or ``data`` when None.

    Returns
    -------
    (X_train, y_train), (X_test, y_test) : numpy.ndarray
        Images ``(N, rows, cols)`` and labels ``(N,)``, all ``uint8``.

    Raises
    ------
    MNISTNotFoundError
        If the files are missing (see :func:`find_mnist_dir`).
    MNISTCorruptError
        If a file is corrupt, or images and labels do not match.
    """
    folder = find_mnist_dir(data_dir)
    arrays = []
    for name in FILES:
        path = _locate(folder, name)
        # The magic number fixes the type (bytes) and the number of
        # dimensions (3 for images, 1 for labels).
        magic = _IMAGES_MAGIC if "images" in name else _LABELS_MAGIC
        arrays.append(read_idx(path, magic))
    X_train, y_train, X_test, y_test = arrays
    for images, labels, names in ((X_train, y_train, FILES[:2]),
                                  (X_test, y_test, FILES[2:])):
        if len(images) != len(labels):
            raise MNISTCorruptError(
                "%s holds %d images but %s holds %d labels (in %s)"
                % (names[0], len(images), names[1], len(labels), folder))
        if labels.size and labels.max() > 9:
            raise MNISTCorruptError("%s: label %d out of range 0..9 (in %s)"
                                    % (names[1], labels.max(), folder))
    return (X_train, y_train), (X_test, y_test)


def preprocess_images(images):
    """Turn images into pixel sequences, as the original.

    The original divides the bytes by 256 (range ``[0, 255/256]``),
    reshapes to ``(N, rows*cols, 1)``, subtracts 0.5 and doubles, in
    float32: each pixel ``k`` becomes exactly ``(k - 128) / 128``.

    Parameters
    ----------
    images : numpy.ndarray
        ``uint8`` images, ``(N, rows, cols)``.

    Returns
    -------
    numpy.ndarray
        ``float32``, ``(N, rows*cols, 1)``, in ``[-1, 127/128]``.

    Examples
    --------
    >>> preprocess_images(np.array([[[0, 128], [255, 64]]], np.uint8))[..., 0]
    array([[-1.       ,  0.       ,  0.9921875, -0.5      ]], dtype=float32)
    """
    x = images.reshape(images.shape[0], -1, 1) / np.float32(256)
    x = x.astype(np.float32)
    x -= 0.5
    x *= 2
    return x


def make_permutation(seq_len, seed):
    """The fixed pixel permutation of permuted MNIST for a seed.

    The original drew ``np.random.permutation(seq_len)`` from the unseeded
    global state; here the permutation depends on ``seed`` only, and
    ``numpy.random.RandomState`` keeps it the same across numpy versions.

    Parameters
    ----------
    seq_len : int
        Sequence length (784).
    seed : int
        Seed of the permutation.

    Returns
    -------
    numpy.ndarray
        ``int64`` permutation of ``range(seq_len)``; a sequence ``x`` is
        permuted as ``x[:, P, :]``.

    Examples
    --------
    >>> make_permutation(6, 0)
    array([5, 2, 1, 3, 0, 4])
    """
    return np.random.RandomState(seed).permutation(seq_len).astype(np.int64)


def check_permutation(P, seq_len=None):
    """Check that ``P`` is a permutation (of ``range(seq_len)``).

    Parameters
    ----------
    P : array_like
        Candidate permutation.
    seq_len : int, optional
        Required length.

    Returns
    -------
    numpy.ndarray
        ``P`` as ``int64``.

    Raises
    ------
    ValueError
        If ``P`` is not a bijection of ``range(len(P))`` or has the wrong
        length.
    """
    P = np.asarray(P)
    if P.ndim != 1 or not np.issubdtype(P.dtype, np.integer):
        raise ValueError("a permutation is a 1-d integer array; got %s %s"
                         % (P.dtype, P.shape))
    if seq_len is not None and len(P) != seq_len:
        raise ValueError("permutation of length %d, sequences have %d steps"
                         % (len(P), seq_len))
    if not np.array_equal(np.sort(P), np.arange(len(P))):
        raise ValueError("not a permutation of 0..%d" % (len(P) - 1))
    return P.astype(np.int64)


def save_permutation(path, P):
    """Save a permutation (``.npy``) so a run can be evaluated later.

    Parameters
    ----------
    path : str
        File name (``numpy.save`` appends ``.npy`` if missing).
    P : numpy.ndarray
        The permutation.

    Returns
    -------
    str
        The file written.
    """
    path = os.fspath(path)
    if not path.endswith(".npy"):
        path += ".npy"
    np.save(path, check_permutation(P))
    return path


def load_permutation(path, seq_len=None):
    """Load a permutation saved by :func:`save_permutation` and check it.

    Parameters
    ----------
    path : str
        The ``.npy`` file.
    seq_len : int, optional
        Required length.

    Returns
    -------
    numpy.ndarray
    """
    return check_permutation(np.load(os.fspath(path)), seq_len)


def run_permutation(seq_len, use_permute, seed, path=None, saved=None,
                    checkpoint=None, log=print):
    """The pixel order of a run: the checkpoint's, a saved one or a seed's.

    Parameters
    ----------
    seq_len : int
        Sequence length (784).
    use_permute : bool
        Whether the run permutes the pixels (``--use_permute``).
    seed : int
        Seed of a new permutation (:func:`make_permutation`).
    path : str, optional
        A saved permutation to use instead (``--permutation``).
    saved : list of int or None, optional
        A resumed run's permutation, from its checkpoint (None: not
        resumed, or resumed unpermuted); it wins, after checking it
        against ``path``.
    checkpoint : str, optional
        The checkpoint ``saved`` comes from, for the error message.
    log : callable
        Says where a new run's permutation came from.

    Returns
    -------
    numpy.ndarray or None
        The ``int64`` permutation, None for pixel order.

    Raises
    ------
    indrnn.run.checkpoint.CheckpointMismatchError
        ``saved`` and the file ``path`` differ.
    ValueError
        ``saved`` or the file is not a permutation of ``seq_len`` steps.

    Examples
    --------
    >>> run_permutation(6, True, 0, log=print)
    permutation seed 0
    array([5, 2, 1, 3, 0, 4])
    >>> run_permutation(3, True, 0, saved=[2, 0, 1])
    array([2, 0, 1])
    """
    if saved is not None:
        P = check_permutation(saved, seq_len)
        if path and not np.array_equal(P, load_permutation(path, seq_len)):
            from ..run.checkpoint import CheckpointMismatchError
            raise CheckpointMismatchError(
                'checkpoint %s was trained with another pixel order than '
                '--permutation %s' % (checkpoint, path))
        return P
    if not use_permute:
        return None
    if path:
        log('permutation from', path)
        return load_permutation(path, seq_len)
    log('permutation seed', seed)
    return make_permutation(seq_len, seed)


def load_dataset(data_dir=None, subset=None, test_subset=None,
                 permutation=None):
    """Read and preprocess MNIST as the original's data modules.

    Parameters
    ----------
    data_dir : str, optional
        The data folder (see :func:`find_mnist_dir`).
    subset : int, optional
        Keep only the first ``subset`` training images.
    test_subset : int, optional
        Keep only the first ``test_subset`` test images.
    permutation : numpy.ndarray, optional
        Pixel order applied to every sequence (permuted MNIST).

    Returns
    -------
    (X_train, y_train), (X_test, y_test) : numpy.ndarray
        Sequences ``(N, 784, 1)`` of ``float32`` in ``[-1, 1)`` and labels
        ``(N,)`` of ``int32``.
    """
    (X_train, y_train), (X_test, y_test) = load_mnist(data_dir)
    if subset is not None:
        X_train, y_train = X_train[:subset], y_train[:subset]
    if test_subset is not None:
        X_test, y_test = X_test[:test_subset], y_test[:test_subset]
    X_train, X_test = preprocess_images(X_train), preprocess_images(X_test)
    if permutation is not None:
        P = check_permutation(permutation, X_train.shape[1])
        X_train, X_test = X_train[:, P, :], X_test[:, P, :]
    return ((X_train, y_train.astype(np.int32)),
            (X_test, y_test.astype(np.int32)))


class TrainBatches:
    """Training batches from shuffled passes over the data.

    As the original ``batch_thread``: the order is shuffled at the start
    and reshuffled each time a pass ends; a batch may span the end of one
    pass and the start of the next.

    Parameters
    ----------
    X, y : numpy.ndarray
        Sequences and labels.
    batch_size : int
        Examples per batch.
    rng : numpy.random.RandomState
        Source of the shuffles.

    Attributes
    ----------
    epoch : int
        Completed passes.

    Examples
    --------
    >>> batches = TrainBatches(np.arange(5)[:, None], np.arange(5), 3,
    ...                        np.random.RandomState(0))
    >>> ys = np.concatenate([batches()[1] for _ in range(5)])
    >>> sorted(ys[:5].tolist()), sorted(ys[5:10].tolist()), batches.epoch
    ([0, 1, 2, 3, 4], [0, 1, 2, 3, 4], 3)
    """

    def __init__(self, X, y, batch_size, rng):
        if len(X) != len(y) or len(y) == 0:
            raise ValueError("need as many labels as sequences, at least one"
                             " (got %d and %d)" % (len(X), len(y)))
        self.X, self.y = X, y
        self.batch_size = int(batch_size)
        self.rng = rng
        self.order = np.arange(len(y))
        self.rng.shuffle(self.order)
        self.position = 0
        self.epoch = 0

    def __call__(self):
        """Return the next batch ``(x, y)``."""
        picked = np.empty(self.batch_size, dtype=np.int64)
        filled = 0
        while filled < self.batch_size:
            take = min(self.batch_size - filled,
                       len(self.order) - self.position)
            picked[filled:filled + take] = \
                self.order[self.position:self.position + take]
            filled += take
            self.position += take
            if self.position == len(self.order):
                self.position = 0
                self.epoch += 1
                self.rng.shuffle(self.order)
        return self.X[picked], self.y[picked]

    def state_dict(self):
        """dict: order, position, completed passes and random state (JSON
        types), what a checkpoint keeps to continue the same batches."""
        return dict(self.position_state(), order=self.order.tolist())

    def position_state(self):
        """dict: :meth:`state_dict` without the order, which changes only
        when a pass ends (and is long: one entry per sequence)."""
        algorithm, keys, pos, has_gauss, gauss = self.rng.get_state()
        return {'position': int(self.position), 'epoch': int(self.epoch),
                'rng': [algorithm, keys.tolist(), int(pos), int(has_gauss),
                        float(gauss)]}

    def load_state_dict(self, state):
        """Continue from :meth:`state_dict`'s ``state``.

        Raises
        ------
        ValueError
            When its order is not one of these sequences (another
            ``--subset`` or data set).
        """
        order = np.asarray(state['order'], dtype=self.order.dtype)
        if sorted(order.tolist()) != list(range(len(self.y))):
            raise ValueError(
                "the saved training order covers %d sequences, these data "
                "have %d (different --subset or data)"
                % (len(order), len(self.y)))
        self.order = order
        self.position, self.epoch = int(state['position']), \
            int(state['epoch'])
        algorithm, keys, pos, has_gauss, gauss = state['rng']
        self.rng.set_state((algorithm, np.asarray(keys, dtype=np.uint32),
                            pos, has_gauss, gauss))


class TestBatches:
    """Batches covering every test sequence exactly once per pass.

    The network has a fixed batch size, so the last batch of a pass is
    filled up with sequences from the start of the order; ``n_valid`` says
    how many of its rows count. (The original looped
    ``len(y_test) // batch_size`` times over a wrapping iterator, so it
    skipped up to ``batch_size - 1`` images per evaluation; the filling
    rows here play the part of the original's wrap-around, and only affect
    the batch statistics of that last batch.)

    Parameters
    ----------
    X, y : numpy.ndarray
        Sequences and labels.
    batch_size : int
        Rows per batch.
    rng : numpy.random.RandomState, optional
        If given, the order is shuffled once, as the original's
        ``testbatch_thread``; otherwise it is the file order.

    Examples
    --------
    >>> batches = TestBatches(np.zeros((5, 2, 1)), np.arange(5), 2)
    >>> len(batches), [(y.tolist(), n) for _, y, n in batches]
    (3, [([0, 1], 2), ([2, 3], 2), ([4, 0], 1)])
    """

    # Not a pytest test class, despite its name.
    __test__ = False

    def __init__(self, X, y, batch_size, rng=None):
        if len(X) != len(y) or len(y) == 0:
            raise ValueError("need as many labels as sequences, at least one"
                             " (got %d and %d)" % (len(X), len(y)))
        self.X, self.y = X, y
        self.batch_size = int(batch_size)
        self.order = np.arange(len(y))
        if rng is not None:
            rng.shuffle(self.order)

    def __len__(self):
        return -(-len(self.order) // self.batch_size)

    def __iter__(self):
        """Yield ``(x, y, n_valid)``; rows ``n_valid:`` are filling."""
        n, size = len(self.order), self.batch_size
        for start in range(0, n, size):
            picked = self.order[start:start + size]
            n_valid = len(picked)
            if n_valid < size:
                fill = np.resize(self.order, size - n_valid)
                picked = np.concatenate([picked, fill])
            yield self.X[picked], self.y[picked], n_valid

    def state_dict(self):
        """list: the order (JSON types), for a checkpoint."""
        return self.order.tolist()

    def load_state_dict(self, order):
        """Take :meth:`state_dict`'s ``order`` back.

        Raises
        ------
        ValueError
            When it is not an order of these sequences.
        """
        if sorted(order) != list(range(len(self.y))):
            raise ValueError(
                "the saved test order covers %d sequences, these data have "
                "%d (different --subset, --test_subset or data)"
                % (len(order), len(self.y)))
        self.order = np.asarray(order, dtype=self.order.dtype)


class _Closing:
    """``with``-statement support: ``close()`` on leaving the block."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class BackgroundBatches(_Closing):
    """Prepare the next batch in a thread while the current one is used.

    As the original ``DataHandler``: a thread computes one batch ahead;
    each call waits for it, starts the thread on the following batch and
    returns the one ready. Only one thread runs the producer at a time, so
    the batches and their order are exactly those of calling the producer
    directly. An exception in the producer (``StopIteration`` included) is
    raised by the call that would have returned that batch.

    Parameters
    ----------
    producer : callable
        ``producer() -> batch``, e.g. a :class:`TrainBatches` or the
        ``__next__`` of an iterator.

    Examples
    --------
    >>> it = BackgroundBatches(iter([1, 2]).__next__)
    >>> it(), it()
    (1, 2)
    >>> it()
    Traceback (most recent call last):
    ...
    StopIteration

    As a context manager it is closed on leaving the block:

    >>> with BackgroundBatches(iter([1, 2]).__next__) as batches:
    ...     list(batches)
    [1, 2]
    """

    def __init__(self, producer):
        self.producer = producer
        self._thread = None
        self._result = {}
        self._dispatch()

    def _work(self):
        try:
            self._result["batch"] = self.producer()
        except BaseException as exc:  # re-raised in the caller's thread
            self._result["error"] = exc

    def _dispatch(self):
        self._result = {}
        self._thread = threading.Thread(target=self._work, daemon=True)
        self._thread.start()

    def __call__(self):
        """Return the next batch."""
        if self._thread is None:
            raise StopIteration
        self._thread.join()
        self._thread = None
        result = self._result
        if "error" in result:
            raise result["error"]
        self._dispatch()
        return result["batch"]

    def __iter__(self):
        return self

    __next__ = __call__

    def close(self):
        """Wait for the batch being prepared, and stop."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None


class ResumableBatches(_Closing):
    """:class:`TrainBatches` prepared in a thread, with a saveable state.

    :class:`BackgroundBatches` prepares one batch ahead, so when the loop
    checkpoints after step k the producer has already drawn batch k + 1
    (and may be shuffling). :meth:`state_dict` is the state right after
    batch k was drawn: taken in the producer's thread and handed over with
    the batch, it is never read while it changes. The thread starts with
    the first call, so :meth:`load_state_dict` may come before it.

    Parameters
    ----------
    batches : TrainBatches

    Examples
    --------
    >>> batches = ResumableBatches(TrainBatches(
    ...     np.arange(5)[:, None], np.arange(5), 2, np.random.RandomState(0)))
    >>> _ = batches(); saved = batches.state_dict(); first = batches()[1]
    >>> batches.close()
    >>> again = ResumableBatches(TrainBatches(
    ...     np.arange(5)[:, None], np.arange(5), 2, np.random.RandomState(1)))
    >>> again.load_state_dict(saved)
    >>> again()[1].tolist() == first.tolist()
    True
    >>> again.close()

    As a context manager it is closed on leaving the block.
    """

    def __init__(self, batches):
        self.batches = batches
        self._order = (None, None)
        self._background = None
        self._state = self._snapshot()

    def _snapshot(self):
        state = self.batches.position_state()
        # The order changes only when a pass ends: its list (60,000
        # entries for MNIST) is made once per pass, not once per batch.
        if self._order[0] != state['epoch']:
            self._order = (state['epoch'], self.batches.order.tolist())
        state['order'] = self._order[1]
        return state

    def _produce(self):
        return self.batches(), self._snapshot()

    def __call__(self):
        """Return the next batch ``(x, y)``."""
        if self._background is None:
            self._background = BackgroundBatches(self._produce)
        batch, self._state = self._background()
        return batch

    def state_dict(self):
        """dict: :meth:`TrainBatches.state_dict` after the last batch
        returned."""
        return self._state

    def load_state_dict(self, state):
        """Continue from ``state``, before the first batch."""
        if self._background is not None:
            raise RuntimeError("load_state_dict after batches were drawn")
        self.batches.load_state_dict(state)
        self._order = (None, None)
        self._state = self._snapshot()

    def close(self):
        """Stop the thread."""
        if self._background is not None:
            self._background.close()


def _md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_mnist(folder, mirrors=MIRRORS, md5=None, files=FILES,
                   print_fn=print):
    """Download the MNIST files that are missing in ``folder``.

    Each file is fetched from the first mirror that has it, its md5 sum is
    checked, and only then is it moved into place.

    Parameters
    ----------
    folder : str
        Where the files go (created if needed), e.g. ``data/mnist``.
    mirrors : sequence of str
        Base URLs, tried in order.
    md5 : dict, optional
        ``{file name: md5}``; :data:`MD5` when None.
    files : sequence of str
        The files to get.
    print_fn : callable or None
        Progress messages.

    Returns
    -------
    list of str
        The files downloaded (already present ones are left alone).

    Raises
    ------
    MNISTCorruptError
        If a download does not match its checksum (nothing is kept).
    MNISTNotFoundError
        If no mirror could deliver a file.
    """
    md5 = MD5 if md5 is None else md5
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    fetched = []
    for name in files:
        if _locate(folder, name):
            continue
        target = os.path.join(folder, name)
        partial = target + ".part"
        errors = []
        for base in mirrors:
            url = base + name
            if print_fn is not None:
                print_fn("Downloading %s" % url)
            try:
                with urllib.request.urlopen(url, timeout=60) as response, \
                        open(partial, "wb") as out:
                    for block in iter(lambda: response.read(1 << 20), b""):
                        out.write(block)
            except OSError as exc:
                errors.append("%s: %s" % (url, exc))
                continue
            got = _md5(partial)
            if got != md5[name]:
                os.remove(partial)
                raise MNISTCorruptError(
                    "%s: md5 %s does not match the expected %s; the file was "
                    "not kept." % (url, got, md5[name]))
            os.replace(partial, target)
            fetched.append(target)
            break
        else:
            if os.path.exists(partial):
                os.remove(partial)
            raise MNISTNotFoundError("could not download %s: %s"
                                     % (name, "; ".join(errors)))
    return fetched
