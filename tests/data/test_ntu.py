"""Tests of indrnn.data.ntu: loading, frame sampling, rotation, batches.

The frame sampling is compared with the original readers' code, restated
here with the global ``numpy.random`` as the original used it.
"""
import math

import h5py
import numpy as np
import pytest

from indrnn.data import ntu


def original_sample(dataset, len_data, seq_len):
    """The per-sample code of the original readers (global numpy.random)."""
    sample = np.zeros((seq_len,) + dataset.shape[1:])
    lenperseg = len_data // seq_len
    if lenperseg == 1 and len_data > seq_len:
        startid = np.random.randint(len_data - seq_len)
        sample = dataset[startid:startid + seq_len]
    elif len_data <= seq_len:
        startid = np.random.randint(max(seq_len - len_data,
                                        int(0.25 * seq_len)))
        endid = min(seq_len, startid + len_data)
        datasid = 0
        dataeid = len_data
        if startid + len_data > seq_len:
            datasid = np.random.randint(startid + len_data - seq_len)
            dataeid = datasid + seq_len - startid
        sample[startid:endid] = dataset[datasid:dataeid]
    else:
        for framei in range(seq_len):
            if framei == seq_len - 1:
                index = lenperseg * framei + np.random.randint(
                    len_data - lenperseg * (seq_len - 1))
            else:
                index = lenperseg * framei + np.random.randint(lenperseg)
            sample[framei] = dataset[index]
    return sample


def numbered(num_frames, joints=2):
    """A sequence whose frame t holds the value t + 1 everywhere."""
    values = np.arange(1, num_frames + 1, dtype=np.float32)
    return np.broadcast_to(values[:, None, None],
                           (num_frames, joints, 3)).copy()


@pytest.mark.parametrize("length, seq_len", [
    (100, 20), (59, 20), (20, 20), (30, 20), (39, 20), (12, 20), (5, 20),
    (16, 20), (300, 20), (7, 8)])
def test_sample_frames_is_the_original(length, seq_len):
    seq = numbered(300)
    for seed in range(5):
        np.random.seed(seed)
        expected = [original_sample(seq, length, seq_len) for _ in range(3)]
        rng = np.random.RandomState(seed)
        got = [ntu.sample_frames(seq, length, seq_len, rng)
               for _ in range(3)]
        for e, g in zip(expected, got):
            assert g.dtype == np.float32 and g.shape == (seq_len, 2, 3)
            np.testing.assert_array_equal(g, e)


def test_sample_frames_picks_one_frame_per_segment():
    seq = numbered(300)
    rng = np.random.RandomState(0)
    picks = np.array([ntu.sample_frames(seq, 103, 20, rng)[:, 0, 0] - 1
                      for _ in range(200)])
    # Segments of 103 // 20 = 5 frames; the last one takes frames 95-102.
    segment = np.minimum(picks // 5, 19)
    np.testing.assert_array_equal(segment, np.tile(np.arange(20), (200, 1)))
    assert picks.max() == 102 and set(picks[:, -1]) == set(range(95, 103))
    assert set(picks[:, 0]) == set(range(5))
    # Never past the sequence's length, although the array is longer.
    assert picks.max() < 103


def test_sample_frames_short_sequences_sit_in_zeros():
    seq = numbered(300)
    rng = np.random.RandomState(0)
    starts = set()
    for _ in range(100):
        sample = ntu.sample_frames(seq, 12, 20, rng)[:, 0, 0]
        nonzero = np.nonzero(sample)[0]
        # A run of consecutive frames 1, 2, ... placed at a random start.
        assert len(nonzero) == 12
        np.testing.assert_array_equal(sample[nonzero], np.arange(1, 13))
        starts.add(nonzero[0])
    assert starts == set(range(8))
    # seq_len < 4 and a sequence of exactly seq_len frames: the original's
    # randint(0) fails; the only start, 0, is used.
    out = ntu.sample_frames(seq, 3, 3, rng)
    np.testing.assert_array_equal(out[:, 0, 0], [1, 2, 3])


def test_rotate():
    rng = np.random.RandomState(0)
    x = rng.normal(size=(4, 5, 3))
    np.testing.assert_allclose(ntu.rotate(x, 0, 0), x)
    # The original's formula reduces to these (see the docstring).
    for s, b in ((45, 0), (0, 45), (45, 45), (30, 60)):
        sr, br = np.radians(s), np.radians(b)
        X, Y, Z = x[..., 0], x[..., 1], x[..., 2]
        expected = np.stack([X * np.cos(br) + Y * np.sin(br) * np.sin(sr),
                             Y * np.cos(sr),
                             Z - X * np.sin(br) + Y * np.cos(br) * np.sin(sr)],
                            axis=-1)
        np.testing.assert_allclose(ntu.rotate(x, s, b), expected, atol=1e-12)


def write_npy(base, data, labels, lengths):
    np.save(str(base) + ".npy", data)
    np.save(str(base) + "_label.npy", labels)
    if lengths is not None:
        np.save(str(base) + "_len.npy", lengths)


def test_open_ntu_layouts(tmp_path):
    rng = np.random.RandomState(0)
    data = rng.normal(size=(5, 30, 50, 3)).astype(np.float32)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.int64)
    lengths = np.array([30, 12, 7, 30, 21])
    write_npy(tmp_path / "train_ntus", data, labels, lengths)
    with h5py.File(tmp_path / "test_ntus.h5", "w") as f:
        f["data"] = data
        f["label"] = labels
        f["len"] = lengths
    with ntu.open_ntu(tmp_path / "train_ntus") as a, \
            ntu.open_ntu(tmp_path / "test_ntus") as b:
        assert isinstance(a.data, np.memmap) and a.path.endswith(".npy")
        assert isinstance(b.data, h5py.Dataset) and b.path.endswith(".h5")
        for ds in (a, b):
            assert len(ds) == 5 and ds.frame_shape == (50, 3)
            assert ds.labels.dtype == np.int32
            np.testing.assert_array_equal(ds.labels, labels)
            np.testing.assert_array_equal(ds.lengths, lengths)
            np.testing.assert_array_equal(ds.data[2], data[2])
    with ntu.open_ntu(tmp_path / "train_ntus.npy", mmap=False) as a:
        assert not isinstance(a.data, np.memmap)
    # Variable-length sequences in an object array, without _len.npy.
    seqs = np.empty(3, dtype=object)
    for i, n in enumerate((4, 9, 2)):
        seqs[i] = numbered(n, joints=50)
    write_npy(tmp_path / "obj", seqs, np.arange(3), None)
    with ntu.open_ntu(tmp_path / "obj.npy") as ds:
        assert ds.lengths.tolist() == [4, 9, 2] and ds.frame_shape == (50, 3)
    # Errors name the files.
    with pytest.raises(FileNotFoundError, match=r"test_CV_ntus\.npy, .*"
                       r"test_CV_ntus\.h5"):
        ntu.open_ntu(tmp_path / "test_CV_ntus")
    write_npy(tmp_path / "nolen", data, labels, None)
    with pytest.raises(FileNotFoundError, match="nolen_len.npy"):
        ntu.open_ntu(tmp_path / "nolen")
    write_npy(tmp_path / "short", data, labels[:4], lengths)
    with pytest.raises(ValueError, match="5 sequences, 4 labels"):
        ntu.open_ntu(tmp_path / "short")


def test_split_train_eval():
    train, held = ntu.split_train_eval(1234, np.random.RandomState(3))
    assert len(train) == int(1234 * 0.95) and len(held) == 1234 - len(train)
    assert sorted(np.concatenate([train, held])) == list(range(1234))
    # The original's split: the first 95 % of a permutation.
    np.random.seed(3)
    order = np.arange(1234)
    np.random.shuffle(order)
    np.testing.assert_array_equal(train, order[:len(train)])


def labelled_dataset(num, frames=40):
    """Sequences whose frames hold 1000 * (sample + 1) + frame."""
    data = np.zeros((num, frames, 2, 3), dtype=np.float32)
    for i in range(num):
        data[i] = (1000 * (i + 1) + np.arange(frames))[:, None, None]
    return ntu.NTUArrays("mem", data, np.arange(num) % 4,
                         np.full(num, frames))


def test_batch_handler_passes_and_content():
    ds = labelled_dataset(7)
    indices = np.array([0, 2, 3, 5, 6])
    handler = ntu.BatchHandler(ds, indices, 3, 10, np.random.RandomState(0),
                               with_index=True)
    seen = []
    with handler:
        assert handler.GetDatasetSize() == 5
        for _ in range(10):
            x, y, index = handler.GetBatch()
            assert x.shape == (3, 10, 2, 3) and x.dtype == np.float32
            assert y.dtype == np.int32 and index.dtype == np.int32
            np.testing.assert_array_equal(y, index % 4)
            # The frames come from the sample named by index, in order.
            sample = x[:, :, 0, 0] // 1000 - 1
            np.testing.assert_array_equal(sample, np.repeat(
                index[:, None], 10, axis=1))
            assert (np.diff(x[:, :, 0, 0], axis=1) > 0).all()
            seen += index.tolist()
    # 30 draws: every sample exactly 6 times, each pass a permutation.
    assert sorted(seen) == sorted(indices.tolist() * 6)
    for p in range(6):
        assert sorted(seen[5 * p:5 * p + 5]) == sorted(indices.tolist())
    with pytest.raises(RuntimeError, match="closed"):
        handler.get_batch()


def test_batch_handler_is_reproducible_and_rotates(tmp_path):
    ds = labelled_dataset(6)

    def batches(seed, rotation):
        with ntu.BatchHandler(ds, np.arange(6), 4, 8,
                              np.random.RandomState(seed),
                              rotation=rotation) as h:
            return [h.get_batch() for _ in range(30)]

    a, b = batches(1, True), batches(1, True)
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    # The data are equal in x, y and z, so a rotation shows as unequal
    # coordinates; about half the samples are rotated (p = 1/2, then
    # s = b = 0 one time in four).
    x = np.concatenate([xa for xa, _ in a])
    rotated = ~np.isclose(x[..., 0], x[..., 1]).all(axis=(1, 2))
    assert 0.25 < rotated.mean() < 0.5
    plain = np.concatenate([xa for xa, _ in batches(1, False)])
    assert np.isclose(plain[..., 0], plain[..., 1]).all()


def test_batch_handler_h5_equals_npy(tmp_path):
    ds = labelled_dataset(5)
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["data"] = ds.data
        f["label"] = ds.labels
        f["len"] = np.array([40, 12, 25, 40, 3])
    write_npy(tmp_path / "d", ds.data, ds.labels, np.array([40, 12, 25, 40,
                                                            3]))
    out = []
    for name in ("d.h5", "d.npy"):
        with ntu.open_ntu(tmp_path / name) as d, \
                ntu.BatchHandler(d, np.arange(5), 4, 10,
                                 np.random.RandomState(0)) as h:
            out.append([h.get_batch()[0] for _ in range(5)])
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


def test_batch_handler_reports_worker_errors():
    ds = labelled_dataset(3)
    ds.lengths[1] = -5     # randint with a negative bound fails
    handler = ntu.BatchHandler(ds, [1], 2, 10, np.random.RandomState(0))
    with pytest.raises(ValueError):
        handler.get_batch()
    with pytest.raises(ValueError, match="no samples"):
        ntu.BatchHandler(ds, [], 2, 10, np.random.RandomState(0))


def test_batches_per_epoch_cover_the_set():
    # The experiment runs ceil(N / batch_size) batches per epoch.
    ds = labelled_dataset(10)
    with ntu.BatchHandler(ds, np.arange(10), 4, 5, np.random.RandomState(2),
                          with_index=True) as h:
        first = np.concatenate([h.get_batch()[2] for _ in
                                range(math.ceil(10 / 4))])
    assert set(first[:10]) == set(range(10))


def test_resumable_handler_continues_from_its_state():
    # Saved mid-pass and after a reshuffle (5 samples, batches of 3): the
    # handler restored from the state continues with the same batches as
    # the one it was taken from, though one batch ahead in its thread.
    ds = labelled_dataset(7)
    indices = np.array([0, 2, 3, 5, 6])
    with ntu.ResumableBatchHandler(ds, indices, 3, 10,
                                   np.random.RandomState(0),
                                   rotation=True) as a:
        for _ in range(3):
            a.get_batch()
        saved = a.state_dict()
        expected = [a.get_batch() for _ in range(4)]
    with ntu.ResumableBatchHandler(ds, indices, 3, 10,
                                   np.random.RandomState(9),
                                   rotation=True) as b:
        b.load_state_dict(saved)
        for want in expected:
            for got, value in zip(b.get_batch(), want):
                np.testing.assert_array_equal(got, value)
        with pytest.raises(RuntimeError, match="already"):
            b.load_state_dict(saved)
    with ntu.ResumableBatchHandler(ds, [0, 1, 2, 3, 4], 3, 10,
                                   np.random.RandomState(0)) as c:
        with pytest.raises(ValueError, match="other samples"):
            c.load_state_dict(saved)


def test_open_train_test_checks_labels_and_frames(tmp_path):
    def write(name, labels, joints=50):
        base = tmp_path / name
        np.save(str(base) + '.npy', np.zeros((len(labels), 5, joints, 3),
                                             np.float32))
        np.save(str(base) + '_label.npy', np.asarray(labels))
        np.save(str(base) + '_len.npy', np.full(len(labels), 5))
        return str(base)

    train, test = ntu.open_train_test(write('a', [0, 3]), write('b', [1]),
                                      num_classes=4)
    assert (len(train), len(test)) == (2, 1)
    with pytest.raises(ntu.NTUCorruptError, match=r'labels must be 0\.\.3, '
                       r'found 0\.\.4'):
        ntu.open_train_test(write('a', [0, 4]), write('b', [1]), 4)
    with pytest.raises(ntu.NTUCorruptError, match='the same in both'):
        ntu.open_train_test(write('a', [0]), write('b', [1], joints=25), 4)
