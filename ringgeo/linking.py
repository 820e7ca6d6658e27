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
import pathlib
from collections import Counter

import pandas as pd

from . import _agencymatch
from ._corrections import (
    CORRECTION_COLUMNS,
    CORRECTION_FIELDS,
    check_corrections,
    read_corrections,
)
from ._linkgeo import GeoIndex, default_index
from ._linkrecord import LINK_METHODS, TOWN_POLICE_STATES, as_list, link_record
from ._names import clean
from ._rowchecks import require_columns
from .exceptions import InputError, ParameterError

__all__ = ["link_partners", "link_record", "read_corrections", "CORRECTION_FIELDS", "LINK_METHODS",
           "LINK_COLUMNS",
           "TOWN_POLICE_STATES"]

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
_REQUIRED = ("partner_id", "agency", "jurisdiction_type", "city", "state", "county_names")


def _as_text(field: str, value) -> str:
    """Return a field's value as the corrections table writes it.

    County names are joined by ", ".
    """
    if field == "county_names":
        return ", ".join(clean(v) for v in as_list(value))
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
            new = as_list(rec.new_value)
            frame[rec.field] = [new if j == i else v for j, v in enumerate(frame[rec.field])]
        else:
            frame.iloc[i, frame.columns.get_loc(rec.field)] = rec.new_value or None
        applied.setdefault(i, []).append(rec)
    return applied, muni_overrides


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
    frame["county_names"] = [as_list(v) for v in frame["county_names"]]
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
    """Return the checked corrections table of ``link_partners(corrections=...)``."""
    if corrections is False:
        return pd.DataFrame(columns=list(CORRECTION_COLUMNS) + ["line", "file"])
    if corrections is None or isinstance(corrections, (str, pathlib.PurePath)):
        return read_corrections(corrections)
    if not isinstance(corrections, pd.DataFrame):
        raise ParameterError(f"corrections must be a path, a DataFrame or False, not "
                             f"{type(corrections).__name__}.")
    table = corrections
    require_columns(table, CORRECTION_COLUMNS, "corrections table",
                    f"a corrections table has the columns {', '.join(CORRECTION_COLUMNS)}.")
    if "line" not in table:
        table = table.assign(line=range(2, len(table) + 2))
    if "file" not in table:
        table = table.assign(file="<DataFrame>")
    return check_corrections(table.fillna("")) if len(table) else table


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
    """Check an override row of the corrections table against the methods' choice.

    Return the record its ``new_value`` names (None for an empty one).
    """
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
    """Decide a contradicting jurisdiction type by the agency's FBI type and name."""
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
    """Set a municipal department's counties to the ones its municipality lies in."""
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
