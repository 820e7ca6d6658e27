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
