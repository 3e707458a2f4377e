"""State that a compiled function updates without being told: the one place
where the shim relies on PyTensor's shared-variable *default updates*.

Lasagne code compiles training functions as::

    train_fn = pytensor.function([X, y], loss, updates=lasagne.updates.adam(...))

and still expects two kinds of hidden state to advance on every call: the
running averages of batch normalisation layers and the counters that make
dropout draw fresh masks. Lasagne attached such updates to memory-aliased
clones of shared variables through ``SharedVariable.default_update``, which
``pytensor.function`` collects from the graph. PyTensor 3 still honours
default updates but warns that *setting* them is deprecated. Keeping the
original pattern working matters more than the warning, so the setting is
done here, once, with the warning silenced; ``tests/lasagne/
test_default_updates.py`` fails if a PyTensor upgrade stops honouring it.
"""
import warnings

import pytensor.tensor as pt

__all__ = ["aliased_clone", "attach_default_update", "collect_default_updates"]


def aliased_clone(shared_var):
    """Return a new shared variable that shares ``shared_var``'s storage.

    Updating the clone updates the original, but the clone is a distinct
    graph input, so an update attached to it belongs to one graph only.

    Parameters
    ----------
    shared_var : SharedVariable

    Returns
    -------
    SharedVariable

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> s = pytensor.shared(np.zeros(2))
    >>> c = aliased_clone(s); c.set_value(np.ones(2))
    >>> s.get_value().tolist()
    [1.0, 1.0]
    """
    return shared_var.clone()


def attach_default_update(shared_var, update):
    """Make every compiled function that uses ``shared_var`` also apply
    ``update`` to it (unless the function's ``updates`` override it).

    Parameters
    ----------
    shared_var : SharedVariable
        Usually an :func:`aliased_clone`.
    update : TensorVariable
        The new value, cast to ``shared_var``'s dtype.

    Returns
    -------
    SharedVariable
        ``shared_var``, for chaining.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> s = pytensor.shared(np.float64(0.))
    >>> f = pytensor.function([], attach_default_update(s, s + 1) * 1)
    >>> _ = f(); _ = f(); float(s.get_value())
    2.0
    """
    update = pt.cast(update, shared_var.dtype)
    if update.type != shared_var.type:
        # pytensor.function wants the update's type to equal the variable's
        # exactly; a reshape to the variable's (symbolic) shape drops static
        # shape information the variable's type does not have
        update = update.reshape(shared_var.shape, ndim=shared_var.ndim)
        update = shared_var.type.filter_variable(update, allow_convert=True)
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Setting default_update is deprecated",
            category=DeprecationWarning)
        shared_var.default_update = update
    return shared_var


def collect_default_updates(outputs, exclude=()):
    """The default updates a function compiled for ``outputs`` applies.

    Also follows the update expressions themselves, since they may use
    shared variables that have default updates of their own.

    Parameters
    ----------
    outputs : Variable or list of Variable
    exclude : container of SharedVariable
        Variables already updated explicitly (their default updates are
        not applied by ``pytensor.function``).

    Returns
    -------
    collections.OrderedDict
        ``{shared_variable: update_expression}`` in graph order.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> s = pytensor.shared(np.float64(0.))
    >>> len(collect_default_updates(attach_default_update(s, s + 1) * 2))
    1
    """
    from collections import OrderedDict

    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.traversal import ancestors
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    found = OrderedDict()
    frontier = list(outputs)
    while frontier:
        new = []
        for var in ancestors(frontier):
            if (isinstance(var, SharedVariable)
                    and var.default_update is not None
                    and var not in exclude and var not in found):
                found[var] = var.default_update
                new.append(var.default_update)
        frontier = new
    return found
