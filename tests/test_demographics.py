"""Tests of ringgeo.demographics and of who lives under a partnered police (coverage)."""

import csv
import warnings

import numpy as np
import pandas as pd
import pytest

import ringgeo
from ringgeo import coverage
from ringgeo.demographics import (
    CT_PLANNING_REGION,
    DEMOGRAPHIC_COLUMNS,
    RACE_COLUMNS,
    on_2019_counties,
    read_demographics,
)
from ringgeo.exceptions import InputError, ParameterError

P1_HEADER = ["GEO_ID", "NAME", "P1_001N", *RACE_COLUMNS]
SVI_HEADER = ["FIPS", "EP_HISP", "MP_HISP", "EP_POV150", "MP_POV150", "EP_MINRTY",
              "MP_MINRTY"]


# --------------------------------------------------------------------------- crafted files
def write(path, header, rows, labels=None, encoding="utf-8-sig"):
    with open(path, "w", newline="", encoding=encoding) as handle:
        out = csv.writer(handle)
        out.writerow(header)
        if labels:
            out.writerow(labels)
        out.writerows(rows)
    return path


@pytest.fixture
def files(tmp_path):
    """Three counties: Autauga AL, Litchfield CT (RUCC by planning region), Adjuntas PR."""
    p1 = write(tmp_path / "p1.csv", P1_HEADER, [
        ["0500000US01001", "Autauga County, Alabama", 100, 70, 20, 1, 2, 0, 3, 4],
        ["0500000US09005", "Litchfield County, Connecticut", 200, 180, 5, 1, 4, 0, 5, 5],
        ["0500000US72001", "Adjuntas Municipio, Puerto Rico", 50, 10, 0, 0, 0, 0, 30, 10],
    ], labels=["Geography", "Geographic Area Name"] + ["label"] * 8)
    svi = write(tmp_path / "svi.csv", SVI_HEADER, [
        ["01001", "2.9", "0.4", "22.9", "2.4", "26.0", "1.0"],
        ["09005", "-999", "-999", "10.0", "1.5", "12.5", "0.8"],
    ])
    rucc = write(tmp_path / "rucc.csv", ["FIPS", "State", "County_Name", "Attribute", "Value"], [
        ["1001", "AL", "Autauga County", "Population_2020", "58805"],
        ["1001", "AL", "Autauga County", "RUCC_2023", "2"],
        ["9160", "CT", "Northwest Hills Planning Region", "RUCC_2023", "4"],
        ["9140", "CT", "Naugatuck Valley Planning Region", "RUCC_2023", "2"],
        ["72001", "PR", "Adjuntas Municipio", "RUCC_2023", "3"],
    ], encoding="cp1252")
    return p1, svi, rucc


def test_crafted_files_join_by_fips(files):
    table = read_demographics(*files)
    assert list(table.columns) == list(DEMOGRAPHIC_COLUMNS)
    assert table.index.name == "fips" and table.index.tolist() == ["01001", "09005", "72001"]
    row = table.loc["01001"]
    assert row["population_2020"] == 100 and row["share_black"] == pytest.approx(0.2)
    assert row["share_poverty150"] == pytest.approx(0.229)
    assert row["rucc"] == 2 and bool(row["metro"])
    shares = table[list(RACE_COLUMNS.values())].sum(axis=1)
    assert np.allclose(shares, 1.0)
    assert table["puerto_rico"].tolist() == [False, False, True]
    q = table.attrs["quality"]
    assert q["census-2020-pl-p1-county.csv"] == {"rows_read": 3, "rows_kept": 3}
    assert q["counties"] == 2 and q["population_50_states_dc"] == 300


def test_minus_999_is_missing_and_reported(files):
    table = read_demographics(*files)
    assert np.isnan(table.at["09005", "share_hispanic"])
    assert np.isnan(table.at["09005", "moe_hispanic"])
    assert table.at["09005", "share_poverty150"] == pytest.approx(0.10)
    missing = table.attrs["quality"]["cdc-svi-2020-county.csv"]["missing_-999"]
    assert missing == {"EP_HISP": ["09005"], "MP_HISP": ["09005"]}


def test_connecticut_takes_its_planning_region(files):
    table = read_demographics(*files)
    assert table.at["09005", "rucc_fips"] == "09160"
    assert table.at["09005", "rucc"] == 4 and not table.at["09005", "metro"]
    assert "09140" in table.attrs["quality"]["usda-rucc-2023.csv"]["not_used"]


def test_bad_count_names_file_line_and_field(files, tmp_path):
    p1 = write(tmp_path / "bad.csv", P1_HEADER, [
        ["0500000US01001", "Autauga County, Alabama", "1x0", 70, 20, 1, 2, 0, 3, 4]],
        labels=["Geography", "Geographic Area Name"] + ["label"] * 8)
    with pytest.raises(InputError, match=r"bad\.csv, line 3, field P1_001N: '1x0'"):
        read_demographics(p1, files[1], files[2])
    p1 = write(tmp_path / "sum.csv", P1_HEADER, [
        ["0500000US01001", "Autauga County, Alabama", 101, 70, 20, 1, 2, 0, 3, 4]])
    with pytest.raises(InputError, match=r"sum\.csv, line 2, field P1_001N: '101' is not the"):
        read_demographics(p1, files[1], files[2])


def test_bad_rucc_code(files, tmp_path):
    rucc = write(tmp_path / "r.csv", ["FIPS", "State", "County_Name", "Attribute", "Value"], [
        ["1001", "AL", "Autauga County", "RUCC_2023", "12"]], encoding="cp1252")
    with pytest.raises(InputError, match=r"r\.csv, line 2, field Value: '12'"):
        read_demographics(files[0], files[1], rucc)


# --------------------------------------------------------------------------- the registry's
@pytest.fixture(scope="module")
def demo(mirror_dir):
    return ringgeo.load_demographics()


def test_join_is_complete(demo):
    inside = demo.loc[~demo["puerto_rico"]]
    assert len(inside) == 3143 and demo["puerto_rico"].sum() == 78
    assert int(inside["population_2020"].sum()) == 331_449_281
    measures = ["share_hispanic", "share_poverty150", "share_minority", "rucc"]
    assert inside[measures].notna().all().all()
    assert inside["rucc"].between(1, 9).all()
    assert demo.index.str.fullmatch(r"\d{5}").all()
    q = demo.attrs["quality"]
    assert q["cdc-svi-2020-county.csv"]["joined"] == 3143
    assert q["without_svi"] == [] and q["without_rucc"] == []


def test_connecticut_mapping_on_the_registry(demo):
    ct = demo.loc[demo["state"] == "CT"]
    assert ct.index.tolist() == sorted(CT_PLANNING_REGION)
    assert ct["rucc_fips"].tolist() == [CT_PLANNING_REGION[f][0] for f in ct.index]
    assert ct["rucc"].tolist() == [2, 1, 4, 1, 2, 2, 1, 4]
    assert all(share > 0.5 for _, share in CT_PLANNING_REGION.values())


def test_valdez_cordova_on_2019_codes(demo):
    old = on_2019_counties(demo)
    assert len(old) == len(demo) - 1
    assert old.at["02261", "population_2020"] == (demo.at["02063", "population_2020"]
                                                  + demo.at["02066", "population_2020"])


# --------------------------------------------------------------------------- crafted geography
@pytest.fixture
def geo():
    """Alpha (TX, 2020 base 1,000, census 1,000) and Beta (TX, base 500, census 1,000).

    Bigcity: 600 in Alpha, 200 in Beta; the rest unincorporated, policed by sheriffs.
    """
    states = pd.DataFrame({"GEOID": ["48"], "state": ["TX"], "name": ["Texas"],
                           "population": pd.array([1600], dtype="Int64")})
    counties = pd.DataFrame({
        "GEOID": ["48001", "48003"], "state": ["TX", "TX"], "name": ["Alpha", "Beta"],
        "population": pd.array([1100, 500], dtype="Int64"),
        "population_2020base": pd.array([1000, 500], dtype="Int64")})
    parts = pd.DataFrame({"muni_geoid": ["4800100", "4800100"], "kind": ["place", "place"],
                          "county_fips": ["48001", "48003"], "population": [600, 200],
                          "incorporated": [True, True]})
    overlaps = pd.DataFrame({"mcd_geoid": pd.Series([], dtype=str),
                             "place_geoid": pd.Series([], dtype=str),
                             "county_fips": pd.Series([], dtype=str),
                             "population": pd.Series([], dtype="int64")})
    demo = pd.DataFrame({c: np.nan for c in DEMOGRAPHIC_COLUMNS},
                        index=pd.Index(["48001", "48003"], name="fips"))
    demo["population_2020"] = pd.array([1000, 1000], dtype="Int64")
    for column in DEMOGRAPHIC_COLUMNS:
        if column.startswith(("share_", "moe_")):
            demo[column] = [0.5, 0.5]
    demo["share_white"] = [0.8, 0.2]
    demo["rucc"] = pd.array([1, 7], dtype="Int64")
    demo["metro"] = pd.array([True, False], dtype="boolean")
    return {"states": states, "counties": counties, "municipality_parts": parts,
            "mcd_place_overlaps": overlaps, "demographics": demo}


@pytest.fixture
def agencies():
    return pd.DataFrame({
        "ori": ["TXS01", "TXS03", "TXP01"],
        "agency": ["Alpha County Sheriff", "Beta County Sheriff", "Bigcity Police"],
        "agency_type": ["sheriff", "sheriff", "police"], "state": ["TX"] * 3,
        "county_fips": [("48001",), ("48003",), ("48001", "48003")],
        "muni_geoid": [None, None, "4800100"]})


def bigcity():
    frame = pd.DataFrame([("P1", "police", "municipal", "TX", ("48001", "48003"), "4800100",
                           "2019-01-15")],
                         columns=["partner_id", "agency_type", "jurisdiction_type", "state",
                                  "county_fips", "muni_geoid", "activated"])
    frame["activated"] = pd.to_datetime(frame["activated"])
    frame.attrs["as_of"] = None
    return frame


def test_crafted_composition(geo, agencies):
    table = coverage.composition(bigcity(), geography=geo, agencies=agencies)
    us = table.loc["US"]
    # 2020 terms: Alpha's pieces x 1, Beta's x 2 (census 1,000 / base 500)
    assert us["population"].tolist() == [2000, 1000, 1000, 1000]
    assert us.at["all", "share_white"] == pytest.approx(0.5)
    assert us.at["covered_min", "share_white"] == pytest.approx((600 * 0.8 + 400 * 0.2) / 1000)
    assert us.at["not_covered", "share_white"] == pytest.approx((400 * 0.8 + 600 * 0.2) / 1000)
    assert us.at["covered_min", "share_metro"] == pytest.approx(0.6)
    assert table.attrs["assumption"].startswith("county level")
    by_state = coverage.composition(bigcity(), by="state", geography=geo, agencies=agencies)
    assert by_state.index.get_level_values("state").unique().tolist() == ["TX"]


def test_crafted_base_2020(geo, agencies):
    row = coverage.national(bigcity(), geography=geo, agencies=agencies, base="2020")
    assert row.at["US", "population"] == 2000 and row.at["US", "pop_covered_min"] == 1000
    row = coverage.national(bigcity(), geography=geo, agencies=agencies)
    assert row.at["US", "population"] == 1600 and row.at["US", "pop_covered_min"] == 860
    with pytest.raises(ParameterError, match=r"base was '2021'.*'2019', '2020'"):
        coverage.by_state(bigcity(), geography=geo, agencies=agencies, base="2021")
    with pytest.raises(ParameterError, match="by was 'county'"):
        coverage.composition(bigcity(), by="county", geography=geo, agencies=agencies)


def test_crafted_rates(geo, agencies):
    table = coverage.rates(bigcity(), by="metro", geography=geo, agencies=agencies)
    assert table.index.tolist() == [1, 0]
    assert table["counties_partnered"].tolist() == [1, 1]
    low, high = coverage.wilson(1, 1)
    assert table.at[1, "ci_low"] == pytest.approx(float(low)) and float(high) == 1.0
    with pytest.raises(ParameterError, match="by was 'income'"):
        coverage.rates(bigcity(), by="income", geography=geo, agencies=agencies)


# --------------------------------------------------------------------------- the real data
@pytest.fixture(scope="module")
def partners(mirror_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ringgeo.load_partners()


def test_base_2020_national_is_the_census_count(partners):
    row = coverage.national(partners, base="2020")
    assert int(row.at["US", "population"]) == 331_449_281
    states = coverage.by_state(partners, base="2020")
    assert int(states.drop("PR")["population"].sum()) == 331_449_281
    assert int(coverage.national(partners).at["US", "population"]) == 328_239_523


def test_composition_matches_national(partners):
    table = coverage.composition(partners)
    row = coverage.national(partners, base="2020")
    us = table.loc["US"]
    assert us.at["covered_min", "population"] == row.at["US", "pop_covered_min"]
    assert us.at["covered_max", "population"] == row.at["US", "pop_covered_max"]
    assert us.at["all", "population"] == 331_449_281


@pytest.mark.parametrize("state", ["NJ", "CA", "GA", "MI"])
def test_independent_recompute_of_a_state(partners, mirror_dir, state):
    """A state's covered-min shares Black (P1) and Hispanic (SVI), from the raw files."""
    with open(mirror_dir / "census-2020-pl-p1-county.csv", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))[1:]
    black = {r["GEO_ID"][-5:]: int(r["P1_004N"]) / int(r["P1_001N"]) for r in rows}
    with open(mirror_dir / "cdc-svi-2020-county.csv", encoding="utf-8-sig") as handle:
        hispanic = {r["FIPS"].zfill(5): float(r["EP_HISP"]) / 100 for r in csv.DictReader(handle)}
    pieces = coverage.jurisdictions(partners, base="2020")
    here = pieces.loc[(pieces["state"] == state) & pieces["partner"]]
    covered = here.groupby("county")["population"].sum().astype(float)
    table = coverage.composition(partners, by="state")
    for column, values in (("share_black", black), ("share_hispanic", hispanic)):
        expected = sum(covered[c] * values[c] for c in covered.index) / covered.sum()
        assert table.at[(state, "covered_min"), column] == pytest.approx(expected, rel=1e-4)
    assert table.at[(state, "covered_min"), "population"] == pytest.approx(covered.sum(),
                                                                           abs=len(here))


def test_model_is_reproducible(partners):
    one = coverage.partnership_model(partners)
    two = coverage.partnership_model(partners)
    pd.testing.assert_frame_equal(one, two)
    assert one.attrs["converged"] and one.attrs["nobs"] == 3142
    assert list(one.index) == list(coverage.MODEL_TERMS)
    assert (one["ci_low"] < one["coef"]).all() and (one["coef"] < one["ci_high"]).all()


def test_county_table_is_computed_once_per_partner_table_and_handed_out_as_copies():
    """composition, rates and partnership_model of one notebook share one county table."""
    import warnings

    import ringgeo
    from ringgeo.coverage import _composition, _inputs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        partners = ringgeo.load_partners()
        first = _composition.county_table(partners)
        first["population"] = 0  # a caller's change does not reach the cache
        again = _composition.county_table(ringgeo.load_partners())
        assert (again["population"] > 0).any()
        hits = _composition.county_table.cache_info().hits
        _composition.county_table(partners.copy())
        assert _composition.county_table.cache_info().hits == hits + 1
        earlier = ringgeo.load_partners(as_of="2019-06-30")  # another table: computed anew
        fewer = _composition.county_table(earlier)
        assert fewer["pop_covered_min"].sum() < again["pop_covered_min"].sum()
        changed = partners.copy()
        changed.loc[changed.index[0], "activated"] = pd.Timestamp("2001-01-01")
        assert _inputs.fingerprint(changed) != _inputs.fingerprint(partners)


def test_reused_coverage_tables_warn_again_and_crafted_inputs_are_not_cached():
    """A table reused from the cache gives its computation's warnings again, at the caller."""
    from ringgeo.coverage import _inputs

    calls = []

    @_inputs.per_partner_table()
    def table(partners, *, geography=None, agencies=None, base="2019"):
        calls.append(base)
        warnings.warn("2 partner(s) have no activation date.", UserWarning, stacklevel=2)
        return pd.DataFrame({"n": [len(partners)]})

    partners = pd.DataFrame({"partner_id": ["AOS1", "AOS2"]})
    for _ in range(2):
        with pytest.warns(UserWarning, match="2 partner") as caught:
            assert table(partners)["n"].tolist() == [2]
        assert caught[0].filename == __file__  # the caller's line, as ringgeo.exceptions.warn
    assert calls == ["2019"]
    table(partners, base="2020")
    table(partners, geography={"crafted": True})
    table(partners, geography={"crafted": True})
    assert calls == ["2019", "2020", "2019", "2019"]
