"""``indrnn reproduce`` end to end: the command line, on a local Ray.

Each test runs the command as a user does
(``python -m indrnn.experiments.command reproduce ...``, in a subprocess:
it starts its own local Ray and stops it). Independent truth: the runs'
own result files and the experiment's parameter files.
"""
import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TIMEOUT = 300


def _env():
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTENSOR_FLAGS", "THEANO_FLAGS", "RAY_ADDRESS")}
    env["PYTHONPATH"] = REPO_ROOT
    return env


def _reproduce(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "indrnn.experiments.command", "reproduce",
         *args],
        cwd=REPO_ROOT, env=_env(), capture_output=True, text=True,
        timeout=TIMEOUT, **kw)


def _start(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "indrnn.experiments.command", "reproduce",
         *args],
        cwd=REPO_ROOT, env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)


def _wait_for(predicate, timeout=TIMEOUT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("timed out")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _checkpoint(folder):
    from indrnn.reproduce.runner import latest_checkpoint
    return latest_checkpoint(folder)


def _registry(path, rows):
    """A registry of adding rows (id, flags)."""
    text = ['[families.adding]', 'module = "indrnn.experiments.adding"',
            'script = "adding.py"', 'command = "adding"',
            'metric = { key = "test_mse", label = "test MSE" }',
            'curve = "test_mse"', '[tables.t]', 'title = "test table"']
    for row_id, flags in rows:
        text += ['[[tables.t.rows]]', 'id = "%s"' % row_id,
                 'label = "%s"' % row_id, 'family = "adding"',
                 'flags = "%s"' % flags, 'paper = 0.001']
    path.write_text("\n".join(text) + "\n")
    return str(path)


def test_two_smoke_rows_run_in_parallel_and_a_rerun_skips_them(tmp_path):
    out = str(tmp_path / "out")
    done = _reproduce("fig2", "--profile", "smoke", "--rows",
                      "indrnn-T100,irnn-T100", "--out", out)
    assert done.returncode == 0, done.stdout + done.stderr
    base = os.path.join(out, "fig2-smoke")
    results = {row: json.load(open(os.path.join(base, row, "seed1",
                                                "result.json")))
               for row in ("indrnn-T100", "irnn-T100")}
    for result in results.values():
        assert result["status"] == "done" and result["steps"] == 40
    # Both ran at once: their processes' lifetimes overlap.
    a, b = results.values()
    assert a["started"] < b["finished"] and b["started"] < a["finished"]
    assert "2/2 done" in done.stdout
    with open(os.path.join(base, "table.csv")) as f:
        lines = {line["row"]: line for line in csv.DictReader(f)}
    assert set(lines) == {"indrnn-T100", "irnn-T100"}
    for row, result in results.items():
        assert lines[row]["n"] == "1"
        assert float(lines[row]["mean"]) == pytest.approx(result["value"])
        assert lines[row]["profile"] == "smoke"
        assert "--max_steps 40" in lines[row]["budget"]
    table = open(os.path.join(base, "table.md")).read()
    assert "python -u adding.py --model rnn --seq_len 100" in table
    with open(os.path.join(base, "fig2.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"

    mtimes = {row: os.path.getmtime(os.path.join(base, row, "seed1",
                                                 "result.json"))
              for row in results}
    again = _reproduce("fig2", "--profile", "smoke", "--rows",
                       "indrnn-T100,irnn-T100", "--out", out)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "2 already finished" in again.stdout
    for row in results:
        folder = os.path.join(base, row, "seed1")
        assert os.path.getmtime(os.path.join(folder,
                                             "result.json")) == mtimes[row]
        assert json.load(open(os.path.join(folder, "attempts.json")))[
            "attempts"] == 1


def test_a_killed_run_is_retried_from_its_checkpoint(tmp_path):
    """Kill one run's process: Ray retries it, it resumes from its
    checkpoint and ends as the same run left alone; a failing row is
    reported with its error while the others finish."""
    flags = ("--hidden_units 16 --seq_len 50 --max_steps 1500 "
             "--report_every 50 --checkpoint_every 50")
    registry = _registry(tmp_path / "r.toml", [
        ("whole", flags), ("killed", flags), ("bad", "--hidden_units 0")])
    out = str(tmp_path / "out")
    driver = _start("t", "--registry", registry, "--profile", "smoke",
                    "--out", out, "--seed-base", "3")
    folder = os.path.join(out, "t-smoke", "killed", "seed3")
    pid_file = os.path.join(folder, "process.pid")
    try:
        _wait_for(lambda: _checkpoint(folder) and os.path.exists(pid_file))
        os.kill(int(open(pid_file).read()), signal.SIGKILL)
        output, _ = driver.communicate(timeout=TIMEOUT)
    finally:
        driver.kill()
    assert driver.returncode == 1, output  # the bad row failed
    result = json.load(open(os.path.join(folder, "result.json")))
    assert result["status"] == "done" and result["attempts"] == 2
    assert result["steps"] == 1500
    assert "--resume" in open(os.path.join(folder, "output.txt")).read()
    whole = np.load(os.path.join(out, "t-smoke", "whole", "seed3",
                                 "indrnn50.npz"))
    killed = np.load(os.path.join(folder, "indrnn50.npz"))
    for name in whole.files:
        assert np.array_equal(whole[name], killed[name]), name
    with open(os.path.join(out, "t-smoke", "table.csv")) as f:
        lines = {line["row"]: line for line in csv.DictReader(f)}
    assert lines["bad"]["n"] == "0"
    assert "hidden_units" in lines["bad"]["failed"]
    assert lines["killed"]["n"] == "1" and lines["whole"]["n"] == "1"
    assert "bad seed 3 failed" in output


def test_an_interrupted_command_resumes_when_run_again(tmp_path):
    flags = ("--hidden_units 16 --seq_len 50 --max_steps 30000 "
             "--report_every 50 --checkpoint_every 50")
    registry = _registry(tmp_path / "r.toml", [("long", flags)])
    out = str(tmp_path / "out")
    folder = os.path.join(out, "t-smoke", "long", "seed1")
    driver = _start("t", "--registry", registry, "--profile", "smoke",
                    "--out", out)
    try:
        _wait_for(lambda: _checkpoint(folder)
                  and os.path.exists(os.path.join(folder, "process.pid")))
        pid = int(open(os.path.join(folder, "process.pid")).read())
        driver.send_signal(signal.SIGINT)
        output, _ = driver.communicate(timeout=TIMEOUT)
    finally:
        driver.kill()
    assert driver.returncode == 130, output
    assert "run the same command again" in output
    # The run's process stopped too, at a checkpoint of its own, and left
    # no result.
    _wait_for(lambda: not _alive(pid))
    assert "SIGTERM received" in open(os.path.join(folder,
                                                   "output.txt")).read()
    assert not os.path.exists(os.path.join(folder, "result.json"))
    stopped_at = _checkpoint(folder)
    again = _reproduce("t", "--registry", registry, "--profile", "smoke",
                       "--out", out)
    assert again.returncode == 0, again.stdout + again.stderr
    result = json.load(open(os.path.join(folder, "result.json")))
    assert result["status"] == "done" and result["steps"] == 30000
    assert result["attempts"] == 2
    assert "--resume %s" % stopped_at in open(
        os.path.join(folder, "output.txt")).read()


def test_without_ray_the_command_says_how_to_install_it(tmp_path):
    code = ("import sys; sys.modules['ray'] = None\n"
            "from indrnn.experiments.command import main\n"
            "raise SystemExit(main(sys.argv[1:]))")
    done = subprocess.run(
        [sys.executable, "-c", code, "reproduce", "fig2", "--profile",
         "smoke", "--rows", "indrnn-T100", "--out", str(tmp_path)],
        cwd=REPO_ROOT, env=_env(), capture_output=True, text=True,
        timeout=TIMEOUT)
    assert done.returncode == 2
    assert "pip install 'indrnn[ray]'" in done.stderr


def test_missing_data_is_refused_before_any_run_starts(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    done = _reproduce("table2", "--profile", "smoke", "--out",
                      str(tmp_path / "out"), "--data_dir", str(empty))
    assert done.returncode == 2
    assert "nothing started" in done.stderr
    assert "table2/indrnn6-T50" in done.stderr
    assert os.path.join(str(empty), "ptb") in done.stderr
    assert not (tmp_path / "out").exists()


def test_list_shows_each_rows_command_paper_number_and_metric(capsys):
    from indrnn.experiments.reproduce import main
    assert main(["--list", "table1"]) == 0
    text = capsys.readouterr().out
    assert ("python -u pixelmnist.py --model indrnn --num_layers 6 "
            "--hidden_units 128 --use_bn_afterrnn --use_permute") in text
    assert "paper's:  4" in text
    assert "test error % (as error %: 100 (1 - x)): the highest " \
           "accuracy over the reports" in text
    assert "cpu:      --max_steps 4000" in text


def test_unknown_names_are_refused(tmp_path):
    from indrnn.experiments.reproduce import main
    assert main(["fig9", "--out", str(tmp_path)]) == 2
    assert main(["fig2", "--rows", "nosuch", "--out", str(tmp_path)]) == 2
