"""Who polices every place: one set of rules for the lower bound, the lookup and the maps.

Every county is cut into pieces that lie in at most one incorporated place and one
minor civil division (``_cells``). :func:`jurisdictions` names, for every piece, the
agency that polices it first and **why** (``basis``), from the FBI agency list
(2018), the partners, and the package's curated tables (:mod:`ringgeo._policing`:
contract cities, regional departments). The rules, in order, for the piece's
place and then for its town or township (``docs/methodology.md#who-polices-a-place``):

1. a **contract** (curated, or an FBI "City" unit whose ORI ends in "X", the FBI's
   mark of a unit reported under another agency's contract): the contracting agency;
2. a **regional or shared department** the municipality belongs to or buys from;
3. the municipality's **own department** (FBI list, or a partner linked to it);

then the county's: 4. **county police**, 5. the **sheriff**, 6. the **state police**
(New Jersey and Pennsylvania, and where the FBI lists no county agency).

The lower bound of the covered population counts the pieces whose first agency is a
partner; the upper bound everyone inside a partner's legal jurisdiction, which
includes the pieces of the lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import _policing, data
from .._config import memoized
from .._frames import without_attrs
from ..agencies import AGENCY_FILE, load_agencies
from ..geography import load_municipalities, source_paths
from ..partners import EXPORT_DATE
from . import _cells, _inputs
from ._inputs import counties_of, per_partner_table, prepare, prepare_empty

__all__ = ["STATE_POLICE_STATES", "PRIMARY_KINDS", "BASES", "JURISDICTION_COLUMNS",
           "jurisdictions", "contract_units", "policing", "cover_dates", "units", "Policing"]

#: States where the state police, not the sheriff, polices a municipality without
#: its own department (``docs/methodology.md#who-polices-a-place``): Pennsylvania
#: (Pennsylvania State Police; WHYY/Keystone Crossroads, 2016-05-09) and New Jersey
#: (New Jersey State Police; NJ Spotlight News / NJTV). Their county police forces
#: (Allegheny, Bergen, ...) patrol county property, not municipalities.
STATE_POLICE_STATES = frozenset({"NJ", "PA"})
#: Values of ``primary`` (the kind of the first agency) in :func:`jurisdictions`.
PRIMARY_KINDS = ("municipal", "regional", "contract", "county police", "sheriff",
                 "state police")
#: Values of ``basis`` (why that agency) in :func:`jurisdictions`.
BASES = ("own department", "town or township department", "contract with another agency",
         "contract unit with its own partnership", "regional or shared department",
         "county police", "sheriff", "state police")
#: Columns of :func:`jurisdictions` (with partners, ``partner``, ``partner_id`` and
#: ``activated`` follow).
JURISDICTION_COLUMNS = ("county", "state", "county_name", "place", "mcd", "municipality",
                        "population", "primary", "basis", "primary_geoid", "primary_ori",
                        "primary_agency", "primary_type", "evidence")
_UNDATED = pd.Timestamp("1900-01-01")  # dated, but unknown when (static tables)
_X_UNIT = ("the FBI lists the municipality's police as a contract unit of the county "
           "agency (ORI {unit} ends in X)")
_NAT = np.datetime64("NaT", "ns")


@dataclass(frozen=True)
class Policing:
    """Who polices what: departments, arrangements, and each county's agency."""

    own: frozenset  # place / MCD GEOIDs with their own department (FBI list or a partner)
    muni_agency: dict  # municipality GEOID -> (ori, agency) of its own department
    county_kind: pd.Series  # county GEOID -> "county police" / "sheriff" / "state police"
    county_agency: dict  # county GEOID -> (ori, agency) of its county police or sheriff
    # municipality GEOID -> (kind "contract"/"regional", ori, agency, evidence, unit ori)
    arrangements: dict
    day: str  # the date the curated tables were read for


def _agency_roles(agencies) -> tuple[dict, dict, dict, dict]:
    """Return municipal departments, contract units, county agencies and county kinds.

    From the FBI universe: municipality -> its department; municipality -> its
    contract unit (a "City" police whose ORI ends in X) with the unit's counties;
    county -> its county agency (county police before the sheriff) and its kind.
    """
    frame = pd.DataFrame({
        "ori": agencies["ori"].astype("string").to_numpy(),
        "agency": (agencies["agency"] if "agency" in agencies.columns
                   else agencies["ori"]).astype("string").to_numpy(),
        "agency_type": agencies["agency_type"].astype("string").to_numpy(),
        "counties": [counties_of(v) for v in agencies["county_fips"]],
        "muni": (agencies["muni_geoid"].astype("string").to_numpy()
                 if "muni_geoid" in agencies.columns else pd.NA),
    })
    local = frame.loc[(frame["agency_type"] == "police") & frame["muni"].notna()]
    unit = local["ori"].str.endswith("X").fillna(False).to_numpy(dtype=bool)
    muni_agency, units = {}, {}
    for muni, ori, name in zip(local.loc[~unit, "muni"], local.loc[~unit, "ori"],
                               local.loc[~unit, "agency"]):
        muni_agency.setdefault(str(muni), (str(ori), str(name)))
    for muni, ori, name, counties in zip(local.loc[unit, "muni"], local.loc[unit, "ori"],
                                         local.loc[unit, "agency"],
                                         local.loc[unit, "counties"]):
        units.setdefault(str(muni), (str(ori), str(name), counties))
    county_agency, kinds = {}, {}
    for kind, label in (("sheriff", "sheriff"), ("county_police", "county police")):
        rows = frame.loc[frame["agency_type"] == kind].explode("counties")
        for county, ori, name in zip(rows["counties"], rows["ori"], rows["agency"]):
            if isinstance(county, str):  # county police wins over the sheriff
                county_agency[county] = (str(ori), str(name))
                kinds[county] = label
    return muni_agency, units, county_agency, kinds


@memoized(maxsize=2)
def _default_roles(paths: tuple) -> tuple[dict, dict, dict, dict]:  # key: the files read
    return _agency_roles(agencies_without_attrs())


def agencies_without_attrs():
    """Return the FBI agency universe without its quality report (read, never changed)."""
    # the roles do not read the agencies' quality report (0.6 s of copies per table)
    return without_attrs(load_agencies())


def _day(p: pd.DataFrame) -> str:
    as_of = p.attrs.get("as_of")
    return f"{pd.Timestamp(as_of):%Y-%m-%d}" if as_of is not None else EXPORT_DATE


def _arrangements(units: dict, county_agency: dict, day: str) -> dict:
    """Municipality GEOID -> its contract or regional department, curated rows last.

    A municipality the curated contract table names, on any date, is never inferred
    from an FBI contract unit: the table knows when its contract began and ended.
    """
    found = {}
    curated = _policing.contract_geoids()
    for geoid, (unit, _, counties) in units.items():
        if geoid in curated:
            continue
        agency = next((county_agency[c] for c in counties if c in county_agency), None)
        if agency is not None:
            found[geoid] = ("contract", agency[0], agency[1], _X_UNIT.format(unit=unit), unit)
    for rec in _policing.regional_in_force(day).itertuples():
        found[rec.member_geoid] = ("regional", rec.agency_ori, rec.agency_name,
                                   f"{rec.evidence} ({rec.source})", "")
    for rec in _policing.contracts_in_force(day).itertuples():
        found[rec.muni_geoid] = ("contract", rec.agency_ori, rec.agency_name,
                                 f"{rec.evidence} ({rec.source})", rec.unit_ori)
    return found


def policing(agencies, p: pd.DataFrame, geo: _cells.Geography, *,
             curated: bool = True) -> Policing:
    """Return who polices what, for the partner table ``p`` (:func:`prepare`) and ``geo``.

    Parameters
    ----------
    agencies : geopandas.GeoDataFrame or None
        The FBI agency universe (None: :func:`ringgeo.load_agencies`).
    p : pandas.DataFrame
        The prepared partner table: a partner shows a department or a county
        police the FBI list of 2018 lacks.
    geo : Geography
        The Census cells.
    curated : bool, default True
        Apply the contracts and regional departments (curated tables and FBI
        contract units). False gives the rules before them (ringgeo 0.1 up to
        the jurisdiction table): every FBI "City" police is its municipality's own
        department (:func:`ringgeo.coverage.jurisdiction_change`).

    Returns
    -------
    Policing
    """
    if agencies is None:
        muni_agency, units, county_agency, kinds = _default_roles(
            (str(data.fetch(AGENCY_FILE)),) + source_paths())
    else:
        muni_agency, units, county_agency, kinds = _agency_roles(agencies)
    county_agency, kinds = dict(county_agency), dict(kinds)
    day = _day(p)
    arrangements = _arrangements(units, county_agency, day) if curated else {}
    # an FBI contract unit is its municipality's own department where no contract is in
    # force (before the curated rules; or its contract ended, as Menifee's in July 2020)
    muni_agency = {**{g: (ori, name) for g, (ori, name, _) in units.items()
                      if g not in arrangements}, **muni_agency}
    local = p.loc[(p["jurisdiction_type"] != "county") & (p["agency_type"] == "police")
                  & p["muni"].notna()]
    # a partner shows a department the FBI list lacks (founded later, or listed under a
    # predecessor's name): it names the municipality's department
    for muni, ori, name in zip(local["muni"], local["ori"], local["agency"]):
        muni_agency.setdefault(str(muni), (None if pd.isna(ori) else str(ori),
                                           None if pd.isna(name) else str(name)))
    own = frozenset(muni_agency)
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
    return Policing(own, muni_agency, kind, county_agency, arrangements, day)


def assign(geo: _cells.Geography, pol: Policing) -> pd.DataFrame:
    """Return, for every cell, its first agency: kind, basis, municipality and agency.

    Aligned with ``geo.cells``: ``primary`` (:data:`PRIMARY_KINDS`), ``basis``
    (:data:`BASES`, before partners are known: contract units' partnerships are
    marked by :func:`jurisdictions`), ``geoid`` (the municipality whose department
    or arrangement it is, None for county-level agencies), ``ori``, ``agency``,
    ``evidence``, ``unit_ori``.
    """
    cells = geo.cells
    arr = pol.arrangements
    columns = {name: [] for name in ("primary", "basis", "geoid", "ori", "agency",
                                     "evidence", "unit_ori")}
    kinds = cells["county"].map(pol.county_kind).fillna("state police").to_numpy()
    for place, mcd, county, county_kind in zip(cells["place"].to_numpy(),
                                               cells["mcd"].to_numpy(),
                                               cells["county"].to_numpy(), kinds):
        row = None
        for geoid, own_basis in ((place, "own department"),
                                 (mcd, "town or township department")):
            if not geoid:
                continue
            if geoid in arr:
                kind, ori, agency, evidence, unit = arr[geoid]
                basis = ("contract with another agency" if kind == "contract"
                         else "regional or shared department")
                row = (kind, basis, geoid, ori, agency, evidence, unit or None)
                break
            if geoid in pol.own:
                ori, agency = pol.muni_agency.get(geoid, (None, None))
                row = ("municipal", own_basis, geoid, ori, agency, None, None)
                break
        if row is None:
            agency = (pol.county_agency.get(county) if county_kind != "state police"
                      else None)
            row = (county_kind, county_kind, None, agency[0] if agency else None,
                   agency[1] if agency else None, None, None)
        for name, value in zip(columns, row):
            columns[name].append(value)
    return pd.DataFrame(columns, index=cells.index)


def _listed(values: pd.Series, index: pd.Index) -> np.ndarray:
    return index.get_indexer(values) >= 0


def units(p: pd.DataFrame, geo: _cells.Geography, when: pd.Series, pol: Policing):
    """Earliest coverage date per place, MCD, county and agency, and partners adding nobody.

    Returns
    -------
    tuple
        ``places``, ``mcds`` (GEOID -> date: partners linked to the municipality,
        and regional departments' partnerships for their members), ``counties``
        (``"police"``, ``"sheriff"``, ``"any"`` -> county GEOID -> date), ``oris``
        (FBI ORI -> date of the partners matched to it) and ``notes`` (reason ->
        partner ids of partners that add nobody).
    """
    notes: dict[str, list] = {}
    county_level = p["jurisdiction_type"] == "county"
    muni = p.loc[~county_level & p["muni"].notna()]
    unknown = ~_listed(muni["muni"], geo.municipalities)
    if unknown.any():
        notes["municipality not in the Census tables"] = list(muni.loc[unknown, "partner_id"])
        muni = muni.loc[~unknown]
    dates = when.loc[muni.index]
    oris = when.groupby(p["ori"]).min() if len(p) else pd.Series(dtype="datetime64[ns]")
    members = {geoid: oris[ori] for geoid, (kind, ori, *_) in pol.arrangements.items()
               if kind == "regional" and ori in oris.index}
    member_dates = pd.Series(members, dtype="datetime64[ns]")
    munis = pd.concat([dates.groupby(muni["muni"]).min(), member_dates]).groupby(level=0).min()
    places = munis[munis.index.str.len() == 7]
    mcds = munis[munis.index.str.len() == 10]

    sworn = county_level & p["agency_type"].isin(["police", "sheriff"])
    counties = p.loc[sworn, ["counties", "agency_type"]].assign(when=when[sworn]).explode(
        "counties")
    counties = counties.loc[_listed(counties["counties"], geo.counties.index)]
    county_dates = {kind: counties.loc[counties["agency_type"] == kind].groupby(
        "counties")["when"].min() for kind in ("police", "sheriff")}
    county_dates["any"] = counties.groupby("counties")["when"].min()

    regional_oris = {ori for kind, ori, *_ in pol.arrangements.values() if kind == "regional"}
    unplaced = ~county_level & p["muni"].isna()
    reasons = {
        "county-level agency that is neither police nor sheriff": county_level & ~sworn,
        "county-level agency without a county in the county table":
            sworn & ~p.index.isin(counties.index),
        "agency without a linked municipality": unplaced & ~p["ori"].isin(regional_oris),
    }
    for reason, mask in reasons.items():
        if mask.any():
            notes[reason] = list(p.loc[mask, "partner_id"])
    return places, mcds, county_dates, oris, notes


def _mapped(keys, dates: pd.Series) -> np.ndarray:
    if not len(dates):
        return np.full(len(keys), _NAT)
    return pd.to_datetime(pd.Series(keys).map(dates)).to_numpy(dtype="datetime64[ns]")


def cover_dates(geo: _cells.Geography, p: pd.DataFrame, when: pd.Series, pol: Policing,
                first: pd.DataFrame | None = None):
    """Return the date each cell is covered from, for the upper and the lower bound.

    The lower bound covers a cell from the first activation of a partner that is
    its first agency (:func:`assign`); a contract city also from its contract
    unit's own partnership. The upper bound covers a cell inside any partner's
    legal jurisdiction (its municipality, a regional department's members, its
    county's sheriff or county police), and every cell of the lower bound.

    Returns
    -------
    tuple
        ``upper``, ``lower`` (datetime64[ns] arrays aligned with ``geo.cells``, NaT:
        never covered), ``notes`` (as :func:`units`), ``first`` (:func:`assign`).
    """
    places, mcds, counties, oris, notes = units(p, geo, when, pol)
    first = assign(geo, pol) if first is None else first
    upper, _ = _cells.cover_dates(geo, places, mcds, counties["any"])
    munis = pd.concat([places, mcds])
    county = geo.cells["county"].to_numpy()
    kind = first["primary"].to_numpy()
    by_muni = _mapped(first["geoid"], munis)
    by_ori = _mapped(first["ori"], oris)
    by_county = {k: _mapped(county, counties[key])
                 for k, key in (("county police", "police"), ("sheriff", "sheriff"))}
    lower = np.select(
        [kind == "municipal", kind == "regional", kind == "contract",
         kind == "county police", kind == "sheriff"],
        [by_muni, np.fmin(by_ori, by_muni), np.fmin(by_ori, by_muni), by_county["county police"],
         by_county["sheriff"]],
        default=_NAT).astype("datetime64[ns]")
    return np.fmin(upper, lower), lower, notes, first


def contract_units(as_of=None) -> pd.DataFrame:
    """Return the FBI "City" agencies that are contract units, and who polices their city.

    A contract unit is the FBI's listing of a city that pays another agency for its
    police (``Lakewood Police Department``, CA0193500, is the Los Angeles County
    Sheriff's contract with Lakewood): the ``unit_ori`` of the curated contract table,
    and the FBI's units whose ORI ends in X. They stay in the agency universe; the
    lookup and the web map say whose they are.

    Parameters
    ----------
    as_of : str or date, optional
        The date of the contracts (default: the snapshot's, 2020-10-07).

    Returns
    -------
    pandas.DataFrame
        Index ``unit_ori``; columns ``muni_geoid``, ``agency_ori``, ``agency_name``.

    Examples
    --------
    >>> units = contract_units()
    >>> units.loc["CA0193500", "agency_name"]
    "Los Angeles County Sheriff's Office"
    """
    day = f"{pd.Timestamp(as_of):%Y-%m-%d}" if as_of is not None else EXPORT_DATE
    _, units, county_agency, _ = _default_roles(
        (str(data.fetch(AGENCY_FILE)),) + source_paths())
    rows = []
    for geoid, (kind, ori, name, _, unit) in _arrangements(units, county_agency, day).items():
        unit = unit or units.get(geoid, (None,))[0]  # the curated unit, else the FBI's
        if kind == "contract" and unit:
            rows.append((unit, geoid, ori, name))
    table = pd.DataFrame(rows, columns=["unit_ori", "muni_geoid", "agency_ori", "agency_name"])
    return table.drop_duplicates("unit_ori").set_index("unit_ori").sort_index()


@memoized(maxsize=1)
def _municipality_names() -> dict:
    munis = load_municipalities()
    return dict(zip(munis["GEOID"].astype(str), munis["name"].astype(str)))


def _type_of(kind: str, ori, county: str, pol: Policing) -> str | None:
    """Return the FBI type of a piece's first agency (a contract's: its contractor's)."""
    if kind == "contract":
        kind = pol.county_kind.get(county) if pol.county_agency.get(county, (None,))[0] == ori \
            else "municipal"
    return {"municipal": "police", "regional": "police", "county police": "county_police",
            "sheriff": "sheriff"}.get(kind)


@per_partner_table()
def jurisdictions(partners=None, *, geography=None, agencies=None,
                  base="2019") -> pd.DataFrame:
    """Return who polices each piece of every county first, why, and whether it partnered.

    One row per piece of a county that lies in at most one incorporated place and
    one minor civil division (``docs/methodology.md#counting-each-resident-once``).
    The first agency of a piece is found by the rules of
    ``docs/methodology.md#who-polices-a-place``: for the piece's place, then its
    town or township, a contract (the contracting agency), a regional or shared
    department, or the municipality's own department; else the county police, the
    sheriff, or the state police (:data:`STATE_POLICE_STATES`, and where the FBI
    lists no county agency). Contract cities and regional departments come from the
    curated tables of :mod:`ringgeo._policing`, each row with its evidence.

    :func:`ringgeo.coverage.primary_police`, the lower bound of the covered
    population (:func:`ringgeo.coverage.by_county` and the others), the lookup and
    the web map read this table's rules.

    Parameters
    ----------
    partners : pandas.DataFrame, optional
        A linked partner table (:func:`ringgeo.load_partners`); without it the
        table says who polices each piece, with no partner columns. Its ``as_of``
        also picks the contracts and regional memberships in force.
    geography : dict, optional
        Census tables, as for :func:`ringgeo.coverage.by_state`.
    agencies : geopandas.GeoDataFrame, optional
        The FBI agency universe (:func:`ringgeo.load_agencies`, the default).
    base : {"2019", "2020"}, default "2019"
        The terms of ``population``, as for :func:`ringgeo.coverage.by_state`.

    Returns
    -------
    pandas.DataFrame
        One row per piece, sorted by county, place and MCD, columns
        :data:`JURISDICTION_COLUMNS`: ``county`` (GEOID), ``state``, ``county_name``,
        ``place`` and ``mcd`` (GEOIDs, ``""`` when none), ``municipality`` (name of the
        place or else the MCD), ``population`` (Int64, July 1, 2019 terms, or 2020 census
        terms with ``base="2020"``; rounded per piece), ``primary`` (:data:`PRIMARY_KINDS`),
        ``basis`` (:data:`BASES`), ``primary_geoid`` (the municipality whose department or
        arrangement it is), ``primary_ori``, ``primary_agency`` (NA for the state police or
        a department the FBI list lacks), ``primary_type`` (``police``, ``sheriff``,
        ``county_police``; NA for the state police), ``evidence`` (the curated row's
        evidence and source, or the FBI contract unit, for contracts and regional
        departments); with ``partners`` also ``partner`` (bool), ``partner_id`` (ids joined
        by ", ") and ``activated`` (earliest activation of a partner that covers the piece
        this way).

    Examples
    --------
    >>> import ringgeo
    >>> table = jurisdictions(ringgeo.load_partners())
    >>> lakewood = table.loc[table["place"] == "0639892"].iloc[0]  # Lakewood, CA
    >>> lakewood["basis"], lakewood["primary_agency"], bool(lakewood["partner"])
    ('contract with another agency', "Los Angeles County Sheriff's Office", True)
    """
    geo = _inputs.geography(geography, base)
    p = prepare(partners) if partners is not None else prepare_empty()
    pol = policing(agencies, p, geo)
    first = assign(geo, pol)
    cells = geo.cells
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
        "primary": first["primary"].to_numpy(),
        "basis": first["basis"].to_numpy(),
        "primary_geoid": pd.array(first["geoid"].to_numpy(), dtype="string"),
        "primary_ori": pd.array(first["ori"].to_numpy(), dtype="string"),
        "primary_agency": pd.array(first["agency"].to_numpy(), dtype="string"),
        "primary_type": pd.array([_type_of(k, o, c, pol) for k, o, c in
                                  zip(first["primary"], first["ori"], cells["county"])],
                                 dtype="string"),
        "evidence": pd.array(first["evidence"].to_numpy(), dtype="string"),
    })
    if partners is not None:
        when = pd.Series(p["activated"], index=p.index).fillna(_UNDATED)
        _, lower, _, _ = cover_dates(geo, p, when, pol, first)
        ids = _partner_ids(p, first, cells)
        table["partner"] = ~np.isnat(lower)
        table["partner_id"] = pd.array([i if c else None for i, c in zip(ids, table["partner"])],
                                       dtype="string")
        dated = pd.Series(lower).where(pd.Series(lower) != _UNDATED)
        table["activated"] = dated.to_numpy(dtype="datetime64[ns]")
        unit_partner = (first["primary"].to_numpy() == "contract") & _unit_partnered(
            p, first)
        table.loc[unit_partner, "basis"] = "contract unit with its own partnership"
    table = table.sort_values(["county", "place", "mcd"], kind="stable", ignore_index=True)
    table.attrs = {"as_of": None if partners is None else partners.attrs.get("as_of"),
                   "contracts_as_of": pol.day,
                   "methodology": "docs/methodology.md#who-polices-a-place"}
    return table


def _partner_ids(p: pd.DataFrame, first: pd.DataFrame, cells: pd.DataFrame) -> list:
    """Return the ids of the partners that are each cell's first agency (or its contract unit)."""
    def joined(frame, key):
        frame = frame.loc[frame[key].notna()]
        return frame.groupby(key)["partner_id"].agg(lambda v: ", ".join(sorted(v))).to_dict()

    local = p.loc[(p["jurisdiction_type"] != "county") & p["muni"].notna()]
    by_muni = joined(local, "muni")
    by_ori = joined(p, "ori")
    county = p.loc[p["jurisdiction_type"] == "county"].explode("counties")
    by_kind = {label: joined(county.loc[county["agency_type"] == t], "counties")
               for label, t in (("county police", "police"), ("sheriff", "sheriff"))}
    out = []
    for kind, geoid, ori, c in zip(first["primary"], first["geoid"], first["ori"],
                                   cells["county"]):
        if kind == "municipal":
            out.append(by_muni.get(geoid))
        elif kind in ("regional", "contract"):
            ids = [i for i in (by_ori.get(ori), by_muni.get(geoid)) if i]
            out.append(", ".join(ids) or None)
        elif kind in by_kind:
            out.append(by_kind[kind].get(c))
        else:
            out.append(None)
    return out


def _unit_partnered(p: pd.DataFrame, first: pd.DataFrame) -> np.ndarray:
    """Whether a cell's municipality has a partnership of its own (a contract unit's)."""
    local = p.loc[(p["jurisdiction_type"] != "county") & p["muni"].notna(), "muni"]
    partnered = set(local.astype(str))
    return np.array([g in partnered for g in first["geoid"]], dtype=bool)
