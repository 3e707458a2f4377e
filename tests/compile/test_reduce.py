"""indrnn.compile.reduce: the one-axis sum kernel of the node linker.

Checked against exact sums (``math.fsum``) and PyTensor's own Numba code
over axes, layouts (C, F, strided, reversed), empty axes and dtypes, and
for which nodes it declines.
"""
import math

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.compile.reduce import sum_function


def _layouts(rng, shape, dtype):
    base = rng.normal(size=shape).astype(dtype)
    yield "C", base
    yield "F", np.asfortranarray(base)
    big = rng.normal(size=tuple(2 * n + 1 for n in shape)).astype(dtype)
    yield "strided", big[tuple(slice(1, None, 2) for _ in shape)]
    yield "reversed", base[::-1]


def _exact_sum(x, axis, out_dtype):
    moved = np.moveaxis(x.astype(np.float64), axis, -1)
    flat = moved.reshape(math.prod(moved.shape[:-1]), moved.shape[-1])
    sums = np.array([math.fsum(row) for row in flat], dtype=np.float64)
    return sums.reshape(moved.shape[:-1]).astype(out_dtype)


@pytest.mark.parametrize("dtype, acc", [("float32", "float64"),
                                        ("float64", "float64"),
                                        ("float32", "float32")])
@pytest.mark.parametrize("shape", [(7,), (5, 9), (3, 4, 6), (0, 3), (4, 0)])
def test_matches_exact_sums(shape, dtype, acc):
    rng = np.random.default_rng(len(shape))
    var = pt.tensor("x", dtype=dtype, shape=(None,) * len(shape))
    for axis in range(len(shape)):
        node = var.sum(axis=axis, acc_dtype=acc).owner
        func = sum_function(node)
        assert func is not None
        for layout, x in _layouts(rng, shape, dtype):
            got = func(x)
            want = _exact_sum(x, axis, dtype)
            assert got.dtype == np.dtype(dtype)
            assert got.shape == want.shape
            # sequential sums in the accumulator dtype: a few roundings of
            # that dtype away from the exact sum
            eps = np.finfo(acc).eps * max(shape) * 4
            np.testing.assert_allclose(got, want, rtol=eps, atol=eps,
                                       err_msg="%s axis %d" % (layout, axis))


def test_matches_pytensor_numba_in_a_graph():
    """In a compiled function (bias gradient, softmax normaliser shapes):
    the linker uses the kernel, and results equal PyTensor's to round-off."""
    x = pt.matrix("x", dtype="float32")
    outputs = [x.sum(axis=0, acc_dtype="float64"),
               pt.exp(x).sum(axis=1, acc_dtype="float64")]
    ours = pytensor.function([x], outputs, mode="INDRNN")
    theirs = pytensor.function([x], outputs, mode="NUMBA")
    kernels = [node for node in ours.maker.fgraph.apply_nodes
               if sum_function(node) is not None]
    assert kernels
    value = np.random.default_rng(3).normal(size=(2000, 128)).astype(
        "float32")
    for mine, ref in zip(ours(value), theirs(value), strict=True):
        assert mine.dtype == ref.dtype
        np.testing.assert_allclose(mine, ref, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda x: x.sum(axis=(0, 1)),  # two axes
    lambda x: x.sum(),  # all axes
    lambda x: x.max(axis=0),  # not a sum
    lambda x: x.prod(axis=0),
    lambda x: pt.cast(x, "int32").sum(axis=0),  # integers
])
def test_declines_other_reductions(make):
    x = pt.matrix("x", dtype="float32")
    node = make(x).owner
    while node.op.__class__.__name__ in ("Elemwise", "DimShuffle"):
        node = node.inputs[0].owner
    assert sum_function(node) is None
