"""Tests of ringgeo.params: every validator's accepted forms and error messages."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from ringgeo import params
from ringgeo.exceptions import ParameterError


def test_level_accepts_both_levels_in_any_case():
    assert params.validate_level("state") == "state"
    assert params.validate_level(" COUNTY ") == "county"
    assert params.validate_level("county", state="PA") == "county"


def test_level_lists_allowed_values():
    with pytest.raises(ParameterError, match=r"`level` was 'tract'.*'state', 'county'"):
        params.validate_level("tract")
    with pytest.raises(ParameterError, match=r"one of 'state', 'county'"):
        params.validate_level(None)


def test_state_level_with_a_state_is_refused():
    with pytest.raises(ParameterError,
                       match=r"single-state map shows its counties.*level='county'"):
        params.validate_level("state", state="PA")


def test_metric_accepts_every_coverage_column():
    for metric in params.METRICS:
        assert params.validate_metric(metric) == metric
    assert set(params.METRICS) == {
        "partners", "partners_per_100k", "police", "sheriffs", "pop_covered_min",
        "pop_covered_max", "share_covered_min", "share_covered_max",
        "share_agencies_partnered", "share_police_partnered", "share_sheriffs_partnered"}


def test_metric_error_lists_every_allowed_metric():
    with pytest.raises(ParameterError) as info:
        params.validate_metric("bogus")
    message = str(info.value)
    assert message.startswith("`metric` was 'bogus'")
    for metric in params.METRICS:
        assert repr(metric) in message


@pytest.mark.parametrize("value, expected", [
    ("2019-08-28", "2019-08-28"),
    (" 2020-10-07 ", "2020-10-07"),
    ("2018-01-01", "2018-01-01"),
    (dt.date(2019, 1, 2), "2019-01-02"),
    (pd.Timestamp("2020-03-01"), "2020-03-01"),
    (None, None),
])
def test_as_of_accepted_forms(value, expected):
    assert params.validate_as_of(value) == expected


@pytest.mark.parametrize("value", ["2017-12-31", "2020-10-08", dt.date(2030, 1, 1)])
def test_as_of_outside_the_snapshot_range(value):
    with pytest.raises(ParameterError, match=r"between 2018-01-01 and 2020-10-07"):
        params.validate_as_of(value)


@pytest.mark.parametrize("value", ["08/28/2019", "2019-13-01", "yesterday", ""])
def test_as_of_not_iso(value):
    with pytest.raises(ParameterError, match=r"YYYY-MM-DD"):
        params.validate_as_of(value)


def test_as_of_wrong_type():
    with pytest.raises(ParameterError, match=r"\(int\).*YYYY-MM-DD or None"):
        params.validate_as_of(20190828)


def test_state_spellings_and_national():
    assert params.validate_state("Pennsylvania") == "PA"
    assert params.validate_state("nj") == "NJ"
    assert params.validate_state(17) == "IL"
    assert params.validate_state("DC") == "DC"
    assert params.validate_state(None) is None


def test_state_refuses_territories_and_lists_states():
    # Puerto Rico has no population in the coverage tables.
    with pytest.raises(ParameterError, match=r"'PR' is not a US state.*AL, AK"):
        params.validate_state("PR")
    with pytest.raises(ParameterError, match=r"'Atlantis' is not a US state"):
        params.validate_state("Atlantis")


def test_states_list():
    assert params.validate_states(["Illinois", "ca", "CA", "06"]) == ["IL", "CA"]
    assert params.validate_states("TX") == ["TX"]
    assert params.validate_states(None) == []
    with pytest.raises(ParameterError, match=r"'Narnia' is not a US state"):
        params.validate_states(["IL", "Narnia"])
    with pytest.raises(ParameterError, match=r"list of states"):
        params.validate_states({"IL": 1})


def test_scheme_normalized_and_listed():
    allowed = params.schemes()
    assert "quantiles" in allowed and "user_defined" in allowed
    assert params.validate_scheme("Fisher-Jenks") == "fisher_jenks"
    assert params.validate_scheme("equal interval") == "equal_interval"
    with pytest.raises(ParameterError, match=r"`scheme` was 'rainbow'.*'quantiles'"):
        params.validate_scheme("rainbow")


@pytest.mark.parametrize("k", [2, 5, 9])
def test_k_in_range(k):
    assert params.validate_k(k) == k


@pytest.mark.parametrize("k, pattern", [
    (1, r"`k` was 1 but is expected to be from 2 to 9"),
    (10, r"from 2 to 9"),
    (5.0, r"whole number from 2 to 9"),
    (True, r"whole number"),
    ("5", r"whole number"),
])
def test_k_errors(k, pattern):
    with pytest.raises(ParameterError, match=pattern):
        params.validate_k(k)


def test_dpi():
    assert params.validate_dpi(150) == 150
    with pytest.raises(ParameterError, match=r"`dpi` was 20 but is expected to be from 30 to 600"):
        params.validate_dpi(20)


def test_bins():
    assert params.validate_bins([1, 2.5, 10], "user_defined") == [1, 2.5, 10]
    assert params.validate_bins(None, "fisher_jenks") is None
    with pytest.raises(ParameterError, match=r"only scheme='user_defined' takes bins"):
        params.validate_bins([1, 2], "quantiles")
    for bad in (None, [], [2, 2], ["a", "b"], 3):
        with pytest.raises(ParameterError, match=r"strictly increasing numbers"):
            params.validate_bins(bad, "user_defined")


def test_output_dir_created_and_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = params.validate_output_dir("out/figures")
    assert folder == tmp_path / "out" / "figures"
    assert folder.is_dir()
    missing = params.validate_output_dir("later", create=False)
    assert missing.is_absolute() and not missing.exists()


def test_output_dir_errors(tmp_path):
    afile = tmp_path / "taken"
    afile.write_text("x")
    with pytest.raises(ParameterError, match=r"exists and is not a folder"):
        params.validate_output_dir(afile)
    with pytest.raises(ParameterError, match=r"`output_dir` is empty"):
        params.validate_output_dir("  ")


def test_output_dir_none_uses_env_then_default(tmp_path, monkeypatch):
    monkeypatch.setenv("RINGGEO_OUTPUT_DIR", str(tmp_path / "from-env"))
    assert params.validate_output_dir(None) == tmp_path / "from-env"
    monkeypatch.delenv("RINGGEO_OUTPUT_DIR")
    monkeypatch.chdir(tmp_path / "from-env")
    assert params.validate_output_dir(None, create=False) == tmp_path / "output"


@pytest.mark.parametrize("parts, expected", [
    (("fig1", "state", "partners_per_100k"), "fig1_state_partners_per_100k"),
    (("fig2", "county", "share_covered_max", "NJ", None), "fig2_county_share_covered_max_nj"),
    (("../../etc/passwd",), "etc_passwd"),
    (("..", "x"), "x"),
    (("a/b\\c", "d e.f"), "a_b_c_d_e_f"),
    (("Café", "2019-08-28"), "cafe_2019-08-28"),
])
def test_output_name_sanitized(parts, expected):
    stem = params.output_name(*parts)
    assert stem == expected
    assert set(stem) <= set("abcdefghijklmnopqrstuvwxyz0123456789_-")
    assert Path(stem).name == stem and ".." not in stem


def test_output_name_length_capped():
    stem = params.output_name("x" * 300)
    assert len(stem) == 120


def test_output_name_nothing_left():
    with pytest.raises(ParameterError, match=r"cannot build a file name"):
        params.output_name("../..", None, "")


def test_freq_matches_coverage_timeline():
    from ringgeo import coverage

    assert tuple(params.FREQUENCIES) == tuple(coverage.FREQUENCIES)
    assert params.validate_freq(" q ") == "Q"
    with pytest.raises(ParameterError, match=r"`freq` was 'hourly'.*'D', 'W', 'M', 'Q', 'Y'"):
        params.validate_freq("hourly")


def test_as_of_agrees_with_load_partners_slicing_day():
    # a datetime is read as the day load_partners(as_of=...) slices with
    from ringgeo.partners import as_timestamp

    for value in (pd.Timestamp("2020-03-01 23:30", tz="US/Pacific"),
                  dt.datetime(2019, 1, 2, 23, 59)):
        assert params.validate_as_of(value) == as_timestamp(value).date().isoformat()
    with pytest.raises(ParameterError, match="is not a date"):
        params.validate_as_of(pd.NaT)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "10", True, None])
def test_top_must_be_a_whole_number_from_1(bad):
    with pytest.raises(ParameterError, match=r"`top` was .* whole number >= 1"):
        params.validate_top(bad)


def test_top_accepts_whole_numbers():
    assert params.validate_top(1) == 1 and params.validate_top(3220) == 3220
