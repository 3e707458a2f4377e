"""Tests of indrnn.legacy.params: parameter files in the original scripts'
format."""
import os
import zipfile

import numpy as np
import pytest

from indrnn.lasagne.layers import (BatchNormLayer, DenseLayer, InputLayer,
                                   get_all_param_values, get_all_params)
from indrnn.legacy import load_legacy_params, param_table, save_legacy_params


def make_net(seed=0):
    """Input(5) -> Dense 'hidden'(4) -> BatchNorm -> Dense(3)."""
    np.random.seed(seed)
    l_in = InputLayer((None, 5))
    hidden = DenseLayer(l_in, 4, name='hidden')
    bn = BatchNormLayer(hidden)
    out = DenseLayer(bn, 3)
    return out


def randomize(layer, seed):
    rng = np.random.RandomState(seed)
    for p in get_all_params(layer):
        v = p.get_value()
        p.set_value(rng.standard_normal(v.shape).astype(v.dtype))


def test_save_writes_arr_i_in_get_all_params_order(tmp_path):
    net = make_net()
    randomize(net, 1)
    path = save_legacy_params(tmp_path / 'net', net)
    assert path == str(tmp_path / 'net.npz')
    with np.load(path) as f:
        assert sorted(f.files) == ['arr_%d' % i for i in range(8)]
        for i, p in enumerate(get_all_params(net)):
            np.testing.assert_array_equal(f['arr_%d' % i], p.get_value())
    # Non-trainable BatchNorm averages are saved too (mean, inv_std).
    names = [p.name for p in get_all_params(net)]
    assert names == ['hidden.W', 'hidden.b', 'beta', 'gamma', 'mean',
                     'inv_std', 'W', 'b']


def test_save_accepts_list_of_values_and_shared_variables(tmp_path):
    net = make_net()
    values = get_all_param_values(net)
    p1 = save_legacy_params(str(tmp_path / 'a.npz'), values)
    p2 = save_legacy_params(str(tmp_path / 'b.npz'), get_all_params(net))
    for path in (p1, p2):
        with np.load(path) as f:
            for i, v in enumerate(values):
                np.testing.assert_array_equal(f['arr_%d' % i], v)


def test_round_trip(tmp_path):
    src = make_net(0)
    randomize(src, 1)
    path = save_legacy_params(tmp_path / 'p', src)
    dst = make_net(2)
    before = get_all_param_values(dst)
    loaded = load_legacy_params(path, dst)
    for a, b, c, old in zip(get_all_param_values(src),
                            get_all_param_values(dst), loaded, before):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
        assert not np.array_equal(a, old)
    # '.npz' may be left out, as np.savez adds it.
    load_legacy_params(str(tmp_path / 'p'), dst)


def test_file_written_like_the_original_script_loads(tmp_path):
    # The original: np.savez(save_name, *get_all_param_values(net['out'])).
    src = make_net(0)
    randomize(src, 3)
    np.savez(str(tmp_path / 'indrnn500'), *get_all_param_values(src))
    dst = make_net(1)
    load_legacy_params(str(tmp_path / 'indrnn500.npz'), dst)
    for a, b in zip(get_all_param_values(src), get_all_param_values(dst)):
        np.testing.assert_array_equal(a, b)


def test_param_table_rows_and_owners():
    net = make_net()
    rows = param_table(net)
    assert [r[0] for r in rows] == list(range(8))
    assert [r[1] for r in rows] == [p.name for p in get_all_params(net)]
    assert [r[3] for r in rows] == [(5, 4), (4,), (4,), (4,), (4,), (4,),
                                    (4, 3), (3,)]
    owners = [r[2] for r in rows]
    assert owners[0] == owners[1] == "DenseLayer 'hidden' (layer 1)"
    assert all(o == 'BatchNormLayer (layer 2)' for o in owners[2:6])
    assert owners[6] == owners[7] == 'DenseLayer (layer 3)'


def test_count_mismatch(tmp_path):
    net = make_net()
    values = get_all_param_values(net)
    path = tmp_path / 'short.npz'
    np.savez(str(path), *values[:-1])
    with pytest.raises(ValueError) as err:
        load_legacy_params(path, net)
    msg = str(err.value)
    assert '7 arrays' in msg and '8 parameters' in msg
    assert 'short.npz' in msg
    # The message lists the network's parameters to compare against.
    assert "arr_7: 'b' of DenseLayer (layer 3), shape (3,)" in msg


def test_shape_mismatch_names_index_param_owner_and_shapes(tmp_path):
    net = make_net()
    values = get_all_param_values(net)
    values[6] = np.zeros((4, 2), dtype=values[6].dtype)
    path = tmp_path / 'bad.npz'
    np.savez(str(path), *values)
    with pytest.raises(ValueError) as err:
        load_legacy_params(path, net)
    msg = str(err.value)
    assert 'arr_6' in msg and 'parameter 6' in msg
    assert "parameter 6 'W' of DenseLayer (layer 3)" in msg
    assert '(4, 2)' in msg and '(4, 3)' in msg
    assert 'bad.npz' in msg


@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_refused_naming_the_parameter(tmp_path, bad):
    src = make_net(0)
    randomize(src, 5)
    values = get_all_param_values(src)
    values[6] = values[6].copy()
    values[6][1, 2] = bad
    path = tmp_path / 'diverged.npz'
    np.savez(str(path), *values)
    dst = make_net(1)
    before = get_all_param_values(dst)
    with pytest.raises(ValueError) as err:
        load_legacy_params(path, dst)
    msg = str(err.value)
    assert msg.startswith('Non-finite values: arr_6 of ')
    assert "parameter 6 'W' of DenseLayer (layer 3)" in msg
    assert ('%d NaN and %d infinite values (of 12)'
            % (np.isnan(bad), np.isinf(bad))) in msg
    for old, now in zip(before, get_all_param_values(dst)):
        np.testing.assert_array_equal(old, now)  # nothing loaded


def test_nothing_half_loaded(tmp_path):
    src = make_net(0)
    randomize(src, 5)
    values = get_all_param_values(src)
    # Only the last array is wrong: every earlier one would fit.
    values[-1] = np.zeros((7,), dtype=values[-1].dtype)
    path = tmp_path / 'last_bad.npz'
    np.savez(str(path), *values)
    dst = make_net(1)
    before = get_all_param_values(dst)
    with pytest.raises(ValueError, match='arr_7'):
        load_legacy_params(path, dst)
    for old, now in zip(before, get_all_param_values(dst)):
        np.testing.assert_array_equal(old, now)


def test_dtype_checks(tmp_path):
    net = make_net()
    values = get_all_param_values(net)
    dtype = values[0].dtype
    # Another float width is cast (e.g. float32 files into float64 nets).
    other = np.float32 if dtype == np.float64 else np.float64
    path = tmp_path / 'other_width.npz'
    np.savez(str(path), *[v.astype(other) + 1 for v in values])
    loaded = load_legacy_params(path, net)
    assert all(v.dtype == dtype for v in loaded)
    assert all(p.get_value().dtype == dtype for p in get_all_params(net))
    np.testing.assert_allclose(get_all_param_values(net)[0],
                               values[0].astype(other) + 1, rtol=1e-6)
    # Complex into a real parameter is not a same-kind cast.
    bad = list(values)
    bad[2] = bad[2].astype(np.complex64)
    path = tmp_path / 'complex.npz'
    np.savez(str(path), *bad)
    with pytest.raises(ValueError) as err:
        load_legacy_params(path, net)
    msg = str(err.value)
    assert 'arr_2' in msg and "'beta'" in msg and 'complex64' in msg
    with pytest.warns(np.exceptions.ComplexWarning):
        load_legacy_params(path, net, strict=False)


# Cut to nothing, to 10 bytes (inside the first member's header), to a
# fraction, or by the last byte only (the end of the central directory).
@pytest.mark.parametrize('cut', [0, 10, 0.5, 0.9, -1])
def test_truncated_file(tmp_path, cut):
    net = make_net()
    randomize(net, 1)
    path = save_legacy_params(tmp_path / 'p', net)
    data = open(path, 'rb').read()
    size = (len(data) + cut if cut == -1 else cut if isinstance(cut, int)
            else int(len(data) * cut))
    assert size < len(data)
    trunc = str(tmp_path / 'truncated.npz')
    with open(trunc, 'wb') as f:
        f.write(data[:size])
    before = get_all_param_values(net)
    with pytest.raises(ValueError) as err:
        load_legacy_params(trunc, net)
    assert 'truncated.npz' in str(err.value)
    assert 'corrupt' in str(err.value)
    for old, now in zip(before, get_all_param_values(net)):
        np.testing.assert_array_equal(old, now)


def test_corrupt_member_and_foreign_keys(tmp_path):
    net = make_net()
    path = save_legacy_params(tmp_path / 'p', net)
    # Flip bytes inside a stored member: the CRC check must catch it.
    raw = bytearray(open(path, 'rb').read())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo('arr_0.npy')
    start = info.header_offset + 30 + len(info.filename) + 140
    raw[start:start + 8] = bytes(8)
    bad = tmp_path / 'flipped.npz'
    bad.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match='flipped.npz'):
        load_legacy_params(bad, net)
    # Named arrays are not a legacy file.
    named = tmp_path / 'named.npz'
    np.savez(str(named), W=np.zeros(2))
    with pytest.raises(ValueError, match='arr_0'):
        load_legacy_params(named, net)


def test_not_an_npz_archive(tmp_path):
    net = make_net()
    npy = tmp_path / 'single.npy'
    np.save(str(npy), np.zeros(3))
    junk = tmp_path / 'junk.npz'
    junk.write_bytes(b'this is not a zip archive at all')
    for path in (npy, junk):
        with pytest.raises(ValueError, match=path.name + '.*not an .npz'):
            load_legacy_params(path, net)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_legacy_params(os.path.join(tmp_path, 'nope.npz'), make_net())
