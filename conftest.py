"""Root pytest configuration, shared by tests/, doctests in ringgeo/ and notebooks/.

Tests never touch the network: when ``RINGGEO_DATA_DIR`` is unset and the
``../shared/data`` mirror sits beside the checkout, that folder is used.
"""

import os
import pathlib
import tempfile

import matplotlib

matplotlib.use("Agg")

_DEFAULT_MIRROR = pathlib.Path(__file__).resolve().parent.parent / "shared" / "data"
if not os.environ.get("RINGGEO_DATA_DIR") and _DEFAULT_MIRROR.is_dir():
    os.environ["RINGGEO_DATA_DIR"] = str(_DEFAULT_MIRROR)

# nbval runs the notebooks with their defaults: send their figures and tables to a
# temporary folder rather than the checkout's output/.
if not os.environ.get("RINGGEO_OUTPUT_DIR"):
    os.environ["RINGGEO_OUTPUT_DIR"] = tempfile.mkdtemp(prefix="ringgeo-test-output-")
