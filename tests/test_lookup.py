"""ringgeo.lookup on the mirror: answers checked against the partner, agency and
postal tables read independently of the lookup code."""

import json

import numpy as np
import pandas as pd
import pytest

import ringgeo
from ringgeo import lookup as lk
from ringgeo.cli import main
from ringgeo.exceptions import ParameterError, QueryError


@pytest.fixture
def partners(real_partners):
    return real_partners


def _activated(partners, ori):
    return partners.loc[partners["ori"] == ori, "activated"].min()


def _zip_row(code):
    zips = ringgeo.postal.load_postal_codes()
    return zips.loc[zips["zip"] == code].iloc[0]


def test_module_is_callable_as_the_function():
    assert ringgeo.lookup("19082").place == lk.lookup("19082").place


def test_zip_whose_town_is_the_municipality(partners):
    answer = ringgeo.lookup("19082")
    row = _zip_row("19082")
    assert answer.kind == "zip"
    assert answer.counties == (row["county_fips"],)
    assert (answer.latitude, answer.longitude) == (row["latitude"], row["longitude"])
    assert answer.place == "Upper Darby township"
    first = answer.agencies.iloc[0]
    assert (first["role"], first["ori"]) == ("municipal police", "PA0233700")
    assert first["partner"] and first["activated"] == _activated(partners, "PA0233700")
    assert first["partner_id"] == ", ".join(sorted(
        partners.loc[partners["ori"] == "PA0233700", "partner_id"]))
    assert "post office Upper Darby" in answer.matched


def _largest_share(code: str) -> tuple:
    """The municipality with the most of a ZIP code area's land, read from the raw files."""
    zcta = pd.read_csv(ringgeo.data.fetch("us-geo-2020-zctas.csv"), dtype=str)
    land = float(zcta.loc[zcta["ZCTA5"] == code, "Land Area"].iat[0])
    subs = pd.read_csv(ringgeo.data.fetch("us-geo-2020-zcta-county-subdivisions.csv"), dtype=str)
    subs = subs.loc[subs["ZCTA5"] == code]
    shares = subs["Land Area"].astype(float) / land
    return subs["County Subdivision GEOID"].iat[int(np.argmax(shares))], float(shares.max())


def test_zip_whose_post_office_town_is_not_the_municipality():
    # Wayne, PA is a mailing town: 19087's land lies in Tredyffrin, Radnor, Upper Merion
    answer = ringgeo.lookup("19087")
    geoid, share = _largest_share("19087")
    assert answer.place_geoid == geoid == "4202977344"  # Tredyffrin township
    assert f"{share:.0%} of its land" in answer.matched
    assert any("is split" in n and "Radnor township" in n for n in answer.notes)
    first = answer.agencies.iloc[0]
    assert first["primary"] and first["ori"] == "PA0151200"
    assert answer.agencies["distance_km"].isna().all()  # serving agencies have no distance


@pytest.mark.parametrize(("code", "geoid", "ori", "partner"), [
    ("08012", "3400726760", "NJ0041500", True),   # Blackwood: Gloucester Township PD
    ("12110", "3600117343", "NY0015300", True),   # Latham: Colonie Town PD
    ("48346", "2612540400", "MI6316300", True),   # Clarkston: Independence, Oakland sheriff
])
def test_hamlet_and_cdp_zip_codes_resolve_to_their_town(code, geoid, ori, partner):
    answer = ringgeo.lookup(code)
    assert answer.place_geoid == geoid == _largest_share(code)[0]
    first = answer.agencies.loc[answer.agencies["primary"]]
    assert first["ori"].tolist() == [ori]
    assert answer.partner is partner
    assert answer.to_frame()["primary"].tolist()[0] is True


def test_long_island_hamlet_zip_is_served_by_the_county_police(partners):
    answer = ringgeo.lookup("11746")  # Huntington Station, a hamlet of Huntington town
    assert answer.place == "Huntington town"
    county = answer.agencies.loc[answer.agencies["role"] == "county police"]
    assert county["ori"].tolist() == ["NY0510100"]  # Suffolk County Police Department
    assert county["primary"].tolist() == [True]
    assert bool(county["partner"].iloc[0]) == bool((partners["ori"] == "NY0510100").any())


def test_zip_whose_county_is_not_its_towns_main_county():
    # 30322 (Emory University) is an "Atlanta" ZIP code in DeKalb County (Atlanta's main
    # county is Fulton): the ZIP code's county, not the city's, names the sheriff
    answer = ringgeo.lookup("30322")
    assert answer.place == "Atlanta city"
    assert answer.counties == (_zip_row("30322")["county_fips"],) == ("13089",)
    roles = answer.agencies.set_index("ori")["role"]
    assert roles["GAAPD0000"] == "municipal police"
    assert answer.agencies.loc[answer.agencies["primary"], "ori"].tolist() == ["GAAPD0000"]
    assert roles["GA0440000"] == "county sheriff"  # DeKalb's sheriff, not Fulton's
    assert "GA0600000" not in roles.index


@pytest.mark.parametrize("code", ["30033", "30329"])
def test_zip_code_mostly_outside_any_municipality_is_the_county_s(code):
    # 30033 "Decatur" and 30329 "Atlanta" lie mostly in unincorporated DeKalb County, GA
    # (30329 covers 29 % Brookhaven, 9 % Atlanta, 4 % Chamblee): DeKalb County Police
    answer = ringgeo.lookup(code)
    assert answer.place is None and answer.counties == ("13089",)
    assert "lies outside every municipality" in answer.matched
    first = answer.agencies.loc[answer.agencies["primary"]]
    assert first["ori"].tolist() == ["GA0440200"] and first["role"].tolist() == ["county police"]


@pytest.mark.parametrize("query, match", [
    ("00000", r"ZIP code 00000 is not in GeoNames' U.S. postal code file"),
    ("00601", r"Puerto Rico and most territories are not in it"),
    ("96960", r"ZIP code 96960 is in Marshall Islands \(MH\), outside the 50 states and DC"),
    ("09001", r"ZIP code 09001 is a military code \(APO AA\)"),
    ("1908", r"'1908' is not a ZIP code: a ZIP code has 5 digits"),
    ((43.6532, -79.3832), r"outside the United States .*50 km from New York"),
    ("45.5017, -73.5673", r"outside the United States"),
    ((39.9, 275.0), r"latitude must lie in \[-90, 90\] and longitude in \[-180, 180\]"),
    ("Upper Darby, XX", r"'XX' is not a state"),
    ("Nowhere, PA", r"no Census municipality or post-office town named 'Nowhere' in PA"),
    ("Narnia County, PA", r"no such county in PA"),
    ("", r"expected a 5-digit ZIP code, 'City, ST'"),
    (12.5, r"expected a 5-digit ZIP code"),
])
def test_bad_queries_say_what_was_expected(query, match):
    with pytest.raises(QueryError, match=match):
        ringgeo.lookup(query)


def test_ambiguous_names_list_the_candidates():
    with pytest.raises(QueryError, match=r"'Springfield' is ambiguous: \d+ municipalities") as err:
        ringgeo.lookup("Springfield")
    assert "Springfield city, IL (Sangamon County)" in str(err.value)
    assert "Springfield city, MA (Hampden County)" in str(err.value)
    with pytest.raises(QueryError, match=r"9 municipalities match it") as err:
        ringgeo.lookup("Springfield, PA")
    assert "Springfield township, PA (Delaware County)" in str(err.value)
    with pytest.raises(QueryError, match=r"FBI agencies match it") as err:
        ringgeo.lookup("Springfield Township Police Department")
    assert "PA0233100" in str(err.value) and "Springfield Police Department" not in str(err.value)


def test_county_and_state_name_resolve_an_ambiguous_name():
    answer = ringgeo.lookup("Springfield township, Delaware County, Pennsylvania")
    assert answer.place_geoid == "4204573032"
    assert answer.agencies["ori"].tolist()[0] == "PA0233100"


def test_saint_and_diacritics_fold_to_one_place():
    assert (ringgeo.lookup("St. Louis, MO").place_geoid
            == ringgeo.lookup("Saint Louis, Missouri").place_geoid == "2965000")
    accents = ringgeo.lookup("Cañon City, CO")
    assert accents.place_geoid == ringgeo.lookup("canon city, co").place_geoid
    assert accents.agencies["ori"].tolist()[:2] == ["CO0220100", "CO0220000"]


def test_consolidated_governments_and_metro_townships_by_their_common_name():
    # "Butte-Silver Bow (balance)" is known as Butte; "Magna metro township" as Magna
    butte = ringgeo.lookup("Butte, MT")
    assert (butte.place, butte.place_geoid) == ("Butte-Silver Bow (balance)", "3011397")
    magna = ringgeo.lookup("Magna township, UT")
    zips = ringgeo.postal.load_postal_codes()
    magna_zips = zips.loc[(zips["place"] == "Magna") & (zips["state"] == "UT")]
    assert magna.place == "Magna metro township"
    assert magna.latitude == pytest.approx(magna_zips["latitude"].mean())
    assert "post-office ZIP code" in magna.point_source


def test_place_without_a_police_of_its_own_is_said_plainly():
    # Lemont township (IL) polices nothing: "Lemont, IL" is the village
    answer = ringgeo.lookup("Lemont, IL")
    assert answer.place == "Lemont village"
    assert set(answer.agencies.loc[answer.agencies["role"] == "county sheriff", "ori"]) == {
        "IL0160000", "IL0220000", "IL0990000"}
    answer = ringgeo.lookup("Abbott township, Potter County, PA")
    agencies = ringgeo.load_agencies()
    assert answer.place_geoid not in set(
        agencies.loc[agencies["agency_type"] == "police", "muni_geoid"].dropna())
    assert any("has no police department of its own" in n for n in answer.notes)
    assert not (answer.agencies["role"] == "municipal police").any()


def test_as_of_before_the_activation_date(partners):
    activated = _activated(partners, "PA0233700")
    before = ringgeo.lookup("Upper Darby, PA", as_of="2019-05-01")
    assert activated > pd.Timestamp("2019-05-01")
    assert not before.partner
    row = before.agencies.iloc[0]
    assert not row["partner"] and f"activated {activated:%Y-%m-%d}" in row["status"]
    after = ringgeo.lookup("Upper Darby, PA", as_of=f"{activated:%Y-%m-%d}")
    assert after.partner
    # nearest partners on as_of are partners activated by then
    for ori in before.nearest["ori"]:
        assert _activated(partners, ori) <= pd.Timestamp("2019-05-01")


def test_nearest_partners_are_the_nearest_by_geodesic_distance(real_partners):
    from pyproj import Geod

    answer = ringgeo.lookup("08054", k=7)
    near = answer.nearest
    assert len(near) == 7 and near["rank"].tolist() == list(range(1, 8))
    assert near["distance_km"].is_monotonic_increasing
    assert np.allclose(near["distance_mi"], near["distance_km"] / 1.609344, atol=0.01)
    # brute force over every partner agency with a point
    marked = ringgeo.agencies.with_partners(real_partners)
    marked = marked.loc[marked["partner"] & marked["latitude"].notna()]
    _, _, metres = Geod(ellps="WGS84").inv(
        np.full(len(marked), answer.longitude), np.full(len(marked), answer.latitude),
        marked["longitude"].to_numpy(), marked["latitude"].to_numpy())
    best = marked.assign(km=np.asarray(metres) / 1000).nsmallest(7, "km")
    assert near["ori"].tolist() == best["ori"].tolist()
    assert np.allclose(near["distance_km"], best["km"], atol=0.01)


def test_geodesic_distance_of_one_degree_at_the_equator():
    from ringgeo.lookup._data import geodesic_km, haversine_km

    assert geodesic_km(0.0, 0.0, [1.0], [0.0])[0] == pytest.approx(110.574, abs=0.001)
    # the sphere of the prefilter is within 0.6 % of the ellipsoid
    sphere = haversine_km(0.0, 0.0, np.radians([1.0]), np.radians([0.0]))[0]
    assert sphere == pytest.approx(110.574, rel=0.006)


def test_point_inside_the_us_gives_its_county():
    answer = ringgeo.lookup((25.7617, -80.1918))
    assert answer.kind == "point" and answer.counties == ("12086",)
    assert "FL0130000" in set(answer.agencies["ori"])  # Miami-Dade County Police


def test_county_query_lists_its_partners(partners):
    answer = ringgeo.lookup("Delaware County, PA")
    listed = set(answer.agencies.loc[answer.agencies["role"] == "partner in the county", "ori"])
    agencies = ringgeo.load_agencies()
    in_county = set(agencies.loc[agencies["county_fips"].map(lambda t: "42045" in t), "ori"])
    assert listed == in_county & set(partners["ori"].dropna())


def test_k_is_checked():
    with pytest.raises(ParameterError, match=r"`k` was -1"):
        ringgeo.lookup("19082", k=-1)
    assert ringgeo.lookup("19082", k=0).nearest.empty


def test_result_displays_and_converts():
    answer = ringgeo.lookup("19082", k=2)
    frame = answer.to_frame()
    assert list(frame.columns) == ["section", *lk.AGENCY_COLUMNS]
    assert frame["section"].tolist().count("nearest partner") == 2
    text, page = repr(answer), answer._repr_html_()
    for credit in ("GeoNames (geonames.org), postal codes, CC BY 3.0",
                   "FBI Crime Data Explorer, agency list (2018)"):
        assert credit in text and credit in page and credit in frame.attrs["credit"]
    assert json.loads(json.dumps(answer.to_dict()))["agencies"][0]["ori"] == "PA0233700"


def test_timeline_position_counts_earlier_partnerships(partners):
    pos = lk.timeline_position(ringgeo.lookup("19082"))
    day = _activated(partners, "PA0233700")
    assert pos.loc[0, "national_before"] == int((partners["activated"] < day).sum())
    assert pos.loc[0, "state_dated"] == int(
        ((partners["state"] == "PA") & partners["activated"].notna()).sum())


def test_plot_map_styles_partners_apart():
    import matplotlib.pyplot as plt

    fig, ax = lk.plot_map(ringgeo.lookup("19082"))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(label.startswith("Ring partners on 2020-10-07 (") for label in labels)
    assert any(label.startswith("other agencies (") for label in labels)
    assert any("GeoNames" in t.get_text() for t in fig.texts)
    plt.close(fig)


def test_cli_forms(capsys):
    assert main(["lookup", "19082"]) == 0
    out = capsys.readouterr().out
    assert "Upper Darby Township Police Department" in out and "GeoNames" in out
    assert main(["lookup", "Upper Darby, PA", "--as-of", "2019-05-01", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["as_of"] == "2019-05-01" and data["partner"] is False
    assert main(["lookup", "19082", "--csv", "-k", "2"]) == 0
    out = capsys.readouterr().out
    import io

    table = pd.read_csv(io.StringIO(out), comment="#", dtype=str)
    assert table["ori"].iloc[0] == "PA0233700" and "# Sources: GeoNames" in out
    assert main(["lookup", "39.9579,-75.2681"]) == 0
    assert "Delaware County" in capsys.readouterr().out
    assert main(["lookup", "39.9579", "-75.2681"]) == 0  # two words: a point
    assert "point (39.9579, -75.2681)" in capsys.readouterr().out
    assert main(["lookup", "Upper", "Darby,", "PA"]) == 0  # unquoted words: one name
    assert "Upper Darby township" in capsys.readouterr().out
    assert main(["lookup", "Springfield"]) == 1
    assert "is ambiguous" in capsys.readouterr().err


def test_primary_police_note_follows_the_methodology_table():
    table = ringgeo.coverage.primary_police()
    village = table.loc[table["place"] == "3630169"]  # Great Neck village, NY
    assert set(village["primary_agency"].dropna()) == {"Nassau County Police Department"}
    answer = ringgeo.lookup("Great Neck, NY")
    assert answer.place_geoid == "3630169"
    note = next(n for n in answer.notes if n.startswith("Primary police of Great Neck village"))
    assert (f"Nassau County Police Department (county police) for "
            f"{int(village['population'].sum()):,} residents") in note
    assert any("has no police department of its own" in n for n in answer.notes)


def test_independent_city_reads_as_the_city_and_parish_as_a_county():
    city = ringgeo.lookup("Baltimore city, MD")
    assert city.kind == "place" and city.counties == ("24510",)
    assert city.agencies["role"].tolist()[:2] == ["municipal police", "county sheriff"]
    parish = ringgeo.lookup("Jefferson Parish, LA")
    assert parish.kind == "county" and parish.counties == ("22051",)
    assert ringgeo.lookup("19082-1234").counties == ("42045",)  # ZIP+4


def test_zip_listed_twice_keeps_its_town_not_the_fpo():
    zips = ringgeo.postal.load_postal_codes()
    rows = zips.loc[zips["zip"] == "96860"]
    assert sorted(rows["place"].tolist()) == ["FPO AA", "Jbphh"]  # GeoNames lists it twice
    assert "post office Jbphh, HI" in ringgeo.lookup("96860").matched


def test_post_office_towns_of_a_state_are_the_countrys_in_that_state():
    from ringgeo.lookup import _data as _lookupdata

    paths = _lookupdata.source_paths()
    country = _lookupdata.post_office_towns(paths)
    for state in ("NJ", "HI"):
        one = _lookupdata.post_office_towns(paths, state)
        assert list(one.items()) == [(k, v) for k, v in country.items() if k[0] == state]
    zips = ringgeo.postal.load_postal_codes()
    assert country[("NJ", "cherry hill")] == sorted(
        zips.loc[(zips["state"] == "NJ") & (zips["place"] == "Cherry Hill"), "zip"])


def test_primary_police_of_a_municipality_sums_its_pieces():
    from ringgeo.lookup._data import primary_police_of, source_paths

    table = ringgeo.coverage.primary_police()
    for geoid, column in (("3630169", "place"), ("4204579000", "mcd")):
        pieces = table.loc[table[column] == geoid]
        expected = pieces.groupby(["primary", "primary_agency"], dropna=False)[
            "population"].sum()
        got = primary_police_of(geoid, source_paths())
        assert sorted((kind, agency, people) for kind, agency, _, people, _ in got) == sorted(
            (kind, None if pd.isna(agency) else agency, int(people))
            for (kind, agency), people in expected.items())
        assert [r[3] for r in got] == sorted((r[3] for r in got), reverse=True)
    assert primary_police_of("no such GEOID", source_paths()) == []


@pytest.mark.parametrize(("query", "ori", "role", "partner"), [
    ("90713", "CA0190000", "county sheriff", True),       # Lakewood, CA: LASD's contract city
    ("Lakewood, CA", "CA0190000", "county sheriff", True),
    ("98074", "WA0170000", "county sheriff", False),      # Sammamish, WA: King County Sheriff
    ("31401", "GA0250300", "municipal police", True),     # Savannah PD, its predecessor's ORI
    ("23454", "VA1280000", "municipal police", True),     # Virginia Beach, an independent city
    ("02445", "MA0110400", "municipal police", False),    # Brookline, MA, a New England town
])
def test_first_police_of_contract_cities_and_other_governments(query, ori, role, partner):
    answer = ringgeo.lookup(query)
    first = answer.agencies.iloc[0]
    assert (first["primary"], first["ori"], first["role"]) == (True, ori, role)
    assert answer.partner is partner
    assert answer.agencies.loc[answer.agencies["role"] != "nearby police",
                               "distance_km"].isna().all()


def test_contract_unit_is_named_as_such():
    answer = ringgeo.lookup("90713")
    unit = answer.agencies.set_index("ori").loc["CA0193500"]  # Lakewood Police Department
    assert unit["role"] == "contract unit" and not unit["primary"]
    assert any("contract with another agency" in n for n in answer.notes)


@pytest.mark.parametrize(("alias", "ori"), [
    ("Jacksonville Sheriff's Office", "FL0160200"),
    ("Las Vegas Metropolitan Police Department", "NV0020100"),
])
def test_agency_aliases_resolve(alias, ori):
    answer = ringgeo.lookup(alias)
    assert answer.kind == "agency" and "the name readers use" in answer.matched
    assert answer.agencies.loc[answer.agencies["primary"], "ori"].tolist() == [ori]


def test_nearest_partners_say_when_they_share_a_point():
    answer = ringgeo.lookup("48346", k=5)
    shared = answer.nearest["shared_point"]
    assert (shared >= 0).all() and shared.dtype.kind == "i"
    if (shared > 0).any():
        assert any("FBI point with other agencies" in n for n in answer.notes)


def _strict_json(text):
    def refuse(name):  # NaN, Infinity, -Infinity: not JSON (RFC 8259)
        raise ValueError(f"non-JSON constant {name} in the output")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("words", [
    ["90210"],                     # a ZIP code whose nearest partners include undated ones
    ["Suffolk County, NY"],        # a county
    ["34.09,-118.41"],             # a point
    ["Upper Darby Township Police Department"],  # an agency
])
def test_cli_json_is_strict_json(capsys, words):
    assert main(["lookup", *words, "--json", "-k", "8"]) == 0
    data = _strict_json(capsys.readouterr().out)
    assert data["agencies"] or data["nearest"]
    for record in data["agencies"] + data["nearest"]:
        assert record["activated"] is None or len(record["activated"]) == 10
        for value in record.values():
            assert value is None or isinstance(value, (str, int, float, bool))


def test_to_dict_has_null_for_undated_partners():
    data = ringgeo.lookup("90210", k=8).to_dict()
    text = json.dumps(data, allow_nan=False)  # raises on NaN
    assert None in [rec["activated"] for rec in _strict_json(text)["nearest"]]


def test_a_department_the_fbi_lists_under_a_predecessor_is_no_missing_police():
    # Savannah's police is under its predecessor's name in the FBI list: the answer must not
    # also call the city unpoliced nor list the state patrol as if it were
    answer = ringgeo.lookup("31401")
    assert "state police" not in set(answer.agencies["role"])
    assert not any("no police department of its own" in n for n in answer.notes)


def test_lookup_map_labels_cover_no_marker_label_or_legend():
    """Issue 23: 08054's sheriff was labelled over the only partner's triangle."""
    import matplotlib.pyplot as plt

    from ringgeo.plot._labels import marker_boxes, overlap

    fig, ax = lk.plot_map(ringgeo.lookup("08054", as_of="2019-12-31"))
    fig.canvas.draw()
    placed = ax._ringgeo_labels
    texts = [p.annotation.get_text() for p in placed]
    assert texts[0].startswith("Evesham Township Police Department\nRing partner")  # first
    assert any(t.startswith("Burlington County Sheriff's Office\ncounty sheriff of 08054; "
                            "not a Ring partner") for t in texts)
    from matplotlib.collections import PathCollection

    scatters = [c for c in ax.collections if type(c) is PathCollection]  # the three scatters
    assert len(scatters) == 3
    markers = np.vstack([marker_boxes(c) for c in scatters])
    legend = ax.get_legend().get_window_extent()
    boxes = []
    for p in placed:
        ext = p.annotation.get_bbox_patch().get_window_extent()
        boxes.append([ext.x0, ext.y0, ext.x1, ext.y1])
    for i, box in enumerate(boxes):
        assert overlap(box, markers) == 0, texts[i]
        assert overlap(box, [b for j, b in enumerate(boxes) if j != i]) == 0, texts[i]
        assert overlap(box, [[legend.x0, legend.y0, legend.x1, legend.y1]]) == 0
    # the legend is beside the county, not on it; the headline is the figures' style
    assert legend.x0 >= ax.get_window_extent().x1
    title = next(t for t in fig.texts if t.get_text().startswith("Burlington County"))
    assert title.get_fontsize() == 14 and title.get_fontweight() == "bold"
    plt.close(fig)


def test_lookup_timeline_marks_what_it_says():
    import matplotlib.pyplot as plt

    from ringgeo.plot import alt_text

    fig, ax = lk.plot_timeline(ringgeo.lookup("08054", as_of="2019-12-31"))
    heads = " ".join(t.get_text() for t in fig.texts)
    assert "no agency serving '08054' was a partner on 2019-12-31" in heads
    assert "nearest partner marked" in heads.replace("\n", " ")
    labels = [p.annotation.get_text() for p in ax._ringgeo_labels]
    assert len(labels) == 1 and labels[0].startswith("Evesham Township Police Department\n"
                                                     "nearest partner, 7.5 km from 08054")
    assert any(t.get_text() == "2019-12-31: the date asked about" for t in ax.texts)
    assert "Marked: Evesham Township Police Department" in alt_text(fig)[1]
    fig, ax = lk.plot_timeline(ringgeo.lookup("19082"))
    assert "the partner serving '19082' marked" in " ".join(t.get_text() for t in fig.texts)
    plt.close("all")
