"""The curated tables of who polices a place when the FBI list cannot say.

Three tables ship in the package, each row with its source and evidence
(``docs/methodology.md#who-polices-a-place``):

``contract_policing.csv``
    municipalities that pay another agency (their county's sheriff, mostly) to
    police them: ``muni_geoid, muni_name, state, county_fips, agency_ori,
    agency_name, unit_ori, since, until, source, evidence``. ``unit_ori`` is the
    FBI "City" agency that reports for the contract (e.g. "Lakewood Police
    Department", CA0193500), blank when the FBI list has none.
``contract_counties.csv``
    every county of 100,000 residents or more whose sheriff or county police is
    a Ring partner, with the result of the search for its contract cities
    (``contracts found``, ``none found``, ``not checked``).
``regional_police.csv``
    regional and shared departments and the municipalities they police:
    ``agency_ori, agency_name, state, member_geoid, member_name, relation
    (member / contract), since, until, source, evidence``.
``agency_aliases.csv``
    names readers use for an agency that the FBI list spells otherwise
    (consolidated city-county agencies, successors): ``alias, ori, fbi_name,
    state, kind, source, evidence``.

A row applies on a date when its ``since`` (a year or a date, blank: always) is not
after it and its ``until`` (blank: still) is after it.
"""

from __future__ import annotations

import pathlib
import re
from importlib import resources

import pandas as pd

from ._config import memoized
from ._names import clean
from ._rowchecks import read_csv_table
from .exceptions import InputError

__all__ = ["CONTRACT_COLUMNS", "REGIONAL_COLUMNS", "ALIAS_COLUMNS", "COUNTY_CHECK_COLUMNS",
           "read_contracts", "read_regional", "read_aliases", "read_contract_counties",
           "in_force", "contracts_in_force", "regional_in_force", "contract_geoids"]

#: Columns of ``contract_policing.csv``.
CONTRACT_COLUMNS = ("muni_geoid", "muni_name", "state", "county_fips", "agency_ori",
                    "agency_name", "unit_ori", "since", "until", "source", "evidence")
#: Columns of ``regional_police.csv``.
REGIONAL_COLUMNS = ("agency_ori", "agency_name", "state", "member_geoid", "member_name",
                    "relation", "since", "until", "source", "evidence")
#: Columns of ``agency_aliases.csv``.
ALIAS_COLUMNS = ("alias", "ori", "fbi_name", "state", "kind", "source", "evidence")
#: Columns of ``contract_counties.csv``.
COUNTY_CHECK_COLUMNS = ("county_fips", "county_name", "state", "agency_ori", "agency_name",
                        "result", "contract_munis", "source", "note")
_GEOID = re.compile(r"^(\d{7}|\d{10})$")
_ORI = re.compile(r"^[A-Z]{2}[0-9A-Z]{7}$")
_DAY = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_RESULTS = ("contracts found", "none found", "not checked")
_ORI_RULE = (lambda v: bool(_ORI.match(v)), "a 9-character FBI ORI")
_GEOID_RULE = (lambda v: bool(_GEOID.match(v)),
               "a 7-digit place or 10-digit county subdivision GEOID")
_COUNTY_RULE = (lambda v: bool(re.match(r"^\d{5}$", v)), "a 5-digit county GEOID")
_RELATIONS = ("member", "contract")
_ALIAS_KINDS = ("consolidated", "renamed", "successor", "common name")


def _packaged(name: str) -> pathlib.Path:
    return pathlib.Path(str(resources.files("ringgeo").joinpath(name)))


def _read(path, columns, what: str) -> pd.DataFrame:
    table = read_csv_table(path, columns, what)
    for column in columns:
        table[column] = pd.Series([clean(v) or "" for v in table[column]], index=table.index,
                                  dtype="str")
    table.attrs["file"] = str(pathlib.Path(path))
    return table


def _check(table: pd.DataFrame, what: str, rules: dict) -> None:
    """Check every row; ``rules`` maps a column to (test, what a good value looks like)."""
    for rec in table.to_dict("records"):
        for column, (test, expected) in rules.items():
            if not test(rec[column]):
                raise InputError(
                    f"{what} {table.attrs['file']}, line {rec['line']}, field {column}: "
                    f"{rec[column]!r} is not {expected}; fix that row.")


def _required(value: str) -> bool:
    return bool(value)


def _optional_day(value: str) -> bool:
    return not value or bool(_DAY.match(value))


#: The checks every dated, sourced row passes (contracts, regional departments).
_DATED_RULES = {
    "since": (_optional_day, "blank, a year, YYYY-MM or a date YYYY-MM-DD"),
    "until": (_optional_day, "blank, a year, YYYY-MM or a date YYYY-MM-DD"),
    "source": (_required, "a source (a URL)"),
    "evidence": (_required, "the evidence the source gives"),
}


def _once(table: pd.DataFrame, key: list, what: str) -> None:
    twice = table.duplicated(key, keep=False)
    if twice.any():
        lines = table.loc[twice, "line"].tolist()
        raise InputError(f"{what} {table.attrs['file']}, lines {lines}: the same "
                         f"{' and '.join(key)} is listed twice; keep one row.")


def read_contracts(path=None) -> pd.DataFrame:
    """Read and check the contract-policing table.

    Parameters
    ----------
    path : str or path-like, optional
        A CSV with :data:`CONTRACT_COLUMNS`; default the package's
        ``contract_policing.csv``.

    Returns
    -------
    pandas.DataFrame
        The rows as strings (blank cells ``""``) plus ``line`` (line number in the
        file, header = 1).

    Raises
    ------
    InputError
        A missing file or column, a malformed GEOID, ORI or date, a blank source
        or evidence, or a municipality listed twice for one date range.

    Examples
    --------
    >>> table = read_contracts()
    >>> lakewood = table.loc[table["muni_geoid"] == "0639892"].iloc[0]
    >>> lakewood["agency_ori"], lakewood["unit_ori"]
    ('CA0190000', 'CA0193500')
    """
    what = "contract-policing table"
    table = _read(path or _packaged("contract_policing.csv"), CONTRACT_COLUMNS, what)
    _check(table, what, {
        "muni_geoid": _GEOID_RULE, "county_fips": _COUNTY_RULE, "agency_ori": _ORI_RULE,
        "unit_ori": (lambda v: not v or bool(_ORI.match(v)), "blank or a 9-character FBI ORI"),
        **_DATED_RULES})
    _once(table, ["muni_geoid", "since"], what)
    return table


def read_regional(path=None) -> pd.DataFrame:
    """Read and check the table of regional and shared departments and their municipalities.

    Parameters
    ----------
    path : str or path-like, optional
        A CSV with :data:`REGIONAL_COLUMNS`; default the package's
        ``regional_police.csv``.

    Returns
    -------
    pandas.DataFrame
        The rows as strings plus ``line``.

    Raises
    ------
    InputError
        A missing file or column, a malformed value, a blank source or evidence,
        or one member listed twice for one department.

    Examples
    --------
    >>> table = read_regional()
    >>> northern = table.loc[table["agency_ori"] == "PA0021B00", "member_name"]
    >>> sorted(northern)[:2]
    ['Borough of Bradford Woods', 'Township of Marshall']
    """
    what = "regional-police table"
    table = _read(path or _packaged("regional_police.csv"), REGIONAL_COLUMNS, what)
    _check(table, what, {
        "agency_ori": _ORI_RULE, "member_geoid": _GEOID_RULE,
        "relation": (lambda v: v in _RELATIONS, f"one of {', '.join(_RELATIONS)}"),
        **_DATED_RULES})
    _once(table, ["agency_ori", "member_geoid"], what)
    return table


def read_aliases(path=None) -> pd.DataFrame:
    """Read and check the agency aliases (names readers type that the FBI spells otherwise).

    Parameters
    ----------
    path : str or path-like, optional
        A CSV with :data:`ALIAS_COLUMNS`; default the package's ``agency_aliases.csv``.

    Returns
    -------
    pandas.DataFrame
        The rows as strings plus ``line``.

    Raises
    ------
    InputError
        A missing file or column, a malformed ORI, a blank source or evidence, or
        one alias given for two agencies of a state.

    Examples
    --------
    >>> table = read_aliases()
    >>> table.loc[table["alias"] == "Jacksonville Sheriff's Office", "ori"].tolist()
    ['FL0160200']
    """
    what = "agency-alias table"
    table = _read(path or _packaged("agency_aliases.csv"), ALIAS_COLUMNS, what)
    _check(table, what, {
        "alias": (_required, "a name"),
        "ori": _ORI_RULE,
        "kind": (lambda v: v in _ALIAS_KINDS, f"one of {', '.join(_ALIAS_KINDS)}"),
        "source": (_required, "a source (a URL)"),
        "evidence": (_required, "the evidence the source gives"),
    })
    folded = table.assign(**{"alias (in any case)": table["alias"].str.casefold()})
    folded.attrs = table.attrs
    _once(folded, ["alias (in any case)", "state"], what)
    return table


def read_contract_counties(path=None) -> pd.DataFrame:
    """Read the record of the counties searched for contract cities, and the result.

    Parameters
    ----------
    path : str or path-like, optional
        A CSV with :data:`COUNTY_CHECK_COLUMNS`; default the package's
        ``contract_counties.csv``.

    Returns
    -------
    pandas.DataFrame
        The rows as strings plus ``line``.

    Raises
    ------
    InputError
        A missing file or column, an unknown result, a county listed twice.

    Examples
    --------
    >>> table = read_contract_counties()
    >>> table.loc[table["county_fips"] == "06037", "result"].tolist()  # Los Angeles
    ['contracts found']
    """
    what = "contract-county table"
    table = _read(path or _packaged("contract_counties.csv"), COUNTY_CHECK_COLUMNS, what)
    _check(table, what, {
        "county_fips": _COUNTY_RULE,
        "result": (lambda v: v in _RESULTS, f"one of {', '.join(_RESULTS)}"),
    })
    _once(table, ["county_fips"], what)
    return table


def _as_day(value: str) -> pd.Timestamp | None:
    if not value:
        return None
    parts = value.split("-")
    return pd.Timestamp(int(parts[0]), int(parts[1]) if len(parts) > 1 else 1,
                        int(parts[2]) if len(parts) > 2 else 1)


def in_force(table: pd.DataFrame, day) -> pd.Series:
    """Return which rows apply on ``day`` (``since`` not after it, ``until`` after it).

    Parameters
    ----------
    table : pandas.DataFrame
        A table with ``since`` and ``until`` columns (:func:`read_contracts`,
        :func:`read_regional`).
    day : str or pandas.Timestamp
        The date; a ``since`` given as a year counts from January 1 of that year.

    Returns
    -------
    pandas.Series of bool

    Examples
    --------
    >>> table = pd.DataFrame({"since": ["", "2021", "2010"], "until": ["", "", "2019-12-31"]})
    >>> in_force(table, "2020-10-07").tolist()
    [True, False, False]
    """
    day = pd.Timestamp(day)
    since = [_as_day(v) for v in table["since"]]
    until = [_as_day(v) for v in table["until"]]
    return pd.Series([(s is None or s <= day) and (u is None or u > day)
                      for s, u in zip(since, until)], index=table.index, dtype=bool)


@memoized(maxsize=1)
def contracts_in_force(day: str) -> pd.DataFrame:
    """Return the package's contract rows in force on ``day`` (cached per day)."""
    table = read_contracts()
    return table.loc[in_force(table, day)].reset_index(drop=True)


@memoized(maxsize=1)
def contract_geoids() -> frozenset:
    """Return the municipalities the package's contract table names, on any date (cached)."""
    return frozenset(read_contracts()["muni_geoid"])


@memoized(maxsize=1)
def regional_in_force(day: str) -> pd.DataFrame:
    """Return the package's regional-police rows in force on ``day`` (cached per day)."""
    table = read_regional()
    return table.loc[in_force(table, day)].reset_index(drop=True)
