"""How :func:`ringgeo.lookup` reads a query (private).

:func:`parse` turns a query into a :class:`Place`: the state, the Census
municipalities and counties it names, a point, and what it matched and how.
ZIP codes go through GeoNames' post-office towns, names through the package's
own keys (:class:`ringgeo._linkgeo.GeoIndex`, :func:`ringgeo._agencymatch.agency_key`),
points through the Census boundaries. Nothing is guessed: a query that names
several things raises :class:`ringgeo.exceptions.QueryError` listing them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._agencymatch import agency_key
from .._agencymatch import default_index as agency_index
from .._linkgeo import default_index
from .._names import AGENCY_KINDS, COUNTY_WORDS, clean, fold, split_county, split_descriptor
from ..exceptions import ParameterError, QueryError
from ..postal import zip_municipalities
from ..states import STATES, STATES_AND_DC, validate_state
from ._data import (
    Context,
    alias_index,
    boundaries,
    coextensive,
    county_label,
    geodesic_km,
    post_office_towns,
    source_paths,
    zip_codes,
)

#: A point this close (km) to a generalized state boundary counts as inside it.
BORDER_KM = 10.0
ZIP_PATTERN = re.compile(r"^\s*(\d{5})(?:-\d{4})?\s*$")
_DIGITS = re.compile(r"^\s*[\d-]+\s*$")
_POINT = re.compile(r"^\s*\(?\s*(-?\d+(?:\.\d+)?)\s*[, ]\s*(-?\d+(?:\.\d+)?)\s*\)?\s*$")
_ORI = re.compile(r"^\s*([A-Za-z]{2}[0-9A-Za-z]{7})\s*$")
_AGENCY_WORDS = re.compile(r"\b(police|sheriff'?s?|department|dept|marshal'?s?|public safety|"
                           r"constable|patrol|bureau)\b", re.IGNORECASE)
#: County kinds a query names a county by: every kind of :data:`ringgeo._names.COUNTY_WORDS`
#: but independent cities (a place: "Baltimore city") and Puerto Rico's municipios.
_COUNTY_KINDS = frozenset(kind for _, kind in COUNTY_WORDS) - {"city", "municipio"}


@dataclass
class Place:
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
    unincorporated: bool = False  # a ZIP code whose land lies mostly outside municipalities


def _dedupe(munis: list, paths: tuple) -> list:
    """Drop a minor civil division that is the same government as a listed place."""
    coext = coextensive(paths)
    ids = {m.geoid for m in munis}
    return [m for m in munis
            if not (m.kind == "mcd" and not pd.isna(coext.get(m.geoid))
                    and coext.get(m.geoid) in ids)]


def _policed(ctx: Context) -> set:
    a = ctx.agencies
    return set(a.loc[a["agency_type"] == "police", "muni_geoid"].dropna())


def _choose(munis: list, ctx: Context) -> list:
    """Choose one government when the others of that name police nothing, else all of them.

    One: Lemont village, not Lemont township. All: the caller decides whether that is
    ambiguous.
    """
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
                   ctx: Context, paths: tuple) -> Place:
    geo = default_index()
    base, word = split_descriptor(name, folded=True)
    states = [state] if state else list(STATES.loc[STATES["in_51"], "state"])
    found = []
    for st in states:
        cands = geo.muni_candidates(base, st)
        if word is not None:  # "X Township": townships of every kind (charter, metro)
            cands = [m for m in cands if m.word in AGENCY_KINDS.get(word, {word})]
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
    place = Place("place", f"{query!r}: the Census municipality {muni.name}, {muni.state} "
                   f"({muni.geoid}), in {', '.join(county_label(geo, c) for c in counties)}.",
                   muni.state, [muni], counties)
    return place


def _place_from_post_office(query, name, state, county, ctx, paths) -> Place:
    """Resolve a name that is no Census municipality but a post-office town: its ZIP codes."""
    geo = default_index()
    by_zip, towns = zip_codes(paths), post_office_towns(paths, state)
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
                 f"({county_label(geo, by_zip.at[c, 'county_fips'])})" for st, c in hits]
        raise _ambiguous(query, "post-office ZIP codes in several counties or states", cands,
                         "Ask by one of these ZIP codes.")
    rows = by_zip.loc[codes]
    place = Place("place", f"{query!r}: not a Census municipality; the post-office town of "
                   f"ZIP code{'s' if len(codes) > 1 else ''} {', '.join(codes)} "
                   f"(GeoNames), in {county_label(geo, counties[0])}.",
                   states[0], [], tuple(counties),
                   float(rows["latitude"].mean()), float(rows["longitude"].mean()),
                   f"the mean point of ZIP code(s) {', '.join(codes)}",
                   sources=("geonames-us-postal-codes-20200708.zip",), nearby=True)
    place.notes.append(f"{name} is a post-office town (a mailing address), not a Census "
                       f"municipality: the police that serve an address there are those of the "
                       f"municipality or county it lies in; the nearest local departments of "
                       f"the county are listed as 'nearby police'.")
    return place


def _resolve_zip(query: str, code: str, ctx: Context, paths: tuple) -> Place:
    geo = default_index()
    by_zip = zip_codes(paths)
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
    if state not in STATES_AND_DC:
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
    area = _zip_area(code, town, state, county, geo, notes)
    if area is not None:
        return area(query, lat, lon)
    base, _ = split_descriptor(town, folded=True)
    cands = _dedupe(list(dict.fromkeys(geo.muni_candidates(base, state))), paths)
    here = _choose([m for m in cands if county in m.counties], ctx)
    matched = (f"ZIP code {code}: post office {town}, {state}, in "
               f"{county_label(geo, county)} (GeoNames).")
    if here:
        matched += (" The post-office town is the Census municipality "
                    + " / ".join(_describe(m) for m in here) + ".")
        for m in here:
            if m.counties and m.counties[0] != county:
                notes.append(f"ZIP code {code} lies in {geo.counties[county].full_name}, not in "
                             f"the main county of {m.name} ({county_label(geo, m.counties[0])}"
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
    notes.append(_POSTAL_ROUTE)
    return Place("zip", matched, state, here, (county,), lat, lon,
                  f"the ZIP code's GeoNames point ({lat:.4f}, {lon:.4f})", notes,
                  sources=("geonames-us-postal-codes-20200708.zip",), nearby=not here)


#: Municipalities covering less of a ZIP code area's land than this are not listed.
_MIN_SHARE = 0.01
_ZIP_SOURCES = ("geonames-us-postal-codes-20200708.zip", "us-geo-2020-zctas.csv",
                "us-geo-2020-zcta-county-subdivisions.csv", "us-geo-2020-zcta-places.csv")
_POSTAL_ROUTE = ("A ZIP code is a postal route, not a jurisdiction: an address in it may be "
                 "served by another department (docs/lookup.md).")


def _zip_area(code: str, town: str, state: str, county: str, geo, notes: list):
    """Resolve a ZIP code through its Census ZIP code area (ZCTA); None to fall back.

    The municipality holding the largest share of the area's land leads the answer
    (a hamlet or census-designated place resolves to its town or township); the
    others are named with their shares. A ZIP code without an area (a PO box, a
    single building) or whose area lies outside every municipality falls back to
    GeoNames' post-office town, and a note says so.
    """
    every = zip_municipalities(code)
    shares = every.loc[every["muni_geoid"].isin(list(geo.munis))
                       & (every["land_share"] >= _MIN_SHARE)]
    # land outside every municipality: towns and townships tile their states' land, places
    # do not nest elsewhere
    kind = "mcd" if (every["kind"] == "mcd").any() else "place"
    outside = max(0.0, 1.0 - float(every.loc[every["kind"] == kind, "land_share"].sum()))
    if len(shares) and outside > float(shares["land_share"].iat[0]):
        listed = ", ".join(f"{geo.munis[g].name} ({v:.0%})" for g, v in
                           zip(shares["muni_geoid"], shares["land_share"]))
        matched = (f"ZIP code {code}: post office {town}, {state} (GeoNames); most of its "
                   f"Census ZIP code area's land ({outside:.0%}) lies outside every "
                   f"municipality, in unincorporated {county_label(geo, county)}.")
        notes += [f"ZIP code {code} also covers {listed} of its land: an address there is "
                  f"served by that municipality's police.", _POSTAL_ROUTE]

        def unincorporated(query, lat, lon):
            return Place("zip", matched, state, [], (county,), lat, lon,
                         f"the ZIP code's GeoNames point ({lat:.4f}, {lon:.4f})", notes,
                         sources=_ZIP_SOURCES, unincorporated=True)
        return unincorporated
    if not len(shares):
        notes.append(
            f"ZIP code {code} has no Census ZIP code area (ZCTA) with land in a "
            f"municipality (a PO box or single-building code, or only unincorporated land):"
            f" GeoNames' post-office town is used." if not len(zip_municipalities(code))
            else f"ZIP code {code}'s Census ZIP code area lies outside every municipality "
                 f"(unincorporated land): GeoNames' post-office town is used.")
        return None
    munis = [geo.munis[g] for g in shares["muni_geoid"]]
    lead, share = munis[0], float(shares["land_share"].iat[0])
    here_county = county if county in lead.counties else lead.counties[0]
    matched = (f"ZIP code {code}: post office {town}, {state} (GeoNames); its Census ZIP code "
               f"area lies mostly in {_describe(lead)}: {share:.0%} of its land, in "
               f"{county_label(geo, here_county)}.")
    if len(munis) > 1:
        others = ", ".join(f"{m.name} ({s:.0%})" for m, s in
                           zip(munis[1:], shares["land_share"].iloc[1:]))
        notes.append(f"ZIP code {code} is split: its area also covers {others} of its land "
                     f"(a village inside a town or township is counted in both). The police "
                     f"of {lead.name} are given; an address elsewhere in the ZIP code may be "
                     f"served by another department.")
    if fold(split_descriptor(town, folded=True)[0]) != fold(
            split_descriptor(lead.name, folded=True)[0]):
        notes.append(f"The post-office name {town} is not the municipality: most of the ZIP "
                     f"code's land lies in {lead.name}.")
    notes.append(_POSTAL_ROUTE)

    def place(query, lat, lon):
        return Place("zip", matched, state, [lead], (here_county,), lat, lon,
                     f"the ZIP code's GeoNames point ({lat:.4f}, {lon:.4f})", notes,
                     sources=_ZIP_SOURCES)
    return place


def _county_at(lat: float, lon: float, paths: tuple) -> str | None:
    from shapely.geometry import Point

    _, counties = boundaries(paths)
    pt = Point(lon, lat)
    hit = counties.sindex.query(pt, predicate="intersects")
    if len(hit):
        return str(counties["GEOID"].iat[int(hit[0])])
    nearest = counties.sindex.nearest(pt, return_all=False)
    return str(counties["GEOID"].iat[int(nearest[1][0])])


def _resolve_point(query, lat: float, lon: float, paths: tuple) -> Place:
    from shapely.geometry import Point
    from shapely.ops import nearest_points


    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise QueryError(f"point {query!r}: latitude must lie in [-90, 90] and longitude in "
                          f"[-180, 180]; give (lat, lon), latitude first, e.g. "
                          f"(39.9579, -75.2681).")
    states, _ = boundaries(paths)
    pt = Point(lon, lat)
    notes = []
    hit = states.sindex.query(pt, predicate="intersects")
    if len(hit):
        state = str(states["state"].iat[int(hit[0])])
    else:
        near = int(states.sindex.nearest(pt, return_all=False)[1][0])
        edge = nearest_points(states.geometry.iat[near], pt)[0]
        km = float(geodesic_km(lat, lon, [edge.y], [edge.x])[0])
        if km > BORDER_KM:
            raise QueryError(
                f"point ({lat}, {lon}) lies outside the United States (50 states, DC and "
                f"Puerto Rico; {km:.0f} km from {states['name'].iat[near]}'s Census boundary). "
                f"Give (lat, lon), latitude first, of a place in the United States.")
        state = str(states["state"].iat[near])
        notes.append(f"The point lies {km:.1f} km outside the generalized Census boundary of "
                     f"{states['name'].iat[near]} (1:20,000,000; coasts and borders are "
                     f"simplified) and is taken as inside it.")
    if state not in STATES_AND_DC:
        raise QueryError(f"point ({lat}, {lon}) is in {state}, outside the 50 states and DC "
                          f"that ringgeo's agency and Census tables cover.")
    county = _county_at(lat, lon, paths)
    geo = default_index()
    notes.append("ringgeo has no municipal boundaries offline: the point's county is known, "
                 "its municipality is not; the nearest local departments of the county are "
                 "listed as 'nearby police'.")
    return Place("point", f"point ({lat}, {lon}): in {county_label(geo, county)}, {state}.",
                  state, [], (county,), lat, lon, f"the point ({lat}, {lon})", notes,
                  sources=("cb_2019_us_state_20m.zip", "cb_2019_us_county_20m.zip"),
                  nearby=True)


def _resolve_county(query, geoid: str, ctx: Context, paths: tuple) -> Place:
    geo = default_index()
    _, counties = boundaries(paths)
    shape = counties.loc[counties["GEOID"] == geoid].geometry.iat[0]
    inner = shape.representative_point()
    return Place("county", f"{query!r}: {county_label(geo, geoid)}, "
                  f"{geo.counties[geoid].state}.", geo.counties[geoid].state, [], (geoid,),
                  float(inner.y), float(inner.x), "a point inside the county",
                  sources=("cb_2019_us_county_20m.zip",))


def _resolve_agency(query, text: str, state: str | None, ctx: Context) -> Place:
    index = agency_index()
    geo = default_index()
    ori = _ORI.match(text)
    found = []
    if ori and ori.group(1).upper() in index.agencies:
        found = [index.agencies[ori.group(1).upper()]]
    states = [state] if state else sorted(index.by_state)
    alias = ""
    exact = [a for st in states for a in index.exact.get((st, clean(text).casefold()), [])]
    if not found and not exact:  # a name readers use: a consolidated agency's, the Atlas'
        aliases = alias_index(source_paths())
        oris = sorted({o for st in states for o in aliases.get((st, fold(text)), ())})
        found = [index.agencies[o] for o in oris if o in index.agencies]
        if found:
            alias = f" (the name readers use; the FBI lists {found[0].name})"
    if not found:  # the name as written, or the same role and place (agency_key)
        key = agency_key(text)
        found = list(exact)
        for st in states:
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
    place = Place("agency", f"{query!r}{alias}: the FBI agency {agency.name}, {agency.state} "
                   f"({agency.ori}, {row['agency_type']})"
                   + (f", serving {munis[0].name}" if munis else "")
                   + (f", in {', '.join(county_label(geo, c) for c in counties)}" if counties
                      else "") + ".",
                   agency.state, munis, counties, named=agency.ori)
    if not (pd.isna(lat) or pd.isna(lon)):
        place.lat, place.lon = float(lat), float(lon)
        place.point_source = "the agency's FBI point"
    return place


_EXPECTED = ("expected a 5-digit ZIP code, 'City, ST', 'X County, ST', an agency name or a "
             "(lat, lon) pair; a ZIP code as text: lookup('19082').")


def check_query(query) -> None:
    """Refuse a query of a type :func:`parse` cannot read, saying what to pass instead.

    A ZIP code is text: the int 8054 was ``08054`` before its leading zero was lost,
    so a number is refused (with the text it may have been), never padded silently.
    Only :class:`str` and a ``(lat, lon)`` tuple or list pass.

    Raises
    ------
    QueryError
        Naming the type and the call to make instead.
    """
    if isinstance(query, str) or (isinstance(query, (tuple, list)) and len(query) == 2):
        return
    kind = "numpy array" if isinstance(query, np.ndarray) else type(query).__name__
    if isinstance(query, bool) or query is None:
        raise QueryError(f"query {query!r} is no query: {_EXPECTED}")
    if isinstance(query, (int, float, np.integer, np.floating)):
        number = float(query)
        if not (number.is_integer() and 0 <= number < 100_000):
            raise QueryError(f"query {query!r} is a number ({kind}): {_EXPECTED}")
        raise QueryError(f"query {query!r} is a number ({kind}): ZIP codes are text, so pass "
                         f"lookup('{int(number):05d}'); a number loses a ZIP code's leading "
                         "zeros (08054 becomes 8054). A point is a (lat, lon) pair.")
    if isinstance(query, bytes):
        raise QueryError(f"query {query!r} is bytes: pass text, "
                         f"lookup({query.decode('utf-8', 'replace')!r}).")
    if isinstance(query, (np.ndarray, pd.Series, pd.Index, tuple, list)):
        size = int(np.size(query))
        point = (" (a point: lookup(tuple(values)))"
                 if size == 2 and np.ndim(query) == 1 and pd.api.types.is_numeric_dtype(
                     np.asarray(query)) else "")
        raise QueryError(f"query is a {kind} of {size} value(s): lookup answers one query "
                         f"at a time: pass one text, lookup('19082'), or a (lat, lon) tuple"
                         f"{point}; for several, loop: [lookup(q) for q in queries], each "
                         "ZIP code as text.")
    raise QueryError(f"query {query!r} is a {kind}: {_EXPECTED}")


def parse(query, ctx: Context, paths: tuple) -> Place:
    """Read a query: a (lat, lon) pair, a code (ZIP code, point, ORI) or a name."""
    check_query(query)
    if isinstance(query, (tuple, list)):
        try:
            lat, lon = float(query[0]), float(query[1])
        except (TypeError, ValueError):
            raise QueryError(f"point {query!r}: expected two numbers (lat, lon).") from None
        return _resolve_point(query, lat, lon, paths)
    if not query.strip():
        raise QueryError(f"query {query!r} is empty: {_EXPECTED}")
    text = " ".join(query.split())
    place = _parse_code(query, text, ctx, paths)
    return place if place is not None else _parse_name(query, text, ctx, paths)


def _parse_code(query: str, text: str, ctx: Context, paths: tuple) -> Place | None:
    """Parse a ZIP code, a "lat, lon" text or an ORI; None for anything else."""
    zip_code = ZIP_PATTERN.match(text)
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
    return None


def _parse_name(query: str, text: str, ctx: Context, paths: tuple) -> Place:
    """Parse an agency, a county or a place, with an optional county and state after commas."""
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
    """Return the county ``text`` names when it says County, Parish, Borough... (else None)."""
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


def place_point(place: Place, ctx: Context, paths: tuple) -> tuple:
    """Find a point for a place without one: its department's, its ZIP codes', its county's."""
    a = ctx.agencies
    ids = {m.geoid for m in place.munis}
    dept = a.loc[a["muni_geoid"].isin(ids) & (a["agency_type"] == "police")
                 & a["latitude"].notna()]
    if len(dept):
        return (float(dept["latitude"].iat[0]), float(dept["longitude"].iat[0]),
                f"the FBI point of {dept['agency'].iat[0]}")
    by_zip = zip_codes(paths)
    for m in place.munis:
        town = split_descriptor(m.name, folded=True)[0]
        codes = [c for c in post_office_towns(paths, m.state).get((m.state, town), [])
                 if by_zip.at[c, "county_fips"] in m.counties]
        if codes:
            rows = by_zip.loc[codes]
            place.sources += ("geonames-us-postal-codes-20200708.zip",)
            return (float(rows["latitude"].mean()), float(rows["longitude"].mean()),
                    f"the mean point of its post-office ZIP code(s) {', '.join(codes)}")
    _, counties = boundaries(paths)
    inner = counties.loc[counties["GEOID"] == place.counties[0]].geometry.iat[0]
    inner = inner.representative_point()
    return float(inner.y), float(inner.x), "a point inside its county (no point of its own)"
