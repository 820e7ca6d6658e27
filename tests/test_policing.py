"""Tests of ringgeo._policing: the curated contract, regional and alias tables."""

import pandas as pd
import pytest

from ringgeo import _policing
from ringgeo.exceptions import InputError

CONTRACT_HEADER = ",".join(_policing.CONTRACT_COLUMNS)
GOOD_CONTRACT = ('0639892,City of Lakewood,CA,06037,CA0190000,Los Angeles County Sheriff,'
                 'CA0193500,1954,,https://example.org,"the city contracts with the sheriff"')


def _write(tmp_path, text, name="table.csv"):
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_packaged_tables_read_and_check():
    contracts = _policing.read_contracts()
    assert list(contracts.columns) == list(_policing.CONTRACT_COLUMNS) + ["line"]
    assert len(contracts) > 200 and (contracts["evidence"] != "").all()
    assert (contracts["source"].str.startswith("http")).all()
    assert len(_policing.read_regional()) > 100
    assert len(_policing.read_aliases()) > 40
    counties = _policing.read_contract_counties()
    assert counties["county_fips"].is_unique


def test_a_good_crafted_table_reads(tmp_path):
    table = _policing.read_contracts(_write(tmp_path, f"{CONTRACT_HEADER}\n{GOOD_CONTRACT}\n"))
    assert table.loc[0, ["muni_geoid", "unit_ori", "until", "line"]].tolist() == [
        "0639892", "CA0193500", "", 2]


@pytest.mark.parametrize(("row", "field", "message"), [
    (GOOD_CONTRACT.replace("0639892", "639892"), "muni_geoid", "7-digit place"),
    (GOOD_CONTRACT.replace("CA0190000", "CA019"), "agency_ori", "9-character FBI ORI"),
    (GOOD_CONTRACT.replace(",1954,", ",the fifties,"), "since", "a year"),
    (GOOD_CONTRACT.replace("https://example.org", ""), "source", "a source"),
    (GOOD_CONTRACT.replace('"the city contracts with the sheriff"', '""'), "evidence",
     "the evidence"),
])
def test_a_bad_row_names_file_line_and_field(tmp_path, row, field, message):
    path = _write(tmp_path, f"{CONTRACT_HEADER}\n{GOOD_CONTRACT}\n{row}\n")
    with pytest.raises(InputError, match=rf"table\.csv, line 3, field {field}: .*{message}"):
        _policing.read_contracts(path)


def test_missing_column_and_unreadable_file(tmp_path):
    path = _write(tmp_path, "muni_geoid,agency_ori\n0639892,CA0190000\n")
    with pytest.raises(InputError, match="missing column\\(s\\) muni_name"):
        _policing.read_contracts(path)
    with pytest.raises(InputError, match="cannot be read"):
        _policing.read_contracts(tmp_path / "nowhere.csv")


def test_a_municipality_listed_twice_is_refused(tmp_path):
    path = _write(tmp_path, f"{CONTRACT_HEADER}\n{GOOD_CONTRACT}\n{GOOD_CONTRACT}\n")
    with pytest.raises(InputError, match="lines \\[2, 3\\]: the same muni_geoid and since"):
        _policing.read_contracts(path)


def test_regional_relation_and_alias_kind_are_checked(tmp_path):
    header = ",".join(_policing.REGIONAL_COLUMNS)
    row = 'PA0021B00,Northern Regional,PA,4247696,Marshall,partner,,,https://x.org,"member"'
    with pytest.raises(InputError, match="field relation: 'partner' is not one of member"):
        _policing.read_regional(_write(tmp_path, f"{header}\n{row}\n"))
    header = ",".join(_policing.ALIAS_COLUMNS)
    rows = ("JSO,FL0160200,Jacksonville PD,FL,common name,https://x.org,abbreviation\n"
            "jso,FL0999999,Other PD,FL,common name,https://x.org,another agency\n")
    twice = "the same alias \\(in any case\\) and state is listed twice"
    with pytest.raises(InputError, match=twice):
        _policing.read_aliases(_write(tmp_path, f"{header}\n{rows}"))


def test_in_force_reads_years_months_and_days():
    table = pd.DataFrame({"since": ["", "2020-11", "2019", "2008"],
                          "until": ["", "", "2020-10-07", "2020-07-01"]})
    assert _policing.in_force(table, "2020-10-07").tolist() == [True, False, False, False]
    assert _policing.in_force(table, "2020-06-30").tolist() == [True, False, True, True]
