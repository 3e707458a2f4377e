"""Time the whole IndRNN training step and hold it to the hardware floor.

Builds, with the project's own builders, the two configurations of
issue 3 and their training functions exactly as the experiments compile
them (:func:`indrnn.run.functions.compile_train_fn`: gradients, Adam, the
``U_bound`` clip of the recurrent weights, BatchNorm running averages):

* ``mnist``: :func:`indrnn.experiments.pixelmnist.build_res_rnn_network`,
  6 x (Dense -> BatchNorm -> ``IndRNNLayer_onlyrecurrent(128)``), T=784,
  B=32, 10 classes, categorical cross-entropy (+ accuracy output);
* ``adding``: :func:`indrnn.experiments.adding.build_indrnn_network`,
  2 x ``IndRNNLayer(128)``, T=1000, B=32, squared error.

All float32 (as the original), unless ``PYTENSOR_FLAGS`` sets ``floatX``.
Sections (``--sections``, all by default):

``steps``
    Times, interleaved over several rounds, the training step of the
    fused path (the default) and of the scan path
    (:func:`indrnn.indrnn.use_fused_recurrence` ``(False)`` while
    building) in each mode (``numba``: PyTensor's default mode, which
    ``compile_train_fn`` links with :mod:`indrnn.compile.linker`; ``cvm``:
    C; ``jax``: ``mode="JAX"``, PyTensor's GPU route, on whatever device
    JAX has: the CPU unless a CUDA jaxlib is installed; each call waits for
    JAX's result), and the floor: ``proj``, the training step of the same
    network with the recurrent layers taken out (same Dense projections,
    BatchNorm, loss, Adam), plus ``kernel``, the fused recurrence Ops
    alone (forward and gradient, one layer's shape) times the number of
    layers.  Also ``numpy-matmuls``: the projections' matmuls
    (forward, weight and input gradients) called directly in numpy, the
    hardware floor of the dense part.  Prints medians, minima, the
    in-process compile time (build + ``pytensor.function`` + first call)
    and the ratios scan/fused and fused/floor. ``--skip-floor`` leaves
    the floor out (only the training steps: what
    ``benchmarks/gpu_check.sh`` times).
``compile``
    Cold and warm compile time of each training function, each in a
    fresh process: cold with ``PYTENSOR_FLAGS=base_compiledir=<empty temp
    dir>`` (and an empty ``NUMBA_CACHE_DIR``), warm in a second process
    on the same folders.  Also reports each process's peak memory
    (``resource.getrusage(...).ru_maxrss``) and the first step's loss.
    Besides ``--configs`` it times ``--compile-configs`` (default
    ``residual``: the pixel-MNIST res-IndRNN of ``experiments/pixelmnist.py
    --net residual --num_blocks 10``, 21 recurrent layers), and with
    ``--compile-variants baseline now`` also the compile as it was before
    issue 3's compile work (PyTensor's own Numba linker instead of
    :mod:`indrnn.compile.linker`, through the public switch
    ``indrnn.compile.use_project_linker(False)``; no
    :mod:`indrnn.compile.cache`).
``memory``
    Peak memory of the adding network's training step at several T
    (1000, 2500, 5000 by default), one process per (path, mode, T) on the
    default compile cache: the process's peak (``ru_maxrss``) and the
    steps' own peak above the resident size before them (``VmHWM`` reset
    through ``/proc/self/clear_refs``); it must grow linearly in T.
``traps``
    The traps listed in issue 3, checked on the installed stack: whether
    a weight-gradient matmul appears twice in the compiled training graph
    with Adam (matmul nodes of the training function against those of a
    gradients-only function of the same loss and against the count the
    network needs); whether PyTensor's C backend links a BLAS (the
    "could not link to a BLAS" warning, which matmul nodes run as Python
    code) and what that costs against Numba for the large weight-gradient
    product; whether spinning BLAS threads slow the Numba kernels
    (``OPENBLAS_NUM_THREADS`` = 1 and 2, one process each).
``profile``
    Per-Op profile of the fused training step in CVM mode
    (``profile=True``; in Numba mode the linker runs the whole graph as
    one thunk, which PyTensor's profiler can only time as a whole), the
    top Ops and Apply nodes, and for Numba every node timed alone.

The machine's load average (:func:`os.getloadavg`) is printed before each
section: timings on a shared machine are only comparable within one run.
Duration on 2 CPUs: the full run about 30 minutes (cold compiles included);
``--quick`` 3 to 6 minutes (every section compiles graphs of its own
sizes; most of it is PyTensor's rewriting and Numba's JIT), its ``steps``
section alone about half a minute once the caches are warm.

Also the minor page faults of every step (memory the step gets fresh from
the kernel), and, among the traps, the step with glibc's malloc told to
keep freed memory.

Usage::

    python benchmarks/training_step.py                    # everything
    python benchmarks/training_step.py --quick            # small T
    python benchmarks/training_step.py --quick --sections steps
    python benchmarks/training_step.py --sections steps traps \\
        --configs mnist --modes numba cvm --rounds 9
    python benchmarks/training_step.py --sections compile --configs mnist \\
        --modes numba --paths fused --compile-variants baseline now

This is a script that prints figures, not a test.
"""
import argparse
import contextlib
import importlib.util
import io
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter

_START = time.perf_counter()  # for the children's import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    # run as ``python benchmarks/training_step.py`` without an install
    sys.path.insert(0, REPO_ROOT)

import indrnn  # noqa: E402,F401  (thread defaults before numpy loads)
import numpy as np  # noqa: E402
import pytensor  # noqa: E402
import pytensor.tensor as pt  # noqa: E402

from indrnn.run.functions import float32_unless_configured  # noqa: E402

if "floatX" not in os.environ.get("PYTENSOR_FLAGS", ""):
    # the original scripts (and the figures) are float32
    pytensor.config.floatX = "float32"

SECTIONS = ("steps", "compile", "memory", "traps", "profile")
CONFIGS = ("mnist", "adding")
#: Configurations of the ``compile`` section only (no floor network):
#: ``residual``, the pixel-MNIST res-IndRNN of ``experiments/pixelmnist.py
#: --net residual`` with ``(L - 1) / 2`` blocks (L=21 recurrent layers).
COMPILE_ONLY_CONFIGS = ("residual",)
#: ``--compile-variants``: ``now`` compiles as the project does;
#: ``baseline`` as before issue 3's compile work (PyTensor's own Numba
#: linker, no cache of rewritten functions).
COMPILE_VARIANTS = ("baseline", "now")
#: ``--modes`` choices; ``py`` (the Python linker with few rewrites) is
#: for smoke runs only: it compiles nothing. ``numba`` is the default mode
#: (None): ``compile_train_fn`` links it with the project's linker, as the
#: experiments run; ``pytensor.function`` with PyTensor's (an explicit
#: ``"NUMBA"`` would be PyTensor's in both).
MODES = {"numba": None, "cvm": "CVM", "jax": "JAX", "py": "FAST_COMPILE"}
#: ``jax`` when JAX is installed (the ``jax`` extra), so that a
#: regression of the GPU route shows in the default run too.
DEFAULT_MODES = ("numba", "cvm") + (
    ("jax",) if importlib.util.find_spec("jax") is not None else ())
PATHS = ("fused", "scan")
#: ``--paths`` choices besides :data:`PATHS`: ``symbn``, the fused
#: recurrence with BatchNorm as the symbolic graph
#: (:func:`indrnn.lasagne.layers.use_fused_batchnorm` ``(False)``; every
#: other path uses the fused BatchNorm Op).
EXTRA_PATHS = ("symbn",)

#: Full-size shapes: time steps, batch, units, recurrent layers.
FULL_SIZES = {"mnist": dict(T=784, B=32, N=128, L=6),
              "residual": dict(T=784, B=32, N=128, L=21),
              "adding": dict(T=1000, B=32, N=128, L=2)}
#: ``--quick`` shapes.
QUICK_SIZES = {"mnist": dict(T=64, B=32, N=128, L=6),
               "residual": dict(T=64, B=32, N=128, L=21),
               "adding": dict(T=100, B=32, N=128, L=2)}
LEARNING_RATE = 2e-4


# --------------------------------------------------------------------------
# building the training functions
# --------------------------------------------------------------------------

def _skip_recurrence(incoming, num_units, **kwargs):
    """Stand-in for a recurrent layer in the floor network: no layer."""
    return incoming


def _adding_floor_network(args, g):
    """The adding network's projections without the recurrence.

    ``IndRNNLayer`` projects the whole (time-first) sequence with one
    matmul before its recurrence; this network keeps those two projections
    (same initialisation), the last-step slice and the output layer.
    """
    from indrnn.lasagne.init import Normal
    from indrnn.lasagne.layers import (DenseLayer, DimshuffleLayer,
                                       InputLayer, ReshapeLayer, SliceLayer)
    T, B, N = g.seq_len, g.batch_size, g.hidden_units
    net = {'input': InputLayer((B, T, g.feature_size))}
    layer = DimshuffleLayer(net['input'], (1, 0, 2))
    for last in (False, True):
        layer = ReshapeLayer(layer, (T * B, -1))
        layer = DenseLayer(layer, N, W=Normal(args.in2hidW),
                           nonlinearity=None)
        layer = ReshapeLayer(layer, (T, B, N))
    layer = SliceLayer(layer, indices=-1, axis=0)
    net['out'] = DenseLayer(layer, g.outputclass, nonlinearity=None)
    return net


def build_graph(config, path, sizes, seed=0):
    """Build a configuration's network, loss, data and parameters.

    Parameters
    ----------
    config : {"mnist", "adding", "residual"}
    path : {"fused", "scan", "floor", "symbn"}
        ``fused``/``scan``: the IndRNN layers on the fused Op or on
        ``pytensor.scan``; ``floor``: the same network without recurrence
        (not for ``residual``); ``symbn``: ``fused`` with the BatchNorm
        layers as the symbolic graph instead of the fused BatchNorm Op.
    sizes : dict
        ``T``, ``B``, ``N``, ``L`` (``L`` is used by ``mnist`` and
        ``residual``, odd for ``residual``; the adding network always has
        2 layers).
    seed : int
        Seed of the initial weights and of the data.

    Returns
    -------
    dict
        ``inputs``, ``loss``, ``outputs``, ``params``, ``U_bound`` (None
        for the floor), ``data`` (the input values) and ``net``.
    """
    from indrnn.lasagne.layers import use_fused_batchnorm
    if path == "symbn":
        with use_fused_batchnorm(False):
            return build_graph(config, "fused", sizes, seed)
    import indrnn.lasagne as lasagne
    from indrnn.indrnn import use_fused_recurrence
    T, B, N = sizes["T"], sizes["B"], sizes["N"]
    floatX = pytensor.config.floatX
    lasagne.random.set_rng(np.random.RandomState(seed))
    rng = np.random.RandomState(seed + 1)
    if config in ("mnist", "residual"):
        from indrnn.experiments import pixelmnist
        if config == "mnist":
            args = pixelmnist.make_parser().parse_args(
                ["--num_layers", str(sizes["L"]), "--hidden_units", str(N),
                 "--batch_size", str(B)])
        else:
            if sizes["L"] % 2 != 1 or path == "floor":
                raise ValueError("residual: odd L (2 * blocks + 1) and "
                                 "path fused or scan")
            args = pixelmnist.make_main_parser().parse_args(
                ["--net", "residual", "--num_blocks",
                 str((sizes["L"] - 1) // 2), "--hidden_units", str(N),
                 "--batch_size", str(B)])
        g = pixelmnist.network_globals(args, seq_len=T)
        if path == "floor":
            net = pixelmnist.build_res_rnn_network(
                args, rnnmodel=_skip_recurrence, seq_len=T)
        elif config == "residual":
            with use_fused_recurrence(path == "fused"):
                net = pixelmnist.build_deep_network(args, seq_len=T)
            assert len(net["recurrent"]) == sizes["L"]
        else:
            with use_fused_recurrence(path == "fused"):
                net = pixelmnist.build_res_rnn_network(args, seq_len=T)
        X = pt.tensor3("inputs", dtype=floatX)
        y = pt.ivector("targets")
        prediction = lasagne.layers.get_output(net["out"], X,
                                               deterministic=False)
        loss = lasagne.objectives.categorical_crossentropy(
            prediction, y).mean()
        acc = pt.mean(lasagne.objectives.categorical_accuracy(
            prediction, y, top_k=1), dtype=floatX)
        outputs = [loss, acc]
        data = [rng.uniform(size=(B, T, 1)).astype(floatX),
                rng.randint(0, 10, size=B).astype("int32")]
    elif config == "adding":
        from indrnn.experiments import adding
        args = adding.make_parser().parse_args(
            ["--seq_len", str(T), "--hidden_units", str(N),
             "--batch_size", str(B)])
        g = adding.network_globals(args)
        if path == "floor":
            net = _adding_floor_network(args, g)
        else:
            with use_fused_recurrence(path == "fused"):
                net = adding.build_indrnn_network(args)
        X = pt.tensor3("inputs", dtype=floatX)
        y = pt.matrix("label", dtype=floatX)
        prediction = lasagne.layers.get_output(net["out"], X,
                                               deterministic=False)
        loss = lasagne.objectives.squared_error(prediction, y).mean()
        outputs = [loss]
        data = list(adding.generate_data(T, B, rng))
    else:
        raise ValueError("unknown config %r" % (config,))
    params = lasagne.layers.get_all_params(net["out"], trainable=True)
    return dict(inputs=[X, y], loss=loss, outputs=outputs, params=params,
                U_bound=None if path == "floor" else g.U_bound, data=data,
                net=net)


def compile_step(config, path, mode, sizes, seed=0, profile=False):
    """Compile a configuration's training function as the experiments do.

    Parameters
    ----------
    config, path, sizes, seed
        See :func:`build_graph`.
    mode : str or None
        PyTensor mode: a value of :data:`MODES`.
    profile : bool
        Compile with ``profile=True`` (per-Op timings in CVM mode).

    Returns
    -------
    step : callable
        ``step()`` runs one training step on the fixed batch.
    fn : pytensor.compile.function.types.Function
        The compiled training function.
    graph : dict
        What :func:`build_graph` returned.
    """
    from indrnn.run.functions import compile_train_fn
    graph = build_graph(config, path, sizes, seed)
    with pytensor.config.change_flags(profile=profile):
        fn = compile_train_fn(graph["inputs"], graph["loss"],
                              graph["params"], outputs=graph["outputs"],
                              U_bound=graph["U_bound"], mode=mode)
    lr = np.asarray(LEARNING_RATE, dtype=pytensor.config.floatX)
    data = graph["data"]
    return _waiting(lambda: fn(*data, lr), mode), fn, graph


def _waiting(run, mode):
    """``run``, made to wait for its results in ``mode="JAX"``.

    JAX returns before the device has computed (asynchronous dispatch);
    a timed call must include the computation, as the training loop's
    reading of the loss does.
    """
    if mode != "JAX":
        return run
    import jax
    return lambda: jax.block_until_ready(run())


def compile_kernels(mode, sizes, grad_clip=10.0):
    """The fused recurrence Ops alone, forward and gradient, one layer.

    Parameters
    ----------
    mode : str
        PyTensor mode.
    sizes : dict
        ``T``, ``B``, ``N``.
    grad_clip : float
        The experiments' ``--gradclipvalue`` (10).

    Returns
    -------
    callable
        ``run()`` computes ``H`` and ``(dx, du, dh0)`` for a fixed ``dH``.
    """
    from indrnn.ops import IndRNNRecurrence, IndRNNRecurrenceGrad
    T, B, N = sizes["T"], sizes["B"], sizes["N"]
    dtype = pytensor.config.floatX
    x = pt.tensor3("x", dtype=dtype)
    u = pt.vector("u", dtype=dtype)
    h0 = pt.matrix("h0", dtype=dtype)
    dH = pt.tensor3("dH", dtype=dtype)
    H = IndRNNRecurrence("relu", grad_clip)(x, u, h0)
    grads = IndRNNRecurrenceGrad("relu", grad_clip)(x, u, h0, H, dH)
    fn = pytensor.function([x, u, h0, dH], [H] + list(grads), mode=mode)
    rng = np.random.default_rng(0)
    values = [rng.normal(size=(T, B, N)).astype(dtype),
              rng.uniform(0, 1, size=N).astype(dtype),
              np.zeros((B, N), dtype),
              rng.normal(size=(T, B, N)).astype(dtype)]
    return _waiting(lambda: fn(*values), mode)


def projection_shapes(config, sizes):
    """The input projections' matmul shapes: ``(M, K, N, needs_dx)``.

    ``M = T*B`` rows, ``K`` input features, ``N`` units; ``needs_dx`` is
    False for the first layer (its input is the data).
    """
    T, B, N = sizes["T"], sizes["B"], sizes["N"]
    first_k = 1 if config == "mnist" else 2
    layers = sizes["L"] if config == "mnist" else 2
    return [(T * B, first_k if i == 0 else N, N, i > 0)
            for i in range(layers)]


def numpy_matmul_floor(config, sizes):
    """The projections' matmuls called directly in numpy, fwd + bwd.

    Returns
    -------
    callable
        ``run()``: for each projection ``X @ W``, ``X.T @ dY`` and (except
        the first) ``dY @ W.T``, float32, on preallocated outputs.
    """
    dtype = pytensor.config.floatX
    rng = np.random.default_rng(0)
    work = []
    for M, K, N, needs_dx in projection_shapes(config, sizes):
        X = rng.normal(size=(M, K)).astype(dtype)
        W = rng.normal(size=(K, N)).astype(dtype)
        dY = rng.normal(size=(M, N)).astype(dtype)
        work.append((X, W, dY, needs_dx, np.empty((M, N), dtype),
                     np.empty((K, N), dtype), np.empty((M, K), dtype)))

    def run():
        for X, W, dY, needs_dx, Y, dW, dX in work:
            np.matmul(X, W, out=Y)
            np.matmul(X.T, dY, out=dW)
            if needs_dx:
                np.matmul(dY, W.T, out=dX)
    return run


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def _load():
    return "load average %.2f %.2f %.2f (1/5/15 min), %d CPUs" % (
        os.getloadavg() + (os.cpu_count(),))


def _section(title):
    print("\n" + "=" * 78)
    print("## %s    [%s]" % (title, _load()))
    print("=" * 78, flush=True)


def _timed_first_call(builder):
    start = time.perf_counter()
    run = builder()
    run()  # Numba compiles at the first call
    return run, time.perf_counter() - start


def interleaved(functions, rounds, min_time=0.0, faults=None):
    """Time each function once per round, round after round.

    Parameters
    ----------
    functions : dict
        name -> callable.
    rounds : int
    min_time : float
        Calls per round are repeated until this many seconds passed (for
        very short functions); the time per call is recorded.

    faults : dict, optional
        If given, filled with name -> list of minor page faults per call
        (memory the process got fresh from the kernel), one per round.

    Returns
    -------
    dict
        name -> list of seconds per call, one per round.
    """
    times = {name: [] for name in functions}
    for _ in range(rounds):
        for name, fn in functions.items():
            calls, start = 0, time.perf_counter()
            flt = _minflt()
            while True:
                fn()
                calls += 1
                elapsed = time.perf_counter() - start
                if elapsed >= min_time:
                    break
            if faults is not None:
                faults.setdefault(name, []).append(
                    (_minflt() - flt) / calls)
            times[name].append(elapsed / calls)
    return times


def _minflt():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _fault_mib(faults):
    # one minor fault maps one page
    return faults * resource.getpagesize() / 2.0 ** 20


def _ms(seconds):
    if seconds is None:
        return "-"
    ms = 1e3 * seconds
    return "%.3f" % ms if ms < 1 else "%.1f" % ms if ms < 1e4 else (
        "%.0f" % ms)


def _machine():
    import numba
    import platform
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        mem = 0
    return ("%s, %d CPUs, %.0f GiB; Python %s, numpy %s, PyTensor %s, "
            "Numba %s; floatX %s; OPENBLAS_NUM_THREADS=%s, "
            "NUMBA_THREADING_LAYER=%s%s"
            % (cpu, os.cpu_count(), mem / 2 ** 30,
               platform.python_version(), np.__version__,
               pytensor.__version__, numba.__version__,
               pytensor.config.floatX,
               os.environ.get("OPENBLAS_NUM_THREADS"),
               os.environ.get("NUMBA_THREADING_LAYER"), _jax_devices()))


def _jax_devices():
    """``'; JAX x.y on <devices>'``, or ``''`` without JAX."""
    if importlib.util.find_spec("jax") is None:
        return ""
    import jax
    return "; JAX %s on %s" % (jax.__version__, ", ".join(
        "%s (%s)" % (d, d.device_kind) for d in jax.devices()))


def _child(args_list, env=None, timeout=1800):
    """Run this script in a child process; return its last JSON line."""
    cmd = [sys.executable, os.path.abspath(__file__)] + args_list
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=REPO_ROOT)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            result = json.loads(line)
            result["stderr"] = proc.stderr
            return result
    raise RuntimeError("child %s failed (rc %d):\n%s\n%s"
                       % (args_list, proc.returncode, proc.stdout[-2000:],
                          proc.stderr[-4000:]))


def _maxrss_mib():
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _proc_status_mib(field):
    """``VmRSS`` / ``VmHWM`` of this process from /proc, MiB (or None)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _reset_peak_rss():
    """Reset the kernel's peak-RSS mark (VmHWM), Linux >= 4.0."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _sizes_args(sizes):
    return ["--T", str(sizes["T"]), "--B", str(sizes["B"]),
            "--N", str(sizes["N"]), "--L", str(sizes["L"])]


# --------------------------------------------------------------------------
# section: steps
# --------------------------------------------------------------------------

def section_steps(opts, sizes_of):
    """Training steps (fused, scan), the floor, ratios."""
    _section("Training step: fused vs scan vs floor (%d rounds, "
             "interleaved)" % opts.rounds)
    results = {}
    for config in opts.configs:
        sizes = sizes_of[config]
        L = sizes["L"] if config == "mnist" else 2
        builders = {}
        for mode_name in opts.modes:
            mode = MODES[mode_name]
            for path in opts.paths:
                builders["%s/%s" % (path, mode_name)] = (
                    lambda p=path, m=mode: compile_step(config, p, m,
                                                        sizes)[0])
            if opts.skip_floor:
                continue
            builders["proj/%s" % mode_name] = (
                lambda m=mode: compile_step(config, "floor", m, sizes)[0])
            builders["kernel/%s" % mode_name] = (
                lambda m=mode: compile_kernels(m, sizes))
        if not opts.skip_floor:
            builders["numpy-matmuls"] = (
                lambda: numpy_matmul_floor(config, sizes))
        functions, compile_s = {}, {}
        for name, builder in builders.items():
            print("  compiling %s/%s ..." % (config, name), flush=True)
            functions[name], compile_s[name] = _timed_first_call(builder)
        print("  timing ... [%s]" % _load(), flush=True)
        faults = {}
        times = interleaved(functions, opts.rounds, faults=faults)
        med = {n: float(np.median(t)) for n, t in times.items()}
        results[config] = dict(sizes=sizes, median=med,
                               min={n: float(np.min(t))
                                    for n, t in times.items()},
                               compile=compile_s, L=L)
        print("\n%s: T=%d, B=%d, N=%d, %d IndRNN layers, %s, %d rounds "
              "[%s]" % (config, sizes["T"], sizes["B"], sizes["N"], L,
                        pytensor.config.floatX, opts.rounds, _load()))
        print("%-16s %11s %11s %14s %14s" % (
            "function", "median ms", "min ms", "1st call s",
            "faulted MiB"))
        for name in functions:
            print("%-16s %11s %11s %14.1f %14.0f"
                  % (name, _ms(med[name]), _ms(results[config]["min"][name]),
                     compile_s[name],
                     _fault_mib(float(np.median(faults[name])))))
        print("\n%-30s%s" % ("ratios (medians)", "  ".join(
            "%10s" % m for m in opts.modes)))
        rows = []
        default_fused = med.get("fused/numba")
        for mode_name in opts.modes:
            floor = (None if opts.skip_floor else med["proj/" + mode_name]
                     + L * med["kernel/" + mode_name])
            fused = med.get("fused/" + mode_name)
            scan = med.get("scan/" + mode_name)
            rows.append(dict(
                floor=floor,
                scan_over_fused=scan / fused if scan and fused else None,
                fused_over_floor=fused / floor if fused and floor else None,
                scan_over_floor=scan / floor if scan and floor else None,
                fused_over_numpy=(fused / med["numpy-matmuls"]
                                  if fused and floor else None),
                fused_over_numba=(fused / default_fused
                                  if fused and default_fused else None)))
        results[config]["ratios"] = dict(zip(opts.modes, rows))
        labels = [("floor ms (proj + %d x kernel)" % L, "floor", True),
                  ("scan / fused", "scan_over_fused", False),
                  ("fused / floor", "fused_over_floor", False),
                  ("scan / floor", "scan_over_floor", False),
                  ("fused / numpy-matmuls", "fused_over_numpy", False),
                  ("fused / fused numba", "fused_over_numba", False)]
        if opts.skip_floor:
            labels = [row for row in labels
                      if row[1] in ("scan_over_fused", "fused_over_numba")]
        for label, key, is_ms in labels:
            cells = []
            for row in rows:
                value = row[key]
                cells.append("%10s" % ("-" if value is None else
                                       _ms(value) if is_ms else
                                       "%.2f" % value))
            print("%-30s%s" % (label, "  ".join(cells)))
    return results


# --------------------------------------------------------------------------
# section: compile (children)
# --------------------------------------------------------------------------

def child_step(opts):
    """Child process: build, compile, call; print one JSON line."""
    t0 = time.perf_counter()
    config, path, mode = opts.child_step
    sizes = dict(T=opts.T, B=opts.B, N=opts.N, L=opts.L)
    from indrnn.run.functions import compile_train_fn
    if opts.child_baseline:
        # as before issue 3's compile work: PyTensor's own Numba linker
        # and no cache below
        from indrnn.compile import use_project_linker
        use_project_linker(False)
    graph = build_graph(config, path, sizes)
    t1 = time.perf_counter()
    fn = compile_train_fn(graph["inputs"], graph["loss"], graph["params"],
                          outputs=graph["outputs"], U_bound=graph["U_bound"],
                          mode=MODES[mode], cache=not opts.child_baseline)
    t2 = time.perf_counter()
    rss_compiled = _maxrss_mib()
    lr = np.asarray(LEARNING_RATE, dtype=pytensor.config.floatX)
    first = fn(*graph["data"], lr)
    t3 = time.perf_counter()
    rss_first = _maxrss_mib()
    # the steps' own peak: from the resident size after the first call
    # (Numba's code loaded) to the peak of the following calls
    rss_before = _proc_status_mib("VmRSS")
    peak_reset = _reset_peak_rss()
    steps, faults = [], []
    for _ in range(opts.child_steps):
        start, flt = time.perf_counter(), _minflt()
        fn(*graph["data"], lr)
        steps.append(time.perf_counter() - start)
        faults.append(_minflt() - flt)
    print(json.dumps(dict(
        loss=float(np.asarray(first[0])),
        build_s=t1 - t0, compile_s=t2 - t1, first_call_s=t3 - t2,
        total_s=t3 - t0, import_s=opts.import_s,
        step_s=float(np.median(steps)) if steps else None,
        fault_mib=_fault_mib(float(np.median(faults))) if faults else None,
        maxrss_compiled_mib=rss_compiled, maxrss_first_mib=rss_first,
        maxrss_mib=_maxrss_mib(),
        step_peak_mib=(_proc_status_mib("VmHWM") - rss_before
                       if peak_reset and rss_before is not None
                       and steps else None))))


def _flags_env(compiledir=None, numba_cache=None, extra=None):
    env = dict(os.environ)
    env.setdefault("PYTHONPATH", "")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (REPO_ROOT, env["PYTHONPATH"]) if p)
    if compiledir is not None:
        flags = env.get("PYTENSOR_FLAGS", "")
        env["PYTENSOR_FLAGS"] = ",".join(
            f for f in (flags, "base_compiledir=" + compiledir) if f)
    if numba_cache is not None:
        env["NUMBA_CACHE_DIR"] = numba_cache
    env.update(extra or {})
    return env


def section_compile(opts, sizes_of):
    """Cold and warm compile times, each in a fresh process."""
    _section("Compile time: cold (empty compile dir) and warm (same dir), "
             "one process each")
    print("build: layers + gradients graph; function: pytensor.function "
          "(rewrites, C compile in CVM);\nfirst call: Numba's JIT in "
          "Numba mode; total excludes importing (import s shown).")
    print("variants: now (as the project compiles); baseline (PyTensor's "
          "own Numba linker, no cache\nof rewritten functions: before "
          "issue 3's compile work). loss: first step's (equal in both).")
    print("%-31s %6s %7s %8s %9s %9s %9s %9s %9s %10s" % (
        "function", "", "import", "build", "function", "1st call",
        "total s", "step ms", "peak MiB", "loss"))
    results = {}
    configs = list(opts.configs) + [c for c in opts.compile_configs
                                    if c not in opts.configs]
    for config in configs:
        sizes = sizes_of[config]
        for path in opts.paths:
            for mode_name in opts.modes:
                for variant in opts.compile_variants:
                    name = "%s/%s/%s/%s" % (config, path, mode_name,
                                            variant)
                    _compile_pair(name, config, path, mode_name, variant,
                                  sizes, results)
    return results


def _compile_pair(name, config, path, mode_name, variant, sizes, results):
    """One cold and one warm child on a fresh compile folder."""
    tmp = tempfile.mkdtemp(prefix="indrnn-compiledir-")
    try:
        env = _flags_env(os.path.join(tmp, "pytensor"),
                         os.path.join(tmp, "numba"))
        extra = ["--child-baseline"] if variant == "baseline" else []
        for kind in ("cold", "warm"):
            r = _child(["--child-step", config, path, mode_name,
                        "--child-steps", "2"] + extra
                       + _sizes_args(sizes), env=env)
            results[(name, kind)] = r
            print("%-31s %6s %7.1f %8.1f %9.1f %9.1f %9.1f %9s %9.0f %10.6g"
                  " [load %.1f]" % (
                      name, kind, r["import_s"], r["build_s"],
                      r["compile_s"], r["first_call_s"], r["total_s"],
                      _ms(r["step_s"]), r["maxrss_mib"], r["loss"],
                      os.getloadavg()[0]), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------
# section: memory
# --------------------------------------------------------------------------

def section_memory(opts, sizes_of):
    """Peak memory of the adding network at several T."""
    _section("Peak memory of the adding training step vs T (one process "
             "each, default compile cache)")
    base = dict(sizes_of["adding"])
    print("peak MiB: ru_maxrss of the whole process (imports, compiler, "
          "data, step);\nafter compile: its value before the first call; "
          "step MiB: peak of two steps above the resident size\nbefore "
          "them (VmHWM reset through /proc/self/clear_refs).")
    print("%-16s %6s %12s %14s %10s %9s" % (
        "function", "T", "peak MiB", "after compile", "step MiB",
        "step ms"))
    results = {}
    for path, mode_name in opts.memory_paths:
        for T in opts.memory_T:
            sizes = dict(base, T=T)
            r = _child(["--child-step", "adding", path, mode_name,
                        "--child-steps", "2"] + _sizes_args(sizes),
                       env=_flags_env())
            results[(path, mode_name, T)] = r
            step_mib = r["step_peak_mib"]
            if step_mib is None:  # no /proc: growth of the process peak
                step_mib = r["maxrss_mib"] - r["maxrss_compiled_mib"]
            r["step_mib"] = step_mib
            print("%-16s %6d %12.0f %14.0f %10.0f %9s" % (
                "%s/%s" % (path, mode_name), T, r["maxrss_mib"],
                r["maxrss_compiled_mib"], step_mib, _ms(r["step_s"])),
                flush=True)
        Ts = [T for T in opts.memory_T]
        if len(Ts) >= 2:
            peaks = [results[(path, mode_name, T)]["step_mib"] for T in Ts]
            slopes = ["%.0f" % (1000.0 * (peaks[i + 1] - peaks[i])
                                / (Ts[i + 1] - Ts[i]))
                      for i in range(len(Ts) - 1)]
            print("%-16s step MiB per 1000 time steps between successive "
                  "T: %s (equal slopes = linear)"
                  % ("%s/%s" % (path, mode_name), ", ".join(slopes)))
    return results


# --------------------------------------------------------------------------
# section: traps
# --------------------------------------------------------------------------

_MATMUL_RE = re.compile(r"Dot|Gemm|Gemv|Ger|MatMul|matmul", re.I)


def matmul_nodes(fgraph):
    """Apply nodes of ``fgraph`` (and inner graphs) that multiply matrices.

    Returns
    -------
    list of str
        One description per node: the Op and its inputs' static shapes.
    """
    found = []

    def visit(graph):
        for node in graph.toposort():
            op = node.op
            core = getattr(op, "core_op", None)
            label = "%s" % op
            if _MATMUL_RE.search(type(op).__name__) or (
                    core is not None
                    and _MATMUL_RE.search(type(core).__name__)):
                shapes = " x ".join(
                    "(%s)" % ",".join("?" if s is None else str(s)
                                      for s in i.type.shape)
                    for i in node.inputs if hasattr(i.type, "shape")
                    and i.type.ndim >= 1)
                found.append("%s %s" % (label, shapes))
            for attr in ("fgraph", "inner_fgraph"):
                inner = getattr(op, attr, None)
                if inner is not None and hasattr(inner, "toposort"):
                    visit(inner)
    visit(fgraph)
    return found


def _dense_count(net):
    """Dense projections of a network, including IndRNNLayer's own."""
    from indrnn.lasagne.layers import DenseLayer, get_all_layers
    count = 0
    for layer in get_all_layers(net["out"]):
        if isinstance(layer, DenseLayer):
            count += 1
        elif isinstance(getattr(layer, "input_to_hidden", None), DenseLayer):
            # IndRNNLayer's own projection (onlyrecurrent layers have none)
            count += 1
    return count


def trap_matmul_count(opts, sizes_of):
    """Matmul nodes of the training function vs a gradients-only one."""
    print("\n### Trap: is a weight-gradient matmul computed twice with "
          "Adam?")
    print("Counts of matmul Apply nodes after rewriting (fgraph of the "
          "compiled function).\nneeded: at most forward + weight gradient "
          "per Dense projection + input gradient for all but the first\n"
          "(fewer when a product is an outer product, which becomes "
          "elementwise); 'grads only' compiles loss + gradients;\n"
          "'Adam, no d22s': the training function compiled with the "
          "rewrite local_dot22_to_dot22scalar excluded (CVM only).")
    print("%-8s %-6s %-6s %9s %12s %10s %14s" % (
        "config", "path", "mode", "needed", "grads only", "with Adam",
        "Adam, no d22s"))
    from indrnn.run.functions import compile_train_fn
    results = {}
    for config in opts.configs:
        sizes = sizes_of[config]
        for mode_name in opts.modes:
            for path in ("fused",):
                graph = build_graph(config, path, sizes)
                dense = _dense_count(graph["net"])
                expected = 3 * dense - 1
                grads = pytensor.grad(graph["loss"], graph["params"])
                fn_g = pytensor.function(graph["inputs"],
                                         [graph["loss"]] + grads,
                                         mode=MODES[mode_name])
                graph = build_graph(config, path, sizes)
                fn_t = compile_train_fn(
                    graph["inputs"], graph["loss"], graph["params"],
                    outputs=graph["outputs"], U_bound=graph["U_bound"],
                    mode=MODES[mode_name])
                n_g = matmul_nodes(fn_g.maker.fgraph)
                n_t = matmul_nodes(fn_t.maker.fgraph)
                n_x = None
                if mode_name == "cvm":
                    # the suspect: the rewrite folding Adam's (1 - beta1)
                    # into the weight-gradient dot even when the plain dot
                    # has other clients (g**2 for the second moment)
                    graph = build_graph(config, path, sizes)
                    fn_x = compile_train_fn(
                        graph["inputs"], graph["loss"], graph["params"],
                        outputs=graph["outputs"], U_bound=graph["U_bound"],
                        mode=pytensor.compile.mode.get_mode("CVM").excluding(
                            "local_dot22_to_dot22scalar"))
                    n_x = matmul_nodes(fn_x.maker.fgraph)
                results[(config, mode_name)] = (expected, n_g, n_t, n_x)
                print("%-8s %-6s %-6s %9d %12d %10d %14s" % (
                    config, path, mode_name, expected, len(n_g), len(n_t),
                    "-" if n_x is None else len(n_x)))
                if opts.verbose or len(n_t) != len(n_g):
                    for kind, nodes in (("grads only", n_g),
                                        ("with Adam", n_t)):
                        print("    %s: %s" % (kind, "; ".join(
                            "%dx %s" % (c, d) for d, c in
                            sorted(Counter(nodes).items()))))
                if n_x is not None and len(n_x) != len(n_t):
                    lr = np.asarray(LEARNING_RATE,
                                    dtype=pytensor.config.floatX)
                    data = graph["data"]
                    times = interleaved(
                        {"t": lambda: fn_t(*data, lr),
                         "x": lambda: fn_x(*data, lr)}, opts.rounds)
                    print("    CVM step median: %s ms as compiled, %s ms "
                          "without local_dot22_to_dot22scalar (%d rounds)"
                          % (_ms(np.median(times["t"])),
                             _ms(np.median(times["x"])), opts.rounds))
    return results


def trap_blas_link(opts, sizes_of):
    """Does PyTensor's C backend link a BLAS? Cost against Numba."""
    print("\n### Trap: does mode='CVM' link a BLAS, or go through numpy?")
    probe = subprocess.run(
        [sys.executable, "-W", "always", "-c",
         "import pytensor; print(repr(pytensor.config.blas__ldflags))"],
        capture_output=True, text=True, env=_flags_env())
    warned = "could not link to a BLAS" in probe.stderr
    print("blas__ldflags = %s; 'could not link to a BLAS' warning: %s"
          % (probe.stdout.strip() or "?", "yes" if warned else "no"))
    # Which matmul nodes of a CVM function have no C code?
    dtype = pytensor.config.floatX
    M, N = 32 * sizes_of["mnist"]["T"], sizes_of["mnist"]["N"]
    a = pt.matrix("a", dtype=dtype)
    b = pt.matrix("b", dtype=dtype)
    c = pt.matrix("c", dtype=dtype)
    outs = {"X.T @ dY (weight gradient)": a.T @ b,
            "X.T @ dY + W (gemm)": a.T @ b + c}
    rng = np.random.default_rng(0)
    X = rng.normal(size=(M, N)).astype(dtype)
    dY = rng.normal(size=(M, N)).astype(dtype)
    W = rng.normal(size=(N, N)).astype(dtype)
    functions = {"numpy": lambda: X.T @ dY}
    for label, out in outs.items():
        for mode_name in ("numba", "cvm"):
            inputs = [a, b] if "gemm" not in label else [a, b, c]
            values = [X, dY] if "gemm" not in label else [X, dY, W]
            fn = pytensor.function(inputs, out, mode=MODES[mode_name])
            fn(*values)
            kinds = []
            if mode_name == "cvm":
                for node, thunk in zip(fn.vm.nodes, fn.vm.thunks):
                    if _MATMUL_RE.search(type(node.op).__name__):
                        kinds.append("%s: %s" % (
                            node.op, "C" if hasattr(thunk, "cthunk")
                            else "Python (numpy)"))
                print("CVM %-28s -> %s" % (label, "; ".join(kinds)))
            functions["%s %s" % (mode_name, label.split(" (")[0])] = (
                lambda fn=fn, values=values: fn(*values))
    times = interleaved(functions, max(3, opts.rounds), min_time=0.05)
    print("(%d x %d).T @ (%d x %d), %s, median ms over %d rounds:"
          % (M, N, M, N, dtype, max(3, opts.rounds)))
    for name, ts in times.items():
        print("  %-30s %8.2f" % (name, 1e3 * np.median(ts)))
    return dict(warned=warned, ldflags=probe.stdout.strip(),
                times={n: float(np.median(t)) for n, t in times.items()})


def child_threads(opts):
    """Child: Numba kernel alone, after a BLAS call, and a training step."""
    import numba
    sizes = dict(T=opts.T, B=opts.B, N=opts.N, L=opts.L)
    kernel = compile_kernels("NUMBA", sizes)
    kernel()
    dtype = pytensor.config.floatX
    rng = np.random.default_rng(0)
    M, N = sizes["T"] * sizes["B"], sizes["N"]
    X = rng.normal(size=(M, N)).astype(dtype)
    dY = rng.normal(size=(M, N)).astype(dtype)
    out = np.empty((N, N), dtype)

    def matmul():
        np.matmul(X.T, dY, out=out)

    after = []

    def kernel_after_matmul():
        # BLAS threads spin for a while after a call returns: time the
        # kernel right behind a large product
        matmul()
        start = time.perf_counter()
        kernel()
        after.append(time.perf_counter() - start)

    functions = {"kernel": kernel, "matmul": matmul,
                 "matmul+kernel": kernel_after_matmul}
    if opts.child_threads_step:
        step, _, _ = compile_step(opts.child_threads_step, "fused",
                                  MODES["numba"],
                                  sizes)
        step()
        functions["step"] = step
    times = interleaved(functions, opts.rounds)
    result = {n: float(np.median(t)) for n, t in times.items()}
    result["kernel_after_matmul"] = float(np.median(after))
    try:
        from threadpoolctl import threadpool_info
        result["blas_threads"] = [i.get("num_threads")
                                  for i in threadpool_info()
                                  if i.get("user_api") == "blas"]
    except ImportError:
        result["blas_threads"] = None
    result["numba_threads"] = numba.config.NUMBA_NUM_THREADS
    print(json.dumps(result))


def trap_blas_threads(opts, sizes_of):
    """Numba kernels and training step with 1 vs 2 BLAS threads."""
    print("\n### Trap: do spinning BLAS threads slow the Numba kernels?")
    print("One process per setting (OPENBLAS_NUM_THREADS = OMP_NUM_THREADS "
          "= n); medians over %d rounds, ms." % opts.rounds)
    results = {}
    for config in opts.configs:
        sizes = sizes_of[config]
        print("%s shapes (T=%d, B=%d, N=%d); step = fused training step, "
              "Numba mode" % (config, sizes["T"], sizes["B"], sizes["N"]))
        print("%-10s %10s %10s %22s %10s" % (
            "BLAS thr.", "kernel", "matmul", "kernel after matmul",
            "step"))
        for n in opts.blas_threads:
            env = _flags_env(extra={"OPENBLAS_NUM_THREADS": str(n),
                                    "OMP_NUM_THREADS": str(n)})
            r = _child(["--child-threads", "--child-threads-step", config,
                        "--rounds", str(opts.rounds)] + _sizes_args(sizes),
                       env=env)
            results[(config, n)] = r
            print("%-10s %10s %10s %22s %10s" % (
                "%d %s" % (n, r.get("blas_threads") or ""), _ms(r["kernel"]),
                _ms(r["matmul"]), _ms(r["kernel_after_matmul"]),
                _ms(r["step"])), flush=True)
    return results


#: glibc malloc settings that keep freed memory in the process: blocks up
#: to 32 MiB (the largest threshold glibc accepts) come from the heap, and
#: the heap is never trimmed.
MALLOC_KEEP = {"MALLOC_MMAP_THRESHOLD_": str(32 * 2 ** 20),
               "MALLOC_TRIM_THRESHOLD_": str(2 ** 40),
               "MALLOC_TOP_PAD_": str(2 ** 29)}


def trap_page_faults(opts, sizes_of):
    """Fresh pages per step, with glibc's defaults and with MALLOC_KEEP."""
    print("\n### Not in the issue: memory the step gets fresh from the "
          "kernel at every call")
    print("One process per row (default compile cache); faulted MiB = "
          "minor page faults per step x page size;\nkept: %s."
          % " ".join("%s=%s" % kv for kv in MALLOC_KEEP.items()))
    print("%-24s %12s %12s %14s %12s" % ("function", "step ms",
                                         "faulted MiB", "kept: step ms",
                                         "faulted MiB"))
    results = {}
    for config in opts.configs:
        sizes = sizes_of[config]
        for mode_name in opts.modes:
            row = []
            for extra in ({}, MALLOC_KEEP):
                r = _child(["--child-step", config, "fused", mode_name,
                            "--child-steps", str(max(3, opts.rounds))]
                           + _sizes_args(sizes),
                           env=_flags_env(extra=extra))
                row.append(r)
            results[(config, mode_name)] = row
            print("%-24s %12s %12.0f %14s %12.0f" % (
                "%s/fused/%s" % (config, mode_name), _ms(row[0]["step_s"]),
                row[0]["fault_mib"], _ms(row[1]["step_s"]),
                row[1]["fault_mib"]), flush=True)
    return results


def section_traps(opts, sizes_of):
    """The traps of issue 3, and the page faults of the Numba step."""
    _section("Traps of issue 3 on the current stack")
    trap_matmul_count(opts, sizes_of)
    trap_blas_link(opts, sizes_of)
    trap_blas_threads(opts, sizes_of)
    trap_page_faults(opts, sizes_of)


# --------------------------------------------------------------------------
# section: profile
# --------------------------------------------------------------------------

def section_profile(opts, sizes_of):
    """Per-Op profiles of the fused training step (CVM and Numba)."""
    _section("Per-Op profile of the fused training step")
    for config in opts.configs:
        sizes = sizes_of[config]
        if "cvm" in opts.profile_modes:
            step, fn, _ = compile_step(config, "fused", "CVM", sizes,
                                       profile=True)
            calls = max(3, opts.rounds // 2)
            for _ in range(calls):
                step()
            buf = io.StringIO()
            fn.profile.summary(file=buf, n_ops_to_print=opts.profile_top,
                               n_apply_to_print=opts.profile_top)
            text = buf.getvalue()
            print("\n### %s (T=%d), mode CVM, profile=True, %d calls "
                  "[%s]" % (config, sizes["T"], calls, _load()))
            print(_profile_digest(text, opts.profile_top))
            if opts.profile_out:
                path = "%s.%s.cvm.txt" % (opts.profile_out, config)
                with open(path, "w") as f:
                    f.write(text)
                print("(full profile written to %s)" % path)
        if "numba" in opts.profile_modes:
            step, fn, graph = compile_step(config, "fused", MODES["numba"],
                                           sizes)
            step()
            whole = float(np.median(interleaved({"step": step},
                                                3)["step"]))
            print("\n### %s (T=%d), mode NUMBA, every node compiled and "
                  "timed alone (median of 3) [%s]"
                  % (config, sizes["T"], _load()), flush=True)
            lr = np.asarray(LEARNING_RATE, dtype=pytensor.config.floatX)
            timings = numba_node_profile(fn, graph["data"] + [lr])
            _node_summary(timings, whole, opts.profile_top)


def numba_node_profile(fn, explicit_values, reps=3):
    """Time every Apply node of a compiled Numba-mode function alone.

    The Numba linkers run the whole graph as one thunk, so PyTensor's
    profiler cannot see inside it.  Here each node of the
    function's rewritten graph is compiled on its own (a one-node
    ``FunctionGraph`` through PyTensor's Numba dispatch, as the linker
    does it) and called on the values it sees in the real step, in the
    graph's order; inputs a node destroys (in-place Ops) are copied before
    each call, outside the timing.  The sum is close to, not equal to, the
    whole function's time (no cross-node inlining; one Python call per
    node).

    Parameters
    ----------
    fn : Function
        A function compiled in Numba mode (and called once, so that the
        shared variables hold the values of a real step).
    explicit_values : list
        Values of the function's explicit (non-shared) inputs.
    reps : int
        Timed calls per node (the median is kept).

    Returns
    -------
    list of tuple
        ``(seconds, node, output shape)`` for every node, in graph order.
    """
    from pytensor.graph.basic import Constant
    from pytensor.graph.fg import FunctionGraph
    from pytensor.link.numba.dispatch.basic import (
        numba_funcify_and_cache_key, numba_njit)
    fgraph = fn.maker.fgraph
    explicit = iter(explicit_values)
    values = {}
    for var, spec, container in zip(fgraph.inputs, fn.maker.inputs,
                                    fn.input_storage):
        # shared variables: their current value; the others: as given
        values[var] = (container.data if getattr(spec, "shared", False)
                       else next(explicit))
    timings = []
    for node in fgraph.toposort():
        # unique non-constant inputs (constants are compiled in)
        inputs = list(dict.fromkeys(
            i for i in node.inputs if not isinstance(i, Constant)))
        one = FunctionGraph(inputs, node.outputs, clone=True)
        py_fn, key = numba_funcify_and_cache_key(one)
        jitted = numba_njit(py_fn.py_func, final_function=True,
                            cache=key is not None)
        positions = {j for v in getattr(node.op, "destroy_map", {}).values()
                     for j in v}
        destroyed_vars = {node.inputs[j] for j in positions}
        destroyed = {k for k, i in enumerate(inputs) if i in destroyed_vars}
        args = [values[i] for i in inputs]

        def call():
            fresh = [np.array(a, copy=True) if k in destroyed else a
                     for k, a in enumerate(args)]
            start = time.perf_counter()
            out = jitted(*fresh)
            return time.perf_counter() - start, out
        _, out = call()  # compile (or load from the cache)
        elapsed = [call()[0] for _ in range(reps)]
        # the one-node graph function returns a tuple of its outputs
        outs = out if isinstance(out, (tuple, list)) else (out,)
        for var, value in zip(node.outputs, outs):
            if isinstance(var.type, pt.TensorType):
                # numba hands 0-d results back as Python scalars
                value = np.asarray(value, dtype=var.type.dtype)
            values[var] = value
        timings.append((float(np.median(elapsed)), node,
                        "x".join(str(d) for d in np.shape(outs[0]))))
    return timings


def _node_summary(timings, total, top):
    """Print the top nodes and the time per Op class of a node profile."""
    by_class = Counter()
    for seconds, node, _ in timings:
        by_class[type(node.op).__name__] += seconds
    node_sum = sum(t[0] for t in timings)
    print("sum over %d nodes %.1f ms (whole function %.1f ms)"
          % (len(timings), 1e3 * node_sum, 1e3 * total))
    print("by Op class:")
    for name, seconds in by_class.most_common(top):
        print("  %8.1f ms %5.1f%%  %s" % (1e3 * seconds,
                                          100 * seconds / node_sum, name))
    print("top Apply nodes:")
    for seconds, node, shape in sorted(timings, key=lambda t: -t[0])[:top]:
        print("  %8.2f ms  -> %-14s %s" % (1e3 * seconds, shape,
                                           str(node)[:110]))


def _profile_digest(text, top):
    """The Class, Ops and Apply tables of a profile summary, trimmed."""
    keep, lines, count = False, [], 0
    for line in text.splitlines():
        if line.startswith(("Class", "Ops", "Apply")) and "---" not in line:
            keep, count = True, 0
            lines.append(line)
            continue
        if keep:
            if line.strip().startswith("... (remaining"):
                lines.append(line)
                keep = False
                continue
            if line.startswith("   <") or line.strip().startswith("<"):
                lines.append(line)
                continue
            if re.match(r"^\s+\d", line):
                count += 1
                if count <= top:
                    lines.append(line.rstrip()[:150])
                continue
            if not line.strip():
                keep = False
                lines.append("")
    time_line = [l for l in text.splitlines()
                 if "Time in" in l and "calls to Function" in l]
    return "\n".join(time_line[:1] + lines)


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def make_parser():
    """The command-line options.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS),
                        choices=SECTIONS)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS),
                        choices=CONFIGS)
    parser.add_argument("--modes", nargs="+", default=list(DEFAULT_MODES),
                        choices=list(MODES),
                        help="numba (default linker), cvm (C), jax "
                             "(mode=JAX, on JAX's device; default when JAX "
                             "is installed); py (Python linker, "
                             "FAST_COMPILE) for smoke runs")
    parser.add_argument("--skip-floor", action="store_true",
                        help="steps section: time the training steps only "
                             "(no proj, kernel or numpy-matmuls)")
    parser.add_argument("--paths", nargs="+", default=list(PATHS),
                        choices=PATHS + EXTRA_PATHS,
                        help="recurrence paths of the training step "
                             "(symbn: fused with symbolic BatchNorm)")
    parser.add_argument("--compile-configs", nargs="*",
                        default=list(COMPILE_ONLY_CONFIGS),
                        choices=COMPILE_ONLY_CONFIGS,
                        help="compile section: configurations timed in "
                             "addition to --configs (default: residual, "
                             "21 recurrent layers)")
    parser.add_argument("--compile-variants", nargs="+", default=["now"],
                        choices=COMPILE_VARIANTS,
                        help="compile section: now (default) and/or "
                             "baseline (PyTensor's Numba linker, no cache "
                             "of rewritten functions)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="timing rounds (default 9, --quick 3)")
    parser.add_argument("--quick", action="store_true",
                        help="small T (mnist 64, adding 100), 3 rounds, "
                             "memory at T=100/200/400: a smoke run")
    parser.add_argument("--T", type=int, default=None,
                        help="time steps of every config (overrides)")
    parser.add_argument("--B", type=int, default=None, help="batch size")
    parser.add_argument("--N", type=int, default=None, help="units")
    parser.add_argument("--L", type=int, default=None,
                        help="IndRNN layers of the mnist network")
    parser.add_argument("--memory-T", type=int, nargs="+", default=None,
                        help="T of the memory section (default 1000 2500 "
                             "5000; --quick 100 200 400)")
    parser.add_argument("--memory-paths", nargs="+", default=None,
                        help="path/mode pairs of the memory section "
                             "(default fused/numba fused/cvm scan/numba)")
    parser.add_argument("--blas-threads", type=int, nargs="+",
                        default=[1, 2])
    parser.add_argument("--profile-top", type=int, default=12)
    parser.add_argument("--profile-modes", nargs="+", default=["cvm",
                                                                 "numba"],
                        choices=["cvm", "numba"],
                        help="profile section: CVM's profiler and/or the "
                             "node-by-node Numba timing")
    parser.add_argument("--profile-out", default=None,
                        help="write the full CVM profiles to "
                             "<prefix>.<config>.txt")
    parser.add_argument("--verbose", action="store_true")
    # internal: child processes
    parser.add_argument("--child-step", nargs=3, default=None,
                        help=argparse.SUPPRESS)
    parser.add_argument("--child-steps", type=int, default=2,
                        help=argparse.SUPPRESS)
    parser.add_argument("--child-baseline", action="store_true",
                        help=argparse.SUPPRESS)
    parser.add_argument("--child-threads", action="store_true",
                        help=argparse.SUPPRESS)
    parser.add_argument("--child-threads-step", default=None,
                        help=argparse.SUPPRESS)
    return parser


def _sizes(opts):
    base = QUICK_SIZES if opts.quick else FULL_SIZES
    sizes_of = {}
    for config, sizes in base.items():
        sizes = dict(sizes)
        for key in ("T", "B", "N", "L"):
            if key == "L" and config == "residual":
                continue  # --L is the mnist network's; residual keeps 21
            if getattr(opts, key) is not None:
                sizes[key] = getattr(opts, key)
        sizes_of[config] = sizes
    return sizes_of


def main(argv=None):
    """Run the selected sections.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``sys.argv[1:]`` when None).
    """
    import_s = time.perf_counter() - _START
    opts = make_parser().parse_args(argv)
    opts.import_s = import_s
    if opts.rounds is None:
        opts.rounds = 3 if opts.quick else 9
    if opts.child_step:
        with float32_unless_configured():
            return child_step(opts)
    if opts.child_threads:
        return child_threads(opts)
    if opts.memory_T is None:
        opts.memory_T = [100, 200, 400] if opts.quick else [1000, 2500, 5000]
    if opts.memory_paths is None:
        opts.memory_paths = ["fused/numba", "fused/cvm", "scan/numba"]
    opts.memory_paths = [tuple(p.split("/")) for p in opts.memory_paths]
    sizes_of = _sizes(opts)
    print("# IndRNN training-step benchmark")
    print(_machine())
    print(_load())
    print("sizes: %s" % ", ".join(
        "%s T=%d B=%d N=%d%s" % (c, s["T"], s["B"], s["N"],
                                 " L=%d" % s["L"] if c == "mnist" else "")
        for c, s in sizes_of.items() if c in opts.configs))
    with warnings.catch_warnings():
        # the C backend's BLAS warning is reported by the traps section
        warnings.filterwarnings("ignore", message=".*could not link.*")
        # JAX in 32 bits narrows PyTensor's int64 (and float64
        # accumulator) requests, as intended: one warning per node
        warnings.filterwarnings("ignore",
                                message="Explicitly requested dtype")
        # float32_unless_configured: as the experiments run, JAX in 32
        # bits too (see indrnn.run.functions._jax_x64)
        with float32_unless_configured():
            for section in SECTIONS:
                if section in opts.sections:
                    globals()["section_" + section](opts, sizes_of)
    print("\n[%s]" % _load())


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        main()
