"""Shared pytest configuration.

* ``floatX`` is float32 for the whole session, as in the original scripts
  and the legacy fixtures (all float32).  A test that needs float64 builds
  explicit dtypes or uses ``pytensor.config.change_flags(floatX='float64')``.
* The ``data_dir`` fixture locates the real data sets.
"""
import os
import pathlib

import pytest

# Importing the package first applies its thread defaults
# (indrnn._runtime.configure_threads) before pytensor loads numpy.
import indrnn  # noqa: F401
import pytensor

# Set at import, not in a fixture, so that graphs built while modules are
# collected are float32 too.
pytensor.config.floatX = "float32"

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def _has_data(path):
    """Whether `path` is a folder with something besides a README in it."""
    return path.is_dir() and any(
        entry.name.lower() != "readme.md" for entry in path.iterdir())


@pytest.fixture(scope="session")
def data_dir():
    """The folder holding the real data sets (MNIST, PTB, NTU samples).

    It is ``$INDRNN_DATA_DIR`` if set, else the repository's ``data/``.
    When it is missing (or holds only its README), the test is skipped,
    or fails when the environment variable ``CI`` is non-empty, so that a
    CI run cannot pass silently without data.

    Returns
    -------
    pathlib.Path
        The data folder, e.g. ``data_dir / "ptb" / "ptb.train.txt"``.
    """
    env_value = os.environ.get("INDRNN_DATA_DIR", "")
    path = pathlib.Path(env_value) if env_value else REPO_ROOT / "data"
    if not _has_data(path):
        message = (f"data folder {str(path)!r} is missing or empty; set "
                   "INDRNN_DATA_DIR to the folder holding mnist/, ptb/ and "
                   "ntu_samples/ (see data/README.md)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True)
def _restore_lasagne_rng():
    """Give every test the package's random source as it found it: tests
    and experiments seed it with ``set_rng``, which must not leak into the
    next test."""
    from indrnn.lasagne import random as lasagne_random
    saved = lasagne_random.get_rng()
    yield
    lasagne_random.set_rng(saved)
