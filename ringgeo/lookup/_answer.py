"""The answer of a lookup: who serves a place, and the nearest partners.

:class:`Lookup` holds what a query matched and how, the agencies that serve it
with each one's partnership on ``as_of``, and the nearest partner agencies.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import data, params
from .. import technologies as tech
from .._frames import json_ready
from .._linkgeo import default_index
from .._names import fold, split_descriptor
from ..exceptions import ParameterError
from ..partners import EXPORT_DATE
from ._data import (
    Context,
    context,
    county_label,
    geodesic_km,
    haversine_km,
    primary_police_of,
    remainder_police_of,
    source_paths,
)
from ._resolve import check_query, parse, place_point

__all__ = ["AGENCY_COLUMNS", "NEAREST_COLUMNS", "NEARBY", "ROLES", "Lookup", "lookup"]


#: Roles of the agencies that serve a place, in the order the answer lists them.
ROLES = ("named agency", "municipal police", "contract police", "regional police",
         "county police", "county sheriff", "contract unit", "nearby police", "state police",
         "partner in the county")
#: Columns of :attr:`Lookup.agencies`: ``primary`` marks the agency that polices the place
#: first (``docs/methodology.md#who-polices-a-place``), listed first; distances only for
#: the ``nearby police`` (to their FBI points), not for the agencies that serve the place.
AGENCY_COLUMNS = ("role", "primary", "ori", "agency", "agency_type", "state", "partner",
                  "status", "activated", "partner_id", "distance_km", "distance_mi")
#: Columns of :attr:`Lookup.nearest`: ``shared_point`` counts the other FBI agencies at the
#: same point (the FBI often places agencies at a county seat or a state capital).
NEAREST_COLUMNS = ("rank", "ori", "agency", "agency_type", "state", "partner_id",
                   "activated", "distance_km", "distance_mi", "shared_point")
#: The role an answer gives a first agency that does not serve the place otherwise.
_ROLE_OF_KIND = {"contract": "contract police", "regional": "regional police",
                 "municipal": "municipal police", "county police": "county police",
                 "sheriff": "county sheriff"}
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
    technology : str
        The Atlas technology asked about (``"ring"``: Ring's partners; e.g.
        ``"drones"``: the agencies the Atlas lists with drones are the "partners").
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
    technology: str = "ring"

    @property
    def credit(self) -> str:
        """The credit line of every source the answer shows."""
        return data.credit(*self.sources)

    @property
    def partner(self) -> bool:
        """Whether the place's police is a partner on ``as_of``.

        The first agency (``primary``) when the answer names one; else any agency
        serving the place (not merely near it).
        """
        first = self.agencies["primary"].astype(bool)
        if first.any():
            return bool(self.agencies.loc[first, "partner"].any())
        serving = self.agencies["role"].isin(
            ("named agency", "municipal police", "contract police", "regional police",
             "county police", "county sheriff"))
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
        near["primary"] = False
        near["partner"] = True
        near["status"] = [_words(_status(True, a, self.as_of), self.technology)
                          for a in near["activated"]]
        near = near.drop(columns="rank")
        frames = [f for f in (serves, near[["section", *AGENCY_COLUMNS]]) if len(f)]
        out = (pd.concat(frames, ignore_index=True) if frames
               else pd.DataFrame(columns=["section", *AGENCY_COLUMNS]))
        out.attrs = {"query": self.query, "kind": self.kind, "matched": self.matched,
                     "as_of": self.as_of, "notes": list(self.notes), "credit": self.credit,
                     "technology": self.technology}
        return out

    def to_dict(self) -> dict:
        """Plain JSON-ready data: the fields, the tables as lists of records.

        Missing values are None (JSON ``null``, never ``NaN``), numbers and flags
        plain Python ones, dates ``YYYY-MM-DD``: ``json.dumps(..., allow_nan=False)``
        writes it as strict JSON.
        """
        def records(frame):
            columns = [str(c) for c in frame.columns]
            return [dict(zip(columns, row)) for row in frame.itertuples(index=False, name=None)]

        return json_ready({
            "query": self.query, "kind": self.kind, "matched": self.matched,
            "state": self.state, "place": self.place, "place_geoid": self.place_geoid,
            "counties": list(self.counties), "county_names": list(self.county_names),
            "latitude": self.latitude, "longitude": self.longitude,
            "point_source": self.point_source, "as_of": self.as_of,
            "partner": self.partner, "agencies": records(self.agencies),
            "nearest": records(self.nearest), "notes": list(self.notes),
            "credit": self.credit, "technology": self.technology})

    def _date(self) -> str:
        return self.as_of or f"{EXPORT_DATE} (the snapshot)"

    def __repr__(self) -> str:
        words = tech.TECHNOLOGIES.get(self.technology, tech.TECHNOLOGIES["ring"])
        lines = [self.matched, f"{words.label} as of {self._date()}.", "",
                 "Agencies serving it:"]
        if len(self.agencies):
            for rec in self.agencies.itertuples():
                dist = ("" if pd.isna(rec.distance_km)
                        else f", its FBI point {rec.distance_km:.1f} km away")
                role = f"{rec.role} (first)" if rec.primary else rec.role
                lines.append(f"  {role:<25} {rec.agency} ({rec.ori}{dist}): {rec.status}")
        else:
            lines.append("  none found in the FBI agency list")
        lines += ["", (f"{len(self.nearest)} nearest {words.members} "
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
        words = tech.TECHNOLOGIES.get(self.technology, tech.TECHNOLOGIES["ring"])
        return (f"<p><b>{html.escape(self.matched)}</b><br>{html.escape(words.label)} as of "
                f"{html.escape(self._date())}.</p>"
                f"<p>Agencies serving it:</p>"
                + table(self.agencies, ("role", "primary", "agency", "ori", "status",
                                        "partner_id", "distance_km"))
                + f"<p>Nearest {html.escape(words.members)} (from "
                  f"{html.escape(self.point_source)}):</p>"
                + table(self.nearest, ("rank", "agency", "state", "ori", "activated",
                                       "distance_km", "distance_mi"))
                + (f"<ul>{notes}</ul>" if notes else "")
                + f"<p><small>Sources: {html.escape(self.credit)}.</small></p>")

    def plot(self, **kwargs):
        """Map of the place's counties and their agencies: see :func:`plot_map`."""
        # imported here: drawing needs matplotlib (0.8 s), which an answer does not
        from ._figures import plot_map

        return plot_map(self, **kwargs)


def _words(text: str, technology: str) -> str:
    """Return a status or note about Ring's partners in the words of another technology."""
    if technology == "ring":
        return text
    words = tech.TECHNOLOGIES[technology]
    label = words.label if words.label[1:2].isupper() else words.label.lower()
    for old, new in (("Ring partner (activation date unknown)",
                      f"listed with {label} (the Atlas gives no start date)"),
                     ("not yet a Ring partner", f"not yet listed with {label}"),
                     ("not a Ring partner", f"not listed with {label}"),
                     ("a Ring partner by", f"listed with {label} by"),
                     ("Ring partner since", f"listed with {label} since"),
                     ("are Ring partners", f"are listed with {label}"),
                     ("Ring partners", words.members), ("Ring partner", words.member),
                     ("nearest partners", f"nearest {words.members}"),
                     ("partner agencies have", f"{words.members} have"),
                     ("partner agency has", f"{words.member} has")):
        text = text.replace(old, new)
    return text


def _status(partner: bool, activated, as_of) -> str:
    day = None if pd.isna(activated) else f"{pd.Timestamp(activated):%Y-%m-%d}"
    if partner:
        return f"Ring partner since {day}" if day else "Ring partner (activation date unknown)"
    return "not a Ring partner"


def _primary_note(munis: list, paths: tuple) -> list:
    """One plain sentence per municipality: who polices its residents first, and why."""
    notes = []
    for m in munis:
        parts = primary_police_of(m.geoid, paths)
        if not parts:
            continue
        parts = [r for r in parts if r[3] > 0] or parts[:1]  # pieces without residents
        said = "; ".join(
            (f"{agency} ({basis})" if agency else f"the {kind}" if kind == "state police"
             else f"its {kind} department, not in the FBI list")
            + f" for {people:,} residents" for kind, agency, _, people, basis in parts)
        notes.append(f"Primary police of {m.name} (the agency that polices its residents "
                     f"first, docs/methodology.md#who-polices-a-place): {said}.")
    return notes


def _mark_primary(ctx: Context, frame: pd.DataFrame, muni, paths: tuple, lat: float,
                  lon: float, as_of, *, remainder: str | None = None) -> pd.DataFrame:
    """Mark the municipality's first agency (``primary``), list it first, name contract units.

    The first agency is the one that polices the largest part of its residents
    (:func:`ringgeo.coverage.jurisdictions`). A contracting agency or a regional
    department that the place's county does not list is added to the answer. The
    FBI "City" agency of a city that contracts for its police is a ``contract unit``.
    ``remainder`` (a county GEOID): the place is the county's unincorporated land.
    """
    frame = frame.assign(primary=False)
    parts = (primary_police_of(muni.geoid, paths) if muni is not None
             else remainder_police_of(remainder) if remainder else [])
    parts = [r for r in parts if r[3] > 0] or parts[:1]
    if not parts:
        return frame
    kind, _, ori, _, _ = parts[0]
    if kind == "contract":
        frame.loc[(frame["role"] == "municipal police") & (frame["ori"] != ori),
                  "role"] = "contract unit"
    if ori is not None and not (frame["ori"] == ori).any():
        rows = np.flatnonzero((ctx.agencies["ori"] == ori).to_numpy())
        extra = _rows(ctx, rows, _ROLE_OF_KIND.get(kind, "municipal police"), lat, lon, as_of)
        frame = pd.concat([extra.assign(primary=False), frame], ignore_index=True)
    if ori is not None:
        frame.loc[frame["ori"] == ori, "primary"] = True
    elif kind == "state police" and (frame["role"] == "state police").any():
        frame.loc[frame.index[frame["role"] == "state police"][0], "primary"] = True
    order = np.argsort(~frame["primary"].to_numpy(dtype=bool), kind="stable")
    return frame.iloc[order].reset_index(drop=True)


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
    out["shared_point"] = ctx.shared_point[rows[order]]
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
             as_of, *, nearby: bool, named: str | None = None,
             own_police: bool = False) -> tuple[pd.DataFrame, list]:
    """Find the agencies serving a place: positions by role, then the frame and notes."""
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
        geo = default_index()
        notes.append("The FBI agency list (2018) has no sheriff or county police for "
                     + ", ".join(county_label(geo, c) for c in counties) + ".")
    # own_police: the jurisdiction rules give the place a department of its own, a contract or a
    # regional department, which the FBI list may lack (Savannah's is under its predecessor)
    has_local = bool(picked["municipal police"] or picked["regional police"] or own_police)
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
             else pd.DataFrame(columns=[c for c in AGENCY_COLUMNS if c != "primary"]))
    return frame, notes


def lookup(query, *, as_of=None, k: int = 5, technology: str = "ring") -> Lookup:
    """Find the agencies serving a ZIP code, place, county, agency or point.

    Also tell whether they are Ring partners.

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
    technology : str, default "ring"
        The Atlas technology asked about (a key of
        :data:`ringgeo.technologies.TECHNOLOGIES` or an Atlas name): e.g.
        ``"drones"`` answers "does my town's police fly drones, per the Atlas of
        2020-10-07?" in those words. The Atlas gives no start date for
        technologies other than Ring, so before 2020-10-07 their agencies are
        not counted (their status says so).

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
        (a :class:`ringgeo.exceptions.ParameterError`) The query is not text or a
        pair (``lookup(19082)``: ZIP codes are text, an int loses leading zeros), is malformed,
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
    check_query(query)  # before any table is read: lookup(19082) is refused at once
    as_of = params.validate_as_of(as_of)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= 50:
        raise ParameterError(f"`k` was {k!r} but is expected to be a whole number from 0 "
                             f"to 50 (how many nearest partner agencies to list).")
    try:
        technology = tech.resolve(technology)
    except ValueError as err:
        raise ParameterError(str(err)) from None
    if technology == "all":
        raise ParameterError("technology='all' is not a question a lookup answers: ask about "
                             f"one technology ({', '.join(tech.TECHNOLOGIES)}).")
    paths = source_paths()
    ctx = context(as_of, paths, technology)
    place = parse(query, ctx, paths)
    if place.lat is None:
        place.lat, place.lon, place.point_source = place_point(place, ctx, paths)
    first = primary_police_of(place.munis[0].geoid, paths) if place.munis else []
    own = bool(first) and max(first, key=lambda r: r[3])[0] in ("municipal", "contract",
                                                                "regional")
    agencies, notes = _serving(ctx, place.state, place.munis, place.counties, place.lat,
                               place.lon, as_of, nearby=place.nearby, named=place.named,
                               own_police=own)
    agencies = _mark_primary(ctx, agencies, place.munis[0] if place.munis else None, paths,
                             place.lat, place.lon, as_of,
                             remainder=place.counties[0] if place.unincorporated else None)
    if place.kind == "county":
        agencies = _county_partners(ctx, agencies, place, as_of)
    # distances to FBI points (often a county seat) say nothing of who serves a place: only
    # the nearby police, listed for being near, keep theirs
    agencies.loc[agencies["role"] != "nearby police", ["distance_km", "distance_mi"]] = np.nan
    notes = _primary_note(place.munis, paths) + notes
    nearest = _nearest_partners(ctx, place.lat, place.lon, int(k))
    shared = int((nearest["shared_point"] > 0).sum()) if len(nearest) else 0
    if shared:
        notes.append(f"{shared} of the nearest partners "
                     + ("shares its" if shared == 1 else "share their")
                     + " FBI point with other agencies (`shared_point`; the FBI often places "
                     "agencies at a county seat): the distance is to that point, not to where "
                     "they patrol.")
    if ctx.unplaced:
        notes.append(f"{ctx.unplaced} partner "
                     + ("agency has" if ctx.unplaced == 1 else "agencies have")
                     + " no FBI point and cannot be ranked by distance.")

    geo = default_index()
    muni = place.munis[0] if len(place.munis) == 1 else None
    sources = tuple(dict.fromkeys(place.sources + (
        "atlas-of-surveillance-20201007.csv", "fbi-agencies-2018.csv",
        "cb_2019_us_county_20m.zip", "sub-est2021_all.zip")))
    agencies = agencies[list(AGENCY_COLUMNS)]
    if technology != "ring":
        agencies = agencies.assign(status=[_words(t, technology) for t in agencies["status"]])
        notes = [_words(n, technology) for n in notes]
        place.notes = [_words(n, technology) for n in place.notes]
    return Lookup(
        query=query if isinstance(query, str) else str(tuple(query)), kind=place.kind,
        matched=place.matched, state=place.state,
        place=muni.name if muni else None, place_geoid=muni.geoid if muni else None,
        counties=tuple(place.counties),
        county_names=tuple(geo.counties[c].full_name for c in place.counties
                           if c in geo.counties),
        latitude=round(float(place.lat), 6), longitude=round(float(place.lon), 6),
        point_source=place.point_source, as_of=as_of, agencies=agencies, nearest=nearest,
        notes=tuple(place.notes + notes), sources=sources, technology=technology)


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
    extra = _rows(ctx, rows, "partner in the county", place.lat, place.lon, as_of).assign(
        primary=False)
    frames = [f for f in (agencies, extra) if len(f)]
    return (pd.concat(frames, ignore_index=True) if frames else agencies)[list(AGENCY_COLUMNS)]


# ---------------------------------------------------------------------- notebook helpers
