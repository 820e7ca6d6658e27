"""Time ringgeo.lookup on the real data.

Run from the repository root with the data mirror set::

    RINGGEO_DATA_DIR=../shared/data python benchmarks/bench_lookup.py [--repeat N]

Figures printed (seconds):

* load_postal_codes cold: a fresh Python's first ``load_postal_codes()``
  (reading GeoNames' zip in place and checking 41,470 rows);
* lookup cold: a fresh Python's first ``lookup("19082")`` (builds the
  agency, partner, geography and postal tables it needs);
* lookup warm: one lookup per query form, in one process with the tables
  built, median of N runs each (the target is under 0.5 s);
* lookup warm, new as_of: the first lookup on another ``as_of`` date (marks
  the agencies for that date once).
"""

from __future__ import annotations

import argparse
import warnings

from _timing import cold, median, timed

import ringgeo

COLD_POSTAL = ("import time, ringgeo; t = time.perf_counter(); "
               "z = ringgeo.postal.load_postal_codes(); print(time.perf_counter() - t, len(z))")
COLD_LOOKUP = ("import time, ringgeo; t = time.perf_counter(); "
               "r = ringgeo.lookup('19082'); print(time.perf_counter() - t, len(r.agencies))")
QUERIES = ("19082", "08054", "11746", "Upper Darby, PA", "St. Louis, MO",
           "Delaware County, PA", "Nassau County Police Department", (25.7617, -80.1918))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per warm figure (median)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    seconds, rows = cold(COLD_POSTAL)
    print(f"load_postal_codes cold: {seconds:.3f} s ({rows:,} rows, fresh process)")
    seconds, _ = cold(COLD_LOOKUP)
    print(f"lookup cold:            {seconds:.3f} s (fresh process)")
    timed(lambda: ringgeo.lookup("19082"))
    worst = 0.0
    for query in QUERIES:
        took = median(lambda q=query: ringgeo.lookup(q), args.repeat)
        worst = max(worst, took)
        print(f"lookup warm {query!r:<40} {took:.3f} s")
    print(f"lookup warm, slowest query form: {worst:.3f} s (target < 0.5 s)")
    print(f"lookup warm, new as_of: "
          f"{timed(lambda: ringgeo.lookup('19082', as_of='2019-05-01')):.3f} s")


if __name__ == "__main__":
    main()
