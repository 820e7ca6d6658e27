/* ringgeo web map: areas, agency points, clusters, search, legend and source line.
   Written by ringgeo.plot.explore into every page (ringgeo/plot/_explore.py); it needs
   Leaflet and leaflet.markercluster, nothing else, and no network but the tiles. */
function ringgeoMap(map, D, O) {
  "use strict";
  var esc = function (s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  };
  var num = function (n) { return Number(n).toLocaleString("en-US"); };
  var overlays = {};
  var ui = {};
  var phone = Math.min(window.innerWidth, window.innerHeight) < 600;
  // the first view (a national map: all 50 states, DC and Puerto Rico), set before any layer
  // is drawn so nothing is drawn twice; on wide screens the open legend's width is left free
  map.fitBounds(O.bounds, phone ? {padding: [4, 4], animate: false} :
    {paddingTopLeft: [4, 4], paddingBottomRight: [300, 4], animate: false});

  // ---------------------------------------------------------------- areas
  if (D.areas) {
    var areaLayer = L.geoJSON(D.areas, {
      style: function (f) {
        var c = f.properties.c;
        return {fillColor: c >= 0 ? O.colours[c] : O.noData, color: "#ffffff", weight: 0.6,
                fillOpacity: ui.areaOpacity || 0.8};
      },
      onEachFeature: function (f, layer) {
        var p = f.properties, rows = ["<b>" + esc(p.n) + "</b>",
          esc(O.metric) + ": " + esc(p.v) + (p.c >= 0 ? " (class " + esc(O.labels[p.c]) + ")" : "")];
        if (p.k !== undefined && p.k !== null)
          rows.push(esc(O.words.members_cap) + ": " + num(p.k));
        if (p.pop !== undefined && p.pop !== null)
          rows.push("Population (2019): " + num(p.pop));
        var text = rows.join("<br>");
        layer.bindTooltip(text, {sticky: true});
        layer.on("mouseover", function () { layer.setStyle({weight: 2, color: "#404040"}); });
        layer.on("mouseout", function () { areaLayer.resetStyle(layer); });
      }
    }).addTo(map);
    overlays[esc(O.metric)] = areaLayer;
    map.on("zoomend", function () {
      var opacity = map.getZoom() >= 9 ? 0.35 : 0.8;
      if (opacity !== ui.areaOpacity) { ui.areaOpacity = opacity; areaLayer.setStyle({fillOpacity: opacity}); }
    });
    ui.areas = areaLayer;
  }

  // ---------------------------------------------------------------- agency points
  var pts = D.points || [], byKey = {}, partnerMarkers = [], others = [];
  map.createPane("rg-others").style.zIndex = 410;
  map.createPane("rg-partners").style.zIndex = 420;
  var otherRenderer = L.canvas({pane: "rg-others", padding: 0.3});
  var partnerRenderer = L.canvas({pane: "rg-partners", padding: 0.3});
  var status = function (a) {
    if (!a.partner) return "not " + (/^[aeiou]/i.test(O.words.member) ? "an " : "a ") + O.words.member;
    if (O.words.dated === false)  // the Atlas dates only Ring's partnerships
      return "listed as " + (/^[aeiou]/i.test(O.words.member) ? "an " : "a ") + O.words.member +
        " (Atlas of Surveillance, " + O.asOf + ")";
    return O.words.member + " since " + (a.date || "an unknown date (before " + O.asOf + ")");
  };
  var agency = function (row, i) {
    var muni = D.munis[row[6]], where = D.counties[row[7]];
    return {i: i, lat: row[0] / 1e4, lon: row[1] / 1e4, name: row[2] + D.suffixes[row[3]],
            ori: row[4], type: D.types[row[5]], muni: muni, state: where.slice(-2),
            place: muni ? muni + ", " + where : where, pop: row[8],
            placed: D.placed[row[9]], partner: row.length > 10, date: row[10] || "",
            ids: row[11] || ""};
  };
  var popup = function (a) {
    var rows = ["<b>" + esc(a.name) + "</b>",
      '<span class="rg-status' + (a.partner ? " rg-yes" : "") + '">' + esc(status(a)) + "</span>",
      "Residents it polices first: " + (a.pop >= 0 ? num(a.pop) + " (2019)" :
        "none (it is no town's or county's first police)"),
      "Type: " + esc(a.type), "Place: " + esc(a.place),
      "ORI: " + esc(a.ori || "none (not in the FBI list)")];
    if (a.partner) rows.push("Partner id: " + esc(a.ids));
    rows.push('<span class="rg-small">Point: ' + esc(a.placed) + "</span>");
    return rows.join("<br>");
  };
  var agencies = [];
  for (var i = 0; i < pts.length; i++) {
    var a = agency(pts[i], i);
    agencies.push(a);
    if (a.partner) {
      var mk = L.circleMarker([a.lat, a.lon], L.extend({renderer: partnerRenderer,
        pane: "rg-partners"}, O.partnerStyle));
      mk.bindTooltip(esc(a.name) + " — " + esc(status(a)));
      mk.bindPopup(popup.bind(null, a), {maxWidth: 280});
      mk.rgAgency = a;
      a.marker = mk;
      partnerMarkers.push(mk);
    } else {
      var key = pts[i][0] + "," + pts[i][1];
      (byKey[key] = byKey[key] || []).push(a);
    }
  }
  // the never-partnered agencies are drawn from a zoom on: their markers are made then
  var otherLayer = L.layerGroup(), othersMade = false;
  var makeOthers = function () {
    if (othersMade) return;
    othersMade = true;
    Object.keys(byKey).forEach(function (key) {
      var list = byKey[key], first = list[0];
      var mk = L.circleMarker([first.lat, first.lon], L.extend({renderer: otherRenderer,
        pane: "rg-others"}, O.otherStyle));
      if (list.length === 1) {
        mk.bindTooltip(function () { return esc(first.name) + " — " + esc(status(first)); });
        mk.bindPopup(function () { return popup(first); }, {maxWidth: 280});
      } else {
        mk.bindTooltip(function () {
          return list.length + " agencies here, " + esc(status(first).replace(/^not /, "none ")) + ": "
            + esc(list.slice(0, 3).map(function (x) { return x.name; }).join("; "))
            + (list.length > 3 ? "; …" : "");
        });
        mk.bindPopup(function () {
          return '<div class="rg-list">' + list.map(popup).join("<hr>") + "</div>";
        }, {maxWidth: 300, maxHeight: 260});
      }
      list.forEach(function (x) { x.marker = mk; });
      otherLayer.addLayer(mk);
    });
  };
  var clusters = L.markerClusterGroup({
    maxClusterRadius: function (z) { return z < 6 ? 36 : z < 9 ? 24 : 12; },
    spiderfyOnMaxZoom: true, showCoverageOnHover: false, chunkedLoading: true,
    spiderLegPolylineOptions: {weight: 1.5, color: "#222", opacity: 0.8},
    iconCreateFunction: function (cluster) {
      var n = cluster.getChildCount(), size = n < 10 ? 26 : n < 100 ? 32 : 38;
      return L.divIcon({html: "<span>" + n + "</span>", className: "rg-cluster",
                        iconSize: L.point(size, size)});
    }
  });
  clusters.addLayers(partnerMarkers);
  if (pts.length) {
    overlays[O.words.partnersLayer] = clusters.addTo(map);
    overlays[O.words.othersLayer] = otherLayer;
    var showOthers = function () {
      var want = map.getZoom() >= O.othersMinZoom && ui.othersOn;
      if (want && !map.hasLayer(otherLayer)) { makeOthers(); otherLayer.addTo(map); }
      if (!want && map.hasLayer(otherLayer)) map.removeLayer(otherLayer);
    };
    ui.othersOn = true;
    map.on("overlayadd", function (e) {
      if (e.layer === otherLayer) { ui.othersOn = true; ui.switching = true; showOthers(); ui.switching = false; }
    });
    map.on("overlayremove", function (e) { if (e.layer === otherLayer && !ui.switching) ui.othersOn = false; });
    map.on("zoomend", function () { ui.switching = true; showOthers(); ui.switching = false; });
    showOthers();
  }
  ui.clusters = clusters;
  ui.agencies = agencies;
  ui.others = otherLayer;
  ui.makeOthers = makeOthers;

  // ---------------------------------------------------------------- controls
  var Box = L.Control.extend({
    initialize: function (html, cls, opts) { this._html = html; this._cls = cls; L.setOptions(this, opts); },
    onAdd: function () {
      var div = L.DomUtil.create("div", "rg-box " + this._cls);
      div.innerHTML = this._html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    }
  });
  map.zoomControl.remove();
  new Box('<h1 class="rg-title">' + esc(O.title) + "</h1>", "rg-title-box",
          {position: "topleft"}).addTo(map);
  L.control.zoom({position: "topleft"}).addTo(map);
  ui.layers = L.control.layers(null, overlays, {collapsed: true, position: "topright"}).addTo(map);
  L.control.scale({position: "bottomleft", maxWidth: phone ? 80 : 120}).addTo(map);

  // search: agencies, towns, regions and ZIP codes, from data inside the page
  var search = new Box('<label class="rg-sr" for="rg-q">Search</label>'
    + '<input id="rg-q" type="search" autocomplete="off" placeholder="Agency, town, county or ZIP code" aria-label="Search agencies, towns, counties, states and ZIP codes">'
    + '<ul id="rg-hits" role="listbox"></ul>', "rg-search", {position: "topleft"}).addTo(map);
  var fold = function (s) { return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); };
  var zips = null, towns = null;
  var loadIndex = function () {
    if (zips) return;
    zips = {};
    var z = 0, lat = 0, lon = 0;
    (D.zips ? D.zips.split(";") : []).forEach(function (part) {
      var f = part.split(",");
      z += +f[0]; lat += +f[1]; lon += +f[2];
      zips[String(z).padStart(5, "0")] = [lat / 100, lon / 100];
    });
    towns = {};
    agencies.forEach(function (a) {
      if (!a.muni) return;
      var k = a.muni + ", " + a.state;
      if (!towns[k]) towns[k] = a;
    });
    ui.names = agencies.map(function (a) { return fold(a.name + " " + a.place); });
  };
  var hits = [], input = document.getElementById("rg-q"), list = document.getElementById("rg-hits");
  var go = function (h) {
    list.innerHTML = "";
    input.value = h.label;
    if (h.bounds) { map.fitBounds(h.bounds); return; }
    if (h.agency && h.agency.partner) {
      clusters.zoomToShowLayer(h.agency.marker, function () { h.agency.marker.openPopup(); });
      return;
    }
    map.setView([h.lat, h.lon], h.agency ? Math.max(h.zoom, O.othersMinZoom) : h.zoom);
    L.popup({maxWidth: 280}).setLatLng([h.lat, h.lon])
      .setContent(h.agency ? popup(h.agency) : esc(h.label)).openOn(map);
  };
  var find = function (q) {
    loadIndex();
    var out = [], fq = fold(q.trim());
    if (!fq) return out;
    var digits = fq.match(/^\d{5}$/);
    if (digits && zips[fq]) {
      var zz = zips[fq];
      out.push({label: "ZIP code " + fq, lat: zz[0], lon: zz[1], zoom: 12});
    }
    D.regions.forEach(function (r) {
      if (out.length < 8 && fold(r[0]).indexOf(fq) === 0)
        out.push({label: r[0], bounds: [[r[1], r[2]], [r[3], r[4]]]});
    });
    Object.keys(towns).forEach(function (k) {
      if (out.length < 8 && fold(k).indexOf(fq) === 0) {
        var a = towns[k]; out.push({label: k, lat: a.lat, lon: a.lon, zoom: 12});
      }
    });
    for (var i = 0; i < agencies.length && out.length < 12; i++) {
      if (ui.names[i].indexOf(fq) >= 0) {
        var a = agencies[i];
        out.push({label: a.name + " (" + a.state + ")", lat: a.lat, lon: a.lon,
                  zoom: 13, agency: a});
      }
    }
    return out;
  };
  var show = function () {
    hits = find(input.value);
    list.innerHTML = hits.map(function (h, k) {
      return '<li role="option" tabindex="-1" data-k="' + k + '">' + esc(h.label) + "</li>";
    }).join("") || (input.value.trim() ? "<li class=\"rg-none\">No match</li>" : "");
  };
  input.addEventListener("input", show);
  // typing is for the box: "+", "-" and the arrows must not zoom or pan the map
  L.DomEvent.on(input, "keydown keyup keypress", L.DomEvent.stopPropagation);
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && hits.length) { e.preventDefault(); go(hits[0]); }
    if (e.key === "Escape") list.innerHTML = "";
  });
  list.addEventListener("click", function (e) {
    // the list is emptied below: the map must not take the click for one of its own
    e.stopPropagation();
    var li = e.target.closest("li[data-k]"); if (li) go(hits[+li.getAttribute("data-k")]);
  });
  ui.find = find; ui.go = go;

  // legend (collapsible) and source line (compact, expands)
  var legend = new Box(O.legendHtml, "rg-legend", {position: "bottomright"}).addTo(map);
  var details = legend.getContainer().querySelector("details");
  if (details && !phone) details.open = true;
  var source = new Box(O.sourceHtml, "rg-source", {position: "bottomleft"}).addTo(map);
  var panels = [details, source.getContainer().querySelector("details")];
  panels.forEach(function (panel, k) {
    if (!panel) return;
    panel.addEventListener("toggle", function () {  // on a phone one panel at a time
      var other = panels[1 - k];
      if (panel.open && other && other.open && Math.min(window.innerWidth, window.innerHeight) < 600)
        other.open = false;
    });
  });

  window.ringgeo = ui;
  var ready = function () {
    window.ringgeoReady = performance.now();
    document.dispatchEvent(new CustomEvent("ringgeo:ready", {detail: window.ringgeoReady}));
  };
  if (window.requestAnimationFrame) requestAnimationFrame(function () { setTimeout(ready, 0); });
  else ready();
  return ui;
}
