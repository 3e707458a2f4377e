"""
Reading raw NTU RGB+D ``.skeleton`` files.

The NTU RGB+D data set (60 and 120 action classes) stores the Kinect v2
skeletons of each sample in a text file named ``SsssCcccPpppRrrrAaaa.skeleton``
(setup, camera, performer, replication, action). The layout, as the official
MATLAB reader (``read_skeleton_file.m``) reads it::

    <frameCount>
    per frame:  <bodyCount>
      per body: <bodyID> <clipedEdges> <handLeftConfidence> <handLeftState>
                <handRightConfidence> <handRightState> <isResticted>
                <leanX> <leanY> <trackingState>
                <jointCount>                              (25)
        per joint: <x> <y> <z> <depthX> <depthY> <colorX> <colorY>
                   <orientationW> <orientationX> <orientationY>
                   <orientationZ> <trackingState>

Lines end in CRLF in the distributed data and in LF in some copies; both are
read. Unlike the MATLAB reader, which reads a stream of numbers and fails
late (or not at all) on a damaged file, :func:`read_skeleton` checks every
record and raises :class:`SkeletonFormatError` naming the file and the line.

- :func:`parse_sample_name` splits a sample name into its fields.
- :func:`read_skeleton` reads one file into a :class:`SkeletonSequence`:
  the number of frames, the number of bodies in each frame, and one
  :class:`Body` track (frames and 3D joint positions) per tracking ID.
- :func:`read_missing_list` reads the official lists of samples with
  missing skeletons.
- :func:`write_skeleton` writes a file in the same format, for tests and
  synthetic data.
"""
import os
import re

import numpy as np

__all__ = [
    "NUM_JOINTS",
    "JOINT_NAMES",
    "SAMPLE_NAME_RE",
    "SkeletonFormatError",
    "Body",
    "SkeletonSequence",
    "parse_sample_name",
    "read_skeleton",
    "read_missing_list",
    "write_skeleton",
]

#: Joints of a Kinect v2 skeleton.
NUM_JOINTS = 25

#: Joint names in file order (Kinect v2 ``JointType``), 0-based here.
JOINT_NAMES = (
    "SpineBase", "SpineMid", "Neck", "Head", "ShoulderLeft", "ElbowLeft",
    "WristLeft", "HandLeft", "ShoulderRight", "ElbowRight", "WristRight",
    "HandRight", "HipLeft", "KneeLeft", "AnkleLeft", "FootLeft", "HipRight",
    "KneeRight", "AnkleRight", "FootRight", "SpineShoulder", "HandTipLeft",
    "ThumbLeft", "HandTipRight", "ThumbRight",
)

#: A sample name: setup, camera, performer, replication, action.
SAMPLE_NAME_RE = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")

_BODY_FIELDS = 10
_JOINT_FIELDS = 12


class SkeletonFormatError(ValueError):
    """A ``.skeleton`` file that does not follow the format.

    Parameters
    ----------
    path : str
        The file.
    line : int
        1-based line number where the problem was found (for a truncated
        file, the line after the last one).
    message : str
        What is wrong.

    Examples
    --------
    >>> str(SkeletonFormatError('a.skeleton', 3, 'expected 1 number'))
    'a.skeleton: line 3: expected 1 number'
    """

    def __init__(self, path, line, message):
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__("%s: line %d: %s" % (self.path, line, message))


class Body:
    """One tracked body (one tracking ID) of a sample.

    Attributes
    ----------
    body_id : int
        The Kinect tracking ID (a 64-bit integer).
    frames : numpy.ndarray
        ``(n,)`` int, the 0-based frames in which the body appears, increasing.
    joints : numpy.ndarray
        ``(n, 25, 3)`` float32, the camera-space ``x, y, z`` of each joint
        in metres, one row per entry of ``frames``.
    """

    def __init__(self, body_id, frames, joints):
        self.body_id = body_id
        self.frames = np.asarray(frames, dtype=np.int64)
        self.joints = np.asarray(joints, dtype=np.float32)

    def __repr__(self):
        return "Body(body_id=%d, %d frames)" % (self.body_id, len(self.frames))


class SkeletonSequence:
    """The content of one ``.skeleton`` file.

    Attributes
    ----------
    name : str
        Sample name (the file name without ``.skeleton``).
    num_frames : int
        Frame count of the file header.
    body_counts : numpy.ndarray
        ``(num_frames,)`` int, the number of bodies listed in each frame.
    bodies : list of Body
        One track per tracking ID, in order of first appearance. A body
        listed twice in one frame under the same ID (a damaged frame) gives
        a second track for its second listing.
    """

    def __init__(self, name, num_frames, body_counts, bodies):
        self.name = name
        self.num_frames = num_frames
        self.body_counts = np.asarray(body_counts, dtype=np.int64)
        self.bodies = list(bodies)

    def __repr__(self):
        return "SkeletonSequence(%r, %d frames, %d bodies)" % (
            self.name, self.num_frames, len(self.bodies))


def parse_sample_name(name):
    """Split an NTU sample name into its fields.

    Parameters
    ----------
    name : str
        A file name or path such as ``S001C002P003R002A013.skeleton``.

    Returns
    -------
    dict
        ``name`` (the 20-character sample name) and the integers ``setup``,
        ``camera``, ``subject``, ``replication`` and ``action`` (1-based).

    Raises
    ------
    ValueError
        If the name does not start with ``SsssCcccPpppRrrrAaaa``.

    Examples
    --------
    >>> fields = parse_sample_name('data/S001C002P003R002A013.skeleton')
    >>> fields['camera'], fields['subject'], fields['action']
    (2, 3, 13)
    """
    base = os.path.basename(str(name))
    match = SAMPLE_NAME_RE.match(base)
    if match is None:
        raise ValueError("%r is not an NTU RGB+D sample name "
                         "(SsssCcccPpppRrrrAaaa)" % base)
    setup, camera, subject, replication, action = map(int, match.groups())
    return {"name": match.group(0), "setup": setup, "camera": camera,
            "subject": subject, "replication": replication,
            "action": action}


class _Records:
    """The non-blank lines of a file, consumed one record at a time."""

    def __init__(self, path, text):
        self.path = path
        # splitlines() accepts CRLF, LF and CR line ends alike.
        self.lines = [(number, line.split()) for number, line
                      in enumerate(text.splitlines(), 1) if line.strip()]
        self.last_line = len(text.splitlines())
        self.pos = 0

    def error(self, line, message):
        return SkeletonFormatError(self.path, line, message)

    def next(self, count, what):
        """The fields of the next record, which must have ``count`` fields."""
        if self.pos >= len(self.lines):
            raise self.error(self.last_line + 1,
                             "file ends early: expected %s" % what)
        number, fields = self.lines[self.pos]
        self.pos += 1
        if len(fields) != count:
            raise self.error(number, "expected %d number%s for %s, got %d"
                             % (count, "" if count == 1 else "s", what,
                                len(fields)))
        return number, fields

    def next_int(self, what, minimum=0):
        number, (field,) = self.next(1, what)
        try:
            value = int(field)
        except ValueError:
            raise self.error(number, "expected an integer for %s, got %r"
                             % (what, field)) from None
        if value < minimum:
            raise self.error(number, "%s must be >= %d, got %d"
                             % (what, minimum, value))
        return value

    def joints(self, count, what):
        """``(count, 3)`` positions of the next ``count`` joint records."""
        if self.pos + count > len(self.lines):
            # Find which joint is missing, for the message.
            done = len(self.lines) - self.pos
            for j in range(done):
                self.next(_JOINT_FIELDS, "joint %d of %s" % (j + 1, what))
            self.next(_JOINT_FIELDS, "joint %d of %s" % (done + 1, what))
        block = self.lines[self.pos:self.pos + count]
        for j, (number, fields) in enumerate(block):
            if len(fields) != _JOINT_FIELDS:
                raise self.error(number, "expected %d numbers for joint %d "
                                 "of %s, got %d" % (_JOINT_FIELDS, j + 1,
                                                    what, len(fields)))
        self.pos += count
        try:
            xyz = np.array([fields[:3] for _, fields in block],
                           dtype=np.float64)
        except ValueError:
            for j, (number, fields) in enumerate(block):
                for field in fields[:3]:
                    try:
                        float(field)
                    except ValueError:
                        raise self.error(
                            number, "expected a number for joint %d of %s, "
                            "got %r" % (j + 1, what, field)) from None
            raise
        if not np.all(np.isfinite(xyz)):
            j = int(np.nonzero(~np.isfinite(xyz).all(axis=1))[0][0])
            raise self.error(block[j][0], "non-finite coordinate in joint %d "
                             "of %s" % (j + 1, what))
        return xyz


def read_skeleton(path, name=None):
    """Read one ``.skeleton`` file.

    Parameters
    ----------
    path : str or path-like
        The file.
    name : str, optional
        Sample name; the file name without its extension by default.

    Returns
    -------
    SkeletonSequence
        Frames, body counts and one :class:`Body` per tracking ID, with the
        joint positions ``x, y, z``.

    Raises
    ------
    SkeletonFormatError
        If the file is not ASCII text, a record has the wrong number of
        fields or a field is not a number, a body does not have 25 joints,
        the file ends before the frames its header announces, or there is
        more data after them. The message names the file and the line.
    OSError
        If the file cannot be read.

    Examples
    --------
    >>> import os, tempfile
    >>> joint = ' '.join(['0.5'] * 11) + ' 2'
    >>> body = '7 0 1 1 1 1 0 0.1 0.2 2\\n25\\n' + (joint + '\\n') * 25
    >>> text = '2\\n1\\n' + body + '0\\n'      # frame 2 has no body
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, 'S001C001P001R001A001.skeleton')
    ...     with open(path, 'w') as f:
    ...         _ = f.write(text)
    ...     seq = read_skeleton(path)
    >>> seq.num_frames, seq.body_counts.tolist(), seq.bodies
    (2, [1, 0], [Body(body_id=7, 1 frames)])
    """
    path = os.fspath(path)
    if name is None:
        name = os.path.basename(path)
        if name.endswith(".skeleton"):
            name = name[:-len(".skeleton")]
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise SkeletonFormatError(path, line, "not ASCII text (byte 0x%02x)"
                                  % raw[err.start]) from None
    records = _Records(path, text)
    num_frames = records.next_int("the frame count")
    body_counts = np.zeros(num_frames, dtype=np.int64)
    tracks = {}       # (body ID, listing within the frame) -> (frames, xyz)
    for t in range(num_frames):
        frame = "frame %d" % (t + 1)
        count = records.next_int("the body count of " + frame)
        body_counts[t] = count
        seen = {}
        for b in range(count):
            body = "body %d of %s" % (b + 1, frame)
            number, fields = records.next(_BODY_FIELDS,
                                          "the header of " + body)
            try:
                body_id = int(fields[0])
            except ValueError:
                raise records.error(number, "expected an integer body ID for "
                                    "%s, got %r" % (body, fields[0])) from None
            n_joints = records.next_int("the joint count of " + body)
            if n_joints != NUM_JOINTS:
                raise records.error(
                    records.lines[records.pos - 1][0],
                    "expected %d joints for %s, got %d"
                    % (NUM_JOINTS, body, n_joints))
            xyz = records.joints(n_joints, body)
            key = (body_id, seen.get(body_id, 0))
            seen[body_id] = key[1] + 1
            frames, positions = tracks.setdefault(key, ([], []))
            frames.append(t)
            positions.append(xyz)
    if records.pos < len(records.lines):
        number = records.lines[records.pos][0]
        raise records.error(number, "unexpected data after the %d frames "
                            "announced in line 1" % num_frames)
    bodies = [Body(key[0], frames, np.stack(positions))
              for key, (frames, positions) in tracks.items()]
    return SkeletonSequence(name, num_frames, body_counts, bodies)


def read_missing_list(path):
    """Read a list of samples with missing skeletons.

    The official lists (``NTU_RGBD_samples_with_missing_skeletons.txt`` and
    its NTU-120 counterpart) start with two lines of text, then one sample
    name per line; every sample name found in the file is returned.

    Parameters
    ----------
    path : str or path-like
        The list.

    Returns
    -------
    set of str
        Sample names such as ``'S001C002P005R002A008'``.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = os.path.join(tmp, 'missing.txt')
    ...     with open(p, 'w') as f:
    ...         _ = f.write('302 samples...\\n\\nS001C002P005R002A008\\n')
    ...     sorted(read_missing_list(p))
    ['S001C002P005R002A008']
    """
    with open(path, "r", encoding="utf-8", errors="replace") as f:
        text = f.read()
    return {m.group(0) for m in SAMPLE_NAME_RE.finditer(text)}


def write_skeleton(path, frames, newline="\r\n"):
    """Write a ``.skeleton`` file, for tests and synthetic data sets.

    The fields the experiment does not use get plausible constants: body
    fields ``0 1 1 1 1 0 0 0 2``, a depth and colour position derived from
    ``x, y``, the identity orientation and tracking state 2.

    Parameters
    ----------
    path : str or path-like
        The file to write.
    frames : list of list of (int, array-like)
        For each frame, its bodies as ``(body_id, joints)`` with ``joints``
        of shape ``(25, 3)`` (``x, y, z`` in metres); an empty list is a
        frame without bodies.
    newline : str
        Line end: ``'\r\n'`` as the distributed data, or ``'\n'``.

    Returns
    -------
    int
        Number of lines written.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, 'S001C001P001R001A001.skeleton')
    ...     n = write_skeleton(path, [[(7, np.ones((25, 3)))], []])
    ...     seq = read_skeleton(path)
    >>> n, seq.body_counts.tolist(), seq.bodies[0].joints.shape
    (30, [1, 0], (1, 25, 3))
    """
    lines = ["%d" % len(frames)]
    for bodies in frames:
        lines.append("%d" % len(bodies))
        for body_id, joints in bodies:
            joints = np.asarray(joints, dtype=np.float64)
            if joints.shape != (NUM_JOINTS, 3):
                raise ValueError("joints must have shape (25, 3), got %s"
                                 % (joints.shape,))
            lines.append("%d 0 1 1 1 1 0 0 0 2" % body_id)
            lines.append("%d" % NUM_JOINTS)
            for x, y, z in joints:
                depth_x, depth_y = 256 + 300 * x, 212 - 300 * y
                lines.append("%.7g %.7g %.7g %.7g %.7g %.7g %.7g 1 0 0 0 2" % (
                    x, y, z, depth_x, depth_y, 3.75 * depth_x,
                    2.55 * depth_y))
    with open(path, "w", newline="") as f:
        f.write(newline.join(lines) + newline)
    return len(lines)
