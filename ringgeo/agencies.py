"""The FBI agency universe: every law enforcement agency, typed, placed and linked.

:func:`load_agencies` reads the FBI Crime Data Explorer's agency list of 2018
(registry file ``fbi-agencies-2018.csv``: one row per FBI agency code, ORI),
normalizes each agency's type, links it to its Census counties and, for a
local police department, to the municipality it serves, exactly as
:func:`ringgeo.link_partners` links a partner record (same name normalization,
same county matcher, same municipality rules). It is the denominator of the
"share of agencies partnered" columns of :mod:`ringgeo.coverage` and the
identity every partner is matched to (``ori`` column of
:func:`ringgeo.load_partners`). :func:`with_partners` marks which agencies are
partners on a partner table's ``as_of`` date.

Every input row is kept: problems (no coordinates, a county not matched, a
territory, a municipal department without a Census municipality, a county the
FBI record names that its municipality does not lie in) are flags in
``attrs["quality"]``; ``docs/agencies.md`` explains each rule.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

from . import data, tablecache
from ._config import memoized
from ._corrections import read_corrections
from ._frames import without_attrs
from ._linkgeo import default_index
from ._linkrecord import link_record
from ._rowchecks import coordinates, fail_first, require_columns
from .exceptions import InputError, ParameterError
from .geography import source_paths
from .states import STATES_AND_DC, validate_state

__all__ = ["AGENCY_FILE", "AGENCY_TYPES", "UNIVERSE_TYPES", "COLUMNS", "FBI_TYPES",
           "AGENCY_CORRECTION_FIELDS", "read_agency_corrections", "read_agencies",
           "load_agencies", "with_partners", "agency_type_of"]

#: Registry name of the FBI agency list.
AGENCY_FILE = "fbi-agencies-2018.csv"
#: Normalized agency types, in the order tables list them.
AGENCY_TYPES = ("police", "sheriff", "county_police", "state", "university", "tribal", "other")
#: Types that make up the universe of the "share of agencies partnered" columns:
#: local police departments, sheriffs and county police departments.
UNIVERSE_TYPES = ("police", "sheriff", "county_police")
#: FBI ``agency_type_name`` values (and the normalized type each gives when the
#: name does not decide; see :func:`agency_type_of`).
FBI_TYPES = {"City": "police", "County": "sheriff", "State Police": "state",
             "Other State Agency": "state", "University or College": "university",
             "Tribal": "tribal", "Other": "other"}
#: Columns of :func:`load_agencies`, in order.
COLUMNS = ("ori", "agency", "agency_type", "agency_type_raw", "jurisdiction_type", "state",
           "county_raw", "county_fips", "primary_county_fips", "muni_geoid", "muni_name",
           "muni_kind", "muni_population", "latitude", "longitude", "row", "geometry")
_FIELDS = ("agency_name", "agency_type_name", "county_name", "latitude", "longitude", "ori",
           "state_abbr", "state_name")
#: FBI state codes that differ from USPS codes.
_FBI_STATE = {"NB": "NE", "GM": "GU"}
#: The FBI's way of telling same-name townships apart: "Washington Township,
#: Warren County Police Department", "Perry Township Police Department, Stark County".
_COUNTY_TAG = re.compile(r",\s*([^,]+?)\s+County\b")
_SHERIFF = re.compile(r"\bsheriff", re.IGNORECASE)
_POLICE = re.compile(r"\bpolice\b", re.IGNORECASE)
_REGIONAL = re.compile(r"\b(regional|authority)\b", re.IGNORECASE)
#: A county an agency's name names ("Metro Police Authority Genesee County",
#: "Baltimore City Sheriff's Office"), tried when the record names none.
_NAMED_COUNTY = re.compile(r"([A-Z][\w.'-]*(?: [A-Z][\w.'-]*)?) (County|Parish|City)\b")


# ---------------------------------------------------------------------- reading
def read_agencies(path) -> pd.DataFrame:
    r"""Read and check an FBI agency list (the Crime Data API ``agencies`` CSV).

    Parameters
    ----------
    path : str or path-like
        A CSV with at least the columns ``agency_name, agency_type_name,
        county_name, latitude, longitude, ori, state_abbr, state_name``.

    Returns
    -------
    pandas.DataFrame
        Those columns as strings (blank cells are NA), ``latitude`` and
        ``longitude`` as float, plus ``row`` (line number in the file, header =
        1). One row per input row, in file order.

    Raises
    ------
    InputError
        The file cannot be read, lacks a column, has a blank or repeated
        ``ori``, an unknown ``agency_type_name`` or a coordinate that is not a
        number in range; the message names the file, line and field.

    Examples
    --------
    >>> import io, pathlib, tempfile
    >>> text = ("agency_name,agency_type_name,county_name,latitude,longitude,ori,"
    ...         "state_abbr,state_name\n"
    ...         "Upper Darby Township Police Department,City,DELAWARE,39.96,-75.27,"
    ...         "PA0233700,PA,Pennsylvania\n")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "agencies.csv"
    >>> _ = path.write_text(text)
    >>> read_agencies(path)[["ori", "row"]].values.tolist()
    [['PA0233700', 2]]
    """
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise InputError(f"FBI agency list {path}: cannot be read as a UTF-8 CSV ({err}).") \
            from err
    require_columns(raw, _FIELDS, f"FBI agency list {path}",
                    f"expected the Crime Data API agency list with the columns "
                    f"{', '.join(_FIELDS)}.")
    frame = raw[list(_FIELDS)].apply(lambda s: s.str.strip()).replace("", pd.NA)
    frame["row"] = np.arange(2, len(frame) + 2)

    def fail(mask, field, what):
        fail_first(frame, mask, field, what, f"FBI agency list {path}")

    if frame["ori"].isna().any():
        fail(frame["ori"].isna(), "ori", "is blank; every agency needs its FBI ORI code.")
    twice = frame["ori"].duplicated()
    if twice.any():
        fail(twice, "ori", "is listed twice; one row per ORI (remove the repeated row).")
    unknown = ~frame["agency_type_name"].isin(list(FBI_TYPES))
    if unknown.any():
        fail(unknown, "agency_type_name",
             f"is not an FBI agency type; expected one of {', '.join(FBI_TYPES)}.")
    coordinates(frame, f"FBI agency list {path}", blank_ok=True)
    return frame


# ---------------------------------------------------------------------- types
def agency_type_of(name: str, fbi_type: str) -> str:
    """Return the normalized type of an agency from its FBI type and its name.

    ``City`` agencies are local police (``police``); ``County`` agencies are
    sheriffs unless the name says police and not sheriff (``county_police``:
    "Fairfax County Police Department", "Baltimore County"), or says police
    department before a sheriff's title (Hawaii's county police, listed as
    "Hawaii Police Department County Sheriff's Office"). ``State Police`` and
    ``Other State Agency`` are ``state``; ``University or College``
    ``university``; ``Tribal`` ``tribal``; ``Other`` ``other``.

    Examples
    --------
    >>> agency_type_of("Polk County Sheriff's Office", "County")
    'sheriff'
    >>> agency_type_of("Fairfax County Police Department", "County")
    'county_police'
    >>> agency_type_of("Hawaii Police Department County Sheriff's Office", "County")
    'county_police'
    >>> agency_type_of("Colonie Town Police Department", "City")
    'police'
    >>> agency_type_of("Baltimore City Sheriff's Office", "City")
    'sheriff'
    """
    kind = FBI_TYPES[fbi_type]
    if kind == "police" and _SHERIFF.search(name):
        return "sheriff"  # "Baltimore City Sheriff's Office" is listed as a City agency
    if kind != "sheriff":
        return kind
    sheriff, police = _SHERIFF.search(name), _POLICE.search(name)
    if police and (not sheriff or police.start() < sheriff.start()):
        return "county_police"
    if not sheriff and fbi_type == "County" and not police and "county" in name.lower():
        return "county_police"  # "Baltimore County": the county police
    return "sheriff"


def _jurisdiction(agency_type: str, name: str) -> str:
    if agency_type == "police":
        return "regional" if _REGIONAL.search(name) else "municipal"
    if agency_type in ("sheriff", "county_police"):
        return "county"
    return "other"


def _parse_name(name: str) -> tuple[str, list]:
    """Return the agency name without the FBI's ", X County" tag, and the tagged counties."""
    counties = [m.group(1) + " County" for m in _COUNTY_TAG.finditer(name)]
    text = _COUNTY_TAG.sub("", name)
    return " ".join(text.split()), counties


# ---------------------------------------------------------------------- building
def _link(frame: pd.DataFrame, county_text: pd.Series) -> dict:
    """Counties and municipality of every agency, through the partner linker."""
    geo = default_index()
    out = {k: [] for k in ("county_fips", "primary_county_fips", "muni_geoid", "muni_name",
                           "muni_kind", "muni_population", "flags")}
    for name, kind, juris, state, county in zip(
            frame["agency"], frame["agency_type"], frame["jurisdiction_type"],
            frame["state"], county_text):
        parsed, tagged = _parse_name(name)
        counties = [c for c in re.split(r"\s*[;,]\s*", county) if c] if isinstance(
            county, str) else []
        flags = []
        if not counties and tagged:
            counties = tagged
        rec = {"agency": parsed, "city": "", "state": state, "county_names": counties,
               "jurisdiction_type": juris if kind in UNIVERSE_TYPES else "other"}
        res = link_record(geo, rec)
        fips, muni = list(res["county_fips"]), res["muni"]
        if not fips:
            fips = _named_county(geo, parsed, state)
            if fips:
                flags.append("county from the agency name: the record names none")
        if muni is not None and res["muni_geoid"] is not None:
            # a municipal department's counties are where its municipality lies,
            # the one holding most of its residents first
            lies = [c for c in muni.counties if c in geo.counties]
            if lies and fips and set(lies) != set(fips):
                flags.append(f"county disagrees with the municipality: the FBI names "
                             f"{', '.join(fips)}, {muni.name} lies in {', '.join(lies)}")
            fips = lies or fips
        if not fips and kind in UNIVERSE_TYPES:
            flags.append("county not matched")
        if juris == "municipal" and res["muni_geoid"] is None and kind == "police":
            flags.append("no municipality: " + "; ".join(
                what for what, _, part in res["review"] if part == "municipality"))
        out["county_fips"].append(tuple(fips))
        out["primary_county_fips"].append(
            fips[0] if muni is not None and res["muni_geoid"] is not None and fips
            else res["primary_county_fips"] if fips else None)
        for col in ("muni_geoid", "muni_name", "muni_kind", "muni_population"):
            out[col].append(res[col])
        out["flags"].append(flags)
    return out


def _named_county(geo, name: str, state: str) -> list:
    """Counties that ``name`` names in ``state`` by exact or normalized match."""
    found = []
    for match in _NAMED_COUNTY.finditer(name):
        words = match.group(1).split()
        for start in range(len(words)):  # "Southern Chester County": try "Chester" too
            hit = geo.match_county(" ".join(words[start:]) + " " + match.group(2), state)
            # the word must be the Census kind: "Jefferson City" is not Jefferson County
            if hit.geoid and hit.method in ("exact", "normalized") and (
                    geo.counties[hit.geoid].kind == match.group(2).lower()):
                found.append(hit.geoid)
                break
    return list(dict.fromkeys(found))


#: Fields an agency correction may change (``ringgeo/agency_corrections.csv``).
AGENCY_CORRECTION_FIELDS = ("county_names",)


def read_agency_corrections(path=None) -> pd.DataFrame:
    """Read and check the agency corrections table (``ringgeo/agency_corrections.csv``).

    Same layout and checks as :func:`ringgeo.linking.read_corrections`, keyed
    on ``ori``; the only correctable field is ``county_names`` (the counties
    as one comma-separated text, used instead of the FBI's ``county_name``).

    Examples
    --------
    >>> table = read_agency_corrections()
    >>> set(table["field"]) <= set(AGENCY_CORRECTION_FIELDS)
    True
    """
    from importlib import resources


    if path is None:
        path = str(resources.files("ringgeo").joinpath("agency_corrections.csv"))
    return read_corrections(path, key="ori", fields=AGENCY_CORRECTION_FIELDS)


def _apply_corrections(frame: pd.DataFrame, table: pd.DataFrame) -> dict:
    """Counties to use instead of the FBI's, by row position; stale rows raise."""
    position = {ori: i for i, ori in enumerate(frame["ori"])}
    counties = {}
    for rec in table.to_dict("records"):
        if rec["ori"] not in position:
            raise InputError(f"corrections file {rec['file']}, line {rec['line']}: ORI "
                             f"{rec['ori']!r} is not in the FBI agency list; fix or delete "
                             f"that row.")
        i = position[rec["ori"]]
        current = frame["county_raw"].iat[i]
        current = "" if pd.isna(current) else str(current)
        if current != rec["old_value"]:
            raise InputError(f"corrections file {rec['file']}, line {rec['line']}: stale "
                             f"correction of {rec['ori']} county_names: expected old_value "
                             f"{rec['old_value']!r} but the FBI list says {current!r}. Check "
                             f"the source and update or delete that row.")
        counties[i] = rec
    return counties


def _build(path: str) -> pd.DataFrame:
    import geopandas as gpd


    raw = read_agencies(path)
    frame = pd.DataFrame({
        "ori": raw["ori"].astype("string"),
        "agency": raw["agency_name"].fillna("").astype("string"),
        "agency_type_raw": raw["agency_type_name"].astype("string"),
    })
    frame["agency_type"] = [agency_type_of(n, t) for n, t in
                            zip(frame["agency"], frame["agency_type_raw"])]
    frame["jurisdiction_type"] = [_jurisdiction(t, n) for t, n in
                                  zip(frame["agency_type"], frame["agency"])]
    codes = raw["state_abbr"].fillna("").map(lambda s: _FBI_STATE.get(s, s))
    states = []
    for code, name, line in zip(codes, raw["state_name"], raw["row"]):
        try:
            states.append(validate_state(code or name))
        except ParameterError as err:
            raise InputError(f"FBI agency list {path}, line {line}, field state_abbr: "
                             f"{code!r} is not a state code ({err}).") from err
    frame["state"] = pd.array(states, dtype="string")
    frame["county_raw"] = raw["county_name"].astype("string")
    frame["latitude"] = raw["latitude"]
    frame["longitude"] = raw["longitude"]
    frame["row"] = raw["row"]

    in_51 = frame["state"].isin(STATES_AND_DC)
    corrected = _apply_corrections(frame, read_agency_corrections())
    counties = frame["county_raw"].copy()
    for i, rec in corrected.items():
        counties.iat[i] = rec["new_value"]
    linked = _link(frame.loc[in_51], counties.loc[in_51])
    for col, values in linked.items():
        full = pd.Series([() if col == "county_fips" else [] if col == "flags" else None]
                         * len(frame), index=frame.index, dtype=object)
        full.loc[in_51] = pd.Series(values, index=frame.index[in_51], dtype=object)
        frame[col] = full
    for col in ("primary_county_fips", "muni_geoid", "muni_name", "muni_kind"):
        frame[col] = frame[col].astype("string")
    frame["muni_population"] = frame["muni_population"].astype("Int64")
    no_point = frame["latitude"].isna() | frame["longitude"].isna()
    flags = []
    for i, (flag, outside, point) in enumerate(zip(frame["flags"], ~in_51, no_point)):
        flag = list(flag)
        if i in corrected:
            flag.append(f"corrected: county_names {corrected[i]['old_value']!r} -> "
                        f"{corrected[i]['new_value']!r} ({corrected[i]['reason']})")
        if outside:
            flag.insert(0, "territory: outside the 50 states and DC, not linked")
        if point:
            flag.append("no coordinates")
        flags.append(tuple(flag))
    frame["flags"] = pd.Series(flags, index=frame.index, dtype=object)
    geometry = gpd.points_from_xy(frame["longitude"], frame["latitude"], crs="EPSG:4326")
    out = gpd.GeoDataFrame(frame[list(COLUMNS[:-1])], geometry=geometry, crs="EPSG:4326")
    out.loc[no_point, "geometry"] = None
    out.attrs["quality"] = _report(out, frame["flags"], path)
    out.attrs["source"] = AGENCY_FILE
    return out


def _report(frame: pd.DataFrame, flags: pd.Series, path: str) -> dict:
    kinds = Counter(f.split(":")[0] for row in flags for f in row)
    local = frame["agency_type"].isin(UNIVERSE_TYPES) & frame["state"].isin(STATES_AND_DC)
    police = frame["agency_type"] == "police"
    municipal = police & (frame["jurisdiction_type"] == "municipal")
    return {
        "file": str(path),
        "rows_read": len(frame),
        "kept": len(frame),
        "types": {t: int((frame["agency_type"] == t).sum()) for t in AGENCY_TYPES},
        "universe": int(local.sum()),
        "universe_with_county": int((local & frame["county_fips"].map(bool)).sum()),
        "police": int(police.sum()),
        "municipal_police": int(municipal.sum()),
        "municipal_police_with_muni": int((municipal & frame["muni_geoid"].notna()).sum()),
        "with_point": int(frame.geometry.notna().sum()),
        "flag_counts": dict(kinds),
        "flagged": [{"row": int(r), "ori": o, "agency": a, "state": s, "flags": list(f)}
                    for r, o, a, s, f in zip(frame["row"], frame["ori"], frame["agency"],
                                             frame["state"], flags) if f],
    }


@memoized(maxsize=2)
def _load(path: str, geography: tuple):  # key: the files read
    return _build(path)


def load_agencies():
    """Return the FBI agency universe: one row per agency (ORI), typed, linked, placed.

    Built from the FBI Crime Data Explorer's agency list of 2018
    (``fbi-agencies-2018.csv``, fetched and verified through the registry) and
    the Census geography of :mod:`ringgeo.geography`. Counties and
    municipalities are found by :func:`ringgeo.linking.link_record`, the rules
    that link partner records (``docs/linking.md``); a municipal department's
    counties are those its municipality lies in (primary: the one holding most
    of its residents), whatever county the FBI record names.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per ORI (18,702 on the registry's file), in file order, columns
        :data:`COLUMNS`: ``ori``, ``agency`` (the FBI name), ``agency_type``
        (one of :data:`AGENCY_TYPES`), ``agency_type_raw`` (the FBI type),
        ``jurisdiction_type`` (``municipal``, ``regional``, ``county``,
        ``other``), ``state`` (USPS), ``county_raw`` (the FBI's county text),
        ``county_fips`` (tuple of 5-character GEOIDs), ``primary_county_fips``,
        ``muni_geoid``, ``muni_name``, ``muni_kind``, ``muni_population``
        (Int64, April 1, 2020 base; local police only), ``latitude``,
        ``longitude`` (NaN where the FBI gives none), ``row`` (line in the
        file), ``flags`` (tuple of reasons, empty when clean), ``geometry``
        (points, EPSG:4326; None without coordinates). ``attrs["quality"]``:
        ``rows_read``, ``kept`` (all), counts by type, ``universe`` (local
        police, sheriffs and county police of the 50 states and DC) and how
        many carry a county, ``municipal_police`` and how many carry their
        municipality, ``with_point``, ``flag_counts`` and ``flagged`` (one
        entry per flagged row: ``row``, ``ori``, ``agency``, ``state``,
        ``flags``); ``attrs["source"]``.

    Raises
    ------
    InputError
        The agency list cannot be read (see :func:`read_agencies`).

    Examples
    --------
    >>> agencies = load_agencies()
    >>> len(agencies), agencies["ori"].is_unique
    (18702, True)
    >>> row = agencies.set_index("ori").loc["NY0015300"]
    >>> row["agency"], row["agency_type"], row["muni_name"]
    ('Colonie Town Police Department', 'police', 'Colonie town')
    >>> agencies.set_index("ori").loc["IL0166000", "county_fips"]  # Lemont: Cook first
    ('17031', '17043', '17197')
    """
    # the parsed-data cache (ringgeo.tablecache), keyed on every registry file
    return tablecache.cached("agencies", {}, lambda: _copy(
        _load(str(data.fetch(AGENCY_FILE)), source_paths())), sources=list(data.registry()))


def _copy(frame):
    out = frame.copy()
    out.attrs = {k: (dict(v) if isinstance(v, dict) else v) for k, v in frame.attrs.items()}
    return out


# ---------------------------------------------------------------------- partners
def with_partners(partners, agencies=None):
    """Return the agency universe with each agency's Ring partnership on a partner table's date.

    Parameters
    ----------
    partners : pandas.DataFrame
        A linked partner table (:func:`ringgeo.load_partners`, any ``as_of``),
        with its ``ori`` column.
    agencies : geopandas.GeoDataFrame, optional
        The agencies (:func:`load_agencies` by default).

    Returns
    -------
    geopandas.GeoDataFrame
        ``agencies`` plus ``partner`` (bool: an agency matched by at least one
        partner row of ``partners``), ``partner_id`` (the ids, joined by ", "
        when several rows name one agency; NA otherwise) and ``activated``
        (the earliest activation, NaT when not a partner or undated).
        ``attrs["as_of"]`` is the partner table's.

    Raises
    ------
    InputError
        ``partners`` has no ``ori`` column (it is not linked).

    Examples
    --------
    >>> import ringgeo
    >>> partners = ringgeo.load_partners()
    >>> marked = with_partners(partners)
    >>> int(marked["partner"].sum()) == partners["ori"].nunique()  # one row per agency
    True
    """
    if not isinstance(partners, pd.DataFrame) or "ori" not in partners.columns:
        raise InputError("partners must be a linked partner table with an 'ori' column: pass "
                         "ringgeo.load_partners() (link=True, the default).")
    agencies = load_agencies() if agencies is None else agencies
    p = pd.DataFrame({"ori": partners["ori"].astype("string").to_numpy(),
                      "partner_id": partners["partner_id"].astype("string").to_numpy(),
                      "activated": pd.to_datetime(partners["activated"]).to_numpy()})
    p = p.loc[p["ori"].notna()]
    named: dict = {}  # ORI -> its partner ids (one Python loop, not a Series per group)
    for ori, partner_id in zip(p["ori"].tolist(), p["partner_id"].tolist()):
        named.setdefault(ori, []).append(partner_id)
    ids = pd.Series([", ".join(sorted(v)) for v in named.values()],
                    index=pd.Index(list(named), dtype="string"), dtype=object)
    first = p.groupby("ori")["activated"].min()
    out = without_attrs(agencies).copy()  # no copies of the quality report per column
    out["partner"] = out["ori"].isin(ids.index)
    out["partner_id"] = out["ori"].map(ids).astype("string")
    # (no partner with an ORI, e.g. the fusion centres of load_atlas: an all-NaT column)
    mapped = (out["ori"].map(first) if len(first)
              else pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]"))
    out["activated"] = pd.to_datetime(mapped).astype("datetime64[ns]")
    out.attrs = dict(agencies.attrs)
    out.attrs["as_of"] = partners.attrs.get("as_of")
    return out
