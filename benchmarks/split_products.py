"""Whether the row-split products of the node linker are bit-identical here.

:mod:`indrnn.compile.dot` splits a large matrix product by rows over
threads. Each block is computed by the same BLAS routine over the same
inner dimension, but OpenBLAS may pick another kernel for another number
of rows, so the split is only promised to equal the unsplit product to
round-off, and to give the same bits on every call. This script measures,
on the machine at hand, for the products of the experiments (float32 and
float64, 2 and 4 threads):

* whether the split equals numpy's unsplit product bit for bit, and the
  largest difference in units of the float's epsilon times the largest
  magnitude of the result;
* whether ten calls give the same bits;
* the median time of the split and the unsplit product.

Usage::

    python benchmarks/split_products.py [--repeats 20]
"""
import argparse
import time

import indrnn  # noqa: F401  (thread defaults before numpy loads BLAS)
import numpy as np
import pytensor.tensor as pt

from indrnn.compile.dot import dot_function

# (rows, inner, cols): seq-MNIST's input projection and input gradient
# (T * B = 784 * 32 rows, 128 units), the adding problem's (1000 * 32 rows),
# a row count that does not divide by the threads.
SHAPES = [(25088, 128, 128), (32000, 128, 128), (3001, 128, 96)]


def _median_ms(func, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print("%-18s %-8s %7s %9s %10s %9s %10s %10s" % (
        "rows x inner x cols", "dtype", "threads", "identical",
        "max diff", "repeats", "split ms", "numpy ms"))
    for dtype in ("float32", "float64"):
        a_var, b_var = pt.matrix(dtype=dtype), pt.matrix(dtype=dtype)
        node = pt.dot(a_var, b_var).owner
        for rows, inner, cols in SHAPES:
            a = rng.standard_normal((rows, inner)).astype(dtype)
            b = rng.standard_normal((inner, cols)).astype(dtype)
            whole = np.matmul(a, b)
            for threads in (2, 4):
                split = dot_function(node, threads=threads)
                got = split(a, b)
                same_calls = all(np.array_equal(split(a, b), got)
                                 for _ in range(10))
                scale = np.finfo(dtype).eps * np.abs(whole).max()
                diff = float(np.abs(got - whole).max() / scale)
                print("%-18s %-8s %7d %9s %8.2f e %9s %10.2f %10.2f" % (
                    "%dx%dx%d" % (rows, inner, cols), dtype, threads,
                    "yes" if np.array_equal(got, whole) else "NO", diff,
                    "same" if same_calls else "DIFFER",
                    _median_ms(lambda: split(a, b), args.repeats),
                    _median_ms(lambda: np.matmul(a, b), args.repeats)))
    print("max diff: largest |split - unsplit| in units of eps * max|result|")


if __name__ == "__main__":
    main()
