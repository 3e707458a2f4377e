"""Run an original Theano + Lasagne script unmodified on PyTensor.

``python -m indrnn.legacy path/to/adding.py --model indrnn --seq_len 100``
runs the script as it is, with ``import theano`` resolving to PyTensor
(plus the few pieces PyTensor renamed or dropped) and ``import lasagne``
resolving to :mod:`indrnn.lasagne`.  The aliases exist only while
:func:`legacy_environment` is active, i.e. inside that command; a plain
``import indrnn`` never installs them.

What the ``theano`` alias provides
----------------------------------
* ``theano.function``, ``theano.shared``, ``theano.grad``,
  ``theano.config``, ``theano.printing``, ... : PyTensor's own.
* ``theano.scan``: PyTensor's, returning ``(outputs, updates)`` as Theano
  did.
* ``theano.clone(output, replace=None, strict=True, share_inputs=True)``:
  :func:`pytensor.graph.replace.clone_replace`; ``share_inputs=False``
  clones shared variables too, the clones sharing storage with the
  originals (the batch-normalisation running-average trick relies on it).
* ``theano.gradient``: PyTensor's (``grad_clip``, ``disconnected_grad``).
* ``theano.tensor``: PyTensor's, plus ``inv`` (``reciprocal``), ``abs_``
  (``abs``), ``nnet`` (``sigmoid``, ``softmax`` over the last axis,
  ``relu``, ``softplus``, ``categorical_crossentropy``,
  ``binary_crossentropy``) and variable constructors that accept the
  dtype as second positional argument (``T.tensor3('x', 'float32')``).
* Any other ``theano.X`` module imports ``pytensor.X`` if it exists; else
  the import fails with a message naming the missing module.

``theano.config.floatX`` is float32 while the script runs, as the
original command lines (``THEANO_FLAGS=floatX=float32``) assumed, unless
``PYTENSOR_FLAGS`` (possibly translated from ``THEANO_FLAGS``, see
:mod:`indrnn.theano_flags`) or ``~/.pytensorrc`` set it.

Scripts that modern Python or numpy cannot run
----------------------------------------------
The original scripts were written for Python 2.7 / 3.5 and numpy 1.1x.
Where one of them (or a module next to it) uses something that no longer
exists -- ``np.int``, ``str.decode``, a ``print`` statement, a ragged
``np.copy`` of a parameter list, ``xrange``, ``cPickle`` -- the runner
does not patch the user's file: it stops with the traceback and one
message naming the file, the line and the cause, so the user can fix
their copy.
"""
import argparse
import contextlib
import importlib
import importlib.abc
import importlib.util
import os
import pkgutil
import runpy
import sys
import traceback
import types
import warnings

import numpy as np
import pytensor
import pytensor.gradient
import pytensor.tensor as pt
from pytensor.graph.replace import clone_replace
from pytensor.tensor import special

from .. import lasagne as _lasagne
from ..lasagne import objectives as _objectives

__all__ = [
    "ForwardingModule",
    "build_theano_modules",
    "build_lasagne_modules",
    "legacy_environment",
    "diagnose",
    "run_script",
    "main",
]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class ForwardingModule(types.ModuleType):
    """A module that looks names up in `extras` first, then in `target`.

    Parameters
    ----------
    name : str
        The module's name, e.g. ``'theano.tensor'``.
    target : module or None
        Where names not in `extras` are looked up.
    extras : dict, optional
        Names this module adds or overrides.
    package : bool
        If True, the module gets an (empty) ``__path__`` so that Python
        accepts ``import name.sub`` below it.

    Examples
    --------
    >>> import math
    >>> m = ForwardingModule('mymath', math, {'tau2': 2 * math.tau})
    >>> m.pi == math.pi, m.tau2 == 2 * math.tau
    (True, True)
    """

    def __init__(self, name, target, extras=None, package=False):
        super().__init__(name, getattr(target, "__doc__", None))
        self.__dict__.update(extras or {})
        self.__dict__["_forward_to"] = target
        if package:
            self.__path__ = []

    def __getattr__(self, name):
        # Only called when normal lookup (extras, module attrs) failed.
        target = self.__dict__.get("_forward_to")
        if target is None or name.startswith("__"):
            raise AttributeError("module %r has no attribute %r"
                                 % (self.__name__, name))
        try:
            return getattr(target, name)
        except AttributeError:
            raise AttributeError(
                "module %r (PyTensor's %r under indrnn.legacy) has no "
                "attribute %r" % (self.__name__, target.__name__,
                                  name)) from None

    def __dir__(self):
        names = set(self.__dict__)
        target = self.__dict__.get("_forward_to")
        if target is not None:
            names.update(dir(target))
        return sorted(names)


def _constructor(make):
    """Wrap a PyTensor variable constructor to take Theano's positional
    ``(name, dtype)``; PyTensor makes ``dtype`` keyword-only."""
    def construct(name=None, dtype=None, **kwargs):
        return make(name, dtype=dtype, **kwargs)
    construct.__name__ = make.__name__
    construct.__doc__ = make.__doc__
    return construct


def clone(output, replace=None, strict=True, share_inputs=True):
    """Theano's ``theano.clone`` on PyTensor.

    Parameters
    ----------
    output : Variable or list of Variable
        The graph(s) to copy.
    replace : dict, optional
        ``{old: new}`` substitutions made in the copy.
    strict : bool
        If True, a replacement must have exactly the type it replaces.
    share_inputs : bool
        If True, the copy uses the original graph inputs (and shared
        variables); if False they are cloned too, a cloned shared variable
        sharing its storage with the original.

    Returns
    -------
    Variable or list of Variable
        The copy.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> s = pytensor.shared(np.zeros(2))
    >>> c = clone(s, share_inputs=False)
    >>> c is s
    False
    >>> c.set_value(np.ones(2)); s.get_value().tolist()
    [1.0, 1.0]
    """
    return clone_replace(output, replace=replace, rebuild_strict=strict,
                         copy_inputs_over=share_inputs)


def scan(*args, **kwargs):
    """``theano.scan``: PyTensor's scan returning ``(outputs, updates)``.

    PyTensor 3 still returns the pair but warns, on every call, that this
    will change; the original scripts index the pair, so the warning is
    silenced here and ``return_updates=True`` keeps the pair if the
    default changes.

    Parameters
    ----------
    *args, **kwargs
        As for :func:`pytensor.scan`.

    Returns
    -------
    tuple
        ``(outputs, updates)``.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> out, upd = scan(lambda a, h: a + h, sequences=pt.as_tensor([1., 2.]),
    ...                 outputs_info=[pt.zeros(())])
    >>> out.eval().tolist(), len(upd)
    ([1.0, 3.0], 0)
    """
    kwargs.setdefault("return_updates", True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning,
                                message="Scan return signature will change")
        return pytensor.scan(*args, **kwargs)


def _softmax(x):
    """``theano.tensor.nnet.softmax``: row-wise, i.e. over the last axis
    (PyTensor's ``softmax`` normalises over all axes by default)."""
    return special.softmax(x, axis=-1)


def _relu(x, alpha=0):
    """``theano.tensor.nnet.relu``: ``max(x, 0)``, or leaky with slope
    `alpha` below 0, written as Theano did for a non-zero `alpha`."""
    if alpha == 0:
        return pt.maximum(x, 0)
    f1 = 0.5 * (1 + alpha)
    f2 = 0.5 * (1 - alpha)
    return f1 * x + f2 * abs(x)


def build_theano_modules():
    """Create the ``theano`` alias modules.

    Returns
    -------
    dict
        ``{module name: module}`` for ``theano``, ``theano.tensor``,
        ``theano.tensor.nnet`` and ``theano.gradient``, ready to go into
        ``sys.modules``.

    Examples
    --------
    >>> mods = build_theano_modules()
    >>> mods['theano'].tensor is mods['theano.tensor']
    True
    >>> mods['theano.tensor'].inv is pytensor.tensor.reciprocal
    True
    """
    nnet = ForwardingModule("theano.tensor.nnet", pt, {
        "sigmoid": pt.sigmoid,
        "softplus": pt.softplus,
        "softmax": _softmax,
        "relu": _relu,
        # Lasagne's objectives are Theano's nnet functions by definition.
        "categorical_crossentropy": _objectives.categorical_crossentropy,
        "binary_crossentropy": _objectives.binary_crossentropy,
    }, package=True)
    tensor_extras = {
        "inv": pt.reciprocal,   # renamed in PyTensor
        "abs_": pt.abs,         # renamed in PyTensor
        "nnet": nnet,
    }
    for name in ("scalar", "vector", "row", "col", "matrix", "tensor3",
                 "tensor4", "tensor5"):
        tensor_extras[name] = _constructor(getattr(pt, name))
    tensor = ForwardingModule("theano.tensor", pt, tensor_extras,
                              package=True)
    gradient = ForwardingModule("theano.gradient", pytensor.gradient)
    theano = ForwardingModule("theano", pytensor, {
        "tensor": tensor,
        "gradient": gradient,
        "config": pytensor.config,
        "function": pytensor.function,
        "shared": pytensor.shared,
        "grad": pytensor.grad,
        "scan": scan,
        "clone": clone,
    }, package=True)
    return {"theano": theano, "theano.tensor": tensor,
            "theano.tensor.nnet": nnet, "theano.gradient": gradient}


#: Lasagne layer classes that indrnn.lasagne does not port.  The original
#: adding.py imports Conv2DLayer and Pool2DLayer without using them, so
#: they must be importable; using one fails with a clear message.
UNPORTED_LAYERS = (
    "Conv1DLayer", "Conv2DLayer", "Conv3DLayer", "TransposedConv2DLayer",
    "Deconv2DLayer", "TransposedConv3DLayer", "Deconv3DLayer",
    "DilatedConv2DLayer", "LocallyConnected2DLayer", "Pool1DLayer",
    "Pool2DLayer", "Pool3DLayer", "MaxPool1DLayer", "MaxPool2DLayer",
    "MaxPool3DLayer", "GlobalPoolLayer", "FeaturePoolLayer",
    "FeatureWTALayer", "SpatialPyramidPoolingLayer", "Upscale1DLayer",
    "Upscale2DLayer", "Upscale3DLayer",
)


def _unported_layer(name):
    """A stand-in class for a Lasagne layer the shim does not have."""
    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "lasagne.layers.%s is not ported to indrnn.lasagne (the "
            "IndRNN scripts import some such layers without using them); "
            "this script uses it, so it cannot run under indrnn.legacy"
            % name)
    return type(name, (), {"__init__": __init__,
                           "__module__": "lasagne.layers"})


def build_lasagne_modules():
    """Map ``lasagne`` and every ``lasagne.X`` to ``indrnn.lasagne.X``.

    ``lasagne`` and ``lasagne.layers`` are thin forwarding modules that add
    stand-ins for the :data:`UNPORTED_LAYERS`; every other module is the
    shim's own.

    Returns
    -------
    dict
        ``{'lasagne': ..., 'lasagne.layers': ..., 'lasagne.layers.dense':
        indrnn.lasagne.layers.dense, ...}`` for every module of the shim.

    Examples
    --------
    >>> mods = build_lasagne_modules()
    >>> mods['lasagne.layers.normalization'].__name__
    'indrnn.lasagne.layers.normalization'
    >>> mods['lasagne.layers'].DenseLayer is _lasagne.layers.DenseLayer
    True
    """
    modules = {}
    prefix = _lasagne.__name__ + "."
    for info in pkgutil.walk_packages(_lasagne.__path__, prefix):
        module = importlib.import_module(info.name)
        modules["lasagne." + info.name[len(prefix):]] = module
    shim_layers = _lasagne.layers
    stand_ins = {name: _unported_layer(name) for name in UNPORTED_LAYERS
                 if not hasattr(shim_layers, name)}
    # package=True: an empty __path__, so Python accepts lasagne.layers.X
    # names, which are all in sys.modules or refused by _AliasFinder.
    layers = ForwardingModule("lasagne.layers", shim_layers, stand_ins,
                              package=True)
    for name, module in modules.items():
        # Submodules stay reachable as attributes (lasagne.layers.helper).
        if name.count(".") == 2 and name.startswith("lasagne.layers."):
            setattr(layers, name.rpartition(".")[2], module)
    modules["lasagne.layers"] = layers
    top = ForwardingModule("lasagne", _lasagne, {"layers": layers},
                           package=True)
    modules["lasagne"] = top
    return modules


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolve ``theano.X`` / ``lasagne.X`` not already in sys.modules.

    ``theano.X`` becomes ``pytensor.X`` when that exists (e.g.
    ``theano.tensor.extra_ops``, ``theano.ifelse``); anything else fails
    with a message saying what is missing, instead of Python searching
    the shim's folders under another name.
    """

    def find_spec(self, fullname, path=None, target=None):
        root = fullname.partition(".")[0]
        if root not in ("theano", "lasagne"):
            return None
        if root == "theano":
            candidate = "pytensor" + fullname[len("theano"):]
            try:
                module = importlib.import_module(candidate)
            except ImportError:
                module = None
            if module is not None:
                spec = importlib.util.spec_from_loader(fullname, self)
                spec.loader_state = module
                return spec
            has = "PyTensor has no %r" % candidate
        else:
            has = "indrnn.lasagne has no %r" % ("indrnn." + fullname)
        raise ModuleNotFoundError(
            "No module named %r under indrnn.legacy: %s (the Theano/"
            "Lasagne feature it provided is not ported)" % (fullname, has),
            name=fullname)

    def create_module(self, spec):
        return spec.loader_state

    def exec_module(self, module):
        pass  # already executed under its PyTensor name


def _floatx_set_by_user():
    """Whether ``PYTENSOR_FLAGS`` or a config file chose ``floatX``."""
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    names = [item.partition("=")[0].strip() for item in flags.split(",")]
    # A config file can only be seen through a non-default value.
    return "floatX" in names or pytensor.config.floatX != "float64"


@contextlib.contextmanager
def legacy_environment(script=None, argv=()):
    """Make ``theano``/``lasagne`` importable and prepare to run `script`.

    Inside the block: the alias modules are in ``sys.modules`` (and a
    finder for other ``theano.X``/``lasagne.X`` names is first on
    ``sys.meta_path``), ``pytensor.config.floatX`` is float32 unless the
    user chose it, and, if `script` is given, ``sys.argv`` is
    ``[script, *argv]`` and the script's folder is first on ``sys.path``.
    Everything is restored on exit, and modules imported from the
    script's folder (e.g. the original ``IndRNN.py``) are forgotten.

    Parameters
    ----------
    script : str, optional
        Path of the script about to run.
    argv : sequence of str
        Its command-line arguments.

    Yields
    ------
    dict
        The alias modules installed, name -> module.

    Examples
    --------
    >>> import sys
    >>> with legacy_environment():
    ...     import theano.tensor as T
    ...     T.inv is pytensor.tensor.reciprocal
    True
    >>> 'theano' in sys.modules
    False
    """
    aliases = build_theano_modules()
    aliases.update(build_lasagne_modules())
    saved_modules = {name: sys.modules[name] for name in aliases
                     if name in sys.modules}
    before = set(sys.modules)
    saved_argv, saved_path = sys.argv, list(sys.path)
    finder = _AliasFinder()
    script_dir = None
    if script is not None:
        script_dir = os.path.dirname(os.path.abspath(script))
        sys.argv = [script] + list(argv)
        sys.path.insert(0, script_dir)
    sys.modules.update(aliases)
    sys.meta_path.insert(0, finder)
    floatx = ({} if _floatx_set_by_user() else {"floatX": "float32"})
    try:
        with pytensor.config.change_flags(**floatx):
            yield aliases
    finally:
        sys.meta_path.remove(finder)
        sys.argv = saved_argv
        sys.path[:] = saved_path
        for name in set(sys.modules) - before:
            module = sys.modules[name]
            if (name.partition(".")[0] in ("theano", "lasagne")
                    or _in_folder(getattr(module, "__file__", None),
                                  script_dir)):
                del sys.modules[name]
        for name in aliases:
            sys.modules.pop(name, None)
        sys.modules.update(saved_modules)


def _in_folder(path, folder):
    if not path or not folder:
        return False
    return os.path.dirname(os.path.abspath(path)) == folder


def _user_frame(tb):
    """``(filename, lineno)`` of the innermost traceback entry outside
    this package, the standard library and installed packages."""
    skip = {os.path.dirname(os.__file__), _PACKAGE_DIR}
    skip.update(p for p in sys.path if p.endswith(("site-packages",
                                                     "dist-packages")))
    found = None
    for frame in traceback.extract_tb(tb):
        name = frame.filename
        if name.startswith("<") or any(
                os.path.abspath(name).startswith(d + os.sep) for d in skip):
            continue
        found = (name, frame.lineno)
    return found


_REMOVED_NUMPY_ALIASES = {"int", "float", "bool", "object", "str", "long",
                          "unicode", "complex"}
_PY2_MODULES = {"cPickle": "pickle", "cStringIO": "io",
                "StringIO": "io", "urllib2": "urllib.request",
                "Queue": "queue", "ConfigParser": "configparser",
                "itertools.izip": "zip"}
_PY2_BUILTINS = {"xrange": "range", "unicode": "str", "long": "int",
                 "raw_input": "input", "reduce": "functools.reduce",
                 "basestring": "str", "unichr": "chr", "execfile": "exec"}


def diagnose(exc):
    """Explain an exception caused by old Python/numpy code in a script.

    Parameters
    ----------
    exc : BaseException
        An exception raised while running an original script.

    Returns
    -------
    str or None
        ``'FILE, line N: cause; what to change'``, or None when `exc` is
        not one of the known incompatibilities (then it is an ordinary
        error and is re-raised as it is).

    Examples
    --------
    >>> try:
    ...     np.int
    ... except AttributeError as e:
    ...     print(diagnose(e).split(': ', 1)[1].split(';')[0])
    `np.int` was removed in numpy 1.24
    """
    cause = _cause(exc)
    if cause is None:
        return None
    if isinstance(exc, SyntaxError) and exc.filename:
        where = (exc.filename, exc.lineno)
    else:
        where = _user_frame(exc.__traceback__)
    place = "%s, line %s" % where if where else "<unknown location>"
    return "%s: %s" % (place, cause)


def _cause(exc):
    message = str(exc)
    if isinstance(exc, SyntaxError):
        if "print" in message or "print" in (exc.text or ""):
            hint = "a Python 2 `print x` statement; write print(x)"
        else:
            hint = ("Python 2 syntax such as `exec code` or `except E, e` "
                    "is the usual cause")
        return ("%s: %s; Python %d.%d cannot parse this line (%s)"
                % (type(exc).__name__, exc.msg.rstrip(".?! "),
                   sys.version_info[0], sys.version_info[1], hint))
    if isinstance(exc, AttributeError):
        if getattr(exc, "obj", None) is np or message.startswith(
                "module 'numpy' has no attribute"):
            name = getattr(exc, "name", None) or message.split("'")[3]
            if name in _REMOVED_NUMPY_ALIASES:
                builtin = {"long": "int", "unicode": "str"}.get(name, name)
                return ("`np.%s` was removed in numpy 1.24; use the builtin "
                        "`%s` (numpy %s is installed)"
                        % (name, builtin, np.__version__))
            return ("`np.%s` does not exist in numpy %s (removed or renamed "
                    "since the original code was written)"
                    % (name, np.__version__))
        if message.startswith("'str' object has no attribute 'decode'"):
            return ("`str.decode` does not exist in Python 3: text is "
                    "already `str` (Python 2 code); drop the .decode(...)")
        if message.startswith("'bytes' object has no attribute 'encode'"):
            return ("`bytes.encode` does not exist in Python 3 (Python 2 "
                    "code); use the bytes as they are or .decode() them")
    if isinstance(exc, ValueError) and "inhomogeneous" in message:
        return ("numpy >= 1.24 refuses to make one array from a ragged "
                "list (e.g. np.copy or np.array of "
                "get_all_param_values(...), whose arrays differ in shape); "
                "copy each array instead, e.g. [np.copy(p) for p in ...]")
    if isinstance(exc, ModuleNotFoundError) and exc.name in _PY2_MODULES:
        return ("module %r exists only in Python 2; its Python 3 "
                "counterpart is %r" % (exc.name, _PY2_MODULES[exc.name]))
    if isinstance(exc, NameError) and getattr(exc, "name", None) in \
            _PY2_BUILTINS:
        return ("`%s` is a Python 2 builtin; Python 3 has `%s`"
                % (exc.name, _PY2_BUILTINS[exc.name]))
    return None


def run_script(script, argv=()):
    """Run an original script as ``__main__`` under the legacy aliases.

    Parameters
    ----------
    script : str
        Path of the script.
    argv : sequence of str
        Its command-line arguments (``sys.argv[1:]`` inside the script).

    Returns
    -------
    int
        The exit status: 0, the script's own ``sys.exit`` status, or 1
        after a known incompatibility with modern Python/numpy (reported
        on stderr with the traceback, naming file, line and cause).
        Any other exception propagates unchanged.
    """
    if not os.path.isfile(script):
        sys.stderr.write("indrnn.legacy: no such script: %r\n" % script)
        return 2
    with legacy_environment(script, argv):
        try:
            runpy.run_path(script, run_name="__main__")
        except SystemExit as exc:
            code = exc.code
            if code is None or isinstance(code, int):
                return code or 0
            sys.stderr.write("%s\n" % code)
            return 1
        except Exception as exc:
            explanation = diagnose(exc)
            if explanation is None:
                raise
            traceback.print_exc()
            sys.stderr.write(
                "\nindrnn.legacy: %s.\nThe original script cannot run "
                "unmodified on Python %d.%d with numpy %s; indrnn.legacy "
                "does not change user files, so edit that line in your "
                "copy (or use the ported experiment under experiments/).\n"
                % (explanation, sys.version_info[0], sys.version_info[1],
                   np.__version__))
            return 1
    return 0


def main(argv=None):
    """Command line: ``python -m indrnn.legacy SCRIPT [ARGS...]``.

    Parameters
    ----------
    argv : list of str, optional
        ``[SCRIPT, ARGS...]``; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        The exit status (see :func:`run_script`).
    """
    parser = argparse.ArgumentParser(
        prog="python -m indrnn.legacy",
        description="Run an original Theano + Lasagne IndRNN script "
                    "unmodified, with `theano` resolving to PyTensor and "
                    "`lasagne` to indrnn.lasagne.")
    parser.add_argument("script", help="path of the original script")
    parser.add_argument("args", nargs=argparse.REMAINDER,
                        help="the script's own arguments")
    options = parser.parse_args(sys.argv[1:] if argv is None else argv)
    return run_script(options.script, options.args)
