"""Tests for indrnn._runtime.configure_threads (thread defaults)."""
import os
import subprocess
import sys
import types

import pytest

from indrnn import _runtime
from indrnn._runtime import BLAS_THREAD_VARS, configure_threads

ALL_VARS = BLAS_THREAD_VARS + ("NUMBA_THREADING_LAYER",)


@pytest.fixture
def env(monkeypatch):
    """A copy of os.environ, installed as os.environ, without our variables.

    Also records calls to the threadpoolctl helper instead of limiting the
    threads of the test process, and keeps Numba's config untouched.
    """
    copy = {k: v for k, v in os.environ.items() if k not in ALL_VARS}
    monkeypatch.setattr(os, "environ", copy)
    calls = []
    monkeypatch.setattr(_runtime, "_limit_loaded_blas",
                        lambda n: calls.append(n) or True)
    numba = sys.modules.get("numba")
    if numba is not None:
        monkeypatch.setattr(numba.config, "THREADING_LAYER",
                            numba.config.THREADING_LAYER)
    copy["_calls"] = calls  # reachable from the tests; not a real variable
    return copy


@pytest.mark.parametrize("numpy_loaded", [False, True])
@pytest.mark.parametrize("cpus", [1, 2])
def test_small_machine_defaults(env, monkeypatch, cpus, numpy_loaded):
    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    # configure_threads only looks numpy up in sys.modules, so a stand-in
    # (or its absence) decides which branch runs without importing it.
    if numpy_loaded:
        monkeypatch.setitem(sys.modules, "numpy",
                            sys.modules.get("numpy")
                            or types.ModuleType("numpy"))
    else:
        monkeypatch.delitem(sys.modules, "numpy", raising=False)
    calls = env.pop("_calls")
    before = dict(env)
    result = configure_threads()
    assert env["OPENBLAS_NUM_THREADS"] == "1"
    assert env["OMP_NUM_THREADS"] == "1"
    assert env["NUMBA_THREADING_LAYER"] == "workqueue"
    # Only those three were added; nothing else changed.
    added = {k: v for k, v in env.items() if k not in before}
    assert added == result.set_env == {
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
        "NUMBA_THREADING_LAYER": "workqueue"}
    assert result.kept_env == {}
    # Only an already-loaded numpy needs the runtime (threadpoolctl) limit.
    assert result.numpy_already_imported is numpy_loaded
    assert calls == ([1] if numpy_loaded else [])
    assert result.blas_limited_at_runtime is numpy_loaded
    numba = sys.modules.get("numba")
    if numba is not None:
        assert numba.config.THREADING_LAYER == "workqueue"


@pytest.mark.parametrize("cpus", [3, 64, None])
def test_larger_machine_leaves_blas_alone(env, monkeypatch, cpus):
    # os.cpu_count() may return None; that counts as 1 CPU (small machine).
    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    calls = env.pop("_calls")
    result = configure_threads()
    assert env["NUMBA_THREADING_LAYER"] == "workqueue"
    if cpus is None:
        assert env["OPENBLAS_NUM_THREADS"] == "1"
    else:
        assert not any(name in env for name in BLAS_THREAD_VARS)
        assert result.set_env == {"NUMBA_THREADING_LAYER": "workqueue"}
        assert calls == [] and not result.blas_limited_at_runtime


@pytest.mark.parametrize("name", BLAS_THREAD_VARS)
def test_user_blas_setting_is_respected(env, monkeypatch, name):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    calls = env.pop("_calls")
    env[name] = "3"
    result = configure_threads()
    # The user's variable is unchanged and no other BLAS variable was
    # added (OpenBLAS would give ours precedence over theirs).
    assert env[name] == "3"
    assert [n for n in BLAS_THREAD_VARS if n in env] == [name]
    assert result.kept_env == {name: "3"}
    assert "NUMBA_THREADING_LAYER" in result.set_env
    assert calls == []


def test_user_numba_layer_is_respected(env, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    env.pop("_calls")
    env["NUMBA_THREADING_LAYER"] = "omp"
    result = configure_threads()
    assert env["NUMBA_THREADING_LAYER"] == "omp"
    assert result.kept_env == {"NUMBA_THREADING_LAYER": "omp"}
    assert "NUMBA_THREADING_LAYER" not in result.set_env
    assert env["OPENBLAS_NUM_THREADS"] == "1"


def test_second_call_keeps_first_values(env, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    env.pop("_calls")
    first = configure_threads()
    snapshot = dict(env)
    second = configure_threads()
    assert env == snapshot
    assert second.set_env == {}
    assert second.kept_env == first.set_env


def test_explicit_mapping_does_not_touch_process(env, monkeypatch):
    calls = env.pop("_calls")
    before = dict(os.environ)
    mapping = {}
    result = configure_threads(mapping, cpu_count=1)
    assert mapping == result.set_env
    assert dict(os.environ) == before
    assert calls == [] and not result.blas_limited_at_runtime


def test_runtime_module_does_not_import_numpy():
    # configure_threads only works if importing it does not load numpy.
    code = ("import sys, indrnn._runtime as r; "
            "assert 'numpy' not in sys.modules, 'numpy imported'; "
            "s = r.configure_threads({}, cpu_count=2); "
            "assert not s.numpy_already_imported")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # Import the module file alone: indrnn/__init__.py may import numpy
    # after calling configure_threads, which is the intended order.
    code = code.replace("import sys, indrnn._runtime as r",
                        "import sys, importlib.util as u; "
                        "spec = u.spec_from_file_location('rt', "
                        f"{os.path.join(root, 'indrnn', '_runtime.py')!r}); "
                        "r = u.module_from_spec(spec); "
                        "spec.loader.exec_module(r)")
    subprocess.run([sys.executable, "-c", code], check=True)


def _threads_after_import(extra_env):
    """Run ``import indrnn, numpy`` on a 2-CPU view; return thread count."""
    code = ("import os; os.cpu_count = lambda: 2\n"
            "import indrnn, numpy\n"
            "a = numpy.ones((256, 256), dtype=numpy.float32); a @ a\n"
            "print(len(os.listdir('/proc/self/task')), "
            "os.environ['NUMBA_THREADING_LAYER'])\n")
    env = {k: v for k, v in os.environ.items() if k not in ALL_VARS}
    env.update(extra_env)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root,
                         check=True, capture_output=True, text=True).stdout
    n_threads, layer = out.split()
    return int(n_threads), layer


def _numpy_uses_openblas():
    import numpy
    blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return "openblas" in blas["name"].lower()


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"),
                    reason="needs Linux /proc to count threads")
@pytest.mark.skipif((os.cpu_count() or 1) < 2,
                    reason="OpenBLAS never starts a 2nd thread on 1 CPU")
def test_package_import_limits_openblas_threads():
    if not _numpy_uses_openblas():
        pytest.skip("numpy is not linked to OpenBLAS")
    # End to end: `import indrnn` before numpy must leave the process with
    # no OpenBLAS worker threads; the control run, where the user asks for
    # 2 threads, shows that the count does see OpenBLAS's workers: one for
    # numpy's, and one more where `import indrnn` loaded a second OpenBLAS
    # (scipy's, through PyTensor's Numba and JAX backends, which
    # indrnn.link registers with).
    limited, layer = _threads_after_import({})
    assert (limited, layer) == (1, "workqueue")
    control, _ = _threads_after_import({"OPENBLAS_NUM_THREADS": "2"})
    assert control in (2, 3)


def test_configure_malloc_respects_the_user():
    from indrnn._runtime import MALLOC_VARS, configure_malloc
    assert configure_malloc({"INDRNN_MALLOC": "default"}) is False
    for name in MALLOC_VARS:
        assert configure_malloc({name: "1"}) is False


def test_configure_malloc_applies_on_glibc(monkeypatch):
    import ctypes
    import sys
    from indrnn._runtime import configure_malloc
    if not sys.platform.startswith("linux"):
        assert configure_malloc({}) is False
        return
    calls = []

    class FakeLibc:
        gnu_get_libc_version = object()

        def __init__(self):
            def mallopt(param, value):
                calls.append((param, value))
                return 1
            self.mallopt = mallopt

    monkeypatch.setattr(ctypes, "CDLL", lambda name: FakeLibc())
    assert configure_malloc({}) is True
    # mmap threshold 32 MiB, trim threshold maximal, top pad 512 MiB
    assert calls == [(-3, 32 * 2 ** 20), (-1, 2 ** 31 - 1), (-2, 2 ** 29)]
    # and on the real C library of this machine it succeeds too
    monkeypatch.undo()
    assert configure_malloc({}) is True


@pytest.mark.parametrize("order", ["indrnn first", "pytensor first"])
@pytest.mark.parametrize("flags, expected", [
    (None, False), ("floatX=float32", False),
    ("numba__fastmath=True", True), ("floatX=float64, numba__fastmath=True",
                                     True)])
def test_fastmath_is_off_unless_the_user_sets_it(order, flags, expected):
    """``import indrnn`` turns Numba's fastmath off (whatever the import
    order) unless PYTENSOR_FLAGS names it, and leaves the environment of
    child processes alone."""
    imports = ("import indrnn, pytensor" if order == "indrnn first"
               else "import pytensor, indrnn")
    code = (imports + "; import os; print(pytensor.config.numba__fastmath,"
            " os.environ.get('PYTENSOR_FLAGS'))")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTENSOR_FLAGS", "THEANO_FLAGS")}
    if flags is not None:
        env["PYTENSOR_FLAGS"] = flags
    out = subprocess.run([sys.executable, "-c", code], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "%s %s" % (expected, flags)
