"""Tests of ringgeo.coverage: hand-built cases with known answers, then the real data."""

import csv
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import ringgeo
from ringgeo import coverage
from ringgeo.exceptions import InputError, ParameterError

REQUIRED = ["partners", "police", "sheriffs", "population", "partners_per_100k",
            "pop_covered_min", "pop_covered_max", "share_covered_min", "share_covered_max"]


# --------------------------------------------------------------------------- crafted data
@pytest.fixture
def geo():
    """Two Texas counties, one Pennsylvania county with towns, a Puerto Rico municipio.

    48001 Alpha: 2019 pop 1,100, 2020 base 1,000 (scale 1.1): Bigcity part 600,
    Smalltown 100, unincorporated 300. 48003 Beta: 500 / 500: Bigcity part 200,
    unincorporated 300. 42001 Gamma: 2,000 / 2,000: Oak township 1,200 holding
    the borough of Oakvillage (400), Elm township 800.
    """
    states = pd.DataFrame({"GEOID": ["42", "48", "72"], "state": ["PA", "TX", "PR"],
                           "name": ["Pennsylvania", "Texas", "Puerto Rico"],
                           "population": pd.array([2000, 1600, None], dtype="Int64")})
    counties = pd.DataFrame({
        "GEOID": ["42001", "48001", "48003", "72001"], "state": ["PA", "TX", "TX", "PR"],
        "name": ["Gamma", "Alpha", "Beta", "Adjuntas"],
        "population": pd.array([2000, 1100, 500, None], dtype="Int64"),
        "population_2020base": pd.array([2000, 1000, 500, None], dtype="Int64")})
    parts = pd.DataFrame({
        "muni_geoid": ["4800100", "4800100", "4800200", "4899990", "4200300",
                       "4200100001", "4200100002"],
        "kind": ["place"] * 5 + ["mcd"] * 2,
        "county_fips": ["48001", "48003", "48001", "48001", "42001", "42001", "42001"],
        "population": [600, 200, 100, 300, 400, 1200, 800],
        "incorporated": [True, True, True, False, True, False, False]})
    overlaps = pd.DataFrame({"mcd_geoid": ["4200100001", "4200100001"],
                             "place_geoid": ["4200300", "4299990"],
                             "county_fips": ["42001", "42001"], "population": [400, 800]})
    return {"states": states, "counties": counties, "municipality_parts": parts,
            "mcd_place_overlaps": overlaps}


@pytest.fixture
def agencies():
    """The agency universe of ``geo``: who polices what.

    Alpha (TX): its sheriff; Bigcity and Smalltown each have a police department,
    so only Alpha's unincorporated 300 (2020 base) is the sheriff's first. Beta
    (TX): its sheriff. Gamma (PA): Oak township and the borough of Oakvillage have
    departments; Elm township has none and, in Pennsylvania, the state police
    polices it (never the sheriff).
    """
    return pd.DataFrame({
        "ori": ["TXS01", "TXS03", "TXP01", "TXP02", "PAS01", "PAP01", "PAP02"],
        "agency": ["Alpha County Sheriff's Office", "Beta County Sheriff's Office",
                   "Bigcity Police Department", "Smalltown Police Department",
                   "Gamma County Sheriff's Office", "Oak Township Police Department",
                   "Oakvillage Police Department"],
        "agency_type": ["sheriff", "sheriff", "police", "police", "sheriff", "police",
                        "police"],
        "state": ["TX", "TX", "TX", "TX", "PA", "PA", "PA"],
        "county_fips": [("48001",), ("48003",), ("48001", "48003"), ("48001",), ("42001",),
                        ("42001",), ("42001",)],
        "muni_geoid": [None, None, "4800100", "4800200", None, "4200100001", "4200300"]})


def make(rows, as_of=None):
    """Partner table from (id, agency_type, jurisdiction_type, state, counties, muni, date)."""
    frame = pd.DataFrame(rows, columns=["partner_id", "agency_type", "jurisdiction_type",
                                        "state", "county_fips", "muni_geoid", "activated"])
    frame["county_fips"] = [tuple(c) for c in frame["county_fips"]]
    frame["activated"] = pd.to_datetime(frame["activated"])
    frame.attrs["as_of"] = None if as_of is None else pd.Timestamp(as_of)
    return frame


BIGCITY = ("P1", "police", "municipal", "TX", ["48001"], "4800100", "2019-01-15")
ALPHA_SHERIFF = ("S1", "sheriff", "county", "TX", ["48001"], None, "2019-03-02")
SMALLTOWN = ("P2", "police", "municipal", "TX", ["48001"], "4800200", None)


def test_place_spanning_two_counties_adds_its_part_in_each(geo, agencies):
    table = coverage.by_county(make([BIGCITY]), geography=geo, agencies=agencies)
    # 600 of the 2020 base in Alpha, rescaled by 1,100/1,000; 200 in Beta
    assert table.loc["48001", ["pop_covered_min", "pop_covered_max"]].tolist() == [660, 660]
    assert table.loc["48003", ["pop_covered_min", "pop_covered_max"]].tolist() == [200, 200]
    # the partner counts in the county it names only
    assert table.loc["48001", "partners"] == 1 and table.loc["48003", "partners"] == 0
    state = coverage.by_state(make([BIGCITY]), geography=geo, agencies=agencies)
    assert state.loc["TX", "pop_covered_max"] == 860
    assert state.loc["TX", "share_covered_max"] == pytest.approx(860 / 1600)


def test_city_inside_partnered_county_counts_once(geo, agencies):
    table = coverage.by_county(make([BIGCITY, ALPHA_SHERIFF]), geography=geo, agencies=agencies)
    alpha = table.loc["48001"]
    assert alpha["pop_covered_max"] == 1100  # the whole county, not 1,100 + 660
    assert alpha["pop_covered_min"] == 990  # Bigcity 600 + unincorporated 300, x 1.1
    assert (alpha["partners"], alpha["police"], alpha["sheriffs"]) == (2, 1, 1)
    state = coverage.by_state(make([BIGCITY, ALPHA_SHERIFF]), geography=geo, agencies=agencies)
    assert state.loc["TX", ["pop_covered_min", "pop_covered_max"]].tolist() == [1190, 1300]


def test_sheriff_alone_covers_unincorporated_part_at_least(geo, agencies):
    table = coverage.by_county(make([ALPHA_SHERIFF]), geography=geo, agencies=agencies)
    assert table.loc["48001", ["pop_covered_min", "pop_covered_max"]].tolist() == [330, 1100]
    assert table.loc["48001", "share_covered_min"] == pytest.approx(0.3)
    assert table.loc["48001", "share_covered_max"] == pytest.approx(1.0)


def test_two_agencies_in_one_city(geo, agencies):
    marshal = ("P9", "other", "municipal", "TX", ["48001"], "4800100", "2019-02-01")
    one = coverage.by_state(make([BIGCITY]), geography=geo, agencies=agencies)
    two = coverage.by_state(make([BIGCITY, marshal]), geography=geo, agencies=agencies)
    assert two.loc["TX", "partners"] == 2 and two.loc["TX", "other"] == 1
    assert two.loc["TX", "pop_covered_max"] == one.loc["TX", "pop_covered_max"] == 860
    assert two.loc["TX", "partners_per_100k"] == pytest.approx(2 / 1600 * 1e5)


def test_multi_county_agency_counts_in_each_county_once_in_state(geo, agencies):
    county_police = ("C1", "police", "county", "TX", ["48001", "48003"], None, "2020-02-02")
    partners = make([county_police])
    counties = coverage.by_county(partners, geography=geo, agencies=agencies)
    assert counties.loc[["48001", "48003"], "partners"].tolist() == [1, 1]
    assert counties["partners"].sum() == 2
    states = coverage.by_state(partners, geography=geo, agencies=agencies)
    assert states.loc["TX", "partners"] == 1
    assert coverage.national(partners, geography=geo, agencies=agencies).at["US", "partners"] == 1
    assert states.loc["TX", "pop_covered_max"] == 1600
    assert states.loc["TX", "pop_covered_min"] == 330 + 300


def test_village_inside_town_counts_once(geo, agencies):
    town = ("P3", "police", "municipal", "PA", ["42001"], "4200100001", "2019-05-05")
    village = ("P4", "police", "municipal", "PA", ["42001"], "4200300", "2019-06-06")
    table = coverage.by_county(make([town, village]), geography=geo, agencies=agencies)
    assert table.loc["42001", ["pop_covered_min", "pop_covered_max"]].tolist() == [1200, 1200]
    only_village = coverage.by_county(make([village]), geography=geo, agencies=agencies)
    assert only_village.loc["42001", "pop_covered_max"] == 400
    # a Pennsylvania sheriff polices no one first: Oak township has its own (non-partner)
    # department and Elm township the state police; its upper bound is the whole county
    sheriff = ("S2", "sheriff", "county", "PA", ["42001"], None, "2019-07-07")
    both = coverage.by_county(make([village, sheriff]), geography=geo, agencies=agencies)
    assert both.loc["42001", ["pop_covered_min", "pop_covered_max"]].tolist() == [400, 2000]
    alone = coverage.by_county(make([sheriff]), geography=geo, agencies=agencies)
    assert alone.loc["42001", ["pop_covered_min", "pop_covered_max"]].tolist() == [0, 2000]


def _relabel(geo, old, new, name):
    """The crafted geography with one state's code changed (its GEOIDs stay)."""
    out = {key: table.copy() for key, table in geo.items()}
    out["states"]["state"] = out["states"]["state"].replace(old, new)
    out["states"]["name"] = out["states"]["name"].replace(
        dict(zip(geo["states"]["state"], geo["states"]["name"]))[old], name)
    out["counties"]["state"] = out["counties"]["state"].replace(old, new)
    return out


def test_primary_police_lower_bound_rules(geo, agencies):
    """Issue 16's three cases, in Gamma: Oak township (1,200, with Oakvillage's 400 inside)
    and Elm township (800)."""
    sheriff = ("S2", "sheriff", "county", "MI", ["42001"], None, "2019-07-07")
    michigan = _relabel(geo, "PA", "MI", "Michigan")
    in_mi = agencies.assign(state=agencies["state"].replace("PA", "MI"))
    # a sheriff partner where every municipality has its own non-partner department:
    # only the partnered municipalities count (here: none) ...
    policed = in_mi.copy()
    policed.loc[len(policed)] = ["MIP03", "Elm Township Police Department", "police", "MI",
                                 ("42001",), "4200100002"]
    table = coverage.by_county(make([sheriff]), geography=michigan, agencies=policed)
    assert table.loc["42001", ["pop_covered_min", "pop_covered_max"]].tolist() == [0, 2000]
    village = ("P4", "police", "municipal", "MI", ["42001"], "4200300", "2019-06-06")
    table = coverage.by_county(make([sheriff, village]), geography=michigan, agencies=policed)
    assert table.loc["42001", "pop_covered_min"] == 400
    # ... a township without a department under a partnered sheriff is counted ...
    table = coverage.by_county(make([sheriff]), geography=michigan, agencies=in_mi)
    assert table.loc["42001", ["pop_covered_min", "pop_covered_max"]].tolist() == [800, 2000]
    # ... and a state-police township (Pennsylvania) is not
    pa = ("S2", "sheriff", "county", "PA", ["42001"], None, "2019-07-07")
    table = coverage.by_county(make([pa]), geography=geo, agencies=agencies)
    assert table.loc["42001", "pop_covered_min"] == 0


def test_primary_police_table(geo, agencies):
    partners = make([BIGCITY, ALPHA_SHERIFF])
    table = coverage.primary_police(partners, geography=geo, agencies=agencies)
    alpha = table.loc[table["county"] == "48001"].set_index("place")
    assert alpha.loc["4800100", ["primary", "primary_ori", "partner"]].tolist() == [
        "municipal", "TXP01", True]
    assert alpha.loc["4800200", ["primary", "primary_ori", "partner"]].tolist() == [
        "municipal", "TXP02", False]
    rest = alpha.loc[""]
    assert rest["primary"] == "sheriff" and rest["primary_ori"] == "TXS01" and rest["partner"]
    assert rest["partner_id"] == "S1"
    gamma = table.loc[table["county"] == "42001"].set_index("mcd")
    assert gamma.loc["4200100002", "primary"] == "state police"
    assert pd.isna(gamma.loc["4200100002", "primary_ori"])
    # population in 2019 terms sums to each county's population
    sums = table.groupby("county")["population"].sum()
    assert sums["48001"] == 1100 and sums["42001"] == 2000


def test_agencies_adding_no_population_are_listed(geo, agencies):
    constable = ("O1", "other", "county", "TX", ["48003"], None, "2019-04-04")
    regional = ("R1", "police", "regional", "TX", ["48003"], None, "2019-04-04")
    table = coverage.by_state(make([constable, regional]), geography=geo, agencies=agencies)
    assert table.loc["TX", "partners"] == 2
    assert table.loc["TX", "pop_covered_max"] == 0
    notes = table.attrs["no_covered_population"]
    assert notes == {"county-level agency that is neither police nor sheriff": ["O1"],
                     "agency without a linked municipality": ["R1"]}


def test_tables_shape_order_and_puerto_rico(geo, agencies):
    partners = make([BIGCITY, ALPHA_SHERIFF, SMALLTOWN], as_of="2020-10-07")
    states = coverage.by_state(partners, geography=geo, agencies=agencies)
    assert list(states.columns[:9]) == REQUIRED
    assert list(states.columns) == coverage.COLUMNS + ["name"]
    assert states.index.name == "state" and list(states.index) == ["PA", "PR", "TX"]
    assert states.loc["PR", ["population", "pop_covered_max"]].isna().all()
    assert np.isnan(states.loc["PR", "partners_per_100k"])
    assert states.attrs["as_of"] == pd.Timestamp("2020-10-07")
    counties = coverage.by_county(partners, geography=geo, agencies=agencies)
    assert list(counties.columns) == coverage.COLUMNS + ["state", "name"]
    assert counties.index.name == "GEOID"
    assert counties.loc["72001", "partners"] == 0
    row = coverage.national(partners, geography=geo, agencies=agencies)
    assert list(row.columns) == coverage.COLUMNS and row.index.tolist() == ["US"]
    assert row.at["US", "population"] == 3600 and row.at["US", "partners"] == 3


# counts of people and of agencies: whole numbers, so an integer dtype (Int64 where a
# population can be missing), never float (issue 26: 123,959,758.0)
PEOPLE = ("population", "pop_covered_min", "pop_covered_max", "pop_covered_min_before",
          "pop_covered_max_before", "change_min", "change_max")
AGENCY_COUNTS = ("partners", "police", "sheriffs", "other", "new_partners", "agencies",
                 "agencies_partnered", "police_agencies", "sheriff_agencies",
                 "partners_changed")


def assert_integer_counts(table, expected):
    counts = [col for col in table.columns if col in PEOPLE + AGENCY_COUNTS]
    assert counts == [col for col in table.columns if col in expected]  # all are checked
    floats = {col: str(table[col].dtype) for col in counts
              if not pd.api.types.is_integer_dtype(table[col])}
    assert floats == {}
    shares = [col for col in table.columns if col.startswith(("share_", "partners_per"))]
    assert all(table[col].dtype == "float64" for col in shares)


def test_every_count_is_an_integer_dtype(geo, agencies):
    partners = make([BIGCITY, ALPHA_SHERIFF, SMALLTOWN], as_of="2020-10-07")
    kw = {"geography": geo, "agencies": agencies}
    table_counts = ("partners", "police", "sheriffs", "population", "pop_covered_min",
                    "pop_covered_max", "other", "agencies", "agencies_partnered",
                    "police_agencies", "sheriff_agencies")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SMALLTOWN has no activation date
        for table in (coverage.by_state(partners, **kw), coverage.by_county(partners, **kw),
                      coverage.national(partners, **kw)):
            assert_integer_counts(table, table_counts)
        line_counts = ("partners", "new_partners", "pop_covered_min", "pop_covered_max")
        for by in (None, "state"):
            assert_integer_counts(coverage.timeline(partners, by=by, **kw), line_counts)
        assert_integer_counts(coverage.timeline(make([SMALLTOWN]), **kw), line_counts)
    assert_integer_counts(coverage.jurisdiction_change(partners, **kw), PEOPLE)
    assert_integer_counts(coverage.lower_bound_change(partners, **kw),
                          ("population", "pop_covered_min_before", "pop_covered_min",
                           "change_min", "pop_covered_max"))


def test_real_counts_are_integer_dtypes(real_partners):
    row = coverage.national(real_partners)
    assert_integer_counts(row, tuple(c for c in row.columns if c in PEOPLE + AGENCY_COUNTS))
    assert str(row.at["US", "pop_covered_min"]) == str(int(row.at["US", "pop_covered_min"]))
    for table in (coverage.jurisdiction_change(real_partners),
                  coverage.lower_bound_change(real_partners),
                  coverage.agency_rule_effects(real_partners)):
        assert_integer_counts(table, tuple(c for c in table.columns
                                           if c in PEOPLE + AGENCY_COUNTS))


def test_csv_export_round_trips(geo, agencies, tmp_path):
    table = coverage.by_state(make([BIGCITY, ALPHA_SHERIFF]), geography=geo, agencies=agencies)
    path = tmp_path / "states.csv"
    table.to_csv(path)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["state"] + list(table.columns)
    back = pd.read_csv(path, index_col="state", keep_default_na=False, na_values=[""])
    assert back.loc["TX", "pop_covered_min"] == 1190 and back.loc["PR", "population"] != 0
    assert math.isnan(back.loc["PR", "population"])


def test_partner_outside_the_51_is_reported(geo, agencies):
    pr = ("X1", "police", "municipal", "PR", ["72001"], None, "2019-01-01")
    partners = make([BIGCITY, pr])
    with pytest.warns(UserWarning, match=r"X1\) are outside the 50 states and DC"):
        row = coverage.national(partners, geography=geo, agencies=agencies)
    assert row.at["US", "partners"] == 1 and row.attrs["excluded"] == ["X1"]
    with pytest.warns(UserWarning, match="left out of the national timeline") as record:
        line = coverage.timeline(partners, geography=geo, agencies=agencies)
    assert record[0].filename == __file__  # the warning points at the caller's line
    assert line["partners"].iloc[-1] == 1 and line.attrs["excluded"] == ["X1"]
    states = coverage.by_state(partners, geography=geo, agencies=agencies)
    assert states.loc["PR", "partners"] == 1 and pd.isna(states.loc["PR", "pop_covered_max"])
    guam = ("G1", "police", "municipal", "GU", [], None, "2019-01-01")
    with pytest.warns(UserWarning, match="GU that have no population"):
        states = coverage.by_state(make([guam]), geography=geo, agencies=agencies)
    assert states.loc["GU", "partners"] == 1 and pd.isna(states.loc["GU", "population"])
    with pytest.warns(UserWarning, match=r"G1\) have no county GEOID"):
        counties = coverage.by_county(make([guam]), geography=geo, agencies=agencies)
    assert counties.attrs["no_county"] == ["G1"] and counties["partners"].sum() == 0


def test_timeline_monthly_with_undated_partner(geo, agencies):
    partners = make([BIGCITY, ALPHA_SHERIFF, SMALLTOWN], as_of="2019-05-10")
    with pytest.warns(UserWarning, match=r"1 partner\(s\) \(P2\) have no activation date"):
        line = coverage.timeline(partners, geography=geo, agencies=agencies)
    assert line.index.name == "date"
    assert list(line.index.strftime("%Y-%m-%d")) == [
        "2019-01-31", "2019-02-28", "2019-03-31", "2019-04-30", "2019-05-31"]
    assert list(line.columns) == ["partners", "new_partners", "pop_covered_min",
                                  "pop_covered_max"]
    assert line["partners"].tolist() == [1, 1, 2, 2, 2]
    assert line["new_partners"].tolist() == [1, 0, 1, 0, 0]
    assert line["pop_covered_max"].tolist() == [860, 860, 1300, 1300, 1300]
    assert line["pop_covered_min"].tolist() == [860, 860, 1190, 1190, 1190]
    assert line.attrs["undated"] == 1 and line.attrs["undated_ids"] == ["P2"]


def test_timeline_by_state_is_long(geo, agencies):
    town = ("P3", "police", "municipal", "PA", ["42001"], "4200100001", "2019-05-05")
    partners = make([BIGCITY, ALPHA_SHERIFF, town])
    line = coverage.timeline(partners, freq="Q", by="state", geography=geo, agencies=agencies)
    assert list(line.columns) == ["state", "partners", "new_partners", "pop_covered_min",
                                  "pop_covered_max"]
    assert len(line) == 2 * 3  # two quarters x PA, PR, TX
    last = line.loc[line.index == line.index.max()].set_index("state")
    assert last.loc["TX", "partners"] == 2 and last.loc["PA", "partners"] == 1
    assert last.loc["PA", "pop_covered_max"] == 1200
    assert pd.isna(last.loc["PR", "pop_covered_max"])
    first = line.loc[line.index == line.index.min()].set_index("state")
    assert first.loc["TX", "pop_covered_min"] == 1190 and first.loc["PA", "partners"] == 0
    national = coverage.timeline(partners, freq="Q", geography=geo, agencies=agencies)
    assert national["pop_covered_max"].tolist() == [1300, 2500]


def test_timeline_without_dated_partners(geo, agencies):
    with pytest.warns(UserWarning, match="no activation date"):
        line = coverage.timeline(make([SMALLTOWN]), geography=geo, agencies=agencies)
    assert len(line) == 0 and line.attrs["undated"] == 1


@pytest.mark.parametrize("kwargs, message", [
    ({"freq": "ME"}, r"freq was 'ME' but is expected to be one of 'D', 'W', 'M', 'Q', 'Y'"),
    ({"by": "county"}, r"by was 'county' but is expected to be one of None, 'state'"),
])
def test_timeline_bad_parameters(geo, agencies, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        coverage.timeline(make([BIGCITY]), geography=geo, agencies=agencies, **kwargs)


def test_bad_inputs(geo, agencies):
    with pytest.raises(ParameterError, match="partners must be a DataFrame"):
        coverage.by_state([BIGCITY], geography=geo, agencies=agencies)
    unlinked = make([BIGCITY]).drop(columns=["county_fips", "muni_geoid"])
    with pytest.raises(InputError, match="lacks column\\(s\\) county_fips, muni_geoid"):
        coverage.by_county(unlinked, geography=geo, agencies=agencies)
    odd = make([("Z1", "marshal", "municipal", "TX", [], None, None)])
    with pytest.raises(InputError, match="partner Z1: field agency_type is 'marshal'"):
        coverage.national(odd, geography=geo, agencies=agencies)
    blank = make([("Z2", "police", "municipal", None, [], None, None)])
    with pytest.raises(InputError, match="partner Z2: field state is blank"):
        coverage.by_state(blank, geography=geo, agencies=agencies)
    with pytest.raises(ParameterError, match="geography must be None .* got \\['states'\\]"):
        coverage.by_state(make([BIGCITY]), geography={"states": geo["states"]})
    broken = dict(geo, counties=geo["counties"].drop(columns="population_2020base"))
    with pytest.raises(InputError, match="'counties' lacks column\\(s\\) population_2020base"):
        coverage.by_state(make([BIGCITY]), geography=broken)


def test_inconsistent_geography_is_an_error(geo, agencies):
    too_many = geo["mcd_place_overlaps"].assign(population=[1500, 0])
    with pytest.raises(InputError, match="place 4200300 in county 42001: its MCD/place "
                       "overlap rows \\(SUMLEV 071\\) hold 1100 more people"):
        coverage.by_state(make([BIGCITY]), geography=dict(geo, mcd_place_overlaps=too_many))
    small_town = geo["municipality_parts"].copy()
    small_town.loc[small_town["muni_geoid"] == "4200100001", "population"] = 300
    with pytest.raises(InputError, match="MCD 4200100001 in county 42001: .* hold 100 more"):
        coverage.by_state(make([BIGCITY]), geography=dict(geo, municipality_parts=small_town))
    crowded = geo["municipality_parts"].copy()
    crowded.loc[crowded["muni_geoid"] == "4800200", "population"] = 500
    with pytest.raises(InputError, match="county 48001: its place and MCD parts hold 100 more"):
        coverage.by_state(make([BIGCITY]), geography=dict(geo, municipality_parts=crowded))
    elsewhere = geo["municipality_parts"].assign(county_fips="99999")
    with pytest.raises(InputError, match="county GEOID\\(s\\) 99999"):
        coverage.by_state(make([BIGCITY]), geography=dict(geo, municipality_parts=elsewhere))


def test_malformed_geography_tables_are_errors(geo, agencies):
    with pytest.raises(InputError, match="'states' is a list, not a DataFrame"):
        coverage.by_state(make([BIGCITY]), geography=dict(geo, states=[]))
    odd_kind = geo["municipality_parts"].assign(kind="cdp")
    with pytest.raises(InputError, match="unknown kind\\(s\\) \\['cdp'\\]"):
        coverage.by_state(make([BIGCITY]), geography=dict(geo, municipality_parts=odd_kind))
    stray = geo["mcd_place_overlaps"].assign(place_geoid=["4255555", "4299990"])
    with pytest.raises(InputError, match="place/MCD GEOID\\(s\\) 4255555 that are not in"):
        coverage.by_state(make([BIGCITY]), geography=dict(geo, mcd_place_overlaps=stray))


def test_duplicated_geography_rows_are_errors(geo, agencies):
    twice = dict(geo, counties=pd.concat([geo["counties"], geo["counties"].iloc[[1]]]))
    with pytest.raises(InputError, match="'counties' lists GEOID 48001 twice"):
        coverage.by_county(make([BIGCITY]), geography=twice)
    twice = dict(geo, states=pd.concat([geo["states"], geo["states"].iloc[[1]]]))
    with pytest.raises(InputError, match="'states' lists state TX twice"):
        coverage.by_state(make([BIGCITY]), geography=twice)


def test_county_field_may_be_a_plain_string_or_missing(geo, agencies):
    partners = make([BIGCITY, ALPHA_SHERIFF])
    partners["county_fips"] = pd.Series(["48001", None], dtype=object)
    with pytest.warns(UserWarning, match=r"\(S1\) have no county GEOID"):
        table = coverage.by_county(partners, geography=geo, agencies=agencies)
    assert table.loc["48001", "partners"] == 1 and table.attrs["no_county"] == ["S1"]
    assert table.attrs["no_covered_population"] == {
        "county-level agency without a county in the county table": ["S1"]}


def test_unknown_municipality_is_listed(geo, agencies):
    ghost = ("P7", "police", "municipal", "TX", ["48001"], "4876543", "2019-01-01")
    table = coverage.by_state(make([ghost]), geography=geo, agencies=agencies)
    assert table.attrs["no_covered_population"] == {
        "municipality not in the Census tables": ["P7"]}
    assert table.loc["TX", "pop_covered_max"] == 0


def test_valdez_cordova_successors_map_to_2019_county(geo, agencies):
    counties = pd.concat([geo["counties"], pd.DataFrame({
        "GEOID": ["02261"], "state": ["AK"], "name": ["Valdez-Cordova"],
        "population": pd.array([90], dtype="Int64"),
        "population_2020base": pd.array([100], dtype="Int64")})], ignore_index=True)
    parts = pd.concat([geo["municipality_parts"], pd.DataFrame({
        "muni_geoid": ["0282200"], "kind": ["place"], "county_fips": ["02063"],
        "population": [40], "incorporated": [True]})], ignore_index=True)
    states = pd.concat([geo["states"], pd.DataFrame({
        "GEOID": ["02"], "state": ["AK"], "name": ["Alaska"],
        "population": pd.array([90], dtype="Int64")})], ignore_index=True)
    tables = dict(geo, counties=counties, municipality_parts=parts, states=states)
    valdez = ("V1", "police", "municipal", "AK", ["02063"], "0282200", "2019-01-01")
    table = coverage.by_county(make([valdez]), geography=tables)
    assert table.loc["02261", ["partners", "pop_covered_max"]].tolist() == [1, 36]


# --------------------------------------------------------------------------- real data
CENSUS_TOTAL_2019 = 328_239_523  # the 51 state rows of co-est2019-alldata.csv (PROVENANCE.md)


@pytest.fixture(scope="module")
def census(mirror_dir):
    """2019 populations read straight from the Census CSV with the csv module."""
    states, counties = {}, {}
    with open(mirror_dir / "co-est2019-alldata.csv", newline="", encoding="latin-1") as handle:
        for rec in csv.DictReader(handle):
            pop = int(rec["POPESTIMATE2019"])
            if rec["SUMLEV"] == "040":
                states[rec["STNAME"]] = pop
            else:
                counties[rec["STATE"] + rec["COUNTY"]] = pop
    return states, counties


@pytest.fixture(scope="module", params=[None, "2019-08-28", "2020-01-01"])
def real(request):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undated partners: checked in attrs below
        partners = ringgeo.load_partners(as_of=request.param)
        return {
            "partners": partners,
            "states": coverage.by_state(partners),
            "counties": coverage.by_county(partners),
            "national": coverage.national(partners),
            "timeline": coverage.timeline(partners),
            "by_state": coverage.timeline(partners, freq="W", by="state"),
        }


def test_real_partner_counts_add_up(real):
    partners, states, row = real["partners"], real["states"], real["national"]
    assert states["partners"].sum() == len(partners) == row.at["US", "partners"]
    assert (states["police"] + states["sheriffs"] + states["other"] == states["partners"]).all()
    assert states.loc["PR", "partners"] == 0 and row.attrs["excluded"] == []
    counties = real["counties"]
    # a municipal department counts where its municipality has residents (an independent
    # count from the Census parts), a county-level agency in every county it names
    parts = ringgeo.load_municipality_parts()
    lived = parts.loc[parts["population"] > 0].groupby("muni_geoid")["county_fips"].agg(set)
    placed = 0
    for fips, muni, juris in zip(partners["county_fips"], partners["muni_geoid"],
                                 partners["jurisdiction_type"]):
        if juris != "county" and isinstance(muni, str) and muni in lived.index:
            placed += len([c for c in fips if c in lived[muni]]) or len(lived[muni])
        else:
            placed += len(fips)
    assert counties["partners"].sum() == placed >= len(partners)
    # a county counts no partner that covers nobody there: Pocatello's police is not a
    # partner of Power County, ID, nor San Antonio's of Comal County, TX
    assert counties.loc[["16077", "48091"], "partners"].tolist() == [0, 0]
    assert counties.attrs["no_county"] == []
    assert states.attrs["as_of"] == partners.attrs["as_of"]


def test_real_populations_equal_census_totals(real, census):
    state_pop, county_pop = census
    states, counties, row = real["states"], real["counties"], real["national"]
    assert states.drop(index="PR")["population"].sum() == CENSUS_TOTAL_2019
    assert row.at["US", "population"] == CENSUS_TOTAL_2019
    assert states.drop(index="PR").set_index("name")["population"].to_dict() == state_pop
    assert len(counties) == 3220
    assert counties.drop(index=counties.index[counties["state"] == "PR"])[
        "population"].to_dict() == county_pop
    assert counties.loc[counties["state"] == "PR", "population"].isna().all()


def test_real_covered_range_invariants(real):
    for table in (real["states"], real["counties"], real["national"]):
        ok = table.dropna(subset=["population"])
        assert (ok["pop_covered_min"] <= ok["pop_covered_max"]).all()
        assert (ok["pop_covered_max"] <= ok["population"]).all()
        for col in ("share_covered_min", "share_covered_max"):
            assert ok[col].between(0, 1).all()
    states, counties, row = real["states"], real["counties"], real["national"]
    # a resident lives in one county: county sums give the state and the nation
    by_state = counties.groupby("state")[["pop_covered_min", "pop_covered_max"]].sum()
    assert (by_state.drop(index="PR") == states.drop(index="PR")[
        ["pop_covered_min", "pop_covered_max"]]).all().all()
    assert row.at["US", "pop_covered_max"] == states["pop_covered_max"].sum()
    assert 0 < row.at["US", "pop_covered_min"] < row.at["US", "pop_covered_max"]
    # a county with a partnered sheriff or county police is covered whole (upper bound)
    partners = real["partners"]
    sworn = partners.loc[(partners["jurisdiction_type"] == "county")
                         & partners["agency_type"].isin(["police", "sheriff"]), "county_fips"]
    whole = sorted({geoid for geoids in sworn for geoid in geoids})
    assert (counties.loc[whole, "pop_covered_max"] == counties.loc[whole, "population"]).all()


@pytest.mark.parametrize("usps", ["NJ", "IL", "CA", "SD"])
def test_real_partners_per_100k_spot_values(real, census, usps):
    partners, states = real["partners"], real["states"]
    count = int((partners["state"] == usps).sum())
    population = census[0][ringgeo.states.state_name(usps)]
    assert states.loc[usps, "partners"] == count
    assert states.loc[usps, "partners_per_100k"] == pytest.approx(count / population * 1e5)


def test_real_covered_spot_value_south_dakota(mirror_dir, census, real_partners):
    """SD's one municipal partner: its place parts, rescaled to 2019, from the raw files."""
    import io
    import zipfile

    partners = real_partners
    sd = partners.loc[partners["state"] == "SD"]
    assert len(sd) == 1 and sd["jurisdiction_type"].item() == "municipal"
    place = sd["muni_geoid"].item()
    with zipfile.ZipFile(mirror_dir / "sub-est2021_all.zip") as archive:
        name = archive.namelist()[0]
        text = io.TextIOWrapper(archive.open(name), encoding="latin-1", newline="")
        rows = list(csv.DictReader(text))
    base = {r["STATE"] + r["COUNTY"]: int(r["ESTIMATESBASE2020"])
            for r in rows if r["SUMLEV"] == "050"}
    expected = sum(
        round(int(r["ESTIMATESBASE2020"]) * census[1][r["STATE"] + r["COUNTY"]]
              / base[r["STATE"] + r["COUNTY"]])
        for r in rows if r["SUMLEV"] == "157" and r["STATE"] + r["PLACE"] == place)
    table = coverage.by_state(sd)
    assert table.loc["SD", ["pop_covered_min", "pop_covered_max"]].tolist() == [expected] * 2


def test_real_timeline_invariants(real):
    partners, line = real["partners"], real["timeline"]
    dated = partners.loc[partners["activated"].notna()]
    assert line.attrs["undated"] == len(partners) - len(dated)
    assert line["partners"].is_monotonic_increasing
    assert line["pop_covered_min"].is_monotonic_increasing
    assert line["pop_covered_max"].is_monotonic_increasing
    assert line["partners"].iloc[-1] == line["new_partners"].sum() == len(dated)
    assert (line["pop_covered_min"] <= line["pop_covered_max"]).all()
    # the last period holds exactly the dated partners' national coverage
    final = coverage.national(dated)
    assert line["pop_covered_max"].iloc[-1] == final.at["US", "pop_covered_max"]
    assert line["pop_covered_min"].iloc[-1] == final.at["US", "pop_covered_min"]
    as_of = partners.attrs["as_of"]
    if as_of is not None:
        assert line.index[-1] == as_of.to_period("M").to_timestamp(how="end").normalize()
    long = real["by_state"]
    last = long.loc[long.index == long.index.max()].set_index("state")
    assert last["partners"].to_dict() == coverage.by_state(dated)["partners"].to_dict()
    assert (long.groupby("state")["partners"].diff().dropna() >= 0).all()


@pytest.mark.slow  # computes the snapshot's tables three times
def test_tables_read_from_the_parsed_data_cache_are_those_computed(real_partners, tmp_path,
                                                                   monkeypatch):
    """The coverage tables of a loader's table are stored in the parsed-data cache: read
    back, they equal those computed with the cache off (values, dtypes, index, attrs,
    notes to the reader); a crafted table (no quality report) is never stored."""
    from ringgeo import tablecache

    calls = {
        "by_state": lambda p: coverage.by_state(p),
        "by_county": lambda p: coverage.by_county(p),
        "national": lambda p: coverage.national(p),
        "timeline_state": lambda p: coverage.timeline(p, freq="Q", by="state"),
        "jurisdictions": lambda p: coverage.jurisdictions(p),
        "model": lambda p: coverage.partnership_model(p),
        "rates": lambda p: coverage.rates(p, by="poverty_quintile"),
        "composition": lambda p: coverage.composition(p, by="state"),
    }

    def compute():
        ringgeo.clear_caches()
        out = {}
        for name, call in calls.items():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                table = call(real_partners.copy())
            out[name] = (table, sorted(str(w.message) for w in caught
                                       if issubclass(w.category, UserWarning)))
        return out

    monkeypatch.setenv("RINGGEO_TABLE_CACHE_DIR", str(tmp_path / "tables"))
    monkeypatch.setenv("RINGGEO_PARSED_CACHE", "0")
    computed = compute()
    monkeypatch.delenv("RINGGEO_PARSED_CACHE")
    compute()  # builds and stores them
    stored = {path.name.split("-")[0] for path in tablecache.entries()}
    assert {f"coverage_{f}" for f in ("by_state", "by_county", "national", "timeline",
                                     "jurisdictions", "partnership_model", "rates",
                                     "composition")} <= stored
    read = compute()  # reads them
    for name, (table, notes) in computed.items():
        got, got_notes = read[name]
        pd.testing.assert_frame_equal(got, table, check_exact=True)
        assert got.index.names == table.index.names
        assert repr(got.attrs) == repr(table.attrs), name
        assert got_notes == notes, name
    crafted = real_partners.head(20).copy()
    crafted.attrs = {}
    before = len(tablecache.entries())
    coverage.by_state(crafted)
    assert len(tablecache.entries()) == before
    ringgeo.clear_caches()
