"""Timing helpers shared by the benchmark scripts (``python benchmarks/bench_*.py``).

The scripts are run as files, so Python puts this folder on ``sys.path`` and
they import this module as ``_timing``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def timed(func) -> float:
    """Seconds one call of ``func()`` takes."""
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def median(func, repeat: int) -> float:
    """Median seconds of ``repeat`` calls of ``func()``."""
    return statistics.median(timed(func) for _ in range(repeat))


def cold(code: str) -> tuple[float, int]:
    """Run ``code`` in a fresh Python; it prints seconds and a row count. Return both."""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.split()
    return float(out[0]), int(out[1])
