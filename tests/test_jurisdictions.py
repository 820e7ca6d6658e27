"""Tests of ringgeo.coverage.jurisdictions: who polices every place, and why.

Crafted cases (the Census tables of tests/test_coverage.py, a crafted agency list and
crafted curated tables) and checks on the real data: contract cities, FBI contract
units, regional departments, a contract unit's own partnership, the lower and upper
bounds that follow, and the before/after table.
"""

import numpy as np
import pandas as pd
import pytest

import ringgeo
from ringgeo import _policing, coverage


# --------------------------------------------------------------------------- crafted data
@pytest.fixture
def geo():
    """Alpha County, TX and Gamma County, PA (as tests/test_coverage.py's ``geo``).

    48001 Alpha: 2019 pop 1,100, 2020 base 1,000 (scale 1.1): Bigcity 600, Smalltown
    100, unincorporated 300. 42001 Gamma: 2,000 / 2,000: Oak township 1,200 holding the
    borough of Oakvillage (400), Elm township 800.
    """
    states = pd.DataFrame({"GEOID": ["42", "48"], "state": ["PA", "TX"],
                           "name": ["Pennsylvania", "Texas"],
                           "population": pd.array([2000, 1100], dtype="Int64")})
    counties = pd.DataFrame({
        "GEOID": ["42001", "48001"], "state": ["PA", "TX"], "name": ["Gamma", "Alpha"],
        "population": pd.array([2000, 1100], dtype="Int64"),
        "population_2020base": pd.array([2000, 1000], dtype="Int64")})
    parts = pd.DataFrame({
        "muni_geoid": ["4800100", "4800200", "4200300", "4200100001", "4200100002"],
        "kind": ["place", "place", "place", "mcd", "mcd"],
        "county_fips": ["48001", "48001", "42001", "42001", "42001"],
        "population": [600, 100, 400, 1200, 800],
        "incorporated": [True, True, True, False, False]})
    overlaps = pd.DataFrame({"mcd_geoid": ["4200100001"], "place_geoid": ["4200300"],
                             "county_fips": ["42001"], "population": [400]})
    return {"states": states, "counties": counties, "municipality_parts": parts,
            "mcd_place_overlaps": overlaps}


def _agencies(smalltown_ori="TXP02"):
    """Alpha's sheriff; Bigcity's and Smalltown's police; Gamma's sheriff, Oak's and
    Oakvillage's police; the Gamma Regional Police (no municipality of its own)."""
    return pd.DataFrame({
        "ori": ["TXS0100000", "TXP0100000", smalltown_ori, "PAS0100000", "PAP0100000",
                "PAP0200000", "PAR0100000"],
        "agency": ["Alpha County Sheriff's Office", "Bigcity Police Department",
                   "Smalltown Police Department", "Gamma County Sheriff's Office",
                   "Oak Township Police Department", "Oakvillage Police Department",
                   "Gamma Regional Police Department"],
        "agency_type": ["sheriff", "police", "police", "sheriff", "police", "police",
                        "police"],
        "state": ["TX", "TX", "TX", "PA", "PA", "PA", "PA"],
        "county_fips": [("48001",), ("48001",), ("48001",), ("42001",), ("42001",),
                        ("42001",), ("42001",)],
        "muni_geoid": [None, "4800100", "4800200", None, "4200100001", "4200300", None]})


def _table(columns, rows):
    frame = pd.DataFrame(rows, columns=list(columns), dtype="str")
    frame["line"] = range(2, len(frame) + 2)
    return frame


def _contract(since="", until=""):
    return _table(_policing.CONTRACT_COLUMNS, [[
        "4800200", "City of Smalltown", "TX", "48001", "TXS0100000",
        "Alpha County Sheriff's Office", "TXP02", since, until, "https://example.org/alpha",
        "Smalltown pays the Alpha County Sheriff for its police (city budget 2020)"]])


def _regional():
    return _table(_policing.REGIONAL_COLUMNS, [
        ["PAR0100000", "Gamma Regional Police Department", "PA", geoid, name, "member", "",
         "", "https://example.org/gamma", "the regional department polices Oak and Elm"]
        for geoid, name in (("4200100001", "Oak township"), ("4200100002", "Elm township"))])


@pytest.fixture
def curated(monkeypatch):
    """Replace the package's curated tables; returns a setter taking crafted tables."""
    tables = {"contracts": _table(_policing.CONTRACT_COLUMNS, []),
              "regional": _table(_policing.REGIONAL_COLUMNS, [])}

    def in_force(name):
        return lambda day: tables[name].loc[_policing.in_force(tables[name], day)]

    monkeypatch.setattr(_policing, "contracts_in_force", in_force("contracts"))
    monkeypatch.setattr(_policing, "regional_in_force", in_force("regional"))
    monkeypatch.setattr(_policing, "contract_geoids",
                        lambda: frozenset(tables["contracts"]["muni_geoid"]))

    def use(**given):
        tables.update(given)
    return use


def make(rows, as_of=None):
    """Partner table from (id, agency_type, jurisdiction_type, state, counties, muni, ori,
    date)."""
    frame = pd.DataFrame(rows, columns=["partner_id", "agency_type", "jurisdiction_type",
                                        "state", "county_fips", "muni_geoid", "ori",
                                        "activated"])
    frame["county_fips"] = [tuple(c) for c in frame["county_fips"]]
    frame["activated"] = pd.to_datetime(frame["activated"])
    frame.attrs["as_of"] = None if as_of is None else pd.Timestamp(as_of)
    return frame


ALPHA_SHERIFF = ("S1", "sheriff", "county", "TX", ["48001"], None, "TXS0100000", "2019-03-02")
SMALLTOWN_UNIT = ("P2", "police", "municipal", "TX", ["48001"], "4800200", "TXP02",
                  "2019-05-01")
GAMMA_REGIONAL = ("R1", "police", "regional", "PA", ["42001"], None, "PAR0100000",
                  "2020-01-10")


def _piece(table, place="", mcd=""):
    rows = table.loc[(table["place"] == place) & (table["mcd"] == mcd)]
    assert len(rows) == 1
    return rows.iloc[0]


# --------------------------------------------------------------------------- contracts
def test_contract_city_under_a_partnered_sheriff_is_the_sheriff_s(geo, curated):
    curated(contracts=_contract(since="2010"))
    partners = make([ALPHA_SHERIFF])
    pieces = coverage.jurisdictions(partners, geography=geo, agencies=_agencies())
    small = _piece(pieces, place="4800200")
    assert (small["primary"], small["basis"]) == ("contract", "contract with another agency")
    assert (small["primary_ori"], small["primary_type"]) == ("TXS0100000", "sheriff")
    assert "https://example.org/alpha" in small["evidence"]
    assert small["partner"] and small["partner_id"] == "S1"
    # lower bound: unincorporated 300 + Smalltown 100, x 1.1; Bigcity's own police is not
    # a partner. Before the contract table Smalltown's police was taken as its own.
    county = coverage.by_county(partners, geography=geo, agencies=_agencies())
    assert county.loc["48001", ["pop_covered_min", "pop_covered_max"]].tolist() == [440, 1100]
    change = coverage.jurisdiction_change(partners, geography=geo, agencies=_agencies())
    assert change.loc["TX", ["pop_covered_min_before", "pop_covered_min"]].tolist() == [330, 440]
    assert change.at["TX", "change_max"] == 0


def test_fbi_contract_unit_marks_a_contract_with_the_county_agency(geo, curated):
    # no curated row: the FBI's ORI ending in X says Smalltown's police is a contract unit
    pieces = coverage.jurisdictions(make([ALPHA_SHERIFF]), geography=geo,
                                    agencies=_agencies("TX0012000X"))
    small = _piece(pieces, place="4800200")
    assert (small["basis"], small["primary_ori"]) == ("contract with another agency",
                                                      "TXS0100000")
    assert "TX0012000X ends in X" in small["evidence"]
    assert small["partner"]


def test_a_contract_that_ended_leaves_the_city_its_own_department(geo, curated):
    # the contract table knows the contract ended (the city formed its police, as Menifee
    # did in July 2020): the FBI contract unit is then the city's own department
    curated(contracts=_contract(since="2008", until="2020-07-01"))
    pieces = coverage.jurisdictions(make([ALPHA_SHERIFF]), geography=geo,
                                    agencies=_agencies("TX0012000X"))
    small = _piece(pieces, place="4800200")
    assert (small["basis"], small["primary_ori"]) == ("own department", "TX0012000X")
    assert not small["partner"]
    # on a day the contract was in force, the sheriff polices it
    earlier = coverage.jurisdictions(make([ALPHA_SHERIFF], as_of="2019-12-31"),
                                     geography=geo, agencies=_agencies("TX0012000X"))
    assert _piece(earlier, place="4800200")["basis"] == "contract with another agency"


def test_contract_unit_with_its_own_partnership_covers_its_city(geo, curated):
    # Dublin, CA: policed by the Alameda County Sheriff, its city-branded unit partnered
    curated(contracts=_contract())
    pieces = coverage.jurisdictions(make([SMALLTOWN_UNIT]), geography=geo,
                                    agencies=_agencies())
    small = _piece(pieces, place="4800200")
    assert small["basis"] == "contract unit with its own partnership"
    assert small["partner"] and small["partner_id"] == "P2"
    assert small["activated"] == pd.Timestamp("2019-05-01")
    county = coverage.by_county(make([SMALLTOWN_UNIT]), geography=geo, agencies=_agencies())
    assert county.loc["48001", ["pop_covered_min", "pop_covered_max"]].tolist() == [110, 110]


# --------------------------------------------------------------------------- regional
def test_regional_department_covers_its_members_in_both_bounds(geo, curated):
    curated(regional=_regional())
    partners = make([GAMMA_REGIONAL])
    pieces = coverage.jurisdictions(partners, geography=geo, agencies=_agencies())
    gamma = pieces.loc[pieces["county"] == "42001"]
    regional = gamma.loc[gamma["basis"] == "regional or shared department"]
    # Oak outside Oakvillage (800) and Elm (800); Oakvillage keeps its own police
    assert sorted(regional["mcd"]) == ["4200100001", "4200100002"]
    assert (regional["place"] == "").all() and regional["partner"].all()
    assert int(regional["population"].sum()) == 1600
    village = _piece(pieces, place="4200300", mcd="4200100001")
    assert (village["basis"], village["partner"]) == ("own department", False)
    county = coverage.by_county(partners, geography=geo, agencies=_agencies())
    # the upper bound: the members' legal jurisdiction, Oak township with the borough in it
    assert county.loc["42001", ["pop_covered_min", "pop_covered_max"]].tolist() == [1600, 2000]
    notes = county.attrs["no_covered_population"]
    assert "agency without a linked municipality" not in notes
    change = coverage.jurisdiction_change(partners, geography=geo, agencies=_agencies())
    assert change.loc["PA", ["pop_covered_min_before", "pop_covered_min",
                             "pop_covered_max_before", "pop_covered_max"]].tolist() == [
        0, 1600, 0, 2000]


def test_member_of_a_non_partner_regional_department_is_not_the_sheriff_s(geo, curated):
    # Centennial Lakes, MN: its members are not policed by the (partnered) sheriff
    curated(regional=_regional())
    geo["states"].loc[0, "state"] = "MN"  # a state whose sheriffs patrol townships
    geo["counties"].loc[0, "state"] = "MN"
    sheriff = ("S2", "sheriff", "county", "MN", ["42001"], None, "PAS0100000", "2019-06-01")
    pieces = coverage.jurisdictions(make([sheriff]), geography=geo, agencies=_agencies())
    elm = _piece(pieces, mcd="4200100002")
    assert (elm["basis"], elm["partner"]) == ("regional or shared department", False)


def test_no_curated_table_and_no_partners_gives_the_plain_rules(geo, curated):
    pieces = coverage.jurisdictions(geography=geo, agencies=_agencies())
    assert "partner" not in pieces.columns
    assert list(pieces.columns) == list(coverage.JURISDICTION_COLUMNS)
    assert set(pieces["basis"]) <= set(coverage.BASES)
    assert _piece(pieces, mcd="4200100002")["basis"] == "state police"  # PA: no sheriff
    assert _piece(pieces, place="4800200")["basis"] == "own department"


# --------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def real():
    partners = ringgeo.load_partners()
    return partners, coverage.jurisdictions(partners), coverage.by_county(partners)


def _raw_subcounty() -> pd.DataFrame:
    return pd.read_csv(ringgeo.data.fetch("sub-est2021_all.zip"), dtype=str,
                       encoding="latin-1")


def test_real_los_angeles_lower_bound_recomputed_from_the_raw_files(real):
    # independent of the cells: LA County's residents whose first police is the sheriff
    # (a partner since 2020-03-11) or a partnered city's own department, from the raw
    # Census file and the curated contract table
    partners, pieces, counties = real
    raw = _raw_subcounty()
    la = raw.loc[(raw["STATE"] == "06") & (raw["COUNTY"] == "037")]
    county_base = int(la.loc[la["SUMLEV"] == "050", "ESTIMATESBASE2020"].iat[0])
    places = la.loc[la["SUMLEV"] == "157"].assign(
        geoid="06" + la["PLACE"], pop=lambda f: f["ESTIMATESBASE2020"].astype(int))
    places = places.loc[places["PLACE"] != "99990"]  # the balance of the county
    contracts = _policing.read_contracts()
    contract_cities = set(contracts.loc[contracts["county_fips"] == "06037", "muni_geoid"])
    partnered = set(partners.loc[partners["muni_geoid"].notna()
                                 & (partners["jurisdiction_type"] != "county"), "muni_geoid"])
    sheriff = county_base - places["pop"].sum() + places.loc[
        places["geoid"].isin(contract_cities), "pop"].sum()
    own = places.loc[places["geoid"].isin(partnered - contract_cities), "pop"].sum()
    scale = (counties.at["06037", "population"]
             / int(ringgeo.load_counties().set_index("GEOID").at["06037", "population_2020base"]))
    expected = (sheriff + own) * scale
    assert len(contract_cities) >= 40
    assert counties.at["06037", "pop_covered_min"] == pytest.approx(expected, rel=0.01)
    assert 8.9e6 < counties.at["06037", "pop_covered_min"] < 9.3e6  # 7.24 M before


def test_real_contract_cities_and_regional_members(real):
    _, pieces, _ = real
    by_place = pieces.loc[pieces["place"] != ""].drop_duplicates("place").set_index("place")
    lakewood, dublin = by_place.loc["0639892"], by_place.loc["0620018"]
    assert lakewood["primary_agency"] == "Los Angeles County Sheriff's Office"
    assert lakewood["basis"] == "contract with another agency" and lakewood["partner"]
    assert dublin["basis"] == "contract unit with its own partnership" and dublin["partner"]
    centennial = by_place.loc["0812815"]  # Centennial, CO: Arapahoe County Sheriff
    assert centennial["primary_type"] == "sheriff" and centennial["partner"]
    # Northern Regional PD, PA: Marshall, Pine, Richland and Bradford Woods, 36.8 k
    northern = pieces.loc[pieces["primary_ori"] == "PA0021B00"]
    assert set(northern["basis"]) == {"regional or shared department"}
    assert northern["partner"].all()
    assert 36_000 < northern["population"].sum() < 38_000
    # Centennial Lakes PD, MN (not a partner): Centerville, Circle Pines, Lexington
    lakes = pieces.loc[pieces["primary_ori"] == "MN0020300"]
    assert len(lakes) >= 3 and not lakes["partner"].any()
    assert 10_000 < lakes["population"].sum() < 12_500


def test_real_every_partner_covers_someone_or_says_why(real):
    partners, pieces, counties = real
    covering = {i for ids in pieces["partner_id"].dropna() for i in ids.split(", ")}
    notes = counties.attrs["no_covered_population"]
    explained = {i for ids in notes.values() for i in ids}
    upper = {i for i in partners["partner_id"]}  # a partner covers someone in the upper bound
    nobody = sorted(upper - covering - explained)
    # partners that cover someone only in the upper bound (a sheriff whose county's
    # pieces all have other first agencies) are listed here; none covers nobody at all
    county_level = set(partners.loc[partners["jurisdiction_type"] == "county", "partner_id"])
    assert set(nobody) <= county_level
    assert sorted(explained) == ["AOS4009", "AOS4177", "AOS4620"]


def test_real_every_partnered_county_of_100k_was_searched_for_contracts(real):
    partners, _, counties = real
    county_level = partners.loc[(partners["jurisdiction_type"] == "county")
                                & partners["agency_type"].isin(["sheriff", "police"])]
    big = {c for fips in county_level["county_fips"] for c in fips
           if counties.at[c, "population"] >= 100_000}
    checked = _policing.read_contract_counties()
    assert big <= set(checked["county_fips"]), sorted(big - set(checked["county_fips"]))
    assert set(checked["result"]) <= {"contracts found", "none found", "not checked"}


def test_real_curated_tables_name_real_municipalities_and_agencies():
    munis = set(ringgeo.load_municipalities()["GEOID"])
    oris = set(ringgeo.load_agencies()["ori"])
    contracts, regional = _policing.read_contracts(), _policing.read_regional()
    assert set(contracts["muni_geoid"]) <= munis
    assert set(regional["member_geoid"]) <= munis
    assert set(contracts["agency_ori"]) <= oris and set(regional["agency_ori"]) <= oris
    units = contracts.loc[contracts["unit_ori"] != "", "unit_ori"]
    assert set(units) <= oris
    assert set(_policing.read_aliases()["ori"]) <= oris


def test_real_jurisdictions_match_the_bounds(real):
    partners, pieces, counties = real
    lower = pieces.loc[pieces["partner"]].groupby("county")["population"].sum()
    got = counties["pop_covered_min"].reindex(lower.index)
    per_county = pieces.groupby("county").size().reindex(lower.index)
    assert (np.abs(got - lower) <= per_county).all()  # rounded per piece
    national = coverage.national(partners)
    share = national.at["US", "share_covered_min"]
    assert 0.385 < share < 0.40 and national.at["US", "share_covered_max"] < 0.465
