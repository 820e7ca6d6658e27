"""Root pytest configuration, shared by tests/, doctests in ringgeo/ and notebooks/.

Tests never touch the network: when ``RINGGEO_DATA_DIR`` is unset and the
``../shared/data`` mirror sits beside the checkout, that folder is used.

Everything a test run writes to a temporary folder (pytest's ``tmp_path``,
``tempfile`` in doctests, the notebooks' outputs, kernels' scratch files, the
parsed-data cache unless a cache folder is set) goes into one session folder
that is removed when the run ends, so the suite leaves nothing behind in the
system's temporary directory nor in the user's cache folder.
"""

import os
import pathlib
import shutil
import tempfile

import matplotlib

matplotlib.use("Agg")

_DEFAULT_MIRROR = pathlib.Path(__file__).resolve().parent.parent / "shared" / "data"
if not os.environ.get("RINGGEO_DATA_DIR") and _DEFAULT_MIRROR.is_dir():
    os.environ["RINGGEO_DATA_DIR"] = str(_DEFAULT_MIRROR)

_SESSION_TMP = pathlib.Path(tempfile.mkdtemp(prefix="ringgeo-pytest-"))
# in-process tempfile calls and child processes (notebook kernels) use the session folder
tempfile.tempdir = str(_SESSION_TMP)
os.environ["TMPDIR"] = str(_SESSION_TMP)

# nbval runs the notebooks with their defaults: send their figures and tables to a
# temporary folder rather than the checkout's output/.
if not os.environ.get("RINGGEO_OUTPUT_DIR"):
    os.environ["RINGGEO_OUTPUT_DIR"] = str(_SESSION_TMP / "output")

# The parsed-data cache (about 25 tables of a full run) goes to the session folder too,
# not into the user's cache folder, unless RINGGEO_CACHE_DIR or RINGGEO_TABLE_CACHE_DIR
# says where (a developer who wants it kept between runs sets one). The downloaded source
# files are still read from RINGGEO_DATA_DIR or, without a mirror, the user's cache folder.
if not os.environ.get("RINGGEO_CACHE_DIR") and not os.environ.get("RINGGEO_TABLE_CACHE_DIR"):
    os.environ["RINGGEO_TABLE_CACHE_DIR"] = str(_SESSION_TMP / "tables")

# A relative folder (the README's `export RINGGEO_DATA_DIR=../shared/data`) is made
# absolute before any notebook kernel starts in notebooks/ and inherits it.
from ringgeo.data import absolute_env  # noqa: E402

absolute_env()


def pytest_configure(config):
    if not config.option.basetemp:
        config.option.basetemp = str(_SESSION_TMP / "pytest")


def pytest_unconfigure(config):
    shutil.rmtree(_SESSION_TMP, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    """Mark the notebook runs (nbval) slow: ``pytest -m "not slow"`` is the fast loop.
    A doctest that raises a warning fails: an example shows clean use, or catches
    the warning it means to show."""
    import pytest
    from _pytest.doctest import DoctestItem

    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
        elif isinstance(item, DoctestItem):
            item.add_marker(pytest.mark.filterwarnings("error::UserWarning"))
