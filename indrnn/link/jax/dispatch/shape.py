"""Concrete shapes under ``mode="JAX"``: shape arithmetic done while tracing.

JAX compiles a function for the concrete shapes of its inputs, so inside
:func:`jax.jit` ``x.shape`` is a tuple of Python ints; but an integer
computed from it with ``jax.numpy`` (``jnp.where``, ``jnp.equal``...) is a
tracer, and ``jnp.reshape``, ``jnp.broadcast_to`` or ``jnp.zeros`` refuse a
tracer as a shape.  PyTensor builds such shape arithmetic itself: a reshape
to ``(T * B, N)``, the gradient of a reshape (a ``Switch`` from the ``-1``
it resolves), broadcasting checks (``Assert``), the batch size of an initial
state.  So a network whose batch size is symbolic did not compile in JAX
mode (``TypeError: Shapes must be 1D sequences of concrete values of
integer type``).

The graph rewrite :class:`StaticShapes`, registered with the ``"jax"`` tag
(so it runs only when compiling for JAX; the other modes' graphs are not
touched), replaces each integer scalar computed only from shapes and
constants by a :class:`ShapeExpr` node.  Its JAX implementation evaluates
the same PyTensor sub-graph with numpy on the concrete input shapes, while
JAX traces: the result is a Python int, exactly the value the sub-graph
computes in the other modes, and the compiled function keeps accepting any
batch size (JAX retraces once per new input shape, as always).
"""
import numpy as np
from pytensor.compile import optdb
from pytensor.graph.basic import Apply, Constant
from pytensor.graph.fg import Output
from pytensor.graph.op import Op
from pytensor.graph.replace import clone_replace
from pytensor.graph.rewriting.basic import GraphRewriter
from pytensor.graph.traversal import io_toposort
from pytensor.link.jax.dispatch.basic import jax_funcify
from pytensor.raise_op import CheckAndRaise
from pytensor.scalar.basic import ScalarOp, ScalarType
from pytensor.tensor.basic import (ARange, MakeVector, ScalarFromTensor,
                                   TensorFromScalar)
from pytensor.tensor.elemwise import DimShuffle, Elemwise
from pytensor.tensor.shape import Shape, Shape_i
from pytensor.tensor.subtensor import Subtensor
from pytensor.tensor.type import TensorType

__all__ = ["ShapeExpr", "StaticShapes", "shape_derived"]

#: Ops that may sit between a shape and the integer computed from it.
#: All are cheap on a handful of integers and have a numpy ``perform``.
_SHAPE_ARITHMETIC = (Elemwise, ScalarOp, ScalarFromTensor, TensorFromScalar,
                     CheckAndRaise, Subtensor, MakeVector, DimShuffle)


def _small(var):
    """Whether ``var`` is a scalar or a vector (what shapes are made of)."""
    return (isinstance(var.type, ScalarType)
            or (isinstance(var.type, TensorType) and var.type.ndim <= 1))


def _integer_scalar(var):
    """Whether ``var`` is an integer scalar (tensor or ``ScalarType``)."""
    if isinstance(var.type, ScalarType):
        pass
    elif not isinstance(var.type, TensorType) or var.type.ndim != 0:
        return False
    return var.type.dtype.startswith(("int", "uint"))


class ShapeExpr(Op):
    """An integer computed from the shapes of arrays, by a PyTensor graph.

    Parameters
    ----------
    leaves : tuple of (int, int or None)
        For each input of the inner graph, which array (an index into the
        node's inputs) and which dimension of its shape (None: the whole
        shape vector) it stands for.
    inner_inputs : list of Variable
        Placeholders for those shapes.
    inner_output : Variable
        The integer scalar, a function of ``inner_inputs`` and constants.

    Notes
    -----
    The node's inputs are the arrays whose shapes are read; their values
    are never used, so in JAX the output is concrete while tracing.
    """

    def __init__(self, leaves, inner_inputs, inner_output):
        self.leaves = tuple(leaves)
        self.inner_inputs = list(inner_inputs)
        self.inner_output = inner_output
        self._nodes = None

    def make_node(self, *arrays):
        return Apply(self, list(arrays), [self.inner_output.type()])

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_nodes"] = None
        return state

    def evaluate(self, shapes):
        """Compute the integer from the input shapes, with numpy.

        Parameters
        ----------
        shapes : list of tuple of int
            The shape of every input array.

        Returns
        -------
        int
        """
        if self._nodes is None:
            self._nodes = io_toposort(self.inner_inputs, [self.inner_output])
        values = {}
        for var, (arg, dim) in zip(self.inner_inputs, self.leaves):
            value = shapes[arg] if dim is None else shapes[arg][dim]
            values[var] = np.asarray(value, dtype=var.type.dtype)
        for node in self._nodes:
            args = [values[i] if i in values else i.data
                    for i in node.inputs]
            storage = [[None] for _ in node.outputs]
            # Each Op's own numpy implementation: the same value as the
            # other backends compute (an Assert raises here, as there).
            node.op.perform(node, args, storage)
            for out, cell in zip(node.outputs, storage):
                values[out] = cell[0]
        return values[self.inner_output]

    def perform(self, node, inputs, output_storage):
        value = self.evaluate([np.shape(x) for x in inputs])
        output_storage[0][0] = np.asarray(value,
                                          dtype=node.outputs[0].type.dtype)

    def __str__(self):
        return "ShapeExpr"


@jax_funcify.register(ShapeExpr)
def jax_funcify_ShapeExpr(op, node=None, **kwargs):
    """JAX implementation of :class:`ShapeExpr`: a Python int at trace time.

    Parameters
    ----------
    op : ShapeExpr

    Returns
    -------
    callable
    """
    def shape_expr(*arrays):
        # x.shape is concrete while JAX traces: compute outside of JAX.
        return int(op.evaluate([tuple(a.shape) for a in arrays]))

    return shape_expr


_pytensor_jax_arange = jax_funcify.dispatch(ARange)


@jax_funcify.register(ARange)
def jax_funcify_ARange(op, node, **kwargs):
    """``arange`` whose bounds may come from a :class:`ShapeExpr`.

    PyTensor's JAX ``arange`` checks, when it converts the graph, that its
    bounds are constants or ``Shape_i``, and refuses anything else; the
    output of a :class:`ShapeExpr` is concrete too (e.g. the number of
    random numbers of a dropout mask, a product of shapes). Other nodes go
    to PyTensor's implementation.

    Parameters
    ----------
    op : ARange
    node : Apply

    Returns
    -------
    callable
    """
    if not any(arg.owner is not None and isinstance(arg.owner.op, ShapeExpr)
               for arg in node.inputs):
        return _pytensor_jax_arange(op, node=node, **kwargs)
    import jax.numpy as jnp
    constants = [np.asarray(arg.data, op.dtype)
                 if isinstance(arg, Constant) else None
                 for arg in node.inputs]
    if any(c is None and not (arg.owner is not None and isinstance(
            arg.owner.op, (ShapeExpr, Shape_i)))
           for c, arg in zip(constants, node.inputs)):
        return _pytensor_jax_arange(op, node=node, **kwargs)

    def arange(*args):
        # constants in the Op's dtype (an int8 literal would overflow the
        # bounds check of jnp.arange), the other bounds are Python ints
        start, stop, step = (a if c is None else c
                             for a, c in zip(args, constants))
        return jnp.arange(start, stop, step, dtype=op.dtype)

    return arange


def shape_derived(var, memo):
    """Whether ``var`` is computed only from shapes and constants.

    Parameters
    ----------
    var : Variable
    memo : dict
        Results so far, keyed by variable.

    Returns
    -------
    bool
    """
    if var in memo:
        return memo[var]
    if isinstance(var, Constant):
        result = True
    elif var.owner is None:
        result = False
    elif isinstance(var.owner.op, (Shape, Shape_i, ShapeExpr)):
        result = True
    elif isinstance(var.owner.op, _SHAPE_ARITHMETIC):
        result = (all(_small(o) for o in var.owner.outputs)
                  and all(shape_derived(i, memo) for i in var.owner.inputs))
    else:
        result = False
    memo[var] = result
    return result


def _is_frontier(var, fgraph, memo):
    """Whether ``var`` should become a :class:`ShapeExpr` output.

    An integer scalar computed from shapes by some arithmetic (not a bare
    ``Shape_i``, which JAX already sees as an int), used by a node outside
    the shape arithmetic (or returned).
    """
    if (var.owner is None or isinstance(var, Constant)
            or isinstance(var.owner.op, (Shape, Shape_i, ShapeExpr))
            or not _integer_scalar(var) or not shape_derived(var, memo)):
        return False
    for client, _ in fgraph.clients[var]:
        if isinstance(client.op, Output):  # returned by the function
            return True
        if not all(shape_derived(o, memo) for o in client.outputs):
            return True
    return False


def _shape_expr(var):
    """Build the :class:`ShapeExpr` output that computes ``var``."""
    arrays, leaves, replace, inner_inputs = [], [], {}, []
    memo = {}

    def visit(v):
        if v in memo or isinstance(v, Constant):
            return
        memo[v] = True
        op = v.owner.op
        if isinstance(op, (Shape, Shape_i)):
            array = v.owner.inputs[0]
            if array not in arrays:
                arrays.append(array)
            dim = op.i if isinstance(op, Shape_i) else None
            placeholder = v.type()
            leaves.append((arrays.index(array), dim))
            inner_inputs.append(placeholder)
            replace[v] = placeholder
            return
        if isinstance(op, ShapeExpr):
            # an earlier ShapeExpr: inline its graph on its own arrays
            for array in v.owner.inputs:
                if array not in arrays:
                    arrays.append(array)
            sub = dict(zip(op.inner_inputs, [None] * len(op.inner_inputs)))
            for placeholder, (arg, dim) in zip(op.inner_inputs, op.leaves):
                array = v.owner.inputs[arg]
                new = placeholder.type()
                leaves.append((arrays.index(array), dim))
                inner_inputs.append(new)
                sub[placeholder] = new
            replace[v] = clone_replace(op.inner_output, replace=sub)
            return
        for i in v.owner.inputs:
            visit(i)

    visit(var)
    inner_output = clone_replace(var, replace=replace)
    op = ShapeExpr(leaves, inner_inputs, inner_output)
    return op(*arrays)


class StaticShapes(GraphRewriter):
    """Replace shape arithmetic by :class:`ShapeExpr` nodes (JAX mode).

    See the module docstring for why.
    """

    def apply(self, fgraph):
        memo = {}
        frontier = []
        seen = set()
        for node in fgraph.toposort():
            for var in node.inputs:
                if var not in seen and _is_frontier(var, fgraph, memo):
                    frontier.append(var)
                seen.add(var)
        for var in fgraph.outputs:
            if var not in seen and _is_frontier(var, fgraph, memo):
                frontier.append(var)
            seen.add(var)
        if not frontier:
            return
        fgraph.replace_all([(var, _shape_expr(var)) for var in frontier],
                           reason="indrnn_jax_static_shapes")


# After every other rewrite of the JAX mode (the last, PyTensor's random
# rewrites, are at 110), so that no later rewrite builds new arithmetic.
optdb.register("indrnn_jax_static_shapes", StaticShapes(), "jax",
               position=120)
