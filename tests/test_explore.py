"""Tests of ringgeo.plot.explore (ringgeo/plot/_explore.py) and of saving web maps.

The browser test opens a saved map in headless Chromium (Debian's ``chromium``,
driven by playwright) with no network: every request the page makes is
answered from disk, the page itself and the JavaScript and CSS libraries
folium asks for from an npm folder installed by ``.ci/run`` (named by
``RINGGEO_WEB_LIBS``), map tiles with a blank local image. A request for
anything else is refused and fails the test.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import re
import shutil
import urllib.parse

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

import ringgeo
from ringgeo import plot
from ringgeo.exceptions import ParameterError


def _points():
    """Five Delaware agencies, two partners (crafted to the with_partners contract)."""
    return gpd.GeoDataFrame({
        "ori": ["DE0000001", "DE0000002", "DE0000003", "DE0000004", "DE0000005"],
        "agency": ["Alpha Police Department", "Beta Police Department", "Gamma Sheriff",
                   "Delta Police Department", "Epsilon Police"],
        "agency_type": ["police", "police", "sheriff", "police", "police"],
        "state": ["DE"] * 5, "county_raw": ["NEW CASTLE", "KENT", "SUSSEX", "KENT", None],
        "muni_name": ["Alpha city", None, None, "Delta town", None],
        "partner": [True, False, True, False, False],
        "partner_id": ["AOS1", pd.NA, "AOS2, AOS3", pd.NA, pd.NA],
        "activated": pd.to_datetime(["2019-05-01", None, "2020-02-17", None, None])},
        geometry=[Point(-75.6, 39.6), Point(-75.5, 39.1), Point(-75.3, 38.7),
                  Point(-75.55, 39.15), None], crs=4326)


def _counties():
    return pd.DataFrame({"partners": {"10001": 0, "10003": 3, "10005": 1}})


# --------------------------------------------------------------------------- map content
def test_explore_layers_points_and_unlocated():
    m = plot.explore(agencies=_points(), tiles=None, as_of="2020-01-01")
    info = plot.map_info(m)
    assert info["markers"] == 4 and info["unlocated"] == 1
    html = m.get_root().render()
    assert "Ring partner agencies (2)" in html and "Never partnered (2)" in html
    assert "1 agency without a location in the FBI list is not drawn" in html
    assert "FBI Crime Data Explorer" in info["credit"] and "2020-01-01" in info["credit"]
    assert "L.control.layers" in html and "collapsed: true" in html
    assert "Epsilon Police" not in html  # no location: reported, not drawn
    assert "user-scalable=no" not in html  # pinch zoom allowed


def test_explore_uses_the_classes_of_choropleth():
    frame = _counties()
    m = plot.explore(frame, "partners", state="DE", scheme="user_defined", bins=[0, 1, 5],
                     agencies=False, tiles=None)
    table = plot.map_data(frame, "partners", state="DE", scheme="user_defined", bins=[0, 1, 5])
    assert plot.map_info(m)["labels"] == table.attrs["labels"] == ["0", "1", "2–5"]
    fig, ax = plot.choropleth(frame, "partners", state="DE", scheme="user_defined",
                              bins=[0, 1, 5])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [t for t in legend if t != "No data"] == plot.map_info(m)["labels"]  # listed if used
    from matplotlib.colors import to_hex
    drawn = [to_hex(h.get_facecolor()) for h, t in zip(ax.get_legend().legend_handles, legend)
             if t != "No data"]
    html = m.get_root().render()
    for colour in drawn:
        assert colour in html
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_explore_errors():
    with pytest.raises(ParameterError, match="name the column"):
        plot.explore(_counties(), agencies=False)
    with pytest.raises(ParameterError, match="lacks columns"):
        plot.explore(agencies=_points().drop(columns=["partner"]), tiles=None)
    with pytest.raises(ParameterError, match="a map made by ringgeo.plot.explore"):
        import folium
        plot.map_info(folium.Map())
    with pytest.raises(ParameterError, match="`scheme` was .nope. but is expected to be one of"):
        plot.explore(_counties(), "partners", state="DE", scheme="nope", agencies=False)


def test_save_html_is_atomic_and_deterministic(tmp_path):
    a = plot.save(plot.explore(agencies=_points(), tiles=None), tmp_path / "a.html")
    b = plot.save(plot.explore(agencies=_points(), tiles=None), tmp_path / "sub" / "b.html")
    assert a.read_bytes() == b.read_bytes()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.html", "b.html", "sub"]
    with pytest.raises(ParameterError, match="saved as .html"):
        plot.save(plot.explore(agencies=_points(), tiles=None), tmp_path / "a.png")
    import matplotlib.pyplot as plt
    fig = plt.figure()
    with pytest.raises(ParameterError, match="saved as .html"):
        plot.save(fig, tmp_path / "c.html")
    plt.close(fig)


def test_popup_fields_of_repeated_and_missing_values():
    from ringgeo.plot import _explore

    points = pd.concat([_points(), _points().assign(ori=lambda f: f["ori"] + "9")])
    table, unlocated = _explore._agency_points(points, "DE")
    assert unlocated == 2 and len(table) == 8
    rows = table.set_index("ori")
    for ori in ("DE0000001", "DE00000019"):  # a value seen twice is written the same way
        assert rows.loc[ori, ["agency", "type", "place", "activated", "partner_id"]].tolist() \
            == ["Alpha Police Department", "Police department", "Alpha city, New Castle County, DE",
                "2019-05-01", "AOS1"]
    assert rows.loc["DE0000002", ["place", "activated", "partner_id"]].tolist() \
        == ["Kent County, DE", "unknown", "none"]
    assert rows.loc["DE0000003", "type"] == "Sheriff's office"
    assert rows.loc["DE0000003", "partner_id"] == "AOS2, AOS3"
    assert _explore._each([1, True, None, float("nan"), [1], 1], str) \
        == ["1", "True", "None", "nan", "[1]", "1"]


def test_inline_view_is_folium_view_with_templates_compiled_once(monkeypatch):
    import folium
    import jinja2

    from ringgeo.plot import _webmap

    maps = [plot.explore(agencies=_points(), tiles=None, as_of="2020-01-01") for _ in range(2)]
    assert all(isinstance(m, folium.Map) for m in maps)
    compiled = []
    original = jinja2.Environment.compile

    def counting(env, source, *args, **kwargs):
        compiled.append(source)
        return original(env, source, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    page = maps[0].get_root().render()  # folium alone
    first = len(compiled)
    compiled.clear()
    with _webmap.rendering(maps[1]):  # as ringgeo.plot.save renders
        assert maps[1].get_root().render() == page
    assert len(compiled) <= first
    plain = folium.Map._repr_html_(maps[0])
    compiled.clear()
    assert maps[1]._repr_html_() == plain  # the same inline view as folium's
    assert len(compiled) < first / 2  # the page's templates were not compiled again
    assert jinja2.Environment.compile is counting  # jinja2 is left as it was


# --------------------------------------------------------------------------- real browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LIBS = os.environ.get("RINGGEO_WEB_LIBS")


def _skip_reason():
    if CHROMIUM is None:
        return ("NO CHROMIUM: the real-browser test of the web map did not run. Install "
                "Debian's chromium (apt-get install -y chromium chromium-driver); .ci/run does.")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "NO PLAYWRIGHT: pip install playwright (.ci/run does); the browser test did not run."
    from ringgeo.plot._webassets import LIBRARIES, NPM_INSTALL

    if not LIBS or not all((pathlib.Path(LIBS) / "node_modules" / name).is_dir()
                           for name in LIBRARIES):
        return (f"NO WEB LIBRARIES: set RINGGEO_WEB_LIBS to a folder where `{NPM_INSTALL}` "
                "was run (.ci/run does); the browser test did not run.")
    return None


def _local_file(url: str):
    """The npm file that stands for a CDN URL folium's page asks for, or None."""
    parts = urllib.parse.urlsplit(url)
    root = pathlib.Path(LIBS) / "node_modules"
    path = parts.path
    if parts.netloc == "cdn.jsdelivr.net" and path.startswith("/npm/"):
        spec, _, rest = path[len("/npm/"):].partition("/")
        if spec.startswith("@"):  # scoped package: @scope/name@version/...
            name_version, _, rest = rest.partition("/")
            spec = f"{spec}/{name_version}"
        name, _, version = spec.rpartition("@")
        package = root / name
        if json.loads((package / "package.json").read_text())["version"] != version:
            return None
        return package / rest
    if parts.netloc == "code.jquery.com" and path == "/jquery-3.7.1.min.js":
        return root / "jquery" / "dist" / "jquery.min.js"
    match = re.fullmatch(r"/ajax/libs/Leaflet\.awesome-markers/2\.0\.2/(.+)", path)
    if parts.netloc == "cdnjs.cloudflare.com" and match:
        name = match.group(1)
        return (root / "drmonty-leaflet-awesome-markers" /
                ("js" if name.endswith(".js") else "css") / name)
    return None


def _blank_tile() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (242, 239, 233)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_map_in_headless_chromium_without_network(tmp_path):
    reason = _skip_reason()
    if reason is not None:
        if os.environ.get("RINGGEO_REQUIRE_BROWSER"):  # set by .ci/run: CI must run it
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    partners = ringgeo.load_partners()
    marked = ringgeo.agencies.with_partners(partners)
    counties = ringgeo.coverage.by_county(partners)
    m = plot.explore(counties, "partners", state="DE", scheme="user_defined", bins=[0, 1, 5],
                     agencies=marked)
    page_file = plot.save(m, tmp_path / "de.html")
    expected = marked.loc[(marked["state"] == "DE") & marked.geometry.notna()]
    assert plot.map_info(m)["markers"] == len(expected) > 10
    # a known partner with a point of its own
    partners_de = expected.loc[expected["partner"] & expected["activated"].notna()]
    lonlat = partners_de.geometry.map(lambda p: (round(p.x, 5), round(p.y, 5)))
    known = partners_de.loc[~lonlat.duplicated(keep=False)].sort_values("ori").iloc[0]
    day = f"{known['activated']:%Y-%m-%d}"

    tile = _blank_tile()
    refused, served, errors = [], [], []

    def route(request_route):
        url = request_route.request.url
        if url == "http://ringgeo.test/de.html":
            served.append(url)
            return request_route.fulfill(body=page_file.read_bytes(),
                                         content_type="text/html; charset=utf-8")
        if re.search(r"/\d+/\d+/\d+\.png$", url):  # background tiles: a blank local image
            served.append(url)
            return request_route.fulfill(body=tile, content_type="image/png")
        local = _local_file(url)
        if local is not None and local.is_file():
            served.append(url)
            kind = {".js": "application/javascript", ".css": "text/css", ".png": "image/png",
                    ".woff2": "font/woff2", ".ttf": "font/ttf"}.get(local.suffix,
                                                                    "application/octet-stream")
            return request_route.fulfill(body=local.read_bytes(), content_type=kind)
        refused.append(url)
        return request_route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
                    else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.route("**/*", route)
            page.goto("http://ringgeo.test/de.html", wait_until="load")
            page.wait_for_selector(".leaflet-container")
            page.wait_for_function("() => document.querySelectorAll('.leaflet-tile-loaded')"
                                   ".length > 0")
            page.wait_for_function("() => window.ringgeoReady !== undefined")
            count = page.evaluate("""() => {
                const maps = Object.values(window).filter(v => v instanceof L.Map);
                return [maps.length, window.ringgeo.agencies.length];
            }""")
            assert count == [1, plot.map_info(m)["markers"]]
            legend = page.inner_text(".rg-legend")
            for label in plot.map_info(m)["labels"]:
                assert label in legend
            assert "Ring partner" in legend and "Never partnered" in legend
            assert plot.map_info(m)["title"] in page.inner_text(".rg-title")
            page.click(".rg-source summary")
            assert "FBI Crime Data Explorer" in page.inner_text(".rg-source")
            assert page.locator(".leaflet-control-layers-expanded").count() == 0
            toggle = page.locator(".leaflet-control-layers-toggle").bounding_box()
            page.mouse.move(toggle["x"] + toggle["width"] / 2,  # collapsed until asked
                            toggle["y"] + toggle["height"] / 2)
            page.wait_for_selector(".leaflet-control-layers-expanded")
            assert page.locator(".leaflet-control-layers-overlays label").count() == 3
            assert page.locator(".leaflet-control-layers-base label").count() == 0
            page.mouse.move(600, 700)
            x, y = page.evaluate("""(ori) => new Promise(done => {
                const map = Object.values(window).find(v => v instanceof L.Map);
                const a = window.ringgeo.agencies.find(x => x.ori === ori);
                window.ringgeo.clusters.zoomToShowLayer(a.marker, () => {
                    const p = map.latLngToContainerPoint(a.marker.getLatLng());
                    const box = map.getContainer().getBoundingClientRect();
                    done([box.left + p.x, box.top + p.y]);
                });
            })""", known["ori"])
            page.mouse.move(x, y)
            tooltip = page.wait_for_selector(".leaflet-tooltip:has-text('partner since')")
            assert known["agency"] in tooltip.inner_text() and day in tooltip.inner_text()
            page.mouse.click(x, y)
            popup = page.wait_for_selector(".leaflet-popup-content")
            text = popup.inner_text()
            assert known["agency"] in text and day in text and known["ori"] in text
            assert str(known["partner_id"]) in text and f"Ring partner since {day}" in text
            assert "Residents it polices first" in text
            page.screenshot(path=str(tmp_path / "de.png"))
        finally:
            browser.close()
    assert refused == [], f"requests that would have left the machine: {refused}"
    assert errors == [], f"browser console errors: {errors}"
    assert any("leaflet.js" in u for u in served)
    assert any("leaflet.markercluster.js" in u for u in served)


def test_contract_units_say_whose_contract_they_are():
    from ringgeo.plot import _explore

    # Lakewood Police Department (CA0193500) is the Los Angeles County Sheriff's contract;
    # Bigcity's police is a department of its own
    frame = pd.DataFrame({"ori": ["CA0193500", "XX0000000"], "agency_type": ["police"] * 2})
    kinds = _explore._agency_kinds(frame)
    assert kinds == ["Contract unit: policed by Los Angeles County Sheriff's Office",
                     "Police department"]


# --------------------------------------------------------------------------- issue 23: web map
def test_markers_contrast_with_every_class_colour():
    """WCAG 2 non-text contrast (3:1): each marker has a part (disc or ring) that stands out
    from every class colour the choropleth can use, and its ring stands out from its disc."""
    from ringgeo.plot import _choropleth, _explore
    from ringgeo.plot._figure import class_colours

    colours = {_explore.NO_DATA_COLOR}
    for k in range(2, 10):
        for zero in (True, False):
            colours |= {_explore._hex(c) for c in class_colours(_choropleth.CMAP, k, zero)}
    styles = plot.marker_styles()
    cluster = {"color": "#ffffff", "fillColor": _explore.PARTNER_COLOR}  # webmap.css
    for style in (styles["partner"], styles["other"], cluster):
        assert plot.contrast_ratio(style["color"], style["fillColor"]) >= 3
        for colour in sorted(colours):
            best = max(plot.contrast_ratio(style["color"], colour),
                       plot.contrast_ratio(style["fillColor"], colour))
            assert best >= 3, (style, colour, best)
    # the grey dots of the old page did not
    assert plot.contrast_ratio("#737373", "#e2191c") < 1.4


def test_agencies_leave_shared_points_for_their_municipality():
    from ringgeo.plot import _mappoints

    frame = gpd.GeoDataFrame({
        "ori": ["CA1", "CA2", "CA3", "IL1", "IL2"], "state": ["CA", "CA", "CA", "IL", "IL"],
        # Lakewood (CA) and Paramount (CA) share a point; a sheriff there keeps it; an
        # Illinois department in Lake Michigan; a partner without an FBI point
        "muni_geoid": ["0639892", "0655618", pd.NA, "1737894", "1737894"],
        "primary_county_fips": ["06037", "06037", "06037", "17111", "17111"],
        "partner": [True, False, False, False, True]},
        geometry=[Point(-118.2, 34.0), Point(-118.2, 34.0), Point(-118.2, 34.0),
                  Point(-87.2, 42.3), None], crs=4326)
    placed = _mappoints.place_agencies(frame).set_index("ori")
    assert placed["placed"].tolist() == ["shared", "shared", "fbi", "outside", "no_point"]
    points = ringgeo.postal.load_internal_points().set_index("geoid")
    assert placed.loc["CA1", "lat"] == points.loc["0639892", "latitude"]
    assert placed.loc["CA3", ["lat", "lon"]].tolist() == [34.0, -118.2]
    assert placed.loc["IL2", "lat"] == placed.loc["IL1", "lat"]  # Island Lake's point


def test_national_points_counts_and_lake_michigan():
    """The real agencies: no Illinois point in the lake, far fewer stacks, every partnership
    of the tables drawn or explained."""
    import shapely

    from ringgeo.plot import _explore, _mappoints

    partners = ringgeo.load_partners()
    marked = ringgeo.agencies.with_partners(partners)
    placed = _mappoints.place_agencies(marked, partners)
    il = ringgeo.geography.load_states().to_crs(4326).set_index("state").loc["IL", "geometry"]
    in_il = placed.loc[(placed["state"] == "IL") & placed["lat"].notna()]
    outside = ~shapely.contains_xy(shapely.buffer(il, 0.02), in_il["lon"], in_il["lat"])
    assert int(outside.sum()) == 0
    drawn = placed.loc[placed["lat"].notna()]
    spot = drawn["lat"].round(4).astype(str) + "," + drawn["lon"].round(4).astype(str)
    shared = spot.map(spot.value_counts()) > 1
    assert int(shared.sum()) < 9676 / 3  # 9,676 shared a point in the FBI list
    table, _ = _explore._agency_points(marked, None, partners)
    note = _explore._count_note(table, marked, partners, None, partners)
    assert f"for the {len(partners):,} partnerships" in note
    named_twice = int(partners["ori"].notna().sum() - partners["ori"].nunique())
    without = int(partners["ori"].isna().sum())
    assert f"{named_twice} partnerships name an agency that another" in note
    assert f"{without} name no agency of the FBI list" in note
    assert "could not be placed" not in note  # every partnership is drawn or explained
    assert int(table["partner"].sum()) == len(partners) - named_twice


def test_popups_say_partner_status_and_population():
    from ringgeo.plot import _mappoints

    # Upper Darby's department polices its township first (2019 terms)
    table = ringgeo.coverage.jurisdictions()
    ori = "PA0233700"
    expected = int(table.loc[table["primary_ori"] == ori, "population"].sum())
    assert expected > 80_000
    assert _mappoints.population_policed([ori, "XX0000000"]) == [expected, None]
    m = plot.explore(agencies=_points(), tiles=None, as_of="2020-01-01", search=False)
    page = m.get_root().render()
    assert '"member":"Ring partner"' in page and '" since "' in page


def test_technology_words_on_the_map():
    frame = _points()
    frame.attrs["technology"] = "drones"
    m = plot.explore(agencies=frame, tiles=None, search=False)
    info = plot.map_info(m)
    assert "Agencies using drones" in info["layers"] and info["title"] == "Agencies using drones"
    assert "Ring" not in "".join(info["layers"])


def test_self_contained_needs_the_npm_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("RINGGEO_WEB_LIBS", raising=False)
    with pytest.raises(ParameterError, match=r"RINGGEO_WEB_LIBS is not set.*npm install"):
        plot.explore(agencies=_points(), tiles=None, self_contained=True, search=False)
    monkeypatch.setenv("RINGGEO_WEB_LIBS", str(tmp_path))
    with pytest.raises(ParameterError, match=r"has no npm package leaflet .*npm install"):
        plot.explore(agencies=_points(), tiles=None, self_contained=True, search=False)
