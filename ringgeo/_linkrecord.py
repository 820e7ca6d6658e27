"""Link one record (a partner or an FBI agency) to its counties and municipality.

:func:`link_record` is the one-record linker that both tables use: the partner
table (:func:`ringgeo.linking.link_partners`) and the FBI agency universe
(:func:`ringgeo.agencies.load_agencies`). It reads the record's state, county
names, city and agency name against the Census names of
:class:`ringgeo._linkgeo.GeoIndex`; ``docs/linking.md`` explains each method.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ._cleaning import BLANK_COUNTY
from ._linkgeo import GeoIndex, Muni, is_missing, preference
from ._names import AGENCY_KINDS, clean, fold, parse_agency

__all__ = ["link_record", "as_list", "LINK_METHODS", "TOWN_POLICE_STATES"]

#: Values of ``link_method`` (how the counties were found), strongest first.
LINK_METHODS = ("exact", "normalized", "agency-name", "municipality", "fuzzy", "correction",
                "unmatched")

#: Agency names that say the agency serves several municipalities.
_REGIONAL = re.compile(r"\b(regional|authority|villages|townships|boroughs)\b", re.IGNORECASE)
_AGENCY_COUNTY = re.compile(r"^(.+?) (county|parish|borough)\b")
#: States whose towns or townships commonly run a police department named
#: just "X Police Department" beside a village, borough or city of the same
#: name: a municipal match there without a stated kind is listed for review.
TOWN_POLICE_STATES = {"NY", "NJ", "PA", "CT", "MA", "RI", "VT", "NH", "ME"}

def as_list(value) -> list:
    """County names as a list: lists, tuples, arrays; a text is split on commas."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        return [str(v) for v in value if not is_missing(v)]
    return []


def _county_parts(value) -> list[str]:
    parts = value if isinstance(value, (list, tuple)) else []
    return [clean(p) for p in parts if clean(p).casefold() not in BLANK_COUNTY]


def _agency_county(geo: GeoIndex, agency: str, state: str) -> str | None:
    match = _AGENCY_COUNTY.match(fold(agency))
    return geo.county_by_name(match.group(1), match.group(2), state) if match else None


def _rank(muni: Muni, kind: str | None):
    """Prefer an incorporated place, then the larger one; with a stated kind, the larger one."""
    return preference(muni) if kind is None else (True, muni.population or 0)


def _named(geo: GeoIndex, text: str, state: str) -> list:
    """Municipalities a name (agency or city) names: the first reading that finds any."""
    found = []
    for base, kind in parse_agency(text) if text else []:
        cands = geo.muni_candidates(base, state)
        if kind is not None:  # "X Township": only townships; "Union City": not "Union"
            cands = [m for m in cands if m.word in AGENCY_KINDS[kind]]
        found += [(m, kind) for m in cands if m.geoid not in {f.geoid for f, _ in found}]
        if found and " / " not in fold(text):
            break
    return found


def _find_muni(geo: GeoIndex, agency: str, city: str, state: str, within: set):
    """Choose the municipality an agency serves; return (Muni, method, note, review).

    Order: the agency-name municipality inside the record's counties, then the
    city inside them, then (reported) the agency-name municipality elsewhere in
    the state, then the city elsewhere. Within a tier the place or MCD of the
    kind the name states wins; without a stated kind an incorporated place,
    then the larger population.
    """
    tiers = {"agency": _named(geo, agency, state), "city": _named(geo, city, state)}
    review, ordered = [], []
    for inside in ((True, False) if within else (True,)):
        for source in ("agency", "city"):
            cands = [(m, k) for m, k in tiers[source]
                     if not within or bool(set(m.counties) & within) == inside]
            if cands:
                ordered.append((source, inside, cands))
    if within and tiers["agency"] and not any(s == "agency" and i for s, i, _ in ordered):
        review.append(("agency name names a municipality outside the record's counties",
                       [f"{m.name} {m.geoid} in {','.join(m.counties)}"
                        for m, _ in tiers["agency"]]))
    if not ordered:
        return None, "unmatched", None, review
    source, inside, cands = ordered[0]
    muni, kind = max(cands, key=lambda mk: _rank(*mk))
    note = None
    if len({m.geoid for m, _ in cands}) > 1 and source == "agency" and " / " in fold(agency):
        note = ("the agency name names several municipalities: "
                + ", ".join(f"{m.name} {m.geoid}" for m, _ in cands) + f"; took {muni.name}")
        review.append(("agency serves several municipalities", [m.name for m, _ in cands]))
    rivals = [m for m, k in cands if m.geoid != muni.geoid and m.base == muni.base
              and m.kind == "mcd" and m.population != muni.population]
    if kind is None and rivals and state in TOWN_POLICE_STATES:
        note = (f"{muni.name} chosen over " + ", ".join(f"{m.name} {m.geoid}" for m in rivals)
                + ": the agency name states no kind, the incorporated place is preferred")
        review.append(("ambiguous municipality (town or township of the same name)",
                       [f"{m.name} {m.geoid} pop {m.population}" for m in [muni] + rivals]))
    if not inside:
        review.append(("municipality lies outside the record's counties",
                       [f"{muni.name} {muni.geoid} in {','.join(muni.counties)}"]))
    if source == "agency":
        method = "agency-name"
    else:
        method = "exact" if clean(city) == muni.base_raw else "normalized"
        review.append(("municipality taken from the city: the agency name names no Census "
                       "municipality of the state", [f"{muni.name} {muni.geoid}"]))
    return muni, method, note, review


def link_record(geo: GeoIndex, rec: dict) -> dict:
    """Link one record (``agency, jurisdiction_type, city, state, county_names``).

    Used for partner rows by :func:`link_partners` and for FBI agencies by
    :func:`ringgeo.agencies.load_agencies`, so both are linked by one set of
    rules. Returns the values of :data:`LINK_COLUMNS` (``notes`` for
    ``link_note``), ``review`` (problem, candidates, ``"county"`` or
    ``"municipality"``) and ``muni`` (the :class:`~ringgeo._linkgeo.Muni`
    found, also for non-municipal records, or None).

    The steps: the counties the record names (:func:`_named_counties`), the
    county the agency's name names, the municipality (:func:`_link_muni`), the
    counties of either when the record names none (:func:`_fallback_counties`).
    """
    state, agency, city = clean(rec["state"]), clean(rec["agency"]), clean(rec["city"])
    juris = clean(rec["jurisdiction_type"]) or "other"
    out = {"county_fips": (), "primary_county_fips": None, "muni_geoid": None,
           "muni_name": None, "muni_kind": None, "muni_population": None,
           "link_method": "unmatched", "link_score": float("nan"),
           "muni_link_method": None, "notes": [],
           "review": []}  # (problem, candidates, "county" or "municipality")
    hits = _named_counties(geo, out, rec["county_names"], state, agency, city)
    fips = list(dict.fromkeys(h.geoid for h in hits if h.geoid))
    methods = [h.method for h in hits if h.geoid]
    agency_county = _agency_county(geo, agency, state)
    if agency_county and fips and agency_county not in fips:
        out["review"].append((f"agency name names {geo.counties[agency_county].full_name} "
                              f"{agency_county}, not among the record's counties",
                              [agency_county], "county"))
    muni = _link_muni(geo, out, juris, agency, city, state, fips, agency_county)
    fips, methods = _fallback_counties(geo, out, fips, methods, agency_county, muni)
    out["muni"] = muni
    if juris == "municipal" and muni is not None:
        out.update(muni_geoid=muni.geoid, muni_name=muni.name, muni_kind=muni.kind,
                   muni_population=muni.population)
    if fips:
        out["county_fips"] = tuple(fips)
        out["link_method"] = max(methods, key=LINK_METHODS.index)
        scores = [h.score for h in hits if h.score is not None]
        out["link_score"] = min(scores) if scores else float("nan")
        out["primary_county_fips"] = _primary(fips, agency_county, muni)
    else:
        out["review"].append(("no county found", [rec["county_names"], city], "county"))
    return out


def _named_counties(geo: GeoIndex, out: dict, county_names, state: str, agency: str,
                    city: str) -> list:
    """Look up every county the record names; note and list for review what is unsure."""
    hits = [geo.match_county(part, state) for part in _county_parts(county_names)]
    for h in hits:
        if h.note:
            out["notes"].append(h.note)
        cands = [f"{name} {g} (score {score})" for name, g, score in h.candidates]
        if h.method == "fuzzy":
            out["review"].append((f"county {h.text!r} matched by fuzzy score {h.score}",
                                  cands, "county"))
        elif h.note and "ambiguous" in h.note:
            out["review"].append((h.note, [], "county"))
        elif h.geoid is None:
            out["notes"].append(f"county {h.text!r} not matched")
            out["review"].append((_county_miss(geo, h, state, agency, city), cands, "county"))
    return hits


def _county_miss(geo: GeoIndex, hit, state: str, agency: str, city: str) -> str:
    """Why a county was not found, with the states that have a county of that name."""
    what = f"county {hit.text!r} not found in {state or 'the blank state'}"
    if hit.other_states:
        homes = [s for s in hit.other_states if _city_in(geo, agency, city, s)]
        what += (f"; a county of that name exists in {', '.join(hit.other_states)}"
                 + (f"; proposed state {', '.join(homes)} (county and city both exist "
                    f"there): fix through corrections.csv" if homes else ""))
    return what


def _link_muni(geo: GeoIndex, out: dict, juris: str, agency: str, city: str, state: str,
               fips: list, agency_county: str | None) -> Muni | None:
    """Find the municipality of a municipal agency, or of any record that names no county.

    A municipal agency whose name says county or regional gets none (reviewed).
    """
    if juris == "municipal" and (agency_county or _REGIONAL.search(agency)):
        out["muni_link_method"] = "unmatched"
        why = (f"a county agency ({geo.counties[agency_county].full_name})" if agency_county
               else "a regional agency serving several municipalities")
        out["review"].append((f"jurisdiction is municipal but the agency name says {why}: "
                              f"no municipality linked", [], "municipality"))
        return None
    if juris != "municipal" and (fips or agency_county):
        return None
    within = set(fips)
    muni, mmethod, mnote, mreview = _find_muni(geo, agency, city, state, within)
    if muni is None and juris == "municipal":
        bases = [b for b, _ in parse_agency(agency) + parse_agency(city)]
        found = geo.muni_fuzzy(bases, state, within)
        if found:
            muni, score = found
            mmethod, mnote = "fuzzy", f"municipality {muni.name} by fuzzy score {score}"
            mreview.append((f"municipality matched by fuzzy score {score}", [muni.name]))
    if mnote:
        out["notes"].append(mnote)
    out["review"].extend((what, cands, "municipality") for what, cands in mreview)
    if juris == "municipal":
        out["muni_link_method"] = mmethod
        if muni is None:
            out["review"].append(("no municipality found for the agency or its city",
                                  [agency, city], "municipality"))
    return muni


def _fallback_counties(geo: GeoIndex, out: dict, fips: list, methods: list,
                       agency_county: str | None, muni: Muni | None) -> tuple[list, list]:
    """Give a record naming no county its agency name's county, else its municipality's."""
    if not fips and agency_county:
        return [agency_county], ["agency-name"]
    if not fips and muni is not None and muni.counties:
        fips = [c for c in muni.counties if c in geo.counties]
        if len(fips) > 1:
            out["notes"].append(f"counties of {muni.name}: the record names none")
        return fips, ["municipality"]
    return fips, methods


def _city_in(geo: GeoIndex, agency: str, city: str, state: str) -> bool:
    names = parse_agency(agency) + (parse_agency(city) if city else [])
    return any(geo.muni_candidates(base, state) for base, _ in names)


def _primary(fips: list, agency_county: str | None, muni: Muni | None) -> str:
    if agency_county in fips:
        return agency_county
    if muni is not None:  # the municipality's first county that the record names
        for county in muni.counties:
            if county in fips:
                return county
    return fips[0]
