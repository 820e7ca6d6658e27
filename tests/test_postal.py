import csv
import io
import zipfile
from collections import Counter

import pandas as pd
import pytest

from ringgeo import postal
from ringgeo.exceptions import InputError, ParameterError
from ringgeo.geography import load_municipalities

LINE = "US\t{zip}\t{place}\tPennsylvania\tPA\tDelaware\t{county}\t\t\t{lat}\t-75.2681\t4\n"


def _write(tmp_path, text, name="US.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reader_keeps_leading_zeros_and_builds_county_geoids(tmp_path):
    text = (LINE.format(zip="19082", place="Upper Darby", county="045", lat="39.9579")
            + "US\t08054\tMount Laurel\tNew Jersey\tNJ\tBurlington\t005\t\t\t39.9478\t"
              "-74.9036\t4\n"
            + "US\t09001\tAPO AA\t\t\t\t\t\t\t38.1105\t15.6613\t\n")
    frame = postal.read_postal_codes(_write(tmp_path, text))
    assert frame["zip"].tolist() == ["19082", "08054", "09001"]
    assert frame["county_fips"].tolist()[:2] == ["42045", "34005"]
    assert frame["county_fips"].isna().tolist() == [False, False, True]
    assert frame["state"].isna().tolist() == [False, False, True]
    assert frame["row"].tolist() == [1, 2, 3]


def test_reader_reads_the_zip_in_place(tmp_path):
    path = tmp_path / "US.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "GeoNames")
        archive.writestr("US.txt", LINE.format(zip="19082", place="Upper Darby",
                                               county="045", lat="39.9579"))
    assert postal.read_postal_codes(path)["place"].tolist() == ["Upper Darby"]
    with pytest.raises(InputError, match=r"holds readme\.txt, US\.txt but not 'CA\.txt'"):
        postal.read_postal_codes(path, member="CA.txt")


@pytest.mark.parametrize("line, match", [
    ("US\t19082\tUpper Darby\n", r"line 1: 3 tab-separated fields, expected 12"),
    (LINE.format(zip="1908", place="X", county="045", lat="39.9"), r"line 1, field zip: '1908'"),
    (LINE.format(zip="19082", place="X", county="45A", lat="39.9"),
     r"line 1, field county_code: '45A' is not a 3-digit"),
    (LINE.format(zip="19082", place="X", county="045", lat="99.5"),
     r"line 1, field latitude: '99.5' is not a number between -90 and 90"),
])
def test_reader_names_line_and_field_of_a_bad_row(tmp_path, line, match):
    with pytest.raises(InputError, match=match):
        postal.read_postal_codes(_write(tmp_path, line))


def test_mirror_file_against_an_independent_parse(mirror_dir):
    with zipfile.ZipFile(mirror_dir / postal.POSTAL_FILE) as archive:
        rows = list(csv.reader(io.StringIO(archive.read("US.txt").decode("utf-8")),
                               delimiter="\t", quoting=csv.QUOTE_NONE))
    frame = postal.load_postal_codes()
    quality = frame.attrs["quality"]
    assert len(frame) == len(rows) == quality["rows_read"] == quality["kept"]
    assert frame["zip"].tolist() == [r[1] for r in rows]
    blank_county = sum(1 for r in rows if not r[6])
    assert quality["no_state"] == sum(1 for r in rows if not r[4])
    # blank county codes, plus the Marshall Islands (no state FIPS to make a GEOID)
    assert quality["no_county"] == blank_county + sum(1 for r in rows if r[4] == "MH")
    assert quality["outside_51"] == {"MH": 2}
    twice = {code for code, n in Counter(r[1] for r in rows).items() if n > 1}
    assert set(quality["listed_twice"]) == twice
    indexed = frame.drop_duplicates("zip").set_index("zip")
    # the checks PROVENANCE.md lists
    assert indexed.loc["19082", ["place", "state", "county_fips"]].tolist() == [
        "Upper Darby", "PA", "42045"]
    assert indexed.loc["60601", ["place", "county_fips"]].tolist() == ["Chicago", "17031"]
    assert indexed.loc["08054", ["place", "county_fips"]].tolist() == ["Mount Laurel", "34005"]
    # retired county codes are reported, not dropped
    assert quality["county_not_in_census"]["24523"] == "51515"


def test_credit_is_the_registry_line():
    assert postal.credit() == "GeoNames (geonames.org), postal codes, CC BY 3.0"


# ---------------------------------------------------------------- ZCTA crosswalk

def _crafted():
    """Two ZCTAs: a town with a village inside it, a coextensive town and village, the
    kinds of rows that drop out."""
    zctas = pd.DataFrame({"ZCTA5": ["11111", "22222"], "Land Area": [10.0, 4.0]})
    mcds = pd.DataFrame({
        "ZCTA5": ["11111", "11111", "11111", "11111", "22222", "22222", "22222"],
        "County Subdivision GEOID": [
            "3600100001",  # town, 6 of 10
            "3600100002",  # town coextensive with place 3600020, which has a row here too
            "3600190000",  # census county division: not a municipality
            "0500100003",  # county subdivision code nobody knows
            "3600100002",  # the coextensive town again: its place has no row in 22222
            "3600100001",  # touches only: no land
            "3600100004",  # town, 2 of 4 ...
        ],
        "Land Area": [6.0, 3.0, 1.0, 0.5, 2.0, 0.0, 2.0],
    })
    places = pd.DataFrame({
        "ZCTA5": ["11111", "11111", "11111", "99999"],
        "Place GEOID": ["3600010", "3600020", "3699999", "3600010"],
        # village inside the town: same 3.0 as the coextensive pair; a CDP; unknown ZCTA
        "Land Area": [3.0, 3.0, 0.7, 1.0],
    })
    munis = pd.DataFrame({
        "GEOID": ["3600010", "3600020", "3600100001", "3600100002", "3600100004"],
        "kind": ["place", "place", "mcd", "mcd", "mcd"],
        "name": ["Elm village", "Oak village", "Elm town", "Oak town", "Ash town"],
        "state": ["NY"] * 5,
        "coextensive_geoid": [pd.NA, "3600100002", pd.NA, "3600020", pd.NA],
    })
    known = {"3600190000", "3699999"}
    return zctas, mcds, places, munis, known


def test_shares_ranks_and_dedup_on_crafted_tables():
    out = postal.municipality_shares(*_crafted())
    assert list(out.columns) == list(postal.ZIP_COLUMNS)
    rows = out[["zip", "muni_geoid", "kind", "name", "land_sqmi", "rank"]].values.tolist()
    assert rows == [
        ["11111", "3600100001", "mcd", "Elm town", 6.0, 1],
        # equal land: neither town nor village of Elm, but the coextensive Oak counts once,
        # as its place, and places tie by GEOID
        ["11111", "3600010", "place", "Elm village", 3.0, 2],
        ["11111", "3600020", "place", "Oak village", 3.0, 3],
        # the coextensive town's land where its village has no row: credited to the village
        ["22222", "3600100004", "mcd", "Ash town", 2.0, 1],
        ["22222", "3600020", "place", "Oak village", 2.0, 2],
    ]
    assert out["land_share"].tolist() == pytest.approx([0.6, 0.3, 0.3, 0.5, 0.5])
    # nested: the village lies inside the town, shares sum above the ZCTA's own land
    assert out.loc[out["zip"] == "11111", "land_share"].sum() > 1
    assert out.attrs["dropped"] == {"no_land": 1, "zcta_unknown": 1, "geoid_unknown": 1,
                                    "not_municipality": 2, "coextensive": 1}
    assert out.attrs["rows_read"] == {"mcd": 7, "place": 4}
    assert out.attrs["kept"] + sum(out.attrs["dropped"].values()) == 11
    assert out.attrs["geoid_unknown_zctas"] == 1
    assert out.attrs["zctas"] == 2 and out.attrs["zctas_without_municipality"] == 0
    assert str(out["zip"].dtype) == "string" and out["rank"].dtype == "int64"


def test_tie_goes_to_the_mcd_and_shares_are_capped():
    zctas, mcds, places, munis, known = _crafted()
    mcds = mcds.iloc[[0]].assign(**{"Land Area": 10.02})  # a little more than the ZCTA
    places = places.iloc[[0]].assign(**{"Land Area": 10.02})
    out = postal.municipality_shares(zctas, mcds, places, munis, known)
    assert out["muni_geoid"].tolist() == ["3600100001", "3600010"]  # MCD first on a tie
    assert out["rank"].tolist() == [1, 2]
    assert out["land_share"].tolist() == [1.0, 1.0]
    assert out.attrs["share_capped"] == 2
    assert out.attrs["zctas_without_municipality"] == 1  # 22222 has no row left


def test_shares_need_their_columns():
    zctas, mcds, places, munis, known = _crafted()
    with pytest.raises(InputError, match=r"municipalities lacks column\(s\) coextensive_geoid"):
        postal.municipality_shares(zctas, mcds, places, munis.drop(columns="coextensive_geoid"))


def test_reader_names_line_and_field_of_a_bad_code(tmp_path):
    path = tmp_path / "zcta_places.csv"
    path.write_text("ZCTA5,Place GEOID,Land Area,Water Area\n"
                    "08012,3406040,1.22,0.015\n8012,3406040,1.22,0.015\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 3, field ZCTA5: '8012' is not a 5-digit zcta code"):
        postal._read_us_geo(path, {"ZCTA5": "zcta", "Place GEOID": "place"})


@pytest.fixture(scope="module")
def zip_munis(mirror_dir):
    return postal.load_zip_municipalities()


@pytest.mark.parametrize("code, geoid, name, state", [
    ("08012", "3400726760", "Gloucester township", "NJ"),  # post office "Blackwood", a CDP
    ("12110", "3600117343", "Colonie town", "NY"),  # post office "Latham", a hamlet
    ("90712", "0639892", "Lakewood city", "CA"),
    # Clarkston, MI: the township around the 913-resident Village of Clarkston
    ("48346", "2612540400", "Independence charter township", "MI"),
])
def test_provenance_checks(zip_munis, code, geoid, name, state):
    rows = postal.zip_municipalities(code)
    assert rows["rank"].tolist() == list(range(1, len(rows) + 1))
    assert rows.loc[0, ["muni_geoid", "name", "state"]].tolist() == [geoid, name, state]


def test_census_designated_places_resolve_to_their_township(zip_munis):
    rows = postal.zip_municipalities("08012")
    assert "3406040" not in set(rows["muni_geoid"])  # Blackwood CDP
    clarkston = postal.zip_municipalities("48346").set_index("muni_geoid")
    assert clarkston.loc["2682450", "kind"] == "place"  # the village is listed, not first
    assert clarkston.loc["2682450", "rank"] > 1


def test_real_table_counts_and_invariants(zip_munis):
    table, attrs = zip_munis, zip_munis.attrs
    assert list(table.columns) == list(postal.ZIP_COLUMNS)
    assert attrs["rows_read"] == {"mcd": 109549, "place": 136233}
    assert attrs["kept"] == len(table)
    assert len(table) + sum(attrs["dropped"].values()) == 109549 + 136233
    assert set(attrs["dropped"]) == set(postal.DROP_REASONS) == set(attrs["dropped_note"])
    # the known quirk: county subdivision codes without a name row are counted, not lost
    assert attrs["dropped"]["geoid_unknown"] > 3000
    assert 1000 < attrs["geoid_unknown_zctas"] < 1400
    assert attrs["dropped"]["not_municipality"] > 70000
    assert attrs["dropped"]["coextensive"] > 0
    munis = load_municipalities().set_index("GEOID")
    assert table["muni_geoid"].isin(munis.index).all()
    assert (table["kind"] == table["muni_geoid"].map(munis["kind"])).all()
    assert (table["name"] == table["muni_geoid"].map(munis["name"])).all()
    # a coextensive MCD never shows: its place does
    twins = munis.loc[(munis["kind"] == "mcd") & munis["coextensive_geoid"].notna()].index
    assert not table["muni_geoid"].isin(twins).any()
    assert not table.duplicated(["zip", "muni_geoid"]).any()
    assert table["zip"].str.fullmatch(r"\d{5}").all()
    assert ((table["land_share"] > 0) & (table["land_share"] <= 1)).all()
    assert (table.groupby("zip")["rank"].min() == 1).all()
    assert attrs["zctas"] == table["zip"].nunique()
    assert attrs["zctas"] + attrs["zctas_without_municipality"] == 33791
    assert attrs["credit"].startswith(
        "U.S. Census Bureau, 2020 ZCTA relationship files and Gazetteer, compiled by us_geo")


@pytest.mark.parametrize("code", ["20500", "08099", "08012-1234"])
def test_zip_without_zcta_is_empty_and_zip4_reads_its_five(zip_munis, code):
    rows = postal.zip_municipalities(code)
    if code.startswith("08012"):
        assert rows["muni_geoid"].iloc[0] == "3400726760"
    else:  # the White House, a Bellmawr PO box code: no ZCTA, no rows
        assert rows.empty and list(rows.columns) == list(postal.ZIP_COLUMNS)


@pytest.mark.parametrize("code", [8012, "8012", "080120", "ABCDE", "08012-12", None])
def test_malformed_zip_says_what_a_zip_code_is(code):
    with pytest.raises(ParameterError, match=r"is not a ZIP code: a ZIP code is a string of five "
                                             r"digits, leading zeros kept"):
        postal.zip_municipalities(code)


# --------------------------------------------------------------------------- internal points
def test_internal_points_of_places_and_towns():
    points = postal.load_internal_points()
    assert len(points) == 31_846 + 35_427  # the two Gazetteer tables, every row
    rows = points.set_index("geoid")
    assert rows.loc["0639892", "kind"] == "place"  # Lakewood, CA
    assert round(float(rows.loc["0639892", "latitude"]), 2) == 33.85
    assert rows.loc["3400726760", "kind"] == "mcd"  # Gloucester township, NJ


def test_internal_points_errors(tmp_path):
    good = "GEOID,Name,Latitude,Longitude\n{geoid},X,40.1,-75.2\n"
    mcd = tmp_path / "mcd.csv"
    mcd.write_text(good.format(geoid="3400726760"))
    cases = {"GEOID,Latitude\n0600001,40\n": "cannot be read as a UTF-8 CSV with the columns",
             good.format(geoid="600001"): "line 2.*GEOID.*7-digit place code",
             "GEOID,Latitude,Longitude\n0600001,95,-75\n": "line 2.*Latitude.*is not a point"}
    for text, message in cases.items():
        place = tmp_path / "place.csv"
        place.write_text(text)
        with pytest.raises(InputError, match=message):
            postal.read_internal_points(place, mcd)
