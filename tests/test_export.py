"""ringgeo.export: one export of the mirror's data, read back; crafted frames for the geometry."""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box, shape

import ringgeo
from ringgeo import data
from ringgeo.cli import main
from ringgeo.exceptions import InputError, ParameterError
from ringgeo.export import export, to_geojson, to_topojson


def _strict(text):
    def refuse(name):
        raise ValueError(f"non-JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def _signed_area(ring):
    """Shoelace: positive for a counter-clockwise ring (x east, y north)."""
    xy = np.asarray(ring, dtype=float)
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def _polygons(geometry):
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    assert geometry["type"] == "MultiPolygon"
    return geometry["coordinates"]


def _check_rfc7946(doc):
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    for feature in doc["features"]:
        assert feature["type"] == "Feature" and set(feature) == {"type", "properties",
                                                                   "geometry"}
        geom = feature["geometry"]
        if geom is None:
            continue
        if geom["type"] == "Point":
            lon, lat = geom["coordinates"]
            assert -180 <= lon <= 180 and -90 <= lat <= 90
            continue
        for polygon in _polygons(geom):
            exterior, *holes = polygon
            assert _signed_area(exterior) > 0, feature["properties"]
            assert all(_signed_area(hole) < 0 for hole in holes), feature["properties"]
            for ring in polygon:
                xy = np.asarray(ring)
                assert (np.abs(xy[:, 0]) <= 180).all() and (np.abs(xy[:, 1]) <= 90).all()
                assert ring[0] == ring[-1]


def _decode_topojson(doc, name):
    """Each geometry of ``objects[name]`` as (id, properties, shapely geometry)."""
    scale, translate = doc["transform"]["scale"], doc["transform"]["translate"]
    arcs = []
    for arc in doc["arcs"]:
        xy = np.cumsum(np.asarray(arc, dtype=float), axis=0)
        arcs.append(xy * scale + translate)

    def ring(indices):
        points = []
        for i in indices:
            xy = arcs[i] if i >= 0 else arcs[~i][::-1]
            points.extend(xy.tolist() if not points else xy[1:].tolist())
        return points

    out = []
    for geom in doc["objects"][name]["geometries"]:
        if geom["type"] == "Polygon":
            polys = [geom["arcs"]]
        else:
            assert geom["type"] == "MultiPolygon"
            polys = geom["arcs"]
        shapes = [Polygon(ring(p[0]), [ring(h) for h in p[1:]]) for p in polys]
        out.append((geom["id"], geom["properties"], MultiPolygon(shapes)))
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory, real_partners):
    folder = tmp_path_factory.mktemp("export")
    files = export(folder, partners=real_partners)
    return folder, files


def test_export_writes_every_format(exported):
    folder, files = exported
    assert [p.name for p in files["csv"]] == ["states.csv", "counties.csv", "agencies.csv",
                                             "partners.csv"]
    assert [p.name for p in files["topojson"]] == ["states.topojson", "counties.topojson"]
    assert files["gpkg"] == [folder / "ringgeo.gpkg"] and files["readme"] == [folder /
                                                                              "README.md"]
    assert all(p.parent == folder and p.stat().st_size > 0 for ps in files.values() for p in ps)


def test_csv_fips_are_text_with_leading_zeros(exported, real_partners):
    folder, _ = exported
    counties = pd.read_csv(folder / "counties.csv", dtype=str, keep_default_na=False)
    states = pd.read_csv(folder / "states.csv", dtype=str, keep_default_na=False)
    assert len(counties) == 3220 and counties["fips"].str.fullmatch(r"\d{5}").all()
    assert states["state_fips"].str.fullmatch(r"\d{2}").all() and len(states) == 52
    assert counties["state_fips"].eq(counties["fips"].str[:2]).all()
    text = (folder / "counties.csv").read_text()
    assert "\n01001,01,AL,Autauga," in text  # leading zeros in the file itself
    assert "\n01,AL,Alabama," in (folder / "states.csv").read_text()
    by_county = ringgeo.coverage.by_county(real_partners)
    for column in by_county.columns.drop(["state", "name"]):
        assert column in counties.columns
    back = pd.read_csv(folder / "counties.csv", dtype={"fips": str}).set_index("fips")
    assert back["partners"].sum() == by_county["partners"].sum()
    assert np.allclose(back["share_covered_max"].fillna(-1),
                       by_county.loc[back.index, "share_covered_max"].fillna(-1))
    by_state = ringgeo.coverage.by_state(real_partners)
    back = pd.read_csv(folder / "states.csv", dtype={"state_fips": str}).set_index("state")
    assert back.loc["CA", "partners"] == by_state.loc["CA", "partners"]
    assert list(back.columns[2:]) == list(by_state.columns.drop("name"))


def test_point_tables_have_coordinates(exported, real_partners):
    folder, _ = exported
    partners = pd.read_csv(folder / "partners.csv", dtype=str, keep_default_na=False)
    agencies = pd.read_csv(folder / "agencies.csv", dtype=str, keep_default_na=False)
    assert len(partners) == len(real_partners)
    for table in (partners, agencies):
        assert {"latitude", "longitude"} <= set(table.columns)
        lat = pd.to_numeric(table["latitude"])
        lon = pd.to_numeric(table["longitude"])
        assert lat.notna().mean() > 0.9 and lat.dropna().between(-15, 72).all()  # incl. Guam
        assert 30 < lat.median() < 45 and -100 < lon.median() < -75
        assert table["primary_county_fips"].replace("", "00000").str.fullmatch(r"\d{5}").all()
    assert set(agencies["partner"]) == {"True", "False"}
    assert (agencies["partner"] == "True").sum() > 1000
    dated = partners["activated"][partners["activated"] != ""]
    assert dated.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


def test_readme_credits_every_source(exported):
    folder, _ = exported
    text = (folder / "README.md").read_text()
    for name in ("atlas-of-surveillance-20201007.csv", "cb_2019_us_county_20m.zip",
                 "fbi-agencies-2018.csv", "co-est2019-alldata.csv", "sub-est2021_all.zip"):
        assert data.credit(name) in text
    assert "2020-10-07" in text and "share_covered_max" in text and "leading zeros" in text


def test_geojson_is_rfc7946(exported):
    folder, _ = exported
    for name, rows in (("states", 52), ("counties", 3220)):
        doc = _strict((folder / f"{name}.geojson").read_text())
        _check_rfc7946(doc)
        assert len(doc["features"]) == rows
        props = doc["features"][0]["properties"]
        assert "share_covered_min" in props and "partners_per_100k" in props
    doc = _strict((folder / "counties.geojson").read_text())
    first = {f["properties"]["fips"]: f for f in doc["features"]}["01001"]
    assert first["properties"]["name"] == "Autauga"
    lon, lat = shape(first["geometry"]).centroid.coords[0]
    assert -87.0 < lon < -86.2 and 32.3 < lat < 32.8  # lon first: Autauga County, AL
    points = _strict((folder / "partners.geojson").read_text())
    _check_rfc7946(points)
    located = [f for f in points["features"] if f["geometry"] is not None]
    assert len(located) > 0.9 * len(points["features"])
    coords = np.array([f["geometry"]["coordinates"] for f in located])
    assert (coords[:, 0] < -60).all()  # longitudes (west), not latitudes
    # coordinates rounded to 5 decimals
    assert all(len(repr(float(v)).split(".")[-1]) <= 5 for v in coords.ravel()[:200])


def test_topojson_reads_back_small(exported):
    folder, _ = exported
    path = folder / "counties.topojson"
    assert path.stat().st_size < 1_000_000
    doc = _strict(path.read_text())
    assert doc["type"] == "Topology" and "crs" not in doc
    decoded = _decode_topojson(doc, "counties")
    counties = ringgeo.geography.load_counties().set_index("GEOID")
    assert sorted(i for i, _, _ in decoded) == sorted(counties.index)
    assert all(props["fips"] == i for i, props, _ in decoded)
    areas = {i: geom.area for i, _, geom in decoded}
    original = pd.Series(shapely.area(counties.geometry.to_numpy()),  # degrees², as decoded
                         index=counties.index)
    ratio = pd.Series(areas) / original.reindex(list(areas))
    assert ratio.sum() == pytest.approx(len(ratio), rel=0.02)
    assert ratio.median() == pytest.approx(1.0, abs=0.02)
    states = _decode_topojson(_strict((folder / "states.topojson").read_text()), "states")
    assert len(states) == 52 and {i for i, _, _ in states} >= {"01", "06", "72"}


def test_geopackage_layers(exported):
    folder, _ = exported
    path = folder / "ringgeo.gpkg"
    layers = dict(pyogrio.list_layers(path))
    assert list(layers) == ["states", "counties", "agencies", "partners"]
    assert layers["agencies"] == "Point" and "Polygon" in layers["counties"]
    counties = gpd.read_file(path, layer="counties")
    assert len(counties) == 3220 and counties.crs.to_epsg() == 4326
    assert counties["fips"].str.fullmatch(r"\d{5}").all() and "01001" in set(counties["fips"])
    partners = gpd.read_file(path, layer="partners")
    assert partners["partner_id"].str.startswith("AOS").all()


@pytest.mark.filterwarnings("ignore:as_of=2019-01-01")  # the undated partners left out
def test_cli_export_as_of(tmp_path, capsys):
    out = tmp_path / "early"
    assert main(["export", str(out), "--as-of", "2019-01-01", "--formats", "csv"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(out / f"{n}.csv") for n in ("states", "counties", "agencies",
                                                       "partners")] + [str(out / "README.md")]
    partners = pd.read_csv(out / "partners.csv", dtype=str)
    assert (partners["activated"] <= "2019-01-01").all()
    assert "activated by 2019-01-01" in (out / "README.md").read_text()
    assert not (out / "counties.geojson").exists()


def test_bad_formats_and_folder(tmp_path):
    with pytest.raises(ParameterError, match="unknown export format.*shp.*choose among"):
        export(tmp_path, formats=("csv", "shp"))
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(InputError, match="is a file"):
        export(afile, formats="csv")
    with pytest.raises(InputError, match=r"cannot make the export folder '.*file/sub': Not a "
                                         r"directory\. Give a folder you can write to"):
        export(afile / "sub", formats="csv")


def _crafted():
    # exterior clockwise, hole counter-clockwise: both the wrong way round for RFC 7946
    outer = [(0, 0), (0, 10), (10, 10), (10, 0), (0, 0)]
    hole = [(2, 2), (4, 2), (4, 4), (2, 4), (2, 2)]
    with_hole = Polygon(outer, [hole])
    multi = MultiPolygon([box(20, 0, 21, 1, ccw=False), box(22, 0, 23, 1)])
    return gpd.GeoDataFrame(
        {"fips": ["01001", "02013"], "share": [0.123456789, np.nan],
         "count": pd.array([3, None], dtype="Int64"), "when": [pd.Timestamp("2019-05-01"),
                                                              pd.NaT]},
        geometry=[with_hole, multi], crs="EPSG:4326")


def test_geojson_orients_rounds_and_nulls(tmp_path):
    doc = _strict(to_geojson(_crafted(), tmp_path / "c.geojson", precision=2).read_text())
    _check_rfc7946(doc)
    first, second = doc["features"]
    assert first["properties"] == {"fips": "01001", "share": 0.123456789, "count": 3,
                                   "when": "2019-05-01"}
    assert second["properties"] == {"fips": "02013", "share": None, "count": None,
                                    "when": None}
    exterior, hole = first["geometry"]["coordinates"]
    assert exterior == [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    assert _signed_area(hole) < 0
    assert second["geometry"]["type"] == "MultiPolygon"


def test_geojson_reprojects_to_lon_lat(tmp_path):
    frame = gpd.GeoDataFrame({"name": ["Philadelphia"]}, geometry=[Point(-75.16, 39.95)],
                             crs="EPSG:4326").to_crs("EPSG:3857")
    frame.loc[1, "name"] = "nowhere"  # no geometry: "geometry": null
    doc = _strict(to_geojson(frame, tmp_path / "p.geojson").read_text())
    _check_rfc7946(doc)
    assert doc["features"][0]["geometry"]["coordinates"] == pytest.approx([-75.16, 39.95])
    assert doc["features"][1]["geometry"] is None
    with pytest.raises(InputError, match="no CRS"):
        to_geojson(frame.set_crs(None, allow_override=True), tmp_path / "x.geojson")


def test_topojson_crafted_reads_back(tmp_path):
    frame = _crafted()
    doc = _strict(to_topojson(frame[["fips", "geometry"]], tmp_path / "c.topojson",
                              object_name="counties", simplify=0).read_text())
    decoded = _decode_topojson(doc, "counties")
    assert [i for i, _, _ in decoded] == ["01001", "02013"]
    for (_, _, geom), original in zip(decoded, frame.geometry):
        assert geom.area == pytest.approx(original.area, rel=1e-4)


def test_an_export_of_another_technology_names_it_not_ring(tmp_path):
    import warnings

    from ringgeo import load_atlas

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        drones = load_atlas("drones")
        export(tmp_path, partners=drones, formats="csv")
    readme = (tmp_path / "README.md").read_text()
    assert readme.startswith("# ringgeo export\n\nDrones (Atlas of Surveillance): every row of "
                             "the 2020-10-07 snapshot")
    assert "Ring" not in readme
    assert "`partners_per_100k`: agencies using drones per 100,000 residents" in readme
