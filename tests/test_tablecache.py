"""Tests of the parsed-data cache: keys, damaged files, concurrency, switch-off, identity."""

import multiprocessing
import shutil
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

import ringgeo
from ringgeo import (
    _linkgeo,
    agencies,
    cli,
    coverage,
    data,
    geography,
    partners,
    postal,
    tablecache,
)
from ringgeo import lookup as lk
from ringgeo._warm import warm
from ringgeo.lookup import _data as _lookupdata

AS_OF_DATES = ("2018-12-31", "2019-08-28", "2020-10-07")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder, switched on, with no table held in the process."""
    monkeypatch.setenv("RINGGEO_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RINGGEO_TABLE_CACHE_DIR", raising=False)  # the suite's (conftest)
    monkeypatch.delenv(tablecache.ENV, raising=False)
    tablecache._MEMO.clear()
    ringgeo.clear_caches()  # the coverage tables computed earlier are held in memory too
    yield tmp_path / "tables"
    tablecache._MEMO.clear()
    ringgeo.clear_caches()


def _crafted() -> pd.DataFrame:
    frame = pd.DataFrame({
        "id": pd.Series(["a", "b", None], dtype="str"),
        "n": pd.array([1, None, 3], dtype="Int64"),
        "x": [0.5, np.nan, 2.0],
        "when": pd.Series(pd.to_datetime(["2019-01-02", None, "2020-10-07"]),
                          dtype="datetime64[ns]"),
        "fips": [("06037",), ("29095", "29047"), ()],
        "names": [["Cook"], [], ["Lake", "Porter"]],
        "flag": [True, False, True],
    })
    frame.attrs = {"source": "crafted", "as_of": pd.Timestamp("2019-08-28"),
                   "quality": {"flagged": [{"row": 2, "field": "n", "reason": "blank"}],
                               "pair": ("x", 1), "none": None, "nan": float("nan")}}
    return frame


class Counter:
    """A build function that counts its calls."""

    def __init__(self, make=_crafted):
        self.calls, self.make = 0, make

    def __call__(self):
        self.calls += 1
        return self.make()


def _assert_same(got, expected):
    assert type(got) is type(expected)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert list(got.dtypes.astype(str)) == list(expected.dtypes.astype(str))
    assert tablecache._same_value(got.attrs, expected.attrs)
    for column in expected.columns:
        if expected[column].dtype == object:
            assert [type(v) for v in got[column]] == [type(v) for v in expected[column]]
            assert all(tablecache._same_value(u, v) for u, v in zip(got[column], expected[column]))


def _from_disk(name, key, build, sources=()):
    tablecache._MEMO.clear()  # as a new kernel would
    return tablecache.cached(name, key, build, sources=sources)


# ------------------------------------------------------------------ round trip
def test_crafted_frame_comes_back_identical_from_disk(cache):
    build = Counter()
    first = tablecache.cached("crafted", {"k": 1}, build)
    again = _from_disk("crafted", {"k": 1}, build)
    assert build.calls == 1
    assert len(list(cache.glob("crafted-*.parquet"))) == 1
    _assert_same(first, _crafted())
    _assert_same(again, _crafted())
    assert isinstance(again.loc[1, "fips"], tuple) and isinstance(again.loc[0, "names"], list)


def test_callers_get_fresh_copies(cache):
    first = tablecache.cached("crafted", {}, _crafted)
    first.loc[0, "x"] = 99.0
    first.loc[0, "names"].append("changed")
    first.attrs["quality"]["flagged"].clear()
    _assert_same(tablecache.cached("crafted", {}, _crafted), _crafted())


def test_geodataframe_keeps_geometry_and_crs(cache):
    def make():
        return gpd.GeoDataFrame(
            {"GEOID": ["01", "02"], "population": pd.array([5, None], dtype="Int64")},
            geometry=[Polygon([(0, 0), (1, 0), (1, 1)]), Point(2.5, 3.25)], crs="EPSG:4269")
    got = _from_disk("geo", {}, Counter(make))
    got = _from_disk("geo", {}, Counter(make))
    assert isinstance(got, gpd.GeoDataFrame) and got.crs == make().crs
    assert list(got.geometry.to_wkb()) == list(make().geometry.to_wkb())
    _assert_same(pd.DataFrame(got.drop(columns="geometry")),
                 pd.DataFrame(make().drop(columns="geometry")))


def test_warnings_of_the_build_are_emitted_on_every_read(cache):
    def make():
        warnings.warn("3 rows could not be read", UserWarning, stacklevel=2)
        return _crafted()
    for _ in range(2):
        with pytest.warns(UserWarning, match="3 rows could not be read"):
            _from_disk("warns", {}, make)


def test_a_table_that_does_not_round_trip_is_returned_but_not_stored(cache):
    def make():
        return pd.DataFrame({"mixed": [1, "a", {2}]})
    build = Counter(make)
    assert tablecache.cached("mixed", {}, build)["mixed"].tolist() == [1, "a", {2}]
    assert not list(cache.glob("mixed-*"))


# ------------------------------------------------------------------ invalidation
def test_a_different_call_key_is_a_different_table(cache):
    build = Counter()
    tablecache.cached("crafted", {"as_of": None}, build)
    _from_disk("crafted", {"as_of": "2019-08-28"}, build)
    assert build.calls == 2


def test_new_package_version_rebuilds(cache, monkeypatch):
    build = Counter()
    _from_disk("crafted", {}, build)
    monkeypatch.setattr(tablecache, "__version__", ringgeo.__version__ + ".post1")
    _from_disk("crafted", {}, build)
    assert build.calls == 2


def test_changed_package_files_rebuild(cache, monkeypatch):
    build = Counter()
    _from_disk("crafted", {}, build)
    monkeypatch.setattr(tablecache, "_package_digest", lambda: "edited module")
    _from_disk("crafted", {}, build)
    assert build.calls == 2


def test_a_changed_corrections_row_changes_the_package_digest(tmp_path):
    copy = tmp_path / "ringgeo"
    shutil.copytree(tablecache._PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = tablecache._package_digest(copy)
    assert before == tablecache._package_digest(tablecache._PACKAGE)
    text = (copy / "corrections.csv").read_text("utf-8")
    (copy / "corrections.csv").write_text(text + "\n", "utf-8")
    assert tablecache._package_digest.__wrapped__(copy) != before


@pytest.mark.parametrize("module", ["plot/_draw.py", "lookup/_data.py", "coverage/_cells.py"])
def test_an_edit_in_a_subpackage_changes_the_package_digest(tmp_path, module):
    copy = tmp_path / "ringgeo"
    shutil.copytree(tablecache._PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = tablecache._package_digest.__wrapped__(copy)
    with open(copy / module, "a", encoding="utf-8") as handle:
        handle.write("\n# edited\n")
    assert tablecache._package_digest.__wrapped__(copy) != before


def test_a_module_moved_between_subpackages_changes_the_package_digest(tmp_path):
    copy = tmp_path / "ringgeo"
    shutil.copytree(tablecache._PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = tablecache._package_digest.__wrapped__(copy)
    (copy / "plot" / "_draw.py").rename(copy / "lookup" / "_draw.py")
    assert tablecache._package_digest.__wrapped__(copy) != before


def test_an_edit_in_a_subpackage_rebuilds_the_stored_table(cache, monkeypatch, tmp_path):
    build = Counter()
    _from_disk("crafted", {}, build)
    copy = tmp_path / "ringgeo"
    shutil.copytree(tablecache._PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "coverage" / "_stats.py", "a", encoding="utf-8") as handle:
        handle.write("\n# edited\n")
    edited = tablecache._package_digest.__wrapped__(copy)
    monkeypatch.setattr(tablecache, "_package_digest", lambda: edited)
    _from_disk("crafted", {}, build)
    assert build.calls == 2


def test_new_source_sha256_rebuilds(cache, monkeypatch):
    build = Counter()
    name = "atlas-of-surveillance-20201007.csv"
    _from_disk("crafted", {}, build, sources=[name])
    _from_disk("crafted", {}, build, sources=[name])
    assert build.calls == 1
    registry = dict(data.registry(), **{name: "0" * 64})
    path = data.fetch(name)
    monkeypatch.setattr(data, "registry", lambda: registry)
    monkeypatch.setattr(data, "fetch", lambda source, **kw: path)
    _from_disk("crafted", {}, build, sources=[name])
    assert build.calls == 2


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "flipped"])
def test_a_damaged_file_is_rebuilt_not_trusted(cache, damage):
    build = Counter()
    tablecache.cached("crafted", {}, build)
    path, = cache.glob("crafted-*.parquet")
    raw = path.read_bytes()
    if damage == "truncated":  # half written
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a parquet file" * 10)
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # one byte of the data pages changed: the page checksum catches it
        start = raw.index(b"Porter")
        path.write_bytes(raw[:start] + b"Q" + raw[start + 1:])
    got = _from_disk("crafted", {}, build)
    assert build.calls == 2
    _assert_same(got, _crafted())
    _assert_same(_from_disk("crafted", {}, build), _crafted())  # the rebuilt file is good
    assert build.calls == 2


def _slow_build():
    import time

    time.sleep(0.5)
    return _crafted()


def _build_in_child(barrier, queue):
    tablecache._MEMO.clear()
    barrier.wait()
    frame = tablecache.cached("concurrent", {}, _slow_build)
    queue.put(frame.to_json(date_format="iso"))


def test_two_processes_building_at_once_leave_one_good_file(cache):
    context = multiprocessing.get_context("fork")
    barrier, queue = context.Barrier(2), context.Queue()
    children = [context.Process(target=_build_in_child, args=(barrier, queue)) for _ in range(2)]
    for child in children:
        child.start()
    results = [queue.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    assert results[0] == results[1] == _crafted().to_json(date_format="iso")
    assert [p.suffix for p in cache.iterdir()] == [".parquet"]  # no temporary file left
    build = Counter()
    _assert_same(_from_disk("concurrent", {}, build), _crafted())
    assert build.calls == 0


# ------------------------------------------------------------------ switch-off, clear
@pytest.mark.parametrize("value", ["0", "off", "False"])
def test_switched_off_builds_every_time_and_writes_nothing(cache, monkeypatch, value):
    monkeypatch.setenv(tablecache.ENV, value)
    build = Counter()
    tablecache.cached("crafted", {}, build)
    tablecache.cached("crafted", {}, build)
    assert build.calls == 2
    assert not cache.exists()
    assert warm() == []


def test_cli_data_cache_lists_and_clears(cache, capsys):
    tablecache.cached("crafted", {}, _crafted)
    assert cli.main(["data", "cache"]) == 0
    assert "crafted-" in capsys.readouterr().out
    assert cli.main(["data", "cache", "--clear"]) == 0
    assert "deleted 1 stored table(s)" in capsys.readouterr().out
    assert tablecache.entries() == []
    build = Counter()
    tablecache.cached("crafted", {}, build)
    assert build.calls == 1


# ------------------------------------------------------------------ the real tables
def _uncached(monkeypatch, call):
    monkeypatch.setenv(tablecache.ENV, "0")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            return call(), _ours(caught)
    finally:
        monkeypatch.delenv(tablecache.ENV)


def _cached_from_disk(call):
    ringgeo.clear_caches()  # the in-process copies, as a new process has them
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        return call(), _ours(caught)


def _ours(caught) -> list[str]:
    # warnings of the data (UserWarning); not the collector's ResourceWarnings of other tests
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_partners_and_coverage_cached_equal_uncached(cache, monkeypatch, as_of):
    def tables():
        linked = partners.load_partners(as_of=as_of)
        return (linked, partners.load_partners(as_of=as_of, link=False),
                coverage.by_state(linked), coverage.by_county(linked),
                agencies.with_partners(linked))
    ringgeo.clear_caches()
    expected, expected_warnings = _uncached(monkeypatch, tables)
    for _ in range(2):  # cold (built and stored), then read back from disk
        got, got_warnings = _cached_from_disk(tables)
        for g, e in zip(got, expected):
            _assert_same(g, e)
        assert got_warnings == expected_warnings
    assert {p.name.split("-")[0] for p in cache.iterdir()} >= {"partners", "states", "counties"}


def test_geography_and_agencies_cached_equal_uncached(cache, monkeypatch):
    loaders = [geography.load_states, geography.load_counties, agencies.load_agencies,
               postal.load_postal_codes, _linkgeo.municipality_keys, _lookupdata.primary_pieces,
               _lookupdata.primary_by_municipality]
    loaders += [lambda as_of=as_of: _lookupdata.agency_marks(as_of, _lookupdata.source_paths())
                for as_of in (None, "2019-12-31")]
    for flag in (True, False):
        loaders += [lambda f=flag, name=name: getattr(geography, name)(governments_only=f)
                    for name in ("load_municipalities", "load_municipality_parts",
                                 "load_mcd_place_overlaps")]
    for load in loaders:
        expected, _ = _uncached(monkeypatch, load)
        got, _ = _cached_from_disk(load)
        _assert_same(got, expected)
        _assert_same(_cached_from_disk(load)[0], expected)


def test_warm_stores_what_the_notebooks_read(cache):
    names = warm()
    assert sorted(name.split("-")[0] for name in names) == [
        "agencies", "agency_marks", "counties", "coverage_jurisdictions",
        "mcd_place_overlaps", "municipalities", "municipality_keys", "municipality_parts",
        "partners", "postal_codes", "primary_by_municipality", "primary_police", "states"]
    assert warm() == names  # already stored: nothing is built again


def test_cli_data_cache_warm(cache, capsys):
    assert cli.main(["data", "cache", "--warm"]) == 0
    out = capsys.readouterr().out
    assert "stored 13 table(s)" in out and "13 stored table(s)" in out


# ------------------------------------------------------------------ the lookup's tables
#: One query of each way a lookup resolves (ZIP code whose town is the municipality, a
#: mailing town, a hamlet, a ZIP code outside its town's main county, a code GeoNames also
#: lists as FPO; a place, one without police, a post-office town, a county, an agency, an
#: ORI, a point) and two errors.
LOOKUPS = ("08054", "19087", "11746", "30329", "96860", "Upper Darby, PA", "Lemont, IL",
           "Magna township, UT", "Wayne, PA", "Delaware County, PA",
           "Nassau County Police Department", "PA0233700", (25.7617, -80.1918),
           "Springfield", "Nowhere, PA")


def _forget_lookup_indexes():
    """Empty the in-process caches of the lookup's indexes (as a new kernel has them)."""
    ringgeo.clear_caches()


def _answers(as_of) -> list:
    _forget_lookup_indexes()
    out = []
    for query in LOOKUPS:
        try:
            answer = ringgeo.lookup(query, as_of=as_of)
        except ringgeo.exceptions.QueryError as err:
            out.append(("error", str(err)))
            continue
        frame = answer.to_frame()
        out.append((repr(answer), answer._repr_html_(), answer.to_dict(), frame.attrs,
                    frame.to_csv(), lk.timeline_position(answer).to_csv()))
    return out


def test_lookups_cached_equal_uncached(cache, monkeypatch):
    def both_dates():
        return [_answers(as_of) for as_of in (None, "2019-12-31")]
    expected, _ = _uncached(monkeypatch, both_dates)
    for _ in range(2):  # cold (built and stored), then read back from disk
        got, _ = _cached_from_disk(both_dates)
        assert got == expected
    assert {p.name.split("-")[0] for p in cache.iterdir()} >= {
        "municipality_keys", "primary_by_municipality", "agency_marks", "postal_codes"}
    _forget_lookup_indexes()


def test_reading_a_table_leaves_garbage_collection_as_it_was(cache):
    import gc

    tablecache.cached("crafted", {}, _crafted)
    for on in (True, False):
        (gc.enable if on else gc.disable)()
        build = Counter()
        try:
            got = _from_disk("crafted", {}, build)
            assert build.calls == 0 and gc.isenabled() is on  # read, not built
        finally:
            gc.enable()
        _assert_same(got, _crafted())
