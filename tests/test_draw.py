"""Tests of ringgeo.plot._draw: polygons and lines drawn as GeoDataFrame.plot draws them.

Each drawing is made twice, once with geopandas and once with the helper, on
two figures of the same size; the rendered pixels, the axes' limits and aspect
and the SVG file (fixed salt, no date) must be the same.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import geopandas as gpd  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import shapely  # noqa: E402
from geopandas.plotting import _PolygonPatch  # noqa: E402
from shapely.geometry import (  # noqa: E402
    GeometryCollection,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
    box,
)

from ringgeo.plot import _draw  # noqa: E402

HATCHED = {"facecolor": "#e0e0e0", "edgecolor": "white", "linewidth": 0.6, "hatch": "//////",
           "hatchcolor": "#8c8c8c"}
PLAIN = {"facecolor": "#fd8d3c", "edgecolor": "white", "linewidth": 0.4}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def crafted(crs=None) -> gpd.GeoSeries:
    """A square with two holes (clockwise, one ring given counter-clockwise), a
    MultiPolygon whose second part has a hole, a triangle, a missing and an empty geometry."""
    square = Polygon([(0, 0), (0, 10), (10, 10), (10, 0)],
                     [[(1, 1), (3, 1), (3, 3), (1, 3)], [(6, 6), (6, 8), (8, 8)]])
    multi = MultiPolygon([box(12, 0, 14, 3),
                          Polygon([(12, 5), (18, 5), (18, 11), (12, 11)],
                                  [[(14, 7), (16, 7), (16, 9), (14, 9)]])])
    triangle = Polygon([(2, 12), (9, 12), (5, 16)])
    return gpd.GeoSeries([square, None, multi, Polygon(), triangle], crs=crs)


def rendered(draw, size=(4, 3), dpi=80):
    """Pixels, limits, aspect and SVG bytes of a figure after ``draw(ax)``."""
    fig, ax = plt.subplots(figsize=size, dpi=dpi)
    draw(ax)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba()).copy()
    svg = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "ringgeo-test"}):
        fig.savefig(svg, format="svg", metadata={"Date": None})
    state = {"xlim": ax.get_xlim(), "ylim": ax.get_ylim(), "aspect": ax.get_aspect(),
             "labels": (ax.get_xlabel(), ax.get_ylabel()), "dataLim": ax.dataLim.bounds}
    plt.close(fig)
    return pixels, state, svg.getvalue()


def assert_same(by_geopandas, by_helper):
    pixels_a, state_a, svg_a = rendered(by_geopandas)
    pixels_b, state_b, svg_b = rendered(by_helper)
    assert state_a == state_b
    assert np.array_equal(pixels_a, pixels_b)
    assert svg_a == svg_b


@pytest.mark.parametrize("style", [HATCHED, PLAIN, {**PLAIN, "zorder": 3, "alpha": 0.5}],
                         ids=["hatched", "plain", "zorder-alpha"])
def test_polygons_drawn_as_geopandas_draws_them(style):
    shapes = crafted()
    assert_same(lambda ax: shapes.plot(ax=ax, **style),
                lambda ax: _draw.draw_polygons(ax, shapes, **style))


def test_layers_with_a_geographic_crs_and_outlines():
    """No data hatched, a class over it, outlines on top; EPSG:4269 sets the aspect and labels."""
    shapes = crafted("EPSG:4269")
    shapes = shapes.set_crs(None, allow_override=True).translate(-90, 35).set_crs("EPSG:4269")
    frame = gpd.GeoDataFrame({"code": [0, 1, 1, 0, 1]}, geometry=shapes)

    def by_geopandas(ax):
        frame[frame["code"] == 0].plot(ax=ax, **HATCHED)
        frame[frame["code"] == 1].plot(ax=ax, **PLAIN)
        frame.boundary.plot(ax=ax, color="#595959", linewidth=0.8)

    def by_helper(ax):
        _draw.draw_polygons(ax, frame[frame["code"] == 0], **HATCHED)
        _draw.draw_polygons(ax, frame[frame["code"] == 1], **PLAIN)
        _draw.draw_lines(ax, frame.boundary, color="#595959", linewidth=0.8)

    assert_same(by_geopandas, by_helper)
    _, state, _ = rendered(by_helper)
    assert state["aspect"] == pytest.approx(1 / np.cos(np.radians(35 + 8)))
    assert state["labels"] == ("Geodetic longitude [degree]", "Geodetic latitude [degree]")


def test_lines_drawn_as_geopandas_draws_them():
    lines = gpd.GeoSeries([MultiLineString([[(5, 5), (0, 0), (3, 1)], [(9, 9), (4, 2)]]), None,
                           LineString([(7, 0), (1, 8)]), LineString()])
    assert_same(lambda ax: lines.plot(ax=ax, color="#595959", linewidth=2),
                lambda ax: _draw.draw_lines(ax, lines, color="#595959", linewidth=2))


def test_paths_are_geopandas_paths():
    """One compound path per drawn geometry, with geopandas' vertices and codes."""
    shapes = crafted()
    paths = _draw.polygon_paths(shapes)
    expected = [_PolygonPatch(g).get_path() for g in shapely.normalize(shapes.dropna())
                if not g.is_empty]
    assert len(paths) == len(expected) == 3
    for path, want in zip(paths, expected):
        assert path.codes.tolist() == want.codes.tolist()
        assert np.array_equal(path.vertices, want.vertices)
        assert path.should_simplify == want.should_simplify
    # the square: exterior, then its two holes (5 vertices each: closed rings)
    assert paths[0].codes.tolist().count(1) == 3
    assert (paths[0].codes == 79).sum() == 3


def test_nothing_to_draw_adds_no_collection():
    """A missing geometry sets the aspect as in geopandas (it is not empty); nothing is drawn."""
    nothing = gpd.GeoSeries([None, Polygon()])
    assert_same(lambda ax: nothing.plot(ax=ax, facecolor="red"),
                lambda ax: _draw.draw_polygons(ax, nothing, facecolor="red"))
    fig, ax = plt.subplots()
    assert _draw.draw_polygons(ax, nothing, facecolor="red") is None
    assert ax.get_aspect() == 1.0
    assert _draw.draw_polygons(ax, gpd.GeoSeries([], dtype="geometry")) is None
    assert _draw.draw_lines(ax, gpd.GeoSeries([LineString()])) is None
    assert len(ax.collections) == 0
    assert _draw.polygon_paths([]) == []


def test_other_geometries_are_refused():
    with pytest.raises(TypeError, match=r"only Polygon or MultiPolygon geometries, found "
                                        r"\['Point'\]: draw the others with GeoDataFrame.plot"):
        _draw.polygon_paths([box(0, 0, 1, 1), Point(0, 0)])
    mixed = [MultiPolygon([box(0, 0, 1, 1)]), MultiPoint([(0, 0)]),
             GeometryCollection([box(0, 0, 1, 1)])]
    with pytest.raises(TypeError, match=r"found \['GeometryCollection', 'MultiPoint'\]"):
        _draw.draw_polygons(plt.subplots()[1], mixed)
    with pytest.raises(TypeError, match="found \\['Polygon'\\]"):
        _draw.line_segments([box(0, 0, 1, 1)])


def test_real_counties_drawn_as_geopandas_draws_them():
    """The national county layer (mirror): three classes, no data hatched, state outlines."""
    from ringgeo import plot

    counties = plot._choropleth._geometry("county")
    code = counties["GEOID"].astype(int) % 4 - 1  # -1: no data
    states = plot._choropleth._geometry("state").boundary

    def by_geopandas(ax):
        counties[code < 0].plot(ax=ax, **{**HATCHED, "linewidth": 0.12})
        for k, colour in enumerate(["#ffffb2", "#fd8d3c", "#bd0026"]):
            counties[code == k].plot(ax=ax, facecolor=colour, edgecolor="white", linewidth=0.12)
        states.plot(ax=ax, color="#595959", linewidth=0.35)

    def by_helper(ax):
        _draw.draw_polygons(ax, counties[code < 0], **{**HATCHED, "linewidth": 0.12})
        for k, colour in enumerate(["#ffffb2", "#fd8d3c", "#bd0026"]):
            _draw.draw_polygons(ax, counties[code == k], facecolor=colour, edgecolor="white",
                                linewidth=0.12)
        _draw.draw_lines(ax, states, color="#595959", linewidth=0.35)

    assert_same(by_geopandas, by_helper)
