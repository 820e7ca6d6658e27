"""Time the geography loaders: cold (new process), re-read and warm (same process).

Run from the repository root with the data mirror set::

    RINGGEO_DATA_DIR=../shared/data python benchmarks/bench_geography.py [--repeat N]

Figures printed (seconds, median of N):

* cold: a fresh Python process imports ringgeo and calls the loader once
  (includes the imports of geopandas/pandas, the sha256 check of the files
  and the parse);
* re-read: same process, the in-memory caches cleared, so the files are read
  and joined again (the sha256 check stays memoized by ``ringgeo.data``);
* warm: same process, a repeated call served from the cache (a copy is made).

A last line times all five loaders together in one fresh process, as a
notebook's first cell would call them.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from _timing import cold, timed

import ringgeo
from ringgeo import geography

LOADERS = ("load_states", "load_counties", "load_municipalities", "load_municipality_parts",
           "load_mcd_place_overlaps")

COLD = """
import time
t0 = time.perf_counter()
from ringgeo import geography
for name in {names!r}:
    frame = getattr(geography, name)()
print(time.perf_counter() - t0, len(frame))
"""


def _cold(names) -> tuple[float, int]:
    return cold(COLD.format(names=tuple(names)))


def _clear_caches() -> None:
    """Clear every in-memory cache of ringgeo.geography (not the sha256 memo of ringgeo.data)."""
    for func in vars(geography).values():
        if hasattr(func, "cache_clear") and func.__module__ == geography.__name__:
            func.cache_clear()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (median reported)")
    args = parser.parse_args(argv)
    print(f"ringgeo {ringgeo.__version__}, python {sys.version.split()[0]}, "
          f"median of {args.repeat}")
    print(f"{'loader':<26}{'rows':>8}{'cold':>9}{'re-read':>9}{'warm':>9}")
    for name in LOADERS:
        func = getattr(geography, name)
        colds = [_cold([name]) for _ in range(args.repeat)]
        rereads = []
        for _ in range(args.repeat):
            _clear_caches()
            rereads.append(timed(func))
        warms = [timed(func) for _ in range(args.repeat)]
        print(f"{name:<26}{colds[0][1]:>8,}{statistics.median(c[0] for c in colds):>9.3f}"
              f"{statistics.median(rereads):>9.3f}{statistics.median(warms):>9.3f}")
    together = [_cold(LOADERS)[0] for _ in range(args.repeat)]
    print(f"{'all five, one process':<34}{statistics.median(together):>9.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
