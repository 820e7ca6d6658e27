"""Time loading the partner table: cold (new process) and warm (same process).

Run from the repository root with the data mirror set::

    RINGGEO_DATA_DIR=../shared/data python benchmarks/bench_partners.py [--repeat N]

Figures printed (seconds, median of N):

* cold: a fresh Python process imports ringgeo and calls ``load_partners``
  once (includes the import, the sha256 check of the file and the parse);
* re-read: same process, the in-memory cache cleared, so the file is parsed
  and cleaned again (the sha256 check stays memoized by ``ringgeo.data``);
* warm: same process, a repeated call served from the cache (a copy is made).

Each is measured with ``link=False`` and, when ``ringgeo.linking`` exists,
with ``link=True``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import warnings

from _timing import cold, timed

import ringgeo
from ringgeo import partners

COLD = """
import time, warnings
t0 = time.perf_counter()
import ringgeo
warnings.simplefilter("ignore")
frame = ringgeo.load_partners(link={link})
print(time.perf_counter() - t0, len(frame))
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (median reported)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    modes = [False] + ([True] if importlib.util.find_spec("ringgeo.linking") else [])
    print(f"ringgeo {ringgeo.__version__}, python {sys.version.split()[0]}, "
          f"median of {args.repeat} runs, seconds")
    print(f"{'link':>6} {'rows':>6} {'cold':>8} {'re-read':>8} {'warm':>8}")
    for link in modes:
        colds = [cold(COLD.format(link=link)) for _ in range(args.repeat)]
        rereads, warms = [], []
        for _ in range(args.repeat):
            partners._read_cached.cache_clear()
            rereads.append(timed(lambda link=link: partners.load_partners(link=link)))
            warms.append(timed(lambda link=link: partners.load_partners(link=link)))
        print(f"{str(link):>6} {colds[0][1]:>6} {statistics.median(c for c, _ in colds):8.3f} "
              f"{statistics.median(rereads):8.3f} {statistics.median(warms):8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
