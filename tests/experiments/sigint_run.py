"""Run an experiment in a subprocess, interrupt it with a signal, resume it.

Shared by the experiments' SIGINT/SIGTERM and resume tests: the run is
started with ``python -m <module>`` in the default mode (what a user's
command runs: Numba, the node linker, the compile cache), and once a line
of its log file matches, SIGINT (or SIGTERM) is sent; the experiment must
finish the step, write a checkpoint and print the message :data:`MESSAGE`
matches. :func:`resume` runs the printed command; :func:`assert_same_arrays`
compares two runs' outputs.
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

#: What an interrupted run prints: the signal, the step, the checkpoint,
#: the command that resumes it.
MESSAGE = re.compile(r"^(SIGINT|SIGTERM) received; stopped after step "
                     r"(\d+); checkpoint written to (\S+); (.*)$",
                     flags=re.M)

#: Seconds to wait for the first log line: a cold compile in the default
#: mode comes first.
TIMEOUT = 300


def subprocess_env():
    """The environment of the subprocess: the default mode (no
    PYTENSOR_FLAGS or THEANO_FLAGS), the repository importable."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTENSOR_FLAGS", "THEANO_FLAGS")}
    env["PYTHONPATH"] = REPO_ROOT
    return env


def run_until_sigint(module, argv, log, ready, timeout=TIMEOUT,
                     sig=signal.SIGINT):
    """Run ``python -m module argv``; once the regular expression ``ready``
    matches a line of the file ``log``, send ``sig``.

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
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, stdout, stderr


def interrupt(module, argv, log, ready, timeout=TIMEOUT, sig=signal.SIGINT):
    """:func:`run_until_sigint`, checking the exit status (128 + the
    signal) and the message, which must name the signal.

    Returns
    -------
    (step, checkpoint path, resume command, stdout)
    """
    code, stdout, stderr = run_until_sigint(module, argv, log, ready,
                                            timeout, sig)
    assert code == 128 + sig, stderr
    m = MESSAGE.search(stdout)
    assert m, stdout
    assert m.group(1) == signal.Signals(sig).name, stdout
    return int(m.group(2)), m.group(3), m.group(4), stdout


def resume(command, checkpoint, step, max_steps, timeout=TIMEOUT):
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

