"""Tests of ringgeo.partners: the partner table, its readers and its quality report.

Crafted files are written into ``tmp_path`` by the tests themselves; the real
data is the Atlas of Surveillance export from the mirror.
"""

import codecs
import csv
import datetime as dt
import io
import re
import warnings
import zipfile

import pandas as pd
import pytest

import ringgeo
from ringgeo import cli
from ringgeo.exceptions import InputError, ParameterError
from ringgeo.partners import COLUMNS, load_partners, quality_report, read_partners
from ringgeo.states import STATES

ATLAS = "atlas-of-surveillance-20201007.csv"
RING = "Ring/Neighbors Partnership"


# ----------------------------------------------------------------- helpers and fixtures
@pytest.fixture(scope="module")
def atlas_path():
    return ringgeo.data.fetch(ATLAS)


@pytest.fixture(scope="module")
def atlas(atlas_path):
    return read_partners(atlas_path)


@pytest.fixture(scope="module")
def raw_ring(atlas_path):
    """The Ring rows of the export read independently (csv module, no cleaning)."""
    with open(atlas_path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r for r in rows if r["Technology"] == RING]


def write_csv(path, header, rows, *, encoding="utf-8", delimiter=",", newline="\n",
              quoting=csv.QUOTE_MINIMAL, errors="strict"):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline, quoting=quoting)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding, errors=errors))
    return path


def atlas_file(path, rows, *, header=None):
    """A small Atlas-shaped CSV: rows are dicts of the columns that matter."""
    header = header or ["AOSNUMBER", "City", "County", "State", "Agency", "Type of LEA",
                        "Summary", "Type of Juris", "Technology", "Vendor", "Link 1 Date"]
    body = [[r.get(h, "") for h in header] for r in rows]
    return write_csv(path, header, body, quoting=csv.QUOTE_ALL)


def ring_row(n, **values):
    base = {"AOSNUMBER": f"AOS{n}", "City": "Greenfield", "County": "Milwaukee County",
            "State": "WI", "Agency": "Greenfield Police Department", "Type of LEA": "Police",
            "Type of Juris": "Municipal", "Technology": RING, "Vendor": "Ring",
            "Link 1 Date": "3/22/18"}
    base.update(values)
    return base


def read_quietly(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_partners(path)


# ----------------------------------------------------------------- real data
def test_real_file_has_1501_partners_with_valid_states(atlas, raw_ring):
    assert len(atlas) == len(raw_ring) == 1501
    assert atlas["state"].isin(STATES["state"]).all()
    assert atlas["partner_id"].tolist() == [r["AOSNUMBER"] for r in raw_ring]
    assert atlas["partner_id"].is_unique
    assert list(atlas.columns[:len(COLUMNS)]) == COLUMNS
    assert all(c.endswith("_raw") for c in atlas.columns[len(COLUMNS):])
    assert atlas["activated"].dtype == "datetime64[ns]"
    assert atlas["row"].dtype == "int64"
    assert set(atlas["agency_type"]) <= {"police", "sheriff", "other"}
    assert set(atlas["jurisdiction_type"]) <= {"municipal", "county", "regional", "other"}
    assert (atlas["source"] == ATLAS).all()


def test_real_report_accounts_for_every_row(atlas, atlas_path):
    q = quality_report(atlas)
    with open(atlas_path, encoding="utf-8", newline="") as handle:
        records = list(csv.reader(handle))[1:]
    assert q["rows_read"] == len(records) == ringgeo.data.source_info(ATLAS)["nrows"]
    assert q["rows_read"] == q["partner_rows"] + q["non_partner_rows"]
    assert q["non_partner_rows"] == q["other_technology"] + q["blank_records"]
    assert q["other_technology"] == sum(r[8] != RING for r in records)
    assert q["partner_rows"] == q["kept"] + len(q["dropped"]) + q["excluded_by_as_of"]["count"]
    assert q["kept"] == len(atlas) and q["dropped"] == []
    assert {f["row"] for f in q["flagged"]} <= set(atlas["row"])


def test_real_row_numbers_are_file_lines(atlas, atlas_path):
    # Some Summary fields hold line breaks, so record and line numbers differ.
    lines = atlas_path.read_text("utf-8").split("\n")
    assert len(lines) - 2 > ringgeo.data.source_info(ATLAS)["nrows"]
    for row, pid in zip(atlas["row"], atlas["partner_id"]):
        assert lines[row - 1].startswith(f'"{pid}",')


def test_real_cleaning_of_counties(atlas, raw_ring):
    by_id = atlas.set_index("partner_id")
    lrm = [r for r in raw_ring if "\u200e" in r["County"] and "," in r["County"]][0]
    assert by_id.at[lrm["AOSNUMBER"], "county_names"] == [
        "Montgomery County", "Fort Bend County", "Harris County"]
    assert by_id.at[lrm["AOSNUMBER"], "county_raw"] == lrm["County"]
    multi = [r for r in raw_ring if r["County"] == "Collin County, Dallas County, Denton County"]
    assert by_id.at[multi[0]["AOSNUMBER"], "county_names"] == [
        "Collin County", "Dallas County", "Denton County"]
    assert not any(ch in "".join(names) for names in atlas["county_names"]
                   for ch in ("\u200e", "\u00a0", ","))
    blank = {r["AOSNUMBER"] for r in raw_ring if r["County"] in ("", "#N/A")}
    assert set(atlas.loc[atlas["county_names"].map(len) == 0, "partner_id"]) == blank
    flagged = {f["partner_id"] for f in quality_report(atlas)["flagged"]
               if f["field"] == "county"}
    assert flagged == blank


def test_real_types_mapped_from_atlas_vocabulary(atlas, raw_ring):
    lea = {"Police": "police", "Sheriff": "sheriff", "Constables": "other",
           "District Attorney": "other"}
    juris = {"Municipal": "municipal", "County": "county", "Parish": "county",
             "Regional": "regional"}
    assert atlas["agency_type"].tolist() == [lea[r["Type of LEA"]] for r in raw_ring]
    assert atlas["jurisdiction_type"].tolist() == [juris[r["Type of Juris"]] for r in raw_ring]
    assert atlas["jurisdiction_type_raw"].tolist() == [r["Type of Juris"] for r in raw_ring]


def test_real_dates_match_an_independent_parse(atlas, raw_ring):
    expected = pd.to_datetime(pd.Series([r["Link 1 Date"] for r in raw_ring]), format="mixed")
    pd.testing.assert_series_equal(atlas["activated"], expected.astype("datetime64[ns]"),
                                   check_names=False)
    undated = sum(r["Link 1 Date"] == "" for r in raw_ring)
    assert atlas["activated"].isna().sum() == undated > 0
    assert atlas["activated"].min() >= pd.Timestamp("2018-01-01")
    assert atlas["activated"].max() <= pd.Timestamp("2020-10-07")


def test_real_duplicates_flagged_not_dropped(atlas, raw_ring):
    seen = {}
    for r in raw_ring:
        seen.setdefault((r["Agency"].lower(), r["State"]), []).append(r["AOSNUMBER"])
    expected = sorted(ids for ids in seen.values() if len(ids) > 1)
    q = quality_report(atlas)
    assert sorted(d["partner_ids"] for d in q["duplicates"]) == expected
    flagged = {f["partner_id"] for f in q["flagged"] if f["reason"].startswith("duplicate:")}
    assert flagged == {pid for ids in expected for pid in ids}
    assert set(flagged) <= set(atlas["partner_id"])


def test_real_as_of_reproduces_published_network_size(raw_ring):
    dates = pd.to_datetime(pd.Series([r["Link 1 Date"] for r in raw_ring]), format="mixed")
    # Washington Post, 2019-08-28: Ring had "more than 400" police partnerships.
    with pytest.warns(UserWarning, match=r"170 partnership\(s\) without an activation date"):
        august = load_partners(as_of="2019-08-28", link=False)
    assert len(august) == (dates <= "2019-08-28").sum()
    assert 400 < len(august) < 450
    q = quality_report(august)
    assert q["excluded_by_as_of"] == {"as_of": "2019-08-28", "count": 1501 - len(august),
                                      "undated": int(dates.isna().sum()),
                                      "undated_included": 0,
                                      "after": int((dates > "2019-08-28").sum())}
    assert q["partner_rows"] == q["kept"] + len(q["dropped"]) + q["excluded_by_as_of"]["count"]
    assert august.attrs["as_of"] == pd.Timestamp("2019-08-28")
    assert august["activated"].max() <= pd.Timestamp("2019-08-28")


def test_as_of_on_export_date_keeps_undated_partnerships(raw_ring):
    # Every partnership listed in the 2020-10-07 export was active on 2020-10-07, dated or not:
    # the EFF counted about 1,500 that month.
    undated = sum(r["Link 1 Date"] == "" for r in raw_ring)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "excluded" warning on the export date
        october = load_partners(as_of="2020-10-07", link=False)
    assert len(october) == len(raw_ring) == 1501
    ex = quality_report(october)["excluded_by_as_of"]
    assert ex["undated_included"] == undated and ex["undated"] == 0 and ex["count"] == 0
    # the day before, the undated ones cannot be placed and are excluded
    with pytest.warns(UserWarning, match="active by the export date 2020-10-07"):
        day_before = load_partners(as_of="2020-10-06", link=False)
    assert len(day_before) == 1501 - undated
    with pytest.warns(UserWarning, match="after the dataset's export date"):
        later = load_partners(as_of="2021-06-01", link=False)
    assert len(later) == 1501


def test_as_of_accepts_dates_and_is_inclusive():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        by_text = load_partners(as_of="2019-08-27", link=False)
        by_date = load_partners(as_of=dt.date(2019, 8, 27), link=False)
        by_stamp = load_partners(as_of=pd.Timestamp("2019-08-27 13:00"), link=False)
        day_before = load_partners(as_of="2019-08-26", link=False)
    assert by_text["partner_id"].tolist() == by_date["partner_id"].tolist()
    assert by_text["partner_id"].tolist() == by_stamp["partner_id"].tolist()
    # partnerships activated on the day itself are kept
    assert (by_text["activated"] == "2019-08-27").sum() == len(by_text) - len(day_before) > 0


def test_as_of_none_keeps_every_partnership():
    frame = load_partners(link=False)
    assert len(frame) == 1501 and frame.attrs["as_of"] is None
    assert quality_report(frame)["excluded_by_as_of"]["count"] == 0


@pytest.mark.parametrize("bad", ["yesterday-ish", "2019-13-45", ""])
def test_bad_as_of_raises(bad):
    with pytest.raises(ParameterError, match="is not a date"):
        load_partners(as_of=bad, link=False)


def test_unknown_source_lists_allowed_values():
    with pytest.raises(ParameterError, match=r"'atlas-2019'.*'atlas-2020-10-07'"):
        load_partners("atlas-2019", link=False)


def test_load_partners_reads_a_path(atlas_path, atlas):
    frame = load_partners(atlas_path, link=False)
    pd.testing.assert_frame_equal(frame, atlas)


def test_repeated_loads_are_independent_copies():
    first = load_partners(link=False)
    first.at[0, "county_names"].append("Narnia County")
    quality_report(first)["flagged"].clear()
    second = load_partners(link=False)
    assert "Narnia County" not in second.at[0, "county_names"]
    assert quality_report(second)["flagged"]


# ----------------------------------------------------------------- Excel re-saves
def _excel_rows(atlas_path):
    with open(atlas_path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    col = header.index("Link 1 Date")
    for row in body:  # Excel writes the dates it shows: M/D/YY
        if re.fullmatch(r"\d+/\d+/\d{4}", row[col]):
            month, day, year = row[col].split("/")
            row[col] = f"{int(month)}/{int(day)}/{year[-2:]}"
    return header, body


def _same_partners(resaved, atlas):
    columns = [c for c in COLUMNS if c != "source"]
    pd.testing.assert_frame_equal(resaved[columns], atlas[columns])


def test_excel_utf8_resave_gives_same_partners(tmp_path, atlas_path, atlas):
    header, body = _excel_rows(atlas_path)
    path = write_csv(tmp_path / "atlas.csv", header, body, encoding="utf-8-sig",
                     newline="\r\n")
    assert path.read_bytes().startswith(codecs.BOM_UTF8 + b"AOSNUMBER,")
    resaved = read_partners(path)
    _same_partners(resaved, atlas)
    assert quality_report(resaved)["encoding"] == "utf-8-sig"


def test_excel_ansi_resave_gives_same_partners(tmp_path, atlas_path, atlas):
    # Excel's "CSV (Comma delimited)" on Windows: cp1252, CRLF, and "?" for the
    # characters cp1252 cannot hold (the U+200E marks).
    header, body = _excel_rows(atlas_path)
    path = write_csv(tmp_path / "atlas.csv", header, body, encoding="cp1252",
                     newline="\r\n", errors="replace")
    with pytest.warns(UserWarning, match="could not be read as written"):
        resaved = read_partners(path)
    _same_partners(resaved, atlas)
    q = quality_report(resaved)
    assert q["encoding"] == "cp1252"
    lost = [f for f in q["flagged"] if f["reason"].startswith("encoding loss")]
    assert {f["partner_id"] for f in lost} == set(
        atlas.loc[atlas["county_raw"].str.contains("\u200e"), "partner_id"])
    assert "New Kent County Sheriff\u2019s Office" in set(resaved["agency"])


def test_european_excel_semicolons_and_latin1(tmp_path):
    rows = [ring_row(1, City="Ca\u00f1on City", Agency="Ca\u00f1on City Police Department",
                     State="Colorado", **{"Link 1 Date": "4/5/2019"})]
    header = list(rows[0])
    path = write_csv(tmp_path / "a.csv", header, [[r[h] for h in header] for r in rows],
                     encoding="latin-1", delimiter=";")
    frame = read_partners(path)
    assert frame.loc[0, ["city", "state", "activated"]].tolist() == [
        "Ca\u00f1on City", "CO", pd.Timestamp("2019-04-05")]
    assert frame.loc[0, "state_raw"] == "Colorado"


# ----------------------------------------------------------------- crafted Atlas files
def test_crafted_atlas_cleaning(tmp_path):
    path = atlas_file(tmp_path / "a.csv", [
        ring_row(1, County="\u200eKane County\u00a0and  Cook County", Agency=" Elgin  Police "
                 "Department\u200e", City="Elgin", State="illinois"),
        ring_row(2, County="N/A", **{"Link 1 Date": "2019-06-01"}),
        ring_row(3, County="Lewis and Clark County", Agency="Helena Police Department",
                 City="Helena", State="MT", **{"Type of Juris": "Parish"}),
        {"AOSNUMBER": "AOS9", "Technology": "Drones", "Agency": "Elgin Police Department"},
        {},  # a record of empty fields (Excel writes them for formatted, empty rows)
    ])
    frame = read_partners(path)
    assert frame["agency"].tolist() == ["Elgin Police Department",
                                        "Greenfield Police Department", "Helena Police Department"]
    assert frame["agency_raw"].tolist()[0] == " Elgin  Police Department\u200e"
    assert frame["county_names"].tolist() == [["Kane County", "Cook County"], [],
                                              ["Lewis and Clark County"]]
    assert frame["state"].tolist() == ["IL", "WI", "MT"]
    assert frame["state_raw"].tolist() == ["illinois", "WI", "MT"]
    assert frame["jurisdiction_type"].tolist() == ["municipal", "municipal", "county"]
    assert frame["row"].tolist() == [2, 3, 4]
    q = quality_report(frame)
    assert (q["rows_read"], q["partner_rows"], q["other_technology"], q["blank_records"]) == (
        5, 3, 1, 1)
    assert [(f["partner_id"], f["field"]) for f in q["flagged"]] == [("AOS2", "county")]
    assert "'N/A' treated as blank" in q["flagged"][0]["reason"]


@pytest.mark.parametrize("text, expected", [
    ("3/22/18", "2018-03-22"), ("03/22/2018", "2018-03-22"), ("12/5/2019", "2019-12-05"),
    ("2020-06-11", "2020-06-11"), ("2020-06-11T00:00:00", "2020-06-11"),
    ("June 11, 2020", "2020-06-11"), ("11 Jun 2020", "2020-06-11"), ("43181", "2018-03-22"),
    (" 3/22/18\u200e", "2018-03-22"),
])
def test_date_formats(tmp_path, text, expected):
    path = atlas_file(tmp_path / "a.csv", [ring_row(1, **{"Link 1 Date": text})])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an Excel serial is read, and flagged
        frame = read_partners(path)
    assert frame.loc[0, "activated"] == pd.Timestamp(expected)
    assert frame.loc[0, "activated_raw"] == text


def test_bad_date_and_bad_state_are_flagged_not_dropped(tmp_path):
    path = atlas_file(tmp_path / "a.csv", [
        ring_row(1, **{"Link 1 Date": "31/12/2019"}),
        ring_row(2, State="Wisconsn"),
        ring_row(3, **{"Link 1 Date": "3/22/12"}),
    ])
    with pytest.warns(UserWarning, match=r"a\.csv: 3 value\(s\) could not be read.*row 2"):
        frame = read_partners(path)
    assert len(frame) == 3
    assert pd.isna(frame.loc[0, "activated"]) and pd.isna(frame.loc[1, "state"])
    reasons = {(f["row"], f["field"]): f["reason"] for f in quality_report(frame)["flagged"]}
    assert re.match(r"unparseable date: '31/12/2019'", reasons[(2, "activated")])
    assert re.match(r"not a US state: 'Wisconsn'", reasons[(3, "state")])
    assert re.match(r"implausible date: '3/22/12' \(read as 2012-03-22 by Excel's rule for "
                    r"two-digit years: 30-99 are the 1900s\) is before 2018",
                    reasons[(4, "activated")])


def test_unknown_types_derived_from_name_and_flagged(tmp_path):
    path = atlas_file(tmp_path / "a.csv", [
        ring_row(1, Agency="Dane County Sheriff's Office", **{"Type of LEA": "Marshal?",
                                                               "Type of Juris": ""}),
    ])
    with pytest.warns(UserWarning, match="could not be read"):
        frame = read_partners(path)
    assert frame.loc[0, ["agency_type", "jurisdiction_type"]].tolist() == ["sheriff", "county"]
    fields = [f["field"] for f in quality_report(frame)["flagged"]]
    assert fields == ["agency_type", "jurisdiction_type"]


def test_empty_partner_is_dropped_with_reason(tmp_path):
    path = atlas_file(tmp_path / "a.csv", [
        ring_row(1), {"AOSNUMBER": "AOS2", "Technology": RING, "Link 1 Date": "1/1/19"}])
    with pytest.warns(UserWarning, match="1 row\\(s\\) were dropped"):
        frame = read_partners(path)
    q = quality_report(frame)
    assert frame["partner_id"].tolist() == ["AOS1"]
    assert q["dropped"] == [{"row": 3, "partner_id": "AOS2", "reason": q["dropped"][0]["reason"]}]
    assert q["dropped"][0]["reason"].startswith("empty partner")
    assert q["partner_rows"] == q["kept"] + len(q["dropped"])
    flags = quality_report(frame, kind="flags")
    assert flags.loc[flags["status"] == "dropped", "row"].tolist() == [3]


def test_short_record_is_flagged(tmp_path):
    path = tmp_path / "a.csv"
    header = "AOSNUMBER,City,County,State,Agency,Type of LEA,Type of Juris,Technology,Link 1 Date"
    path.write_text(f"{header}\nAOS1,Elgin,Kane County,IL,Elgin Police Department,Police,"
                    f"Municipal,{RING}\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="could not be read"):
        frame = read_partners(path)
    flag = quality_report(frame)["flagged"][0]
    assert flag["field"] == "row" and "8 fields but the header has 9" in flag["reason"]


# ----------------------------------------------------------------- KML / KMZ
KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
  <Document>
    <name>Active Agency Map</name>
    <Style id="icon-1"><IconStyle><scale>1</scale></IconStyle></Style>
    <Folder>
      <name>Active Agencies</name>
      <Placemark>
        <name>Greenfield Police Department</name>
        <address>Greenfield, WI</address>
        <styleUrl>#icon-1</styleUrl>
        <ExtendedData>
          <Data name="Active Date"><value>3/22/2018</value></Data>
          <Data name="Agency Profile"><value>https://neighbors.ring.com/agency/1</value></Data>
          <Data name="Video Requests"><value>12</value></Data>
        </ExtendedData>
        <Point><coordinates>-88.0125,42.9614,0</coordinates></Point>
      </Placemark>
      <Placemark>
        <name>Lee County Sheriff&#39;s Office</name>
        <address>Fort Myers, Florida</address>
        <ExtendedData>
          <Data name="Active Date"><value>11/15/2019</value></Data>
          <Data name="Video Requests"><value>0</value></Data>
        </ExtendedData>
      </Placemark>
      <Placemark>
        <name>Howard County Police Department</name>
        <description><![CDATA[Active Date: 2019-07-01<br>Address: Ellicott City, MD 21043, USA]]>
        </description>
      </Placemark>
      <Placemark>
        <name>Springfield Police Department</name>
        <address>Springfield, Narnia</address>
        <ExtendedData><Data name="Active Date"><value>soon</value></Data></ExtendedData>
      </Placemark>
    </Folder>
  </Document>
</kml>
"""


def test_kml_reader(tmp_path):
    path = tmp_path / "ring.kml"
    path.write_text(KML, encoding="utf-8")
    with pytest.warns(UserWarning, match="2 value\\(s\\) could not be read"):
        frame = read_partners(path)
    lines = KML.split("\n")
    assert [lines[r - 1].strip() for r in frame["row"]] == ["<Placemark>"] * 4
    assert frame["partner_id"].tolist() == ["KML-0001", "KML-0002", "KML-0003", "KML-0004"]
    assert frame["agency"].tolist()[1] == "Lee County Sheriff's Office"
    assert frame["city"].tolist() == ["Greenfield", "Fort Myers", "Ellicott City", "Springfield"]
    assert frame["state"].tolist()[:3] == ["WI", "FL", "MD"] and pd.isna(frame.loc[3, "state"])
    assert frame["agency_type"].tolist() == ["police", "sheriff", "police", "police"]
    assert frame["jurisdiction_type"].tolist() == ["municipal", "county", "county", "municipal"]
    assert frame["activated"].tolist()[:3] == [pd.Timestamp("2018-03-22"),
                                               pd.Timestamp("2019-11-15"),
                                               pd.Timestamp("2019-07-01")]
    assert frame["county_names"].tolist() == [[], [], [], []]
    q = quality_report(frame)
    assert q["format"] == "ring-kml" and q["rows_read"] == q["partner_rows"] == q["kept"] == 4
    assert {(f["partner_id"], f["field"]) for f in q["flagged"]} == {
        ("KML-0004", "state"), ("KML-0004", "activated")}
    assert any("no county" in note for note in q["notes"])


def test_kmz_reads_like_kml(tmp_path):
    (tmp_path / "ring.kml").write_text(KML, encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "ring.kmz", "w") as archive:
        archive.writestr("doc.kml", KML)
        archive.writestr("images/icon.png", b"\x89PNG")
    kml, kmz = read_quietly(tmp_path / "ring.kml"), read_quietly(tmp_path / "ring.kmz")
    pd.testing.assert_frame_equal(kml.drop(columns="source"), kmz.drop(columns="source"))


# ----------------------------------------------------------------- plain CSV
def test_plain_csv_reader(tmp_path):
    path = tmp_path / "newsroom.csv"
    path.write_text(
        "AGENCY NAME,City,st,Activation Date,Counties\n"
        "Frisco Police Department,Frisco,TX,2019-03-04,Collin and Denton Counties\n"
        "Helena Police Department,Helena,Montana,4/5/19,Lewis and Clark County\n"
        "St. Tammany Parish Sheriff's Office,Covington,LA,,St. Tammany Parish\n"
        "Northern Regional Police Department,Wexford,PA,2019-10-10,Allegheny County\n",
        encoding="utf-8")
    frame = read_partners(path)
    assert frame["partner_id"].tolist() == ["CSV-0001", "CSV-0002", "CSV-0003", "CSV-0004"]
    assert frame["county_names"].tolist() == [["Collin County", "Denton County"],
                                              ["Lewis and Clark County"],
                                              ["St. Tammany Parish"], ["Allegheny County"]]
    assert frame["state"].tolist() == ["TX", "MT", "LA", "PA"]
    assert frame["agency_type"].tolist() == ["police", "police", "sheriff", "police"]
    assert frame["jurisdiction_type"].tolist() == ["municipal", "municipal", "county",
                                                   "regional"]
    assert frame["activated"].isna().tolist() == [False, False, True, False]
    assert frame.loc[1, "activated"] == pd.Timestamp("2019-04-05")
    q = quality_report(frame)
    assert q["format"] == "plain-csv"
    assert [(f["row"], f["field"]) for f in q["flagged"]] == [(4, "activated")]


def test_plain_csv_with_ids_and_types(tmp_path):
    path = tmp_path / "list.tsv"
    path.write_text("id\tagency\tcity\tstate\tactivated\tagency_type\tjurisdiction_type\n"
                    "X1\tHarris County Constable Precinct 4\tHouston\tTX\t2020-01-02\tother"
                    "\tcounty\n"
                    "X1\tHouston Police Department\tHouston\tTX\t2020-01-03\tPolice\t"
                    "Municipal\n", encoding="utf-8")
    frame = read_partners(path)
    assert frame["partner_id"].tolist() == ["X1", "X1"]
    assert frame["agency_type"].tolist() == ["other", "police"]
    flags = quality_report(frame)["flagged"]
    assert [f["reason"].split(":")[0] for f in flags] == ["duplicate id", "duplicate id"]


def test_header_only_file_warns_and_returns_empty_table(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("agency,city,state,activated\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="holds no Ring partnership row"):
        frame = read_partners(path)
    assert list(frame.columns) == COLUMNS and len(frame) == 0
    assert frame["activated"].dtype == "datetime64[ns]"


# ----------------------------------------------------------------- error paths
def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.csv does not exist"):
        read_partners(tmp_path / "nope.csv")


def test_folder(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        read_partners(tmp_path)


@pytest.mark.parametrize("content", [b"", b"\r\n\r\n", codecs.BOM_UTF8])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"empty\.csv is empty"):
        read_partners(path)


def test_missing_required_columns(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("Agency,City,State\nElgin Police Department,Elgin,IL\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"list\.csv lacks the required column\(s\) activated"):
        read_partners(path)


def test_atlas_missing_columns(tmp_path):
    path = atlas_file(tmp_path / "a.csv", [ring_row(1)],
                      header=["AOSNUMBER", "City", "State", "Agency", "Technology"])
    with pytest.raises(InputError, match=r"Atlas of Surveillance export .* lacks the "
                                         r"column\(s\) 'Type of LEA', 'Type of Juris', "
                                         r"'County', 'Link 1 Date'"):
        read_partners(path)


def test_duplicated_column(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("agency,city,state,activated,State\nA,B,IL,2019-01-01,IL\n", "utf-8")
    with pytest.raises(InputError, match=r"column 'state' appears 2 times"):
        read_partners(path)


def test_not_a_csv(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Some notes about Ring\nand nothing else\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a CSV ringgeo understands"):
        read_partners(path)


def test_unclosed_quote(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text('agency,city,state,activated\n"Elgin Police,Elgin,IL,2019-01-01\n', "utf-8")
    with pytest.raises(InputError,
                       match=r"list\.csv: cannot parse the CSV record starting at line 2"):
        read_partners(path)


def test_binary_file(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"\x01\x02\x00\x00\xff" * 20)
    with pytest.raises(InputError, match="is a binary file"):
        read_partners(path)


def test_excel_workbooks_are_refused_with_a_fix(tmp_path):
    xlsx = tmp_path / "partners.xlsx"
    with zipfile.ZipFile(xlsx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(InputError, match=r"Excel workbook \(\.xlsx\).*Save As"):
        read_partners(xlsx)
    xls = tmp_path / "partners.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    with pytest.raises(InputError, match=r"old Excel workbook \(\.xls\)"):
        read_partners(xls)


def test_zip_without_kml(tmp_path):
    path = tmp_path / "ring.kmz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(InputError, match=r"without a \.kml file inside \(it holds readme"):
        read_partners(path)


def test_malformed_kml(tmp_path):
    path = tmp_path / "ring.kml"
    path.write_text(KML.replace("</Folder>", ""), encoding="utf-8")
    with pytest.raises(InputError, match=r"ring\.kml: not well-formed XML at line \d+"):
        read_partners(path)


def test_xml_that_is_not_kml(tmp_path):
    path = tmp_path / "feed.xml"
    path.write_text("<?xml version='1.0'?><rss><channel/></rss>", encoding="utf-8")
    with pytest.raises(InputError, match="root element is 'rss', not a KML document"):
        read_partners(path)


def test_kml_without_placemarks(tmp_path):
    path = tmp_path / "ring.kml"
    path.write_text('<kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>', "utf-8")
    with pytest.raises(InputError, match="without any Placemark"):
        read_partners(path)


def test_quality_report_errors(atlas):
    with pytest.raises(ParameterError, match="no quality report in attrs"):
        quality_report(pd.DataFrame({"a": [1]}))
    with pytest.raises(ParameterError, match="kind was 'html' but is expected"):
        quality_report(atlas, kind="html")


# ----------------------------------------------------------------- report views and CLI
def test_quality_report_views(atlas):
    q = quality_report(atlas)
    assert quality_report(atlas) is atlas.attrs["quality"]
    flags = quality_report(atlas, kind="flags")
    assert len(flags) == len(q["flagged"]) + len(q["dropped"])
    assert flags["row"].is_monotonic_increasing
    text = quality_report(atlas, kind="text")
    assert f"rows read:        {q['rows_read']:,}" in text
    assert f"{q['other_technology']:,} other technology" in text
    assert "duplicate: Madison Police Department (WI)" in text


def test_cli_summary(capsys, raw_ring):
    dates = pd.to_datetime(pd.Series([r["Link 1 Date"] for r in raw_ring]), format="mixed")
    assert cli.main(["partners", "--no-link", "--as-of", "2019-08-28"]) == 0
    out = capsys.readouterr().out
    kept = int((dates <= "2019-08-28").sum())
    assert out.startswith(f"{kept:,} Ring partnerships as of 2019-08-28 (atlas-2020-10-07)")
    assert re.search(rf"\n\s+2018\s+{int((dates.dt.year == 2018).sum())}\n", out)
    assert "by state:" in out and "excluded by as_of" in out
    assert "warning: as_of=2019-08-28: 170 partnership(s)" in out


def test_cli_bad_date(capsys):
    assert cli.main(["partners", "--no-link", "--as-of", "someday"]) == 1
    assert "ringgeo: error: `as_of` was 'someday', which is not a date" in capsys.readouterr().err


def test_cli_reads_a_file(tmp_path, capsys):
    path = atlas_file(tmp_path / "a.csv", [ring_row(1), ring_row(2, State="IL")])
    assert cli.main(["partners", "--no-link", "--source", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 Ring partnerships (a.csv)")
    assert re.search(r"IL\s+1\s+WI\s+1", out)


def test_package_exports():
    assert ringgeo.load_partners is load_partners
    assert ringgeo.read_partners is read_partners
    assert ringgeo.quality_report is quality_report


def test_load_partners_links_after_filtering():
    with pytest.warns(UserWarning, match="without an activation date"):
        linked = load_partners(as_of="2018-12-31")
    unlinked = read_quietly(ringgeo.data.fetch(ATLAS))
    expected = unlinked.loc[unlinked["activated"] <= "2018-12-31", "partner_id"].tolist()
    assert linked["partner_id"].tolist() == expected
    for column in ("county_fips", "primary_county_fips", "muni_geoid", "muni_name",
                   "muni_kind", "muni_population", "link_method", "link_score",
                   "muni_link_method"):
        assert column in linked.columns
    q = quality_report(linked)
    assert linked.attrs["as_of"] == pd.Timestamp("2018-12-31")
    assert q["kept"] == len(linked) and q["links"]["rows"] == len(linked)
    assert q["partner_rows"] == q["kept"] + q["excluded_by_as_of"]["count"] + len(q["dropped"])


def test_truncated_utf16_file_is_an_input_error(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_bytes("agency,city,state,activated\nFoo PD,Foo,CA,3/4/2019\n".encode("utf-16")[:-1])
    with pytest.raises(InputError, match=r"cut\.csv: .*not valid UTF-16.*Re-save it"):
        read_partners(path)
