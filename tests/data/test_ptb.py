"""Tests of indrnn.data.ptb, the port of the original ``reader.py``.

The real files are Mikolov's ``simple-examples`` PTB files (found through
the ``data_dir`` fixture, i.e. ``$INDRNN_DATA_DIR/ptb``). Their token
counts are the well-known sizes of the PTB splits (929k / 73k / 82k words);
the counts are also recomputed here line by line, independently of the
reader.
"""
import collections
import errno

import numpy as np
import pytest

from indrnn.data import ptb

#: (prefix, vocabulary size, train / valid / test tokens, first ids).
REAL = {
    "char": (ptb.CHAR_PREFIX, 50, (5017482, 393042, 442423),
             ["_", "e", "t", "a", "n"]),
    "word": (ptb.WORD_PREFIX, 10000, (929589, 73760, 82430),
             ["the", "<unk>", "<eos>", "N", "of"]),
}


def count_tokens(path):
    """Tokens of a file counted line by line: the words plus one <eos>."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    # The text ends with a newline, so the last piece is empty and gets no
    # <eos>; every other line gets one.
    return sum(len(line.split()) for line in lines) + len(lines) - 1


@pytest.fixture(scope="module")
def real(data_dir):
    folder = data_dir / "ptb"
    loaded = {}
    for level, (prefix, *_rest) in REAL.items():
        loaded[level] = ptb.ptb_raw_data(folder, prefix, return_vocab=True)
    return folder, loaded


@pytest.mark.parametrize("level", ["char", "word"])
def test_real_files_vocabulary_and_counts(real, level):
    folder, loaded = real
    prefix, vocab_size, counts, first = REAL[level]
    train, valid, test, vocab = loaded[level]
    assert len(vocab) == vocab_size
    assert sorted(vocab.values()) == list(range(vocab_size))
    assert (len(train), len(valid), len(test)) == counts
    paths = ptb.ptb_file_paths(folder, prefix)
    assert tuple(count_tokens(p) for p in paths) == counts
    # Ids follow decreasing counts in the training text, ties by token.
    inverse = sorted(vocab, key=vocab.get)
    assert inverse[:5] == first
    counter = collections.Counter(train)
    keys = [(-counter[vocab[t]], t) for t in inverse]
    assert keys == sorted(keys)
    # Every id occurs in the training text; valid/test use no other ids
    # (Mikolov's files have no token outside the training vocabulary, so
    # the original's dropping of unknown tokens removes nothing).
    assert set(counter) == set(range(vocab_size))
    assert 0 <= min(valid) and max(valid) < vocab_size
    # The ids decode back to the file's tokens.
    eos = vocab[ptb.EOS]
    with open(paths[1], encoding="utf-8") as f:
        first_line = f.readline().split()
    assert [inverse[i] for i in valid[:len(first_line) + 1]] == \
        first_line + [ptb.EOS]
    assert valid[len(first_line)] == eos
    assert train[-1] == eos


def test_real_iterator_shapes_and_shift(real):
    _, loaded = real
    train = loaded["char"][0]
    batch_size, num_steps = 128, 50
    batch_len = len(train) // batch_size
    batches = list(ptb.data_iterator(train, batch_size, num_steps))
    assert len(batches) == (batch_len - 1) // num_steps == 783
    assert len(batches) == ptb.epoch_size(len(train), batch_size, num_steps)
    rows = np.asarray(train[:batch_size * batch_len]).reshape(batch_size, -1)
    for i in (0, 1, 391, 782):
        x, y = batches[i]
        assert x.shape == y.shape == (batch_size, num_steps)
        assert x.dtype == y.dtype == np.int32
        # Row b of batch i is a window of the b-th contiguous slice of the
        # text, and the targets are the next tokens.
        start = i * num_steps
        for b in (0, 77, 127):
            offset = b * batch_len + start
            np.testing.assert_array_equal(
                x[b], train[offset:offset + num_steps])
            np.testing.assert_array_equal(
                y[b], train[offset + 1:offset + num_steps + 1])
        np.testing.assert_array_equal(x, rows[:, start:start + num_steps])
    # The one-step shift, and each batch continues the previous one.
    for (x0, y0), (x1, _) in zip(batches[:-1], batches[1:]):
        np.testing.assert_array_equal(y0[:, :-1], x0[:, 1:])
        np.testing.assert_array_equal(y0[:, -1], x1[:, 0])


def test_iterator_small_and_too_short():
    data = list(range(23))
    batches = list(ptb.data_iterator(data, 3, 2))
    # batch_len 7: rows [0..6], [7..13], [14..20]; (7 - 1) // 2 batches.
    assert len(batches) == 3
    x, y = batches[2]
    assert x.tolist() == [[4, 5], [11, 12], [18, 19]]
    assert y.tolist() == [[5, 6], [12, 13], [19, 20]]
    with pytest.raises(ValueError, match="epoch_size == 0"):
        list(ptb.data_iterator(list(range(10)), 5, 2))


def write(folder, prefix, texts):
    for part, text in zip(("train", "valid", "test"), texts):
        if text is not None:
            (folder / (prefix + part + ".txt")).write_text(text)


def test_vocabulary_ties_and_unknown_tokens_dropped(tmp_path):
    write(tmp_path, "ptb.", [" b a c \n c a b \n b \n", " a zz b \n",
                             " q \n"])
    train, valid, test, vocab = ptb.ptb_raw_data(tmp_path, "ptb.",
                                                 return_vocab=True)
    # Counts: b 3, <eos> 3, a 2, c 2; ties broken by the token itself.
    assert vocab == {"<eos>": 0, "b": 1, "a": 2, "c": 3}
    assert train == [1, 2, 3, 0, 3, 2, 1, 0, 1, 0]
    assert valid == [2, 1, 0]   # 'zz' is not in the vocabulary: dropped
    assert test == [0]
    assert ptb.ptb_raw_data(tmp_path, "ptb.")[3] == 4


@pytest.mark.parametrize("missing", ["train", "valid", "test"])
def test_missing_file_is_named(tmp_path, missing):
    texts = [" a \n"] * 3
    texts[["train", "valid", "test"].index(missing)] = None
    write(tmp_path, "ptb.char.", texts)
    with pytest.raises(ptb.PTBDataError) as info:
        ptb.ptb_raw_data(tmp_path, "ptb.char.")
    error = info.value
    name = "ptb.char.%s.txt" % missing
    assert error.filename == str(tmp_path / name)
    assert error.errno == errno.ENOENT
    assert name in str(error)
    assert "simple-examples.tgz" in str(error)
    assert "INDRNN_DATA_DIR" in str(error)


def test_missing_folder_and_unreadable_file(tmp_path):
    with pytest.raises(ptb.PTBDataError, match="ptb.train.txt"):
        ptb.ptb_raw_data(tmp_path / "nowhere")
    # A file that is not UTF-8 text.
    write(tmp_path, "ptb.", [None, " a \n", " a \n"])
    (tmp_path / "ptb.train.txt").write_bytes(b" a \xff\xfe b \n")
    with pytest.raises(ptb.PTBDataError, match="cannot read") as info:
        ptb.ptb_raw_data(tmp_path)
    assert info.value.filename == str(tmp_path / "ptb.train.txt")
    # An empty training file gives no vocabulary.
    (tmp_path / "ptb.train.txt").write_text("")
    with pytest.raises(ptb.PTBDataError, match="no token"):
        ptb.ptb_raw_data(tmp_path)
    # A folder where a file should be.
    (tmp_path / "ptb.train.txt").unlink()
    (tmp_path / "ptb.train.txt").mkdir()
    with pytest.raises(ptb.PTBDataError, match="not found"):
        ptb.ptb_raw_data(tmp_path)


def test_default_data_path(monkeypatch):
    monkeypatch.setenv("INDRNN_DATA_DIR", "/some/where")
    assert ptb.default_data_path() == "/some/where/ptb"
    monkeypatch.delenv("INDRNN_DATA_DIR")
    assert ptb.default_data_path() == "data/ptb"
