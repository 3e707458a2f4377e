"""C implementation of the fused batch normalisation (``mode="CVM"``).

:class:`indrnn.ops.batchnorm.BatchNormTrain` and
:class:`~indrnn.ops.batchnorm.BatchNormTrainGrad` are ``COp``\\ s whose
``c_code`` / ``c_support_code`` return the code built here.  The input is
viewed as ``(n, C)`` (features last, contiguous); every pass streams over
the rows with the ``C`` features innermost, accumulating per-feature sums
in a ``double`` buffer, so the loops are contiguous and vectorise.
Kernels are ``noinline`` for the reason given in
:mod:`indrnn.ops.c.recurrence`.
"""

__all__ = ["C_CODE_VERSION", "support_code", "forward_code",
           "backward_code"]

#: Bump when the generated C code changes (part of PyTensor's cache key).
C_CODE_VERSION = (3,)

_KERNELS = r"""
static BNF_NOINLINE void bnf_v1_forward_@T@(
    const @T@* __restrict__ x, const @T@* __restrict__ gamma,
    const @T@* __restrict__ beta, @T@* __restrict__ y,
    @T@* __restrict__ mean, @T@* __restrict__ inv_std,
    double* __restrict__ acc, npy_intp n, npy_intp C, @T@ eps)
{
    /* one pass for both statistics, float64 sums of x shifted by its
       first row (see indrnn.ops.batchnorm) */
    double* __restrict__ shift = acc;
    double* __restrict__ s1 = acc + C;
    double* __restrict__ s2 = acc + 2 * C;
    for (npy_intp c = 0; c < C; ++c) {
        shift[c] = n > 0 ? (double)x[c] : 0.0;
        s1[c] = 0;
        s2[c] = 0;
    }
    for (npy_intp i = 0; i < n; ++i) {
        const @T@* __restrict__ xi = x + i * C;
        for (npy_intp c = 0; c < C; ++c) {
            const double d = (double)xi[c] - shift[c];
            s1[c] += d;
            s2[c] += d * d;
        }
    }
    for (npy_intp c = 0; c < C; ++c) {
        const double m1 = s1[c] / (double)n;
        double var = s2[c] / (double)n - m1 * m1;
        if (var < 0) var = 0;
        mean[c] = (@T@)(shift[c] + m1);
        inv_std[c] = (@T@)1 / @SQRT@((@T@)var + eps);
    }
    @T@* __restrict__ scale = (@T@*)(acc + 3 * C);
    for (npy_intp c = 0; c < C; ++c) scale[c] = gamma[c] * inv_std[c];
    for (npy_intp i = 0; i < n; ++i) {
        const @T@* __restrict__ xi = x + i * C;
        @T@* __restrict__ yi = y + i * C;
        for (npy_intp c = 0; c < C; ++c)
            yi[c] = (xi[c] - mean[c]) * scale[c] + beta[c];
    }
}

static BNF_NOINLINE void bnf_v1_backward_@T@(
    const @T@* __restrict__ x, const @T@* __restrict__ gamma,
    const @T@* __restrict__ mean, const @T@* __restrict__ inv_std,
    const @T@* __restrict__ dy, const @T@* __restrict__ dmean,
    const @T@* __restrict__ dinv_std, @T@* __restrict__ dx,
    @T@* __restrict__ dgamma, @T@* __restrict__ dbeta,
    double* __restrict__ work, npy_intp n, npy_intp C)
{
    double* __restrict__ sdy = work;
    double* __restrict__ sdyxc = work + C;
    double* __restrict__ sxc = work + 2 * C;
    for (npy_intp c = 0; c < 3 * C; ++c) work[c] = 0;
    for (npy_intp i = 0; i < n; ++i) {
        const @T@* __restrict__ xi = x + i * C;
        const @T@* __restrict__ gi = dy + i * C;
        for (npy_intp c = 0; c < C; ++c) {
            const @T@ d = xi[c] - mean[c];
            sdy[c] += gi[c];
            sdyxc[c] += gi[c] * d;
            sxc[c] += d;
        }
    }
    @T@* __restrict__ ca = (@T@*)(work + 3 * C);
    @T@* __restrict__ cb = ca + C;
    @T@* __restrict__ cc = cb + C;
    const double dn = (double)n;
    for (npy_intp c = 0; c < C; ++c) {
        const double g = gamma[c], s = inv_std[c];
        const double a = g * s;
        double dinv = sdyxc[c] * g;
        if (dinv_std != NULL) dinv += dinv_std[c];
        const double dvar = -0.5 * dinv * s * s * s;
        double dm = -a * sdy[c] - 2.0 * dvar * sxc[c] / dn;
        if (dmean != NULL) dm += dmean[c];
        ca[c] = (@T@)a;
        cb[c] = (@T@)(2.0 * dvar / dn);
        cc[c] = (@T@)(dm / dn);
        dgamma[c] = (@T@)(sdyxc[c] * s);
        dbeta[c] = (@T@)sdy[c];
    }
    for (npy_intp i = 0; i < n; ++i) {
        const @T@* __restrict__ xi = x + i * C;
        const @T@* __restrict__ gi = dy + i * C;
        @T@* __restrict__ di = dx + i * C;
        for (npy_intp c = 0; c < C; ++c)
            di[c] = gi[c] * ca[c] + (xi[c] - mean[c]) * cb[c] + cc[c];
    }
}
"""


def support_code():
    """C support code with the kernels for ``float`` and ``double``.

    Returns
    -------
    str

    Examples
    --------
    >>> "bnf_v1_backward_float" in support_code()
    True
    """
    code = ("#include <math.h>\n#include <stdlib.h>\n"
            "#ifndef BNF_NOINLINE\n"
            "#if defined(__GNUC__) || defined(__clang__)\n"
            "#define BNF_NOINLINE __attribute__((noinline))\n"
            "#else\n#define BNF_NOINLINE\n#endif\n#endif\n")
    for ctype, sqrt in (("float", "sqrtf"), ("double", "sqrt")):
        code += _KERNELS.replace("@T@", ctype).replace("@SQRT@", sqrt)
    return code


def _types(node):
    dtype = node.inputs[0].type.dtype
    return {"float32": ("float", "NPY_FLOAT32"),
            "float64": ("double", "NPY_FLOAT64")}[dtype]


def _prologue(names, fail):
    """Contiguous copies ``c_in<i>`` of the inputs, and ``n``, ``C``."""
    x = names[0]
    code = """
    int nd = PyArray_NDIM(%(x)s);
    npy_intp C = PyArray_DIMS(%(x)s)[nd - 1];
    npy_intp n = C > 0 ? PyArray_SIZE(%(x)s) / C : 0;
    """ % dict(x=x)
    for i, name in enumerate(names):
        code += ("PyArrayObject* c_in%d = PyArray_GETCONTIGUOUS(%s);\n"
                 % (i, name))
    ok = " || ".join("c_in%d == NULL" % i for i in range(len(names)))
    shape_bad = " || ".join(
        "PyArray_DIMS(c_in%d)[0] != C" % i
        for i, name in enumerate(names) if i > 0 and i != 4)
    if len(names) > 4:
        shape_bad += (" || !PyArray_SAMESHAPE(c_in0, c_in4)")
    code += """
    if (%(ok)s) {
        %(release)s
        %(fail)s
    }
    if (%(shape_bad)s) {
        %(release)s
        PyErr_SetString(PyExc_ValueError, "fused batch normalisation: "
            "inconsistent shapes; expected x (..., C), per-feature vectors "
            "(C,) and dy like x");
        %(fail)s
    }
    """ % dict(ok=ok, release=_release(len(names)), shape_bad=shape_bad,
               fail=fail)
    return code


def _release(n_inputs):
    return "".join("Py_XDECREF(c_in%d);\n" % i for i in range(n_inputs))


def _ensure_like(out, ref, typenum):
    """(Re)allocate ``out`` C-contiguous with ``ref``'s shape."""
    return """
    if (%(out)s == NULL || !PyArray_IS_C_CONTIGUOUS(%(out)s)
        || !PyArray_SAMESHAPE(%(out)s, %(ref)s)) {
        Py_XDECREF(%(out)s);
        %(out)s = (PyArrayObject*)PyArray_EMPTY(PyArray_NDIM(%(ref)s),
            PyArray_DIMS(%(ref)s), %(typenum)s, 0);
    }
    """ % dict(out=out, ref=ref, typenum=typenum)


def _ensure_vector(out, typenum):
    return """
    if (%(out)s == NULL || !PyArray_IS_C_CONTIGUOUS(%(out)s)
        || PyArray_NDIM(%(out)s) != 1 || PyArray_DIMS(%(out)s)[0] != C) {
        Py_XDECREF(%(out)s);
        %(out)s = (PyArrayObject*)PyArray_EMPTY(1, &C, %(typenum)s, 0);
    }
    """ % dict(out=out, typenum=typenum)


def _data(i, ctype):
    return "(const %s*)PyArray_DATA(c_in%d)" % (ctype, i)


def _out(name, ctype):
    return "(%s*)PyArray_DATA(%s)" % (ctype, name)


def forward_code(op, node, inputs, outputs, sub):
    """``c_code`` of :class:`~indrnn.ops.batchnorm.BatchNormTrain`.

    Parameters
    ----------
    op : BatchNormTrain
    node : Apply
    inputs, outputs : list of str
    sub : dict

    Returns
    -------
    str
    """
    ctype, typenum = _types(node)
    y, mean, inv_std = outputs
    code = "{\n" + _prologue(inputs, sub["fail"])
    code += _ensure_like(y, "c_in0", typenum)
    code += _ensure_vector(mean, typenum)
    code += _ensure_vector(inv_std, typenum)
    code += """
    /* shift, s1, s2 and the scale, per feature */
    double* work = (double*)malloc((C > 0 ? C : 1) * 4 * sizeof(double));
    if (%(y)s == NULL || %(mean)s == NULL || %(inv)s == NULL
        || work == NULL) {
        free(work);
        %(release)s
        if (!PyErr_Occurred()) PyErr_NoMemory();
        %(fail)s
    }
    bnf_v1_forward_%(ctype)s(%(x)s, %(g)s, %(b)s, %(yp)s, %(mp)s, %(ip)s,
        work, n, C, (%(ctype)s)%(eps)r);
    free(work);
    %(release)s
    }
    """ % dict(y=y, mean=mean, inv=inv_std, release=_release(3),
               fail=sub["fail"], ctype=ctype, x=_data(0, ctype),
               g=_data(1, ctype), b=_data(2, ctype), yp=_out(y, ctype),
               mp=_out(mean, ctype), ip=_out(inv_std, ctype),
               eps=float(op.epsilon))
    return code


def backward_code(op, node, inputs, outputs, sub):
    """``c_code`` of :class:`~indrnn.ops.batchnorm.BatchNormTrainGrad`.

    Parameters
    ----------
    op : BatchNormTrainGrad
    node : Apply
    inputs, outputs : list of str
        Inputs ``x, gamma, mean, inv_std, dy[, dmean, dinv_std]``,
        outputs ``dx, dgamma, dbeta``.
    sub : dict

    Returns
    -------
    str
    """
    ctype, typenum = _types(node)
    dx, dgamma, dbeta = outputs
    n_in = len(inputs)
    code = "{\n" + _prologue(inputs, sub["fail"])
    code += _ensure_like(dx, "c_in0", typenum)
    code += _ensure_vector(dgamma, typenum)
    code += _ensure_vector(dbeta, typenum)
    code += """
    /* 3 double sums and 3 coefficient vectors per feature */
    double* work = (double*)malloc((C > 0 ? C : 1) * 6 * sizeof(double));
    if (%(dx)s == NULL || %(dg)s == NULL || %(db)s == NULL || work == NULL) {
        free(work);
        %(release)s
        if (!PyErr_Occurred()) PyErr_NoMemory();
        %(fail)s
    }
    bnf_v1_backward_%(ctype)s(%(x)s, %(g)s, %(m)s, %(s)s, %(dy)s, %(dm)s,
        %(ds)s, %(dxp)s, %(dgp)s, %(dbp)s, work, n, C);
    free(work);
    %(release)s
    }
    """ % dict(dx=dx, dg=dgamma, db=dbeta, release=_release(n_in),
               fail=sub["fail"], ctype=ctype, x=_data(0, ctype),
               g=_data(1, ctype), m=_data(2, ctype), s=_data(3, ctype),
               dy=_data(4, ctype),
               dm=_data(5, ctype) if op.stat_grads else "NULL",
               ds=_data(6, ctype) if op.stat_grads else "NULL",
               dxp=_out(dx, ctype), dgp=_out(dgamma, ctype),
               dbp=_out(dbeta, ctype))
    return code
