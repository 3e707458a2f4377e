#!/usr/bin/env bash
# The GPU check of issue 18: on a machine with an NVIDIA GPU, make JAX
# compute there, run the JAX-mode tests, and time the training step of the
# adding problem (T=1000) and of sequential MNIST (T=784, 6 layers) in
# mode="JAX" on the GPU against the default mode on the CPU.
#
#   bash benchmarks/gpu_check.sh [options]
#
# Steps (each prints a "== ..." header; a few minutes in all):
# 1. Python: the project's .venv (made by tools/bootstrap.sh if missing),
#    or --python PY.
# 2. A CUDA jaxlib: skipped when JAX already sees a GPU; else
#    pip install "jax[cuda12]==<the installed jax version>" (the CUDA
#    plugin that matches the jax PyTensor runs with; --cuda 13 for
#    jax[cuda13]), from the package index or, offline, from --wheels DIR.
#    Then JAX must see a GPU, else the script stops (exit 3), unless
#    --cpu-ok (a dry run on a CPU machine: everything below on the CPU).
# 3. The JAX-mode tests: tests/test_jax_training.py,
#    tests/experiments/test_jax_cli.py, the JAX tests of tests/ops and of
#    tests/test_theano_flags.py, with JAX_DEFAULT_MATMUL_PRECISION=highest:
#    they compare with the CPU's float32 to 1e-4, and a GPU's default
#    float32 matrix product (TF32 on Ampere and later) rounds to about
#    1e-3. Tests that need the real data sets skip without them.
# 4. Timing: benchmarks/training_step.py --sections steps --paths fused
#    --modes numba jax --skip-floor, at JAX's default matmul precision,
#    as the experiments run; then one summary table.
#
# Options:
#   --python PY     the Python to use (e.g. one whose JAX has a CUDA
#                   jaxlib already); the project must be importable by it
#                   (installed, or from this folder: PYTHONPATH is set)
#   --wheels DIR    install offline: pip --no-index --find-links DIR, for
#                   the CUDA jaxlib and, with --python, the project's
#                   requirements (pytensor, filelock, h5py, ...)
#   --cuda N        12 (default) or 13: which jax[cudaN] to install
#   --no-install    never install anything
#   --cpu-ok        go on when JAX has no GPU (a dry run of the script)
#   --quick         small shapes for the timing (--quick of the benchmark)
#   --skip-tests    time only
#   --rounds N      timing rounds (default 5)
#   --log FILE      also write everything to FILE
#
# Exit status: 0 when the tests passed and the table printed; 3 when JAX
# has no GPU (without --cpu-ok); 4 when the tests failed (the timing still
# runs); other values from the failing step.
set -u -o pipefail

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
cd "$ROOT" || exit 1

PY=""
WHEELS=""
CUDA=12
INSTALL=1
CPU_OK=0
QUICK=""
TESTS=1
ROUNDS=5
LOG=""
while [ $# -gt 0 ]; do
    case "$1" in
        --python) PY=$2; shift 2 ;;
        --wheels) WHEELS=$(cd -- "$2" && pwd) || exit 2; shift 2 ;;
        --cuda) CUDA=$2; shift 2 ;;
        --no-install) INSTALL=0; shift ;;
        --cpu-ok) CPU_OK=1; shift ;;
        --quick) QUICK=--quick; shift ;;
        --skip-tests) TESTS=0; shift ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --log) LOG=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set /p' "$0" | sed '$d'; exit 0 ;;
        *) echo "gpu_check: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$CUDA" in 12|13) ;; *) echo "gpu_check: --cuda 12 or 13" >&2; exit 2 ;; esac

if [ -n "$LOG" ]; then
    # everything from here on to the log file too
    exec > >(tee -a "$LOG") 2>&1
fi

step() { printf '\n== %s\n' "$*"; }
START=$(date +%s)

step "machine"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv \
        || nvidia-smi -L || true
else
    echo "nvidia-smi: not found"
fi
echo "CPUs: $(nproc 2>/dev/null || echo '?')"

step "python"
if [ -z "$PY" ]; then
    if [ ! -x .venv/bin/python ]; then
        # the project's own setup (python >= 3.12, pip install -e '.[test]')
        sh tools/bootstrap.sh test --collect-only -q tests/test_theano_flags.py \
            >/dev/null || { echo "gpu_check: tools/bootstrap.sh failed" >&2; exit 1; }
    fi
    PY=$ROOT/.venv/bin/python
fi
# The project from this folder, whatever PY has installed.
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
# The command lines' defaults: no legacy flags, the default mode.
unset THEANO_FLAGS PYTENSOR_FLAGS CI
"$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])' || exit 1

PIP_SOURCE=()
if [ -n "$WHEELS" ]; then
    PIP_SOURCE=(--no-index --find-links "$WHEELS")
fi
if [ -n "$WHEELS" ] && [ "$INSTALL" = 1 ] \
        && ! "$PY" -c 'import pytensor, indrnn' 2>/dev/null; then
    step "the project's requirements from $WHEELS"
    "$PY" -m pip install -q "${PIP_SOURCE[@]}" --no-build-isolation \
        -e ".[test]" || exit 1
fi

# gpu_devices: exit 0 if JAX sees a GPU; prints JAX's version and devices.
gpu_devices() {
    "$PY" - <<'EOF'
import sys
import jax
devices = jax.devices()
print("jax %s on %s" % (jax.__version__, ", ".join(
    "%s (%s)" % (d, d.device_kind) for d in devices)))
sys.exit(0 if any(d.platform != "cpu" for d in devices) else 1)
EOF
}

step "JAX and its devices"
if gpu_devices; then
    echo "JAX has a GPU: nothing to install"
elif [ "$INSTALL" = 1 ]; then
    JAX_VERSION=$("$PY" -c \
        'import importlib.metadata as m; print(m.version("jax"))') || exit 1
    step "installing jax[cuda$CUDA]==$JAX_VERSION"
    "$PY" -m pip install -q "${PIP_SOURCE[@]}" \
        "jax[cuda$CUDA]==$JAX_VERSION" \
        || echo "gpu_check: pip could not install jax[cuda$CUDA]==$JAX_VERSION"
    gpu_devices
fi
if ! gpu_devices >/dev/null 2>&1; then
    if [ "$CPU_OK" = 1 ]; then
        echo "gpu_check: JAX has no GPU; --cpu-ok: going on, on the CPU"
    else
        echo "gpu_check: JAX has no GPU here (see above); stopping." \
             "For a dry run on the CPU: --cpu-ok" >&2
        exit 3
    fi
fi

status=0
if [ "$TESTS" = 1 ]; then
    step "JAX-mode tests (JAX_DEFAULT_MATMUL_PRECISION=highest)"
    JAX_DEFAULT_MATMUL_PRECISION=highest "$PY" -m pytest -q -p no:cacheprovider \
        -W ignore::UserWarning \
        tests/test_jax_training.py tests/experiments/test_jax_cli.py \
        "tests/ops/test_recurrence.py" "tests/ops/test_batchnorm.py" \
        tests/test_theano_flags.py -k "jax or JAX" \
        || { status=4; echo "gpu_check: JAX-mode tests FAILED"; }
fi

step "training step: mode=JAX (GPU) against the default mode (CPU)"
BENCH_LOG=$(mktemp)
"$PY" -W ignore benchmarks/training_step.py $QUICK --sections steps \
    --configs adding mnist --paths fused --modes numba jax --skip-floor \
    --rounds "$ROUNDS" 2>&1 | tee "$BENCH_LOG" \
    | grep -v -e 'Warning' -e '^  return ' -e '^ *warnings.warn'
bench=$?
if [ "$bench" != 0 ]; then
    echo "gpu_check: the benchmark failed (exit $bench)"
    rm -f "$BENCH_LOG"
    exit "$bench"
fi

step "summary"
# From the benchmark's tables: "<config>: T=..." starts a table, rows
# "fused/<mode> median min 1st-call faulted".
awk -v jaxdev="$(grep -o 'JAX [^;]* on .*' "$BENCH_LOG" | head -1)" '
    /^[a-z]+: T=/ { config = $1; sub(":", "", config);
                    shape[config] = $2 " " $3 " " $4 " L=" $5;
                    gsub(",", "", shape[config]); next }
    /^fused\/numba / { cpu[config] = $2; cpu1[config] = $4 }
    /^fused\/jax /   { gpu[config] = $2; gpu1[config] = $4 }
    END {
        print "JAX device: " jaxdev
        printf "| %-7s | %-20s | %14s | %14s | %8s | %18s |\n", "config",
               "shape", "CPU default ms", "JAX ms", "speed-up",
               "1st call s CPU/JAX"
        print "| ------- | -------------------- | -------------: |" \
              " -------------: | -------: | -----------------: |"
        n = split("adding mnist", order, " ")
        for (i = 1; i <= n; i++) {
            c = order[i]
            if (!(c in cpu) || !(c in gpu)) continue
            printf "| %-7s | %-20s | %14s | %14s | %7.1fx | %18s |\n", c,
                   shape[c], cpu[c], gpu[c], cpu[c] / gpu[c],
                   cpu1[c] " / " gpu1[c]
        }
    }' "$BENCH_LOG"
rm -f "$BENCH_LOG"
echo "medians of $ROUNDS interleaved rounds; JAX at its default matmul" \
     "precision; total $(( $(date +%s) - START )) s"
exit "$status"
