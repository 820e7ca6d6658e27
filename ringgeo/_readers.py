"""Private readers of partner files: bytes on disk -> raw records.

:func:`read_records` detects the format of a partner file and returns its
records as plain dicts of raw strings (nothing cleaned yet), each with the
line number where it starts, plus a little metadata. ``ringgeo.partners``
cleans the records and builds the public table.

Formats:

``atlas-csv``
    the EFF Atlas of Surveillance CSV export, also after an Excel re-save
    (BOM, CRLF, cp1252/Latin-1, minimal quoting, ``;`` or tab delimiters).
``ring-kml``
    Ring's "Active Agency Map" exported from Google My Maps as KML or KMZ.
``plain-csv``
    a newsroom's own list with at least ``agency, city, state, activated``.
"""

from __future__ import annotations

import codecs
import csv
import io
import pathlib
import re
import unicodedata
import xml.parsers.expat
import zipfile

from .exceptions import InputError

__all__ = ["read_records", "RING_TECHNOLOGY"]

#: Value of the Atlas ``Technology`` column that marks a Ring partnership.
RING_TECHNOLOGY = "Ring/Neighbors Partnership"

# canonical field -> Atlas header, as the export writes it
ATLAS_HEADERS = {"partner_id": "AOSNUMBER", "agency": "Agency", "agency_type": "Type of LEA",
                 "jurisdiction_type": "Type of Juris", "city": "City", "county": "County",
                 "state": "State", "technology": "Technology", "activated": "Link 1 Date"}

# canonical field -> accepted headers of a plain CSV (normalized)
PLAIN_ALIASES = {
    "agency": ("agency", "agency name", "department", "name"),
    "city": ("city", "town", "municipality"),
    "state": ("state", "st", "state code", "usps"),
    "activated": ("activated", "activation date", "active date", "date activated",
                  "date", "start date", "partnership date"),
    "county": ("county", "counties", "county name", "county names"),
    "agency_type": ("agency type", "type of lea", "type"),
    "jurisdiction_type": ("jurisdiction type", "type of juris", "jurisdiction"),
    "partner_id": ("partner id", "id", "aosnumber"),
}
PLAIN_REQUIRED = ("agency", "city", "state", "activated")

# normalized KML ExtendedData names -> canonical field
KML_DATA_FIELDS = {
    "active date": "activated", "activation date": "activated", "activated": "activated",
    "date": "activated", "address": "address", "city": "city", "state": "state",
    "county": "county", "agency": "agency", "name": "agency",
}

_FORMATS_HELP = (
    "ringgeo reads the Atlas of Surveillance CSV export, Ring's Active Agency Map "
    "exported as KML/KMZ, or a plain CSV with the columns agency, city, state, activated"
)


def _norm_header(name: str) -> str:
    text = "".join(ch for ch in str(name) if unicodedata.category(ch) != "Cf")
    return re.sub(r"[\s_\-]+", " ", text).strip().lower()


# canonical field -> Atlas header normalized (lower case, single spaces), as matched
ATLAS_FIELDS = {field: _norm_header(header) for field, header in ATLAS_HEADERS.items()}


def _decode(data: bytes, path: pathlib.Path) -> tuple[str, str]:
    """Return (text, encoding): UTF-8 (with or without BOM), UTF-16, else cp1252/Latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as err:
            raise InputError(
                f"{path}: the file starts with a UTF-8 byte-order mark but is not valid "
                f"UTF-8 ({err}). Re-save it as 'CSV UTF-8' or plain CSV."
            ) from err
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as err:
            raise InputError(
                f"{path}: the file starts with a UTF-16 byte-order mark but is not valid "
                f"UTF-16 ({err}); it may be cut short. Re-save it as 'CSV UTF-8' or plain CSV."
            ) from err
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:  # bytes undefined in cp1252 (0x81, 0x8D, ...)
        return data.decode("latin-1"), "latin-1"


def _unzip_kmz(data: bytes, path: pathlib.Path) -> bytes:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise InputError(f"{path}: looks like a zip archive but cannot be opened ({err}).") from err
    names = archive.namelist()
    if any(name.startswith("xl/") for name in names):
        raise InputError(
            f"{path} is an Excel workbook (.xlsx); ringgeo reads CSV. In Excel use "
            f"File > Save As > 'CSV UTF-8 (Comma delimited)' and pass the .csv file."
        )
    kml = [name for name in names if name.lower().endswith(".kml")]
    if not kml:
        raise InputError(
            f"{path} is a zip archive without a .kml file inside (it holds "
            f"{', '.join(names[:5]) or 'nothing'}). {_FORMATS_HELP}."
        )
    return archive.read("doc.kml" if "doc.kml" in kml else kml[0])


def read_records(path: pathlib.Path) -> tuple[list[dict], dict]:
    """Read a partner file; return ``(records, meta)``.

    Each record holds raw strings under canonical field names (``None`` when
    the format has no such field), ``row`` (line where the record starts,
    header = line 1) and ``problems`` (list of ``(field, reason)`` found while
    reading). ``meta`` holds ``format``, ``encoding``, ``rows_read``,
    ``other_technology``, ``blank_records``, ``fields`` and ``notes``.
    """
    try:
        data = path.read_bytes()
    except IsADirectoryError as err:
        raise InputError(f"{path} is a folder, not a partner file. {_FORMATS_HELP}.") from err
    except FileNotFoundError as err:
        raise InputError(f"Partner file {path} does not exist. Check the path.") from err
    except OSError as err:
        raise InputError(f"Cannot read partner file {path}: {err}.") from err
    if not data.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise InputError(f"Partner file {path} is empty. {_FORMATS_HELP}.")
    if data.startswith(b"PK\x03\x04"):
        return _read_kml(_unzip_kmz(data, path), path)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            f"{path} is an old Excel workbook (.xls); ringgeo reads CSV. In Excel use "
            f"File > Save As > 'CSV UTF-8 (Comma delimited)' and pass the .csv file."
        )
    head = data[:512].lstrip(codecs.BOM_UTF8).lstrip()
    if head.startswith(b"<"):
        return _read_kml(data, path)
    text, encoding = _decode(data, path)
    if "\x00" in text:
        raise InputError(f"{path} is a binary file, not a partner file. {_FORMATS_HELP}.")
    return _read_csv(text, encoding, path)


# --------------------------------------------------------------------------- CSV
def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_csv(text: str, encoding: str, path: pathlib.Path) -> tuple[list[dict], dict]:
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header = None
    header_line = 0
    end_of_previous = 0
    body = []  # (start line, fields)
    try:
        for fields in reader:
            start = end_of_previous + 1
            end_of_previous = reader.line_num
            if not fields:  # an empty line: not a record
                continue
            if header is None:
                header, header_line = fields, start
                continue
            body.append((start, fields))
    except csv.Error as err:
        raise InputError(
            f"{path}: cannot parse the CSV record starting at line {end_of_previous + 1} "
            f"({err}). A quote is probably not closed or stray; fix that record or "
            f"re-export the file."
        ) from err
    if header is None:
        raise InputError(f"Partner file {path} is empty. {_FORMATS_HELP}.")
    normalized = [_norm_header(name) for name in header]
    meta = {"encoding": encoding, "delimiter": delimiter, "header_line": header_line,
            "notes": []}
    if "aosnumber" in normalized or "technology" in normalized:
        return _atlas_records(header, normalized, body, meta, path)
    return _plain_records(header, normalized, body, meta, path)


def _column_index(normalized: list[str], wanted: str, path, header) -> int:
    hits = [i for i, name in enumerate(normalized) if name == wanted]
    if len(hits) > 1:
        raise InputError(
            f"{path}: the column {header[hits[0]]!r} appears {len(hits)} times in the header; "
            f"rename or delete the extra copies."
        )
    return hits[0]


def _take(fields: list[str], index: dict[str, int], width: int, row: int) -> dict:
    record = {"row": row, "problems": []}
    if len(fields) != width:
        extra = [f for f in fields[width:] if f.strip()]
        if len(fields) < width or extra:
            record["problems"].append(
                ("row", f"shifted fields: the record has {len(fields)} fields but the "
                        f"header has {width}; values may be in the wrong columns, check "
                        f"this line"))
    for field, i in index.items():
        record[field] = fields[i] if i < len(fields) else ""
    return record


def _atlas_records(header, normalized, body, meta, path):
    missing = [ATLAS_HEADERS[f] for f, h in ATLAS_FIELDS.items() if h not in normalized]
    if missing:
        raise InputError(
            f"{path} looks like an Atlas of Surveillance export (it has an AOSNUMBER or "
            f"Technology column) but lacks the column(s) {', '.join(repr(m) for m in missing)}. "
            f"Columns found: {', '.join(header)}. Use the full, unmodified export."
        )
    index = {f: _column_index(normalized, h, path, header) for f, h in ATLAS_FIELDS.items()}
    records, other, blank = [], 0, 0
    ring = _norm_header(RING_TECHNOLOGY)
    tech_at = index["technology"]
    is_ring: dict[str, bool] = {}  # memo: a few distinct technologies, thousands of rows
    for row, fields in body:
        technology = fields[tech_at] if tech_at < len(fields) else ""
        if technology not in is_ring:
            is_ring[technology] = _norm_header(technology) == ring
        if not is_ring[technology]:
            if any(f.strip() for f in fields):
                other += 1
            else:
                blank += 1
            continue
        record = _take(fields, index, len(header), row)
        del record["technology"]
        records.append(record)
    meta.update(format="atlas-csv", rows_read=len(body), other_technology=other,
                blank_records=blank, fields=set(ATLAS_FIELDS) - {"technology"})
    return records, meta


def _plain_records(header, normalized, body, meta, path):
    index = {}
    for field, aliases in PLAIN_ALIASES.items():
        for alias in aliases:
            if alias in normalized:
                index[field] = _column_index(normalized, alias, path, header)
                break
    missing = [f for f in PLAIN_REQUIRED if f not in index]
    if missing:
        if len(header) == 1:
            raise InputError(
                f"{path}: could not find columns in the first line ({header[0][:80]!r}); "
                f"the file is not a CSV ringgeo understands. {_FORMATS_HELP}."
            )
        raise InputError(
            f"{path} lacks the required column(s) {', '.join(missing)}. Columns found: "
            f"{', '.join(header)}. {_FORMATS_HELP} (headers are case-insensitive; "
            f"e.g. 'Activation Date' is accepted for activated)."
        )
    records, blank = [], 0
    for row, fields in body:
        if not any(f.strip() for f in fields):
            blank += 1
            continue
        records.append(_take(fields, index, len(header), row))
    meta.update(format="plain-csv", rows_read=len(body), other_technology=0,
                blank_records=blank, fields=set(index))
    if "county" not in index:
        meta["notes"].append("the file has no county column: county_names are empty lists")
    return records, meta


# --------------------------------------------------------------------------- KML
def _parse_address(address: str) -> tuple[str, str]:
    """Split "City, ST", "City, State Name 12345, USA" into (city, state)."""
    parts = [p.strip() for p in address.split(",") if p.strip()]
    if parts and parts[-1].strip(". ").lower() in ("usa", "us", "united states",
                                                   "united states of america"):
        parts = parts[:-1]
    if not parts:
        return "", ""
    state = re.sub(r"\s+\d{5}(?:-\d{4})?$", "", parts[-1]).strip()
    city = parts[-2] if len(parts) >= 2 else ""
    return city, state


def _description_fields(html: str) -> dict[str, str]:
    """Key: value pairs of a My Maps description ("Active Date: 3/22/2018<br>...")."""
    out = {}
    for line in re.split(r"<br\s*/?>|\n", html or "", flags=re.IGNORECASE):
        text = re.sub(r"<[^>]+>", "", line)
        if ":" in text:
            key, value = text.split(":", 1)
            if not value.startswith("//"):  # not a URL's scheme
                out[_norm_header(key)] = value.strip()
    return out


def _read_kml(data: bytes, path: pathlib.Path) -> tuple[list[dict], dict]:
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    stack: list[str] = []
    placemarks: list[dict] = []
    root: list[str] = []
    state = {"current": None, "data_name": None, "text": []}

    def start(name, attrs):
        local = name.rsplit(" ", 1)[-1]
        if not root:
            root.append(name)
        stack.append(local)
        state["text"] = []
        if local == "Placemark":
            state["current"] = {"row": parser.CurrentLineNumber, "name": None,
                                "address": None, "description": None, "data": {}}
        elif local in ("Data", "SimpleData"):
            state["data_name"] = attrs.get("name")

    def chars(text):
        state["text"].append(text)

    def end(name):
        local = stack.pop()
        current = state["current"]
        text = "".join(state["text"]).strip()
        state["text"] = []
        if current is None:
            return
        parent = stack[-1] if stack else ""
        if parent == "Placemark" and local in ("name", "address", "description"):
            current[local] = text
        elif (local == "value" and parent == "Data") or local == "SimpleData":
            if state["data_name"]:
                current["data"][_norm_header(state["data_name"])] = text
        elif local == "Placemark":
            placemarks.append(current)
            state["current"] = None

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as err:
        raise InputError(
            f"{path}: not well-formed XML at line {err.lineno}, column {err.offset} "
            f"({xml.parsers.expat.errors.messages.get(err.code, err)}). {_FORMATS_HELP}; "
            f"re-export the map as KML."
        ) from err
    if not root or root[0].rsplit(" ", 1)[-1] != "kml":
        raise InputError(
            f"{path} is an XML file whose root element is {root[0] if root else 'missing'!r}, "
            f"not a KML document. {_FORMATS_HELP}."
        )
    if not placemarks:
        raise InputError(
            f"{path} is a KML file without any Placemark: it holds no partner. Export the "
            f"layer that lists the agencies (Google My Maps: menu > Export to KML/KMZ)."
        )
    records = []
    for mark in placemarks:
        fields = {**_description_fields(mark["description"]), **mark["data"]}
        canon = {}
        for key, value in fields.items():
            field = KML_DATA_FIELDS.get(key)
            if field and field not in canon:
                canon[field] = value
        address = mark["address"] or canon.get("address") or ""
        city, state_name = _parse_address(address)
        records.append({
            "row": mark["row"],
            "partner_id": None,
            "agency": mark["name"] if mark["name"] is not None else canon.get("agency", ""),
            "agency_type": None,
            "jurisdiction_type": None,
            "city": canon.get("city") or city,
            "state": canon.get("state") or state_name,
            "county": canon.get("county"),
            "activated": canon.get("activated", ""),
            "problems": [],
        })
    meta = {"format": "ring-kml", "encoding": "xml", "rows_read": len(placemarks),
            "other_technology": 0, "blank_records": 0,
            "fields": {"agency", "city", "state", "activated"}
            | ({"county"} if any(r["county"] is not None for r in records) else set()),
            "notes": []}
    if "county" not in meta["fields"]:
        meta["notes"].append("KML placemarks carry no county: county_names are empty lists")
    return records, meta
