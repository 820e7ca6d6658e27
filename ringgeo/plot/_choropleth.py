"""Choropleth maps: the US composite of states or counties, or one state's counties.

:func:`choropleth` is the one front door for maps: a national map of states or
counties in the US composite layout (lower 48 in equal-area Albers, Alaska,
Hawaii and Puerto Rico moved beside them), or one state with its counties.
Class breaks come from mapclassify through a scheme name (:mod:`ringgeo.classes`);
missing values are hatched grey with a "No data" legend entry, zero gets a class of
its own, and every figure carries a source line. See ``docs/figures.md``.
"""

from __future__ import annotations

import hashlib
import textwrap

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .. import geography, params, tablecache
from .._config import memoized
from ..classes import class_labels, classify
from ..exceptions import ParameterError, warn
from ..metrics import metric_for
from ..states import state_name, validate_state
from . import _composite
from ._draw import draw_lines, draw_polygons
from ._figure import (
    FONT,
    class_colours,
    draw_source,
    map_figure,
    month_text,
    set_alt_text,
    source_line,
    titled_axes,
)

__all__ = ["choropleth", "map_data", "describe_map", "outline_areas", "CMAP", "NO_DATA_COLOR"]

#: Colour map: ColorBrewer YlOrRd, a sequential ramp that reads in grey and
#: for colour-blind readers.
CMAP = "YlOrRd"
NO_DATA_COLOR = "#e0e0e0"
NO_DATA_HATCH_COLOR = "#8c8c8c"
NO_DATA_HATCH = "//////"


# --------------------------------------------------------------------------- classes
def _stored_breaks(scheme: str, values: np.ndarray, k: int, bins, compute) -> np.ndarray:
    """Return the breaks of a computed scheme, from the parsed-data cache when stored.

    Keyed on the values themselves (their sha256), the scheme, ``k``, ``bins`` and
    mapclassify's version (and, as every stored table, ringgeo's code): a map redrawn
    from the same numbers reads its breaks instead of importing mapclassify (scipy.stats
    and scikit-learn: 0.6 s) to compute them again.
    """
    from importlib import metadata

    try:
        version = metadata.version("mapclassify")
    except metadata.PackageNotFoundError:  # mapclassify's own import error, as uncached
        return compute()
    values = np.ascontiguousarray(values, dtype=float)
    key = {"scheme": scheme, "k": int(k), "bins": None if bins is None else list(map(float, bins)),
           "values": hashlib.sha256(values.tobytes()).hexdigest(), "n": int(values.size),
           "mapclassify": version}
    table = tablecache.cached("class_breaks", key,
                              lambda: pd.DataFrame({"edge": np.asarray(compute(), dtype=float)}))
    return table["edge"].to_numpy(dtype=float)


# --------------------------------------------------------------------------- geometry
@memoized(maxsize=8)
def _geometry(level: str, usps: str | None = None) -> gpd.GeoDataFrame:
    """Map geometry: the national composite, or one state's areas in its own projection."""
    states = geography.load_states()
    frame = states if level == "state" else geography.load_counties()
    frame = frame[["GEOID", "state", "name", "geometry"]]
    if usps is None:
        return _composite.composite(frame)
    crs = _composite.state_crs(usps, states.loc[states["state"] == usps].geometry)
    frame = frame.loc[frame["state"] == usps].to_crs(crs)
    return frame.set_crs(None, allow_override=True)


def _index_keys(frame: pd.DataFrame, level: str) -> pd.Index:
    """Normalise the frame's index to USPS codes (state) or 5-character GEOIDs (county)."""
    index = pd.Index(frame.index.astype(str).str.strip())
    if index.has_duplicates:
        dup = sorted(set(index[index.duplicated()]))[:5]
        raise ParameterError(f"frame index has duplicate keys {dup}: one row per area is "
                             "needed to colour a map.")
    if level == "state":
        keys = []
        for key in index:
            try:
                keys.append(validate_state(key))
            except ParameterError:
                keys.append(key)
        return pd.Index(keys)
    # county GEOIDs read as numbers lose their leading zero: 1001 -> "01001"
    return pd.Index([key.zfill(5) if key.isdigit() and len(key) == 4 else key for key in index])


def map_data(frame, column, *, level=None, state=None, scheme="quantiles", k=5, bins=None,
             zero_class=True, legend_fmt=None):
    """Return the table behind a choropleth: geometry, value, class and legend label.

    Same arguments as :func:`choropleth`. Use it to check a map's numbers or to
    export its classes.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per area drawn (sorted by ``GEOID``), in map coordinates (no CRS):
        ``GEOID``, ``state``, ``name``, ``value`` (NaN for no data), ``class``
        (0 = lowest, -1 = no data), ``label`` (the legend entry), ``geometry``.
        ``attrs`` holds ``edges``, ``labels``, ``level``, ``state``, ``column``.

    Raises
    ------
    ParameterError
        Unknown level, scheme, column or state; a frame whose index does not
        match the level (a county map needs 5-character county GEOIDs).

    Examples
    --------
    >>> frame = pd.DataFrame({"partners": {"CA": 120, "TX": 80, "WY": 0}})
    >>> table = map_data(frame, "partners", scheme="user_defined", bins=[0, 50, 200])
    >>> table.set_index("state").loc[["CA", "TX", "WY", "NY"], "label"].tolist()
    ['51–200', '51–200', '0', 'No data']
    """
    if level is None:
        level = "county" if state is not None else "state"
    if level not in ("state", "county"):
        raise ParameterError(f'level was {level!r} but is expected to be "state" or "county".')

    scheme = params.validate_scheme(scheme)
    k = params.validate_k(k)
    bins = params.validate_bins(bins, scheme)
    if isinstance(frame, pd.Series):
        frame = frame.to_frame(column if frame.name is None else frame.name)
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"frame must be a pandas DataFrame, got {type(frame).__name__}.")
    if column not in frame.columns:
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
        raise ParameterError(f"Column {column!r} is not in the frame; numeric columns are: "
                             f"{', '.join(map(str, numeric)) or 'none'}.")
    if (not pd.api.types.is_numeric_dtype(frame[column])
            or pd.api.types.is_bool_dtype(frame[column])):
        raise ParameterError(f"Column {column!r} is {frame[column].dtype}, not numbers; "
                             "a choropleth colours numeric values.")
    usps = None
    if state is not None:
        usps = validate_state(state)
        if level == "state":
            raise ParameterError(f'state={state!r} draws the counties of one state: use '
                                 'level="county" (the default when state is given).')

    national = _geometry(level)
    if usps is not None and usps not in set(national["state"]):
        raise ParameterError(f"state={state!r} ({usps}) has no counties in the Census "
                             "boundary file; ringgeo maps the 50 states, DC and Puerto Rico.")
    keys = _index_keys(frame, level)
    key_col = "state" if level == "state" else "GEOID"
    matched = keys.isin(national[key_col])
    if not matched.any():
        hint = ("a county map needs an index of 5-character county GEOIDs such as '42101' "
                "(ringgeo.coverage.by_county)" if level == "county" else
                "a state map needs an index of USPS codes such as 'PA' "
                "(ringgeo.coverage.by_state)")
        raise ParameterError(f"No row of the frame matches a {level} on the map (index starts "
                             f"{list(frame.index[:3])}): {hint}.")
    if (~matched).any():
        extra = list(keys[~matched])
        warn(f"{len(extra)} row(s) of the frame match no {level} on the map and are "
              f"not drawn: {', '.join(map(str, extra[:10]))}"
              f"{' ...' if len(extra) > 10 else ''}.")
    values = pd.Series(pd.to_numeric(frame[column], errors="coerce").astype(float).to_numpy(),
                       index=keys)
    values = values.where(np.isfinite(values))
    table = _geometry(level, usps).copy()
    table["value"] = table[key_col].map(values).astype(float).to_numpy()
    if table["value"].isna().all():
        raise ParameterError(f"Column {column!r} has no value for any {level} on this map: "
                             "nothing to colour.")
    codes, edges, zero = classify(table["value"], scheme, k, bins, zero_class,
                                  computed=_stored_breaks)
    finite = table["value"].dropna()
    integral = bool(np.all(np.mod(finite, 1) == 0) and np.all(np.mod(edges, 1) == 0))
    lowest = None if scheme == "user_defined" else float(finite.min())
    if legend_fmt is None and str(column).startswith("share_"):
        legend_fmt = "percent"  # shares (0 to 1) read as percents: "20% to 40%"
    labels = class_labels(edges, lowest=lowest, integral=integral, zero_class=zero,
                          legend_fmt=legend_fmt)
    table["class"] = codes
    table["label"] = [labels[c] if c >= 0 else "No data" for c in codes]
    table = table.sort_values("GEOID", ignore_index=True)
    table = table[["GEOID", "state", "name", "value", "class", "label", "geometry"]]
    table.attrs = {"edges": [float(e) for e in edges], "labels": labels, "level": level,
                   "state": usps, "column": column, "zero_class": zero,
                   **{k: v for k, v in getattr(frame, "attrs", {}).items()
                      if k in ("technology", "source_file")}}  # the words of the figure
    return table


# Composite-map extent (metres, see ringgeo._composite): room on the right for
# the legend, in the Atlantic east of the Carolinas and south of New England.
_NATIONAL_XLIM = (-2_380_000.0, 3_000_000.0)
_NATIONAL_YLIM = (170_000.0, 3_200_000.0)
_DC_CALLOUT = (2_000_000.0, 1_780_000.0)


def choropleth(frame, column, *, level=None, state=None, scheme="quantiles", k=5, bins=None,
               cmap=CMAP, ax=None, title=None, subtitle=None, legend_title=None,
               legend_fmt=None, note=None, as_of=None, credit=None, zero_class=True,
               legend=True):
    """Draw a choropleth of one column: national (states or counties) or one state.

    Parameters
    ----------
    frame : pandas.DataFrame or Series
        Values indexed by USPS code (``level="state"``, e.g.
        ``ringgeo.coverage.by_state``) or by 5-character county GEOID
        (``level="county"``, e.g. ``ringgeo.coverage.by_county``). Areas of the
        map without a value are hatched grey, "No data".
    column : str
        The numeric column to colour.
    level : {"state", "county"}, optional
        Default ``"state"``, or ``"county"`` when ``state`` is given.
    state : str, optional
        Any spelling of one state (``"PA"``, ``"Pennsylvania"``, ``42``): draw
        its counties in an equal-area projection centred on it. None draws the
        national composite (lower 48 with Alaska, Hawaii and Puerto Rico).
    scheme : str, default "quantiles"
        Class breaks, one of :data:`SCHEMES` (mapclassify). ``"natural_breaks"``
        uses a fixed seed; ``"user_defined"`` uses ``bins``.
    k : int, default 5
        Number of classes (fewer when the data have fewer distinct values).
    bins : sequence of float, optional
        Upper bounds of the classes for ``scheme="user_defined"``; give the same
        bins (starting with 0) to several maps to share one legend.
    cmap : str or Colormap, default "YlOrRd"
        Sequential colour map, lightest for the lowest class.
    ax : matplotlib Axes, optional
        Draw into this axes; the title becomes the axes title, the legend goes
        to the right of the axes and the source line under it (leave room).
    title, subtitle : str, optional
        Left-aligned headline and a line under it.
    legend_title : str, optional
        Default: the metric's name (``"Partners per 100,000 residents"``).
    legend_fmt : {None, "percent"}, str or callable, optional
        Legend number format, see :func:`class_labels`. None: percents for
        ``share_*`` columns, otherwise numbers with thousands separators.
    note : str, optional
        The metric's definition for the source line.
    as_of : date-like, optional
        Cut-off date of the partner data; default ``frame.attrs["as_of"]``.
    credit : str or list of str, optional
        See :func:`source_line`.
    zero_class : bool, default True
        Give zero a class (and legend entry ``"0"``) of its own when the data
        hold zeros, so "no partner" reads differently from low values and
        from "no data".
    legend : bool, default True
        Draw the legend; False for small multiples that share one legend.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
        The axes holds the drawn table (see :func:`map_data`) as ``ax._ringgeo_data``.

    Raises
    ------
    ParameterError
        See :func:`map_data`.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> frame = pd.DataFrame({"partners": {"CA": 120, "TX": 80, "FL": 150, "WY": 0}})
    >>> fig, ax = choropleth(frame, "partners", scheme="user_defined", bins=[0, 50, 100, 200],
    ...                      title="Ring partners by state")
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['0', '1–50', '51–100', '101–200', 'No data']
    >>> plt.close(fig)
    """
    table = map_data(frame, column, level=level, state=state, scheme=scheme, k=k, bins=bins,
                     zero_class=zero_class, legend_fmt=legend_fmt)
    level, usps = table.attrs["level"], table.attrs["state"]
    if as_of is None:
        as_of = frame.attrs.get("as_of")  # map_data accepted only a DataFrame or Series
    source = source_line(column, as_of=as_of, note=note, credit=credit, level=level,
                         frame=table)
    if usps is not None:
        xmin, ymin, xmax, ymax = table.total_bounds
        pad = 0.02 * max(xmax - xmin, ymax - ymin)
        limits = (xmin - pad, xmax + pad), (ymin - pad, ymax + pad)
    if ax is None and usps is not None:  # a figure as wide as the state needs
        (x0, x1), (y0, y1) = limits
        fig, ax = map_figure((x1 - x0) / (y1 - y0), title, subtitle, source)
        own = True
    else:
        fig, ax, own = titled_axes(ax, title, subtitle, left=0.01, bottom=0.11, margin=0.12,
                                   width=0.98 if usps is None else 0.70)
    labels = table.attrs["labels"]
    colours = class_colours(cmap, len(labels), table.attrs["zero_class"])
    county = level == "county"
    edge_width = 0.6 if not county else (0.12 if usps is None else 0.4)
    missing = table[table["class"] < 0]
    _draw_classes(ax, table, missing, colours, edge_width, county, usps)
    handles = [Patch(facecolor=c, edgecolor="#bdbdbd", linewidth=0.4, label=lab)
               for c, lab in zip(colours, labels)]
    if len(missing):  # the legend lists only what the map shows
        handles.append(Patch(facecolor=NO_DATA_COLOR, edgecolor=NO_DATA_HATCH_COLOR,
                             linewidth=0.4, hatch=NO_DATA_HATCH, label="No data"))
    name = legend_title if legend_title is not None else (metric_for(column, table)
                                                          or (column,))[0]
    name = "\n".join(textwrap.wrap(str(name), 26))  # keeps the legend off the land
    ax.set_aspect("equal")
    ax.set_axis_off()
    if usps is None:
        ax.set_xlim(_NATIONAL_XLIM)
        ax.set_ylim(_NATIONAL_YLIM)
        if level == "state":
            _dc_callout(ax, table, colours)
        legend_kw = ({"loc": "lower right", "bbox_to_anchor": (1.0, 0.11)} if own else
                     {"loc": "center left", "bbox_to_anchor": (1.0, 0.5)})
    else:
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])
        legend_kw = {"loc": "center left", "bbox_to_anchor": (1.02, 0.5)}
    if legend:
        ax.legend(handles=handles, title=name, frameon=False, fontsize=FONT["legend"],
                  title_fontsize=FONT["legend_title"], alignment="left", handlelength=1.6,
                  handleheight=1.1, **legend_kw)
        ax._ringgeo_legend = legend_kw  # where the legend goes, for outline_areas
    draw_source(fig, ax, source, own)
    ax._ringgeo_data = table
    title_text = title or subtitle or (metric_for(column, table) or (str(column),))[0]
    described = describe_map(table, column, as_of, label=legend_title)
    set_alt_text(ax, title_text, described)
    if own:
        set_alt_text(fig, title_text, described)
    return fig, ax


def describe_map(table, column, as_of=None, *, label=None) -> str:
    """One or two sentences that say what a map shows (its alt text), from its data.

    Parameters
    ----------
    table : geopandas.GeoDataFrame
        The table of :func:`map_data`.
    column : str
    as_of : date-like, optional
    label : str, optional
        What the values are; default the metric's label (the column's name for
        other columns). ``choropleth`` passes its ``legend_title``.

    Returns
    -------
    str

    Examples
    --------
    >>> frame = pd.DataFrame({"partners": {"CA": 120, "TX": 80, "FL": 150, "WY": 0, "MT": 0}})
    >>> table = map_data(frame, "partners")
    >>> describe_map(table, "partners", "2020-10-07")  # doctest: +NORMALIZE_WHITESPACE
    'Ring partner agencies by state, October 2020. Highest: Florida (150), California (120),
    Texas (80); 2 states have none; 47 have no data.'
    """
    level, usps = table.attrs["level"], table.attrs["state"]
    metric = label if label is not None else (metric_for(column, table) or (str(column),))[0]
    unit = "states" if level == "state" else "counties"
    where = f"by {level}" if usps is None else f"in {state_name(usps)}, by county"
    values = table["value"]
    if str(column).startswith("share_"):
        fmt = "{:.0%}".format
    elif np.all(np.mod(values.dropna(), 1) == 0):
        fmt = "{:,.0f}".format
    else:
        fmt = "{:,.2f}".format
    def area(row):
        if level == "state":
            return state_name(row.state)
        return row.name if usps is not None else f"{row.name}, {row.state}"
    text = f"{metric} {where}, {month_text(as_of)}. " + _highest(
        table.dropna(subset=["value"]), area, fmt, unit)
    zero = int((values == 0).sum())
    missing = int(values.isna().sum())
    if zero:
        text += f"; {zero:,} {unit if zero != 1 else unit[:-1].replace('ie', 'y')} " \
                f"{'have' if zero != 1 else 'has'} none"
    if 0 < missing <= 3:
        gone = [area(r) for r in table.loc[values.isna()].itertuples()]
        text += f"; no data for {' and '.join(gone)}"
    elif missing:
        text += f"; {missing:,} have no data"
    return text + "."


def _highest(table, area, fmt, unit: str, most: int = 3) -> str:
    """Name the highest areas (at most ``most``); areas that tie are said to tie.

    Several areas at the top value: "12 counties tie at the highest value, 100%: a, b,
    c and 9 others". Else the highest ones in order, until a value shared by more
    areas than there are names left ("then 5 counties tie at 2.1").
    """
    parts, named = [], 0
    order = table.sort_values(["value", "GEOID"], ascending=[False, True])
    for value, rows in order.groupby("value", sort=False):
        names = sorted(area(r) for r in rows.itertuples())
        if len(names) > 1 and named == 0:
            shown = names[:most]
            rest = len(names) - len(shown)
            listed = (", ".join(shown) + f" and {rest:,} other{'s' if rest > 1 else ''}"
                      if rest else ", ".join(shown[:-1]) + f" and {shown[-1]}")
            return f"{len(names):,} {unit} tie at the highest value, {fmt(value)}: {listed}"
        if len(names) > most - named:
            parts.append(f"then {len(names):,} {unit} tie at {fmt(value)}")
            break
        parts.extend(f"{n} ({fmt(value)})" for n in names)
        named += len(names)
        if named >= most:
            break
    return "Highest: " + ", ".join(parts)


def _draw_classes(ax, table, missing, colours, edge_width, county, usps):
    """Draw the areas, class by class (no data hatched first), and a county map's state outlines.

    Drawn with :mod:`ringgeo._draw`, which makes what ``GeoDataFrame.plot`` makes
    (the same files, byte for byte) without one matplotlib patch per area.
    """
    if len(missing):
        draw_polygons(ax, missing, facecolor=NO_DATA_COLOR, edgecolor="white",
                      linewidth=edge_width, hatch=NO_DATA_HATCH, hatchcolor=NO_DATA_HATCH_COLOR)
    for code, colour in enumerate(colours):
        rows = table[table["class"] == code]
        if len(rows):
            draw_polygons(ax, rows, facecolor=colour, edgecolor="white", linewidth=edge_width)
    if county:  # state outlines over the counties
        draw_lines(ax, _geometry("state", usps).boundary, color="#595959",
                   linewidth=0.35 if usps is None else 0.8)


def _dc_callout(ax, table, colours):
    """DC is a few pixels wide at national scale: repeat its colour in a labelled square."""
    row = table[table["state"] == "DC"]
    if row.empty:
        return
    code = int(row["class"].iloc[0])
    face = colours[code] if code >= 0 else NO_DATA_COLOR
    x, y = _DC_CALLOUT
    ax.plot([x], [y], marker="s", markersize=9, markerfacecolor=face, markeredgecolor="#595959",
            markeredgewidth=0.5, linestyle="none")
    ax.annotate("D.C.", xy=(x, y), xytext=(8, 0), textcoords="offset points", va="center",
                fontsize=FONT["legend"], color="#262626")


def outline_areas(ax, geoids, *, level: str = "county", state=None, label: str,
                  color: str = "#08306b", linewidth: float = 0.9):
    """Outline some areas of a map drawn by :func:`choropleth` and name them in its legend.

    For example the counties where a Ring partner is the first police of some residents,
    over a map of a demographic measure.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes :func:`choropleth` returned (same ``level`` and ``state``).
    geoids : iterable of str
        County GEOIDs (or state USPS codes) to outline; those not on the map are ignored.
    level : {"county", "state"}, default "county"
    state : str, optional
        The state of a one-state map.
    label : str
        The legend entry.
    color : colour, default dark blue
    linewidth : float, default 0.9

    Returns
    -------
    int
        How many areas were outlined.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> frame = pd.DataFrame({"v": {"10001": 1.0, "10003": 2.0, "10005": 3.0}})
    >>> fig, ax = choropleth(frame, "v", level="county", state="DE")
    >>> outline_areas(ax, ["10003"], state="DE", label="a county")
    1
    >>> plt.close(fig)
    """
    usps = validate_state(state) if state is not None else None
    frame = _geometry(level, usps)
    key = frame["GEOID"] if level == "county" else frame["state"]
    chosen = frame.loc[key.isin({str(g) for g in geoids})]
    if len(chosen):
        draw_lines(ax, chosen.boundary, color=color, linewidth=linewidth, autolim=False)
    legend = ax.get_legend()
    if legend is not None:
        handles = list(legend.legend_handles) + [
            Line2D([], [], color=color, linewidth=linewidth * 1.6, label=label)]
        labels = [t.get_text() for t in legend.get_texts()] + [label]
        ax.legend(handles=handles, labels=labels, title=legend.get_title().get_text(),
                  frameon=False, fontsize=FONT["legend"], title_fontsize=FONT["legend_title"],
                  alignment="left", handlelength=1.6, handleheight=1.1,
                  **getattr(ax, "_ringgeo_legend", {}))
    return len(chosen)

