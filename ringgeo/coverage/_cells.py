"""Population cells for the covered-population bounds (private helper of ``coverage``).

Every county is cut into disjoint *cells*, each lying inside at most one
incorporated place and at most one minor civil division (MCD)::

    place ∩ MCD        SUMLEV 071 rows (the MCD part within a place)
    place, no MCD      place part in the county minus its 071 rows there
    MCD, no place      MCD minus its 071 rows (the "balance of" the town)
    neither            county minus every place part and MCD-only cell

so a union of partnered areas is a sum over cells and no resident is counted
twice. Cell populations are the April 1, 2020 estimates base (vintage 2021);
:mod:`ringgeo.coverage` rescales each county's cells to its July 1, 2019
population (see ``docs/methodology.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._rowchecks import require_columns
from ..exceptions import InputError
from ..geography import BALANCE_PLACE, COUNTY_SUCCESSORS

_PARTS_COLUMNS = ("muni_geoid", "kind", "county_fips", "population", "incorporated")
_OVERLAP_COLUMNS = ("mcd_geoid", "place_geoid", "county_fips", "population")
_COUNTY_COLUMNS = ("GEOID", "state", "name", "population", "population_2020base")
_STATE_COLUMNS = ("state", "name", "population")


@dataclass(frozen=True)
class Geography:
    """The tables coverage needs, checked and indexed.

    ``states``: index USPS, columns ``name``, ``population``. ``counties``:
    index GEOID, columns ``state``, ``name``, ``population``,
    ``population_2020base``, ``scale`` (2019 population / 2020 base).
    ``cells``: ``county``, ``place``, ``mcd`` (``""`` when none),
    ``incorporated`` (bool), ``pop`` (2020 base), ``county_pos`` (row of the
    county in ``counties``). ``municipalities``: every place and MCD GEOID.
    """

    states: pd.DataFrame
    counties: pd.DataFrame
    cells: pd.DataFrame
    municipalities: pd.Index


def _require(frame, columns, what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"geography table {what!r} is a {type(frame).__name__}, not a "
                         f"DataFrame; pass the output of ringgeo.geography.load_{what}().")
    require_columns(frame, columns, f"geography table {what!r}",
                    f"pass the output of ringgeo.geography.load_{what}().")


def _county(series: pd.Series) -> pd.Series:
    text = series.astype("string")
    return text.replace(COUNTY_SUCCESSORS)


def build(states, counties, parts, overlaps) -> Geography:
    """Check the geography tables and cut the counties into cells."""
    _require(states, _STATE_COLUMNS, "states")
    _require(counties, _COUNTY_COLUMNS, "counties")
    _require(parts, _PARTS_COLUMNS, "municipality_parts")
    _require(overlaps, _OVERLAP_COLUMNS, "mcd_place_overlaps")

    st = pd.DataFrame({
        "name": states["name"].astype("string").to_numpy(),
        "population": states["population"].astype("Int64").to_numpy(),
    }, index=pd.Index(states["state"].astype("string"), name="state"))
    co = pd.DataFrame({
        "state": counties["state"].astype("string").to_numpy(),
        "name": counties["name"].astype("string").to_numpy(),
        "population": counties["population"].astype("Int64").to_numpy(),
        "population_2020base": counties["population_2020base"].astype("Int64").to_numpy(),
    }, index=pd.Index(counties["GEOID"].astype("string"), name="GEOID")).sort_index()
    for table, what in ((st, "states"), (co, "counties")):
        twice = table.index[table.index.duplicated()]
        if len(twice):
            raise InputError(f"geography table {what!r} lists {table.index.name} {twice[0]} "
                             f"twice; pass the output of ringgeo.geography.load_{what}().")
    pop19 = co["population"].astype("float64")
    base = co["population_2020base"].astype("float64")
    co["scale"] = (pop19 / base.where(base > 0)).astype("float64")

    cells = _cells(co, parts, overlaps)
    cells["county_pos"] = co.index.get_indexer(cells["county"])
    munis = pd.Index(pd.concat([cells["place"], cells["mcd"]]).unique()).drop("", errors="ignore")
    return Geography(states=st, counties=co, cells=cells, municipalities=munis)


def _cells(co: pd.DataFrame, parts: pd.DataFrame, overlaps: pd.DataFrame) -> pd.DataFrame:
    """Cut every county into disjoint cells (see docs/methodology.md).

    The cells: place x MCD overlaps, the rest of each place and of each MCD, and the
    county's unincorporated remainder.
    """
    parts = _municipality_parts(parts)
    _check_parts(parts, overlaps, co)
    places, mcds = _places_and_mcds(parts)
    ov = _overlaps(overlaps, places, mcds)
    places, mcds = _outside_overlaps(places, mcds, ov)
    cells = pd.concat([
        pd.DataFrame({"county": ov["county"], "place": ov["place"], "mcd": ov["mcd"],
                      "incorporated": ov["incorporated"], "pop": ov["pop"]}),
        pd.DataFrame({"county": places["county"], "place": places["geoid"], "mcd": "",
                      "incorporated": places["incorporated"], "pop": places["pop"]}),
        pd.DataFrame({"county": mcds["county"], "place": "", "mcd": mcds["geoid"],
                      "incorporated": False, "pop": mcds["pop"]}),
    ], ignore_index=True)
    cells = pd.concat([cells, _county_remainders(cells, co)], ignore_index=True)
    cells["incorporated"] = cells["incorporated"].astype(bool)
    cells["pop"] = cells["pop"].astype("float64")  # float already, unless a table was empty
    for col in ("county", "place", "mcd"):
        cells[col] = cells[col].astype("string")
    return cells


def _municipality_parts(parts: pd.DataFrame) -> pd.DataFrame:
    """Return the municipality parts in canonical types, without the balance-of-county places."""
    parts = pd.DataFrame({
        "geoid": parts["muni_geoid"].astype("string"),
        "kind": parts["kind"].astype("string"),
        "county": _county(parts["county_fips"]),
        "pop": pd.to_numeric(parts["population"]).astype("float64"),
        "incorporated": parts["incorporated"].astype(bool),
    })
    balance = (parts["kind"] == "place") & parts["geoid"].str.endswith(BALANCE_PLACE)
    return parts.loc[~balance]


def _check_parts(parts: pd.DataFrame, overlaps: pd.DataFrame, co: pd.DataFrame) -> None:
    """Every county named is in the counties table; every part is a place or an MCD."""
    unknown = sorted((set(parts["county"]) | set(_county(overlaps["county_fips"])))
                     - set(co.index))
    if unknown:
        raise InputError(
            f"municipality_parts or mcd_place_overlaps name county GEOID(s) "
            f"{', '.join(unknown[:10])} that are not in the counties table; all the "
            f"geography tables must come from ringgeo.geography."
        )
    other = sorted(set(parts["kind"]) - {"place", "mcd"})
    if other:
        raise InputError(f"municipality_parts: unknown kind(s) {other}; expected "
                         f"'place' or 'mcd'.")


def _places_and_mcds(parts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the population of each place and each MCD by county (one row per GEOID and county)."""
    places = (parts.loc[parts["kind"] == "place"]
              .groupby(["geoid", "county"], as_index=False)
              .agg(pop=("pop", "sum"), incorporated=("incorporated", "max")))
    mcds = (parts.loc[parts["kind"] == "mcd"]
            .groupby(["geoid", "county"], as_index=False).agg(pop=("pop", "sum")))
    return places, mcds


def _overlaps(overlaps: pd.DataFrame, places: pd.DataFrame, mcds: pd.DataFrame) -> pd.DataFrame:
    """Return the MCD x place overlaps by county, each marked incorporated as its place is."""
    ov = pd.DataFrame({
        "mcd": overlaps["mcd_geoid"].astype("string"),
        "place": overlaps["place_geoid"].astype("string"),
        "county": _county(overlaps["county_fips"]),
        "pop": pd.to_numeric(overlaps["population"]).astype("float64"),
    })
    ov = ov.loc[~ov["place"].str.endswith(BALANCE_PLACE)]
    ov = ov.groupby(["mcd", "place", "county"], as_index=False)["pop"].sum()
    incorporated = places.groupby("geoid")["incorporated"].max()
    missing = sorted(set(ov["place"]) - set(incorporated.index))
    missing += sorted(set(ov["mcd"]) - set(mcds["geoid"]))
    if missing:
        raise InputError(
            f"mcd_place_overlaps names place/MCD GEOID(s) {', '.join(missing[:10])} that "
            f"are not in municipality_parts; both tables must come from ringgeo.geography."
        )
    ov["incorporated"] = ov["place"].map(incorporated).astype(bool)
    return ov


def _outside_overlaps(places: pd.DataFrame, mcds: pd.DataFrame,
                      ov: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Places and MCDs reduced to their parts outside every overlap (never negative)."""
    # place parts outside any MCD
    in_mcd = ov.groupby(["place", "county"])["pop"].sum()
    key = pd.MultiIndex.from_frame(places[["geoid", "county"]])
    places["pop"] = places["pop"] - in_mcd.reindex(key).fillna(0).to_numpy()
    # MCD parts outside any place
    in_place = ov.groupby("mcd")["pop"].sum()
    mcds["pop"] = mcds["pop"] - mcds["geoid"].map(in_place).fillna(0).to_numpy()
    for frame, what in ((places, "place"), (mcds, "MCD")):
        bad = frame["pop"] < 0
        if bad.any():
            row = frame.loc[bad].iloc[0]
            raise InputError(
                f"{what} {row['geoid']} in county {row['county']}: its MCD/place overlap "
                f"rows (SUMLEV 071) hold {-row['pop']:.0f} more people than the {what} "
                f"itself; the geography tables disagree (regenerate them from "
                f"ringgeo.geography)."
            )
    return places, mcds


def _county_remainders(cells: pd.DataFrame, co: pd.DataFrame) -> pd.DataFrame:
    """One cell per county for its residents outside every place and MCD cell."""
    used = cells.groupby("county")["pop"].sum().reindex(co.index).fillna(0.0)
    rest = co["population_2020base"].astype("float64") - used
    short = rest < -0.5
    if short.any():
        geoid = short[short].index[0]
        raise InputError(
            f"county {geoid}: its place and MCD parts hold {-rest[geoid]:.0f} more people "
            f"than its 2020 estimates base; the geography tables disagree (regenerate "
            f"them from ringgeo.geography)."
        )
    rest = rest[rest > 0]  # missing base (Puerto Rico) gives NaN and is left out
    return pd.DataFrame({"county": rest.index.astype("string"), "place": "", "mcd": "",
                         "incorporated": False, "pop": rest.to_numpy()})


def cover_dates(geo: Geography, places: pd.Series, mcds: pd.Series,
                counties: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Date from which each cell is covered, for the upper and the lower bound.

    ``places``, ``mcds``, ``counties`` map a GEOID to the earliest activation
    of a partner covering it. Returns two datetime64[ns] arrays aligned with
    ``geo.cells`` (NaT: never covered). The upper bound covers a cell in a
    partnered place, MCD or county; the lower bound covers a county's cells
    only outside incorporated places.
    """
    cells = geo.cells

    def lookup(column, dates):
        mapped = cells[column].map(dates) if len(dates) else pd.Series(pd.NaT, cells.index)
        return pd.to_datetime(mapped).to_numpy(dtype="datetime64[ns]")

    muni = np.fmin(lookup("place", places), lookup("mcd", mcds))
    county = lookup("county", counties)
    upper = np.fmin(muni, county)
    county_low = np.where(cells["incorporated"].to_numpy(), np.datetime64("NaT", "ns"), county)
    lower = np.fmin(muni, county_low)
    return upper, lower


def covered_by_county(geo: Geography, covered: np.ndarray) -> pd.Series:
    """Covered population of each county in 2019 terms (rounded to whole people).

    ``covered`` is a boolean array aligned with ``geo.cells``. The 2020-base
    sum of covered cells is multiplied by the county's 2019/2020-base scale, so
    a fully covered county counts exactly its July 1, 2019 population. Counties
    without a 2019 population (Puerto Rico) give ``<NA>``.
    """
    pos = geo.cells["county_pos"].to_numpy()
    pop = geo.cells["pop"].to_numpy()
    sums = np.bincount(pos[covered], weights=pop[covered], minlength=len(geo.counties))
    values = np.round(sums * geo.counties["scale"].to_numpy())
    return pd.Series(values, index=geo.counties.index).astype("Int64")
