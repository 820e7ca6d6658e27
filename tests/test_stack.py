"""Tests of ringgeo.stack: what else Ring's partners run, checked against a plain recount.

The recount reads the raw export with pandas and matches agencies by a normalised name and
state written here, independently of ringgeo (lower case, ``&`` as "and", runs of other
characters as one space).
"""

import warnings

import pandas as pd
import pytest

import ringgeo
from ringgeo import stack
from ringgeo.exceptions import ParameterError

RING = "Ring/Neighbors Partnership"
OTHERS = {"face_recognition": "Face Recognition", "alpr": "Automated License Plate Readers",
          "drones": "Drones"}
#: Ring's partners that also appear with each technology, matched by name and state
#: (the plain recount) and by FBI agency (ORI; unlinked rows by name), in the 2020-10-07
#: export. Issue 25 gave "about 127, 202 and 314" (docs/technologies.md).
BY_NAME = {"face_recognition": 127, "alpr": 203, "drones": 317}
BY_ORI = {"face_recognition": 128, "alpr": 208, "drones": 329}


@pytest.fixture(scope="module")
def atlas():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ringgeo.load_atlas("all")


@pytest.fixture(scope="module")
def raw():
    return pd.read_csv(ringgeo.data.fetch("atlas-of-surveillance-20201007.csv"), dtype=str,
                       keep_default_na=False)


def plain_key(frame):
    name = (frame["Agency"].str.replace("\u200e", "", regex=False).str.lower()
            .str.replace("&", " and ", regex=False)
            .str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip())
    return name + "|" + frame["State"].str.strip().str.upper()


def plain_overlap(raw, other):
    keys = raw.assign(key=plain_key(raw)).groupby("Technology")["key"].agg(set)
    return len(keys[RING] & keys[other])


@pytest.mark.parametrize("key", sorted(OTHERS))
def test_overlap_with_ring_matches_a_plain_recount(atlas, raw, key):
    by_name = stack.overlap(atlas, "ring", key, match="name")
    assert len(by_name) == plain_overlap(raw, OTHERS[key]) == BY_NAME[key]
    assert len(stack.overlap(atlas, "ring", key)) == BY_ORI[key]


def test_overlap_table_is_the_documented_table(atlas, raw):
    table = stack.overlap_table(atlas)
    assert table.loc[list(BY_ORI), "with_base"].to_dict() == BY_ORI
    assert (table["base_agencies"] == 1498).all()  # 1,501 rows, three agencies listed twice
    keys = raw.assign(key=plain_key(raw)).groupby("Technology")["key"].nunique()
    assert keys[RING] == 1498
    by_name = stack.overlap_table(atlas, match="name")
    assert by_name.loc[list(BY_NAME), "with_base"].to_dict() == BY_NAME
    assert by_name.loc["drones", "agencies"] == keys["Drones"]
    row = table.loc["alpr"]
    assert row["share_of_base"] == pytest.approx(row["with_base"] / row["base_agencies"])
    assert table.attrs["base"] == "ring"


def test_ring_partners_by_technology_and_state_add_up(atlas):
    by_state = stack.partners_by_technology(atlas)
    total = by_state.loc["total"]
    assert total["ring"] == 1498
    assert {k: int(total[k]) for k in BY_ORI} == BY_ORI
    assert (by_state.drop(index="total").sum() == total).all()
    assert list(by_state.columns[:3]) == ["ring", "bwc", "drones"]


def test_technologies_by_agency(atlas, raw):
    table = stack.technologies_by_agency(atlas)
    assert table.index.is_unique and table["n_technologies"].min() >= 1
    assert (table["technologies"].map(len) == table["n_technologies"]).all()
    assert int(table["ring"].sum()) == 1498
    assert set(table["matched_by"]) <= {"ori", "name", "name → ori"}
    philly = table[table["ori"] == "PAPEP0000"].iloc[0]
    rows = raw[(raw["Agency"].str.strip() == "Philadelphia Police Department")
               & (raw["State"] == "PA")]  # the drones row ends with a space
    assert set(philly["technologies"]) == {ringgeo.technologies.key_of(t)
                                           for t in rows["Technology"]} == {"drones", "rtcc"}


def test_vendors_by_technology(atlas, raw):
    table = stack.vendors(atlas)
    rows = table.groupby("technology")["rows"].sum()
    assert rows.to_dict() == atlas["technology"].value_counts().to_dict()
    drones = table[table["technology"] == "drones"].set_index("vendor")
    assert drones.loc["DJI", "rows"] == ((raw["Technology"] == "Drones")
                                         & (raw["Vendor"] == "DJI")).sum()
    assert drones.loc["(not named)", "rows"] == ((raw["Technology"] == "Drones")
                                                 & (raw["Vendor"].str.strip() == "")).sum()


def test_errors_say_what_to_pass(atlas):
    with pytest.raises(ParameterError, match="no 'technology' column"):
        stack.overlap(pd.DataFrame({"agency": ["A"]}), "ring", "drones")
    with pytest.raises(ParameterError, match="`match` was 'fuzzy'"):
        stack.technologies_by_agency(atlas, match="fuzzy")
    drones = atlas[atlas["technology"] == "drones"]
    with pytest.raises(ParameterError, match="'ring' is not in this table"):
        stack.overlap(drones, "ring", "drones")
    with pytest.raises(ParameterError, match="Unknown technology 'robots'"):
        stack.overlap_table(atlas, "robots")
    with pytest.raises(ParameterError, match="`by` was 'county'"):
        stack.partners_by_technology(atlas, by="county")
    with pytest.raises(ParameterError, match="match='name'"):
        stack.overlap(atlas.drop(columns="ori"), "ring", "drones")
