"""Export the states, counties, agencies and partners for Datawrapper, Flourish and QGIS.

:func:`export` writes, into one folder, four tables (``ringgeo export FOLDER`` on the
command line):

``states``
    one row per state, DC and Puerto Rico: ``state_fips`` (2-character text), ``state``
    (USPS), ``name`` and every column of :func:`ringgeo.coverage.by_state`;
``counties``
    one row per county: ``fips`` (5-character text), ``state_fips``, ``state``,
    ``name``, ``full_name`` and every column of :func:`ringgeo.coverage.by_county`;
``agencies``
    the FBI agency list (2018) with each agency's Ring partnership on the date
    (:func:`ringgeo.agencies.with_partners`), ``latitude`` / ``longitude``;
``partners``
    the linked partner table (:func:`ringgeo.load_partners`), ``latitude`` / ``longitude``.

in the formats asked for: CSV (:func:`ringgeo.tables.write_csv`; FIPS codes as text
with their leading zeros), GeoJSON (RFC 7946: WGS 84 longitude / latitude, exterior rings
counter-clockwise, coordinates rounded to :data:`PRECISION` decimals, no ``crs`` member),
TopoJSON (the state and county boundaries simplified, keyed by FIPS, to join with the CSV
files; the counties file stays under 1 MB) and one GeoPackage with a layer per table
(for QGIS). A ``README.md`` beside them credits every source and notes the columns.
How to use them: ``docs/export.md``.
"""

from __future__ import annotations

import json
import pathlib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping
from shapely.geometry.polygon import orient

from . import agencies as _agencies
from . import coverage, data, geography, technologies
from ._frames import json_ready, without_attrs
from .exceptions import InputError, ParameterError
from .metrics import METRICS
from .partners import EXPORT_DATE, load_partners
from .tables import write_csv

__all__ = ["FORMATS", "PRECISION", "TABLES", "add_cli", "export", "export_tables", "to_geojson",
           "to_topojson"]

#: The formats :func:`export` writes by default (all of them).
FORMATS = ("csv", "geojson", "topojson", "gpkg")
#: The tables :func:`export` writes.
TABLES = ("states", "counties", "agencies", "partners")
#: Decimals of the GeoJSON coordinates (5 decimals: about 1 m).
PRECISION = 5
#: TopoJSON: quantization (distinct positions per axis) and simplification (degrees).
TOPO_QUANTIZATION = 100_000
TOPO_SIMPLIFY = 0.01

_WGS84 = "EPSG:4326"
_SOURCES = ("atlas-of-surveillance-20201007.csv", "cb_2019_us_state_20m.zip",
            "cb_2019_us_county_20m.zip", "fbi-agencies-2018.csv")
_AGENCY_COLUMNS = ("ori", "agency", "agency_type", "jurisdiction_type", "state",
                   "primary_county_fips", "county_fips", "muni_geoid", "muni_name", "partner",
                   "partner_id", "activated", "latitude", "longitude")
_PARTNER_COLUMNS = ("partner_id", "agency", "agency_type", "jurisdiction_type", "city", "state",
                    "county_names", "activated", "ori", "primary_county_fips", "county_fips",
                    "muni_geoid", "muni_name", "link_method", "latitude", "longitude", "source")


def export(folder, *, as_of=None, formats=FORMATS, partners=None) -> dict[str, list[pathlib.Path]]:
    """Write the states, counties, agencies and partners tables into ``folder``.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder to write into (made if missing; files of the same names are replaced).
    as_of : date-like, optional
        Partnerships activated by this day (as :func:`ringgeo.load_partners` takes it);
        default: every partnership of the 2020-10-07 snapshot.
    formats : sequence of str, default :data:`FORMATS`
        Any of ``"csv"``, ``"geojson"``, ``"topojson"``, ``"gpkg"``.
    partners : pandas.DataFrame, optional
        A linked partner table to export instead of ``load_partners(as_of=as_of)``
        (``as_of`` is then not used; the README gives the table's ``attrs["as_of"]``).

    Returns
    -------
    dict
        Format (and ``"readme"``) to the list of files written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:  # doctest: +SKIP
    ...     files = export(folder, formats=("csv",))
    >>> [p.name for p in files["csv"]]  # doctest: +SKIP
    ['states.csv', 'counties.csv', 'agencies.csv', 'partners.csv']
    """
    formats = _check_formats(formats)
    folder = pathlib.Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"export folder {str(folder)!r} is a file; give a folder (it is made "
                         "if missing)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # under a file, unwritable, a missing device...
        raise InputError(f"cannot make the export folder {str(folder)!r}: {err.strerror}. "
                         "Give a folder you can write to (it is made if missing).") from None
    if partners is None:
        partners = load_partners(as_of=as_of)
    tables = export_tables(partners)
    written: dict[str, list[pathlib.Path]] = {}
    if "csv" in formats:
        written["csv"] = []
        for name, table in tables.items():
            path = folder / f"{name}.csv"
            write_csv(pd.DataFrame(table.drop(columns="geometry")), path, index=False)
            written["csv"].append(path)
    if "geojson" in formats:
        written["geojson"] = [to_geojson(table, folder / f"{name}.geojson")
                              for name, table in tables.items()]
    if "topojson" in formats:
        written["topojson"] = [
            to_topojson(tables[name][[key, "state", "name", "geometry"]],
                        folder / f"{name}.topojson", object_name=name)
            for name, key in (("states", "state_fips"), ("counties", "fips"))]
    if "gpkg" in formats:
        path = folder / "ringgeo.gpkg"
        path.unlink(missing_ok=True)
        for name, table in tables.items():
            _gpkg_frame(table).to_file(path, layer=name, driver="GPKG", engine="pyogrio")
        written["gpkg"] = [path]
    readme = folder / "README.md"
    readme.write_text(_readme(partners, tables, written), encoding="utf-8")
    written["readme"] = [readme]
    return written


def _check_formats(formats) -> tuple[str, ...]:
    if isinstance(formats, str):
        formats = (formats,)
    formats = tuple(formats)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ParameterError(f"unknown export format(s) {unknown or formats!r}: choose among "
                             f"{', '.join(FORMATS)}")
    return formats


def export_tables(partners) -> dict[str, gpd.GeoDataFrame]:
    """Return the four exported tables (WGS 84 GeoDataFrames) of a linked partner table.

    Parameters
    ----------
    partners : pandas.DataFrame
        A linked partner table (:func:`ringgeo.load_partners`).

    Returns
    -------
    dict
        ``states``, ``counties`` (polygons), ``agencies``, ``partners`` (points; None
        where the location is unknown), in that order.
    """
    partners = without_attrs(partners)
    if "ori" not in partners or "latitude" not in partners:
        raise InputError("the partner table has no linking columns (ori, latitude, ...): "
                         "export a linked table, ringgeo.load_partners(link=True)")
    states = geography.load_states()
    by_state = coverage.by_state(partners).drop(columns="name")
    states = pd.DataFrame({"state_fips": states["GEOID"].astype(str),
                           "state": states["state"].astype(str),
                           "name": states["name"].astype(str),
                           "geometry": states.geometry})
    states = states.merge(by_state, left_on="state", right_index=True, how="left")
    counties = geography.load_counties()
    by_county = coverage.by_county(partners).drop(columns=["state", "name"])
    counties = pd.DataFrame({"fips": counties["GEOID"].astype(str),
                             "state_fips": counties["state_fips"].astype(str),
                             "state": counties["state"].astype(str),
                             "name": counties["name"].astype(str),
                             "full_name": counties["full_name"].astype(str),
                             "geometry": counties.geometry})
    counties = counties.merge(by_county, left_on="fips", right_index=True, how="left")
    crs = geography.load_states().crs
    agencies = _points(_agencies.with_partners(partners), _AGENCY_COLUMNS)
    return {"states": gpd.GeoDataFrame(states, geometry="geometry", crs=crs).to_crs(_WGS84),
            "counties": gpd.GeoDataFrame(counties, geometry="geometry", crs=crs).to_crs(_WGS84),
            "agencies": agencies,
            "partners": _points(partners, _PARTNER_COLUMNS)}


def _points(frame, columns) -> gpd.GeoDataFrame:
    """Columns of ``frame`` with lists as ``;``-joined text, dates as text, WGS 84 points."""
    out = pd.DataFrame({c: frame[c].to_numpy() for c in columns})
    for col in ("county_fips", "county_names"):
        if col in out:
            out[col] = [v if not isinstance(v, (list, tuple, np.ndarray)) else ";".join(v)
                        for v in out[col]]
    out["activated"] = [None if pd.isna(v) else f"{pd.Timestamp(v):%Y-%m-%d}"
                        for v in out["activated"]]
    for col in out:
        if col not in ("latitude", "longitude", "partner", "activated"):
            out[col] = out[col].astype("string")
    lat, lon = out["latitude"].to_numpy(float), out["longitude"].to_numpy(float)
    known = np.isfinite(lat) & np.isfinite(lon)
    geometry = np.full(len(out), None, dtype=object)
    geometry[known] = shapely.points(lon[known], lat[known])
    return gpd.GeoDataFrame(out, geometry=geometry, crs=_WGS84)


def _gpkg_frame(table: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the table as the GeoPackage stores it: nullable integers as floats."""
    out = table.copy()
    for col in out.columns:
        if col != "geometry" and isinstance(out[col].dtype, pd.Int64Dtype):
            out[col] = out[col].astype("float64")
    return out


def _rfc7946(geom, precision: int):
    """``geom`` with counter-clockwise exterior rings, clockwise holes, rounded coordinates."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type == "Polygon":
        geom = orient(geom, sign=1.0)
    elif geom.geom_type == "MultiPolygon":
        geom = shapely.MultiPolygon([orient(part, sign=1.0) for part in geom.geoms])
    return shapely.transform(geom, lambda xy: np.round(xy, precision))


def to_geojson(frame: gpd.GeoDataFrame, path, *, precision: int = PRECISION) -> pathlib.Path:
    """Write ``frame`` as an RFC 7946 GeoJSON FeatureCollection; return the path.

    WGS 84 longitude / latitude (the frame is reprojected if it has another CRS), no
    ``crs`` member, polygons' exterior rings counter-clockwise and holes clockwise
    (the right-hand rule), coordinates rounded to ``precision`` decimals, missing
    values ``null``, rows without a location ``"geometry": null``.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The table (with a CRS).
    path : str or os.PathLike
        The file to write.
    precision : int, default :data:`PRECISION`
        Decimals of the coordinates.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> import geopandas as gpd
    >>> from shapely.geometry import Polygon
    >>> square = Polygon([(0, 0), (0, 1), (1, 1), (1, 0)])  # clockwise
    >>> frame = gpd.GeoDataFrame({"fips": ["01001"]}, geometry=[square], crs="EPSG:4326")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     doc = json.loads(to_geojson(frame, pathlib.Path(tmp) / "a.geojson").read_text())
    >>> doc["features"][0]["geometry"]["coordinates"][0]
    [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    """
    if frame.crs is None:
        raise InputError("the frame has no CRS, so its coordinates cannot be put in WGS 84: "
                         "set one (frame.set_crs(...)) before writing GeoJSON")
    frame = frame.to_crs(_WGS84)
    props = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    columns = [str(c) for c in props.columns]
    features = []
    for values, geom in zip(props.itertuples(index=False, name=None), frame.geometry):
        shape = _rfc7946(geom, precision)
        features.append({"type": "Feature",
                         "properties": json_ready(dict(zip(columns, values))),
                         "geometry": None if shape is None else mapping(shape)})
    path = pathlib.Path(path)
    with open(path, "w", encoding="utf-8") as out:
        json.dump({"type": "FeatureCollection", "features": features}, out,
                  allow_nan=False, separators=(",", ":"))
    return path


def to_topojson(frame: gpd.GeoDataFrame, path, *, object_name: str = "data",
                quantization: int = TOPO_QUANTIZATION,
                simplify: float = TOPO_SIMPLIFY) -> pathlib.Path:
    """Write ``frame``'s polygons as simplified TopoJSON (the ``topojson`` package).

    Shared borders are stored once and simplified alike (no gaps between
    neighbours). Coordinates are WGS 84 longitude / latitude; each geometry's
    ``id`` is the value of the frame's first column (the FIPS code).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The polygons and the properties to keep (keep them few: the file's size).
    path : str or os.PathLike
        The file to write.
    object_name : str, default "data"
        The name of the object in the topology (``objects.<name>``).
    quantization : int, default :data:`TOPO_QUANTIZATION`
        Distinct positions per axis.
    simplify : float, default :data:`TOPO_SIMPLIFY`
        Douglas-Peucker tolerance in degrees (0: none).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> frame = gpd.GeoDataFrame({"fips": ["01", "02"]},
    ...                          geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4326")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     doc = json.loads(to_topojson(frame, pathlib.Path(tmp) / "a.topojson",
    ...                                  object_name="states").read_text())
    >>> doc["type"], [g["id"] for g in doc["objects"]["states"]["geometries"]]
    ('Topology', ['01', '02'])
    """
    import topojson  # imported here: only this format needs it

    if frame.crs is None:
        raise InputError("the frame has no CRS: set one (frame.set_crs(...)) before writing "
                         "TopoJSON")
    frame = frame.to_crs(_WGS84)
    props = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    # the first column (the FIPS code) is each geometry's "id" too
    clean = gpd.GeoDataFrame(
        {c: [json_ready(v) for v in props[c]] for c in props.columns},
        geometry=list(frame.geometry), crs=_WGS84,
        index=pd.Index([str(v) for v in props.iloc[:, 0]]) if len(props.columns) else None)
    topo = topojson.Topology(clean, object_name=object_name, prequantize=quantization,
                             toposimplify=simplify, presimplify=False)
    path = pathlib.Path(path)
    doc = json.loads(topo.to_json())
    doc.pop("crs", None)
    with open(path, "w", encoding="utf-8") as out:
        json.dump(doc, out, allow_nan=False, separators=(",", ":"))
    return path


def _readme(partners, tables, written) -> str:
    as_of = partners.attrs.get("as_of")
    tech = technologies.technology_of(partners)
    ring = tech.key == "ring"
    # the table's own words: a table of load_atlas("drones") is no Ring partnership
    rows = "partnerships" if ring else "rows"
    date = (f"{rows} activated by {pd.Timestamp(as_of):%Y-%m-%d}" if as_of is not None
            else f"every {rows[:-1]} of the {EXPORT_DATE} snapshot")
    what = "Ring police partnerships" if ring else f"{tech.label} (Atlas of Surveillance)"
    mine, _ = technologies.source_words(partners, export_date=EXPORT_DATE)
    origin = mine or f"EFF Atlas of Surveillance export of {EXPORT_DATE}"
    if mine and as_of is None:
        date = f"every {rows[:-1]} of the file"
    sources = list(_SOURCES)
    for metric in METRICS.values():
        sources += [s for s in metric.sources if s not in sources]
    lines = ["# ringgeo export", "", f"{what}: {date} ({origin}).", "", "## Sources", ""]
    credits = [data.credit(name) for name in sources]
    lines += [f"- {line}" for i, line in enumerate(credits) if line not in credits[:i]]
    lines += ["", "Credit them all when you publish a map or table made from these files.",
              "", "## Files", ""]
    for fmt, paths in written.items():
        lines += [f"- {fmt}: " + ", ".join(p.name for p in paths)]
    lines += ["", "## Columns", "",
              "- FIPS codes are text with their leading zeros: `state_fips` 2 characters, "
              "county `fips` 5 (`01001`). Read them as text (Excel: import the column as "
              "Text; pandas: `dtype=str`).",
              "- states / counties: every column of ringgeo's coverage tables "
              "(`ringgeo.coverage.by_state` / `by_county`): " + ", ".join(
                  c for c in tables["states"].columns
                  if c not in ("state_fips", "state", "name", "geometry")) + ".",
              f"- `partners_per_100k`: {tech.members} per 100,000 residents (2019). "
              "`share_covered_min` / `share_covered_max`: the share of residents whose police "
              "is a partner, lower and upper bound (see docs/methodology.md); "
              "`pop_covered_min` / `pop_covered_max` the same as residents.",
              "- Empty cells (CSV) and `null` (GeoJSON) are missing values (e.g. no sheriff "
              "in a state: no share of sheriffs partnered; Puerto Rico: no population).",
              "- agencies: the FBI agency list (2018); `partner` is True when the agency had "
              f"{'a Ring partnership on the date' if ring else 'a row of the table'}, "
              "`partner_id` and `activated` (YYYY-MM-DD) name it.",
              f"- partners: one row per {rows[:-1]}; `county_fips` and `county_names` list "
              "several counties separated by `;`; `activated` is empty when unknown.",
              "- `latitude` / `longitude`: WGS 84 degrees (empty where unknown).",
              "- TopoJSON files hold the simplified boundaries keyed by `state_fips` / `fips` "
              "only: join the CSV files to them by that key.",
              "- Text cells that begin like a spreadsheet formula (=, +, -, @) start with an "
              "apostrophe in the CSV files.", "",
              "Made with ringgeo.", ""]
    return "\n".join(lines)


def _cli(args) -> int:
    formats = tuple(args.formats.split(",")) if args.formats else FORMATS
    written = export(args.folder, as_of=args.as_of, formats=formats)
    for paths in written.values():
        for path in paths:
            print(path)
    return 0


def add_cli(subparsers) -> None:
    """Register ``ringgeo export FOLDER [--as-of DATE] [--formats csv,geojson,...]``."""
    parser = subparsers.add_parser(
        "export", help="write states, counties, agencies and partners as CSV, GeoJSON, "
                       "TopoJSON and GeoPackage",
        description="Write the states, counties, agencies and partners tables (with every "
                    "coverage metric) into FOLDER for Datawrapper, Flourish and QGIS, with "
                    "a README.md of sources and columns. See docs/export.md.")
    parser.add_argument("folder", help="the folder to write into (made if missing)")
    parser.add_argument("--as-of", dest="as_of", default=None,
                        help="partnerships activated by this date (YYYY-MM-DD); default: "
                             "the 2020-10-07 snapshot")
    parser.add_argument("--formats", default=None,
                        help=f"comma-separated subset of {','.join(FORMATS)} (default: all)")
    parser.set_defaults(func=_cli)
