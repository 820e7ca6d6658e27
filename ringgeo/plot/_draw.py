"""Draw polygons and lines of a GeoSeries as one matplotlib collection, fast.

``GeoDataFrame.plot`` builds one matplotlib ``PathPatch`` per polygon (each
patch walks the property cycler and converts its colours) only to hand their
paths to one ``PatchCollection``; for the 3,220 counties of a national map that
is three quarters of the drawing time. :func:`draw_polygons` builds the same
paths from shapely's coordinate arrays in a few vectorised steps and adds them
as one collection, and :func:`draw_lines` does the same for lines (state
outlines). What they draw is what ``GeoDataFrame.plot`` draws, byte for byte
in PNG, SVG and PDF files: the geometries are normalised as geopandas does
(rings oriented, parts ordered), missing and empty geometries are skipped,
each (Multi)Polygon is one compound path (exterior, then its holes, part after
part, every ring closed), the collection gets the same class, style keywords
in the same order, data limits and autoscaling, and the axes the same aspect
and axis labels. Only what ringgeo's maps use is supported: one style for all
geometries (no ``column``, ``cmap`` or per-row colours) and no point
geometries; anything else still goes through ``GeoDataFrame.plot``.
"""

from __future__ import annotations

import numpy as np
import shapely
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.legend import Legend
from matplotlib.legend_handler import HandlerPolyCollection
from matplotlib.path import Path

__all__ = ["draw_polygons", "draw_lines", "polygon_paths", "line_segments"]

_POLYGONS = ("Polygon", "MultiPolygon")
_LINES = ("LineString", "MultiLineString", "LinearRing")


class _GeoPandasPolyCollection(PatchCollection):
    """The collection ``GeoDataFrame.plot`` makes for polygons, built from paths.

    The class keeps geopandas' name: an SVG file names each collection's group
    after its class (``<g id="_GeoPandasPolyCollection_1">``), so the files stay
    the same. ``PatchCollection`` takes patches and keeps their paths; this one
    takes the paths.
    """

    def set_paths(self, paths):
        self._paths = list(paths)


# what geopandas registers for its own class: legends draw these collections as patches
Legend.update_default_handler_map({_GeoPandasPolyCollection: HandlerPolyCollection()})


def _geometries(geoms, kinds):
    """Normalised geometries, missing and empty ones left out."""
    values = np.asarray(getattr(geoms, "geometry", geoms), dtype=object)
    values = values[~(shapely.is_missing(values) | shapely.is_empty(values))]
    values = shapely.normalize(values)  # geopandas' ring orientation and part order
    allowed = np.isin(shapely.get_type_id(values),
                      [shapely.GeometryType[kind.upper()] for kind in kinds])
    if not allowed.all():
        found = sorted({geom.geom_type for geom in values[~allowed]})
        raise TypeError(f"expected only {' or '.join(kinds)} geometries, found {found}: "
                        "draw the others with GeoDataFrame.plot.")
    return values


def _split(values, index, count):
    """Split ``values`` (rows sorted by ``index``) into ``count`` consecutive pieces (views)."""
    ends = np.cumsum(np.bincount(index, minlength=count)).tolist()
    return [values[start:end] for start, end in zip([0] + ends[:-1], ends)]


def polygon_paths(geoms) -> list[Path]:
    """One compound path per (Multi)Polygon, as geopandas draws it.

    Parameters
    ----------
    geoms : GeoSeries, GeoDataFrame or array of shapely geometries
        Polygons and MultiPolygons; missing and empty ones are skipped.

    Returns
    -------
    list of matplotlib.path.Path
        For each drawn geometry, after ``shapely.normalize``: for each part its
        exterior then its holes, each ring a ``MOVETO``, ``LINETO`` s and a
        ``CLOSEPOLY`` (whose vertex is the ring's repeated first point).

    Examples
    --------
    >>> from shapely.geometry import Polygon
    >>> square = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2)]])
    >>> [path] = polygon_paths([square, None])
    >>> path.codes.tolist()
    [1, 2, 2, 2, 79, 1, 2, 2, 79]
    >>> path.vertices[:5].tolist()  # normalised: clockwise from the lowest point
    [[0.0, 0.0], [0.0, 4.0], [4.0, 4.0], [4.0, 0.0], [0.0, 0.0]]
    """
    return _polygon_paths(_geometries(geoms, _POLYGONS))


def _polygon_paths(values):
    if not len(values):
        return []
    parts, geom_of_part = shapely.get_parts(values, return_index=True)
    rings, part_of_ring = shapely.get_rings(parts, return_index=True)
    coords, ring_of_coord = shapely.get_coordinates(rings, return_index=True)
    codes = np.full(len(coords), Path.LINETO, dtype=Path.code_type)
    ends = np.cumsum(np.bincount(ring_of_coord, minlength=len(rings)))
    codes[ends - 1] = Path.CLOSEPOLY
    codes[np.concatenate([[0], ends[:-1]])] = Path.MOVETO
    geom_of_coord = geom_of_part[part_of_ring[ring_of_coord]]
    return [Path(v, c) for v, c in zip(_split(coords, geom_of_coord, len(values)),
                                         _split(codes, geom_of_coord, len(values)))]


def line_segments(geoms) -> list[np.ndarray]:
    """Return the ``(n, 2)`` coordinate arrays geopandas draws for (Multi)LineStrings.

    Parameters
    ----------
    geoms : GeoSeries, GeoDataFrame or array of shapely geometries
        LineStrings, MultiLineStrings, LinearRings (such as ``GeoSeries.boundary``
        of polygons); missing and empty ones are skipped.

    Returns
    -------
    list of numpy.ndarray
        One array per line part, after ``shapely.normalize``.

    Examples
    --------
    >>> from shapely.geometry import MultiLineString
    >>> [a.tolist() for a in line_segments([MultiLineString([[(3, 3), (2, 2)], [(0, 1), (1, 0)]])])]
    [[[2.0, 2.0], [3.0, 3.0]], [[0.0, 1.0], [1.0, 0.0]]]
    """
    return _line_segments(_geometries(geoms, _LINES))


def _line_segments(values):
    if not len(values):
        return []
    parts = shapely.get_parts(values)
    coords, part_of_coord = shapely.get_coordinates(parts, return_index=True)
    return _split(coords, part_of_coord, len(parts))


def _style_axes(ax, geoms):
    """Axis labels and aspect as ``GeoSeries.plot`` sets them (``add_labels``, ``aspect="auto"``).

    Returns False when geopandas would stop there: no geometry, or only empty ones
    (a missing geometry is not empty: geopandas sets the aspect and draws nothing).
    """
    crs = getattr(geoms, "crs", None)
    values = np.asarray(getattr(geoms, "geometry", geoms), dtype=object)
    if crs:
        x_label = f"{crs.axis_info[0].name} [{crs.axis_info[0].unit_name}]"
        y_label = f"{crs.axis_info[1].name} [{crs.axis_info[1].unit_name}]"
        if crs.axis_info[0].direction == "north":
            x_label, y_label = y_label, x_label
    else:
        x_label, y_label = "x", "y"
    if ax.get_xlabel() == "":
        ax.set_xlabel(x_label, fontsize="small")
    if ax.get_ylabel() == "":
        ax.set_ylabel(y_label, fontsize="small")
    if not len(values) or shapely.is_empty(values).all():
        return False
    if crs and crs.is_geographic:
        bounds = shapely.total_bounds(values)
        ax.set_aspect(1 / np.cos(np.mean([bounds[1], bounds[3]]) * np.pi / 180))
    else:
        ax.set_aspect("equal")
    return True


def _add(ax, collection, autolim):
    ax.add_collection(collection, autolim=autolim)
    ax.autoscale_view()
    return collection


def draw_polygons(ax, geoms, *, facecolor=None, autolim=True, **style):
    """Draw (Multi)Polygons on ``ax`` as ``geoms.plot(ax=ax, facecolor=..., **style)`` does.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    geoms : GeoSeries or GeoDataFrame
        Polygons and MultiPolygons (missing and empty ones are skipped); its CRS
        sets the aspect and axis labels as in geopandas.
    facecolor : colour, optional
    autolim : bool, default True
        Extend the axes' data limits to the polygons.
    **style
        Collection keywords, one value for all polygons (``edgecolor``,
        ``linewidth``, ``hatch``, ``hatchcolor``, ``zorder``...), applied in
        the order given, as geopandas applies them.

    Returns
    -------
    matplotlib.collections.PatchCollection or None
        None when there is no polygon to draw.

    Raises
    ------
    TypeError
        A geometry that is not a (Multi)Polygon.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import geopandas as gpd, matplotlib.pyplot as plt
    >>> from shapely.geometry import box
    >>> fig, ax = plt.subplots()
    >>> drawn = draw_polygons(ax, gpd.GeoSeries([box(0, 0, 2, 1), None]), facecolor="#e0e0e0",
    ...                       edgecolor="white", hatch="//")
    >>> len(drawn.get_paths()), drawn.get_hatch(), ax.get_aspect()
    (1, '//', 1.0)
    >>> plt.close(fig)
    """
    values = _geometries(geoms, _POLYGONS)
    if not _style_axes(ax, geoms) or not len(values):
        return None
    return _add(ax, _GeoPandasPolyCollection(_polygon_paths(values), facecolor=facecolor,
                                             **style), autolim)


def draw_lines(ax, geoms, *, color=None, autolim=True, **style):
    """Draw (Multi)LineStrings on ``ax`` as ``geoms.plot(ax=ax, color=..., **style)`` does.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    geoms : GeoSeries or GeoDataFrame
        LineStrings, MultiLineStrings and LinearRings, e.g. ``frame.boundary``.
    color : colour, optional
    autolim : bool, default True
    **style
        ``LineCollection`` keywords, one value for all lines (``linewidth``...).

    Returns
    -------
    matplotlib.collections.LineCollection or None
        None when there is no line to draw.

    Raises
    ------
    TypeError
        A geometry that is not a line.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import geopandas as gpd, matplotlib.pyplot as plt
    >>> from shapely.geometry import box
    >>> fig, ax = plt.subplots()
    >>> drawn = draw_lines(ax, gpd.GeoSeries([box(0, 0, 2, 1)]).boundary, color="#595959")
    >>> len(drawn.get_segments()), ax.get_xlim()
    (1, (np.float64(-0.1), np.float64(2.1)))
    >>> plt.close(fig)
    """
    values = _geometries(geoms, _LINES)
    if not _style_axes(ax, geoms) or not len(values):
        return None
    if color is not None:
        style = {**style, "color": color}
    return _add(ax, LineCollection(_line_segments(values), **style), autolim)
