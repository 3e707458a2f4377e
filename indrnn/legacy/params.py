"""
Parameter files in the format of the original Theano/Lasagne scripts.

Every original IndRNN script ends with::

    np.savez(save_name, *lasagne.layers.get_all_param_values(net['out']))

so a parameter file is an ``.npz`` archive holding ``arr_0 ... arr_{N-1}``:
the values of *all* parameters of the network (trainable or not, e.g.
``hid_init`` and the BatchNorm ``mean``/``inv_std``), in the order of
``lasagne.layers.get_all_params(net['out'])``. The file carries no names or
shapes of its own, so a file only fits a network built with the same flags.

This module writes such files and reads them back into a network built with
:mod:`indrnn.lasagne`, checking the whole file against the network before a
single value is set, so that a mismatching file never leaves a network
half-loaded.
"""
import os
import tempfile
import zipfile

import numpy as np

from ..lasagne.layers import get_all_layers, get_all_params

__all__ = [
    "save_legacy_params",
    "load_legacy_params",
    "param_table",
]


def _owners(layer):
    """Map ``id(param)`` to ``(layer_index, layer)`` of the layer owning it.

    A layer owns a parameter if it appears in ``layer.get_params()``, which
    for container layers such as ``CustomRecurrentLayer`` (and hence
    ``IndRNNLayer``) includes the parameters of their internal
    ``input_to_hidden``/``hidden_to_hidden`` sub-layers. Layers are visited in
    topological order, so a parameter shared between layers is attributed to
    the first one that uses it.
    """
    owners = {}
    for index, lyr in enumerate(get_all_layers(layer)):
        params = list(getattr(lyr, "params", {}))
        if hasattr(lyr, "get_params"):
            params += list(lyr.get_params())
        for param in params:
            owners.setdefault(id(param), (index, lyr))
    return owners


def _describe_layer(index, lyr):
    """``'IndRNNLayer 'rnn0' (layer 1)'``: class, name if any, position."""
    name = getattr(lyr, "name", None)
    named = " %r" % name if name else ""
    return "%s%s (layer %d)" % (type(lyr).__name__, named, index)


def param_table(layer):
    """Describe the parameters in the order they are saved.

    Parameters
    ----------
    layer : Layer or list of Layer
        The output layer(s) of the network, as given to
        ``lasagne.layers.get_all_params``.

    Returns
    -------
    list of tuple
        One ``(index, name, owner, shape)`` row per parameter, where ``index``
        is ``i`` of ``arr_i`` in a legacy file, ``name`` the Lasagne parameter
        name (``param.name``, e.g. ``'hidden_to_hidden.W'``), ``owner`` a
        description of the owning layer (class, name if any, and its position
        in ``get_all_layers``) and ``shape`` the current value's shape.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> net = DenseLayer(InputLayer((None, 3)), 2)
    >>> for row in param_table(net):
    ...     print(row)
    (0, 'W', 'DenseLayer (layer 1)', (3, 2))
    (1, 'b', 'DenseLayer (layer 1)', (2,))
    """
    owners = _owners(layer)
    rows = []
    for index, param in enumerate(get_all_params(layer)):
        owner = owners.get(id(param))
        owner = _describe_layer(*owner) if owner else "<no owning layer>"
        shape = tuple(param.get_value(borrow=True).shape)
        rows.append((index, param.name, owner, shape))
    return rows


def save_legacy_params(path, layer_or_params):
    """Save parameter values exactly like the original scripts.

    Writes ``np.savez(path, *values)``, i.e. ``arr_0 ... arr_{N-1}``.

    Parameters
    ----------
    path : str or path-like
        Target file. Like ``np.savez``, ``'.npz'`` is appended when missing,
        so ``'indrnn500'`` (the original ``save_name``) gives
        ``'indrnn500.npz'``.
    layer_or_params : Layer, list of Layer, or list of arrays/shared variables
        A layer (or list of output layers) saves
        ``lasagne.layers.get_all_param_values(layer)``: all parameters,
        including non-trainable ones, in ``get_all_params`` order. A list of
        arrays or shared variables saves those values in the given order.

    Returns
    -------
    str
        The path of the written file (with the ``.npz`` suffix).

    Examples
    --------
    >>> import tempfile, os
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> net = DenseLayer(InputLayer((None, 3)), 2)
    >>> path = save_legacy_params(os.path.join(tempfile.mkdtemp(), 'net'), net)
    >>> sorted(np.load(path).files)
    ['arr_0', 'arr_1']
    """
    items = layer_or_params
    if not isinstance(items, (list, tuple)) or _is_layer_list(items):
        items = get_all_params(layer_or_params)
    values = [np.asarray(v.get_value() if hasattr(v, "get_value") else v)
              for v in items]
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    # Written beside the target and renamed over it: a full disk or a kill
    # never leaves a truncated file in place of an earlier one.
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz.tmp",
                               prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, *values)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.remove(tmp)
        except OSError:
            pass
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror, path) from exc
        raise
    except BaseException:
        os.remove(tmp)
        raise
    return path


def _is_layer_list(items):
    # A list of output layers (as accepted by get_all_params) rather than a
    # list of values: layers have an ``output_shape``, arrays do not.
    return len(items) > 0 and all(hasattr(i, "output_shape") for i in items)


def _read_npz(path):
    """Read every ``arr_i`` of a legacy file into memory, in index order."""
    path = os.fspath(path)
    if not os.path.exists(path) and os.path.exists(path + ".npz"):
        path += ".npz"
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not an archive")
        with archive:
            keys = list(archive.files)
            # Reading every member here surfaces truncation (bad CRC,
            # unexpected end of data) before anything is assigned.
            arrays = {key: archive[key] for key in keys}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError,
            KeyError) as exc:
        raise ValueError(
            "Cannot read legacy parameter file %r: %s: %s. The file is "
            "truncated, corrupt or not an .npz archive."
            % (path, type(exc).__name__, exc)) from exc
    expected = ["arr_%d" % i for i in range(len(keys))]
    if sorted(keys) != sorted(expected):
        unexpected = sorted(set(keys) - set(expected))
        raise ValueError(
            "Legacy parameter file %r must hold only arrays arr_0 ... "
            "arr_%d (written by np.savez(path, *values)); it holds %s."
            % (path, len(keys) - 1, unexpected or sorted(keys)))
    return path, [arrays[key] for key in expected]


def load_legacy_params(path, layer, strict=True):
    """Load a parameter file of the original scripts into a network.

    The whole file is checked against the network first; parameters are
    only set once every check has passed, so a mismatching file never
    leaves the network half-loaded.

    Parameters
    ----------
    path : str or path-like
        An ``.npz`` file holding ``arr_0 ... arr_{N-1}``, e.g. written by the
        original ``np.savez(name, *get_all_param_values(net['out']))`` or by
        :func:`save_legacy_params`. ``'.npz'`` may be omitted.
    layer : Layer or list of Layer
        The output layer(s) of a network built with the same flags as the
        one that was saved.
    strict : bool
        If True (default), each array's dtype must be castable to its
        parameter's dtype with ``casting='same_kind'`` (e.g. float64 into
        float32 or float32 into float64, but not float into int). If False,
        any numeric cast is allowed. Count and shapes are always checked.

    Returns
    -------
    list of numpy.ndarray
        The loaded values, cast to the parameters' dtypes.

    Raises
    ------
    ValueError
        If the file cannot be read, holds a different number of arrays than
        the network has parameters, or an array has the wrong shape, an
        incompatible dtype or NaN or infinite values. The message names the
        index, the Lasagne parameter name, the owning layer and both shapes
        (or dtypes, or the count of non-finite values).

    Examples
    --------
    >>> import tempfile, os
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> net = DenseLayer(InputLayer((None, 3)), 2)
    >>> path = save_legacy_params(os.path.join(tempfile.mkdtemp(), 'n'), net)
    >>> values = load_legacy_params(path, net)
    >>> [v.shape for v in values]
    [(3, 2), (2,)]
    """
    path, arrays = _read_npz(path)
    params = get_all_params(layer)
    table = param_table(layer)
    if len(arrays) != len(params):
        listing = "\n".join("  arr_%d: %r of %s, shape %s" % row
                            for row in table)
        raise ValueError(
            "Legacy parameter file %r holds %d arrays but the network has %d "
            "parameters (was it saved from a network built with other "
            "flags?). The network's parameters, in saved order:\n%s"
            % (path, len(arrays), len(params), listing))
    casting = "same_kind" if strict else "unsafe"
    values = []
    for (index, name, owner, shape), param, array in zip(table, params,
                                                         arrays):
        where = ("arr_%d of %r, for parameter %d %r of %s"
                 % (index, path, index, name, owner))
        if tuple(array.shape) != shape:
            raise ValueError("Shape mismatch: %s: the file has shape %s, the "
                             "parameter has shape %s."
                             % (where, tuple(array.shape), shape))
        dtype = np.dtype(param.dtype)
        if not np.can_cast(array.dtype, dtype, casting=casting):
            raise ValueError("Dtype mismatch: %s: cannot cast %s to %s with "
                             "casting=%r." % (where, array.dtype, dtype,
                                              casting))
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            raise ValueError(
                "Non-finite values: %s: %d NaN and %d infinite values (of "
                "%d). The file holds no usable parameters (saved from a run "
                "that diverged, or damaged)." % (
                    where, int(np.isnan(array).sum()),
                    int(np.isinf(array).sum()), array.size))
        values.append(array.astype(dtype, casting=casting, copy=True))
    for param, value in zip(params, values):
        param.set_value(value)
    return values

