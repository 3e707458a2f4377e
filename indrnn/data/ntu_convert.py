"""
Convert raw NTU RGB+D ``.skeleton`` files into the arrays the action
experiment reads.

The original action-recognition code reads ready-made arrays
(``train_ntus.npy`` of shape ``(N, 300, 50, 3)``, ``train_ntus_label.npy``
and ``train_ntus_len.npy``, ``test_ntus*`` likewise, ``train_CV_ntus*`` and
``test_CV_ntus*`` for the cross-view protocol) and leaves their making to
the user. This module makes them:

- every sample is read with :func:`indrnn.data.ntu_skeleton.read_skeleton`;
  a corrupt or truncated file is reported by name and line and skipped;
- the two main bodies are kept with a consistent identity over time
  (:func:`assign_bodies`): the body listed first in a frame is not
  necessarily the same person in the next frame, and a person whose
  tracking is lost comes back under a new ID, so bodies are followed by
  tracking ID and the pieces are put into two slots by time and position;
- frame ``t`` of a sample becomes a ``(50, 3)`` array: the 25 joints
  (``x, y, z`` in metres) of the first body, then those of the second, which
  are zero when only one person is present (:func:`skeleton_array`);
- the samples of the official list of missing skeletons are skipped, and
  the rest is split by the standard cross-subject (``CS``: training
  performers 1, 2, 4, 5, 8, 9, 13-19, 25, 27, 28, 31, 34, 35, 38) and
  cross-view (``CV``: training cameras 2 and 3) protocols from the file
  names;
- labels are the 0-based action classes (``A001`` is 0).

The data arrays are written straight to disk, sample by sample, as
memory-mapped ``.npy`` files or HDF5 containers (``--format h5``), so the
data set never has to fit in memory.

Command line::

    indrnn-ntu-convert nturgb+d_skeletons/ data/ntu --format npy

Examples
--------
>>> sorted(BENCHMARKS['CV'])
['test_CV_ntus', 'train_CV_ntus']
"""
import argparse
import collections
import json
import os
import sys
import time

import numpy as np

from .ntu_skeleton import (NUM_JOINTS, SkeletonFormatError, parse_sample_name,
                           read_missing_list, read_skeleton)

__all__ = [
    "CS_TRAIN_SUBJECTS",
    "CV_TRAIN_CAMERAS",
    "BENCHMARKS",
    "MISSING_LISTS",
    "assign_bodies",
    "skeleton_array",
    "split_of",
    "convert",
    "format_summary",
    "make_parser",
    "main",
]

#: Performers of the cross-subject training set; all others are test.
CS_TRAIN_SUBJECTS = frozenset(
    (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35,
     38))
#: Cameras of the cross-view training set; camera 1 is test.
CV_TRAIN_CAMERAS = frozenset((2, 3))

#: Benchmark -> (training set name, test set name), as the original reads
#: them (``--test_CV`` selects the cross-view names).
BENCHMARKS = {
    "CS": ("train_ntus", "test_ntus"),
    "CV": ("train_CV_ntus", "test_CV_ntus"),
}

#: File names of the official lists of samples with missing skeletons,
#: looked for in the input folder.
MISSING_LISTS = ("NTU_RGBD_samples_with_missing_skeletons.txt",
                 "NTU_RGBD120_samples_with_missing_skeletons.txt")

#: Skip reasons of the conversion summary.
SKIP_MISSING = "in the list of samples with missing skeletons"
SKIP_CORRUPT = "corrupt or truncated file"
SKIP_UNREADABLE = "unreadable file"
SKIP_NO_BODY = "no body in any frame"
SKIP_ACTION = "action class above --max_action"
SKIP_NAME = "file name is not an NTU sample name"


def _motion(body):
    """Motion of a track: the joints' standard deviation over time.

    The measure the widely used NTU preprocessing ranks bodies by: summed
    over x, y, z and averaged over joints; 0 for a single frame.
    """
    if len(body.frames) < 2:
        return 0.0
    return float(body.joints.std(axis=0).sum(axis=-1).mean())


def _centroid(joints):
    return joints.reshape(-1, 3).mean(axis=0)


def assign_bodies(sequence, max_bodies=2):
    """Put the body tracks of a sample into at most ``max_bodies`` slots.

    Each slot holds one person over time. Tracks (one per tracking ID) are
    taken longest first (ties: more motion first, then earlier start). A
    track joins a slot whose frames it does not overlap, so that a person
    who reappears under a new tracking ID stays in the same slot; when it
    fits two slots it joins the one whose skeleton is nearest (centroid
    distance at the closest frame in time). A track that overlaps every
    non-empty slot opens a new slot while fewer than ``max_bodies`` are
    open, and is dropped otherwise (a third body: usually noise).

    Parameters
    ----------
    sequence : SkeletonSequence
        A sample, from :func:`~indrnn.data.ntu_skeleton.read_skeleton`.
    max_bodies : int
        Number of slots.

    Returns
    -------
    slots : list of list of Body
        The tracks of each slot; slot 0 holds the longest track.
    dropped : list of Body
        Tracks that fitted no slot.

    Examples
    --------
    >>> from indrnn.data.ntu_skeleton import Body, SkeletonSequence
    >>> left, right = np.zeros((25, 3)), np.ones((25, 3))
    >>> a1 = Body(1, [0, 1], [left, left])      # person A, then lost ...
    >>> a2 = Body(3, [2, 3], [left, left])      # ... and back as ID 3
    >>> b = Body(2, [0, 1, 2, 3], [right] * 4)  # person B
    >>> slots, dropped = assign_bodies(SkeletonSequence('x', 4, [2] * 4,
    ...                                                 [a1, b, a2]))
    >>> [[t.body_id for t in slot] for slot in slots], dropped
    ([[2], [1, 3]], [])
    """
    order = sorted(range(len(sequence.bodies)), key=lambda i: (
        -len(sequence.bodies[i].frames), -_motion(sequence.bodies[i]),
        int(sequence.bodies[i].frames[0]) if len(sequence.bodies[i].frames)
        else 0, i))
    num_frames = max([sequence.num_frames] + [
        int(b.frames[-1]) + 1 for b in sequence.bodies if len(b.frames)])
    slots, masks, dropped = [], [], []
    for i in order:
        track = sequence.bodies[i]
        if len(track.frames) == 0:
            continue
        fits = [s for s, mask in enumerate(masks)
                if not mask[track.frames].any()]
        if len(fits) > 1:
            fits.sort(key=lambda s: _slot_distance(slots[s], masks[s], track))
        if fits:
            s = fits[0]
        elif len(slots) < max_bodies:
            s = len(slots)
            slots.append([])
            masks.append(np.zeros(num_frames, dtype=bool))
        else:
            dropped.append(track)
            continue
        slots[s].append(track)
        masks[s][track.frames] = True
    for slot in slots:
        slot.sort(key=lambda t: int(t.frames[0]))
    return slots, dropped


def _slot_distance(slot, mask, track):
    """Centroid distance between a track and a slot at their closest frames."""
    frames = np.nonzero(mask)[0]
    start, end = int(track.frames[0]), int(track.frames[-1])
    # The slot's frame closest in time to the track, and the track's frame
    # (first or last) on that side.
    nearest = frames[np.argmin(np.minimum(np.abs(frames - start),
                                          np.abs(frames - end)))]
    own = track.joints[0] if abs(nearest - start) <= abs(nearest - end) \
        else track.joints[-1]
    for t in slot:
        hit = np.nonzero(t.frames == nearest)[0]
        if len(hit):
            other = t.joints[hit[0]]
            return float(np.linalg.norm(_centroid(own) - _centroid(other)))
    return float("inf")


def skeleton_array(sequence, max_bodies=2):
    """The ``(frames, max_bodies * 25, 3)`` array of a sample.

    Frame ``t`` holds the joints of slot 0 (see :func:`assign_bodies`), then
    slot 1, and so on; a slot with no body in that frame is zero. Frames in
    which no kept body appears (a frame with body count 0, or with only
    dropped bodies) are left out, so that the sequence has no holes.

    Parameters
    ----------
    sequence : SkeletonSequence
        A sample.
    max_bodies : int
        Bodies per frame in the array.

    Returns
    -------
    data : numpy.ndarray
        ``(T, max_bodies * 25, 3)`` float32; ``T`` may be 0.
    info : dict
        ``bodies`` (slots filled), ``dropped`` (tracks left out) and
        ``empty_frames`` (frames left out).

    Examples
    --------
    >>> from indrnn.data.ntu_skeleton import Body, SkeletonSequence
    >>> one = Body(5, [1, 2], np.ones((2, 25, 3)))   # frame 0 is empty
    >>> data, info = skeleton_array(SkeletonSequence('x', 3, [0, 1, 1], [one]))
    >>> data.shape, float(data[:, 25:].max()), info['empty_frames']
    ((2, 50, 3), 0.0, 1)
    """
    slots, dropped = assign_bodies(sequence, max_bodies)
    num_frames = sequence.num_frames
    full = np.zeros((num_frames, max_bodies * NUM_JOINTS, 3), dtype=np.float32)
    present = np.zeros(num_frames, dtype=bool)
    for s, slot in enumerate(slots):
        for track in slot:
            full[track.frames, s * NUM_JOINTS:(s + 1) * NUM_JOINTS] = \
                track.joints
            present[track.frames] = True
    info = {"bodies": len(slots), "dropped": len(dropped),
            "empty_frames": int(num_frames - present.sum())}
    return full[present], info


def split_of(fields, benchmark):
    """Whether a sample is in the training or the test set of a benchmark.

    Parameters
    ----------
    fields : dict
        From :func:`~indrnn.data.ntu_skeleton.parse_sample_name`.
    benchmark : {'CS', 'CV'}
        Cross-subject or cross-view.

    Returns
    -------
    str
        The set's name (see :data:`BENCHMARKS`).

    Examples
    --------
    >>> fields = parse_sample_name('S001C001P003R001A001')
    >>> split_of(fields, 'CS'), split_of(fields, 'CV')
    ('test_ntus', 'test_CV_ntus')
    """
    train, test = BENCHMARKS[benchmark]
    if benchmark == "CS":
        return train if fields["subject"] in CS_TRAIN_SUBJECTS else test
    return train if fields["camera"] in CV_TRAIN_CAMERAS else test


class _ArrayWriter:
    """Writes one data set (data, labels, lengths, names) sample by sample.

    The data go to a memory-mapped ``.npy`` file or an HDF5 data set under a
    temporary name, with one row per expected sample; :meth:`close` trims
    the rows of skipped samples and renames the files into place.
    """

    def __init__(self, base, fmt, capacity, max_frames, num_joints):
        self.base, self.fmt = base, fmt
        self.shape = (max_frames, num_joints, 3)
        self.labels, self.lengths, self.names = [], [], []
        self._h5 = None
        if fmt == "npy":
            self.path = base + ".npy"
            self.tmp = self.path + ".part"
            self.data = (np.lib.format.open_memmap(
                self.tmp, mode="w+", dtype=np.float32,
                shape=(capacity,) + self.shape) if capacity else None)
        else:
            import h5py
            self.path = base + ".h5"
            self.tmp = self.path + ".part"
            self._h5 = h5py.File(self.tmp, "w")
            self.data = self._h5.create_dataset(
                "data", shape=(capacity,) + self.shape,
                maxshape=(None,) + self.shape, dtype="float32",
                chunks=(1,) + self.shape)

    def append(self, array, label, name):
        row = np.zeros(self.shape, dtype=np.float32)
        row[:len(array)] = array
        self.data[len(self.labels)] = row
        self.labels.append(label)
        self.lengths.append(len(array))
        self.names.append(name)

    def close(self):
        count = len(self.labels)
        labels = np.asarray(self.labels, dtype=np.int32)
        lengths = np.asarray(self.lengths, dtype=np.int32)
        if self.fmt == "npy":
            self._close_npy(count)
            np.save(self.base + "_label.npy", labels)
            np.save(self.base + "_len.npy", lengths)
            with open(self.base + "_names.txt", "w") as f:
                f.write("".join(name + "\n" for name in self.names))
        else:
            self.data.resize(count, axis=0)
            self._h5.create_dataset("label", data=labels)
            self._h5.create_dataset("len", data=lengths)
            self._h5.create_dataset("name", data=np.array(
                self.names, dtype="S20"))
            self._h5.close()
            os.replace(self.tmp, self.path)
        return count

    def _close_npy(self, count):
        if self.data is None or count == 0:
            self.discard()
            np.save(self.path, np.zeros((0,) + self.shape, dtype=np.float32))
            return
        if count == len(self.data):
            self.data.flush()
            del self.data
            os.replace(self.tmp, self.path)
            return
        # Copy the rows written into a file of the right size, in chunks so
        # that the data never has to be in memory.
        out = np.lib.format.open_memmap(self.path + ".part2", mode="w+",
                                        dtype=np.float32,
                                        shape=(count,) + self.shape)
        for start in range(0, count, 256):
            out[start:start + 256] = self.data[start:min(count, start + 256)]
        out.flush()
        del out
        self.data = None
        os.remove(self.tmp)
        os.replace(self.path + ".part2", self.path)

    def discard(self):
        """Close and delete the temporary files."""
        if self._h5 is not None:
            self._h5.close()
        self.data = None
        for path in (self.tmp, self.path + ".part2"):
            if os.path.exists(path):
                os.remove(path)


class _Progress:
    """A one-line progress bar on a text stream."""

    def __init__(self, total, stream, enabled=True):
        self.total, self.stream, self.enabled = total, stream, enabled
        self.start = self.last = time.time()
        self.drawn = False
        # On a terminal the bar is redrawn in place; in a log file a line
        # is written every 10 %.
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.next_tenth = 1

    def update(self, done, force=False):
        now = time.time()
        if not self.enabled:
            return
        frac = done / self.total if self.total else 1.0
        if self.tty and not force and now - self.last < 0.2:
            return
        if not self.tty and not force and frac * 10 < self.next_tenth:
            return
        self.last = now
        self.next_tenth = int(frac * 10) + 1
        bar = "#" * int(30 * frac)
        rate = done / max(now - self.start, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else 0.0
        line = "[%-30s] %d/%d files, %.0f/s, %ds left " % (
            bar, done, self.total, rate, eta)
        self.stream.write("\r" + line if self.tty else line + "\n")
        self.stream.flush()
        self.drawn = self.tty

    def message(self, text):
        """Write a line without breaking the bar."""
        if self.drawn:
            self.stream.write("\r" + " " * 70 + "\r")
        self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self):
        self.update(self.total, force=True)
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _find_missing_lists(src):
    return [os.path.join(src, name) for name in MISSING_LISTS
            if os.path.isfile(os.path.join(src, name))]


def convert(src, out_dir, benchmarks=("CS", "CV"), fmt="npy", max_frames=300,
            missing_lists=None, max_action=60, progress=True,
            stream=None):
    """Convert a folder of ``.skeleton`` files into the experiment's arrays.

    For every benchmark, writes ``<set>.npy`` (``(N, max_frames, 50, 3)``
    float32, zero after each sample's length), ``<set>_label.npy`` (int32,
    0-based classes), ``<set>_len.npy`` (int32 frame counts) and
    ``<set>_names.txt`` for its training and test sets; with ``fmt='h5'``,
    one ``<set>.h5`` file per set holding the data sets ``data``, ``label``,
    ``len`` and ``name``. A summary is written to
    ``ntu_convert_summary.json``.

    Parameters
    ----------
    src : str or path-like
        Folder searched (recursively) for ``*.skeleton`` files.
    out_dir : str or path-like
        Output folder, created if needed.
    benchmarks : sequence of {'CS', 'CV'}
        Protocols to write.
    fmt : {'npy', 'h5'}
        Output format.
    max_frames : int
        Frames per sample in the arrays; longer samples are cut (and
        counted in the summary). The longest NTU RGB+D sample has 300.
    missing_lists : list of str, optional
        Lists of samples to skip. None: the official lists found in
        ``src``; ``[]``: skip none.
    max_action : int
        Samples of higher action classes are skipped (60: NTU RGB+D, whose
        classes the experiment has; 120 for NTU RGB+D 120).
    progress : bool
        Draw a progress bar.
    stream : file, optional
        Where progress and problems are reported; ``sys.stderr`` by
        default.

    Returns
    -------
    dict
        The summary: ``files`` found, ``converted`` (per set), ``skipped``
        (per reason), ``errors`` (one ``'name: line N: problem'`` string per
        corrupt file), ``bodies_dropped``, ``samples_with_dropped_bodies``,
        ``empty_frames_removed``, ``cut_to_max_frames``, ``max_length``,
        ``missing_lists`` and ``outputs`` (the files written).

    Raises
    ------
    ValueError
        For an unknown benchmark or format.
    """
    src, out_dir = os.fspath(src), os.fspath(out_dir)
    stream = sys.stderr if stream is None else stream
    for b in benchmarks:
        if b not in BENCHMARKS:
            raise ValueError("unknown benchmark %r: choose from %s"
                             % (b, ", ".join(BENCHMARKS)))
    if fmt not in ("npy", "h5"):
        raise ValueError("unknown format %r: choose npy or h5" % fmt)
    if not os.path.isdir(src):
        raise FileNotFoundError("no such folder: %r" % src)
    os.makedirs(out_dir, exist_ok=True)
    if missing_lists is None:
        missing_lists = _find_missing_lists(src)
    missing = set()
    for path in missing_lists:
        missing |= read_missing_list(path)

    files = sorted(os.path.join(folder, name)
                   for folder, _, names in os.walk(src)
                   for name in names if name.endswith(".skeleton"))
    skipped = collections.Counter()
    errors = []
    # Candidates and the sets each goes to; known before reading, so that
    # the arrays can be allocated on disk once.
    candidates = []
    capacity = collections.Counter()
    for path in files:
        try:
            fields = parse_sample_name(path)
        except ValueError:
            skipped[SKIP_NAME] += 1
            continue
        if fields["name"] in missing:
            skipped[SKIP_MISSING] += 1
            continue
        if fields["action"] > max_action:
            skipped[SKIP_ACTION] += 1
            continue
        sets = [split_of(fields, b) for b in benchmarks]
        capacity.update(sets)
        candidates.append((path, fields, sets))

    names = [name for b in benchmarks for name in BENCHMARKS[b]]
    writers = {}
    stats = collections.Counter()
    max_length = 0
    bar = _Progress(len(candidates), stream, progress)
    try:
        for name in names:
            writers[name] = _ArrayWriter(
                os.path.join(out_dir, name), fmt, capacity[name], max_frames,
                2 * NUM_JOINTS)
        for done, (path, fields, sets) in enumerate(candidates):
            bar.update(done)
            try:
                sequence = read_skeleton(path)
            except SkeletonFormatError as err:
                skipped[SKIP_CORRUPT] += 1
                text = "%s: line %d: %s" % (os.path.basename(err.path),
                                            err.line, err.message)
                errors.append(text)
                bar.message("skipped " + text)
                continue
            except OSError as err:
                skipped[SKIP_UNREADABLE] += 1
                text = "%s: %s" % (os.path.basename(path), err)
                errors.append(text)
                bar.message("skipped " + text)
                continue
            data, info = skeleton_array(sequence)
            if len(data) == 0:
                skipped[SKIP_NO_BODY] += 1
                continue
            stats["bodies_dropped"] += info["dropped"]
            stats["samples_with_dropped_bodies"] += bool(info["dropped"])
            stats["empty_frames_removed"] += info["empty_frames"]
            max_length = max(max_length, len(data))
            if len(data) > max_frames:
                stats["cut_to_max_frames"] += 1
                data = data[:max_frames]
            for name in sets:
                writers[name].append(data, fields["action"] - 1,
                                     fields["name"])
        bar.finish()
        converted = {name: writers[name].close() for name in names}
    except BaseException:
        for writer in writers.values():
            writer.discard()
        raise
    outputs = []
    for name in names:
        if fmt == "npy":
            outputs += [name + ".npy", name + "_label.npy", name + "_len.npy",
                        name + "_names.txt"]
        else:
            outputs.append(name + ".h5")
    summary = {
        "files": len(files),
        "converted": converted,
        "skipped": dict(skipped),
        "errors": errors,
        "bodies_dropped": stats["bodies_dropped"],
        "samples_with_dropped_bodies": stats["samples_with_dropped_bodies"],
        "empty_frames_removed": stats["empty_frames_removed"],
        "cut_to_max_frames": stats["cut_to_max_frames"],
        "max_length": max_length,
        "max_frames": max_frames,
        "missing_lists": [os.path.abspath(p) for p in missing_lists],
        "format": fmt,
        "outputs": outputs,
    }
    with open(os.path.join(out_dir, "ntu_convert_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return summary


def format_summary(summary):
    """The conversion summary as lines of text.

    Parameters
    ----------
    summary : dict
        From :func:`convert`.

    Returns
    -------
    str

    Examples
    --------
    >>> print(format_summary({'files': 3, 'converted': {'train_ntus': 2},
    ...     'skipped': {'corrupt or truncated file': 1}, 'bodies_dropped': 0,
    ...     'samples_with_dropped_bodies': 0, 'empty_frames_removed': 0,
    ...     'cut_to_max_frames': 0, 'max_length': 80, 'max_frames': 300}))
    3 .skeleton files found
      train_ntus: 2 samples
    skipped 1:
      corrupt or truncated file: 1
    bodies dropped (beyond two): 0 in 0 samples; empty frames removed: 0
    longest sample: 80 frames (arrays hold 300); samples cut: 0
    """
    lines = ["%d .skeleton files found" % summary["files"]]
    for name, count in summary["converted"].items():
        lines.append("  %s: %d samples" % (name, count))
    skipped = summary["skipped"]
    lines.append("skipped %d%s" % (sum(skipped.values()),
                                   ":" if skipped else ""))
    for reason, count in sorted(skipped.items()):
        lines.append("  %s: %d" % (reason, count))
    lines.append("bodies dropped (beyond two): %d in %d samples; empty "
                 "frames removed: %d"
                 % (summary["bodies_dropped"],
                    summary["samples_with_dropped_bodies"],
                    summary["empty_frames_removed"]))
    lines.append("longest sample: %d frames (arrays hold %d); samples cut: %d"
                 % (summary["max_length"], summary["max_frames"],
                    summary["cut_to_max_frames"]))
    return "\n".join(lines)


def make_parser():
    """Return the parser of the ``indrnn-ntu-convert`` command.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> args = make_parser().parse_args(['skeletons', 'out'])
    >>> args.format, args.benchmark, args.max_frames, args.max_action
    ('npy', ['CS', 'CV'], 300, 60)
    """
    parser = argparse.ArgumentParser(
        prog="indrnn-ntu-convert",
        description="Convert NTU RGB+D .skeleton files into the arrays of "
                    "the IndRNN action experiment (train_ntus.npy, "
                    "test_ntus.npy, train_CV_ntus.npy, test_CV_ntus.npy "
                    "and their _label/_len files).")
    parser.add_argument("src", help="folder with the .skeleton files "
                        "(searched recursively)")
    parser.add_argument("out", help="output folder (the experiment's "
                        "--data_dir)")
    parser.add_argument("--format", choices=("npy", "h5"), default="npy",
                        help="memory-mappable .npy files (default) or one "
                             "HDF5 file per set")
    parser.add_argument("--benchmark", nargs="+", choices=sorted(BENCHMARKS),
                        default=["CS", "CV"],
                        help="protocols to write: CS cross-subject, CV "
                             "cross-view (default: both)")
    parser.add_argument("--max_frames", type=int, default=300,
                        help="frames per sample in the arrays (default 300, "
                             "the longest NTU RGB+D sample)")
    parser.add_argument("--max_action", type=int, default=60,
                        help="skip action classes above this (default 60: "
                             "NTU RGB+D; 120 for NTU RGB+D 120)")
    parser.add_argument("--missing_list", action="append", default=None,
                        help="list of samples to skip (repeatable; default: "
                             "the official lists found in SRC)")
    parser.add_argument("--keep_missing", action="store_true",
                        help="do not skip the listed samples")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar")
    return parser


def main(argv=None):
    """Run the converter from the command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    int
        0 when at least one sample was converted, 1 otherwise.

    Examples
    --------
    ::

        indrnn-ntu-convert nturgb+d_skeletons/ data/ntu --format h5
    """
    args = make_parser().parse_args(argv)
    missing_lists = args.missing_list
    if args.keep_missing:
        missing_lists = []
    elif missing_lists is None:
        missing_lists = _find_missing_lists(args.src)
        if not missing_lists:
            print("note: no list of samples with missing skeletons in %s; "
                  "pass --missing_list to skip them" % args.src,
                  file=sys.stderr)
    for path in missing_lists:
        print("skipping the samples listed in %s" % path, file=sys.stderr)
    summary = convert(args.src, args.out, benchmarks=args.benchmark,
                      fmt=args.format, max_frames=args.max_frames,
                      missing_lists=missing_lists,
                      max_action=args.max_action, progress=not args.quiet)
    print(format_summary(summary))
    print("wrote %s to %s" % (", ".join(summary["outputs"]), args.out))
    return 0 if any(summary["converted"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
