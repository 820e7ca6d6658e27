"""Census geography with population: states, counties and municipalities.

Every table is built from the data registry (:func:`ringgeo.data.fetch`), the
zip archives are read in place (the mirror may be read-only), and geography
identifiers stay zero-padded strings (``"06"``, ``"06037"``).

Vintages, and why (details in ``docs/geography.md``):

* boundaries: Census 2019 cartographic boundary files (1:20,000,000);
* state and county population: July 1, 2019 estimates of vintage 2019
  (``co-est2019-alldata.csv``), the same year as the boundaries, so every county
  joins to exactly one population row (Puerto Rico is not in that file: its 78
  municipios keep their geometry with missing population);
* municipalities (incorporated places and minor civil divisions): the April 1,
  2020 estimates base of vintage 2021 (``sub-est2021_all.zip``), the only
  subcounty population file in the registry.

Results are cached in the process and on disk (:mod:`ringgeo.tablecache`);
every call returns a fresh copy that the caller may change freely.
"""

from __future__ import annotations

import pathlib
import re
import zipfile

import geopandas as gpd
import pandas as pd

from . import data, tablecache
from ._config import memoized
from ._names import MUNI_DESCRIPTORS, split_descriptor
from ._rowchecks import require_columns
from .exceptions import InputError
from .states import STATES

__all__ = [
    "load_states",
    "load_counties",
    "load_municipalities",
    "load_municipality_parts",
    "load_mcd_place_overlaps",
    "split_name",
    "COUNTY_LSAD",
    "NAME_DESCRIPTORS",
    "KEEP_FUNCSTAT",
]

STATE_FILE = "cb_2019_us_state_20m.zip"
COUNTY_FILE = "cb_2019_us_county_20m.zip"
POPEST_FILE = "co-est2019-alldata.csv"
SUBEST_FILE = "sub-est2021_all.zip"
#: The registry files the geography tables are built from.
SOURCE_FILES = (STATE_FILE, COUNTY_FILE, POPEST_FILE, SUBEST_FILE)

#: Legal/statistical area description codes of the 2019 county file and the
#: word Census appends to the county's name (``"Orleans" + " Parish"``).
COUNTY_LSAD = {
    "00": "",  # District of Columbia, Carson City (consolidated city)
    "03": "City and Borough",  # Alaska: Juneau, Sitka, Wrangell, Yakutat
    "04": "Borough",  # Alaska
    "05": "Census Area",  # Alaska, statistical
    "06": "County",
    "12": "Municipality",  # Alaska: Anchorage, Skagway
    "13": "Municipio",  # Puerto Rico
    "15": "Parish",  # Louisiana
    "25": "city",  # independent cities: Virginia, Baltimore, St. Louis
}

#: Census place code of the "Balance of ..." rows (the part outside any place).
BALANCE_PLACE = "99990"
#: USPS code by state FIPS code.
_USPS = dict(zip(STATES["fips"], STATES["state"]))

_BOUNDARY_COLUMNS = ("STATEFP", "GEOID", "NAME", "LSAD", "ALAND", "AWATER", "geometry")
_POPEST_COLUMNS = ("SUMLEV", "STATE", "COUNTY", "STNAME", "CTYNAME", "POPESTIMATE2019")
_SUBEST_COLUMNS = ("SUMLEV", "STATE", "COUNTY", "PLACE", "COUSUB", "CONCIT", "PRIMGEO_FLAG",
                   "FUNCSTAT", "NAME", "STNAME", "ESTIMATESBASE2020", "POPESTIMATE2020")


# --------------------------------------------------------------------------
# reading the registry files (each reader takes a path so tests can pass
# crafted files)
# --------------------------------------------------------------------------

def source_paths() -> tuple[str, ...]:
    """Local paths of the four registry files the tables are built from.

    Caches of tables derived from this module (the linker's index, the coverage
    cells) key on these, as this module's own caches do.
    """
    return tuple(str(data.fetch(name)) for name in SOURCE_FILES)


def _stored(name: str, key: dict, files, build):
    """``build()``, through the parsed-data cache (:mod:`ringgeo.tablecache`)."""
    return tablecache.cached(name, key, build, sources=files)


def _require(frame: pd.DataFrame, columns, path) -> None:
    require_columns(frame, columns, pathlib.Path(path).name,
                    "the file is not the Census file the registry names; fetch it again "
                    "with `ringgeo data fetch`.")


def _fail_first(frame: pd.DataFrame, bad: pd.Series, path, message) -> None:
    """Raise an InputError for the first row flagged in ``bad``, if any.

    The message is ``"<file>, line N: " + message(row)``.

    The frames of :func:`_read_csv` are indexed by data line: file line = index + 2.
    """
    if not bad.any():
        return
    pos = int(bad.to_numpy().nonzero()[0][0])
    raise InputError(f"{pathlib.Path(path).name}, line {int(frame.index[pos]) + 2}: "
                     + message(frame.iloc[pos]))


def _to_int(frame: pd.DataFrame, column: str, path) -> pd.Series:
    """Parse a count column as Int64; non-numbers raise an InputError naming the line."""
    try:  # fast path: a clean column of digits
        return frame[column].astype("Int64")
    except (TypeError, ValueError):
        pass
    text = frame[column].astype("string").str.strip()
    values = pd.to_numeric(text, errors="coerce").astype("Int64")
    bad = values.isna() & text.notna() & (text != "")
    _fail_first(frame, bad, path, lambda row: (
        f"field {column} is {row[column].strip()!r}, not a whole number. The file is "
        f"damaged; fetch it again with `ringgeo data fetch`."))
    return values


def _read_csv(path, columns) -> pd.DataFrame:
    """Read a Census CSV (Latin-1, CRLF; a zip holding one CSV is read in place)."""
    try:
        frame = pd.read_csv(path, dtype=str, encoding="latin-1", keep_default_na=False,
                            na_values=[""])
    except (ValueError, OSError, zipfile.BadZipFile) as err:  # parser error, bad zip
        raise InputError(
            f"{pathlib.Path(path).name}: cannot be read as a Census CSV ({err}). "
            f"Fetch it again with `ringgeo data fetch`."
        ) from err
    _require(frame, columns, path)
    frame = frame.loc[:, list(columns)]
    # index = zero-based data line, so line number in the file = index + 2
    return frame.reset_index(drop=True)


def _read_boundaries(path, extra=()) -> gpd.GeoDataFrame:
    from pyogrio.errors import DataLayerError, DataSourceError

    try:
        frame = gpd.read_file(path)
    except (DataSourceError, DataLayerError, OSError) as err:  # not a readable shapefile zip
        raise InputError(
            f"{pathlib.Path(path).name}: cannot be read as a shapefile zip ({err}). "
            f"Fetch it again with `ringgeo data fetch`."
        ) from err
    _require(frame, _BOUNDARY_COLUMNS + tuple(extra), path)
    return frame


@memoized(maxsize=1)
def _read_popest(path) -> pd.DataFrame:
    """State (040) and county (050) rows of ``co-est2019-alldata.csv``.

    Cached (states and counties both read it); callers must not change the
    frame in place.
    """
    frame = _read_csv(path, _POPEST_COLUMNS)
    frame["population"] = _to_int(frame, "POPESTIMATE2019", path)
    _fail_first(frame, ~frame["SUMLEV"].isin(["040", "050"]), path, lambda row: (
        f"SUMLEV is {row['SUMLEV']!r}; this file holds only state (040) and county (050) "
        f"rows. Fetch it again with `ringgeo data fetch`."))
    return frame


@memoized(maxsize=1)
def _read_subest(path) -> pd.DataFrame:
    """All rows of ``sub-est2021_all.csv`` with parsed populations.

    Cached (counties and municipalities both read it); callers must not
    change the frame in place.
    """
    frame = _read_csv(path, _SUBEST_COLUMNS)
    for col in ("ESTIMATESBASE2020", "POPESTIMATE2020"):
        frame[col] = _to_int(frame, col, path)
    # identifiers used by the builders, made once
    frame["county_geoid"] = frame["STATE"] + frame["COUNTY"]
    frame["place_geoid"] = frame["STATE"] + frame["PLACE"]
    frame["mcd_geoid"] = frame["county_geoid"] + frame["COUSUB"]
    return frame


# --------------------------------------------------------------------------
# states and counties
# --------------------------------------------------------------------------

def _check_unique(frame: pd.DataFrame, column: str, path, what: str) -> None:
    _fail_first(frame, frame[column].duplicated(), path,
                lambda row: f"{what} {row[column]} appears twice.")


def _check_join(left: set, right: set, what: str, files: str) -> None:
    only_left, only_right = sorted(left - right), sorted(right - left)
    if only_left or only_right:
        raise InputError(
            f"{what} of {files} do not join one to one: only in boundaries "
            f"{only_left[:10] or 'none'}, only in population {only_right[:10] or 'none'}. "
            f"The registry files must be the 2019 boundaries and vintage-2019 estimates."
        )


@memoized(maxsize=4)
def _build_states(boundary_path: str, popest_path: str) -> gpd.GeoDataFrame:
    shapes = _read_boundaries(boundary_path, extra=("STUSPS",))
    pop = _read_popest(popest_path)
    pop = pop.loc[pop["SUMLEV"] == "040", ["STATE", "population"]]
    _check_unique(pop, "STATE", popest_path, "state")
    files = f"{pathlib.Path(boundary_path).name} and {pathlib.Path(popest_path).name}"
    _check_join(set(shapes.loc[shapes["STUSPS"] != "PR", "GEOID"]), set(pop["STATE"]),
                "State GEOIDs", files)
    out = shapes.merge(pop, how="left", left_on="GEOID", right_on="STATE")
    out = gpd.GeoDataFrame({
        "GEOID": out["GEOID"].astype("string"),
        "state": out["STUSPS"].astype("string"),
        "name": out["NAME"].astype("string"),
        "population": out["population"].astype("Int64"),
        "aland": out["ALAND"].astype("int64"),
        "awater": out["AWATER"].astype("int64"),
    }, geometry=out.geometry.values, crs=shapes.crs)
    return out.sort_values("GEOID", ignore_index=True)


#: County GEOIDs of the vintage-2021 subcounty file that the 2019 county files do not
#: have, and the 2019 county that covered them: the Valdez-Cordova Census Area, AK
#: (02261) was split on 2019-01-02 into Chugach (02063) and Copper River (02066) census
#: areas (Census Bureau, "Substantial Changes to Counties and County Equivalent
#: Entities: 1970-Present"). The 2019 boundaries and population still have 02261.
COUNTY_SUCCESSORS = {"02063": "02261", "02066": "02261"}


def _county_population_2020base(subest_path: str, geoids) -> pd.Series:
    """SUMLEV 050 ESTIMATESBASE2020 by 2019 county GEOID (see docs/geography.md)."""
    sub = _read_subest(subest_path)
    rows = sub.loc[sub["SUMLEV"] == "050"]
    base = pd.Series(rows["ESTIMATESBASE2020"].to_numpy(),
                     index=rows["county_geoid"].to_numpy(), dtype="Int64")
    # The new areas cover exactly the old one, so their sum is its base.
    for old_geoid in set(COUNTY_SUCCESSORS.values()):
        parts = [new for new, old in COUNTY_SUCCESSORS.items() if old == old_geoid]
        if old_geoid not in base.index and set(parts) <= set(base.index):
            base[old_geoid] = base[parts].sum()
    return base.reindex(pd.Index(geoids))


@memoized(maxsize=4)
def _build_counties(boundary_path: str, popest_path: str,
                    subest_path: str | None = None) -> gpd.GeoDataFrame:
    shapes = _read_boundaries(boundary_path, extra=("COUNTYFP",))
    pop = _read_popest(popest_path)
    pop = pop.loc[pop["SUMLEV"] == "050"].copy()
    pop["GEOID"] = pop["STATE"] + pop["COUNTY"]
    _check_unique(pop, "GEOID", popest_path, "county")
    unknown_lsad = sorted(set(shapes["LSAD"]) - set(COUNTY_LSAD))
    if unknown_lsad:
        raise InputError(
            f"{pathlib.Path(boundary_path).name}: unknown county LSAD code(s) "
            f"{', '.join(unknown_lsad)}; add them to ringgeo.geography.COUNTY_LSAD."
        )
    files = f"{pathlib.Path(boundary_path).name} and {pathlib.Path(popest_path).name}"
    _check_join(set(shapes.loc[shapes["STATEFP"] != "72", "GEOID"]), set(pop["GEOID"]),
                "County GEOIDs", files)
    out = shapes.merge(pop[["GEOID", "population"]], how="left", on="GEOID")
    suffix = out["LSAD"].map(COUNTY_LSAD)
    full = (out["NAME"] + " " + suffix).str.strip()
    columns = {
        "GEOID": out["GEOID"].astype("string"),
        "state": out["STATEFP"].map(_USPS).astype("string"),
        "state_fips": out["STATEFP"].astype("string"),
        "county_fips": out["COUNTYFP"].astype("string"),
        "name": out["NAME"].astype("string"),
        "full_name": full.astype("string"),
        "lsad": out["LSAD"].astype("string"),
        "population": out["population"].astype("Int64"),
    }
    if subest_path is not None:
        columns["population_2020base"] = _county_population_2020base(
            subest_path, out["GEOID"]).array
    columns["aland"] = out["ALAND"].astype("int64")
    columns["awater"] = out["AWATER"].astype("int64")
    frame = gpd.GeoDataFrame(columns, geometry=out.geometry.values, crs=shapes.crs)
    return frame.sort_values("GEOID", ignore_index=True)


def load_states() -> gpd.GeoDataFrame:
    """Load the 52 state-level areas with their July 1, 2019 population.

    The 50 states, the District of Columbia and Puerto Rico from the 2019
    cartographic boundary file (1:20,000,000), joined to the vintage-2019
    population estimates. Puerto Rico is not in the vintage-2019 county/state
    file, so its ``population`` is missing (``<NA>``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per state, sorted by ``GEOID``. Columns ``GEOID`` (2-character
        FIPS), ``state`` (USPS code), ``name``, ``population`` (Int64,
        ``POPESTIMATE2019``), ``aland`` and ``awater`` (square metres),
        ``geometry`` (EPSG:4269, NAD83, as in the file).

    Raises
    ------
    InputError
        A registry file lacks a column or the two files do not join state by
        state (every state but Puerto Rico must have one population row).

    Examples
    --------
    >>> states = load_states()
    >>> len(states)
    52
    >>> int(states.loc[states["state"] != "PR", "population"].sum())
    328239523
    >>> states.loc[states["state"] == "PR", "population"].isna().item()
    True
    """
    return _stored("states", {}, (STATE_FILE, POPEST_FILE), lambda: _build_states(
        str(data.fetch(STATE_FILE)), str(data.fetch(POPEST_FILE))).copy())


def load_counties() -> gpd.GeoDataFrame:
    """Load the 3,220 counties and equivalents with their July 1, 2019 population.

    Counties, parishes, boroughs, census areas, independent cities and Puerto
    Rico municipios from the 2019 cartographic boundary file, joined to the
    vintage-2019 estimates. The join is checked: every county outside Puerto
    Rico has exactly one population row and every population row a county.
    Puerto Rico's 78 municipios keep their geometry with missing population.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per county, sorted by ``GEOID``. Columns ``GEOID`` (5
        characters), ``state`` (USPS), ``state_fips`` (2), ``county_fips`` (3),
        ``name`` (``"Los Angeles"``), ``full_name`` (``"Los Angeles County"``,
        ``"Norfolk city"``, ``"Orleans Parish"``: the name plus the word that
        the ``lsad`` code stands for, see :data:`COUNTY_LSAD`), ``lsad``,
        ``population`` (Int64, ``POPESTIMATE2019``), ``population_2020base``
        (Int64, April 1, 2020 estimates base of vintage 2021, the vintage of
        :func:`load_municipalities`; Valdez-Cordova, AK, is the sum of its
        2019 successors Chugach and Copper River), ``aland``, ``awater``,
        ``geometry`` (EPSG:4269).

    Raises
    ------
    InputError
        A registry file lacks a column, carries an unknown LSAD code, or the
        boundaries and the population rows do not join one to one.

    Examples
    --------
    >>> counties = load_counties()
    >>> len(counties)
    3220
    >>> counties.loc[counties["GEOID"] == "51710", ["full_name", "state"]].values.tolist()
    [['Norfolk city', 'VA']]
    >>> int(counties["population"].isna().sum())  # the 78 Puerto Rico municipios
    78
    """
    return _stored("counties", {}, (COUNTY_FILE, POPEST_FILE, SUBEST_FILE), lambda: _build_counties(
        str(data.fetch(COUNTY_FILE)), str(data.fetch(POPEST_FILE)),
        str(data.fetch(SUBEST_FILE))).copy())


# --------------------------------------------------------------------------
# municipalities: incorporated places and minor civil divisions
# --------------------------------------------------------------------------

#: Trailing legal descriptors that Census appends to place and MCD names, as
#: they occur in ``sub-est2021_all.csv`` (case-sensitive: ``"Carson City"``
#: keeps its ``City``), longest first: the package's one list,
#: :data:`ringgeo._names.MUNI_DESCRIPTORS`.
NAME_DESCRIPTORS = MUNI_DESCRIPTORS
_ALIAS_RE = re.compile(r"^(?P<base>.+?)\s+\((?P<alias>[^()]+)\)$")

#: FUNCSTAT codes kept by :func:`load_municipalities` (``governments_only=True``).
#: Places: every incorporated place except statistical ones (``S``). MCDs:
#: active governments with their own officials (``A``, ``B``).
KEEP_FUNCSTAT = {"place": ("A", "B", "C", "F", "N"), "mcd": ("A", "B")}

_FUNCSTAT_MEANING = {
    "A": "active government",
    "B": "active government partially consolidated with another, separate officials",
    "C": "active government consolidated with another (single set of officials)",
    "F": "fictitious entity filling the Census hierarchy",
    "I": "inactive governmental unit",
    "N": "nonfunctioning legal entity",
    "S": "statistical entity",
}


def split_name(name: str) -> tuple[str, str, str | None]:
    """Split a Census place or MCD name into base name, descriptor and alias.

    Parameters
    ----------
    name : str
        A name as Census writes it in the population estimates.

    Returns
    -------
    tuple
        ``(base_name, descriptor, alias)``: the name without its trailing legal
        descriptor (see :data:`NAME_DESCRIPTORS`), the descriptor (``""`` when
        there is none) and the alternative name Census gives in parentheses
        (``None`` when there is none).

    Examples
    --------
    >>> split_name("Castle Shannon borough")
    ('Castle Shannon', 'borough', None)
    >>> split_name("Nashville-Davidson metropolitan government (balance)")
    ('Nashville-Davidson', 'metropolitan government (balance)', None)
    >>> split_name("San Buenaventura (Ventura) city")
    ('San Buenaventura', 'city', 'Ventura')
    >>> split_name("Carson City")
    ('Carson City', '', None)
    """
    base, descriptor = split_descriptor(name)
    alias_match = _ALIAS_RE.match(base)
    if alias_match:
        return alias_match["base"], descriptor or "", alias_match["alias"]
    return base, descriptor or "", None


def _check_parts(levels: dict, path, whole_lev: str, part_lev: str, key: str) -> None:
    """Parts must sum to their whole (157 -> 162, 071 -> 061)."""
    whole, parts = levels[whole_lev], levels[part_lev]
    totals = parts.groupby(key)["ESTIMATESBASE2020"].sum()
    expected = pd.Series(whole["ESTIMATESBASE2020"].to_numpy(), index=whole[key].to_numpy())
    if part_lev == "071":  # MCDs not split by any place (PRIMGEO_FLAG 1) have no 071 rows
        expected = expected.loc[expected.index.isin(totals.index)]
    diff = totals.reindex(expected.index).fillna(0) != expected
    if diff.any():
        geoid = diff[diff].index[0]
        raise InputError(
            f"{pathlib.Path(path).name}: the SUMLEV {part_lev} parts of {geoid} sum to "
            f"{int(totals.get(geoid, 0))} but its SUMLEV {whole_lev} row says "
            f"{int(expected[geoid])}. The file is damaged; fetch it again."
        )


@memoized(maxsize=4)
def _build_municipalities(subest_path: str) -> dict:
    """All tables derived from sub-est2021 (places, MCDs, parts, overlaps)."""
    levels = _subest_levels(subest_path)
    places, mcds = levels["162"], levels["061"]
    parts = _municipality_parts(levels["157"], mcds)
    frame = _municipality_frame(places, mcds, _counties_of(parts))
    overlaps = _overlap_table(levels["071"])
    frame["coextensive_geoid"] = frame["GEOID"].map(_coextensive(frame, overlaps, levels["071"]))
    _to_strings(frame, parts, overlaps)
    kept = _kept(frame)
    kept_ids = set(frame.loc[kept, "GEOID"])
    governments = frame.loc[kept].reset_index(drop=True)
    governments["coextensive_geoid"] = governments["coextensive_geoid"].where(
        governments["coextensive_geoid"].isin(kept_ids))
    both = overlaps["mcd_geoid"].isin(kept_ids) & overlaps["place_geoid"].isin(kept_ids)
    return {
        # governments_only=False / True
        "municipalities": {False: frame, True: governments},
        "parts": {False: parts,
                  True: parts.loc[parts["muni_geoid"].isin(kept_ids)].reset_index(drop=True)},
        "overlaps": {False: overlaps, True: overlaps.loc[both].reset_index(drop=True)},
        "excluded": _exclusions(frame, kept),
    }


def _subest_levels(subest_path: str) -> dict[str, pd.DataFrame]:
    """Return the sub-est2021 rows by summary level (061, 071, 157, 162), checked."""
    sub = _read_subest(subest_path)
    known = {"040", "050", "061", "071", "157", "162", "170", "172"}
    _fail_first(sub, ~sub["SUMLEV"].isin(known), subest_path, lambda row: (
        f"unknown SUMLEV {row['SUMLEV']!r} (expected one of {', '.join(sorted(known))})."))
    levels = {lev: sub.loc[sub["SUMLEV"] == lev] for lev in ("061", "071", "157", "162")}
    # place parts by county, without the county's "Balance of" row (outside any place);
    # the 071 rows keep theirs: an MCD's parts in places plus its balance make the MCD
    levels["157"] = levels["157"].loc[levels["157"]["PLACE"] != BALANCE_PLACE]
    _check_parts(levels, subest_path, "162", "157", "place_geoid")
    _check_parts(levels, subest_path, "061", "071", "mcd_geoid")
    return levels


def _municipality_parts(place_parts: pd.DataFrame, mcds: pd.DataFrame) -> pd.DataFrame:
    """One row per municipality and county: place parts (157) and MCDs (061)."""
    def rows(levels: pd.DataFrame, kind: str) -> pd.DataFrame:
        return pd.DataFrame({
            "muni_geoid": levels[f"{kind}_geoid"].to_numpy(),
            "kind": kind,
            "county_fips": levels["county_geoid"].to_numpy(),
            "population": levels["ESTIMATESBASE2020"].to_numpy(),
            "incorporated": kind == "place",  # an MCD is a town(ship), not incorporated
        })

    parts = pd.concat([rows(place_parts, "place"), rows(mcds, "mcd")], ignore_index=True)
    return parts.sort_values(["muni_geoid", "population", "county_fips"],
                             ascending=[True, False, True], ignore_index=True)


def _counties_of(parts: pd.DataFrame) -> dict[str, tuple]:
    """Municipality GEOID -> its counties, the most populous part first."""
    grouped: dict[str, list] = {}
    for geoid, county in zip(parts["muni_geoid"].tolist(), parts["county_fips"].tolist()):
        grouped.setdefault(geoid, []).append(county)
    return {geoid: tuple(counties) for geoid, counties in grouped.items()}


def _municipality_frame(places: pd.DataFrame, mcds: pd.DataFrame,
                        counties_of: dict) -> pd.DataFrame:
    """One row per place (162) and MCD (061), with its name split and its counties."""
    frame = pd.DataFrame({
        "GEOID": pd.concat([places["place_geoid"], mcds["mcd_geoid"]]).to_numpy(),
        "kind": ["place"] * len(places) + ["mcd"] * len(mcds),
        "name": pd.concat([places["NAME"], mcds["NAME"]]).to_numpy(),
        "state_fips": pd.concat([places["STATE"], mcds["STATE"]]).to_numpy(),
        "population": pd.concat([places["ESTIMATESBASE2020"],
                                 mcds["ESTIMATESBASE2020"]]).to_numpy(),
        "funcstat": pd.concat([places["FUNCSTAT"], mcds["FUNCSTAT"]]).to_numpy(),
        "primgeo_flag": pd.concat([places["PRIMGEO_FLAG"], mcds["PRIMGEO_FLAG"]]).to_numpy()
        == "1",
    })
    split = [split_name(n) for n in frame["name"].tolist()]
    frame.insert(3, "base_name", [s[0] for s in split])
    frame.insert(4, "descriptor", [s[1] for s in split])
    frame.insert(5, "alt_name", [s[2] for s in split])
    frame.insert(6, "state", frame.pop("state_fips").map(_USPS))
    frame.insert(7, "county_fips", frame["GEOID"].map(counties_of))
    frame["population"] = frame["population"].astype("Int64")
    return frame


def _overlap_table(overlap_rows: pd.DataFrame) -> pd.DataFrame:
    """MCD parts inside places (071), without the "Balance of" remainders."""
    overlaps = pd.DataFrame({
        "mcd_geoid": overlap_rows["mcd_geoid"].to_numpy(),
        "place_geoid": overlap_rows["place_geoid"].to_numpy(),
        "county_fips": overlap_rows["county_geoid"].to_numpy(),
        "population": overlap_rows["ESTIMATESBASE2020"].astype("Int64").to_numpy(),
    })
    balance = overlap_rows["PLACE"].to_numpy() == BALANCE_PLACE
    return overlaps.loc[~balance].reset_index(drop=True)


def _coextensive(frame: pd.DataFrame, overlaps: pd.DataFrame,
                 overlap_rows: pd.DataFrame) -> dict[str, str]:
    """MCD GEOID <-> place GEOID of the coextensive pairs, both ways.

    An MCD and a place are coextensive when the MCD is one single place part
    holding all of the place's residents (and all of the MCD's).
    """
    per_mcd = overlap_rows.groupby("mcd_geoid").size()
    single = overlaps.loc[overlaps["mcd_geoid"].map(per_mcd) == 1]
    pop = frame.set_index("GEOID")["population"]
    same = (single["population"].to_numpy() == pop.reindex(single["mcd_geoid"]).to_numpy()) & (
        single["population"].to_numpy() == pop.reindex(single["place_geoid"]).to_numpy())
    pairs = single.loc[same, ["mcd_geoid", "place_geoid"]]
    twin = dict(zip(pairs["mcd_geoid"], pairs["place_geoid"]))
    twin.update(zip(pairs["place_geoid"], pairs["mcd_geoid"]))
    return twin


def _to_strings(frame: pd.DataFrame, parts: pd.DataFrame, overlaps: pd.DataFrame) -> None:
    """Give the three tables their published dtypes (in place): strings and Int64."""
    for col in ("GEOID", "kind", "name", "base_name", "descriptor", "alt_name", "state",
                "funcstat", "coextensive_geoid"):
        frame[col] = frame[col].astype("string")
    for table in (parts, overlaps):
        for col in table.columns:
            if col not in ("population", "incorporated"):
                table[col] = table[col].astype("string")
    parts["population"] = parts["population"].astype("Int64")
    overlaps["population"] = overlaps["population"].astype("Int64")


def _kept(frame: pd.DataFrame) -> pd.Series:
    keep = pd.Series(False, index=frame.index)
    for kind, codes in KEEP_FUNCSTAT.items():
        keep |= (frame["kind"] == kind) & frame["funcstat"].isin(codes)
    return keep


def _exclusions(frame: pd.DataFrame, kept: pd.Series) -> dict:
    counts = frame.loc[~kept].groupby(["kind", "funcstat"]).size()
    return {f"{kind} {code}: {_FUNCSTAT_MEANING.get(code, 'unknown code')}": int(n)
            for (kind, code), n in counts.items()}


def load_municipalities(*, governments_only: bool = True) -> pd.DataFrame:
    """Load incorporated places and minor civil divisions with their population.

    Built from the Census subcounty estimates of vintage 2021
    (``sub-est2021_all.zip``): incorporated places (SUMLEV 162) and minor civil
    divisions (SUMLEV 061: townships, towns, New England towns, ...). The
    population is ``ESTIMATESBASE2020``, the April 1, 2020 estimates base: the
    registry's only subcounty population, and the count closest to the 2019
    boundaries and the 2018-2020 Ring partnerships (see ``docs/geography.md``).

    With ``governments_only`` (the default) only the rows that can run a police
    department are kept: every incorporated place except statistical ones
    (Census lists one, Urban Honolulu CDP; Honolulu is governed by its county),
    and the MCDs that are active governments with their own officials
    (``FUNCSTAT`` A or B). Dropped MCDs are fictitious (F: e.g. a Pennsylvania
    borough's MCD twin, whose government is the place), consolidated with a
    place under one set of officials (C: Hartford town, CT), inactive (I),
    nonfunctioning (N) or statistical (S: unorganized territories). Their
    counts are in ``frame.attrs["excluded"]``. Consolidated cities (SUMLEV
    170/172) are not rows: their balance (``"Indianapolis city (balance)"``)
    and their member places are already incorporated places, so adding the
    consolidated city would count its residents twice.

    Parameters
    ----------
    governments_only : bool, default True
        ``False`` returns every place and MCD row of the file.

    Returns
    -------
    pandas.DataFrame
        One row per municipality, places first, then MCDs, each by ``GEOID``.
        Columns ``GEOID`` (place: state + place code, 7 characters; MCD: state
        + county + county subdivision, 10), ``kind`` (``"place"``/``"mcd"``),
        ``name`` (as Census writes it: ``"Upper Darby township"``),
        ``base_name`` (``"Upper Darby"``, see :func:`split_name`),
        ``descriptor`` (``"township"``), ``alt_name`` (Census's parenthesized
        alternative, ``"Ventura"``, else ``<NA>``), ``state`` (USPS),
        ``county_fips`` (tuple of 5-character county GEOIDs, the county with
        most residents first), ``population`` (Int64), ``funcstat`` (Census
        functional status code), ``primgeo_flag`` (bool: a primitive
        geography, not split by another one), ``coextensive_geoid`` (the place
        or MCD of the table holding exactly the same residents, e.g. a New
        York town-village; else ``<NA>``). ``attrs["excluded"]`` counts the
        rows left out, by kind and FUNCSTAT.

    Raises
    ------
    InputError
        The file lacks a column, has a non-numeric population, an unknown
        summary level, or parts that do not sum to their whole.

    Examples
    --------
    >>> munis = load_municipalities()
    >>> row = munis.loc[munis["name"] == "Upper Darby township"].iloc[0]
    >>> row["GEOID"], row["base_name"], row["county_fips"], int(row["population"])
    ('4204579000', 'Upper Darby', ('42045',), 85472)
    >>> kansas_city = munis.loc[munis["GEOID"] == "2938000"].iloc[0]
    >>> kansas_city["county_fips"]
    ('29095', '29047', '29165', '29037')
    """
    return _stored("municipalities", {"governments_only": bool(governments_only)},
                   (SUBEST_FILE,), lambda: _municipalities(bool(governments_only)))


def _municipalities(governments_only: bool) -> pd.DataFrame:
    built = _build_municipalities(str(data.fetch(SUBEST_FILE)))
    frame = built["municipalities"][governments_only].copy()
    frame.attrs = {"source": SUBEST_FILE, "population": "ESTIMATESBASE2020",
                   "excluded": dict(built["excluded"]) if governments_only else {}}
    return frame


def load_municipality_parts(*, governments_only: bool = True) -> pd.DataFrame:
    """Load one row per (municipality, county) piece, for coverage sums.

    Places that cross county lines have one row per county (SUMLEV 157 place
    parts of ``sub-est2021_all.zip``); an MCD lies in exactly one county and
    has one row. Population is the April 1, 2020 estimates base of the piece.

    Parameters
    ----------
    governments_only : bool, default True
        Keep only the municipalities that :func:`load_municipalities` keeps.

    Returns
    -------
    pandas.DataFrame
        Columns ``muni_geoid``, ``kind``, ``county_fips`` (5 characters),
        ``population`` (Int64) and ``incorporated`` (True for places). The
        pieces of each municipality sum to its population.

    Examples
    --------
    >>> parts = load_municipality_parts()
    >>> kansas_city = parts.loc[parts["muni_geoid"] == "2938000"]
    >>> kansas_city[["county_fips", "population"]].values.tolist()
    [['29095', 316324], ['29047', 138134], ['29165', 53410], ['29037', 101]]
    """
    return _stored("municipality_parts", {"governments_only": bool(governments_only)},
                   (SUBEST_FILE,), lambda: _built("parts", governments_only))


def load_mcd_place_overlaps(*, governments_only: bool = True) -> pd.DataFrame:
    """Load the residents shared by a minor civil division and a place.

    In many states a village or borough lies inside a town or township and
    both govern (and may both partner with Ring). SUMLEV 071 rows of
    ``sub-est2021_all.zip`` give each MCD's part inside each place; this table
    keeps those pairs (the ``"Balance of ..."`` remainders outside any place
    are left out), so coverage can count a resident once.

    Parameters
    ----------
    governments_only : bool, default True
        Keep only pairs whose MCD and place are both kept by
        :func:`load_municipalities`.

    Returns
    -------
    pandas.DataFrame
        Columns ``mcd_geoid`` (10), ``place_geoid`` (7), ``county_fips`` (5),
        ``population`` (Int64, residents of the place inside the MCD).

    Examples
    --------
    >>> overlaps = load_mcd_place_overlaps()
    >>> overlaps.loc[overlaps["mcd_geoid"] == "0900152980"].values.tolist()
    [['0900152980', '0952910', '09001', 1916]]
    """
    return _stored("mcd_place_overlaps", {"governments_only": bool(governments_only)},
                   (SUBEST_FILE,), lambda: _built("overlaps", governments_only))


def _built(table: str, governments_only) -> pd.DataFrame:
    return _build_municipalities(str(data.fetch(SUBEST_FILE)))[table][bool(governments_only)].copy()
