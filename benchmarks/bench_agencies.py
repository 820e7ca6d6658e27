"""Time the FBI agency layer on the real data.

Run from the repository root with the data mirror set::

    RINGGEO_DATA_DIR=../shared/data python benchmarks/bench_agencies.py [--repeat N]

Figures printed (seconds):

* load_agencies cold: a fresh Python's first ``load_agencies()`` (reading and
  checking the FBI list, linking 18,702 agencies with the partner linker;
  the Census geography is read too);
* load_agencies warm: the same call again in one process (a copy of the
  cached table), median of N;
* match index: building the partner-to-agency index from the agencies,
  median of N;
* match all partners: matching the 1,501 linked partners to their agencies
  with the index built, median of N;
* link_partners warm: the whole linker (counties, municipalities, agencies,
  rules) on all partners, median of N.
"""

from __future__ import annotations

import argparse
import warnings

from _timing import cold, median, timed

import ringgeo
from ringgeo import _agencymatch, linking

COLD = ("import time, ringgeo; t = time.perf_counter(); a = ringgeo.load_agencies(); "
        "print(time.perf_counter() - t, len(a))")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per warm figure (median)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    seconds, rows = cold(COLD)
    print(f"load_agencies cold:  {seconds:.3f} s ({rows:,} agencies, fresh process)")
    timed(ringgeo.load_agencies)
    print(f"load_agencies warm:  {median(ringgeo.load_agencies, args.repeat):.3f} s")
    agencies = ringgeo.load_agencies()
    print(f"match index:         "
          f"{median(lambda: _agencymatch.AgencyIndex(agencies), args.repeat):.3f} s")
    partners = ringgeo.load_partners()
    index = _agencymatch.default_index()
    rows = list(zip(partners["agency"], partners["state"], partners["county_fips"],
                    partners["muni_geoid"].where(partners["muni_geoid"].notna(), None)))

    def match_all():
        return [index.match(*row) for row in rows]

    warm = median(match_all, args.repeat)
    print(f"match all partners:  {warm:.3f} s ({len(rows):,} partners, "
          f"{warm / len(rows) * 1e3:.3f} ms each)")
    raw = ringgeo.load_partners(link=False)
    print(f"link_partners warm:  "
          f"{median(lambda: linking.link_partners(raw), args.repeat):.3f} s")


if __name__ == "__main__":
    main()
