"""Who lives under a partnered police: composition, rates by kind of place, a model.

``docs/methodology.md#who-lives-under-a-partnered-police``. Every function works on
counties: the residents a bound counts in a county are taken to have that county's
composition (race and ethnicity, poverty, metro status). That is an ecological
assumption: a partnered city inside a county may be richer or poorer, whiter or less
white, than the county around it, and these tables cannot see it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..demographics import SHARE_COLUMNS
from ..exceptions import ParameterError
from ..states import STATES_AND_DC
from . import _cells
from ._inputs import check_base, demographics_of, per_partner_table, prepare
from ._inputs import geography as geography_cells
from ._jurisdictions import cover_dates, policing

__all__ = ["GROUPS", "COMPOSITION_COLUMNS", "RATE_CLASSES", "RATE_COLUMNS", "MODEL_TERMS",
           "composition", "rates", "partnership_model", "wilson", "county_table"]

#: Values of ``group`` in :func:`composition`: every resident, the lower and the upper
#: bound of the covered residents, and the residents outside the upper bound.
GROUPS = ("all", "covered_min", "covered_max", "not_covered")
#: Columns of :func:`composition`.
COMPOSITION_COLUMNS = ("population", *SHARE_COLUMNS, "share_metro")
#: Allowed ``by`` values of :func:`rates`.
RATE_CLASSES = ("rucc", "metro", "poverty_quintile", "minority_quintile")
#: Columns of :func:`rates`.
RATE_COLUMNS = ("label", "counties", "counties_partnered", "share_counties_partnered",
                "ci_low", "ci_high", "population", "pop_covered_min", "pop_covered_max",
                "share_covered_min", "share_covered_max")
#: Terms of :func:`partnership_model`, in order.
MODEL_TERMS = ("const", "log_population", "metro", "poverty150_10pt", "minority_10pt")
_Z95 = 1.959963984540054
_UNDATED = pd.Timestamp("1900-01-01")
_METHOD = "docs/methodology.md#who-lives-under-a-partnered-police"
_RUCC_LABELS = {
    1: "metro, 1 million or more", 2: "metro, 250,000 to 1 million",
    3: "metro, fewer than 250,000", 4: "nonmetro, urban 20,000+, adjacent to a metro",
    5: "nonmetro, urban 20,000+, not adjacent", 6: "nonmetro, urban 5,000-20,000, adjacent",
    7: "nonmetro, urban 5,000-20,000, not adjacent", 8: "nonmetro, urban under 5,000, adjacent",
    9: "nonmetro, urban under 5,000, not adjacent"}


def wilson(k, n, z: float = _Z95) -> tuple[np.ndarray, np.ndarray]:
    """Return the Wilson score interval of ``k`` successes out of ``n`` (95 % by default).

    Examples
    --------
    >>> low, high = wilson(5, 10)
    >>> round(float(low), 4), round(float(high), 4)
    (0.2366, 0.7634)
    >>> [float(v) for v in wilson(0, 0)]  # no counties: no interval
    [nan, nan]
    """
    k = np.asarray(k, dtype="float64")
    n = np.asarray(n, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


@per_partner_table()
def county_table(partners, *, base="2020", geography=None, agencies=None) -> pd.DataFrame:
    """Return every county of the 50 states and DC with its bounds and its demographics.

    One row per county of the coverage tables' 2019 geography (3,142: Alaska's
    02063 and 02066 are one county there, 02261). Columns ``state``,
    ``population`` (in ``base`` terms), ``pop_covered_min``, ``pop_covered_max``
    (as :func:`ringgeo.coverage.by_county`), ``partnered`` (bool: a partner is the
    first police of some of its residents, ``pop_covered_min > 0``), then the
    columns of :func:`ringgeo.load_demographics` from ``share_white`` on.

    Examples
    --------
    >>> import ringgeo
    >>> counties = county_table(ringgeo.load_partners())
    >>> len(counties), int(counties["population"].sum())
    (3142, 331449281)
    """
    return _county_table(partners, check_base(base), geography, agencies)


def _county_table(partners, base, geography, agencies) -> pd.DataFrame:
    p = prepare(partners)
    geo = geography_cells(geography, base)
    p = p.loc[p["state"].isin(STATES_AND_DC)]
    when = pd.Series(p["activated"], index=p.index).fillna(_UNDATED)
    upper, lower, _, _ = cover_dates(geo, p, when, policing(agencies, p, geo))
    cmin = _cells.covered_by_county(geo, ~np.isnat(lower))
    cmax = _cells.covered_by_county(geo, ~np.isnat(upper))
    keep = geo.counties["state"].isin(STATES_AND_DC).to_numpy()
    demo = demographics_of(geography)
    table = pd.DataFrame({
        "state": geo.counties["state"].astype("string"),
        "population": geo.counties["population"].astype("Int64"),
        "pop_covered_min": cmin, "pop_covered_max": cmax,
    }).loc[keep]
    table["partnered"] = (table["pop_covered_min"].fillna(0) > 0).to_numpy(dtype=bool)
    columns = [c for c in demo.columns if c.startswith(("share_", "moe_"))
               or c in ("rucc", "metro")]
    table = table.join(demo[columns], how="left")
    table.index.name = "fips"
    table.attrs = {"as_of": partners.attrs.get("as_of"), "base": base,
                   "methodology": _METHOD,
                   "without_demographics": sorted(table.index[table["share_white"].isna()])}
    return table


def _weighted(values: pd.Series, weights: np.ndarray) -> float:
    ok = values.notna().to_numpy()
    w = weights[ok]
    if not ok.any() or w.sum() <= 0:
        return float("nan")
    return float(np.dot(values.to_numpy(dtype="float64")[ok], w) / w.sum())


@per_partner_table()
def composition(partners, *, by=None, base="2020", geography=None,
                agencies=None) -> pd.DataFrame:
    """Return who lives under a partnered police, and who does not, by race, poverty, place.

    For the nation (the 50 states and DC) or each state, four groups of residents:
    ``all``, ``covered_min`` (the lower bound: their first police is a partner),
    ``covered_max`` (the upper bound: inside a partner's legal jurisdiction) and
    ``not_covered`` (outside the upper bound), each with its size and its
    composition. The bounds are those of :func:`ringgeo.coverage.by_county`
    (``docs/methodology.md#population-covered``), in ``base`` terms.

    **An ecological assumption.** The data give each county's composition, not
    each piece's: the residents a bound counts in a county are taken to have that
    county's composition, and a group's share is the mean of its counties' shares
    weighted by the residents it counts there. Where a partner polices a city whose
    make-up differs from its county's, the group's share is off in that direction.
    The SVI shares are ACS 2016-2020 estimates with margins of error
    (``moe_*`` of :func:`ringgeo.load_demographics`); the race shares are 2020 counts.

    Parameters
    ----------
    partners : pandas.DataFrame
        The linked partner table (:func:`ringgeo.load_partners`).
    by : {None, "state"}, default None
        None: one block for the nation, under state ``"US"``; ``"state"``: one per
        state and DC.
    base : {"2020", "2019"}, default "2020"
        The population the groups are counted in (:func:`ringgeo.coverage.by_state`);
        2020, the year of the demographic data, by default.
    geography : dict, optional
        Crafted Census tables, as for :func:`ringgeo.coverage.by_state`, with an
        optional ``demographics`` table (:func:`ringgeo.load_demographics`'s columns).
    agencies : geopandas.GeoDataFrame, optional
        The FBI agency universe (:func:`ringgeo.load_agencies`).

    Returns
    -------
    pandas.DataFrame
        Index (``state``, ``group``), groups in the order of :data:`GROUPS`; columns
        :data:`COMPOSITION_COLUMNS`: ``population`` (Int64), the ``share_*`` columns
        of :func:`ringgeo.load_demographics` and ``share_metro`` (residents of a
        metro county, RUCC 1-3), population-weighted. A share is NaN for a group
        without residents. ``attrs``: ``as_of``, ``base``, ``methodology``,
        ``assumption``, ``without_demographics``.

    Raises
    ------
    ParameterError
        ``by`` or ``base`` is not an allowed value.

    Examples
    --------
    >>> import ringgeo
    >>> table = composition(ringgeo.load_partners())
    >>> table.index.get_level_values("group").tolist()
    ['all', 'covered_min', 'covered_max', 'not_covered']
    >>> us = table.loc["US"]
    >>> int(us.at["all", "population"])
    331449281
    >>> int(us.at["covered_max", "population"] + us.at["not_covered", "population"])
    331449281
    """
    if by not in (None, "state"):
        raise ParameterError(f"by was {by!r} but is expected to be one of None, 'state'.")
    counties = county_table(partners, base=base, geography=geography, agencies=agencies)
    pop = counties["population"].astype("float64").fillna(0).to_numpy()
    weights = {
        "all": pop,
        "covered_min": counties["pop_covered_min"].astype("float64").fillna(0).to_numpy(),
        "covered_max": counties["pop_covered_max"].astype("float64").fillna(0).to_numpy(),
    }
    weights["not_covered"] = np.clip(pop - weights["covered_max"], 0, None)
    metro = counties["metro"].astype("float64")
    areas = ([("US", np.ones(len(counties), dtype=bool))] if by is None else
             [(s, (counties["state"] == s).to_numpy(dtype=bool))
              for s in sorted(set(counties["state"].dropna()))])
    rows, index = [], []
    for area, mask in areas:
        for group in GROUPS:
            w = weights[group][mask]
            row = {"population": int(round(w.sum()))}
            for column in SHARE_COLUMNS:
                row[column] = _weighted(counties[column][mask], w)
            row["share_metro"] = _weighted(metro[mask], w)
            rows.append(row)
            index.append((area, group))
    table = pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["state", "group"]))
    table["population"] = table["population"].astype("Int64")
    table = table.loc[:, list(COMPOSITION_COLUMNS)]
    table.attrs = {**counties.attrs, "assumption": (
        "county level: the residents a bound counts in a county are taken to have that "
        "county's composition (an ecological assumption)")}
    return table


def _classes(counties: pd.DataFrame, by: str) -> tuple[pd.Series, dict]:
    """Return each county's class and the classes' labels."""
    if by == "rucc":
        cls = counties["rucc"].astype("Int64")
        return cls, {k: f"{k}: {v}" for k, v in _RUCC_LABELS.items()}
    if by == "metro":
        cls = counties["metro"].map({True: 1, False: 0}).astype("Int64")
        return cls, {1: "metro (RUCC 1-3)", 0: "nonmetro (RUCC 4-9)"}
    column = "share_poverty150" if by == "poverty_quintile" else "share_minority"
    values = counties[column]
    cls = pd.qcut(values, 5, labels=False).astype("Int64") + 1
    labels = {}
    for k in range(1, 6):
        inside = values[cls == k]
        labels[k] = (f"Q{k} ({inside.min():.1%} to {inside.max():.1%})" if len(inside)
                     else f"Q{k}")
    return cls, labels


@per_partner_table()
def rates(partners, by: str = "rucc", *, base="2020", geography=None,
          agencies=None) -> pd.DataFrame:
    """Return partnership rates by kind of county, with 95 % intervals.

    Counties (the 50 states and DC, on the 2019 geography: 3,142) are put in classes
    by ``by``: their Rural-Urban Continuum Code 2023 (``"rucc"``, 1-9), metro or not
    (``"metro"``), or the county quintile of their share below 150 % of the poverty
    line (``"poverty_quintile"``) or of their racial and ethnic minority share
    (``"minority_quintile"``, SVI ``EP_MINRTY``; quintiles of counties, not of
    residents; Q1 lowest). For each class: how many counties have a partner as the
    first police of some of their residents (``pop_covered_min > 0``) with the
    Wilson 95 % interval of that share, and the residents covered (lower and upper
    bound, as :func:`ringgeo.coverage.by_county`).

    The interval describes the uncertainty of a share of counties as if the counties
    were drawn at random; they are all the counties there are, so read it as how
    much the share could move with a few counties more or less, not as a sampling
    error. It says nothing about cause: a class differs from another in many ways at
    once (see :func:`partnership_model`).

    Parameters
    ----------
    partners : pandas.DataFrame
        The linked partner table.
    by : {"rucc", "metro", "poverty_quintile", "minority_quintile"}, default "rucc"
    base, geography, agencies
        As for :func:`composition`.

    Returns
    -------
    pandas.DataFrame
        Index ``class`` (int: RUCC code, 1/0 for metro/nonmetro, quintile 1-5);
        columns :data:`RATE_COLUMNS`. ``attrs``: ``by``, ``base``, ``as_of``,
        ``methodology``, ``unclassified`` (counties without a value).

    Examples
    --------
    >>> import ringgeo
    >>> table = rates(ringgeo.load_partners(), by="metro")
    >>> int(table["counties"].sum())
    3142
    >>> bool((table["ci_low"] <= table["share_counties_partnered"]).all())
    True
    """
    if by not in RATE_CLASSES:
        raise ParameterError(f"by was {by!r} but is expected to be one of "
                             f"{', '.join(map(repr, RATE_CLASSES))}.")
    counties = county_table(partners, base=base, geography=geography, agencies=agencies)
    cls, labels = _classes(counties, by)
    known = cls.notna().to_numpy()
    frame = counties.loc[known].assign(cls=cls[known].astype("int64"))
    grouped = frame.groupby("cls")
    n = grouped.size()
    k = grouped["partnered"].sum().astype("int64")
    low, high = wilson(k.to_numpy(), n.to_numpy())
    pop = grouped["population"].sum().astype("Int64")
    cmin = grouped["pop_covered_min"].sum().astype("Int64")
    cmax = grouped["pop_covered_max"].sum().astype("Int64")
    denom = pop.astype("float64").where(pop > 0)
    table = pd.DataFrame({
        "label": pd.array([labels.get(i, str(i)) for i in n.index], dtype="string"),
        "counties": n.astype("int64"), "counties_partnered": k,
        "share_counties_partnered": (k / n).astype("float64"), "ci_low": low, "ci_high": high,
        "population": pop, "pop_covered_min": cmin, "pop_covered_max": cmax,
        "share_covered_min": cmin.astype("float64") / denom,
        "share_covered_max": cmax.astype("float64") / denom,
    }, index=pd.Index(n.index.astype("int64"), name="class"))
    if by == "metro":
        table = table.sort_index(ascending=False)
    table.attrs = {**counties.attrs, "by": by,
                   "unclassified": sorted(counties.index[~known])}
    return table.loc[:, list(RATE_COLUMNS)]


@per_partner_table()
def partnership_model(partners, *, base="2020", geography=None,
                      agencies=None) -> pd.DataFrame:
    """Return a logistic regression of "a partner polices part of this county".

    For the counties of :func:`rates`, the probability that a partner is the first
    police of some of a county's residents (``pop_covered_min > 0``) modelled on the
    county's log population (natural log, ``base`` terms), whether it is metro
    (RUCC 1-3), its share below 150 % of the poverty line and its racial and ethnic
    minority share (SVI ``EP_MINRTY``: everyone but non-Hispanic white alone), the two
    shares in units of 10 percentage points. Fitted by maximum likelihood
    (statsmodels ``Logit``, Newton's method: deterministic).

    **A description, not a cause.** The coefficients say how the odds of a
    partnership differ between counties that differ in one of these measures and
    not the others, in this snapshot; they do not say that poverty or a minority
    population makes a police department partner (or not) with Ring. A county's
    size is tied to how many agencies it has, hence to its chances of one partner.
    The SVI shares carry margins of error the model ignores.

    Parameters
    ----------
    partners, base, geography, agencies
        As for :func:`composition`.

    Returns
    -------
    pandas.DataFrame
        Index ``term`` (:data:`MODEL_TERMS`); columns ``coef`` (log odds),
        ``std_err``, ``z``, ``p_value``, ``ci_low``, ``ci_high`` (95 %),
        ``odds_ratio``, ``or_ci_low``, ``or_ci_high``. ``attrs``: ``nobs``,
        ``partnered`` (counties with the outcome), ``pseudo_r2`` (McFadden),
        ``log_likelihood``, ``converged``, ``outcome``, ``note``, ``base``, ``as_of``.

    Examples
    --------
    >>> import ringgeo
    >>> model = partnership_model(ringgeo.load_partners())
    >>> model.index.tolist()
    ['const', 'log_population', 'metro', 'poverty150_10pt', 'minority_10pt']
    >>> bool(model.at["log_population", "odds_ratio"] > 1)
    True
    """
    # statsmodels takes about 1 s to import: only the model needs it
    import statsmodels.api as sm

    counties = county_table(partners, base=base, geography=geography, agencies=agencies)
    columns = ["population", "metro", "share_poverty150", "share_minority"]
    usable = counties[columns].notna().all(axis=1) & (counties["population"].fillna(0) > 0)
    frame = counties.loc[usable.to_numpy()]
    x = pd.DataFrame({
        "const": 1.0,
        "log_population": np.log(frame["population"].astype("float64")),
        "metro": frame["metro"].astype("float64"),
        "poverty150_10pt": frame["share_poverty150"].astype("float64") * 10,
        "minority_10pt": frame["share_minority"].astype("float64") * 10,
    }, index=frame.index)
    y = frame["partnered"].astype("float64")
    fit = sm.Logit(y, x).fit(method="newton", maxiter=100, disp=0)
    ci = fit.conf_int(alpha=0.05)
    table = pd.DataFrame({
        "coef": fit.params, "std_err": fit.bse, "z": fit.tvalues, "p_value": fit.pvalues,
        "ci_low": ci[0], "ci_high": ci[1],
        "odds_ratio": np.exp(fit.params), "or_ci_low": np.exp(ci[0]),
        "or_ci_high": np.exp(ci[1]),
    }).astype("float64")
    table.index.name = "term"
    table.attrs = {
        "nobs": int(fit.nobs), "partnered": int(y.sum()),
        "pseudo_r2": float(fit.prsquared), "log_likelihood": float(fit.llf),
        "converged": bool(fit.mle_retvals.get("converged", False)),
        "outcome": "a partner is the first police of some of the county's residents",
        "note": "a description of this snapshot, not a cause; county level",
        "left_out": sorted(counties.index[~usable.to_numpy()]),
        "base": counties.attrs["base"], "as_of": counties.attrs["as_of"],
        "methodology": _METHOD,
    }
    if not math.isfinite(table.attrs["log_likelihood"]):
        raise ParameterError("the model did not fit (no variation in the outcome?).")
    return table
