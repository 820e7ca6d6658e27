"""The coverage tables: partners per resident and the covered population, as a range.

The body of :mod:`ringgeo.coverage` (see its docstring and ``docs/methodology.md``);
``_cells`` holds the population pieces each table sums.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import data
from .. import geography as geo
from .._config import memoized
from .._frames import without_attrs
from .._rowchecks import require_columns
from ..agencies import AGENCY_FILE, UNIVERSE_TYPES, load_agencies
from ..exceptions import InputError, ParameterError, warn
from ..geography import load_municipalities, source_paths
from ..linking import AGENCY_RULES
from ..states import STATES_AND_DC
from . import _cells

__all__ = ["COLUMNS", "AGENCY_COLUMNS", "FREQUENCIES", "PRIMARY_KINDS", "STATE_POLICE_STATES",
           "agency_rule_effects", "primary_police", "lower_bound_change", "by_state",
           "by_county", "national", "timeline"]

_BASE_COLUMNS = ["partners", "police", "sheriffs", "population", "partners_per_100k",
           "pop_covered_min", "pop_covered_max", "share_covered_min", "share_covered_max",
           "other"]
#: Agency-share columns appended to the by_state / by_county / national tables:
#: the FBI agency universe (local police, sheriffs, county police; 2018) and the
#: share of it partnered (``docs/methodology.md#shares-of-agencies``).
AGENCY_COLUMNS = ["agencies", "agencies_partnered", "share_agencies_partnered",
                  "police_agencies", "share_police_partnered", "sheriff_agencies",
                  "share_sheriffs_partnered"]
#: Columns of the by_state / by_county / national tables, in order (by_state and
#: by_county then add ``name``, by_county ``state`` before it).
COLUMNS = _BASE_COLUMNS + AGENCY_COLUMNS
#: Allowed ``freq`` values of :func:`timeline` (day, week ending Sunday, month,
#: quarter, year); each period is labelled by its last day.
FREQUENCIES = ("D", "W", "M", "Q", "Y")
_BY = (None, "state")
_REQUIRED = ("partner_id", "agency_type", "jurisdiction_type", "state", "county_fips",
             "muni_geoid", "activated")
_AGENCY_TYPES = ("police", "sheriff", "other")
_JURISDICTION_TYPES = ("municipal", "county", "regional", "other")
_GEOGRAPHY_KEYS = ("states", "counties", "municipality_parts", "mcd_place_overlaps")
_UNDATED = pd.Timestamp("1900-01-01")  # stands for "dated, but unknown when" in static tables
_METHOD = "docs/methodology.md"


# ------------------------------------------------------------------ inputs
def _geography(geography) -> _cells.Geography:
    if geography is None:
        return _default_geography(source_paths())
    if not isinstance(geography, dict) or set(geography) != set(_GEOGRAPHY_KEYS):
        found = sorted(geography) if isinstance(geography, dict) else type(geography).__name__
        raise ParameterError(
            f"geography must be None (load the Census tables) or a dict with exactly the "
            f"keys {', '.join(_GEOGRAPHY_KEYS)}; got {found}."
        )
    return _cells.build(*(geography[key] for key in _GEOGRAPHY_KEYS))


@memoized(maxsize=2)
def _default_geography(paths: tuple) -> _cells.Geography:  # key: the files read

    return _cells.build(geo.load_states(), geo.load_counties(),
                        geo.load_municipality_parts(), geo.load_mcd_place_overlaps())


def _counties_of(value) -> tuple:
    if isinstance(value, (tuple, list, np.ndarray)):
        items = value
    elif value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        items = ()
    else:
        items = (value,)
    return tuple(dict.fromkeys(_cells.COUNTY_SUCCESSORS.get(str(v), str(v)) for v in items))


def _prepare(partners) -> pd.DataFrame:
    """Check the linked partner table and keep what coverage needs."""
    if not isinstance(partners, pd.DataFrame):
        raise ParameterError(f"partners must be a DataFrame from ringgeo.load_partners(), "
                             f"not {type(partners).__name__}.")
    require_columns(partners, _REQUIRED, "partner table",
                    "coverage needs the linked table: pass ringgeo.load_partners() "
                    "(link=True, the default) or the output of ringgeo.link_partners().")
    as_of = partners.attrs.get("as_of")
    # the constructor, unlike .loc, does not deep-copy the (large) attrs
    original = partners
    partners = pd.DataFrame(partners, columns=list(_REQUIRED))
    frame = pd.DataFrame({
        "partner_id": partners["partner_id"].astype("string").to_numpy(),
        "agency_type": partners["agency_type"].astype("string").to_numpy(),
        "jurisdiction_type": partners["jurisdiction_type"].astype("string").to_numpy(),
        "state": partners["state"].astype("string").to_numpy(),
        "counties": [_counties_of(v) for v in partners["county_fips"]],
        "muni": partners["muni_geoid"].astype("string").to_numpy(),
        "activated": pd.to_datetime(partners["activated"]).to_numpy(dtype="datetime64[ns]"),
    })
    frame["ori"] = (original["ori"].astype("string").to_numpy() if "ori" in original.columns
                    else pd.array([pd.NA] * len(frame), dtype="string"))
    for column, allowed in (("agency_type", _AGENCY_TYPES),
                            ("jurisdiction_type", _JURISDICTION_TYPES)):
        bad = ~frame[column].isin(allowed)
        if bad.any():
            row = frame.loc[bad].iloc[0]
            raise InputError(
                f"partner {row['partner_id']}: field {column} is {row[column]!r}; expected "
                f"one of {', '.join(allowed)} (as ringgeo.load_partners() cleans it)."
            )
    bad = frame["state"].isna()
    if bad.any():
        raise InputError(f"partner {frame.loc[bad, 'partner_id'].iloc[0]}: field state is "
                         f"blank; every partner needs a USPS state code.")
    frame.attrs["as_of"] = as_of
    return frame


# ----------------------------------------------------------- covered population
def _listed(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Return ``values.isin(index)`` for a unique index, by hash lookup.

    Pandas' isin makes a pyarrow scalar of every index entry when strings are stored in
    pyarrow (0.3 s).
    """
    return index.get_indexer(values) >= 0


def _units(p: pd.DataFrame, geo: _cells.Geography, when: pd.Series):
    """Earliest coverage date per place, MCD and county, and partners adding nobody."""
    notes: dict[str, list] = {}
    county_level = p["jurisdiction_type"] == "county"
    muni = p.loc[~county_level & p["muni"].notna()]
    unknown = ~_listed(muni["muni"], geo.municipalities)
    if unknown.any():
        notes["municipality not in the Census tables"] = list(muni.loc[unknown, "partner_id"])
        muni = muni.loc[~unknown]
    dates = when.loc[muni.index]
    places = dates.groupby(muni["muni"].where(muni["muni"].str.len() == 7)).min()
    mcds = dates.groupby(muni["muni"].where(muni["muni"].str.len() == 10)).min()

    sworn = county_level & p["agency_type"].isin(["police", "sheriff"])
    counties = p.loc[sworn, ["counties", "agency_type"]].assign(when=when[sworn]).explode(
        "counties")
    counties = counties.loc[_listed(counties["counties"], geo.counties.index)]
    county_dates = {kind: counties.loc[counties["agency_type"] == kind].groupby(
        "counties")["when"].min() for kind in ("police", "sheriff")}
    county_dates["any"] = counties.groupby("counties")["when"].min()

    reasons = {
        "county-level agency that is neither police nor sheriff":
            county_level & ~sworn,
        "county-level agency without a county in the county table":
            sworn & ~p.index.isin(counties.index),
        "agency without a linked municipality": ~county_level & p["muni"].isna(),
    }
    for reason, mask in reasons.items():
        if mask.any():
            notes[reason] = list(p.loc[mask, "partner_id"])
    return places, mcds, county_dates, notes


def _county_coverage(p, geo, policing):
    when = pd.Series(p["activated"], index=p.index).fillna(_UNDATED)
    places, mcds, counties, notes = _units(p, geo, when)
    upper, lower = _cover_dates(geo, places, mcds, counties, policing)
    cmin = _cells.covered_by_county(geo, ~np.isnat(lower))
    cmax = _cells.covered_by_county(geo, ~np.isnat(upper))
    return cmin, cmax, notes


# ------------------------------------------------------------------ primary police
#: States where the state police, not the sheriff, polices a municipality without
#: its own department (``docs/methodology.md#primary-police``): Pennsylvania
#: (Pennsylvania State Police; WHYY/Keystone Crossroads, 2016-05-09) and New Jersey
#: (New Jersey State Police; NJ Spotlight News / NJTV).
STATE_POLICE_STATES = frozenset({"NJ", "PA"})
#: Values of ``primary`` in :func:`primary_police`.
PRIMARY_KINDS = ("municipal", "county police", "sheriff", "state police")


@dataclass(frozen=True)
class _Policing:
    """Who polices what: the municipalities with a department, each county's agency."""

    own: frozenset  # place / MCD GEOIDs with their own department (FBI list or a partner)
    muni_agency: dict  # municipality GEOID -> (ori, agency) of its department
    county_kind: pd.Series  # county GEOID -> "county police" / "sheriff" / "state police"
    county_agency: dict  # county GEOID -> (ori, agency) of its county police or sheriff


def _agency_roles(agencies) -> tuple[dict, dict, dict]:
    """Return the departments of municipalities and the agencies of counties, with their kinds.

    From the FBI universe: municipality -> its department, county -> its county agency
    (county police before the sheriff) and county -> that agency's kind.
    """
    frame = pd.DataFrame({
        "ori": agencies["ori"].astype("string").to_numpy(),
        "agency": (agencies["agency"] if "agency" in agencies.columns
                   else agencies["ori"]).astype("string").to_numpy(),
        "agency_type": agencies["agency_type"].astype("string").to_numpy(),
        "counties": [_counties_of(v) for v in agencies["county_fips"]],
        "muni": (agencies["muni_geoid"].astype("string").to_numpy()
                 if "muni_geoid" in agencies.columns else pd.NA),
    })
    local = frame.loc[(frame["agency_type"] == "police") & frame["muni"].notna()]
    muni_agency = {}
    for muni, ori, name in zip(local["muni"], local["ori"], local["agency"]):
        muni_agency.setdefault(str(muni), (str(ori), str(name)))
    county_agency, kinds = {}, {}
    for kind, label in (("sheriff", "sheriff"), ("county_police", "county police")):
        rows = frame.loc[frame["agency_type"] == kind].explode("counties")
        for county, ori, name in zip(rows["counties"], rows["ori"], rows["agency"]):
            if isinstance(county, str):  # county police wins over the sheriff
                county_agency[county] = (str(ori), str(name))
                kinds[county] = label
    return muni_agency, county_agency, kinds


@memoized(maxsize=2)
def _default_roles(paths: tuple) -> tuple[dict, dict, dict]:  # key: the files read
    return _agency_roles(_agencies_without_attrs())


def _agencies_without_attrs():
    # the roles do not read the agencies' quality report (0.6 s of copies per table)

    return without_attrs(load_agencies())


def _policing(agencies, p: pd.DataFrame, geo: _cells.Geography) -> _Policing:
    if agencies is None:
        muni_agency, county_agency, kinds = _default_roles(
            (str(data.fetch(AGENCY_FILE)),) + source_paths())
    else:
        muni_agency, county_agency, kinds = _agency_roles(agencies)
    county_agency, kinds = dict(county_agency), dict(kinds)
    partnered = p.loc[(p["jurisdiction_type"] != "county") & (p["agency_type"] == "police")
                      & p["muni"].notna(), "muni"]
    own = frozenset(muni_agency) | frozenset(str(m) for m in partnered)
    # a partner shows a county agency the FBI list lacks (a county police founded later)
    rows = p.loc[p["jurisdiction_type"] == "county"].explode("counties")
    for county, kind in zip(rows["counties"], rows["agency_type"]):
        if not isinstance(county, str):
            continue
        if kind == "police" and kinds.get(county) != "county police":
            kinds[county] = "county police"
            county_agency.pop(county, None)
        elif kind == "sheriff" and county not in kinds:
            kinds[county] = "sheriff"
    kind = pd.Series(kinds, dtype="object").reindex(geo.counties.index).fillna("state police")
    kind[geo.counties["state"].isin(STATE_POLICE_STATES).to_numpy()] = "state police"
    return _Policing(own, muni_agency, kind, county_agency)


def _cell_primary(geo: _cells.Geography, policing: _Policing) -> np.ndarray:
    """Return the kind of agency that polices each cell first (aligned with ``geo.cells``)."""
    cells = geo.cells
    place_own = cells["place"].isin(policing.own).to_numpy()
    mcd_own = cells["mcd"].isin(policing.own).to_numpy()
    county = cells["county"].map(policing.county_kind).fillna("state police").to_numpy()
    return np.select([place_own, mcd_own], ["place", "mcd"], default=county)


def _cover_dates(geo, places, mcds, counties, policing):
    """Upper bound: any partner's legal jurisdiction; lower: the cell's primary police."""
    upper, _ = _cells.cover_dates(geo, places, mcds, counties["any"])
    cells = geo.cells

    def lookup(column, dates):
        mapped = cells[column].map(dates) if len(dates) else pd.Series(pd.NaT, cells.index)
        return pd.to_datetime(mapped).to_numpy(dtype="datetime64[ns]")

    primary = _cell_primary(geo, policing)
    lower = np.select(
        [primary == "place", primary == "mcd", primary == "county police",
         primary == "sheriff"],
        [lookup("place", places), lookup("mcd", mcds), lookup("county", counties["police"]),
         lookup("county", counties["sheriff"])],
        default=np.datetime64("NaT", "ns"))
    return upper, lower.astype("datetime64[ns]")


# ------------------------------------------------------------------ tables
def _counts(frame: pd.DataFrame, key: str, index: pd.Index) -> pd.DataFrame:
    kinds = frame["agency_type"]
    table = pd.DataFrame({
        "partners": frame.groupby(key).size(),
        "police": (kinds == "police").groupby(frame[key]).sum(),
        "sheriffs": (kinds == "sheriff").groupby(frame[key]).sum(),
        "other": (kinds == "other").groupby(frame[key]).sum(),
    })
    return table.reindex(index).fillna(0).astype("int64")


def _table(counts, population, cmin, cmax) -> pd.DataFrame:
    pop = population.astype("Int64")
    cmin = cmin.astype("Int64").where(pop.notna())
    cmax = cmax.astype("Int64").where(pop.notna())
    denom = pop.astype("float64").where(pop > 0)
    table = pd.DataFrame({
        "partners": counts["partners"],
        "police": counts["police"],
        "sheriffs": counts["sheriffs"],
        "population": pop,
        "partners_per_100k": counts["partners"] / denom * 1e5,
        "pop_covered_min": cmin,
        "pop_covered_max": cmax,
        "share_covered_min": (cmin.astype("float64") / denom).clip(0, 1),
        "share_covered_max": (cmax.astype("float64") / denom).clip(0, 1),
        "other": counts["other"],
    }, index=counts.index)
    for col in ("partners_per_100k", "share_covered_min", "share_covered_max"):
        table[col] = table[col].astype("float64")
    return table


def _universe(agencies) -> pd.DataFrame:
    """Return the agencies that make up the share denominators.

    Local police, sheriffs and county police of the 50 states and DC
    (``docs/methodology.md#shares-of-agencies``).
    """
    if agencies is None:
        return _default_universe((str(data.fetch(AGENCY_FILE)),) + source_paths())
    return _universe_of(agencies)


@memoized(maxsize=2)
def _default_universe(paths: tuple) -> pd.DataFrame:  # key: the files read
    return _universe_of(_agencies_without_attrs())


def _universe_of(agencies) -> pd.DataFrame:
    require_columns(agencies, ("ori", "agency_type", "state", "county_fips"), "agencies",
                    "pass ringgeo.load_agencies().")
    keep = agencies["agency_type"].isin(UNIVERSE_TYPES) & agencies["state"].isin(STATES_AND_DC)
    return pd.DataFrame({"ori": agencies.loc[keep, "ori"].astype("string").to_numpy(),
                         "agency_type": agencies.loc[keep, "agency_type"].to_numpy(),
                         "state": agencies.loc[keep, "state"].astype("string").to_numpy(),
                         "counties": [_counties_of(v) for v in
                                      agencies.loc[keep, "county_fips"]]})


def _add_agency_shares(table: pd.DataFrame, universe: pd.DataFrame, partners: pd.DataFrame,
                       key: str) -> pd.DataFrame:
    """Append :data:`AGENCY_COLUMNS` counted by ``key`` of ``universe``."""
    partnered = universe["ori"].isin(set(partners["ori"].dropna()))

    def count(mask):
        return (mask.groupby(universe[key]).sum().reindex(table.index).fillna(0)
                .astype("int64"))

    police = universe["agency_type"] == "police"
    sheriff = universe["agency_type"] == "sheriff"
    every = pd.Series(True, index=universe.index)
    columns = {"agencies": count(every), "agencies_partnered": count(partnered),
               "police_agencies": count(police), "police_partnered": count(police & partnered),
               "sheriff_agencies": count(sheriff),
               "sheriffs_partnered": count(sheriff & partnered)}

    def share(num, den):
        return (columns[num] / columns[den].where(columns[den] > 0)).astype("float64")

    table["agencies"] = columns["agencies"]
    table["agencies_partnered"] = columns["agencies_partnered"]
    table["share_agencies_partnered"] = share("agencies_partnered", "agencies")
    table["police_agencies"] = columns["police_agencies"]
    table["share_police_partnered"] = share("police_partnered", "police_agencies")
    table["sheriff_agencies"] = columns["sheriff_agencies"]
    table["share_sheriffs_partnered"] = share("sheriffs_partnered", "sheriff_agencies")
    return table


def _attrs(table, partners, notes, **extra):
    table.attrs = {"as_of": partners.attrs.get("as_of"), "methodology": _METHOD,
                   "no_covered_population": notes, **extra}
    return table


def _warn_unlisted(ids, where: str) -> None:
    warn(f"{len(ids)} partner(s) ({', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''}) {where}")


def _only_51(p: pd.DataFrame, what: str):
    """Return the partners in the 50 states and DC, and the ids of the others (with a warning)."""
    inside = p["state"].isin(STATES_AND_DC)
    excluded = list(p.loc[~inside, "partner_id"])
    if excluded:
        _warn_unlisted(excluded, f"are outside the 50 states and DC and are left out of the "
                       f"{what} (see attrs['excluded']).")
    return p.loc[inside], excluded


def by_state(partners, *, geography=None, agencies=None) -> pd.DataFrame:
    """Partners, partners per 100,000 residents and covered population by state.

    A partner counts in the state of its ``state`` field, once
    (``docs/methodology.md#counting-partners``). The covered population is the
    range defined in ``docs/methodology.md#population-covered``:
    ``pop_covered_max`` adds every resident of a county with a partnered
    sheriff or county police, ``pop_covered_min`` only the residents whose
    primary police (:func:`primary_police`) is a partner; residents of
    partnered municipalities count in both; nobody is counted twice. Populations are July 1, 2019
    estimates (``docs/methodology.md#population-vintages``).

    Parameters
    ----------
    partners : pandas.DataFrame
        The linked partner table, ``ringgeo.load_partners(as_of=...)``.
    geography : dict, optional
        Census tables keyed ``states``, ``counties``, ``municipality_parts``,
        ``mcd_place_overlaps`` (as the ``ringgeo.geography`` loaders return
        them); by default they are loaded from the registry.
    agencies : geopandas.GeoDataFrame, optional
        The FBI agency universe (:func:`ringgeo.load_agencies`, the default)
        for the agency-share columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by USPS code (index name ``state``), sorted: the 50 states, DC
        and Puerto Rico (whose population is missing, so its per-capita values
        are NaN), plus any other state code the partners carry. Columns, in
        order: ``partners``, ``police``, ``sheriffs``, ``population`` (July 1,
        2019), ``partners_per_100k``, ``pop_covered_min``, ``pop_covered_max``,
        ``share_covered_min``, ``share_covered_max``, ``other`` (partners that
        are neither police nor sheriffs), then :data:`AGENCY_COLUMNS`:
        ``agencies`` (local police departments, sheriffs and county police in
        the FBI agency list of 2018), ``agencies_partnered`` (those matched by
        a partner row, ``ori``), ``share_agencies_partnered``,
        ``police_agencies``, ``share_police_partnered``, ``sheriff_agencies``,
        ``share_sheriffs_partnered`` (shares NaN where the count is 0), and
        ``name``. ``attrs``: ``as_of``,
        ``methodology``, ``no_covered_population`` (reason -> partner ids of
        partners that count as partners but add no covered population).

    Raises
    ------
    InputError
        The partner table is not linked or carries an unknown agency type.
    ParameterError
        ``partners`` is not a DataFrame or ``geography`` lacks a table.

    Examples
    --------
    >>> import warnings
    >>> import ringgeo
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # the 170 undated partnerships are left out
    ...     partners = ringgeo.load_partners(as_of="2020-01-01")
    >>> table = by_state(partners)
    >>> int(table["partners"].sum()) == len(partners)
    True
    >>> int(table["population"].sum())  # 50 states + DC; Puerto Rico is <NA>
    328239523
    >>> bool((table["pop_covered_min"] <= table["pop_covered_max"]).all())
    True
    """
    p = _prepare(partners)
    geo = _geography(geography)
    index = geo.states.index.union(pd.Index(p["state"].unique(), dtype="string")).sort_values()
    index.name = "state"
    extra = sorted(set(index) - set(geo.states.index))
    if extra:
        _warn_unlisted(list(p.loc[p["state"].isin(extra), "partner_id"]),
                       f"carry state code(s) {', '.join(extra)} that have no population in "
                       f"the Census tables; they are shown with missing population.")
    cmin, cmax, notes = _county_coverage(p, geo, _policing(agencies, p, geo))
    state_of = geo.counties["state"]
    table = _table(_counts(p, "state", index),
                   geo.states["population"].reindex(index),
                   cmin.groupby(state_of).sum().reindex(index),
                   cmax.groupby(state_of).sum().reindex(index))
    table = _add_agency_shares(table, _universe(agencies), p, "state")
    table["name"] = geo.states["name"].reindex(index)
    return _attrs(table, partners, notes)


def by_county(partners, *, geography=None, agencies=None) -> pd.DataFrame:
    """Partners, partners per 100,000 residents and covered population by county.

    A partner naming several counties (``county_fips`` holds them all) counts
    as one partner **in each** of them, so county counts can add up to more
    than the state and national totals, which count every partner once. The
    covered population counts each resident once, in the county where the
    resident lives: a city spanning two counties adds its part in each. See
    ``docs/methodology.md#counting-partners`` and
    ``docs/methodology.md#population-covered``.

    Parameters
    ----------
    partners, geography, agencies
        As for :func:`by_state`; an agency in several counties counts in each.

    Returns
    -------
    pandas.DataFrame
        Indexed by 5-character county GEOID (index name ``GEOID``), sorted: all
        3,220 counties and equivalents (Puerto Rico's 78 municipios with missing
        population). Columns as :func:`by_state` (``partners`` ... ``other``),
        then ``state`` (USPS) and ``name``. ``attrs`` as :func:`by_state`, plus
        ``no_county`` (ids of partners with no county GEOID in the county
        table, counted in no county).

    Raises
    ------
    InputError, ParameterError
        As :func:`by_state`.

    Examples
    --------
    >>> import ringgeo
    >>> table = by_county(ringgeo.load_partners())
    >>> len(table)
    3220
    >>> table.index.name, table.index.str.len().unique().tolist()
    ('GEOID', [5])
    >>> bool((table["share_covered_max"].dropna() <= 1).all())
    True
    """
    p = _prepare(partners)
    geo = _geography(geography)
    exploded = p.explode("counties")
    placed = _listed(exploded["counties"], geo.counties.index)
    lost = sorted(set(p["partner_id"]) - set(exploded.loc[placed, "partner_id"]))
    if lost:
        _warn_unlisted(lost, "have no county GEOID of the county table and count in no "
                       "county (see attrs['no_county']).")
    cmin, cmax, notes = _county_coverage(p, geo, _policing(agencies, p, geo))
    table = _table(_counts(exploded.loc[placed], "counties", geo.counties.index),
                   geo.counties["population"], cmin, cmax)
    table = _add_agency_shares(table, _universe(agencies).explode("counties"), p,
                               "counties")
    table["state"] = geo.counties["state"]
    table["name"] = geo.counties["name"]
    table.index.name = "GEOID"
    return _attrs(table, partners, notes, no_county=lost)


def national(partners, *, geography=None, agencies=None) -> pd.DataFrame:
    """Partners, partners per 100,000 and covered population for the nation.

    "The nation" is the 50 states and the District of Columbia (328,239,523
    residents on July 1, 2019). Partners elsewhere (Puerto Rico: none in the
    2020 snapshot) are left out of this row, with a warning, because the
    population they serve is not in the denominator. See
    ``docs/methodology.md#national-figures``.

    Parameters
    ----------
    partners, geography, agencies
        As for :func:`by_state`.

    Returns
    -------
    pandas.DataFrame
        One row, index ``"US"`` (index name ``area``), the columns of
        :func:`by_state` (``partners`` ... ``other``). ``attrs`` as
        :func:`by_state`, plus ``excluded`` (ids of partners outside the 50
        states and DC).

    Raises
    ------
    InputError, ParameterError
        As :func:`by_state`.

    Examples
    --------
    >>> import ringgeo
    >>> row = national(ringgeo.load_partners())
    >>> row.index.tolist(), int(row.at["US", "population"]), int(row.at["US", "partners"])
    (['US'], 328239523, 1501)
    """
    p = _prepare(partners)
    geo = _geography(geography)
    p, excluded = _only_51(p, "national figures")
    cmin, cmax, notes = _county_coverage(p, geo, _policing(agencies, p, geo))
    counties51 = geo.counties["state"].isin(STATES_AND_DC)
    index = pd.Index(["US"], name="area")
    p = p.assign(area="US")
    table = _table(_counts(p, "area", index),
                   pd.Series([geo.states.loc[geo.states.index.isin(STATES_AND_DC),
                                             "population"].sum()], index=index),
                   pd.Series([cmin[counties51].sum()], index=index),
                   pd.Series([cmax[counties51].sum()], index=index))
    table = _add_agency_shares(table, _universe(agencies).assign(area="US"), p, "area")
    return _attrs(table, partners, notes, excluded=excluded)


# ------------------------------------------------------------------ timeline
def _cumulative(geo, dates, start, freq, periods, states):
    """Cumulative covered population per period (rows) and state (columns)."""
    mask = ~np.isnat(dates)
    out = np.zeros((periods, len(states)))
    if mask.any():
        k = pd.DatetimeIndex(dates[mask]).to_period(freq).asi8 - start.ordinal
        pos = geo.cells["county_pos"].to_numpy()[mask]
        used, inverse = np.unique(pos, return_inverse=True)
        grid = np.zeros((periods, len(used)))
        np.add.at(grid, (k, inverse), geo.cells["pop"].to_numpy()[mask])
        grid = np.round(np.cumsum(grid, axis=0) * geo.counties["scale"].to_numpy()[used])
        state_pos = pd.Index(states).get_indexer(geo.counties["state"].to_numpy()[used])
        keep = state_pos >= 0
        onehot = np.zeros((len(used), len(states)))
        onehot[np.nonzero(keep)[0], state_pos[keep]] = 1.0
        out = np.nan_to_num(grid) @ onehot  # NaN: no 2019 population (Puerto Rico)
    pop = geo.states["population"].reindex(pd.Index(states, dtype="string"))
    out[:, pop.isna().to_numpy()] = np.nan  # no population, no covered population
    return out


def timeline(partners, freq: str = "M", by: str | None = None, *,
             geography=None, agencies=None) -> pd.DataFrame:
    """Cumulative partners and covered population over time, from activation dates.

    Each period is labelled by its last day; a partner counts from the period
    of its activation date on. The data has no end dates (Ring never published
    them), so the curve only rises: it shows when the partnerships still listed
    in October 2020 began. Partners without an activation date cannot be
    placed in time: they are left out, counted in ``attrs["undated"]``, and a
    warning says so. Covered population bounds as in :func:`by_state`. See
    ``docs/methodology.md#timeline``.

    Parameters
    ----------
    partners : pandas.DataFrame
        The linked partner table, ``ringgeo.load_partners(as_of=...)``.
    freq : {"M", "D", "W", "Q", "Y"}, default "M"
        Period length: day, week (ending Sunday), month, quarter, year.
    by : {None, "state"}, default None
        None: the nation (50 states and DC, as :func:`national`); ``"state"``:
        one row per period and state (every state of :func:`by_state`).
    geography : dict, optional
        Census tables, as for :func:`by_state`.

    Returns
    -------
    pandas.DataFrame
        Indexed by period end (``DatetimeIndex`` named ``date``), from the
        period of the first activation to the period of the last activation or
        of ``attrs["as_of"]``, whichever is later. Columns ``partners``
        (cumulative), ``new_partners`` (activated in the period),
        ``pop_covered_min``, ``pop_covered_max`` (cumulative). With
        ``by="state"`` a long table: the same index repeated, a ``state``
        column first, rows sorted by date then state. ``attrs``: ``as_of``,
        ``methodology``, ``freq``, ``undated`` (how many partners lack a date),
        ``undated_ids``, ``no_covered_population``, ``excluded`` (by=None:
        partners outside the 50 states and DC).

    Raises
    ------
    ParameterError
        ``freq`` or ``by`` is not one of the allowed values.
    InputError
        As :func:`by_state`.

    Examples
    --------
    >>> import ringgeo
    >>> import warnings
    >>> partners = ringgeo.load_partners()
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # the 170 undated partnerships: attrs["undated"]
    ...     line = timeline(partners, freq="Q")
    >>> int(line["partners"].iloc[-1]) + line.attrs["undated"] == len(partners)
    True
    >>> bool(line["partners"].is_monotonic_increasing)
    True
    """
    if freq not in FREQUENCIES:
        raise ParameterError(f"freq was {freq!r} but is expected to be one of "
                             f"{', '.join(map(repr, FREQUENCIES))}.")
    if by not in _BY:
        raise ParameterError(f"by was {by!r} but is expected to be one of None, 'state'.")
    p = _prepare(partners)
    geo = _geography(geography)
    excluded = []
    if by is None:
        p, excluded = _only_51(p, "national timeline")
    no_date = np.isnat(p["activated"].to_numpy())
    dated = p.loc[~no_date]
    undated = list(p.loc[no_date, "partner_id"])
    if undated:
        _warn_unlisted(undated, "have no activation date and are left out of the timeline "
                       "(see attrs['undated']).")
    if by is None:  # the partner counts go in one column, the coverage sums over the 51
        states = sorted(set(geo.states.index) & STATES_AND_DC)
    else:
        states = sorted(set(geo.states.index) | set(p["state"]))

    as_of = partners.attrs.get("as_of")
    if len(dated):
        start = pd.Timestamp(dated["activated"].min()).to_period(freq)
        last = max(pd.Timestamp(dated["activated"].max()),
                   pd.Timestamp(as_of) if as_of is not None else pd.Timestamp.min)
        periods = pd.period_range(start, last.to_period(freq), freq=freq)
    else:
        start, periods = None, pd.PeriodIndex([], freq=freq)
    n = len(periods)
    counts = np.zeros((n, len(states)), dtype="int64")
    if n:
        k = pd.DatetimeIndex(dated["activated"]).to_period(freq).asi8 - start.ordinal
        col = (pd.Index(states).get_indexer(dated["state"]) if by == "state"
               else np.zeros(len(dated), dtype="int64"))
        np.add.at(counts, (k, col), 1)
        places, mcds, counties, notes = _units(dated, geo, dated["activated"])
        upper, lower = _cover_dates(geo, places, mcds, counties,
                                    _policing(agencies, dated, geo))
        cmin = _cumulative(geo, lower, start, freq, n, states)
        cmax = _cumulative(geo, upper, start, freq, n, states)
    else:
        cmin = cmax = np.zeros((0, len(states)))
        notes = {}
    dates = pd.DatetimeIndex(periods.to_timestamp(how="end").normalize(), name="date")
    if by is None:
        table = pd.DataFrame({"partners": counts.sum(axis=1).cumsum(),
                              "new_partners": counts.sum(axis=1),
                              "pop_covered_min": cmin.sum(axis=1),
                              "pop_covered_max": cmax.sum(axis=1)}, index=dates)
    else:
        table = pd.DataFrame({
            "state": pd.array(np.tile(states, n), dtype="string"),
            "partners": counts.cumsum(axis=0).ravel(),
            "new_partners": counts.ravel(),
            "pop_covered_min": cmin.ravel(),
            "pop_covered_max": cmax.ravel(),
        }, index=pd.DatetimeIndex(np.repeat(dates.to_numpy(), len(states)), name="date"))
    for col in ("pop_covered_min", "pop_covered_max"):
        table[col] = pd.array(np.round(table[col].to_numpy(dtype="float64")), dtype="Int64")
    table.attrs = {"as_of": as_of, "methodology": _METHOD, "freq": freq,
                   "undated": len(undated), "undated_ids": undated,
                   "no_covered_population": notes, "excluded": excluded}
    return table


# ------------------------------------------------------------------ agency rules
def agency_rule_effects(partners, *, geography=None, agencies=None) -> pd.DataFrame:
    """How each agency-identity rule of the linker moved the national covered population.

    :func:`ringgeo.link_partners` applies the rules of
    :data:`ringgeo.linking.AGENCY_RULES` after matching every partner to its
    FBI agency, and reports each change in
    ``attrs["quality"]["links"]["agency_rules"]``. This function undoes the
    changes and adds the rules back one at a time, in the order the
    documentation lists them, computing :func:`national` each time.

    Parameters
    ----------
    partners : pandas.DataFrame
        A partner table linked by :func:`ringgeo.link_partners`.
    geography : dict, optional
        Census tables, as for :func:`by_state`.
    agencies : geopandas.GeoDataFrame, optional
        The FBI agency universe, as for :func:`by_state` (it decides the
        primary police of every place, hence the lower bound).

    Returns
    -------
    pandas.DataFrame
        Index ``rule`` (``"none"``, then each rule, cumulatively); columns
        ``partners_changed``, ``pop_covered_min``, ``pop_covered_max``,
        ``change_min``, ``change_max`` (against the previous row).

    Examples
    --------
    >>> import ringgeo
    >>> effects = agency_rule_effects(ringgeo.load_partners())
    >>> effects.index.tolist()[0], len(effects)
    ('none', 4)
    """
    changes = partners.attrs.get("quality", {}).get("links", {}).get("agency_rules")
    if changes is None:
        raise InputError("partners carries no agency-rule report; pass a table linked by "
                         "ringgeo.link_partners() (ringgeo.load_partners()).")
    p = pd.DataFrame(partners, columns=list(_REQUIRED) + ["ori", "partner_id"])
    p = p.loc[:, ~p.columns.duplicated()].copy()
    p.attrs = {"as_of": partners.attrs.get("as_of")}
    position = {pid: i for i, pid in enumerate(p["partner_id"])}
    current = {col: p[col].tolist() for col in ("jurisdiction_type", "muni_geoid",
                                               "county_fips")}
    undone = {col: list(values) for col, values in current.items()}
    for rule in reversed(AGENCY_RULES):
        for change in changes.get(rule, []):
            i = position.get(change["partner_id"])
            if i is None:
                continue
            if rule == "type against jurisdiction":
                undone["jurisdiction_type"][i], undone["muni_geoid"][i] = change["before"]
            elif rule == "same-name municipality":
                undone["muni_geoid"][i] = change["before"]
            else:
                undone["county_fips"][i] = tuple(change["before"])
    rows = []
    state = {col: list(values) for col, values in undone.items()}
    order = ["none", *AGENCY_RULES]
    for rule in order:
        if rule != "none":
            for change in changes.get(rule, []):
                i = position.get(change["partner_id"])
                if i is None:
                    continue
                if rule == "type against jurisdiction":
                    state["jurisdiction_type"][i] = current["jurisdiction_type"][i]
                    state["muni_geoid"][i] = change["after"][1]
                elif rule == "same-name municipality":
                    state["muni_geoid"][i] = change["after"]
                else:
                    state["county_fips"][i] = current["county_fips"][i]
        frame = p.copy()
        for col, values in state.items():
            frame[col] = pd.Series(values, index=frame.index,
                                   dtype=object if col == "county_fips" else "string")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row = national(frame, geography=geography, agencies=agencies)
        rows.append({"rule": rule, "partners_changed": len(changes.get(rule, []))
                     if rule != "none" else 0,
                     "pop_covered_min": int(row["pop_covered_min"].iat[0]),
                     "pop_covered_max": int(row["pop_covered_max"].iat[0])})
    table = pd.DataFrame(rows).set_index("rule")
    table["change_min"] = table["pop_covered_min"].diff().fillna(0).astype("int64")
    table["change_max"] = table["pop_covered_max"].diff().fillna(0).astype("int64")
    return table



# ------------------------------------------------------------------ primary police table
def primary_police(partners=None, *, geography=None, agencies=None) -> pd.DataFrame:
    """Who polices each piece of every county first, and whether that agency partnered.

    Every county is cut into pieces that lie in at most one incorporated place
    and one minor civil division (the cells of the covered population, see
    ``docs/methodology.md#counting-each-resident-once``). A piece's *primary
    police* is, in this order (``docs/methodology.md#primary-police``):

    1. the department of its incorporated place, when the FBI agency list of
       2018 lists one for that place or a partner is linked to it;
    2. else the department of its town or township (MCD), likewise;
    3. else the county police, where the county has one;
    4. else the sheriff, except in :data:`STATE_POLICE_STATES` (New Jersey and
       Pennsylvania), where the state police polices municipalities without a
       department, and where no county agency exists (``"state police"``).

    The lower bound of the covered population counts exactly the pieces whose
    primary police is a partner.

    Parameters
    ----------
    partners : pandas.DataFrame, optional
        A linked partner table (:func:`ringgeo.load_partners`); without it the
        table says who polices each piece, with no partner columns.
    geography : dict, optional
        Census tables, as for :func:`by_state`.
    agencies : geopandas.GeoDataFrame, optional
        The FBI agency universe (:func:`ringgeo.load_agencies`, the default).

    Returns
    -------
    pandas.DataFrame
        One row per piece, sorted by county: ``county`` (GEOID), ``state``,
        ``county_name``, ``place`` and ``mcd`` (GEOIDs, ``""`` when none),
        ``municipality`` (the name of the place or else the MCD, NA outside
        municipalities or with crafted geography), ``population`` (Int64,
        July 1, 2019 terms, rounded per piece), ``primary`` (one of
        :data:`PRIMARY_KINDS`), ``primary_geoid`` (the municipality whose
        department it is), ``primary_ori``, ``primary_agency`` (NA for the state
        police or a department the FBI list lacks); with ``partners`` also
        ``partner`` (bool), ``partner_id`` (ids joined by ", ") and
        ``activated`` (earliest activation of a partner that is the piece's
        primary police).

    Examples
    --------
    >>> import ringgeo
    >>> table = primary_police(ringgeo.load_partners())
    >>> sorted(table["primary"].unique()) == sorted(PRIMARY_KINDS)
    True
    >>> mercer = table.loc[table["county"] == "34021"]  # Mercer County, NJ
    >>> sorted(mercer["primary"].unique())
    ['municipal']
    """
    geo = _geography(geography)
    p = _prepare(partners) if partners is not None else _prepare_empty()
    policing = _policing(agencies, p, geo)
    cells = geo.cells
    kind = _cell_primary(geo, policing)
    county = cells["county"].to_numpy()
    muni = np.where(kind == "place", cells["place"].to_numpy(),
                    np.where(kind == "mcd", cells["mcd"].to_numpy(), None))
    label = np.where(np.isin(kind, ["place", "mcd"]), "municipal", kind)
    agency = [policing.muni_agency.get(m) if m is not None else
              policing.county_agency.get(c) if k in ("county police", "sheriff") else None
              for m, c, k in zip(muni, county, kind)]
    scale = geo.counties["scale"].to_numpy()[cells["county_pos"].to_numpy()]
    names = _municipality_names() if geography is None else {}
    place, mcd = cells["place"].to_numpy(), cells["mcd"].to_numpy()
    table = pd.DataFrame({
        "county": cells["county"].astype("string").to_numpy(),
        "state": geo.counties["state"].reindex(cells["county"]).to_numpy(),
        "county_name": geo.counties["name"].reindex(cells["county"]).to_numpy(),
        "place": place, "mcd": mcd,
        "municipality": pd.array([names.get(pl) or names.get(mc) for pl, mc in zip(place, mcd)],
                                 dtype="string"),
        "population": pd.array(np.round(cells["pop"].to_numpy() * scale), dtype="Int64"),
        "primary": label,
        "primary_geoid": pd.array(muni, dtype="string"),
        "primary_ori": pd.array([a[0] if a else None for a in agency], dtype="string"),
        "primary_agency": pd.array([a[1] if a else None for a in agency], dtype="string"),
    })
    if partners is not None:
        ids, dates = _primary_partners(p, table, kind)
        table["partner"] = pd.Series(ids).notna().to_numpy()
        table["partner_id"] = pd.array(ids, dtype="string")
        table["activated"] = pd.to_datetime(pd.Series(dates)).to_numpy(dtype="datetime64[ns]")
    table = table.sort_values(["county", "place", "mcd"], kind="stable", ignore_index=True)
    table.attrs = {"as_of": None if partners is None else partners.attrs.get("as_of"),
                   "methodology": _METHOD + "#primary-police"}
    return table


def _prepare_empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series([], dtype="string") for c in
                          ("partner_id", "agency_type", "jurisdiction_type", "state", "muni",
                           "ori")})
    frame["counties"] = pd.Series([], dtype=object)
    frame["activated"] = pd.Series([], dtype="datetime64[ns]")
    return frame


@memoized(maxsize=1)
def _municipality_names() -> dict:
    munis = load_municipalities()
    return dict(zip(munis["GEOID"].astype(str), munis["name"].astype(str)))


def _primary_partners(p: pd.DataFrame, table: pd.DataFrame, kind: np.ndarray):
    """Partner ids and earliest date of the partners that are each piece's primary police."""
    def grouped(frame, key):
        frame = frame.loc[frame[key].notna()]
        g = frame.groupby(key)
        return (g["partner_id"].agg(lambda v: ", ".join(sorted(v))).to_dict(),
                g["activated"].min().to_dict())

    local = p.loc[(p["jurisdiction_type"] != "county") & (p["agency_type"] == "police")]
    muni_ids, muni_dates = grouped(local, "muni")
    county = p.loc[p["jurisdiction_type"] == "county"].explode("counties")
    by_kind = {label: grouped(county.loc[county["agency_type"] == t], "counties")
               for label, t in (("county police", "police"), ("sheriff", "sheriff"))}
    ids, dates = [], []
    for k, geoid, c in zip(kind, table["primary_geoid"], table["county"]):
        if k in ("place", "mcd"):
            ids.append(muni_ids.get(geoid)), dates.append(muni_dates.get(geoid))
        elif k in by_kind:
            ids.append(by_kind[k][0].get(c)), dates.append(by_kind[k][1].get(c))
        else:
            ids.append(None), dates.append(None)
    return ids, dates


def lower_bound_change(partners, *, geography=None, agencies=None) -> pd.DataFrame:
    """Return each state's covered population under the primary-police rule and the rule before it.

    Before (ringgeo up to the agency layer): a partnered sheriff or county police
    added every resident of its county outside incorporated places to the lower
    bound. Now: only the residents whose primary police (:func:`primary_police`)
    is a partner. The upper bound is the same under both rules.

    Returns
    -------
    pandas.DataFrame
        Index ``state`` (50 states and DC) plus a ``US`` row; columns
        ``population``, ``pop_covered_min_before``, ``pop_covered_min``,
        ``change_min``, ``pop_covered_max``, ``share_covered_min_before``,
        ``share_covered_min``, ``share_covered_max``.

    Examples
    --------
    >>> import ringgeo
    >>> change = lower_bound_change(ringgeo.load_partners())
    >>> bool((change["pop_covered_min"] <= change["pop_covered_max"]).all())
    True
    """
    p = _prepare(partners)
    geo = _geography(geography)
    p, _ = _only_51(p, "comparison")
    when = pd.Series(p["activated"], index=p.index).fillna(_UNDATED)
    places, mcds, counties, _ = _units(p, geo, when)
    upper, before = _cells.cover_dates(geo, places, mcds, counties["any"])
    _, after = _cover_dates(geo, places, mcds, counties, _policing(agencies, p, geo))
    state_of = geo.counties["state"]
    sums = {name: _cells.covered_by_county(geo, ~np.isnat(dates)).groupby(state_of).sum()
            for name, dates in (("before", before), ("after", after), ("max", upper))}
    index = pd.Index(sorted(STATES_AND_DC), name="state")
    table = pd.DataFrame({
        "population": geo.states["population"].reindex(index),
        "pop_covered_min_before": sums["before"].reindex(index),
        "pop_covered_min": sums["after"].reindex(index),
        "pop_covered_max": sums["max"].reindex(index),
    }).astype("Int64")
    table.loc["US"] = table.sum()
    table["change_min"] = table["pop_covered_min"] - table["pop_covered_min_before"]
    for col in ("min_before", "min", "max"):
        table[f"share_covered_{col}"] = (table[f"pop_covered_{col}"].astype("float64")
                                         / table["population"].astype("float64"))
    columns = ["population", "pop_covered_min_before", "pop_covered_min", "change_min",
               "pop_covered_max", "share_covered_min_before", "share_covered_min",
               "share_covered_max"]
    table = table[columns]
    table.attrs = {"as_of": partners.attrs.get("as_of"),
                   "methodology": _METHOD + "#primary-police"}
    return table
