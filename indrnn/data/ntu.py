"""
NTU RGB+D skeleton arrays for the action experiment: loading, frame
sampling, augmentation and background batches.

Port of the data side of the original ``action recognition/`` folder
(``data_reader_numpy_witheval.py`` and ``data_reader_numpy_test.py``):

- :func:`open_ntu` opens a data set: the original layout (``<set>.npy``
  of shape ``(N, frames, 50, 3)`` or an object array of ``(frames, 50, 3)``
  sequences, ``<set>_label.npy``, ``<set>_len.npy``), memory-mapped so that
  it is read from disk as needed, or an HDF5 container (``<set>.h5`` with
  the data sets ``data``, ``label`` and ``len``, as
  :mod:`indrnn.data.ntu_convert` writes it). The file extension chooses.
- :func:`split_train_eval` holds out 5 % of the training set for the
  per-epoch evaluation, as the original.
- :func:`sample_frames` picks ``seq_len`` frames of a sequence as the
  original: one random frame per segment for long sequences, a random
  window when the sequence is barely longer, and a random placement inside
  zeros for short ones.
- :func:`rotate` is the original's rotation augmentation.
- :class:`BatchHandler` draws batches from a list of samples in reshuffled
  passes, preparing the next batch in a background thread while the current
  one is used (the original's ``DataHandler_train``, ``DataHandler_eval``
  and test ``DataHandler``); :class:`ResumableBatchHandler` is one whose
  position a checkpoint keeps.
- :func:`open_train_test` opens a training and a test set and checks that
  they fit each other and the classifier.

All random draws come from an explicit ``numpy.random.RandomState``; they
are the original's draws, in the original's order, from the global
``numpy.random``.
"""
import os
import threading

import numpy as np

__all__ = [
    "NTUError",
    "NTUNotFoundError",
    "NTUCorruptError",
    "NTUArrays",
    "find_dataset",
    "open_ntu",
    "open_train_test",
    "split_train_eval",
    "sample_frames",
    "rotate",
    "BatchHandler",
    "ResumableBatchHandler",
]

_NPY = (".npy",)

_HOW_TO_MAKE = "make the arrays again with indrnn-ntu-convert"


class NTUError(Exception):
    """Base class of the errors of this module about a data set's files;
    the message names the file."""


class NTUNotFoundError(NTUError, FileNotFoundError):
    """A data set's file is not where it was looked for."""


class NTUCorruptError(NTUError, ValueError):
    """A data set's file cannot be read or does not hold what it must."""
_HDF5 = (".h5", ".hdf5")


class NTUArrays:
    """A data set of skeleton sequences, labels and lengths.

    Attributes
    ----------
    path : str
        The data file.
    data : array-like
        ``N`` sequences, indexable by sample: a memory-mapped or in-memory
        ``(N, frames, joints, 3)`` array, an HDF5 data set of that shape, or
        an object array of ``(frames_i, joints, 3)`` arrays.
    labels : numpy.ndarray
        ``(N,)`` int32 class labels, 0-based.
    lengths : numpy.ndarray
        ``(N,)`` int valid frames of each sequence.
    """

    def __init__(self, path, data, labels, lengths, handle=None):
        self.path = path
        self.data = data
        self.labels = np.asarray(labels).astype(np.int32)
        self.lengths = np.asarray(lengths).astype(np.int64)
        self._handle = handle
        if not (len(data) == len(self.labels) == len(self.lengths)):
            raise NTUCorruptError(
                "%s: %d sequences, %d labels and %d lengths"
                % (path, len(data), len(self.labels), len(self.lengths)))

    def __len__(self):
        return len(self.labels)

    @property
    def frame_shape(self):
        """``(joints, 3)``: the shape of one frame."""
        if len(self) == 0:
            return tuple(self.data.shape[2:])
        return tuple(np.shape(self.data[0])[1:])

    def close(self):
        """Close the HDF5 file, if any."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "NTUArrays(%r, %d sequences)" % (self.path, len(self))


def find_dataset(path):
    """The file of a data set given by name or by file name.

    Parameters
    ----------
    path : str or path-like
        ``<folder>/<set>.npy``, ``<folder>/<set>.h5`` (or ``.hdf5``), or
        ``<folder>/<set>`` without extension, which is looked for as
        ``.npy``, then ``.h5``, then ``.hdf5``.

    Returns
    -------
    str
        The existing data file.

    Raises
    ------
    NTUNotFoundError
        Naming the files looked for (a ``FileNotFoundError``).

    Examples
    --------
    >>> find_dataset('/nonexistent/train_ntus')
    ... # doctest: +ELLIPSIS +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    NTUNotFoundError: no data set /nonexistent/train_ntus: looked for ...
    """
    path = os.fspath(path)
    if os.path.splitext(path)[1].lower() in _NPY + _HDF5:
        tried = [path]
    else:
        tried = [path + ext for ext in _NPY + _HDF5]
    for candidate in tried:
        if os.path.isfile(candidate):
            return candidate
    raise NTUNotFoundError(
        "no data set %s: looked for %s (make them with indrnn-ntu-convert)"
        % (path, ", ".join(tried)))


def open_ntu(path, mmap=True):
    """Open a data set in the original ``.npy`` layout or in HDF5.

    Parameters
    ----------
    path : str or path-like
        See :func:`find_dataset`. For ``<set>.npy`` the labels and lengths
        are read from ``<set>_label.npy`` and ``<set>_len.npy`` (the
        lengths are taken from the sequences of an object array when that
        file is missing). An HDF5 file holds the data sets ``data``,
        ``label`` and ``len``.
    mmap : bool
        Memory-map a numeric ``.npy`` data array instead of reading it
        (object arrays are always read).

    Returns
    -------
    NTUArrays
        Close it (or use it in a ``with`` block) when it is an HDF5 file.

    Raises
    ------
    NTUNotFoundError
        When a file is missing (a ``FileNotFoundError``).
    NTUCorruptError
        When a file cannot be read (truncated, not ``.npy``/HDF5, a data
        set missing) or the counts of sequences, labels and lengths differ
        (a ``ValueError``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     base = os.path.join(tmp, 'test_ntus')
    ...     np.save(base + '.npy', np.zeros((4, 30, 50, 3), np.float32))
    ...     np.save(base + '_label.npy', np.arange(4))
    ...     np.save(base + '_len.npy', np.full(4, 30))
    ...     with open_ntu(base) as ds:
    ...         print(len(ds), ds.frame_shape, type(ds.data).__name__)
    4 (50, 3) memmap
    """
    path = find_dataset(path)
    ext = os.path.splitext(path)[1].lower()
    if ext in _HDF5:
        import h5py
        try:
            handle = h5py.File(path, "r")
        except OSError as exc:
            raise NTUCorruptError("%s is not a readable HDF5 file (%s); %s"
                                  % (path, exc, _HOW_TO_MAKE)) from exc
        try:
            for key in ("data", "label", "len"):
                if key not in handle:
                    raise NTUCorruptError(
                        "%s has no data set %r (it needs data, label and "
                        "len); %s" % (path, key, _HOW_TO_MAKE))
            return NTUArrays(path, handle["data"],
                             _read(path, lambda: handle["label"][()]),
                             _read(path, lambda: handle["len"][()]), handle)
        except BaseException:
            handle.close()
            raise
    base = path[:-len(ext)]
    data = _load_npy(path, mmap=mmap, sequences=True)
    labels = _load_npy(_sibling(base, "_label.npy"))
    len_path = base + "_len.npy"
    if os.path.isfile(len_path):
        lengths = _load_npy(len_path)
    elif data.dtype == object:
        lengths = np.array([len(seq) for seq in data])
    else:
        raise NTUNotFoundError("no file %s (the frame counts of %s); %s"
                               % (len_path, path, _HOW_TO_MAKE))
    for name, array in ((path, data), (base + "_label.npy", labels),
                        (len_path, lengths)):
        if array.ndim == 0:
            raise NTUCorruptError("%s holds a scalar, not one entry per "
                                  "sequence; %s" % (name, _HOW_TO_MAKE))
    return NTUArrays(path, data, labels, lengths)


def open_train_test(train_path, test_path, num_classes):
    """Open a training and a test set (:func:`open_ntu`) that fit together.

    Parameters
    ----------
    train_path, test_path : str
        See :func:`find_dataset`.
    num_classes : int
        The labels must be ``0 .. num_classes - 1``.

    Returns
    -------
    train, test : NTUArrays
        Both closed again when a check fails.

    Raises
    ------
    NTUError
        As :func:`open_ntu`; :class:`NTUCorruptError` for labels out of
        range or frames that are not ``(joints, 3)`` of the same joints in
        both sets.
    """
    train = open_ntu(train_path)
    try:
        test = open_ntu(test_path)
    except BaseException:
        train.close()
        raise
    try:
        for ds in (train, test):
            if len(ds) and (ds.labels.min() < 0
                            or ds.labels.max() >= num_classes):
                raise NTUCorruptError(
                    '%s: labels must be 0..%d, found %d..%d'
                    % (ds.path, num_classes - 1, ds.labels.min(),
                       ds.labels.max()))
        if (train.frame_shape != test.frame_shape
                or train.frame_shape[1:] != (3,)):
            raise NTUCorruptError(
                'frames of %s %s and %s %s: need (joints, 3), the same in '
                'both' % (train.path, train.frame_shape, test.path,
                          test.frame_shape))
    except BaseException:
        train.close()
        test.close()
        raise
    return train, test


def _read(path, read):
    try:
        return read()
    except (OSError, ValueError, KeyError) as exc:
        raise NTUCorruptError("cannot read %s (%s); %s"
                              % (path, exc, _HOW_TO_MAKE)) from exc


def _load_npy(path, mmap=False, sequences=False):
    """``np.load`` of one ``.npy`` file; an unreadable file (truncated,
    not a ``.npy`` file) is an :class:`NTUCorruptError` naming it.
    ``sequences``: the data file, which may be an object array of
    variable-length sequences (read with pickle) instead of numbers."""
    def load():
        if mmap or sequences:
            try:
                return np.load(path, mmap_mode="r" if mmap else None)
            except ValueError:
                if not sequences:
                    raise
            # Object arrays (variable-length sequences) cannot be mapped
            # and need pickle: load only files you trust.
            return np.load(path, allow_pickle=True)
        return np.load(path)
    try:
        return load()
    except (OSError, ValueError, EOFError) as exc:
        raise NTUCorruptError("cannot read %s (%s); %s"
                              % (path, exc, _HOW_TO_MAKE)) from exc
    except Exception as exc:  # an unpickling error of a damaged object array
        raise NTUCorruptError("cannot read %s (%s: %s); %s"
                              % (path, type(exc).__name__, exc,
                                 _HOW_TO_MAKE)) from exc


def _sibling(base, suffix):
    path = base + suffix
    if not os.path.isfile(path):
        raise NTUNotFoundError("no file %s (the labels of %s.npy); %s"
                               % (path, base, _HOW_TO_MAKE))
    return path


def split_train_eval(num_videos, rng, train_fraction=0.95):
    """Split a training set into training and held-out samples.

    As the original: a random permutation of the samples, of which the
    first ``int(num_videos * 0.95)`` train and the rest are held out.

    Parameters
    ----------
    num_videos : int
        Size of the training set.
    rng : numpy.random.RandomState
        Source of the permutation.
    train_fraction : float
        Share kept for training.

    Returns
    -------
    train : numpy.ndarray
        Indices of the training samples.
    held_out : numpy.ndarray
        Indices of the held-out samples.

    Examples
    --------
    >>> train, held_out = split_train_eval(100, np.random.RandomState(0))
    >>> len(train), len(held_out), len(set(train) | set(held_out))
    (95, 5, 100)
    """
    order = np.arange(num_videos)
    rng.shuffle(order)
    train_no = int(num_videos * train_fraction)
    return order[:train_no], order[train_no:]


def sample_frames(sequence, length, seq_len, rng):
    """Pick ``seq_len`` frames of a sequence, as the original readers do.

    With ``lenperseg = length // seq_len``:

    - ``lenperseg == 1`` and ``length > seq_len``: a random window of
      ``seq_len`` consecutive frames;
    - ``length <= seq_len``: the sequence (or a random part of it) is placed
      at a random start inside ``seq_len`` zero frames;
    - otherwise the sequence is cut into ``seq_len`` segments of
      ``lenperseg`` frames (the last one takes the rest) and one random
      frame of each segment is taken, in order.

    Parameters
    ----------
    sequence : array-like
        ``(frames, joints, 3)``; only the first ``length`` frames are used.
    length : int
        Valid frames.
    seq_len : int
        Frames to return.
    rng : numpy.random.RandomState
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        ``(seq_len, joints, 3)`` float32.

    Examples
    --------
    >>> seq = np.arange(100, dtype=np.float32).reshape(100, 1, 1) * [1, 1, 1]
    >>> picked = sample_frames(seq, 100, 10, np.random.RandomState(0))
    >>> (picked[:, 0, 0] // 10).astype(int).tolist()    # one per segment
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    """
    length = int(length)
    frame_shape = tuple(np.shape(sequence)[1:])
    sample = np.zeros((seq_len,) + frame_shape, dtype=np.float32)
    lenperseg = length // seq_len
    if lenperseg == 1 and length > seq_len:
        startid = rng.randint(length - seq_len)
        sample[:] = sequence[startid:startid + seq_len]
    elif length <= seq_len:
        # The original draws from randint(max(seq_len - length,
        # int(0.25 * seq_len))), which fails for a zero bound (seq_len < 4
        # and length == seq_len); 1 then gives the only start, 0.
        startid = rng.randint(max(seq_len - length, int(0.25 * seq_len), 1))
        endid = min(seq_len, startid + length)
        datasid, dataeid = 0, length
        if startid + length > seq_len:
            datasid = rng.randint(startid + length - seq_len)
            dataeid = datasid + seq_len - startid
        sample[startid:endid] = sequence[datasid:dataeid]
    else:
        index = np.empty(seq_len, dtype=np.int64)
        for framei in range(seq_len):
            # Drawn one at a time, in order, as the original.
            if framei == seq_len - 1:
                index[framei] = lenperseg * framei + rng.randint(
                    length - lenperseg * (seq_len - 1))
            else:
                index[framei] = lenperseg * framei + rng.randint(lenperseg)
        # One read of the frames needed (from a memory map or HDF5, an
        # index list must be increasing, which it is).
        sample[:] = _take_frames(sequence, index)
    return sample


def _take_frames(sequence, index):
    if isinstance(sequence, np.ndarray):
        return sequence[index]
    # h5py fancy indexing needs strictly increasing, unique indices.
    unique, inverse = np.unique(index, return_inverse=True)
    return np.asarray(sequence[unique])[inverse]


def rotate(sample, s, b):
    """The original's rotation augmentation of joint positions.

    The original writes the new coordinates as (``s``, ``b`` in degrees)::

        RX = X cos b - Z sin b + Z sin b cos s + Y sin b sin s
             - Z sin b (cos s - 1)
        RY = Y cos s
        RZ = Z cos b cos s - Z (cos b - 1) - X sin b + Y cos b sin s
             - Z cos b (cos s - 1)

    which simplifies to ``RX = X cos b + Y sin b sin s``, ``RY = Y cos s``,
    ``RZ = Z - X sin b + Y cos b sin s``: not an exact rotation, but the
    augmentation the published results were trained with, so it is kept.

    Parameters
    ----------
    sample : numpy.ndarray
        ``(..., 3)`` positions.
    s, b : float
        Angles in degrees (the original draws each from {0, 45}).

    Returns
    -------
    numpy.ndarray
        The transformed positions, of the same shape.

    Examples
    --------
    >>> rotate(np.array([1., 2., 3.]), 0, 0).tolist()
    [1.0, 2.0, 3.0]
    """
    shape = np.shape(sample)
    xyz = np.asarray(sample).reshape((-1, 3))
    XT, YT, ZT = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    s = s / 180.0 * np.pi
    b = b / 180.0 * np.pi
    RX = (XT * np.cos(b) - ZT * np.sin(b) + ZT * np.sin(b) * np.cos(s)
          + YT * np.sin(b) * np.sin(s) - ZT * np.sin(b) * (np.cos(s) - 1))
    RY = YT * np.cos(s)
    RZ = (ZT * np.cos(b) * np.cos(s) - ZT * (np.cos(b) - 1) - XT * np.sin(b)
          + YT * np.cos(b) * np.sin(s) - ZT * np.cos(b) * (np.cos(s) - 1))
    return np.stack([RX, RY, RZ], axis=1).reshape(shape)


class BatchHandler:
    """Batches of sampled sequences, prepared in a background thread.

    Each batch takes the next ``batch_size`` samples of a shuffled list of
    ``indices``; when the list is used up it is reshuffled and started
    again (also within a batch), so every batch is full. Each sample is
    cut to ``seq_len`` frames with :func:`sample_frames` and, with
    ``rotation``, transformed with :func:`rotate` at angles drawn as the
    original: with probability 1/2, ``s`` and ``b`` each 0 or 45 degrees.

    As in the original, the next batch is prepared in a thread while the
    caller uses the current one; all random draws happen in that thread,
    one batch at a time, so a seeded handler is reproducible.

    Parameters
    ----------
    dataset : NTUArrays
        The samples.
    indices : array-like of int
        The samples of ``dataset`` to draw from (e.g. the training part of
        :func:`split_train_eval`).
    batch_size : int
        Samples per batch.
    seq_len : int
        Frames per sample.
    rng : numpy.random.RandomState
        Source of randomness (shuffles, frames and rotations).
    rotation : bool
        Apply the rotation augmentation (training only, ``--rotation_aug``).
    with_index : bool
        Also return each sample's index in ``dataset`` (the test handler).

    Examples
    --------
    >>> data = np.random.RandomState(0).rand(6, 40, 2, 3).astype(np.float32)
    >>> ds = NTUArrays('x', data, np.arange(6), np.full(6, 40))
    >>> with BatchHandler(ds, np.arange(6), 4, 10, np.random.RandomState(1),
    ...                   with_index=True) as handler:
    ...     x, y, index = handler.get_batch()
    >>> x.shape, x.dtype.name, bool((y == index).all())
    ((4, 10, 2, 3), 'float32', True)
    """

    def __init__(self, dataset, indices, batch_size, seq_len, rng,
                 rotation=False, with_index=False):
        self.dataset = dataset
        self.order = np.array(indices, dtype=np.int64)
        if len(self.order) == 0:
            raise ValueError("no samples to draw batches from (%s)"
                             % getattr(dataset, "path", dataset))
        self.batch_size = batch_size
        self.seq_len = seq_len
        self.rng = rng
        self.rotation = rotation
        self.with_index = with_index
        self.idx = -1
        self.rng.shuffle(self.order)
        self._thread = None
        self._result = None
        self._dispatch()

    def __len__(self):
        return len(self.order)

    def _make_batch(self):
        data = np.empty((self.batch_size, self.seq_len)
                        + self.dataset.frame_shape, dtype=np.float32)
        labels = np.empty(self.batch_size, dtype=np.int32)
        index = np.empty(self.batch_size, dtype=np.int32)
        for j in range(self.batch_size):
            self.idx += 1
            if self.idx == len(self.order):
                self.idx = 0
                self.rng.shuffle(self.order)
            i = self.order[self.idx]
            labels[j] = self.dataset.labels[i]
            index[j] = i
            sample = sample_frames(self.dataset.data[i],
                                   self.dataset.lengths[i], self.seq_len,
                                   self.rng)
            if self.rotation and self.rng.randint(2):
                s = self.rng.randint(2) * 45
                b = self.rng.randint(2) * 45
                sample = rotate(sample, s, b)
            data[j] = sample
        if self.with_index:
            return data, labels, index
        return data, labels

    def _work(self):
        try:
            self._result = (True, self._make_batch())
        except BaseException as err:  # re-raised in the caller's thread
            self._result = (False, err)

    def _dispatch(self):
        self._thread = threading.Thread(target=self._work, daemon=True)
        self._thread.start()

    def get_batch(self):
        """Return the prepared batch and start preparing the next one.

        Returns
        -------
        tuple
            ``(data, labels)``, plus ``index`` with ``with_index``:
            ``(batch_size, seq_len, joints, 3)`` float32,
            ``(batch_size,)`` int32 and ``(batch_size,)`` int32.
        """
        if self._thread is None:
            raise RuntimeError("the batch handler is closed")
        self._thread.join()
        ok, value = self._result
        if not ok:
            self._thread = None
            raise value
        self._dispatch()
        return value

    # The original's method names.
    GetBatch = get_batch

    def GetDatasetSize(self):
        """Number of samples drawn from (the original's method)."""
        return len(self.order)

    def close(self):
        """Wait for the batch in preparation and stop."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ResumableBatchHandler(BatchHandler):
    """A :class:`BatchHandler` whose position a checkpoint can keep.

    Its state (order, position, random state) after each batch handed out
    is known (:meth:`state_dict`), and can be restored
    (:meth:`load_state_dict`) before the first batch is prepared: the
    first batch is prepared at the first :meth:`get_batch`, not at
    construction.

    The handler prepares the next batch in a thread, so when a checkpoint
    is written it is one batch ahead; the state saved is the one right
    after the last batch handed out, taken in the thread when that batch
    was made.

    Examples
    --------
    >>> data = np.random.RandomState(0).rand(6, 40, 2, 3).astype(np.float32)
    >>> ds = NTUArrays('x', data, np.arange(6), np.full(6, 40))
    >>> with ResumableBatchHandler(ds, np.arange(6), 4, 10,
    ...                            np.random.RandomState(1)) as a:
    ...     _ = a.get_batch()
    ...     saved = a.state_dict()
    ...     expected = a.get_batch()[1]
    >>> with ResumableBatchHandler(ds, np.arange(6), 4, 10,
    ...                            np.random.RandomState(2)) as b:
    ...     b.load_state_dict(saved)
    ...     bool((b.get_batch()[1] == expected).all())
    True
    """

    def __init__(self, *args, **kwargs):
        # Hold the first batch until it is asked for.
        self._held = True
        super().__init__(*args, **kwargs)
        self.state = self._snapshot()

    def _snapshot(self):
        algorithm, keys, pos, has_gauss, gauss = self.rng.get_state()
        return {'order': self.order.tolist(), 'idx': int(self.idx),
                'rng': [algorithm, keys.tolist(), int(pos), int(has_gauss),
                        float(gauss)]}

    def _dispatch(self):
        if not self._held:
            super()._dispatch()

    def _make_batch(self):
        return super()._make_batch(), self._snapshot()

    def state_dict(self):
        """dict: order, position and random state after the last batch
        handed out (JSON types)."""
        return self.state

    def load_state_dict(self, saved):
        """Continue from ``saved`` (a :meth:`state_dict`), before the first
        batch.

        Raises
        ------
        ValueError
            When ``saved`` orders other samples than this handler's.
        """
        if not self._held:
            raise RuntimeError('the handler has already handed out batches')
        order = np.asarray(saved['order'], dtype=self.order.dtype)
        if sorted(order.tolist()) != sorted(self.order.tolist()):
            raise ValueError('the saved batch order holds other samples '
                             'than this handler')
        self.order, self.idx = order, int(saved['idx'])
        algorithm, keys, pos, has_gauss, gauss = saved['rng']
        self.rng.set_state((algorithm, np.asarray(keys, dtype=np.uint32),
                            pos, has_gauss, gauss))
        self.state = self._snapshot()

    def get_batch(self):
        if self._held:
            self._held = False
            self._dispatch()
        batch, self.state = super().get_batch()
        return batch

    GetBatch = get_batch
