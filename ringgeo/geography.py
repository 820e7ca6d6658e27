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

Results are cached in the process; every call returns a fresh copy that the
caller may change freely.
"""

from __future__ import annotations

import functools
import pathlib
import re

import geopandas as gpd
import pandas as pd

from . import data
from .exceptions import InputError
from .states import STATES

__all__ = [
    "load_states",
    "load_counties",
    "COUNTY_LSAD",
]

STATE_FILE = "cb_2019_us_state_20m.zip"
COUNTY_FILE = "cb_2019_us_county_20m.zip"
POPEST_FILE = "co-est2019-alldata.csv"
SUBEST_FILE = "sub-est2021_all.zip"

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

_BOUNDARY_COLUMNS = ("STATEFP", "GEOID", "NAME", "LSAD", "ALAND", "AWATER", "geometry")
_POPEST_COLUMNS = ("SUMLEV", "STATE", "COUNTY", "STNAME", "CTYNAME", "POPESTIMATE2019")
_SUBEST_COLUMNS = ("SUMLEV", "STATE", "COUNTY", "PLACE", "COUSUB", "CONCIT", "PRIMGEO_FLAG",
                   "FUNCSTAT", "NAME", "STNAME", "ESTIMATESBASE2020", "POPESTIMATE2020")


# --------------------------------------------------------------------------
# reading the registry files (each reader takes a path so tests can pass
# crafted files)
# --------------------------------------------------------------------------

def _require(frame: pd.DataFrame, columns, path) -> None:
    missing = [col for col in columns if col not in frame.columns]
    if missing:
        raise InputError(
            f"{pathlib.Path(path).name}: missing column(s) {', '.join(missing)} "
            f"(found {', '.join(map(str, frame.columns))}). The file is not the Census "
            f"file the registry names; fetch it again with `ringgeo data fetch`."
        )


def _to_int(frame: pd.DataFrame, column: str, path, *, offset: int = 2) -> pd.Series:
    """Parse a count column as Int64; non-numbers raise an InputError naming the line."""
    text = frame[column].astype("string").str.strip()
    values = pd.to_numeric(text, errors="coerce").astype("Int64")
    bad = values.isna() & text.notna() & (text != "")
    if bad.any():
        pos = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(
            f"{pathlib.Path(path).name}, line {int(frame.index[pos]) + offset}: field "
            f"{column} is {text.iloc[pos]!r}, not a whole number. The file is damaged; "
            f"fetch it again with `ringgeo data fetch`."
        )
    return values


def _read_csv(path, columns) -> pd.DataFrame:
    """Read a Census CSV (Latin-1, CRLF; a zip holding one CSV is read in place)."""
    try:
        frame = pd.read_csv(path, dtype=str, encoding="latin-1", keep_default_na=False,
                            na_values=[""])
    except (ValueError, OSError, UnicodeError) as err:  # bad zip, parser error
        raise InputError(
            f"{pathlib.Path(path).name}: cannot be read as a Census CSV ({err}). "
            f"Fetch it again with `ringgeo data fetch`."
        ) from err
    _require(frame, columns, path)
    frame = frame.loc[:, list(columns)]
    # index = zero-based data line, so line number in the file = index + 2
    return frame.reset_index(drop=True)


def _read_boundaries(path, extra=()) -> gpd.GeoDataFrame:
    try:
        frame = gpd.read_file(path)
    except Exception as err:  # pyogrio raises its own DataSourceError
        raise InputError(
            f"{pathlib.Path(path).name}: cannot be read as a shapefile zip ({err}). "
            f"Fetch it again with `ringgeo data fetch`."
        ) from err
    _require(frame, _BOUNDARY_COLUMNS + tuple(extra), path)
    return frame


def _read_popest(path) -> pd.DataFrame:
    """State (040) and county (050) rows of ``co-est2019-alldata.csv``."""
    frame = _read_csv(path, _POPEST_COLUMNS)
    frame["population"] = _to_int(frame, "POPESTIMATE2019", path)
    unknown = ~frame["SUMLEV"].isin(["040", "050"])
    if unknown.any():
        pos = int(unknown.to_numpy().nonzero()[0][0])
        raise InputError(
            f"{pathlib.Path(path).name}, line {pos + 2}: SUMLEV is "
            f"{frame['SUMLEV'].iloc[pos]!r}; this file holds only state (040) and county "
            f"(050) rows. Fetch it again with `ringgeo data fetch`."
        )
    return frame


def _read_subest(path) -> pd.DataFrame:
    """All rows of ``sub-est2021_all.csv`` with parsed populations."""
    frame = _read_csv(path, _SUBEST_COLUMNS)
    for col in ("ESTIMATESBASE2020", "POPESTIMATE2020"):
        frame[col] = _to_int(frame, col, path)
    return frame


# --------------------------------------------------------------------------
# states and counties
# --------------------------------------------------------------------------

def _check_join(left: set, right: set, what: str, files: str) -> None:
    only_left, only_right = sorted(left - right), sorted(right - left)
    if only_left or only_right:
        raise InputError(
            f"{what} of {files} do not join one to one: only in boundaries "
            f"{only_left[:10] or 'none'}, only in population {only_right[:10] or 'none'}. "
            f"The registry files must be the 2019 boundaries and vintage-2019 estimates."
        )


@functools.lru_cache(maxsize=4)
def _build_states(boundary_path: str, popest_path: str) -> gpd.GeoDataFrame:
    shapes = _read_boundaries(boundary_path, extra=("STUSPS",))
    pop = _read_popest(popest_path)
    pop = pop.loc[pop["SUMLEV"] == "040", ["STATE", "population"]]
    if pop["STATE"].duplicated().any():
        dup = pop.loc[pop["STATE"].duplicated(), "STATE"].iloc[0]
        raise InputError(f"{pathlib.Path(popest_path).name}: state {dup} appears twice.")
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


def _county_population_2020base(subest_path: str, geoids) -> pd.Series:
    """SUMLEV 050 ESTIMATESBASE2020 by 2019 county GEOID (see docs/geography.md)."""
    sub = _read_subest(subest_path)
    rows = sub.loc[sub["SUMLEV"] == "050"]
    base = pd.Series(rows["ESTIMATESBASE2020"].to_numpy(),
                     index=(rows["STATE"] + rows["COUNTY"]).to_numpy(), dtype="Int64")
    # Valdez-Cordova Census Area (02261) was split on 2019-01-02 into Chugach
    # (02063) and Copper River (02066); the 2019 boundaries still draw 02261.
    # The two new areas cover exactly the old one, so their sum is its base.
    if "02261" not in base.index and {"02063", "02066"} <= set(base.index):
        base["02261"] = base["02063"] + base["02066"]
    return base.reindex(pd.Index(geoids))


@functools.lru_cache(maxsize=4)
def _build_counties(boundary_path: str, popest_path: str,
                    subest_path: str | None = None) -> gpd.GeoDataFrame:
    shapes = _read_boundaries(boundary_path, extra=("COUNTYFP",))
    pop = _read_popest(popest_path)
    pop = pop.loc[pop["SUMLEV"] == "050"].copy()
    pop["GEOID"] = pop["STATE"] + pop["COUNTY"]
    if pop["GEOID"].duplicated().any():
        dup = pop.loc[pop["GEOID"].duplicated(), "GEOID"].iloc[0]
        raise InputError(f"{pathlib.Path(popest_path).name}: county {dup} appears twice.")
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
    usps = dict(zip(STATES["fips"], STATES["state"]))
    suffix = out["LSAD"].map(COUNTY_LSAD)
    full = (out["NAME"] + " " + suffix).str.strip()
    columns = {
        "GEOID": out["GEOID"].astype("string"),
        "state": out["STATEFP"].map(usps).astype("string"),
        "state_fips": out["STATEFP"].astype("string"),
        "county_fips": out["COUNTYFP"].astype("string"),
        "name": out["NAME"].astype("string"),
        "full_name": full.astype("string"),
        "lsad": out["LSAD"].astype("string"),
        "population": out["population"].astype("Int64"),
    }
    if subest_path is not None:
        columns["population_2020base"] = _county_population_2020base(
            subest_path, out["GEOID"]).to_numpy()
    columns["aland"] = out["ALAND"].astype("int64")
    columns["awater"] = out["AWATER"].astype("int64")
    frame = gpd.GeoDataFrame(columns, geometry=out.geometry.values, crs=shapes.crs)
    if "population_2020base" in frame:
        frame["population_2020base"] = frame["population_2020base"].astype("Int64")
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
    frame = _build_states(str(data.fetch(STATE_FILE)), str(data.fetch(POPEST_FILE)))
    return frame.copy()


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
    frame = _build_counties(str(data.fetch(COUNTY_FILE)), str(data.fetch(POPEST_FILE)),
                            str(data.fetch(SUBEST_FILE)))
    return frame.copy()
