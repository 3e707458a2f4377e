"""Tests of indrnn.data.mnist: reader, checks, batches, permutation.

The real files (found through the ``data_dir`` fixture) are checked
against published facts about MNIST (sizes, label counts, md5 sums); the
error paths use tiny IDX files written here.
"""
import gzip
import hashlib
import json
import os
import shutil
import struct
import threading

import numpy as np
import pytest

from indrnn.data import mnist

# Label counts of MNIST, as published with the data set.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# ------------------------------------------------------------ real files

@pytest.fixture(scope="module")
def real(data_dir):
    return mnist.load_mnist(str(data_dir))


def test_real_files_checksums(data_dir):
    folder = mnist.find_mnist_dir(str(data_dir))
    assert folder == os.path.join(str(data_dir), "mnist")
    for name in mnist.FILES:
        with open(os.path.join(folder, name), "rb") as f:
            assert hashlib.md5(f.read()).hexdigest() == mnist.MD5[name]


def test_real_shapes_and_labels(real):
    (X_train, y_train), (X_test, y_test) = real
    assert X_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert X_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert X_train.dtype == y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS
    assert (y_train == 0).sum() == 5923
    # The first labels of each file, and pixels using the full byte range.
    assert y_train[:3].tolist() == [5, 0, 4] and y_test[0] == 7
    assert X_train.min() == 0 and X_train.max() == 255


def test_real_preprocessing(real, data_dir):
    (X_train, y_train), (X_test, y_test) = real
    (x, y), (xt, yt) = mnist.load_dataset(str(data_dir), subset=50,
                                          test_subset=20)
    assert x.shape == (50, 784, 1) and xt.shape == (20, 784, 1)
    assert x.dtype == xt.dtype == np.float32
    assert y.dtype == yt.dtype == np.int32
    np.testing.assert_array_equal(y, y_train[:50])
    np.testing.assert_array_equal(yt, y_test[:20])
    # Row-major pixel order; k/256 shifted and doubled is exactly
    # (k - 128)/128, within [-1, 127/128].
    expected = (X_train[:50].astype(np.float64) - 128) / 128
    np.testing.assert_array_equal(x[:, :, 0], expected.reshape(50, 784))
    assert x[5, 28 * 10 + 7, 0] == (X_train[5, 10, 7] - 128.0) / 128
    assert x.min() == -1 and x.max() == 127 / 128


def test_real_test_iterator_sees_every_image_once(real):
    (_, _), (X_test, y_test) = real
    ids = np.arange(10000)[:, None, None]
    batches = mnist.TestBatches(ids, y_test, 32, np.random.RandomState(0))
    assert len(batches) == 313  # 312 full batches and one of 16
    seen, shapes, valid = [], set(), []
    for x, y, n_valid in batches:
        shapes.add(x.shape)
        np.testing.assert_array_equal(y, y_test[x[:, 0, 0]])
        seen.append(x[:n_valid, 0, 0])
        valid.append(n_valid)
    seen = np.concatenate(seen)
    assert shapes == {(32, 1, 1)}
    assert valid == [32] * 312 + [16]
    np.testing.assert_array_equal(np.sort(seen), np.arange(10000))
    # Shuffled once, so not the file order; a second pass repeats it.
    assert not np.array_equal(seen, np.arange(10000))
    again = np.concatenate([x[:n, 0, 0] for x, _, n in batches])
    np.testing.assert_array_equal(again, seen)


def test_real_permutation(data_dir):
    P = mnist.make_permutation(784, 3)
    np.testing.assert_array_equal(np.sort(P), np.arange(784))
    np.testing.assert_array_equal(P, mnist.make_permutation(784, 3))
    assert not np.array_equal(P, mnist.make_permutation(784, 4))
    (x, _), (xt, _) = mnist.load_dataset(str(data_dir), subset=5,
                                         test_subset=5)
    (px, _), (pxt, _) = mnist.load_dataset(str(data_dir), subset=5,
                                           test_subset=5, permutation=P)
    for j in (0, 100, 783):
        np.testing.assert_array_equal(px[:, j], x[:, P[j]])
        np.testing.assert_array_equal(pxt[:, j], xt[:, P[j]])


# ----------------------------------------------------------- permutation

def test_permutation_is_stable_across_versions():
    # A saved run refers to its seed: the permutation must not change with
    # numpy versions (RandomState's stream is frozen).
    # The widely quoted np.random.seed(0); np.random.permutation(10).
    assert mnist.make_permutation(10, 0).tolist() == \
        [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]
    assert mnist.make_permutation(10, 1).tolist() == \
        np.random.RandomState(1).permutation(10).tolist()


def test_permutation_checks_and_round_trip(tmp_path):
    P = mnist.make_permutation(20, 5)
    path = mnist.save_permutation(str(tmp_path / "perm"), P)
    assert path.endswith("perm.npy")
    np.testing.assert_array_equal(mnist.load_permutation(path, 20), P)
    with pytest.raises(ValueError, match="length 20"):
        mnist.load_permutation(path, 21)
    with pytest.raises(ValueError, match="not a permutation"):
        mnist.check_permutation([0, 1, 1])
    with pytest.raises(ValueError, match="integer"):
        mnist.check_permutation([0.0, 1.0])


def test_run_permutation_chooses_as_the_script_did(tmp_path):
    # A new run: pixel order, or the --permutation file, or the seed's;
    # a resumed run: its checkpoint's, which must equal --permutation.
    from indrnn.run.checkpoint import CheckpointMismatchError
    said = []
    log = lambda *parts: said.append(parts)
    assert mnist.run_permutation(20, False, 5, log=log) is None
    np.testing.assert_array_equal(mnist.run_permutation(20, True, 5, log=log),
                                  mnist.make_permutation(20, 5))
    saved = mnist.make_permutation(20, 6)
    path = mnist.save_permutation(str(tmp_path / "perm"), saved)
    np.testing.assert_array_equal(
        mnist.run_permutation(20, True, 5, path, log=log), saved)
    assert said == [("permutation seed", 5), ("permutation from", path)]
    resumed = mnist.run_permutation(20, True, 5, path, saved.tolist(),
                                    "ckpt.h5", log=log)
    assert resumed.dtype == np.int64 and resumed.tolist() == saved.tolist()
    assert len(said) == 2  # nothing said on resume
    with pytest.raises(CheckpointMismatchError,
                       match="checkpoint ckpt.h5 was trained with another"):
        mnist.run_permutation(20, True, 5, path, list(range(20)), "ckpt.h5")
    with pytest.raises(ValueError, match="length 19"):
        mnist.run_permutation(20, True, 5, saved=list(range(19)))


def test_background_batches_close_on_leaving_the_block():
    with mnist.BackgroundBatches(iter([1, 2, 3]).__next__) as batches:
        assert batches() == 1
    assert batches._thread is None
    with pytest.raises(StopIteration):
        batches()


# --------------------------------------------------------------- batches

def test_train_batches_shuffle_each_epoch():
    n, size = 10, 4
    X = np.arange(n)[:, None, None].astype(np.float32)
    batches = mnist.TrainBatches(X, np.arange(n), size,
                                 np.random.RandomState(0))
    draws = []
    for _ in range(15):  # 60 draws = 6 epochs
        x, y = batches()
        assert x.shape == (size, 1, 1) and y.shape == (size,)
        np.testing.assert_array_equal(x[:, 0, 0], y)
        draws.append(y)
    draws = np.concatenate(draws).reshape(6, n)
    assert batches.epoch == 6
    for epoch in draws:  # each pass is a permutation of the data
        np.testing.assert_array_equal(np.sort(epoch), np.arange(n))
    assert len({tuple(e) for e in draws}) > 1  # reshuffled
    # Same seed, same batches.
    again = mnist.TrainBatches(X, np.arange(n), size,
                               np.random.RandomState(0))
    np.testing.assert_array_equal(again()[1], draws[0, :size])


def test_batches_reject_mismatched_data():
    with pytest.raises(ValueError):
        mnist.TrainBatches(np.zeros((3, 2, 1)), np.zeros(2), 2,
                           np.random.RandomState(0))
    with pytest.raises(ValueError):
        mnist.TestBatches(np.zeros((0, 2, 1)), np.zeros(0), 2)


def test_background_batches_same_order_in_a_thread():
    threads = []

    def producer():
        threads.append(threading.get_ident())
        return len(threads)

    background = mnist.BackgroundBatches(producer)
    assert [background() for _ in range(4)] == [1, 2, 3, 4]
    background.close()
    assert threading.get_ident() not in threads
    # Errors surface in the caller, at the batch that failed.
    it = iter([1, 2])
    background = mnist.BackgroundBatches(it.__next__)
    assert list(background) == [1, 2]

    def failing():
        raise RuntimeError("bad batch")

    background = mnist.BackgroundBatches(failing)
    with pytest.raises(RuntimeError, match="bad batch"):
        background()
    background.close()


# ------------------------------------------------- synthetic IDX files

def idx_bytes(array, magic=None):
    """An IDX file of ``uint8`` ``array``, written independently."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x800 + array.ndim
    header = struct.pack(">I", magic)
    header += struct.pack(">%dI" % array.ndim, *array.shape)
    return header + array.tobytes()


def write_set(folder, compress=True, n_train=6, n_test=4, size=4, seed=0,
              override=None):
    """Write the four files to ``folder``; ``override`` maps a name to
    raw bytes (written as given)."""
    rng = np.random.RandomState(seed)
    arrays = {
        mnist.FILES[0]: rng.randint(0, 256, (n_train, size, size)),
        mnist.FILES[1]: rng.randint(0, 10, n_train),
        mnist.FILES[2]: rng.randint(0, 256, (n_test, size, size)),
        mnist.FILES[3]: rng.randint(0, 10, n_test),
    }
    os.makedirs(folder, exist_ok=True)
    for name, array in arrays.items():
        data = idx_bytes(array)
        if override and name in override:
            data = override[name]
        elif compress:
            data = gzip.compress(data)
        path = os.path.join(folder, name if compress else name[:-3])
        with open(path, "wb") as f:
            f.write(data)
    return arrays


@pytest.mark.parametrize("compress", [True, False])
def test_synthetic_files_read_back(tmp_path, compress):
    arrays = write_set(str(tmp_path / "mnist"), compress=compress)
    (X_train, y_train), (X_test, y_test) = mnist.load_mnist(str(tmp_path))
    for got, name in zip((X_train, y_train, X_test, y_test), mnist.FILES):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[name])
    # The folder holding the files directly works too.
    (X_train, _), _ = mnist.load_mnist(str(tmp_path / "mnist"))
    np.testing.assert_array_equal(X_train, arrays[mnist.FILES[0]])


def test_environment_variable(tmp_path, monkeypatch):
    arrays = write_set(str(tmp_path / "mnist"))
    monkeypatch.setenv(mnist.ENV_VAR, str(tmp_path))
    assert mnist.default_data_dir() == str(tmp_path)
    _, (_, y_test) = mnist.load_mnist()
    np.testing.assert_array_equal(y_test, arrays[mnist.FILES[3]])
    monkeypatch.delenv(mnist.ENV_VAR)
    assert mnist.default_data_dir() == "data"


def test_missing_files_error_names_folder_files_and_remedy(tmp_path):
    with pytest.raises(mnist.MNISTNotFoundError) as info:
        mnist.load_mnist(str(tmp_path))
    message = str(info.value)
    assert str(tmp_path) in message and str(tmp_path / "mnist") in message
    for name in mnist.FILES:
        assert name in message
    assert "--download" in message and mnist.ENV_VAR in message
    assert isinstance(info.value, FileNotFoundError)

    # A partial copy: the missing file is named.
    write_set(str(tmp_path / "mnist"))
    os.remove(tmp_path / "mnist" / mnist.FILES[2])
    with pytest.raises(mnist.MNISTNotFoundError,
                       match="missing in .*: t10k-images-idx3-ubyte.gz\\."):
        mnist.load_mnist(str(tmp_path))


def corrupt_case(name, how):
    images = np.arange(2 * 4 * 4).reshape(2, 4, 4)
    labels = np.arange(8)
    is_images = "images" in name
    data = idx_bytes(images if is_images else labels)
    if how == "magic":
        return gzip.compress(b"\x00\x00\x08\x09" + data[4:])
    if how == "swapped":  # a labels file in place of images, or vice versa
        return gzip.compress(idx_bytes(labels if is_images else images))
    if how == "short":
        return gzip.compress(data[:-3])
    if how == "long":
        return gzip.compress(data + b"\x00")
    if how == "truncated-gzip":
        packed = gzip.compress(data)
        return packed[:len(packed) // 2]
    if how == "bad-gzip":
        packed = bytearray(gzip.compress(data))
        packed[-6] ^= 0xFF  # inside the CRC/length trailer
        return bytes(packed)
    raise ValueError(how)


@pytest.mark.parametrize("name", [mnist.FILES[0], mnist.FILES[3]])
@pytest.mark.parametrize("how, pattern", [
    ("magic", "bad magic number"),
    ("swapped", "bad magic number"),
    ("short", "wrong size"),
    ("long", "wrong size"),
    ("truncated-gzip", "truncated gzip"),
    ("bad-gzip", "corrupt gzip"),
])
def test_corrupt_file_is_named(tmp_path, name, how, pattern):
    folder = str(tmp_path / "mnist")
    write_set(folder, override={name: corrupt_case(name, how)})
    with pytest.raises(mnist.MNISTCorruptError, match=pattern) as info:
        mnist.load_mnist(str(tmp_path))
    assert os.path.join(folder, name) in str(info.value)


def test_images_and_labels_must_match(tmp_path):
    folder = str(tmp_path / "mnist")
    write_set(folder, override={
        mnist.FILES[1]: gzip.compress(idx_bytes(np.arange(5) % 10))})
    with pytest.raises(mnist.MNISTCorruptError, match="6 images .* 5 labels"):
        mnist.load_mnist(str(tmp_path))
    write_set(folder, override={
        mnist.FILES[3]: gzip.compress(idx_bytes([1, 2, 12, 3]))})
    with pytest.raises(mnist.MNISTCorruptError, match="label 12"):
        mnist.load_mnist(str(tmp_path))


# -------------------------------------------------------------- download

def test_download_checks_md5_and_falls_back(tmp_path):
    source = tmp_path / "mirror"
    write_set(str(source))
    sums = {}
    for name in mnist.FILES:
        with open(source / name, "rb") as f:
            sums[name] = hashlib.md5(f.read()).hexdigest()
    mirrors = [(tmp_path / "nowhere").as_uri() + "/", source.as_uri() + "/"]
    target = tmp_path / "data" / "mnist"
    got = mnist.download_mnist(str(target), mirrors=mirrors, md5=sums,
                               print_fn=None)
    assert sorted(got) == sorted(str(target / n) for n in mnist.FILES)
    for name in mnist.FILES:
        assert (target / name).read_bytes() == (source / name).read_bytes()
    assert mnist.download_mnist(str(target), mirrors=mirrors, md5=sums,
                                print_fn=None) == []  # nothing missing

    # A file that does not match its checksum is not kept.
    os.remove(target / mnist.FILES[0])
    bad = dict(sums, **{mnist.FILES[0]: "0" * 32})
    with pytest.raises(mnist.MNISTCorruptError, match="md5"):
        mnist.download_mnist(str(target), mirrors=mirrors, md5=bad,
                             print_fn=None)
    assert sorted(os.listdir(target)) == sorted(mnist.FILES[1:])

    shutil.rmtree(source)
    with pytest.raises(mnist.MNISTNotFoundError, match="could not download"):
        mnist.download_mnist(str(target), mirrors=mirrors, md5=sums,
                             print_fn=None)
    assert sorted(os.listdir(target)) == sorted(mnist.FILES[1:])


def test_batches_resume_from_their_state():
    X, y = np.arange(7)[:, None], np.arange(7)
    whole = mnist.ResumableBatches(
        mnist.TrainBatches(X, y, 3, np.random.RandomState(4)))
    ys = [whole()[1].tolist() for _ in range(9)]
    whole.close()
    first = mnist.ResumableBatches(
        mnist.TrainBatches(X, y, 3, np.random.RandomState(4)))
    for _ in range(4):
        first()
    # The thread has drawn batch 5 already; the state is after batch 4.
    saved = json.loads(json.dumps(first.state_dict()))
    first.close()
    again = mnist.ResumableBatches(
        mnist.TrainBatches(X, y, 3, np.random.RandomState(99)))
    again.load_state_dict(saved)
    assert [again()[1].tolist() for _ in range(5)] == ys[4:]
    again.close()
    with pytest.raises(RuntimeError):
        again.load_state_dict(saved)


def test_batch_states_of_other_data_are_refused():
    rng = np.random.RandomState(0)
    saved = mnist.TrainBatches(np.zeros((5, 1)), np.arange(5), 2,
                               rng).state_dict()
    other = mnist.TrainBatches(np.zeros((6, 1)), np.arange(6), 2, rng)
    with pytest.raises(ValueError, match="covers 5 sequences, these data "
                                         "have 6"):
        other.load_state_dict(saved)
    test = mnist.TestBatches(np.zeros((4, 1)), np.arange(4), 2, rng)
    order = test.state_dict()
    assert sorted(order) == [0, 1, 2, 3]
    test.load_state_dict(order[::-1])
    assert [y.tolist() for _, y, _ in test] == [order[::-1][:2],
                                                order[::-1][2:]]
    with pytest.raises(ValueError, match="test order covers 3"):
        test.load_state_dict([0, 1, 2])
