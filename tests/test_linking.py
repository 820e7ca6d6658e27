"""Tests of ringgeo.linking: crafted partner rows against the real Census geography,
and the real Atlas file."""

import copy

import numpy as np
import pandas as pd
import pytest

import ringgeo
from ringgeo import geography, linking
from ringgeo._linkgeo import COUNTY_SUCCESSORS, GeoIndex
from ringgeo._names import clean, fold, parse_agency, split_county
from ringgeo.exceptions import InputError, ParameterError

CORRECTION_HEADER = "partner_id,field,old_value,new_value,reason,evidence\n"


def rows(*records):
    """A partner table in the contract's shape from (agency, juris, city, state, counties)."""
    out = []
    for i, (agency, juris, city, state, counties) in enumerate(records, start=1):
        out.append({"partner_id": f"T{i}", "row": i + 1, "agency": agency,
                    "agency_type": "sheriff" if "Sheriff" in agency else "police",
                    "jurisdiction_type": juris, "city": city, "state": state,
                    "county_names": list(counties), "activated": pd.NaT, "source": "test"})
    frame = pd.DataFrame(out)
    frame.attrs["quality"] = {"rows_read": len(out)}
    return frame


def link(*records, **kwargs):
    kwargs.setdefault("corrections", False)
    return linking.link_partners(rows(*records), **kwargs)


def one(*record, **kwargs):
    return link(record, **kwargs).iloc[0]


@pytest.fixture(scope="module")
def munis():
    return geography.load_municipalities().set_index("GEOID")


@pytest.fixture(scope="module")
def real():
    return linking.link_partners(ringgeo.load_partners(link=False))


def by_id(frame, partner_id):
    return frame.loc[frame["partner_id"] == partner_id].iloc[0]


# ----------------------------------------------------------------- names
def test_names_fold_and_split():
    assert clean("\u200eFort Bend County\u200e") == "Fort Bend County"
    assert fold("Doña Ana") == fold("Dona Ana") == "dona ana"
    assert fold("St. Louis") == fold("Saint Louis") == "saint louis"
    assert split_county("Norfolk (city) County")[0] == ("norfolk", "city")
    assert split_county("Kenai Peninsula Borough")[0] == ("kenai peninsula", "borough")
    assert parse_agency("Town of Kent Police")[0] == ("kent", "town")
    assert parse_agency("Police Department") == []


# ----------------------------------------------------------------- counties, crafted
@pytest.mark.parametrize("text, geoid, method", [
    ("Norfolk (city) County", "51710", "normalized"),
    ("Norfolk city", "51710", "exact"),
    ("Fairfax County", "51059", "exact"),
    ("Fairfax (city) County", "51600", "normalized"),
    ("Richmond (city) County", "51760", "normalized"),
    ("Richmond County", "51159", "exact"),
])
def test_virginia_independent_cities(text, geoid, method):
    res = one("Some Sheriff's Office", "county", "", "VA", [text])
    assert res["county_fips"] == (geoid,)
    assert res["link_method"] == method


def test_ambiguous_bare_virginia_name_takes_the_county_and_says_so():
    out = link(("Some Police", "regional", "", "VA", ["Fairfax"]))
    res = out.iloc[0]
    assert res["county_fips"] == ("51059",)
    assert "ambiguous" in res["link_note"] and "51600" in res["link_note"]
    assert any("ambiguous" in r["problem"] for r in out.attrs["quality"]["links"]["review"])


@pytest.mark.parametrize("state, text, geoid, method", [
    ("LA", "East Baton Rouge Parish", "22033", "exact"),
    ("LA", "Orleans", "22071", "normalized"),
    ("LA", "Saint Tammany Parish", "22103", "normalized"),
    ("AK", "Kenai Peninsula Borough", "02122", "exact"),
    ("AK", "Valdez-Cordova Borough", "02261", "normalized"),
    ("AK", "Anchorage Municipality", "02020", "exact"),
    ("AK", "Juneau City and Borough", "02110", "exact"),
    ("AK", "Bethel Census Area", "02050", "exact"),
    ("MO", "Saint Louis County", "29189", "normalized"),
    ("MO", "St. Louis (city) County", "29510", "normalized"),
    ("MO", "Ste. Genevieve County", "29186", "exact"),
    ("MO", "Sainte Genevieve County", "29186", "normalized"),
    ("NM", "Doña Ana County", "35013", "exact"),
    ("NM", "Dona Ana County", "35013", "normalized"),
    ("IL", "La Salle County", "17099", "normalized"),
    ("IL", "\u200eDuPage County\u200e", "17043", "exact"),
])
def test_parishes_boroughs_saints_diacritics(state, text, geoid, method):
    res = one("Some Sheriff's Office", "county", "", state, [text])
    assert res["county_fips"] == (geoid,)
    assert res["link_method"] == method


def test_multi_county_keeps_every_county_and_primary_is_the_largest_part(munis):
    res = one("Carrollton Police Department", "municipal", "Carrollton", "TX",
              ["Collin County", "Dallas County", "Denton County"])
    # the municipality's counties, the one with most residents first (Denton holds
    # most of Carrollton's residents; load_municipalities orders them)
    assert res["county_fips"] == munis.loc[res["muni_geoid"], "county_fips"]
    assert res["county_fips"] == ("48121", "48113", "48085")
    assert res["primary_county_fips"] == "48121"
    assert res["muni_name"] == "Carrollton city"


def test_misspelled_county_is_fuzzy_with_a_score_and_listed():
    out = link(("Chino Police Department", "municipal", "Chino", "CA", ["San Bernadino County"]))
    res = out.iloc[0]
    assert res["county_fips"] == ("06071",) and res["link_method"] == "fuzzy"
    assert 85 <= res["link_score"] < 100
    review = out.attrs["quality"]["links"]["review"]
    assert any("San Bernadino" in r["problem"] and r["partner_id"] == "T1" for r in review)


def test_one_bad_county_of_several_is_noted_and_listed():
    out = link(("Some Sheriff's Office", "county", "", "TX", ["Harris County", "Zzyzx County"]))
    res = out.iloc[0]
    assert res["county_fips"] == ("48201",) and res["link_method"] == "exact"
    assert "'Zzyzx County' not matched" in res["link_note"]
    assert any("Zzyzx" in r["problem"] for r in out.attrs["quality"]["links"]["review"])


def test_unrecognizable_county_is_unmatched_and_listed():
    out = link(("Nowhere Sheriff's Office", "county", "", "OH", ["Zzyzx County"]))
    res = out.iloc[0]
    assert res["county_fips"] == () and res["link_method"] == "unmatched"
    assert pd.isna(res["primary_county_fips"])
    problems = [r["problem"] for r in out.attrs["quality"]["links"]["review"]]
    assert any("not found in OH" in p for p in problems)
    assert "no county found" in problems


@pytest.mark.parametrize("blank", [[], ["#N/A"], [""]])
def test_blank_county_from_the_municipality(blank):
    res = one("Morgans Point Resort Police Department", "municipal", "Morgans Point Resort",
              "TX", blank)
    assert res["county_fips"] == ("48027",)  # Bell County, TX
    assert res["link_method"] == "municipality"
    assert res["muni_name"] == "Morgan's Point Resort city"


def test_county_names_as_text_or_array():
    frame = rows(NORFOLK, NORFOLK)
    frame["county_names"] = pd.Series(["Collin County, Dallas County",
                                       np.array(["Harris County"])],
                                      dtype=object)
    frame["state"] = "TX"
    out = linking.link_partners(frame, corrections=False)
    assert out["county_fips"].tolist() == [("48085", "48113"), ("48201",)]


def test_blank_county_of_a_county_agency_from_its_name():
    res = one("James City County Police Department", "county", "Williamsburg", "VA", [])
    assert res["county_fips"] == ("51095",) and res["link_method"] == "agency-name"
    assert pd.isna(res["muni_geoid"]) and pd.isna(res["muni_link_method"])


def test_county_not_in_the_state_is_detected_with_a_proposed_state():
    out = link(("Wall Township Police Department", "municipal", "Wall", "NH",
                ["Monmouth County"]))
    assert out.iloc[0]["link_method"] == "unmatched"
    problems = " ".join(r["problem"] for r in out.attrs["quality"]["links"]["review"])
    assert "not found in NH" in problems and "proposed state NJ" in problems


def test_blank_state_is_reported_as_blank():
    frame = rows(NORFOLK)
    frame["state"] = pd.Series([None], dtype="str")
    frame["jurisdiction_type"] = pd.Series([None], dtype="str")
    out = linking.link_partners(frame, corrections=False)
    problems = [r["problem"] for r in out.attrs["quality"]["links"]["review"]]
    assert any("not found in the blank state; a county of that name exists in MA, VA" in p
               for p in problems)
    assert pd.isna(out["muni_link_method"].iat[0])  # no jurisdiction: not municipal


def test_county_not_in_the_state_fixed_by_a_correction(tmp_path):
    path = tmp_path / "fix.csv"
    path.write_text(CORRECTION_HEADER + "T1,state,NH,NJ,wrong state,Census: Wall township "
                    "lies in Monmouth County NJ\n", encoding="utf-8")
    frame = rows(("Wall Township Police Department", "municipal", "Wall", "NH",
                  ["Monmouth County"]))
    out = linking.link_partners(frame, corrections=path)
    res = out.iloc[0]
    assert res["state"] == "NJ" and res["state_raw"] == "NH"
    assert res["county_fips"] == ("34025",) and res["link_method"] == "correction"
    assert res["muni_name"] == "Wall township" and res["muni_kind"] == "mcd"
    assert "corrected" in res["link_note"]
    applied = out.attrs["quality"]["links"]["corrections_applied"]
    assert applied == [{"partner_id": "T1", "field": "state", "old_value": "NH",
                        "new_value": "NJ", "line": 2}]
    assert frame.loc[0, "state"] == "NH"  # the input is untouched


def test_county_correction_keeps_the_raw_text():
    table = pd.DataFrame([{"partner_id": "T1", "field": "county_names",
                           "old_value": "St. Louis (city) County", "new_value": "St. Louis County",
                           "reason": "wrong county", "evidence": "Census place 2910612"}])
    res = one("Calverton Park Police Department", "municipal", "Saint Louis", "MO",
              ["St. Louis (city) County"], corrections=table)
    assert res["county_fips"] == ("29189",) and res["link_method"] == "correction"
    assert res["county_raw"] == "St. Louis (city) County"
    assert res["county_names"] == ["St. Louis County"]
    assert res["muni_name"] == "Calverton Park city"


def test_agency_name_beats_the_post_office_city():
    res = one("West University Place Police Department", "municipal", "Houston", "TX",
              ["Harris County"])
    assert res["muni_name"] == "West University Place city"
    assert res["muni_link_method"] == "agency-name"
    berkeley = one("Berkeley Township Police Department", "municipal", "Bayville", "NJ",
                   ["Ocean County"])
    assert berkeley["muni_name"] == "Berkeley township" and berkeley["muni_kind"] == "mcd"


def test_agency_outside_the_record_county_is_reported():
    out = link(("Calverton Park Police Department", "municipal", "Saint Louis", "MO",
                ["St. Louis (city) County"]))
    problems = [r["problem"] for r in out.attrs["quality"]["links"]["review"]]
    assert "agency name names a municipality outside the record's counties" in problems


@pytest.mark.parametrize("agency, city, state, counties, name, kind", [
    ("Upper Darby Township Police Department", "Upper Darby", "PA", ["Delaware County"],
     "Upper Darby township", "mcd"),
    ("Rye Brook Village Police Department", "Rye Brook", "NY", ["Westchester County"],
     "Rye Brook village", "place"),
    ("Kent Town Police Department", "Kent Lakes", "NY", [], "Kent town", "mcd"),
    ("Westport Police Department", "Westport", "CT", ["Fairfield County"], "Westport town",
     "mcd"),
    ("Toms River Police Department", "Toms River", "NJ", ["Ocean County"],
     "Toms River township", "mcd"),
    ("Plymouth Township Police Department", "Plymouth", "MI", ["Wayne County"],
     "Plymouth charter township", "mcd"),
    ("Plymouth Police Department", "Plymouth", "MI", ["Wayne County"], "Plymouth city",
     "place"),
    ("Union City Police Department", "Union City", "NJ", ["Hudson County"], "Union City city",
     "place"),
    ("Ventura Police Department", "Ventura", "CA", ["Ventura County"],
     "San Buenaventura (Ventura) city", "place"),
    ("Orange Township Police Department", "Orange", "NJ", ["Essex County"],
     "City of Orange township", "mcd"),
    ("Louisville Metro Police Department", "Louisville", "KY", ["Jefferson County"],
     "Louisville/Jefferson County metro government (balance)", "place"),
])
def test_municipality_kinds(agency, city, state, counties, name, kind, munis):
    res = one(agency, "municipal", city, state, counties)
    assert res["muni_name"] == name and res["muni_kind"] == kind
    assert res["muni_population"] == munis.loc[res["muni_geoid"], "population"]
    assert len(res["muni_geoid"]) == (7 if kind == "place" else 10)


def test_same_name_town_and_village_is_listed_as_ambiguous():
    out = link(("Camillus Police Department", "municipal", "Syracuse", "NY",
                ["Onondaga County"]))
    assert out.iloc[0]["muni_name"] == "Camillus village"
    review = out.attrs["quality"]["links"]["review"]
    assert any(r["problem"].startswith("ambiguous municipality") and
               any("Camillus town" in c for c in r["candidates"]) for r in review)


def test_county_and_regional_agencies_get_no_municipality():
    out = link(("Polk County Sheriff's Office", "county", "Des Moines", "IA",
                ["Warren County", "Polk County"]),
               ("West Shore Regional Police Department", "regional", "Lemoyne", "PA",
                ["Cumberland County"]),
               ("Northwest Regional Police Department", "municipal", "Elizabethtown", "PA",
                ["Lancaster County"]))
    assert out["muni_geoid"].isna().all()
    assert out["county_fips"].tolist() == [("19181", "19153"), ("42041",), ("42071",)]
    assert out.loc[0, "primary_county_fips"] == "19153"  # the county the agency names
    assert out["muni_link_method"].isna().tolist() == [True, True, False]
    assert out.loc[2, "muni_link_method"] == "unmatched"


def test_county_agency_naming_another_county_is_reported():
    out = link(("Henry County Sheriff's Office", "county", "Martinsville", "VA",
                ["Martinsville (city) County"]))
    problems = [r["problem"] for r in out.attrs["quality"]["links"]["review"]]
    assert any("Henry County 51089" in p for p in problems)


def test_input_is_not_mutated_and_quality_is_created():
    frame = rows(("Norfolk Police Department", "municipal", "Norfolk", "VA",
                  ["Norfolk (city) County"]))
    before, attrs = frame.copy(deep=True), copy.deepcopy(frame.attrs)
    out = linking.link_partners(frame, corrections=False)
    pd.testing.assert_frame_equal(frame, before)
    assert frame.attrs == attrs and "links" not in frame.attrs["quality"]
    assert out.attrs["quality"]["rows_read"] == 1
    bare = frame.drop(columns=["row"])
    bare.attrs = {}
    links = linking.link_partners(bare, corrections=False).attrs["quality"]["links"]
    assert links["methods"] == {"normalized": 1} and links["municipal_with_muni"] == 1
    assert set(linking.LINK_COLUMNS) <= set(out.columns)
    assert out["muni_population"].dtype == "Int64"


# ----------------------------------------------------------------- corrections and errors
def _correct(tmp_path, text, *records):
    path = tmp_path / "corrections.csv"
    path.write_text(text, encoding="utf-8")
    return linking.link_partners(rows(*records), corrections=path)


NORFOLK = ("Norfolk Police Department", "municipal", "Norfolk", "VA", ["Norfolk (city) County"])


def test_stale_correction_names_the_file_line(tmp_path):
    text = CORRECTION_HEADER + "T1,county_names,Norfolk County,Norfolk city,x,y\n"
    with pytest.raises(InputError, match=r"line 2: stale correction of T1 county_names"):
        _correct(tmp_path, text, NORFOLK)


def test_city_correction_links_the_municipality(tmp_path):
    text = CORRECTION_HEADER + "T1,city,Norfok,Norfolk,typo,Census place 5157000\n"
    out = _correct(tmp_path, text, ("Police Department", "municipal", "Norfok", "VA",
                                    ["Norfolk (city) County"]))
    res = out.iloc[0]
    assert res["city"] == "Norfolk" and res["city_raw"] == "Norfok"
    assert res["muni_name"] == "Norfolk city" and res["muni_link_method"] == "correction"
    assert res["link_method"] == "normalized"  # the county was not corrected


def test_corrections_of_absent_partners_are_ignored(tmp_path):
    text = CORRECTION_HEADER + "AOS0,state,NH,NJ,x,y\n"
    out = _correct(tmp_path, text, NORFOLK)
    assert out.attrs["quality"]["links"]["corrections_applied"] == []


def test_muni_geoid_override_and_its_stale_check(tmp_path):
    text = CORRECTION_HEADER + "T1,muni_geoid,3611902,3606711913,town police,evidence\n"
    res = _correct(tmp_path, text, ("Camillus Police Department", "municipal", "Syracuse",
                                    "NY", ["Onondaga County"])).iloc[0]
    assert res["muni_name"] == "Camillus town" and res["muni_link_method"] == "correction"
    stale = CORRECTION_HEADER + "T1,muni_geoid,9999999,3606711913,town police,evidence\n"
    with pytest.raises(InputError, match="stale correction of T1 muni_geoid"):
        _correct(tmp_path, stale, ("Camillus Police Department", "municipal", "Syracuse",
                                   "NY", ["Onondaga County"]))
    unknown = CORRECTION_HEADER + "T1,muni_geoid,3611902,12345,x,y\n"
    with pytest.raises(InputError, match="'12345' is not a municipality GEOID"):
        _correct(tmp_path, unknown, ("Camillus Police Department", "municipal", "Syracuse",
                                     "NY", ["Onondaga County"]))


def test_muni_geoid_override_clears_only_the_municipality_review(tmp_path):
    text = CORRECTION_HEADER + "T1,muni_geoid,3611902,3606711913,town police,evidence\n"
    out = _correct(tmp_path, text, ("Camillus Police Department", "municipal", "Syracuse",
                                    "NY", ["Onondga County"]))
    problems = [r["problem"] for r in out.attrs["quality"]["links"]["review"]
                if not r["problem"].startswith("no FBI agency")]
    assert problems == ["county 'Onondga County' matched by fuzzy score 93.3"]
    assert out["muni_name"].iat[0] == "Camillus town"


@pytest.mark.parametrize("text, message", [
    ("partner_id,field,old_value,new_value\n", r"missing column\(s\) reason, evidence"),
    (CORRECTION_HEADER + "T1,agency,a,b,x,y\n", "field 'agency' cannot be corrected"),
    (CORRECTION_HEADER + "T1,state,VA,NC,x,\n", "line 2 .*evidence is blank"),
    (CORRECTION_HEADER + "T1,state,VA,NC,x,y\nT1,state,VA,SC,x,y\n", r"lines \[2, 3\]"),
])
def test_bad_corrections_file(tmp_path, text, message):
    path = tmp_path / "c.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        linking.read_corrections(path)


def test_corrections_as_a_table_are_checked_like_the_file():
    good = {"partner_id": "T1", "field": "state", "old_value": "VA", "new_value": "NC",
            "reason": "x", "evidence": "y"}
    with pytest.raises(InputError, match="<DataFrame>, line 2 .*field 'agency' cannot be"):
        linking.link_partners(rows(NORFOLK), corrections=pd.DataFrame([{**good,
                                                                          "field": "agency"}]))
    with pytest.raises(InputError, match="line 2 .*evidence is blank"):
        linking.link_partners(rows(NORFOLK), corrections=pd.DataFrame([{**good,
                                                                          "evidence": None}]))
    with pytest.raises(InputError, match=r"lines \[2, 3\]"):
        linking.link_partners(rows(NORFOLK), corrections=pd.DataFrame([good, good]))


def test_undecodable_corrections_file(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(CORRECTION_HEADER.encode() + b"T1,city,Espa\xf1ola,x,y,z\n")
    with pytest.raises(InputError, match="cannot be read"):
        linking.read_corrections(path)


def test_missing_corrections_file(tmp_path):
    with pytest.raises(InputError, match="cannot be read"):
        linking.read_corrections(tmp_path / "absent.csv")


def test_bad_arguments():
    with pytest.raises(InputError, match=r"lacks column\(s\) county_names"):
        linking.link_partners(rows(NORFOLK).drop(columns=["county_names"]))
    with pytest.raises(ParameterError, match="partners must be a pandas DataFrame"):
        linking.link_partners([NORFOLK])
    with pytest.raises(ParameterError, match="corrections must be a path"):
        linking.link_partners(rows(NORFOLK), corrections=3)
    with pytest.raises(InputError, match=r"corrections table lacks column\(s\) evidence"):
        linking.link_partners(rows(NORFOLK), corrections=pd.DataFrame(
            columns=["partner_id", "field", "old_value", "new_value", "reason"]))


# ----------------------------------------------------------------- the real file
def test_real_every_partner_has_a_valid_county(real):
    counties = set(geography.load_counties()["GEOID"])
    assert len(real) == 1501
    assert real["county_fips"].map(len).min() >= 1
    assert all(set(f) <= counties for f in real["county_fips"])
    assert real["primary_county_fips"].isin(counties).all()
    assert all(p in f for p, f in zip(real["primary_county_fips"], real["county_fips"]))
    assert set(real["link_method"]) <= set(linking.LINK_METHODS) - {"unmatched"}
    links = real.attrs["quality"]["links"]
    assert links["with_county"] == 1501 and sum(links["methods"].values()) == 1501


def test_real_municipal_agencies_carry_their_municipality(real, munis):
    municipal = real["jurisdiction_type"] == "municipal"
    share = real.loc[municipal, "muni_geoid"].notna().mean()
    assert share >= 0.98
    linked = real.loc[real["muni_geoid"].notna()]
    assert linked["muni_geoid"].isin(munis.index).all()
    # every municipality lies in one of the partner's counties
    # (Valdez lies in Chugach, 02063, a 2019 successor of Valdez-Cordova, 02261)
    inside = [bool({COUNTY_SUCCESSORS.get(c, c) for c in munis.loc[g, "county_fips"]} & set(f))
              for g, f in zip(linked["muni_geoid"], linked["county_fips"])]
    assert all(inside)
    assert real.loc[~municipal, "muni_geoid"].isna().all()
    # every municipal agency without a municipality is listed with its reason
    missing = set(real.loc[municipal & real["muni_geoid"].isna(), "partner_id"])
    listed = {r["partner_id"] for r in real.attrs["quality"]["links"]["review"]}
    assert missing <= listed


def test_relinking_a_linked_table_gives_the_same_links(real):
    again = linking.link_partners(real)
    columns = list(linking.LINK_COLUMNS) + ["state", "county_names", "state_raw"]
    pd.testing.assert_frame_equal(again[columns], real[columns])
    assert len(again.attrs["quality"]["links"]["corrections_applied"]) == len(
        linking.read_corrections())


def test_real_corrections_all_apply_with_evidence(real):
    table = linking.read_corrections()
    applied = real.attrs["quality"]["links"]["corrections_applied"]
    assert len(applied) == len(table) > 0
    assert (table["evidence"].str.len() > 20).all()
    column = {"state": "link_method", "county_names": "link_method", "city": "link_method",
              "muni_geoid": "muni_link_method", "ori": "agency_match_method"}
    for pid, field in zip(table["partner_id"], table["field"]):
        assert by_id(real, pid)[column[field]] == "correction", (pid, field)


@pytest.mark.parametrize("partner_id, fips, method", [
    ("AOS3803", ("51710",), "normalized"),  # Norfolk (city) County
    ("AOS3805", ("51760",), "municipality"),  # Richmond, blank county
    ("AOS4640", ("29510",), "municipality"),  # St. Louis Metropolitan PD, blank county
    ("AOS4371", ("02261",), "normalized"),  # Valdez-Cordova "Borough"
    ("AOS4245", ("02122",), "exact"),  # Kenai Peninsula Borough
    ("AOS3974", ("22019",), "exact"),  # Calcasieu Parish
    ("AOS5014", ("35013",), "normalized"),  # "Dona Ana County"
    ("AOS5832", ("18141",), "normalized"),  # "Saint Joseph County", IN
    ("AOS4406", ("06071",), "fuzzy"),  # San Bernadino
    ("AOS4405", ("36067",), "fuzzy"),  # Onandaga
    ("AOS4399", ("48027",), "municipality"),  # #N/A county
    ("AOS4864", ("36079",), "municipality"),  # Kent Town PD, #N/A
    ("AOS4417", ("51095",), "agency-name"),  # James City County PD, blank county
    # U+200E marks, three counties named; Houston's four counties, most residents first
    ("AOS3776", ("48201", "48157", "48339", "48473"), "exact"),
    ("AOS4407", ("34025",), "correction"),  # Wall Township, state NH -> NJ
    ("AOS3882", ("34029",), "correction"),  # Nassau County NJ -> Ocean
])
def test_real_hard_cases(real, partner_id, fips, method):
    res = by_id(real, partner_id)
    assert res["county_fips"] == fips and res["link_method"] == method


def test_real_hard_municipalities(real):
    assert by_id(real, "AOS3888")["muni_name"] == "West University Place city"
    assert by_id(real, "AOS4013")["muni_geoid"] == "4204579000"
    assert by_id(real, "AOS3893")["muni_name"] == "Rye Brook village"
    assert by_id(real, "AOS4864")["muni_name"] == "Kent town"
    assert by_id(real, "AOS5824")["muni_name"] == "Calverton Park city"
    assert by_id(real, "AOS3776")["primary_county_fips"] == "48201"  # Houston: Harris
    assert by_id(real, "AOS4407")["state_raw"] == "NH"
    assert pd.isna(by_id(real, "AOS3752")["muni_geoid"])  # Memorial Villages: 3 villages


# County GEOIDs checked by hand against the Census county of each agency's
# city (FIPS county codes), not taken from the linker's output.
SPOT_CHECK = {
    "AOS4260": "06085",  # Milpitas PD -> Santa Clara County, CA
    "AOS4698": "36021",  # Chatham PD, NY -> Columbia County
    "AOS4426": "18097",  # Beech Grove PD -> Marion County, IN
    "AOS4352": "17043",  # DuPage County Sheriff -> DuPage County, IL
    "AOS4184": "18057",  # Carmel PD, IN -> Hamilton County
    "AOS4863": "09001",  # Westport PD, CT -> Fairfield County
    "AOS4105": "37067",  # Winston-Salem PD -> Forsyth County, NC
    "AOS4735": "36103",  # Quogue PD -> Suffolk County, NY
    "AOS4139": "55025",  # Oregon PD, WI -> Dane County
    "AOS4846": "32003",  # North Las Vegas PD -> Clark County, NV
    "AOS4129": "26077",  # Portage DPS, MI -> Kalamazoo County
    "AOS4431": "17031",  # Westchester PD, IL -> Cook County
    "AOS4692": "24013",  # Manchester PD, MD -> Carroll County
    "AOS4549": "21093",  # Elizabethtown PD, KY -> Hardin County
    "AOS4542": "45035",  # Summerville PD, SC -> Dorchester County
    "AOS4461": "18089",  # Merrillville PD -> Lake County, IN
    "AOS3783": "20091",  # Olathe PD -> Johnson County, KS
    "AOS4412": "36111",  # Kingston PD, NY -> Ulster County
    "AOS3754": "48201",  # Pasadena PD, TX -> Harris County
    "AOS4837": "01121",  # Talladega PD -> Talladega County, AL
    "AOS4785": "06073",  # Escondido PD -> San Diego County, CA
    "AOS5868": "06037",  # Glendale PD, CA -> Los Angeles County
    "AOS4344": "51840",  # Winchester PD -> Winchester city, VA (independent city)
    "AOS4277": "37119",  # Davidson PD, NC -> Mecklenburg County (mostly)
}


def test_real_spot_check_against_known_counties(real):
    found = {pid: by_id(real, pid)["primary_county_fips"] for pid in SPOT_CHECK}
    assert found == SPOT_CHECK


def test_load_partners_links_by_default(real_partners):
    frame = real_partners
    assert set(linking.LINK_COLUMNS) <= set(frame.columns)
    assert "links" in ringgeo.quality_report(frame)


# ---------------------------------------------------------------------- the index
def _crafted_index() -> GeoIndex:
    counties = pd.DataFrame({
        "GEOID": ["34007", "34005", "42045"], "state": ["NJ", "NJ", "PA"],
        "name": ["Camden", "Burlington", "Delaware"],
        "full_name": ["Camden County", "Burlington County", "Delaware County"],
        "lsad": ["06", "06", "06"]})
    municipalities = pd.DataFrame({
        "GEOID": ["3400712280", "3400551210", "4204579000", "3400551210"],
        "kind": ["mcd", "mcd", "mcd", "mcd"],
        "name": ["Cherry Hill township", "Mount Laurel township", "Upper Darby township",
                 "Mount Laurel township"],
        "state": ["NJ", "NJ", "PA", "NJ"],
        "county_fips": [("34007",), ("34005",), ("42045",), ("34005", "34007")],
        "population": pd.array([74524, 41864, None, 44633], dtype="Int64")})
    return GeoIndex(counties, municipalities)


def test_index_finds_each_states_municipalities_and_keys_only_the_states_asked():
    geo = _crafted_index()
    assert [m.geoid for m in geo.muni_candidates("cherry hill", "NJ")] == ["3400712280"]
    assert set(geo._keyed) == {"NJ"}  # a state is keyed when first asked, no other
    assert geo.muni_candidates("cherry hill", "PA") == []
    upper = geo.muni_candidates("upper darby", "PA")[0]
    assert (upper.name, upper.counties, upper.population) == (
        "Upper Darby township", ("42045",), None)
    assert geo.muni_candidates("nowhere", "ZZ") == []


def test_index_municipalities_by_geoid_are_those_of_a_dict_filled_row_by_row():
    geo = _crafted_index()
    assert list(geo.munis) == ["3400712280", "3400551210", "4204579000"]  # first appearance
    assert len(geo.munis) == 3 and "4204579000" in geo.munis and "99" not in geo.munis
    assert geo.munis.get("99") is None
    twice = geo.munis["3400551210"]  # listed twice: the last row, as a dict keeps it
    assert (twice.population, twice.counties) == (44633, ("34005", "34007"))
    assert geo.munis["3400551210"] is twice  # made once
    # both rows are candidates by name, each read as the GEOID's record
    assert geo.muni_candidates("mount laurel", "NJ") == [twice, twice]


def test_index_counties_by_state_and_the_other_states_of_a_name():
    geo = _crafted_index()
    assert list(geo.counties) == ["34007", "34005", "42045"]
    assert geo.counties["34005"].full_name == "Burlington County"
    assert geo.match_county("Camden County", "NJ").geoid == "34007"
    assert geo.match_county("Camden", "PA").geoid is None
    miss = geo.match_county("Delaware County", "NJ")
    assert miss.geoid is None and miss.other_states == ["PA"]
    assert geo.county_by_name("burlington", "county", "NJ") == "34005"
