"""One run of a row, without Ray (indrnn.reproduce.runner).

Runs the adding experiment through its command line, as a worker does,
and checks the result against the experiment's own CSV; a run killed with
SIGKILL after a checkpoint resumes from it and ends with the uninterrupted
run's parameters, bit for bit.
"""
import csv
import fcntl
import json
import os
import signal
import threading
import time

import numpy as np
import pytest

from indrnn.reproduce import runner
from indrnn.reproduce.registry import Metric
from indrnn.reproduce.runner import (RunBusy, RunInterrupted, RunSpec,
                                     execute, finished_result,
                                     latest_checkpoint)

MSE = Metric("test_mse", "test MSE", pick="last", better="lower")


def _spec(folder, flags, **kw):
    return RunSpec(key="fig2/test", module="indrnn.experiments.adding",
                   flags=tuple(flags.split()), seed=7, folder=str(folder),
                   profile="smoke", metric=MSE, curve="test_mse",
                   original="python -u adding.py", **kw)


def _csv_rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_a_run_writes_its_result(tmp_path):
    spec = _spec(tmp_path / "run", "--hidden_units 8 --seq_len 20 "
                 "--max_steps 30 --report_every 10 --checkpoint_every 10")
    result = execute(spec)
    assert result["status"] == "done", result["error"]
    rows = _csv_rows(tmp_path / "run" / "indrnn20.csv")
    assert [r["step"] for r in rows] == ["10", "20", "30"]
    assert result["value"] == pytest.approx(float(rows[-1]["test_mse"]),
                                            rel=1e-12)
    assert result["final"] == result["value"]
    assert result["best"] == pytest.approx(
        min(float(r["test_mse"]) for r in rows), rel=1e-12)
    assert [p[0] for p in result["curve"]] == [10, 20, 30]
    assert result["steps"] == 30 and result["stop_reason"] == "max_steps"
    assert result["attempts"] == 1 and result["seed"] == 7
    assert result["flags"][-4:] == ["--seed", "7", "--out",
                                    str(tmp_path / "run")]
    assert "indrnn" in result["versions"]
    on_disk = json.load(open(tmp_path / "run" / "result.json"))
    assert on_disk["value"] == result["value"]
    assert finished_result(str(tmp_path / "run"), spec.argv()) is not None
    # Another profile's flags: not this run.
    assert finished_result(str(tmp_path / "run"), spec.argv()[:-2]) is None
    assert not (tmp_path / "run" / "process.pid").exists()


def test_a_killed_run_resumes_from_its_checkpoint(tmp_path):
    flags = ("--hidden_units 16 --seq_len 50 --max_steps 1500 "
             "--report_every 50 --checkpoint_every 50")
    whole = execute(_spec(tmp_path / "whole", flags))
    assert whole["status"] == "done", whole["error"]

    folder = tmp_path / "killed"
    killed = []

    def kill_after_first_checkpoint(pid):
        def watch():
            deadline = time.time() + 300
            while time.time() < deadline:
                if latest_checkpoint(str(folder)):
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
                time.sleep(0.005)
        threading.Thread(target=watch, daemon=True).start()

    with pytest.raises(RunInterrupted, match="resumes from"):
        execute(_spec(folder, flags), on_started=kill_after_first_checkpoint)
    assert killed
    assert not (folder / "result.json").exists()
    resumed_from = latest_checkpoint(str(folder))
    result = execute(_spec(folder, flags))
    assert result["status"] == "done", result["error"]
    assert result["attempts"] == 2 and result["steps"] == 1500
    output = open(folder / "output.txt").read()
    assert "--resume %s" % resumed_from in output
    a = np.load(tmp_path / "whole" / "indrnn50.npz")
    b = np.load(folder / "indrnn50.npz")
    assert len(a.files) == len(b.files)
    for name in a.files:
        assert np.array_equal(a[name], b[name]), name


def test_a_failing_run_is_reported_not_retried(tmp_path):
    result = execute(_spec(tmp_path / "bad", "--hidden_units 0"))
    assert result["status"] == "failed"
    assert result["returncode"] == 2
    assert "--hidden_units" in result["error"]
    assert finished_result(str(tmp_path / "bad")) is None


def test_a_worker_without_the_data_says_so(tmp_path):
    spec = _spec(tmp_path / "nodata", "--max_steps 1", data_kind="mnist",
                 data_root=str(tmp_path / "nowhere"))
    result = execute(spec)
    assert result["status"] == "failed"
    assert "cannot read the mnist data" in result["error"]
    assert str(tmp_path / "nowhere") in result["error"]
    assert not (tmp_path / "nodata" / "output.txt").exists()


def test_a_held_folder_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "busy"
    folder.mkdir()
    monkeypatch.setattr(runner, "LOCK_WAIT", 0.2)
    with open(folder / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(RunBusy, match="another process"):
            execute(_spec(folder, "--max_steps 1"))
