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

:func:`load_zip_municipalities` turns ZIP codes into the municipalities they
cover, through the Census 2020 ZCTA relationship files as compiled by
``us_geo`` (``us-geo-2020-*.csv``, ``us-geo-2023-places.csv``): one row per
(ZCTA, municipality) overlap with its share of the ZCTA's land.
:func:`zip_municipalities` gives the rows of one ZIP code, and
:func:`municipality_shares` is the rule itself, on tables passed in.
"""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pandas as pd

from . import data, tablecache
from ._config import memoized
from ._rowchecks import coordinates, fail_first, require_columns
from .exceptions import InputError, ParameterError
from .geography import SUBEST_FILE, load_counties, load_municipalities
from .states import STATES, STATES_AND_DC

__all__ = ["COLUMNS", "POSTAL_FILE", "ZCTA_FILES", "ZIP_COLUMNS", "DROP_REASONS", "credit",
           "load_postal_codes", "read_postal_codes", "load_zip_municipalities",
           "zip_municipalities", "municipality_shares", "load_internal_points",
           "read_internal_points", "POINT_FILES"]

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


# --------------------------------------------------------------------------
# ZIP codes -> municipalities, through the Census 2020 ZCTA relationship files
# --------------------------------------------------------------------------

#: Registry names of the us_geo tables: ZCTAs, ZCTA x county subdivision and ZCTA x place
#: overlaps, county subdivision names, place names (in that order).
ZCTA_FILES = ("us-geo-2020-zctas.csv", "us-geo-2020-zcta-county-subdivisions.csv",
              "us-geo-2020-zcta-places.csv", "us-geo-2020-county-subdivisions.csv",
              "us-geo-2023-places.csv")
#: Columns of :func:`load_zip_municipalities`, in order.
ZIP_COLUMNS = ("zip", "muni_geoid", "kind", "name", "state", "land_sqmi", "land_share", "rank")
#: Why an overlap row of the relationship files is not in :func:`load_zip_municipalities`
#: (the keys of ``attrs["dropped"]``), in the order the rules are applied.
DROP_REASONS = {
    "no_land": "the ZCTA and the area share no land (they touch, or share water only)",
    "zcta_unknown": "the ZCTA has no row, or no land, in the ZCTA table",
    "geoid_unknown": "the GEOID is in neither ringgeo's municipality table nor the us_geo "
                     "name files: county subdivision codes changed since 2020 (mostly "
                     "Arkansas), the island areas, a few places new since",
    "not_municipality": "not a municipality of ringgeo: a census-designated place, a census "
                        "county division or unorganized territory, an inactive, fictitious or "
                        "nonfunctioning minor civil division, a territory's area",
    "coextensive": "a minor civil division that is the same municipality as a place "
                   "(coextensive_geoid): counted once, as the place",
}
_CODE_LENGTH = {"zcta": 5, "mcd": 10, "place": 7}
_ZIP_QUERY = re.compile(r"^(\d{5})(?:-\d{4})?$")


def _read_us_geo(path, codes: dict, numbers=("Land Area",)) -> pd.DataFrame:
    """Read a us_geo table as strings, check its codes and make ``numbers`` float."""
    where = f"us_geo file {path}"
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise InputError(f"{where}: cannot be read as a UTF-8 CSV with a header row "
                         f"({err}).") from err
    require_columns(frame, [*codes, *numbers], where, "fetch it again with "
                    "ringgeo.data.fetch (the registry's copy has them).")
    frame["row"] = np.arange(2, len(frame) + 2)  # line 1 is the header
    for column, kind in codes.items():
        digits = _CODE_LENGTH[kind]
        bad = ~frame[column].str.fullmatch(rf"\d{{{digits}}}")
        if bad.any():
            fail_first(frame, bad, column, f"is not a {digits}-digit {kind} code (leading "
                       f"zeros kept).", where)
    for column in numbers:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() | (values < 0)
        if bad.any():
            fail_first(frame, bad, column, "is not an area in square miles (a number, 0 or "
                       "more).", where)
        frame[column] = values.astype("float64")
    return frame


def municipality_shares(zctas: pd.DataFrame, subdivisions: pd.DataFrame,
                        places: pd.DataFrame, municipalities: pd.DataFrame,
                        known=()) -> pd.DataFrame:
    """Rank the municipalities of each ZCTA by their share of its land.

    The rule of :func:`load_zip_municipalities`, on tables passed in. The
    overlap rows of both relationship tables are kept when they hold land, their
    ZCTA has land, and their GEOID is a municipality of ``municipalities``; a
    minor civil division whose ``coextensive_geoid`` is a place of the table
    counts as that place (the row ringgeo links to), once per ZCTA: the place's
    own row when it has one, else the MCD's land. Shares are the overlap's land
    over the ZCTA's land, capped at 1 (the relationship files measure land a
    little differently from the ZCTA table: 357 of the real rows, mostly by
    less than 0.1 %, would exceed it). A village (place) lies inside its town
    or township (MCD), so the shares of one ZCTA may sum above 1.

    Parameters
    ----------
    zctas : pandas.DataFrame
        ``ZCTA5`` (5 characters) and ``Land Area`` (square miles), one row per ZCTA.
    subdivisions, places : pandas.DataFrame
        The overlaps: ``ZCTA5``, ``County Subdivision GEOID`` (10 characters) or
        ``Place GEOID`` (7), and ``Land Area``.
    municipalities : pandas.DataFrame
        ``GEOID``, ``kind`` (``"place"``/``"mcd"``), ``name``, ``state`` and
        ``coextensive_geoid`` (NA when none), as
        :func:`ringgeo.geography.load_municipalities` gives them.
    known : iterable of str, optional
        Further GEOIDs that are known but are not municipalities (census-designated
        places, census county divisions, ...): their rows count as
        ``"not_municipality"``; other GEOIDs outside ``municipalities`` count as
        ``"geoid_unknown"``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ZIP_COLUMNS`, sorted by ``zip`` and ``rank``: ``zip``
        (the ZCTA), ``muni_geoid``, ``kind``, ``name``, ``state`` (str),
        ``land_sqmi``, ``land_share`` (float), ``rank`` (int, 1 = largest share;
        ties go to the MCD, then to the lower GEOID). ``attrs["dropped"]``:
        rows left out, by reason (:data:`DROP_REASONS`, each key always
        present); ``attrs["rows_read"]`` (overlap rows by kind);
        ``attrs["geoid_unknown_zctas"]`` (ZCTAs with such a row);
        ``attrs["zctas"]`` (ZCTAs with a row),
        ``attrs["zctas_without_municipality"]`` (ZCTAs of ``zctas`` with none) and
        ``attrs["share_capped"]`` (rows whose share was capped at 1).

    Examples
    --------
    A township of 10 square miles, its village of 2 (both in the ZCTA's 8), a
    census-designated place:

    >>> import pandas as pd
    >>> zctas = pd.DataFrame({"ZCTA5": ["08012"], "Land Area": [8.0]})
    >>> mcds = pd.DataFrame({"ZCTA5": ["08012"], "County Subdivision GEOID": ["3400726760"],
    ...                      "Land Area": [6.0]})
    >>> places = pd.DataFrame({"ZCTA5": ["08012", "08012"],
    ...                        "Place GEOID": ["3400001", "3406040"], "Land Area": [2.0, 3.0]})
    >>> munis = pd.DataFrame({"GEOID": ["3400726760", "3400001"], "kind": ["mcd", "place"],
    ...                       "name": ["Gloucester township", "Hill borough"],
    ...                       "state": ["NJ", "NJ"], "coextensive_geoid": [pd.NA, pd.NA]})
    >>> out = municipality_shares(zctas, mcds, places, munis, known={"3406040"})
    >>> out[["muni_geoid", "land_share", "rank"]].values.tolist()
    [['3400726760', 0.75, 1], ['3400001', 0.25, 2]]
    >>> out.attrs["dropped"]["not_municipality"]
    1
    """
    where = "municipality_shares:"
    require_columns(zctas, ["ZCTA5", "Land Area"], f"{where} zctas", "pass us-geo-2020-zctas.csv.")
    for frame, column, name in ((subdivisions, "County Subdivision GEOID", "subdivisions"),
                                (places, "Place GEOID", "places")):
        require_columns(frame, ["ZCTA5", column, "Land Area"], f"{where} {name}",
                        f"pass the ZCTA x {name} overlaps of us_geo.")
    require_columns(municipalities, ["GEOID", "kind", "name", "state", "coextensive_geoid"],
                    f"{where} municipalities", "pass ringgeo.geography.load_municipalities().")
    rows = pd.concat([
        pd.DataFrame({"zip": subdivisions["ZCTA5"].to_numpy(),
                      "muni_geoid": subdivisions["County Subdivision GEOID"].to_numpy(),
                      "land_sqmi": subdivisions["Land Area"].to_numpy(dtype="float64")}),
        pd.DataFrame({"zip": places["ZCTA5"].to_numpy(),
                      "muni_geoid": places["Place GEOID"].to_numpy(),
                      "land_sqmi": places["Land Area"].to_numpy(dtype="float64")}),
    ], ignore_index=True)
    total = pd.Series(zctas["Land Area"].to_numpy(dtype="float64"),
                      index=zctas["ZCTA5"].to_numpy())
    rows["zcta_land"] = rows["zip"].map(total)
    munis = municipalities.set_index("GEOID")
    ids = set(munis.index)
    reason = pd.Series(pd.NA, index=rows.index, dtype="object")

    def drop(mask, why):
        reason[mask & reason.isna()] = why

    drop(~(rows["land_sqmi"] > 0), "no_land")
    drop(~(rows["zcta_land"] > 0), "zcta_unknown")
    in_table = rows["muni_geoid"].isin(ids)
    drop(~in_table & ~rows["muni_geoid"].isin(set(known)), "geoid_unknown")
    drop(~in_table, "not_municipality")
    # an MCD that is the same municipality as a listed place counts as the place
    twin = munis["coextensive_geoid"].where(munis["kind"] == "mcd")
    twin = twin[twin.notna() & twin.isin(ids)]
    to_place = reason.isna() & rows["muni_geoid"].isin(set(twin.index))
    rows.loc[to_place, "muni_geoid"] = rows.loc[to_place, "muni_geoid"].map(twin)
    kept = reason.isna()
    order = rows.loc[kept].assign(own=~to_place[kept]).sort_values(
        ["zip", "muni_geoid", "own"], ascending=[True, True, False])
    repeated = order.index[order.duplicated(["zip", "muni_geoid"])]
    reason[repeated] = "coextensive"
    unknown_zctas = rows.loc[reason == "geoid_unknown", "zip"].nunique()
    rows = rows.loc[reason.isna()]
    out = pd.DataFrame({
        "zip": rows["zip"].astype("string"),
        "muni_geoid": rows["muni_geoid"].astype("string"),
        "kind": rows["muni_geoid"].map(munis["kind"]).astype("string"),
        "name": rows["muni_geoid"].map(munis["name"]).astype("string"),
        "state": rows["muni_geoid"].map(munis["state"]).astype("string"),
        "land_sqmi": rows["land_sqmi"].astype("float64"),
        "land_share": (rows["land_sqmi"] / rows["zcta_land"]).astype("float64"),
    })
    # within a ZCTA the share orders as the land does; the relationship files measure
    # land a little differently from the ZCTA table, so a share may exceed 1: it is capped
    out["_mcd_last"] = out["kind"] != "mcd"
    out = out.sort_values(["zip", "land_sqmi", "_mcd_last", "muni_geoid"],
                          ascending=[True, False, True, True]).drop(columns="_mcd_last")
    out["rank"] = out.groupby("zip", sort=False).cumcount().astype("int64") + 1
    capped = int((out["land_share"] > 1).sum())
    out["land_share"] = out["land_share"].clip(upper=1.0)
    out = out.reset_index(drop=True)
    out.attrs = {
        "rows_read": {"mcd": len(subdivisions), "place": len(places)},
        "kept": len(out),
        "dropped": {why: int((reason == why).sum()) for why in DROP_REASONS},
        "geoid_unknown_zctas": int(unknown_zctas),
        "zctas": int(out["zip"].nunique()),
        "zctas_without_municipality": int((~zctas["ZCTA5"].isin(set(out["zip"]))).sum()),
        "share_capped": capped,
    }
    return out


def _zip_municipalities() -> pd.DataFrame:
    paths = [data.fetch(name) for name in ZCTA_FILES]
    zctas = _read_us_geo(paths[0], {"ZCTA5": "zcta"})
    subdivisions = _read_us_geo(paths[1], {"ZCTA5": "zcta", "County Subdivision GEOID": "mcd"})
    places = _read_us_geo(paths[2], {"ZCTA5": "zcta", "Place GEOID": "place"})
    named = _read_us_geo(paths[3], {"GEOID": "mcd"}, numbers=())
    named_places = _read_us_geo(paths[4], {"GEOID": "place"}, numbers=())
    every = load_municipalities(governments_only=False)
    known = set(named["GEOID"]) | set(named_places["GEOID"]) | set(every["GEOID"])
    out = municipality_shares(zctas, subdivisions, places, load_municipalities(), known)
    out.attrs.update({"source": [*ZCTA_FILES, SUBEST_FILE],
                      "credit": data.credit(*ZCTA_FILES, SUBEST_FILE),
                      "dropped_note": dict(DROP_REASONS)})
    return out


def load_zip_municipalities() -> pd.DataFrame:
    """Return every ZIP code area (ZCTA) with the municipalities it covers, by land share.

    A ZIP code is a postal route and often spans several municipalities. The
    Census Bureau's ZIP Code Tabulation Areas (ZCTAs, 2020) approximate the ZIP
    codes with census blocks; their relationship files (as compiled by
    ``us_geo``: ``us-geo-2020-zctas.csv``, ``us-geo-2020-zcta-county-subdivisions.csv``,
    ``us-geo-2020-zcta-places.csv``) give the land each ZCTA shares with each
    county subdivision (town, township) and each place (city, borough,
    village, census-designated place). Only ringgeo's municipalities are kept
    (:func:`ringgeo.geography.load_municipalities`): a census-designated place
    or a hamlet is no government, and its land is already counted in the town
    or township around it. A minor civil division that is the same
    municipality as a place (``coextensive_geoid``) counts once, as the place.
    Rules: :func:`municipality_shares`; credit ``attrs["credit"]``.

    Returns
    -------
    pandas.DataFrame
        One row per (ZCTA, municipality) overlap, columns :data:`ZIP_COLUMNS`:
        ``zip`` (5-character ZCTA), ``muni_geoid`` (ringgeo's GEOID: 7-digit
        place or 10-digit MCD), ``kind`` (``"place"``/``"mcd"``), ``name``
        (ringgeo's, ``"Gloucester township"``), ``state`` (USPS), ``land_sqmi``
        (land shared, square miles), ``land_share`` (of the ZCTA's land, 0-1;
        a village lies inside its town, so a ZCTA's shares may sum above 1),
        ``rank`` (1 = largest share; ties go to the MCD, then the lower GEOID).
        ``attrs["dropped"]`` counts the overlap rows left out by reason
        (explained in ``attrs["dropped_note"]``, :data:`DROP_REASONS`);
        ``attrs["geoid_unknown_zctas"]``, ``attrs["rows_read"]``,
        ``attrs["zctas"]``, ``attrs["zctas_without_municipality"]``,
        ``attrs["share_capped"]``, ``attrs["source"]``.

    Raises
    ------
    InputError
        A file lacks a column, has a malformed code or a negative or
        non-numeric area; the message names the file, line and field.

    Examples
    --------
    >>> table = load_zip_municipalities()
    >>> first = table.loc[table["rank"] == 1].set_index("zip")
    >>> first.loc["12110", ["muni_geoid", "name", "state"]].tolist()
    ['3600117343', 'Colonie town', 'NY']
    >>> table.attrs["dropped"]["geoid_unknown"] > 0  # reported, not dropped silently
    True
    """
    # the parsed-data cache (ringgeo.tablecache), keyed on the files read
    return tablecache.cached("zip_municipalities", {}, _zip_municipalities,
                             sources=[*ZCTA_FILES, SUBEST_FILE])


def zip_municipalities(zip_code: str) -> pd.DataFrame:
    """Return the municipalities one ZIP code covers, the largest share of its land first.

    Parameters
    ----------
    zip_code : str
        Five digits (``"08012"``, leading zeros kept); a ZIP+4 (``"08012-1234"``)
        reads as its first five.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`load_zip_municipalities` for that ZIP code, sorted by
        ``rank`` (index 0, 1, ...). Empty when the ZIP code has no ZCTA: PO box
        and single-building codes have no area of their own (the lookup then
        falls back to GeoNames' post-office town, :func:`load_postal_codes`),
        and a ZCTA wholly outside ringgeo's municipalities (unorganized
        territory) has no row.

    Raises
    ------
    ParameterError
        ``zip_code`` is not a string of five digits (or ZIP+4).

    Examples
    --------
    >>> zip_municipalities("90712")[["muni_geoid", "name"]].values.tolist()
    [['0639892', 'Lakewood city'], ['0643000', 'Long Beach city']]
    >>> len(zip_municipalities("20500"))  # the White House: a ZIP code without a ZCTA
    0
    """
    text = zip_code.strip() if isinstance(zip_code, str) else None
    match = _ZIP_QUERY.match(text) if text is not None else None
    if match is None:
        raise ParameterError(
            f"zip_code {zip_code!r} is not a ZIP code: a ZIP code is a string of five digits, "
            f"leading zeros kept (\"08012\", not 8012), or a ZIP+4 (\"08012-1234\").")
    table = load_zip_municipalities()
    return table.loc[table["zip"] == match[1]].sort_values("rank").reset_index(drop=True)


#: The Gazetteer files of :func:`load_internal_points`: places (7-digit GEOIDs) and
#: county subdivisions (10-digit GEOIDs).
POINT_FILES = ("us-geo-2023-places.csv", "us-geo-2020-county-subdivisions.csv")


def read_internal_points(place_path, mcd_path) -> pd.DataFrame:
    """Read and check the two Gazetteer tables of :func:`load_internal_points`.

    Parameters
    ----------
    place_path, mcd_path : str or path-like
        ``us-geo-2023-places.csv`` and ``us-geo-2020-county-subdivisions.csv`` (or
        files of their layout: ``GEOID``, ``Latitude``, ``Longitude``).

    Returns
    -------
    pandas.DataFrame
        As :func:`load_internal_points`.

    Raises
    ------
    InputError
        A file cannot be read, lacks a column, or has a malformed code or point; the
        message names the file, line and field.
    """
    frames = []
    for path, kind in zip((place_path, mcd_path), ("place", "mcd")):
        where = f"us_geo file {path}"
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8",
                                usecols=["GEOID", "Latitude", "Longitude"])
        except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as err:
            raise InputError(f"{where}: cannot be read as a UTF-8 CSV with the columns "
                             f"GEOID, Latitude, Longitude ({err}); fetch it again with "
                             "ringgeo.data.fetch.") from err
        frame["row"] = np.arange(2, len(frame) + 2)
        bad = ~frame["GEOID"].str.fullmatch(rf"\d{{{_CODE_LENGTH[kind]}}}")
        if bad.any():
            fail_first(frame, bad, "GEOID", f"is not a {_CODE_LENGTH[kind]}-digit {kind} "
                       "code (leading zeros kept).", where)
        lat = pd.to_numeric(frame["Latitude"], errors="coerce")
        lon = pd.to_numeric(frame["Longitude"], errors="coerce")
        bad = lat.isna() | lon.isna() | ~lat.between(-90, 90) | ~lon.between(-180, 180)
        if bad.any():
            fail_first(frame, bad, "Latitude", "is not a point (latitude, longitude in "
                       "degrees).", where)
        frames.append(pd.DataFrame({"geoid": frame["GEOID"].to_numpy(), "kind": kind,
                                    "latitude": lat.to_numpy(), "longitude": lon.to_numpy()}))
    return pd.concat(frames, ignore_index=True)


def _internal_points() -> pd.DataFrame:
    return read_internal_points(*(data.fetch(name) for name in POINT_FILES))


@memoized(maxsize=1)
def _points_cached() -> pd.DataFrame:
    return tablecache.cached("internal_points", {}, _internal_points, sources=list(POINT_FILES))


def load_internal_points() -> pd.DataFrame:
    """Return the Census Gazetteer's internal point of every place and county subdivision.

    The internal point (Gazetteer ``INTPTLAT``/``INTPTLONG``, as compiled by ``us_geo``
    in ``us-geo-2023-places.csv`` and ``us-geo-2020-county-subdivisions.csv``) lies
    inside the area, near its centre: the web map places a municipal police department
    there when the FBI's own point is shared with other agencies or falls outside its
    state (:func:`ringgeo.plot.explore`).

    Returns
    -------
    pandas.DataFrame
        Columns ``geoid`` (7-digit place or 10-digit county subdivision GEOID, the
        ``muni_geoid`` of the agency and partner tables), ``kind`` (``"place"`` or
        ``"mcd"``), ``latitude``, ``longitude`` (degrees).

    Raises
    ------
    InputError
        A file lacks a column or has a malformed code or point.

    Examples
    --------
    >>> points = load_internal_points().set_index("geoid")
    >>> round(float(points.loc["0639892", "latitude"]), 1)  # Lakewood, CA
    33.8
    """
    return _points_cached().copy()
