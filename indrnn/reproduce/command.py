"""``indrnn reproduce NAME``: run a paper table on Ray and collect it.

Every (row, seed) of the table is one Ray task (:func:`ray_task`) with the
declared resources (``--cpus-per-run``, ``--gpus-per-run``); a task runs
the row's command line in its own folder ``<out>/<NAME>-<profile>/<row>/
seed<S>/`` (:mod:`indrnn.reproduce.runner`). Results are collected as the
runs finish, with a progress line, and the table is rewritten after each
(``table.md``, ``table.csv``; the PNG at the end).

Ray starts a local instance unless ``--address`` or ``RAY_ADDRESS`` names
a cluster. Running the same command again skips the runs whose folder
holds a ``done`` result (their numbers are read again from their reports,
so a changed metric applies to them), and resumes the others from their
last checkpoint; a worker that dies is retried by Ray (``--max-retries``) and
its run resumes from its checkpoint too. A run that fails (missing data, a
diverged loss) is reported in the table with its error; the others go on.
Missing data sets are checked before any run starts.
"""
import argparse
import os
import signal
import sys
import time

from .data import check_data, data_flags, default_data_root
from .metrics import MetricError, find_report, read_metrics
from .registry import PROFILES, RegistryError, load_registry
from .runner import (RunBusy, RunInterrupted, RunSpec, execute,
                     finished_result, write_json)
from .table import plot_table, summarize, write_table

__all__ = ["make_parser", "list_tables", "plan_runs", "main"]

RAY_MISSING = ("indrnn reproduce runs on Ray, which is not installed in "
               "this Python: pip install 'indrnn[ray]' (or pip install "
               "ray)")


def make_parser(prog="indrnn reproduce"):
    """The command's argument parser.

    Examples
    --------
    >>> args = make_parser().parse_args(['fig2', '--seeds', '3'])
    >>> args.name, args.seeds, args.profile, args.cpus_per_run
    ('fig2', 3, 'cpu', 1.0)
    """
    parser = argparse.ArgumentParser(
        prog=prog, description="Run a table or figure of the IndRNN papers "
        "as a grid of the original command lines, on Ray, and collect it "
        "beside the paper's numbers.")
    parser.add_argument("name", nargs="?", help="the table or figure "
                        "(--list shows them)")
    parser.add_argument("--list", action="store_true",
                        help="show every table's rows: command line, "
                        "paper number, metric, budgets")
    parser.add_argument("--profile", choices=PROFILES, default="cpu",
                        help="paper: the paper's schedule to its end; cpu: "
                        "the same network and flags with a step budget a "
                        "2-core machine finishes; smoke: tiny, for tests "
                        "(default: cpu)")
    parser.add_argument("--seeds", type=_positive_int, default=1,
                        help="runs per row (seeds SEED_BASE, SEED_BASE+1, "
                        "...)")
    parser.add_argument("--seed-base", type=int, default=1)
    parser.add_argument("--rows", default=None,
                        help="comma-separated row ids to run (default: "
                        "all)")
    parser.add_argument("--out", default=os.path.join("runs", "reproduce"),
                        help="results folder; each run gets "
                        "<out>/<NAME>-<profile>/<row>/seed<S>/ (on a "
                        "cluster, a path every worker shares, for resuming "
                        "on another node)")
    parser.add_argument("--data_dir", default=None,
                        help="data root with mnist/, ptb/, ntu/ (default: "
                        "$INDRNN_DATA_DIR, else data/); on a cluster, a "
                        "path every worker sees")
    parser.add_argument("--download", action="store_true",
                        help="fetch MNIST into the data root first "
                        "(md5-checked)")
    parser.add_argument("--address", default=None,
                        help="Ray cluster address (default: $RAY_ADDRESS, "
                        "else a local Ray started and stopped here)")
    parser.add_argument("--cpus-per-run", type=float, default=1.0)
    parser.add_argument("--gpus-per-run", type=float, default=0.0,
                        help="GPUs per run; runs with a GPU use PyTensor's "
                        "JAX mode (a CUDA jaxlib on the workers)")
    parser.add_argument("--max-retries", type=int, default=3,
                        help="retries of a run whose worker died or whose "
                        "process was killed (each resumes from its "
                        "checkpoint)")
    parser.add_argument("--checkpoint-every", default="10m",
                        help="the runs' --checkpoint_every, unless the "
                        "profile sets it (default: 10m)")
    parser.add_argument("--registry", default=None, metavar="TOML",
                        help="a registry of your own (the layout of "
                        "experiments/papers.toml) instead of the papers'")
    parser.add_argument("--progress-every", type=float, default=60.0,
                        help="seconds between progress lines while no run "
                        "finishes")
    return parser


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1: %r" % text)
    return value


def list_tables(registry, name=None, out=None):
    """Print each table's rows (``indrnn reproduce --list [NAME]``)."""
    out = sys.stdout if out is None else out
    tables = ([registry.table(name)] if name
              else list(registry.tables.values()))
    for table in tables:
        print("%s: %s" % (table.name, table.title), file=out)
        if table.source:
            print("  %s" % table.source, file=out)
        for row in table.rows:
            paper = ("%g" % row.paper if row.paper is not None
                     else row.paper_note)
            print("  %-14s %s" % (row.id, row.label), file=out)
            print("      original: %s" % row.original(), file=out)
            print("      port:     %s" % row.port_command(), file=out)
            print("      paper's:  %s" % paper, file=out)
            print("      metric:   %s" % row.family.metric.describe(),
                  file=out)
            for profile in PROFILES:
                print("      %-9s %s" % (profile + ":", row.budget(profile)),
                      file=out)
        print(file=out)


def plan_runs(table, args, data_root):
    """One :class:`RunSpec` per (row, seed) of the chosen rows."""
    rows = table.rows
    if args.rows:
        wanted = [r.strip() for r in args.rows.split(",") if r.strip()]
        unknown = [r for r in wanted if r not in [x.id for x in rows]]
        if unknown:
            raise RegistryError("%s has no row %s: its rows are %s" % (
                table.name, ", ".join(unknown),
                ", ".join(r.id for r in rows)))
        rows = [r for r in rows if r.id in wanted]
    base = os.path.abspath(os.path.join(args.out, "%s-%s" % (
        table.name, args.profile)))
    specs = []
    for row in rows:
        for k in range(args.seeds):
            seed = args.seed_base + k
            specs.append(RunSpec(
                key=row.key, module=row.family.module,
                flags=tuple(row.flags_for(args.profile)), seed=seed,
                folder=os.path.join(base, row.id, "seed%d" % seed),
                profile=args.profile, metric=row.family.metric,
                curve=row.family.curve, x=row.family.x,
                data_flags=tuple(data_flags(row.data, data_root))
                if row.data else (),
                checkpoint_every=args.checkpoint_every,
                jax=args.gpus_per_run > 0,
                threads=max(1, int(args.cpus_per_run)),
                original=row.original(),
                data_kind=row.data, data_root=data_root))
    return base, rows, specs


def ray_task(ray, args):
    """The Ray remote function that runs one :class:`RunSpec`."""
    return ray.remote(num_cpus=args.cpus_per_run,
                      num_gpus=args.gpus_per_run,
                      max_retries=args.max_retries,
                      retry_exceptions=[RunInterrupted])(execute)


def _reread(result, spec):
    """A finished run's result with its number read again from its report
    by the row's metric as the registry states it now."""
    found = find_report(spec.folder)
    if found is None:
        return result
    try:
        figures = read_metrics(found[1], spec.metric, spec.curve, spec.x)
    except MetricError:
        return result
    return dict(result, metric=spec.metric.label, **figures)


def _failed(spec, error):
    return {"key": spec.key, "seed": spec.seed, "profile": spec.profile,
            "status": "failed", "error": error, "flags": list(spec.argv()),
            "original": spec.original, "value": None, "curve": [],
            "wall_s": 0.0}


class _Progress:
    """The progress line: done, running, failed, waiting, ETA."""

    def __init__(self, name, total, slots, skipped):
        self.name, self.total, self.slots = name, total, max(1, slots)
        self.done, self.failed, self.skipped = 0, 0, skipped
        self.walls = []

    def line(self, pending):
        # Running: the runs whose process has started (its process.pid is
        # in its folder, which --out shares with the workers).
        running = sum(os.path.exists(os.path.join(spec.folder,
                                                  "process.pid"))
                      for spec in pending.values())
        waiting = len(pending) - running
        pending = len(pending)
        if self.walls:
            mean = sum(self.walls) / len(self.walls)
            rounds = -(-pending // self.slots)
            eta = "ETA %s" % _clock(mean * rounds)
        else:
            eta = "ETA unknown until a run finishes"
        return ("[%s] %d/%d done (%d skipped as finished), %d running, "
                "%d failed, %d waiting; %s" % (
                    self.name, self.done + self.skipped, self.total,
                    self.skipped, running, self.failed, waiting, eta))


def _clock(seconds):
    seconds = int(seconds)
    if seconds >= 3600:
        return "%dh%02dm" % (seconds // 3600, seconds % 3600 // 60)
    return "%dm%02ds" % (seconds // 60, seconds % 60)


def _rewrite(folder, table, rows, profile, results, plot=False):
    results_by_row = {}
    for result in results.values():
        row_id = result["key"].split("/", 1)[1]
        results_by_row.setdefault(row_id, []).append(result)
    for row_results in results_by_row.values():
        row_results.sort(key=lambda r: r.get("seed", 0))
    chosen = type(table)(name=table.name, title=table.title,
                         source=table.source, rows=tuple(rows))
    lines = summarize(chosen, profile, results_by_row)
    paths = write_table(folder, chosen, profile, lines)
    if plot:
        png = plot_table(os.path.join(folder, "%s.png" % table.name),
                         chosen, profile, results_by_row)
        paths += (png,) if png else ()
    return paths


def _stop(ray, pending, timeout=300.0):
    """Stop the runs at a checkpoint before Ray shuts down.

    Each task is cancelled (no retry), and each run process on this
    machine gets SIGTERM (the experiment finishes its step, writes a
    checkpoint and exits) and is waited for; Ray's cancel also interrupts
    the tasks on other machines, whose processes get SIGTERM when their
    worker ends."""
    for ref in pending:
        ray.cancel(ref)
    pids = [pid for pid in (_local_run_process(spec.folder)
                            for spec in pending.values()) if pid]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if _alive(pid)]
        time.sleep(0.2)


def _local_run_process(folder):
    """The pid of the run process of ``folder`` on this machine, or None
    (no process.pid, or its pid is not that run's process here)."""
    try:
        with open(os.path.join(folder, "process.pid")) as f:
            pid = int(f.read())
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmdline = f.read().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if os.fsencode(folder) in cmdline else None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _start_ray(args):
    try:
        import ray
    except ImportError:
        return None, False
    started = not ray.is_initialized()
    if started:
        address = args.address or os.environ.get("RAY_ADDRESS") or None
        kwargs = dict(include_dashboard=False, log_to_driver=False,
                      logging_level="ERROR")
        if address is None:
            # A local instance: this machine's CPUs, and the working
            # directory's packages for the workers as they are here.
            kwargs["num_cpus"] = os.cpu_count()
        ray.init(address=address, **kwargs)
    return ray, started


def _check_all_data(rows, data_root):
    problems = []
    for row in rows:
        if row.data:
            problem = check_data(row.data, data_root)
            if problem:
                problems.append("row %s needs the %s data: %s"
                                % (row.key, row.data, problem))
    return problems


def main(argv=None, registry_path=None):
    """Run the command; return its exit status.

    Parameters
    ----------
    argv : list of str, optional
    registry_path : str
        The registry file (``experiments/papers.toml``).

    Returns
    -------
    int
        0 when every run finished, 1 when a run failed, 2 for bad input
        (unknown table or row, missing data, no Ray), 130 when
        interrupted.
    """
    args = make_parser().parse_args(argv)
    try:
        registry = load_registry(args.registry or registry_path)
        if args.list:
            list_tables(registry, args.name)
            return 0
        if not args.name:
            print("indrnn reproduce: name a table or figure: %s (--list "
                  "shows their rows)" % ", ".join(registry.tables),
                  file=sys.stderr)
            return 2
        table = registry.table(args.name)
        data_root = os.path.abspath(args.data_dir) if args.data_dir \
            else default_data_root()
        base, rows, specs = plan_runs(table, args, data_root)
    except RegistryError as exc:
        print("indrnn reproduce: %s" % exc, file=sys.stderr)
        return 2
    if args.download and any(r.data == "mnist" for r in rows):
        from ..data import mnist
        mnist.download_mnist(os.path.join(data_root, "mnist"))
    problems = _check_all_data(rows, data_root)
    if problems:
        print("indrnn reproduce: nothing started, data missing:\n  "
              + "\n  ".join(problems), file=sys.stderr)
        return 2
    os.makedirs(base, exist_ok=True)
    results, todo = {}, []
    for spec in specs:
        done = finished_result(spec.folder, spec.argv())
        if done is not None:
            results[(spec.key, spec.seed)] = _reread(done, spec)
        else:
            todo.append(spec)
    print("[%s] profile %s: %d rows x %d seeds = %d runs in %s; %d already "
          "finished" % (table.name, args.profile, len(rows), args.seeds,
                        len(specs), base, len(results)), flush=True)
    if todo:
        status = _run_on_ray(args, table, rows, base, todo, results)
        if status is not None:
            return status
    paths = _rewrite(base, table, rows, args.profile, results, plot=True)
    with open(paths[0]) as f:
        print(f.read())
    print("written: %s" % ", ".join(paths))
    failed = [r for r in results.values() if r.get("status") != "done"]
    return 1 if failed else 0


def _run_on_ray(args, table, rows, base, todo, results):
    ray, started = _start_ray(args)
    if ray is None:
        print("indrnn reproduce: %s" % RAY_MISSING, file=sys.stderr)
        return 2
    # Ctrl-C and SIGTERM stop the runs at a checkpoint, also where the
    # command was started with SIGINT ignored (a background job).
    handlers = {sig: signal.signal(sig, _interrupt)
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        resources = ray.cluster_resources()
        slots = (resources.get("GPU", 0) / args.gpus_per_run
                 if args.gpus_per_run else
                 resources.get("CPU", 1) / args.cpus_per_run)
        if slots < 1:
            print("indrnn reproduce: the Ray cluster has %s, less than one "
                  "run needs (--cpus-per-run %g, --gpus-per-run %g)" % (
                      resources, args.cpus_per_run, args.gpus_per_run),
                  file=sys.stderr)
            return 2
        task = ray_task(ray, args)
        pending = {task.remote(spec): spec for spec in todo}
        progress = _Progress(table.name, len(todo) + len(results),
                             int(slots), len(results))
        print(progress.line(pending), flush=True)
        last_line = time.monotonic()
        while pending:
            # A short wait: Ctrl-C is seen between waits, not in them.
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            if not ready:
                if time.monotonic() - last_line >= args.progress_every:
                    print(progress.line(pending), flush=True)
                    last_line = time.monotonic()
                continue
            for ref in ready:
                spec = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except RunBusy as exc:
                    # Another process owns the folder: its result is its
                    # own to write.
                    result = _failed(spec, str(exc))
                    results[(spec.key, spec.seed)] = result
                    progress.failed += 1
                    print("[%s] %s seed %d: %s" % (table.name, spec.key,
                                                   spec.seed, exc), flush=True)
                    continue
                except RunInterrupted as exc:
                    result = _failed(spec, str(exc))
                except ray.exceptions.RayError as exc:
                    cause = getattr(exc, "cause", None) or exc
                    result = _failed(spec, "%s: %s" % (
                        type(cause).__name__, str(cause).strip()
                        .splitlines()[-1] if str(cause).strip() else ""))
                write_json(os.path.join(spec.folder, "result.json"), result)
                results[(spec.key, spec.seed)] = result
                if result.get("status") == "done":
                    progress.done += 1
                    progress.walls.append(result.get("wall_s") or 0.0)
                else:
                    progress.failed += 1
                    print("[%s] %s seed %d failed: %s" % (
                        table.name, spec.key, spec.seed,
                        result.get("error")), flush=True)
                _rewrite(base, table, rows, args.profile, results)
            print(progress.line(pending), flush=True)
            last_line = time.monotonic()
    except KeyboardInterrupt:
        print("\n[%s] interrupted: stopping the runs at a checkpoint..."
              % table.name, file=sys.stderr, flush=True)
        _stop(ray, pending)
        print("[%s] stopped; run the same command again to continue the "
              "runs" % table.name, file=sys.stderr, flush=True)
        return 130
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        if started:
            ray.shutdown()
    return None


def _interrupt(signum, frame):
    raise KeyboardInterrupt
