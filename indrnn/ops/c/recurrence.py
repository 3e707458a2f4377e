"""C implementation of the fused IndRNN recurrence (``mode="CVM"``).

:class:`indrnn.ops.recurrence.IndRNNRecurrence` and
:class:`~indrnn.ops.recurrence.IndRNNRecurrenceGrad` are ``COp``\\ s whose
``c_code`` / ``c_support_code`` return the code built here.  The kernels are
plain serial loops, time outermost and the ``B * N`` independent chains
innermost, so that each step streams through contiguous memory and the
compiler can vectorise the activation; one version per float type
(``float`` and ``double``) sits in the support code, the activation is
chosen once per step, outside the inner loop.

Inputs that are not C-contiguous (for example a dimshuffled batch-first
input) are copied once to a contiguous buffer; outputs are always
allocated C-contiguous.

The kernels are marked ``noinline``.  PyTensor compiles them with ``-O3``
and the ``-march`` flags equivalent to ``-march=native`` (see
``GCC_compiler.compile_args``), and compiled alone they run as fast as the
Numba kernels; but when GCC inlined them into the node's ``c_code`` the
backward kernel ran 2.8x slower (T=784, B=32, N=128, float32: 6.6 ms
against 2.35 ms; the forward was unaffected), most likely because the
``__restrict__`` guarantees of the parameters do not survive inlining
into code whose pointers come from ``PyArray_DATA``.  A function call per
node costs nothing.
"""

__all__ = ["C_CODE_VERSION", "support_code", "compile_args", "forward_code",
           "backward_code"]

#: Bump when the generated C code changes (part of PyTensor's cache key).
C_CODE_VERSION = (6,)

_ACTIVATION_CODES = {"relu": 0, "tanh": 1, "identity": 2}

# d = g * f'(pre) from the stored state hk[i] (and, for relu at h = 0, the
# recomputed pre-activation; 0.5 where it is exactly 0)
_DERIVATIVES = {
    # h > 0 implies pre > 0, so the two indicator terms never add up
    "relu": "g * ((@T@)(hk[i] > 0) "
            "+ (@T@)0.5 * (@T@)(xt[i] + u[n] * hp[i] == 0))",
    "tanh": "g * ((@T@)1 - hk[i] * hk[i])",
    "identity": "g",
}

# One forward kernel per C float type (relu returns NaN for NaN, like
# 0.5 * (x + |x|) does) and one backward kernel per float type and
# activation; relu's derivative is 1 for h > 0, 0.5 where the
# pre-activation is exactly 0 and 0 below, the gradient of 0.5 * (x + |x|).
_FORWARD = r"""
static INDRNN_NOINLINE void indrnn_v1_forward_@T@(
    const @T@* __restrict__ x, const @T@* __restrict__ u,
    const @T@* __restrict__ h0, const @T@* __restrict__ m,
    @T@* __restrict__ H,
    npy_intp T, npy_intp B, npy_intp N, int act, int backwards)
{
    const npy_intp BN = B * N;
    for (npy_intp k = 0; k < T; ++k) {
        const npy_intp t = backwards ? T - 1 - k : k;
        const @T@* xt = x + t * BN;
        const @T@* hp = (k > 0) ? H + (k - 1) * BN : h0;
        @T@* ht = H + k * BN;
        for (npy_intp b = 0; b < B; ++b) {
            const @T@* __restrict__ xb = xt + b * N;
            const @T@* __restrict__ hpb = hp + b * N;
            @T@* __restrict__ hb = ht + b * N;
            if (m != NULL && m[t * B + b] == 0) {
                memcpy(hb, hpb, N * sizeof(@T@));
                continue;
            }
            switch (act) {
            case 0:
                for (npy_intp n = 0; n < N; ++n) {
                    const @T@ p = xb[n] + u[n] * hpb[n];
                    hb[n] = (p <= 0) ? (@T@)0 : p;
                }
                break;
            case 1:
                for (npy_intp n = 0; n < N; ++n)
                    hb[n] = @TANH@(xb[n] + u[n] * hpb[n]);
                break;
            default:
                for (npy_intp n = 0; n < N; ++n)
                    hb[n] = xb[n] + u[n] * hpb[n];
            }
        }
    }
}

"""

_BACKWARD = r"""
static INDRNN_NOINLINE void indrnn_v1_backward_@T@_@ACT@(
    const @T@* __restrict__ x, const @T@* __restrict__ u,
    const @T@* __restrict__ h0, const @T@* __restrict__ m,
    const @T@* __restrict__ H, const @T@* __restrict__ dH,
    @T@* __restrict__ dx, @T@* __restrict__ du, @T@* __restrict__ carry,
    npy_intp T, npy_intp B, npy_intp N, @T@ clip, int backwards)
{
    const npy_intp BN = B * N;
    for (npy_intp n = 0; n < N; ++n) du[n] = 0;
    for (npy_intp i = 0; i < BN; ++i) carry[i] = 0;
    for (npy_intp k = T - 1; k >= 0; --k) {
        const npy_intp t = backwards ? T - 1 - k : k;
        const @T@* xt = x + t * BN;
        const @T@* hp = (k > 0) ? H + (k - 1) * BN : h0;
        const @T@* hk = H + k * BN;
        const @T@* dHk = dH + k * BN;
        @T@* dxt = dx + t * BN;
        for (npy_intp b = 0; b < B; ++b) {
            const npy_intp o = b * N;
            if (m != NULL && m[t * B + b] == 0) {
                /* switch: the new state gets no gradient, the previous
                   state all of it; the clipped pre-activation gradient
                   is clip(0) = 0 */
                for (npy_intp n = 0; n < N; ++n) {
                    dxt[o + n] = 0;
                    carry[o + n] += dHk[o + n];
                }
                continue;
            }
            /* the activation's derivative is written without branches
               (a relu branch on random data cost 8x in mispredictions);
               the loop-invariant clip test is hoisted */
            if (clip > 0) {
                for (npy_intp n = 0; n < N; ++n) {
                    const npy_intp i = o + n;
                    const @T@ g = dHk[i] + carry[i];
                    @T@ d = @DERIV@;
                    d = (d > clip) ? clip : ((d < -clip) ? -clip : d);
                    dxt[i] = d;
                    du[n] += d * hp[i];
                    carry[i] = d * u[n];
                }
            } else {
                for (npy_intp n = 0; n < N; ++n) {
                    const npy_intp i = o + n;
                    const @T@ g = dHk[i] + carry[i];
                    const @T@ d = @DERIV@;
                    dxt[i] = d;
                    du[n] += d * hp[i];
                    carry[i] = d * u[n];
                }
            }
        }
    }
}
"""


def support_code():
    """C support code with the forward and backward kernels.

    Returns
    -------
    str
        Kernels for ``float`` and ``double``; identical for every node, so
        PyTensor includes it once per module.

    Examples
    --------
    >>> "indrnn_v1_forward_double" in support_code()
    True
    """
    code = ("#include <string.h>\n#include <math.h>\n"
            "#ifndef INDRNN_NOINLINE\n"
            "#if defined(__GNUC__) || defined(__clang__)\n"
            "#define INDRNN_NOINLINE __attribute__((noinline))\n"
            "#else\n#define INDRNN_NOINLINE\n#endif\n#endif\n")
    for ctype, tanh in (("float", "tanhf"), ("double", "tanh")):
        code += _FORWARD.replace("@T@", ctype).replace("@TANH@", tanh)
        for act, deriv in _DERIVATIVES.items():
            code += (_BACKWARD.replace("@DERIV@", deriv)
                     .replace("@ACT@", act).replace("@T@", ctype))
    return code


def compile_args():
    """Extra compiler flags of the recurrence Ops.

    ``-fno-trapping-math`` lets GCC compute relu's derivative without a
    branch (it may then evaluate the pre-activation where it is not
    needed, which only matters for floating-point exception flags);
    with a branch, random signs made the backward pass about 8x slower.

    Returns
    -------
    list of str
    """
    return ["-fno-trapping-math"]


def _types(node):
    dtype = node.inputs[0].type.dtype
    if dtype == "float32":
        return "float", "NPY_FLOAT32"
    if dtype == "float64":
        return "double", "NPY_FLOAT64"
    raise NotImplementedError("C code for the IndRNN recurrence exists for "
                              "float32 and float64, not %s" % dtype)


def _prologue(names, masked, fail, extra_check=""):
    """Shape checks and contiguous copies of the inputs ``names``."""
    x, u, h0 = names[:3]
    mask_check = ""
    if masked:
        mask_check = (" || PyArray_NDIM(%(m)s) != 2 || PyArray_DIMS(%(m)s)[0]"
                      " != T || PyArray_DIMS(%(m)s)[1] != B" % {"m": names[3]})
    code = """
    npy_intp T = PyArray_DIMS(%(x)s)[0];
    npy_intp B = PyArray_DIMS(%(x)s)[1];
    npy_intp N = PyArray_DIMS(%(x)s)[2];
    if (PyArray_DIMS(%(u)s)[0] != N || PyArray_DIMS(%(h0)s)[0] != B
        || PyArray_DIMS(%(h0)s)[1] != N%(mask_check)s%(extra_check)s) {
        PyErr_SetString(PyExc_ValueError, "IndRNN recurrence: inconsistent "
            "shapes; expected x (T, B, N), u (N,), h0 (B, N), mask (T, B), "
            "H and dH (T, B, N)");
        %(fail)s
    }
    """ % dict(x=x, u=u, h0=h0, mask_check=mask_check,
               extra_check=extra_check, fail=fail)
    for i, name in enumerate(names):
        code += ("PyArrayObject* c_in%d = PyArray_GETCONTIGUOUS(%s);\n"
                 % (i, name))
    return code


def _release(n_inputs):
    return "".join("Py_XDECREF(c_in%d);\n" % i for i in range(n_inputs))


def _ensure_output(out, dims_expr, ndim, typenum):
    """(Re)allocate output ``out`` unless it is already C-contiguous with
    the right shape (PyTensor may hand back the previous call's buffer)."""
    checks = " || ".join("PyArray_DIMS(%s)[%d] != %s" % (out, i, d)
                         for i, d in enumerate(dims_expr))
    return """
    if (%(out)s == NULL || !PyArray_IS_C_CONTIGUOUS(%(out)s) || %(checks)s) {
        npy_intp dims_%(out)s[%(ndim)d] = {%(dims)s};
        Py_XDECREF(%(out)s);
        %(out)s = (PyArrayObject*)PyArray_EMPTY(%(ndim)d, dims_%(out)s,
                                                 %(typenum)s, 0);
    }
    """ % dict(out=out, checks=checks, ndim=ndim, dims=", ".join(dims_expr),
               typenum=typenum)


def _data(i, ctype):
    return "(const %s*)PyArray_DATA(c_in%d)" % (ctype, i)


def forward_code(op, node, inputs, outputs, sub):
    """``c_code`` of :class:`~indrnn.ops.recurrence.IndRNNRecurrence`.

    Parameters
    ----------
    op : IndRNNRecurrence
    node : Apply
    inputs, outputs : list of str
        C variable names of the node's inputs and outputs.
    sub : dict
        PyTensor's substitutions (``sub["fail"]``).

    Returns
    -------
    str
    """
    ctype, typenum = _types(node)
    (out,) = outputs
    n_in = len(inputs)
    code = "{\n" + _prologue(inputs, op.masked, sub["fail"])
    code += _ensure_output(out, ["T", "B", "N"], 3, typenum)
    mask = _data(3, ctype) if op.masked else "NULL"
    code += """
    if (%(out)s == NULL || c_in0 == NULL || c_in1 == NULL || c_in2 == NULL
        %(mask_ok)s) {
        %(release)s
        if (!PyErr_Occurred()) PyErr_NoMemory();
        %(fail)s
    }
    indrnn_v1_forward_%(ctype)s(%(x)s, %(u)s, %(h0)s, %(mask)s,
        (%(ctype)s*)PyArray_DATA(%(out)s), T, B, N, %(act)d, %(back)d);
    %(release)s
    }
    """ % dict(out=out, mask_ok="|| c_in3 == NULL" if op.masked else "",
               release=_release(n_in), fail=sub["fail"], ctype=ctype,
               x=_data(0, ctype), u=_data(1, ctype), h0=_data(2, ctype),
               mask=mask, act=_ACTIVATION_CODES[op.activation],
               back=int(op.backwards))
    return code


def backward_code(op, node, inputs, outputs, sub):
    """``c_code`` of :class:`~indrnn.ops.recurrence.IndRNNRecurrenceGrad`.

    Parameters
    ----------
    op : IndRNNRecurrenceGrad
    node : Apply
    inputs, outputs : list of str
        C variable names; inputs ``x, u, h0[, mask], H, dH``, outputs
        ``dx, du, dh0``.
    sub : dict

    Returns
    -------
    str
    """
    ctype, typenum = _types(node)
    dx, du, dh0 = outputs
    n_in = len(inputs)
    H, dH = inputs[-2:]
    extra = "".join(
        " || PyArray_DIMS(%s)[%d] != %s" % (name, i, d)
        for name in (H, dH) for i, d in enumerate(("T", "B", "N")))
    code = "{\n" + _prologue(inputs, op.masked, sub["fail"], extra)
    code += _ensure_output(dx, ["T", "B", "N"], 3, typenum)
    code += _ensure_output(du, ["N"], 1, typenum)
    code += _ensure_output(dh0, ["B", "N"], 2, typenum)
    ok = " || ".join("c_in%d == NULL" % i for i in range(n_in))
    code += """
    if (%(dx)s == NULL || %(du)s == NULL || %(dh0)s == NULL || %(ok)s) {
        %(release)s
        if (!PyErr_Occurred()) PyErr_NoMemory();
        %(fail)s
    }
    indrnn_v1_backward_%(ctype)s_%(act)s(%(x)s, %(u)s, %(h0)s, %(mask)s,
        %(H)s, %(dH)s, (%(ctype)s*)PyArray_DATA(%(dx)s),
        (%(ctype)s*)PyArray_DATA(%(du)s), (%(ctype)s*)PyArray_DATA(%(dh0)s),
        T, B, N, (%(ctype)s)%(clip)r, %(back)d);
    %(release)s
    }
    """ % dict(dx=dx, du=du, dh0=dh0, ok=ok, release=_release(n_in),
               fail=sub["fail"], ctype=ctype, x=_data(0, ctype),
               u=_data(1, ctype), h0=_data(2, ctype),
               mask=_data(3, ctype) if op.masked else "NULL",
               H=_data(n_in - 2, ctype), dH=_data(n_in - 1, ctype),
               act=op.activation, clip=float(op.grad_clip),
               back=int(op.backwards))
    return code
