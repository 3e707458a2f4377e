"""The compile layer is fenced off, and the dependencies run one way.

Reads the source of ``indrnn/`` (no compiling): the PyTensor internals
listed in ``indrnn/compile/__init__.py`` are used in that folder only
(the backends' ``numba_funcify`` registrations aside), and the Ops do not
import their backends.
"""
import pathlib
import re

import indrnn
import indrnn.compile

ROOT = pathlib.Path(indrnn.__file__).parent

#: Names of PyTensor internals the compile layer builds on.
INTERNALS = ("pytensor.link.numba.linker", "pytensor.link.numba.cache",
             "numba_funcify", "compile_numba_function_src", "jit_fn",
             "create_jitable_thunk", "provided_optimizer", "FunctionMaker",
             ".maker.", "alias_root", "raise_with_op")


def _sources(exclude=()):
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if not relative.startswith(exclude):
            yield relative, path.read_text()


def test_internals_only_in_the_compile_folder():
    # the backends register with numba_funcify, PyTensor's extension point
    found = [(relative, name)
             for relative, text in _sources(("compile/", "link/"))
             for name in INTERNALS if name in text]
    assert found == []


def test_the_internals_are_listed_in_the_docstring():
    listed = indrnn.compile.__doc__
    for name in ("create_jitable_thunk", "numba_funcify_and_cache_key",
                 "numba_njit", "compile_numba_function_src", "jit_fn",
                 "provided_optimizer", "FunctionMaker", "alias_root",
                 "raise_with_op", "io_toposort", "c_thunks"):
        assert name in listed, name


def test_ops_do_not_import_the_backends():
    pattern = re.compile(r"^\s*from\s+(\.\.link|indrnn\.link)\b|"
                         r"^\s*import\s+indrnn\.link\b", re.M)
    assert [relative for relative, text in _sources()
            if relative.startswith("ops/") and pattern.search(text)] == []
