"""Tests of ringgeo.atlas: every technology of the 2020 export, and a reader's newer export.

The real data is the Atlas of Surveillance export of 2020-10-07 from the mirror, recounted
here with pandas on the raw file; newer exports are crafted in ``tmp_path`` from its rows.
"""

import csv
import hashlib
import io
import warnings

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import ringgeo
from ringgeo import technologies
from ringgeo.atlas import export_date, load_atlas
from ringgeo.exceptions import InputError, ParameterError

ATLAS = "atlas-of-surveillance-20201007.csv"

#: Rows per technology of the 2020-10-07 export, as issue 25 gives them.
ISSUE_COUNTS = {"ring": 1501, "bwc": 1378, "drones": 1079, "alpr": 585, "camera_registry": 398,
                "face_recognition": 369, "predictive": 146, "gunshot": 99, "fusion": 79,
                "cell_site": 67, "rtcc": 58, "video_analytics": 25}


@pytest.fixture(scope="module")
def raw():
    """The export as pandas reads it, no cleaning: the independent recount."""
    return pd.read_csv(ringgeo.data.fetch(ATLAS), dtype=str, keep_default_na=False)


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


@pytest.fixture(scope="module")
def everything():
    return quiet(load_atlas, "all", link=False)


# ------------------------------------------------------------------ the 2020 export
def test_rows_per_technology_match_the_issue_and_the_raw_file(everything, raw):
    counts = everything["technology"].value_counts().to_dict()
    assert counts == ISSUE_COUNTS
    by_raw = {technologies.key_of(name): n for name, n in raw["Technology"].value_counts().items()}
    assert counts == by_raw
    assert len(everything) == len(raw) == 5784


@pytest.mark.parametrize("key", sorted(ISSUE_COUNTS))
def test_each_technology_loads_alone_with_every_row_accounted_for(key):
    frame = quiet(load_atlas, key, link=False)
    q = ringgeo.quality_report(frame)
    assert len(frame) == ISSUE_COUNTS[key] == q["partner_rows"] == q["kept"]
    assert q["rows_read"] == q["partner_rows"] + q["non_partner_rows"] == 5784
    assert q["other_technology"] == 5784 - ISSUE_COUNTS[key]
    assert frame.attrs["technology"] == key
    assert set(frame["technology"]) == {key}


def test_names_keys_labels_and_lists_are_accepted():
    by_name = quiet(load_atlas, "Automated License Plate Readers", link=False)
    assert by_name.attrs["technology"] == "alpr" and len(by_name) == 585
    pair = quiet(load_atlas, ["drones", "Face Recognition"], link=False)
    assert pair.attrs["technology"] == "all"
    assert pair["technology"].value_counts().to_dict() == {"drones": 1079,
                                                           "face_recognition": 369}


def test_vendor_column_keeps_blanks_as_missing(everything, raw):
    blank = raw.assign(key=raw["Technology"].map(technologies.key_of))
    expected = (blank["Vendor"].str.strip() == "").groupby(blank["key"]).sum()
    got = everything["vendor"].isna().groupby(everything["technology"]).sum()
    assert got.sort_index().tolist() == expected.sort_index().tolist()
    assert str(everything["vendor"].dtype) == "string"


def test_ring_through_load_atlas_is_load_partners(real_partners):
    ring = quiet(load_atlas, "ring")
    pd.testing.assert_frame_equal(ring.drop(columns=["technology", "vendor"]), real_partners)
    unlinked = quiet(load_atlas, "ring", link=False)
    pd.testing.assert_frame_equal(unlinked.drop(columns=["technology", "vendor"]),
                                  quiet(ringgeo.load_partners, link=False))


def test_only_ring_rows_are_dated_and_others_are_not_flagged_for_it(everything):
    dated = everything["activated"].notna()
    assert not dated[everything["technology"] != "ring"].any()
    assert dated[everything["technology"] == "ring"].sum() == 1501 - 170
    ring_ids = set(everything.loc[everything["technology"] == "ring", "partner_id"])
    flags = ringgeo.quality_report(everything)["flagged"]
    assert all(f["partner_id"] in ring_ids for f in flags if f["field"] == "activated")


def test_as_of_reports_undated_rows_instead_of_dropping_them_silently():
    with pytest.warns(UserWarning, match=r"1079 partnership\(s\) without an activation date"):
        before = load_atlas("drones", as_of="2019-12-31", link=False)
    q = ringgeo.quality_report(before)
    assert len(before) == 0
    assert q["excluded_by_as_of"]["undated"] == q["excluded_by_as_of"]["count"] == 1079
    assert q["partner_rows"] == q["kept"] + q["excluded_by_as_of"]["count"]
    assert len(quiet(load_atlas, "drones", as_of="2020-10-07", link=False)) == 1079


def test_bad_technology_and_source_say_what_to_use():
    with pytest.raises(ParameterError, match=r"'robots'.*drones.*'all'"):
        load_atlas("robots", link=False)
    with pytest.raises(ParameterError, match="empty list"):
        load_atlas([], link=False)
    with pytest.raises(ParameterError, match="neither a known Atlas dataset nor an existing"):
        load_atlas("drones", source="atlas-2031-01-01", link=False)


def test_source_file_names_the_registry_file_and_its_sha256():
    drones = quiet(load_atlas, "drones", link=False)
    info = drones.attrs["source_file"]
    assert info["sha256"] == ringgeo.data.source_info(ATLAS)["sha256"]
    assert info["date"] == "2020-10-07" and info["registry"] == ATLAS


# ------------------------------------------------------------------ drones end to end
@pytest.fixture(scope="module")
def drones():
    return quiet(load_atlas, "drones")


def test_drones_per_capita_by_state(drones, raw):
    table = quiet(ringgeo.coverage.by_state, drones)
    assert table.attrs["technology"] == "drones"
    in_51 = raw[(raw["Technology"] == "Drones")
                & raw["State"].isin(ringgeo.states.STATES_AND_DC)]
    assert table["partners"].sum() == len(in_51)
    row = table.loc["WI"]
    assert row["partners_per_100k"] == pytest.approx(row["partners"] / row["population"] * 1e5)


def test_a_drone_map_says_drones_not_ring(drones):
    table = quiet(ringgeo.coverage.by_state, drones)
    fig, ax = quiet(ringgeo.plot.choropleth, table, "partners_per_100k")
    words = " ".join([t.get_text() for t in fig.texts] + [ax.get_legend().get_title().get_text()]
                     + list(ringgeo.plot.alt_text(fig)))
    assert "drone" in words.lower()
    assert "Ring" not in words and "partnership" not in words
    assert "Atlas of Surveillance (CC BY 4.0)" in words
    assert ringgeo.tables.map_title("partners", frame=drones) == "Agencies using drones, by state"
    plt.close(fig)


def test_a_lookup_about_drones_names_drones():
    answer = ringgeo.lookup("Philadelphia, PA", technology="drones")
    text = repr(answer)
    assert "Drones as of" in text and "Ring" not in text
    assert answer.technology == "drones" and answer.partner
    assert "listed with drones" in " ".join(answer.agencies["status"])
    with pytest.raises(ParameterError, match="technology='all'"):
        ringgeo.lookup("19082", technology="all")


# ------------------------------------------------------------------ a reader's newer export
def _rows(raw, per_technology=6):
    """A few real rows of some technologies (Ring, drones, ALPR), as dicts."""
    picked = [raw[raw["Technology"] == t].head(per_technology)
              for t in ("Ring/Neighbors Partnership", "Drones",
                        "Automated License Plate Readers")]
    return pd.concat(picked).to_dict("records")


def _write(path, rows, columns):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, quoting=csv.QUOTE_ALL,
                            extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_export_date_from_the_atlas_file_name():
    assert export_date("Atlas of Surveillance-20250314.csv") == pd.Timestamp("2025-03-14")
    assert export_date("atlas.csv") is None and export_date("x-20251399.csv") is None


def test_added_and_reordered_columns_are_reported_and_the_file_loads(tmp_path, raw):
    rows = [{**r, "Year": "2025"} for r in _rows(raw)]
    columns = ["Technology", "Agency"] + [c for c in raw.columns
                                          if c not in ("Technology", "Agency")] + ["Year"]
    path = _write(tmp_path / "Atlas of Surveillance-20250314.csv", rows, columns)
    with pytest.warns(UserWarning, match=r"not in the 2020-10-07 export.*Year"):
        frame = load_atlas("all", source=path, link=False)
    q = ringgeo.quality_report(frame)
    assert q["columns"]["added"] == ["Year"] and q["columns"]["reordered"]
    assert q["columns"]["missing"] == [] and q["export_date"] == "2025-03-14"
    assert frame["technology"].value_counts().to_dict() == {"ring": 6, "drones": 6, "alpr": 6}
    assert frame.attrs["source_file"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert any("reordered" in note for note in q["notes"])


def test_a_renamed_column_is_reported_and_mapped_when_known(tmp_path, raw, monkeypatch):
    rows = [{("Description" if k == "Summary" else k): v for k, v in r.items()}
            for r in _rows(raw)]
    columns = [("Description" if c == "Summary" else c) for c in raw.columns]
    path = _write(tmp_path / "Atlas of Surveillance-20250314.csv", rows, columns)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = load_atlas("drones", source=path, link=False)
    said = " ".join(str(w.message) for w in caught)
    assert "missing: Summary" in said and "not read: Description" in said
    q = ringgeo.quality_report(frame)
    assert q["columns"]["added"] == ["Description"] and q["columns"]["missing"] == ["Summary"]
    # a rename ringgeo knows (none is verified today: a hypothetical one) is mapped
    monkeypatch.setitem(ringgeo._readers.ATLAS_RENAMES, "agency name", "Agency")
    renamed = [("Agency Name" if c == "Agency" else c) for c in raw.columns]
    rows = [{("Agency Name" if k == "Agency" else k): v for k, v in r.items()} for r in _rows(raw)]
    path = _write(tmp_path / "Atlas of Surveillance-20250315.csv", rows, renamed)
    with pytest.warns(UserWarning, match="'Agency Name' read as 'Agency'"):
        frame = load_atlas("drones", source=path, link=False)
    assert frame["agency"].notna().all() and len(frame) == 6


def test_a_renamed_required_column_unknown_to_ringgeo_is_a_clear_error(tmp_path, raw):
    columns = [("Agency Name" if c == "Agency" else c) for c in raw.columns]
    rows = [{("Agency Name" if k == "Agency" else k): v for k, v in r.items()} for r in _rows(raw)]
    path = _write(tmp_path / "Atlas of Surveillance-20250314.csv", rows, columns)
    with pytest.raises(InputError, match=r"lacks the column\(s\) 'Agency'.*Agency Name"):
        load_atlas("drones", source=path, link=False)


def test_a_renamed_technology_is_kept_unknown_or_mapped_when_known(tmp_path, raw, monkeypatch):
    rows = [{**r, "Technology": "Drones/UAS" if r["Technology"] == "Drones" else r["Technology"]}
            for r in _rows(raw)]
    path = _write(tmp_path / "Atlas of Surveillance-20250314.csv", rows, list(raw.columns))
    with pytest.warns(UserWarning, match="does not know.*'Drones/UAS'"):
        frame = load_atlas("all", source=path, link=False)
    q = ringgeo.quality_report(frame)
    assert q["technologies"]["unknown"] == ["Drones/UAS"]
    assert frame["technology"].value_counts()["Drones/UAS"] == 6
    with pytest.raises(InputError, match=r"no row of 'Drones'.*Drones/UAS \(6\)"):
        quiet(load_atlas, "drones", source=path, link=False)
    monkeypatch.setitem(technologies.RENAMES, "Drones/UAS", "drones")
    with pytest.warns(UserWarning, match="'Drones/UAS' read as 'Drones'"):
        mapped = load_atlas("drones", source=path, link=False)
    assert len(mapped) == 6
    assert ringgeo.quality_report(mapped)["technologies"]["renamed"] == {"Drones/UAS": "drones"}


def test_an_export_without_ring_says_so_when_ring_is_asked_for(tmp_path, raw):
    rows = [r for r in _rows(raw) if r["Technology"] != "Ring/Neighbors Partnership"]
    path = _write(tmp_path / "Atlas of Surveillance-20250314.csv", rows, list(raw.columns))
    with pytest.raises(InputError, match=r"Atlas of Surveillance-20250314.csv has no row of "
                                         r"'Ring/Neighbors Partnership'.*removed its Ring "
                                         r"category in March 2024.*"
                                         r"atlas-2020-10-07.*drones \(6\), alpr \(6\)"):
        load_atlas(source=path, link=False)
    with pytest.warns(UserWarning, match="no row of 'Ring/Neighbors Partnership'"):
        both = load_atlas(["ring", "alpr"], source=path, link=False)
    assert set(both["technology"]) == {"alpr"}


def test_a_technology_ringgeo_has_never_seen_is_kept_under_its_name(tmp_path, raw):
    rows = _rows(raw) + [{**_rows(raw)[0], "AOSNUMBER": "AOS9999", "Technology": "Police Robots",
                          "Vendor": ""}]
    path = _write(tmp_path / "Atlas of Surveillance-20250314.csv", rows, list(raw.columns))
    with pytest.warns(UserWarning, match="'Police Robots'"):
        robots = load_atlas("Police Robots", source=path, link=False)
    assert len(robots) == 1 and robots.attrs["technology"] == "Police Robots"
    assert robots["vendor"].isna().all()
    assert technologies.label(robots) == "Police Robots"
    assert technologies.members(robots) == "agencies listed under 'Police Robots'"


def test_a_readers_export_is_credited_with_its_date_and_sha256(tmp_path, raw):
    path = _write(tmp_path / "Atlas of Surveillance-20250314.csv", _rows(raw, 30),
                  list(raw.columns))
    alpr = quiet(load_atlas, "alpr", source=path)
    line = ringgeo.plot.source_line("partners", frame=quiet(ringgeo.coverage.by_state, alpr))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert "your export of 2025-03-14" in line and sha[:16] in line
    assert "license plate reader rows" in line and "2020-10-07" not in line


def test_a_file_that_is_not_an_atlas_export(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("agency,city,state,activated\nX PD,X,WI,2019-01-01\n", encoding="utf-8")
    with pytest.raises(InputError, match="not an Atlas of Surveillance export"):
        load_atlas("drones", source=path, link=False)


def test_a_web_map_of_plate_readers_names_them(tmp_path):
    alpr = quiet(load_atlas, "alpr")
    web = quiet(ringgeo.plot.explore, quiet(ringgeo.coverage.by_state, alpr), "partners")
    info = ringgeo.plot.map_info(web)
    assert "Agencies using automated license plate readers" in info["layers"]
    assert "license plate reader rows" in info["credit"]
    assert "Ring" not in " ".join(info["layers"] + [info["title"], info["credit"]])
    # the agencies not listed with plate readers are no "never partnered" agencies
    assert "Other agencies (not listed)" in info["layers"]
    assert "partner" not in " ".join(info["layers"] + info["notes"]).replace("Partner", "")


def test_lookup_command_line_takes_a_technology(capsys):
    assert ringgeo.cli.main(["lookup", "Philadelphia, PA", "--technology", "drones"]) == 0
    out = capsys.readouterr().out
    assert "Drones as of" in out and "Ring" not in out


def test_a_web_map_of_a_readers_file_does_not_take_its_points_from_the_registry():
    # a coverage table made from a reader's download: the agency points must come from the
    # same file, not silently from the registry's 2020 export
    table = pd.DataFrame({"partners": {"CA": 3, "TX": 1}})
    table.attrs.update(technology="alpr", source_file={
        "name": "Atlas of Surveillance-20250314.csv", "sha256": "ab" * 32,
        "date": "2025-03-14", "registry": None})
    with pytest.raises(ParameterError, match=r"your file 'Atlas of Surveillance-20250314\.csv'"
                                             r".*partners=ringgeo\.load_atlas\('alpr'"):
        ringgeo.plot.explore(table, "partners")
    info = ringgeo.plot.map_info(ringgeo.plot.explore(table, "partners", agencies=False))
    assert "your export of 2025-03-14" in info["credit"] and "Ring" not in info["credit"]


@pytest.mark.parametrize("technology", [None, 123, 4.5])
def test_a_technology_that_is_no_name_is_a_parameter_error(technology):
    with pytest.raises(ParameterError, match=r"technology was .* give a name"):
        load_atlas(technology)


def test_a_readers_file_flags_a_formula_vendor_and_a_name_without_a_date(tmp_path, raw):
    rows = _rows(raw)
    rows[0] = {**rows[0], "Vendor": "=HYPERLINK(\"http://x\")"}
    path = _write(tmp_path / "atlas-export.csv", rows, list(raw.columns))
    with pytest.warns(UserWarning, match="the file name carries no export date"):
        frame = load_atlas("all", source=path, link=False)
    q = ringgeo.quality_report(frame)
    assert [f["field"] for f in q["formula_like"]] == ["vendor"]
    assert q["export_date"] is None
    assert "export date unknown" in ringgeo.plot.source_line(level=None, frame=frame)


def test_overlaps_of_a_one_technology_table_and_a_lookup_of_unlinked_rows():
    ring = quiet(load_atlas, "ring")
    with pytest.raises(ParameterError, match=r"holds only 'ring': an overlap needs another"):
        ringgeo.overlap_table(ring)
    # the fusion centres link to no FBI agency: the answer says none is listed
    answer = quiet(ringgeo.lookup, "19082", technology="fusion")
    assert "not listed with fusion centers" in str(answer)
    with pytest.raises(ParameterError, match="non-empty list of coverage tables"):
        ringgeo.plot.small_multiples([1, 2])


def test_an_as_of_before_2018_for_drones_says_only_rings_rows_are_dated():
    with pytest.raises(ParameterError, match=r"before 2018-01-01: .*the Atlas dates only "
                                             r"Ring's rows"):
        load_atlas("drones", as_of="2010-01-01", link=False)
