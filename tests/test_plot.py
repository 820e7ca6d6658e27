"""Tests of ringgeo.plot: maps, legends, source lines, timeline, deterministic saves.

Image baselines live in tests/baseline/. Regenerate them (after a deliberate
change of the drawing, then look at them) with::

    RINGGEO_DATA_DIR=/path/to/mirror python tests/test_plot.py --make-baselines
"""

from __future__ import annotations

import os
import pathlib
import sys

import matplotlib
import matplotlib.dates

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import PIL.Image  # noqa: E402
import pytest  # noqa: E402
import shapely  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from ringgeo import plot  # noqa: E402
from ringgeo.exceptions import ParameterError  # noqa: E402
from ringgeo.states import STATES  # noqa: E402

BASELINE = pathlib.Path(__file__).parent / "baseline"
IN_51 = sorted(STATES.loc[STATES["in_51"], "state"])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def state_frame() -> pd.DataFrame:
    """Partners per state made up from the state's FIPS code: 0 for a few states."""
    fips = STATES.set_index("state").loc[IN_51, "fips"].astype(int)
    partners = (fips * 7) % 23
    return pd.DataFrame({"partners": partners, "partners_per_100k": partners / 9.0},
                        index=pd.Index(IN_51, name="state"))


@pytest.fixture(scope="module")
def counties():
    from ringgeo import geography
    return geography.load_counties()


def county_frame(counties) -> pd.DataFrame:
    """Made-up partners per county; every 13th county has no value (no data)."""
    geoid = counties["GEOID"]
    partners = geoid.astype(int) % 11
    frame = pd.DataFrame({"partners": partners.to_numpy()}, index=pd.Index(geoid, name="GEOID"))
    return frame.iloc[[i for i in range(len(frame)) if i % 13]]


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


# ----------------------------------------------------------------- national composite
def test_every_state_dc_and_puerto_rico_drawn():
    fig, ax = plot.choropleth(state_frame(), "partners")
    table = ax._ringgeo_data
    assert sorted(table["state"]) == sorted(IN_51 + ["PR"])
    assert not table.geometry.is_empty.any()
    # one path per area, holding every polygon part of the area
    paths = [path for c in ax.collections for path in c.get_paths()]
    assert len(paths) == len(table) == 52
    parts = sum(len(shapely.get_parts(g)) for g in table.geometry)
    closed = sum(int((path.codes == path.CLOSEPOLY).sum()) for path in paths)
    assert closed >= parts
    # values joined by USPS code; PR is not in the frame: no data
    values = table.set_index("state")["value"]
    pd.testing.assert_series_equal(values.loc[IN_51], state_frame()["partners"].astype(float),
                                   check_names=False, check_index_type=False)
    assert np.isnan(values["PR"]) and table.set_index("state").loc["PR", "label"] == "No data"


def test_insets_inside_the_figure_and_clear_of_the_lower_48():
    fig, ax = plot.choropleth(state_frame(), "partners")
    table = ax._ringgeo_data.set_index("state")
    lower48 = shapely.union_all(table.drop(index=["AK", "HI", "PR"]).geometry.values)
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    fig.canvas.draw()
    figure_box = fig.bbox
    for usps in ("AK", "HI", "PR"):
        x0, y0, x1, y1 = table.loc[usps].geometry.bounds
        assert xlim[0] <= x0 < x1 <= xlim[1] and ylim[0] <= y0 < y1 <= ylim[1], usps
        (dx0, dy0), (dx1, dy1) = ax.transData.transform([(x0, y0), (x1, y1)])
        assert figure_box.x0 <= dx0 and dx1 <= figure_box.x1, usps
        assert figure_box.y0 <= dy0 and dy1 <= figure_box.y1, usps
        assert not shapely.box(x0, y0, x1, y1).intersects(lower48), usps
    # Aleutians beyond 180 degrees stay in place: Alaska is 0.35 x its ~3,700 km width
    x0, _, x1, _ = table.loc["AK"].geometry.bounds
    assert 1.0e6 < x1 - x0 < 1.4e6
    # insets keep a readable size: Hawaii's box at least half an inch wide
    x0, _, x1, _ = table.loc["HI"].geometry.bounds
    inches = (x1 - x0) / (xlim[1] - xlim[0]) * ax.get_window_extent().width / fig.dpi
    assert inches > 0.5


@pytest.mark.parametrize("level", ["state", "county"])
def test_legend_and_dc_callout_cover_no_area(level, counties):
    frame = state_frame() if level == "state" else county_frame(counties)
    fig, ax = plot.choropleth(frame, "partners", level=level, title="A title",
                              legend_title="Partner agencies of Ring's Neighbors app")
    fig.canvas.draw()
    land = shapely.union_all(ax._ringgeo_data.geometry.values)
    boxes = [ax.get_legend().get_window_extent()]
    boxes += [t.get_window_extent() for t in ax.texts]  # the "D.C." label
    inverse = ax.transData.inverted()
    for box in boxes:
        (x0, y0), (x1, y1) = inverse.transform([(box.x0, box.y0), (box.x1, box.y1)])
        assert not shapely.box(x0, y0, x1, y1).intersects(land)
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1
    if level == "state":
        assert "D.C." in texts(fig)


def test_county_map_draws_state_outlines_and_all_counties(counties):
    fig, ax = plot.choropleth(county_frame(counties), "partners", level="county")
    table = ax._ringgeo_data
    assert len(table) == len(counties) == 3220
    missing = table["class"] < 0
    assert missing.sum() == len(counties) - len(county_frame(counties))
    assert set(table.loc[missing, "label"]) == {"No data"}


def test_drawing_into_given_axes_keeps_the_legend_off_the_map():
    fig, axes = plt.subplots(1, 2, figsize=(14, 5))
    for ax, legend in zip(axes, (True, False)):
        out_fig, out_ax = plot.choropleth(state_frame(), "partners", ax=ax, title="Left",
                                          legend=legend)
        assert out_fig is fig and out_ax is ax
    fig.canvas.draw()
    assert axes[0].get_legend().get_window_extent().x0 >= axes[0].get_window_extent().x1
    assert axes[1].get_legend() is None
    assert axes[0].get_title(loc="left") == "Left"
    assert sum("Made with ringgeo." in t for t in texts(fig)) == 2


def test_fonts_readable_at_print_size():
    fig, ax = plot.choropleth(state_frame(), "partners_per_100k", title="T", subtitle="S")
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    assert sizes and min(sizes) >= 8
    assert tuple(fig.get_size_inches()) == plot.FIGSIZE
    assert not ax.axison


# ----------------------------------------------------------------- classes and legends
def test_legend_text_for_user_defined_breaks():
    frame = pd.DataFrame({"partners": {"CA": 121, "TX": 80, "FL": 150, "WY": 0, "NY": 1,
                                       "PA": 50, "OH": 51}})
    fig, ax = plot.choropleth(frame, "partners", scheme="user_defined", bins=[0, 50, 100, 200],
                              legend_fmt=None)
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [
        "0", "1–50", "51–100", "101–200", "No data"]
    assert legend.get_title().get_text() == "Ring partner agencies"
    labels = ax._ringgeo_data.set_index("state")["label"]
    assert labels[["WY", "NY", "PA", "OH", "TX", "CA", "NV"]].tolist() == [
        "0", "1–50", "1–50", "51–100", "51–100", "101–200", "No data"]


def test_continuous_and_percent_labels_do_not_overlap():
    shares = pd.DataFrame({"share": {"CA": 0.7, "TX": 0.25, "WY": 0.1, "NY": 0.0}})
    table = plot.map_data(shares, "share", scheme="user_defined", bins=[0.1, 0.25, 0.5, 1.0],
                          legend_fmt="percent")
    assert table.attrs["labels"] == ["0%", "over 0% to 10%", "over 10% to 25%",
                                     "over 25% to 50%", "over 50% to 100%"]
    rates = pd.DataFrame({"rate": {"CA": 0.4, "TX": 1.25, "WY": 2.5, "NY": 2.6}})
    table = plot.map_data(rates, "rate", scheme="user_defined", bins=[1.25, 2.5, 10])
    assert table.attrs["labels"] == ["up to 1.25", "over 1.25 to 2.50", "over 2.50 to 10.00"]
    by_state = table.set_index("state")["class"]
    assert by_state[["CA", "TX", "WY", "NY"]].tolist() == [0, 0, 1, 2]  # right-closed
    assert plot.class_labels([1000, 25000], lowest=3, integral=True) == ["3–1,000",
                                                                         "1,001–25,000"]
    assert plot.class_labels([0.5, 1.0], legend_fmt="{:.3f}") == ["up to 0.500",
                                                                  "over 0.500 to 1.000"]


def test_zero_is_its_own_class_distinct_from_no_data():
    frame = state_frame()
    frame.loc[["NY", "OH"], "partners"] = np.nan
    fig, ax = plot.choropleth(frame, "partners", scheme="quantiles", k=4)
    table = ax._ringgeo_data.set_index("state")
    zeros = frame.index[frame["partners"] == 0]
    assert len(zeros) > 0
    assert set(table.loc[zeros, "label"]) == {"0"} and set(table.loc[zeros, "class"]) == {0}
    assert (table.drop(index=list(zeros) + ["NY", "OH", "PR"])["class"] > 0).all()
    assert set(table.loc[["NY", "OH", "PR"], "class"]) == {-1}
    handles = ax.get_legend().legend_handles
    zero_face, nodata = handles[0].get_facecolor(), handles[-1]
    assert nodata.get_hatch() and tuple(zero_face) != tuple(nodata.get_facecolor())
    # without zero_class the zeros share the lowest class with positive values
    plain = plot.map_data(frame, "partners", scheme="quantiles", k=4, zero_class=False)
    assert plain.attrs["labels"][0] != "0"


@pytest.mark.parametrize("scheme", [s for s in plot.SCHEMES if s != "user_defined"])
def test_every_scheme_classifies_every_value(scheme):
    frame = state_frame()[["partners_per_100k"]]
    table = plot.map_data(frame, "partners_per_100k", scheme=scheme, k=5)
    edges = np.array(table.attrs["edges"])
    assert np.all(np.diff(edges) > 0)
    drawn = table[table["class"] >= 0]
    assert len(drawn) == len(frame)
    assert edges[-1] >= frame["partners_per_100k"].max()
    # each value is at most its class's upper bound and above the one below
    upper = edges[drawn["class"]]
    assert (drawn["value"] <= upper + 1e-12).all()
    lower = np.where(drawn["class"] > 0, edges[np.maximum(drawn["class"] - 1, 0)], -np.inf)
    assert (drawn["value"] > lower).all()


def test_natural_breaks_is_deterministic_and_leaves_the_global_rng_alone():
    frame = state_frame()[["partners_per_100k"]]
    np.random.seed(5)
    before = np.random.get_state()[1].copy()
    first = plot.map_data(frame, "partners_per_100k", scheme="natural_breaks").attrs["edges"]
    np.random.seed(99)
    second = plot.map_data(frame, "partners_per_100k", scheme="natural_breaks").attrs["edges"]
    assert first == second
    np.random.seed(5)
    plot.map_data(frame, "partners_per_100k", scheme="natural_breaks")
    assert (np.random.get_state()[1] == before).all()


def test_fewer_distinct_values_than_classes():
    frame = pd.DataFrame({"partners": {"CA": 1, "TX": 2, "FL": 2, "NY": 3}})
    table = plot.map_data(frame, "partners", scheme="quantiles", k=5)
    assert table.attrs["labels"] == ["1", "2", "3"]


def test_user_bins_below_the_maximum_warn():
    frame = pd.DataFrame({"partners": {"CA": 121, "TX": 5}})
    with pytest.warns(UserWarning, match="exceed the last bin") as record:
        table = plot.map_data(frame, "partners", scheme="user_defined", bins=[10, 100])
    assert record[0].filename == __file__  # points at the caller's line
    assert table.attrs["edges"] == [10.0, 100.0, 121.0]


def test_rows_matching_no_area_warn():
    frame = pd.DataFrame({"partners": {"CA": 3, "GU": 2, "Atlantis": 1}})
    with pytest.warns(UserWarning, match="2 row.*Atlantis"):
        plot.map_data(frame, "partners")


def test_county_geoids_read_as_numbers_are_padded(counties):
    frame = pd.DataFrame({"partners": {1001: 3, 42101: 5}})
    table = plot.map_data(frame, "partners", level="county").set_index("GEOID")["value"]
    assert table[["01001", "42101"]].tolist() == [3.0, 5.0]


def test_state_index_spellings_are_normalised():
    frame = pd.DataFrame({"partners": {"06": 4, "Texas": 2, "ny": 1}})
    table = plot.map_data(frame, "partners").set_index("state")["value"]
    assert table[["CA", "TX", "NY"]].tolist() == [4.0, 2.0, 1.0]


# ----------------------------------------------------------------- single states
@pytest.mark.parametrize("spelling, usps", [("Pennsylvania", "PA"), ("ak", "AK"), (15, "HI"),
                                            ("PR", "PR")])
def test_single_state_maps(spelling, usps, counties):
    frame = county_frame(counties)
    fig, ax = plot.choropleth(frame, "partners", state=spelling)
    table = ax._ringgeo_data
    assert set(table["state"]) == {usps}
    assert sorted(table["GEOID"]) == sorted(counties.loc[counties["state"] == usps, "GEOID"])
    x0, y0, x1, y1 = table.total_bounds
    assert x1 - x0 < 4.0e6 and y1 - y0 < 3.0e6  # metres: no polygon wraps the globe
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    assert xlim[0] <= x0 and x1 <= xlim[1] and ylim[0] <= y0 and y1 <= ylim[1]
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # beside the map, not on it
    assert legend.x1 <= fig.bbox.x1


# ----------------------------------------------------------------- source line
def test_source_line_credits_date_and_definition():
    frame = state_frame()
    frame.attrs["as_of"] = pd.Timestamp("2019-06-30")
    fig, ax = plot.choropleth(frame, "partners_per_100k")
    footer = " ".join(texts(fig)).replace("\n", " ")
    assert "Electronic Frontier Foundation, Atlas of Surveillance (CC BY 4.0)" in footer
    assert "partnerships activated by 2019-06-30 (export of 2020-10-07)" in footer
    assert "U.S. Census Bureau, Population Estimates Program, vintage 2019" in footer
    assert "per 100,000 residents" in footer and footer.endswith("Made with ringgeo.")
    fig, ax = plot.choropleth(frame, "partners", as_of=None, note="Partners counted once")
    footer = " ".join(texts(fig)).replace("\n", " ")
    assert "2019-06-30" in footer  # as_of from frame.attrs
    assert "Partners counted once." in footer
    line = plot.source_line("partners", credit="My own credit")
    assert line.startswith("Source: My own credit.") and "2020-10-07" not in line
    line = plot.source_line(None, level=None, credit=["sub-est2021_all.zip"])
    assert "all partnerships in the 2020-10-07 export" in line and "vintage 2021" in line


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, match", [
    ({"scheme": "jenks"}, "`scheme` was 'jenks' but is expected to be one of 'quantiles', "
                          "'equal_interval', 'fisher_jenks', 'natural_breaks'"),
    ({"level": "tract"}, "level was 'tract' but is expected to be \"state\" or \"county\""),
    ({"state": "Narnia"}, "'Narnia' is not a US state"),
    ({"state": "GU"}, "has no counties in the Census boundary file"),
    ({"state": "PA", "level": "state"}, "draws the counties of one state"),
    ({"scheme": "user_defined"}, "`bins` was None but is expected to be strictly increasing"),
    ({"scheme": "user_defined", "bins": [5, 1]}, "1] but is expected to be strictly increasing"),
    ({"scheme": "user_defined", "bins": ["a"]}, "'a'] but is expected to be strictly increasing"),
    ({"bins": [1, 2]}, "only scheme='user_defined' takes bins"),
    ({"k": 0}, "`k` was 0 but is expected to be from 2 to 9"),
    ({"legend_fmt": "%.1f"}, "legend_fmt must be"),
    ({"legend_fmt": "{:,.1q}"}, "legend_fmt must be"),
    ({"legend_fmt": 1}, "legend_fmt must be"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ParameterError, match=match.replace("(", r"\(").replace(")", r"\)")):
        plot.choropleth(state_frame(), "partners", **kwargs)


def test_bad_frames():
    with pytest.raises(ParameterError, match="Column 'partner' is not in the frame; numeric "
                                             "columns are: partners, partners_per_100k"):
        plot.choropleth(state_frame(), "partner")
    with pytest.raises(ParameterError, match="a county map needs an index of 5-character"):
        plot.choropleth(state_frame(), "partners", level="county")
    with pytest.raises(ParameterError, match="is str, not numbers|is string, not numbers"):
        plot.choropleth(pd.DataFrame({"name": {"CA": "x"}}), "name")
    with pytest.raises(ParameterError, match="duplicate keys"):
        plot.choropleth(pd.DataFrame({"p": [1, 2]}, index=["CA", "CA"]), "p")
    with pytest.raises(ParameterError, match="has no value for any state"):
        plot.choropleth(pd.DataFrame({"p": [np.nan]}, index=["CA"]), "p")
    with pytest.raises(ParameterError, match="must be a pandas DataFrame"):
        plot.choropleth([1, 2], "p")


# ----------------------------------------------------------------- saving
@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_save_gives_identical_bytes(tmp_path, suffix):
    fig, _ = plot.choropleth(state_frame(), "partners", title="Same every time")
    first = plot.save(fig, tmp_path / f"a{suffix}")
    second = plot.save(fig, tmp_path / "deeper" / "folder" / f"b{suffix}")
    fig2, _ = plot.choropleth(state_frame(), "partners", title="Same every time")
    third = plot.save(fig2, tmp_path / f"c{suffix}")
    assert first == tmp_path / f"a{suffix}"
    assert first.read_bytes() == second.read_bytes() == third.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"a{suffix}", f"c{suffix}", "deeper"])  # no temporary files left behind
    if suffix == ".png":
        assert first.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"Software" not in first.read_bytes() and b"matplotlib" not in first.read_bytes()
    if suffix == ".svg":
        assert b"<dc:date>" not in first.read_bytes()


def test_save_is_atomic(tmp_path, monkeypatch):
    fig, _ = plot.choropleth(state_frame(), "partners")
    target = plot.save(fig, tmp_path / "map.png")
    before = target.read_bytes()

    def broken(target, *args, **kwargs):  # matplotlib drawing (into a buffer) fails
        if isinstance(target, (str, os.PathLike)):
            pathlib.Path(target).write_bytes(b"half a PNG")
        else:
            target.write(b"half a PNG")
        raise KeyboardInterrupt

    def broken_png(image, target, *args, **kwargs):  # writing the PNG file fails half way
        pathlib.Path(target).write_bytes(b"half a PNG")
        raise KeyboardInterrupt

    for obj, name, replacement in ((fig, "savefig", broken),
                                   (PIL.Image.Image, "save", broken_png)):
        with monkeypatch.context() as patch:
            patch.setattr(obj, name, replacement)
            with pytest.raises(KeyboardInterrupt):
                plot.save(fig, target)
        assert target.read_bytes() == before
        assert [p.name for p in tmp_path.iterdir()] == ["map.png"]


def test_alt_text_from_the_data_in_png_svg_and_pdf(tmp_path):
    from PIL import Image

    frame = pd.DataFrame({"partners": {"CA": 120, "TX": 80, "FL": 150, "WY": 0, "MT": 0}})
    fig, ax = plot.choropleth(frame, "partners", title="Ring partners", as_of="2019-12-31")
    title, alt = plot.alt_text(fig)
    assert title == "Ring partners"
    assert alt == ("Ring partner agencies by state, December 2019. Highest: Florida (150), "
                   "California (120), Texas (80); 2 states have none; 47 have no data.")
    png = Image.open(plot.save(fig, tmp_path / "m.png"))
    assert png.text["Title"] == title and png.text["Description"] == alt
    svg = plot.save(fig, tmp_path / "m.svg").read_text()
    assert f"<title>Ring partners</title>\n <desc>{alt}</desc>" in svg
    assert svg.index("<title>") < svg.index("<g ")  # first inside the root element
    pdf = plot.save(fig, tmp_path / "m.pdf").read_bytes()
    assert b"/Title (Ring partners)" in pdf
    bundle = plot.show(fig)._repr_mimebundle_()
    assert f'alt="{alt}"' in bundle["text/html"] and bundle["text/plain"] == alt
    assert set(bundle) == {"text/html", "text/plain"}  # the image once, inside the <img>
    share = pd.DataFrame({"share_covered_max": {"NJ": 0.9, "PA": 0.5}})
    fig, ax = plot.choropleth(share, "share_covered_max")
    assert "New Jersey (90%), Pennsylvania (50%)" in plot.alt_text(fig)[1]
    plt.close("all")


def test_small_multiples_join_their_descriptions():
    fig, axes = plt.subplots(1, 2)
    plot.choropleth(state_frame(), "partners", ax=axes[0])
    plot.choropleth(state_frame(), "partners_per_100k", ax=axes[1])
    alt = plot.alt_text(fig)[1]
    assert alt.count("by state") == 2 and "Partners per 100,000 residents" in alt
    plt.close(fig)


def test_default_palettes_stay_distinguishable_for_colour_blind_readers():
    """YlOrRd, the default, with the class counts the standard figures use (up to 5 bins
    plus the zero class)."""
    table = plot.palette_check([plot.CMAP], ks=range(2, 7), zero=True)
    assert table["ok"].all(), table
    assert (table[["deuteranopia", "protanopia"]] >= 10).all().all()
    # the check can fail: nine classes are too many to tell apart
    assert not plot.palette_check([plot.CMAP], ks=[9])["ok"].any()


def test_save_rejects_other_extensions(tmp_path):
    fig, _ = plt.subplots()
    with pytest.raises(ParameterError, match=r"'map.jpg'.*must end with .png, .svg, .pdf"):
        plot.save(fig, tmp_path / "map.jpg")
    assert not list(tmp_path.iterdir())


# ----------------------------------------------------------------- timeline
def _long_timeline():
    dates = pd.date_range("2019-01-31", periods=12, freq="ME")
    rows = []
    for i, date in enumerate(dates):
        rows += [(date, "CA", 3 * i), (date, "TX", i), (date, "NY", 2 * i)]
    frame = pd.DataFrame(rows, columns=["date", "state", "partners"]).set_index("date")
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    frame.attrs["undated"] = 7
    return frame


def test_timeline_states_and_national_sum():
    frame = _long_timeline()
    fig, ax = plot.timeline(frame, states=["ca", "Texas"])
    ys = [line.get_ydata().tolist() for line in ax.get_lines()]
    assert ys == [[3 * i for i in range(12)], list(range(12))]
    assert any(t.startswith("California 33") for t in texts(fig))
    assert "7 partnerships without an activation date are not shown" in " ".join(
        texts(fig)).replace("\n", " ")
    fig, ax = plot.timeline(frame)
    line = [ln for ln in ax.get_lines() if len(ln.get_ydata()) == 12]
    assert line[0].get_ydata().tolist() == [6 * i for i in range(12)]
    assert any("Washington Post" in t for t in texts(fig))  # Aug. 2019 is in range


def test_timeline_national_line_is_the_50_states_and_dc():
    frame = _long_timeline()
    extra = frame[frame["state"] == "CA"].assign(state="PR", partners=1)
    with pytest.warns(UserWarning, match=r"PR \(1\) partner\(s\) outside them"):
        fig, ax = plot.timeline(pd.concat([frame, extra]))
    assert ax.get_lines()[0].get_ydata().tolist() == [6 * i for i in range(12)]


def test_timeline_accepts_series_and_periods():
    index = pd.period_range("2018-01", periods=6, freq="M")
    fig, ax = plot.timeline(pd.Series([1, 2, 4, 8, 9, 9], index=index), annotate=False)
    line = ax.get_lines()[0]
    assert line.get_ydata().tolist() == [1, 2, 4, 8, 9, 9]
    assert not any("Washington Post" in t for t in texts(fig))
    assert len(ax.get_lines()) == 1


def test_timeline_draws_every_published_count_also_after_the_snapshot():
    index = pd.period_range("2018-01", periods=6, freq="M")
    fig, ax = plot.timeline(pd.Series([1, 2, 4, 8, 9, 9], index=index), as_of="2018-06-30")
    counts = plot.published_counts()
    drawn = {(matplotlib.dates.num2date(x).strftime("%Y-%m-%d"), int(y))
             for coll in ax.collections for x, y in coll.get_offsets()}
    wanted = counts.loc[counts["count"].notna() & (counts["counted"] != "fire")]
    assert drawn == {(f"{d:%Y-%m-%d}", int(c)) for d, c in zip(wanted["date"], wanted["count"])}
    text = " ".join(texts(fig))
    assert "Washington Post" in text and "Financial Times" in text and "455 fire" in text
    assert "The line ends" not in text  # it ends at the snapshot's date: no gap to explain
    assert "Request for Assistance" in text and "After the snapshot (Jun. 2018)" in text
    right = matplotlib.dates.num2date(ax.get_xlim()[1])
    assert right.year == counts["date"].max().year  # the axis reaches the last publication
    # no label covers a marker, the line, the event's name or another label
    from ringgeo.plot._labels import line_boxes, marker_boxes, overlap

    fig.canvas.draw()
    fixed = np.vstack([marker_boxes(c) for c in ax.collections]
                      + [line_boxes(ax.get_lines()[0])])
    boxes = [p.annotation.get_window_extent() for p in ax._ringgeo_labels]
    boxes = [[b.x0, b.y0, b.x1, b.y1] for b in boxes]
    event = next(t for t in ax.texts if "Request for Assistance" in t.get_text())
    e = event.get_window_extent()
    for i, box in enumerate(boxes):
        assert overlap(box, fixed) == 0
        assert overlap(box, [b for j, b in enumerate(boxes) if j != i] + [[e.x0, e.y0, e.x1,
                                                                          e.y1]]) == 0
    title, alt = plot.alt_text(fig)
    assert "January 2018 to June 2018: 9 by June 2018" in alt
    assert "July 2022 2,161 law enforcement" in alt


def test_published_counts_table():
    counts = plot.published_counts()
    assert list(counts.columns) == ["date", "published", "count", "qualifier", "counted",
                                    "publication", "url", "note"]
    assert set(counts["counted"]) <= {"police", "law enforcement", "police and fire", "fire",
                                      "event"}
    assert counts["url"].str.match(r"https?://").all()
    assert (counts["published"] >= counts["date"]).all()
    assert counts.loc[counts["counted"] == "event", "count"].isna().all()
    assert counts.loc[counts["counted"] != "event", "count"].notna().all()


def test_timeline_errors():
    with pytest.raises(ParameterError, match=r"\['NJ'\] are not in the timeline frame"):
        plot.timeline(_long_timeline(), states=["NJ"])
    with pytest.raises(ParameterError, match="timeline needs dates"):
        plot.timeline(pd.DataFrame({"partners": [1, 2]}))


# ----------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def real(real_partners):
    import warnings

    from ringgeo import coverage
    partners = real_partners
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undated and unlinked partners: reported elsewhere
        return {"state": coverage.by_state(partners), "county": coverage.by_county(partners),
                "timeline": coverage.timeline(partners)}


def test_real_state_and_county_maps(real, tmp_path):
    states = real["state"]
    fig, ax = plot.choropleth(states, "partners_per_100k", scheme="fisher_jenks")
    table = ax._ringgeo_data.set_index("state")
    assert len(table) == 52
    pd.testing.assert_series_equal(table["value"].sort_index(),
                                   states["partners_per_100k"].astype(float).sort_index()
                                   .reindex(table.index.sort_values()), check_names=False)
    assert (table["class"] >= 0).sum() == states["partners_per_100k"].notna().sum()
    fig, ax = plot.choropleth(real["county"], "partners", level="county",
                              scheme="user_defined", bins=[0, 1, 2, 5, 10, 100])
    table = ax._ringgeo_data.set_index("GEOID")
    joined = real["county"]["partners"].reindex(table.index).astype(float)
    assert np.allclose(table["value"], joined, equal_nan=True)
    assert table.loc[real["county"].index[real["county"]["partners"] == 0], "label"].eq("0").all()
    assert plot.save(fig, tmp_path / "county.png").stat().st_size > 100_000


def test_real_timeline_ends_at_the_dated_total(real):
    line = real["timeline"]
    fig, ax = plot.timeline(line)
    assert ax.get_lines()[0].get_ydata()[-1] == line["partners"].iloc[-1]


# ----------------------------------------------------------------- image regression
BASELINE_MAPS = ("national_states", "national_counties", "pennsylvania")


def _baseline_figure(name):
    """The maps compared with tests/baseline/: crafted data, text and legend removed."""
    from ringgeo import geography
    frame = state_frame()
    frame.loc[["OR", "KY"], "partners"] = np.nan
    if name == "national_states":
        fig = plot.choropleth(frame, "partners", scheme="quantiles")[0]
    else:
        counties = county_frame(geography.load_counties())
        fig = (plot.choropleth(counties, "partners", level="county", scheme="user_defined",
                               bins=[0, 2, 5, 10])[0] if name == "national_counties" else
               plot.choropleth(counties, "partners", state="PA", scheme="equal_interval",
                               k=4)[0])
    _strip_text(fig)
    return fig


def _strip_text(fig):
    for text in fig.texts:
        text.set_visible(False)
    for ax in fig.axes:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        for text in ax.texts:
            text.set_visible(False)


@pytest.mark.parametrize("name", BASELINE_MAPS)
def test_maps_match_baselines(name, tmp_path):
    fig = _baseline_figure(name)
    actual = plot.save(fig, tmp_path / f"{name}.png", dpi=40)
    expected = BASELINE / f"{name}.png"
    assert expected.stat().st_size < 200_000
    result = compare_images(str(expected), str(actual), tol=1.0)
    assert result is None, result


if __name__ == "__main__" and "--make-baselines" in sys.argv:
    BASELINE.mkdir(exist_ok=True)
    for map_name in BASELINE_MAPS:
        print(plot.save(_baseline_figure(map_name), BASELINE / f"{map_name}.png", dpi=40))


def test_count_breaks_are_whole_numbers():
    # Quantile breaks of integer counts fall between integers (2.5); the legend must read
    # as whole-number ranges that hold exactly the same counties.
    frame = pd.DataFrame({"partners": [0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 12, 17, 3, 1, 0, 2, 9, 4, 5,
                                       6]},
                         index=pd.Index(["NJ", "PA", "NY", "CT", "MA", "RI", "VT", "NH", "ME", "DE",
                                         "MD", "VA", "OH", "MI", "IN", "IL", "WI", "MN", "IA", "MO",
                                         "KY"], name="state"))
    data = plot.map_data(frame, "partners", level="state")
    labels = [lab for lab in data["label"].dropna().unique()]
    assert all("." not in lab for lab in labels), labels
    present = data.dropna(subset=["value"])
    for label, group in present.groupby("label"):
        if "–" in label:
            lo, hi = (int(x) for x in label.split("–"))
            assert group["value"].between(lo, hi).all(), (label, group["value"].tolist())
        else:
            assert (group["value"] == int(label)).all()


def test_share_columns_default_to_percent_labels():
    frame = pd.DataFrame({"share_covered_max": [0.1, 0.25, 0.5, 0.75, 0.9, 0.0]},
                         index=pd.Index(["NJ", "PA", "NY", "CT", "MA", "RI"], name="state"))
    data = plot.map_data(frame, "share_covered_max", level="state", scheme="user_defined",
                         bins=[0.2, 0.4, 1.0])
    labels = set(data["label"])
    assert {"0%", "over 20% to 40%", "over 40% to 100%"} <= labels, labels
    # the same numbers under another name stay numbers
    other = plot.map_data(frame.rename(columns={"share_covered_max": "ratio"}), "ratio",
                          level="state", scheme="user_defined", bins=[0.2, 0.4, 1.0])
    assert "over 0.4 to 1.0" in set(other["label"])


def test_outline_areas_marks_counties_and_names_them_in_the_legend():
    frame = pd.DataFrame({"v": {"10001": 1.0, "10003": 2.0, "10005": 3.0}})
    fig, ax = plot.choropleth(frame, "v", level="county", state="DE")
    before = [t.get_text() for t in ax.get_legend().get_texts()]
    lines = len(ax.collections)
    assert plot.outline_areas(ax, ["10003", "99999"], state="DE", label="partnered") == 1
    after = [t.get_text() for t in ax.get_legend().get_texts()]
    assert after == before + ["partnered"] and len(ax.collections) == lines + 1
    plt.close(fig)


def test_composition_chart_refuses_an_area_the_table_lacks():
    rows = pd.MultiIndex.from_product([["US"], ["all", "covered_min", "covered_max",
                                                "not_covered"]], names=["state", "group"])
    table = pd.DataFrame(0.5, index=rows, columns=["share_white", "share_black", "share_asian",
                                                   "share_hispanic", "share_poverty150",
                                                   "share_metro"])
    with pytest.raises(ParameterError, match="`area` was 'NJ' but the table has the rows 'US'"):
        plot.composition_chart(table, "NJ")
    fig, ax = plot.composition_chart(table)
    assert plot.alt_text(fig)[0] == "Who lives under a Ring-partnered police, the United States"
    plt.close(fig)


# ----------------------------------------------------------------- issue 23: frames, legends, ties
@pytest.mark.parametrize("usps", ["IL", "FL", "PA"])
def test_state_maps_fill_their_frame(usps, counties):
    """No empty band: the map and its legend take the figure's width, the map its height."""
    frame = county_frame(counties)
    fig, ax = plot.choropleth(frame, "partners", state=usps, title="A title")
    fig.canvas.draw()
    drawn = ax.get_window_extent()  # an equal-aspect map's box after apply_aspect
    legend = ax.get_legend().get_window_extent()
    used = (legend.x1 - drawn.x0) / fig.bbox.width
    assert used > 0.75, f"{usps}: map and legend use {used:.0%} of the width"
    assert legend.x0 >= drawn.x1 and legend.x1 <= fig.bbox.x1
    headline = max(t.get_window_extent().y0 for t in fig.texts if t.get_text() == "A title")
    assert drawn.height / (headline - 0) > 0.6  # the map takes most of the height
    assert fig.get_figheight() <= plot.FIGSIZE[1] and fig.get_figwidth() <= plot.FIGSIZE[0]


def test_no_data_is_listed_only_when_some_area_has_none(counties):
    geoids = counties.loc[counties["state"] == "DE", "GEOID"]
    full = pd.DataFrame({"partners": [1, 2, 3]}, index=geoids)
    fig, ax = plot.choropleth(full, "partners", state="DE")
    assert "No data" not in [t.get_text() for t in ax.get_legend().get_texts()]
    fig, ax = plot.choropleth(full.iloc[:2], "partners", state="DE")
    assert "No data" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_alt_text_names_ties_as_ties():
    frame = pd.DataFrame({"share_covered_max": {"NJ": 1.0, "PA": 1.0, "NY": 1.0, "CT": 1.0,
                                                "DE": 1.0, "OH": 0.5, "WY": 0.0}})
    table = plot.map_data(frame, "share_covered_max")
    alt = plot.describe_map(table, "share_covered_max", "2020-10-07")
    assert ("5 states tie at the highest value, 100%: Connecticut, Delaware, New Jersey and 2 "
            "others") in alt
    assert "Highest" not in alt
    frame = pd.DataFrame({"partners": {"NJ": 9, "PA": 5, "NY": 5, "CT": 5, "OH": 5}})
    alt = plot.describe_map(plot.map_data(frame, "partners"), "partners")
    assert "Highest: New Jersey (9), then 4 states tie at 5" in alt
    frame = pd.DataFrame({"partners": {"NJ": 9, "PA": 9}})
    alt = plot.describe_map(plot.map_data(frame, "partners"), "partners")
    assert "2 states tie at the highest value, 9: New Jersey and Pennsylvania" in alt


def test_map_titles_name_the_technology():
    from ringgeo import tables

    assert tables.map_title("share_covered_max", "county", "FL").startswith("Ring partnerships:")
    drones = pd.DataFrame()
    drones.attrs["technology"] = "drones"
    # the label names the technology already (ringgeo.metrics.metric_for): no prefix
    title = tables.map_title("partners_per_100k", partners=drones)
    assert title == "Agencies using drones per 100,000 residents, by state"
    assert tables.map_title("partners_per_100k", frame=drones) == title


def test_timeline_explains_why_the_line_ends_before_the_export():
    """Issue 23: fig7's line ends in June 2020, the shaded band starts in October 2020."""
    index = pd.period_range("2020-01", periods=6, freq="M")
    fig, ax = plot.timeline(pd.Series([1, 2, 4, 8, 9, 9], index=index))
    text = " ".join(texts(fig))
    # the last growth is in May (9 then 9): the last dated activation's month
    assert "The line ends in May 2020: no activation in\nthe 7 Oct. 2020 export is dated later" \
        in text
    bridge = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":"]
    assert len(bridge) == 1
    start, end = (pd.Timestamp(d) for d in bridge[0].get_xdata())
    assert (f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}") == ("2020-06-30", "2020-10-07")
    assert all(p.overlaps == 0 for p in ax._ringgeo_labels)
    plt.close(fig)


@pytest.mark.parametrize("scheme", ["quantiles", "fisher_jenks", "natural_breaks"])
def test_computed_class_breaks_are_stored_and_read_back(tmp_path, monkeypatch, scheme):
    """A map's computed breaks are kept in the parsed-data cache, keyed on the values: the
    same numbers read them back (mapclassify is not asked again) and give the same map as
    with the cache off; other numbers are classified afresh."""
    from ringgeo import classes, tablecache

    monkeypatch.setenv("RINGGEO_TABLE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RINGGEO_PARSED_CACHE", raising=False)
    tablecache._MEMO.clear()
    frame = pd.DataFrame({"partners": {usps: float((i * 7) % 23) for i, usps in enumerate(IN_51)}})

    def labels():
        table = plot.map_data(frame, "partners", scheme=scheme, k=5)
        return table.set_index("GEOID")[["class", "label"]]

    def stored():
        return [p for p in tablecache.entries() if p.name.startswith("class_breaks-")]

    first = labels()
    assert len(stored()) == 1
    tablecache._MEMO.clear()
    with monkeypatch.context() as patch:  # read back: mapclassify is not called
        patch.setattr(classes, "_computed", lambda *a: pytest.fail("breaks computed again"))
        pd.testing.assert_frame_equal(labels(), first)
    monkeypatch.setenv("RINGGEO_PARSED_CACHE", "0")
    pd.testing.assert_frame_equal(labels(), first)
    monkeypatch.delenv("RINGGEO_PARSED_CACHE")
    frame["partners"] *= 2  # other numbers: other breaks, stored beside the first
    assert labels()["label"].tolist() != first["label"].tolist()
    assert len(stored()) == 2
    tablecache._MEMO.clear()
