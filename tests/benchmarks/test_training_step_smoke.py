"""Smoke test of ``benchmarks/training_step.py``: it runs and prints its
tables.

Nothing is timed or compared here: the script is run once, in a child
process, with tiny shapes, one round and the Python linker (``--modes
py``, which compiles no C or Numba code, so the test does not depend on a
warm compile cache), and its output is checked for the headers and rows
of the step table and its ratios.  The figures themselves are the
benchmark's business (``benchmarks/README.md``).
"""
import os
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO_ROOT, "benchmarks", "training_step.py")


def _run(*args):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (REPO_ROOT, env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run(
        [sys.executable, SCRIPT, "--quick", "--sections", "steps",
         "--T", "3", "--B", "2", "--N", "4", "--L", "1", "--rounds", "1"]
        + list(args),
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_quick_run_prints_the_step_tables():
    out = _run("--modes", "py")
    # machine description and load, then one step table per configuration
    assert "# IndRNN training-step benchmark" in out
    assert "load average" in out
    assert "## Training step: fused vs scan vs floor" in out
    for config in ("mnist: T=3, B=2, N=4, 1 IndRNN layers",
                   "adding: T=3, B=2, N=4, 2 IndRNN layers"):
        assert config in out, out
    assert out.count("median ms") == 2
    for row in ("fused/py", "scan/py", "proj/py", "kernel/py",
                "numpy-matmuls", "floor ms (proj + 1 x kernel)",
                "floor ms (proj + 2 x kernel)", "scan / fused",
                "fused / floor", "fused / numpy-matmuls"):
        assert row in out, row
    # the ratio rows hold numbers for the one mode asked for
    ratio_lines = [line for line in out.splitlines()
                   if line.startswith("fused / floor")]
    assert len(ratio_lines) == 2
    for line in ratio_lines:
        float(line.split()[-1])


def test_jax_column_and_steps_only():
    # the JAX mode (PyTensor's GPU route; here on the CPU), the training
    # step alone, as benchmarks/gpu_check.sh times it
    out = _run("--modes", "jax", "--paths", "fused", "--configs", "adding",
               "--skip-floor")
    assert "; JAX " in out          # the device JAX computes on
    rows = [line.split() for line in out.splitlines()
            if line.startswith("fused/jax")]
    assert len(rows) == 1
    float(rows[0][1])               # its median, in ms
    assert "proj/" not in out and "numpy-matmuls" not in out
