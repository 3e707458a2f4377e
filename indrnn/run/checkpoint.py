"""Checkpoints: everything a training run needs to continue exactly.

A checkpoint is one HDF5 file (written with h5py) holding

- every parameter of the network, trainable or not
  (``lasagne.layers.get_all_params(layer)``: weights, BatchNorm running
  averages, ``hid_init``), in ``get_all_params`` order;
- the rest of the state the compiled training function updates: the
  optimizer's shared variables (Adam's moments and time step) and the call
  counters of the dropout and noise layers, which select their random
  masks (found as the updated shared inputs of the compiled function, so
  default updates are included);
- the state of the caller's ``numpy.random.RandomState`` objects (data
  generation, shuffling);
- the training loop's state and the caller's schedule state, as JSON;
- named lists of arrays the caller keeps besides the network (e.g. the
  best-so-far parameters of a schedule that restores them), as HDF5
  datasets ``arrays/<name>/<i>`` of exact dtype and shape;
- the argument namespace (JSON) and ``indrnn.__version__``.

Files are written atomically: to a temporary file in the same folder,
flushed and ``fsync``-ed, then renamed over the target, so a crash during
the write leaves the previous checkpoint as it was. Loading validates the
whole file against the network before it sets anything, and names the
first parameter that does not match.

:class:`Checkpointer` adds the bookkeeping of a run: numbered files, the
last ``keep`` of them kept, and a separate best one.
:func:`read_checkpoint` reads a file without a network (e.g. to get the
seed a run must build its network with before it can load the rest).
"""
import json
import os
import re
import shlex
import tempfile

import numpy as np

__all__ = [
    "CheckpointError",
    "CheckpointMismatchError",
    "CheckpointWriteError",
    "FORMAT",
    "training_state_variables",
    "save_checkpoint",
    "load_checkpoint",
    "read_checkpoint",
    "last_written_checkpoint",
    "check_config",
    "Checkpointer",
]

#: Value of the ``format`` attribute of every checkpoint file.
FORMAT = "indrnn-checkpoint"
# 2 added the ``arrays`` group; version 1 files (without it) still load.
_FORMAT_VERSION = 2

#: The last checkpoint this process wrote completely (save_checkpoint).
_last_written = None


def last_written_checkpoint():
    """The file of the last checkpoint this process wrote completely.

    For the messages of a run that stops on an error after training
    started (a full disk while writing its results, say): that checkpoint
    is whole and resumes the run.

    Returns
    -------
    str or None
    """
    return _last_written


class CheckpointError(Exception):
    """A checkpoint could not be read: missing, truncated, corrupt or not
    a checkpoint.

    Examples
    --------
    >>> str(CheckpointError('bad file'))
    'bad file'
    """


class CheckpointMismatchError(CheckpointError):
    """A checkpoint does not belong to this network or configuration.

    Examples
    --------
    >>> issubclass(CheckpointMismatchError, CheckpointError)
    True
    """


class CheckpointWriteError(OSError):
    """A checkpoint could not be written (unwritable folder, full disk).

    Earlier checkpoints are left as they were.

    Examples
    --------
    >>> issubclass(CheckpointWriteError, OSError)
    True
    """


def training_state_variables(train_fn, layer=None):
    """Shared variables a compiled training function updates, other than
    the network's parameters.

    These are the optimizer's state (Adam's moments and time step) and the
    call counters of dropout and noise layers (``'dropout_counter'``,
    ``'noise_counter'``), whose default updates the function applies. A
    variable sharing its storage with a network parameter (the aliased
    clones BatchNorm layers update) counts as that parameter.

    Parameters
    ----------
    train_fn : pytensor.compile.function.types.Function
        The compiled training function.
    layer : Layer or list of Layer, optional
        Output layer(s) of the network; its parameters are left out.

    Returns
    -------
    list of SharedVariable
        In the order of the function's inputs, which is the order the
        graph was built in, so the same code gives the same order.

    Examples
    --------
    >>> import pytensor, pytensor.tensor as pt
    >>> from indrnn.lasagne.updates import adam
    >>> w = pytensor.shared(np.ones(2), name='w')
    >>> x = pt.vector('x')
    >>> loss = ((w * x) ** 2).sum()
    >>> f = pytensor.function([x], loss, mode='FAST_COMPILE',
    ...                       updates=adam(pytensor.grad(loss, [w]), [w]))
    >>> [v.name for v in training_state_variables(f)]  # w, m, v, t
    ['w', None, None, None]
    """
    from ..compile import input_specs
    from ..lasagne.layers import get_all_params
    params = get_all_params(layer) if layer is not None else []
    containers = {id(p.container) for p in params}
    found = []
    seen = set()
    for inp in input_specs(train_fn):
        var = inp.variable
        if inp.update is None or not hasattr(var, "get_value"):
            continue
        key = id(var.container)
        if key in containers or key in seen:
            continue
        seen.add(key)
        found.append(var)
    return found


def _declared(var):
    """The value of ``var`` as a numpy array of its declared dtype.

    In ``mode="JAX"`` with 64-bit types off (the float32 runs), JAX holds
    an int64 shared variable (the dropout and noise counters) as int32
    after the first step. A checkpoint keeps the declared dtype, so that
    it resumes in any mode, and one mode's file reads like the other's.
    """
    value = np.asarray(var.get_value())
    dtype = getattr(var.type, "dtype", None)
    if dtype is None or value.dtype == dtype:
        return value
    declared = value.astype(dtype)
    if not np.array_equal(declared, value):
        raise ValueError("%r holds %s values that %s cannot hold"
                         % (var.name, value.dtype, dtype))
    return declared


def _widened(value, dtype):
    """``value`` as ``dtype`` if that is a lossless widening of integers.

    Checkpoints written in ``mode="JAX"`` before :func:`_declared` hold
    the int64 counters as int32; they still resume. Anything else is
    returned as it is, for :func:`_check_values` to report.
    """
    if (value.dtype.kind in "iu" and np.dtype(dtype).kind in "iu"
            and np.can_cast(value.dtype, dtype, casting="safe")):
        return value.astype(dtype)
    return value


def _to_json(value):
    """JSON text of ``value``; numpy scalars and arrays become Python
    numbers and lists, anything else its ``repr``."""
    def default(obj):
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        return repr(obj)
    if value is not None and hasattr(value, "__dict__") \
            and not isinstance(value, dict):
        value = vars(value)
    return json.dumps(value, default=default, sort_keys=True)


def _write_hdf5(path, contents):
    """Write ``contents`` (see :func:`save_checkpoint`) to the HDF5 file
    ``path``, flush it and ``fsync`` it."""
    import h5py
    with h5py.File(path, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = _FORMAT_VERSION
        for key, text in contents["json"].items():
            f.attrs[key] = text
        for group_name in ("params", "state"):
            group = f.create_group(group_name)
            for i, (name, value) in enumerate(contents[group_name]):
                ds = group.create_dataset("%06d" % i, data=value)
                ds.attrs["name"] = "" if name is None else name
        group = f.create_group("rngs")
        for i, rng_state in enumerate(contents["rngs"]):
            algorithm, keys, pos, has_gauss, gauss = rng_state
            ds = group.create_dataset("%06d" % i, data=keys)
            ds.attrs["algorithm"] = algorithm
            ds.attrs["pos"] = int(pos)
            ds.attrs["has_gauss"] = int(has_gauss)
            ds.attrs["cached_gaussian"] = float(gauss)
        group = f.create_group("arrays")
        # HDF5 lists a group's members alphabetically; the names' order
        # is kept separately so the dict comes back in the order given.
        group.attrs["order"] = json.dumps(list(contents["arrays"]))
        for name, values in contents["arrays"].items():
            sub = group.create_group(name)
            for i, value in enumerate(values):
                sub.create_dataset("%06d" % i, data=value)
        f.flush()
    # h5py has closed the file; fsync its bytes to the disk.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder):
    # Makes the rename itself durable; not every platform allows it.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_arrays(arrays):
    """``arrays`` as ``{name: [ndarray, ...]}`` copies; ValueError for
    what HDF5 cannot hold exactly."""
    if arrays is None:
        return {}
    if not isinstance(arrays, dict):
        raise ValueError("arrays must be a dict {name: list of arrays}, "
                         "got %s" % type(arrays).__name__)
    out = {}
    for name, values in arrays.items():
        if (not isinstance(name, str) or not name or "/" in name
                or name in (".", "..")):
            raise ValueError("arrays: name %r is not usable as an HDF5 "
                             "group name (a non-empty str without '/')"
                             % (name,))
        if isinstance(values, np.ndarray) or not hasattr(values, "__iter__"):
            raise ValueError("arrays[%r] must be a list of arrays, got %s"
                             % (name, type(values).__name__))
        converted = []
        for i, value in enumerate(values):
            # np.array copies: what is saved is the value at save time.
            value = np.array(value)
            if value.dtype.kind not in "biufc":
                raise ValueError("arrays[%r][%d] has dtype %s; only bool, "
                                 "integer, float and complex arrays are "
                                 "saved" % (name, i, value.dtype))
            converted.append(value)
        out[name] = converted
    return out


def save_checkpoint(path, layer, train_fn=None, rngs=(), state=None,
                    args=None, arrays=None):
    """Write a checkpoint atomically.

    Parameters
    ----------
    path : str
        The file to write; replaced atomically if it exists.
    layer : Layer or list of Layer
        Output layer(s) of the network; all their parameters are saved.
    train_fn : Function, optional
        The compiled training function; the state it updates besides the
        parameters is saved (see :func:`training_state_variables`).
    rngs : sequence of numpy.random.RandomState
        Random states to save, e.g. the data generator's.
    state : dict, optional
        JSON-serialisable state of the loop and schedule (step, learning
        rate, counters...).
    args : argparse.Namespace or dict, optional
        The run's configuration, saved as JSON.
    arrays : dict, optional
        ``{name: list of numpy arrays}`` kept besides the network (e.g. a
        schedule's best-so-far parameters), saved as HDF5 datasets with
        their exact dtype and shape; :func:`load_checkpoint` returns them
        as ``state['arrays']``. Names are non-empty and hold no ``/``;
        dtypes are bool, integer, float or complex.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    CheckpointWriteError
        When the file cannot be written; an existing ``path`` is unchanged.
    ValueError
        When ``arrays`` cannot be saved, or ``state`` has a key
        ``'arrays'`` (reserved for the arrays on load); nothing is written.

    Examples
    --------
    >>> import tempfile
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> net = DenseLayer(InputLayer((None, 3)), 2)
    >>> path = os.path.join(tempfile.mkdtemp(), 'ckpt.h5')
    >>> save_checkpoint(path, net, state={'step': 10}) == path
    True
    >>> load_checkpoint(path, net)['step']
    10
    >>> _ = save_checkpoint(path, net, arrays={'best': [np.arange(3)]})
    >>> load_checkpoint(path, net)['arrays']
    {'best': [array([0, 1, 2])]}
    """
    from .. import __version__
    from ..lasagne.layers import get_all_params
    if isinstance(state, dict) and "arrays" in state:
        raise ValueError("state must not have a key 'arrays': load returns "
                         "the arrays slot under it; pass arrays=...")
    params = get_all_params(layer)
    extra = training_state_variables(train_fn, layer) if train_fn else []
    contents = {
        "params": [(p.name, _declared(p)) for p in params],
        "state": [(v.name, _declared(v)) for v in extra],
        "rngs": [r.get_state() for r in rngs],
        "arrays": _check_arrays(arrays),
        "json": {"state_json": _to_json(state or {}),
                 "args_json": _to_json(args),
                 "indrnn_version": __version__},
    }
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(
            dir=folder, prefix="." + os.path.basename(path) + ".",
            suffix=".tmp")
        os.close(fd)
        _write_hdf5(tmp, contents)
        os.replace(tmp, path)
        tmp = None
        _fsync_folder(folder)
        global _last_written
        _last_written = path
    except OSError as exc:
        raise CheckpointWriteError(
            exc.errno, "could not write checkpoint %s (%s); earlier "
            "checkpoints are left intact" % (path, exc.strerror or exc)
        ) from exc
    finally:
        if tmp is not None:
            try:
                os.remove(tmp)
            except OSError:
                pass
    return path


def _read_hdf5(path):
    """Read a checkpoint file into memory; raises CheckpointError.

    Returns a dict with ``params``, ``state`` (lists of (name, value)),
    ``rngs``, ``arrays``, ``loop`` (the ``state`` given to
    :func:`save_checkpoint`), ``args``, ``indrnn_version`` and
    ``format_version``.
    """
    import h5py
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError("checkpoint %s does not exist" % path)
    if not os.path.isfile(path):
        raise CheckpointError("checkpoint %s is not a file" % path)
    try:
        # A file cut before its first bytes, or another format (a legacy
        # .npz parameter file, say), has no HDF5 signature.
        is_hdf5 = h5py.is_hdf5(path)
    except OSError as exc:
        raise CheckpointError("checkpoint %s cannot be read (%s)"
                              % (path, exc)) from exc
    if not is_hdf5:
        raise CheckpointError(
            "checkpoint %s is truncated or corrupt and cannot be read: it "
            "is not an HDF5 file (%d bytes)" % (path, os.path.getsize(path)))
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise CheckpointError(
                    "%s is an HDF5 file but not an indrnn checkpoint" % path)
            version = int(f.attrs.get("format_version", 1))
            if version > _FORMAT_VERSION:
                raise CheckpointError(
                    "checkpoint %s has format version %d; this indrnn "
                    "reads versions up to %d" % (path, version,
                                                 _FORMAT_VERSION))
            out = {key: str(f.attrs[key])
                   for key in ("state_json", "args_json", "indrnn_version")}
            out["format_version"] = version
            for group_name in ("params", "state"):
                group = f[group_name]
                out[group_name] = [
                    (str(group[k].attrs["name"]), group[k][()])
                    for k in sorted(group)]
            rngs = []
            for k in sorted(f["rngs"]):
                ds = f["rngs"][k]
                rngs.append((str(ds.attrs["algorithm"]),
                             np.asarray(ds[()], dtype=np.uint32),
                             int(ds.attrs["pos"]),
                             int(ds.attrs["has_gauss"]),
                             float(ds.attrs["cached_gaussian"])))
            out["rngs"] = rngs
            arrays = {}
            if "arrays" in f:   # absent from version 1 files
                group = f["arrays"]
                order = json.loads(str(group.attrs["order"]))
                if sorted(order) != sorted(group):
                    raise CheckpointError(
                        "checkpoint %s is corrupt: its arrays are %s, its "
                        "list of them says %s"
                        % (path, sorted(group), sorted(order)))
                for name in order:
                    # asarray: h5py gives 0-d datasets as numpy scalars.
                    arrays[name] = [np.asarray(group[name][k][()])
                                    for k in sorted(group[name])]
            out["arrays"] = arrays
    except CheckpointError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:
        # h5py reports truncated or overwritten files as OSError; missing
        # groups or attributes as KeyError.
        raise CheckpointError(
            "checkpoint %s is truncated or corrupt and cannot be read (%s)"
            % (path, exc)) from exc
    try:
        out["loop"] = json.loads(out.pop("state_json"))
        out["args"] = json.loads(out.pop("args_json"))
    except ValueError as exc:
        raise CheckpointError("checkpoint %s is corrupt: %s"
                              % (path, exc)) from exc
    return out


def read_checkpoint(path):
    """Read a checkpoint without a network.

    For what a run needs before it can build its network (the seed, the
    schedule), for inspecting a file, or for evaluation code that sets the
    parameters itself. Nothing is validated against a network; use
    :func:`load_checkpoint` (or :meth:`Checkpointer.load`) to restore.

    Parameters
    ----------
    path : str or os.PathLike
        Checkpoint written by :func:`save_checkpoint` or
        :class:`Checkpointer`.

    Returns
    -------
    dict
        ``'state'``: the ``state`` given to :func:`save_checkpoint`;
        ``'loop'``, ``'schedule'``, ``'best_score'``: the entries of that
        name of a :class:`Checkpointer` file's state (the loop state with
        its ``'step'``, the ``get_state()`` dict, the best score; None
        where absent);
        ``'args'``: the saved arguments (dict or None);
        ``'arrays'``: the arrays slot, ``{name: list of ndarray}`` (empty
        for files written without it, including format version 1);
        ``'params'``: the network's parameters, a list of (Lasagne name,
        ndarray) in ``get_all_params`` order;
        ``'indrnn_version'``: the version that wrote the file;
        ``'format_version'``: the file format's version;
        ``'path'``: ``path`` as a str.

    Raises
    ------
    CheckpointError
        The file is missing, truncated, corrupt or not a checkpoint; the
        message names the path.

    Examples
    --------
    >>> import tempfile
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> net = DenseLayer(InputLayer((None, 3)), 2)
    >>> ckpt = Checkpointer(tempfile.mkdtemp(), net,
    ...                     get_state=lambda: {'seed': 7})
    >>> info = read_checkpoint(ckpt.save({'step': 4}))
    >>> info['loop']['step'], info['schedule']
    (4, {'seed': 7})
    >>> [(name, value.shape) for name, value in info['params']]
    [('W', (3, 2)), ('b', (2,))]
    >>> read_checkpoint('/nonexistent.h5')
    Traceback (most recent call last):
    ...
    indrnn.run.checkpoint.CheckpointError: checkpoint /nonexistent.h5 does not ...
    """
    saved = _read_hdf5(path)
    state = saved["loop"]
    entries = state if isinstance(state, dict) else {}
    return {
        "state": state,
        "loop": entries.get("loop"),
        "schedule": entries.get("schedule"),
        "best_score": entries.get("best_score"),
        "args": saved["args"],
        "arrays": saved["arrays"],
        "params": [(name, np.asarray(value))
                   for name, value in saved["params"]],
        "indrnn_version": saved["indrnn_version"],
        "format_version": saved["format_version"],
        "path": os.fspath(path),
    }


def _check_args(path, saved_args, args, config_keys):
    """Raise CheckpointMismatchError naming the first differing flag."""
    current = json.loads(_to_json(args)) or {}
    saved_args = saved_args or {}
    for key in config_keys:
        # Compared as JSON, as saved: tuples are lists, float32 floats.
        if saved_args.get(key) != current.get(key):
            raise CheckpointMismatchError(
                "checkpoint %s does not match this configuration: "
                "--%s is %r in the checkpoint and %r in this run"
                % (path, key, saved_args.get(key), current.get(key)))


def check_config(checkpoint, args, config_keys):
    """Refuse a checkpoint whose saved arguments differ from ``args``.

    What :func:`load_checkpoint` checks with its ``config_keys``, without
    the network: a script can check its flags against a checkpoint before
    it spends time building and compiling.

    Parameters
    ----------
    checkpoint : str, os.PathLike or dict
        The checkpoint file, or what :func:`read_checkpoint` returned.
    args : argparse.Namespace or dict
        This run's configuration.
    config_keys : sequence of str
        Names of the arguments that must be equal.

    Returns
    -------
    dict
        What :func:`read_checkpoint` returns for the checkpoint.

    Raises
    ------
    CheckpointError
        The file cannot be read.
    CheckpointMismatchError
        An argument differs; the message names the first as ``--<key>``
        with both values.

    Examples
    --------
    >>> import tempfile
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> net = DenseLayer(InputLayer((None, 3)), 2)
    >>> path = os.path.join(tempfile.mkdtemp(), 'ckpt.h5')
    >>> _ = save_checkpoint(path, net, args={'net': 'dense', 'seed': 1})
    >>> check_config(path, {'net': 'dense', 'seed': 2}, ['net'])['args']
    {'net': 'dense', 'seed': 1}
    >>> try:
    ...     check_config(path, {'net': 'residual'}, ['net'])
    ... except CheckpointMismatchError as exc:
    ...     print(str(exc).split(': ', 1)[1])
    --net is 'dense' in the checkpoint and 'residual' in this run
    """
    info = checkpoint if isinstance(checkpoint, dict) \
        else read_checkpoint(checkpoint)
    _check_args(info["path"], info["args"], args, config_keys)
    return info


def _check_values(path, kind, variables, saved):
    """Raise CheckpointMismatchError naming the first mismatch.

    Compares with each variable's declared dtype; integer values saved
    narrower are widened in ``saved`` (see :func:`_widened`).
    """
    if len(saved) != len(variables):
        raise CheckpointMismatchError(
            "checkpoint %s does not match this configuration: it has %d %s, "
            "this network has %d" % (path, len(saved), kind, len(variables)))
    for i, (var, (name, value)) in enumerate(zip(variables, saved)):
        # the declared dtype, not the held one (JAX may hold int64 as
        # int32, see _declared)
        current = np.shape(var.get_value(borrow=True))
        dtype = np.dtype(getattr(var.type, "dtype", value.dtype))
        value = _widened(value, dtype)
        saved[i] = (name, value)
        if (value.shape != current or value.dtype != dtype
                or (name or None) != (var.name or None)):
            raise CheckpointMismatchError(
                "checkpoint %s does not match this configuration: %s %d "
                "(Lasagne name %r) expected shape %s %s, found %r with shape "
                "%s %s" % (path, kind.rstrip("s"), i, var.name,
                           current, dtype, name or None,
                           value.shape, value.dtype))


def _check_finite(path, kind, saved):
    """Raise CheckpointError naming the first ``(name, array)`` of
    ``saved`` with NaN or Inf.

    A run stops before it saves non-finite parameters (the NaN stop), so
    such values mean a damaged file; training on from them would only
    spread them.
    """
    for i, (name, value) in enumerate(saved):
        value = np.asarray(value)
        if value.dtype.kind not in "fc" or np.isfinite(value).all():
            continue
        raise CheckpointError(
            "checkpoint %s is damaged: %s %d (Lasagne name %r) holds %d NaN "
            "and %d infinite values (of %d); resume from an earlier "
            "checkpoint" % (path, kind, i, name, int(np.isnan(value).sum()),
                            int(np.isinf(value).sum()), value.size))


def load_checkpoint(path, layer, train_fn=None, rngs=(), args=None,
                    config_keys=None):
    """Validate a checkpoint against the network, then restore it.

    Nothing is set unless everything matches: parameter count, each
    parameter's name, shape and dtype, the training function's extra state
    (see :func:`training_state_variables`), the number of random states,
    and the ``config_keys`` of ``args`` (which :func:`check_config` checks
    alone, before a network is built).

    Parameters
    ----------
    path : str
        Checkpoint written by :func:`save_checkpoint`.
    layer : Layer or list of Layer
        Output layer(s) of the network to restore.
    train_fn : Function, optional
        The compiled training function whose state to restore.
    rngs : sequence of numpy.random.RandomState
        Random states to restore, in the order they were saved.
    args : argparse.Namespace or dict, optional
        This run's configuration, compared with the saved one.
    config_keys : sequence of str, optional
        Names of the arguments that must be equal (other arguments, such as
        ``max_steps``, may change on resume).

    Returns
    -------
    dict
        The loop and schedule state given to :func:`save_checkpoint`, plus
        ``'arrays'`` (the arrays slot, ``{name: list of ndarray}``; empty
        when the file has none), ``'_args'`` (the saved arguments) and
        ``'_indrnn_version'``.

    Raises
    ------
    CheckpointError
        Missing, truncated or corrupt file, or NaN or Inf in a parameter or
        optimizer state variable (the message names it).
    CheckpointMismatchError
        The checkpoint belongs to another network or configuration; the
        message names the first mismatching parameter (index, Lasagne
        name, expected and found shape) or argument.

    Examples
    --------
    >>> load_checkpoint('/nonexistent.h5', None)
    Traceback (most recent call last):
    ...
    indrnn.run.checkpoint.CheckpointError: checkpoint /nonexistent.h5 does not ...
    """
    from ..lasagne.layers import get_all_params
    saved = _read_hdf5(path)
    params = get_all_params(layer)
    _check_values(path, "parameters", params, saved["params"])
    _check_finite(path, "parameter", saved["params"])
    extra = training_state_variables(train_fn, layer) if train_fn else []
    if train_fn is not None:
        _check_values(path, "optimizer state variables", extra,
                      saved["state"])
        _check_finite(path, "optimizer state variable", saved["state"])
    rngs = list(rngs)
    if len(saved["rngs"]) != len(rngs):
        raise CheckpointMismatchError(
            "checkpoint %s holds %d random states, this run has %d"
            % (path, len(saved["rngs"]), len(rngs)))
    for rng_state in saved["rngs"]:
        if rng_state[0] != "MT19937" or rng_state[1].shape != (624,):
            raise CheckpointError("checkpoint %s: corrupt random state"
                                  % path)
    if args is not None and config_keys:
        _check_args(path, saved["args"], args, config_keys)
    # Everything matches: set it.
    for var, (_, value) in zip(params, saved["params"]):
        var.set_value(value)
    if train_fn is not None:
        for var, (_, value) in zip(extra, saved["state"]):
            var.set_value(value)
    for rng, rng_state in zip(rngs, saved["rngs"]):
        rng.set_state(rng_state)
    state = dict(saved["loop"])
    state["arrays"] = saved["arrays"]
    state["_args"] = saved["args"]
    state["_indrnn_version"] = saved["indrnn_version"]
    return state


class Checkpointer:
    """The checkpoints of one run: numbered files, the last ``keep`` kept,
    and the best one.

    Files are ``<folder>/<prefix>-step<NNNNNNNN>.h5`` and
    ``<folder>/<prefix>-best.h5``. The folder is created and checked for
    writing at construction, so a run that could not save fails at start.

    Parameters
    ----------
    folder : str
        Where the checkpoints go.
    layer : Layer or list of Layer
        Output layer(s) of the network.
    train_fn : Function, optional
        The compiled training function (optimizer state, dropout counters).
    rngs : sequence of numpy.random.RandomState
        The run's random states.
    args : argparse.Namespace, optional
        The run's configuration.
    keep : int
        How many of the latest checkpoints to keep (at least 1).
    prefix : str
        File name prefix.
    get_state, set_state : callable, optional
        ``get_state() -> dict`` (JSON-serialisable) and ``set_state(dict)``
        for the caller's schedule state (e.g. patience counters).
    get_arrays, set_arrays : callable, optional
        ``get_arrays() -> {name: list of ndarray}``, saved with every
        checkpoint in the arrays slot (see :func:`save_checkpoint`), and
        ``set_arrays(dict)``, called by :meth:`load` with the saved dict
        (empty for a checkpoint without arrays), after ``set_state``.
    best_metric : str, optional
        Name of a figure of the reports (``state.metrics``); when it
        improves, the best checkpoint is written.
    best_mode : {'min', 'max'}
        Whether lower or higher ``best_metric`` is better.
    resume_command : str, optional
        Command line resuming the run, with ``{path}`` where the checkpoint
        goes; shown when the run is interrupted.

    Examples
    --------
    >>> import tempfile
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> net = DenseLayer(InputLayer((None, 3)), 2)
    >>> ckpt = Checkpointer(tempfile.mkdtemp(), net, keep=2)
    >>> paths = [ckpt.save({'step': s}) for s in (1, 2, 3)]
    >>> [os.path.basename(p) for p in ckpt.list()]
    ['checkpoint-step00000002.h5', 'checkpoint-step00000003.h5']

    Arrays beside the network, e.g. a schedule's best parameters:

    >>> best = {'params': [np.zeros(2)]}
    >>> ckpt = Checkpointer(tempfile.mkdtemp(), net,
    ...                     get_arrays=lambda: best, set_arrays=best.update)
    >>> path = ckpt.save({'step': 1})
    >>> best['params'] = [np.ones(2)]
    >>> ckpt.load(path)['step'], best['params']
    (1, [array([0., 0.])])
    """

    def __init__(self, folder, layer, train_fn=None, rngs=(), args=None,
                 keep=3, prefix="checkpoint", get_state=None,
                 set_state=None, best_metric=None, best_mode="min",
                 resume_command=None, get_arrays=None, set_arrays=None):
        if keep < 1:
            raise ValueError("keep must be at least 1, got %r" % keep)
        self.folder = os.path.abspath(folder)
        self.layer = layer
        self.train_fn = train_fn
        self.rngs = list(rngs)
        self.args = args
        self.keep = keep
        self.prefix = prefix
        self.get_state = get_state
        self.set_state = set_state
        self.get_arrays = get_arrays
        self.set_arrays = set_arrays
        self.best_metric = best_metric
        self.best_mode = best_mode
        self.best_score = None
        self.resume_command = resume_command
        self.last_path = None
        self._check_writable()
        self._remove_unfinished_writes()

    def _remove_unfinished_writes(self):
        # A process killed while it wrote a checkpoint (kill -9, power
        # loss) leaves its temporary file (see save_checkpoint); the
        # checkpoints before it are whole.
        pattern = re.compile(r"^\.%s-(step\d+|best)\.h5\..*\.tmp$"
                             % re.escape(self.prefix))
        for name in os.listdir(self.folder):
            if pattern.match(name):
                try:
                    os.remove(os.path.join(self.folder, name))
                except OSError:
                    pass

    def _check_writable(self):
        try:
            os.makedirs(self.folder, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=self.folder, prefix=".probe")
            os.close(fd)
            os.remove(probe)
        except OSError as exc:
            raise CheckpointWriteError(
                exc.errno, "checkpoint folder %s cannot be written (%s)"
                % (self.folder, exc.strerror or exc)) from exc

    def path_for(self, step):
        """str: the file of the checkpoint at ``step``."""
        return os.path.join(self.folder,
                            "%s-step%08d.h5" % (self.prefix, step))

    @property
    def best_path(self):
        """str: the file of the best checkpoint."""
        return os.path.join(self.folder, "%s-best.h5" % self.prefix)

    def list(self):
        """The numbered checkpoint files, oldest step first.

        Returns
        -------
        list of str
        """
        pattern = re.compile(re.escape(self.prefix) + r"-step(\d+)\.h5$")
        found = []
        for name in os.listdir(self.folder):
            m = pattern.match(name)
            if m:
                found.append((int(m.group(1)), name))
        return [os.path.join(self.folder, n) for _, n in sorted(found)]

    def _full_state(self, loop_state):
        state = {"loop": dict(loop_state), "best_score": self.best_score}
        if self.get_state is not None:
            state["schedule"] = self.get_state()
        return state

    def save(self, loop_state, best=False):
        """Write a checkpoint of the run; drop all but the last ``keep``.

        Parameters
        ----------
        loop_state : dict
            The loop's state; must hold ``'step'``.
        best : bool
            Write the best checkpoint instead of a numbered one.

        Returns
        -------
        str
            The file written.
        """
        path = self.best_path if best else self.path_for(loop_state["step"])
        arrays = self.get_arrays() if self.get_arrays is not None else None
        save_checkpoint(path, self.layer, self.train_fn, self.rngs,
                        self._full_state(loop_state), self.args,
                        arrays=arrays)
        if not best:
            self.last_path = path
            for old in self.list()[:-self.keep]:
                try:
                    os.remove(old)
                except OSError:
                    pass
        return path

    def update_best(self, metrics, loop_state):
        """Write the best checkpoint if ``metrics`` improve on the best.

        Parameters
        ----------
        metrics : dict
            Figures of the latest report.
        loop_state : dict
            The loop's state.

        Returns
        -------
        str or None
            The file written, or None.
        """
        if self.best_metric is None or self.best_metric not in metrics:
            return None
        score = float(metrics[self.best_metric])
        better = (self.best_score is None
                  or (score < self.best_score if self.best_mode == "min"
                      else score > self.best_score))
        if not better:
            return None
        self.best_score = score
        return self.save(loop_state, best=True)

    def load(self, path, config_keys=None):
        """Restore a checkpoint into the run (see :func:`load_checkpoint`).

        Parameters
        ----------
        path : str
            The checkpoint.
        config_keys : sequence of str, optional
            Arguments that must equal the saved ones.

        Returns
        -------
        dict
            The loop state, to pass to ``train_loop(resume=...)``.
        """
        state = load_checkpoint(path, self.layer, self.train_fn, self.rngs,
                                self.args, config_keys)
        self.best_score = state.get("best_score")
        if self.set_state is not None and "schedule" in state:
            self.set_state(state["schedule"])
        if self.set_arrays is not None:
            self.set_arrays(state["arrays"])
        return state["loop"]

    def resume_hint(self, path):
        """str: the command resuming from ``path`` (or a generic hint)."""
        if self.resume_command:
            return self.resume_command.format(path=shlex.quote(path))
        return "resume with --resume %s" % shlex.quote(path)
