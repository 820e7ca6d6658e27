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
import xml.parsers.expat
import zipfile

from ._names import strip_invisible
from .exceptions import InputError

__all__ = ["read_records", "RING_TECHNOLOGY", "KMZ_MAX_BYTES"]

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

#: Largest KML a KMZ may expand to (Ring's whole map is a few MiB).
KMZ_MAX_BYTES = 64 * 2**20

_FORMATS_HELP = (
    "ringgeo reads the Atlas of Surveillance CSV export, Ring's Active Agency Map "
    "exported as KML/KMZ, or a plain CSV with the columns agency, city, state, activated"
)


def _norm_header(name: str) -> str:
    text = strip_invisible(str(name))
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
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError as err:
            raise InputError(
                f"{path}: the file looks like UTF-16 ({utf16}) without a byte-order mark but "
                f"is not valid UTF-16 ({err}). Re-save it as 'CSV UTF-8' or plain CSV."
            ) from err
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:  # bytes undefined in cp1252 (0x81, 0x8D, ...)
        return data.decode("latin-1"), "latin-1"


def _utf16_without_bom(data: bytes) -> str | None:
    """``"utf-16-le"``/``"utf-16-be"`` when text has a NUL beside every ASCII character."""
    sample = data[:4096]
    sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    half = len(sample) // 2
    # ASCII text in UTF-16: one byte of each pair is NUL (high byte), the other is not
    if odd.count(0) >= 0.9 * half and even.count(0) <= 0.1 * half:
        return "utf-16-le"
    if even.count(0) >= 0.9 * half and odd.count(0) <= 0.1 * half:
        return "utf-16-be"
    return None


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
    kml = [info for info in archive.infolist() if info.filename.lower().endswith(".kml")]
    if not kml:
        raise InputError(
            f"{path} is a zip archive without a .kml file inside (it holds "
            f"{', '.join(names[:5]) or 'nothing'}). {_FORMATS_HELP}."
        )
    info = next((i for i in kml if i.filename == "doc.kml"), kml[0])
    too_big = InputError(
        f"{path}: {info.filename} inside the KMZ expands to more than "
        f"{KMZ_MAX_BYTES // 2**20} MiB (it declares {info.file_size:,} bytes, packed into "
        f"{info.compress_size:,}); a map of every Ring partner is a few MiB, so ringgeo "
        f"refuses it (a 'zip bomb' would exhaust memory). Check the file's origin."
    )
    if info.file_size > KMZ_MAX_BYTES:
        raise too_big
    try:  # the declared size may lie: read at most one byte past the cap
        with archive.open(info) as member:
            data = member.read(KMZ_MAX_BYTES + 1)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as err:
        raise InputError(f"{path}: {info.filename} inside the KMZ cannot be unpacked ({err}); "
                         f"the file is damaged: export the map again.") from err
    if len(data) > KMZ_MAX_BYTES:
        raise too_big
    return data


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
        if "field larger than field limit" in str(err):
            raise InputError(
                f"{path}: the record starting at line {end_of_previous + 1} has a field "
                f"longer than {csv.field_size_limit():,} characters, the most a CSV field "
                f"may hold here. A partner file's fields are short: either that field "
                f"really is this long (shorten it), or a quote opened in it is never "
                f"closed and swallowed the lines after it (close it)."
            ) from err
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
_ZIP_AT_END = re.compile(r"\d{5}(?:-\d{4})?\Z")
_TAG = re.compile(r"<[^<>]*>")  # not "<[^>]+>": that one is quadratic on "<<<<..."


def _parse_address(address: str) -> tuple[str, str]:
    """Split "City, ST", "City, State Name 12345, USA" into (city, state)."""
    parts = [p.strip() for p in address.split(",") if p.strip()]
    if parts and parts[-1].strip(". ").lower() in ("usa", "us", "united states",
                                                   "united states of america"):
        parts = parts[:-1]
    if not parts:
        return "", ""
    state = parts[-1]
    zip_code = _ZIP_AT_END.search(state)  # bounded pattern: linear in the text's length
    if zip_code and state[:zip_code.start()][-1:].isspace():
        state = state[:zip_code.start()]
    state = state.strip()
    city = parts[-2] if len(parts) >= 2 else ""
    return city, state


def _description_fields(html: str) -> dict[str, str]:
    """Key: value pairs of a My Maps description ("Active Date: 3/22/2018<br>...")."""
    out = {}
    for line in re.split(r"<br\s*/?>|\n", html or "", flags=re.IGNORECASE):
        text = _TAG.sub("", line)
        if ":" in text:
            key, value = text.split(":", 1)
            if not value.startswith("//"):  # not a URL's scheme
                out[_norm_header(key)] = value.strip()
    return out


class _KmlCollector:
    """expat handlers that collect the Placemarks of a KML document, in one pass.

    Entity declarations are refused (:meth:`entity`, :meth:`end_doctype`): ringgeo expands
    no entity, so an internal one cannot rename an agency, an external one cannot read another
    file, and a "billion laughs" bomb cannot exhaust memory, whatever expat is
    installed (the approach of defusedxml).
    """

    def __init__(self, parser, path: pathlib.Path):
        self.parser, self.path = parser, path
        self.stack: list[str] = []
        self.placemarks: list[dict] = []
        self.root: str | None = None
        self.current: dict | None = None
        self.data_name: str | None = None
        self.text: list[str] = []
        self.entities: list[tuple[int, str]] = []  # (severity, description)

    def start(self, name, attrs):
        local = name.rsplit(" ", 1)[-1]
        if self.root is None:
            self.root = name
        self.stack.append(local)
        self.text = []
        if local == "Placemark":
            self.current = {"row": self.parser.CurrentLineNumber, "name": None,
                            "address": None, "description": None, "data": {}}
        elif local in ("Data", "SimpleData"):
            self.data_name = attrs.get("name")

    def chars(self, text):
        self.text.append(text)

    def end(self, name):
        local = self.stack.pop()
        current = self.current
        text = "".join(self.text).strip()
        self.text = []
        if current is None:
            return
        parent = self.stack[-1] if self.stack else ""
        if parent == "Placemark" and local in ("name", "address", "description"):
            current[local] = text
        elif (local == "value" and parent == "Data") or local == "SimpleData":
            if self.data_name:
                current["data"][_norm_header(self.data_name)] = text
        elif local == "Placemark":
            self.placemarks.append(current)
            self.current = None

    def entity(self, name, is_parameter, value, base, system_id, public_id, notation=None):
        # noted here, refused at the end of the DOCTYPE (before any use), naming the worst
        line = self.parser.CurrentLineNumber
        if system_id is not None or notation is not None:
            what = (3, f"declares the external entity {name!r} (SYSTEM {system_id!r}) at line "
                       f"{line}, which would read another file or URL")
        elif value is not None and "&" in value:
            what = (2, f"is an XML bomb: its DOCTYPE declares the entity {name!r} at line "
                       f"{line} as other entities (a 'billion laughs' file, which expands "
                       f"into gigabytes)")
        else:
            what = (1, f"declares the XML entity {name!r} at line {line} in its DOCTYPE, "
                       f"which could change the text of the placemarks")
        self.entities.append(what)
        if is_parameter:  # expanded inside the DOCTYPE itself: refuse at once
            self.end_doctype()

    def unparsed_entity(self, name, base, system_id, public_id, notation):
        self.entity(name, False, None, base, system_id, public_id, notation)

    def end_doctype(self):
        if self.entities:
            worst = max(self.entities, key=lambda e: e[0])[1]
            raise InputError(
                f"{self.path} {worst}. ringgeo reads KML without DOCTYPE entities and "
                f"refuses the file; KML exported by Google My Maps has none: re-export the map."
            )


def _parse_kml(data: bytes, path: pathlib.Path) -> _KmlCollector:
    """Run expat over the document (entities refused); return the collector."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    collector = _KmlCollector(parser, path)
    parser.StartElementHandler = collector.start
    parser.EndElementHandler = collector.end
    parser.CharacterDataHandler = collector.chars
    parser.EntityDeclHandler = collector.entity
    parser.UnparsedEntityDeclHandler = collector.unparsed_entity
    parser.EndDoctypeDeclHandler = collector.end_doctype
    parser.buffer_text = True  # one call per text run, not one per line
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as err:
        raise InputError(
            f"{path}: not well-formed XML at line {err.lineno}, column {err.offset} "
            f"({xml.parsers.expat.errors.messages.get(err.code, err)}). {_FORMATS_HELP}; "
            f"re-export the map as KML."
        ) from err
    return collector


def _check_kml(collector: _KmlCollector, path: pathlib.Path) -> None:
    root = collector.root
    if root is None or root.rsplit(" ", 1)[-1] != "kml":
        raise InputError(
            f"{path} is an XML file whose root element is {root or 'missing'!r}, "
            f"not a KML document. {_FORMATS_HELP}."
        )
    if not collector.placemarks:
        raise InputError(
            f"{path} is a KML file without any Placemark: it holds no partner. Export the "
            f"layer that lists the agencies (Google My Maps: menu > Export to KML/KMZ)."
        )


def _placemark_record(mark: dict) -> dict:
    """One raw record from a placemark's name, address, description and ExtendedData."""
    fields = {**_description_fields(mark["description"]), **mark["data"]}
    canon = {}
    for key, value in fields.items():
        field = KML_DATA_FIELDS.get(key)
        if field and field not in canon:
            canon[field] = value
    address = mark["address"] or canon.get("address") or ""
    city, state_name = _parse_address(address)
    return {
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
    }


def _read_kml(data: bytes, path: pathlib.Path) -> tuple[list[dict], dict]:
    collector = _parse_kml(data, path)
    _check_kml(collector, path)
    records = [_placemark_record(mark) for mark in collector.placemarks]
    has_county = any(r["county"] is not None for r in records)
    meta = {"format": "ring-kml", "encoding": "xml", "rows_read": len(records),
            "other_technology": 0, "blank_records": 0,
            "fields": {"agency", "city", "state", "activated"} | ({"county"} if has_county
                                                                  else set()),
            "notes": []}
    if not has_county:
        meta["notes"].append("KML placemarks carry no county: county_names are empty lists")
    return records, meta
