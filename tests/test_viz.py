"""Tests of indrnn.viz: the numbers behind the pictures, and each picture
command (indrnn.experiments.viz) writing a PNG.

The parameter file for the neuron and weight pictures comes from a real
(tiny, 20-step, FAST_COMPILE) run of indrnn.experiments.adding, shared by the
module.
"""
import os

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import indrnn.lasagne as lasagne

from indrnn.experiments import adding
from indrnn.experiments.viz import main as viz_main
from indrnn import viz

import matplotlib  # noqa: E402,F401  (the `test` extra; must not skip)

SEQ_LEN, HIDDEN = 50, 32
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    assert os.path.getsize(path) > 2000
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC


@pytest.fixture(scope="module")
def grads():
    return viz.gradient_over_time(seq_len=SEQ_LEN, hidden_units=HIDDEN,
                                  batch_size=4, seed=0, MAG=2, task=adding)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("adding")
    with pytensor.config.change_flags(mode="FAST_COMPILE"):
        rc = adding.main(["--model", "indrnn", "--hidden_units", "8",
                          "--seq_len", "20", "--batch_size", "4",
                          "--max_steps", "20", "--report_every", "5",
                          "--seed", "3", "--out", str(out)])
    assert rc == 0
    return out / "indrnn20.npz", out / "indrnn20.log"


def test_gradients_vanish_for_tanh_but_not_for_indrnn(grads):
    assert set(grads) == set(viz.MODELS)
    for g in grads.values():
        assert g.shape == (SEQ_LEN,) and np.all(np.isfinite(g))
    # The bound: per neuron, |d h_T / d h_t| = |u| ** (T - t) <= MAG for
    # every t, since |u| <= MAG ** (1/T); through two layers the gradient
    # of out_T w.r.t. x_t sums T - t + 1 such paths (layer 1 to layer 2 at
    # each step s in [t, T]), each at most MAG ** 2 times the one-step
    # path. So IndRNN's gradient can grow at most linearly in T, never
    # geometrically: every step stays within T * MAG ** 2 of step T.
    bound = SEQ_LEN * 2 ** 2
    g = grads["IndRNN (2 layers)"]
    assert g.min() > 0
    assert 1 / bound < g[0] / g[-1] < bound
    assert g.max() / g.min() < bound
    # The tanh RNN's (Lasagne's default recurrent init) vanishes
    # geometrically: by far more than orders of magnitude over 50 steps.
    tanh = grads["tanh RNN"]
    assert tanh[0] / tanh[-1] < 1e-6
    # And decreasingly towards the past.
    assert np.all(np.diff(np.log(tanh[tanh > 0])) > 0)


def test_gradient_matches_finite_differences():
    # The numbers are gradients: compare the tanh RNN's against central
    # differences of the same network's output (same seed, same data).
    g = viz.gradient_over_time(seq_len=6, hidden_units=4, batch_size=1,
                               seed=1, models=["tanh RNN"],
                               task=adding)["tanh RNN"]
    old = lasagne.random.get_rng()
    try:
        with pytensor.config.change_flags(floatX="float64"):
            x, _ = adding.generate_data(6, 1, np.random.RandomState(1))
            lasagne.random.set_rng(np.random.RandomState(1))
            net = adding.build_network(adding.make_parser().parse_args(
                ["--model", "rnn", "--act", "tanh", "--seq_len", "6",
                 "--hidden_units", "4", "--batch_size", "1"]))
            X = pt.tensor3(dtype="float64")
            f = pytensor.function(
                [X], lasagne.layers.get_output(net["out"], X).sum(),
                mode="FAST_COMPILE")
    finally:
        lasagne.random.set_rng(old)
    eps = 1e-6
    numeric = np.zeros((6, 2))
    for t in range(6):
        for c in range(2):
            up, down = x.copy(), x.copy()
            up[0, t, c] += eps
            down[0, t, c] -= eps
            numeric[t, c] = (f(up) - f(down)) / (2 * eps)
    np.testing.assert_allclose(g, np.sqrt((numeric ** 2).sum(axis=1)),
                               rtol=1e-4, atol=1e-12)


def test_gradients_command(tmp_path, grads, monkeypatch):
    # The command's computation is gradient_over_time (tested above);
    # reuse its numbers so the test compiles once.
    monkeypatch.setattr(viz, "gradient_over_time", lambda *a, **k: grads)
    out = tmp_path / "g.png"
    assert viz_main(["gradients", "--seq_len", str(SEQ_LEN),
                     "--out", str(out)]) == 0
    assert_png(out)


def test_neuron_activity_and_picture(tmp_path, trained):
    params, _ = trained
    a = viz.neuron_activity(str(params), seed=2, task=adding)
    T = 20    # from the file name
    assert a["x"].shape == (T, 2) and a["h1"].shape == (T, 8)
    assert a["h2"].shape == (T, 8)
    assert list(a["marks"]) == list(np.flatnonzero(a["x"][:, 1]))
    assert a["target"] == pytest.approx(a["x"][a["marks"], 0].sum())
    # The states follow the IndRNN recurrence with the file's weights:
    # relu(W x_t + b + u h_{t-1}) for the first layer.
    with np.load(params) as f:
        W, b, u = f["arr_1"], f["arr_2"], f["arr_3"]
    h = np.zeros(8)
    for t in range(T):
        h = np.maximum(a["x"][t] @ W + b + u * h, 0)
        np.testing.assert_allclose(a["h1"][t], h, rtol=1e-4, atol=1e-7)
    assert a["memory_neuron"] == np.argmax(np.abs(a["u2"]))
    out = tmp_path / "n.png"
    assert viz_main(["neurons", str(params), "--out", str(out)]) == 0
    assert_png(out)


def test_recurrent_weights_and_picture(tmp_path, trained):
    params, _ = trained
    w = viz.recurrent_weights(str(params), MAG=2, task=adding)
    assert w["seq_len"] == 20 and w["U_bound"] == pytest.approx(2 ** 0.05)
    with np.load(params) as f:
        np.testing.assert_array_equal(w["u"][0], f["arr_3"])
        np.testing.assert_array_equal(w["u"][1], f["arr_7"])
    # The experiment clips u to the MAG bound before every step.
    for u in w["u"]:
        assert np.abs(u).max() <= w["U_bound"] * (1 + 1e-6)
    out = tmp_path / "w.png"
    assert viz_main(["weights", str(params), "--out", str(out)]) == 0
    assert_png(out)


def test_read_log_and_curves(tmp_path, trained):
    _, log = trained
    data = viz.read_log(str(log))
    np.testing.assert_array_equal(data["step"], [5, 10, 15, 20])
    assert {"lr", "train_mse", "test_mse", "time"} <= set(data)
    with open(log) as f:
        first = [l for l in f if l.startswith("step 5 ")][0].split()
    assert data["test_mse"][0] == float(first[first.index("test_mse") + 1])
    # A CSV report file, as pixelmnist writes.
    table = tmp_path / "MNIST_indrnn.csv"
    table.write_text("step,learning_rate,train_loss,train_acc,test_acc,"
                     "time\n100,0.0002,2.1,0.2,0.25,1.5\n"
                     "200,0.0002,1.5,0.45,,3.0\n")
    rows = viz.read_log(str(table))
    np.testing.assert_array_equal(rows["train_loss"], [2.1, 1.5])
    assert np.isnan(rows["test_acc"][1])
    out = tmp_path / "c.png"
    assert viz_main(["curves", str(log), str(table), "--out", str(out)]) == 0
    assert_png(out)
    empty = tmp_path / "empty.log"
    empty.write_text("Compiling\n")
    with pytest.raises(ValueError, match="no report lines"):
        viz_main(["curves", str(empty), "--out", str(tmp_path / "e.png")])


def test_missing_matplotlib_says_how_to_install(monkeypatch, capsys):
    import builtins
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.split(".")[0] == "matplotlib":
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(SystemExit) as exc:
        viz_main(["curves", "some.log"])
    assert "pip install matplotlib" in str(exc.value)


def test_the_library_does_not_import_experiments():
    """indrnn/ builds no experiment network itself: the command passes the
    adding experiment in (nothing under indrnn/ imports
    indrnn.experiments)."""
    import pathlib
    import re
    root = pathlib.Path(viz.__file__).parent
    pattern = re.compile(r"^\s*(from|import)\s+(indrnn\.)?experiments\b",
                         re.M)
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if pattern.search(p.read_text())]
    assert offenders == []
    with pytest.raises(SystemExit, match="indrnn.experiments.viz"):
        viz.main(["gradients"])
