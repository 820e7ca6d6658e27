"""Refresh the outputs nbval checks (cells marked ``# NBVAL_CHECK_OUTPUT``), on purpose.

nbval compares the stored output of every ``# NBVAL_CHECK_OUTPUT`` cell with a
fresh run. When a change of method moves a published number, run this script,
then read ``git diff notebooks/`` line by line before committing: every changed
number must be explained by the change.

Usage (from the project root, with the data mirror set)::

    RINGGEO_DATA_DIR=../shared/data .venv/bin/python tests/refresh_notebook_outputs.py [NAME ...]

Each notebook runs with its defaults in ``notebooks/`` (figures go to a temporary
folder); only the checked cells get outputs, every other cell is stored empty.
"""

from __future__ import annotations

import os
import pathlib
import sys
import tempfile

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
MARK = "NBVAL_CHECK_OUTPUT"


def _checked(cell) -> bool:
    return cell.cell_type == "code" and (
        MARK in cell.source or "nbval-check-output" in cell.metadata.get("tags", []))


def refresh(path: pathlib.Path) -> int:
    """Run one notebook and store the outputs of its checked cells; return how many."""
    stored = nbformat.read(path, as_version=4)
    run = nbformat.read(path, as_version=4)
    client = NotebookClient(run, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    count = 0
    for old, new in zip(stored.cells, run.cells):
        if old.cell_type != "code":
            continue
        if _checked(old):
            old.outputs = [o for o in new.outputs if o.get("output_type") != "display_data"]
            for output in old.outputs:
                output.pop("execution_count", None)
            old.execution_count = None
            count += 1
        else:
            old.outputs, old.execution_count = [], None
    nbformat.write(stored, path)
    return count


def main(names) -> int:
    os.environ.setdefault("RINGGEO_OUTPUT_DIR", tempfile.mkdtemp(prefix="ringgeo-refresh-"))
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if names:
        paths = [p for p in paths if any(n in p.name for n in names)]
    for path in paths:
        print(f"{path.name}: {refresh(path)} checked cell(s) refreshed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
