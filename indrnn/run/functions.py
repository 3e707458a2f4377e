"""
The training and test functions shared by the experiments.

All original IndRNN scripts train the same way: compile
``train_fn(inputs..., learning_rate) -> [loss, ...]`` with
``lasagne.updates.adam`` on ``get_all_params(net, trainable=True)``, then
call it on batch after batch, keeping the recurrent weights
``hidden_to_hidden.W`` inside ``[-U_bound, U_bound]``. This module compiles
those functions (through :mod:`indrnn.compile`: the C-linker workarounds
and the compile cache); :mod:`indrnn.run.loop` calls them.

- :func:`clip_recurrent_weights_updates` compiles the ``U_bound`` clip of
  the original loops into the training function.
- :func:`weight_decay` is the L2 penalty of the ``--use_weightdecay_nohiddenW``
  flag.
- :func:`compile_train_fn` / :func:`compile_test_fn` build the functions.
- :func:`float32_unless_configured` computes in float32, as the original
  command lines did, unless the user chose ``floatX``.
"""
import contextlib
import os
import sys
from collections import OrderedDict

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.graph.replace import clone_replace

from .. import lasagne
from ..compile import c_linker_mode as _c_linker_mode
from ..compile import compile_function as _function
from ..lasagne.default_updates import collect_default_updates

__all__ = [
    "RECURRENT_WEIGHT_NAME",
    "clip_recurrent_weights_updates",
    "weight_decay",
    "compile_train_fn",
    "compile_test_fn",
    "float32_unless_configured",
]


#: Name of the IndRNN recurrent weights; the original loops clip, and the
#: weight decay skips, parameters by this name.
RECURRENT_WEIGHT_NAME = "hidden_to_hidden.W"


def clip_recurrent_weights_updates(updates, params, U_bound,
                                   name=RECURRENT_WEIGHT_NAME,
                                   after_step=False, outputs=None):
    """Compile the original ``U_bound`` clip of the recurrent weights.

    The original loops keep each parameter named ``hidden_to_hidden.W``
    inside ``[-U_bound, U_bound]`` with a ``set_value(np.clip(...))`` on the
    host, either before every call of ``train_fn`` (adding, MNIST and both
    PTB scripts) or after it (action recognition with ``--constrain_U``).
    This function expresses the same clip inside the compiled function, so
    no host round trip is needed and the numbers stay identical.

    **Clip before the step** (``after_step=False``). The original computes,
    at every step, ``W <- clip(W)`` and then ``train_fn``: the loss, the
    gradients and Adam's update are all evaluated at ``clip(W)``, and the
    stored ``W`` after the step is ``clip(W) - step(clip(W))``, which may lie
    outside the bound until the next step clips it again. Here every
    occurrence of ``W`` in the update expressions (Adam's ``W - step``, its
    moment estimates, BatchNorm running averages) and in ``outputs`` is
    replaced by ``clip(W)``. The gradients must already be in the update
    expressions (computed with respect to ``W``), so that the substitution
    evaluates them *at* ``clip(W)`` instead of differentiating through the
    clip. Every value the function reads, returns and stores is then what
    the original loop computes at that step, so the parameters after N
    steps, and at every report in between, are the original's. (The one
    difference: the original also writes ``clip(W)`` back before its first
    step, so a clipped parameter that is never updated stays unclipped in
    storage here, while it is used clipped.)

    **Clip after the step** (``after_step=True``). The action-recognition
    loop calls ``train_fn`` and then clips: the update of ``W`` becomes
    ``clip(W - step(W))``; the loss and gradients are computed at ``W``.

    Parameters
    ----------
    updates : OrderedDict
        Update dictionary, e.g. from ``lasagne.updates.adam(grads, params)``.
    params : list of SharedVariable
        Parameters to consider; those whose ``name`` equals ``name`` are
        clipped.
    U_bound : float
        The bound. Cast to each parameter's dtype, as the original's
        ``np.clip`` of a float32 array with a Python float does.
    name : str
        Parameter name to clip, ``'hidden_to_hidden.W'`` by default.
    after_step : bool
        Clip after the step (action recognition) instead of before it.
    outputs : list of Variable, optional
        Outputs of the training function. With ``after_step=False`` they are
        computed at ``clip(W)`` as well and returned.

    Returns
    -------
    updates : OrderedDict
        The new update dictionary, including the (explicit) default updates
        of shared variables found in the graph.
    outputs : list of Variable
        Only when ``outputs`` is given: the outputs to compile.

    Examples
    --------
    >>> import pytensor, pytensor.tensor as pt
    >>> W = pytensor.shared(np.array([2., 0.5]), name='hidden_to_hidden.W')
    >>> updates = {W: W - 1.}
    >>> updates = clip_recurrent_weights_updates(updates, [W], 1.)
    >>> f = pytensor.function([], [], updates=updates)
    >>> _ = f()  # W <- clip(W) - 1
    >>> W.get_value()
    array([ 0. , -0.5])
    """
    clipped = [p for p in params if p.name == name]
    updates = OrderedDict(updates)
    outputs_given = outputs is not None
    outputs = list(outputs) if outputs_given else []
    if after_step:
        for p in clipped:
            if p in updates:
                bound = np.asarray(U_bound, dtype=p.dtype)
                updates[p] = pt.clip(updates[p], -bound, bound)
    elif clipped:
        # BatchNorm running averages and dropout counters advance through
        # default updates; made explicit so the substitution reaches them
        defaults = collect_default_updates(
            outputs + list(updates.values()), exclude=updates)
        updates.update(defaults)
        replace = {p: pt.clip(p, -np.asarray(U_bound, dtype=p.dtype),
                              np.asarray(U_bound, dtype=p.dtype))
                   for p in clipped}
        # One clone for outputs and updates together keeps shared subgraphs
        # (the forward pass) shared between them.
        keys = list(updates)
        new = clone_replace(outputs + [updates[k] for k in keys],
                            replace=replace)
        outputs = list(new[:len(outputs)])
        updates = OrderedDict(zip(keys, new[len(outputs):]))
    if outputs_given:
        return updates, outputs
    return updates


def weight_decay(layer, decay, exclude=(RECURRENT_WEIGHT_NAME,)):
    """L2 weight decay of the regularizable parameters, except ``exclude``.

    The ``--use_weightdecay_nohiddenW`` flag of the original scripts adds,
    for every regularizable parameter not named ``hidden_to_hidden.W``,
    ``decay * lasagne.regularization.apply_penalty(p, l2)`` to the loss.

    Parameters
    ----------
    layer : Layer or list of Layer
        Output layer(s) of the network.
    decay : float
        The decay factor (``--decayrate`` / ``--decayfactor``).
    exclude : tuple of str
        Parameter names left out.

    Returns
    -------
    list of Variable
        One term per penalised parameter, in ``get_all_params`` order. The
        original adds them to the loss one by one, which
        ``cost = sum(weight_decay(net, decay), loss)`` reproduces exactly.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> net = DenseLayer(InputLayer((None, 3)), 2)
    >>> len(weight_decay(net, 1e-4))  # W only: biases are not regularizable
    1
    """
    params = lasagne.layers.get_all_params(layer, regularizable=True)
    l2 = lasagne.regularization.l2
    return [decay * lasagne.regularization.apply_penalty(p, l2)
            for p in params if p.name not in exclude]


def compile_train_fn(inputs, loss, params, outputs=None,
                     update_fn=None, U_bound=None, clip_after_step=False,
                     clip_name=RECURRENT_WEIGHT_NAME, mode=None, cache=True):
    """Compile ``train_fn(*inputs, learning_rate) -> outputs``.

    As in the original scripts: gradients of ``loss`` with respect to
    ``params``, updates from ``update_fn(grads, params,
    learning_rate=lr)`` (Adam by default) with ``lr`` a ``floatX`` scalar
    input, and, if ``U_bound`` is given, the clip of the parameters named
    ``clip_name`` (see :func:`clip_recurrent_weights_updates`).

    Parameters
    ----------
    inputs : list of Variable
        Symbolic inputs (e.g. ``[X_sym, y_sym]``).
    loss : Variable
        Scalar cost to minimise (including any weight decay).
    params : list of SharedVariable
        Trainable parameters, normally
        ``lasagne.layers.get_all_params(net, trainable=True)``.
    outputs : list of Variable, optional
        What the function returns; ``[loss]`` by default.
    update_fn : callable, optional
        ``lasagne.updates.adam`` by default.
    U_bound : float, optional
        Clip bound; no clip when None.
    clip_after_step : bool
        Clip after the step (action recognition) instead of before it.
    clip_name : str
        Name of the parameters to clip.
    mode : str or Mode, optional
        PyTensor compilation mode (``None``: the configured default).
    cache : bool
        Reuse the rewritten function of an earlier process that compiled
        the same graph (:mod:`indrnn.compile.cache`; also off when the
        environment sets ``INDRNN_COMPILE_CACHE=0``).

    Returns
    -------
    callable
        The compiled function; its last input is the learning rate.

    Examples
    --------
    >>> import pytensor, pytensor.tensor as pt
    >>> w = pytensor.shared(np.array([1., 2.]), name='w')
    >>> x = pt.vector('x')
    >>> loss = ((x * w) ** 2).sum()
    >>> train_fn = compile_train_fn([x], loss, [w], mode='FAST_COMPILE')
    >>> float(train_fn(np.ones(2), 0.1)[0])
    5.0
    """
    if update_fn is None:
        update_fn = lasagne.updates.adam
    outputs = [loss] if outputs is None else list(outputs)
    lr = pt.scalar("learning_ratetrain", dtype=pytensor.config.floatX)
    grads = pytensor.grad(loss, params)
    updates = update_fn(grads, params, learning_rate=lr)
    if U_bound is not None:
        updates, outputs = clip_recurrent_weights_updates(
            updates, params, U_bound, name=clip_name,
            after_step=clip_after_step, outputs=outputs)
    return _function(list(inputs) + [lr], outputs, updates=updates,
                     mode=_c_linker_mode(mode), cache=cache)


def compile_test_fn(inputs, outputs, mode=None, cache=True):
    """Compile ``test_fn(*inputs) -> outputs`` (no parameter updates).

    Parameters
    ----------
    inputs : list of Variable
        Symbolic inputs.
    outputs : list of Variable
        Evaluation outputs, e.g. the deterministic loss.
    mode : str or Mode, optional
        PyTensor compilation mode.
    cache : bool
        As in :func:`compile_train_fn`.

    Returns
    -------
    callable
        The compiled function.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> x = pt.vector('x')
    >>> compile_test_fn([x], [x.sum()], mode='FAST_COMPILE')(np.ones(3))
    [array(3.)]
    """
    return _function(list(inputs), list(outputs), mode=_c_linker_mode(mode),
                     cache=cache)


@contextlib.contextmanager
def float32_unless_configured():
    """Compute in float32, as the original scripts did, unless the user
    chose ``floatX`` in ``PYTENSOR_FLAGS``.

    PyTensor's own default is float64; the original command lines ran with
    ``THEANO_FLAGS=floatX=float32``. The setting is restored on exit, so it
    does not leak into the caller.

    Examples
    --------
    >>> with float32_unless_configured():
    ...     dtype = pytensor.config.floatX
    """
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    keys = [item.split("=", 1)[0].strip() for item in flags.split(",")]
    if "floatX" in keys:
        yield
    else:
        with pytensor.config.change_flags(floatX="float32"), \
                _jax_x64(False):
            yield


@contextlib.contextmanager
def _jax_x64(enabled):
    """Set JAX's ``jax_enable_x64`` for the block, if JAX is loaded.

    PyTensor sets it from ``floatX`` when its JAX backend is imported: on
    ``import indrnn`` (:mod:`indrnn.link`), before
    :func:`float32_unless_configured` switches to float32. With 64 bits left on, some of PyTensor's JAX
    implementations compute a float32 node in float64 (a ``Sum`` with a
    float64 accumulator returns it), and the parameters that the training
    function updates turned float64 after the first step in
    ``mode="JAX"``. JAX reads the flag when it traces, i.e. on the first
    call of a compiled function, so it must hold for the whole run.

    Parameters
    ----------
    enabled : bool
    """
    jax = sys.modules.get("jax")
    if jax is None:
        # Not loaded: PyTensor will set the flag from the floatX of the
        # moment it imports its JAX backend.
        yield
        return
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", bool(enabled))
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)
