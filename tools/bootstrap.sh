#!/bin/sh
# Set up a virtual environment and run the project's main job or its tests.
#
#   sh tools/bootstrap.sh run  [adding flags...]   # the adding experiment
#   sh tools/bootstrap.sh test [pytest args...]    # the test suite
#
# Steps:
# 1. Find a Python >= 3.12 (PyTensor 3.x needs it), in this order:
#    $INDRNN_PYTHON; python3.13, python3.12 on PATH; python3, python on PATH;
#    pyenv versions 3.12+ ($(pyenv root), $PYENV_ROOT, ~/.pyenv);
#    a Python that `uv python find` knows.
# 2. Create .venv in the repository root (kept if its Python is >= 3.12;
#    so step 1 only runs when .venv is missing or too old: delete .venv to
#    switch to another Python, e.g. the one in $INDRNN_PYTHON).
# 3. pip install -e '.[test]', skipped when setup.cfg and pyproject.toml are
#    unchanged since the last successful install (stamp file in .venv).
# 4. Run the job.
set -eu

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
cd "$ROOT"

VENV=.venv
STAMP=$VENV/.indrnn-install-stamp
NOTES=""  # candidates that were found but rejected, for the error message

say() { printf 'bootstrap: %s\n' "$*" >&2; }

usage() {
    cat >&2 <<'EOF'
usage: sh tools/bootstrap.sh run  [adding flags...]
       sh tools/bootstrap.sh test [pytest args...]
EOF
    exit 2
}

# version_ok PYTHON: true if PYTHON runs and is >= 3.12.  Errors are hidden:
# a pyenv shim for a version that is not selected fails with exit 127.
version_ok() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' \
        >/dev/null 2>&1
}

# note PYTHON: remember the version of a rejected candidate.
note() {
    v=$("$1" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null) ||
        v="not runnable"
    NOTES="$NOTES
  $1: $v"
}

find_python() {
    if [ -n "${INDRNN_PYTHON:-}" ]; then
        if version_ok "$INDRNN_PYTHON"; then
            printf '%s\n' "$INDRNN_PYTHON"
            return 0
        fi
        note "$INDRNN_PYTHON"
        say "INDRNN_PYTHON=$INDRNN_PYTHON is not a working" \
            "Python >= 3.12:$NOTES"
        exit 1
    fi
    for name in python3.13 python3.12 python3 python; do
        if p=$(command -v "$name" 2>/dev/null); then
            if version_ok "$p"; then
                printf '%s\n' "$p"
                return 0
            fi
            note "$p"
        fi
    done
    roots=""
    if command -v pyenv >/dev/null 2>&1; then
        roots=$(pyenv root 2>/dev/null) || roots=""
    fi
    for root in "$roots" "${PYENV_ROOT:-}" "${HOME:-}/.pyenv"; do
        [ -n "$root" ] && [ -d "$root/versions" ] || continue
        best=""
        # Glob order is lexical, so the last match is the newest version.
        for p in "$root"/versions/3.1[2-9]*/bin/python; do
            [ -x "$p" ] || continue
            if version_ok "$p"; then best=$p; else note "$p"; fi
        done
        if [ -n "$best" ]; then
            printf '%s\n' "$best"
            return 0
        fi
    done
    if command -v uv >/dev/null 2>&1; then
        if p=$(uv python find '>=3.12' 2>/dev/null) && version_ok "$p"; then
            printf '%s\n' "$p"
            return 0
        fi
    fi
    cat >&2 <<EOF
bootstrap: no Python >= 3.12 found (PyTensor 3.x needs it).
Looked for: \$INDRNN_PYTHON; python3.13, python3.12, python3, python on PATH;
pyenv versions 3.12+ under \$(pyenv root), \$PYENV_ROOT and ~/.pyenv;
Pythons known to 'uv python find'.${NOTES:+
Found, but too old or not runnable:$NOTES}
Install Python >= 3.12 (for example 'pyenv install 3.12', 'uv python install
3.12' or your system's package manager), or point the script at one:
  INDRNN_PYTHON=/path/to/python3.12 sh tools/bootstrap.sh ...
EOF
    exit 1
}

# make_venv: create .venv unless a usable one (Python >= 3.12) is there.
make_venv() {
    if [ -x "$VENV/bin/python" ] && version_ok "$VENV/bin/python"; then
        return 0
    fi
    py=$(find_python)
    if [ -e "$VENV" ]; then
        say "replacing $VENV (its Python is missing or older than 3.12)"
        rm -rf "$VENV"
    fi
    ver=$("$py" -c 'import sys; print(sys.version.split()[0])')
    say "creating $VENV with $py ($ver)"
    "$py" -m venv "$VENV" || {
        say "'$py -m venv' failed; on Debian/Ubuntu install the" \
            "python3.X-venv package"
        rm -rf "$VENV"
        exit 1
    }
}

# install: pip install -e '.[test]' when the packaging files changed.
install() {
    want=$(cat setup.cfg pyproject.toml | cksum)
    if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
        return 0
    fi
    say "installing the project and its dependencies into $VENV" \
        "(pip install -e '.[test]')"
    # -q hides progress but pip still prints errors (and exits non-zero).
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        -e '.[test]'
    printf '%s\n' "$want" >"$STAMP"
}

[ $# -ge 1 ] || usage
job=$1
shift
case $job in
    run | test) ;;
    -h | --help | help) usage ;;
    *) say "unknown job '$job'"; usage ;;
esac

make_venv
install

case $job in
    run)
        exec "$VENV/bin/python" -m indrnn.experiments.adding \
            --seq_len 100 --max_steps 3000 --out runs/adding "$@"
        ;;
    test)
        if [ -z "${INDRNN_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
            INDRNN_DATA_DIR=$(cd ../shared/data && pwd)
            export INDRNN_DATA_DIR
        fi
        exec "$VENV/bin/python" -m pytest -q "$@"
        ;;
esac
