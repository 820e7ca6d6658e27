"""Where the web map draws each agency, and what its popup says.

The FBI's agency list gives one point per agency, but 9,676 of its 18,146 points
share their spot with another agency (the FBI often geocoded an agency to its
county's centre: up to 79 agencies on one spot), and a few lie outside their
state (seven Illinois agencies in Lake Michigan). :func:`place_agencies` moves a
local department to the Census Gazetteer's internal point of the municipality
it serves (:func:`ringgeo.postal.load_internal_points`) when its FBI point is
shared, outside its state or at its county's centre, and places the partner
agencies that have no FBI point at all the same way. :func:`point_table` is
what each point's tooltip and popup say: partner status in words, the residents
the agency polices first (the rules of :func:`ringgeo.coverage.jurisdictions`,
the lower bound of the tables), type, place, ORI and partner ids.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import data, geography, postal, tablecache
from .._config import memoized
from .._frames import without_attrs
from ..agencies import with_partners
from ..coverage import contract_units, jurisdictions
from ..coverage._inputs import stored_for

__all__ = ["place_agencies", "population_policed", "PLACEMENTS", "COUNTY_CENTRE_KM"]

#: How each point was placed (the ``placed`` column of :func:`place_agencies`).
PLACEMENTS = {
    "fbi": "the FBI's point",
    "shared": "the municipality's internal point (the FBI's point is shared with other "
              "agencies)",
    "county_centre": "the municipality's internal point (the FBI's point is its county's "
                     "centre)",
    "outside": "the municipality's internal point (the FBI's point is outside the state)",
    "no_point": "the municipality's internal point (the FBI list has no point)",
    "county": "the county's internal point (the FBI list has no point)",
}
#: An FBI point this close to its county's centre (km) is taken for a county centre.
COUNTY_CENTRE_KM = 2.0


@memoized(maxsize=1)
def _state_shapes():
    import shapely

    states = geography.load_states()[["state", "geometry"]].to_crs(4326)
    # the 1:20,000,000 coastline is coarse: a point within about 2 km of it is inside
    shapes = shapely.buffer(states.geometry.array, 0.02)
    return dict(zip(states["state"], shapes))


@memoized(maxsize=1)
def _county_points() -> pd.DataFrame:
    counties = geography.load_counties()[["GEOID", "geometry"]].to_crs(4326)
    centre = counties.geometry.representative_point()
    albers = counties.to_crs(5070).geometry.centroid.to_crs(4326)
    return pd.DataFrame({"lat": centre.y.to_numpy(), "lon": centre.x.to_numpy(),
                         "centroid_lat": albers.y.to_numpy(),
                         "centroid_lon": albers.x.to_numpy()},
                        index=counties["GEOID"].to_numpy())


def _km(lat1, lon1, lat2, lon2):
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=float))
                              for v in (lat1, lon1, lat2, lon2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 6371.0 * 2 * np.arcsin(np.sqrt(a))


def place_agencies(agencies, partners=None) -> pd.DataFrame:
    """Return each agency's point on the web map, and how it was placed.

    Parameters
    ----------
    agencies : geopandas.GeoDataFrame
        The agency universe marked with partners
        (:func:`ringgeo.agencies.with_partners`).
    partners : pandas.DataFrame, optional
        The linked partner table the marks came from: its partnerships that name no
        FBI agency are added as points of their own (``ori`` NA), at their
        municipality's or county's internal point.

    Returns
    -------
    pandas.DataFrame
        The agencies (without ``geometry``) plus ``lat``, ``lon`` (degrees; NaN when
        the agency cannot be placed) and ``placed`` (a key of :data:`PLACEMENTS`,
        NA when not placed). A local department (a ``muni_geoid``) is moved to its
        municipality's internal point when its FBI point is shared with another
        agency, lies outside its state, or lies within :data:`COUNTY_CENTRE_KM` of
        its county's centre; a partner without an FBI point is placed at its
        municipality's (else its county's, from the FBI list or the partnership)
        internal point.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> frame = gpd.GeoDataFrame({"ori": ["A", "B"], "state": ["CA", "CA"],
    ...     "muni_geoid": ["0639892", pd.NA], "primary_county_fips": ["06037", "06037"],
    ...     "partner": [True, False]},
    ...     geometry=[Point(-118.2, 34.0), Point(-118.2, 34.0)], crs=4326)
    >>> placed = place_agencies(frame)
    >>> placed["placed"].tolist()  # Lakewood's department leaves the shared spot
    ['shared', 'fbi']
    >>> round(float(placed["lat"].iloc[0]), 2)
    33.85
    """
    import shapely

    frame = without_attrs(agencies)
    original = frame.index
    frame = frame.reset_index(drop=True)  # positions: the agencies' index may repeat
    geometry = frame.geometry
    located = geometry.notna() & ~geometry.is_empty
    out = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    out["lat"] = np.where(located, geometry.y.where(located), np.nan)
    out["lon"] = np.where(located, geometry.x.where(located), np.nan)
    out["placed"] = pd.Series(np.where(located, "fbi", None), index=out.index, dtype="string")

    key = out["lat"].round(4).astype(str) + "," + out["lon"].round(4).astype(str)
    shared = located & key.map(key.loc[located].value_counts()).gt(1)
    shapes = _state_shapes()
    inside = np.ones(len(out), dtype=bool)
    for usps, rows in out.loc[located].groupby("state").groups.items():
        shape = shapes.get(usps)
        if shape is None:  # a territory without boundaries: keep the FBI's point
            continue
        pos = out.index.get_indexer(rows)
        inside[pos] = shapely.contains_xy(shape, out["lon"].to_numpy()[pos],
                                          out["lat"].to_numpy()[pos])
    counties = _county_points()
    county = out.get("primary_county_fips", pd.Series(pd.NA, index=out.index)).astype(object)
    if partners is not None and "primary_county_fips" in partners.columns:
        # an agency the FBI list gives no county (a regional authority): its partnership's
        p = without_attrs(partners)
        named = p.loc[p["ori"].notna() & p["primary_county_fips"].notna()]
        by_ori = dict(zip(named["ori"], named["primary_county_fips"]))
        county = county.where(county.notna(), out["ori"].map(by_ori))
    known = county.isin(counties.index).to_numpy()
    centre = np.zeros(len(out), dtype=bool)
    c = counties.reindex(county.where(known).astype(object))
    dist = _km(out["lat"], out["lon"], c["centroid_lat"], c["centroid_lon"])
    centre[known] = (dist[known] <= COUNTY_CENTRE_KM)

    points = postal.load_internal_points().drop_duplicates("geoid").set_index("geoid")
    muni = out.get("muni_geoid", pd.Series(pd.NA, index=out.index)).astype("string")
    has_point = muni.isin(points.index).to_numpy()
    mp = points.reindex(muni.where(has_point).astype(object))
    reasons = (("outside", located & ~inside), ("shared", shared),
               ("county_centre", pd.Series(centre, index=out.index) & located))
    moved = np.zeros(len(out), dtype=bool)
    for reason, mask in reasons:
        take = np.asarray(mask, dtype=bool) & has_point & ~moved
        out.loc[take, "placed"] = reason
        moved |= take
    partner = out.get("partner", pd.Series(False, index=out.index)).astype(bool).to_numpy()
    unplaced = ~located.to_numpy() & partner
    take = unplaced & has_point
    out.loc[take, "placed"] = "no_point"
    moved |= take
    out.loc[moved, "lat"] = mp["latitude"].to_numpy()[moved]
    out.loc[moved, "lon"] = mp["longitude"].to_numpy()[moved]
    take = unplaced & ~has_point & known
    out.loc[take, "placed"] = "county"
    out.loc[take, "lat"] = c["lat"].to_numpy()[take]
    out.loc[take, "lon"] = c["lon"].to_numpy()[take]
    out.index = original
    if partners is not None:
        out = pd.concat([out, _unmatched(partners, points, counties)], ignore_index=True)
    return out


def _unmatched(partners, points, counties) -> pd.DataFrame:
    """Return the partnerships that name no FBI agency, as points of their own."""
    p = without_attrs(partners)
    p = p.loc[p["ori"].isna()]
    rows = []
    for r in p.itertuples(index=False):
        muni = getattr(r, "muni_geoid", pd.NA)
        county = getattr(r, "primary_county_fips", pd.NA)
        if isinstance(muni, str) and muni in points.index:
            lat, lon = points.loc[muni, ["latitude", "longitude"]]
            placed = "no_point"
        elif isinstance(county, str) and county in counties.index:
            lat, lon = counties.loc[county, ["lat", "lon"]]
            placed = "county"
        else:
            lat, lon, placed = np.nan, np.nan, pd.NA
        rows.append({"ori": pd.NA, "agency": r.agency, "agency_type": r.agency_type,
                     "state": r.state, "county_raw": "; ".join(getattr(r, "county_names", [])
                                                               or []),
                     "muni_geoid": muni, "muni_name": getattr(r, "muni_name", pd.NA),
                     "partner": True, "partner_id": r.partner_id, "activated": r.activated,
                     "lat": float(lat), "lon": float(lon), "placed": placed})
    out = pd.DataFrame(rows, columns=["ori", "agency", "agency_type", "state", "county_raw",
                                      "muni_geoid", "muni_name", "partner", "partner_id",
                                      "activated", "lat", "lon", "placed"])
    out["placed"] = out["placed"].astype("string")
    return out


#: The columns of :func:`placed_agencies`: what the web map's points and popups read.
POINT_COLUMNS = ["ori", "agency", "agency_type", "state", "county_raw", "muni_name",
                 "partner", "partner_id", "activated", "lat", "lon", "placed"]


def placed_agencies(partners) -> pd.DataFrame:
    """Return :func:`place_agencies` of every FBI agency marked with ``partners``.

    ``place_agencies(with_partners(partners), partners)[POINT_COLUMNS]``, stored in
    the parsed-data cache for a loader's table (one carrying its quality report),
    keyed on its content: placing 18,000 agencies takes 0.3 s, reading them back
    0.02 s. The web map's default agencies (``explore(agencies=True)``).
    """
    def build():
        placed = place_agencies(with_partners(partners), partners)
        placed = placed[[c for c in POINT_COLUMNS if c in placed.columns]]
        # text or missing (a partnership that names no FBI agency): as the cache stores it
        return placed.astype({"ori": "string"})

    return stored_for(partners, "agency_points", {}, build)


@memoized(maxsize=1)
def _policed() -> pd.Series:
    def build():  # a table, as the parsed-data cache stores them
        table = jurisdictions()
        policed = table.groupby("primary_ori")["population"].sum().astype("int64")
        return policed.rename_axis("ori").reset_index()

    # stored beside the tables it is computed from (0.3 s; a read takes 0.01 s)
    table = tablecache.cached("population_policed", {}, build, sources=list(data.registry()))
    return table.set_index("ori")["population"].rename_axis("primary_ori")


def population_policed(oris) -> list:
    """Return the residents each agency polices first (July 1, 2019), or None.

    The pieces of every county whose first police is the agency, by the rules of
    :func:`ringgeo.coverage.jurisdictions` (the lower bound of the covered
    population in the coverage tables): a city's department its city, a sheriff the
    unincorporated part of the county and the towns without police of their own, a
    contracting sheriff its contract cities. Agencies that police no residents first
    (state police posts, universities, special agencies) get None.

    Examples
    --------
    >>> population_policed(["CA0193500", "XX0000000"])  # a contract unit; unknown
    [None, None]
    """
    counts = _policed()
    out = []
    for ori in oris:
        value = counts.get(ori) if isinstance(ori, str) else None
        out.append(None if value is None or value <= 0 else int(value))
    return out


def contract_names() -> dict:
    """Return, by the ORI of an FBI contract unit, the agency that polices it under contract."""
    return contract_units()["agency_name"].to_dict()
