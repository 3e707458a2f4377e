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
- the argument namespace (JSON) and ``indrnn.__version__``.

Files are written atomically: to a temporary file in the same folder,
flushed and ``fsync``-ed, then renamed over the target, so a crash during
the write leaves the previous checkpoint as it was. Loading validates the
whole file against the network before it sets anything, and names the
first parameter that does not match.

:class:`Checkpointer` adds the bookkeeping of a run: numbered files, the
last ``keep`` of them kept, and a separate best one.
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
    "Checkpointer",
]

#: Value of the ``format`` attribute of every checkpoint file.
FORMAT = "indrnn-checkpoint"
_FORMAT_VERSION = 1


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
    from .lasagne.layers import get_all_params
    params = get_all_params(layer) if layer is not None else []
    containers = {id(p.container) for p in params}
    found = []
    seen = set()
    for inp in train_fn.maker.inputs:
        var = inp.variable
        if inp.update is None or not hasattr(var, "get_value"):
            continue
        key = id(var.container)
        if key in containers or key in seen:
            continue
        seen.add(key)
        found.append(var)
    return found


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


def save_checkpoint(path, layer, train_fn=None, rngs=(), state=None,
                    args=None):
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

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    CheckpointWriteError
        When the file cannot be written; an existing ``path`` is unchanged.

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
    """
    from . import __version__
    from .lasagne.layers import get_all_params
    params = get_all_params(layer)
    extra = training_state_variables(train_fn, layer) if train_fn else []
    contents = {
        "params": [(p.name, np.asarray(p.get_value())) for p in params],
        "state": [(v.name, np.asarray(v.get_value())) for v in extra],
        "rngs": [r.get_state() for r in rngs],
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
    """Read a checkpoint file into memory; raises CheckpointError."""
    import h5py
    if not os.path.exists(path):
        raise CheckpointError("checkpoint %s does not exist" % path)
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise CheckpointError(
                    "%s is an HDF5 file but not an indrnn checkpoint" % path)
            out = {key: str(f.attrs[key])
                   for key in ("state_json", "args_json", "indrnn_version")}
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
    except CheckpointError:
        raise
    except (OSError, KeyError, ValueError) as exc:
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


def _check_values(path, kind, variables, saved):
    """Raise CheckpointMismatchError naming the first mismatch."""
    if len(saved) != len(variables):
        raise CheckpointMismatchError(
            "checkpoint %s does not match this configuration: it has %d %s, "
            "this network has %d" % (path, len(saved), kind, len(variables)))
    for i, (var, (name, value)) in enumerate(zip(variables, saved)):
        current = var.get_value(borrow=True)
        if (value.shape != current.shape or value.dtype != current.dtype
                or (name or None) != (var.name or None)):
            raise CheckpointMismatchError(
                "checkpoint %s does not match this configuration: %s %d "
                "(Lasagne name %r) expected shape %s %s, found %r with shape "
                "%s %s" % (path, kind.rstrip("s"), i, var.name,
                           current.shape, current.dtype, name or None,
                           value.shape, value.dtype))


def load_checkpoint(path, layer, train_fn=None, rngs=(), args=None,
                    config_keys=None):
    """Validate a checkpoint against the network, then restore it.

    Nothing is set unless everything matches: parameter count, each
    parameter's name, shape and dtype, the training function's extra state
    (see :func:`training_state_variables`), the number of random states,
    and the ``config_keys`` of ``args``.

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
        ``'_args'`` (the saved arguments) and ``'_indrnn_version'``.

    Raises
    ------
    CheckpointError
        Missing, truncated or corrupt file.
    CheckpointMismatchError
        The checkpoint belongs to another network or configuration; the
        message names the first mismatching parameter (index, Lasagne
        name, expected and found shape) or argument.

    Examples
    --------
    >>> load_checkpoint('/nonexistent.h5', None)
    Traceback (most recent call last):
    ...
    indrnn.checkpoint.CheckpointError: checkpoint /nonexistent.h5 does not ...
    """
    from .lasagne.layers import get_all_params
    saved = _read_hdf5(path)
    params = get_all_params(layer)
    _check_values(path, "parameters", params, saved["params"])
    extra = training_state_variables(train_fn, layer) if train_fn else []
    if train_fn is not None:
        _check_values(path, "optimizer state variables", extra,
                      saved["state"])
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
        current = json.loads(_to_json(args))
        saved_args = saved["args"] or {}
        for key in config_keys:
            if saved_args.get(key) != current.get(key):
                raise CheckpointMismatchError(
                    "checkpoint %s does not match this configuration: "
                    "--%s is %r in the checkpoint and %r in this run"
                    % (path, key, saved_args.get(key), current.get(key)))
    # Everything matches: set it.
    for var, (_, value) in zip(params, saved["params"]):
        var.set_value(value)
    if train_fn is not None:
        for var, (_, value) in zip(extra, saved["state"]):
            var.set_value(value)
    for rng, rng_state in zip(rngs, saved["rngs"]):
        rng.set_state(rng_state)
    state = dict(saved["loop"])
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
    """

    def __init__(self, folder, layer, train_fn=None, rngs=(), args=None,
                 keep=3, prefix="checkpoint", get_state=None,
                 set_state=None, best_metric=None, best_mode="min",
                 resume_command=None):
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
        self.best_metric = best_metric
        self.best_mode = best_mode
        self.best_score = None
        self.resume_command = resume_command
        self.last_path = None
        self._check_writable()

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
        save_checkpoint(path, self.layer, self.train_fn, self.rngs,
                        self._full_state(loop_state), self.args)
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
        return state["loop"]

    def resume_hint(self, path):
        """str: the command resuming from ``path`` (or a generic hint)."""
        if self.resume_command:
            return self.resume_command.format(path=shlex.quote(path))
        return "resume with --resume %s" % shlex.quote(path)
