"""Tests of the NTU RGB+D skeleton reader and converter.

* Real samples (``<data_dir>/ntu_samples``, found through the ``data_dir``
  fixture; never copied into the repository): frame and body counts, joint
  coordinates against the text of the file and against an independent
  reader that reads the file as a stream of numbers, as the official MATLAB
  reader does; the cross-subject and cross-view splits.
* Synthetic files written here for what the samples lack: frames with no
  body, three bodies, identity swaps and lost tracking, truncated and
  corrupt files, the missing-skeleton list.
"""
import io
import json
import os
import re

import numpy as np
import pytest

from indrnn.data import ntu, ntu_convert
from indrnn.data.ntu_convert import convert, skeleton_array
from indrnn.data.ntu_skeleton import (SkeletonFormatError, parse_sample_name,
                                      read_skeleton, write_skeleton)

#: The cross-subject training performers, as FORMAT.md lists them.
CS_TRAIN = {1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34,
            35, 38}


@pytest.fixture(scope="module")
def samples(data_dir):
    folder = data_dir / "ntu_samples"
    files = sorted(folder.glob("*.skeleton"))
    if not files:
        pytest.fail("no .skeleton files in %s" % folder)
    return folder, files


def stream_reader(path):
    """An independent reader: the file as a stream of numbers (MATLAB-like).

    Returns ``(frame count, body counts, [(frame, body_id, xyz (25, 3))])``.
    """
    tokens = open(path, "rb").read().split()
    pos = 0

    def take(n):
        nonlocal pos
        out = tokens[pos:pos + n]
        pos += n
        return out

    frames = int(take(1)[0])
    counts, bodies = [], []
    for t in range(frames):
        count = int(take(1)[0])
        counts.append(count)
        for _ in range(count):
            body_id = int(take(10)[0])
            joints = int(take(1)[0])
            values = np.array(take(12 * joints), dtype=float).reshape(joints,
                                                                     12)
            bodies.append((t, body_id, values[:, :3]))
    assert pos == len(tokens)
    return frames, counts, bodies


# --------------------------------------------------------- the real samples

def test_real_samples_frame_and_body_counts(samples):
    _, files = samples
    for path in files:
        frames, counts, bodies = stream_reader(path)
        seq = read_skeleton(path)
        first_line = open(path, "rb").readline().strip()
        assert seq.num_frames == frames == int(first_line)
        assert seq.body_counts.tolist() == counts
        # Every sample has the same body count in every frame (FORMAT.md):
        # 2 for the two-person actions A050-A060, 1 otherwise.
        action = parse_sample_name(path)["action"]
        expected = 2 if action >= 50 else 1
        assert set(counts) == {expected}, path.name
        assert len(seq.bodies) == expected
        for body in seq.bodies:
            assert body.frames.tolist() == list(range(frames))
            assert body.joints.shape == (frames, 25, 3)
    # The example of FORMAT.md.
    seq = read_skeleton(files[0])
    assert files[0].name == "S001C001P001R001A001.skeleton"
    assert seq.num_frames == 103 and len(seq.bodies) == 1
    assert seq.bodies[0].body_id == 72057594037931101


def test_real_samples_joint_coordinates(samples):
    _, files = samples
    # By hand, from line 5 of S001C001P001R001A001.skeleton (FORMAT.md):
    # 0.2181153 0.1725972 3.785547 ... , joint 1 (SpineBase) of frame 1.
    seq = read_skeleton(files[0])
    np.testing.assert_array_equal(
        seq.bodies[0].joints[0, 0],
        np.array([0.2181153, 0.1725972, 3.785547], dtype=np.float32))
    # Every coordinate of every sample against the stream reader.
    for path in files:
        _, _, bodies = stream_reader(path)
        seq = read_skeleton(path)
        tracks = {b.body_id: b for b in seq.bodies}
        for t, body_id, xyz in bodies:
            track = tracks[body_id]
            row = int(np.nonzero(track.frames == t)[0][0])
            np.testing.assert_array_equal(track.joints[row],
                                          xyz.astype(np.float32))


def test_real_samples_have_both_line_ends(samples):
    _, files = samples
    ends = {b"\r\n" in open(p, "rb").read(200) for p in files}
    assert ends == {True, False}


def test_real_samples_two_person_array(samples):
    folder, _ = samples
    path = folder / "S001C001P001R001A050.skeleton"
    _, _, bodies = stream_reader(path)
    data, info = skeleton_array(read_skeleton(path))
    assert data.shape == (74, 50, 3) and info["dropped"] == 0
    # Both bodies are tracked in all 74 frames with equal length, so the
    # order is by motion; each slot holds one tracking ID throughout.
    first = [xyz for t, b, xyz in bodies if b == 72057594037932185]
    second = [xyz for t, b, xyz in bodies if b == 72057594037932127]
    slots = {tuple(data[0, :25, 0]), tuple(data[0, 25:, 0])}
    assert slots == {tuple(first[0][:, 0].astype(np.float32)),
                     tuple(second[0][:, 0].astype(np.float32))}
    slot_of_first = 0 if np.array_equal(data[0, :25],
                                        first[0].astype(np.float32)) else 1
    for t in range(74):
        np.testing.assert_array_equal(
            data[t, 25 * slot_of_first:25 * slot_of_first + 25],
            first[t].astype(np.float32))
        np.testing.assert_array_equal(
            data[t, 25 * (1 - slot_of_first):25 * (2 - slot_of_first)],
            second[t].astype(np.float32))


def test_convert_real_samples(samples, tmp_path):
    folder, files = samples
    out = tmp_path / "ntu"
    stderr = io.StringIO()
    summary = convert(folder, out, stream=stderr)
    assert summary["files"] == len(files) == 10
    assert summary["skipped"] == {} and summary["errors"] == []
    # The official list of the folder is used by default.
    assert any(p.endswith("NTU_RGBD_samples_with_missing_skeletons.txt")
               for p in summary["missing_lists"])
    assert "10/10 files" in stderr.getvalue()

    fields = {p.name[:20]: parse_sample_name(p.name) for p in files}
    expected = {
        "train_ntus": [n for n, f in fields.items()
                       if f["subject"] in CS_TRAIN],
        "test_ntus": [n for n, f in fields.items()
                      if f["subject"] not in CS_TRAIN],
        "train_CV_ntus": [n for n, f in fields.items() if f["camera"] != 1],
        "test_CV_ntus": [n for n, f in fields.items() if f["camera"] == 1],
    }
    assert summary["converted"] == {k: len(v) for k, v in expected.items()}
    assert sorted(len(v) for v in expected.values()) == [5, 5, 5, 5]
    for name, members in expected.items():
        names = (out / (name + "_names.txt")).read_text().split()
        assert sorted(names) == sorted(members)
        with ntu.open_ntu(out / name) as ds:
            assert isinstance(ds.data, np.memmap)
            assert ds.data.shape == (len(members), 300, 50, 3)
            assert ds.data.dtype == np.float32
            for i, sample in enumerate(names):
                path = folder / (sample + ".skeleton")
                frames, counts, bodies = stream_reader(path)
                assert ds.labels[i] == fields[sample]["action"] - 1
                assert ds.lengths[i] == frames
                row = np.asarray(ds.data[i])
                assert not row[frames:].any()
                if counts[0] == 1:
                    # One person: the second body is zero.
                    assert not row[:frames, 25:].any()
                    np.testing.assert_array_equal(
                        row[:frames, :25],
                        np.stack([b[2] for b in bodies]).astype(np.float32))
                else:
                    assert row[:frames, 25:].any()


# --------------------------------------------------------- synthetic files

def person(x, t=0.0, seed=0):
    """A skeleton around x (metres), moving slowly with t."""
    rng = np.random.RandomState(seed)
    joints = rng.uniform(-0.3, 0.3, size=(25, 3)) + [x, 0.1 * t, 3.0]
    return joints


def frames_from(tracks, num_frames):
    """Frames from ``{body_id: (frames, x)}``; listing order as given."""
    out = [[] for _ in range(num_frames)]
    for body_id, (frames, x) in tracks.items():
        for t in frames:
            out[t].append((body_id, person(x, t, seed=body_id)))
    return out


def write(folder, name, frames, newline="\r\n"):
    path = os.path.join(folder, name + ".skeleton")
    write_skeleton(path, frames, newline=newline)
    return path


def test_lf_and_crlf_read_the_same(tmp_path):
    frames = frames_from({7: (range(4), 0.0)}, 4)
    a = read_skeleton(write(tmp_path, "S001C001P001R001A001", frames, "\n"))
    b = read_skeleton(write(tmp_path, "S001C001P001R001A002", frames, "\r\n"))
    assert b"\r\n" not in open(tmp_path / "S001C001P001R001A001.skeleton",
                               "rb").read()
    np.testing.assert_array_equal(a.bodies[0].joints, b.bodies[0].joints)
    np.testing.assert_allclose(a.bodies[0].joints[2],
                               person(0.0, 2, seed=7), atol=1e-6)


def test_frames_with_zero_bodies(tmp_path):
    # Frames 0, 3 and 5 have no body: the frame block is just "0".
    frames = [[] for _ in range(6)]
    for t in (1, 2, 4):
        frames[t] = [(9, person(0.5, t, seed=9))]
    path = write(tmp_path, "S001C001P001R001A001", frames)
    text = open(path).read().splitlines()
    assert text[:2] == ["6", "0"]
    seq = read_skeleton(path)
    assert seq.body_counts.tolist() == [0, 1, 1, 0, 1, 0]
    data, info = skeleton_array(seq)
    assert info["empty_frames"] == 3 and data.shape == (3, 50, 3)
    for row, t in zip(data, (1, 2, 4)):
        np.testing.assert_allclose(row[:25], person(0.5, t, seed=9),
                                   atol=1e-6)
        assert not row[25:].any()
    # A sample without any body is skipped and counted.
    write(tmp_path, "S001C001P001R001A002", [[] for _ in range(5)])
    summary = convert(tmp_path, tmp_path / "out", benchmarks=["CS"],
                      max_frames=10, progress=False)
    assert summary["converted"] == {"train_ntus": 1, "test_ntus": 0}
    assert summary["skipped"] == {ntu_convert.SKIP_NO_BODY: 1}
    assert summary["empty_frames_removed"] == 3
    with ntu.open_ntu(tmp_path / "out" / "test_ntus") as ds:
        assert len(ds) == 0 and ds.data.shape == (0, 10, 50, 3)


def test_three_bodies_keep_the_two_main_ones(tmp_path):
    # Persons at x = -1 (ID 1) and x = +1 (ID 2) throughout; a noise body
    # (ID 3) for three frames in the middle, listed first.
    frames = frames_from({3: (range(4, 7), 0.0), 1: (range(12), -1.0),
                          2: (range(12), 1.0)}, 12)
    seq = read_skeleton(write(tmp_path, "S001C001P001R001A050", frames))
    assert seq.body_counts.tolist() == [2] * 4 + [3] * 3 + [2] * 5
    data, info = skeleton_array(seq)
    assert info == {"bodies": 2, "dropped": 1, "empty_frames": 0}
    assert data.shape == (12, 50, 3)
    centre = data.reshape(12, 2, 25, 3)[:, :, :, 0].mean(axis=2)
    # One slot is always person 1, the other always person 2.
    slot1 = int(np.argmin(centre[0]))
    np.testing.assert_allclose(centre[:, slot1], -1.0, atol=0.35)
    np.testing.assert_allclose(centre[:, 1 - slot1], 1.0, atol=0.35)
    summary = convert(tmp_path, tmp_path / "out", benchmarks=["CV"],
                      max_frames=20, progress=False)
    assert summary["bodies_dropped"] == 1
    assert summary["samples_with_dropped_bodies"] == 1


def test_listing_order_does_not_swap_identities(tmp_path):
    # The two bodies are listed in a different order in every other frame.
    frames = []
    for t in range(10):
        bodies = [(1, person(-1.0, t, seed=1)), (2, person(1.0, t, seed=2))]
        frames.append(bodies[::-1] if t % 2 else bodies)
    data, _ = skeleton_array(read_skeleton(
        write(tmp_path, "S001C001P001R001A051", frames)))
    slot1 = 0 if np.allclose(data[0, :25], person(-1.0, 0, seed=1),
                             atol=1e-6) else 25
    for t in range(10):
        np.testing.assert_allclose(data[t, slot1:slot1 + 25],
                                   person(-1.0, t, seed=1), atol=1e-6)
        np.testing.assert_allclose(data[t, 25 - slot1:50 - slot1],
                                   person(1.0, t, seed=2), atol=1e-6)


def test_new_tracking_id_stays_in_the_same_slot(tmp_path):
    # Person A is tracked as ID 10 in frames 0-9, then lost and tracked
    # again as ID 30 in frames 10-19; person B is ID 20 throughout. The
    # listing order changes when A comes back.
    frames = [[] for _ in range(20)]
    for t in range(20):
        b = (20, person(1.0, t, seed=20))
        a = (10 if t < 10 else 30, person(-1.0, t, seed=10))
        frames[t] = [a, b] if t < 10 else [b, a]
    seq = read_skeleton(write(tmp_path, "S001C001P001R001A052", frames))
    assert [b.body_id for b in seq.bodies] == [10, 20, 30]
    data, info = skeleton_array(seq)
    assert info["dropped"] == 0
    # B has the longest track: slot 0; A's two tracks share slot 1.
    for t in range(20):
        np.testing.assert_allclose(data[t, :25], person(1.0, t, seed=20),
                                   atol=1e-6)
        np.testing.assert_allclose(data[t, 25:], person(-1.0, t, seed=10),
                                   atol=1e-6)


def test_fragments_of_two_people_go_to_the_nearest_slot(tmp_path):
    # A (x=-1) and B (x=+1) are tracked in frames 0-9 as IDs 1 and 2, both
    # lost in frames 10-11, then back as IDs 4 (B) and 3 (A) in 12-19. The
    # new tracks fit either slot in time; position decides.
    frames = frames_from({1: (range(10), -1.0), 2: (range(10), 1.0),
                          4: (range(12, 20), 1.0), 3: (range(12, 20), -1.0)},
                         20)
    seq = read_skeleton(write(tmp_path, "S001C001P001R001A053", frames))
    data, info = skeleton_array(seq)
    assert info == {"bodies": 2, "dropped": 0, "empty_frames": 2}
    centre = data.reshape(18, 2, 25, 3)[:, :, :, 0].mean(axis=2)
    signs = np.sign(centre)
    assert (signs == signs[0]).all() and set(signs[0]) == {-1.0, 1.0}


def test_one_person_with_a_new_id_fills_one_slot(tmp_path):
    frames = frames_from({5: (range(8), 0.0), 6: (range(8, 15), 0.0)}, 15)
    data, info = skeleton_array(read_skeleton(
        write(tmp_path, "S001C001P001R001A001", frames)))
    assert info["bodies"] == 1 and data.shape == (15, 50, 3)
    assert not data[:, 25:].any()


def body_lines(frame_count=2):
    """Lines of a valid synthetic file with one body in each frame.

    Line 1 is the frame count; frame ``f`` (0-based) takes lines
    ``2 + 28 f`` (body count), ``3 + 28 f`` (body header), ``4 + 28 f``
    (joint count) and ``5 + 28 f`` to ``29 + 28 f`` (the 25 joints).
    """
    lines = ["%d" % frame_count]
    for t in range(frame_count):
        lines += ["1", "1 0 1 1 1 1 0 0.1 0.2 2", "25"]
        for x, y, z in person(0.0, t, seed=1):
            lines.append("%.7g %.7g %.7g 1 2 3 4 1 0 0 0 2" % (x, y, z))
    return lines


def write_lines(folder, name, lines, newline="\r\n"):
    path = os.path.join(folder, name + ".skeleton")
    with open(path, "w", newline="") as f:
        f.write(newline.join(lines) + (newline if lines else ""))
    return path


@pytest.mark.parametrize("keep, line, what", [
    # Line 1 frame count, 2 body count, 3 body header, 4 joint count, 5-29
    # the joints of frame 1, 30 the body count of frame 2.
    (17, 18, "joint 14 of body 1 of frame 1"),
    (29, 30, "the body count of frame 2"),
    (3, 4, "the joint count of body 1 of frame 1"),
    (0, 1, "the frame count"),
])
def test_truncated_file(tmp_path, keep, line, what):
    lines = body_lines()
    assert len(lines) == 1 + 2 * 28 and lines[29] == "1"
    path = write_lines(tmp_path, "S001C001P001R001A001", lines[:keep])
    with pytest.raises(SkeletonFormatError) as err:
        read_skeleton(path)
    assert err.value.line == line
    assert "file ends early" in err.value.message and what in err.value.message
    assert str(err.value).startswith(path + ": line %d: " % line)


def test_truncated_mid_line(tmp_path):
    lines = body_lines()
    lines = lines[:9] + [" ".join(lines[9].split()[:5])]
    path = write_lines(tmp_path, "S001C001P001R001A001", lines, "\n")
    with pytest.raises(SkeletonFormatError, match=r"line 10: expected 12 "
                       r"numbers for joint 6 of body 1 of frame 1, got 5"):
        read_skeleton(path)


@pytest.mark.parametrize("edit, line, pattern", [
    (lambda l: l.__setitem__(7, " ".join(
        l[7].split()[:1] + ["abc"] + l[7].split()[2:])),
     8, "expected a number for joint 4 of body 1 of frame 1, got 'abc'"),
    (lambda l: l.__setitem__(3, "24"), 4,
     "expected 25 joints for body 1 of frame 1, got 24"),
    (lambda l: l.__setitem__(1, "x"), 2,
     "expected an integer for the body count of frame 1"),
    (lambda l: l.__setitem__(2, "1 2 3"), 3,
     "expected 10 numbers for the header of body 1 of frame 1, got 3"),
    (lambda l: l.append("5"), 58, "unexpected data after the 2 frames"),
    (lambda l: l.__setitem__(0, "-1"), 1, "the frame count must be >= 0"),
])
def test_corrupt_file(tmp_path, edit, line, pattern):
    lines = body_lines()
    edit(lines)
    path = write_lines(tmp_path, "S001C001P001R001A001", lines)
    with pytest.raises(SkeletonFormatError) as err:
        read_skeleton(path)
    assert err.value.line == line
    assert pattern in err.value.message


def test_binary_garbage_is_reported(tmp_path):
    path = os.path.join(tmp_path, "S001C001P001R001A001.skeleton")
    with open(path, "wb") as f:
        f.write(b"2\r\n1\r\n\xff\xfe\r\n")
    with pytest.raises(SkeletonFormatError, match="line 3: not ASCII"):
        read_skeleton(path)


def test_converter_skips_and_summarises(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    good = body_lines(3)
    write_lines(src, "S001C002P001R001A001", good)                 # CS train
    write_lines(src, "S001C001P003R001A002", good, "\n")          # CS test
    write_lines(src, "S001C002P002R001A003", good[:40])           # truncated
    bad = list(good)
    bad[20] = "1 2 3"
    write_lines(src, "S001C003P002R002A003", bad)                 # corrupt
    write_lines(src, "S001C002P005R002A008", good)                # listed
    write_lines(src, "S018C001P001R001A061", good)                # NTU-120
    write_lines(src, "notes", good)                               # bad name
    (src / "missing.txt").write_text("header\n\nS001C002P005R002A008\n")
    out = tmp_path / "out"
    rc = ntu_convert.main([str(src), str(out), "--missing_list",
                           str(src / "missing.txt"), "--max_frames", "5",
                           "--format", "h5"])
    assert rc == 0
    captured = capsys.readouterr()
    # Problems are reported by name and line as they are met.
    assert ("skipped S001C002P002R001A003.skeleton: line 41: file ends "
            "early: expected joint 9 of body 1 of frame 2") in captured.err
    assert ("skipped S001C003P002R002A003.skeleton: line 21: expected 12 "
            "numbers for joint 17 of body 1 of frame 1, got 3") in captured.err
    assert "4/4 files" in captured.err
    summary = json.loads((out / "ntu_convert_summary.json").read_text())
    assert summary["files"] == 7
    assert summary["skipped"] == {
        ntu_convert.SKIP_CORRUPT: 2, ntu_convert.SKIP_MISSING: 1,
        ntu_convert.SKIP_ACTION: 1, ntu_convert.SKIP_NAME: 1}
    assert summary["converted"] == {"train_ntus": 1, "test_ntus": 1,
                                    "train_CV_ntus": 1, "test_CV_ntus": 1}
    assert len(summary["errors"]) == 2
    # The printed summary counts the same.
    assert "corrupt or truncated file: 2" in captured.out
    assert re.search(r"skipped 5:", captured.out)
    # Only the complete files are in the HDF5 output.
    import h5py
    with h5py.File(out / "train_ntus.h5", "r") as f:
        assert f["data"].shape == (1, 5, 50, 3)
        assert f["label"][()].tolist() == [0]
        assert f["len"][()].tolist() == [3]
        assert [n.decode() for n in f["name"][()]] == ["S001C002P001R001A001"]
    with ntu.open_ntu(out / "test_ntus") as ds:
        assert ds.labels.tolist() == [1] and ds.path.endswith(".h5")
        # Joint 5 of frame 3 is on line 5 + 2 * 28 + 4 of the file.
        text = good[5 + 2 * 28 + 4 - 1].split()[:3]
        np.testing.assert_array_equal(
            ds.data[0, 2, 4], np.array(text, dtype=np.float32))
    assert sorted(os.listdir(out)) == sorted(
        ["ntu_convert_summary.json"] + [n + ".h5" for n in (
            "train_ntus", "test_ntus", "train_CV_ntus", "test_CV_ntus")])


def test_npy_and_h5_outputs_agree_and_long_samples_are_cut(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i, length in enumerate((4, 9, 6)):
        frames = frames_from({1: (range(length), 0.2 * i)}, length)
        write(src, "S001C00%dP001R001A00%d" % (1 + i, 1 + i), frames)
    a = convert(src, tmp_path / "npy", benchmarks=["CV"], max_frames=7,
                missing_lists=[], progress=False)
    b = convert(src, tmp_path / "h5", benchmarks=["CV"], fmt="h5",
                max_frames=7, missing_lists=[], progress=False)
    assert a["cut_to_max_frames"] == b["cut_to_max_frames"] == 1
    assert a["max_length"] == 9
    for name in ("train_CV_ntus", "test_CV_ntus"):
        with ntu.open_ntu(tmp_path / "npy" / name) as x, \
                ntu.open_ntu(tmp_path / "h5" / name) as y:
            np.testing.assert_array_equal(np.asarray(x.data), y.data[()])
            np.testing.assert_array_equal(x.labels, y.labels)
            np.testing.assert_array_equal(x.lengths, y.lengths)
    with ntu.open_ntu(tmp_path / "npy" / "train_CV_ntus.npy") as ds:
        assert ds.lengths.tolist() == [7, 6] and ds.labels.tolist() == [1, 2]


def test_converter_command_fails_without_samples(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    rc = ntu_convert.main([str(tmp_path / "src"), str(tmp_path / "out"),
                           "--quiet"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "no list of samples with missing skeletons" in err
    with pytest.raises(FileNotFoundError):
        convert(tmp_path / "nothing", tmp_path / "out")
    with pytest.raises(ValueError, match="benchmark"):
        convert(tmp_path / "src", tmp_path / "out", benchmarks=["XS"])
