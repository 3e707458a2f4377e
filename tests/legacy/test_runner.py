"""Tests of indrnn.legacy.runner / ``python -m indrnn.legacy SCRIPT``.

The scripts run here are written for these tests in the style of the
original Theano + Lasagne IndRNN scripts; they are not copies of them.
"""
import os
import subprocess
import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.lasagne.layers import DenseLayer, InputLayer, RecurrentLayer
from indrnn.legacy import load_legacy_params
from indrnn.legacy.runner import diagnose, legacy_environment

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# A helper module next to the script, like the original IndRNN.py: it is
# imported by the script through the script's folder and itself imports
# theano and lasagne through the aliases.
HELPER = '''\
import theano
import theano.tensor as T
import lasagne


class ScaleLayer(lasagne.layers.Layer):
    def __init__(self, incoming, W=lasagne.init.Constant(0.5), **kwargs):
        super(ScaleLayer, self).__init__(incoming, **kwargs)
        num_inputs = self.input_shape[1]
        self.W = self.add_param(W, (num_inputs, ), name='W')

    def get_output_for(self, input, **kwargs):
        # T.inv is Theano's name for the reciprocal
        return input * T.inv(T.inv(self.W))
'''

# The adding problem in the original scripts' style, at toy size.
SCRIPT = '''\
from __future__ import print_function
import sys
import argparse
import numpy as np
import theano
import theano.tensor as T
import lasagne
from lasagne.layers import InputLayer, DenseLayer, RecurrentLayer
from lasagne.nonlinearities import rectify
from ScaleHelper import ScaleLayer

parser = argparse.ArgumentParser(description='adding problem, tiny')
parser.add_argument('--seq_len', type=int, default=6)
parser.add_argument('--hidden_units', type=int, default=3)
parser.add_argument('--steps', type=int, default=3)
parser.add_argument('--U_bound', type=np.float32, default=0.005)
parser.add_argument('--lr', type=np.float32, default=1e-3)
parser.add_argument('--save_name', type=str, default='rnn')
args = parser.parse_args()
print(args)
batch_size = 4
seq_len = args.seq_len

def build_network():
    net = {}
    net['input'] = InputLayer((batch_size, seq_len, 2))
    net['rnn'] = RecurrentLayer(net['input'], args.hidden_units,
                                nonlinearity=rectify, only_return_final=True,
                                grad_clipping=10)
    net['scale'] = ScaleLayer(net['rnn'])
    net['out'] = DenseLayer(net['scale'], 1, nonlinearity=None)
    return net

def generate_data(time_steps, n_data):
    x = np.asarray(np.zeros((time_steps, int(n_data), 2)),
                   dtype=theano.config.floatX)
    x[:, :, 0] = np.random.uniform(low=0., high=1., size=(time_steps, n_data))
    inds = np.asarray(np.random.randint(time_steps // 2, size=(n_data, 2)))
    inds[:, 1] += time_steps // 2
    for i in range(int(n_data)):
        x[inds[i, 0], i, 1] = 1.0
        x[inds[i, 1], i, 1] = 1.0
    y = (x[:, :, 0] * x[:, :, 1]).sum(axis=0)
    y = np.reshape(y, (n_data, 1))
    return np.transpose(x, (1, 0, 2)), y

np.random.seed(1)
learn_net = build_network()
X_sym = T.tensor3('inputs', dtype=theano.config.floatX)
y_sym = T.matrix('label', dtype=theano.config.floatX)
prediction = lasagne.layers.get_output(learn_net['out'], X_sym,
                                       deterministic=False)
loss = lasagne.objectives.squared_error(prediction, y_sym).mean()
params = lasagne.layers.get_all_params(learn_net['out'], trainable=True)
learning_ratetrain = T.scalar(name='learning_ratetrain',
                              dtype=theano.config.floatX)
grads = theano.grad(loss, params)
updates = lasagne.updates.adam(grads, params,
                               learning_rate=learning_ratetrain)
print('Compiling')
train_fn = theano.function([X_sym, y_sym, learning_ratetrain], [loss, ],
                           updates=updates)

learning_rate = np.float32(args.lr)
for batchi in range(args.steps):
    x, y = generate_data(seq_len, batch_size)
    for para in params:
        if para.name == 'hidden_to_hidden.W':
            para.set_value(np.clip(para.get_value(), -1 * args.U_bound,
                                   args.U_bound))
    mse, = train_fn(x, y, learning_rate)
    if np.isnan(mse):
        print('NaN detected in cost')
        assert(2 == 3)
    print('step', batchi, 'mse', mse)
print('floatX', theano.config.floatX, 'argv', sys.argv[1:])
np.savez(args.save_name,
         *lasagne.layers.get_all_param_values(learn_net['out']))
'''


def _run_legacy(script, *args, cwd, **env_vars):
    env = {k: v for k, v in os.environ.items()
           if k not in ("THEANO_FLAGS", "PYTENSOR_FLAGS")}
    env.update(env_vars)
    env["PYTHONPATH"] = REPO_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "indrnn.legacy", str(script)] + list(args),
        env=env, capture_output=True, text=True, timeout=300, cwd=cwd)


def _build_reference_network(hidden, seq_len=6):
    """The script's network, built with indrnn.lasagne in this process;
    MulLayer has the same single ``(num_inputs,)`` parameter as the
    script's ScaleLayer."""
    from indrnn.indrnn import MulLayer
    l_in = InputLayer((4, seq_len, 2))
    rnn = RecurrentLayer(l_in, hidden, only_return_final=True)
    scale = MulLayer(rnn)
    return DenseLayer(scale, 1, nonlinearity=None)


def test_original_style_script_runs_unmodified(tmp_path):
    (tmp_path / "ScaleHelper.py").write_text(HELPER)
    script = tmp_path / "adding_tiny.py"
    script.write_text(SCRIPT)
    before = script.read_text()
    proc = _run_legacy(script, "--steps", "3", "--save_name", "out",
                       cwd=tmp_path, PYTENSOR_FLAGS="mode=FAST_COMPILE")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert script.read_text() == before
    lines = proc.stdout.splitlines()
    assert sum(line.startswith("step ") for line in lines) == 3
    # floatX was float32 as the original command lines had it, although
    # PYTENSOR_FLAGS did not say so; the script saw its own arguments.
    assert ("floatX float32 argv ['--steps', '3', '--save_name', 'out']"
            in lines)

    path = tmp_path / "out.npz"
    with np.load(path) as archive:
        arrays = [archive["arr_%d" % i] for i in range(len(archive.files))]
    assert all(a.dtype == np.float32 for a in arrays)
    net = _build_reference_network(hidden=3)
    values = load_legacy_params(path, net)
    for value, array in zip(values, arrays):
        np.testing.assert_array_equal(value, array)
    # Order hid_init, W_in, b, W_hid, ScaleLayer.W, Dense W, b: W_hid was
    # clipped to 0.005 by set_value before every step, and one Adam step
    # moves a weight by at most about lr = 1e-3 (initial values are up to
    # 0.01 in magnitude, so without the clipping this would fail).
    w_hid = arrays[3]
    assert np.abs(w_hid).max() <= 0.005 + 1e-3 * 1.01
    # The helper's T.inv(T.inv(W)) is W: the scale weights trained like a
    # plain product, starting from 0.5.
    np.testing.assert_allclose(arrays[4], 0.5, atol=3 * 1.01e-3)

    # A network built with other flags is refused by the legacy loader.
    with pytest.raises(ValueError, match="Shape mismatch"):
        load_legacy_params(path, _build_reference_network(hidden=5))


def test_numpy_incompatibility_is_reported_not_patched(tmp_path):
    script = tmp_path / "old_numpy.py"
    script.write_text("import numpy as np\nimport theano\n"
                      "units = [np.int(2000 * 1.5)]\n")
    proc = _run_legacy(script, cwd=tmp_path)
    assert proc.returncode == 1
    message = proc.stderr.strip().splitlines()
    summary = [line for line in message if line.startswith("indrnn.legacy:")]
    assert len(summary) == 1
    assert "old_numpy.py, line 3" in summary[0]
    assert "np.int" in summary[0] and "int" in summary[0]
    assert "does not change user files" in proc.stderr
    assert "np.int(2000" in script.read_text()


def test_import_indrnn_installs_no_aliases():
    # Importing the runner module itself must not install them either.
    code = ("import sys, indrnn, indrnn.legacy, indrnn.legacy.runner; "
            "print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('theano', 'lasagne')))")
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    proc = subprocess.run([sys.executable, "-c", code], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_environment_is_restored_after_use():
    assert "theano" not in sys.modules and "lasagne" not in sys.modules
    argv, path = list(sys.argv), list(sys.path)
    with legacy_environment("/nonexistent/dir/script.py", ["--a", "1"]):
        import lasagne.layers.normalization
        import theano
        assert sys.argv == ["/nonexistent/dir/script.py", "--a", "1"]
        assert sys.path[0] == "/nonexistent/dir"
        import indrnn.lasagne.layers.normalization as shim_norm
        assert lasagne.layers.normalization is shim_norm
        assert theano.config is pytensor.config
    for name in ("theano", "theano.tensor", "lasagne", "lasagne.layers"):
        assert name not in sys.modules
    assert sys.argv == argv and sys.path == path


def test_unported_features_fail_clearly():
    with legacy_environment():
        # The original adding.py imports these without using them.
        from lasagne.layers import Conv2DLayer, DenseLayer as Dense
        assert Dense is DenseLayer
        with pytest.raises(NotImplementedError, match="Conv2DLayer is not "
                           "ported"):
            Conv2DLayer(None, 4, 3)
        with pytest.raises(ImportError, match="theano.sandbox.*not ported"):
            import theano.sandbox.rng_mrg  # noqa: F401
        with pytest.raises(ImportError, match="lasagne.layers.dnn"):
            import lasagne.layers.dnn  # noqa: F401


def _fn(inputs, outputs, **kwargs):
    return pytensor.function(inputs, outputs, mode="FAST_COMPILE", **kwargs)


def test_theano_alias_pieces_match_numpy():
    with legacy_environment():
        import theano
        import theano.gradient
        import theano.tensor as T
        from theano.tensor.extra_ops import cumsum  # via pytensor.*

        # Theano's constructors take the dtype as second positional arg.
        x = T.matrix("x", "float32")
        assert x.dtype == "float32" and x.name == "x"
        assert T.tensor3("a", dtype="float64").ndim == 3
        assert T.ivector().dtype == "int32" and T.imatrix().ndim == 2

        data = np.array([[1., 2., 4.], [0.5, -1., 3.]], dtype="float32")
        softmax, inv, absolute, relu, csum = _fn(
            [x], [T.nnet.softmax(x), T.inv(x), T.abs_(x), T.nnet.relu(x),
                  cumsum(x, axis=1)])(data)
        e = np.exp(data - data.max(axis=1, keepdims=True))
        np.testing.assert_allclose(softmax, e / e.sum(axis=1, keepdims=True),
                                   rtol=1e-6)
        np.testing.assert_allclose(inv, 1 / data, rtol=1e-6)
        np.testing.assert_array_equal(absolute, np.abs(data))
        np.testing.assert_array_equal(relu, np.maximum(data, 0))
        np.testing.assert_allclose(csum, np.cumsum(data, axis=1), rtol=1e-6)

        # categorical_crossentropy with class indices: -log p[i, t_i].
        p = T.matrix("p", "float32")
        t = T.ivector("t")
        probs = np.array([[0.25, 0.75], [0.6, 0.4]], dtype="float32")
        cce = _fn([p, t], T.nnet.categorical_crossentropy(p, t))(
            probs, np.array([1, 0], dtype="int32"))
        np.testing.assert_allclose(cce, -np.log([0.75, 0.6]), rtol=1e-6)

        # scan returns (outputs, updates) as in Theano; grad_clip clips
        # the gradient only.
        v = T.vector("v", "float32")
        h, updates = theano.scan(lambda a, prev: a + prev, sequences=v,
                                 outputs_info=[T.zeros((), "float32")])
        assert len(updates) == 0
        g = theano.grad(theano.gradient.grad_clip(3 * v, -1, 1).sum(), v)
        seq = np.array([1., 2., 3.], dtype="float32")
        out, grad = _fn([v], [h, g])(seq)
        np.testing.assert_allclose(out, np.cumsum(seq))
        np.testing.assert_allclose(grad, [3., 3., 3.])


def test_theano_clone_share_inputs_false_aliases_shared_storage():
    with legacy_environment():
        import theano
        s = theano.shared(np.zeros(2, dtype="float32"), name="s")
        # share_inputs=True (default): the shared variable itself is kept.
        y = s * 2
        assert theano.clone(y).owner.inputs[0] is s
        # share_inputs=False: a new variable over the same storage, so a
        # default update attached to the clone advances the original
        # (the batch-norm running-average trick of the original code).
        c = theano.clone(s, share_inputs=False)
        assert c is not s
        from indrnn.lasagne.default_updates import attach_default_update
        attach_default_update(c, c + 1)
        f = _fn([], 0 * c + s)
        f()
        f()
        np.testing.assert_array_equal(s.get_value(), [2., 2.])
        # replace= substitutes in the copy only.
        x = pt.vector("x")
        z = pt.vector("z")
        expr = x * 3
        swapped = theano.clone(expr, replace={x: z})
        np.testing.assert_allclose(
            _fn([z], swapped)(np.array([1., 2.], dtype=z.dtype)), [3., 6.])


def _raised(code):
    try:
        exec(compile(code, "user_script.py", "exec"), {"np": np})
    except Exception as exc:  # noqa: BLE001 - any error is what we want
        return exc
    raise AssertionError("no exception")


@pytest.mark.parametrize("code, expected", [
    ("x = 1\nn = np.int(3)\n", "`np.int` was removed in numpy 1.24"),
    ("s = 'abc'.decode('utf-8')\n", "`str.decode` does not exist"),
    ("ps = [np.zeros(2), np.zeros(3)]\nb = np.copy(ps)\n",
     "refuses to make one array from a ragged list"),
    ("for i in xrange(3): pass\n", "`xrange` is a Python 2 builtin"),
    ("import cPickle\n", "module 'cPickle' exists only in Python 2"),
])
def test_diagnose_known_incompatibilities(code, expected):
    exc = _raised(code)
    message = diagnose(exc)
    assert message is not None and expected in message
    line = code.count("\n")  # the failing statement is the last line
    assert message.startswith("user_script.py, line %d: " % line)


def test_diagnose_print_statement_and_unknown_errors():
    with pytest.raises(SyntaxError) as info:
        compile("import theano\nprint 'hello'\n", "old.py", "exec")
    message = diagnose(info.value)
    assert message.startswith("old.py, line 2: SyntaxError")
    assert "print(x)" in message
    # An ordinary error is not mistaken for an incompatibility.
    assert diagnose(_raised("x = 1 / 0\n")) is None
    assert diagnose(_raised("y = undefined_name\n")) is None
