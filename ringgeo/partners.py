"""The partner table: read, clean and slice in time the list of Ring's police partners.

:func:`load_partners` returns one row per partnership from the EFF Atlas of
Surveillance export of 2020-10-07 (or from a file of your own), cleaned, with
every input row accounted for in a quality report (:func:`quality_report`).
:func:`read_partners` reads one file from disk and detects its format: the
Atlas CSV export (also after an Excel re-save), Ring's Active Agency Map
exported from Google My Maps as KML/KMZ, or a plain CSV with the columns
``agency, city, state, activated``.

The columns are documented in ``data/README.md`` ("Partner table") and
``docs/design.md``.
"""

from __future__ import annotations

import collections
import copy
import datetime as dt
import os
import pathlib
import re
import stat
import warnings

import numpy as np
import pandas as pd

from . import _cleaning, _readers, data, tablecache
from ._config import memoized
from .exceptions import InputError, ParameterError, warn

__all__ = ["SOURCES", "COLUMNS", "load_partners", "read_partners", "quality_report", "add_cli"]

#: Partner datasets known by name -> registry file.
SOURCES = {"atlas-2020-10-07": "atlas-of-surveillance-20201007.csv"}
#: Date each named dataset was exported: every partnership it lists was active by then.
SNAPSHOT_DATES = {"atlas-2020-10-07": pd.Timestamp("2020-10-07")}
#: The snapshot :func:`load_partners` reads by default, and its export date.
DEFAULT_SNAPSHOT = "atlas-2020-10-07"
EXPORT_DATE = f"{SNAPSHOT_DATES[DEFAULT_SNAPSHOT]:%Y-%m-%d}"

#: The columns of the partner table, in order (``*_raw`` columns follow them).
COLUMNS = ["partner_id", "row", "agency", "agency_type", "jurisdiction_type", "city",
           "state", "county_names", "activated", "source"]
_RAW_ORDER = ["agency", "agency_type", "jurisdiction_type", "city", "state", "county",
              "activated"]

# flag fields/reasons that change values: worth a warning (blanks and duplicates are not)
_SERIOUS = {"unparseable date", "not a US state", "encoding loss", "shifted fields",
            "unknown type", "implausible date", "excel serial", "blank agency", "cut short",
            "mixed encoding"}


def build(records: list[dict], meta: dict, path: pathlib.Path, label: str, *,
          snapshot: pd.Timestamp | None = None):
    """Clean raw records into the partner table; return ``(frame, warning messages)``.

    Shared by :func:`read_partners` and :func:`ringgeo.atlas.load_atlas`: ``records``
    and ``meta`` as :func:`ringgeo._readers.read_records` returns them, ``label`` the
    table's ``source``, ``snapshot`` the day the file was exported (default: that of a
    named dataset). Records holding ``technology`` (Atlas rows of any technology) give
    the table a ``technology`` and a ``vendor`` column, and duplicates are then sought
    within each technology.
    """
    snapshot = snapshot if snapshot is not None else SNAPSHOT_DATES.get(label)
    meta = {**meta, "latest_date": snapshot.date() if snapshot is not None else None}
    rows, flagged, dropped = _clean_rows(records, meta)
    duplicates, duplicate_flags = _find_duplicates(rows)
    flagged = sorted(flagged + duplicate_flags, key=lambda f: f["row"])
    frame = _table(rows, label)
    quality = {
        "file": str(path), "source": label, "format": meta["format"],
        "encoding": meta["encoding"], "rows_read": meta["rows_read"],
        "partner_rows": len(records), "other_technology": meta["other_technology"],
        "blank_records": meta["blank_records"],
        "non_partner_rows": meta["other_technology"] + meta["blank_records"],
        "kept": len(frame),
        "excluded_by_as_of": {"as_of": None, "count": 0, "undated": 0, "after": 0},
        "flagged": flagged, "dropped": dropped, "duplicates": duplicates,
        "formula_like": [{"row": r["row"], "partner_id": r["partner_id"], "field": field,
                          "value": value} for r in rows for field, value in r["formula_like"]],
        "notes": list(meta["notes"]),
    }
    frame.attrs.update(source=label, as_of=None, quality=quality)
    return frame, _warnings(path, rows, flagged, dropped)


def _clean_rows(records: list[dict], meta: dict) -> tuple[list, list, list]:
    """Clean every record: (kept rows, their flags, dropped empty rows)."""
    prefix = {"ring-kml": "KML", "plain-csv": "CSV"}.get(meta["format"], "ROW")
    rows, flagged, dropped = [], [], []
    for ordinal, rec in enumerate(records, start=1):
        out, flags = _cleaning.clean_record(rec, meta, ordinal, prefix)
        if "technology" in rec:  # an Atlas row of any technology (ringgeo.atlas)
            out["technology"] = rec["technology"]
            out["vendor"] = _cleaning.clean_text(rec.get("vendor"))
            if not rec.get("dated", True):  # the Atlas gives no start date: not a flaw
                flags = [f for f in flags if f[0] != "activated"]
        if not (out["agency"] or out["city"] or out["state"]):
            dropped.append({"row": out["row"], "partner_id": out["partner_id"],
                            "reason": "empty partner: no agency, city or state identifies it"})
            continue
        rows.append(out)
        flagged.extend({"row": out["row"], "partner_id": out["partner_id"], "field": f,
                        "reason": r} for f, r in flags)
    return rows, flagged, dropped


def _find_duplicates(rows: list[dict]) -> tuple[list, list]:
    """Rows with the same agency and state, and rows sharing an id (flagged, never dropped)."""
    groups: dict[str, list[dict]] = {}
    for out in rows:  # rows of several technologies: the same agency once per technology
        key = _cleaning.dup_key(out["agency"], out["state"])
        groups.setdefault(f"{key}|{out.get('technology') or ''}", []).append(out)
    duplicates, flagged = [], []
    for group in groups.values():
        if len(group) > 1 and group[0]["agency"]:
            duplicates.append({"agency": group[0]["agency"], "state": group[0]["state"],
                               "rows": [g["row"] for g in group],
                               "partner_ids": [g["partner_id"] for g in group],
                               "rule": "same name"})
            for g in group:
                others = [f"{o['partner_id']} (row {o['row']})" for o in group if o is not g]
                flagged.append({"row": g["row"], "partner_id": g["partner_id"],
                                "field": "agency", "reason": "duplicate: same agency and state as "
                                                             f"{', '.join(others)}"})
    id_counts = collections.Counter(out["partner_id"] for out in rows)
    flagged.extend({"row": out["row"], "partner_id": out["partner_id"], "field": "partner_id",
                    "reason": "duplicate id: the same id is used by several rows"}
                   for out in rows if id_counts[out["partner_id"]] > 1)
    return duplicates, flagged


def _table(rows: list[dict], label: str) -> pd.DataFrame:
    """Return the partner table of the cleaned rows.

    It has a ``*_raw`` column where values changed.
    """
    frame = pd.DataFrame({
        "partner_id": pd.Series([r["partner_id"] for r in rows], dtype="str"),
        "row": np.array([r["row"] for r in rows], dtype="int64"),
        **{c: pd.Series([r[c] or None for r in rows], dtype="str")
           for c in ("agency", "agency_type", "jurisdiction_type", "city", "state")},
        "county_names": pd.Series([r["county_names"] for r in rows], dtype=object),
        "activated": pd.Series(pd.to_datetime([r["activated"] for r in rows]),
                               dtype="datetime64[ns]"),
        "source": pd.Series([label] * len(rows), dtype="str"),
    })
    if rows and "technology" in rows[0]:  # an Atlas table of any technology
        frame["technology"] = pd.Series([r["technology"] for r in rows], dtype="str")
        frame["vendor"] = pd.Series([r["vendor"] or None for r in rows], dtype="string")
    for field in _RAW_ORDER:
        raws = [r.get(field + "_raw") for r in rows]
        if all(v is None for v in raws):
            continue
        if field == "county":
            changed = any(r["county_names"] != ([v] if v else []) for r, v in zip(rows, raws))
        elif field in ("state", "agency", "city"):
            changed = any((v or None) != (r[field] or None) for r, v in zip(rows, raws))
        else:  # types and dates are always re-coded from the source's text
            changed = True
        if changed:
            frame[field + "_raw"] = pd.Series(raws, dtype="str")
    return frame


def _warnings(path: pathlib.Path, rows: list, flagged: list, dropped: list) -> list[str]:
    serious = [f for f in flagged if _flag_kind(f["reason"]) in _SERIOUS]
    messages = []
    if serious or dropped:
        messages.append(
            f"{path.name}: {len(serious)} value(s) could not be read as written and "
            f"{len(dropped)} row(s) were dropped (e.g. row {(serious or dropped)[0]['row']}: "
            f"{(serious or dropped)[0]['reason']}); see ringgeo.quality_report(frame)."
        )
    if not rows and not dropped:
        messages.append(f"{path.name} holds no Ring partnership row.")
    return messages


@memoized(maxsize=8)
def _read_cached(path: str, size: int, mtime_ns: int, label: str):
    # memoized on (path, size, mtime): a file that changes is read again
    records, meta = _readers.read_records(pathlib.Path(path))
    return build(records, meta, pathlib.Path(path), label)


def _fresh_copy(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy(deep=True)
    out["county_names"] = pd.Series([list(v) for v in frame["county_names"]],
                                    index=frame.index, dtype=object)
    out.attrs = copy.deepcopy(frame.attrs)
    return out


def _as_path(path) -> pathlib.Path:
    """Return ``path`` as a Path; a ParameterError for anything else (None, a number, "")."""
    try:
        text = os.fspath(path)
    except TypeError:
        raise ParameterError(
            f"path was {path!r} ({type(path).__name__}), but is expected to be the path of a "
            f"partner file, as a str or pathlib.Path (e.g. read_partners('partners.csv'))."
        ) from None
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not text.strip():
        raise ParameterError(f"path {path!r} is empty: give the path of a partner file "
                             f"(e.g. read_partners('partners.csv')).")
    return pathlib.Path(text).expanduser()


def _read(path, label: str | None) -> pd.DataFrame:
    path = _as_path(path)
    try:
        info = path.stat()
    except (OSError, ValueError):  # ValueError: a NUL character in the path
        info = None
    if info is None or not stat.S_ISREG(info.st_mode):
        _readers.read_records(path)  # raises the InputError that explains the problem
        raise InputError(f"{path} is not a regular file: pass the path of a partner file.")
    frame, messages = _read_cached(str(path.resolve()), info.st_size, info.st_mtime_ns,
                                   label or path.name)
    for message in messages:
        warn(message)
    return _fresh_copy(frame)


def read_partners(path) -> pd.DataFrame:
    """Read a partner file from disk, detecting its format, and clean it.

    Parameters
    ----------
    path : str or os.PathLike
        An Atlas of Surveillance CSV export (as downloaded, or re-saved by Excel:
        BOM, CRLF, cp1252/Latin-1, any quoting, ``;`` or tab delimiters, ``M/D/YY``
        dates), Ring's Active Agency Map exported from Google My Maps (``.kml`` or
        ``.kmz``), or a plain CSV with at least the columns ``agency, city, state,
        activated`` (case-insensitive; optional ``county``, ``agency_type``,
        ``jurisdiction_type``, ``partner_id``).

    Returns
    -------
    pandas.DataFrame
        One row per partnership with the columns of :data:`COLUMNS` and a
        ``*_raw`` column beside each cleaned column whose values changed.
        ``attrs["quality"]`` holds the quality report (see :func:`quality_report`).
        Nothing is dropped silently: rows with problems are kept and flagged.

    Raises
    ------
    ParameterError
        ``path`` is not a path (``None``, a number, an empty string).
    InputError
        The file does not exist, is not a regular file (a folder, a named pipe,
        a device), is larger than ``RINGGEO_MAX_FILE_MB`` MiB (default 256), is
        empty, is not in a known format, or lacks a required column; the message
        names the file and what would fix it.

    Warns
    -----
    UserWarning
        When values could not be read as written (a date that does not parse,
        a state that is not a US state, ...); the rows are kept and flagged.

    Examples
    --------
    >>> import ringgeo
    >>> frame = read_partners(ringgeo.data.fetch("atlas-of-surveillance-20201007.csv"))
    >>> len(frame), frame["state"].notna().all()
    (1501, np.True_)
    >>> frame.loc[0, ["partner_id", "agency", "state", "activated"]].tolist()
    ['AOS3711', 'Greenfield Police Department', 'WI', Timestamp('2018-03-22 00:00:00')]
    """
    return _read(path, None)


_ISO_DAY = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?:[T ][\d:.]*)?")
_YEAR_ONLY = re.compile(r"(\d{4})(?:-\d{1,2})?")


def as_timestamp(as_of) -> pd.Timestamp:
    """Return the day an ``as_of`` value names (time of day and zone dropped).

    A value that names no day raises a ParameterError.

    Shared by :func:`load_partners`, ``ringgeo partners --as-of`` and the notebooks'
    :func:`ringgeo.params.validate_as_of`: a number, a year (or year and month)
    without a day, or text that is not ``YYYY-MM-DD`` is refused, never guessed.
    """
    example = "e.g. '2019-08-28'"
    if isinstance(as_of, str):
        text = as_of.strip()
        year = _YEAR_ONLY.fullmatch(text)
        if year:
            raise ParameterError(
                f"`as_of` was {as_of!r}, a year{' and month' if '-' in text else ''} "
                f"without a day, which is not a date: give a day written YYYY-MM-DD, e.g. "
                f"'{year.group(1)}-12-31' for the partnerships active at the end of "
                f"{year.group(1)}.")
        if not _ISO_DAY.fullmatch(text):
            raise ParameterError(
                f"`as_of` was {as_of!r}, which is not a date written YYYY-MM-DD ({example}); "
                f"use None for every partnership.")
    elif not isinstance(as_of, (dt.date, np.datetime64)):  # also datetime and Timestamp
        raise ParameterError(
            f"`as_of` was {as_of!r} ({type(as_of).__name__}), which is not a date: give a "
            f"date ({example}), written YYYY-MM-DD or None.")
    try:
        stamp = pd.Timestamp(as_of)
    except (ValueError, TypeError, OverflowError):
        stamp = pd.NaT
    if stamp is pd.NaT:
        raise ParameterError(f"`as_of` was {as_of!r}, which is not a date: use a real day "
                             f"written YYYY-MM-DD ({example}) or None.")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()


def apply_as_of(frame: pd.DataFrame, as_of, snapshot: pd.Timestamp | None = None
                ) -> pd.DataFrame:
    """Keep the rows activated on or before ``as_of``; the report counts the rest.

    Used by :func:`load_partners` and :func:`ringgeo.atlas.load_atlas`; ``snapshot`` is
    the file's export date (undated rows are kept from that day on).
    """
    stamp = as_timestamp(as_of)
    first = pd.Timestamp(_cleaning.FIRST_YEAR, 1, 1)
    if stamp < first:
        asked = frame.attrs.get("technology", "ring")
        others = ("" if asked == "ring" else " (the Atlas dates only Ring's rows: the other "
                  "technologies' rows are kept from the file's export date on)")
        raise ParameterError(
            f"`as_of` was {as_of!r}, before {first.date()}: Ring's police partnerships began "
            f"in {_cleaning.FIRST_YEAR}, so no dated row would be left{others}. Use a date "
            f"from {first.date()} on, or None for every row.")
    undated = frame["activated"].isna()
    keep = frame["activated"] <= stamp
    # A dataset exported on day S lists only partnerships active by S: on or after S an
    # undated partnership is known to be active even though its start date is unknown.
    include_undated = snapshot is not None and stamp >= snapshot
    if include_undated:
        keep = keep | undated
    out = frame.loc[keep].reset_index(drop=True)
    out.attrs = frame.attrs
    quality = out.attrs["quality"]
    quality["excluded_by_as_of"] = {
        "as_of": stamp.date().isoformat(),
        "count": int((~keep).sum()),
        "undated": 0 if include_undated else int(undated.sum()),
        "undated_included": int(undated.sum()) if include_undated else 0,
        "after": int((~keep & ~undated).sum()),
    }
    quality["kept"] = len(out)
    out.attrs["as_of"] = stamp
    if undated.any() and not include_undated:
        until = (f" (all are active by the export date {snapshot.date()})"
                 if snapshot is not None else "")
        warn(
            f"as_of={stamp.date()}: {int(undated.sum())} partnership(s) without an activation "
            f"date were excluded: their dates are unknown, they may predate as_of{until}; see "
            f"quality_report(frame)['excluded_by_as_of'].")
    if snapshot is not None and stamp > snapshot:
        warn(
            f"as_of={stamp.date()} is after the dataset's export date {snapshot.date()}: it "
            f"lists no partnership started, or ended, after that day.")
    return out


def load_partners(source="atlas-2020-10-07", *, as_of=None, link=True) -> pd.DataFrame:
    """Return the partner table: one row per Ring police partnership.

    Parameters
    ----------
    source : str or os.PathLike, default "atlas-2020-10-07"
        A partner dataset known by name (``"atlas-2020-10-07"``: the EFF Atlas
        of Surveillance export of 2020-10-07, read from the data registry) or
        the path of a partner file (any format :func:`read_partners` reads).
    as_of : str, datetime.date or pandas.Timestamp, optional
        Keep only partnerships activated on or before this day: a date string
        ``YYYY-MM-DD`` or a date, from 2018-01-01 (Ring's partnerships began in
        2018) on. A number (``2019``), a year or month without a day (``"2019"``)
        or another spelling of a date is refused, never guessed. Partnerships
        without an activation date are then excluded (and counted in the
        quality report, with a warning), except on or after the export date
        of a named dataset (2020-10-07 for ``"atlas-2020-10-07"``): every
        partnership the export lists was active by then, so all are kept.
        ``None`` keeps every partnership.
    link : bool, default True
        Link the partners to census counties and municipalities with
        :func:`ringgeo.linking.link_partners`, adding its columns. Linking
        comes after the ``as_of`` filter.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`COLUMNS` (plus ``*_raw`` and, when linked, the
        linking columns). ``attrs``: ``source``, ``as_of`` (Timestamp or None)
        and ``quality`` (the report of :func:`quality_report`).

    Raises
    ------
    ParameterError
        ``source`` is empty, or neither a known dataset name nor an existing
        file; ``as_of`` is not a ``YYYY-MM-DD`` date or is before 2018-01-01.
    InputError
        The file cannot be read as a partner file (see :func:`read_partners`).

    Examples
    --------
    >>> partners = load_partners(link=False)
    >>> len(partners), partners.attrs["as_of"]
    (1501, None)
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:  # the undated rows are named
    ...     warnings.simplefilter("always")
    ...     august = load_partners(as_of="2019-08-28", link=False)
    >>> len(august), quality_report(august)["excluded_by_as_of"]["undated"]
    (407, 170)
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    as_of=2019-08-28: 170 partnership(s) without an activation date were excluded: ...
    >>> len(load_partners(as_of="2020-10-07", link=False))
    1501
    """
    if isinstance(source, str) and source in SOURCES:
        # the parsed-data cache: one stored table per dataset, as_of and link
        stamp = None if as_of is None else as_timestamp(as_of).date().isoformat()
        # linking reads the geography and the FBI agencies: key on every registry file
        files = list(data.registry()) if link else [SOURCES[source]]
        return tablecache.cached(
            "partners", {"source": source, "as_of": stamp, "link": bool(link)},
            lambda: _load_partners(source, as_of, link), sources=files)
    return _load_partners(source, as_of, link)


def _load_partners(source, as_of, link) -> pd.DataFrame:
    snapshot = None  # export date of a named dataset
    if isinstance(source, str) and not source.strip():
        raise ParameterError(
            f"source {source!r} is empty: give a partner dataset name "
            f"({', '.join(repr(k) for k in SOURCES)}) or the path of a partner file.")
    if isinstance(source, str) and source in SOURCES:
        frame = _read(data.fetch(SOURCES[source]), source)
        snapshot = SNAPSHOT_DATES.get(source)
    elif isinstance(source, (str, os.PathLike)) and pathlib.Path(source).expanduser().exists():
        frame = _read(source, None)
    else:
        raise ParameterError(
            f"source {source!r} is neither a known partner dataset nor an existing file: "
            f"use one of {', '.join(repr(k) for k in SOURCES)} or the path of a partner file "
            f"(Atlas CSV, Ring KML/KMZ or plain CSV)."
        )
    if as_of is not None:
        frame = apply_as_of(frame, as_of, snapshot)
    if not link:
        return frame
    # imported here, not at the top: linking loads geopandas and rapidfuzz (about 0.6 s),
    # which `ringgeo partners --no-link`, the command line's start and read_partners skip
    from . import linking

    linked = linking.link_partners(frame)
    for key, value in frame.attrs.items():
        linked.attrs.setdefault(key, value)
    flag_same_agency(linked)
    return linked


def flag_same_agency(frame: pd.DataFrame) -> None:
    """Flag rows linked to the same FBI agency (``ori``) in the same state as duplicates.

    The rule: two or more rows whose ``ori`` and ``state`` are equal name one agency,
    whatever their names ("Oviedo Police Department", "Oviedo City Police Department").
    A group that is already a same-name duplicate only gains its ``ori``; any other group
    is added to ``duplicates`` (``rule: "same FBI agency"``) and each of its rows flagged
    ``duplicate`` on the field ``ori``. Kept, never dropped.
    """
    quality = frame.attrs.get("quality")
    if not isinstance(quality, dict) or "ori" not in frame:
        return
    groups: dict[tuple, list[tuple]] = {}
    techs = frame["technology"].tolist() if "technology" in frame else [None] * len(frame)
    for row, pid, agency, state, ori, tech in zip(
            frame["row"].tolist(), frame["partner_id"].tolist(), frame["agency"].tolist(),
            frame["state"].tolist(), frame["ori"].tolist(), techs):
        if isinstance(ori, str) and isinstance(state, str):  # within one technology
            groups.setdefault((ori, state, tech), []).append((row, pid, agency))
    by_ids = {frozenset(d["partner_ids"]): d for d in quality.get("duplicates", [])}
    added = []
    for (ori, state, _), group in groups.items():
        if len(group) < 2:
            continue
        ids = [pid for _, pid, _ in group]
        if frozenset(ids) in by_ids:
            by_ids[frozenset(ids)]["ori"] = ori
            continue
        quality.setdefault("duplicates", []).append(
            {"agency": group[0][2], "state": state, "rows": [r for r, _, _ in group],
             "partner_ids": ids, "rule": "same FBI agency", "ori": ori})
        for i, (row, pid, _) in enumerate(group):
            others = ", ".join(f"{o} (row {r}: {a!r})" for j, (r, o, a) in enumerate(group)
                               if j != i)
            added.append({"row": row, "partner_id": pid, "field": "ori",
                          "reason": f"duplicate: same FBI agency ({ori}) in {state} as "
                                    f"{others}; kept: check whether they are one partnership"})
    if added:
        quality["flagged"] = sorted(quality.get("flagged", []) + added, key=lambda f: f["row"])


# --------------------------------------------------------------------- quality report
def quality_report(frame, *, kind: str = "dict"):
    """Return the quality report of a partner table.

    Every input row is accounted for: ``rows_read == partner_rows +
    non_partner_rows`` and ``partner_rows == kept + len(dropped) +
    excluded_by_as_of["count"]``.

    Parameters
    ----------
    frame : pandas.DataFrame or dict
        A table returned by :func:`load_partners` or :func:`read_partners`
        (or its report dict).
    kind : {"dict", "text", "flags"}, default "dict"
        ``"dict"``: the report itself (``frame.attrs["quality"]``, a plain,
        mutable dict); ``"text"``: a printable summary; ``"flags"``: a
        DataFrame of flagged and dropped rows (``row, partner_id, field,
        reason, status``).

    Returns
    -------
    dict, str or pandas.DataFrame
        The dict has the keys ``file``, ``source``, ``format``, ``encoding``,
        ``rows_read``, ``partner_rows`` (for the Atlas: ``Technology ==
        "Ring/Neighbors Partnership"``; for other formats every record),
        ``other_technology``, ``blank_records``, ``non_partner_rows``, ``kept``,
        ``excluded_by_as_of`` (``as_of``, ``count``, ``undated``, ``after`` and, once
        ``as_of`` is given, ``undated_included``),
        ``flagged`` (list of ``{row, partner_id, field, reason}``), ``dropped``
        (list of ``{row, partner_id, reason}``), ``duplicates`` (``{agency, state, rows,
        partner_ids, rule}``, ``rule`` being ``"same name"`` or, once linked, ``"same FBI
        agency"``, with the ``ori``), ``formula_like`` (``{row, partner_id, field,
        value}``: values a spreadsheet may run as formulas) and ``notes``; the linking
        step adds ``links``.

        The report describes the file the table was read from. For a table with
        fewer or more rows than the report kept (a filtered subset, ``frame[mask]``),
        the dict returned is a copy with a ``subset`` entry (``rows``, ``file_rows``,
        ``statement``) and a warning: its counts still describe the file, while
        ``flagged``, ``duplicates`` and ``formula_like`` list only the table's
        partner ids.

    Raises
    ------
    ParameterError
        ``frame`` carries no report (pandas drops ``attrs`` in some
        operations), or ``kind`` is not one of the allowed values.

    Examples
    --------
    >>> q = quality_report(load_partners(link=False))
    >>> q["rows_read"], q["partner_rows"], q["kept"]
    (5784, 1501, 1501)
    >>> q["rows_read"] == q["partner_rows"] + q["non_partner_rows"]
    True
    """
    report = frame if isinstance(frame, dict) else getattr(frame, "attrs", {}).get("quality")
    if not isinstance(report, dict):
        raise ParameterError(
            "This table has no quality report in attrs['quality']: pandas drops attrs in "
            "some operations (e.g. concat, merge). Call quality_report on the table that "
            "load_partners or read_partners returned."
        )
    if isinstance(frame, pd.DataFrame) and len(frame) != report.get("kept", len(frame)):
        report = _subset_report(frame, report)
        warn(report["subset"]["statement"])
    if kind == "dict":
        return report
    if kind == "flags":
        rows = [{**f, "status": "flagged"} for f in report["flagged"]]
        rows += [{"row": d["row"], "partner_id": d.get("partner_id"), "field": None,
                  "reason": d["reason"], "status": "dropped"} for d in report["dropped"]]
        columns = ["row", "partner_id", "field", "reason", "status"]
        return pd.DataFrame(rows, columns=columns).sort_values("row", ignore_index=True)
    if kind == "text":
        return _summary_text(report)
    raise ParameterError(f"kind was {kind!r} but is expected to be one of 'dict', 'text', "
                         f"'flags'.")


def _subset_report(frame: pd.DataFrame, report: dict) -> dict:
    """Return a copy of the report for a table other than the one it was made with."""
    ids = set(frame["partner_id"].tolist()) if "partner_id" in frame else None

    def mine(pid) -> bool:
        return ids is None or pid in ids

    out = dict(report)
    out["flagged"] = [f for f in report.get("flagged", []) if mine(f.get("partner_id"))]
    out["duplicates"] = [d for d in report.get("duplicates", [])
                         if ids is None or ids & set(d["partner_ids"])]
    out["formula_like"] = [f for f in report.get("formula_like", [])
                           if mine(f.get("partner_id"))]
    restricted = ("flagged, duplicates and formula_like list only this table's partner ids"
                  if ids is not None else "the table has no partner_id column, so every list "
                  "is the file's too")
    out["subset"] = {
        "rows": len(frame), "file_rows": report.get("kept"),
        "statement": (f"this table has {len(frame):,} rows but its quality report kept "
                      f"{report.get('kept'):,} (a filtered or changed table): the report's "
                      f"counts (rows_read, partner_rows, kept, dropped, excluded_by_as_of, "
                      f"links) describe the file {report.get('file')}, not this table; "
                      f"{restricted}."),
    }
    return out


def _flag_kind(reason: str) -> str:
    return reason.split(":", 1)[0]


def _summary_text(q: dict) -> str:
    ex = q["excluded_by_as_of"]
    lines = [f"subset:           {q['subset']['statement']}"] if "subset" in q else []
    lines += [
        f"file:             {q['file']} ({q['format']}, {q['encoding']})",
        f"rows read:        {q['rows_read']:,}",
        f"  partner rows:   {q['partner_rows']:,}",
        f"  other rows:     {q['non_partner_rows']:,} ({q['other_technology']:,} other "
        f"technology, {q['blank_records']:,} blank)",
        f"partner rows:     {q['partner_rows']:,} = kept {q['kept']:,} + dropped "
        f"{len(q['dropped']):,} + excluded by as_of {ex['count']:,}",
    ]
    if ex["as_of"]:
        lines.append(f"  as_of {ex['as_of']}: {ex['after']:,} activated later, "
                     f"{ex['undated']:,} undated")
    kinds: dict[tuple[str, str], int] = {}
    for flag in q["flagged"]:
        key = (flag["field"], _flag_kind(flag["reason"]))
        kinds[key] = kinds.get(key, 0) + 1
    lines.append(f"flags:            {len(q['flagged']):,} "
                 f"({len({f['row'] for f in q['flagged']}):,} rows)")
    lines += [f"  {n:5,}  {field}: {reason}" for (field, reason), n in
              sorted(kinds.items(), key=lambda kv: -kv[1])]
    for dup in q["duplicates"]:
        same = f", same FBI agency {dup['ori']}" if dup.get("rule") == "same FBI agency" else ""
        lines.append(f"  duplicate: {dup['agency']} ({dup['state']}{same}): "
                     f"{', '.join(dup['partner_ids'])}")
    if q.get("formula_like"):
        lines.append(f"formula-like:     {len(q['formula_like']):,} value(s) a spreadsheet may "
                     f"run as formulas (quality_report(frame)['formula_like'])")
    lines += [f"dropped: row {d['row']}: {d['reason']}" for d in q["dropped"]]
    lines += [f"note: {note}" for note in q["notes"]]
    links = q.get("links")
    if isinstance(links, dict):  # added by ringgeo.linking
        lines.append(f"links:            {links.get('with_county', '?')} of "
                     f"{links.get('rows', '?')} rows linked to a county; "
                     f"{links.get('municipal_with_muni', '?')} of {links.get('municipal', '?')} "
                     f"municipal agencies to a municipality")
        lines.append(f"  methods: {links.get('methods', {})}")
        lines.append(f"  corrections applied: {len(links.get('corrections_applied', []))}; "
                     f"to review: {len(links.get('review', []))} (quality_report(frame)"
                     f"['links']['review'])")
        if "agency_methods" in links:
            lines.append(f"agencies:         {links['with_ori']:,} of {links['rows']:,} rows "
                         f"matched to an FBI agency (ori); methods {links['agency_methods']}")
            rules = ", ".join(f"{rule} {len(changes)}"
                              for rule, changes in links["agency_rules"].items())
            lines.append(f"  agency-identity rules applied: {rules} (effect on the national "
                         f"bounds: ringgeo.coverage.agency_rule_effects(frame))")
    return "\n".join(lines)


# --------------------------------------------------------------------- command line
def _cli(args) -> int:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = load_partners(args.source, as_of=args.as_of, link=not args.no_link)
    q = quality_report(frame)
    when = f" as of {frame.attrs['as_of'].date()}" if frame.attrs["as_of"] is not None else ""
    print(f"{len(frame):,} Ring partnerships{when} ({frame.attrs['source']})")
    print(f"  by agency type: {frame['agency_type'].value_counts().to_dict()}")
    if "link_method" in frame:
        print(f"  by link method: {frame['link_method'].value_counts().to_dict()}")
    years = frame["activated"].dt.year.astype("Int64").astype("str").fillna("undated")
    print("\nby activation year:")
    for year, n in years.value_counts().sort_index().items():
        print(f"  {year:>8}  {n:6,}")
    print("\nby state:")
    states = frame["state"].fillna("??").value_counts()
    cells = [f"{s} {n:4,}" for s, n in states.sort_index().items()]
    for i in range(0, len(cells), 8):
        print("  " + "   ".join(cells[i:i + 8]))
    print("\nquality report:")
    print(_summary_text(q))
    for w in caught:
        print(f"warning: {w.message}")
    return 0


def add_cli(subparsers) -> None:
    """Register ``ringgeo partners [--as-of DATE] [--source S] [--no-link]``."""
    parser = subparsers.add_parser(
        "partners", help="summary of the partner dataset and its quality report",
        description="Print totals, counts by state and activation year, and the quality "
                    "report of the partner dataset.")
    parser.add_argument("--as-of", metavar="DATE", default=None,
                        help="keep partnerships activated on or before DATE (YYYY-MM-DD)")
    parser.add_argument("--source", default="atlas-2020-10-07",
                        help=f"dataset name ({', '.join(SOURCES)}) or path of a partner file")
    parser.add_argument("--no-link", action="store_true",
                        help="skip linking to census geography (faster)")
    parser.set_defaults(func=_cli)
