"""Pictures for teaching: the paper's analyses as PNG files.

Each picture is one command, ``python -m indrnn.experiments.viz <picture> ...``
(or ``indrnn-viz <picture> ...``):

gradients
    ``|d out_T / d x_t|`` over the time steps ``t`` for a tanh RNN, a ReLU
    RNN with identity initialisation, an LSTM and the 2-layer IndRNN of the
    adding experiment, at initialisation, on the same adding-problem input
    (log scale): vanishing gradients versus IndRNN's regulated ones.
neurons
    A trained 2-layer IndRNN (a parameter file of
    ``indrnn.experiments.adding``) on one adding sequence: the first-layer
    neurons against the marked inputs, and the second-layer neuron with the
    longest memory (the paper's Fig. 3).
weights
    Histograms of the recurrent weights ``u`` of each layer in such a file,
    with the bounds the ``MAG`` constraint puts on them, and the gain
    ``|u| ** seq_len`` each neuron has over a whole sequence.
curves
    Learning curves from experiment logs: the ``.log`` files of the
    training loop (``step N lr .. train_mse .. test_mse ..``) and the
    ``.csv`` report files (pixelmnist, action recognition).

The numbers behind each picture come from a function without matplotlib
(:func:`gradient_over_time`, :func:`neuron_activity`,
:func:`recurrent_weights`, :func:`read_log`); matplotlib (the ``plot``
extra) is only needed to draw.

The networks are the adding experiment's, which is above the library:
the functions that build one take it as ``task`` (the module
``indrnn.experiments.adding``, or anything with its ``make_parser``,
``generate_data``, ``build_network`` and ``network_globals``), and the
command that passes it in is ``experiments/viz.py``; this module imports
nothing from ``experiments``.

Examples
--------
::

    python -m indrnn.experiments.viz gradients --out docs/images/gradients.png
    python -m indrnn.experiments.viz neurons runs/adding/indrnn100.npz
    python -m indrnn.experiments.viz weights runs/adding/indrnn100.npz --MAG 2
    python -m indrnn.experiments.viz curves runs/adding/indrnn100.log
"""
import argparse
import csv
import math
import os
import re

import numpy as np

__all__ = ["MODELS", "gradient_over_time", "neuron_activity",
           "recurrent_weights", "read_log", "plot_gradients",
           "plot_neurons", "plot_weights", "plot_curves", "main"]

INSTALL_HINT = ("matplotlib is needed to draw the pictures: "
                "pip install matplotlib  (or pip install -e '.[plot]')")

#: The models of :func:`gradient_over_time`: label -> flags of the adding
#: experiment that build it.
MODELS = {
    "tanh RNN": ["--model", "rnn", "--act", "tanh"],
    "ReLU RNN (identity init)": ["--model", "rnn", "--act", "relu"],
    "LSTM": ["--model", "lstm"],
    "IndRNN (2 layers)": ["--model", "indrnn", "--act", "relu"],
}


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend, or SystemExit."""
    try:
        import matplotlib
    except ImportError:
        raise SystemExit(INSTALL_HINT) from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def _adding_args(task, flags):
    return task.make_parser().parse_args([str(f) for f in flags])


def _save(fig, out):
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(out, dpi=90)
    import matplotlib.pyplot as plt
    plt.close(fig)
    return out


# ------------------------------------------------------------- gradients

def gradient_over_time(seq_len=100, hidden_units=128, batch_size=8, seed=0,
                       MAG=2, models=None, mode="FAST_COMPILE", *, task):
    """``|d out_T / d x_t|`` per time step for the adding-problem networks.

    Every network of :data:`MODELS` is built (at initialisation, seeded)
    by :func:`indrnn.experiments.adding.build_network` and given the same
    batch of adding-problem sequences, in float64 so that small gradients do
    not underflow. Their output depends on the last state only, so the
    gradient of the summed output with respect to the input at step ``t``
    is the influence of ``x_t`` on ``out_T``.

    Parameters
    ----------
    seq_len, hidden_units, batch_size : int
        Sizes, as the adding experiment's flags.
    seed : int
        Seeds the initialisation (the same for every model) and the data.
    MAG : float
        The IndRNN's ``--MAG``.
    models : list of str, optional
        Keys of :data:`MODELS` (all by default).
    mode : str or None
        Compilation mode; the default compiles fastest, which suits one
        evaluation.
    task : module
        The adding experiment (``indrnn.experiments.adding``): its flags, data
        and network builder.

    Returns
    -------
    dict
        label -> ``(seq_len,)`` array: the mean over the batch of the
        Euclidean norm over the two input channels of
        ``d out_T / d x_t``; index 0 is the first step.

    Examples
    --------
    >>> from indrnn.experiments import adding
    >>> g = gradient_over_time(seq_len=20, hidden_units=8, batch_size=2,
    ...                        models=['IndRNN (2 layers)'], task=adding)
    >>> g['IndRNN (2 layers)'].shape
    (20,)
    """
    import pytensor
    import pytensor.tensor as pt

    import indrnn.lasagne as lasagne

    models = list(MODELS) if models is None else list(models)
    old_rng = lasagne.random.get_rng()
    results = {}
    try:
        with pytensor.config.change_flags(floatX="float64"):
            x_val, _ = task.generate_data(seq_len, batch_size,
                                          np.random.RandomState(seed))
            X = pt.tensor3("x", dtype="float64")
            grads = []
            for label in models:
                args = _adding_args(task, MODELS[label] + [
                    "--seq_len", seq_len, "--hidden_units", hidden_units,
                    "--batch_size", batch_size, "--MAG", MAG])
                lasagne.random.set_rng(np.random.RandomState(seed))
                net = task.build_network(args)
                out = lasagne.layers.get_output(net["out"], X,
                                                deterministic=True)
                # Each output depends on its own sequence only: the
                # gradient of the sum holds every sequence's gradient.
                grads.append(pytensor.grad(out.sum(), X))
            fn = pytensor.function([X], grads, mode=mode)
            for label, g in zip(models, fn(x_val)):
                results[label] = np.sqrt((g ** 2).sum(axis=2)).mean(axis=0)
    finally:
        lasagne.random.set_rng(old_rng)
    return results


def plot_gradients(out, grads, seq_len=None):
    """Draw :func:`gradient_over_time`'s numbers, log scale.

    Parameters
    ----------
    out : str
        PNG path.
    grads : dict
        label -> ``(T,)`` gradient magnitudes.
    seq_len : int, optional
        For the title.

    Returns
    -------
    str
        ``out``.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    tiny = np.finfo(np.float64).tiny
    for label, g in grads.items():
        steps = np.arange(1, len(g) + 1)
        # Exact zeros (a dead relu, an underflow) cannot be drawn on a log
        # scale: they are left out of the line.
        shown = np.where(g > tiny, g, np.nan)
        ax.plot(steps, shown, label=label, lw=1.8)
    ax.set_yscale("log")
    # A vanishing curve (1e-118 for the tanh RNN) would squash the others
    # into a line: the axis stops 4 decades below the lowest curve that
    # stays within 8 decades, and the curves leaving it are named.
    bounded = [g[g > tiny] for g in grads.values()
               if (g > tiny).all() and g.max() / g.min() < 1e8]
    if bounded and len(bounded) < len(grads):
        bottom = 10.0 ** (math.floor(math.log10(min(b.min()
                                                     for b in bounded))) - 4)
        top = max(g.max() for g in grads.values())
        ax.set_ylim(bottom, 10.0 ** (math.ceil(math.log10(top)) + 1))
        below = ["%s (%.1e at t=1)" % (label, g[0])
                 for label, g in grads.items() if g.min() < bottom]
        ax.text(0.02, 0.03, "below the axis: " + ", ".join(below),
                transform=ax.transAxes, fontsize=7, color="0.3")
    ax.set_xlabel("time step t")
    ax.set_ylabel(r"$|\partial\, out_T / \partial x_t|$")
    T = seq_len or max(len(g) for g in grads.values())
    ax.set_title("Gradient of the last output w.r.t. each input step\n"
                 "(adding problem, T = %d, at initialisation)" % T,
                 fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return _save(fig, out)


# --------------------------------------------------- trained adding nets

def _adding_file_info(path):
    """Hidden units, dtype and sequence length guessed from a param file."""
    with np.load(path) as f:
        values = [f["arr_%d" % i] for i in range(len(f.files))]
    # The last two arrays are the output DenseLayer's W (units, 1) and b.
    hidden_units = values[-2].shape[0]
    match = re.search(r"(\d+)\.npz$", os.path.basename(path))
    seq_len = int(match.group(1)) if match else None
    return hidden_units, values[0].dtype, seq_len


def _load_indrnn(task, path, seq_len, act, MAG, batch_size):
    """The adding experiment's IndRNN with the file's parameters."""
    import pytensor

    import indrnn.lasagne as lasagne
    from indrnn.legacy import load_legacy_params

    hidden_units, dtype, file_seq_len = _adding_file_info(path)
    if seq_len is None:
        seq_len = file_seq_len or 100
    args = _adding_args(task, ["--model", "indrnn", "--seq_len", seq_len,
                         "--hidden_units", hidden_units, "--act", act,
                         "--MAG", MAG, "--batch_size", batch_size])
    old_rng = lasagne.random.get_rng()
    try:
        with pytensor.config.change_flags(floatX=str(dtype)):
            net = task.build_network(args)
    finally:
        lasagne.random.set_rng(old_rng)
    load_legacy_params(path, net["out"])
    return net, args, str(dtype)


def neuron_activity(param_file, seq_len=None, act="relu", seed=0,
                    mode="FAST_COMPILE", *, task):
    """The neurons of a trained 2-layer IndRNN on one adding sequence.

    Parameters
    ----------
    param_file : str
        A parameter file saved by ``indrnn.experiments.adding --model indrnn``
        (the original ``np.savez`` format).
    seq_len : int, optional
        Length of the sequence; by default the number in the file name
        (``indrnn100.npz``), else 100.
    act : {"relu", "tanh"}
        The network's ``--act``.
    seed : int
        Draws the sequence.
    mode : str or None
        Compilation mode.
    task : module
        The adding experiment (``indrnn.experiments.adding``).

    Returns
    -------
    dict
        ``x`` ``(T, 2)`` the sequence, ``target`` and ``prediction``
        (floats), ``marks`` the two marked steps, ``h1`` and ``h2``
        ``(T, units)`` the states of both layers, ``u1`` and ``u2`` their
        recurrent weights, ``memory_neuron`` the second-layer neuron with
        the largest ``|u|`` (the longest memory: ``|u| ** k`` decays
        slowest), ``responders`` the first-layer neurons sorted by how much
        their state jumps at the marked steps.
    """
    import pytensor
    import pytensor.tensor as pt

    import indrnn.lasagne as lasagne
    from indrnn.indrnn import IndRNNLayer

    net, args, dtype = _load_indrnn(task, param_file, seq_len, act, 2, 1)
    T = args.seq_len
    with pytensor.config.change_flags(floatX=dtype):
        x_val, y_val = task.generate_data(T, 1, np.random.RandomState(seed))
        rnn = net["rnn"]
        # The trained second layer returns its last step only; a copy that
        # shares its parameters returns every step.
        every_step = IndRNNLayer(
            net["rnn0"], rnn.output_shape[-1], W_in_to_hid=rnn.W_in_to_hid,
            W_hid_to_hid=rnn.W_hid_to_hid, b=rnn.b, hid_init=rnn.hid_init,
            nonlinearity=rnn.nonlinearity, grad_clipping=rnn.grad_clipping)
        X = pt.tensor3("x", dtype=dtype)
        outputs = lasagne.layers.get_output(
            [net["rnn0"], every_step, net["out"]], X, deterministic=True)
        h1, h2, pred = pytensor.function([X], outputs, mode=mode)(x_val)
    h1, h2 = h1[0], h2[0]
    marks = np.flatnonzero(x_val[0, :, 1])
    u1 = net["rnn0"].W_hid_to_hid.get_value()
    u2 = rnn.W_hid_to_hid.get_value()
    # How much each first-layer neuron's state changes at the marked steps
    # compared with its typical step-to-step change.
    change = np.abs(np.diff(h1, axis=0, prepend=0))
    at_marks = change[marks].mean(axis=0)
    typical = np.median(change, axis=0) + 1e-12
    return {"x": x_val[0], "target": float(y_val[0, 0]),
            "prediction": float(pred[0, 0]), "marks": marks,
            "h1": h1, "h2": h2, "u1": u1, "u2": u2,
            "memory_neuron": int(np.argmax(np.abs(u2))),
            "responders": np.argsort(-(at_marks / typical))}


def plot_neurons(out, activity, n_first=4):
    """Draw :func:`neuron_activity`'s numbers (the paper's Fig. 3).

    Parameters
    ----------
    out : str
        PNG path.
    activity : dict
        As returned by :func:`neuron_activity`.
    n_first : int
        How many first-layer neurons to draw (those responding most to the
        marks).

    Returns
    -------
    str
        ``out``.
    """
    plt = _pyplot()
    a = activity
    T = len(a["x"])
    steps = np.arange(1, T + 1)
    fig, axes = plt.subplots(3, 1, figsize=(7, 6.5), sharex=True)
    ax = axes[0]
    ax.plot(steps, a["x"][:, 0], color="0.6", lw=1, label="number")
    ax.stem(a["marks"] + 1, a["x"][a["marks"], 0], linefmt="C3-",
            markerfmt="C3o", basefmt=" ", label="marked")
    ax.set_ylabel("input")
    ax.set_title("target %.3f, prediction %.3f"
                 % (a["target"], a["prediction"]), fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    ax = axes[1]
    for n in a["responders"][:n_first]:
        ax.plot(steps, a["h1"][:, n], lw=1.2,
                label="neuron %d (u=%.3f)" % (n, a["u1"][n]))
    ax.set_ylabel("layer 1 state")
    ax.set_title("first-layer neurons responding most to the marks",
                 fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax = axes[2]
    n = a["memory_neuron"]
    ax.plot(steps, a["h2"][:, n], color="C2", lw=1.6)
    ax.set_ylabel("layer 2 state")
    ax.set_title("second-layer neuron %d, largest |u| = %.4f (|u|^T = %.2f)"
                 % (n, a["u2"][n], abs(a["u2"][n]) ** T), fontsize=10)
    ax.set_xlabel("time step")
    for ax in axes:
        for m in a["marks"]:
            ax.axvline(m + 1, color="C3", lw=0.8, ls=":")
    fig.tight_layout()
    return _save(fig, out)


def recurrent_weights(param_file, seq_len=None, MAG=2, act="relu", *,
                      task):
    """The recurrent weights of an adding-experiment IndRNN and their bounds.

    Parameters
    ----------
    param_file : str
        A parameter file of ``indrnn.experiments.adding --model indrnn``.
    seq_len : int, optional
        The training sequence length (sets the bounds); by default the
        number in the file name, else 100.
    MAG : float
        The ``--MAG`` of the run.
    act : {"relu", "tanh"}
        The ``--act`` of the run.
    task : module
        The adding experiment (``indrnn.experiments.adding``).

    Returns
    -------
    dict
        ``u``: list of arrays, one per layer; ``U_bound``, ``U_lowbound``:
        the clip bound ``MAG ** (1/T)`` (relu) and the lower end of the
        last layer's initialisation; ``seq_len`` and ``MAG``.

    Examples
    --------
    ::

        w = recurrent_weights("runs/indrnn100.npz", MAG=2, task=adding)
        [np.abs(u).max() <= w["U_bound"] for u in w["u"]]
    """
    net, args, _ = _load_indrnn(task, param_file, seq_len, act, MAG, 1)
    g = task.network_globals(args)
    return {"u": [net[k].W_hid_to_hid.get_value() for k in ("rnn0", "rnn")],
            "U_bound": g.U_bound, "U_lowbound": g.U_lowbound,
            "seq_len": args.seq_len, "MAG": MAG}


def plot_weights(out, weights):
    """Draw :func:`recurrent_weights`' numbers.

    Top row: the histogram of ``u`` per layer with the clip bounds
    ``+-MAG ** (1/T)``. Bottom row: ``|u| ** T``, each neuron's gain over
    a whole sequence, which the constraint keeps at or below ``MAG``.

    Parameters
    ----------
    out : str
        PNG path.
    weights : dict
        As returned by :func:`recurrent_weights`.

    Returns
    -------
    str
        ``out``.
    """
    plt = _pyplot()
    w = weights
    T, MAG = w["seq_len"], w["MAG"]
    layers = len(w["u"])
    fig, axes = plt.subplots(2, layers, figsize=(3.6 * layers, 5.5),
                             squeeze=False)
    for i, u in enumerate(w["u"]):
        ax = axes[0, i]
        ax.hist(u, bins=30, color="C0")
        for bound in (-w["U_bound"], w["U_bound"]):
            ax.axvline(bound, color="C3", ls="--", lw=1)
        ax.set_title("layer %d: u (%d neurons)" % (i + 1, len(u)),
                     fontsize=10)
        ax.set_xlabel("u  (red: clip at $\\pm$MAG$^{1/T}$ = %.4f)"
                      % w["U_bound"], fontsize=8)
        ax = axes[1, i]
        gain = np.abs(u).astype(np.float64) ** T
        ax.hist(gain, bins=30, color="C1")
        ax.axvline(MAG, color="C3", ls="--", lw=1)
        ax.axvline(1.0 / MAG, color="C3", ls=":", lw=1)
        ax.set_xlabel("|u|$^T$ (T = %d; red: MAG = %g, 1/MAG)" % (T, MAG),
                      fontsize=8)
    axes[0, 0].set_ylabel("neurons")
    axes[1, 0].set_ylabel("neurons")
    fig.tight_layout()
    return _save(fig, out)


# ------------------------------------------------------- learning curves

_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?s?$")


def _number(text):
    text = text.strip()
    if _NUMBER.match(text):
        return float(text.rstrip("s"))
    if text.lower() in ("nan", "inf", "-inf"):
        return float(text)
    return None


def read_log(path):
    """Read the reports of an experiment log.

    Parameters
    ----------
    path : str
        A ``.log`` file of the training loop, whose report lines read
        ``step N lr X name value name value ... time Ts``, or a ``.csv``
        file with a ``step`` (or ``epoch``) column.

    Returns
    -------
    dict
        ``'step'`` (or ``'epoch'``) -> array, and every other numeric
        column -> array (NaN where a report lacks it).

    Examples
    --------
    ::

        read_log("runs/indrnn100.log")["test_mse"]
    """
    rows = []
    if path.endswith(".csv"):
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                rows.append({k: _number(v or "") for k, v in row.items()})
    else:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 4 or parts[0] != "step" or len(parts) % 2:
                    continue
                row = {k: _number(v) for k, v in zip(parts[::2], parts[1::2])}
                if row.get("step") is not None:
                    rows.append(row)
    columns = []
    for row in rows:
        columns += [k for k, v in row.items()
                    if v is not None and k not in columns]
    return {k: np.array([np.nan if r.get(k) is None else r[k] for r in rows])
            for k in columns}


_NOT_CURVES = {"step", "epoch", "time", "lr", "learning_rate",
               "next_learning_rate"}


def plot_curves(out, logs):
    """Draw learning curves of one or more logs.

    Every numeric column except the step, epoch, time and learning rate is
    a curve, against the step (or the epoch). Losses and errors share a
    log-scale panel; accuracies (names with ``acc``) get their own.

    Parameters
    ----------
    out : str
        PNG path.
    logs : dict
        name -> :func:`read_log` result.

    Returns
    -------
    str
        ``out``.
    """
    plt = _pyplot()
    curves = [[], []]
    for name, data in logs.items():
        xkey = "step" if "step" in data else "epoch"
        for key, values in data.items():
            if key in _NOT_CURVES or key == xkey or \
                    not np.isfinite(values).any():
                continue
            keep = np.isfinite(values)
            label = key if len(logs) == 1 else "%s: %s" % (
                os.path.basename(name), key)
            curves[1 if "acc" in key else 0].append(
                (data[xkey][keep], values[keep], label, xkey))
    panels = [(title, c) for title, c in zip(("loss", "accuracy"), curves)
              if c]
    if not panels:
        raise ValueError("no report lines with figures in %s"
                         % ", ".join(logs))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4),
                             squeeze=False)
    for ax, (title, panel_curves) in zip(axes[0], panels):
        for xs, ys, label, xkey in panel_curves:
            ax.plot(xs, ys, marker=".", label=label)
            ax.set_xlabel(xkey)
        if title == "loss" and all((c[1] > 0).all() for c in panel_curves):
            ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(True, alpha=0.3)
    fig.suptitle(", ".join(os.path.basename(n) for n in logs), fontsize=10)
    fig.tight_layout()
    return _save(fig, out)


# ------------------------------------------------------------ command line

def make_parser():
    """The parser of the pictures' command
    (``python -m indrnn.experiments.viz``).

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> make_parser().parse_args(['gradients']).seq_len
    100
    """
    parser = argparse.ArgumentParser(
        prog="python -m indrnn.experiments.viz",
        description="Draw the teaching pictures as PNG files. "
                    "Needs matplotlib: " + INSTALL_HINT.split(": ", 1)[1])
    sub = parser.add_subparsers(dest="picture", required=True)
    p = sub.add_parser("gradients", help="gradient magnitude over time for "
                       "tanh RNN, ReLU RNN, LSTM and IndRNN")
    p.add_argument("--seq_len", type=int, default=100)
    p.add_argument("--hidden_units", type=int, default=128)
    p.add_argument("--batch_size", type=int, default=8)
    p.add_argument("--MAG", type=float, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="gradients.png")
    for name, helptext in (
            ("neurons", "neurons of a trained 2-layer IndRNN on one "
                        "adding sequence"),
            ("weights", "histograms of the recurrent weights u and the "
                        "MAG bounds")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("param_file", help="a parameter file of "
                       "indrnn.experiments.adding --model indrnn")
        p.add_argument("--seq_len", type=int, default=None,
                       help="default: the number in the file name")
        p.add_argument("--act", default="relu", choices=("relu", "tanh"))
        p.add_argument("--out", default=name + ".png")
        if name == "neurons":
            p.add_argument("--seed", type=int, default=0)
        else:
            p.add_argument("--MAG", type=float, default=2)
    p = sub.add_parser("curves", help="learning curves of experiment logs")
    p.add_argument("logs", nargs="+", help=".log or .csv files")
    p.add_argument("--out", default="curves.png")
    return parser


def main(argv=None, *, task=None):
    """Run the pictures' command (``python -m indrnn.experiments.viz``).

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``sys.argv[1:]`` when None).
    task : module, optional
        The adding experiment (``indrnn.experiments.adding``), for every
        picture but ``curves``.

    Returns
    -------
    int
        0 on success.
    """
    args = make_parser().parse_args(argv)
    if task is None and args.picture != "curves":
        raise SystemExit("the %s picture builds the adding experiment's "
                         "network: run python -m indrnn.experiments.viz"
                         % args.picture)
    _pyplot()   # fail early, with the install hint, before computing
    if args.picture == "gradients":
        grads = gradient_over_time(args.seq_len, args.hidden_units,
                                   args.batch_size, args.seed, args.MAG,
                                   task=task)
        for label, g in grads.items():
            print("%-26s |grad| at t=1: %.3g, at t=T: %.3g, ratio %.3g"
                  % (label, g[0], g[-1], g[0] / g[-1] if g[-1] else math.nan))
        path = plot_gradients(args.out, grads, args.seq_len)
    elif args.picture == "neurons":
        path = plot_neurons(args.out, neuron_activity(
            args.param_file, args.seq_len, args.act, args.seed, task=task))
    elif args.picture == "weights":
        path = plot_weights(args.out, recurrent_weights(
            args.param_file, args.seq_len, args.MAG, args.act, task=task))
    else:
        path = plot_curves(args.out, {p: read_log(p) for p in args.logs})
    print("wrote", path)
    return 0

