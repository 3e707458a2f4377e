"""Translate legacy ``THEANO_FLAGS`` into ``PYTENSOR_FLAGS``.

The original IndRNN README runs every script as::

    THEANO_FLAGS='floatX=float32,device=cuda0,mode=FAST_RUN' python adding.py

PyTensor does not read ``THEANO_FLAGS`` at all, so such a command line
would silently run in float64 on the default backend.  PyTensor reads its
flags once, from ``PYTENSOR_FLAGS``, when it is first imported; hence
:func:`apply_theano_flags` is called at the top of ``indrnn/__init__.py``
(after the thread defaults only), and this module must never import
pytensor (or anything that does).  It imports JAX (and so numpy) only
when the flags select ``mode=JAX``, to say whether JAX has a GPU.  See
``THEANO_FLAGS.example`` for the same table in prose.

Mapping (PyTensor 3.3)
----------------------
=========================  =============================================
``THEANO_FLAGS``           ``PYTENSOR_FLAGS``
=========================  =============================================
``floatX=V``               ``floatX=V``
``device=cpu``             nothing (PyTensor always computes on the CPU
                           unless the JAX backend is chosen)
``device=cuda*``/``gpu*``  ``mode=JAX`` (needs a CUDA-enabled jaxlib)
``mode=FAST_RUN``          nothing (PyTensor's default mode)
``mode=FAST_COMPILE``      ``mode=FAST_COMPILE``
``mode=DebugMode``,        the same (PyTensor has these modes too)
``mode=DEBUG_MODE``,
``mode=NanGuardMode``
``optimizer=V``            ``optimizer=V`` for V in ``None``,
                           ``fast_run``, ``fast_compile``, ``merge``,
                           ``unsafe``, ``o1`` ... ``o4``
``exception_verbosity=V``  ``exception_verbosity=V``
``base_compiledir=P``      ``base_compiledir=P``
``compiledir=P``           ``base_compiledir=P`` (PyTensor names the
                           per-platform subfolder itself)
``warn_float64=V``         ``warn_float64=V``
anything else              ignored, and listed as such (``lib.cnmem``,
                           ``gpuarray.*``, ``dnn.*``, ``nvcc.*`` configured
                           Theano's own CUDA backend, which PyTensor lacks)
=========================  =============================================
"""
import importlib.util
import os
import sys

__all__ = ["translate", "apply_theano_flags", "jax_backend_note",
           "SAME_NAME_FLAGS"]

#: Flags that exist in PyTensor 3.3 under the same name with the same
#: values, so they are copied unchanged.
SAME_NAME_FLAGS = ("floatX", "exception_verbosity", "base_compiledir",
                   "warn_float64")

#: Values of ``optimizer`` that PyTensor 3.3 accepts.
_OPTIMIZERS = ("None", "fast_run", "fast_compile", "merge", "unsafe",
               "o1", "o2", "o3", "o4")

#: Theano modes that PyTensor 3.3 also has under the same name.
_SAME_MODES = ("FAST_COMPILE", "DebugMode", "DEBUG_MODE", "NanGuardMode")

_JAX_NOTE = ("needs a CUDA-enabled jaxlib, e.g. "
             "pip install -U \"jax[cuda12]\"")


def _split(theano_flags):
    """``'a=1, b=2'`` -> ``[('a', '1'), ('b', '2')]`` (Theano's syntax).

    An item without ``=`` is kept with value None so it can be reported.
    """
    items = []
    for item in theano_flags.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        items.append((name.strip(), value.strip() if sep else None))
    return items


def translate(theano_flags, jax_note=_JAX_NOTE):
    """Translate a ``THEANO_FLAGS`` string into a ``PYTENSOR_FLAGS`` string.

    A pure function: it reads no environment and imports nothing.  When a
    flag is given twice, the last one wins, as in Theano.  A GPU
    ``device`` selects ``mode=JAX`` and takes precedence over ``mode``.

    Parameters
    ----------
    theano_flags : str
        The legacy value, ``name=value`` items separated by commas.
    jax_note : str, optional
        What the ``device=cuda* -> mode=JAX`` entry of ``applied`` says in
        parentheses (:func:`apply_theano_flags` puts where JAX computes).

    Returns
    -------
    pytensor_flags : str
        The equivalent ``PYTENSOR_FLAGS`` value (may be empty).
    applied : list of str
        One ``'theano item -> what it became'`` entry per translated item,
        including those that need nothing because PyTensor's default
        already matches.
    ignored : list of str
        One ``'item (reason)'`` entry per item without a PyTensor
        equivalent.

    Examples
    --------
    >>> flags, applied, ignored = translate(
    ...     'floatX=float32,device=cuda0,mode=FAST_RUN,lib.cnmem=0.8')
    >>> flags
    'floatX=float32,mode=JAX'
    >>> ignored
    ['lib.cnmem=0.8 (no PyTensor equivalent)']
    """
    out = {}          # PyTensor flag -> value; dicts keep insertion order
    applied, ignored = [], []
    mode_item = None  # the last explicit mode=..., applied after device
    gpu = None
    for name, value in _split(theano_flags):
        item = name if value is None else "%s=%s" % (name, value)
        if value is None:
            ignored.append("%s (not of the form name=value)" % item)
        elif name in SAME_NAME_FLAGS:
            out[name] = value
            applied.append("%s -> %s" % (item, item))
        elif name == "compiledir":
            out["base_compiledir"] = value
            applied.append("%s -> base_compiledir=%s" % (item, value))
        elif name == "optimizer" and value in _OPTIMIZERS:
            out[name] = value
            applied.append("%s -> %s" % (item, item))
        elif name == "device" and value == "cpu":
            gpu = None
            applied.append("%s -> nothing (PyTensor computes on the CPU "
                           "by default)" % item)
        elif name == "device" and value.startswith(("cuda", "gpu")):
            gpu = item
        elif name == "mode" and (value == "FAST_RUN"
                                 or value in _SAME_MODES):
            mode_item = item
        else:
            ignored.append("%s (no PyTensor equivalent)" % item)
    if mode_item == "mode=FAST_RUN":
        # FAST_RUN only asked for Theano's optimised default; that holds
        # for PyTensor's default mode and for JAX alike.
        applied.append("mode=FAST_RUN -> nothing (PyTensor's default mode)")
        mode_item = None
    if gpu is not None:
        out["mode"] = "JAX"
        applied.append("%s -> mode=JAX (%s)" % (gpu, jax_note))
        if mode_item is not None:
            ignored.append("%s (overridden by %s -> mode=JAX)"
                           % (mode_item, gpu))
    elif mode_item is not None:
        out["mode"] = mode_item.partition("=")[2]
        applied.append("%s -> %s" % (mode_item, mode_item))
    flags = ",".join("%s=%s" % kv for kv in out.items())
    return flags, applied, ignored


def _cuda_jaxlib_command():
    """The command that installs a CUDA jaxlib into this Python.

    Pinned to the installed ``jax`` version, so that pip adds the CUDA
    plugin that matches it instead of upgrading JAX under PyTensor.
    """
    try:
        from importlib.metadata import PackageNotFoundError, version
        pin = "==" + version("jax")
    except (ImportError, PackageNotFoundError):
        pin = ""
    return '%s -m pip install "jax[cuda12]%s"' % (sys.executable, pin)


def jax_backend_note(environ=None):
    """Say where a ``mode=JAX`` run will compute: on a GPU or on the CPU.

    Asks JAX itself (``jax.devices()``), so it imports JAX, and with it
    numpy: call it only when the flags select ``mode=JAX`` (such a run
    imports JAX anyway) and after the thread defaults are set
    (``indrnn/__init__.py``). On the CPU, listing the devices took about
    10 ms after the import of JAX (about 0.5 s, which the run would pay
    later otherwise).

    Parameters
    ----------
    environ : mapping, optional
        Where ``JAX_PLATFORMS`` is read; ``os.environ`` by default.

    Returns
    -------
    str
        ``'on the GPU: ...'`` naming the devices, or a sentence saying the
        run is on the CPU (or cannot run) and the command that installs a
        CUDA jaxlib.
    """
    environ = os.environ if environ is None else environ
    install = "for the GPU install a CUDA jaxlib: " + _cuda_jaxlib_command()
    if importlib.util.find_spec("jax") is None:
        return "JAX is not installed, so mode=JAX cannot run; " + install
    try:
        import jax
        devices = jax.devices()
    except Exception as exc:  # e.g. JAX_PLATFORMS=cuda without a GPU
        return ("JAX has no usable backend (%s: %s); %s"
                % (type(exc).__name__, str(exc).splitlines()[0][:200],
                   install))
    gpus = [d for d in devices if d.platform != "cpu"]
    if gpus:
        return "on the GPU: %s" % ", ".join(
            "%s (%s)" % (d, getattr(d, "device_kind", d.platform))
            for d in gpus)
    platforms = environ.get("JAX_PLATFORMS", "")
    why = (" (JAX_PLATFORMS=%s)" % platforms) if platforms else ""
    return ("JAX has no GPU backend here%s, so this run is on the CPU; %s"
            % (why, install))


def _selects_jax(pytensor_flags):
    return "mode=JAX" in pytensor_flags.split(",")


def apply_theano_flags(environ=None, stream=None, jax_note=None):
    """Set ``PYTENSOR_FLAGS`` from ``THEANO_FLAGS`` before PyTensor loads.

    Does nothing unless ``THEANO_FLAGS`` is set and ``PYTENSOR_FLAGS`` is
    not (an explicit ``PYTENSOR_FLAGS``, even empty, always wins).
    Otherwise sets ``PYTENSOR_FLAGS`` to :func:`translate`'s result (also
    when empty, so that child processes do not translate and report
    again) and writes one line saying what was done and what was ignored.

    Parameters
    ----------
    environ : mapping, optional
        The environment to read and change; ``os.environ`` by default.
    stream : file-like, optional
        Where the one-line report goes; ``sys.stderr`` by default, so that
        a script's standard output stays its own.
    jax_note : callable, optional
        ``jax_note() -> str``, called only when the result selects
        ``mode=JAX``: where JAX will compute, for the report;
        :func:`jax_backend_note` by default (it imports JAX).

    Returns
    -------
    tuple or None
        ``(pytensor_flags, applied, ignored)`` as returned by
        :func:`translate`, or None when nothing was done.

    Examples
    --------
    >>> import io
    >>> env, out = {'THEANO_FLAGS': 'floatX=float32'}, io.StringIO()
    >>> apply_theano_flags(env, out)[0]
    'floatX=float32'
    >>> env['PYTENSOR_FLAGS']
    'floatX=float32'
    """
    environ = os.environ if environ is None else environ
    stream = sys.stderr if stream is None else stream
    theano_flags = environ.get("THEANO_FLAGS")
    if theano_flags is None or "PYTENSOR_FLAGS" in environ:
        return None
    flags, applied, ignored = translate(theano_flags)
    if "pytensor" in sys.modules and environ is os.environ:
        # PyTensor has read its flags already; setting the variable now
        # would only affect child processes, which is worse than nothing.
        stream.write("indrnn: THEANO_FLAGS=%r not translated: pytensor was "
                     "imported before indrnn; set PYTENSOR_FLAGS=%r "
                     "instead\n" % (theano_flags, flags))
        return None
    environ["PYTENSOR_FLAGS"] = flags
    if _selects_jax(flags):
        # device=cuda*: say whether JAX will find a GPU, and if not, that
        # the run is on the CPU and how to get a CUDA jaxlib.
        note = (jax_note or (lambda: jax_backend_note(environ)))()
        flags, applied, ignored = translate(theano_flags, jax_note=note)
    stream.write("indrnn: THEANO_FLAGS translated to PYTENSOR_FLAGS=%r: %s; "
                 "ignored: %s\n" % (flags, "; ".join(applied) or "nothing",
                                    "; ".join(ignored) or "nothing"))
    return flags, applied, ignored
