"""The port against golden fixtures recorded with the original code.

``tests/legacy_fixtures/`` holds, for networks of the original IndRNN
experiments (every ``<case>.json`` there is a case), what real Theano
1.0.5 + Lasagne computed (see the README there): the layer graph and the
parameters, the parameter file the original scripts save, the outputs in
all three modes, loss, cost and gradients, and one full training step.
Every case is rebuilt here with the project's builder for that
experiment, from the same command line, and compared:

* ``test_parser_and_globals``: the flags parse to the recorded namespace and
  the builder's derived globals (``U_bound``, ``units``, ...) match.
* ``test_layer_graph`` / ``test_params``: ``get_all_layers`` (class, inputs,
  output shape, attributes) and ``get_all_params`` (order, names, shapes,
  tags, owning layer).
* ``test_forward_loss_grads``: the legacy parameter file is loaded and one
  compiled function gives the outputs in the three modes, the losses, the
  cost and its gradients, at the saved and at the clipped parameters.
* ``test_train_step``: one step of the training function that the
  experiment's ``main`` compiles, with the experiment's own code (loss,
  weight decay, Adam, the U clip compiled into the function before the
  step, or after it for action), from the saved parameters, against the
  original loop's step (host-side clip, ``train_fn``).
* ``test_gradclip_unclipped_grads``: gradients without the clipping inside
  the recurrence (``--gradclipvalue 0``).

Each case is compiled in one PyTensor mode, chosen in ``CASES`` so that
both the default (Numba) and the C backend ("CVM") are covered; the adding
IndRNN case runs in both. Compiled functions are cached per case and reused
by all tests of that case.
"""
import functools
import json
import os
import time

import numpy as np
import pytest

import pytensor
import pytensor.tensor as pt

import indrnn.lasagne as lasagne
from indrnn.lasagne.layers import Layer
from indrnn.indrnn import use_fused_recurrence
from indrnn.legacy import load_legacy_params
from indrnn.compile import project_mode

FIXTURES = os.path.join(os.path.dirname(__file__), "legacy_fixtures")

#: case -> variants to run it in: "numba" (the default mode), "cvm"
#: (mode="CVM"), with the IndRNN recurrence on the fused Op (the layers'
#: default) or, with the suffix "-scan", on pytensor.scan as the original.
#: Cold compiles dominate the runtime, and Numba compiles of scan graphs
#: cost the most (60-110 s a case cold), so the scan path runs in CVM and
#: Numba runs the fused path, which is what users get by default.
#: adding_rnn and mnist_lstm have no IndRNN layer (scan only).
#: The cases are the fixture folder's ``<case>.json`` files; a case not
#: named here runs in the default mode only.
VARIANTS = {
    "adding_indrnn_relu": ("numba", "cvm", "cvm-scan"),
    "adding_indrnn_relu_gradclip": ("numba", "cvm-scan"),
    "adding_rnn": ("cvm",),
    "mnist_indrnn_bn_before": ("numba", "cvm-scan"),
    "mnist_lstm": ("cvm",),
    "cptb_stacked": ("cvm",),
    "cptb_residual": ("numba",),
    "wptb_tied": ("numba", "cvm-scan"),
    "action_indrnn_bn_before": ("cvm",),
}

CASES = {case: VARIANTS.get(case, ("numba",))
         for case in sorted(name[:-len(".json")]
                            for name in os.listdir(FIXTURES)
                            if name.endswith(".json"))}

CASE_MODES = [pytest.param(case, variant, id="%s-%s" % (case, variant))
              for case, variants in CASES.items() for variant in variants]


def pytensor_mode(variant):
    """The ``mode`` argument of pytensor.function for a variant.

    "numba" is the default mode as the training functions compile it:
    PyTensor's Numba rewrites with the linker of
    :mod:`indrnn.compile.linker` (``compile_train_fn`` and
    ``compile_test_fn`` use it; ``tests/compile`` compares it with
    PyTensor's own Numba linker).
    """
    if variant.startswith("numba"):
        return project_mode(None)
    return "CVM"


def is_fused(variant):
    """Whether a variant runs the IndRNN recurrence on the fused Op."""
    return not variant.endswith("-scan")


#: Tests that compile nothing run once per case.
CASE_IDS = list(CASES)

#: JSON class name -> class name in the port, where they differ.
CLASS_NAMES = {}

#: Compile times (seconds), written to the terminal after this module's
#: tests (see ``report_compile_times``).
COMPILE_TIMES = {}

RECURRENT_W = "hidden_to_hidden.W"


# --------------------------------------------------------------------------
# fixtures and building
# --------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def report_compile_times(request):
    """Write the cold compile times to the terminal after the module."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not COMPILE_TIMES:
        return
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        _write_compile_times(reporter)


def _write_compile_times(reporter):
    reporter.write_line("")
    for (case, mode, what), (compiled, first) in COMPILE_TIMES.items():
        reporter.write_line(
            "%-50s compile %5.1fs + first call %5.1fs" % (
                "%s[%s] %s" % (case, mode, what), compiled,
                first))
    reporter.write_line("total %.1fs" % sum(
        c + f for c, f in COMPILE_TIMES.values()))


@functools.lru_cache(maxsize=None)
def load_case(case):
    """Return ``(meta, params, ref)`` of a case: the JSON, the parameter
    file's arrays (in ``arr_i`` order) and the reference arrays."""
    with open(os.path.join(FIXTURES, case + ".json")) as f:
        meta = json.load(f)
    with np.load(os.path.join(FIXTURES, case + ".params.npz")) as z:
        params = [z["arr_%d" % i] for i in range(len(z.files))]
    with np.load(os.path.join(FIXTURES, case + ".npz")) as z:
        ref = {k: z[k] for k in z.files}
    return meta, params, ref


def experiment_module(family):
    """The project's module for an experiment family."""
    if family == "adding":
        from indrnn.experiments import adding as module
    elif family == "mnist":
        from indrnn.experiments import pixelmnist as module
    elif family == "cptb":
        from indrnn.experiments import penntree_charlevel_rernn as module
    elif family == "wptb":
        from indrnn.experiments import penntree_wordlevel_rernn_WT as module
    elif family == "action":
        from indrnn.experiments import Indrnn_action_network as module
    else:
        raise ValueError(family)
    return module


def parse_args(meta, argv=None):
    module = experiment_module(meta["family"])
    return module.make_parser().parse_args(
        meta["argv"] if argv is None else argv)


def derived_globals(meta, args):
    """The module globals the builder derives (``network_globals``)."""
    family, g = meta["family"], meta["globals"]
    module = experiment_module(family)
    if family == "mnist":
        return module.network_globals(args, seq_len=g["seq_len"],
                                      feature_size=g["feature_size"])
    if family in ("cptb", "wptb"):
        return module.network_globals(args, seq_len1=g["seq_len1"],
                                      outputclass=g["outputclass"])
    if family == "action":
        return module.network_globals(args, indim=g["indim"])
    return module.network_globals(args)


def symbolic_inputs(family):
    """``(X, y, hid_init or None)`` as the original scripts declare them."""
    floatX = pytensor.config.floatX
    if family == "adding":
        return (pt.tensor3("inputs", dtype=floatX),
                pt.matrix("label", dtype=floatX), None)
    if family == "mnist":
        return pt.tensor3("inputs", dtype=floatX), pt.ivector(), None
    if family in ("cptb", "wptb"):
        return pt.imatrix("inputs"), pt.imatrix("label"), pt.matrix()
    if family == "action":
        return pt.tensor4("inputs"), pt.ivector("label"), None
    raise ValueError(family)


def build(meta, args, X, hid_init):
    """Build the case's network with the project's builder."""
    family, g = meta["family"], meta["globals"]
    module = experiment_module(family)
    if family == "adding":
        if args.model == "indrnn":
            return module.build_indrnn_network(args)
        return module.build_rnn_network(args)
    if family == "mnist":
        return module.build_network(args, seq_len=g["seq_len"],
                                    feature_size=g["feature_size"])
    if family in ("cptb", "wptb"):
        return module.build_rnn_network(
            args, module.IndRNNLayer_onlyrecurrent, X, hid_init,
            seq_len1=g["seq_len1"],
            outputclass=meta["module_overrides"].get("outputclass",
                                                     g["outputclass"]))
    if family == "action":
        return module.build_indrnn_network(
            args, X, indim=meta["module_overrides"].get("indim",
                                                        g["indim"]))
    raise ValueError(family)


def output_layers(meta, net):
    """The layers ``get_all_layers`` was recorded for."""
    if meta["hid_out_layer_index"] is not None:
        return [net["out"], net["hid_out"]]
    return net["out"]


def decay_of(meta, args):
    """The weight-decay factor of the script (None when the flag is off)."""
    if not getattr(args, "use_weightdecay_nohiddenW", False):
        return None
    if meta["family"] in ("cptb", "wptb"):
        return args.decayfactor
    return args.decayrate


class Graph:
    """A built network with its symbolic loss, cost and gradients."""

    def __init__(self, case, argv=None, fused=True):
        self.meta, self.params_ref, self.ref = load_case(case)
        meta = self.meta
        self.family = meta["family"]
        self.args = parse_args(meta, argv)
        self.X, self.y, self.hid = symbolic_inputs(self.family)
        with use_fused_recurrence(fused):
            self.net = build(meta, self.args, self.X, self.hid)
        self.ptb = meta["hid_out_layer_index"] is not None
        self.all_params = lasagne.layers.get_all_params(self.net["out"])
        self.trainable = lasagne.layers.get_all_params(self.net["out"],
                                                       trainable=True)

        self.outputs = {}
        self.losses = {}
        # The training-mode output is built twice: for evaluation without
        # the BatchNorm running-average updates (same value; evaluating must
        # not move the averages), and below, as the scripts build it, for
        # the training function.
        for tag, kw in (("train", dict(deterministic=False,
                                       batch_norm_update_averages=False)),
                        ("det_batchstats",
                         dict(deterministic=True,
                              batch_norm_use_averages=False)),
                        ("det_averages", dict(deterministic=True))):
            if self.ptb:
                # As the PTB scripts: the inputs come from the InputLayers'
                # own variables (X_sym and slices of hid_init_sym).
                out, hid_out = lasagne.layers.get_output(
                    [self.net["out"], self.net["hid_out"]], **kw)
                self.outputs["hid_out_" + tag] = hid_out
            else:
                out = lasagne.layers.get_output(self.net["out"], self.X,
                                                **kw)
            self.outputs["out_" + tag] = out
            self.losses[tag] = self.data_loss(out)

        self.loss = self.losses["train"]
        self.cost = self.loss + self.weight_decay()
        self.grads = pytensor.grad(self.cost, self.trainable)

        # The training graph of the scripts: get_output(deterministic=False)
        # with the running-average default updates.
        if self.ptb:
            out, hid_out = lasagne.layers.get_output(
                [self.net["out"], self.net["hid_out"]], deterministic=False)
        else:
            out = lasagne.layers.get_output(self.net["out"], self.X,
                                            deterministic=False)
            hid_out = None
        self.train_loss = self.data_loss(out)
        self.train_cost = self.train_loss + self.weight_decay()
        self.train_grads = pytensor.grad(self.train_cost, self.trainable)
        self.train_hid_out = hid_out

    def weight_decay(self):
        """The weight decay as the scripts add it: one term per
        regularizable parameter not named hidden_to_hidden.W, in
        get_all_params order (0 when the flag is off)."""
        penalty = 0
        self.decayed = []
        decay = decay_of(self.meta, self.args)
        if decay is not None:
            regularizable = lasagne.layers.get_all_params(
                self.net["out"], regularizable=True)
            for para in regularizable:
                if para.name != RECURRENT_W:
                    penalty += decay * lasagne.regularization.apply_penalty(
                        para, lasagne.regularization.l2)
                    self.decayed.append(para)
        return penalty

    def data_loss(self, prediction):
        if self.family == "adding":
            return lasagne.objectives.squared_error(prediction, self.y).mean()
        y = self.y.reshape((-1,)) if self.ptb else self.y
        return lasagne.objectives.categorical_crossentropy(prediction,
                                                           y).mean()

    @property
    def inputs(self):
        return [self.X, self.y] + ([self.hid] if self.ptb else [])

    def values(self):
        """The numeric inputs of the fixture, in :attr:`inputs` order."""
        vals = [self.ref["X"], self.ref["y"]]
        return vals + ([self.ref["hid_init"]] if self.ptb else [])

    def param_index(self, param):
        return [i for i, p in enumerate(self.all_params) if p is param][0]

    def load(self, arrays):
        for p, a in zip(self.all_params, arrays):
            p.set_value(np.array(a, dtype=p.dtype))

    def snapshot(self):
        return [np.array(p.get_value()) for p in self.all_params]


def float32():
    return pytensor.config.change_flags(floatX="float32")


def compile_timed(key, inputs, outputs, **kwargs):
    """``pytensor.function``, timing the compile and the first call.

    The Numba backend compiles lazily, at the first call, so the cold cost
    of a function is its compile plus its first call; both are recorded in
    ``COMPILE_TIMES[key]`` when the first call returns.
    """
    start = time.perf_counter()
    fn = pytensor.function(inputs, outputs, **kwargs)
    compiled = time.perf_counter() - start

    def first_call(*values):
        t0 = time.perf_counter()
        out = fn(*values)
        COMPILE_TIMES.setdefault(key, (compiled, time.perf_counter() - t0))
        return out
    return first_call


@functools.lru_cache(maxsize=None)
def graph(case):
    """The case's network, built once (shape and parameter checks)."""
    with float32():
        return Graph(case)


EVAL_KEYS = ["out_train", "out_det_batchstats", "out_det_averages",
             "hid_out_train", "hid_out_det_batchstats",
             "hid_out_det_averages", "loss", "cost", "loss_det_batchstats",
             "loss_det_averages"]


@functools.lru_cache(maxsize=None)
def run_eval(case, mode):
    """Build, load the parameter file and evaluate; return the results.

    Returns a dict with ``graph``, ``eval`` (outputs, losses and gradients
    at the saved parameters), ``clipped`` (all parameters after the
    host-side pre-step clip of the original loop), ``step_eval`` (the same
    outputs at the clipped parameters) and ``unchanged_by_eval`` (whether
    evaluating left every parameter untouched). The network is left at the
    clipped parameters, ready for :func:`run_train`.
    """
    with float32():
        g = Graph(case, fused=is_fused(mode))
        meta = g.meta
        load_legacy_params(os.path.join(FIXTURES, case + ".params.npz"),
                           g.net["out"])

        # One evaluation function (no BatchNorm default updates in it).
        names = [k for k in EVAL_KEYS
                 if k.startswith(("out_", "hid_out_")) and k in g.outputs]
        exprs = [g.outputs[k] for k in names]
        names += ["loss", "cost", "loss_det_batchstats", "loss_det_averages"]
        exprs += [g.loss, g.cost, g.losses["det_batchstats"],
                  g.losses["det_averages"]]
        names += ["grad_%d" % g.param_index(p) for p in g.trainable]
        exprs += list(g.grads)
        eval_fn = compile_timed((case, mode, "eval"), g.inputs, exprs,
                                mode=pytensor_mode(mode))
        before = g.snapshot()
        evaluated = dict(zip(names, eval_fn(*g.values())))
        unchanged = all(np.array_equal(a, b)
                        for a, b in zip(before, g.snapshot()))

        # The original loop clips U on the host before train_fn.
        if meta["clip_hidden_to_hidden_W_before_step"]:
            U_bound = derived_globals(meta, g.args).U_bound
            for para in g.trainable:
                if para.name == RECURRENT_W:
                    para.set_value(np.clip(para.get_value(), -1 * U_bound,
                                           U_bound))
        clipped = g.snapshot()
        step_eval = dict(zip(names, eval_fn(*g.values())))
    return dict(graph=g, eval=evaluated, clipped=clipped,
                step_eval=step_eval, unchanged_by_eval=unchanged)


def experiment_train_fn(meta, variant):
    """The training function an experiment's ``main`` compiles, with its
    network, built from the case's command line.

    Returns ``(net, train_fn, values)``: ``train_fn(*values, lr)`` is the
    step of the experiment's loop, compiled by the experiment's own code
    (its loss, weight decay, Adam and the U clip inside the function) in
    the variant's mode; ``values`` are the fixture's inputs in its order.
    """
    family, g = meta["family"], meta["globals"]
    overrides = meta["module_overrides"]
    mode = pytensor_mode(variant)
    ref = load_case(meta["case"])[2]
    values = [ref["X"], ref["y"]]
    with use_fused_recurrence(is_fused(variant)):
        if family == "adding":
            from indrnn.experiments import adding
            args = adding.make_parser().parse_args(meta["argv"])
            net = adding.build_network(args)
            train_fn, _ = adding.compile_functions(args, net, mode=mode)
        elif family == "mnist":
            from indrnn.experiments import pixelmnist
            args = pixelmnist.make_main_parser().parse_args(meta["argv"])
            net = pixelmnist.build_network(args, seq_len=g["seq_len"],
                                           feature_size=g["feature_size"])
            U_bound = pixelmnist.network_globals(
                args, seq_len=g["seq_len"],
                feature_size=g["feature_size"]).U_bound
            train_fn, _ = pixelmnist.compile_functions(args, net, U_bound,
                                                       mode=mode)
        elif family == "action":
            from indrnn.experiments import Indrnn_action_network as network
            from indrnn.experiments import Indrnn_action_train as action
            args = action.make_main_parser().parse_args(meta["argv"])
            X, y = pt.tensor4("inputs"), pt.ivector("label")
            net = network.build_network(
                args, X, indim=overrides.get("indim", g["indim"]))
            train_fn, _, _ = action.compile_functions(args, net, X, y,
                                                      mode=mode)
        elif family in ("cptb", "wptb"):
            from indrnn.experiments import ptb_lm
            module = experiment_module(family)
            args = module.SPEC.make_parser().parse_args(meta["argv"])
            fns = ptb_lm.compile_functions(
                module.SPEC, args, g["seq_len1"],
                overrides.get("outputclass", g["outputclass"]), mode=mode)
            net, train_fn = fns.net, fns.train_fn
            values.append(ref["hid_init"])
        else:
            raise ValueError(family)
    return net, train_fn, values


@functools.lru_cache(maxsize=None)
def run_train(case, mode):
    """One step of the experiment's own training function from the saved
    (unclipped) parameters of the case.

    Returns a dict with ``meta``, ``ref``, ``step_out`` (what the function
    returned) and ``after`` (all parameters after the step).
    """
    meta, _, ref = load_case(case)
    with float32():
        start = time.perf_counter()
        net, train_fn, values = experiment_train_fn(meta, mode)
        compiled = time.perf_counter() - start
        load_legacy_params(os.path.join(FIXTURES, case + ".params.npz"),
                           net["out"])
        start = time.perf_counter()
        step_out = train_fn(*values, np.float32(meta["learning_rate"]))
        COMPILE_TIMES.setdefault((case, mode, "experiment train_fn"),
                                 (compiled, time.perf_counter() - start))
        after = [np.array(p.get_value())
                 for p in lasagne.layers.get_all_params(net["out"])]
    return dict(meta=meta, ref=ref, step_out=step_out, after=after)


# --------------------------------------------------------------------------
# comparisons (README tolerances)
# --------------------------------------------------------------------------

def assert_forward(actual, expected, what):
    actual = np.asarray(actual)
    assert actual.shape == expected.shape, what
    atol = 1e-5 * max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=atol,
                               err_msg=what)


def assert_scalar(actual, expected, what):
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=1e-4,
                               err_msg=what)


def grad_scale(ref, prefix, indices):
    return max(float(np.abs(ref["%sarr_%d" % (prefix, i)]).max())
               for i in indices)


def assert_grads(get_actual, ref, prefix, indices, what):
    G = grad_scale(ref, prefix, indices)
    for i in indices:
        expected = ref["%sarr_%d" % (prefix, i)]
        actual = np.asarray(get_actual(i))
        assert actual.shape == expected.shape
        np.testing.assert_allclose(
            actual, expected, rtol=1e-3, atol=1e-4 * G,
            err_msg="%s: gradient of arr_%d" % (what, i))


def assert_after_step(after, meta, ref, what):
    """Compare every parameter after the step with ``after_step_arr_*``."""
    lr = meta["learning_rate"]
    trainable = meta["trainable_indices"]
    G = grad_scale(ref, "step_grad_", trainable)
    for entry in meta["params"]:
        i, name = entry["index"], entry["name"]
        expected = ref["after_step_arr_%d" % i]
        actual = after[i]
        msg = "%s: arr_%d (%s) after the step" % (what, i, name)
        assert actual.shape == expected.shape, msg
        if entry["trainable"]:
            # Adam's first step is about lr * sign(g): where the gradient is
            # float noise the sign is random, so only the step size counts.
            significant = np.abs(ref["step_grad_arr_%d" % i]) > 1e-6 * G
            np.testing.assert_allclose(actual[significant],
                                       expected[significant], rtol=1e-5,
                                       atol=1e-6, err_msg=msg)
            assert np.all(np.abs(actual - expected)[~significant]
                          <= 2 * lr * (1 + 1e-5)), msg
        elif name in ("mean", "inv_std"):
            np.testing.assert_allclose(actual, expected, rtol=1e-4,
                                       atol=1e-6, err_msg=msg)
        else:
            # hid_init and other fixed parameters must not move.
            np.testing.assert_array_equal(actual, expected, err_msg=msg)


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASE_IDS)
def test_parser_and_globals(case):
    meta, _, _ = load_case(case)
    args = vars(parse_args(meta))
    # Every recorded flag, with the recorded value (np.float32 flags given
    # on the command line and Python-float defaults alike).
    for key, value in meta["args"].items():
        assert key in args, key
        if isinstance(value, float):
            assert np.float32(args[key]) == np.float32(value), key
        else:
            assert args[key] == value, key
    # No invented network flags. --bn_drop is from the original's later
    # revision of opts.py (the fixture ran the earlier one). The adding
    # module is a ported training script and adds the port's own run
    # options (seed, logging, ...), so it is not checked here.
    if meta["family"] != "adding":
        extra = set(args) - set(meta["args"])
        assert extra <= ({"bn_drop"} if meta["family"] == "action"
                         else set())

    g = derived_globals(meta, parse_args(meta))
    recorded = meta["globals"]
    for key, value in recorded.items():
        if key in meta["module_overrides"] or not hasattr(g, key):
            continue
        mine = getattr(g, key)
        if isinstance(value, str):
            # act, ini_W, ini_U, rnnmodel: compare by name.
            name = getattr(mine, "__name__", type(mine).__name__)
            assert name == value, key
        elif isinstance(value, float):
            assert float(mine) == pytest.approx(value, rel=1e-12), key
        else:
            assert mine == value, key
    assert g.U_bound == pytest.approx(meta["U_bound"], rel=1e-12)


def _layer_attr(layer, key):
    """The attribute a JSON layer entry records, read from a port layer."""
    if key.startswith("nonlinearity"):
        return getattr(layer, key).__name__
    if key == "indices":
        return layer.slice
    if key == "W_is_shared_variable":
        return isinstance(layer.W, pytensor.compile.SharedVariable)
    if key == "has_bias":
        return layer.b is not None
    if key in ("has_beta", "has_gamma"):
        return getattr(layer, key[4:]) is not None
    if key == "hid_init_from_layer":
        return isinstance(layer.hid_init, Layer)
    return getattr(layer, key)


def _same(a, b):
    if isinstance(b, (list, tuple)):
        return (isinstance(a, (list, tuple)) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b)))
    if isinstance(b, (bool, str)) or b is None:
        return a == b
    return bool(np.isclose(float(a), float(b), rtol=1e-6))


@pytest.mark.parametrize("case", CASE_IDS)
def test_layer_graph(case):
    g = graph(case)
    meta = g.meta
    layers = lasagne.layers.get_all_layers(output_layers(meta, g.net))
    assert len(layers) == len(meta["layers"])
    assert layers.index(g.net["out"]) == meta["out_layer_index"]
    if g.ptb:
        assert layers.index(g.net["hid_out"]) == meta["hid_out_layer_index"]
    for layer, entry in zip(layers, meta["layers"]):
        where = "layer %d (%s)" % (entry["index"], entry["class"])
        assert type(layer).__name__ == CLASS_NAMES.get(entry["class"],
                                                       entry["class"]), where
        incoming = getattr(layer, "input_layers", None)
        if incoming is None:
            incoming = ([] if getattr(layer, "input_layer", None) is None
                        else [layer.input_layer])
        assert [layers.index(l) for l in incoming] == entry["incoming"], where
        assert list(layer.output_shape) == entry["output_shape"], where
        for key, value in entry.items():
            if key in ("index", "class", "name", "output_shape", "incoming"):
                continue
            assert _same(_layer_attr(layer, key), value), (where, key)


@pytest.mark.parametrize("case", CASE_IDS)
def test_params(case):
    g = graph(case)
    meta = g.meta
    params = g.all_params
    assert [p.name for p in params] == meta["param_names"]
    layers = lasagne.layers.get_all_layers(output_layers(meta, g.net))
    owner = {}
    for index, layer in enumerate(layers):
        for p in layer.get_params():
            owner.setdefault(id(p), index)
    for p, entry in zip(params, meta["params"]):
        assert list(p.get_value().shape) == entry["shape"], entry["key"]
        assert p.dtype == entry["dtype"], entry["key"]
        assert owner.get(id(p)) == entry["owner_layer_index"], entry["key"]
    index = {id(p): i for i, p in enumerate(params)}
    assert [index[id(p)] for p in g.trainable] == meta["trainable_indices"]
    regularizable = lasagne.layers.get_all_params(g.net["out"],
                                                  regularizable=True)
    assert ([index[id(p)] for p in regularizable]
            == meta["regularizable_indices"])
    assert ([index[id(p)] for p in g.decayed]
            == meta["weight_decay_indices"])
    # The loops clip by name, and only for IndRNN models (not adding's
    # --model rnn, whose RecurrentLayer also names its matrix like this).
    clipped = [i for i, p in enumerate(params) if p.name == RECURRENT_W]
    if not (meta["clip_hidden_to_hidden_W_before_step"]
            or meta["clip_hidden_to_hidden_W_after_step"]):
        clipped = []
    assert clipped == [e["index"] for e in meta["params"]
                       if e["clipped_to_U_bound"]]


@pytest.mark.parametrize("case,mode", CASE_MODES)
def test_forward_loss_grads(case, mode):
    r = run_eval(case, mode)
    g, meta, ref = r["graph"], r["graph"].meta, r["graph"].ref
    assert r["unchanged_by_eval"], "evaluation changed parameters"
    for key in EVAL_KEYS:
        if key in ref and key in r["eval"]:
            if key.startswith(("out_", "hid_out_")):
                assert_forward(r["eval"][key], ref[key], key)
            else:
                assert_scalar(r["eval"][key], ref[key], key)
        elif key in ref:
            pytest.fail("no %s computed" % key)
    if g.ptb:
        assert {"hid_out_train", "hid_out_det_batchstats",
                "hid_out_det_averages"} <= set(r["eval"])
    assert_grads(lambda i: r["eval"]["grad_%d" % i], ref, "grad_",
                 meta["trainable_indices"], "at the saved parameters")

    # The host-side pre-step clip, and loss/cost/gradients at its result.
    for i, a in enumerate(r["clipped"]):
        np.testing.assert_allclose(a, ref["clipped_arr_%d" % i], rtol=0,
                                   atol=1e-7, err_msg="clipped_arr_%d" % i)
    assert_scalar(r["step_eval"]["loss"], ref["step_loss"], "step_loss")
    assert_scalar(r["step_eval"]["cost"], ref["step_cost"], "step_cost")
    assert_grads(lambda i: r["step_eval"]["grad_%d" % i], ref,
                 "step_grad_", meta["trainable_indices"],
                 "at the clipped parameters")


@pytest.mark.parametrize("case,mode", CASE_MODES)
def test_train_step(case, mode):
    """One step of the training function the experiment's ``main``
    compiles (its loss and weight decay, Adam, the U clip compiled before
    the step, or after it for the action script's --constrain_U, the
    BatchNorm running averages), from the saved parameters, against the
    original loop's step: the loss it reports, every parameter after the
    step and the BatchNorm averages."""
    r = run_train(case, mode)
    meta, ref, out = r["meta"], r["ref"], r["step_out"]
    family = meta["family"]
    if family in ("cptb", "wptb"):
        # [perplexity, bits per character, hid_out] of the data loss
        assert_scalar(out[0], np.exp(ref["step_loss"]), "train_fn perp")
        assert_scalar(out[1], ref["step_loss"] / np.log(2), "train_fn bpc")
        assert_forward(out[2], ref["step_hid_out"], "step_hid_out")
    else:
        # the loss as the script minimises it (weight decay included)
        assert_scalar(out[0], ref["step_cost"], "train_fn loss")
    assert_after_step(r["after"], meta, ref, "train_fn")


def test_every_fixture_case_is_complete():
    """Each ``<case>.json`` comes with its parameter file and reference
    arrays, names its family, and the folder holds nothing else (a new
    fixture is picked up by every test here)."""
    names = set(os.listdir(FIXTURES)) - {"README.md"}
    assert CASES and set(VARIANTS) <= set(CASES)
    for case in CASES:
        for suffix in (".json", ".params.npz", ".npz"):
            assert case + suffix in names, case + suffix
            names.discard(case + suffix)
        meta, params, ref = load_case(case)
        assert meta["case"] == case
        experiment_module(meta["family"])
        assert len(params) == len(meta["params"])
    assert not names, "files that are no case: %s" % sorted(names)


def test_gradclip_unclipped_grads():
    case, mode = "adding_indrnn_relu_gradclip", "cvm"
    meta, params, ref = load_case(case)
    argv = list(meta["argv"])
    argv[argv.index("--gradclipvalue") + 1] = "0"
    with float32():
        g = Graph(case, argv=argv)
        g.load(params)
        grad_fn = compile_timed((case, mode, "grad_noclip"), g.inputs,
                                list(g.grads), mode=pytensor_mode(mode))
        grads = grad_fn(*g.values())
    indices = meta["trainable_indices"]
    assert_grads(lambda i: grads[indices.index(i)], ref, "grad_noclip_",
                 indices, "--gradclipvalue 0")
    # The clip is active in this case: the clipped gradients (the fixture's
    # and, through test_forward_loss_grads, the port's) differ from these
    # by the recorded amounts.
    recorded = meta["grad_clip_check"][
        "max_abs_diff_clipped_vs_unclipped_per_trainable_param"]
    for i, diff in zip(indices, recorded):
        mine = float(np.abs(grads[indices.index(i)]
                            - ref["grad_arr_%d" % i]).max())
        assert mine == pytest.approx(diff, rel=1e-3, abs=1e-3)
