"""Is my town's police a Ring partner? One offline answer per ZIP code, place, county or point.

:func:`lookup` reads a query the way a reader asks it: a 5-digit ZIP code,
``"City, ST"`` (or the full state name), ``"X County, ST"``, an agency name
(or its FBI ORI), or a ``(lat, lon)`` point from the reader's own geocoder.
It resolves the query against the registry's data only:

* a ZIP code through GeoNames' postal codes (:mod:`ringgeo.postal`): its
  post-office town, county and point;
* a place name against the Census municipalities and counties, with the
  package's own name keys (:class:`ringgeo._linkgeo.GeoIndex`: ``St.`` =
  ``Saint``, diacritics, ``Township``...);
* an agency name against the FBI agency list (:mod:`ringgeo.agencies`);
* a point against the Census state and county boundaries.

and answers with a :class:`Lookup`: what the query matched and how, the
agencies that serve it (the municipal department, the county sheriff or
county police, regional departments; or, where the place is not a Census
municipality, the nearest local departments of its county) with each one's
Ring partnership on ``as_of``, and the ``k`` nearest partner agencies by
geodesic distance. An ambiguous query is an error listing the candidates,
never a guess. The limits (a ZIP code is a postal route, not a jurisdiction)
are in ``docs/lookup.md``.

Modules: ``_resolve`` reads the query; ``_data`` holds the tables a lookup
reads (cached per state) and the distances; ``_answer`` the answer
(:class:`Lookup`), who serves a place and the nearest partners; ``_figures`` the
notebook's figures (matplotlib is imported only when one is drawn). This face
holds the ``ringgeo lookup`` command and makes the package callable.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
import types

import pandas as pd

from ..exceptions import QueryError
from ..tables import write_csv
from ._answer import AGENCY_COLUMNS, NEARBY, NEAREST_COLUMNS, ROLES, Lookup, lookup

__all__ = [
    "AGENCY_COLUMNS",
    "NEAREST_COLUMNS",
    "NEARBY",
    "ROLES",
    "Lookup",
    "QueryError",
    "add_cli",
    "lookup",
    "plot_map",
    "plot_timeline",
    "timeline_position",
]
_FIGURES = ("plot_map", "plot_timeline", "timeline_position")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


def _cli(args) -> int:
    words = args.query
    query = " ".join(words)  # ringgeo lookup Upper Darby, PA
    if len(words) == 2 and all(_NUMBER.match(w) for w in words):  # ringgeo lookup 39.95 -75.27
        query = (float(words[0]), float(words[1]))
    result = lookup(query, as_of=args.as_of, k=args.k, technology=args.technology)
    if args.json:
        # strict JSON: to_dict() holds no NaN (missing values are null); allow_nan=False checks it
        json.dump(result.to_dict(), sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    elif args.csv:
        frame = result.to_frame()
        frame["activated"] = [("" if pd.isna(v) else f"{pd.Timestamp(v):%Y-%m-%d}")
                              for v in frame["activated"]]
        write_csv(frame, sys.stdout, index=False, lineterminator="\n")
        sys.stdout.write(f"# Sources: {result.credit}\n")
    else:
        print(repr(result))
    return 0


def add_cli(subparsers) -> None:
    """Register ``ringgeo lookup QUERY [--as-of DATE] [-k N] [--technology T] [--json | --csv]``."""
    parser = subparsers.add_parser(
        "lookup", help="which agencies serve a ZIP code, place, county or point, and are "
                       "they Ring partners?",
        description="Answer 'is my town's police a Ring partner?' offline. QUERY: a ZIP code "
                    "(19082), 'City, ST' ('Upper Darby, PA'), 'X County, ST', an agency name "
                    "or ORI, or a point 'LAT,LON' (from your own geocoder).")
    parser.add_argument("query", nargs="+", help="ZIP code, 'City, ST', 'X County, ST', "
                                                 "agency name or ORI, or LAT,LON")
    parser.add_argument("--as-of", dest="as_of", default=None,
                        help="partnerships activated by this date (YYYY-MM-DD); default: "
                             "the 2020-10-07 snapshot")
    parser.add_argument("-k", type=int, default=5, help="nearest partner agencies to list "
                                                        "(default 5)")
    parser.add_argument("--technology", default="ring",
                        help="the Atlas technology asked about (default ring; e.g. drones, "
                             "alpr, face_recognition: the 2020-10-07 export)")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the answer as JSON")
    fmt.add_argument("--csv", action="store_true", help="print the answer's table as CSV")
    parser.set_defaults(func=_cli)


class _CallableModule(types.ModuleType):
    """``ringgeo.lookup`` is both this package and the function :func:`lookup`."""

    def __call__(self, query, *, as_of=None, k: int = 5, technology: str = "ring") -> Lookup:
        return lookup(query, as_of=as_of, k=k, technology=technology)

    def __getattr__(self, name):
        # the figures import matplotlib (0.8 s): loaded when first asked for
        if name in _FIGURES:
            return getattr(importlib.import_module("._figures", __name__), name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(_FIGURES))


sys.modules[__name__].__class__ = _CallableModule
