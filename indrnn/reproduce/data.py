"""Where each kind of data set lives under a data root, and checking it.

The data root is laid out as ``data/README.md`` says: ``mnist/`` (the four
IDX files), ``ptb/`` (Mikolov's word and character files), ``ntu/`` (the
arrays ``indrnn-ntu-convert`` writes). :func:`check_data` is called by the
driver before any run starts, and again by each worker before its run, so
a worker that cannot see the data says so, naming its host and the folder.

Examples
--------
>>> data_flags('ptb-char', '/data')
['--data_dir', '/data/ptb']
>>> print(check_data('ptb-char', '/nonexistent'))
no ptb.char.train.txt in /nonexistent/ptb (see data/README.md (Mikolov's simple-examples files))
"""
import os

__all__ = ["KINDS", "data_folder", "data_flags", "check_data",
           "default_data_root"]

#: Data kinds, and the folder under the data root each experiment reads.
KINDS = {"mnist": "", "ptb-char": "ptb", "ptb-word": "ptb", "ntu-cs": "ntu",
         "ntu-cv": "ntu"}

_HOW = {
    "mnist": "pass --download to fetch it (md5-checked), or see "
             "data/README.md",
    "ptb-char": "see data/README.md (Mikolov's simple-examples files)",
    "ptb-word": "see data/README.md (Mikolov's simple-examples files)",
    "ntu-cs": "make the arrays with indrnn-ntu-convert SKELETONS "
              "DATA_ROOT/ntu",
    "ntu-cv": "make the arrays with indrnn-ntu-convert SKELETONS "
              "DATA_ROOT/ntu",
}


def default_data_root(environ=None):
    """``$INDRNN_DATA_DIR``, else ``data`` (both made absolute)."""
    environ = os.environ if environ is None else environ
    return os.path.abspath(environ.get("INDRNN_DATA_DIR") or "data")


def data_folder(kind, root):
    """str: the folder of ``kind`` under ``root``."""
    return os.path.join(root, KINDS[kind]) if KINDS[kind] else root


def data_flags(kind, root):
    """list of str: the experiment's ``--data_dir`` for ``kind``."""
    return ["--data_dir", data_folder(kind, root)]


def check_data(kind, root):
    """None when ``kind``'s files are under ``root``; else what is wrong.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    root : str
        The data root.

    Returns
    -------
    str or None
        The problem, naming the folder and the file, and how to get it.
    """
    folder = data_folder(kind, root)
    if kind == "mnist":
        from ..data import mnist
        try:
            mnist.find_mnist_dir(root)
        except mnist.MNISTError as exc:
            return "%s (%s)" % (exc, _HOW[kind])
        return None
    if kind.startswith("ptb"):
        from ..data import ptb
        prefix = ptb.CHAR_PREFIX if kind == "ptb-char" else ptb.WORD_PREFIX
        for path in ptb.ptb_file_paths(folder, prefix):
            if not os.path.isfile(path):
                return "no %s in %s (%s)" % (os.path.basename(path), folder,
                                             _HOW[kind])
        return None
    from ..data import ntu
    names = (("train_ntus", "test_ntus") if kind == "ntu-cs"
             else ("train_CV_ntus", "test_CV_ntus"))
    for name in names:
        try:
            ntu.find_dataset(os.path.join(folder, name))
        except ntu.NTUError as exc:
            return "%s (%s)" % (exc, _HOW[kind])
    return None
