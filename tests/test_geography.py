"""Tests of ringgeo.geography: crafted files for parsing and errors, the real
registry files for the consistency checks the issue asks for."""

import csv
import functools
import io
import zipfile

import geopandas as gpd
import pytest
from shapely.geometry import box

from ringgeo import data, geography
from ringgeo._names import fold, split_descriptor
from ringgeo.exceptions import DataNotFoundError, InputError
from ringgeo.geography import split_name

NATIONAL_2019 = 328_239_523  # Census national total, July 1 2019 (vintage 2019)
NATIONAL_2020 = 331_501_080  # sum of the sub-est2021 state rows, POPESTIMATE2020

SUBEST_HEADER = ["SUMLEV", "STATE", "COUNTY", "PLACE", "COUSUB", "CONCIT", "PRIMGEO_FLAG",
                 "FUNCSTAT", "NAME", "STNAME", "ESTIMATESBASE2020", "POPESTIMATE2020",
                 "POPESTIMATE2021"]
POPEST_HEADER = ["SUMLEV", "REGION", "DIVISION", "STATE", "COUNTY", "STNAME", "CTYNAME",
                 "POPESTIMATE2018", "POPESTIMATE2019"]


# ---------------------------------------------------------------- helpers

def _csv_text(header, rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _write_subest(tmp_path, rows, header=SUBEST_HEADER):
    path = tmp_path / "sub-est2021_all.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("sub-est2021_all.csv", _csv_text(header, rows).encode("latin-1"))
    return path


def _write_popest(tmp_path, rows, header=POPEST_HEADER):
    path = tmp_path / "co-est2019-alldata.csv"
    path.write_bytes(_csv_text(header, rows).encode("latin-1"))
    return path


def _write_shapes(tmp_path, name, records):
    frame = gpd.GeoDataFrame(records, geometry=[box(i, 0, i + 1, 1) for i in range(len(records))],
                             crs="EPSG:4269")
    folder = tmp_path / name
    folder.mkdir()
    frame.to_file(folder / f"{name}.shp", engine="pyogrio")
    path = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in folder.iterdir():
            archive.write(part, part.name)
    return path


def _county(statefp, countyfp, name, lsad):
    return {"STATEFP": statefp, "COUNTYFP": countyfp, "GEOID": statefp + countyfp,
            "NAME": name, "LSAD": lsad, "ALAND": 10, "AWATER": 1}


# A tiny Pennsylvania: a borough in two counties (its MCD twin is fictitious),
# a village inside a township, a township no place splits, and a coextensive
# town/village pair (NY style).
def _sub(sumlev, county, place, cousub, flag, funcstat, name, pop):
    return [sumlev, "42", county, place, cousub, "00000", flag, funcstat, name,
            "Pennsylvania", str(pop), str(pop), str(pop)]


SUBEST_ROWS = [
    _sub("040", "000", "00000", "00000", "0", "A", "Pennsylvania", 1065),
    _sub("050", "001", "00000", "00000", "0", "A", "Adams County", 1035),
    _sub("050", "003", "00000", "00000", "0", "A", "Allegheny County", 30),
    _sub("162", "000", "10000", "00000", "0", "A", "Twin borough", 100),
    _sub("162", "000", "20000", "00000", "0", "A", "Hamlet village", 50),
    _sub("162", "000", "60010", "00000", "0", "A", "Harrison village", 40),
    _sub("162", "000", "70000", "00000", "0", "S", "Urbanville CDP", 5),
    _sub("157", "001", "10000", "00000", "0", "A", "Twin borough (pt.)", 70),
    _sub("157", "003", "10000", "00000", "0", "A", "Twin borough (pt.)", 30),
    _sub("157", "001", "20000", "00000", "1", "A", "Hamlet village", 50),
    _sub("157", "001", "60010", "00000", "1", "A", "Harrison village", 40),
    _sub("157", "001", "70000", "00000", "1", "S", "Urbanville CDP", 5),
    _sub("157", "001", "99990", "00000", "1", "F", "Balance of Adams County", 870),
    _sub("061", "001", "00000", "30000", "0", "A", "Big township", 200),
    _sub("071", "001", "20000", "30000", "1", "A", "Hamlet village", 50),
    _sub("071", "001", "99990", "30000", "1", "F", "Balance of Big township", 150),
    _sub("061", "003", "00000", "40000", "0", "F", "Twin borough", 30),
    _sub("071", "003", "10000", "40000", "1", "A", "Twin borough", 30),
    _sub("061", "001", "00000", "50000", "1", "A", "Upper Darby township", 500),
    _sub("061", "001", "00000", "60000", "0", "B", "Harrison town", 40),
    _sub("071", "001", "60010", "60000", "1", "A", "Harrison village", 40),
    _sub("061", "001", "00000", "80000", "1", "S", "Wildlands UT", 5),
]


@pytest.fixture
def crafted_subest(tmp_path, monkeypatch):
    """Point the loaders at the crafted sub-est zip."""
    path = _write_subest(tmp_path, SUBEST_ROWS)
    real_fetch = data.fetch

    def fetch(name, **kwargs):
        return path if name == geography.SUBEST_FILE else real_fetch(name, **kwargs)

    monkeypatch.setattr(data, "fetch", fetch)
    return path


@pytest.fixture
def crafted_counties(tmp_path):
    shapes = _write_shapes(tmp_path, "counties", [
        _county("22", "071", "Orleans", "15"),
        _county("51", "710", "Norfolk", "25"),
        _county("02", "020", "Anchorage", "12"),
        _county("72", "127", "San Juan", "13"),
    ])
    pop = _write_popest(tmp_path, [
        ["040", "3", "7", "22", "000", "Louisiana", "Louisiana", "1", "4648794"],
        ["050", "3", "7", "22", "071", "Louisiana", "Orleans Parish", "1", "390144"],
        ["040", "3", "5", "51", "000", "Virginia", "Virginia", "1", "8535519"],
        ["050", "3", "5", "51", "710", "Virginia", "Norfolk city", "1", "242742"],
        ["040", "4", "9", "02", "000", "Alaska", "Alaska", "1", "731545"],
        ["050", "4", "9", "02", "020", "Alaska", "Anchorage Municipality", "1", "288000"],
    ])
    return shapes, pop


# ---------------------------------------------------------------- names

@pytest.mark.parametrize("name, expected", [
    ("Castle Shannon borough", ("Castle Shannon", "borough", None)),
    ("Upper Darby township", ("Upper Darby", "township", None)),
    ("Norfolk city", ("Norfolk", "city", None)),
    ("Hastings charter township", ("Hastings", "charter township", None)),
    ("Juneau city and borough", ("Juneau", "city and borough", None)),
    ("Indianapolis city (balance)", ("Indianapolis", "city (balance)", None)),
    ("Butte-Silver Bow (balance)", ("Butte-Silver Bow", "(balance)", None)),
    ("Louisville/Jefferson County metro government (balance)",
     ("Louisville/Jefferson County", "metro government (balance)", None)),
    ("Athens-Clarke County unified government (balance)",
     ("Athens-Clarke County", "unified government (balance)", None)),
    ("Augusta-Richmond County consolidated government (balance)",
     ("Augusta-Richmond County", "consolidated government (balance)", None)),
    ("Lexington-Fayette urban county", ("Lexington-Fayette", "urban county", None)),
    ("Kearns metro township", ("Kearns", "metro township", None)),
    ("Bethel Park municipality", ("Bethel Park", "municipality", None)),
    ("Cyr plantation", ("Cyr", "plantation", None)),
    ("Beans purchase", ("Beans", "purchase", None)),
    ("Avery's gore", ("Avery's", "gore", None)),
    ("Hale's location", ("Hale's", "location", None)),
    ("Dixs grant", ("Dixs", "grant", None)),
    ("Ranson corporation", ("Ranson", "corporation", None)),
    ("Camp Atterbury UT", ("Camp Atterbury", "UT", None)),
    ("Urban Honolulu CDP", ("Urban Honolulu", "CDP", None)),
    ("Coeur d'Alene city", ("Coeur d'Alene", "city", None)),
    ("Salt Lake City city", ("Salt Lake City", "city", None)),
    ("San Buenaventura (Ventura) city", ("San Buenaventura", "city", "Ventura")),
    ("Carson City", ("Carson City", "", None)),
    ("Macon-Bibb County", ("Macon-Bibb County", "", None)),
    ("Township 1", ("Township 1", "", None)),
    ("Princeton", ("Princeton", "", None)),
    ("  Upper   Darby township ", ("Upper Darby", "township", None)),
])
def test_split_name(name, expected):
    assert split_name(name) == expected


@pytest.mark.parametrize("descriptor", geography.NAME_DESCRIPTORS)
def test_names_people_type_split_on_the_census_descriptors(descriptor):
    # one vocabulary: a Census name and the same name typed in another case and with
    # punctuation split on the same descriptor (linking keys and lookups read the latter)
    assert split_name(f"Fort Lee {descriptor}") == ("Fort Lee", descriptor, None)
    typed = f"Ft. Lee {descriptor.upper()}"
    assert split_descriptor(typed, folded=True) == ("fort lee", fold(descriptor))


# ---------------------------------------------------------------- crafted files

def test_crafted_counties_names_and_population(crafted_counties):
    shapes, pop = crafted_counties
    counties = geography._build_counties(str(shapes), str(pop))
    assert list(counties["GEOID"]) == ["02020", "22071", "51710", "72127"]
    assert list(counties["full_name"]) == ["Anchorage Municipality", "Orleans Parish",
                                           "Norfolk city", "San Juan Municipio"]
    assert list(counties["state"]) == ["AK", "LA", "VA", "PR"]
    assert counties["population"].tolist()[:3] == [288000, 390144, 242742]
    assert counties["population"].isna().tolist() == [False, False, False, True]
    assert "population_2020base" not in counties
    assert counties.crs.to_epsg() == 4269


def test_crafted_county_without_population_row(tmp_path, crafted_counties):
    shapes, _ = crafted_counties
    (tmp_path / "other").mkdir()
    pop = _write_popest(tmp_path / "other", [
        ["050", "3", "7", "22", "071", "Louisiana", "Orleans Parish", "1", "390144"],
        ["050", "3", "5", "51", "710", "Virginia", "Norfolk city", "1", "242742"],
        ["050", "3", "5", "51", "999", "Virginia", "Nowhere city", "1", "5"],
    ])
    with pytest.raises(InputError, match=r"do not join one to one: only in boundaries "
                                         r"\['02020'\], only in population \['51999'\]"):
        geography._build_counties(str(shapes), str(pop))


def test_crafted_unknown_lsad(tmp_path, crafted_counties):
    _, pop = crafted_counties
    shapes = _write_shapes(tmp_path, "odd", [_county("22", "071", "Orleans", "99")])
    with pytest.raises(InputError, match="unknown county LSAD code.*99.*COUNTY_LSAD"):
        geography._build_counties(str(shapes), str(pop))


def test_crafted_duplicate_county_row(tmp_path, crafted_counties):
    shapes, _ = crafted_counties
    row = ["050", "3", "7", "22", "071", "Louisiana", "Orleans Parish", "1", "390144"]
    pop = _write_popest(tmp_path, [row, row])
    with pytest.raises(InputError, match="county 22071 appears twice"):
        geography._build_counties(str(shapes), str(pop))


def test_crafted_duplicate_row_names_its_line(tmp_path, crafted_counties):
    shapes, _ = crafted_counties
    row = ["050", "3", "7", "22", "071", "Louisiana", "Orleans Parish", "1", "390144"]
    pop = _write_popest(tmp_path, [row, row])
    with pytest.raises(InputError, match=r"co-est2019-alldata.csv, line 3: county 22071 "):
        geography._build_counties(str(shapes), str(pop))


def test_crafted_states(tmp_path, crafted_counties):
    _, pop = crafted_counties
    shapes = _write_shapes(tmp_path, "states", [
        {"STATEFP": "22", "GEOID": "22", "STUSPS": "LA", "NAME": "Louisiana", "LSAD": "00",
         "ALAND": 5, "AWATER": 1},
        {"STATEFP": "72", "GEOID": "72", "STUSPS": "PR", "NAME": "Puerto Rico", "LSAD": "00",
         "ALAND": 5, "AWATER": 1},
    ])
    with pytest.raises(InputError, match=r"State GEOIDs .* only in population \['02', '51'\]"):
        geography._build_states(str(shapes), str(pop))


def test_missing_column_names_file_and_column(tmp_path):
    header = [col for col in POPEST_HEADER if col != "POPESTIMATE2019"]
    pop = _write_popest(tmp_path, [["050", "3", "7", "22", "071", "Louisiana", "Orleans Parish",
                                    "1"]], header=header)
    with pytest.raises(InputError, match=r"co-est2019-alldata.csv lacks column\(s\) "
                                         r"POPESTIMATE2019"):
        geography._read_popest(pop)


def test_bad_count_names_line_and_field(tmp_path):
    pop = _write_popest(tmp_path, [
        ["040", "3", "7", "22", "000", "Louisiana", "Louisiana", "1", "4648794"],
        ["050", "3", "7", "22", "071", "Louisiana", "Orleans Parish", "1", "39O144"],
    ])
    with pytest.raises(InputError, match=r"co-est2019-alldata.csv, line 3: field "
                                         r"POPESTIMATE2019 is '39O144'"):
        geography._read_popest(pop)


def test_popest_unknown_sumlev(tmp_path):
    pop = _write_popest(tmp_path, [["162", "3", "7", "22", "071", "L", "X", "1", "5"]])
    with pytest.raises(InputError, match=r"line 2: SUMLEV is '162'"):
        geography._read_popest(pop)


def test_unreadable_files(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(InputError, match="junk.zip: cannot be read as a shapefile zip"):
        geography._read_boundaries(junk)
    with pytest.raises(InputError, match="junk.zip: cannot be read as a Census CSV"):
        geography._read_subest(junk)


def test_crafted_municipalities(crafted_subest):
    munis = geography.load_municipalities()
    assert list(munis["GEOID"]) == ["4210000", "4220000", "4260010",
                                    "4200130000", "4200150000", "4200160000"]
    row = munis.set_index("GEOID").loc["4210000"]
    assert row["county_fips"] == ("42001", "42003")  # most residents first
    assert (row["kind"], row["base_name"], row["state"], row["population"]) == (
        "place", "Twin", "PA", 100)
    mcd = munis.set_index("GEOID").loc["4200150000"]
    assert (mcd["kind"], mcd["base_name"], mcd["county_fips"]) == (
        "mcd", "Upper Darby", ("42001",))
    twins = munis.set_index("GEOID")["coextensive_geoid"]
    assert twins["4200160000"] == "4260010" and twins["4260010"] == "4200160000"
    assert twins.drop(["4200160000", "4260010"]).isna().all()
    assert munis.attrs["excluded"] == {
        "mcd F: fictitious entity filling the Census hierarchy": 1,
        "mcd S: statistical entity": 1,
        "place S: statistical entity": 1,
    }
    everything = geography.load_municipalities(governments_only=False)
    assert len(everything) == len(munis) + sum(munis.attrs["excluded"].values())


def test_crafted_parts_and_overlaps(crafted_subest):
    parts = geography.load_municipality_parts()
    twin = parts.loc[parts["muni_geoid"] == "4210000"]
    assert twin[["county_fips", "population"]].values.tolist() == [["42001", 70],
                                                                   ["42003", 30]]
    assert parts["incorporated"].tolist() == (parts["kind"] == "place").tolist()
    assert "4200340000" not in set(parts["muni_geoid"])  # the fictitious MCD
    overlaps = geography.load_mcd_place_overlaps()
    assert overlaps.values.tolist() == [["4200130000", "4220000", "42001", 50],
                                        ["4200160000", "4260010", "42001", 40]]
    every = geography.load_mcd_place_overlaps(governments_only=False)
    assert ["4200340000", "4210000", "42003", 30] in every.values.tolist()
    assert not every["place_geoid"].str.endswith("99990").any()


def test_crafted_parts_must_sum(tmp_path):
    rows = [list(r) for r in SUBEST_ROWS]
    rows[8][10] = "31"  # Twin borough's Allegheny part
    with pytest.raises(InputError, match="SUMLEV 157 parts of 4210000 sum to 101 but its "
                                         "SUMLEV 162 row says 100"):
        geography._build_municipalities(str(_write_subest(tmp_path, rows)))


def test_crafted_mcd_parts_must_sum(tmp_path):
    rows = [list(r) for r in SUBEST_ROWS]
    rows[15][10] = "149"  # Balance of Big township
    with pytest.raises(InputError, match="SUMLEV 071 parts of 4200130000 sum to 199"):
        geography._build_municipalities(str(_write_subest(tmp_path, rows)))


def test_crafted_unknown_sumlev(tmp_path):
    rows = [list(r) for r in SUBEST_ROWS] + [_sub("155", "001", "00000", "00000", "0", "A",
                                                  "Odd", 1)]
    with pytest.raises(InputError, match=r"line 24: unknown SUMLEV '155'"):
        geography._build_municipalities(str(_write_subest(tmp_path, rows)))


def test_crafted_subest_missing_column(tmp_path):
    header = [c if c != "FUNCSTAT" else "FUNC" for c in SUBEST_HEADER]
    path = _write_subest(tmp_path, SUBEST_ROWS, header=header)
    with pytest.raises(InputError, match=r"sub-est2021_all.zip lacks column\(s\) FUNCSTAT"):
        geography._build_municipalities(str(path))


def test_missing_mirror_file(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(DataNotFoundError, match="cb_2019_us_county_20m.zip"):
        geography.load_counties()


# ---------------------------------------------------------------- real data

def _popest_rows(mirror_dir):
    with open(mirror_dir / geography.POPEST_FILE, encoding="latin-1", newline="") as handle:
        return list(csv.DictReader(handle))


@functools.lru_cache(maxsize=1)
def _subest_rows_cached(path):
    with zipfile.ZipFile(path) as archive:
        text = archive.read("sub-est2021_all.csv").decode("latin-1")
    return tuple(csv.DictReader(io.StringIO(text)))


def _subest_rows():
    """The real sub-est2021 rows, read with the csv module (not the loader)."""
    return _subest_rows_cached(str(data.fetch(geography.SUBEST_FILE)))


@pytest.fixture(scope="module")
def states():
    return geography.load_states()


@pytest.fixture(scope="module")
def counties():
    return geography.load_counties()


@pytest.fixture(scope="module")
def munis():
    return geography.load_municipalities()


def test_census_names_split_alike_as_written_and_folded(munis):
    # the linking keys (folded) and base_name/descriptor (as written) come from one
    # splitter: on the real names they differ only where a descriptor word is part of
    # the name in capitals ("Carson City")
    differ = []
    for name, descriptor in zip(munis["name"], munis["descriptor"]):
        written = name[: len(name) - len(descriptor)].strip() if descriptor else name
        if split_descriptor(name, folded=True) != (fold(written), fold(descriptor) or None):
            differ.append(name)
    assert differ
    assert all(split_descriptor(n)[1] is None and n.split()[-1][0].isupper() for n in differ)


def test_states_real(states, mirror_dir):
    assert len(states) == 52
    assert states["GEOID"].str.len().eq(2).all() and states["GEOID"].is_unique
    assert states.loc[states["population"].isna(), "state"].tolist() == ["PR"]
    assert int(states["population"].sum()) == NATIONAL_2019
    state_rows = {r["STATE"]: int(r["POPESTIMATE2019"]) for r in _popest_rows(mirror_dir)
                  if r["SUMLEV"] == "040"}
    assert states.dropna(subset=["population"]).set_index("GEOID")["population"].to_dict() \
        == state_rows
    assert states.crs.to_epsg() == 4269
    assert set(states.columns) >= {"GEOID", "state", "name", "population", "aland", "geometry"}


def test_counties_real(counties, states, mirror_dir):
    assert len(counties) == 3220 and counties["GEOID"].is_unique
    assert counties["GEOID"].str.len().eq(5).all()
    assert (counties["GEOID"] == counties["state_fips"] + counties["county_fips"]).all()
    missing = counties.loc[counties["population"].isna()]
    assert set(missing["state"]) == {"PR"} and len(missing) == (counties["state"] == "PR").sum()
    county_rows = {r["STATE"] + r["COUNTY"]: r for r in _popest_rows(mirror_dir)
                   if r["SUMLEV"] == "050"}
    with_pop = counties.dropna(subset=["population"]).set_index("GEOID")
    assert set(with_pop.index) == set(county_rows)  # joins both ways
    for geoid, row in county_rows.items():
        assert with_pop.at[geoid, "population"] == int(row["POPESTIMATE2019"])
        assert with_pop.at[geoid, "full_name"] == row["CTYNAME"]
    by_state = counties.groupby("state")["population"].sum(min_count=1)
    state_pop = states.set_index("state")["population"]
    assert by_state.drop("PR").to_dict() == state_pop.drop("PR").to_dict()


def test_county_spot_values(counties, mirror_dir):
    rows = {r["STATE"] + r["COUNTY"]: r for r in _popest_rows(mirror_dir)}
    indexed = counties.set_index("GEOID")
    for geoid, full_name in [("06037", "Los Angeles County"), ("22071", "Orleans Parish"),
                             ("02020", "Anchorage Municipality"), ("51710", "Norfolk city"),
                             ("35013", "Doña Ana County"), ("11001", "District of Columbia")]:
        assert indexed.at[geoid, "full_name"] == full_name
        assert indexed.at[geoid, "population"] == int(rows[geoid]["POPESTIMATE2019"])


def test_county_population_2020base(counties):
    rows = _subest_rows()
    assert sum(int(r["POPESTIMATE2020"]) for r in rows if r["SUMLEV"] == "040") == NATIONAL_2020
    county_base = {r["STATE"] + r["COUNTY"]: int(r["ESTIMATESBASE2020"]) for r in rows
                   if r["SUMLEV"] == "050"}
    indexed = counties.set_index("GEOID")["population_2020base"]
    assert set(indexed[indexed.isna()].index) == set(counties.loc[counties["state"] == "PR",
                                                                  "GEOID"])
    assert indexed["02261"] == county_base["02063"] + county_base["02066"]
    state_base = {r["STATE"]: int(r["ESTIMATESBASE2020"]) for r in rows if r["SUMLEV"] == "040"}
    sums = counties.groupby("state_fips")["population_2020base"].sum(min_count=1).dropna()
    assert sums.astype(int).to_dict() == state_base


def test_loaders_return_copies(counties):
    fresh = geography.load_counties()
    fresh.loc[0, "population"] = -1
    fresh["extra"] = 1
    again = geography.load_counties()
    assert "extra" not in again and again.loc[0, "population"] == counties.loc[0, "population"]
    munis = geography.load_municipalities()
    munis.loc[0, "name"] = "changed"
    assert geography.load_municipalities().loc[0, "name"] != "changed"


def test_municipalities_real(munis):
    rows = _subest_rows()
    n_places = sum(r["SUMLEV"] == "162" for r in rows)
    n_mcds = sum(r["SUMLEV"] == "061" for r in rows)
    everything = geography.load_municipalities(governments_only=False)
    assert len(everything) == n_places + n_mcds
    assert len(munis) + sum(munis.attrs["excluded"].values()) == n_places + n_mcds
    assert munis["GEOID"].is_unique
    lengths = munis["GEOID"].str.len()
    assert (lengths[munis["kind"] == "place"] == 7).all()
    assert (lengths[munis["kind"] == "mcd"] == 10).all()
    kept = munis.groupby(["kind", "funcstat"]).size()
    assert set(kept.loc["mcd"].index) <= {"A", "B"}
    assert "S" not in set(kept.loc["place"].index)
    names = {r["STATE"] + r["PLACE"]: r["NAME"] for r in rows if r["SUMLEV"] == "162"}
    places = munis.loc[munis["kind"] == "place"].set_index("GEOID")["name"]
    assert places.to_dict() == {g: n for g, n in names.items() if g in places.index}
    mcds = munis.loc[munis["kind"] == "mcd"]
    assert (mcds["county_fips"].map(len) == 1).all()
    assert (mcds["county_fips"].str[0] == mcds["GEOID"].str[:5]).all()


@pytest.mark.parametrize("name, state, base", [
    ("Castle Shannon borough", "PA", "Castle Shannon"),
    ("Upper Darby township", "PA", "Upper Darby"),
    ("Norfolk city", "VA", "Norfolk"),
    ("Nashville-Davidson metropolitan government (balance)", "TN", "Nashville-Davidson"),
    ("Bloomfield charter township", "MI", "Bloomfield"),
])
def test_municipality_names_real(munis, name, state, base):
    row = munis.loc[(munis["name"] == name) & (munis["state"] == state)]
    assert row["base_name"].tolist() == [base]


def test_municipality_rules_real(munis):
    everything = geography.load_municipalities(governments_only=False).set_index("GEOID")
    # a Pennsylvania borough is a place; its fictitious MCD twin is left out
    castle = everything.loc[everything["name"] == "Castle Shannon borough"]
    assert sorted(castle["kind"]) == ["mcd", "place"]
    assert set(munis.loc[munis["name"] == "Castle Shannon borough", "kind"]) == {"place"}
    # Honolulu is governed by its county: the statistical CDP is left out
    assert "Urban Honolulu CDP" not in set(munis["name"])
    # consolidated cities are represented by their balance, never twice
    assert "Indianapolis city" not in set(munis["name"])
    assert "Indianapolis city (balance)" in set(munis["name"])
    ventura = munis.loc[munis["alt_name"] == "Ventura"]
    assert ventura["base_name"].tolist() == ["San Buenaventura"]


def test_municipality_parts_real(munis):
    parts = geography.load_municipality_parts()
    totals = parts.groupby("muni_geoid")["population"].sum()
    indexed = munis.set_index("GEOID")
    assert set(totals.index) == set(indexed.index)
    assert (totals == indexed["population"].reindex(totals.index)).all()
    counties_of = parts.groupby("muni_geoid")["county_fips"].agg(lambda s: tuple(s))
    assert (counties_of == indexed["county_fips"].reindex(counties_of.index)).all()
    assert (parts["incorporated"] == (parts["kind"] == "place")).all()
    # place parts plus the "Balance of" rows give each county's 2020 base
    rows = _subest_rows()
    base = {r["STATE"] + r["COUNTY"]: int(r["ESTIMATESBASE2020"]) for r in rows
            if r["SUMLEV"] == "050"}
    balance = {r["STATE"] + r["COUNTY"]: int(r["ESTIMATESBASE2020"]) for r in rows
               if r["SUMLEV"] == "157" and r["PLACE"] == "99990"}
    all_parts = geography.load_municipality_parts(governments_only=False)
    place_parts = all_parts.loc[all_parts["kind"] == "place"]
    in_places = place_parts.groupby("county_fips")["population"].sum()
    with_parts = {r["STATE"] + r["COUNTY"] for r in rows if r["SUMLEV"] == "157"}
    for geoid, total in base.items():
        if geoid in with_parts:
            assert int(in_places.get(geoid, 0)) + balance.get(geoid, 0) == total
        else:  # 78 counties (e.g. Hawaii's) have no incorporated place at all
            assert geoid not in in_places.index
    assert len(set(base) - with_parts) > 0


def test_mcd_place_overlaps_real(munis):
    overlaps = geography.load_mcd_place_overlaps()
    indexed = munis.set_index("GEOID")
    assert overlaps["mcd_geoid"].isin(indexed.index).all()
    assert overlaps["place_geoid"].isin(indexed.index).all()
    assert (overlaps["county_fips"] == overlaps["mcd_geoid"].str[:5]).all()
    inside = overlaps.groupby("mcd_geoid")["population"].sum()
    assert (inside <= indexed["population"].reindex(inside.index)).all()
    shared = overlaps.groupby("place_geoid")["population"].sum()
    assert (shared <= indexed["population"].reindex(shared.index)).all()
    # Newtown borough lies inside Newtown town, Connecticut
    rows = [r for r in _subest_rows() if r["SUMLEV"] == "071" and r["STATE"] == "09"
            and r["COUNTY"] == "001" and r["COUSUB"] == "52980" and r["PLACE"] != "99990"]
    newtown = overlaps.loc[overlaps["mcd_geoid"] == "0900152980"]
    assert newtown[["place_geoid", "population"]].values.tolist() == [
        ["09" + r["PLACE"], int(r["ESTIMATESBASE2020"])] for r in rows]
    assert len(rows) == 1
