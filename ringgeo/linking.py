"""Link every partner to the counties and the municipality it serves.

:func:`link_partners` takes the partner table of :func:`ringgeo.load_partners`
(``link=False``) or :func:`ringgeo.read_partners` and returns a new table with
the Census county GEOIDs each record names and, for municipal agencies, the
incorporated place or minor civil division (township, town) the department
serves. Every link says how it was made (``link_method``,
``muni_link_method``), misses are listed in ``attrs["quality"]["links"]``, and
source errors are fixed only through the corrections table
(``ringgeo/corrections.csv``, see :func:`read_corrections`). ``docs/linking.md``
explains each method.
"""

from __future__ import annotations

import copy
import csv
import pathlib
import re
from collections import Counter
from importlib import resources

import numpy as np
import pandas as pd

from . import _agencymatch
from ._cleaning import BLANK_COUNTY
from ._linkgeo import GeoIndex, Muni, default_index, is_missing, preference
from ._names import AGENCY_KINDS, clean, fold, parse_agency
from ._rowchecks import require_columns
from .exceptions import InputError, ParameterError

__all__ = ["link_partners", "link_record", "read_corrections", "CORRECTION_FIELDS", "LINK_METHODS",
           "LINK_COLUMNS",
           "TOWN_POLICE_STATES"]

#: Values of ``link_method`` (how the counties were found), strongest first.
LINK_METHODS = ("exact", "normalized", "agency-name", "municipality", "fuzzy", "correction",
                "unmatched")
#: Columns :func:`link_partners` adds.
LINK_COLUMNS = ("county_fips", "primary_county_fips", "muni_geoid", "muni_name", "muni_kind",
                "muni_population", "link_method", "link_score", "muni_link_method",
                "link_note", "ori", "agency_match_method", "agency_match_score", "latitude",
                "longitude")
#: Values of ``agency_match_method`` (how the FBI agency was found), strongest first.
AGENCY_MATCH_METHODS = ("exact", "normalized", "fuzzy", "correction", "unmatched")
#: The agency-identity rules :func:`link_partners` applies after matching, in order
#: (``docs/linking.md#agency-identity-rules``); each change is reported under its name.
AGENCY_RULES = ("same-name municipality", "county from municipality",
                "type against jurisdiction")
#: Fields a correction may change. ``muni_geoid`` overrides the municipality
#: the methods chose (its ``old_value`` is that choice, empty if none); ``ori``
#: overrides the FBI agency the matcher chose (likewise).
CORRECTION_FIELDS = ("state", "city", "county_names", "muni_geoid", "ori")
_CORRECTION_COLUMNS = ("partner_id", "field", "old_value", "new_value", "reason", "evidence")
_REQUIRED = ("partner_id", "agency", "jurisdiction_type", "city", "state", "county_names")
#: Agency names that say the agency serves several municipalities.
_REGIONAL = re.compile(r"\b(regional|authority|villages|townships|boroughs)\b", re.IGNORECASE)
_AGENCY_COUNTY = re.compile(r"^(.+?) (county|parish|borough)\b")
#: States whose towns or townships commonly run a police department named
#: just "X Police Department" beside a village, borough or city of the same
#: name: a municipal match there without a stated kind is listed for review.
TOWN_POLICE_STATES = {"NY", "NJ", "PA", "CT", "MA", "RI", "VT", "NH", "ME"}


# ---------------------------------------------------------------------- corrections
def _default_corrections() -> pathlib.Path:
    return pathlib.Path(str(resources.files("ringgeo").joinpath("corrections.csv")))


def read_corrections(path=None, *, key: str = "partner_id", fields=CORRECTION_FIELDS
                     ) -> pd.DataFrame:
    """Read and check a corrections table.

    Parameters
    ----------
    path : str or path-like, optional
        A CSV with columns ``partner_id, field, old_value, new_value, reason,
        evidence``; default the project's ``ringgeo/corrections.csv``.
    key : str, default "partner_id"
        The column naming the corrected record (``"ori"`` for the agency
        corrections of :mod:`ringgeo.agencies`).
    fields : tuple of str
        The fields that may be corrected.

    Returns
    -------
    pandas.DataFrame
        The corrections as strings (blank cells are ``""``), plus ``line``
        (line number in the file, header = 1) and ``file``.

    Raises
    ------
    InputError
        Missing file or column, a field that cannot be corrected, a blank
        reason or evidence, or two corrections of the same field of one partner.

    Examples
    --------
    >>> table = read_corrections()
    >>> set(table["field"]) <= set(CORRECTION_FIELDS)
    True
    >>> bool((table["evidence"] != "").all())
    True
    """
    path = pathlib.Path(path) if path is not None else _default_corrections()
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InputError(f"corrections file {path}: cannot be read ({err}).") from err
    columns = (key,) + _CORRECTION_COLUMNS[1:]
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(
            f"corrections file {path}: missing column(s) {', '.join(missing)}; a corrections "
            f"table has the columns {', '.join(columns)}.")
    table = pd.DataFrame(rows, columns=list(columns))
    return _check_corrections(table.assign(line=range(2, len(table) + 2), file=str(path)),
                              key=key, fields=fields)


def _check_corrections(table: pd.DataFrame, *, key: str = "partner_id",
                       fields=CORRECTION_FIELDS) -> pd.DataFrame:
    """Clean a corrections table (columns, ``line``, ``file``) and check every row."""
    table = table.copy()
    for column in (key,) + _CORRECTION_COLUMNS[1:]:
        table[column] = pd.Series([clean(v) for v in table[column]], index=table.index,
                                  dtype="str")
    for rec in table.to_dict("records"):
        where = (f"corrections file {rec['file']}, line {rec['line']} "
                 f"({rec[key] or 'no ' + key})")
        if rec["field"] not in fields:
            raise InputError(f"{where}: field {rec['field']!r} cannot be corrected; use one "
                             f"of {', '.join(fields)}.")
        for column in (key, "reason", "evidence"):
            if not rec[column]:
                raise InputError(f"{where}: {column} is blank; every correction names its "
                                 f"record and states its reason and evidence.")
    dup = table.duplicated([key, "field"], keep=False)
    if dup.any():
        lines = table.loc[dup, "line"].tolist()
        raise InputError(f"corrections file {table['file'].iat[0]}, lines {lines}: the same "
                         f"field of one record ({key}) is corrected twice; keep one row.")
    return table


def _as_text(field: str, value) -> str:
    """A field's value as the corrections table writes it (county names joined by ", ")."""
    if field == "county_names":
        return ", ".join(clean(v) for v in _as_list(value))
    return clean(value)


def _apply_corrections(frame: pd.DataFrame, table: pd.DataFrame):
    """Apply state/city/county_names corrections in place; return what was applied."""
    applied: dict[int, list] = {}
    position = {pid: i for i, pid in enumerate(frame["partner_id"])}
    muni_overrides = {}
    for rec in table.itertuples():
        if rec.partner_id not in position:
            continue  # partner not in this table (e.g. sliced with as_of)
        i = position[rec.partner_id]
        if rec.field in ("muni_geoid", "ori"):
            muni_overrides.setdefault(i, []).append(rec)
            continue
        current = _as_text(rec.field, frame[rec.field].iat[i])
        raw = "county_raw" if rec.field == "county_names" else f"{rec.field}_raw"
        if (current == _as_text(rec.field, rec.new_value)
                and raw in frame and clean(frame[raw].iat[i]) == rec.old_value):
            applied.setdefault(i, []).append(rec)  # already applied (a linked table)
            continue
        if current != rec.old_value:
            raise InputError(
                f"corrections file {rec.file}, line {rec.line}: stale correction of "
                f"{rec.partner_id} {rec.field}: expected old_value {rec.old_value!r} but the "
                f"data now say {current!r}. Check the source and update or delete that row.")
        if raw not in frame:
            frame[raw] = pd.Series([_as_text(rec.field, v) or None for v in frame[rec.field]],
                                   index=frame.index, dtype="str")
        if rec.field == "county_names":
            new = _as_list(rec.new_value)
            frame[rec.field] = [new if j == i else v for j, v in enumerate(frame[rec.field])]
        else:
            frame.iloc[i, frame.columns.get_loc(rec.field)] = rec.new_value or None
        applied.setdefault(i, []).append(rec)
    return applied, muni_overrides


# ---------------------------------------------------------------------- one row
def _as_list(value) -> list:
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
    """An incorporated place, then the larger one; with a stated kind, the larger one."""
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
    """The municipality of a municipal agency, or of any record that names no county.

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
    """A record naming no county takes its agency name's county, else its municipality's."""
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


# ---------------------------------------------------------------------- public
def link_partners(
        partners: pd.DataFrame, *, corrections=None) -> pd.DataFrame:
    """Link each partner to its Census counties and, if municipal, its municipality.

    Corrections are applied first (only through the corrections table), then
    every county the record names is looked up in the row's state: ``exact``
    (the Census name as written), ``normalized`` (case, diacritics, St./Saint,
    ``"(city)"``, descriptor and spacing differences), ``fuzzy`` (rapidfuzz
    ratio >= 85, listed for review). A record without a usable county takes
    the county from the agency's name (``agency-name``, "X County Sheriff's
    Office") or from its municipality (``municipality``). Municipal agencies are
    linked to the place or minor civil division their own name names (inside
    the record's counties first), else to their city; an incorporated place is
    preferred unless the agency name says township, town, village or borough.
    County agencies get counties only. Nothing is dropped: misses are
    ``unmatched`` and listed in ``attrs["quality"]["links"]["review"]``.

    Parameters
    ----------
    partners : pandas.DataFrame
        A partner table (columns ``partner_id, agency, jurisdiction_type, city,
        state, county_names``; ``row`` used in the report when present). It is
        not modified.
    corrections : str, path-like, pandas.DataFrame or False, optional
        The corrections table (see :func:`read_corrections`); default the
        project's ``ringgeo/corrections.csv``; ``False`` applies none.
        Corrections of partners absent from ``partners`` are ignored.

    Returns
    -------
    pandas.DataFrame
        A copy of ``partners`` plus :data:`LINK_COLUMNS`: ``county_fips``
        (tuple of 5-character GEOIDs), ``primary_county_fips``, ``muni_geoid``
        (7 characters for a place, 10 for a minor civil division), ``muni_name``,
        ``muni_kind`` (``place``/``mcd``), ``muni_population`` (Int64, April 1,
        2020 estimates base), ``link_method`` (one of :data:`LINK_METHODS`),
        ``link_score`` (fuzzy only), ``muni_link_method`` (NA for non-municipal
        agencies) and ``link_note``. Corrected columns keep their ``*_raw``
        value; ``attrs["quality"]["links"]`` holds the counts by method, the
        corrections applied and every unmatched or low-confidence row.

    Raises
    ------
    InputError
        A required column is missing, or a correction is stale (its
        ``old_value`` no longer matches the data) or names an unknown GEOID.
    ParameterError
        ``corrections`` is not a path, a table or False.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({
    ...     "partner_id": ["X1", "X2"], "agency": ["Norfolk Police Department",
    ...     "Upper Darby Township Police Department"], "jurisdiction_type": ["municipal"] * 2,
    ...     "city": ["Norfolk", "Upper Darby"], "state": ["VA", "PA"],
    ...     "county_names": [["Norfolk (city) County"], ["Delaware County"]]})
    >>> linked = link_partners(rows, corrections=False)
    >>> linked["county_fips"].tolist()
    [('51710',), ('42045',)]
    >>> linked["link_method"].tolist()
    ['normalized', 'exact']
    >>> linked[["muni_geoid", "muni_name"]].values.tolist()
    [['5157000', 'Norfolk city'], ['4204579000', 'Upper Darby township']]
    """
    if not isinstance(partners, pd.DataFrame):
        raise ParameterError(f"partners must be a pandas DataFrame, not "
                             f"{type(partners).__name__}.")
    require_columns(partners, _REQUIRED, "the partner table",
                    "pass the table of ringgeo.load_partners(link=False) or read_partners().")
    table = _corrections_table(corrections)
    frame = partners.copy()
    # work without attrs: pandas deep-copies them on every column access, and
    # load_partners' attrs hold the whole quality report
    attrs = copy.deepcopy(partners.attrs)
    frame.attrs = {}
    frame["county_names"] = [_as_list(v) for v in frame["county_names"]]
    _undo_type_rule(frame, attrs)
    applied, overrides = _apply_corrections(frame, table)
    geo = default_index()
    columns = [frame[c].tolist() for c in _REQUIRED]
    results = [link_record(geo, dict(zip(_REQUIRED, values))) for values in zip(*columns)]

    matcher = _agencymatch.default_index()
    _apply_overrides(overrides, "muni_geoid", applied,
                     lambda i, rec: _override_muni(geo, results[i], rec))
    for res, agency, state in zip(results, frame["agency"].tolist(), frame["state"].tolist()):
        _match_agency(matcher, res, clean(agency), clean(state))
    _apply_overrides(overrides, "ori", applied,
                     lambda i, rec: _override_ori(matcher, results[i], rec))
    rules = _apply_agency_rules(geo, frame, results)
    _mark_corrected(results, applied)
    _write_columns(frame, results)
    attrs.setdefault("quality", {})["links"] = _links_report(frame, results, applied, table,
                                                             rules)
    frame.attrs = attrs
    return frame


def _corrections_table(corrections) -> pd.DataFrame:
    """The checked corrections table of ``link_partners(corrections=...)``."""
    if corrections is False:
        return pd.DataFrame(columns=list(_CORRECTION_COLUMNS) + ["line", "file"])
    if corrections is None or isinstance(corrections, (str, pathlib.PurePath)):
        return read_corrections(corrections)
    if not isinstance(corrections, pd.DataFrame):
        raise ParameterError(f"corrections must be a path, a DataFrame or False, not "
                             f"{type(corrections).__name__}.")
    table = corrections
    require_columns(table, _CORRECTION_COLUMNS, "corrections table",
                    f"a corrections table has the columns {', '.join(_CORRECTION_COLUMNS)}.")
    if "line" not in table:
        table = table.assign(line=range(2, len(table) + 2))
    if "file" not in table:
        table = table.assign(file="<DataFrame>")
    return _check_corrections(table.fillna("")) if len(table) else table


def _apply_overrides(overrides: dict, field: str, applied: dict, override) -> None:
    """Call ``override(i, rec)`` for every override row of ``field``; record it applied."""
    for i, recs in overrides.items():
        for rec in recs:
            if rec.field == field:
                override(i, rec)
                applied.setdefault(i, []).append(rec)


def _mark_corrected(results: list, applied: dict) -> None:
    """Links that a correction made say so (method ``correction``, a note)."""
    for i, recs in applied.items():
        res = results[i]
        fields = {r.field for r in recs}
        if fields & {"state", "county_names"} and res["county_fips"]:
            res["link_method"] = "correction"
        if "city" in fields and res["muni_geoid"] and res["muni_link_method"] != "agency-name":
            res["muni_link_method"] = "correction"
        res["notes"].append("corrected: " + "; ".join(
            f"{r.field} {r.old_value!r} -> {r.new_value!r} ({r.reason})" for r in recs))


def _override(rec, current, table: dict, what: str):
    """Check an override row of the corrections table against the methods' choice; return
    the record its ``new_value`` names (None for an empty one)."""
    if (current or "") != rec.old_value:
        raise InputError(
            f"corrections file {rec.file}, line {rec.line}: stale correction of "
            f"{rec.partner_id} {rec.field}: expected the methods to give {rec.old_value!r} "
            f"but they give {current or ''!r}. Update or delete that row.")
    found = table.get(rec.new_value)
    if rec.new_value and found is None:
        raise InputError(f"corrections file {rec.file}, line {rec.line}: new_value "
                         f"{rec.new_value!r} is not {what}.")
    return found


def _override_muni(geo, res, rec) -> None:
    muni = _override(rec, res["muni_geoid"], geo.munis, "a municipality GEOID")
    _set_muni(res, muni, "correction")
    res["review"] = [r for r in res["review"] if r[2] != "municipality"]


def _override_ori(matcher, res, rec) -> None:
    agency = _override(rec, res["ori"], matcher.agencies, "an ORI of the FBI agency list")
    _set_agency(res, agency, "correction", None)
    res["review"] = [r for r in res["review"] if r[2] != "agency"]


def _set_agency(res, agency, method, score) -> None:
    res.update(ori=agency.ori if agency else None, agency_match_method=method,
               agency_match_score=score, agency_obj=agency,
               latitude=agency.latitude if agency else float("nan"),
               longitude=agency.longitude if agency else float("nan"))


def _match_agency(matcher, res, agency: str, state: str) -> None:
    found = matcher.match(agency, state, res["county_fips"], res["muni_geoid"])
    _set_agency(res, found.agency, found.method, found.score)
    if found.method == "unmatched":
        res["review"].append((f"no FBI agency: {found.note}", [], "agency"))
    elif found.note:
        res["notes"].append(found.note)
        if found.method == "fuzzy" or "several" in found.note:
            res["review"].append((found.note, [], "agency"))


# ---------------------------------------------------------------------- agency rules
def _undo_type_rule(frame: pd.DataFrame, attrs: dict) -> None:
    """Relinking a linked table starts from the jurisdiction types the rules changed."""
    changes = attrs.get("quality", {}).get("links", {}).get("agency_rules", {})
    before = {c["partner_id"]: c["before"][0]
              for c in changes.get("type against jurisdiction", [])}
    if before:
        frame["jurisdiction_type"] = [before.get(pid, j) for pid, j in
                                      zip(frame["partner_id"], frame["jurisdiction_type"])]


def _apply_agency_rules(geo: GeoIndex, frame: pd.DataFrame, results: list) -> dict:
    """Apply :data:`AGENCY_RULES` in order; return the changes of each rule."""
    changes = {rule: [] for rule in AGENCY_RULES}
    juris = frame["jurisdiction_type"].tolist()
    ids = frame["partner_id"].tolist()
    for i, res in enumerate(results):
        agency = res.get("agency_obj")
        log = {rule: changes[rule] for rule in AGENCY_RULES}
        new_juris = _rule_type(geo, res, agency, juris[i], ids[i], log)
        if new_juris != juris[i]:
            juris[i] = new_juris
        _rule_same_name(geo, res, agency, juris[i], ids[i], log)
        _rule_county(geo, res, juris[i], ids[i], log)
    if "jurisdiction_type_raw" not in frame:
        frame["jurisdiction_type_raw"] = frame["jurisdiction_type"]
    changed = pd.Series(juris, index=frame.index, dtype="str") != frame["jurisdiction_type"]
    raw = frame["jurisdiction_type_raw"].astype("object")
    frame["jurisdiction_type_raw"] = raw.where(raw.notna() | ~changed,
                                               frame["jurisdiction_type"])
    frame["jurisdiction_type"] = pd.Series(juris, index=frame.index, dtype="str")
    return changes


def _set_muni(res, muni, method) -> None:
    res.update(muni_geoid=muni and muni.geoid, muni_name=muni and muni.name,
               muni_kind=muni and muni.kind, muni_population=muni and muni.population,
               muni_link_method=method, muni=muni)


def _rule_type(geo, res, agency, juris: str, pid: str, log: dict) -> str:
    """The agency's FBI type and name decide a contradicting jurisdiction type."""
    if agency is None:
        return juris
    wanted = {"county_police": "county", "sheriff": "county"}.get(agency.agency_type)
    if agency.agency_type == "police":
        wanted = agency.jurisdiction
    if (wanted is None or wanted == juris or juris == "other"
            or res["muni_link_method"] == "correction"):
        return juris
    before = (juris, res["muni_geoid"])
    if wanted == "county":
        _set_muni(res, None, None)
    elif wanted == "municipal":
        muni = geo.munis.get(agency.muni_geoid) if agency.muni_geoid else None
        _set_muni(res, muni, "agency" if muni else "unmatched")
    else:  # regional
        _set_muni(res, None, None)
    res["review"] = [r for r in res["review"] if r[2] != "municipality"]
    res["notes"].append(f"jurisdiction {juris} -> {wanted}: the FBI lists {agency.name} "
                        f"({agency.ori}) as {agency.agency_type.replace('_', ' ')}"
                        + (" (regional)" if wanted == "regional" else ""))
    log["type against jurisdiction"].append(
        {"partner_id": pid, "ori": agency.ori, "before": list(before),
         "after": [wanted, res["muni_geoid"]]})
    return wanted


def _rule_same_name(geo, res, agency, juris: str, pid: str, log: dict) -> None:
    """Where a town and a village share a name, the FBI list says whose department it is."""
    if (agency is None or juris != "municipal" or agency.agency_type != "police"
            or res["muni_link_method"] == "correction" or not agency.muni_geoid
            or agency.muni_geoid == res["muni_geoid"]
            or res["muni"] is None):
        return
    theirs = geo.munis.get(agency.muni_geoid)
    if theirs is None or theirs.base != res["muni"].base:
        return
    before = res["muni_geoid"]
    res["notes"].append(f"municipality {res['muni_name']} -> {theirs.name}: the FBI list "
                        f"names the department {agency.name} ({agency.ori})")
    _set_muni(res, theirs, "agency")
    res["review"] = [r for r in res["review"] if not r[0].startswith("ambiguous municipality")]
    log["same-name municipality"].append({"partner_id": pid, "ori": agency.ori,
                                          "before": before, "after": theirs.geoid})


def _rule_county(geo, res, juris: str, pid: str, log: dict) -> None:
    """A municipal department's counties are the ones its municipality lies in."""
    muni = res["muni"]
    if juris != "municipal" or muni is None or not res["muni_geoid"]:
        return
    lies = tuple(c for c in muni.counties if c in geo.counties)
    if not lies or lies == tuple(res["county_fips"]):
        return
    before = tuple(res["county_fips"])
    if set(before) != set(lies):
        res["review"].append((f"the record's county {', '.join(before) or 'none'} disagrees "
                              f"with where {muni.name} lies ({', '.join(lies)}): the "
                              f"municipality's counties are used", [], "county"))
        res["notes"].append(f"counties {', '.join(before) or 'none'} -> {', '.join(lies)} "
                            f"(where {muni.name} lies)")
    res["county_fips"] = lies
    res["primary_county_fips"] = lies[0]
    log["county from municipality"].append({"partner_id": pid, "before": list(before),
                                            "after": list(lies)})


def _write_columns(frame: pd.DataFrame, results: list) -> None:
    frame["county_fips"] = pd.Series([r["county_fips"] for r in results], index=frame.index,
                                     dtype=object)
    for column in ("primary_county_fips", "muni_geoid", "muni_name", "muni_kind"):
        frame[column] = pd.Series([r[column] for r in results], index=frame.index, dtype="str")
    frame["muni_population"] = pd.Series([r["muni_population"] for r in results],
                                         index=frame.index, dtype="Int64")
    frame["link_method"] = pd.Series([r["link_method"] for r in results], index=frame.index,
                                     dtype="str")
    frame["link_score"] = pd.Series([r["link_score"] for r in results], index=frame.index,
                                    dtype="float64")
    frame["muni_link_method"] = pd.Series([r["muni_link_method"] for r in results],
                                          index=frame.index, dtype="str")
    frame["link_note"] = pd.Series(["; ".join(r["notes"]) or None for r in results],
                                   index=frame.index, dtype="str")
    frame["ori"] = pd.Series([r["ori"] for r in results], index=frame.index, dtype="str")
    frame["agency_match_method"] = pd.Series([r["agency_match_method"] for r in results],
                                             index=frame.index, dtype="str")
    for column in ("agency_match_score", "latitude", "longitude"):
        frame[column] = pd.Series([r[column] for r in results], index=frame.index,
                                  dtype="float64")


def _links_report(frame, results, applied, table, rules) -> dict:
    rows = frame["row"].tolist() if "row" in frame else [None] * len(frame)
    municipal = frame["jurisdiction_type"] == "municipal"
    review = [{"row": row, "partner_id": pid, "agency": agency, "state": state,
               "problem": what, "candidates": [str(c) for c in candidates]}
              for row, pid, agency, state, res in zip(
                  rows, frame["partner_id"].tolist(), frame["agency"].tolist(),
                  frame["state"].tolist(), results)
              for what, candidates, _ in res["review"]]
    return {
        "methods": dict(Counter(r["link_method"] for r in results)),
        "muni_methods": dict(Counter(r["muni_link_method"] for r in results
                                     if r["muni_link_method"] is not None)),
        "with_county": int(sum(bool(r["county_fips"]) for r in results)),
        "rows": len(results),
        "municipal": int(municipal.sum()),
        "municipal_with_muni": int((municipal & frame["muni_geoid"].notna()).sum()),
        "corrections_file": str(table["file"].iat[0]) if len(table) else None,
        "corrections_applied": [{"partner_id": r.partner_id, "field": r.field,
                                 "old_value": r.old_value, "new_value": r.new_value,
                                 "line": int(r.line)} for recs in applied.values() for r in recs],
        "agency_methods": dict(Counter(r["agency_match_method"] for r in results)),
        "with_ori": int(sum(r["ori"] is not None for r in results)),
        "agency_rules": rules,
        "review": review,
    }
