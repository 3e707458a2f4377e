"""
The Penn Treebank text files, as the original IndRNN scripts read them.

Port of ``wordPTB/reader.py`` of the original code (itself adapted from
TensorFlow's PTB tutorial reader), which both PTB scripts import:

- The files are Tomas Mikolov's ``ptb.{train,valid,test}.txt`` (word
  level, one sentence per line) and ``ptb.char.{train,valid,test}.txt``
  (character level: one symbol per character separated by spaces, ``_``
  for a space between words).
- A file is read as text, every newline is replaced by ``<eos>`` and the
  result split on whitespace; each token is a symbol (a character, ``_``
  or ``<eos>``) or a word.
- The vocabulary is built from the training file only: tokens sorted by
  decreasing count, ties broken by the token itself, numbered from 0 in
  that order. Character level gives 50 symbols, word level 10000 words.
- Tokens of the validation and test files that are not in the vocabulary
  are **dropped** (the original's ``if word in word_to_id``), not mapped to
  an unknown token. Mikolov's files contain none (``<unk>`` is an ordinary
  word of the training file), so nothing is dropped on them.
- :func:`data_iterator` cuts the token stream into ``batch_size`` parallel
  rows and yields ``(x, y)`` windows of ``num_steps`` tokens, ``y`` being
  ``x`` shifted by one token.

Files that are missing or unreadable raise :class:`PTBDataError` naming the
file and telling how to get the data.

Examples
--------
>>> import numpy as np
>>> batches = list(data_iterator(np.arange(20), batch_size=2, num_steps=3))
>>> len(batches)
3
>>> x, y = batches[0]
>>> x.tolist(), y.tolist()
([[0, 1, 2], [10, 11, 12]], [[1, 2, 3], [11, 12, 13]])
"""
import collections
import os

import numpy as np

__all__ = [
    "EOS",
    "CHAR_PREFIX",
    "WORD_PREFIX",
    "PTBDataError",
    "default_data_path",
    "ptb_file_paths",
    "read_words",
    "build_vocab",
    "file_to_word_ids",
    "ptb_raw_data",
    "data_iterator",
    "epoch_size",
]

#: The token that replaces every newline (end of sentence).
EOS = "<eos>"
#: File-name prefix of the character-level files (the original's
#: ``name_dataset``).
CHAR_PREFIX = "ptb.char."
#: File-name prefix of the word-level files.
WORD_PREFIX = "ptb."

_HOW_TO_GET = (
    "The PTB files are the data/ folder of simple-examples.tgz from Tomas "
    "Mikolov's RNNLM page (www.fit.vutbr.cz/~imikolov/rnnlm/): copy "
    "ptb.{train,valid,test}.txt and ptb.char.{train,valid,test}.txt into "
    "$INDRNN_DATA_DIR/ptb/ (or pass --data_dir); see data/README.md.")


class PTBDataError(OSError):
    """A PTB file is missing or cannot be read.

    The message names the file and says how to obtain the data. It is an
    ``OSError``, and a missing file gives ``errno.ENOENT`` like
    ``FileNotFoundError``.

    Examples
    --------
    >>> try:
    ...     read_words('/nonexistent/ptb.train.txt')
    ... except PTBDataError as e:
    ...     print(e.filename)
    /nonexistent/ptb.train.txt
    """


def default_data_path(environ=None):
    """The folder the PTB files are looked for in by default.

    ``$INDRNN_DATA_DIR/ptb`` when the environment variable is set, else
    ``data/ptb`` relative to the working directory (the original scripts
    read ``data/`` next to themselves).

    Parameters
    ----------
    environ : mapping, optional
        The environment; ``os.environ`` by default.

    Returns
    -------
    str

    Examples
    --------
    >>> default_data_path({'INDRNN_DATA_DIR': '/data'})
    '/data/ptb'
    >>> default_data_path({})
    'data/ptb'
    """
    environ = os.environ if environ is None else environ
    root = environ.get("INDRNN_DATA_DIR", "")
    return os.path.join(root, "ptb") if root else os.path.join("data", "ptb")


def ptb_file_paths(data_path, filename=WORD_PREFIX):
    """The paths of the training, validation and test files.

    Parameters
    ----------
    data_path : str or path-like
        Folder holding the files.
    filename : str
        File-name prefix: ``'ptb.'`` (word level) or ``'ptb.char.'``.

    Returns
    -------
    tuple of str
        ``(train, valid, test)``.

    Examples
    --------
    >>> [os.path.basename(p) for p in ptb_file_paths('d', CHAR_PREFIX)]
    ['ptb.char.train.txt', 'ptb.char.valid.txt', 'ptb.char.test.txt']
    """
    data_path = os.fspath(data_path)
    return tuple(os.path.join(data_path, filename + part + ".txt")
                 for part in ("train", "valid", "test"))


def read_words(filename):
    """Read a PTB file into its list of tokens.

    Newlines become ``<eos>`` and the text is split on whitespace, as the
    original ``_read_words`` (which decoded the bytes as UTF-8).

    Parameters
    ----------
    filename : str or path-like
        The text file.

    Returns
    -------
    list of str

    Raises
    ------
    PTBDataError
        If the file is missing, unreadable or not UTF-8 text.

    Examples
    --------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), 'ptb.char.train.txt')
    >>> with open(path, 'w') as f:
    ...     _ = f.write(' a _ b \\n c \\n')
    >>> read_words(path)
    ['a', '_', 'b', '<eos>', 'c', '<eos>']
    """
    filename = os.fspath(filename)
    try:
        with open(filename, "r", encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError as e:
        raise PTBDataError(e.errno, "PTB file not found: %r. %s"
                           % (filename, _HOW_TO_GET), filename) from None
    except (OSError, UnicodeDecodeError) as e:
        raise PTBDataError(getattr(e, "errno", None),
                           "cannot read PTB file %r (%s). %s"
                           % (filename, e, _HOW_TO_GET), filename) from e
    return text.replace("\n", EOS).split()


def build_vocab(filename):
    """Build the vocabulary of a (training) file, as the original.

    Tokens are sorted by decreasing count, then by the token itself, and
    numbered in that order.

    Parameters
    ----------
    filename : str or path-like
        The training file.

    Returns
    -------
    dict
        ``{token: id}`` with ids ``0 .. len - 1``.

    Raises
    ------
    PTBDataError
        If the file cannot be read or holds no token.

    Examples
    --------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), 'ptb.train.txt')
    >>> with open(path, 'w') as f:
    ...     _ = f.write(' b a b c a b \\n')
    >>> sorted(build_vocab(path).items(), key=lambda kv: kv[1])
    [('b', 0), ('a', 1), ('<eos>', 2), ('c', 3)]
    """
    data = read_words(filename)
    if not data:
        raise PTBDataError(None, "PTB file %r holds no token. %s"
                           % (os.fspath(filename), _HOW_TO_GET),
                           os.fspath(filename))
    counter = collections.Counter(data)
    count_pairs = sorted(counter.items(), key=lambda x: (-x[1], x[0]))
    return {word: i for i, (word, _) in enumerate(count_pairs)}


def file_to_word_ids(filename, word_to_id):
    """The token ids of a file; tokens not in the vocabulary are dropped.

    Parameters
    ----------
    filename : str or path-like
        The text file.
    word_to_id : dict
        The vocabulary (see :func:`build_vocab`).

    Returns
    -------
    list of int

    Examples
    --------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), 'ptb.valid.txt')
    >>> with open(path, 'w') as f:
    ...     _ = f.write(' a z b \\n')
    >>> file_to_word_ids(path, {'a': 0, 'b': 1, '<eos>': 2})
    [0, 1, 2]
    """
    data = read_words(filename)
    return [word_to_id[word] for word in data if word in word_to_id]


def ptb_raw_data(data_path=None, filename=WORD_PREFIX, return_vocab=False):
    """Load the three PTB files as token ids, as the original.

    Parameters
    ----------
    data_path : str or path-like, optional
        Folder holding the files; :func:`default_data_path` when None.
    filename : str
        File-name prefix: ``'ptb.'`` (word level, the default, as in the
        original) or ``'ptb.char.'`` (character level).
    return_vocab : bool
        Return the vocabulary dict in place of its size (not in the
        original, which returned only the size).

    Returns
    -------
    train_data, valid_data, test_data : list of int
        Token ids of each file.
    vocabulary : int or dict
        The vocabulary size, or ``{token: id}`` with ``return_vocab``.

    Raises
    ------
    PTBDataError
        If a file is missing or unreadable; all three are checked before
        anything is read, so the error names the first missing one.

    Examples
    --------
    ::

        train, valid, test, vocab = ptb_raw_data('data/ptb', 'ptb.char.')
        # vocab == 50, len(train) == 5017482
    """
    if data_path is None:
        data_path = default_data_path()
    paths = ptb_file_paths(data_path, filename)
    for path in paths:
        if not os.path.isfile(path):
            raise PTBDataError(2, "PTB file not found: %r. %s"
                               % (path, _HOW_TO_GET), path)
    train_path, valid_path, test_path = paths
    word_to_id = build_vocab(train_path)
    train_data = file_to_word_ids(train_path, word_to_id)
    valid_data = file_to_word_ids(valid_path, word_to_id)
    test_data = file_to_word_ids(test_path, word_to_id)
    vocabulary = word_to_id if return_vocab else len(word_to_id)
    return train_data, valid_data, test_data, vocabulary


def epoch_size(data_len, batch_size, num_steps):
    """Number of ``(x, y)`` batches :func:`data_iterator` yields.

    Parameters
    ----------
    data_len : int
        Number of tokens.
    batch_size : int
        Rows per batch.
    num_steps : int
        Tokens per row and batch.

    Returns
    -------
    int
        ``(data_len // batch_size - 1) // num_steps``: one token of each row
        is kept back for the last target.

    Examples
    --------
    >>> epoch_size(20, 2, 3)
    3
    """
    return (data_len // batch_size - 1) // num_steps


def data_iterator(raw_data, batch_size, num_steps):
    """Iterate over the data in batches of ``batch_size`` parallel rows.

    The token stream is cut into ``batch_size`` contiguous rows of
    ``batch_len = len // batch_size`` tokens (the remainder is dropped);
    batch ``i`` is columns ``i*num_steps .. (i+1)*num_steps - 1`` of the
    rows, and its targets the same columns shifted by one. Row ``b`` of
    batch ``i + 1`` continues row ``b`` of batch ``i``, which is what lets
    the scripts carry the hidden state from one batch to the next.

    Parameters
    ----------
    raw_data : sequence of int
        Token ids.
    batch_size : int
        Rows per batch.
    num_steps : int
        Tokens per row and batch (the scripts' ``seq_len``).

    Yields
    ------
    x, y : numpy.ndarray
        int32 arrays of shape ``(batch_size, num_steps)``; ``y[:, t]`` is the
        token after ``x[:, t]``.

    Raises
    ------
    ValueError
        If there is not one full batch (``epoch_size == 0``), as the
        original.

    Examples
    --------
    >>> x, y = next(data_iterator(list(range(12)), 2, 2))
    >>> x.tolist(), y.tolist()
    ([[0, 1], [6, 7]], [[1, 2], [7, 8]])
    """
    raw_data = np.array(raw_data, dtype=np.int32)
    data_len = len(raw_data)
    batch_len = data_len // batch_size
    data = raw_data[:batch_size * batch_len].reshape(batch_size, batch_len)
    n_batches = (batch_len - 1) // num_steps
    if n_batches <= 0:
        raise ValueError("epoch_size == 0, decrease batch_size or num_steps "
                         "(%d tokens, batch_size %d, num_steps %d)"
                         % (data_len, batch_size, num_steps))
    for i in range(n_batches):
        x = data[:, i * num_steps:(i + 1) * num_steps]
        y = data[:, i * num_steps + 1:(i + 1) * num_steps + 1]
        yield (x, y)
