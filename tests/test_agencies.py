"""The FBI agency universe, partner-to-agency matching and the agency-identity rules."""

import numpy as np
import pandas as pd
import pytest

import ringgeo
from ringgeo import agencies, coverage, linking
from ringgeo.exceptions import InputError

HEADER = ("agency_name,agency_type_name,county_name,latitude,longitude,ori,state_abbr,"
          "state_name\n")
ROW = ("Upper Darby Township Police Department,City,DELAWARE,39.96,-75.27,PA0233700,PA,"
       "Pennsylvania\n")


@pytest.fixture(scope="module")
def universe():
    return ringgeo.load_agencies()


@pytest.fixture
def real(real_partners):
    return real_partners


def by_ori(frame, ori):
    return frame.loc[frame["ori"] == ori].iloc[0]


def by_id(frame, pid):
    return frame.loc[frame["partner_id"] == pid].iloc[0]


def link(*rows):
    frame = pd.DataFrame(rows, columns=["agency", "jurisdiction_type", "city", "state",
                                        "county_names"])
    frame.insert(0, "partner_id", [f"T{i}" for i in range(len(frame))])
    frame["agency_type"] = ["sheriff" if "Sheriff" in a else "police" for a in frame["agency"]]
    frame["activated"] = pd.Timestamp("2019-06-01")
    return linking.link_partners(frame, corrections=False)


# ------------------------------------------------------------------ reading
def test_read_agencies_keeps_rows_and_lines(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(HEADER + ROW)
    frame = agencies.read_agencies(path)
    assert frame["ori"].tolist() == ["PA0233700"] and frame["row"].tolist() == [2]
    assert frame["latitude"].dtype == "float64"


@pytest.mark.parametrize("text, words", [
    (HEADER.replace("ori,", "code,") + ROW, "lacks column(s) ori (found "),
    (HEADER + ROW + ROW, "line 3, field ori: 'PA0233700' is listed twice"),
    (HEADER + ROW.replace("City", "Town"), "line 2, field agency_type_name: 'Town' is not"),
    (HEADER + ROW.replace("39.96", "north"), "line 2, field latitude: 'north' is not a number"),
    (HEADER + ROW.replace("-75.27", "-275.27"), "field longitude: '-275.27'"),
    (HEADER + ROW.replace("PA0233700", ""), "line 2, field ori: the value is blank"),
])
def test_read_agencies_errors_name_file_line_and_field(tmp_path, text, words):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match="bad.csv") as info:
        agencies.read_agencies(path)
    assert words in str(info.value)


@pytest.mark.parametrize("name, fbi, expected", [
    ("Polk County Sheriff's Office", "County", "sheriff"),
    ("Baltimore County", "County", "county_police"),
    ("Nassau County Police Department", "County", "county_police"),
    ("Maui Police Department County Sheriff's Office", "County", "county_police"),
    ("Baltimore City Sheriff's Office", "City", "sheriff"),
    ("Upper Darby Township Police Department", "City", "police"),
    ("State Police: Louisa County", "State Police", "state"),
    ("State Park Rangers: Big Ridge", "Other State Agency", "state"),
    ("University of Maryland: Baltimore City", "University or College", "university"),
    ("Yurok Tribal", "Tribal", "tribal"),
    ("Reno Tahoe Airport Authority", "Other", "other"),
])
def test_agency_type_from_fbi_type_and_name(name, fbi, expected):
    assert agencies.agency_type_of(name, fbi) == expected


# ------------------------------------------------------------------ the real list
def test_every_row_kept_and_accounted_for(universe):
    q = universe.attrs["quality"]
    assert len(universe) == q["rows_read"] == q["kept"] == 18702
    assert universe["ori"].is_unique
    assert sum(q["types"].values()) == len(universe)
    assert q["with_point"] == universe.geometry.notna().sum() == 18146
    assert q["flag_counts"]["no coordinates"] == 556
    assert q["flag_counts"]["territory"] == 4  # PR, GU, two VI
    assert universe.crs.to_epsg() == 4326


def test_targets_county_and_municipality(universe):
    local = universe["agency_type"].isin(agencies.UNIVERSE_TYPES) & ~universe["state"].isin(
        ["PR", "GU", "VI"])
    assert local.sum() == universe.attrs["quality"]["universe"]
    assert universe.loc[local, "county_fips"].map(len).gt(0).all()
    municipal = (universe["agency_type"] == "police") & (
        universe["jurisdiction_type"] == "municipal")
    share = universe.loc[municipal, "muni_geoid"].notna().mean()
    assert share >= 0.95


def test_real_agencies_hand_checked(universe):
    colonie = by_ori(universe, "NY0015300")  # the town's department, not the village's
    assert colonie["muni_geoid"] == "3600117343" and colonie["muni_population"] == 85553
    lemont = by_ori(universe, "IL0166000")  # FBI: Will; DuPage; Cook -> Cook first
    assert lemont["county_fips"] == ("17031", "17043", "17197")
    assert lemont["primary_county_fips"] == "17031"
    assert lemont["county_raw"] == "WILL; DUPAGE; COOK"
    assert by_ori(universe, "NY0147200")["muni_name"] == "Tonawanda town"
    assert by_ori(universe, "NY0140300")["muni_name"] == "Tonawanda city"
    hawaii = by_ori(universe, "HI0010000")
    assert hawaii["agency_type"] == "county_police" and hawaii["county_fips"] == ("15001",)
    nebraska = universe.loc[universe["agency"] == "Cass County Sheriff's Office"]
    assert "NE" in set(nebraska["state"])  # the FBI writes NB
    assert by_ori(universe, "TX2451000")["county_fips"] == ("48489",)  # correction row
    assert by_ori(universe, "MD0040600")["county_fips"] == ("24510",)  # "Baltimore City"
    assert np.isnan(by_ori(universe, "TX2451000")["latitude"])


def test_agency_correction_that_no_longer_fits_is_stale(tmp_path, monkeypatch):
    path = tmp_path / "agency_corrections.csv"
    path.write_text("ori,field,old_value,new_value,reason,evidence\n"
                    "PA0233700,county_names,CHESTER,Delaware County,x,y\n")
    frame = pd.DataFrame({"ori": ["PA0233700"], "county_raw": ["DELAWARE"]})
    with pytest.raises(InputError, match="stale correction of PA0233700"):
        agencies._apply_corrections(frame, agencies.read_agency_corrections(path))
    path.write_text("ori,field,old_value,new_value,reason,evidence\n"
                    "PA0233700,agency_type,City,County,x,y\n")
    with pytest.raises(InputError, match="field 'agency_type' cannot be corrected"):
        agencies.read_agency_corrections(path)


# ------------------------------------------------------------------ matching
def test_match_methods_on_crafted_rows():
    out = link(("Upper Darby Township Police Department", "municipal", "Upper Darby", "PA",
                ["Delaware County"]),
               ("Upper Darby Police Department", "municipal", "Upper Darby", "PA",
                ["Delaware County"]),
               ("Polk County Sheriff's Department", "county", "Bartow", "FL", ["Polk County"]),
               ("Northern York County Regional Police Department", "regional", "Dover", "PA",
                ["York County"]),
               ("Upper Darby Township Police Department", "municipal", "Media", "PA",
                ["Chester County"]),
               ("Unicorn Patrol", "municipal", "Nowhere", "IL", ["Sangamon County"]))
    assert out["agency_match_method"].tolist()[:4] == ["exact", "normalized", "normalized",
                                                       "fuzzy"]
    assert out["ori"].tolist()[:3] == ["PA0233700", "PA0233700", "FL0530000"]
    assert out["agency_match_score"].iat[3] >= 88 and np.isnan(out["agency_match_score"].iat[0])
    assert out["latitude"].iat[0] == pytest.approx(39.96328)
    # the county must agree: a name that lies in another county is not matched there
    assert out["agency_match_method"].iat[4] == "unmatched" or (
        out["county_fips"].iat[4] == ("42045",))
    assert out["agency_match_method"].iat[5] == "unmatched"
    problems = [r["problem"] for r in out.attrs["quality"]["links"]["review"]
                if r["partner_id"] == "T5"]
    assert any(p.startswith("no FBI agency: not in the FBI agency list") for p in problems)


def test_rule_same_name_municipality():
    out = link(("Colonie Police Department", "municipal", "Latham", "NY", ["Albany County"]))
    row = out.iloc[0]
    assert row["ori"] == "NY0015300" and row["muni_name"] == "Colonie town"
    assert row["muni_link_method"] == "agency" and row["muni_population"] == 85553
    change = out.attrs["quality"]["links"]["agency_rules"]["same-name municipality"]
    assert change == [{"partner_id": "T0", "ori": "NY0015300", "before": "3617332",
                       "after": "3600117343"}]
    # where the FBI lists both departments, the bare name is the city's
    out = link(("Tonawanda Police Department", "municipal", "Tonawanda", "NY", ["Erie County"]))
    assert out["ori"].iat[0] == "NY0140300" and out["muni_name"].iat[0] == "Tonawanda city"


def test_rule_counties_from_the_municipality():
    out = link(("Lemont Police Department", "municipal", "Lemont", "IL", ["Will County"]))
    row = out.iloc[0]
    assert row["county_fips"] == ("17031", "17043", "17197") and row["primary_county_fips"] == (
        "17031")
    assert row["county_names"] == ["Will County"]  # the record stays as it was
    problems = [r["problem"] for r in out.attrs["quality"]["links"]["review"]]
    assert any("disagrees with where Lemont village lies" in p for p in problems)


def test_rule_type_against_jurisdiction_and_regional_departments():
    out = link(("Prince George County Police Department", "municipal", "Prince George", "VA",
                ["Prince George County"]),
               ("Northern York County Regional Police Department", "county", "Dover", "PA",
                ["York County"]),
               ("Northern Regional Police Department", "regional", "Wexford", "PA",
                ["Allegheny County"]))
    assert out["jurisdiction_type"].tolist() == ["county", "regional", "regional"]
    assert out["jurisdiction_type_raw"].tolist()[:2] == ["municipal", "county"]
    assert out["muni_geoid"].isna().all()
    rules = out.attrs["quality"]["links"]["agency_rules"]["type against jurisdiction"]
    assert [c["partner_id"] for c in rules] == ["T0", "T1"]
    # the regional departments no longer cover all of their county: they cover their member
    # municipalities (ringgeo/regional_police.csv), in both bounds, and nobody else
    assert out["ori"].tolist()[1:] == ["PA0671500", "PA0021B00"]
    table = coverage.by_county(out)
    pieces = coverage.jurisdictions(out)
    for county, ori in (("42133", "PA0671500"), ("42003", "PA0021B00")):
        members = pieces.loc[(pieces["county"] == county) & (pieces["primary_ori"] == ori)]
        assert set(members["basis"]) == {"regional or shared department"}
        assert 0 < members["population"].sum() < table.at[county, "population"] / 4
        # the pieces are rounded one by one, the county's sum once
        for bound in ("pop_covered_min", "pop_covered_max"):
            assert abs(table.at[county, bound] - members["population"].sum()) <= len(members)
    assert table.at["51149", "pop_covered_max"] == table.at["51149", "population"]
    assert "agency without a linked municipality" not in table.attrs["no_covered_population"]


# ------------------------------------------------------------------ the real partners
def test_real_partners_carry_an_ori(real):
    links = real.attrs["quality"]["links"]
    assert links["with_ori"] == real["ori"].notna().sum()
    assert real["ori"].notna().mean() >= 0.97
    assert set(real["agency_match_method"]) <= set(linking.AGENCY_MATCH_METHODS)
    unmatched = real.loc[real["agency_match_method"] == "unmatched", "partner_id"]
    reasons = {r["partner_id"]: r["problem"] for r in links["review"]
               if r["problem"].startswith("no FBI agency")}
    assert set(unmatched) == set(reasons)
    fuzzy = real["agency_match_method"] == "fuzzy"
    assert real.loc[fuzzy, "agency_match_score"].ge(88).all()
    assert real.loc[~fuzzy, "agency_match_score"].isna().all()


#: Hand-checked partner -> FBI agency pairs (name, county and type read in both files).
SPOT = {
    "AOS4331": "NY0015300",  # Colonie PD -> Colonie Town PD
    "AOS4480": "NY0332900",  # Manlius PD -> Manlius Town PD
    "AOS4172": "FL0060400",  # Hallandale Beach PD -> Hallandale PD (renamed city)
    "AOS3780": "PA0671500",  # Northern York County Regional PD
    "AOS4792": "GA1210000",  # Richmond County Sheriff -> Augusta-Richmond County Sheriff
    "AOS3716": "FL0130000",  # Miami-Dade PD -> Miami-Dade County PD
    "AOS5839": "VA0740100",  # Prince George County PD
    "AOS4598": "NY0335000",  # Camillus PD -> Camillus Town and Village PD (correction)
    "AOS4868": "PA0362600",  # Northwest Regional PD (correction)
    "AOS3974": "LA0100000",  # Calcasieu Parish Sheriff -> "Calcasieu County Sheriff"
}


@pytest.mark.parametrize("pid, ori", sorted(SPOT.items()))
def test_real_spot_checks(real, universe, pid, ori):
    row = by_id(real, pid)
    assert row["ori"] == ori
    agency = by_ori(universe, ori)
    assert agency["state"] == row["state"]
    assert set(agency["county_fips"]) & set(row["county_fips"])


def test_real_rules_and_their_effect_on_the_bounds(real):
    rules = real.attrs["quality"]["links"]["agency_rules"]
    assert {c["partner_id"] for c in rules["same-name municipality"]} >= {"AOS4331", "AOS4480"}
    assert "AOS3780" in {c["partner_id"] for c in rules["type against jurisdiction"]}
    effects = coverage.agency_rule_effects(real)
    assert effects.index.tolist() == ["none", *linking.AGENCY_RULES]
    assert effects.loc["county from municipality", ["change_min", "change_max"]].eq(0).all()
    final = coverage.national(real)
    assert effects["pop_covered_min"].iat[-1] == final.at["US", "pop_covered_min"]
    assert effects["pop_covered_max"].iat[-1] == final.at["US", "pop_covered_max"]
    # Colonie, Manlius, Lancaster: the towns hold more people than the villages
    assert effects.at["same-name municipality", "change_max"] > 0


def test_with_partners_marks_partners_on_the_date(real, universe):
    with pytest.warns(UserWarning, match="170 partnership.*without an activation date"):
        august = ringgeo.load_partners(as_of="2019-08-28")
    marked = agencies.with_partners(august, universe)
    assert len(marked) == len(universe)
    assert marked["partner"].sum() == august["ori"].dropna().nunique()
    colonie = by_ori(marked, "NY0015300")
    assert bool(colonie["partner"]) == ("AOS4331" in set(august["partner_id"]))
    assert marked.loc[~marked["partner"], "partner_id"].isna().all()
    with pytest.raises(InputError, match="'ori' column"):
        agencies.with_partners(august.drop(columns="ori"), universe)


# ------------------------------------------------------------------ shares
def test_share_columns_on_crafted_universe(real):
    crafted = pd.DataFrame({
        "ori": ["A1", "A2", "A3", "A4"],
        "agency_type": ["police", "police", "sheriff", "state"],
        "state": ["PA", "PA", "PA", "PA"],
        "county_fips": [("42045",), ("42045",), ("42101",), ("42045",)]})
    partners = real.loc[real["state"] == "PA"].head(1).copy()
    partners["ori"] = "A1"
    table = coverage.by_state(partners, agencies=crafted)
    pa = table.loc["PA"]
    assert (pa["agencies"], pa["agencies_partnered"]) == (3, 1)  # a state agency is out
    assert pa["share_agencies_partnered"] == pytest.approx(1 / 3)
    assert (pa["police_agencies"], pa["share_police_partnered"]) == (2, 0.5)
    assert (pa["sheriff_agencies"], pa["share_sheriffs_partnered"]) == (1, 0.0)
    assert np.isnan(table.at["TX", "share_agencies_partnered"])
    counties = coverage.by_county(partners, agencies=crafted)
    assert counties.at["42045", "agencies"] == 2 and counties.at["42101", "agencies"] == 1


def test_share_columns_on_the_real_data(real, universe):
    row = coverage.national(real)
    assert row.at["US", "agencies"] == universe.attrs["quality"]["universe"]
    partnered = universe.loc[universe["agency_type"].isin(agencies.UNIVERSE_TYPES)
                             & universe["ori"].isin(set(real["ori"].dropna())), "ori"]
    assert row.at["US", "agencies_partnered"] == len(partnered)
    states = coverage.by_state(real)
    assert states["agencies"].sum() == row.at["US", "agencies"]
    assert states["agencies_partnered"].sum() == row.at["US", "agencies_partnered"]
    assert list(states.columns) == coverage.COLUMNS + ["name"]


# ------------------------------------------------------------------ primary police (real data)
def test_real_no_resident_of_a_policed_non_partner_municipality_in_the_lower_bound(real):
    pieces = coverage.primary_police(real)
    counties = coverage.by_county(real)
    county_level = real.loc[real["jurisdiction_type"] == "county"]
    partnered_counties = {c for cs in county_level["county_fips"] for c in cs}
    mine = pieces.loc[pieces["county"].isin(partnered_counties)]
    # a municipality with its own department that did not partner is never covered ...
    own = mine.loc[(mine["primary"] == "municipal") & ~mine["partner"]]
    assert len(own) > 1000
    # ... so each county's lower bound is exactly its partnered pieces (rounded per piece)
    covered = mine.loc[mine["partner"]].groupby("county")["population"].sum()
    pieces_per_county = mine.groupby("county").size()
    lower = counties.loc[sorted(partnered_counties), "pop_covered_min"].dropna()
    diff = (lower - covered.reindex(lower.index).fillna(0)).abs()
    assert (diff <= pieces_per_county.reindex(diff.index)).all()
    # Mercer County, NJ: every municipality has its own department; Trenton and
    # Hamilton (non-partners) are out of the lower bound
    mercer = pieces.loc[pieces["county"] == "34021"].set_index("municipality")
    assert set(mercer["primary"]) == {"municipal"}
    assert not mercer.loc["Trenton city", "partner"]
    assert not mercer.loc["Hamilton township", "partner"]
    assert counties.at["34021", "pop_covered_min"] < counties.at["34021", "pop_covered_max"]


def test_real_state_police_states_and_the_change_table(real):
    pieces = coverage.primary_police(real)
    pa = pieces.loc[pieces["state"] == "PA"]
    assert "sheriff" not in set(pa["primary"]) and "state police" in set(pa["primary"])
    change = coverage.lower_bound_change(real)
    assert (change.drop(index="US")["pop_covered_max"].sum()
            == change.at["US", "pop_covered_max"] == coverage.national(real).at[
                "US", "pop_covered_max"])
    assert change.at["US", "pop_covered_min"] == coverage.national(real).at[
        "US", "pop_covered_min"]
    # townships with their own departments (Michigan's contract townships outweigh them
    # since the jurisdiction table: docs/methodology.md#who-polices-a-place)
    for state in ("PA", "NY", "NJ", "OH"):
        assert change.at[state, "change_min"] < 0
