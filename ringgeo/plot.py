"""Figures for readers: choropleth maps, a growth timeline, deterministic files.

:func:`choropleth` is the one front door for maps: a national map of states or
counties in the US composite layout (lower 48 in equal-area Albers, Alaska,
Hawaii and Puerto Rico moved beside them), or one state with its counties.
Class breaks come from mapclassify through a scheme name; missing values are
hatched grey with a "No data" legend entry, zero gets a class of its own, and
every figure carries a source line. :func:`timeline` draws the cumulative
partner count. :func:`save` writes PNG, SVG or PDF files whose bytes are the
same every time. The conventions (projection, composite, class breaks, legend
labels) are described in ``docs/figures.md``.
"""

from __future__ import annotations

import functools
import math
import os
import pathlib
import tempfile
import sys
import textwrap
import warnings

import geopandas as gpd
import mapclassify
import matplotlib
import matplotlib.pyplot as plt
import matplotlib.dates
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from . import _composite, data
from .exceptions import ParameterError
from .states import STATES, state_name, validate_state

__all__ = ["SCHEMES", "choropleth", "map_data", "class_labels", "timeline", "save",
           "source_line", "FIGSIZE", "DPI"]

#: Default figure size (inches) and resolution of saved raster files.
FIGSIZE = (10.0, 6.5)
DPI = 200
#: Colour map: ColorBrewer YlOrRd, a sequential ramp that reads in grey and
#: for colour-blind readers.
CMAP = "YlOrRd"
NO_DATA_COLOR = "#e0e0e0"
NO_DATA_HATCH_COLOR = "#8c8c8c"
NO_DATA_HATCH = "//////"
FONT = {"title": 14, "subtitle": 10, "legend": 9, "legend_title": 9.5, "source": 8}

PARTNER_FILE = "atlas-of-surveillance-20201007.csv"
_IN_51 = frozenset(STATES.loc[STATES["in_51"], "state"])
EXPORT_DATE = "2020-10-07"

# Known coverage columns: legend title, definition for the source line, and the
# registry files behind them.
_POP2019 = ("co-est2019-alldata.csv",)
_POP2021 = ("co-est2019-alldata.csv", "sub-est2021_all.zip")
METRICS = {
    "partners": ("Ring partner agencies", "Agencies with a Ring Neighbors partnership", ()),
    "police": ("Police partners", "Police departments with a Ring partnership", ()),
    "sheriffs": ("Sheriff partners", "Sheriff's offices with a Ring partnership", ()),
    "partners_per_100k": (
        "Partners per 100,000 residents",
        "Ring partner agencies per 100,000 residents (July 1, 2019 population)", _POP2019),
    "share_covered_min": (
        "Share of residents covered (lower bound)",
        "Lower bound of the share of residents living under a partnered agency "
        "(see the ringgeo methodology)", _POP2021),
    "share_covered_max": (
        "Share of residents covered (upper bound)",
        "Upper bound of the share of residents living under a partnered agency "
        "(see the ringgeo methodology)", _POP2021),
    "pop_covered_min": ("Residents covered (lower bound)",
                        "Lower bound of residents living under a partnered agency", _POP2021),
    "pop_covered_max": ("Residents covered (upper bound)",
                        "Upper bound of residents living under a partnered agency", _POP2021),
}


def _mc(cls, **fixed):
    def run(values, k, bins):
        return cls(values, k=k, **fixed).bins
    return run


def _natural_breaks(values, k, bins):
    # mapclassify's NaturalBreaks draws random seeds from numpy's global
    # generator: fix it for this call only and restore the caller's state.
    state = np.random.get_state()
    try:
        np.random.seed(20201007)
        return mapclassify.NaturalBreaks(values, k=k, initial=10).bins
    finally:
        np.random.set_state(state)


#: Scheme names accepted by :func:`choropleth` and the mapclassify classifier behind each.
SCHEMES = {
    "quantiles": _mc(mapclassify.Quantiles),
    "equal_interval": _mc(mapclassify.EqualInterval),
    "fisher_jenks": _mc(mapclassify.FisherJenks),
    "natural_breaks": _natural_breaks,
    "pretty_breaks": _mc(mapclassify.PrettyBreaks),
    "maximum_breaks": _mc(mapclassify.MaximumBreaks),
    "headtail_breaks": lambda values, k, bins: mapclassify.HeadTailBreaks(values).bins,
    "percentiles": lambda values, k, bins: mapclassify.Percentiles(values).bins,
    "user_defined": None,  # handled in _breaks: the user's bins
}


# --------------------------------------------------------------------------- classes
def _breaks(values: np.ndarray, scheme: str, k: int, bins) -> np.ndarray:
    """Upper bounds of right-closed classes covering ``values`` (all finite)."""
    if scheme == "user_defined":
        if bins is None:
            raise ParameterError('scheme="user_defined" needs bins=[...], the upper bound of '
                                 'each class, e.g. bins=[0, 1, 5, 10].')
        try:
            edges = np.asarray(bins, dtype=float)
        except (TypeError, ValueError) as err:
            raise ParameterError(f"bins must be numbers, got {bins!r}.") from err
        if edges.ndim != 1 or edges.size == 0 or not np.all(np.isfinite(edges)):
            raise ParameterError(f"bins must be a non-empty list of finite numbers, got {bins!r}.")
        if np.any(np.diff(edges) <= 0):
            raise ParameterError(f"bins must increase strictly, got {bins!r}.")
        if values.size and values.max() > edges[-1]:
            _warn(f"{int((values > edges[-1]).sum())} value(s) exceed the last bin "
                  f"({edges[-1]:g}); a class up to the maximum ({values.max():g}) was added. "
                  "Raise the last bin to keep legends shared between maps identical.")
            edges = np.append(edges, values.max())
        return edges
    distinct = np.unique(values)
    if distinct.size <= k and scheme not in ("headtail_breaks", "percentiles"):
        return distinct.astype(float)  # one class per distinct value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mapclassify's own notes on duplicate quantiles
        edges = np.asarray(SCHEMES[scheme](values, k, bins), dtype=float)
    edges = np.unique(edges)
    if edges[-1] < values.max():
        edges = np.append(edges, values.max())
    return edges


def _classify(values: pd.Series, scheme: str, k: int, bins, zero_class: bool):
    """Return (class index per row, -1 for missing; upper bounds; index of the zero class)."""
    finite = values.dropna().to_numpy(dtype=float)
    split_zero = (zero_class and finite.size and finite.min() >= 0 and (finite == 0).any())
    if split_zero:
        positive = finite[finite > 0]
        if scheme == "user_defined":
            edges = _breaks(finite, scheme, k, bins)
            if edges[0] > 0:
                edges = np.concatenate([[0.0], edges])
        elif positive.size:
            edges = np.concatenate([[0.0], _breaks(positive, scheme, max(k - 1, 1), None)])
        else:
            edges = np.array([0.0])
    else:
        edges = _breaks(finite, scheme, k, bins)
    codes = np.full(len(values), -1, dtype=int)
    present = values.notna().to_numpy()
    codes[present] = np.searchsorted(edges, values.to_numpy(dtype=float)[present], side="left")
    return codes, edges, bool(split_zero or (edges[0] == 0 and finite.size and finite.min() == 0))


def _number_format(legend_fmt, edges: np.ndarray, integral: bool):
    if callable(legend_fmt):
        return legend_fmt
    if isinstance(legend_fmt, str) and legend_fmt not in ("percent",):
        if "{" not in legend_fmt:
            raise ParameterError(f'legend_fmt must be "percent", a format string like '
                                 f'"{{:,.1f}}" or a function, got {legend_fmt!r}.')
        return legend_fmt.format
    percent = legend_fmt == "percent"
    if integral and not percent:
        return lambda v: f"{v:,.0f}"
    # fewest decimals (by magnitude) that keep every break distinct
    scale = 100.0 if percent else 1.0
    nonzero = np.abs(edges[edges != 0]) * scale
    # two significant digits for the smallest break, none past the decimal point
    # at 100 and above
    smallest = nonzero.min() if nonzero.size else 1.0
    decimals = 0 if smallest >= 100 else min(3, max(0, 1 - math.floor(math.log10(smallest))))
    # ... and no more than the breaks need: 0.5, 1.0, 2.5 rather than 0.50, 1.00, 2.50
    exact = next((d for d in range(decimals + 1)
                  if np.allclose(np.round(edges * scale, d), edges * scale, rtol=0, atol=1e-9)),
                 decimals)
    decimals = min(decimals, exact)
    for decimals in range(decimals, 6):
        shown = {f"{e * scale:.{decimals}f}" for e in edges}
        if len(shown) == len(set(edges)):
            break
    suffix = "%" if percent else ""

    def fmt(v):
        text = f"{v * scale:,.{decimals}f}"
        return "0" + suffix if float(v) == 0 else text + suffix
    return fmt


def class_labels(edges, *, lowest=None, integral=False, zero_class=False, legend_fmt=None):
    """Legend labels for right-closed classes.

    Class ``i`` holds the values ``v`` with ``edges[i-1] < v <= edges[i]`` (the
    first class: ``lowest <= v <= edges[0]``), as mapclassify counts them. The
    labels say exactly that:

    * whole numbers (counts): ``"1–3"``, ``"4–10"`` (a single value: ``"4"``);
    * other numbers: ``"0.4 to 1.2"`` for the first class, then
      ``"over 1.2 to 2.5"``;
    * the first class reads ``"up to 1.2"`` when ``lowest`` is None (user-defined
      bins shared between maps), and ``"0"`` when it is the zero class.

    Parameters
    ----------
    edges : sequence of float
        Upper bound of each class, increasing.
    lowest : float, optional
        The smallest value of the first class (the data minimum).
    integral : bool, default False
        The values are whole numbers.
    zero_class : bool, default False
        The first class holds only zeros.
    legend_fmt : {None, "percent"}, str or callable, optional
        Number format: None picks thousands separators and the fewest decimals
        that keep the breaks distinct; ``"percent"`` shows shares as percents;
        a format string (``"{:,.1f}"``) or a function is used as given.

    Returns
    -------
    list of str

    Examples
    --------
    >>> class_labels([0, 3, 10, 1500], integral=True, zero_class=True)
    ['0', '1–3', '4–10', '11–1,500']
    >>> class_labels([1.25, 2.5, 10], lowest=0.4)
    ['0.4 to 1.2', 'over 1.2 to 2.5', 'over 2.5 to 10.0']
    >>> class_labels([0.1, 0.25, 1.0], legend_fmt="percent")
    ['up to 10%', 'over 10% to 25%', 'over 25% to 100%']
    """
    edges = np.asarray(edges, dtype=float)
    shown = edges if lowest is None else np.append(edges, lowest)
    fmt = _number_format(legend_fmt, shown, integral)
    labels = []
    for i, hi in enumerate(edges):
        if i == 0:
            if zero_class:
                labels.append(fmt(0))
            elif lowest is None:
                labels.append(f"up to {fmt(hi)}")
            elif lowest == hi:
                labels.append(fmt(hi))
            else:
                sep = "–" if integral else " to "
                labels.append(f"{fmt(lowest)}{sep}{fmt(hi)}")
            continue
        lo = edges[i - 1]
        if integral:
            first = math.floor(lo) + 1
            labels.append(fmt(hi) if first == hi else f"{fmt(first)}–{fmt(hi)}")
        else:
            labels.append(f"over {fmt(lo)} to {fmt(hi)}")
    return labels


# --------------------------------------------------------------------------- geometry
@functools.lru_cache(maxsize=8)
def _geometry(level: str, usps: str | None = None) -> gpd.GeoDataFrame:
    """Map geometry: the national composite, or one state's areas in its own projection."""
    from . import geography  # imported late: reading boundaries takes a second

    frame = geography.load_states() if level == "state" else geography.load_counties()
    frame = frame[["GEOID", "state", "name", "geometry"]]
    if usps is None:
        return _composite.composite(frame)
    states = geography.load_states()
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
    if scheme not in SCHEMES:
        raise ParameterError(f"Unknown scheme {scheme!r}; valid schemes are: "
                             f"{', '.join(SCHEMES)}.")
    if bins is not None and scheme != "user_defined":
        raise ParameterError(f'bins= is only used with scheme="user_defined", not {scheme!r}.')
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ParameterError(f"k must be a positive whole number of classes, got {k!r}.")
    if isinstance(frame, pd.Series):
        frame = frame.to_frame(column if frame.name is None else frame.name)
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"frame must be a pandas DataFrame, got {type(frame).__name__}.")
    if column not in frame.columns:
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
        raise ParameterError(f"Column {column!r} is not in the frame; numeric columns are: "
                             f"{', '.join(map(str, numeric)) or 'none'}.")
    if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(frame[column]):
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
    geometry = national if usps is None else _geometry(level, usps)
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
        _warn(f"{len(extra)} row(s) of the frame match no {level} on the map and are "
              f"not drawn: {', '.join(map(str, extra[:10]))}"
              f"{' ...' if len(extra) > 10 else ''}.")
    values = pd.Series(pd.to_numeric(frame[column], errors="coerce").astype(float).to_numpy(),
                       index=keys)
    values = values.where(np.isfinite(values))
    table = geometry
    table = table.copy()
    table["value"] = table[key_col].map(values).astype(float).to_numpy()
    if table["value"].isna().all():
        raise ParameterError(f"Column {column!r} has no value for any {level} on this map: "
                             "nothing to colour.")
    codes, edges, zero = _classify(table["value"], scheme, k, bins, zero_class)
    finite = table["value"].dropna()
    integral = bool(np.all(np.mod(finite, 1) == 0) and np.all(np.mod(edges, 1) == 0))
    lowest = None if scheme == "user_defined" else float(finite.min())
    labels = class_labels(edges, lowest=lowest, integral=integral, zero_class=zero,
                          legend_fmt=legend_fmt)
    table["class"] = codes
    table["label"] = [labels[c] if c >= 0 else "No data" for c in codes]
    table = table.sort_values("GEOID", ignore_index=True)
    table = table[["GEOID", "state", "name", "value", "class", "label", "geometry"]]
    table.attrs = {"edges": [float(e) for e in edges], "labels": labels, "level": level,
                   "state": usps, "column": column, "zero_class": zero}
    return table


# --------------------------------------------------------------------------- source line
def _date_text(as_of) -> str | None:
    if as_of is None or (not isinstance(as_of, str) and pd.isna(as_of)):
        return None
    try:
        return pd.Timestamp(as_of).strftime("%Y-%m-%d")
    except (ValueError, TypeError) as err:
        raise ParameterError(f"as_of must be a date such as '2019-12-31', got {as_of!r}.") from err


def source_line(column=None, *, as_of=None, note=None, credit=None, level="state") -> str:
    """Return the source line printed at the foot of a figure.

    Parameters
    ----------
    column : str, optional
        The metric drawn; known coverage columns add their population source
        and a definition (see ``METRICS``).
    as_of : date-like, optional
        Cut-off date of the partnerships counted. None: every partnership in
        the 2020-10-07 export.
    note : str, optional
        The metric's definition in a few words; replaces the built-in one.
    credit : str or sequence of str, optional
        A string is printed instead of the built-in credits; a list of
        registry names (see :func:`ringgeo.data.registry`) is credited instead
        of the default files.
    level : {"state", "county", None}
        Which boundary file the map uses (None: a chart, no boundaries).

    Returns
    -------
    str

    Examples
    --------
    >>> print(source_line("partners", as_of="2019-12-31"))  # doctest: +NORMALIZE_WHITESPACE
    Source: Electronic Frontier Foundation, Atlas of Surveillance (CC BY 4.0), partnerships
    activated by 2019-12-31 (export of 2020-10-07); U.S. Census Bureau, 2019 cartographic
    boundary files. Agencies with a Ring Neighbors partnership. Made with ringgeo.
    """
    metric = METRICS.get(column, (None, None, ()))
    date = _date_text(as_of)
    when = (f"partnerships activated by {date} (export of {EXPORT_DATE})" if date
            else f"all partnerships in the {EXPORT_DATE} export")
    if isinstance(credit, str):
        credits = credit
    else:
        if credit is None:
            names = []
            if level is not None:
                names.append("cb_2019_us_state_20m.zip" if level == "state"
                             else "cb_2019_us_county_20m.zip")
            names.extend(metric[2])
        else:
            names = [name for name in credit if name != PARTNER_FILE]
        credits = f"{data.credit(PARTNER_FILE)}, {when}"
        if names:
            credits += "; " + data.credit(*names)
    definition = note if note is not None else metric[1]
    text = f"Source: {credits}."
    if definition:
        text += f" {definition.rstrip('.')}."
    return text + " Made with ringgeo."


def _wrap(text: str, width_in: float, size: float) -> str:
    chars = max(40, int(width_in * 72 * 0.96 / (size * 0.52)))
    return "\n".join(textwrap.wrap(text, chars))


# --------------------------------------------------------------------------- drawing
def _colours(cmap, n: int, zero: bool = False):
    """Class colours; a zero class keeps the palest colour, set apart from the others."""
    cmap = plt.get_cmap(cmap) if isinstance(cmap, str) else cmap
    if n == 1:
        return [cmap(0.0 if zero else 0.6)]
    if zero:
        rest = np.linspace(0.25, 1.0, n - 1) if n > 2 else [0.6]
        return [cmap(0.0)] + [cmap(x) for x in rest]
    return [cmap(x) for x in np.linspace(0.0, 1.0, n)]


def _warn(message: str) -> None:
    """Warn, pointing at the caller's line outside ringgeo."""
    if sys.version_info >= (3, 12):
        warnings.warn(message, stacklevel=2, skip_file_prefixes=(os.path.dirname(__file__),))
    else:
        warnings.warn(message, stacklevel=4)


def _figure(ax, title, subtitle, legend_outside):
    if ax is not None:
        if title:
            ax.set_title(title, loc="left", fontsize=FONT["title"], fontweight="bold")
        return ax.figure, ax, False
    fig = plt.figure(figsize=FIGSIZE)
    top = 0.97
    if title:
        fig.text(0.015, top, title, ha="left", va="top", fontsize=FONT["title"],
                 fontweight="bold")
        top -= 0.055
    if subtitle:
        fig.text(0.015, top, subtitle, ha="left", va="top", fontsize=FONT["subtitle"])
        top -= 0.045
    width = 0.70 if legend_outside else 0.98
    ax = fig.add_axes((0.01, 0.11, width, top - 0.12))
    return fig, ax, True


def _draw_source(fig, ax, text, own_figure):
    if own_figure:
        fig.text(0.015, 0.012, _wrap(text, fig.get_figwidth() - 0.3, FONT["source"]),
                 ha="left", va="bottom", fontsize=FONT["source"], color="#404040",
                 linespacing=1.3)
    else:
        width = fig.get_figwidth() * ax.get_position().width
        ax.annotate(_wrap(text, width, FONT["source"]), xy=(0, 0), xycoords="axes fraction",
                    xytext=(0, -4), textcoords="offset points", ha="left", va="top",
                    fontsize=FONT["source"], color="#404040")


# Composite-map extent (metres, see ringgeo._composite): room on the right for
# the legend, in the Atlantic east of the Carolinas and south of New England.
_NATIONAL_XLIM = (-2_380_000.0, 3_000_000.0)
_NATIONAL_YLIM = (170_000.0, 3_200_000.0)
_DC_CALLOUT = (2_000_000.0, 1_780_000.0)


def choropleth(frame, column, *, level=None, state=None, scheme="quantiles", k=5, bins=None,
               cmap=CMAP, ax=None, title=None, subtitle=None, legend_title=None,
               legend_fmt=None, note=None, as_of=None, credit=None, zero_class=True):
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
        Draw into this axes; the title becomes the axes title.
    title, subtitle : str, optional
        Left-aligned headline and a line under it.
    legend_title : str, optional
        Default: the metric's name (``"Partners per 100,000 residents"``).
    legend_fmt : {None, "percent"}, str or callable, optional
        Legend number format, see :func:`class_labels`.
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
    fig, ax, own = _figure(ax, title, subtitle, legend_outside=usps is not None)
    labels = table.attrs["labels"]
    colours = _colours(cmap, len(labels), table.attrs["zero_class"])
    county = level == "county"
    edge_width = 0.6 if not county else (0.12 if usps is None else 0.4)
    missing = table[table["class"] < 0]
    if len(missing):
        missing.plot(ax=ax, facecolor=NO_DATA_COLOR, edgecolor="white", linewidth=edge_width,
                     hatch=NO_DATA_HATCH, hatchcolor=NO_DATA_HATCH_COLOR)
    for code, colour in enumerate(colours):
        rows = table[table["class"] == code]
        if len(rows):
            rows.plot(ax=ax, facecolor=colour, edgecolor="white", linewidth=edge_width)
    if county:  # state outlines over the counties
        outline = _geometry("state") if usps is None else _geometry("state", usps)
        outline = outline if usps is None else outline[outline["state"] == usps]
        outline.boundary.plot(ax=ax, color="#595959", linewidth=0.35 if usps is None else 0.8)
    handles = [Patch(facecolor=c, edgecolor="#bdbdbd", linewidth=0.4, label=lab)
               for c, lab in zip(colours, labels)]
    handles.append(Patch(facecolor=NO_DATA_COLOR, edgecolor=NO_DATA_HATCH_COLOR, linewidth=0.4,
                         hatch=NO_DATA_HATCH, label="No data"))
    name = legend_title if legend_title is not None else METRICS.get(column, (column,))[0]
    name = "\n".join(textwrap.wrap(str(name), 26))  # keeps the legend off the land
    ax.set_aspect("equal")
    ax.set_axis_off()
    if usps is None:
        ax.set_xlim(_NATIONAL_XLIM)
        ax.set_ylim(_NATIONAL_YLIM)
        if level == "state":
            _dc_callout(ax, table, colours)
        legend_kw = {"loc": "lower right", "bbox_to_anchor": (1.0, 0.11)}
    else:
        xmin, ymin, xmax, ymax = table.total_bounds
        pad = 0.02 * max(xmax - xmin, ymax - ymin)
        ax.set_xlim(xmin - pad, xmax + pad)
        ax.set_ylim(ymin - pad, ymax + pad)
        legend_kw = {"loc": "center left", "bbox_to_anchor": (1.02, 0.5)}
    ax.legend(handles=handles, title=name, frameon=False, fontsize=FONT["legend"],
              title_fontsize=FONT["legend_title"], alignment="left", handlelength=1.6,
              handleheight=1.1, **legend_kw)
    if as_of is None and isinstance(frame, (pd.DataFrame, pd.Series)):
        as_of = frame.attrs.get("as_of")
    _draw_source(fig, ax, source_line(column, as_of=as_of, note=note, credit=credit,
                                      level=level), own)
    ax._ringgeo_data = table
    return fig, ax


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


# --------------------------------------------------------------------------- timeline
#: Dated events that :func:`timeline` can mark (date, label).
EVENTS = [("2019-08-28", "Aug. 2019: The Washington Post reports\nRing partnerships with 400+ police forces")]


def _timeline_table(frame, states) -> pd.DataFrame:
    """Return a wide table: one column per line (``"US"`` or state codes), DatetimeIndex."""
    if isinstance(frame, pd.Series):
        frame = frame.to_frame("partners")
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"frame must be a DataFrame or Series, got {type(frame).__name__}.")
    frame = frame.copy()
    if not isinstance(frame.index, (pd.DatetimeIndex, pd.PeriodIndex)):
        for name in ("date", "period"):
            if name in frame.columns:
                frame = frame.set_index(name)
                break
    index = frame.index
    if isinstance(index, pd.PeriodIndex):
        index = index.to_timestamp(how="end").normalize()
    if not isinstance(index, pd.DatetimeIndex):
        raise ParameterError("timeline needs dates: a DatetimeIndex (as "
                             "ringgeo.coverage.timeline returns) or a 'date' column, "
                             f"got an index of {index.dtype}.")
    frame.index = index
    if "state" in frame.columns:  # long: coverage.timeline(..., by="state")
        if "partners" not in frame.columns:
            raise ParameterError("A long timeline frame needs columns 'state' and 'partners'.")
        wide = frame.pivot_table(index=frame.index, columns="state", values="partners",
                                 aggfunc="sum")
    elif "partners" in frame.columns:
        wide = frame[["partners"]].rename(columns={"partners": "US"})
    else:  # wide: one column per state
        wide = frame.rename(columns=lambda c: validate_state(c))
    wide.columns = [str(c) for c in wide.columns]
    if states is None:
        if list(wide.columns) != ["US"]:
            # the nation is the 50 states and DC, as in ringgeo.coverage.national
            outside = [c for c in wide.columns if c not in _IN_51]
            counted = wide[outside].ffill().iloc[-1].fillna(0) if outside else pd.Series()
            if (counted > 0).any():
                _warn(f"The national line sums the 50 states and DC; "
                      f"{', '.join(f'{s} ({v:,.0f})' for s, v in counted.items() if v > 0)} "
                      "partner(s) outside them are not in it.")
            wide = wide.drop(columns=outside).sum(axis=1, min_count=1).to_frame("US")
        return wide.sort_index()
    chosen = [validate_state(s) for s in ([states] if isinstance(states, str) else states)]
    missing = [s for s in chosen if s not in wide.columns]
    if missing:
        raise ParameterError(f"states {missing} are not in the timeline frame; it holds "
                             f"{', '.join(c for c in wide.columns if c != 'US') or 'no states'}"
                             " (use ringgeo.coverage.timeline(partners, by='state')).")
    return wide[chosen].sort_index()


def _label_line_ends(ax, wide: pd.DataFrame) -> None:
    """Name each line at its right end, nudging labels apart so none overlap."""
    ends = []
    for i, name in enumerate(wide.columns):
        line = wide[name].dropna()
        if len(line):
            ends.append((float(line.iloc[-1]), i, name, line.index[-1]))
    bottom, top = ax.get_ylim()
    gap = 1.15 * FONT["legend"] / 72 / (ax.get_position().height * ax.figure.get_figheight())
    placed = []
    for value, i, name, when in sorted(ends):
        frac = (value - bottom) / (top - bottom)
        if placed and frac < placed[-1] + gap:
            frac = placed[-1] + gap
        placed.append(frac)
        ax.annotate(f"{state_name(name)} {value:,.0f}", xy=(when, value),
                    xytext=(6, frac), textcoords=("offset points", "axes fraction"),
                    va="center", fontsize=FONT["legend"], color=plt.get_cmap("tab10")(i % 10),
                    annotation_clip=False)


def timeline(frame, *, states=None, ax=None, title=None, subtitle=None, as_of=None, note=None,
             credit=None, annotate=True):
    """Draw the cumulative number of partner agencies over time.

    Parameters
    ----------
    frame : pandas.DataFrame or Series
        Output of ``ringgeo.coverage.timeline(partners)`` (a ``DatetimeIndex``
        of period ends and a cumulative ``partners`` column), or of
        ``timeline(partners, by="state")`` (the same plus a ``state`` column,
        one row per period and state), or a wide frame with one column per
        state, or a Series of cumulative counts. Period indexes are drawn at
        the end of each period.
    states : str or list of str, optional
        Draw one labelled line per state. None: one national line (a by-state
        frame is summed over its states).
    ax : matplotlib Axes, optional
    title, subtitle : str, optional
    as_of, note, credit
        As for :func:`choropleth`; ``as_of`` defaults to ``frame.attrs["as_of"]``.
        Partners without an activation date cannot be drawn; when
        ``frame.attrs["undated"]`` counts them, the source line says how many.
    annotate : bool, default True
        Mark the August 2019 reporting that made the partnerships public
        (national line only).

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)

    Raises
    ------
    ParameterError
        No dates in the frame, or unknown states.

    Examples
    --------
    >>> counts = pd.Series([10, 250, 400, 1200],
    ...                    index=pd.to_datetime(["2018-06-30", "2019-03-31",
    ...                                          "2019-08-31", "2020-09-30"]))
    >>> fig, ax = timeline(counts, title="Ring partnerships kept growing")
    >>> ax.get_lines()[0].get_ydata().tolist()
    [10, 250, 400, 1200]
    >>> plt.close(fig)
    """
    wide = _timeline_table(frame, states)
    own = ax is None
    if own:
        fig = plt.figure(figsize=FIGSIZE)
        top = 0.97
        if title:
            fig.text(0.015, top, title, ha="left", va="top", fontsize=FONT["title"],
                     fontweight="bold")
            top -= 0.055
        if subtitle:
            fig.text(0.015, top, subtitle, ha="left", va="top", fontsize=FONT["subtitle"])
            top -= 0.045
        ax = fig.add_axes((0.07, 0.17, 0.76, top - 0.22))
    else:
        fig = ax.figure
        if title:
            ax.set_title(title, loc="left", fontsize=FONT["title"], fontweight="bold")
    many = len(wide.columns) > 1
    for i, name in enumerate(wide.columns):
        line = wide[name].dropna()
        colour = plt.get_cmap("tab10")(i % 10) if many else "#bd0026"
        ax.plot(line.index, line.to_numpy(), color=colour, linewidth=2, label=name)
    ax.set_ylim(bottom=0)
    if many:
        _label_line_ends(ax, wide)
    if annotate and list(wide.columns) == ["US"]:
        for date, text in EVENTS:
            when = pd.Timestamp(date)
            if len(wide) and wide.index.min() <= when <= wide.index.max():
                ax.axvline(when, color="#737373", linewidth=0.8, linestyle="--")
                ax.annotate(text, xy=(when, 0.95), xycoords=("data", "axes fraction"),
                            xytext=(-6, 0), textcoords="offset points", ha="right", va="top",
                            fontsize=FONT["legend"], color="#404040")
    ax.set_ylabel("Partner agencies (cumulative)", fontsize=FONT["legend"])
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    locator = matplotlib.dates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(matplotlib.dates.ConciseDateFormatter(locator))
    ax.tick_params(labelsize=FONT["legend"])
    ax.grid(axis="y", color="#d9d9d9", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if as_of is None and isinstance(frame, (pd.DataFrame, pd.Series)):
        as_of = frame.attrs.get("as_of")
    if note is None:
        note = "Cumulative count by activation date as Ring published it"
        undated = frame.attrs.get("undated") if hasattr(frame, "attrs") else None
        if undated:
            note += f"; {undated:,} partnerships without an activation date are not shown"
    _draw_source(fig, ax, source_line(None, as_of=as_of, note=note, credit=credit, level=None),
                 own)
    return fig, ax


# --------------------------------------------------------------------------- saving
_FORMATS = {
    ".png": {"Software": None},
    ".svg": {"Date": None, "Creator": None},
    ".pdf": {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None},
}


def save(fig, path, *, dpi=DPI):
    """Write a figure to PNG, SVG or PDF with the same bytes every time.

    No timestamps or software versions are written, SVG element ids come from a
    fixed salt, and the resolution is fixed. The file is first written to a
    temporary file in the same folder and then moved into place, so an
    interrupted save never leaves a half-written figure. Missing folders are
    created.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or path-like
        Ends with ``.png``, ``.svg`` or ``.pdf``.
    dpi : int, default 200
        Resolution of PNG files (10 x 6.5 inches at 200 dpi: 2,000 x 1,300 pixels).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ParameterError
        Another file extension.

    Examples
    --------
    >>> import tempfile
    >>> fig, ax = plt.subplots(figsize=(2, 2))
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> a = save(fig, folder / "a.png").read_bytes()
    >>> a == save(fig, folder / "figs" / "b.png").read_bytes()
    True
    >>> plt.close(fig)
    """
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise ParameterError(f"Cannot save {path.name!r}: the file name must end with "
                             f"{', '.join(_FORMATS)}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=suffix)
    os.close(handle)
    try:
        with matplotlib.rc_context({"svg.hashsalt": "ringgeo", "svg.fonttype": "path",
                                    "pdf.compression": 6}):
            fig.savefig(tmp, format=suffix[1:], dpi=dpi, metadata=_FORMATS[suffix])
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return path
