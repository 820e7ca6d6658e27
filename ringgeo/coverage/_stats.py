"""The coverage tables: partners per resident and the covered population, as a range.

The body of :mod:`ringgeo.coverage` (see its docstring and ``docs/methodology.md``);
``_cells`` holds the population pieces each table sums.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .. import data
from .._config import memoized
from .._rowchecks import require_columns
from ..agencies import AGENCY_FILE, UNIVERSE_TYPES
from ..exceptions import InputError, ParameterError, warn
from ..geography import source_paths
from ..linking import AGENCY_RULES
from ..states import STATES_AND_DC
from . import _cells
from ._inputs import REQUIRED, counties_of, per_partner_table, prepare
from ._inputs import geography as geography_cells
from ._jurisdictions import (
    PRIMARY_KINDS,
    STATE_POLICE_STATES,
    agencies_without_attrs,
    cover_dates,
    jurisdictions,
    policing,
    units,
)

__all__ = ["COLUMNS", "AGENCY_COLUMNS", "FREQUENCIES", "PRIMARY_KINDS", "STATE_POLICE_STATES",
           "agency_rule_effects", "primary_police", "lower_bound_change", "jurisdiction_change",
           "by_state",
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
_UNDATED = pd.Timestamp("1900-01-01")  # stands for "dated, but unknown when" in static tables
_METHOD = "docs/methodology.md"


# ------------------------------------------------------------------ inputs


# ----------------------------------------------------------- covered population
def _county_coverage(p, geo, pol):
    when = pd.Series(p["activated"], index=p.index).fillna(_UNDATED)
    upper, lower, notes, _ = cover_dates(geo, p, when, pol)
    cmin = _cells.covered_by_county(geo, ~np.isnat(lower))
    cmax = _cells.covered_by_county(geo, ~np.isnat(upper))
    return cmin, cmax, notes


def _counties_with_residents(p: pd.DataFrame, geo) -> list:
    """Return each partner's counties, a municipal department's only where its town has residents.

    A city department counts in each county where its municipality has residents
    (``docs/methodology.md#counting-partners``): not in a county its record names but its
    municipality merely touches (Pocatello's police in Power County, ID), and in the
    municipality's counties when the record names none of them. County-level agencies
    count in every county they name.
    """
    cells = geo.cells.loc[geo.cells["pop"] > 0]
    residents = {}
    for column in ("place", "mcd"):
        pairs = cells.loc[cells[column] != "", [column, "county"]].drop_duplicates()
        for muni, county in zip(pairs[column], pairs["county"]):
            residents.setdefault(str(muni), set()).add(str(county))
    out = []
    for counties, muni, juris in zip(p["counties"], p["muni"], p["jurisdiction_type"]):
        lived = residents.get(str(muni)) if juris != "county" and isinstance(muni, str) else None
        if not lived:
            out.append(counties)
            continue
        kept = tuple(c for c in counties if c in lived)
        out.append(kept or tuple(sorted(lived)))
    return out


def _listed(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Return ``values.isin(index)`` for a unique index, by hash lookup.

    Pandas' isin makes a pyarrow scalar of every index entry when strings are stored in
    pyarrow (0.3 s).
    """
    return index.get_indexer(values) >= 0


# ------------------------------------------------------------------ primary police


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
    return _universe_of(agencies_without_attrs())


def _universe_of(agencies) -> pd.DataFrame:
    require_columns(agencies, ("ori", "agency_type", "state", "county_fips"), "agencies",
                    "pass ringgeo.load_agencies().")
    keep = agencies["agency_type"].isin(UNIVERSE_TYPES) & agencies["state"].isin(STATES_AND_DC)
    return pd.DataFrame({"ori": agencies.loc[keep, "ori"].astype("string").to_numpy(),
                         "agency_type": agencies.loc[keep, "agency_type"].to_numpy(),
                         "state": agencies.loc[keep, "state"].astype("string").to_numpy(),
                         "counties": [counties_of(v) for v in
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
                   "no_covered_population": notes, **extra, **_words(partners)}
    return table


def _words(partners) -> dict:
    """Return the table's technology and file (``load_atlas``), for the figures' words."""
    return {key: partners.attrs[key] for key in ("technology", "source_file")
            if key in partners.attrs}


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


@per_partner_table()
def by_state(partners, *, geography=None, agencies=None,
             base="2019") -> pd.DataFrame:
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
    base : {"2019", "2020"}, default "2019"
        The population the table is in: ``"2019"``, the July 1, 2019 estimates
        (vintage 2019, the standard figures: the year the partnerships were made);
        ``"2020"``, the April 1, 2020 census count of each county (P1,
        :func:`ringgeo.load_demographics`), states the sum of their counties,
        Puerto Rico included (its covered population stays missing: it has no
        municipal pieces). The pieces of a county are rescaled to its total either
        way (``docs/methodology.md#population-vintages``).

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
    >>> census = by_state(partners, base="2020")
    >>> int(census.drop("PR")["population"].sum())  # the 2020 census count of the 51
    331449281

    With ``base="2020"`` every people count of the table is in 2020 census terms.
    """
    p = prepare(partners)
    geo = geography_cells(geography, base)
    index = geo.states.index.union(pd.Index(p["state"].unique(), dtype="string")).sort_values()
    index.name = "state"
    extra = sorted(set(index) - set(geo.states.index))
    if extra:
        _warn_unlisted(list(p.loc[p["state"].isin(extra), "partner_id"]),
                       f"carry state code(s) {', '.join(extra)} that have no population in "
                       f"the Census tables; they are shown with missing population.")
    cmin, cmax, notes = _county_coverage(p, geo, policing(agencies, p, geo))
    state_of = geo.counties["state"]
    table = _table(_counts(p, "state", index),
                   geo.states["population"].reindex(index),
                   cmin.groupby(state_of).sum().reindex(index),
                   cmax.groupby(state_of).sum().reindex(index))
    table = _add_agency_shares(table, _universe(agencies), p, "state")
    table["name"] = geo.states["name"].reindex(index)
    return _attrs(table, partners, notes)


@per_partner_table()
def by_county(partners, *, geography=None, agencies=None,
              base="2019") -> pd.DataFrame:
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
    partners, geography, agencies, base
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
    p = prepare(partners)
    geo = geography_cells(geography, base)
    p = p.assign(counties=_counties_with_residents(p, geo))
    exploded = p.explode("counties")
    placed = _listed(exploded["counties"], geo.counties.index)
    lost = sorted(set(p["partner_id"]) - set(exploded.loc[placed, "partner_id"]))
    if lost:
        _warn_unlisted(lost, "have no county GEOID of the county table and count in no "
                       "county (see attrs['no_county']).")
    cmin, cmax, notes = _county_coverage(p, geo, policing(agencies, p, geo))
    table = _table(_counts(exploded.loc[placed], "counties", geo.counties.index),
                   geo.counties["population"], cmin, cmax)
    table = _add_agency_shares(table, _universe(agencies).explode("counties"), p,
                               "counties")
    table["state"] = geo.counties["state"]
    table["name"] = geo.counties["name"]
    table.index.name = "GEOID"
    return _attrs(table, partners, notes, no_county=lost)


@per_partner_table()
def national(partners, *, geography=None, agencies=None,
             base="2019") -> pd.DataFrame:
    """Partners, partners per 100,000 and covered population for the nation.

    "The nation" is the 50 states and the District of Columbia (328,239,523
    residents on July 1, 2019). Partners elsewhere (Puerto Rico: none in the
    2020 snapshot) are left out of this row, with a warning, because the
    population they serve is not in the denominator. See
    ``docs/methodology.md#national-figures``.

    Parameters
    ----------
    partners, geography, agencies, base
        As for :func:`by_state`.

    Returns
    -------
    pandas.DataFrame
        One row, index ``"US"`` (index name ``area``), the columns of
        :func:`by_state` (``partners`` ... ``other``). ``attrs`` as
        :func:`by_state`, plus ``excluded`` (ids of partners outside the 50
        states and DC). Counts of people and agencies are integer columns (``Int64``,
        ``int64``), as in every coverage table: read one with ``row.at["US", column]``,
        as a whole row (``row.iloc[0]``) mixes them with the shares and pandas then
        makes every value of it a float.

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
    p = prepare(partners)
    geo = geography_cells(geography, base)
    p, excluded = _only_51(p, "national figures")
    cmin, cmax, notes = _county_coverage(p, geo, policing(agencies, p, geo))
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


@per_partner_table()
def timeline(partners, freq: str = "M", by: str | None = None, *,
             geography=None, agencies=None, base="2019") -> pd.DataFrame:
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
    p = prepare(partners)
    geo = geography_cells(geography, base)
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
        upper, lower, notes, _ = cover_dates(geo, dated, dated["activated"],
                                             policing(agencies, dated, geo))
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
                   "no_covered_population": notes, "excluded": excluded, **_words(partners)}
    return table


# ------------------------------------------------------------------ agency rules
def agency_rule_effects(partners, *, geography=None, agencies=None,
                        base="2019") -> pd.DataFrame:
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
    p = pd.DataFrame(partners, columns=list(REQUIRED) + ["ori", "partner_id"])
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
            row = national(frame, geography=geography, agencies=agencies, base=base)
        rows.append({"rule": rule, "partners_changed": len(changes.get(rule, []))
                     if rule != "none" else 0,
                     "pop_covered_min": int(row["pop_covered_min"].iat[0]),
                     "pop_covered_max": int(row["pop_covered_max"].iat[0])})
    table = pd.DataFrame(rows).set_index("rule")
    table["change_min"] = table["pop_covered_min"].diff().fillna(0).astype("int64")
    table["change_max"] = table["pop_covered_max"].diff().fillna(0).astype("int64")
    return table


# ------------------------------------------------------------------ primary police table
def primary_police(partners=None, *, geography=None, agencies=None,
                   base="2019") -> pd.DataFrame:
    """Return who polices each piece of every county first, and whether that agency partnered.

    The same table as :func:`ringgeo.coverage.jurisdictions` (this name is kept
    for the notebooks and users that call it): one row per piece of a county, its
    first agency (``primary``, ``basis``, ``primary_ori``, ``primary_agency``, ...)
    and, with ``partners``, whether that agency is a partner. The lower bound of
    the covered population counts exactly the pieces whose first agency is a
    partner. Rules: ``docs/methodology.md#who-polices-a-place``.

    Parameters
    ----------
    partners : pandas.DataFrame, optional
        A linked partner table (:func:`ringgeo.load_partners`).
    geography : dict, optional
        Census tables, as for :func:`by_state`.
    agencies : geopandas.GeoDataFrame, optional
        The FBI agency universe (:func:`ringgeo.load_agencies`, the default).

    Returns
    -------
    pandas.DataFrame
        As :func:`ringgeo.coverage.jurisdictions`.

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
    return jurisdictions(partners, geography=geography, agencies=agencies, base=base)


def lower_bound_change(partners, *, geography=None, agencies=None,
                       base="2019") -> pd.DataFrame:
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
    p = prepare(partners)
    geo = geography_cells(geography, base)
    p, _ = _only_51(p, "comparison")
    when = pd.Series(p["activated"], index=p.index).fillna(_UNDATED)
    pol = policing(agencies, p, geo)
    places, mcds, counties, _, _ = units(p, geo, when, pol)
    _, before = _cells.cover_dates(geo, places, mcds, counties["any"])
    upper, after, _, _ = cover_dates(geo, p, when, pol)
    table = _state_sums(geo, {"pop_covered_min_before": before, "pop_covered_min": after,
                              "pop_covered_max": upper})
    table["change_min"] = table["pop_covered_min"] - table["pop_covered_min_before"]
    columns = ["population", "pop_covered_min_before", "pop_covered_min", "change_min",
               "pop_covered_max", "share_covered_min_before", "share_covered_min",
               "share_covered_max"]
    return _comparison(table[columns], partners)


def _state_sums(geo, covered: dict) -> pd.DataFrame:
    """Return the covered population of each state (50 and DC) and the US, with shares.

    ``covered`` maps a column name (``pop_covered_...``) to the cells' cover dates.
    """
    state_of = geo.counties["state"]
    index = pd.Index(sorted(STATES_AND_DC), name="state")
    table = pd.DataFrame({"population": geo.states["population"].reindex(index), **{
        name: _cells.covered_by_county(geo, ~np.isnat(dates)).groupby(state_of).sum()
        .reindex(index) for name, dates in covered.items()}}).astype("Int64")
    table.loc["US"] = table.sum()
    for name in covered:
        table[name.replace("pop_", "share_")] = (table[name].astype("float64")
                                                 / table["population"].astype("float64"))
    return table


def _comparison(table: pd.DataFrame, partners) -> pd.DataFrame:
    table.attrs = {"as_of": partners.attrs.get("as_of"),
                   "methodology": _METHOD + "#who-polices-a-place"}
    return table


def jurisdiction_change(partners, *, geography=None, agencies=None,
                        base="2019") -> pd.DataFrame:
    """Return each state's covered population before and after the jurisdiction rules.

    Before: every FBI "City" police was its municipality's own department, and
    regional departments covered nobody (ringgeo up to the jurisdiction table).
    After: contract cities are policed by the agency they pay, members of a
    regional or shared department by that department, both in the lower bound
    and the upper (:func:`ringgeo.coverage.jurisdictions`,
    ``docs/methodology.md#who-polices-a-place``).

    Parameters
    ----------
    partners : pandas.DataFrame
        A linked partner table (:func:`ringgeo.load_partners`).
    geography, agencies
        As for :func:`by_state`.

    Returns
    -------
    pandas.DataFrame
        Index ``state`` (50 states and DC) plus a ``US`` row; columns
        ``population``, ``pop_covered_min_before``, ``pop_covered_min``,
        ``change_min``, ``pop_covered_max_before``, ``pop_covered_max``,
        ``change_max``, ``share_covered_min_before``, ``share_covered_min``,
        ``share_covered_max_before``, ``share_covered_max``.

    Examples
    --------
    >>> import ringgeo
    >>> change = jurisdiction_change(ringgeo.load_partners())
    >>> bool(change.at["CA", "change_min"] > 1_000_000)  # Los Angeles' contract cities
    True
    >>> bool((change["pop_covered_min"] <= change["pop_covered_max"]).all())
    True
    """
    p = prepare(partners)
    geo = geography_cells(geography, base)
    p, _ = _only_51(p, "comparison")
    when = pd.Series(p["activated"], index=p.index).fillna(_UNDATED)
    covered = {}
    for name, curated in (("_before", False), ("", True)):
        upper, lower, _, _ = cover_dates(geo, p, when,
                                         policing(agencies, p, geo, curated=curated))
        covered.update({f"pop_covered_min{name}": lower, f"pop_covered_max{name}": upper})
    table = _state_sums(geo, covered)
    for bound in ("min", "max"):
        table[f"change_{bound}"] = (table[f"pop_covered_{bound}"]
                                    - table[f"pop_covered_{bound}_before"])
    columns = ["population", "pop_covered_min_before", "pop_covered_min", "change_min",
               "pop_covered_max_before", "pop_covered_max", "change_max",
               "share_covered_min_before", "share_covered_min", "share_covered_max_before",
               "share_covered_max"]
    return _comparison(table[columns], partners)
