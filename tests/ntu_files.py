"""Tiny NTU RGB+D data sets for the tests of the action experiment.

``tests/`` is on ``sys.path`` while the suite runs (its ``conftest.py``
puts it there), so every test module can import this one.
"""
from indrnn.data import ntu_convert
from indrnn.data.ntu_synthetic import write_synthetic_skeletons


def write_tiny_ntu(root, per_class, max_frames):
    """Synthetic ``.skeleton`` files, converted to the experiment's arrays.

    Parameters
    ----------
    root : pathlib.Path
        An empty folder; ``root/skeletons`` and ``root/npy`` are written.
    per_class : int
        Samples of each of the four synthetic actions.
    max_frames : int
        ``--max_frames`` of the conversion.

    Returns
    -------
    pathlib.Path
        ``root/npy``, the experiment's ``--data_dir``.
    """
    write_synthetic_skeletons(str(root / 'skeletons'), per_class=per_class,
                              seed=0)
    assert ntu_convert.main([str(root / 'skeletons'), str(root / 'npy'),
                             '--max_frames', str(max_frames),
                             '--quiet']) == 0
    return root / 'npy'
