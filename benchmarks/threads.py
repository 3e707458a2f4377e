"""Time numpy's OpenBLAS matmul with 1 and with 2 threads.

This script justifies the thread default chosen by
:func:`indrnn._runtime.configure_threads`.  OpenBLAS reads
``OPENBLAS_NUM_THREADS`` only when it is loaded, so every thread count is
timed in a fresh subprocess that has the variable set before numpy is
imported.

Usage::

    python benchmarks/threads.py [--repeats 20] [--threads 1 2]
                                 [--busy 1] [--rnn]

``--busy K`` keeps K other processes spinning on the CPU while timing, as
happens when tests, a second experiment or a CI neighbour share the
machine.  ``--rnn`` also times one PyTensor training step of a small
two-layer ReLU recurrent network (the adding-problem shape: batch 32,
100 steps, 128 units), written with plain PyTensor so that it does not
depend on the rest of the package.

It prints one line per (workload, thread count) with the best and the
median wall time.
"""

import argparse
import json
import os
import subprocess
import sys
import time

# (rows, inner, cols) of A @ B.  The first is a 128-wide layer fed by a
# 25088-long feature vector, the product the thread default was asked to be
# justified on; the second is one recurrent step of the adding problem
# (batch 32, 128 hidden units).
SHAPES = [(128, 25088, 128), (32, 128, 128)]

_MATMUL_CHILD = r"""
import json, sys, time
import numpy as np
shapes, repeats = json.loads(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
out = []
for m, k, n in shapes:
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    # Small products are timed in batches so that the timer resolution and
    # Python overhead do not dominate.
    inner = max(1, int(2e7 // (m * k * n)))
    a @ b  # warm up: thread pool start-up is not what we measure
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            a @ b
        times.append((time.perf_counter() - t0) / inner)
    times.sort()
    out.append({"label": "({} x {}) @ ({} x {})".format(m, k, k, n),
                "best": times[0], "median": times[len(times) // 2]})
print(json.dumps(out))
"""

_RNN_CHILD = r"""
import json, sys, time
import numpy as np
import pytensor
import pytensor.tensor as pt
repeats = int(sys.argv[2])
B, T, H = 32, 100, 128
rng = np.random.default_rng(0)
def shared(*shape):
    value = rng.standard_normal(shape) * 0.1
    return pytensor.shared(value.astype("float32"))
W1, U1, W2, U2 = shared(2, H), shared(H), shared(H, H), shared(H)
V = shared(H, 1)
x = pt.tensor3("x", dtype="float32")
y = pt.matrix("y", dtype="float32")
h0 = pt.zeros((B, H), dtype="float32")
def layer(seq, W, U):
    return pytensor.scan(lambda xt, h: pt.maximum(xt @ W + U * h, 0),
                         sequences=[seq], outputs_info=[h0],
                         return_updates=False)
h2 = layer(layer(x.dimshuffle(1, 0, 2), W1, U1), W2, U2)
loss = ((h2[-1] @ V - y) ** 2).mean()
params = [W1, U1, W2, U2, V]
grads = pytensor.grad(loss, params)
f = pytensor.function([x, y], loss, updates=[
    (p, p - np.float32(1e-3) * g) for p, g in zip(params, grads)])
xv = rng.random((B, T, 2)).astype("float32")
yv = rng.random((B, 1)).astype("float32")
for _ in range(3):
    f(xv, yv)
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    f(xv, yv)
    times.append(time.perf_counter() - t0)
times.sort()
print(json.dumps([{"label": "RNN train step (Numba)", "best": times[0],
                   "median": times[len(times) // 2]}]))
"""

_BUSY_CHILD = "while True:\n    pass\n"


def time_with_threads(n_threads, child, repeats):
    """Run a timing child in a subprocess limited to `n_threads` threads.

    Parameters
    ----------
    n_threads : int
        Value given to ``OPENBLAS_NUM_THREADS`` and ``OMP_NUM_THREADS``.
    child : str
        Python source of the timing child (``_MATMUL_CHILD`` or
        ``_RNN_CHILD``); it prints a JSON list of results.
    repeats : int
        Number of timed repetitions.

    Returns
    -------
    list of dict
        One dict per workload with keys ``label``, ``best`` and ``median``
        (seconds).
    """
    env = dict(os.environ)
    env["OPENBLAS_NUM_THREADS"] = str(n_threads)
    env["OMP_NUM_THREADS"] = str(n_threads)
    result = subprocess.run(
        [sys.executable, "-c", child, json.dumps(SHAPES), str(repeats)],
        env=env, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    """Run the benchmark and print a small table.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments; ``sys.argv[1:]`` when omitted.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--busy", type=int, default=0,
                        help="number of competing busy-loop processes")
    parser.add_argument("--rnn", action="store_true",
                        help="also time a PyTensor RNN training step")
    args = parser.parse_args(argv)
    children = [_MATMUL_CHILD] + ([_RNN_CHILD] if args.rnn else [])
    busy = [subprocess.Popen([sys.executable, "-c", _BUSY_CHILD])
            for _ in range(args.busy)]
    try:
        time.sleep(0.2 if busy else 0)
        print(f"python {sys.version.split()[0]}, os.cpu_count() = "
              f"{os.cpu_count()}, busy processes = {args.busy}, "
              f"repeats = {args.repeats}")
        print(f"{'workload (float32)':>30} {'threads':>7} {'best ms':>9} "
              f"{'median ms':>9}")
        for n_threads in args.threads:
            for child in children:
                for row in time_with_threads(n_threads, child, args.repeats):
                    print(f"{row['label']:>30} {n_threads:>7} "
                          f"{row['best'] * 1e3:9.3f} "
                          f"{row['median'] * 1e3:9.3f}")
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
