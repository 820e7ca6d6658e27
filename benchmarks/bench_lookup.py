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
  the agencies for that date once);
* lookup in a preloaded process: a fresh Python loads what the fork server of
  ``ringgeo figures`` loads before forking a kernel (``_forkserver.rehearse()``:
  partners, geography, agencies, ZIP codes, coverage), then times its first
  ``lookup("08054", as_of="2019-12-31")``, the standard run fig10_lookup_08054
  (median of N processes; wall clock and CPU);
* ringgeo lookup 19082: the command in a fresh process (warm parsed-data cache),
  median of N runs.

Run it twice after a change of the package: the first run rebuilds the
parsed-data cache (its key includes the package's code).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import warnings

from _timing import cold, median, timed

import ringgeo

COLD_POSTAL = ("import time, ringgeo; t = time.perf_counter(); "
               "z = ringgeo.postal.load_postal_codes(); print(time.perf_counter() - t, len(z))")
COLD_LOOKUP = ("import time, ringgeo; t = time.perf_counter(); "
               "r = ringgeo.lookup('19082'); print(time.perf_counter() - t, len(r.agencies))")
PRELOADED = ("import time, warnings, ringgeo; from ringgeo import _forkserver; "
             "_forkserver.rehearse(); warnings.simplefilter('ignore'); "
             "w, c = time.perf_counter(), time.process_time(); "
             "ringgeo.lookup('08054', as_of='2019-12-31'); "
             "print(time.perf_counter() - w, time.process_time() - c)")
QUERIES = ("19082", "08054", "11746", "Upper Darby, PA", "St. Louis, MO",
           "Delaware County, PA", "Nassau County Police Department", (25.7617, -80.1918))


def preloaded(repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of the first 08054 lookup in a preloaded process."""
    runs = [subprocess.run([sys.executable, "-c", PRELOADED], check=True, capture_output=True,
                           text=True).stdout.split() for _ in range(repeat)]
    return (statistics.median(float(r[0]) for r in runs),
            statistics.median(float(r[1]) for r in runs))


def command(repeat: int) -> float:
    """Median wall seconds of ``ringgeo lookup 19082`` in a fresh process."""
    def once():
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ringgeo.cli", "lookup", "19082"], check=True,
                       capture_output=True)
        return time.perf_counter() - start
    return statistics.median(once() for _ in range(repeat))


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
    wall, cpu = preloaded(args.repeat)
    print(f"lookup in a preloaded process, first 08054 as_of 2019-12-31: {wall:.3f} s "
          f"(CPU {cpu:.3f} s; median of {args.repeat} processes)")
    print(f"ringgeo lookup 19082, fresh process: {command(args.repeat):.3f} s "
          f"(median of {args.repeat})")


if __name__ == "__main__":
    main()
