"""
A small synthetic NTU-style data set of ``.skeleton`` files.

NTU RGB+D is licensed and large; this module writes a few hundred
``.skeleton`` files of four made-up actions with class-dependent motion, so
that the whole pipeline (:mod:`indrnn.data.ntu_convert`, then
``indrnn.experiments.Indrnn_action_train``) can be run and tested without
it. The actions: raising the right hand, raising the left hand, stepping
sideways, pushing with both hands. Each sample has its own pose, size,
position, speed, length (25-59 frames) and noise. The file names follow the
NTU scheme; performer 3 (a quarter of the samples) falls in the cross-subject
test set and camera 1 (a third) in the cross-view test set.

Command line::

    python -m indrnn.data.ntu_synthetic synthetic_skeletons/

Examples
--------
>>> seq = synthetic_sequence(0, np.random.RandomState(0))
>>> seq.shape[1:], 25 <= len(seq) < 60
((25, 3), True)
"""
import argparse
import os

import numpy as np

from .ntu_skeleton import write_skeleton

__all__ = [
    "NUM_CLASSES",
    "synthetic_sequence",
    "write_synthetic_skeletons",
    "main",
]

#: Number of synthetic actions (classes A001-A004).
NUM_CLASSES = 4

_RIGHT_HAND = [10, 11, 23, 24]   # WristRight, HandRight, HandTipRight, Thumb
_LEFT_HAND = [6, 7, 21, 22]


def synthetic_sequence(action, rng):
    """One synthetic skeleton sequence of an action.

    Parameters
    ----------
    action : int
        0-based class, 0 to 3.
    rng : numpy.random.RandomState
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        ``(frames, 25, 3)`` joint positions in metres, about 3 m from the
        camera.

    Examples
    --------
    >>> rng = np.random.RandomState(1)
    >>> seq = synthetic_sequence(0, rng)     # the right hand goes up
    >>> bool(seq[-1, 11, 1] - seq[0, 11, 1] > 0.2)
    True
    """
    num_frames = rng.randint(25, 60)
    t = np.linspace(0, 1, num_frames)[:, None, None]
    # One fixed base pose, varied per sample in size and per joint.
    base = np.random.RandomState(123).uniform([-0.3, -0.8, -0.1],
                                              [0.3, 0.6, 0.1], (25, 3))
    pose = (base * rng.uniform(0.9, 1.1) + rng.normal(0, 0.03, (25, 3))
            + [rng.uniform(-0.5, 0.5), 0, 3 + rng.uniform(-0.5, 0.5)])
    seq = np.repeat(pose[None], num_frames, axis=0)
    amp = rng.uniform(0.3, 0.6)
    if action == 0:
        seq[:, _RIGHT_HAND, 1:2] += amp * t
    elif action == 1:
        seq[:, _LEFT_HAND, 1:2] += amp * t
    elif action == 2:
        seq[:, :, 0:1] += amp * t
    elif action == 3:
        seq[:, _RIGHT_HAND + _LEFT_HAND, 2:3] -= amp * t
    else:
        raise ValueError("action must be 0..3, got %r" % action)
    return seq + rng.normal(0, 0.02, seq.shape)


def write_synthetic_skeletons(folder, per_class=60, seed=0):
    """Write ``4 * per_class`` synthetic ``.skeleton`` files.

    Sample ``i`` of action ``a`` has setup ``1 + i // 2``, camera
    ``1 + (i + a) % 3``, performer ``(1, 2, 4, 3)[i % 4]``, replication
    ``1 + i % 2`` and action ``a + 1`` in its name, so names are unique,
    performer 3 (test in the cross-subject protocol) has a quarter of each
    class and camera 1 (test in the cross-view protocol) about a third.

    Parameters
    ----------
    folder : str or path-like
        Output folder, created if needed.
    per_class : int
        Samples per action.
    seed : int
        Random seed.

    Returns
    -------
    list of str
        The files written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = write_synthetic_skeletons(tmp, per_class=2)
    >>> [os.path.basename(f) for f in files[:2]]
    ['S001C001P001R001A001.skeleton', 'S001C002P001R001A002.skeleton']
    """
    rng = np.random.RandomState(seed)
    os.makedirs(folder, exist_ok=True)
    files = []
    for i in range(per_class):
        for a in range(NUM_CLASSES):
            name = "S%03dC%03dP%03dR%03dA%03d.skeleton" % (
                1 + i // 2, 1 + (i + a) % 3, (1, 2, 4, 3)[i % 4], 1 + i % 2,
                a + 1)
            seq = synthetic_sequence(a, rng)
            path = os.path.join(folder, name)
            write_skeleton(path, [[(100 + i, frame)] for frame in seq])
            files.append(path)
    return files


def main(argv=None):
    """Write the synthetic data set from the command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    int
        0.
    """
    parser = argparse.ArgumentParser(
        prog="python -m indrnn.data.ntu_synthetic",
        description="Write synthetic NTU-style .skeleton files of 4 "
                    "actions (for trying and testing the action pipeline).")
    parser.add_argument("folder", help="output folder")
    parser.add_argument("--per_class", type=int, default=60,
                        help="samples per action (default 60)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    files = write_synthetic_skeletons(args.folder, args.per_class, args.seed)
    print("wrote %d .skeleton files to %s" % (len(files), args.folder))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
