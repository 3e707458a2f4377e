"""One run of one row: a process of its own, resumable, with its result.

:func:`execute` runs ``python -m <module> <flags> --seed S --out FOLDER``
in the run's folder and waits for it. The folder is the run's whole
state:

- the experiment's own files (log, reports, parameters) and its
  checkpoints (``*_checkpoints/``): when a checkpoint is there, the run
  continues from the latest one (``--resume``), so a run interrupted by a
  signal, a killed worker or a stopped driver goes on where it stopped;
- ``output.txt``: everything the process printed, every attempt appended;
- ``process.pid``: the experiment's process id while it runs;
- ``attempts.json``: how many times it was started, and the seconds spent;
- ``result.json``: written when the process ended for good (its status
  ``done`` or ``failed``, the error, the command line, seed, versions,
  the row's number, final and best values, and the learning curve). A
  folder with a ``done`` result is finished: :func:`finished_result`.

A run stopped by a signal (exit status 128 + N, or killed) raises
:class:`RunInterrupted`, which the caller may retry: Ray does, with
``retry_exceptions``. Any other non-zero status (a missing data set, a
diverged loss) is a failure, recorded and not retried.

The process dies with the one that started it (Linux's parent-death
signal, SIGTERM: the experiment then finishes its step and writes a
checkpoint), and holds the folder's lock while it lives, so two attempts
never write one folder at once.
"""
import contextlib
import dataclasses
import errno
import fcntl
import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

from .data import check_data
from .metrics import MetricError, find_report, read_metrics

__all__ = ["RunSpec", "RunInterrupted", "RunBusy", "execute",
           "finished_result", "latest_checkpoint", "write_json"]

#: Seconds an attempt waits for the folder's lock: a retried attempt may
#: start while the killed one's process still writes its last checkpoint.
LOCK_WAIT = 300.0

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS", "INDRNN_DOT_THREADS")


class RunInterrupted(RuntimeError):
    """The run's process was stopped by a signal; its folder resumes."""


class RunBusy(RuntimeError):
    """Another process holds the run's folder."""


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs to run one (row, seed).

    Parameters
    ----------
    key : str
        ``table/row``.
    module : str
        The experiment, run as ``python -m module``.
    flags : tuple of str
        The row's flags at the profile's scale.
    seed : int
    folder : str
        The run's folder (absolute).
    profile : str
    metric : indrnn.reproduce.registry.Metric
    curve, x : str
        The learning curve's entries.
    data_flags : tuple of str
        ``--data_dir ...`` (absolute), when the experiment reads data.
    checkpoint_every : str
        ``--checkpoint_every`` before the profile's flags (which may set
        their own).
    jax : bool
        Run in PyTensor's JAX mode (GPU workers).
    threads : int, optional
        Threads for BLAS, Numba and the split products (the run's CPUs).
    original : str
        The original command line, for the result.
    data_kind, data_root : str, optional
        The data set the run reads (:mod:`indrnn.reproduce.data`), checked
        on the worker before the run starts.
    """
    key: str
    module: str
    flags: tuple
    seed: int
    folder: str
    profile: str
    metric: object
    curve: str
    x: str = "step"
    data_flags: tuple = ()
    checkpoint_every: str = "10m"
    jax: bool = False
    threads: int = None
    original: str = ""
    data_kind: str = None
    data_root: str = None

    def argv(self, resume=None):
        """list of str: the experiment's arguments (``--resume`` last)."""
        # The checkpoint interval first: a profile may set its own, and
        # argparse keeps a flag's last occurrence. The run's own flags
        # (seed, folder, data) come last.
        args = ["--checkpoint_every", self.checkpoint_every, *self.flags]
        args += ["--seed", str(self.seed), "--out", self.folder,
                 *self.data_flags]
        if resume:
            args += ["--resume", resume]
        return args

    def environment(self, environ=None):
        """dict: the process' environment (mode and threads)."""
        env = dict(os.environ if environ is None else environ)
        if self.jax:
            flags = env.get("PYTENSOR_FLAGS", "")
            if "mode=" not in flags:
                env["PYTENSOR_FLAGS"] = ",".join(
                    f for f in (flags, "mode=JAX") if f)
        if self.threads:
            for name in _THREAD_VARS:
                env.setdefault(name, str(self.threads))
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env


def write_json(path, data):
    """Write JSON through a file beside ``path`` renamed over it."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def latest_checkpoint(folder):
    """The run's newest step checkpoint, or None.

    Parameters
    ----------
    folder : str

    Returns
    -------
    str or None
        ``<folder>/*_checkpoints/<prefix>-stepNNNNNNNN.h5`` with the
        highest step.
    """
    best, best_step = None, -1
    for path in glob.glob(os.path.join(folder, "*_checkpoints", "*.h5")):
        match = re.search(r"-step(\d+)\.h5$", path)
        if match and int(match.group(1)) > best_step:
            best, best_step = path, int(match.group(1))
    return best


def finished_result(folder, argv=None):
    """The ``done`` result of a run folder, or None.

    Parameters
    ----------
    folder : str
    argv : list of str, optional
        When given, the result counts only if it ran these flags (a
        changed registry or profile runs again).
    """
    result = _read_json(os.path.join(folder, "result.json"))
    if not isinstance(result, dict) or result.get("status") != "done":
        return None
    if argv is not None and result.get("flags") != list(argv):
        return None
    return result


@contextlib.contextmanager
def _folder_lock(folder, wait=None):
    wait = LOCK_WAIT if wait is None else wait
    fd = os.open(os.path.join(folder, ".lock"), os.O_RDWR | os.O_CREAT)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    raise RunBusy(
                        "another process is running %s (its lock %s is "
                        "held): wait for it or stop it" % (
                            folder, os.path.join(folder, ".lock"))) \
                        from None
                time.sleep(0.5)
        yield fd
    finally:
        os.close(fd)


def _die_with_parent():
    # Linux: SIGTERM when the process that started us dies (a killed Ray
    # worker), so the experiment writes a checkpoint and stops instead of
    # running on unseen.
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _versions():
    versions = {"python": sys.version.split()[0]}
    for name in ("indrnn", "pytensor", "numpy", "jax"):
        try:
            from importlib.metadata import version
            versions[name] = version(name)
        except Exception:  # not installed
            pass
    return versions


def _last_error(path, lines=3):
    try:
        with open(path, errors="replace") as f:
            text = f.read()[-20000:]
    except OSError:
        return ""
    found = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in found if line.lower().startswith("error")
              or "Error" in line.split(":")[0]]
    return " | ".join((errors or found)[-lines:])


def execute(spec, on_started=None):
    """Run ``spec`` to its end, resuming its folder; return its result.

    Parameters
    ----------
    spec : RunSpec
    on_started : callable, optional
        ``on_started(pid)`` once the process runs (tests use it).

    Returns
    -------
    dict
        The result written to ``result.json`` (see the module docstring).

    Raises
    ------
    RunInterrupted
        The process was stopped by a signal; the folder resumes.
    RunBusy
        Another process holds the folder.
    """
    folder = spec.folder
    os.makedirs(folder, exist_ok=True)
    with _folder_lock(folder) as lock_fd:
        if spec.data_kind:
            problem = check_data(spec.data_kind, spec.data_root)
            if problem:
                result = _result(spec, spec.argv(), 2, {
                    "attempts": 0, "seconds": 0.0}, None)
                result["error"] = "data: worker %s cannot read the %s " \
                    "data: %s" % (socket.gethostname(), spec.data_kind,
                                  problem)
                write_json(os.path.join(folder, "result.json"), result)
                return result
        attempts_path = os.path.join(folder, "attempts.json")
        attempts = _read_json(attempts_path, {"attempts": 0, "seconds": 0.0})
        attempts["attempts"] += 1
        write_json(attempts_path, attempts)
        resume = latest_checkpoint(folder)
        argv = spec.argv(resume)
        command = [sys.executable, "-m", spec.module, *argv]
        output = os.path.join(folder, "output.txt")
        start = time.time()
        with open(output, "a") as out:
            out.write("\n# attempt %d on %s: %s\n" % (
                attempts["attempts"], socket.gethostname(),
                " ".join(command)))
            out.flush()
            # The lock goes to the process too: a retried attempt waits
            # until a killed worker's process has written its checkpoint.
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=spec.environment(),
                preexec_fn=_die_with_parent, pass_fds=(lock_fd,))
            pid_path = os.path.join(folder, "process.pid")
            with open(pid_path, "w") as f:
                f.write("%d\n" % process.pid)
            if on_started is not None:
                on_started(process.pid)
            try:
                returncode = process.wait()
            except BaseException:
                process.terminate()
                process.wait()
                raise
            finally:
                os.remove(pid_path)
        attempts["seconds"] += time.time() - start
        write_json(attempts_path, attempts)
        if returncode < 0 or returncode >= 128:
            raise RunInterrupted(
                "%s seed %d: stopped by signal %d after %.0f s; resumes from "
                "%s" % (spec.key, spec.seed, returncode % 128 if returncode
                        > 0 else -returncode, time.time() - start,
                        latest_checkpoint(folder) or "the start"))
        result = _result(spec, argv, returncode, attempts, output)
        result.update(started=start, finished=time.time())
        write_json(os.path.join(folder, "result.json"), result)
        return result


def _result(spec, argv, returncode, attempts, output):
    found = find_report(spec.folder)
    report = found[1] if found else {}
    # The flags without --resume: what finished_result compares.
    flags = argv[:argv.index("--resume")] if "--resume" in argv else argv
    result = {
        "key": spec.key, "seed": spec.seed, "profile": spec.profile,
        "status": "done" if returncode == 0 else "failed",
        "returncode": returncode, "error": None,
        "module": spec.module, "flags": flags, "original": spec.original,
        "host": socket.gethostname(), "versions": _versions(),
        "mode": "JAX" if spec.jax else "default",
        "attempts": attempts["attempts"], "wall_s": attempts["seconds"],
        "stop_reason": report.get("stop_reason"),
        "steps": report.get("steps"),
        "report": found[0] if found else None,
        "metric": spec.metric.label,
        "value": None, "final": None, "best": None, "curve": [],
    }
    if returncode != 0 and output is not None:
        result["error"] = _last_error(output) or \
            "exit status %d" % returncode
    try:
        if found:
            result.update(read_metrics(report, spec.metric, spec.curve,
                                       spec.x))
    except MetricError as exc:
        if returncode == 0:
            result.update(status="failed", error=str(exc))
    return result
