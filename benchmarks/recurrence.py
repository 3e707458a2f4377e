"""Time the fused IndRNN recurrence Op against the scan path.

For each shape (seq-MNIST: T=784, B=32, N=128; adding: T=1000, B=32,
N=128; float32, relu) it times, interleaved over several rounds:

* ``fused/<mode>``: forward + backward of the fused Op
  (:func:`indrnn.ops.indrnn_recurrence`): a compiled function returning
  the states and the gradients wrt ``x``, ``u`` and ``h0`` of
  ``sum(H * W)``;
* ``scan/<mode>``: the same through ``pytensor.scan`` as the layers build
  it (``rectify(u * h + x)``);
* ``kernel/<mode>``: the two Ops alone, fed ``dH`` directly;
* ``kernel/numba-njit`` and ``kernel/numba-njit-parallel``: the Numba
  kernels called from a plain ``numba.njit`` function (no PyTensor), the
  serial one that is registered and the ``prange`` variant.

``<mode>`` is ``numba`` (PyTensor's default linker) and ``cvm`` (C).  It
prints the median and minimum wall time of each, the ratio of the scan
path to the fused Op, and the first-call (compile) time of each function.

Usage::

    python benchmarks/recurrence.py [--rounds 15] [--shapes mnist adding]
                                    [--modes numba cvm] [--no-scan]

This is a script that prints figures, not a test.
"""
import argparse
import time

import indrnn  # noqa: F401  (thread defaults before numpy loads)
import numba
import numpy as np
import pytensor
import pytensor.tensor as pt

from indrnn.lasagne import nonlinearities
from indrnn.link.numba.dispatch.recurrence import make_kernels
from indrnn.ops import (IndRNNRecurrence, IndRNNRecurrenceGrad,
                        indrnn_recurrence)

SHAPES = {"mnist": (784, 32, 128), "adding": (1000, 32, 128)}
MODES = {"numba": "NUMBA", "cvm": "CVM"}
DTYPE = "float32"


def _inputs(shape, seed=0):
    T, B, N = shape
    rng = np.random.default_rng(seed)
    return dict(x=rng.normal(size=(T, B, N)).astype(DTYPE),
                u=rng.uniform(0, 1, size=N).astype(DTYPE),
                h0=np.zeros((B, N), DTYPE),
                w=rng.normal(size=(T, B, N)).astype(DTYPE))


def _symbols():
    return (pt.tensor3("x", dtype=DTYPE), pt.vector("u", dtype=DTYPE),
            pt.matrix("h0", dtype=DTYPE), pt.tensor3("w", dtype=DTYPE))


def _scan(x, u, h0):
    def step(x_t, h_prev, u):
        return nonlinearities.rectify(h_prev * u + x_t)
    return pytensor.scan(step, sequences=[x], outputs_info=[h0],
                         non_sequences=[u], strict=True,
                         return_updates=False)


def build_training(path, mode):
    """Forward + backward function of the fused Op or the scan path."""
    x, u, h0, w = _symbols()
    H = indrnn_recurrence(x, u, h0) if path == "fused" else _scan(x, u, h0)
    grads = pytensor.grad((H * w).sum(), [x, u, h0])
    fn = pytensor.function([x, u, h0, w], [H] + grads, mode=mode)
    return lambda d: fn(d["x"], d["u"], d["h0"], d["w"])


def build_kernel(mode):
    """The forward Op and the gradient Op alone (dH given)."""
    x, u, h0, w = _symbols()
    H = IndRNNRecurrence("relu")(x, u, h0)
    grads = IndRNNRecurrenceGrad("relu")(x, u, h0, H, w)
    fn = pytensor.function([x, u, h0, w], [H] + grads, mode=mode)
    return lambda d: fn(d["x"], d["u"], d["h0"], d["w"])


def build_njit(parallel):
    """The Numba kernels from a plain njit function."""
    forward, backward = make_kernels("relu", 0, False, False, DTYPE,
                                     parallel=parallel)

    @numba.njit
    def run(x, u, h0, w):
        no_mask = np.empty((0, 0), dtype=x.dtype)
        H = forward(x, u, h0, no_mask)
        return backward(x, u, h0, no_mask, H, w)
    return lambda d: run(d["x"], d["u"], d["h0"], d["w"])


def main(argv=None):
    """Time the fused Op against the scan path and print the medians.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``sys.argv[1:]`` when None); ``--help``
        lists them.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES),
                        choices=list(SHAPES))
    parser.add_argument("--modes", nargs="+", default=list(MODES),
                        choices=list(MODES))
    parser.add_argument("--no-scan", action="store_true",
                        help="skip the (slow to compile) scan path")
    args = parser.parse_args(argv)

    print("numba %s, pytensor %s, numpy %s, %d numba threads"
          % (numba.__version__, pytensor.__version__, np.__version__,
             numba.config.NUMBA_NUM_THREADS))
    for shape_name in args.shapes:
        shape = SHAPES[shape_name]
        data = _inputs(shape)
        builders = {}
        for mode_name in args.modes:
            mode = MODES[mode_name]
            builders["fused/" + mode_name] = (build_training, "fused", mode)
            if not args.no_scan:
                builders["scan/" + mode_name] = (build_training, "scan",
                                                 mode)
            builders["kernel/" + mode_name] = (build_kernel, mode)
        builders["kernel/numba-njit"] = (build_njit, False)
        builders["kernel/numba-njit-parallel"] = (build_njit, True)

        functions, compile_s = {}, {}
        for name, (builder, *bargs) in builders.items():
            start = time.perf_counter()
            fn = builder(*bargs)
            fn(data)  # Numba compiles at the first call
            compile_s[name] = time.perf_counter() - start
            functions[name] = fn

        times = {name: [] for name in functions}
        for _ in range(args.rounds):
            for name, fn in functions.items():  # interleaved
                start = time.perf_counter()
                fn(data)
                times[name].append(time.perf_counter() - start)

        print("\n%s: T=%d, B=%d, N=%d, %s, relu, forward+backward, %d "
              "rounds" % ((shape_name,) + shape + (DTYPE, args.rounds)))
        print("%-28s %10s %10s %12s" % ("", "median ms", "min ms",
                                        "1st call s"))
        for name, ts in times.items():
            print("%-28s %10.2f %10.2f %12.2f"
                  % (name, 1e3 * np.median(ts), 1e3 * np.min(ts),
                     compile_s[name]))
        for mode_name in args.modes:
            if "scan/" + mode_name in times:
                ratio = (np.median(times["scan/" + mode_name])
                         / np.median(times["fused/" + mode_name]))
                print("scan / fused (%s): %.1fx" % (mode_name, ratio))
    if numba.config.THREADING_LAYER and any(
            "parallel" in n for n in builders):
        print("\nnumba threading layer: %s" % numba.threading_layer())


if __name__ == "__main__":
    main()
