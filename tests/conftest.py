"""Shared fixtures for the test suite (the mirror default is set in ../conftest.py)."""

import os
import pathlib

import pytest


@pytest.fixture(scope="session")
def mirror_dir() -> pathlib.Path:
    """The read-only local mirror of the source files."""
    folder = os.environ.get("RINGGEO_DATA_DIR")
    if not folder or not pathlib.Path(folder).is_dir():
        pytest.fail(
            "These tests need the data mirror: set RINGGEO_DATA_DIR to a folder holding "
            "the registry's files (CI uses ../shared/data)."
        )
    return pathlib.Path(folder)


@pytest.fixture(scope="session")
def real_partners(mirror_dir):
    """The linked partner table of the 2020-10-07 snapshot (``ringgeo.load_partners()``),
    loaded once for the whole session. Treat it as read-only: copy before changing it."""
    import warnings

    import ringgeo

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undated partners etc.: asserted where they matter
        return ringgeo.load_partners()
