"""Tests of indrnn.theano_flags: legacy THEANO_FLAGS -> PYTENSOR_FLAGS."""
import io
import os
import re
import subprocess
import sys

import pytest

from indrnn import theano_flags

from indrnn.theano_flags import (SAME_NAME_FLAGS, apply_theano_flags,
                                 jax_backend_note, translate)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("theano_flags, expected", [
    # The original README's command lines.
    ("floatX=float32,device=cuda0,mode=FAST_RUN",
     "floatX=float32,mode=JAX"),
    ("floatX=float32,mode=FAST_RUN", "floatX=float32"),
    ("floatX=float32,device=cpu", "floatX=float32"),
    # Each rule on its own.
    ("floatX=float64", "floatX=float64"),
    ("device=cpu", ""),
    ("device=cuda", "mode=JAX"),
    ("device=gpu1", "mode=JAX"),
    ("mode=FAST_RUN", ""),
    ("mode=FAST_COMPILE", "mode=FAST_COMPILE"),
    ("mode=DebugMode", "mode=DebugMode"),
    ("mode=NanGuardMode", "mode=NanGuardMode"),
    ("optimizer=None", "optimizer=None"),
    ("optimizer=fast_compile", "optimizer=fast_compile"),
    ("exception_verbosity=high", "exception_verbosity=high"),
    ("base_compiledir=/tmp/x", "base_compiledir=/tmp/x"),
    ("compiledir=/tmp/y", "base_compiledir=/tmp/y"),
    ("warn_float64=raise", "warn_float64=raise"),
    # Ignored: no PyTensor equivalent.
    ("lib.cnmem=0.8,gpuarray.preallocate=1,dnn.enabled=False", ""),
    ("optimizer=bogus", ""),
    # Theano syntax details: spaces, empty items, last one wins.
    (" floatX = float32 ,, floatX=float64", "floatX=float64"),
    ("", ""),
])
def test_translate_mapping(theano_flags, expected):
    flags, applied, ignored = translate(theano_flags)
    assert flags == expected
    # Every non-empty item is accounted for exactly once.
    items = [i for i in theano_flags.split(",") if i.strip()]
    assert len(applied) + len(ignored) == len(items)


def test_translate_reports_what_it_ignored_and_why():
    flags, applied, ignored = translate(
        "floatX=float32,lib.cnmem=0.8,device=cuda0,mode=FAST_COMPILE,oops")
    assert flags == "floatX=float32,mode=JAX"
    assert applied[0] == "floatX=float32 -> floatX=float32"
    assert any(a.startswith("device=cuda0 -> mode=JAX") and "jaxlib" in a
               for a in applied)
    assert ignored == [
        "lib.cnmem=0.8 (no PyTensor equivalent)",
        "oops (not of the form name=value)",
        "mode=FAST_COMPILE (overridden by device=cuda0 -> mode=JAX)",
    ]


def test_same_name_flags_exist_in_pytensor():
    import pytensor
    for name in SAME_NAME_FLAGS:
        assert hasattr(pytensor.config, name), name


def test_apply_sets_pytensor_flags_and_prints_one_line():
    env = {"THEANO_FLAGS": "floatX=float32,device=cuda0,lib.cnmem=1"}
    out = io.StringIO()
    result = apply_theano_flags(env, out, jax_note=lambda: "WHERE")
    assert result == translate(env["THEANO_FLAGS"], jax_note="WHERE")
    assert env["PYTENSOR_FLAGS"] == "floatX=float32,mode=JAX"
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert "PYTENSOR_FLAGS='floatX=float32,mode=JAX'" in text
    assert "device=cuda0 -> mode=JAX (WHERE)" in text
    assert "ignored: lib.cnmem=1 (no PyTensor equivalent)" in text


def test_where_jax_computes_is_asked_only_for_mode_jax():
    asked = []

    def note():
        asked.append(True)
        return "WHERE"
    for flags in ("floatX=float32,device=cpu", "mode=FAST_COMPILE"):
        out = io.StringIO()
        apply_theano_flags({"THEANO_FLAGS": flags}, out, jax_note=note)
        assert "WHERE" not in out.getvalue()
    assert not asked


def test_jax_backend_note_names_the_backend_jax_has():
    import jax
    note = jax_backend_note()
    if any(d.platform != "cpu" for d in jax.devices()):
        assert note.startswith("on the GPU: ")
    else:
        assert "this run is on the CPU" in note
        # a command to copy, into this very Python, matching its jax
        assert ('%s -m pip install "jax[cuda12]==%s"'
                % (sys.executable, jax.__version__)) in note


def test_apply_sets_empty_flags_so_children_stay_quiet():
    env = {"THEANO_FLAGS": "device=cpu,mode=FAST_RUN"}
    out = io.StringIO()
    apply_theano_flags(env, out)
    assert env["PYTENSOR_FLAGS"] == ""
    assert "ignored: nothing" in out.getvalue()
    # A second call (as in a child process) does nothing.
    out2 = io.StringIO()
    assert apply_theano_flags(env, out2) is None
    assert out2.getvalue() == ""


@pytest.mark.parametrize("env", [
    {},                                                   # nothing set
    {"PYTENSOR_FLAGS": "floatX=float64"},                 # only PyTensor's
    {"THEANO_FLAGS": "floatX=float32",                    # both: PyTensor's
     "PYTENSOR_FLAGS": "floatX=float64"},                 # wins
    {"THEANO_FLAGS": "floatX=float32", "PYTENSOR_FLAGS": ""},
])
def test_apply_is_a_no_op(env):
    before = dict(env)
    out = io.StringIO()
    assert apply_theano_flags(env, out) is None
    assert env == before
    assert out.getvalue() == ""


def _run_python(code, **env_vars):
    env = {k: v for k, v in os.environ.items()
           if k not in ("THEANO_FLAGS", "PYTENSOR_FLAGS")}
    env.update(env_vars)
    env["PYTHONPATH"] = REPO_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], env=env,
                          capture_output=True, text=True, timeout=120,
                          cwd=REPO_ROOT)


def test_import_indrnn_translates_before_pytensor_loads():
    code = "import indrnn, pytensor; print(pytensor.config.floatX)"
    proc = _run_python(code, THEANO_FLAGS="floatX=float32")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "float32"
    lines = [line for line in proc.stderr.splitlines()
             if line.startswith("indrnn: THEANO_FLAGS")]
    assert len(lines) == 1
    # Control: without THEANO_FLAGS PyTensor's own default is float64, so
    # the float32 above is the translation's doing.
    proc = _run_python(code)
    assert proc.stdout.strip() == "float64"
    assert "THEANO_FLAGS" not in proc.stderr


def test_pytensor_accepts_every_translated_flag(tmp_path):
    theano_flags = ("floatX=float32,mode=DebugMode,optimizer=fast_compile,"
                    "exception_verbosity=high,warn_float64=warn,"
                    "compiledir=%s,lib.cnmem=0.8" % tmp_path)
    code = ("import indrnn, pytensor; c = pytensor.config; "
            "print(c.floatX, c.mode, c.optimizer, c.exception_verbosity, "
            "c.warn_float64, c.base_compiledir)")
    proc = _run_python(code, THEANO_FLAGS=theano_flags)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["float32", "DebugMode", "fast_compile",
                                   "high", "warn", str(tmp_path)]
    # PyTensor warns about flags it does not know; it must not here.
    assert "does not recognise" not in proc.stderr


#: The original README's GPU flags.
GPU_FLAGS = "floatX=float32,device=cuda0,mode=FAST_RUN"
EXPERIMENTS = ("adding", "pixelmnist", "penntree_charlevel_rernn",
               "penntree_wordlevel_rernn_WT", "Indrnn_action_train")


@pytest.mark.parametrize("module", EXPERIMENTS)
def test_every_experiment_translates_although_it_imports_pytensor_first(
        module):
    # Each experiment module imports pytensor before indrnn; importing it
    # as the commands do (python -m, console scripts: the package first)
    # must still translate, once.
    code = ("import indrnn.experiments.%s, pytensor; c = pytensor.config; "
            "print(c.floatX, c.mode)" % module)
    proc = _run_python(code, THEANO_FLAGS=GPU_FLAGS)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["float32", "JAX"]
    lines = [line for line in proc.stderr.splitlines()
             if line.startswith("indrnn: THEANO_FLAGS")]
    assert len(lines) == 1 and "not translated" not in lines[0], lines


def test_original_gpu_command_line_trains_in_jax_mode(tmp_path):
    # The README's command, as the port runs it: translated, and trained
    # (in JAX mode, on the CPU here).
    env = {k: v for k, v in os.environ.items()
           if k not in ("THEANO_FLAGS", "PYTENSOR_FLAGS")}
    env["THEANO_FLAGS"] = GPU_FLAGS
    env["PYTHONPATH"] = REPO_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-u", "-m", "indrnn.experiments.adding", "--model",
         "indrnn", "--seq_len", "10", "--hidden_units", "4",
         "--max_steps", "2", "--report_every", "1", "--seed", "0",
         "--out", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines()
             if line.startswith("indrnn: THEANO_FLAGS")]
    assert len(lines) == 1, proc.stderr[-3000:]
    assert "PYTENSOR_FLAGS='floatX=float32,mode=JAX'" in lines[0]
    # One line says where the run computes, as JAX sees this machine.
    assert "device=cuda0 -> mode=JAX (%s)" % jax_backend_note() in lines[0]
    assert "seed 0 floatX float32" in proc.stdout
    assert len(re.findall(r"^step \d+ lr", proc.stdout, flags=re.M)) == 2


def test_the_translation_asks_jax_only_for_a_gpu_device():
    # Asking JAX whether it has a GPU imports it (and numpy): the
    # translation does so only when the flags select JAX. (``import
    # indrnn`` imports JAX anyway, later, where it is installed: the
    # backends register the Ops' JAX implementations.) The module is
    # loaded by itself, without the package, as it runs first.
    code = ("import importlib.util, sys; "
            "spec = importlib.util.spec_from_file_location('tf', %r); "
            "tf = importlib.util.module_from_spec(spec); "
            "spec.loader.exec_module(tf); "
            "tf.apply_theano_flags(); print('jax' in sys.modules)"
            % theano_flags.__file__)
    for flags, imported in (("floatX=float32,device=cpu", "False"),
                            (GPU_FLAGS, "True")):
        proc = _run_python(code, THEANO_FLAGS=flags)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == imported, flags
