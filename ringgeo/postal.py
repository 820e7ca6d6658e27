"""ZIP codes: GeoNames' U.S. postal code file, read in place and checked.

:func:`load_postal_codes` reads ``geonames-us-postal-codes-20200708.zip`` (the
registry's copy of GeoNames' ``US.zip`` of 2020-07-08) without unpacking it:
one row per ZIP code with its post-office town, state, county and point.

A ZIP code is a postal route, not a jurisdiction: its place name is the town
of the post office that delivers it, which may not be the municipality whose
police serve an address (``docs/lookup.md``). Every input row is kept; rows
without a county (military APO/FPO codes), outside the 50 states and DC (the
Marshall Islands), or whose county is not a 2019 Census county are counted
in ``attrs["quality"]``.
"""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pandas as pd

from . import data, tablecache
from ._config import memoized
from ._rowchecks import coordinates, fail_first
from .exceptions import InputError
from .geography import load_counties
from .states import STATES, STATES_AND_DC

__all__ = ["COLUMNS", "POSTAL_FILE", "credit", "load_postal_codes", "read_postal_codes"]

#: Registry name of the GeoNames postal code file.
POSTAL_FILE = "geonames-us-postal-codes-20200708.zip"
#: The member of the zip that holds the table.
_MEMBER = "US.txt"
#: GeoNames' columns, in file order (the file has no header).
_FIELDS = ("country_code", "zip", "place", "state_name", "state", "county", "county_code",
           "admin_name3", "admin_code3", "latitude", "longitude", "accuracy")
#: Columns of :func:`load_postal_codes`, in order.
COLUMNS = ("zip", "place", "state", "state_name", "county", "county_fips", "latitude",
           "longitude", "accuracy", "row")
_ZIP = re.compile(r"^\d{5}$")


def credit() -> str:
    """Return the credit line GeoNames' licence (CC BY 3.0) asks for.

    Examples
    --------
    >>> credit()
    'GeoNames (geonames.org), postal codes, CC BY 3.0'
    """
    return data.credit(POSTAL_FILE)


def read_postal_codes(path, *, member: str = _MEMBER) -> pd.DataFrame:
    r"""Read and check a GeoNames postal code file (a zip holding ``US.txt``, or the text).

    Parameters
    ----------
    path : str or path-like
        GeoNames' ``US.zip`` (read in place) or its tab-delimited ``US.txt``.
    member : str, default "US.txt"
        The file inside the zip.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: ``zip`` (5-character string, leading zeros
        kept), ``place`` (the post office's town), ``state`` (USPS code, NA for
        military codes), ``state_name``, ``county`` (GeoNames' county name),
        ``county_fips`` (5-character county GEOID: state FIPS + GeoNames'
        3-digit county code; NA when GeoNames gives none), ``latitude``,
        ``longitude`` (float), ``accuracy`` (Int64, GeoNames' 1-6), ``row``
        (line in ``US.txt``, the file has no header). One row per input line:
        a ZIP code listed twice (GeoNames lists two Hawaii base codes also as
        FPO codes) is kept twice and counted in the quality report.

    Raises
    ------
    InputError
        The file cannot be read, a line has not 12 fields, a ZIP code is not
        5 digits, a county code is not 3 digits, or a
        coordinate is not a number in range; the message names the file, line
        and field.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> line = ("US\t19082\tUpper Darby\tPennsylvania\tPA\tDelaware\t045\t\t\t"
    ...         "39.9579\t-75.2681\t4\n")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "US.txt"
    >>> _ = path.write_text(line, encoding="utf-8")
    >>> read_postal_codes(path)[["zip", "place", "county_fips"]].values.tolist()
    [['19082', 'Upper Darby', '42045']]
    """
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                if member not in archive.namelist():
                    raise InputError(f"postal code file {path}: the zip holds "
                                     f"{', '.join(archive.namelist())} but not {member!r}; "
                                     f"expected GeoNames' US.zip.")
                text = archive.read(member).decode("utf-8")
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
    except (OSError, UnicodeDecodeError, zipfile.BadZipFile) as err:
        raise InputError(f"postal code file {path}: cannot be read as GeoNames' UTF-8 "
                         f"postal code table ({err}).") from err
    where = f"{path}" + (f" ({member})" if zipfile.is_zipfile(path) else "")
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if line.count("\t") != len(_FIELDS) - 1:
            raise InputError(f"postal code file {where}, line {number}: "
                             f"{line.count(chr(9)) + 1} tab-separated fields, expected "
                             f"{len(_FIELDS)} ({', '.join(_FIELDS)}).")
    raw = pd.read_csv(io.StringIO(text), sep="\t", header=None, names=list(_FIELDS),
                      dtype=str, keep_default_na=False, quoting=3)
    raw = raw.apply(lambda s: s.str.strip()).replace("", pd.NA)
    raw["row"] = np.arange(1, len(raw) + 1)

    def fail(mask, field, what):
        fail_first(raw, mask, field, what, f"postal code file {where}")

    bad = ~raw["zip"].fillna("").str.match(_ZIP)
    if bad.any():
        fail(bad, "zip", "is not a 5-digit ZIP code (leading zeros kept).")
    code = raw["county_code"]
    bad = code.notna() & ~code.fillna("").str.match(r"^\d{3}$")
    if bad.any():
        fail(bad, "county_code", "is not a 3-digit county FIPS code; fix it or leave it "
             "blank.")
    coordinates(raw, f"postal code file {where}", blank_ok=False)
    fips = raw["state"].map(dict(zip(STATES["state"], STATES["fips"])))
    out = pd.DataFrame({
        "zip": raw["zip"].astype("string"),
        "place": raw["place"].astype("string"),
        "state": raw["state"].astype("string"),
        "state_name": raw["state_name"].astype("string"),
        "county": raw["county"].astype("string"),
        "county_fips": (fips + code).astype("string"),
        "latitude": raw["latitude"],
        "longitude": raw["longitude"],
        "accuracy": pd.to_numeric(raw["accuracy"], errors="coerce").astype("Int64"),
        "row": raw["row"],
    })
    return out


def _report(frame: pd.DataFrame, counties: set, path: str) -> dict:
    in_51 = frame["state"].isin(STATES_AND_DC)
    no_state = frame["state"].isna()
    no_county = frame["county_fips"].isna()
    unknown = frame["county_fips"].notna() & ~frame["county_fips"].isin(counties)

    def listed(mask):
        return frame.loc[mask, "zip"].tolist()

    return {
        "file": str(path),
        "rows_read": len(frame),
        "kept": len(frame),
        "in_51": int(in_51.sum()),
        "no_state": int(no_state.sum()),
        "no_state_note": "military APO/FPO/DPO codes: no state, county or town",
        "outside_51": {str(s): int(n) for s, n in
                       frame.loc[~in_51 & ~no_state, "state"].value_counts().items()},
        "no_county": int(no_county.sum()),
        "no_county_zips": listed(no_county),
        "listed_twice": {z: frame.loc[frame["zip"] == z, "row"].tolist()
                         for z in frame.loc[frame["zip"].duplicated(), "zip"]},
        "county_not_in_census": {z: c for z, c in zip(frame.loc[unknown, "zip"],
                                                      frame.loc[unknown, "county_fips"])},
    }


@memoized(maxsize=2)
def _load(path: str, county_path: str) -> pd.DataFrame:  # key: the files read

    frame = read_postal_codes(path)
    frame.attrs["quality"] = _report(frame, set(load_counties()["GEOID"]), path)
    frame.attrs["source"] = POSTAL_FILE
    return frame


def load_postal_codes() -> pd.DataFrame:
    """Return every U.S. ZIP code with its post-office town, county and point.

    Reads the registry's GeoNames file (``geonames-us-postal-codes-20200708.zip``,
    fetched and verified through :func:`ringgeo.data.fetch`) in place. Credit
    :func:`credit` wherever the data shows (CC BY 3.0).

    Returns
    -------
    pandas.DataFrame
        One row per line of the file (41,470; 41,468 ZIP codes), columns as
        :func:`read_postal_codes`.
        ``attrs["quality"]``: ``rows_read``, ``kept`` (all), ``in_51`` (ZIP
        codes of the 50 states and DC), ``no_state`` (military codes),
        ``outside_51`` (count per territory), ``no_county`` and
        ``no_county_zips``, ``listed_twice`` (``{zip: [lines]}``),
        ``county_not_in_census`` (``{zip: GEOID}`` for
        county codes that are not a 2019 Census county). ``attrs["source"]``.

    Examples
    --------
    >>> zips = load_postal_codes()
    >>> len(zips), zips["zip"].nunique()
    (41470, 41468)
    >>> zips.set_index("zip").loc["19082", ["place", "state", "county_fips"]].tolist()
    ['Upper Darby', 'PA', '42045']
    >>> zips.attrs["quality"]["no_state"]  # military codes
    511
    """
    def build():
        frame = _load(str(data.fetch(POSTAL_FILE)), str(data.fetch("cb_2019_us_county_20m.zip")))
        out = frame.copy()
        out.attrs = {k: (dict(v) if isinstance(v, dict) else v) for k, v in frame.attrs.items()}
        return out
    # the parsed-data cache (ringgeo.tablecache), keyed on every registry file
    return tablecache.cached("postal_codes", {}, build, sources=list(data.registry()))
