"""The interactive web map of ringgeo.plot: a folium (Leaflet) map of coverage and agencies.

:func:`explore` colours areas with the classes of :func:`ringgeo.plot.map_data`
(the code path of :func:`ringgeo.plot.choropleth`) and draws the FBI agencies,
partners and never-partnered agencies in two layers. :func:`stable_ids` makes
the HTML folium writes the same every time. See ``docs/figures.md``.
"""

from __future__ import annotations

import hashlib
import html
from types import SimpleNamespace

import pandas as pd

from .. import geography, technologies
from .._config import memoized
from .._frames import without_attrs
from ..agencies import with_partners
from ..atlas import load_atlas
from ..coverage import contract_units
from ..exceptions import ParameterError
from ..metrics import METRICS, metric_for
from ..partners import load_partners
from ..states import state_name, validate_state
from . import _choropleth
from ._figure import class_colours, source_line
from ._webmap import WebMap

__all__ = ["explore", "map_info", "stable_ids", "PARTNER_COLOR", "AGENCY_COLOR"]

#: Agency points: partners dark blue (reads on every class of YlOrRd and for
#: colour-blind readers), never-partnered agencies faint grey.
PARTNER_COLOR = "#08306b"
AGENCY_COLOR = "#737373"
NO_DATA_COLOR = "#e0e0e0"
TILES = "OpenStreetMap"
_AGENCY_FILE = "fbi-agencies-2018.csv"
_UNUSED_CSS = ("glyphicons_css", "awesome_rotate_css")
_TYPE_NAMES = {"police": "Police department", "sheriff": "Sheriff's office",
               "county_police": "County police", "state": "State agency",
               "university": "University police", "tribal": "Tribal police", "other": "Other"}


@memoized(maxsize=4)
def _areas(level: str) -> "object":
    """Census boundaries of the level in longitude/latitude (EPSG:4326), coordinates rounded."""
    import shapely


    frame = geography.load_states() if level == "state" else geography.load_counties()
    frame = frame[["GEOID", "geometry"]].to_crs(4326)
    frame["geometry"] = shapely.set_precision(frame.geometry.array, 1e-4)
    return frame


def _hex(colour) -> str:
    import matplotlib.colors

    return matplotlib.colors.to_hex(colour)


def _date_text(value) -> str:
    return "unknown" if pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d}"


def _text(value) -> str:
    return "" if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)) \
        else str(value)


def _each(values, text) -> list:
    """Return ``[text(v) for v in values]``, computing each distinct value once.

    Agencies share counties, types and dates.
    """
    done, out = {}, []
    for value in values:
        try:
            out.append(done[type(value), value])
        except KeyError:
            out.append(done.setdefault((type(value), value), text(value)))
        except TypeError:  # a list: not hashable
            out.append(text(value))
    return out


def _county_text(raw) -> str:
    """FBI county text ("COOK; WILL") for readers: "Cook County; Will County"."""
    names = [part.strip().title() for part in _text(raw).split(";") if part.strip()]
    return "; ".join(n if n.endswith((" County", " Parish", " Borough")) else f"{n} County"
                     for n in names)


def _agency_points(agencies, usps):
    """Return the partner and other agencies of the map, and the number without coordinates.

    The agencies are those of one state or all, with popup fields; the number counts the
    agencies left out for want of coordinates.
    """
    need = {"ori", "agency", "agency_type", "state", "geometry", "partner", "partner_id",
            "activated"}
    missing = sorted(need - set(agencies.columns))
    if missing:
        raise ParameterError(f"agencies lacks columns {missing}: pass "
                             "ringgeo.agencies.with_partners(partners) or agencies=True.")
    # pandas deep-copies attrs (the 18,702 agencies' quality report) on every column
    # access: the popups are built from a frame without them
    frame = without_attrs(agencies)
    frame = frame if usps is None else frame.loc[frame["state"] == usps]
    located = frame.geometry.notna() & ~frame.geometry.is_empty
    unlocated = int((~located).sum())
    frame = frame.loc[located].sort_values("ori", kind="stable")
    counties = frame.get("county_raw", pd.Series("", index=frame.index))
    muni = frame.get("muni_name", pd.Series(pd.NA, index=frame.index))
    table = pd.DataFrame({
        "agency": _each(frame["agency"], _text),
        "ori": _each(frame["ori"], _text),
        "type": _agency_kinds(frame),
        "place": [", ".join(p for p in (m, c, s) if p) for m, c, s in zip(
            _each(muni, _text), _each(counties, _county_text), frame["state"])],
        "activated": _each(frame["activated"], _date_text),
        "partner_id": _each(frame["partner_id"], lambda v: _text(v) or "none"),
        "partner": frame["partner"].astype(bool).to_numpy(),
        "lon": frame.geometry.x.round(5).to_numpy(), "lat": frame.geometry.y.round(5).to_numpy(),
    }, index=frame.index)
    return table, unlocated


def _agency_kinds(frame) -> list:
    """Each agency's kind in words; an FBI contract unit says whose contract it is."""
    units = contract_units()["agency_name"].to_dict()
    kinds = _each(frame["agency_type"], lambda t: _TYPE_NAMES.get(t, _text(t)))
    return [f"Contract unit: policed by {units[ori]}" if ori in units else kind
            for ori, kind in zip(frame["ori"], kinds)]


def _points_geojson(table) -> dict:
    fields = ["agency", "ori", "type", "place", "activated", "partner_id"]
    columns = [table[f].tolist() for f in fields]
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": dict(zip(fields, values)),
         "geometry": {"type": "Point", "coordinates": [lon, lat]}}
        for *values, lon, lat in zip(*columns, table["lon"].tolist(), table["lat"].tolist())]}


def _point_words(technology: str) -> dict:
    """Return the agency layers' names in the words of a technology (Ring's by default)."""
    if technology == "ring":
        return {"one": "Ring partner", "Ring partners": "Ring partners",
                "Never partnered": "Never partnered"}
    members = technologies.members(SimpleNamespace(attrs={"technology": technology}))
    return {"one": technologies.members(SimpleNamespace(attrs={"technology": technology}),
                                        plural=False).capitalize(),
            "Ring partners": members.capitalize(), "Never partnered": "Not listed"}


def _legend_html(title, name, labels, colours, counts, note, words=None) -> str:
    words = words or _point_words("ring")
    rows = "".join(
        f'<div class="rg-row"><span class="rg-swatch" style="background:{c}"></span>'
        f'{html.escape(lab)}</div>' for lab, c in zip(labels, colours))
    points = (f'<div class="rg-row"><span class="rg-dot" style="background:{PARTNER_COLOR}">'
              f'</span>{html.escape(words["one"])} ({counts[0]:,})</div>'
              f'<div class="rg-row"><span class="rg-dot" style="background:{AGENCY_COLOR};'
              f'opacity:0.5"></span>{html.escape(words["Never partnered"])} ({counts[1]:,})'
              f'</div>') if counts else ""
    body = (f'<div class="rg-legend-title">{html.escape(name)}</div>{rows}' if labels else "")
    foot = f'<div class="rg-note">{html.escape(note)}</div>' if note else ""
    return f"""
<style>
 .rg-title {{position:fixed; top:10px; left:60px; z-index:1000; background:rgba(255,255,255,.9);
   padding:6px 10px; font:bold 16px sans-serif; border-radius:4px; max-width:60%;}}
 .rg-legend {{position:fixed; bottom:90px; right:10px; z-index:1000;
   background:rgba(255,255,255,.92); padding:8px 10px; font:12px sans-serif; border-radius:4px;
   max-width:260px;}}
 .rg-legend-title {{font-weight:bold; margin-bottom:4px;}}
 .rg-row {{margin:2px 0; white-space:nowrap;}}
 .rg-swatch {{display:inline-block; width:16px; height:12px; margin-right:6px;
   border:1px solid #bdbdbd; vertical-align:middle;}}
 .rg-dot {{display:inline-block; width:10px; height:10px; border-radius:50%; margin:0 8px 0 3px;
   vertical-align:middle;}}
 .rg-note {{margin-top:4px; color:#404040; white-space:normal;}}
</style>
<div class="rg-title" role="heading" aria-level="1">{html.escape(title)}</div>
<div class="rg-legend" role="region" aria-label="Legend">{body}{points}{foot}</div>
"""


def explore(
        frame=None, column=None, *, level=None, state=None, scheme="quantiles", k=5,
        bins=None, agencies=True, as_of=None, cmap=None, title=None, legend_fmt=None,
        zero_class=True, tiles=TILES):
    """Return an interactive web map (folium) of one coverage column and the agencies.

    Parameters
    ----------
    frame : pandas.DataFrame, optional
        As for :func:`ringgeo.plot.choropleth` (``coverage.by_state`` or
        ``by_county``). None: agencies only.
    column : str, optional
        The numeric column to colour (needed with ``frame``).
    level, state, scheme, k, bins, cmap, legend_fmt, zero_class
        As for :func:`ringgeo.plot.choropleth`: the same arguments give the
        same classes, colours and legend labels (one classification, see
        :func:`ringgeo.plot.map_data`).
    agencies : bool or geopandas.GeoDataFrame, default True
        True: the FBI agencies marked with the partners of ``as_of``
        (``ringgeo.agencies.with_partners(ringgeo.load_partners(as_of=as_of))``);
        a frame of that shape; False: no points. With ``state`` only that
        state's agencies are drawn.
    as_of : date-like, optional
        Cut-off date of the partnerships; default ``frame.attrs["as_of"]``
        (or the agencies' ``attrs["as_of"]``).
    title : str, optional
        Headline; default the metric's name and the area.
    tiles : str or None, default "OpenStreetMap"
        Background tiles (folium names); None draws no background.

    Returns
    -------
    folium.Map
        Layers: the choropleth, "Ring partners", "Never partnered" (each can
        be switched off in the layer control). Hovering a point shows the
        agency and its activation date, a click its ORI, type, municipality
        and county, and partner ids. The attribution credits every source
        and the as-of date. Write it with :func:`ringgeo.plot.save`.

    Raises
    ------
    ParameterError
        As for :func:`ringgeo.plot.map_data`; ``frame`` without ``column``;
        an ``agencies`` frame without the columns of ``with_partners``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> points = gpd.GeoDataFrame({
    ...     "ori": ["PA0000001", "PA0000002"], "agency": ["Alpha PD", "Beta PD"],
    ...     "agency_type": ["police", "police"], "state": ["PA", "PA"],
    ...     "partner": [True, False], "partner_id": ["AOS1", None],
    ...     "activated": pd.to_datetime(["2019-05-01", None])},
    ...     geometry=[Point(-75.2, 40.0), Point(-77.0, 40.3)], crs=4326)
    >>> m = explore(agencies=points, tiles=None, as_of="2020-01-01")
    >>> sorted(map_info(m)["layers"])
    ['Never partnered', 'Ring partners']
    """
    import folium


    usps = validate_state(state) if state is not None else None
    if frame is not None and column is None:
        raise ParameterError("explore(frame, column): name the column to colour, e.g. "
                             "'partners_per_100k'.")
    if as_of is None and frame is not None:
        as_of = frame.attrs.get("as_of")
    # the table's technology (ringgeo.load_atlas): its agencies and its words
    technology = technologies.technology_of(frame).key if frame is not None else "ring"
    words = _point_words(technology)
    points = _agencies_of(agencies, as_of, technology)
    if as_of is None and points is not None:
        as_of = points.attrs.get("as_of")

    m = WebMap(location=[39.5, -98.35], zoom_start=4, tiles=tiles, prefer_canvas=True,
                   control_scale=True)
    # Bootstrap 3's glyphicons and folium's rotation CSS serve awesome-marker icons, which
    # these maps do not draw; neither is on a package registry. The page asks for the rest
    # of folium's libraries (Leaflet, jQuery, Bootstrap 5, Font Awesome, awesome-markers).
    m.default_css = [(n, u) for n, u in type(m).default_css if n not in _UNUSED_CSS]
    info = {"layers": [], "markers": 0, "labels": [], "unlocated": 0}
    legend = {"labels": [], "colours": [], "name": "", "counts": None, "note": ""}
    bounds = None
    if frame is not None:
        level, bounds = _add_areas(m, info, legend, frame, column, dict(
            level=level, state=state, scheme=scheme, k=k, bins=bins, zero_class=zero_class,
            legend_fmt=legend_fmt), cmap, usps)
    if points is not None:
        point_bounds = _add_points(m, info, legend, points, usps, words)
        bounds = bounds or point_bounds
    if bounds is None:  # national: the lower 48 fill the window; pan to the insets
        bounds = [[24.4, -124.8], [49.4, -66.9]]
    m.fit_bounds(bounds)
    folium.LayerControl(collapsed=False).add_to(m)

    credit = _credit(column if frame is not None else None, level, points is not None, as_of,
                     frame)
    if title is None:
        title = _default_title(legend["name"] if frame is not None else None, level, usps)
    m.get_root().html.add_child(folium.Element(_legend_html(
        title, legend["name"], legend["labels"], legend["colours"], legend["counts"],
        legend["note"], words)))
    _Attribution(credit).add_to(m)
    m._ringgeo = dict(info, title=title, credit=credit)
    stable_ids(m)
    return m


def _agencies_of(agencies, as_of, technology="ring"):
    """Return the agency points of ``explore(agencies=...)``: True loads them, False draws none."""
    if agencies is True:
        return with_partners(load_partners(as_of=as_of) if technology in ("ring", "all")
                             else load_atlas(technology, as_of=as_of))
    if agencies is not False and agencies is not None:
        return agencies
    return None


def _add_areas(m, info: dict, legend: dict, frame, column, classify: dict, cmap, usps):
    """Add the choropleth layer and fill the legend's classes.

    Returns the level and the bounds of a state's map (None for the nation).
    """
    import folium
    from folium.features import GeoJsonTooltip


    table = _choropleth.map_data(frame, column, **classify)
    level = table.attrs["level"]
    labels = list(table.attrs["labels"])
    colours = [_hex(c) for c in class_colours(cmap or _choropleth.CMAP, len(labels),
                                         table.attrs["zero_class"])]
    areas = _areas(level).merge(table[["GEOID", "name", "value", "class", "label"]],
                                on="GEOID")
    areas = areas.sort_values("GEOID", ignore_index=True)
    share = str(column).startswith("share_")
    areas["shown"] = areas["value"].map(
        lambda v: "no data" if pd.isna(v) else (f"{v:.1%}" if share else f"{v:,.4g}"))
    areas["fill"] = [colours[c] if c >= 0 else NO_DATA_COLOR for c in areas["class"]]
    name = metric_for(column, frame).label if column in METRICS else column
    layer = folium.GeoJson(
        areas[["GEOID", "name", "shown", "label", "fill", "geometry"]].to_json(drop_id=True),
        name=name,
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#ffffff",
                                  "weight": 0.6, "fillOpacity": 0.8},
        highlight_function=lambda f: {"weight": 2, "color": "#404040"},
        tooltip=GeoJsonTooltip(fields=["name", "shown", "label"],
                               aliases=["", str(name), "Class"], sticky=True))
    layer.add_to(m)
    info["layers"].append(name)
    if (table["class"] < 0).any():
        colours, labels = colours + [NO_DATA_COLOR], labels + ["No data"]
    info["labels"] = list(labels)
    legend.update(labels=labels, colours=colours, name=name)
    if usps is None:
        return level, None
    b = areas.total_bounds
    return level, [[b[1], b[0]], [b[3], b[2]]]


#: The two agency layers of the web map, drawn in this order (partners on top).
_POINT_STYLES = (
    ("Never partnered", False, {"radius": 2.5, "stroke": False, "fillColor": AGENCY_COLOR,
                                "fillOpacity": 0.25}),
    ("Ring partners", True, {"radius": 4.5, "color": "#ffffff", "weight": 1,
                             "fillColor": PARTNER_COLOR, "fillOpacity": 0.95, "opacity": 1}),
)


def _add_points(m, info: dict, legend: dict, points, usps, words=None):
    """Add the partner and never-partnered layers; return the bounds of a state's points."""
    import folium
    from folium.features import GeoJsonPopup, GeoJsonTooltip

    table, unlocated = _agency_points(points, usps)
    info["unlocated"] = unlocated
    legend["counts"] = (int(table["partner"].sum()), int((~table["partner"]).sum()))
    for label, partner, style in _POINT_STYLES:
        label = (words or {}).get(label, label)
        mask = table["partner"] == partner
        layer = folium.GeoJson(
            _points_geojson(table.loc[mask]), name=f"{label} ({int(mask.sum()):,})",
            marker=folium.CircleMarker(**style),
            tooltip=GeoJsonTooltip(fields=["agency", "activated"],
                                   aliases=["Agency", "Activated"]),
            popup=GeoJsonPopup(fields=["agency", "ori", "type", "place", "activated",
                                       "partner_id"],
                               aliases=["Agency", "ORI", "Type", "Place", "Activated",
                                        "Partner id"]))
        layer.add_to(m)
        info["layers"].append(label)
        info["markers"] += int(mask.sum())
    if unlocated:
        legend["note"] = (f"{unlocated:,} agencies without a location in the FBI list are "
                          f"not drawn.")
    if usps is None or not len(table):
        return None
    return [[float(table["lat"].min()), float(table["lon"].min())],
            [float(table["lat"].max()), float(table["lon"].max())]]


def _credit(column, level, agencies: bool, as_of, frame=None) -> str:
    """Return the attribution line: the boundaries, the metric's sources and the agency list."""
    names = []
    if column is not None:
        names.append("cb_2019_us_state_20m.zip" if level == "state"
                     else "cb_2019_us_county_20m.zip")
        names.extend(METRICS[column].sources if column in METRICS else ())
    if agencies:
        names.append(_AGENCY_FILE)
    return source_line(column, as_of=as_of, credit=list(dict.fromkeys(names)), level=None,
                       frame=frame)


def _default_title(metric_name, level, usps) -> str:
    """Title the map by the metric and the area (``metric_name`` None: a map of agencies only)."""
    if metric_name is None:
        return "Ring partner agencies" + (f" in {state_name(usps)}" if usps else "")
    where = "by state" if level == "state" else "by county"
    if usps is not None:
        where = f"in {state_name(usps)}, by county"
    return f"{metric_name} {where}"


def map_info(web_map) -> dict:
    """Return what :func:`explore` drew.

    The keys: ``layers``, ``labels`` (the legend's classes), ``markers`` (agency points),
    ``unlocated`` (agencies without a location, not drawn), ``title`` and ``credit`` (the
    attribution line).

    Raises
    ------
    ParameterError
        The map was not made by :func:`explore`.
    """
    info = getattr(web_map, "_ringgeo", None)
    if info is None:
        raise ParameterError("map_info needs a map made by ringgeo.plot.explore.")
    return dict(info)


def _attribution_class():
    from branca.element import MacroElement
    from jinja2 import Template

    class Attribution(MacroElement):
        """Adds a line to the map's attribution control (bottom right)."""

        _template = Template("""
{% macro script(this, kwargs) %}
    {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
{% endmacro %}
""")

        def __init__(self, text):
            super().__init__()
            self._name = "Attribution"
            self.text = text
    return Attribution


def _Attribution(text):
    return _attribution_class()(text)


def stable_ids(element, salt: str = "ringgeo"):
    """Give every element of a folium/branca tree a fixed id, in tree order.

    folium names each element with a random ``uuid4``; the ids here are
    hashes of the element's position in the tree, so the same map renders to
    the same HTML every time.

    Parameters
    ----------
    element : branca.element.Element
        A folium map (its root figure is included) or any element.

    Returns
    -------
    The element.
    """
    root = element.get_root() if hasattr(element, "get_root") else element
    counter = [0]

    def visit(node):
        node._id = hashlib.sha256(f"{salt}:{counter[0]}".encode()).hexdigest()[:32]
        counter[0] += 1
        for child in list(getattr(node, "_children", {}).values()):
            visit(child)

    visit(root)
    # children are kept in dicts keyed by name (name_id): re-key them under the new ids
    def rekey(node):
        children = getattr(node, "_children", None)
        if children:
            items = list(children.values())
            children.clear()
            for child in items:
                children[child.get_name()] = child
                rekey(child)
    rekey(root)
    return element

