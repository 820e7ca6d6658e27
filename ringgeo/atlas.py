"""Every technology of the Atlas of Surveillance, from the 2020 export or a newer download.

:func:`load_atlas` returns the same cleaned, linked table as
:func:`ringgeo.load_partners`, for any technology of an Atlas export (drones,
license plate readers, face recognition, ...), several of them, or all, with a
``technology`` column (ringgeo's key, see :mod:`ringgeo.technologies`) and a
``vendor`` column. :func:`ringgeo.load_partners` stays Ring's partner table.

``source`` is the registry's 2020-10-07 export or a reader's own download
("Atlas of Surveillance-YYYYMMDD.csv" from atlasofsurveillance.org): columns
added, reordered or renamed since 2020 and technology names ringgeo does not
know are reported in the quality report (``report["columns"]``,
``report["technologies"]``), and the file's name, date and sha256 are kept in
``attrs["source_file"]`` for every figure's source line. Method: docs/technologies.md.
"""

from __future__ import annotations

import collections
import hashlib
import os
import pathlib
import re
import stat

import pandas as pd

from . import _cleaning, _readers, data, partners, tablecache
from . import technologies as tech
from ._config import memoized
from .exceptions import InputError, ParameterError, warn

__all__ = ["load_atlas", "read_atlas_records", "export_date"]

_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2})[-_]?(\d{2})[-_]?(\d{2})(?!\d)")


def export_date(path) -> pd.Timestamp | None:
    """Return the download date written in an Atlas export's file name, or None.

    The Atlas names its download ``Atlas of Surveillance-YYYYMMDD.csv``.

    Examples
    --------
    >>> export_date("Atlas of Surveillance-20250314.csv")
    Timestamp('2025-03-14 00:00:00')
    >>> export_date("my-export.csv") is None
    True
    """
    match = _DATE_IN_NAME.search(pathlib.Path(path).name)
    if not match:
        return None
    try:
        return pd.Timestamp(*(int(g) for g in match.groups()))
    except ValueError:  # "20251399": not a day
        return None


@memoized(maxsize=4)
def _read_cached(path: str, size: int, mtime_ns: int):
    # memoized on (path, size, mtime): a file that changes is read again
    records, meta = _readers.read_records(pathlib.Path(path), every_technology=True)
    raw = pathlib.Path(path).read_bytes()
    meta["sha256"] = hashlib.sha256(raw).hexdigest()
    return records, meta


def read_atlas_records(path) -> tuple[list[dict], dict]:
    """Read every row of an Atlas CSV export; return ``(records, meta)`` (raw text).

    Parameters
    ----------
    path : str or os.PathLike
        An Atlas of Surveillance CSV export.

    Returns
    -------
    tuple of (list of dict, dict)
        Records as :func:`ringgeo._readers.read_records` returns them, each with
        its raw ``technology`` and ``vendor``; ``meta`` with ``columns`` (the
        header compared with the 2020 export's) and ``sha256``. Copies: the
        caller may change them.

    Raises
    ------
    InputError
        The file is missing, is not a regular file, or is not an Atlas export.

    Examples
    --------
    >>> records, meta = read_atlas_records(data.fetch("atlas-of-surveillance-20201007.csv"))
    >>> len(records), meta["columns"]["added"], meta["sha256"][:12]
    (5784, [], 'cf66fe858193')
    """
    path = pathlib.Path(os.fspath(path)).expanduser()
    try:
        info = path.stat()
    except (OSError, ValueError):
        info = None
    if info is None or not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path} is not an existing file: pass the path of an Atlas of "
                         f"Surveillance CSV export (e.g. 'Atlas of Surveillance-20250314.csv').")
    records, meta = _read_cached(str(path.resolve()), info.st_size, info.st_mtime_ns)
    if meta.get("format") != "atlas-csv":
        raise InputError(f"{path} is not an Atlas of Surveillance CSV export (read as "
                         f"{meta.get('format')}); load_atlas reads the Atlas' CSV download.")
    return ([{**r, "problems": list(r["problems"])} for r in records],
            {**meta, "notes": list(meta["notes"])})


def _source_of(source):
    """(path, label, export date, registry name or None) of a ``source`` argument."""
    if isinstance(source, str) and not source.strip():
        raise ParameterError(f"source {source!r} is empty: give 'atlas-2020-10-07' or the "
                             f"path of an Atlas of Surveillance CSV export.")
    if isinstance(source, str) and source in partners.SOURCES:
        name = partners.SOURCES[source]
        return data.fetch(name), source, partners.SNAPSHOT_DATES.get(source), name
    if isinstance(source, (str, os.PathLike)) and pathlib.Path(source).expanduser().exists():
        path = pathlib.Path(source).expanduser()
        return path, path.name, export_date(path), None
    raise ParameterError(
        f"source {source!r} is neither a known Atlas dataset nor an existing file: use "
        f"{', '.join(repr(k) for k in partners.SOURCES)} or the path of an Atlas of "
        f"Surveillance CSV export you downloaded (e.g. 'Atlas of Surveillance-20250314.csv').")


def _wanted(technology, found: collections.Counter, path) -> list[str] | None:
    """Return the keys asked for (None: every technology of the file)."""
    asked = technology if isinstance(technology, (list, tuple, set)) else [technology]
    if not asked:
        raise ParameterError("technology is an empty list: give a technology (e.g. 'drones'), "
                             "a list of them, or 'all'.")
    keys = []
    for name in asked:
        if not isinstance(name, str):
            raise ParameterError(f"technology {name!r} is not a name: give a key such as "
                                 f"'drones', an Atlas name or 'all'.")
        if name.strip().casefold() == "all":
            return None
        known = tech.key_of(name)
        if known is None:
            try:
                known = tech.resolve(name)
            except ValueError:
                known = next((k for k in found if k.casefold() == name.strip().casefold()),
                             None)
        if known is None:
            raise ParameterError(
                f"technology {name!r} is neither a technology ringgeo knows "
                f"({', '.join(tech.TECHNOLOGIES)}) nor one of {path.name}'s "
                f"({_listing(found)}); use one of these or 'all'.")
        keys.append(known)
    return list(dict.fromkeys(keys))


def _listing(found: collections.Counter) -> str:
    return ", ".join(f"{k} ({n:,})" for k, n in found.most_common()) or "none"


def load_atlas(technology="ring", source="atlas-2020-10-07", *, as_of=None,
               link=True) -> pd.DataFrame:
    """Return the cleaned, linked table of one, several or every Atlas technology.

    One row per row of the export (an agency and a technology), cleaned and
    linked as :func:`ringgeo.load_partners` does for Ring, with two more
    columns: ``technology`` (ringgeo's key, e.g. ``"alpr"``; an unknown
    technology of a newer export keeps its Atlas name) and ``vendor`` (the
    Atlas' ``Vendor``; blank is ``<NA>``, never dropped).

    Parameters
    ----------
    technology : str or list of str, default "ring"
        A key of :data:`ringgeo.technologies.TECHNOLOGIES` (``"drones"``,
        ``"alpr"``, ``"face_recognition"``, ...), an Atlas name
        (``"Automated License Plate Readers"``), a name found only in the file
        (a technology ringgeo does not know), a list of them, or ``"all"``.
    source : str or os.PathLike, default "atlas-2020-10-07"
        The registry's export of 2020-10-07, or the path of an Atlas CSV export
        you downloaded ("Atlas of Surveillance-YYYYMMDD.csv": the date in the
        name is taken as its export date).
    as_of : str or date, optional
        As :func:`ringgeo.load_partners`: keep rows activated by that day. Only
        Ring's rows carry a date (Ring's activation date, ``Link 1 Date``); the
        Atlas gives no start date for other technologies (its ``Link 1 Date``
        is the date of the document cited), so their ``activated`` is NaT and,
        before the file's export date, they are excluded as undated: counted
        in ``report["excluded_by_as_of"]`` and named in a warning, never
        dropped silently. On or after the export date every row is kept.
    link : bool, default True
        Link to census geography and FBI agencies as :func:`ringgeo.load_partners`.

    Returns
    -------
    pandas.DataFrame
        The partner table's columns (``docs/design.md``) plus ``technology`` and
        ``vendor``. ``attrs``: ``technology`` (the key, or ``"all"`` for several),
        ``technologies`` (keys present), ``source``, ``source_file`` (``name``,
        ``sha256``, ``date``, ``registry``), ``as_of`` and ``quality``: the
        report of :func:`ringgeo.quality_report`, where ``partner_rows`` are the
        rows of the technologies asked for, ``other_technology`` the others,
        plus ``technologies`` (``asked``, ``found`` counts by key, ``unknown``
        Atlas names ringgeo does not know, ``renamed``) and ``columns``
        (``added``, ``missing``, ``renamed``, ``reordered``).

    Raises
    ------
    ParameterError
        ``source`` is empty or unknown; ``technology`` is not a known name nor
        one of the file's.
    InputError
        The file is not an Atlas export; or the one technology asked for has
        no row in it (e.g. Ring in an export made after 2024): the message
        names the file and lists the technologies it has.

    Warns
    -----
    UserWarning
        A technology of a list that has no row in the file; technology names
        ringgeo does not know; columns missing since 2020.

    Examples
    --------
    >>> drones = load_atlas("drones", link=False)
    >>> len(drones), drones.attrs["technology"], drones["vendor"].isna().sum()
    (1079, 'drones', np.int64(359))
    >>> import warnings
    >>> with warnings.catch_warnings():  # a row of another technology has the state "NA"
    ...     warnings.simplefilter("ignore")
    ...     everything = load_atlas("all", link=False)
    >>> everything["technology"].value_counts().head(3).to_dict()
    {'ring': 1501, 'bwc': 1378, 'drones': 1079}
    """
    if not isinstance(technology, (str, list, tuple, set)):
        raise ParameterError(f"technology was {technology!r} ({type(technology).__name__}): "
                             "give a name (a key such as 'drones', an Atlas name), a list "
                             "of names, or 'all'.")
    path, label, snapshot, registry_name = _source_of(source)
    if registry_name is not None:
        stamp = None if as_of is None else partners.as_timestamp(as_of).date().isoformat()
        asked = technology if isinstance(technology, str) else sorted(map(str, technology))
        files = list(data.registry()) if link else [registry_name]
        return tablecache.cached(
            "atlas", {"source": source, "technology": asked, "as_of": stamp,
                      "link": bool(link)},
            lambda: _load_atlas(technology, path, label, snapshot, registry_name, as_of, link),
            sources=files)
    return _load_atlas(technology, path, label, snapshot, registry_name, as_of, link)


def _load_atlas(technology, path, label, snapshot, registry_name, as_of, link):
    records, meta = read_atlas_records(path)
    raw_names: dict[str, str] = {}  # each Atlas name as written -> its key
    for record in records:
        name = " ".join(str(record.get("technology") or "").split())
        key = tech.key_of(name) if name else None
        record["technology"] = key or name or "(blank)"
        raw_names.setdefault(name, record["technology"])
    found = collections.Counter(r["technology"] for r in records)
    unknown = sorted(k for k in found if k not in tech.TECHNOLOGIES)
    renamed = {raw: key for raw, key in raw_names.items() if key in tech.TECHNOLOGIES
               and raw.casefold().split() != tech.TECHNOLOGIES[key].atlas.casefold().split()}
    keys = _wanted(technology, found, path)
    absent = [k for k in (keys or []) if not found.get(k)]
    if absent:
        def what(key):
            return tech.TECHNOLOGIES[key].atlas if key in tech.TECHNOLOGIES else key
        ring = (" The Atlas removed its Ring category in March 2024 (EFF): Ring's partners "
                "are in the 2020-10-07 export (source='atlas-2020-10-07')."
                if "ring" in absent else "")
        message = (f"{path.name} has no row of {', '.join(repr(what(k)) for k in absent)}.{ring} "
                   f"Technologies in this file: {_listing(found)}.")
        if len(absent) == len(keys):
            raise InputError(message)
        warn(message)
    chosen = [r for r in records if keys is None or r["technology"] in keys]
    for record in chosen:
        if record["technology"] != "ring":  # the Atlas gives no start date for these
            record["activated"] = None
            record["dated"] = False
    meta = {**meta, "other_technology": len(records) - len(chosen)}
    frame, messages = partners.build(chosen, meta, path, label, snapshot=snapshot)
    for message in messages:
        if "holds no Ring partnership row" not in message:
            warn(message)
    present = sorted({r["technology"] for r in chosen})
    info = {"name": path.name, "sha256": meta["sha256"],
            "date": None if snapshot is None else f"{snapshot:%Y-%m-%d}",
            "registry": registry_name}
    quality = frame.attrs["quality"]
    quality["technologies"] = {"asked": keys or "all", "found": dict(found.most_common()),
                               "unknown": unknown, "renamed": renamed}
    quality["columns"] = meta["columns"]
    quality["sha256"] = meta["sha256"]
    quality["export_date"] = info["date"]
    # a vendor that a spreadsheet would run as a formula: flagged as the other fields are
    # (every CSV the package writes neutralizes it: ringgeo.tables.write_csv)
    quality["formula_like"] += [
        {"row": row, "partner_id": pid, "field": "vendor", "value": vendor}
        for row, pid, vendor in zip(frame["row"], frame["partner_id"], frame["vendor"])
        if isinstance(vendor, str) and _cleaning.formula_like(vendor)]
    notes = _column_notes(meta["columns"], unknown, renamed)
    if registry_name is None and snapshot is None:
        notes.append("the file name carries no export date (the Atlas names its downloads "
                     "'Atlas of Surveillance-YYYYMMDD.csv'): the source line says 'export "
                     "date unknown'; give the file its download date's name to credit it")
    quality["notes"].extend(notes)
    for note in notes:
        if not note.startswith("columns reordered"):
            warn(f"{path.name}: {note}")
    frame.attrs.update(technology=keys[0] if keys and len(keys) == 1 else "all",
                       technologies=present, source_file=info)
    if as_of is not None:
        frame = partners.apply_as_of(frame, as_of, snapshot)
    if not link:
        return frame
    # imported here, not at the top: linking loads geopandas and rapidfuzz (about 0.6 s)
    from . import linking

    linked = linking.link_partners(frame)
    for key, value in frame.attrs.items():
        linked.attrs.setdefault(key, value)
    partners.flag_same_agency(linked)
    return linked


def _column_notes(columns: dict, unknown: list, renamed: dict) -> list[str]:
    notes = []
    if columns["added"]:
        notes.append(f"column(s) not in the 2020-10-07 export, kept in the file but not read: "
                     f"{', '.join(columns['added'])}")
    if columns["missing"]:
        notes.append(f"column(s) of the 2020-10-07 export missing: "
                     f"{', '.join(columns['missing'])}")
    if columns["renamed"]:
        notes.append("renamed column(s) mapped: " + ", ".join(
            f"{new!r} read as {old!r}" for new, old in columns["renamed"].items()))
    if columns["reordered"]:
        notes.append("columns reordered since the 2020-10-07 export (read by name)")
    if renamed:
        notes.append("technology name(s) mapped to the 2020 names: " + ", ".join(
            f"{raw!r} read as {tech.TECHNOLOGIES[key].atlas!r}" for raw, key in renamed.items()))
    if unknown:
        notes.append("technology name(s) ringgeo does not know, kept under their own name: "
                     + ", ".join(repr(k) for k in unknown))
    return notes
