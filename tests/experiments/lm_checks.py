"""Checks shared by the language-model tests (plain and deep networks).

The state a PTB network carries between batches must make two calls on
the halves of a sequence equal one call on the whole. These helpers set
up two compiled networks for that (seq_len T and 2T) and run the check.
"""
import numpy as np

import indrnn.lasagne as lasagne


def randomize_short_and_long(short, long_, rng, frames=None):
    """Give ``short`` random parameters and ``long_`` the same ones.

    BatchNorm averages are included (``inv_std`` positive,
    ``hidden_to_hidden.W`` in [0.5, 1)); the long network's frame-wise
    averages are the short one's repeated in time. With ``frames``, each
    frame-wise average must have that many rows.
    """
    params_short = lasagne.layers.get_all_params(short.net['out'])
    params_long = lasagne.layers.get_all_params(long_.net['out'])
    for p, q in zip(params_short, params_long):
        low, high = {'hidden_to_hidden.W': (0.5, 1.0),
                     'inv_std': (0.5, 1.5)}.get(p.name, (-0.5, 0.5))
        value = rng.uniform(low, high, p.get_value().shape).astype(p.dtype)
        p.set_value(value)
        if p.name in ('mean', 'inv_std'):
            if frames is not None:
                assert value.shape[0] == frames  # one row per step
            value = np.concatenate([value, value], axis=0)
        q.set_value(value)


def halves_equal_whole(f_short, f_long, x, y, h0, T):
    """Two calls of ``f_short`` on the halves of ``x`` (the state carried)
    equal one call of ``f_long`` on all of it, and the carried state
    matters (from zeros the second half's BPC differs).

    Returns
    -------
    (h1, h2, h2_zero)
        The state after the first half, after the second, and after the
        second from a zero state.
    """
    _, bpc1, h1 = f_short(x[:, :T], y[:, :T], h0)
    _, bpc2, h2 = f_short(x[:, T:], y[:, T:], h1)
    _, bpc, h = f_long(x, y, h0)
    np.testing.assert_allclose(h2, h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose((bpc1 + bpc2) / 2, bpc, rtol=1e-5)
    _, bpc2_zero, h2_zero = f_short(x[:, T:], y[:, T:], np.zeros_like(h1))
    assert abs(bpc2_zero - bpc2) > 1e-4
    return h1, h2, h2_zero
