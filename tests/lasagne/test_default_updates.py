"""Tests for indrnn.lasagne.default_updates: the reliance on PyTensor's
shared-variable default updates. If a PyTensor upgrade stops applying
default updates in ``pytensor.function``, these tests fail (and so would
batch-norm running averages and fresh dropout masks)."""
import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt

from indrnn.lasagne.default_updates import (aliased_clone,
                                            attach_default_update,
                                            collect_default_updates)


def test_aliased_clone_shares_storage_but_is_a_distinct_variable():
    s = pytensor.shared(np.zeros(3), name="s")
    c = aliased_clone(s)
    assert c is not s
    c.set_value(np.ones(3))
    np.testing.assert_array_equal(s.get_value(), np.ones(3))
    s.set_value(np.full(3, 2.))
    np.testing.assert_array_equal(c.get_value(), np.full(3, 2.))


def test_default_update_is_applied_by_compiled_function():
    s = pytensor.shared(np.float64(0.), name="counter")
    x = pt.dscalar("x")
    with warnings.catch_warnings():
        # attaching must not warn (the deprecation warning is silenced)
        warnings.simplefilter("error")
        out = x + attach_default_update(s, s + 1)
        # nor does compiling a function that collects it
        f = pytensor.function([x], out, mode="FAST_COMPILE")
    assert f(10.) == 10.
    assert f(10.) == 11.
    assert f(10.) == 12.
    assert float(s.get_value()) == 3.


def test_update_cast_to_variable_dtype():
    s = pytensor.shared(np.int64(0))
    attach_default_update(s, s + 0.7)    # float update, integer variable
    assert s.default_update.dtype == "int64"


def test_default_update_on_clone_advances_original_and_is_overridable():
    s = pytensor.shared(np.zeros(2), name="running")
    c = attach_default_update(aliased_clone(s), aliased_clone(s) * 0 + 5.)
    # the update lives on the clone only
    assert s.default_update is None
    f = pytensor.function([], 0 * c + 1, mode="FAST_COMPILE")
    f()
    np.testing.assert_array_equal(s.get_value(), [5., 5.])
    # explicit updates win over a default update
    g = pytensor.function([], 0 * c + 1, updates=[(c, c - 1)],
                          mode="FAST_COMPILE")
    g()
    np.testing.assert_array_equal(s.get_value(), [4., 4.])
    # a function not using the clone does not touch it
    h = pytensor.function([], s * 2, mode="FAST_COMPILE")
    h()
    np.testing.assert_array_equal(s.get_value(), [4., 4.])


def test_collect_default_updates():
    a = pytensor.shared(np.float64(0.))
    b = pytensor.shared(np.float64(0.))
    plain = pytensor.shared(np.float64(0.))
    out = attach_default_update(a, a + 1) + attach_default_update(b, b * 2) \
        + plain
    found = dict(collect_default_updates(out))
    assert set(found) == {a, b}
    assert found[a] is a.default_update
    assert len(collect_default_updates([plain * 2])) == 0
    # already updated explicitly: not collected
    assert set(collect_default_updates(out, exclude={a})) == {b}


def test_collect_default_updates_follows_update_expressions():
    inner = pytensor.shared(np.float64(0.))
    outer = pytensor.shared(np.float64(0.))
    attach_default_update(inner, inner + 1)
    # outer's update uses inner, which only appears in that expression
    attach_default_update(outer, outer + inner)
    assert set(collect_default_updates(outer * 1)) == {outer, inner}
