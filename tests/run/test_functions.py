"""Tests of indrnn.run.functions: the U_bound clip and weight decay."""
import math

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import indrnn.lasagne as lasagne
from indrnn.indrnn import IndRNNLayer
from indrnn.lasagne.layers import (BatchNormLayer, DenseLayer, InputLayer,
                                   get_all_param_values, get_all_params)
from indrnn.run.functions import (clip_recurrent_weights_updates,
                                  compile_train_fn, weight_decay)

# Pure graph equivalence checks: the Python linker compiles fastest, and
# float64 makes "identical" mean identical to rounding.
MODE = 'FAST_COMPILE'
U_BOUND = 1.0
LR = 0.05
STEPS = 3


def build(seed=0):
    """IndRNN -> BatchNorm -> IndRNN -> Dense, recurrent weights up to 1.5.

    The BatchNorm running averages depend on the first layer's recurrent
    weights, so the clip must reach the layers' default updates too.
    """
    with pytensor.config.change_flags(floatX='float64'):
        old = lasagne.random.get_rng()
        lasagne.random.set_rng(np.random.RandomState(seed))
        try:
            l_in = InputLayer((None, 4, 2))
            l1 = IndRNNLayer(l_in, 3, W_in_to_hid=lasagne.init.Normal(0.5),
                             W_hid_to_hid=lasagne.init.Uniform((0, 1.5)))
            bn = BatchNormLayer(l1, axes=(0, 1))
            l2 = IndRNNLayer(bn, 3, W_in_to_hid=lasagne.init.Normal(0.5),
                             W_hid_to_hid=lasagne.init.Uniform((0.5, 1.5)),
                             only_return_final=True)
            out = DenseLayer(l2, 1, nonlinearity=None)
        finally:
            lasagne.random.set_rng(old)
        X = pt.tensor3('X')
        y = pt.matrix('y')
        prediction = lasagne.layers.get_output(out, X)
        loss = lasagne.objectives.squared_error(prediction, y).mean()
        params = get_all_params(out, trainable=True)
    return out, X, y, loss, params


def batches():
    rng = np.random.RandomState(42)
    return [(rng.uniform(0, 1, (5, 4, 2)), rng.uniform(0, 2, (5, 1)))
            for _ in range(STEPS)]


def clip_on_host(params):
    # What the original loops do between calls of train_fn.
    for p in params:
        if p.name == 'hidden_to_hidden.W':
            p.set_value(np.clip(p.get_value(), -U_BOUND, U_BOUND))


def reference_run(when):
    """The original loop: set_value clip before/after each train_fn call."""
    out, X, y, loss, params = build()
    with pytensor.config.change_flags(floatX='float64'):
        train_fn = compile_train_fn([X, y], loss, params, mode=MODE)
    losses = []
    for xb, yb in batches():
        if when == 'before':
            clip_on_host(params)
        losses.append(float(train_fn(xb, yb, LR)[0]))
        if when == 'after':
            clip_on_host(params)
    return losses, get_all_param_values(out)


def compiled_run(after_step):
    out, X, y, loss, params = build()
    with pytensor.config.change_flags(floatX='float64'):
        train_fn = compile_train_fn([X, y], loss, params, U_bound=U_BOUND,
                                    clip_after_step=after_step, mode=MODE)
    losses = [float(train_fn(xb, yb, LR)[0]) for xb, yb in batches()]
    return losses, get_all_param_values(out), out


def assert_same_run(a, b):
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12, atol=0)
    assert len(a[1]) == len(b[1])
    for x, y in zip(a[1], b[1]):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-15)


@pytest.fixture(scope='module')
def unclipped():
    return reference_run(None)


def test_setup_makes_the_clip_matter(unclipped):
    out, _, _, _, params = build()
    w = [p.get_value() for p in params if p.name == 'hidden_to_hidden.W']
    assert len(w) == 2 and all(np.any(v > U_BOUND) for v in w)
    # BatchNorm averages are part of what is compared.
    names = [p.name for p in get_all_params(out)]
    assert 'mean' in names and 'inv_std' in names


def test_clip_before_step_matches_set_value_loop(unclipped):
    ref = reference_run('before')
    got = compiled_run(after_step=False)
    assert_same_run(ref, got)
    # Not trivially equal: without the clip the run differs.
    assert not np.allclose(ref[0], unclipped[0], rtol=1e-6)
    # The stored W is the step from clip(W): it may leave the bound, as in
    # the original, where the next step clips it again.
    out = got[2]
    for p, v in zip(get_all_params(out), got[1]):
        if p.name == 'hidden_to_hidden.W':
            assert np.all(np.abs(v) <= U_BOUND + STEPS * LR * 1.01)


def test_clip_after_step_matches_set_value_loop(unclipped):
    ref = reference_run('after')
    got = compiled_run(after_step=True)
    assert_same_run(ref, got)
    # The first step runs at the unclipped W, so its loss is unclipped's.
    assert math.isclose(ref[0][0], unclipped[0][0], rel_tol=1e-12)
    assert not np.allclose(ref[0][1:], unclipped[0][1:], rtol=1e-6)
    out = got[2]
    for p, v in zip(get_all_params(out), got[1]):
        if p.name == 'hidden_to_hidden.W':
            assert np.all(np.abs(v) <= U_BOUND)


def test_clip_leaves_other_names_and_returns_outputs():
    w = pytensor.shared(np.array([2.0, -3.0, 0.5]), name='hidden_to_hidden.W')
    v = pytensor.shared(np.array([2.0, -3.0]), name='W')
    loss = (w ** 2).sum() + (v ** 2).sum()
    updates = {w: w - 0.0, v: v - 0.0}
    new, (out,) = clip_recurrent_weights_updates(updates, [w, v], 1.0,
                                                 outputs=[loss])
    f = pytensor.function([], out, updates=new, mode=MODE)
    assert float(f()) == pytest.approx(1 + 1 + 0.25 + 4 + 9)
    np.testing.assert_array_equal(w.get_value(), [1.0, -1.0, 0.5])
    np.testing.assert_array_equal(v.get_value(), [2.0, -3.0])


def test_weight_decay_skips_recurrent_weights():
    out, _, _, _, _ = build()
    with pytensor.config.change_flags(floatX='float64'):
        terms = weight_decay(out, 0.01)
        got = pytensor.function([], pt.add(*terms), mode=MODE)()
    regular = get_all_params(out, regularizable=True)
    names = [p.name for p in regular]
    assert names.count('hidden_to_hidden.W') == 2
    expected = 0.01 * sum((p.get_value() ** 2).sum() for p in regular
                          if p.name != 'hidden_to_hidden.W')
    assert len(terms) == len(regular) - 2
    assert float(got) == pytest.approx(expected, rel=1e-12)
