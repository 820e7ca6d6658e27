"""Time ringgeo.plot on the real data: national county map, national state map, one state.

Run with the data mirror, e.g.::

    RINGGEO_DATA_DIR=/path/to/mirror python benchmarks/bench_plot.py

Prints seconds for the first call (reading and projecting boundaries) and for
a repeated call (geometry cached), each split into drawing and saving.
"""

from __future__ import annotations

import tempfile
import time
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import ringgeo  # noqa: E402
from ringgeo import coverage, plot  # noqa: E402


def timed(label, frame, column, suffix=".png", **kwargs):
    start = time.perf_counter()
    fig, _ = plot.choropleth(frame, column, title=label, **kwargs)
    drawn = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = plot.save(fig, f"{folder}/map{suffix}")
        size = path.stat().st_size
    saved = time.perf_counter()
    plt.close(fig)
    print(f"{label:<34} draw {drawn - start:6.2f} s   save {suffix} {saved - drawn:6.2f} s"
          f"   {size / 1e3:8.0f} kB")


def main():
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        partners = ringgeo.load_partners()
        states, counties = coverage.by_state(partners), coverage.by_county(partners)
    print(f"{'load partners + coverage tables':<34} {time.perf_counter() - start:6.2f} s")
    timed("national counties (first call)", counties, "partners", level="county",
          scheme="user_defined", bins=[0, 1, 2, 5, 10, 100])
    timed("national counties (cached)", counties, "partners", level="county",
          scheme="user_defined", bins=[0, 1, 2, 5, 10, 100])
    timed("national counties, SVG", counties, "partners", suffix=".svg", level="county",
          scheme="user_defined", bins=[0, 1, 2, 5, 10, 100])
    timed("national states", states, "partners_per_100k", scheme="fisher_jenks")
    timed("Pennsylvania counties (first)", counties, "partners_per_100k", state="PA")
    timed("Pennsylvania counties (cached)", counties, "partners_per_100k", state="PA")
    timed("Alaska counties", counties, "partners", state="AK")


if __name__ == "__main__":
    main()
