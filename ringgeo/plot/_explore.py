"""The interactive web map of ringgeo.plot: a folium (Leaflet) map of coverage and agencies.

:func:`explore` colours areas with the classes of :func:`ringgeo.plot.map_data`
(the code path of :func:`ringgeo.plot.choropleth`) and draws every agency as a
point: partners in clusters that open at higher zoom (every partner can be
reached, however many share a spot), agencies that never partnered as small
dots (several on one spot make one dot listing them all). Points are placed by
:mod:`ringgeo.plot._mappoints`; the page's script (``webmap.js``) draws them,
with a search box (agencies, towns, counties, states, ZIP codes) that works
from data inside the page, a collapsible legend and a source line that
expands. :func:`stable_ids` makes the HTML folium writes the same every time.
See ``docs/webmap.md``.
"""

from __future__ import annotations

import hashlib
import html
import json
import re

import numpy as np
import pandas as pd

from .. import geography, postal, technologies
from .._config import memoized
from ..agencies import UNIVERSE_TYPES, with_partners
from ..atlas import load_atlas
from ..exceptions import ParameterError
from ..metrics import METRICS, metric_for
from ..partners import load_partners
from ..states import STATES, state_name, validate_state
from . import _choropleth, _mappoints, _webassets
from ._figure import class_colours, source_line
from ._webmap import WebMap

__all__ = ["explore", "map_info", "stable_ids", "contrast_ratio", "marker_styles",
           "PARTNER_COLOR", "AGENCY_COLOR", "HALO_COLOR", "OTHERS_MIN_ZOOM", "NATION_BOUNDS"]

#: Partner points: a dark blue disc in a white ring (the disc contrasts with the light
#: classes of YlOrRd, the ring with the dark ones: at least 3:1 against every class).
PARTNER_COLOR = "#08306b"
HALO_COLOR = "#ffffff"
#: Never-partnered agencies: a small white dot in a dark grey ring.
AGENCY_COLOR = "#252525"
NO_DATA_COLOR = "#e0e0e0"
TILES = "OpenStreetMap"
#: Agencies that never partnered are drawn from this zoom on (about a state's extent);
#: 16,000 dots would hide the national map's classes.
OTHERS_MIN_ZOOM = 6
#: The first view of a national map: the 50 states, DC and Puerto Rico
#: (Attu, Alaska's westernmost island, lies past the antimeridian and is left out).
NATION_BOUNDS = [[17.9, -178.3], [71.4, -65.2]]
_AGENCY_FILE = "fbi-agencies-2018.csv"
_TYPE_NAMES = {"police": "Police department", "sheriff": "Sheriff's office",
               "county_police": "County police", "state": "State agency",
               "university": "University police", "tribal": "Tribal police", "other": "Other"}
#: Agency names end with one of these more often than not; the page stores the index.
_SUFFIXES = ("", " Police Department", " Sheriff's Office", " County Sheriff's Office",
             " Police", " Department of Public Safety", " Township Police Department",
             " Marshal's Office", " County Police Department", " University Police Department")
_ROUND = 3  # decimals of the areas' coordinates (about 100 m)
_SIMPLIFY = 0.005  # degrees (about 500 m): the 1:20,000,000 boundaries need no more


def marker_styles() -> dict:
    """Return the Leaflet styles of the two kinds of agency point.

    Returns
    -------
    dict
        ``{"partner": {...}, "other": {...}}``: ``radius``, ``color`` (the ring),
        ``weight``, ``fillColor`` (the disc), ``fillOpacity``, ``opacity``.

    Examples
    --------
    >>> marker_styles()["partner"]["fillColor"]
    '#08306b'
    """
    return {"partner": {"radius": 6, "color": HALO_COLOR, "weight": 2,
                        "fillColor": PARTNER_COLOR, "fillOpacity": 1, "opacity": 1},
            "other": {"radius": 3.5, "color": AGENCY_COLOR, "weight": 1.2,
                      "fillColor": "#ffffff", "fillOpacity": 1, "opacity": 1}}


def contrast_ratio(a: str, b: str) -> float:
    """Return the WCAG 2 contrast ratio of two colours (1 to 21).

    Examples
    --------
    >>> round(contrast_ratio("#ffffff", "#000000"), 1)
    21.0
    >>> round(contrast_ratio("#08306b", "#ffffcc"), 1) >= 3
    True
    """
    import matplotlib.colors

    def luminance(colour):
        rgb = np.asarray(matplotlib.colors.to_rgb(colour))
        lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        return float(lin @ [0.2126, 0.7152, 0.0722])

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@memoized(maxsize=4)
def _areas(level: str) -> "object":
    """Census boundaries of the level in longitude/latitude, simplified, coordinates rounded."""
    import shapely

    frame = geography.load_states() if level == "state" else geography.load_counties()
    frame = frame[["GEOID", "geometry"]].to_crs(4326)
    simple = shapely.simplify(frame.geometry.array, _SIMPLIFY, preserve_topology=True)
    frame["geometry"] = shapely.set_precision(simple, 10 ** -_ROUND)
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
    names = [part.strip().title() for part in re.split(r"[;,]", _text(raw)) if part.strip()]
    return "; ".join(n if n.endswith((" County", " Parish", " Borough")) else f"{n} County"
                     for n in names)


def _agency_points(agencies, usps, partners=None, *, default: bool = False):
    """Return the agencies of the map with points and popup fields, and the number not drawn.

    The agencies are those of one state or all (``usps`` None); points are placed by
    :func:`ringgeo.plot._mappoints.place_agencies` (read from the parsed-data cache when
    ``default``: ``agencies`` are :func:`ringgeo.agencies.with_partners` of ``partners``).
    """
    need = {"ori", "agency", "agency_type", "state", "geometry", "partner", "partner_id",
            "activated"}
    missing = sorted(need - set(agencies.columns))
    if missing:
        raise ParameterError(f"agencies lacks columns {missing}: pass "
                             "ringgeo.agencies.with_partners(partners) or agencies=True.")
    frame = (_mappoints.placed_agencies(partners) if default and partners is not None
             else _mappoints.place_agencies(agencies, partners))
    frame = frame if usps is None else frame.loc[frame["state"] == usps]
    located = frame["lat"].notna()
    unlocated = int((~located).sum())
    frame = frame.loc[located].sort_values(["ori", "agency"], kind="stable", na_position="last")
    counties = frame.get("county_raw", pd.Series("", index=frame.index))
    muni = frame.get("muni_name", pd.Series(pd.NA, index=frame.index))
    munis = _each(muni, _text)
    where = [", ".join(p for p in (c, s) if p) for c, s in zip(
        _each(counties, _county_text), frame["state"])]
    table = pd.DataFrame({
        "agency": _each(frame["agency"], _text),
        "ori": _each(frame["ori"], _text),
        "type": _agency_kinds(frame),
        "place": [", ".join(p for p in (m, w) if p) for m, w in zip(munis, where)],
        "muni": munis, "where": where,
        "activated": _each(frame["activated"], _date_text),
        "partner_id": _each(frame["partner_id"], lambda v: _text(v) or "none"),
        "partner": frame["partner"].astype(bool).to_numpy(),
        "population": _mappoints.population_policed(frame["ori"].tolist()),
        "placed": frame["placed"].astype(str).to_numpy(),
        "lon": frame["lon"].round(4).to_numpy(), "lat": frame["lat"].round(4).to_numpy(),
    }, index=frame.index)
    return table, unlocated


def _agency_kinds(frame) -> list:
    """Each agency's kind in words; an FBI contract unit says whose contract it is."""
    units = _mappoints.contract_names()
    kinds = _each(frame["agency_type"], lambda t: _TYPE_NAMES.get(t, _text(t)))
    return [f"Contract unit: policed by {units[ori]}" if ori in units else kind
            for ori, kind in zip(frame["ori"], kinds)]


def _split_suffix(name: str) -> tuple[str, int]:
    best = 0
    for i, suffix in enumerate(_SUFFIXES):
        if suffix and name.endswith(suffix) and len(suffix) > len(_SUFFIXES[best]):
            best = i
    return name[: len(name) - len(_SUFFIXES[best])], best


def _points_data(table) -> dict:
    """Return the agencies as the page's script reads them: one short array per agency.

    ``[lat×10⁴, lon×10⁴, name stem, suffix, ORI, type, municipality, county and state,
    population (-1: none), placement]`` and, for partners, ``activation date, partner
    ids``; suffixes, types, municipalities, counties and placements are indexes into
    lists written once.
    """
    lists = {"types": {}, "munis": {"": 0}, "counties": {}, "placed": {}}

    def index(kind, value):
        return lists[kind].setdefault(value, len(lists[kind]))

    rows = []
    for r in table.itertuples(index=False):
        stem, suffix = _split_suffix(r.agency)
        row = [int(round(r.lat * 1e4)), int(round(r.lon * 1e4)), stem, suffix, r.ori,
               index("types", r.type), index("munis", r.muni), index("counties", r.where),
               -1 if r.population is None or pd.isna(r.population) else int(r.population),
               index("placed", _mappoints.PLACEMENTS.get(r.placed, r.placed))]
        if r.partner:
            row += ["" if r.activated == "unknown" else r.activated, r.partner_id]
        rows.append(row)
    return {"points": rows, "suffixes": list(_SUFFIXES),
            **{kind: list(values) for kind, values in lists.items()}}


@memoized(maxsize=4)
def _zip_index(usps=None) -> str:
    """Every ZIP code's point (GeoNames), delta-coded: ``"zip,lat,lon;..."``.

    ZIP codes, latitudes and longitudes (in hundredths of a degree, about 1 km) are
    written as differences from the previous ZIP code's: about 0.4 MB for 41,000 codes.
    A state's map has that state's codes.
    """
    codes = postal.load_postal_codes()
    codes = codes.loc[codes["latitude"].notna()].sort_values("zip")
    if usps is not None:
        codes = codes.loc[codes["state"] == usps]
    parts, last = [], (0, 0, 0)
    for z, lat, lon in zip(codes["zip"], codes["latitude"], codes["longitude"]):
        now = (int(z), int(round(lat * 100)), int(round(lon * 100)))
        parts.append(f"{now[0] - last[0]},{now[1] - last[1]},{now[2] - last[2]}")
        last = now
    return ";".join(parts)


@memoized(maxsize=2)
def _regions(usps) -> list:
    """States and counties with their bounds, for the search box: ``[name, s, w, n, e]``."""
    out = []
    states = geography.load_states().to_crs(4326)
    for name, geom in zip(states["name"], states.geometry):
        w, s, e, n = geom.bounds
        if w < -179 and e > 179:  # Alaska's Aleutians cross the antimeridian
            w, e = -179.2, -129.9
        out.append([name, round(s, 2), round(w, 2), round(n, 2), round(e, 2)])
    counties = geography.load_counties().to_crs(4326)
    if usps is not None:
        counties = counties.loc[counties["state"] == usps]
    for name, st, geom in zip(counties["name"], counties["state"], counties.geometry):
        w, s, e, n = geom.bounds
        if w < -179 and e > 179:
            continue
        out.append([f"{name}, {st}", round(s, 2), round(w, 2), round(n, 2), round(e, 2)])
    return out


def _point_words(tech) -> dict:
    """Return what the page calls the table's agencies, their groups and the others.

    Ring's words for Ring's partner table (and any table that does not say), the
    technology's for a table of ``ringgeo.load_atlas``: a map of drones never says
    "partner".
    """
    ring = technologies.technology_of(tech).key == "ring"
    members = technologies.members(tech)
    return {"ring": ring, "members": members,
            "others": "Never partnered" if ring else "Other agencies (not listed)",
            "others_plural": ("Agencies that never partnered" if ring
                              else "Other agencies (not listed)"),
            "share": "partnered" if ring else "listed",
            "several": ("Several partners: click to open" if ring
                        else f"Several {members}: click to open"),
            "rows": "partnerships" if ring else f"{technologies.noun(tech)} rows"}


def _legend_html(name, labels, colours, counts, tech, others_note) -> str:
    styles, words = marker_styles(), _point_words(tech)
    rows = "".join(
        f'<div class="rg-row"><span class="rg-swatch" style="background:{c}"></span>'
        f'{html.escape(lab)}</div>' for lab, c in zip(labels, colours))
    body = (f'<div class="rg-legend-title">{html.escape(name)}</div>{rows}' if labels else "")
    points = ""
    if counts is not None:
        p, o = styles["partner"], styles["other"]
        points = (
            f'<div class="rg-row"><span class="rg-dot" style="width:14px;height:14px;'
            f'background:{p["fillColor"]};border:2px solid {p["color"]};'
            f'box-shadow:0 0 0 1px {p["fillColor"]}"></span>'
            f'{html.escape(technologies.members(tech).capitalize())} ({counts[0]:,})</div>'
            f'<div class="rg-row"><span class="rg-dot rg-cluster" style="width:20px;height:20px;'
            f'font-size:10px;display:inline-flex">12</span>'
            f'{html.escape(words["several"])}</div>'
            f'<div class="rg-row"><span class="rg-dot" style="width:8px;height:8px;'
            f'background:{o["fillColor"]};border:1.2px solid {o["color"]}"></span>'
            f'{html.escape(words["others"])} ({counts[1]:,})</div>'
            f'<div class="rg-note">{html.escape(others_note)}</div>')
    return (f'<details><summary>Legend</summary>{body}{points}</details>')


def _source_html(credit, notes) -> str:
    paragraphs = "".join(f"<p>{html.escape(n)}</p>" for n in notes if n)
    return (f'<details><summary>Sources and notes</summary><p>{html.escape(credit)}</p>'
            f'{paragraphs}</details>')


def explore(
        frame=None, column=None, *, level=None, state=None, scheme="quantiles", k=5,
        bins=None, agencies=True, as_of=None, cmap=None, title=None, legend_fmt=None,
        zero_class=True, tiles=TILES, partners=None, self_contained=False, search=True):
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
    partners : pandas.DataFrame, optional
        The linked partner table ``agencies`` was marked with (loaded with
        ``agencies=True``): its partnerships that name no FBI agency are drawn too,
        and the source line says how the number of partner points relates to the
        number of partnerships in the tables.
    self_contained : bool, default False
        Copy Leaflet and leaflet.markercluster into the page, from the npm folder
        named by ``RINGGEO_WEB_LIBS``: the page then opens with no network (the
        map tiles excepted). False: the page loads them from cdn.jsdelivr.net.
    search : bool, default True
        A search box for agencies, towns, counties, states and ZIP codes (its
        index is inside the page, about 0.5 MB).

    Returns
    -------
    folium.Map
        The areas and the agency layers, in a layer control that starts
        collapsed. Hovering a point shows the agency and its partner status
        ("Ring partner since 2019-05-01", "not a Ring partner"), a click the
        residents it polices first, its type, place, ORI and partner ids;
        hovering an area its value, class, partner count and population. A
        collapsible legend, a source line that expands (credits, as-of date, what
        the counts leave out). Write it with :func:`ringgeo.plot.save`.

    Raises
    ------
    ParameterError
        As for :func:`ringgeo.plot.map_data`; ``frame`` without ``column``;
        an ``agencies`` frame without the columns of ``with_partners``;
        ``self_contained`` without the npm folder (the message gives the command).

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
    >>> m = explore(agencies=points, tiles=None, as_of="2020-01-01", search=False)
    >>> sorted(map_info(m)["layers"])
    ['Never partnered', 'Ring partner agencies']
    """
    import folium

    usps = validate_state(state) if state is not None else None
    if frame is not None and column is None:
        raise ParameterError("explore(frame, column): name the column to colour, e.g. "
                             "'partners_per_100k'.")
    if as_of is None and frame is not None:
        as_of = frame.attrs.get("as_of")
    if agencies is True and partners is None:
        # the map's table says its technology (ringgeo.load_atlas): draw that technology's
        # agencies, in its words
        key = technologies.technology_of(frame).key if frame is not None else "ring"
        mine = frame.attrs.get("source_file") if frame is not None else None
        if isinstance(mine, dict) and not mine.get("registry"):  # a reader's own download
            raise ParameterError(
                f"this map's table comes from your file {mine.get('name')!r}, and the agency "
                "points would come from the registry's 2020 export: pass the same file's "
                f"table, explore(..., partners=ringgeo.load_atlas({key!r}, source=<that "
                "file>)), or agencies=False for the areas only.")
        partners = (load_partners(as_of=as_of) if key in ("ring", "all")
                    else load_atlas(key, as_of=as_of))
    points = _agencies_of(agencies, partners)
    if as_of is None and points is not None:
        as_of = points.attrs.get("as_of")
    tech = partners if partners is not None else (points if points is not None else frame)
    words = _point_words(tech)  # what the page calls its agencies and the others
    inline = _webassets.inline_assets() if self_contained else None

    m = WebMap(location=[39.5, -98.35], zoom_start=3, tiles=None, prefer_canvas=True,
               control_scale=False, zoom_snap=0.25)
    if tiles is not None:
        folium.TileLayer(tiles, control=False).add_to(m)
    js, css = _webassets.cdn_urls()
    m.default_js, m.default_css = ([], []) if self_contained else (js, css)
    info = {"layers": [], "markers": 0, "labels": [], "unlocated": 0, "partners": 0,
            "partnerships": None, "self_contained": bool(self_contained)}
    data: dict = {}
    options = {"colours": [], "labels": [], "noData": NO_DATA_COLOR, "metric": "",
               "asOf": _date_text(as_of) if as_of is not None else "2020-10-07",
               "partnerStyle": marker_styles()["partner"],
               "otherStyle": marker_styles()["other"], "othersMinZoom": OTHERS_MIN_ZOOM,
               "words": {"member": technologies.technology_of(tech).member,
                         "members_cap": technologies.members(tech).capitalize(),
                         "partnersLayer": technologies.members(tech).capitalize(),
                         "othersLayer": words["others"], "dated": words["ring"]}}
    legend = {"labels": [], "colours": [], "name": "", "counts": None}
    notes = []
    bounds = None
    if frame is not None:
        level, bounds = _add_areas(data, info, legend, options, frame, column, dict(
            level=level, state=state, scheme=scheme, k=k, bins=bins, zero_class=zero_class,
            legend_fmt=legend_fmt), cmap, usps)
    if points is not None:
        point_bounds, note = _add_points(data, info, legend, options, points, usps, partners,
                                         tech, default=agencies is True)
        notes += note
        bounds = bounds or point_bounds
    if search:
        data["zips"], data["regions"] = _zip_index(usps), _regions(usps)
    else:
        data["zips"], data["regions"] = "", []
    options["bounds"] = bounds or NATION_BOUNDS  # the page's script fits them

    credit = _credit(column if frame is not None else None, level, points is not None, as_of,
                     frame)
    if title is None:
        title = _default_title(legend["name"] if frame is not None else None, level, usps,
                               tech)
    options["title"] = title
    others_note = (f"{words['others_plural']} appear from zoom level {OTHERS_MIN_ZOOM} (about "
                   "one state's size).")
    if info["partnerships"] is not None and info["partnerships"] != info["partners"]:
        others_note += (f" {info['partners']:,} points of {words['members']} for the tables' "
                        f"{info['partnerships']:,} {words['rows']}: see Sources and notes.")
    options["legendHtml"] = _legend_html(legend["name"], legend["labels"], legend["colours"],
                                         legend["counts"], tech, others_note)
    options["sourceHtml"] = _source_html(credit, notes)
    _Page(data, options, inline).add_to(m)
    m._ringgeo = dict(info, title=title, credit=credit, notes=list(notes))
    stable_ids(m)
    return m


def _agencies_of(agencies, partners):
    """Return the agency points of ``explore(agencies=...)``: True loads them, False draws none."""
    if agencies is True:
        return with_partners(partners)
    if agencies is not False and agencies is not None:
        return agencies
    return None


def _add_areas(data: dict, info: dict, legend: dict, options: dict, frame, column,
               classify: dict, cmap, usps):
    """Add the areas to the page's data and fill the legend's classes.

    Returns the level and the bounds of a state's map (None for the nation).
    """
    table = _choropleth.map_data(frame, column, **classify)
    level = table.attrs["level"]
    labels = list(table.attrs["labels"])
    colours = [_hex(c) for c in class_colours(cmap or _choropleth.CMAP, len(labels),
                                         table.attrs["zero_class"])]
    areas = _areas(level).merge(table[["GEOID", "name", "value", "class", "label"]],
                                on="GEOID")
    areas = areas.sort_values("GEOID", ignore_index=True)
    share = str(column).startswith("share_")
    shown = areas["value"].map(
        lambda v: "no data" if pd.isna(v) else (f"{v:.1%}" if share else f"{v:,.4g}"))
    extra = {}
    by = areas["GEOID"] if level == "county" else areas["GEOID"].map(_usps_of)
    for key, col in (("k", "partners"), ("pop", "population")):
        if col in frame.columns:
            values = frame[col].reindex(by.to_numpy())
            extra[key] = [None if pd.isna(v) else int(v) for v in values]
    features = []
    for i, (name, value, cls, geom) in enumerate(zip(
            areas["name"], shown, areas["class"], areas.geometry)):
        props = {"n": name, "v": value, "c": int(cls)}
        props.update({key: values[i] for key, values in extra.items()})
        features.append({"type": "Feature", "properties": props,
                         "geometry": geom.__geo_interface__ if geom is not None else None})
    data["areas"] = {"type": "FeatureCollection", "features": features}
    name = metric_for(column, frame).label if column in METRICS else column
    info["layers"].append(name)
    options.update(colours=colours, labels=labels, metric=name)
    if (table["class"] < 0).any():
        colours, labels = colours + [NO_DATA_COLOR], labels + ["No data"]
    info["labels"] = list(labels)
    info["colours"] = list(colours)
    legend.update(labels=labels, colours=colours, name=name)
    if usps is None:
        return level, None
    b = areas.total_bounds
    return level, [[b[1], b[0]], [b[3], b[2]]]


@memoized(maxsize=1)
def _usps_by_fips() -> dict:
    return dict(zip(STATES["fips"], STATES["state"]))


def _usps_of(geoid: str):
    return _usps_by_fips().get(geoid, geoid)


def _add_points(data: dict, info: dict, legend: dict, options: dict, points, usps, partners,
                tech, *, default: bool = False):
    """Add the agencies to the page's data; return a state's bounds and the notes on counts.

    The notes say what the counts leave out and how points were placed. ``default``:
    ``points`` are every FBI agency marked with ``partners`` (``explore(agencies=True)``).
    """
    table, unlocated = _agency_points(points, usps, partners, default=default)
    data.update(_points_data(table))
    n_partners = int(table["partner"].sum())
    n_others = int((~table["partner"]).sum())
    info.update(unlocated=unlocated, markers=len(table), partners=n_partners)
    legend["counts"] = (n_partners, n_others)
    words = _point_words(tech)
    others_word = words["others"]
    info["layers"] += [technologies.members(tech).capitalize(), others_word]
    options["words"].update(partnersLayer=f"{info['layers'][-2]} ({n_partners:,})",
                            othersLayer=f"{others_word} ({n_others:,})")
    notes = [_count_note(table, points, partners, usps, tech)]
    if partners is not None:
        info["partnerships"] = int(len(partners) if usps is None
                                   else (partners["state"] == usps).sum())
    others = table.loc[~table["partner"]]
    local = int(points.loc[points["ori"].isin(others["ori"]), "agency_type"]
                .isin(UNIVERSE_TYPES).sum())
    notes.append(f"{others_word}: {n_others:,} agencies of every FBI type with a point (state "
                 "police posts, universities, tribal and special agencies included); the tables' "
                 f"share of agencies {words['share']} "
                 f"counts local police, sheriffs and county police only: {local:,} of them are "
                 "drawn here.")
    if unlocated:
        notes.append(f"{unlocated:,} {'agency' if unlocated == 1 else 'agencies'} without a "
                     f"location in the FBI list {'is' if unlocated == 1 else 'are'} not drawn.")
    moved = table["placed"].isin([k for k in _mappoints.PLACEMENTS if k != "fbi"])
    if moved.any():
        notes.append(f"{int(moved.sum()):,} agencies are drawn at their municipality's (or "
                     "county's) internal point (Census Gazetteer): their FBI point was shared "
                     "with other agencies, a county centre or outside the state, or missing.")
    if usps is None or not len(table):
        return None, notes
    return [[float(table["lat"].min()), float(table["lon"].min())],
            [float(table["lat"].max()), float(table["lon"].max())]], notes


def _count_note(table, points, partners, usps, tech) -> str:
    """Return how the number of partner points relates to the partnerships the tables count."""
    drawn = int(table["partner"].sum())
    what = technologies.members(tech)
    if partners is None:
        return f"{drawn:,} {what} are drawn (one point per agency)."
    p = partners if usps is None else partners.loc[partners["state"] == usps]
    rows = len(p)
    matched = p["ori"].notna()
    shared = int(matched.sum() - p.loc[matched, "ori"].nunique())
    unplaced = rows - shared - drawn
    where = "" if usps is None else f" in {state_name(usps)}"
    word = _point_words(tech)["rows"]
    one = "partnership" if word == "partnerships" else "row"
    parts = [f"{drawn:,} points for the {rows:,} {word}{where} that the tables count"]
    if shared:
        parts.append(f"{shared:,} {one}{'s' if shared != 1 else ''} name an agency that "
                     f"another {one} names (one point per agency)")
    without = int((~matched).sum())
    if without:
        verb = "is" if without == 1 else "are"
        parts.append(f"{without:,} name no agency of the FBI list and {verb} drawn at the "
                     "municipality or county they name")
    if unplaced > 0:
        parts.append(f"{unplaced:,} could not be placed (no point, municipality or county)")
    return "The map shows " + "; ".join(parts) + "."


def _credit(column, level, agencies: bool, as_of, frame=None) -> str:
    """Return the source line: the boundaries, the metric's sources and the agency list."""
    names = []
    if column is not None:
        names.append("cb_2019_us_state_20m.zip" if level == "state"
                     else "cb_2019_us_county_20m.zip")
        names.extend(METRICS[column].sources if column in METRICS else ())
    if agencies:
        names += [_AGENCY_FILE, *postal.POINT_FILES]
    return source_line(column, as_of=as_of, credit=list(dict.fromkeys(names)), level=None,
                       frame=frame)


def _default_title(metric_name, level, usps, tech=None) -> str:
    """Title the map by the metric and the area (``metric_name`` None: a map of agencies only)."""
    if metric_name is None:
        return (technologies.members(tech).capitalize()
                + (f" in {state_name(usps)}" if usps else ""))
    where = "by state" if level == "state" else "by county"
    if usps is not None:
        where = f"in {state_name(usps)}, by county"
    return f"{metric_name} {where}"


def _page_class():
    from branca.element import Element, MacroElement

    class Raw(Element):
        """Text written into the page as it is (folium would compile it as a template)."""

        def __init__(self, text):
            super().__init__()
            self.text = text

        def render(self, **kwargs):
            return self.text

    class Page(MacroElement):
        """ringgeo's script, style and data, and the call that draws the map."""

        def __init__(self, data, options, inline):
            super().__init__()
            self._name = "RinggeoPage"
            self.data, self.options, self.inline = data, options, inline

        def render(self, **kwargs):
            figure = self.get_root()
            name = self.get_name()
            if self.inline:
                figure.header.add_child(Raw(self.inline), name=f"{name}_libraries")
            figure.header.add_child(Raw(_webassets.own_assets()), name=f"{name}_assets")
            text = json.dumps(self.data, separators=(",", ":"), ensure_ascii=False)
            text = text.replace("</", "<\\/")
            opts = json.dumps(self.options, separators=(",", ":"), ensure_ascii=False)
            opts = opts.replace("</", "<\\/")
            figure.script.add_child(Raw(
                f"var {name}_data = {text};\n"
                f"ringgeoMap({self._parent.get_name()}, {name}_data, {opts});\n"),
                name=name)
    return Page


def _Page(data, options, inline):
    return _page_class()(data, options, inline)


def map_info(web_map) -> dict:
    """Return what :func:`explore` drew.

    The keys: ``layers``, ``labels`` and ``colours`` (the legend's classes), ``markers``
    (agency points), ``partners`` (partner points), ``partnerships`` (the partnerships the
    tables count, when ``explore`` had the partner table; else None), ``unlocated``
    (agencies without a location, not drawn), ``notes`` (what the counts leave out and how
    points were placed, as the page's source line says), ``self_contained``, ``title`` and
    ``credit`` (the source line).

    Raises
    ------
    ParameterError
        The map was not made by :func:`explore`.
    """
    info = getattr(web_map, "_ringgeo", None)
    if info is None:
        raise ParameterError("map_info needs a map made by ringgeo.plot.explore.")
    return dict(info)


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

