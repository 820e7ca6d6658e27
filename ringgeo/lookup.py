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
"""

from __future__ import annotations

import functools
import html
import math
import re
import sys
import types
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .exceptions import ParameterError, QueryError

__all__ = [
    "AGENCY_COLUMNS",
    "NEAREST_COLUMNS",
    "ROLES",
    "Lookup",
    "QueryError",
    "add_cli",
    "lookup",
    "plot_map",
    "plot_timeline",
    "timeline_position",
]


#: Roles of the agencies that serve a place, in the order the answer lists them.
ROLES = ("named agency", "municipal police", "regional police", "county police",
         "county sheriff", "nearby police", "state police", "partner in the county")
#: Columns of :attr:`Lookup.agencies`.
AGENCY_COLUMNS = ("role", "ori", "agency", "agency_type", "state", "partner", "status",
                  "activated", "partner_id", "distance_km", "distance_mi")
#: Columns of :attr:`Lookup.nearest`.
NEAREST_COLUMNS = ("rank", "ori", "agency", "agency_type", "state", "partner_id",
                   "activated", "distance_km", "distance_mi")
#: Local departments listed as "nearby police" when the place is not a municipality.
NEARBY = 3
#: A point this close (km) to a generalized state boundary counts as inside it.
BORDER_KM = 10.0
KM_PER_MILE = 1.609344
_EARTH_KM = 6371.0088
_ZIP = re.compile(r"^\s*(\d{5})(?:-\d{4})?\s*$")
_DIGITS = re.compile(r"^\s*[\d-]+\s*$")
_POINT = re.compile(r"^\s*\(?\s*(-?\d+(?:\.\d+)?)\s*[, ]\s*(-?\d+(?:\.\d+)?)\s*\)?\s*$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_ORI = re.compile(r"^\s*([A-Za-z]{2}[0-9A-Za-z]{7})\s*$")
_AGENCY_WORDS = re.compile(r"\b(police|sheriff'?s?|department|dept|marshal'?s?|public safety|"
                           r"constable|patrol|bureau)\b", re.IGNORECASE)
_COUNTY_KINDS = ("county", "parish", "borough", "census area", "city and borough",
                 "municipality")
_NOT_PATROL = re.compile(r"\b(?:bureau|investigation|narcotics)\b", re.IGNORECASE)
_STATE_POLICE = re.compile(r"\b(?:state police|highway patrol|state patrol)\b", re.IGNORECASE)


# ---------------------------------------------------------------------- result
@dataclass(frozen=True)
class Lookup:
    """The answer of :func:`lookup` (displays as a short table in a notebook).

    Attributes
    ----------
    query : str
        The query as given.
    kind : str
        How it was read: ``zip``, ``place``, ``county``, ``agency`` or ``point``.
    matched : str
        What the query matched and how, in one sentence.
    state : str
        USPS code.
    place : str or None
        The Census municipality (name), when the query resolves to one.
    place_geoid : str or None
    counties : tuple of str
        County GEOIDs of the answer, the main one first.
    county_names : tuple of str
    latitude, longitude : float
        The point distances are measured from (see ``point_source``).
    point_source : str
    as_of : str or None
        Partnership date (None: the 2020-10-07 snapshot).
    agencies : pandas.DataFrame
        Columns :data:`AGENCY_COLUMNS`: the agencies that serve the place.
    nearest : pandas.DataFrame
        Columns :data:`NEAREST_COLUMNS`: the ``k`` nearest partner agencies.
    notes : tuple of str
        Plain statements (no local police; the ZIP's town is not a
        municipality; ...).
    sources : tuple of str
        Registry names of the files the answer shows.
    """

    query: str
    kind: str
    matched: str
    state: str
    place: str | None
    place_geoid: str | None
    counties: tuple
    county_names: tuple
    latitude: float
    longitude: float
    point_source: str
    as_of: str | None
    agencies: pd.DataFrame = field(repr=False)
    nearest: pd.DataFrame = field(repr=False)
    notes: tuple = ()
    sources: tuple = ()

    @property
    def credit(self) -> str:
        """The credit line of every source the answer shows."""
        from . import data

        return data.credit(*self.sources)

    @property
    def partner(self) -> bool:
        """Whether an agency serving the place (not merely near it) is a partner on ``as_of``."""
        serving = self.agencies["role"].isin(
            ("named agency", "municipal police", "regional police", "county police",
             "county sheriff"))
        return bool(self.agencies.loc[serving, "partner"].any())

    def to_frame(self) -> pd.DataFrame:
        """One table: the serving agencies, then the nearest partners.

        Columns ``section`` (``serves`` / ``nearest partner``), then
        :data:`AGENCY_COLUMNS` (``rank`` of the nearest partners goes in
        ``role`` as ``"nearest 1"``...). ``attrs`` hold the query, what it
        matched, ``as_of``, the notes and the credit line.
        """
        serves = self.agencies.copy()
        serves.insert(0, "section", "serves")
        near = self.nearest.copy()
        near.insert(0, "section", "nearest partner")
        near["role"] = [f"nearest {r}" for r in near["rank"]]
        near["partner"] = True
        near["status"] = [_status(True, a, self.as_of) for a in near["activated"]]
        near = near.drop(columns="rank")
        frames = [f for f in (serves, near[["section", *AGENCY_COLUMNS]]) if len(f)]
        out = (pd.concat(frames, ignore_index=True) if frames
               else pd.DataFrame(columns=["section", *AGENCY_COLUMNS]))
        out.attrs = {"query": self.query, "kind": self.kind, "matched": self.matched,
                     "as_of": self.as_of, "notes": list(self.notes), "credit": self.credit}
        return out

    def to_dict(self) -> dict:
        """Plain JSON-ready data: the fields, the tables as lists of records."""
        def records(frame):
            out = frame.astype(object).where(frame.notna(), None)
            for col in ("activated",):
                if col in out:
                    out[col] = [None if v is None else pd.Timestamp(v).strftime("%Y-%m-%d")
                                for v in out[col]]
            return out.to_dict("records")

        return {"query": self.query, "kind": self.kind, "matched": self.matched,
                "state": self.state, "place": self.place, "place_geoid": self.place_geoid,
                "counties": list(self.counties), "county_names": list(self.county_names),
                "latitude": self.latitude, "longitude": self.longitude,
                "point_source": self.point_source, "as_of": self.as_of,
                "partner": self.partner, "agencies": records(self.agencies),
                "nearest": records(self.nearest), "notes": list(self.notes),
                "credit": self.credit}

    def _date(self) -> str:
        from ._figure import EXPORT_DATE

        return self.as_of or f"{EXPORT_DATE} (the snapshot)"

    def __repr__(self) -> str:
        lines = [self.matched, f"Ring partnerships as of {self._date()}.", "",
                 "Agencies serving it:"]
        if len(self.agencies):
            for rec in self.agencies.itertuples():
                dist = "" if pd.isna(rec.distance_km) else f", {rec.distance_km:.1f} km"
                lines.append(f"  {rec.role:<17} {rec.agency} ({rec.ori}{dist}): {rec.status}")
        else:
            lines.append("  none found in the FBI agency list")
        lines += ["", (f"{len(self.nearest)} nearest Ring partner agencies "
                       f"(geodesic distance from {self.point_source}):")]
        for rec in self.nearest.itertuples():
            since = ("" if pd.isna(rec.activated)
                     else f", since {pd.Timestamp(rec.activated):%Y-%m-%d}")
            lines.append(f"  {rec.rank}. {rec.agency}, {rec.state} ({rec.ori}): "
                         f"{rec.distance_km:.1f} km / {rec.distance_mi:.1f} mi{since}")
        if self.notes:
            lines += ["", "Notes:"] + [f"  - {n}" for n in self.notes]
        lines += ["", f"Sources: {self.credit}."]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        def table(frame, columns):
            shown = frame[list(columns)].copy()
            if "activated" in shown:
                shown["activated"] = [("" if pd.isna(v) else f"{pd.Timestamp(v):%Y-%m-%d}")
                                      for v in shown["activated"]]
            return shown.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.1f}")

        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (f"<p><b>{html.escape(self.matched)}</b><br>Ring partnerships as of "
                f"{html.escape(self._date())}.</p>"
                f"<p>Agencies serving it:</p>"
                + table(self.agencies, ("role", "agency", "ori", "status", "partner_id",
                                        "distance_km"))
                + f"<p>Nearest Ring partner agencies (from {html.escape(self.point_source)}):</p>"
                + table(self.nearest, ("rank", "agency", "state", "ori", "activated",
                                       "distance_km", "distance_mi"))
                + (f"<ul>{notes}</ul>" if notes else "")
                + f"<p><small>Sources: {html.escape(self.credit)}.</small></p>")

    def plot(self, **kwargs):
        """Map of the place's counties and their agencies: see :func:`plot_map`."""
        return plot_map(self, **kwargs)


def _status(partner: bool, activated, as_of) -> str:
    day = None if pd.isna(activated) else f"{pd.Timestamp(activated):%Y-%m-%d}"
    if partner:
        return f"Ring partner since {day}" if day else "Ring partner (activation date unknown)"
    return "not a Ring partner"


# ---------------------------------------------------------------------- data context
@dataclass
class _Context:
    agencies: pd.DataFrame  # with partner (on as_of), partner_id, activated (snapshot)
    partner_rows: np.ndarray  # positions of partner agencies with a point
    lat: np.ndarray
    lon: np.ndarray
    unplaced: int  # partners on as_of without an agency point
    by_county: dict  # county GEOID -> row positions of the agencies that lie in it

    def in_counties(self, counties) -> np.ndarray:
        """Boolean mask of the agencies lying in any of ``counties``."""
        mask = np.zeros(len(self.agencies), dtype=bool)
        for county in counties:
            mask[self.by_county.get(county, [])] = True
        return mask


@functools.lru_cache(maxsize=2)
def _bare_agencies(paths: tuple) -> pd.DataFrame:
    from . import load_agencies

    agencies = load_agencies()
    agencies.attrs = {}  # pandas deep-copies attrs on every access: the report is big
    return agencies


@functools.lru_cache(maxsize=8)
def _marked(as_of: str | None, paths: tuple) -> pd.DataFrame:
    """``partner``, ``partner_id``, ``activated`` of every agency on ``as_of``."""
    from . import load_partners
    from .agencies import with_partners

    with warnings.catch_warnings():  # the undated partners: said in the answer's status
        warnings.simplefilter("ignore", UserWarning)
        partners = load_partners(as_of=as_of)
    partners.attrs = {"as_of": partners.attrs.get("as_of")}
    marked = with_partners(partners, _bare_agencies(paths))
    return pd.DataFrame({c: marked[c].to_numpy() for c in ("partner", "partner_id",
                                                           "activated")})


@functools.lru_cache(maxsize=8)
def _context(as_of: str | None, paths: tuple) -> _Context:
    snapshot, now = _marked(None, paths), _marked(as_of, paths)
    frame = pd.DataFrame(_bare_agencies(paths).drop(columns="geometry"))
    frame = frame.reset_index(drop=True)
    frame.attrs = {}
    frame["partner"] = now["partner"].to_numpy()
    frame["partner_snapshot"] = snapshot["partner"].to_numpy()
    frame["partner_id"] = snapshot["partner_id"].to_numpy()
    frame["activated"] = snapshot["activated"].to_numpy()
    placed = frame["partner"] & frame["latitude"].notna() & frame["longitude"].notna()
    rows = np.flatnonzero(placed.to_numpy())
    by_county: dict = {}
    for position, counties in enumerate(frame["county_fips"]):
        for county in counties:
            by_county.setdefault(county, []).append(position)
    return _Context(frame, rows, np.radians(frame["latitude"].to_numpy()[rows]),
                    np.radians(frame["longitude"].to_numpy()[rows]),
                    int((frame["partner"] & ~placed).sum()), by_county)


def _paths() -> tuple:
    from . import data
    from .geography import source_paths

    return (str(data.fetch("fbi-agencies-2018.csv")),
            str(data.fetch("atlas-of-surveillance-20201007.csv"))) + source_paths()


@functools.lru_cache(maxsize=2)
def _by_muni(paths: tuple) -> dict:
    from .geography import load_municipalities

    munis = load_municipalities()
    return dict(zip(munis["GEOID"], munis["coextensive_geoid"]))


@functools.lru_cache(maxsize=2)
def _zip_index(paths: tuple) -> tuple:
    from ._names import fold
    from .postal import load_postal_codes

    zips = load_postal_codes()
    zips.attrs = {}  # pandas deep-copies attrs on every access
    # one row per ZIP code: a code GeoNames also lists as FPO keeps its town
    zips = zips.sort_values(["zip", "state"], na_position="last", kind="stable")
    by_zip = zips.drop_duplicates("zip").set_index("zip")
    towns = {}
    for code, place, state in zip(zips["zip"], zips["place"], zips["state"]):
        if not pd.isna(place) and not pd.isna(state):
            towns.setdefault((str(state), fold(place)), []).append(code)
    return by_zip, towns, zips


@functools.lru_cache(maxsize=2)
def _primary_index(paths: tuple) -> dict:
    """Municipality GEOID -> ``[(primary kind, agency, ORI, residents)]``, largest first.

    From :func:`ringgeo.coverage.primary_police` (who polices each piece of a
    county first, ``docs/methodology.md#primary-police``), grouped by the
    place or minor civil division the pieces lie in.
    """
    from .coverage import primary_police

    table = primary_police()
    out: dict = {}
    for column in ("place", "mcd"):
        rows = table.loc[table[column] != ""]
        grouped = rows.groupby([column, "primary", "primary_agency", "primary_ori"],
                               dropna=False)["population"].sum()
        for (geoid, kind, agency, ori), people in grouped.items():
            out.setdefault(geoid, []).append(
                (kind, None if pd.isna(agency) else agency, None if pd.isna(ori) else ori,
                 int(people)))
    return {g: sorted(v, key=lambda r: (-r[3], r[0])) for g, v in out.items()}


def _primary_note(munis: list, paths: tuple) -> list:
    """One plain sentence per municipality: who polices its residents first."""
    index = _primary_index(paths)
    notes = []
    for m in munis:
        parts = index.get(m.geoid)
        if not parts:
            continue
        parts = [r for r in parts if r[3] > 0] or parts[:1]  # pieces without residents
        said = "; ".join(
            (f"{agency} ({kind})" if agency else f"the {kind}" if kind == "state police"
             else f"its {kind} department, not in the FBI list")
            + f" for {people:,} residents" for kind, agency, _, people in parts)
        notes.append(f"Primary police of {m.name} (the agency that polices its residents "
                     f"first, docs/methodology.md#primary-police): {said}.")
    return notes


@functools.lru_cache(maxsize=2)
def _boundaries(paths: tuple) -> tuple:
    from .geography import load_counties, load_states

    states, counties = load_states(), load_counties()
    states.attrs, counties.attrs = {}, {}
    return states, counties


# ---------------------------------------------------------------------- geometry helpers
def _haversine(lat, lon, lats, lons) -> np.ndarray:
    """Great-circle km from one point (radians) to many (radians): the prefilter."""
    a = (np.sin((lats - lat) / 2) ** 2
         + np.cos(lat) * np.cos(lats) * np.sin((lons - lon) / 2) ** 2)
    return 2 * _EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _geodesic_km(lat: float, lon: float, lats, lons) -> np.ndarray:
    """Geodesic km on the WGS84 ellipsoid (pyproj.Geod) from one point to many."""
    from pyproj import Geod

    lats = np.asarray(lats, dtype=float)
    lons = np.asarray(lons, dtype=float)
    out = np.full(len(lats), np.nan)
    ok = ~(np.isnan(lats) | np.isnan(lons))
    if ok.any():
        _, _, metres = Geod(ellps="WGS84").inv(np.full(ok.sum(), lon), np.full(ok.sum(), lat),
                                               lons[ok], lats[ok])
        out[ok] = np.asarray(metres) / 1000.0
    return out


def _nearest_partners(ctx: _Context, lat: float, lon: float, k: int) -> pd.DataFrame:
    if k == 0 or not len(ctx.partner_rows):
        return pd.DataFrame(columns=list(NEAREST_COLUMNS))
    rough = _haversine(math.radians(lat), math.radians(lon), ctx.lat, ctx.lon)
    # the spherical distance is within 0.6 % of the ellipsoidal one: keep a margin
    take = np.argsort(rough, kind="stable")[: max(4 * k, k + 20)]
    rows = ctx.partner_rows[take]
    picked = ctx.agencies.iloc[rows]
    km = _geodesic_km(lat, lon, picked["latitude"], picked["longitude"])
    order = np.lexsort((picked["ori"].to_numpy(), km))[:k]
    out = picked.iloc[order][["ori", "agency", "agency_type", "state", "partner_id",
                              "activated"]].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["distance_km"] = np.round(km[order], 2)
    out["distance_mi"] = np.round(km[order] / KM_PER_MILE, 2)
    return out[list(NEAREST_COLUMNS)]


# ---------------------------------------------------------------------- the answer's rows
def _rows(ctx: _Context, positions, role: str, lat: float, lon: float, as_of) -> pd.DataFrame:
    sub = ctx.agencies.iloc[list(positions)]
    km = _geodesic_km(lat, lon, sub["latitude"], sub["longitude"])
    out = pd.DataFrame({
        "role": role, "ori": sub["ori"].to_numpy(), "agency": sub["agency"].to_numpy(),
        "agency_type": sub["agency_type"].to_numpy(), "state": sub["state"].to_numpy(),
        "partner": sub["partner"].to_numpy(dtype=bool)})
    out["status"] = [_status(p, a, as_of) if p else _not_yet(s, a, as_of)
                     for p, s, a in zip(sub["partner"], sub["partner_snapshot"],
                                        sub["activated"])]
    out["activated"] = sub["activated"].to_numpy()
    out["partner_id"] = sub["partner_id"].to_numpy()
    out["distance_km"] = np.round(km, 2)
    out["distance_mi"] = np.round(km / KM_PER_MILE, 2)
    return out


def _not_yet(in_snapshot: bool, activated, as_of) -> str:
    if not in_snapshot:
        return "not a Ring partner"
    if pd.isna(activated):
        return (f"not counted on {as_of}: a Ring partner by 2020-10-07, activation date "
                f"unknown")
    return f"not yet a Ring partner on {as_of} (activated {pd.Timestamp(activated):%Y-%m-%d})"


def _serving(ctx: _Context, state: str, munis: list, counties: tuple, lat: float, lon: float,
             as_of, *, nearby: bool, named: str | None = None) -> tuple[pd.DataFrame, list]:
    """The agencies serving a place: positions by role, then the frame and notes."""
    from ._names import fold, split_muni

    a = ctx.agencies
    in_state = (a["state"] == state).to_numpy()
    in_county = in_state & ctx.in_counties(counties)
    picked: dict[str, list] = {role: [] for role in ROLES}
    taken: set = set()

    def add(role, positions):
        for p in positions:
            if p not in taken:
                taken.add(p)
                picked[role].append(int(p))

    police = (a["agency_type"] == "police").to_numpy()
    municipal = police & (a["jurisdiction_type"] == "municipal").to_numpy()
    regional = police & (a["jurisdiction_type"] == "regional").to_numpy()
    muni_ids = {m.geoid for m in munis}
    local = municipal & a["muni_geoid"].isin(muni_ids).to_numpy()
    add("municipal police", np.flatnonzero(local))
    # a regional department names the municipalities it serves, or it serves the county
    bases = {split_muni(m.name)[0] for m in munis}
    regional_here = regional & in_county
    named_regional = [p for p in np.flatnonzero(regional_here)
                      if a["muni_geoid"].iat[p] in muni_ids
                      or any(b and b in fold(a["agency"].iat[p]) for b in bases)]
    add("regional police", named_regional)
    if not local.any() and not named_regional and munis:
        add("regional police", np.flatnonzero(regional_here))
    primary = counties[:1]
    for role, kind in (("county police", "county_police"), ("county sheriff", "sheriff")):
        mask = in_county & (a["agency_type"] == kind).to_numpy()
        # the main county's first, then the others'
        order = sorted(np.flatnonzero(mask), key=lambda p: (
            not set(primary) & set(a["county_fips"].iat[p]), a["ori"].iat[p]))
        add(role, order)
    if named is not None:  # an agency asked for by name that serves none of these roles
        add("named agency", np.flatnonzero((a["ori"] == named).to_numpy()))
    notes = []
    if not picked["county police"] and not picked["county sheriff"] and counties:
        from ._linkgeo import default_index

        geo = default_index()
        notes.append("The FBI agency list (2018) has no sheriff or county police for "
                     + ", ".join(_county_label(geo, c) for c in counties) + ".")
    has_local = bool(picked["municipal police"] or picked["regional police"])
    if nearby and not has_local:
        cand = np.flatnonzero(in_county & police & (municipal | regional))
        if len(cand):
            km = _geodesic_km(lat, lon, a["latitude"].to_numpy()[cand],
                              a["longitude"].to_numpy()[cand])
            keep = ~np.isnan(km)
            order = np.lexsort((a["ori"].to_numpy()[cand][keep], km[keep]))[:NEARBY]
            add("nearby police", cand[keep][order])
    if munis and not has_local and not picked["county police"]:
        # where no county police patrols, the state police may (townships of PA and NJ)
        state_police = np.flatnonzero(in_county & (a["agency_type"] == "state").to_numpy()
                                      & a["agency"].str.contains(_STATE_POLICE).to_numpy()
                                      & ~a["agency"].str.contains(_NOT_PATROL).to_numpy())
        add("state police", state_police)
    if munis and not has_local:
        county_level = picked["county police"] or picked["county sheriff"]
        names = ", ".join(m.name for m in munis)
        notes.append(
            f"{names} has no police department of its own in the FBI agency list (2018): it "
            f"is served by the " + ("county police or sheriff" if county_level
                                    else "state police or a neighbouring department")
            + " (or by a department not in that list, e.g. founded or contracted later).")
    frames = [_rows(ctx, picked[role], role, lat, lon, as_of) for role in ROLES if picked[role]]
    frame = (pd.concat(frames, ignore_index=True) if frames
             else pd.DataFrame(columns=list(AGENCY_COLUMNS)))
    return frame[list(AGENCY_COLUMNS)], notes


# ---------------------------------------------------------------------- resolution
@dataclass
class _Place:
    kind: str
    matched: str
    state: str
    munis: list
    counties: tuple
    lat: float | None = None
    lon: float | None = None
    point_source: str = ""
    notes: list = field(default_factory=list)
    named: str | None = None
    sources: tuple = ()
    nearby: bool = False


def _county_label(geo, geoid: str) -> str:
    county = geo.counties.get(geoid)
    return f"{county.full_name} ({geoid})" if county else geoid


def _dedupe(munis: list, paths: tuple) -> list:
    """Drop a minor civil division that is the same government as a listed place."""
    coext = _by_muni(paths)
    ids = {m.geoid for m in munis}
    return [m for m in munis
            if not (m.kind == "mcd" and not pd.isna(coext.get(m.geoid))
                    and coext.get(m.geoid) in ids)]


def _policed(ctx: _Context) -> set:
    a = ctx.agencies
    return set(a.loc[a["agency_type"] == "police", "muni_geoid"].dropna())


def _choose(munis: list, ctx: _Context) -> list:
    """One government when the others of that name police nothing (Lemont village, not
    Lemont township); otherwise all of them (the caller decides whether that is ambiguous)."""
    if len(munis) <= 1:
        return munis
    policed = _policed(ctx)
    places = [m for m in munis if m.kind == "place"]
    others = [m for m in munis if m.kind != "place"]
    if len(places) == 1 and not any(m.geoid in policed for m in others):
        return places
    return munis


def _describe(m) -> str:
    return f"{m.name} ({m.geoid})"


def _ambiguous(query: str, what: str, candidates: list, hint: str) -> QueryError:
    shown = "; ".join(candidates[:25])
    more = f"; and {len(candidates) - 25} more" if len(candidates) > 25 else ""
    return QueryError(f"{query!r} is ambiguous: {len(candidates)} {what} match it: "
                       f"{shown}{more}. {hint}")


def _muni_counties(geo, m) -> str:
    return ", ".join(geo.counties[c].full_name for c in m.counties if c in geo.counties)


def _resolve_place(query: str, name: str, state: str | None, county_text: str | None,
                   ctx: _Context, paths: tuple) -> _Place:
    from ._linkgeo import default_index
    from ._names import fold, split_muni
    from .states import STATES

    geo = default_index()
    base, word = split_muni(name)
    states = [state] if state else list(STATES.loc[STATES["in_51"], "state"])
    found = []
    for st in states:
        cands = geo.muni_candidates(base, st)
        if word is not None:
            cands = [m for m in cands if m.word == word
                     or (word == "township" and m.word == "charter township")]
        if not cands and word is not None:  # "Carson City": the whole name is the name
            cands = geo.muni_candidates(fold(name), st)
        found += _dedupe(list(dict.fromkeys(cands)), paths)
    county = None
    if county_text is not None:
        hit = geo.match_county(county_text, state)
        if hit.geoid is None or hit.method == "fuzzy":
            raise QueryError(f"{query!r}: no county {county_text!r} in {state}; "
                              f"expected a county name such as 'Delaware County'.")
        county = hit.geoid
        found = [m for m in found if county in m.counties]
    found = _choose(found, ctx) if len({m.state for m in found}) == 1 else found
    if len(found) > 1:
        cands = [f"{m.name}, {m.state} ({_muni_counties(geo, m)})" for m in found]
        first = found[0]
        example = (f"'{first.name}, {geo.counties[first.counties[0]].full_name}, {first.state}'"
                   if first.counties and first.counties[0] in geo.counties
                   else f"'{first.name}, {first.state}'")
        raise _ambiguous(query, "municipalities", cands,
                         ("Add the state, " if state is None else "Add ")
                         + f"the kind and county (e.g. {example}) or ask by ZIP code.")
    if not found:
        return _place_from_post_office(query, name, state, county, ctx, paths)
    muni = found[0]
    counties = tuple(c for c in muni.counties if c in geo.counties)
    if county is not None:
        counties = (county,) + tuple(c for c in counties if c != county)
    place = _Place("place", f"{query!r}: the Census municipality {muni.name}, {muni.state} "
                   f"({muni.geoid}), in {', '.join(_county_label(geo, c) for c in counties)}.",
                   muni.state, [muni], counties)
    return place


def _place_from_post_office(query, name, state, county, ctx, paths) -> _Place:
    """A name that is no Census municipality but a post-office town: its ZIP codes."""
    from ._linkgeo import default_index
    from ._names import fold

    geo = default_index()
    by_zip, towns, _ = _zip_index(paths)
    hits = []
    for (st, town), codes in towns.items():
        if town == fold(name) and (state is None or st == state):
            hits += [(st, c) for c in codes]
    if county is not None:
        hits = [(st, c) for st, c in hits if by_zip.at[c, "county_fips"] == county]
    where = f" in {state}" if state else ""
    if not hits:
        raise QueryError(f"{query!r}: no Census municipality or post-office town named "
                          f"{name!r}{where}. Expected a ZIP code, 'City, ST', 'X County, ST', "
                          f"an agency name or a (lat, lon) point; check the spelling.")
    states = sorted({st for st, _ in hits})
    codes = [c for _, c in hits]
    counties = list(dict.fromkeys(by_zip.loc[codes, "county_fips"].dropna()))
    if len(states) > 1 or len(counties) > 1:
        cands = [f"ZIP {c} {by_zip.at[c, 'place']}, {st} "
                 f"({_county_label(geo, by_zip.at[c, 'county_fips'])})" for st, c in hits]
        raise _ambiguous(query, "post-office ZIP codes in several counties or states", cands,
                         "Ask by one of these ZIP codes.")
    rows = by_zip.loc[codes]
    place = _Place("place", f"{query!r}: not a Census municipality; the post-office town of "
                   f"ZIP code{'s' if len(codes) > 1 else ''} {', '.join(codes)} "
                   f"(GeoNames), in {_county_label(geo, counties[0])}.",
                   states[0], [], tuple(counties),
                   float(rows["latitude"].mean()), float(rows["longitude"].mean()),
                   f"the mean point of ZIP code(s) {', '.join(codes)}",
                   sources=("geonames-us-postal-codes-20200708.zip",), nearby=True)
    place.notes.append(f"{name} is a post-office town (a mailing address), not a Census "
                       f"municipality: the police that serve an address there are those of the "
                       f"municipality or county it lies in; the nearest local departments of "
                       f"the county are listed as 'nearby police'.")
    return place


def _resolve_zip(query: str, code: str, ctx: _Context, paths: tuple) -> _Place:
    from ._linkgeo import default_index
    from ._names import split_muni
    from .states import STATES

    geo = default_index()
    by_zip, _, _ = _zip_index(paths)
    if code not in by_zip.index:
        raise QueryError(f"ZIP code {code} is not in GeoNames' U.S. postal code file of "
                          f"2020-07-08 (41,468 codes; Puerto Rico and most territories are not "
                          f"in it): check the number, or ask by 'City, ST' or a (lat, lon) "
                          f"point.")
    row = by_zip.loc[code]
    if pd.isna(row["state"]):
        raise QueryError(f"ZIP code {code} is a military code ({row['place']}): it has no "
                          f"town, county or police jurisdiction in the United States.")
    state = str(row["state"])
    if state not in set(STATES.loc[STATES["in_51"], "state"]):
        where = next((str(v) for v in (row["state_name"], row["county"]) if not pd.isna(v)),
                     state)
        raise QueryError(f"ZIP code {code} is in {where} "
                          f"({state}), outside the 50 states and DC that ringgeo's agency "
                          f"and Census tables cover.")
    lat, lon = float(row["latitude"]), float(row["longitude"])
    notes = []
    county = row["county_fips"]
    if pd.isna(county) or county not in geo.counties:
        found = _county_at(lat, lon, paths)
        notes.append(f"GeoNames gives county code {county} ({row['county']}), not a 2019 "
                     f"Census county (a retired code); the county containing the ZIP "
                     f"code's point is used.")
        county = found
    town = str(row["place"])
    base, _ = split_muni(town)
    cands = _dedupe(list(dict.fromkeys(geo.muni_candidates(base, state))), paths)
    here = _choose([m for m in cands if county in m.counties], ctx)
    matched = (f"ZIP code {code}: post office {town}, {state}, in "
               f"{_county_label(geo, county)} (GeoNames).")
    if here:
        matched += (" The post-office town is the Census municipality "
                    + " / ".join(_describe(m) for m in here) + ".")
        for m in here:
            if m.counties and m.counties[0] != county:
                notes.append(f"ZIP code {code} lies in {geo.counties[county].full_name}, not in "
                             f"the main county of {m.name} ({_county_label(geo, m.counties[0])}"
                             f"): the sheriff of {geo.counties[county].full_name} is listed "
                             f"first.")
        if len(here) > 1:
            notes.append("The post-office town's name is that of several municipalities of "
                         "the county: all are listed; the ZIP code may cover any of them.")
    else:
        elsewhere = [m for m in cands if county not in m.counties]
        notes.append(f"The post-office town {town} is not a Census municipality of "
                     f"{geo.counties[county].full_name} (a mailing town, hamlet or "
                     f"unincorporated community"
                     + (f"; {', '.join(m.name for m in elsewhere[:3])} of that name lie in "
                        f"other counties" if elsewhere else "")
                     + "): the police serving an address depend on the municipality it lies "
                     "in. The nearest local departments of the county are listed as 'nearby "
                     "police'.")
    notes.append("A ZIP code is a postal route, not a jurisdiction: an address in it may be "
                 "served by another department (docs/lookup.md).")
    return _Place("zip", matched, state, here, (county,), lat, lon,
                  f"the ZIP code's GeoNames point ({lat:.4f}, {lon:.4f})", notes,
                  sources=("geonames-us-postal-codes-20200708.zip",), nearby=not here)


def _county_at(lat: float, lon: float, paths: tuple) -> str | None:
    from shapely.geometry import Point

    _, counties = _boundaries(paths)
    pt = Point(lon, lat)
    hit = counties.sindex.query(pt, predicate="intersects")
    if len(hit):
        return str(counties["GEOID"].iat[int(hit[0])])
    nearest = counties.sindex.nearest(pt, return_all=False)
    return str(counties["GEOID"].iat[int(nearest[1][0])])


def _resolve_point(query, lat: float, lon: float, paths: tuple) -> _Place:
    from shapely.geometry import Point
    from shapely.ops import nearest_points

    from ._linkgeo import default_index
    from .states import STATES

    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise QueryError(f"point {query!r}: latitude must lie in [-90, 90] and longitude in "
                          f"[-180, 180]; give (lat, lon), latitude first, e.g. "
                          f"(39.9579, -75.2681).")
    states, _ = _boundaries(paths)
    pt = Point(lon, lat)
    notes = []
    hit = states.sindex.query(pt, predicate="intersects")
    if len(hit):
        state = str(states["state"].iat[int(hit[0])])
    else:
        near = int(states.sindex.nearest(pt, return_all=False)[1][0])
        edge = nearest_points(states.geometry.iat[near], pt)[0]
        km = float(_geodesic_km(lat, lon, [edge.y], [edge.x])[0])
        if km > BORDER_KM:
            raise QueryError(
                f"point ({lat}, {lon}) lies outside the United States (50 states, DC and "
                f"Puerto Rico; {km:.0f} km from {states['name'].iat[near]}'s Census boundary). "
                f"Give (lat, lon), latitude first, of a place in the United States.")
        state = str(states["state"].iat[near])
        notes.append(f"The point lies {km:.1f} km outside the generalized Census boundary of "
                     f"{states['name'].iat[near]} (1:20,000,000; coasts and borders are "
                     f"simplified) and is taken as inside it.")
    if state not in set(STATES.loc[STATES["in_51"], "state"]):
        raise QueryError(f"point ({lat}, {lon}) is in {state}, outside the 50 states and DC "
                          f"that ringgeo's agency and Census tables cover.")
    county = _county_at(lat, lon, paths)
    geo = default_index()
    notes.append("ringgeo has no municipal boundaries offline: the point's county is known, "
                 "its municipality is not; the nearest local departments of the county are "
                 "listed as 'nearby police'.")
    return _Place("point", f"point ({lat}, {lon}): in {_county_label(geo, county)}, {state}.",
                  state, [], (county,), lat, lon, f"the point ({lat}, {lon})", notes,
                  sources=("cb_2019_us_state_20m.zip", "cb_2019_us_county_20m.zip"),
                  nearby=True)


def _resolve_county(query, geoid: str, ctx: _Context, paths: tuple) -> _Place:
    from ._linkgeo import default_index

    geo = default_index()
    _, counties = _boundaries(paths)
    shape = counties.loc[counties["GEOID"] == geoid].geometry.iat[0]
    inner = shape.representative_point()
    return _Place("county", f"{query!r}: {_county_label(geo, geoid)}, "
                  f"{geo.counties[geoid].state}.", geo.counties[geoid].state, [], (geoid,),
                  float(inner.y), float(inner.x), "a point inside the county",
                  sources=("cb_2019_us_county_20m.zip",))


def _resolve_agency(query, text: str, state: str | None, ctx: _Context) -> _Place:
    from ._agencymatch import agency_key
    from ._agencymatch import default_index as agency_index
    from ._linkgeo import default_index
    from ._names import clean

    index = agency_index()
    geo = default_index()
    ori = _ORI.match(text)
    found = []
    if ori and ori.group(1).upper() in index.agencies:
        found = [index.agencies[ori.group(1).upper()]]
    states = [state] if state else sorted(index.by_state)
    if not found:  # the name as written, or the same role and place (agency_key)
        key = agency_key(text)
        for st in states:
            found += index.exact.get((st, clean(text).casefold()), [])
            found += [a for a in index.keyed.get((st, key[1]), [])
                      if a.key[0] == key[0] and (key[2] is None or a.key[2] in (None, key[2]))]
        found = list({a.ori: a for a in found}.values())
        same_kind = [a for a in found if a.key[2] == key[2]]
        if key[2] is not None and same_kind:  # "Springfield Township ...": townships only
            found = same_kind
    if not found:
        where = f" in {state}" if state else ""
        raise QueryError(f"{query!r}: no agency of that name{where} in the FBI agency list "
                          f"(2018). Give the name as the FBI lists it (e.g. 'Upper Darby "
                          f"Township Police Department'), its ORI, or ask by place: "
                          f"'City, ST'.")
    if len(found) > 1:
        raise _ambiguous(query, "FBI agencies", [f"{a.name}, {a.state} ({a.ori})"
                                                  for a in found],
                         "Add the state ('..., PA') or give the ORI.")
    agency = found[0]
    row = ctx.agencies.loc[ctx.agencies["ori"] == agency.ori].iloc[0]
    munis = ([geo.munis[agency.muni_geoid]]
             if agency.muni_geoid and agency.muni_geoid in geo.munis else [])
    counties = tuple(row["county_fips"])
    lat, lon = row["latitude"], row["longitude"]
    place = _Place("agency", f"{query!r}: the FBI agency {agency.name}, {agency.state} "
                   f"({agency.ori}, {row['agency_type']})"
                   + (f", serving {munis[0].name}" if munis else "")
                   + (f", in {', '.join(_county_label(geo, c) for c in counties)}" if counties
                      else "") + ".",
                   agency.state, munis, counties, named=agency.ori)
    if not (pd.isna(lat) or pd.isna(lon)):
        place.lat, place.lon = float(lat), float(lon)
        place.point_source = "the agency's FBI point"
    return place


def _parse(query, ctx: _Context, paths: tuple) -> _Place:
    from .states import validate_state

    if isinstance(query, (tuple, list)) and len(query) == 2:
        try:
            lat, lon = float(query[0]), float(query[1])
        except (TypeError, ValueError):
            raise QueryError(f"point {query!r}: expected two numbers (lat, lon).") from None
        return _resolve_point(query, lat, lon, paths)
    if not isinstance(query, str) or not query.strip():
        raise QueryError(f"query {query!r}: expected a 5-digit ZIP code, 'City, ST', "
                          f"'X County, ST', an agency name or a (lat, lon) pair.")
    text = " ".join(query.split())
    zip_code = _ZIP.match(text)
    if zip_code:
        return _resolve_zip(query, zip_code.group(1), ctx, paths)
    if _DIGITS.match(text):
        raise QueryError(f"{query!r} is not a ZIP code: a ZIP code has 5 digits (leading "
                          f"zeros kept, e.g. '08054').")
    point = _POINT.match(text)
    if point:
        return _resolve_point(query, float(point.group(1)), float(point.group(2)), paths)
    if _ORI.match(text) and text.upper() in set(ctx.agencies["ori"]):
        return _resolve_agency(query, text, None, ctx)
    parts = [p.strip() for p in text.split(",") if p.strip()]
    state = None
    if len(parts) >= 2:
        try:
            state = validate_state(parts[-1])
            parts = parts[:-1]
        except ParameterError:
            state = None
    if _AGENCY_WORDS.search(text):
        return _resolve_agency(query, ", ".join(parts), state, ctx)
    if state is None:
        if len(parts) >= 2:
            raise QueryError(f"{query!r}: {parts[-1]!r} is not a state; expected "
                              f"'City, ST' with a USPS code or state name (e.g. "
                              f"'Upper Darby, PA').")
        return _resolve_place(query, parts[0], None, None, ctx, paths)
    if len(parts) == 1:
        county = _as_county(parts[0], state)
        if county is not None:
            return _resolve_county(query, county, ctx, paths)
        return _resolve_place(query, parts[0], state, None, ctx, paths)
    if len(parts) == 2:
        return _resolve_place(query, parts[0], state, parts[1], ctx, paths)
    raise QueryError(f"{query!r}: expected 'City, ST', 'City, X County, ST' or "
                      f"'X County, ST'.")


def _as_county(text: str, state: str) -> str | None:
    """The county ``text`` names when it says County, Parish, Borough... (else None)."""
    from ._linkgeo import default_index
    from ._names import split_county

    kind = split_county(text)[0][1]
    if kind not in _COUNTY_KINDS:  # "Baltimore city", "Carson City": the city, as a place
        return None
    hit = default_index().match_county(text, state)
    if hit.geoid and hit.method in ("exact", "normalized"):
        return hit.geoid
    if kind in ("county", "parish"):
        known = ", ".join(name for name, _, _ in hit.candidates)
        raise QueryError(f"{text!r}: no such county in {state}"
                          + (f" (closest names: {known})" if known else "")
                          + "; check the spelling.")
    return None


# ---------------------------------------------------------------------- public function
def lookup(query, *, as_of=None, k: int = 5) -> Lookup:
    """Which agencies serve a ZIP code, place, county, agency or point, and are they Ring partners?

    Parameters
    ----------
    query : str or (float, float)
        A 5-digit ZIP code (``"19082"``; ZIP+4 is read as its first five
        digits); ``"City, ST"`` or ``"City, State name"`` (``"Upper Darby,
        PA"``), optionally with the county (``"Springfield township, Delaware
        County, PA"``); ``"X County, ST"``; an agency name as the FBI lists
        it, with or without ``", ST"``, or its 9-character ORI; a ``(lat,
        lon)`` pair (or the text ``"39.9579, -75.2681"``) from the user's own
        geocoder. A name without a state is searched in every state.
    as_of : str or date, optional
        Partnerships activated by this date (``YYYY-MM-DD``, 2018-01-01 to
        2020-10-07); None: the 2020-10-07 snapshot. Undated partnerships are
        not counted on an ``as_of`` date (their status says so).
    k : int, default 5
        How many nearest partner agencies to list (0 to 50).

    Returns
    -------
    Lookup
        What the query matched and how, the agencies serving it with their
        partnership on ``as_of`` (``.agencies``), the ``k`` nearest partner
        agencies with geodesic distances in km and miles (``.nearest``),
        plain notes and the credit line. ``.to_frame()`` gives one table.

    Raises
    ------
    QueryError
        (a :class:`ringgeo.exceptions.ParameterError`) The query is malformed,
        matches nothing (an unknown ZIP code, a point outside the United
        States), or matches several places or agencies: the message lists
        the candidates and says how to choose.
    ParameterError
        ``as_of`` or ``k`` is invalid.

    Examples
    --------
    >>> answer = lookup("19082")
    >>> answer.place
    'Upper Darby township'
    >>> answer.agencies.loc[0, ["role", "ori", "status"]].tolist()
    ['municipal police', 'PA0233700', 'Ring partner since 2019-06-28']
    >>> lookup("Upper Darby, PA", as_of="2019-05-01").partner
    False
    >>> lookup("Springfield")
    Traceback (most recent call last):
    ...
    ringgeo.exceptions.QueryError: 'Springfield' is ambiguous: ...
    """
    from . import params

    as_of = params.validate_as_of(as_of)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= 50:
        raise ParameterError(f"`k` was {k!r} but is expected to be a whole number from 0 "
                             f"to 50 (how many nearest partner agencies to list).")
    paths = _paths()
    ctx = _context(as_of, paths)
    place = _parse(query, ctx, paths)
    if place.lat is None:
        place.lat, place.lon, place.point_source = _place_point(place, ctx, paths)
    agencies, notes = _serving(ctx, place.state, place.munis, place.counties, place.lat,
                               place.lon, as_of, nearby=place.nearby, named=place.named)
    if place.kind == "county":
        agencies = _county_partners(ctx, agencies, place, as_of)
    notes = _primary_note(place.munis, paths) + notes
    nearest = _nearest_partners(ctx, place.lat, place.lon, int(k))
    if ctx.unplaced:
        notes.append(f"{ctx.unplaced} partner agencies have no FBI point and cannot be "
                     f"ranked by distance.")
    from ._linkgeo import default_index

    geo = default_index()
    muni = place.munis[0] if len(place.munis) == 1 else None
    sources = tuple(dict.fromkeys(place.sources + (
        "atlas-of-surveillance-20201007.csv", "fbi-agencies-2018.csv",
        "cb_2019_us_county_20m.zip", "sub-est2021_all.zip")))
    return Lookup(
        query=query if isinstance(query, str) else str(tuple(query)), kind=place.kind,
        matched=place.matched, state=place.state,
        place=muni.name if muni else None, place_geoid=muni.geoid if muni else None,
        counties=tuple(place.counties),
        county_names=tuple(geo.counties[c].full_name for c in place.counties
                           if c in geo.counties),
        latitude=round(float(place.lat), 6), longitude=round(float(place.lon), 6),
        point_source=place.point_source, as_of=as_of, agencies=agencies, nearest=nearest,
        notes=tuple(place.notes + notes), sources=sources)


def _place_point(place: _Place, ctx: _Context, paths: tuple) -> tuple:
    """A point for a place without one: its department's, its ZIP codes', its county's."""
    from ._names import split_muni

    a = ctx.agencies
    ids = {m.geoid for m in place.munis}
    dept = a.loc[a["muni_geoid"].isin(ids) & (a["agency_type"] == "police")
                 & a["latitude"].notna()]
    if len(dept):
        return (float(dept["latitude"].iat[0]), float(dept["longitude"].iat[0]),
                f"the FBI point of {dept['agency'].iat[0]}")
    by_zip, towns, _ = _zip_index(paths)
    for m in place.munis:
        codes = [c for c in towns.get((m.state, split_muni(m.name)[0]), [])
                 if by_zip.at[c, "county_fips"] in m.counties]
        if codes:
            rows = by_zip.loc[codes]
            place.sources += ("geonames-us-postal-codes-20200708.zip",)
            return (float(rows["latitude"].mean()), float(rows["longitude"].mean()),
                    f"the mean point of its post-office ZIP code(s) {', '.join(codes)}")
    _, counties = _boundaries(paths)
    inner = counties.loc[counties["GEOID"] == place.counties[0]].geometry.iat[0]
    inner = inner.representative_point()
    return float(inner.y), float(inner.x), "a point inside its county (no point of its own)"


def _county_partners(ctx, agencies, place, as_of) -> pd.DataFrame:
    a = ctx.agencies
    geoid = place.counties[0]
    here = pd.Series(ctx.in_counties([geoid]), index=a.index)
    inside = here & a["partner"]
    rows = [p for p in np.flatnonzero(inside.to_numpy()) if a["ori"].iat[p]
            not in set(agencies["ori"])]
    total = int((here
                 & a["agency_type"].isin(("police", "sheriff", "county_police"))).sum())
    partners = int((inside & a["agency_type"].isin(("police", "sheriff",
                                                     "county_police"))).sum())
    place.notes.append(f"{partners} of the county's {total} local police departments, sheriffs "
                       f"and county police are Ring partners on "
                       f"{as_of or '2020-10-07 (the snapshot)'}.")
    extra = _rows(ctx, rows, "partner in the county", place.lat, place.lon, as_of)
    frames = [f for f in (agencies, extra) if len(f)]
    return (pd.concat(frames, ignore_index=True) if frames else agencies)[list(AGENCY_COLUMNS)]


# ---------------------------------------------------------------------- notebook helpers
def timeline_position(result: Lookup) -> pd.DataFrame:
    """Where each partnership of the answer sits on the national growth timeline.

    Parameters
    ----------
    result : Lookup

    Returns
    -------
    pandas.DataFrame
        One row per serving agency that is a partner in the snapshot with an
        activation date: ``ori``, ``agency``, ``activated``, ``national_before``
        (dated partnerships activated before it, nationally), ``national_dated``
        (all dated partnerships of the snapshot), ``state_before``,
        ``state_dated``, ``share_before`` (``national_before /
        national_dated``: the share of today's dated partners that came
        earlier).

    Examples
    --------
    >>> pos = timeline_position(lookup("19082"))
    >>> pos.loc[0, "ori"], bool(0 < pos.loc[0, "share_before"] < 1)
    ('PA0233700', True)
    """
    from . import load_partners

    partners = load_partners()
    dated = partners.loc[partners["activated"].notna(), ["state", "activated"]]
    rows = []
    serving = result.agencies.loc[result.agencies["activated"].notna()
                                  & (result.agencies["role"] != "partner in the county")]
    for rec in serving.drop_duplicates("ori").itertuples():
        day = pd.Timestamp(rec.activated)
        same = dated["state"] == rec.state
        rows.append({"ori": rec.ori, "agency": rec.agency, "activated": day,
                     "national_before": int((dated["activated"] < day).sum()),
                     "national_dated": len(dated),
                     "state_before": int((same & (dated["activated"] < day)).sum()),
                     "state_dated": int(same.sum())})
    out = pd.DataFrame(rows, columns=["ori", "agency", "activated", "national_before",
                                      "national_dated", "state_before", "state_dated"])
    out["share_before"] = out["national_before"] / out["national_dated"]
    return out


def plot_timeline(result: Lookup, *, ax=None):
    """The national growth of Ring partnerships with the answer's partnerships marked.

    The cumulative national line (:func:`ringgeo.coverage.timeline` of the
    snapshot, by month) with a red dot and label at the activation date of
    each serving agency that is a partner (:func:`timeline_position`), and a
    dashed line at ``as_of`` when one is given.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plot_timeline(lookup("19082"))
    >>> plt.close(fig)
    """
    from . import coverage, load_partners
    from . import plot as rplot

    with warnings.catch_warnings():  # the undated partners: the source line counts them
        warnings.simplefilter("ignore", UserWarning)
        national = coverage.timeline(load_partners(), freq="M")
    fig, ax = rplot.timeline(national, ax=ax, annotate=False,
                             title="Where the partnership sits in Ring's growth",
                             subtitle=f"Ring partner agencies nationally, cumulative; the "
                                      f"agencies serving {result.query!r} marked")
    for rec in timeline_position(result).itertuples():
        y = rec.national_before + 1
        ax.scatter([rec.activated], [y], s=70, c="#c0392b", zorder=5)
        ax.annotate(f"{rec.agency}\n{rec.activated:%Y-%m-%d}: partner no. {y:,} of "
                    f"{rec.national_dated:,} dated", (rec.activated, y), xytext=(-10, 18),
                    textcoords="offset points", ha="right", fontsize=8)
    if result.as_of:
        ax.axvline(pd.Timestamp(result.as_of), color="#555555", linestyle="--", linewidth=1)
    return fig, ax


def plot_map(result: Lookup, *, ax=None, label: bool = True):
    """Map the answer's counties with their agencies as points.

    Ring partners on ``as_of`` are red triangles, other agencies grey dots,
    the agencies that serve the place are labelled, the queried point is a
    black cross. The source line credits every file shown.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plot_map(lookup("19082"))
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    from ._figure import FONT, source_line

    paths = _paths()
    ctx = _context(result.as_of, paths)
    _, counties = _boundaries(paths)
    shapes = counties.loc[counties["GEOID"].isin(result.counties)]
    a = ctx.agencies
    inside = ctx.in_counties(result.counties)
    pts = a.loc[inside & a["latitude"].notna()]
    # the map shows the counties (and the point asked about); an agency whose FBI point
    # is a distant headquarters (state police, for instance) is left out and counted
    x0, y0, x1, y1 = shapes.total_bounds
    x0, x1 = min(x0, result.longitude), max(x1, result.longitude)
    y0, y1 = min(y0, result.latitude), max(y1, result.latitude)
    pad_x, pad_y = (x1 - x0) * 0.08 + 0.01, (y1 - y0) * 0.08 + 0.01
    x0, x1, y0, y1 = x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y
    shown = pts["longitude"].between(x0, x1) & pts["latitude"].between(y0, y1)
    away = int((~shown).sum())
    pts = pts.loc[shown]
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 8))
    else:
        fig = ax.figure
    shapes.plot(ax=ax, facecolor="#f4f1ea", edgecolor="#555555", linewidth=1)
    others = pts.loc[~pts["partner"]]
    partners = pts.loc[pts["partner"]]
    ax.scatter(others["longitude"], others["latitude"], s=18, c="#9a9a9a",
               label=f"other agencies ({len(others)})", zorder=3)
    ax.scatter(partners["longitude"], partners["latitude"], s=60, marker="^", c="#c0392b",
               edgecolors="white", linewidths=0.6,
               label=f"Ring partners on {result.as_of or '2020-10-07'} ({len(partners)})",
               zorder=4)
    ax.scatter([result.longitude], [result.latitude], s=140, marker="X", c="black",
               label="the place asked about", zorder=5)
    if label:
        serving = result.agencies.loc[result.agencies["role"] != "partner in the county"]
        middle = (x0 + x1) / 2
        for rec in pts.loc[pts["ori"].isin(serving["ori"])].itertuples():
            right = rec.longitude > middle
            ax.annotate(rec.agency, (rec.longitude, rec.latitude),
                        xytext=(-6 if right else 6, 6), textcoords="offset points",
                        ha="right" if right else "left", fontsize=8, zorder=6,
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                              "alpha": 0.8})
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / math.cos(math.radians(result.latitude)))
    ax.set_axis_off()
    ax.legend(loc="best", fontsize=FONT["legend"], frameon=True)
    date = result.as_of or "2020-10-07"
    ax.set_title(f"{', '.join(result.county_names)}, {result.state}: law enforcement agencies "
                 f"and Ring partners on {date}", fontsize=FONT["subtitle"] + 1)
    names = tuple(dict.fromkeys(("cb_2019_us_county_20m.zip",) + result.sources))
    text = source_line(as_of=result.as_of, credit=list(names), level=None,
                       note="Agencies at the FBI's geocoded points (not boundaries)"
                       + (f"; {away} agencies of the county whose point lies off the map "
                          f"are not drawn" if away else ""))
    fig.text(0.01, 0.01, "\n".join(_wrap(text)), fontsize=FONT["source"], va="bottom")
    return fig, ax


def _wrap(text: str, width: int = 110) -> list:
    import textwrap

    return textwrap.wrap(text, width)


# ---------------------------------------------------------------------- command line
def _cli(args) -> int:
    import json
    import sys

    words = args.query
    query = " ".join(words)  # ringgeo lookup Upper Darby, PA
    if len(words) == 2 and all(_NUMBER.match(w) for w in words):  # ringgeo lookup 39.95 -75.27
        query = (float(words[0]), float(words[1]))
    result = lookup(query, as_of=args.as_of, k=args.k)
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    elif args.csv:
        frame = result.to_frame()
        frame["activated"] = [("" if pd.isna(v) else f"{pd.Timestamp(v):%Y-%m-%d}")
                              for v in frame["activated"]]
        frame.to_csv(sys.stdout, index=False, lineterminator="\n")
        sys.stdout.write(f"# Sources: {result.credit}\n")
    else:
        print(repr(result))
    return 0


def add_cli(subparsers) -> None:
    """Register ``ringgeo lookup QUERY [--as-of DATE] [-k N] [--json | --csv]``."""
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
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the answer as JSON")
    fmt.add_argument("--csv", action="store_true", help="print the answer's table as CSV")
    parser.set_defaults(func=_cli)


class _CallableModule(types.ModuleType):
    """``ringgeo.lookup`` is both this module and the function :func:`lookup`."""

    def __call__(self, query, *, as_of=None, k: int = 5) -> Lookup:
        return lookup(query, as_of=as_of, k=k)


sys.modules[__name__].__class__ = _CallableModule
