"""Tests of the fused IndRNN recurrence Op (indrnn.ops.recurrence) in every
backend.

Truth is (a) a reference built with ``pytensor.scan`` the way
``CustomRecurrentLayer._step_function`` builds the IndRNN step
(``rectify``/``tanh``/identity of ``grad_clip(u * h + x)``, masked with
``pt.switch``), evaluated with the Python linker, and (b) finite
differences (``verify_grad``), which cannot see ``grad_clip`` and are
therefore run without it.

Compile budget: the numpy ``perform`` path (mode FAST_COMPILE) runs the
full product activation x clip x mask x direction; the Numba, C and JAX
backends run a covering subset (every activation with and without clip,
mask and backwards) built into ONE compiled function per backend.
"""
import itertools

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import NullTypeGradError, grad_clip, verify_grad

from indrnn.lasagne import nonlinearities
from indrnn.link import JAX_REGISTERED
from indrnn.ops import IndRNNRecurrence, activation_name, indrnn_recurrence

T, B, N = 5, 3, 4
CLIP = 0.375  # exact in float32: floatX=float32 rounds the scan bounds
ACTIVATIONS = ("relu", "tanh", "identity")
NONLINEARITY = {"relu": nonlinearities.rectify,
                "tanh": nonlinearities.tanh,
                "identity": nonlinearities.identity}
# (activation, grad_clip, masked, backwards); a covering subset: each
# activation is run with and without each of clip, mask and backwards.
BACKEND_CONFIGS = [
    ("relu", CLIP, True, True), ("relu", 0, False, False),
    ("tanh", CLIP, False, True), ("tanh", 0, True, False),
    ("identity", CLIP, True, False), ("identity", 0, False, True),
]
ALL_CONFIGS = list(itertools.product(ACTIVATIONS, (0, CLIP), (False, True),
                                     (False, True)))
# The Ops' numpy perform.  Compile with _py_compile: without cxx="" scan
# still compiles C thunks for its inner functions (~25 s cold).
PY_MODE = pytensor.compile.mode.Mode(linker="py", optimizer="fast_compile")


def _py_function(*args, **kwargs):
    """pytensor.function in PY_MODE, with no C code anywhere."""
    with pytensor.config.change_flags(cxx=""):
        return pytensor.function(*args, mode=PY_MODE, **kwargs)


def _data(seed=0, exact_zeros=True):
    """Inputs in float64; with `exact_zeros`, the first step of batch 0
    (in either direction) has a pre-activation of exactly 0, where relu's
    gradient is 0.5."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, B, N))
    u = rng.uniform(-1.2, 1.2, size=N)
    h0 = rng.normal(size=(B, N))
    # non-binary values: the switch keeps the new state where non-zero
    mask = rng.choice([0.0, 1.0, 2.0], size=(T, B), p=[0.35, 0.5, 0.15])
    weights = rng.normal(size=(T, B, N))
    if exact_zeros:
        h0[0] = 0.0
        x[0, 0, :2] = 0.0
        x[-1, 0, :2] = 0.0
        mask[0, 0] = mask[-1, 0] = 1.0
    return dict(x=x, u=u, h0=h0, mask=mask, weights=weights)


def _variables(dtype="float64"):
    return dict(x=pt.tensor3("x", dtype=dtype), u=pt.vector("u", dtype=dtype),
                h0=pt.matrix("h0", dtype=dtype),
                mask=pt.matrix("mask", dtype=dtype),
                weights=pt.tensor3("weights", dtype=dtype))


def scan_reference(x, u, h0, mask, activation, clip, backwards):
    """The IndRNN recurrence as the layers build it with scan."""
    f = NONLINEARITY[activation]

    def step(x_t, h_prev, u):
        pre = h_prev * u + x_t
        if clip:
            pre = grad_clip(pre, -clip, clip)
        return f(pre)

    def step_masked(x_t, m_t, h_prev, u):
        return pt.switch(m_t, step(x_t, h_prev, u), h_prev)

    if mask is not None:
        seqs, fn = [x, mask.dimshuffle(0, 1, "x")], step_masked
    else:
        seqs, fn = [x], step
    return pytensor.scan(fn, sequences=seqs, outputs_info=[h0],
                         non_sequences=[u], go_backwards=backwards,
                         strict=True, return_updates=False)


def _outputs(v, config, fused):
    """[H, cost gradients wrt x, u, h0] for one configuration."""
    activation, clip, masked, backwards = config
    mask = v["mask"] if masked else None
    if fused:
        H = indrnn_recurrence(v["x"], v["u"], v["h0"], mask, activation,
                              clip, backwards)
    else:
        H = scan_reference(v["x"], v["u"], v["h0"], mask, activation, clip,
                           backwards)
    # a cost that weighs every state differently (a term on H[-1] alone
    # would add seconds of Numba compilation; see test_only_return_final)
    cost = (H * v["weights"]).sum()
    return [H] + pytensor.grad(cost, [v["x"], v["u"], v["h0"]])


def _compile(configs, fused, mode, dtype="float64"):
    v = _variables(dtype)
    outs = []
    for config in configs:
        outs += _outputs(v, config, fused)
    inputs = [v[k] for k in ("x", "u", "h0", "mask", "weights")]
    if mode is PY_MODE:
        fn = _py_function(inputs, outs, on_unused_input="ignore")
    else:
        fn = pytensor.function(inputs, outs, mode=mode,
                               on_unused_input="ignore")

    def run(data):
        values = fn(*[data[k].astype(dtype) for k in
                      ("x", "u", "h0", "mask", "weights")])
        return [values[4 * i:4 * i + 4] for i in range(len(configs))]
    return run


@pytest.fixture(scope="module")
def data():
    return _data()


@pytest.fixture(scope="module")
def reference(data):
    """Scan results of every configuration, keyed by configuration."""
    results = _compile(ALL_CONFIGS, fused=False, mode=PY_MODE)(data)
    return dict(zip(ALL_CONFIGS, results))


def _assert_close(got, expected, config, rtol=1e-10, atol=1e-12):
    for name, g, e in zip(("H", "dx", "du", "dh0"), got, expected):
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol,
                                   err_msg="%s of %r" % (name, config))


def test_reference_exercises_the_options(data, reference):
    # guard against a vacuous comparison: clipping changes the gradient,
    # the mask and the direction change the states
    for activation in ACTIVATIONS:
        plain = reference[(activation, 0, False, False)]
        assert not np.allclose(plain[1],
                               reference[(activation, CLIP, False, False)][1])
        assert not np.allclose(plain[0],
                               reference[(activation, 0, True, False)][0])
        assert not np.allclose(plain[0],
                               reference[(activation, 0, False, True)][0])


def test_perform_matches_scan(data, reference):
    results = _compile(ALL_CONFIGS, fused=True, mode=PY_MODE)(data)
    for config, got in zip(ALL_CONFIGS, results):
        _assert_close(got, reference[config], config)


def test_relu_gradient_at_zero_is_half():
    # h0 = 0 and x_0 = 0: pre-activation exactly 0 at the first step
    x, u, h0 = pt.tensor3(dtype="float64"), pt.vector(dtype="float64"), \
        pt.matrix(dtype="float64")
    H = indrnn_recurrence(x, u, h0, activation="relu")
    dx = pytensor.grad(H[0].sum(), x)
    fn = _py_function([x, u, h0], dx)
    got = fn(np.zeros((1, 1, 2)), np.ones(2), np.zeros((1, 2)))
    assert got.tolist() == [[[0.5, 0.5]]]


@pytest.mark.parametrize("mode", [None, "CVM"], ids=["numba", "cvm"])
def test_backend_matches_scan(mode, data, reference):
    results = _compile(BACKEND_CONFIGS, fused=True, mode=mode)(data)
    for config, got in zip(BACKEND_CONFIGS, results):
        _assert_close(got, reference[config], config)


@pytest.mark.parametrize("mode", [None, "CVM"], ids=["numba", "cvm"])
def test_backend_float32(mode, data, reference):
    configs = [("tanh", CLIP, True, True)]
    results = _compile(configs, fused=True, mode=mode, dtype="float32")(data)
    for config, got in zip(configs, results):
        assert all(g.dtype == np.float32 for g in got)
        _assert_close(got, reference[config], config, rtol=1e-4, atol=1e-5)


@pytest.fixture
def jax_x64():
    """Enable float64 in JAX for the test (PyTensor sets it from floatX,
    float32 in this test session, when its JAX dispatch is imported)."""
    import jax  # a test dependency (the `test` extra)
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


def test_jax_matches_scan_and_default_mode(jax_x64, data, reference):
    # jax is in the `test` extra: its absence must fail, not skip
    assert JAX_REGISTERED
    results = _compile(BACKEND_CONFIGS, fused=True, mode="JAX")(data)
    for config, got in zip(BACKEND_CONFIGS, results):
        _assert_close(got, reference[config], config)
    # and the default (Numba) mode, as the issue asks
    default = _compile(BACKEND_CONFIGS[:2], fused=True, mode=None)(data)
    for config, got, expected in zip(BACKEND_CONFIGS, results, default):
        _assert_close(got, expected, config)


def test_only_return_final(data, reference):
    v = _variables()
    config = ("tanh", CLIP, True, True)
    h = indrnn_recurrence(v["x"], v["u"], v["h0"], v["mask"], "tanh", CLIP,
                          backwards=True, only_return_final=True)
    ref = scan_reference(v["x"], v["u"], v["h0"], v["mask"], "tanh", CLIP,
                         True)[-1]
    outs = []
    for last in (h, ref):
        cost = (last * v["weights"][0]).sum()
        outs += [last] + pytensor.grad(cost, [v["x"], v["u"], v["h0"]])
    fn = _py_function([v[k] for k in ("x", "u", "h0", "mask", "weights")],
                      outs)
    got = fn(*[data[k] for k in ("x", "u", "h0", "mask", "weights")])
    assert got[0].shape == (B, N)
    _assert_close(got[:4], got[4:], config)


def _verify(activation, masked, backwards, mode, seed=1):
    data = _data(seed, exact_zeros=False)
    mask = pt.as_tensor(data["mask"]) if masked else None

    def fun(x, u, h0):
        return indrnn_recurrence(x, u, h0, mask, activation,
                                 backwards=backwards)
    with pytensor.config.change_flags(cxx="" if mode is PY_MODE else
                                      pytensor.config.cxx):
        verify_grad(fun, [data["x"], data["u"], data["h0"]],
                    rng=np.random.default_rng(seed), mode=mode)


@pytest.mark.parametrize("masked", [False, True], ids=["nomask", "mask"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_verify_grad_perform(activation, masked):
    _verify(activation, masked, backwards=masked, mode=PY_MODE)


@pytest.mark.parametrize("mode,activation,masked", [
    (None, "relu", True), ("CVM", "tanh", True), ("CVM", "identity", False),
], ids=["numba-relu-mask", "cvm-tanh-mask", "cvm-identity"])
def test_verify_grad_backend(mode, activation, masked):
    _verify(activation, masked, backwards=True, mode=mode)


def test_verify_grad_jax(jax_x64):
    _verify("tanh", True, backwards=False, mode="JAX")


def test_second_order_is_a_clear_error():
    v = _variables()
    H = indrnn_recurrence(v["x"], v["u"], v["h0"], activation="tanh")
    du = pytensor.grad(H.sum(), v["u"])
    with pytest.raises(NullTypeGradError, match="second-order"):
        pytensor.grad(du.sum(), v["u"])


def test_mask_has_no_gradient_path():
    v = _variables()
    H = indrnn_recurrence(v["x"], v["u"], v["h0"], v["mask"])
    assert pytensor.grad(H.sum(), v["mask"],
                         disconnected_inputs="ignore").eval(
        {v["mask"]: np.ones((T, B))}).tolist() == np.zeros((T, B)).tolist()


def test_infer_shape_and_dtype():
    v = _variables("float32")
    H = indrnn_recurrence(v["x"], v["u"], v["h0"])
    assert H.dtype == "float32"
    node = H.owner
    shapes = [tuple(inp.shape) for inp in node.inputs]
    assert node.op.infer_shape(node, shapes) == [shapes[0]]
    dx, du, dh0 = pytensor.grad(H.sum(), [v["x"], v["u"], v["h0"]])
    grad_node = dx.owner
    shapes = [tuple(inp.shape) for inp in grad_node.inputs]
    assert grad_node.op.infer_shape(grad_node, shapes) == shapes[:3]
    assert (dx.dtype, du.dtype, dh0.dtype) == ("float32",) * 3
    # mixed dtypes are upcast, like an Elemwise would
    assert indrnn_recurrence(v["x"], _variables()["u"], v["h0"]).dtype == \
        "float64"


def test_invalid_arguments():
    v = _variables()
    with pytest.raises(ValueError, match="activation"):
        IndRNNRecurrence("sigmoid")
    with pytest.raises(ValueError, match="grad_clip"):
        IndRNNRecurrence("relu", grad_clip=-1)
    with pytest.raises(TypeError, match="dimensions"):
        indrnn_recurrence(v["h0"], v["u"], v["h0"])
    with pytest.raises(TypeError, match="floating-point"):
        indrnn_recurrence(pt.tensor3(dtype="int32"), pt.ivector(),
                          pt.imatrix())


@pytest.mark.parametrize("mode", [PY_MODE, None, "CVM"],
                         ids=["perform", "numba", "cvm"])
def test_shape_mismatch_raises(mode):
    v = _variables()
    inputs = [v["x"], v["u"], v["h0"]]
    H = indrnn_recurrence(*inputs)
    fn = (_py_function(inputs, H) if mode is PY_MODE
          else pytensor.function(inputs, H, mode=mode))
    with pytest.raises(ValueError):
        fn(np.zeros((2, 3, 4)), np.zeros(5), np.zeros((3, 4)))


def test_activation_name():
    assert activation_name(nonlinearities.rectify) == "relu"
    assert activation_name(nonlinearities.tanh) == "tanh"
    assert activation_name(nonlinearities.linear) == "identity"
    assert activation_name(None) == "identity"
    assert activation_name(nonlinearities.sigmoid) is None
