"""Time linking the partner table to Census geography on the real data.

Run from the repository root with the data mirror set::

    RINGGEO_DATA_DIR=../shared/data python benchmarks/bench_linking.py [--repeat N]

Figures printed (seconds):

* geography cold: the first ``load_counties()`` and ``load_municipalities()``
  of the process (reading the registry files);
* geography warm: the same calls again (cached copies), median of N;
* index: building the linker's lookup tables from the geography (once per
  process), median of N;
* link cold: the first ``link_partners`` of the process (index and corrections
  included, geography already loaded);
* link warm: ``link_partners`` on all 1,501 partners with the index built,
  median of N (the usual case in a notebook), and the same with
  ``as_of="2019-08-28"``.
"""

from __future__ import annotations

import argparse
import warnings

from _timing import median, timed

import ringgeo
from ringgeo import _linkgeo, geography, linking


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per warm figure (median)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # undated partners with as_of: expected, reported

    partners = ringgeo.load_partners(link=False)
    sliced = ringgeo.load_partners(as_of="2019-08-28", link=False)

    def load_geography():
        return geography.load_counties(), geography.load_municipalities()

    print(f"geography cold: {timed(load_geography):.3f} s")
    print(f"geography warm: {median(load_geography, args.repeat):.3f} s")
    counties, munis = load_geography()
    index = median(lambda: _linkgeo.GeoIndex(counties, munis), args.repeat)
    print(f"index:          {index:.3f} s ({len(counties):,} counties, {len(munis):,} "
          f"municipalities)")
    print(f"link cold:      {timed(lambda: linking.link_partners(partners)):.3f} s")
    warm = median(lambda: linking.link_partners(partners), args.repeat)
    print(f"link warm:      {warm:.3f} s ({len(partners):,} partners, "
          f"{warm / len(partners) * 1e3:.2f} ms each)")
    warm = median(lambda: linking.link_partners(sliced), args.repeat)
    print(f"link warm as_of=2019-08-28: {warm:.3f} s ({len(sliced):,} partners)")


if __name__ == "__main__":
    main()
