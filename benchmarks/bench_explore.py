"""Time ringgeo.plot.explore on the real data: the national web map and one state.

Run with the data mirror, e.g.::

    RINGGEO_DATA_DIR=/path/to/mirror python benchmarks/bench_explore.py

Prints seconds to build each map (classes, boundaries, agency points) and to
write it with plot.save, and the size of the page (issue 23: the national page at most
2.5 MB; tests/test_webmap_browser.py checks it and the time the browser takes).
"""

from __future__ import annotations

import pathlib
import tempfile
import time
import warnings

import ringgeo
from ringgeo import coverage, plot


def timed(label, frame, column, points, partners, **kwargs):
    start = time.perf_counter()
    m = plot.explore(frame, column, agencies=points, partners=partners, **kwargs)
    built = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        page = plot.save(m, pathlib.Path(folder) / "map.html")
        size = page.stat().st_size
    saved = time.perf_counter()
    info = plot.map_info(m)
    print(f"{label:<28} build {built - start:6.2f} s  save {saved - built:6.2f} s  "
          f"{size / 1e6:5.2f} MB  {info['markers']:,} points, {info['partners']:,} partners")


def main():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        partners = ringgeo.load_partners()
        points = ringgeo.agencies.with_partners(partners)
        states, counties = coverage.by_state(partners), coverage.by_county(partners)
    for run in (1, 2):
        timed(f"national (run {run})", states, "partners_per_100k", points, partners)
        timed(f"Illinois counties (run {run})", counties, "partners_per_100k", points,
              partners, state="IL", scheme="fisher_jenks")


if __name__ == "__main__":
    main()
