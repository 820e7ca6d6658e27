"""Private cleaning of partner records: text, states, counties, dates, agency types.

``ringgeo.partners`` calls :func:`clean_record` on every raw record that
``ringgeo._readers`` returns. Each problem found becomes a flag
``(field, reason)``; a reason starts with a short kind before the first
colon (``"blank county"``, ``"unparseable date: ..."``), which the quality
report counts.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from ._names import strip_invisible
from .exceptions import ParameterError
from .states import validate_state

BLANK_COUNTY = {"", "#n/a", "n/a", "na", "none", "null", "-", "--", "unknown", "?"}
_SPACES = re.compile(r"\s+")
_LEA = {"police": "police", "police department": "police", "sheriff": "sheriff",
        "sheriff's office": "sheriff", "constables": "other", "constable": "other",
        "district attorney": "other", "prosecutor": "other", "other": "other"}
_JURIS = {"municipal": "municipal", "city": "municipal", "town": "municipal",
          "township": "municipal", "village": "municipal", "county": "county",
          "parish": "county", "regional": "regional", "state": "other", "tribal": "other",
          "university": "other", "college": "other", "other": "other"}
# the Atlas' other types, found in the rows of its other technologies (2020-10-07 export;
# no Ring row has them): state-wide police forces are police of no local jurisdiction
_LEA.update({"state police": "police", "highway patrol": "police", "transit police": "police",
             "public safety": "police"})
_LEA.update(dict.fromkeys(
    ["fusion center", "dmv", "dhs", "homeland security", "corrections", "state agency",
     "juvenile", "task force", "attorney general", "parks", "county attorney", "probation",
     "environmental services enforcement", "animal control", "marshals", "mental health",
     "crash team", "tax board", "school district", "municipal", "medical examiner",
     "rangers", "parking"], "other"))
_JURIS.update({"borough": "municipal"})
_JURIS.update(dict.fromkeys(
    ["federal", "territory", "school district", "airport", "transit", "cross-jurisdictional",
     "port", "school", "statewide", "police"], "other"))
# Ring's first police partnerships date from 2018; earlier dates are suspicious.
FIRST_YEAR = 2018


# --------------------------------------------------------------------- cleaning helpers
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _clean_text(value, legacy_encoding: bool = False) -> tuple[str, bool]:
    """Return (cleaned text, whether characters lost to encoding were removed)."""
    if value is None:
        return "", False
    text = str(value).replace("\u00a0", " ").replace("\u202f", " ").replace("\u2007", " ")
    text = strip_invisible(text)  # format characters (U+200E, U+FEFF, ...) go
    text = _CONTROL.sub(" ", text)
    # U+FFFD, or "?" in a cp1252/Latin-1 file, stands for a character the encoding lost
    lost = "\ufffd" in text or (legacy_encoding and "?" in text)
    if lost:
        text = text.replace("\ufffd", "")
        text = text.replace("?", "") if legacy_encoding else text
    return _SPACES.sub(" ", text).strip(), lost


def _split_counties(text: str) -> list[str]:
    """Split a multi-county field; keep each name as written."""
    plural = re.search(r"\s+(Counties|Parishes)$", text, flags=re.IGNORECASE)
    if plural:  # "Collin and Dallas Counties"
        word = "County" if plural.group(1).lower() == "counties" else "Parish"
        stem = text[:plural.start()]
        return [f"{p} {word}" for p in re.split(r"\s*(?:,|;|/|&|\band\b)\s*", stem) if p]
    names = []
    for part in re.split(r"\s*[,;/]\s*", text):
        # " and " / "&" separate counties only after a county word ("Lewis and Clark
        # County" is one county).
        marked = re.sub(r"\b(County|Parish|Borough)\s+(?:and|&)\s+", "\\1\0", part,
                        flags=re.IGNORECASE)
        pieces = marked.split("\0")
        names.extend(p.strip() for p in pieces if p.strip())
    return names


_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y")


_EXCEL_SERIAL = re.compile(r"\d{5}(?:\.0+)?")


def _parse_date(text: str) -> dt.date | None:
    """Parse one activation date (US month-first); raise ValueError when impossible."""
    match = re.fullmatch(r"(\d{1,2})[/-](\d{1,2})[/-](\d{2}|\d{4})", text)
    if match:
        month, day, year = (int(g) for g in match.groups())
        if len(match.group(3)) == 2:  # Excel's rule: 00-29 -> 2000s, 30-99 -> 1900s
            year += 2000 if year < 30 else 1900
        return dt.date(year, month, day)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+Z?)?", text)
    if match:
        return dt.date(*(int(g) for g in match.groups()))
    if _EXCEL_SERIAL.fullmatch(text):  # an Excel serial day number
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(float(text)))
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise ValueError(text)


def _types_from_name(agency: str) -> tuple[str, str]:
    """Derive (agency_type, jurisdiction_type) from an agency's name."""
    name = agency.casefold().replace("\u2019", "'")
    county = re.search(r"\b(county|parish)\b", name) is not None
    if "sheriff" in name:
        return "sheriff", "county"
    if re.search(r"\b(constable|district attorney|prosecutor|attorney)", name):
        return "other", "county" if county else "other"
    if re.search(r"\b(police|public (safety|sfty)|law enforcement|marshal)\b", name):
        # campus, transit, state and tribal forces ("University Park Police" is a city)
        if re.search(r"\b(university of|college of|state university|university police|"
                     r"college police|community college|campus|school district|hospital|"
                     r"airport|transit|state police|highway patrol|tribal|nation)\b", name):
            return "police", "other"
        if "regional" in name:
            return "police", "regional"
        return "police", "county" if county else "municipal"
    return "other", "other"


_FORMULA_START = frozenset("=+-@\t\r")


def formula_like(value) -> bool:
    """Whether a spreadsheet opening a CSV holding ``value`` may run it as a formula.

    A value starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (the
    characters of OWASP's "CSV injection" rule), except a run of dashes ("-", "--": a
    blank). Such values are kept as read and flagged ``formula-like``.

    Examples
    --------
    >>> formula_like('=HYPERLINK("http://x", "Police")'), formula_like("-"), formula_like("A")
    (True, False, False)
    """
    text = "" if value is None else str(value)
    return bool(text) and text[0] in _FORMULA_START and bool(text.strip("- \t\r"))


def _formula_fields(out: dict, rec: dict) -> list[tuple[str, str]]:
    """(field, value) of the record's formula-like values: as cleaned, and as read."""
    found = []
    for field in ("partner_id", "agency", "city"):
        if formula_like(out.get(field)):
            found.append((field, out[field]))
    found += [("county_names", name) for name in out["county_names"] if formula_like(name)]
    for field in ("agency", "agency_type", "jurisdiction_type", "city", "state", "county",
                  "activated"):
        raw = rec.get(field)
        names = out["county_names"]
        cleaned = out.get(field) if field != "county" else names[0] if len(names) == 1 else None
        if formula_like(raw) and raw != cleaned:
            found.append((field + "_raw", raw))
    return found


def clean_text(value) -> str:
    """Return ``value`` as cleaned text: invisible marks, controls and extra spaces removed.

    Examples
    --------
    >>> clean_text(" Vigilant\u200e  Solutions "), clean_text(None)
    ('Vigilant Solutions', '')
    """
    return _clean_text(value)[0]


def dup_key(agency: str, state) -> str:
    name = agency.casefold().replace("\u2019", "'").replace("&", " and ")
    return f"{re.sub(r'[^a-z0-9]+', ' ', name).strip()}|{state}"


def clean_record(rec: dict, meta: dict, ordinal: int, prefix: str) -> tuple[dict, list]:
    """Clean one raw record; return (values, flags) where flags are (field, reason)."""
    legacy = meta["encoding"] in ("cp1252", "latin-1")
    flags = list(rec["problems"])
    out = {"row": rec["row"]}
    for field in ("agency", "city", "state", "county"):
        raw = rec.get(field)
        out[field + "_raw"] = raw
        out[field], lost = _clean_text(raw, legacy)
        if lost:
            flags.append((field, f"encoding loss: removed characters the file's encoding "
                                 f"({meta['encoding']}, e.g. an Excel re-save) could not "
                                 f"hold from {raw!r}"))
    if not out["agency"] and (out["city"] or out["state"]):
        flags.append(("agency", "blank agency: the row names no agency; kept, known only by "
                                "its city and state: fill in the agency's name"))
    pid = _clean_text(rec.get("partner_id"))[0]
    out["partner_id"] = pid or f"{prefix}-{ordinal:04d}"
    if rec.get("partner_id") is not None and not pid:
        flags.append(("partner_id", f"blank id: using {out['partner_id']} instead"))

    if out["state"]:
        try:
            out["state"] = validate_state(out["state"])
        except ParameterError:
            flags.append(("state", f"not a US state: {out['state']!r}; state left missing, "
                                   f"fix the file (USPS code or state name)"))
            out["state"] = None
    else:
        flags.append(("state", "blank state"))
        out["state"] = None

    county = out.pop("county")
    if rec.get("county") is None:
        out["county_names"] = []
    elif county.casefold() in BLANK_COUNTY:
        out["county_names"] = []
        flags.append(("county", "blank county" if not county else
                      f"blank county: {county!r} treated as blank"))
    else:
        out["county_names"] = _split_counties(county)

    derived = None  # from the agency's name, only when a type is missing or unknown
    for field, vocab, pos in (("agency_type", _LEA, 0), ("jurisdiction_type", _JURIS, 1)):
        raw = rec.get(field)
        out[field + "_raw"] = raw
        key = _clean_text(raw)[0].casefold()
        if key in vocab:
            out[field] = vocab[key]
        else:
            derived = derived or _types_from_name(out["agency"])
            out[field] = derived[pos]
            if raw is not None:
                what = f"unknown type: {raw!r}," if key else "blank type:"
                flags.append((field, f"{what} derived {derived[pos]!r} from the agency name"))

    raw_date = rec.get("activated")
    out["activated_raw"] = raw_date
    out["activated"], date_flags = _clean_date(raw_date, meta.get("latest_date"))
    flags.extend(date_flags)
    out["formula_like"] = _formula_fields(out, rec)
    flags.extend((field, f"formula-like: {value!r} starts with {value[0]!r}, which a "
                         f"spreadsheet opening a CSV of it may run as a formula; kept as read "
                         f"(neutralize it when writing a CSV)")
                 for field, value in out["formula_like"])
    return out, flags


def _clean_date(raw_date, latest: dt.date | None) -> tuple[pd.Timestamp | None, list]:
    """Return (activation day or None, flags): undated, unparseable, serial, implausible.

    ``latest`` is the last plausible day: the export date of a named dataset (every
    partnership it lists was active by then), otherwise today.
    """
    latest, when = (latest, "the dataset's export date") if latest else (dt.date.today(), "today")
    date_text = _clean_text(raw_date)[0]
    if not date_text:
        return None, [("activated", "no activation date: kept with activated NaT, "
                                    "excluded whenever as_of is given")]
    try:
        day = _parse_date(date_text)
    except (ValueError, OverflowError):
        return None, [("activated", f"unparseable date: {raw_date!r}; activated left NaT, "
                                    f"expected M/D/YYYY, M/D/YY or YYYY-MM-DD")]
    flags = []
    if _EXCEL_SERIAL.fullmatch(date_text):
        flags.append(("activated", f"excel serial: {date_text!r} read as Excel's day number "
                                   f"for {day}; check it, and format the column as dates"))
    if day.year < FIRST_YEAR:
        # a two-digit year is read by Excel's rule: say how, as '1/1/31' may mean 2031
        read = (f" (read as {day} by Excel's rule for two-digit years: 30-99 are the 1900s)"
                if re.fullmatch(r"\d{1,2}[/-]\d{1,2}[/-]\d{2}", date_text) else "")
        flags.append(("activated", f"implausible date: {date_text!r}{read} is before "
                                   f"{FIRST_YEAR}, when Ring's police partnerships "
                                   f"began; check it"))
    elif day > latest:
        flags.append(("activated", f"implausible date: {date_text!r} ({day}) is after "
                                   f"{latest}, {when}; check it"))
    return pd.Timestamp(day), flags
