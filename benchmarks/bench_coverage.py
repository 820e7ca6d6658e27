"""Time the coverage tables on the real data.

Run from the repository root with the data mirror set::

    RINGGEO_DATA_DIR=../shared/data python benchmarks/bench_coverage.py [--repeat N]

Figures printed (seconds, median of N):

* cells: building the population cells from the geography tables (once per
  process; the geography loaders' own time is in ``bench_geography.py``);
* ``by_state``, ``by_county``, ``national``: one call each on the linked
  partner table of the whole snapshot and of ``as_of="2020-01-01"``, with the
  cells already built (the usual case in a notebook);
* ``timeline``: national monthly and daily, and by state weekly.

The partner table is loaded once beforehand (see ``bench_partners.py``).
"""

from __future__ import annotations

import argparse
import warnings

from _timing import median

import ringgeo
from ringgeo import coverage, geography


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # undated partners: expected, reported in attrs

    tables = (geography.load_states(), geography.load_counties(),
              geography.load_municipality_parts(), geography.load_mcd_place_overlaps())
    cells = median(lambda: coverage._cells.build(*tables), args.repeat)
    geo = coverage._cells.build(*tables)
    print(f"cells: {cells:.3f} s ({len(geo.cells):,} cells, {len(geo.counties):,} counties)")

    for as_of in (None, "2020-01-01"):
        partners = ringgeo.load_partners(as_of=as_of)
        coverage.by_state(partners)  # builds and caches the default geography
        print(f"\nas_of={as_of}: {len(partners):,} partners")
        jobs = {
            "by_state": lambda partners=partners: coverage.by_state(partners),
            "by_county": lambda partners=partners: coverage.by_county(partners),
            "national": lambda partners=partners: coverage.national(partners),
            "timeline M": lambda partners=partners: coverage.timeline(partners, freq="M"),
            "timeline D": lambda partners=partners: coverage.timeline(partners, freq="D"),
            "timeline W by state": lambda partners=partners: coverage.timeline(
                partners, freq="W", by="state"),
        }
        for name, job in jobs.items():
            print(f"  {name:<20} {median(job, args.repeat):.3f} s")


if __name__ == "__main__":
    main()
