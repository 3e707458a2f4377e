"""Run an experiment in a subprocess, interrupt it with SIGINT, resume it.

Shared by the experiments' SIGINT and resume tests: the run is started
with ``python -m <module>``, and once a line of its log file matches,
SIGINT is sent; the experiment must finish the step, write a checkpoint
and print the message :data:`MESSAGE` matches. :func:`resume` runs the
printed command; :func:`assert_same_arrays` compares two runs' outputs.
"""
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

#: What an interrupted run prints: the step, the checkpoint, the command
#: that resumes it.
MESSAGE = re.compile(r"^SIGINT received; stopped after step (\d+); "
                     r"checkpoint written to (\S+); (.*)$", flags=re.M)


def subprocess_env():
    """The environment of the subprocess: FAST_COMPILE, the repository
    importable."""
    return dict(os.environ, PYTENSOR_FLAGS="mode=FAST_COMPILE",
                PYTHONPATH=REPO_ROOT)


def run_until_sigint(module, argv, log, ready, timeout=100):
    """Run ``python -m module argv``; once the regular expression ``ready``
    matches a line of the file ``log``, send SIGINT.

    Returns
    -------
    (returncode, stdout, stderr)
    """
    proc = subprocess.Popen([sys.executable, "-m", module] + list(argv),
                            cwd=REPO_ROOT, env=subprocess_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.time() + timeout
        while time.time() < deadline and proc.poll() is None:
            if os.path.exists(log) and re.search(ready, open(log).read(),
                                                 flags=re.M):
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, stdout, stderr


def interrupt(module, argv, log, ready, timeout=100):
    """:func:`run_until_sigint`, checking the exit status (128 + SIGINT)
    and the message.

    Returns
    -------
    (step, checkpoint path, resume command, stdout)
    """
    code, stdout, stderr = run_until_sigint(module, argv, log, ready,
                                            timeout)
    assert code == 128 + signal.SIGINT, stderr
    m = MESSAGE.search(stdout)
    assert m, stdout
    return int(m.group(1)), m.group(2), m.group(3), stdout


def resume(command, checkpoint, step, max_steps, timeout=200):
    """Run the printed resume ``command`` to ``--max_steps max_steps``;
    check that it succeeds and says it resumed from ``checkpoint`` at
    ``step``.

    Returns
    -------
    subprocess.CompletedProcess
    """
    proc = subprocess.run(command + ["--max_steps", str(max_steps)],
                          cwd=REPO_ROOT, env=subprocess_env(),
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    assert "resumed from %s at step %d" % (checkpoint, step) in proc.stdout
    return proc


def assert_same_arrays(a, b):
    """Two mappings of arrays (``np.load`` of an ``.npz``, checkpoint
    contents) hold the same names and equal arrays, bit for bit."""
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)

