"""Tests of ringgeo.tables: the published tables (table0, table1) and map titles."""

import pandas as pd
import pytest

from ringgeo import params, tables
from ringgeo.exceptions import InputError, ParameterError, warn
from ringgeo.metrics import METRICS


def crafted_partners():
    """Six partnerships: IL 2019, 2019, undated; CA 2018, 2020; NJ undated."""
    return pd.DataFrame({
        "partner_id": [f"p{i}" for i in range(6)],
        "state": ["IL", "CA", "IL", "NJ", "CA", "IL"],
        "activated": pd.to_datetime(["2019-01-05", "2018-03-22", "2019-12-31", None,
                                     "2020-06-11", None]),
    })


def test_partners_by_state_year_counts_every_row_once():
    table = tables.partners_by_state_year(crafted_partners())
    assert table.index.name == "state"
    assert table.columns.tolist() == ["2018", "2019", "2020", "unknown", "total"]
    # IL: 2 in 2019, 1 undated; CA: 2018 and 2020; NJ: 1 undated. IL first (3), then CA (2)
    assert table.index.tolist() == ["IL", "CA", "NJ"]
    assert table.loc["IL"].tolist() == [0, 2, 0, 1, 3]
    assert table.loc["CA"].tolist() == [1, 0, 1, 0, 2]
    assert table.loc["NJ"].tolist() == [0, 0, 0, 1, 1]
    assert table["total"].sum() == 6


def test_partners_by_state_year_ties_sorted_by_state_and_unknown_always_present():
    partners = pd.DataFrame({"state": ["TX", "AL"],
                             "activated": pd.to_datetime(["2019-02-01", "2019-03-01"])})
    table = tables.partners_by_state_year(partners)
    assert table.index.tolist() == ["AL", "TX"]
    assert table.columns.tolist() == ["2019", "unknown", "total"]
    assert table["unknown"].tolist() == [0, 0]


def test_partners_by_state_year_keeps_a_partner_without_state():
    partners = pd.DataFrame({"state": pd.array(["IL", None], dtype="string"),
                             "activated": pd.to_datetime(["2019-02-01", None])})
    table = tables.partners_by_state_year(partners)
    assert table.loc["unknown", "unknown"] == 1 and table["total"].sum() == 2


def test_partners_by_state_year_empty_and_missing_column():
    empty = tables.partners_by_state_year(pd.DataFrame({"state": [], "activated": []}))
    assert len(empty) == 0 and empty.columns.tolist() == ["unknown", "total"]
    with pytest.raises(InputError, match="activated"):
        tables.partners_by_state_year(pd.DataFrame({"state": ["IL"]}))


def coverage_states():
    """A by_state-like table: BB and CC tie on the rate; DD has no population."""
    return pd.DataFrame({
        "partners": [1, 4, 2, 3], "police": [1, 3, 2, 0], "sheriffs": [0, 1, 0, 0],
        "other": [0, 0, 0, 3], "population": [200_000, 100_000, 50_000, pd.NA],
        "partners_per_100k": [0.5, 4.0, 4.0, None],
        "pop_covered_min": [10, 20, 30, 0], "pop_covered_max": [15, 25, 35, 0],
        "share_covered_min": [0.123456, 0.2, 0.6, None],
        "share_covered_max": [0.2, 0.25, 0.7, None],
        "name": ["Aa", "Bb", "Cc", "Dd"], "extra": [9, 9, 9, 9],
    }, index=pd.Index(["AA", "BB", "CC", "DD"], name="state"))


def test_ranked_state_table_ranks_ties_and_unranked_rows():
    out = tables.ranked(coverage_states(), "partners_per_100k")
    assert out.columns.tolist() == ["rank", "state", "name"] + tables.TABLE1_COLUMNS
    assert out["state"].tolist() == ["BB", "CC", "AA", "DD"]
    assert out["rank"].tolist()[:3] == [1, 1, 3]
    assert pd.isna(out["rank"].iloc[3])
    assert out.index.tolist() == [0, 1, 2, 3]
    assert out.loc[out["state"] == "AA", "share_covered_min"].item() == 0.1235


def test_ranked_by_another_metric_and_extra_column():
    out = tables.ranked(coverage_states(), "partners")
    assert out["state"].tolist() == ["BB", "DD", "CC", "AA"]
    out = tables.ranked(coverage_states(), "extra")
    assert out.columns[-1] == "extra" and out["rank"].tolist() == [1, 1, 1, 1]


def test_ranked_county_table_keeps_geoid_and_state():
    counties = coverage_states().rename(index={"AA": "17001", "BB": "17003", "CC": "06001",
                                               "DD": "06003"}).rename_axis("GEOID")
    counties["state"] = ["IL", "IL", "CA", "CA"]
    out = tables.ranked(counties, "partners_per_100k")
    assert out.columns.tolist()[:4] == ["rank", "GEOID", "state", "name"]
    # the tie (rate 4.0) is broken by GEOID
    assert out["GEOID"].tolist() == ["06001", "17003", "17001", "06003"]


def test_ranked_errors():
    with pytest.raises(ParameterError, match="`rank_by` was 'per_capita'.*partners_per_100k"):
        tables.ranked(coverage_states(), "per_capita")
    with pytest.raises(InputError, match="index name 'area'"):
        tables.ranked(coverage_states().rename_axis("area"))
    with pytest.raises(InputError, match="lacks column.*name"):
        tables.ranked(coverage_states().drop(columns="name"))


@pytest.mark.parametrize("args, title", [
    (("partners_per_100k",), "Ring partnerships: partners per 100,000 residents, by state"),
    (("partners", "county"), "Ring partner agencies, by county"),
    (("police", "County", "nj"), "Ring partnerships: police partners, by county, New Jersey"),
])
def test_map_title(args, title):
    assert tables.map_title(*args) == title


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_map_title_and_legend_name_the_metric_alike(metric):
    """One vocabulary: the headline names the metric in the legend title's words, and
    the technology (ringgeo.technologies: Ring by default) unless the legend does."""
    from ringgeo import plot

    legend = plot.METRICS[metric][0]
    title = tables.map_title(metric)
    assert title in (f"{legend}, by state",
                     f"Ring partnerships: {legend[0].lower()}{legend[1:]}, by state")
    assert "Ring" in title
    assert params.METRICS is METRICS is plot.METRICS


def test_map_title_refuses_bad_parameters():
    with pytest.raises(ParameterError, match="`metric` was 'per_capita'"):
        tables.map_title("per_capita")
    with pytest.raises(ParameterError, match="single-state map"):
        tables.map_title("partners", "state", "NJ")


def test_real_table0_adds_up(real_partners):
    table = tables.partners_by_state_year(real_partners)
    assert table["total"].sum() == len(real_partners) == 1501
    assert table["unknown"].sum() == real_partners["activated"].isna().sum() == 170
    assert (table.drop(columns="total").sum(axis="columns") == table["total"]).all()
    assert table.index[0] == "IL" and table.loc["IL", "total"] == 163


def test_real_table1_ranks_every_state_with_population(real_partners):
    from ringgeo import coverage

    states = coverage.by_state(real_partners)
    out = tables.ranked(states, "partners_per_100k")
    assert len(out) == len(states) == 52
    assert out["rank"].notna().sum() == states["partners_per_100k"].notna().sum()
    ranked_rates = out["partners_per_100k"].dropna()
    assert ranked_rates.is_monotonic_decreasing
    assert out["partners"].sum() == 1501


# --- what a notebook shows a reader (issue 23) ------------------------------------------------


def test_display_table_formats_for_readers_and_leaves_the_values():
    import numpy as np

    frame = pd.DataFrame({"population": pd.array([98643957, None], dtype="Int64"),
                          "partners_per_100k": [1.30601, np.nan],
                          "share_covered_max": [0.41234, None],
                          "activated": pd.to_datetime(["2019-10-21", None]),
                          "muni_name": ["Greenfield city", None],
                          "partner": [True, False]})
    before = frame.copy()
    table = tables.display_table(frame)
    text = repr(table)
    assert "98,643,957" in text and "1.31" in text and "41.2%" in text and "2019-10-21" in text
    assert "NaN" not in text and "NaT" not in text and "<NA>" not in text and "None" not in text
    assert text.count(tables.NA_REP) == 5  # the second row but its boolean
    html = table.to_html()
    assert "98,643,957" in html and "41.2%" in html and "NaT" not in html and "nan" not in html
    pd.testing.assert_frame_equal(frame, before)  # only the display is formatted


def test_display_table_dates_in_the_index_and_extra_percent_columns():
    frame = pd.DataFrame({"partners": [1029, 1124], "ratio": [0.5, 0.25]},
                         index=pd.DatetimeIndex(["2020-02-29", "2020-03-31"], name="date"))
    text = repr(tables.display_table(frame, percent=["ratio"]))
    assert "2020-02-29" in text and "00:00:00" not in text
    assert "1,029" in text and "50.0%" in text and "25.0%" in text


def test_notes_prints_each_warning_once_without_a_file_path(capsys):
    with tables.notes() as shown:
        warn("170 partner(s) have no activation date.")
        warn("170 partner(s) have no activation date.")
    out = capsys.readouterr()
    assert out.out == "Note: 170 partner(s) have no activation date.\n"
    assert "UserWarning" not in out.err and ".py" not in out.out
    assert len(shown) == 2


def test_notes_passes_other_warnings_on_and_keeps_the_library_warning():
    with pytest.warns(DeprecationWarning, match="old"):
        with tables.notes():
            warn("old", DeprecationWarning)
    with pytest.warns(UserWarning, match="undated"):  # outside notes(): the API warns as before
        warn("undated", UserWarning)


def test_notes_still_prints_when_the_block_fails(capsys):
    with pytest.raises(ValueError):
        with tables.notes():
            warn("found first")
            raise ValueError("then failed")
    assert capsys.readouterr().out == "Note: found first\n"


def test_display_table_html_is_the_same_at_every_run():
    frame = pd.DataFrame({"partners": [1029, 1124], "share_covered_max": [0.5, None]})
    assert tables.display_table(frame).to_html() == tables.display_table(frame.copy()).to_html()
