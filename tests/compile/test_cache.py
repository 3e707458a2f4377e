"""indrnn.compile.cache: a stored function is the function of its graph.

Each test compiles into its own cache folder (``cache_dir`` patched) and
checks a loaded function against numpy on the *calling* process's shared
variables: its outputs, and that its updates land in them.
"""
import os
import pickle

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

from indrnn.compile import cache as compile_cache
from indrnn.compile.cache import cached_function, graph_key

MODE = "FAST_COMPILE"  # compiles nothing: the tests stay fast


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(compile_cache, "cache_dir", lambda: str(tmp_path))
    monkeypatch.delenv("INDRNN_COMPILE_CACHE", raising=False)
    return tmp_path


def _entries(folder):
    return sorted(p for p in os.listdir(folder) if p.endswith(".pkl"))


def _sgd_graph(w0, offset=0.0):
    """``loss = sum((x * w + offset) ** 2)``, one SGD step on ``w``."""
    w = pytensor.shared(np.asarray(w0, dtype="float64"), name="w")
    x = pt.vector("x", dtype="float64")
    loss = ((x * w + offset) ** 2).sum()
    updates = [(w, w - 0.125 * pytensor.grad(loss, w))]  # exact in float32
    return w, x, loss, updates


def _sgd_truth(w, x, offset=0.0):
    loss = ((x * w + offset) ** 2).sum()
    return loss, w - 0.125 * 2 * (x * w + offset) * x


def _no_compiling(*args, **kwargs):
    raise AssertionError("pytensor.function called: the entry was not used")


def test_loaded_function_runs_on_callers_shared_variables(cache_folder,
                                                          monkeypatch):
    x_val = np.array([1.0, -2.0, 0.5])
    w1, x1, loss1, upd1 = _sgd_graph([0.3, 0.2, -1.0])
    f1 = cached_function([x1], loss1, updates=upd1, mode=MODE)
    assert len(_entries(cache_folder)) == 1
    f1(x_val)

    # the same graph with other weights: loaded, not compiled
    w0 = np.array([2.0, -0.5, 0.25])
    w2, x2, loss2, upd2 = _sgd_graph(w0)
    with monkeypatch.context() as m:
        m.setattr(compile_cache.pytensor, "function", _no_compiling)
        f2 = cached_function([x2], loss2, updates=upd2, mode=MODE)
    w1_after = w1.get_value().copy()
    expected_loss, expected_w = _sgd_truth(w0, x_val)
    np.testing.assert_allclose(f2(x_val), expected_loss, rtol=1e-12)
    np.testing.assert_allclose(w2.get_value(), expected_w, rtol=1e-12)
    np.testing.assert_array_equal(w1.get_value(), w1_after)  # untouched
    # set_value on the caller's variable is seen by the loaded function
    w2.set_value(w0)
    np.testing.assert_allclose(f2(x_val), expected_loss, rtol=1e-12)
    assert len(_entries(cache_folder)) == 1


def test_key_ignores_shared_values_not_structure():
    w, x, loss, upd = _sgd_graph([1.0, 2.0])
    key = graph_key([x], [loss], upd)[0]
    w_b, x_b, loss_b, upd_b = _sgd_graph([5.0, -3.0])
    assert graph_key([x_b], [loss_b], upd_b)[0] == key
    # another constant, no update, another output order, another mode
    w_c, x_c, loss_c, upd_c = _sgd_graph([1.0, 2.0], offset=1.0)
    assert graph_key([x_c], [loss_c], upd_c)[0] != key
    assert graph_key([x], [loss], [])[0] != key
    assert graph_key([x], [loss, w], upd)[0] != graph_key(
        [x], [w, loss], upd)[0]
    assert graph_key([x], [loss], upd, mode="CVM")[0] != key
    # another dtype of the shared variable
    w_d = pytensor.shared(np.ones(2, dtype="float32"), name="w")
    loss_d = ((x * w_d) ** 2).sum()
    assert graph_key([x], [loss_d], [])[0] != graph_key(
        [x], [((x * w) ** 2).sum()], [])[0]


def test_different_graphs_get_their_own_entries(cache_folder):
    x_val = np.array([1.0, 2.0])
    w0 = np.array([0.5, -1.0])
    for offset in (0.0, 1.0):
        w, x, loss, upd = _sgd_graph(w0, offset)
        f = cached_function([x], loss, updates=upd, mode=MODE)
        np.testing.assert_allclose(f(x_val), _sgd_truth(w0, x_val, offset)[0],
                                   rtol=1e-12)
    assert len(_entries(cache_folder)) == 2


def test_disabled_by_environment(cache_folder, monkeypatch):
    monkeypatch.setenv("INDRNN_COMPILE_CACHE", "0")
    w, x, loss, upd = _sgd_graph([1.0])
    cached_function([x], loss, updates=upd, mode=MODE)
    assert _entries(cache_folder) == []


def test_damaged_entry_is_compiled_again(cache_folder):
    w, x, loss, upd = _sgd_graph([1.0, 2.0])
    cached_function([x], loss, updates=upd, mode=MODE)
    (entry,) = _entries(cache_folder)
    with open(os.path.join(cache_folder, entry), "wb") as f:
        f.write(b"not a pickle")
    w0 = np.array([3.0, 4.0])
    w, x, loss, upd = _sgd_graph(w0)
    with pytest.warns(RuntimeWarning, match="not usable"):
        f = cached_function([x], loss, updates=upd, mode=MODE)
    np.testing.assert_allclose(f(np.ones(2)), _sgd_truth(w0, np.ones(2))[0])
    with open(os.path.join(cache_folder, entry), "rb") as f:
        assert f.read(1) != b"n"  # replaced by a good entry
        f.seek(0)
        with pytest.raises(pickle.UnpicklingError):
            pickle.load(f)  # it needs the caller's shared variables


def test_numba_training_function_from_cache(cache_folder, monkeypatch):
    """The default mode end to end: compile_train_fn, fused IndRNN, Adam."""
    from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
    from indrnn.lasagne.layers import (InputLayer, get_all_params,
                                       get_output, set_all_param_values,
                                       get_all_param_values)
    from indrnn.run.functions import compile_train_fn

    def build():
        l_in = InputLayer((5, 2, 3))  # (time, batch, units)
        net = IndRNNLayer_onlyrecurrent(l_in, 3, grad_clipping=10.0)
        X = pt.tensor3("X", dtype="float32")
        loss = (get_output(net, X) ** 2).mean()
        params = get_all_params(net, trainable=True)
        return net, X, loss, params

    rng = np.random.default_rng(0)
    data = rng.normal(size=(5, 2, 3)).astype("float32")
    lr = np.float32(0.01)
    net1, X1, loss1, params1 = build()
    start = get_all_param_values(net1)
    f1 = compile_train_fn([X1], loss1, params1, U_bound=1.0)
    out1 = [f1(data, lr)[0] for _ in range(2)]
    end1 = get_all_param_values(net1)

    net2, X2, loss2, params2 = build()
    set_all_param_values(net2, start)
    with monkeypatch.context() as m:
        m.setattr(compile_cache.pytensor, "function", _no_compiling)
        f2 = compile_train_fn([X2], loss2, params2, U_bound=1.0)
    out2 = [f2(data, lr)[0] for _ in range(2)]
    np.testing.assert_array_equal(out2, out1)
    for a, b in zip(get_all_param_values(net2), end1):
        np.testing.assert_array_equal(a, b)


class _ApplyFunction(Op):
    """``fn(x)`` elementwise; ``fn`` is a prop (a closure cannot be keyed)."""

    __props__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn

    def make_node(self, x):
        x = pt.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = np.asarray(self.fn(inputs[0]), dtype=inputs[0].dtype)


def test_op_with_a_closure_is_compiled_not_cached(cache_folder):
    x_val = np.array([1.0, 2.0])
    for step in (1.0, 2.0):
        x = pt.vector("x", dtype="float64")
        op = _ApplyFunction(lambda v, step=step: v + step)
        f = cached_function([x], op(x), mode=MODE)
        np.testing.assert_array_equal(f(x_val), x_val + step)
    assert _entries(cache_folder) == []
