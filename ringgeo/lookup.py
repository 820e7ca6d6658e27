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

The query is read by :mod:`ringgeo._resolve`; the cached tables and the
distances live in :mod:`ringgeo._lookupdata`. This module holds the answer
(:class:`Lookup`), who serves a place, the nearest partners, the notebook's
figures and the ``ringgeo lookup`` command.
"""

from __future__ import annotations

import html
import math
import re
import sys
import types
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._lookupdata import (
    Context,
    boundaries,
    context,
    county_label,
    geodesic_km,
    haversine_km,
    primary_police_of,
    source_paths,
)
from ._resolve import parse, place_point
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
KM_PER_MILE = 1.609344
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
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
        from .partners import EXPORT_DATE  # not _figure: it imports matplotlib

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


def _primary_note(munis: list, paths: tuple) -> list:
    """One plain sentence per municipality: who polices its residents first."""
    notes = []
    for m in munis:
        parts = primary_police_of(m.geoid, paths)
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


def _nearest_partners(ctx: Context, lat: float, lon: float, k: int) -> pd.DataFrame:
    if k == 0 or not len(ctx.partner_rows):
        return pd.DataFrame(columns=list(NEAREST_COLUMNS))
    rough = haversine_km(math.radians(lat), math.radians(lon), ctx.lat, ctx.lon)
    # the spherical distance is within 0.6 % of the ellipsoidal one: keep a margin
    take = np.argsort(rough, kind="stable")[: max(4 * k, k + 20)]
    rows = ctx.partner_rows[take]
    picked = ctx.agencies.iloc[rows]
    km = geodesic_km(lat, lon, picked["latitude"], picked["longitude"])
    order = np.lexsort((picked["ori"].to_numpy(), km))[:k]
    out = picked.iloc[order][["ori", "agency", "agency_type", "state", "partner_id",
                              "activated"]].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["distance_km"] = np.round(km[order], 2)
    out["distance_mi"] = np.round(km[order] / KM_PER_MILE, 2)
    return out[list(NEAREST_COLUMNS)]


# ---------------------------------------------------------------------- the answer's rows
def _rows(ctx: Context, positions, role: str, lat: float, lon: float, as_of) -> pd.DataFrame:
    sub = ctx.agencies.iloc[list(positions)]
    km = geodesic_km(lat, lon, sub["latitude"], sub["longitude"])
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


def _serving(ctx: Context, state: str, munis: list, counties: tuple, lat: float, lon: float,
             as_of, *, nearby: bool, named: str | None = None) -> tuple[pd.DataFrame, list]:
    """The agencies serving a place: positions by role, then the frame and notes."""
    from ._names import fold, split_descriptor

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
    bases = {split_descriptor(m.name, folded=True)[0] for m in munis}
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
                     + ", ".join(county_label(geo, c) for c in counties) + ".")
    has_local = bool(picked["municipal police"] or picked["regional police"])
    if nearby and not has_local:
        cand = np.flatnonzero(in_county & police & (municipal | regional))
        if len(cand):
            km = geodesic_km(lat, lon, a["latitude"].to_numpy()[cand],
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
    paths = source_paths()
    ctx = context(as_of, paths)
    place = parse(query, ctx, paths)
    if place.lat is None:
        place.lat, place.lon, place.point_source = place_point(place, ctx, paths)
    agencies, notes = _serving(ctx, place.state, place.munis, place.counties, place.lat,
                               place.lon, as_of, nearby=place.nearby, named=place.named)
    if place.kind == "county":
        agencies = _county_partners(ctx, agencies, place, as_of)
    notes = _primary_note(place.munis, paths) + notes
    nearest = _nearest_partners(ctx, place.lat, place.lon, int(k))
    if ctx.unplaced:
        notes.append(f"{ctx.unplaced} partner "
                     + ("agency has" if ctx.unplaced == 1 else "agencies have")
                     + " no FBI point and cannot be ranked by distance.")
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
    partners.attrs = {}  # pandas deep-copies attrs (the quality report) on every step
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
        The axes hold the national line and one labelled dot per partner serving the place.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plot_timeline(lookup("19082"))
    >>> print(ax.texts[0].get_text())  # Upper Darby's department joined as the 301st
    Upper Darby Township Police Department
    2019-06-28: partner no. 301 of 1,331 dated
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
        The axes carry the map's alt text (``ringgeo.plot.alt_text(fig)`` reads it).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plot_map(lookup("19082"))
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['other agencies (42)', 'Ring partners on 2020-10-07 (6)', 'the place asked about']
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    from ._draw import draw_polygons
    from ._figure import FONT, set_alt_text, source_line

    paths = source_paths()
    ctx = context(result.as_of, paths)
    _, counties = boundaries(paths)
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
    draw_polygons(ax, shapes, facecolor="#f4f1ea", edgecolor="#555555", linewidth=1)
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
    where = f"{', '.join(result.county_names)}, {result.state}"
    set_alt_text(ax, ax.get_title(),
                 f"Map of {where} with its law enforcement agencies at the FBI's points: "
                 f"{len(partners)} Ring partner(s) on {date} and {len(others)} other "
                 f"agencies; a cross marks the place asked about.")
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
