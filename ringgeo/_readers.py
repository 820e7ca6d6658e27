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

Before anything is read, the path must be a regular file of at most
``RINGGEO_MAX_FILE_MB`` MiB (default 256): a named pipe, a device (``/dev/zero``), a
folder or a huge file is refused, never read without end.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import io
import os
import pathlib
import re
import stat
import xml.parsers.expat
import zipfile

from ._config import MAX_FILE_MB_ENV, env_megabytes
from ._names import strip_invisible
from .exceptions import InputError, ParameterError

__all__ = ["read_records", "max_file_bytes", "RING_TECHNOLOGY", "KMZ_MAX_BYTES",
           "MAX_FILE_BYTES"]

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
#: Largest partner file read by default (the Atlas export is 3 MiB); ``RINGGEO_MAX_FILE_MB``
#: changes it.
MAX_FILE_BYTES = 256 * 2**20

_FORMATS_HELP = (
    "ringgeo reads the Atlas of Surveillance CSV export, Ring's Active Agency Map "
    "exported as KML/KMZ, or a plain CSV with the columns agency, city, state, activated"
)


def _norm_header(name: str) -> str:
    text = strip_invisible(str(name))
    return re.sub(r"[\s_\-]+", " ", text).strip().lower()


# canonical field -> Atlas header normalized (lower case, single spaces), as matched
ATLAS_FIELDS = {field: _norm_header(header) for field, header in ATLAS_HEADERS.items()}
# every header ringgeo knows (normalized): what the delimiter sniffing looks for
_KNOWN_HEADERS = set(ATLAS_FIELDS.values()) | {a for names in PLAIN_ALIASES.values()
                                               for a in names}


def max_file_bytes() -> int:
    """Return the largest partner file read, in bytes (``RINGGEO_MAX_FILE_MB``, else 256 MiB)."""
    try:
        return env_megabytes(MAX_FILE_MB_ENV, MAX_FILE_BYTES)
    except ValueError as err:
        raise ParameterError(f"{err}.") from err


_FILE_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO), whose reading would wait for a writer"),
               (stat.S_ISCHR, "a character device (like /dev/zero or a terminal), which may "
                              "never end"),
               (stat.S_ISBLK, "a block device (a whole disk or partition)"),
               (stat.S_ISSOCK, "a socket"))


def _not_regular(path: pathlib.Path, mode: int) -> InputError:
    kind = next((what for test, what in _FILE_KINDS if test(mode)), "not a regular file")
    return InputError(
        f"{path} is {kind}, not a regular file: ringgeo reads partner files saved on disk "
        f"and refuses it without reading. Save the data to a file and pass that file's path.")


def _too_big(path: pathlib.Path, size: int, limit: int) -> InputError:
    return InputError(
        f"{path} is {size / 2**20:,.1f} MiB, more than the {limit / 2**20:,.0f} MiB ringgeo "
        f"reads from a partner file (the Atlas export is 3 MiB, Ring's whole map a few MiB), "
        f"so it is refused without reading: check that it is the file you mean. To read it "
        f"anyway, raise the limit: set {MAX_FILE_MB_ENV} to a size in MiB (e.g. "
        f"{MAX_FILE_MB_ENV}={max(512, int(size / 2**20) + 1)}).")


def _read_bytes(path: pathlib.Path) -> bytes:
    """Return a partner file's bytes, checking its type and size before reading anything."""
    limit = max_file_bytes()
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError) as err:
        raise InputError(f"Partner file {path} does not exist. Check the path.") from err
    except (OSError, ValueError) as err:  # ValueError: a NUL in the path
        raise InputError(f"Cannot read partner file {path}: {err}.") from err
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path} is a folder, not a partner file. {_FORMATS_HELP}.")
    if not stat.S_ISREG(info.st_mode):
        raise _not_regular(path, info.st_mode)
    if info.st_size > limit:
        raise _too_big(path, info.st_size, limit)
    # O_NONBLOCK: were the path swapped for a pipe after the check, opening it would not wait
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        handle = open(os.open(path, flags), "rb")  # noqa: SIM115 (closed below)
    except OSError as err:
        raise InputError(f"Cannot read partner file {path}: {err}.") from err
    with handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _not_regular(path, info.st_mode)
        # never more than the limit, whatever the size says (a file may grow while read);
        # read(n) allocates n bytes at once: ask for the file's size, not the limit
        parts, total, want = [], 0, min(info.st_size, limit) + 1
        try:
            while total <= limit:
                chunk = handle.read(min(want, limit + 1 - total))
                if not chunk:
                    break
                parts.append(chunk)
                total, want = total + len(chunk), 2**20
        except OSError as err:
            raise InputError(f"Cannot read partner file {path}: {err}.") from err
    if total > limit:
        raise _too_big(path, total, limit)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _wide_encoding(data: bytes) -> str | None:
    """Return the UTF-16 or UTF-32 codec of a file (by its byte-order mark or NUL pattern)."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return _utf32_without_bom(data) or _utf16_without_bom(data)


def _decode_wide(data: bytes, codec: str, path: pathlib.Path) -> str:
    unit = "UTF-32" if codec.startswith("utf-32") else "UTF-16"
    how = ("starts with a " + unit + " byte-order mark" if codec in ("utf-16", "utf-32")
           else f"looks like {unit} ({codec}) without a byte-order mark")
    try:
        return data.decode(codec)
    except UnicodeDecodeError as err:
        raise InputError(
            f"{path}: the file {how} but is not valid {unit} ({err}); it may be cut short. "
            f"Re-save it as 'CSV UTF-8' or plain CSV."
        ) from err


def _decode(data: bytes, path: pathlib.Path) -> tuple[str, str, list[int]]:
    """Return (text, encoding, legacy lines) of a file that is neither UTF-16 nor UTF-32.

    UTF-8 (with or without BOM) is read as such; a file that is not UTF-8 is decoded
    line by line: when some lines are UTF-8 (with accents) and others are not, the
    others are decoded as cp1252 (or Latin-1) and their numbers returned, for the
    rows to be flagged; a file with no UTF-8 accent at all is cp1252 (or Latin-1).
    """
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8):] if bom else data
    try:
        return body.decode("utf-8"), "utf-8-sig" if bom else "utf-8", []
    except UnicodeDecodeError:
        pass
    parts, legacy, accented, legacy_codec = [], [], 0, "cp1252"
    for number, line in enumerate(body.split(b"\n"), start=1):
        try:
            parts.append(line.decode("utf-8"))
            accented += not line.isascii()
        except UnicodeDecodeError:
            legacy.append(number)
            try:
                parts.append(line.decode("cp1252"))
            except UnicodeDecodeError:  # bytes undefined in cp1252 (0x81, 0x8D, ...)
                parts.append(line.decode("latin-1"))
                legacy_codec = "latin-1"
    if not accented and not bom:  # one legacy encoding throughout: as Excel writes it
        try:
            return body.decode("cp1252"), "cp1252", []
        except UnicodeDecodeError:
            return body.decode("latin-1"), "latin-1", []
    return "\n".join(parts), f"utf-8 and {legacy_codec}", legacy


def _utf32_without_bom(data: bytes) -> str | None:
    """``"utf-32-le"``/``"utf-32-be"`` when text has three NULs beside every ASCII character."""
    sample = data[:4096]
    sample = sample[: len(sample) - len(sample) % 4]
    quarter = len(sample) // 4
    if quarter < 2:
        return None
    lanes = [sample[i::4].count(0) for i in range(4)]
    if min(lanes[1:]) >= 0.9 * quarter and lanes[0] <= 0.1 * quarter:
        return "utf-32-le"
    if min(lanes[:3]) >= 0.9 * quarter and lanes[3] <= 0.1 * quarter:
        return "utf-32-be"
    return None


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


def _unzip_kmz(data: bytes, path: pathlib.Path) -> tuple[bytes, list[str]]:
    """Return the main KML of a KMZ and notes (other KML files it holds, unread)."""
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
    notes = []
    main = [i for i in kml if i.filename.lower() == "doc.kml"]
    if main:  # the KMZ's main document, the one Google Earth opens
        info = main[0]
        others = [i.filename for i in kml if i is not info]
        if others:
            notes.append(f"the KMZ also holds {len(others)} other KML file(s) "
                         f"({', '.join(others[:5])}{', ...' if len(others) > 5 else ''}), "
                         f"not read: ringgeo read doc.kml, the KMZ's main document")
    elif len(kml) == 1:
        info = kml[0]
    else:
        listed = ", ".join(i.filename for i in kml[:10]) + (", ..." if len(kml) > 10 else "")
        raise InputError(
            f"{path} is a KMZ without doc.kml (its main document) that holds {len(kml)} KML "
            f"files: {listed}. ringgeo does not guess which one lists the partners: unzip "
            f"the KMZ and pass the .kml file you mean (Google My Maps writes one doc.kml)."
        )
    if info.flag_bits & 0x1:
        raise InputError(
            f"{path}: {info.filename} inside the KMZ is encrypted (password-protected); "
            f"ringgeo reads no password. Unzip it with its password and pass the .kml file, "
            f"or export the map again."
        )
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
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as err:
        raise InputError(f"{path}: {info.filename} inside the KMZ cannot be unpacked ({err}); "
                         f"the file is damaged: export the map again.") from err
    if len(data) > KMZ_MAX_BYTES:
        raise too_big
    return data, notes


def read_records(path: pathlib.Path, *, every_technology: bool = False
                 ) -> tuple[list[dict], dict]:
    """Read a partner file; return ``(records, meta)``.

    Each record holds raw strings under canonical field names (``None`` when
    the format has no such field), ``row`` (line where the record starts,
    header = line 1) and ``problems`` (list of ``(field, reason)`` found while
    reading). ``meta`` holds ``format``, ``encoding``, ``rows_read``,
    ``other_technology``, ``blank_records``, ``fields`` and ``notes``.

    ``every_technology=True`` (an Atlas export only) keeps the rows of every
    technology, not Ring's alone: each record then also holds ``technology``
    and ``vendor`` (raw text), and ``meta["columns"]`` describes the header
    (see :func:`atlas_columns`).
    """
    data = _read_bytes(path)
    if not data.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise InputError(f"Partner file {path} is empty. {_FORMATS_HELP}.")
    if data.startswith(b"PK\x05\x06"):  # a zip's end record with no member before it
        raise InputError(f"{path} is an empty zip archive (no file inside): a KMZ holds the "
                         f"map's KML. Export the map again (Google My Maps: menu > Export to "
                         f"KML/KMZ). {_FORMATS_HELP}.")
    if data.startswith(b"PK\x03\x04"):
        kml, notes = _unzip_kmz(data, path)
        records, meta = _read_markup(kml, path)
        meta["notes"][:0] = notes
        return records, meta
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            f"{path} is an old Excel workbook (.xls); ringgeo reads CSV. In Excel use "
            f"File > Save As > 'CSV UTF-8 (Comma delimited)' and pass the .csv file."
        )
    wide = _wide_encoding(data)
    if wide:
        text = _decode_wide(data, wide, path)
        if text.lstrip(" \t\r\n\ufeff").startswith("<"):  # XML in UTF-16/32
            return _read_markup(text, path, encoding=wide)
        legacy: list[int] = []
    else:
        body = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
        if body[re.match(rb"[ \t\r\n]*", body).end():].startswith(b"<"):
            return _read_markup(body, path)
        text, wide, legacy = _decode(data, path)
    _check_nul(text, path)
    return _read_csv(text, wide, path, legacy, every_technology)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _check_nul(text: str, path: pathlib.Path) -> None:
    """Refuse text holding NUL characters, naming why: padding, a damaged line, binary."""
    first = text.find("\x00")
    if first < 0:
        return
    body = text.rstrip("\x00")
    if "\x00" not in body:
        line = body.count("\n") + 1
        raise InputError(
            f"{path} ends with {len(text) - len(body):,} NUL bytes after its text (from line "
            f"{line}): zero padding, as a copy or download that was cut short or preallocated "
            f"leaves, so the text may stop short of its end. Copy or download the file again "
            f"(or, if its last record is complete, delete the padding).")
    sample = body[:65536]
    if len(_CONTROL.findall(sample)) > 0.02 * len(sample):
        raise InputError(f"{path} is a binary file, not a partner file. {_FORMATS_HELP}.")
    line = text.count("\n", 0, first) + 1
    start = text.rfind("\n", 0, first) + 1
    end = text.find("\n", first)
    shown = text[start:end if end >= 0 else len(text)][:120]
    more = body.count("\x00") - 1
    raise InputError(
        f"{path}: line {line} holds a NUL character (byte 0) in {shown!r}"
        f"{f' (and {more} more NUL(s) further on)' if more else ''}: no text holds one, so "
        f"the file is damaged there. Delete the NUL character (or export the file again) "
        f"and read it again.")


# --------------------------------------------------------------------------- CSV
_DELIMITERS = (",", ";", "\t", "|")


def _delimiter(header_line: str) -> str:
    """Return the delimiter that splits the header into the most known column names.

    A header whose names hold a ``|`` or ``;`` ("Agency|Name") is still split on its
    commas when that finds more known columns; ties go to the more frequent character,
    then to the comma. Known names: the Atlas headers and the plain CSV's aliases.
    """
    def known(delimiter: str) -> int:
        try:
            names = next(csv.reader([header_line], delimiter=delimiter))
        except (csv.Error, StopIteration):
            return 0
        return sum(_norm_header(name) in _KNOWN_HEADERS for name in names)

    found = [d for d in _DELIMITERS if d in header_line]
    if not found:
        return ","
    return max(found, key=lambda d: (known(d), header_line.count(d), -_DELIMITERS.index(d)))


def _read_csv(text: str, encoding: str, path: pathlib.Path,
              legacy: list[int] = (), every_technology: bool = False
              ) -> tuple[list[dict], dict]:
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header = None
    header_line = 0
    end_of_previous = 0
    body = []  # (start line, fields)
    mixed = {}  # start line of a record -> its lines decoded as cp1252 (mixed encodings)
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
            if legacy:
                at = bisect.bisect_left(legacy, start)
                lines = legacy[at:bisect.bisect_right(legacy, end_of_previous)]
                if lines:
                    mixed[start] = lines
    except csv.Error as err:
        if "field larger than field limit" in str(err):
            raise InputError(
                f"{path}: the record starting at line {end_of_previous + 1} has a field "
                f"longer than {csv.field_size_limit():,} characters, the most a CSV field "
                f"may hold here. A partner file's fields are short: either that field "
                f"really is this long (shorten it), or a quote opened in it is never "
                f"closed and swallowed the lines after it (close it)."
            ) from err
        if "unexpected end of data" in str(err):
            raise InputError(
                f"{path}: cannot parse the CSV record starting at line {end_of_previous + 1}: "
                f"the file ends inside a quoted field of that record. Either the file was "
                f"cut short (an interrupted download or copy: get it again) or a quote in "
                f"that record is never closed (close it)."
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
            "notes": [], "mixed": mixed,
            # a last record without a line end may have been cut short
            "unterminated": bool(body) and not text.endswith(("\n", "\r"))}
    if legacy:
        meta["notes"].append(
            f"the file mixes encodings: {len(legacy)} line(s) are not UTF-8 and were read as "
            f"{encoding.rsplit(' ', 1)[-1]} (first: line {legacy[0]}); their rows are flagged "
            f"'mixed encoding'")
    if "aosnumber" in normalized or "technology" in normalized:
        return _atlas_records(header, normalized, body, meta, path, every_technology)
    if every_technology:
        raise InputError(
            f"{path} is not an Atlas of Surveillance export: its header has neither an "
            f"AOSNUMBER nor a Technology column (columns found: {', '.join(header)}). "
            f"Download the CSV from the Atlas' site (atlasofsurveillance.org) and pass it "
            f"unmodified.")
    return _plain_records(header, normalized, body, meta, path)


def _column_index(normalized: list[str], wanted: str, path, header) -> int:
    hits = [i for i, name in enumerate(normalized) if name == wanted]
    if len(hits) > 1:
        raise InputError(
            f"{path}: the column {header[hits[0]]!r} appears {len(hits)} times in the header; "
            f"rename or delete the extra copies."
        )
    return hits[0]


def _take(fields: list[str], index: dict[str, int], width: int, row: int,
          meta: dict | None = None, last: bool = False) -> dict:
    record = {"row": row, "problems": []}
    if last and meta and meta["unterminated"] and len(fields) < width:
        record["problems"].append(
            ("row", f"cut short: the file ends inside this record, without a line end, "
                    f"after {len(fields)} of its {width} fields; the file was probably cut "
                    f"short (an interrupted download or copy): check this partner or get "
                    f"the file again"))
    elif len(fields) != width:
        extra = [f for f in fields[width:] if f.strip()]
        if len(fields) < width or extra:
            record["problems"].append(
                ("row", f"shifted fields: the record has {len(fields)} fields but the "
                        f"header has {width}; values may be in the wrong columns, check "
                        f"this line"))
    for field, i in index.items():
        record[field] = fields[i] if i < len(fields) else ""
    lines = meta["mixed"].get(row) if meta else None
    if lines:
        codec = meta["encoding"].rsplit(" ", 1)[-1]
        for field, i in index.items():
            if i < len(fields) and not fields[i].isascii():
                record["problems"].append(
                    (field, f"mixed encoding: line {', '.join(map(str, lines))} is not UTF-8 "
                            f"like the rest of the file, so it was read as {codec}, giving "
                            f"{fields[i]!r}; check the accents (re-save the file as UTF-8)"))
    return record


#: Columns of the 2020-10-07 Atlas export, in its order (``atlas_columns`` compares a
#: newer export with it).
ATLAS_2020_COLUMNS = (
    "AOSNUMBER", "City", "County", "State", "Agency", "Type of LEA", "Summary",
    "Type of Juris", "Technology", "Vendor", "Link 1", "Link 1 Snapshot", "Link 1 Source",
    "Link 1 Type", "Link 1 Date", "Link 2", "Link 2 Snapshot", "Link 2 Source", "Link 2 Type",
    "Link 2 Date", "Link 3", "Link 3 Snapshot", "Link 3 Source", "Link 3 Type", "Link 3 Date")
#: Known later names of 2020 columns (normalized later name -> 2020 header). Empty: no
#: rename of the Atlas' columns could be verified; unknown columns are reported and kept.
ATLAS_RENAMES: dict[str, str] = {}


def atlas_columns(header: list[str]) -> dict:
    """Compare an Atlas export's header with the 2020-10-07 export's.

    Returns a dict: ``columns`` (the header as read), ``missing`` (2020 columns
    absent), ``added`` (columns the 2020 export did not have: kept, not read),
    ``renamed`` (``{header: 2020 name}`` of known renames, mapped) and
    ``reordered`` (whether the shared columns come in another order).

    Examples
    --------
    >>> c = atlas_columns(["City", "AOSNUMBER", "State", "Agency", "Technology", "Year"])
    >>> c["added"], c["reordered"], "Vendor" in c["missing"]
    (['Year'], True, True)
    """
    known = {_norm_header(name): name for name in ATLAS_2020_COLUMNS}
    renamed = {name: ATLAS_RENAMES[_norm_header(name)] for name in header
               if _norm_header(name) in ATLAS_RENAMES and _norm_header(name) not in known}
    seen = [known.get(_norm_header(name)) or renamed.get(name) for name in header]
    shared = [name for name in seen if name]
    in_2020 = [name for name in ATLAS_2020_COLUMNS if name in shared]
    return {"columns": list(header),
            "missing": [name for name in ATLAS_2020_COLUMNS if name not in shared],
            "added": [name for name, was in zip(header, seen) if not was],
            "renamed": renamed, "reordered": shared != in_2020}


def _atlas_records(header, normalized, body, meta, path, every_technology=False):
    columns = atlas_columns(header)
    if columns["renamed"]:
        normalized = [_norm_header(columns["renamed"].get(name, name))
                      for name in header]
    missing = [ATLAS_HEADERS[f] for f, h in ATLAS_FIELDS.items() if h not in normalized]
    if missing:
        raise InputError(
            f"{path} looks like an Atlas of Surveillance export (it has an AOSNUMBER or "
            f"Technology column) but lacks the column(s) {', '.join(repr(m) for m in missing)}. "
            f"Columns found: {', '.join(header)}. Use the full, unmodified export."
        )
    index = {f: _column_index(normalized, h, path, header) for f, h in ATLAS_FIELDS.items()}
    if every_technology:
        return _every_technology(header, normalized, body, meta, index, columns)
    records, other, blank = [], 0, 0
    ring = _norm_header(RING_TECHNOLOGY)
    tech_at = index["technology"]
    is_ring: dict[str, bool] = {}  # memo: a few distinct technologies, thousands of rows
    for number, (row, fields) in enumerate(body, start=1):
        if tech_at >= len(fields) and any(f.strip() for f in fields):
            last = number == len(body) and meta["unterminated"]
            cause = ("the file ends inside this record, without a line end: it was probably "
                     "cut short (an interrupted download or copy); download the export again"
                     if last else "fix the record's delimiters or quotes, or re-export the file")
            raise InputError(
                f"{path}: the record starting at line {row} has {len(fields)} field(s), "
                f"ending before the {header[tech_at]!r} column (column {tech_at + 1} of "
                f"{len(header)}), so ringgeo cannot tell whether it is a Ring partnership; "
                f"{cause}.")
        technology = fields[tech_at] if tech_at < len(fields) else ""
        if technology not in is_ring:
            is_ring[technology] = _norm_header(technology) == ring
        if not is_ring[technology]:
            if any(f.strip() for f in fields):
                other += 1
            else:
                blank += 1
            continue
        record = _take(fields, index, len(header), row, meta, number == len(body))
        del record["technology"]
        records.append(record)
    meta.update(format="atlas-csv", rows_read=len(body), other_technology=other,
                blank_records=blank, fields=set(ATLAS_FIELDS) - {"technology"})
    return records, meta


def _every_technology(header, normalized, body, meta, index, columns):
    """Every non-blank row of an Atlas export, with its ``technology`` and ``vendor``."""
    vendor = _norm_header("Vendor")
    if vendor in normalized:
        index = {**index, "vendor": normalized.index(vendor)}
    records, blank = [], 0
    for number, (row, fields) in enumerate(body, start=1):
        if not any(f.strip() for f in fields):
            blank += 1
            continue
        record = _take(fields, index, len(header), row, meta, number == len(body))
        record.setdefault("vendor", None)
        records.append(record)
    meta.update(format="atlas-csv", rows_read=len(body), other_technology=0,
                blank_records=blank, fields=set(index), columns=columns)
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
    for number, (row, fields) in enumerate(body, start=1):
        if not any(f.strip() for f in fields):
            blank += 1
            continue
        records.append(_take(fields, index, len(header), row, meta, number == len(body)))
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


# elements that break a line inside a field's text (a description written as XHTML)
_BREAKS = frozenset({"br", "p", "div", "tr", "li"})


class _KmlCollector:
    """expat handlers that collect the Placemarks of a KML document, in one pass.

    A field's text is all the text inside its element, nested elements included
    (``<name>Aurora <b>Police</b> Department</name>`` is "Aurora Police Department";
    a ``<br/>`` breaks a line); text outside the fields read is not kept.

    Entity declarations are refused (:meth:`entity`, :meth:`end_doctype`): ringgeo expands
    no entity, so an internal one cannot rename an agency, an external one cannot read another
    file, and a "billion laughs" bomb cannot exhaust memory, whatever expat is
    installed (the approach of defusedxml). A reference to an entity declared outside the
    file (in an external DTD, which expat skips) is refused too (:meth:`skipped`): its text
    would vanish.
    """

    def __init__(self, parser, path: pathlib.Path, line_offset: int = 0):
        self.parser, self.path, self.offset = parser, path, line_offset
        self.stack: list[str] = []
        self.placemarks: list[dict] = []
        self.root: str | None = None
        self.current: dict | None = None
        self.data_name: str | None = None
        self.capture: tuple[int, str] | None = None  # (depth, field) of the text collected
        self.text: list[str] = []
        self.entities: list[tuple[int, str]] = []  # (severity, description)

    def line(self) -> int:
        """Return the current line of the file (expat's line plus the blank lines skipped)."""
        return self.parser.CurrentLineNumber + self.offset

    def start(self, name, attrs):
        local = name.rsplit(" ", 1)[-1]
        if self.root is None:
            self.root = name
        parent = self.stack[-1] if self.stack else ""
        self.stack.append(local)
        if self.capture is not None:  # an element inside a field: its text is the field's
            if local.lower() in _BREAKS:
                self.text.append("\n")
            return
        if local == "Placemark":
            self.current = {"row": self.line(), "name": None,
                            "address": None, "description": None, "data": {}}
        elif self.current is None:
            return
        elif local in ("Data", "SimpleData"):
            self.data_name = attrs.get("name")
            if local == "SimpleData":
                self._begin("data")
        elif parent == "Placemark" and local in ("name", "address", "description"):
            self._begin(local)
        elif local == "value" and parent == "Data":
            self._begin("data")

    def _begin(self, field: str) -> None:
        self.capture, self.text = (len(self.stack), field), []

    def chars(self, text):
        if self.capture is not None:
            self.text.append(text)

    def end(self, name):
        depth = len(self.stack)
        local = self.stack.pop()
        current = self.current
        if self.capture is not None:
            if self.capture[0] != depth:
                return
            field = self.capture[1]
            text = "".join(self.text).strip()
            self.capture, self.text = None, []
            if field != "data":
                current[field] = text
            elif self.data_name:
                current["data"][_norm_header(self.data_name)] = text
        elif local == "Placemark" and current is not None:
            self.placemarks.append(current)
            self.current = None

    def skipped(self, name, is_parameter):
        raise InputError(
            f"{self.path} uses the entity '&{name};' at line {self.line()}, which is declared "
            f"outside the file (in the external DTD its DOCTYPE names); ringgeo reads no "
            f"external DTD, so the entity's text would vanish from the placemark. Write the "
            f"text in place of '&{name};' (KML exported by Google My Maps uses no entity)."
        )

    def entity(self, name, is_parameter, value, base, system_id, public_id, notation=None):
        # noted here, refused at the end of the DOCTYPE (before any use), naming the worst
        line = self.line()
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


def _parse_kml(data: bytes, path: pathlib.Path, line_offset: int = 0,
               encoding: str | None = None) -> _KmlCollector:
    """Run expat over the document (entities refused); return the collector.

    ``encoding`` overrides the document's declaration (text ringgeo decoded itself).
    """
    parser = xml.parsers.expat.ParserCreate(encoding, namespace_separator=" ")
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    collector = _KmlCollector(parser, path, line_offset)
    parser.StartElementHandler = collector.start
    parser.EndElementHandler = collector.end
    parser.CharacterDataHandler = collector.chars
    parser.EntityDeclHandler = collector.entity
    parser.UnparsedEntityDeclHandler = collector.unparsed_entity
    parser.EndDoctypeDeclHandler = collector.end_doctype
    parser.SkippedEntityHandler = collector.skipped
    parser.buffer_text = True  # one call per text run, not one per line
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as err:
        raise InputError(
            f"{path}: not well-formed XML at line {err.lineno + line_offset}, column "
            f"{err.offset} "
            f"({xml.parsers.expat.errors.messages.get(err.code, err)}). {_FORMATS_HELP}; "
            f"re-export the map as KML."
        ) from err
    return collector


def _check_kml(collector: _KmlCollector, path: pathlib.Path) -> None:
    root = collector.root
    if root is not None and root.rsplit(" ", 1)[-1].lower() == "html":
        raise _html_page(path)
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


_HTML_START = re.compile(
    r"(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)\b",
    re.IGNORECASE | re.DOTALL)


def _html_page(path: pathlib.Path) -> InputError:
    return InputError(
        f"{path} is an HTML page (a web page saved from the browser), not a data file. "
        f"Download the data itself: the Atlas of Surveillance's CSV export, or Ring's map "
        f"exported as KML/KMZ (Google My Maps: menu > Export to KML/KMZ)."
    )


def _read_markup(data: bytes | str, path: pathlib.Path,
                 encoding: str | None = None) -> tuple[list[dict], dict]:
    """Read a document that starts with ``<``: a KML (after any blank lines), or an HTML page.

    ``data`` is bytes as read, or text ringgeo decoded (UTF-16 or UTF-32, named by
    ``encoding``). Leading blank lines are skipped (expat refuses an XML declaration after
    them) and counted, so that line numbers are those of the file.
    """
    if isinstance(data, str):
        skipped = re.match(r"[ \t\r\n\ufeff]*", data).end()
        lead, data = data[:skipped].count("\n"), data[skipped:].encode("utf-8")
        force = "UTF-8"
    else:
        skipped = re.match(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*", data).end()
        lead, data, force = data[:skipped].count(b"\n"), data[skipped:], None
    if _HTML_START.match(data[:4096].decode("latin-1")):
        raise _html_page(path)
    return _read_kml(data, path, lead, force, encoding)


def _read_kml(data: bytes, path: pathlib.Path, line_offset: int = 0, force: str | None = None,
              encoding: str | None = None) -> tuple[list[dict], dict]:
    collector = _parse_kml(data, path, line_offset, force)
    _check_kml(collector, path)
    records = [_placemark_record(mark) for mark in collector.placemarks]
    has_county = any(r["county"] is not None for r in records)
    meta = {"format": "ring-kml", "encoding": f"xml ({encoding})" if encoding else "xml",
            "rows_read": len(records),
            "other_technology": 0, "blank_records": 0,
            "fields": {"agency", "city", "state", "activated"} | ({"county"} if has_county
                                                                  else set()),
            "notes": []}
    if not has_county:
        meta["notes"].append("KML placemarks carry no county: county_names are empty lists")
    return records, meta
