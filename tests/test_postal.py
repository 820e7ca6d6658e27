import csv
import io
import zipfile
from collections import Counter

import pytest

from ringgeo import postal
from ringgeo.exceptions import InputError

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
