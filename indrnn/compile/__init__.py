"""The compile layer: the project's Numba linker and the compile cache.

Everything in the project that depends on PyTensor beyond its documented
API is in this folder, so that a PyTensor release that changes it breaks
here and nowhere else, and this layer is optional: with it switched off
(``INDRNN_LINKER=pytensor``, :func:`use_project_linker` ``(False)``,
``INDRNN_COMPILE_CACHE=0``), functions compile with PyTensor alone, to the
same results up to round-off.

Modules
-------
modes
    The names registered with PyTensor (linker ``"indrnn_numba"``, mode
    ``"INDRNN"``), the switch, :func:`project_mode` (the default mode gets
    the project's linker; ``mode="NUMBA"`` stays PyTensor's),
    :func:`c_linker_mode` and :func:`compile_function`, which
    ``indrnn.run.functions.compile_train_fn`` / ``compile_test_fn`` call, and
    :func:`input_specs`.
linker
    :class:`~indrnn.compile.linker.NumbaNodeLinker`: runs the rewritten
    graph from generated Python, compiling only the nodes that compute;
    falls back to PyTensor's ``NumbaLinker`` where it fails (when linking,
    or when a node's code compiles on its first call) with one
    :class:`LinkerFallbackWarning`, and where it cannot be imported.
dot
    Large matrix products split by rows over threads, and products run
    on a pool thread while the graph goes on.
reduce
    The one-axis float sum kernel.
cache
    :func:`~indrnn.compile.cache.cached_function`: rewritten functions
    kept on disk across processes.

PyTensor internals used here
----------------------------
Public and used as documented: ``pytensor.function``,
``pytensor.compile.mode.register_linker``, ``register_mode``,
``get_mode``, ``Mode`` and ``Mode.excluding``, the configuration flags,
and the Op and type classes named below.

Outside the documented API (checked against PyTensor 3.3.8):

linker
    * ``pytensor.link.numba.linker.NumbaLinker``: subclassed; its
      ``required_rewrites``/``incompatible_rewrites`` make the mode's
      rewrites those of PyTensor's Numba mode.
    * ``pytensor.link.basic.JITLinker.create_jitable_thunk`` (overridden;
      its parameter list ``compute_map, order, input_storage,
      output_storage, storage_map`` is checked on import),
      ``fgraph_convert``, ``jit_compile``, ``create_thunk_inputs``, and
      what ``JITLinker.make_all`` does with the result (one thunk, its
      ``jit_fn``); the linker's ``fgraph``, ``no_recycling`` and
      ``allow_gc`` after ``accept``.
    * ``pytensor.link.numba.dispatch.basic``: ``numba_funcify``,
      ``numba_funcify_and_cache_key`` (a node's function and its cache
      key), ``numba_funcify_default_op_cache_key`` (their
      ``.dispatch(cls)``, to tell whether an Op has Numba code),
      ``numba_njit(..., final_function=True, cache=...)`` and
      ``numba_typify``.
    * ``pytensor.link.numba.cache.compile_numba_function_src`` (source
      compiled so that Numba can cache it on disk).
    * ``pytensor.link.utils.raise_with_op`` (errors naming the node).
    * ``pytensor.compile.aliasing.alias_root`` and ``Op.destroy_map`` /
      ``view_map`` (what memory a node writes over).
    * ``Function.vm.jit_fn`` and ``Function.maker.linker``
      (:func:`~indrnn.compile.linker.graph_source`).
    * The Op classes run through ``perform``
      (:data:`~indrnn.compile.linker.PERFORM_OPS`: ``Reshape``,
      ``SpecifyShape``, ``Shape``, ``Shape_i``, ``DimShuffle`` and its
      ``new_order``, ``Dot``, ``Argmax``, ``Alloc``, ``AllocEmpty``,
      ``MakeVector``, ``ScalarFromTensor``, ``TensorFromScalar``,
      ``ARange``, ``Join``, ``Split``, ``Subtensor``, ``IncSubtensor``,
      ``AdvancedSubtensor``, ``CheckAndRaise``; ``AdvancedIncSubtensor``
      by size), and ``CAReduce``'s ``scalar_op``, ``axis`` and
      ``acc_dtype`` (:mod:`.reduce`).
    * ``config.numba__cache``, ``config.numba__fastmath``.
modes
    * ``Mode.provided_optimizer`` (the rewrites of the configured mode,
      given to the project's linker) and ``pytensor.compile.mode.NUMBA``.
    * ``Function.maker.inputs`` (:func:`input_specs`, which
      ``indrnn.run.checkpoint`` reads the updated shared variables from).
    * ``pytensor.link.c.basic.CLinker``, ``OpWiseCLinker``,
      ``pytensor.link.vm.VMLinker.c_thunks`` and the rewrite name
      ``local_dot22_to_dot22scalar`` (:func:`c_linker_mode`).
cache
    * ``Function.maker`` (a ``FunctionMaker``) pickled with its rewritten
      ``FunctionGraph`` and linker, ``FunctionMaker.create()`` after
      unpickling, ``FunctionMaker.inputs`` (``In.shared``,
      ``In.variable``) and ``SharedVariable.container``.
    * ``pytensor.graph.traversal.io_toposort``, Ops' ``__props__`` (the
      graph key), ``config.compiledir`` and ``config.profile``.
    * A hand-typed list of the 18 configuration flags that change
      rewriting or code (``floatX``, ``cast_policy``, ``mode``,
      ``linker``, ``allow_gc``, ``optimizer``, ``optimizer_excluding``,
      ``optimizer_including``, ``optimizer_requiring``, ``on_opt_error``,
      ``cxx``, ``gcc__cxxflags``, ``tensor__cmp_sloppy``, ``vm__lazy``,
      ``numba__fastmath``, ``numba__cache``, ``scan__allow_gc``,
      ``scan__allow_output_prealloc``; ``cache._CONFIG_FLAGS``): PyTensor
      does not say which flags affect compilation, so a flag that a
      release adds stays out of the key until it is added there.

The Numba and JAX implementations of the project's Ops
(``indrnn/link/<backend>/dispatch/``) register through PyTensor's
``numba_funcify`` / ``jax_funcify`` dispatchers, the extension point that
PyTensor's own backends use; they are not part of this layer. No module of
``indrnn`` outside this folder uses the names above.
"""
from .modes import (LINKER_NAME, MODE_NAME, LinkerFallbackWarning,  # noqa
                    c_linker_mode, compile_function, input_specs,
                    project_linker_enabled, project_mode, use_project_linker)

__all__ = ["LINKER_NAME", "MODE_NAME", "LinkerFallbackWarning",
           "c_linker_mode", "compile_function", "input_specs",
           "project_linker_enabled", "project_mode", "use_project_linker"]
