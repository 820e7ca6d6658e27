"""Map geometry for ringgeo.plot: the US composite and single-state projections.

The national composite is the layout US newsrooms use: the lower 48 states and
DC in an equal-area projection (EPSG:5070, NAD83 Conus Albers), with Alaska,
Hawaii and Puerto Rico each projected in its own equal-area projection, then
scaled and moved beside the lower 48 with fixed affine transforms. All
projection happens before the shift, so the shifted shapes keep the shape of
their own projection. Alaska's Aleutian islands beyond 180 degrees (the
cartographic boundary file stores them at positive longitudes) fall in place
because the Alaska Albers projection (EPSG:3338) measures longitude from its
own central meridian.

The composite coordinates are metres of EPSG:5070 for the lower 48 only; the
insets are moved, so the returned frames carry no CRS.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from .._config import memoized

__all__ = ["CONUS_CRS", "INSETS", "composite", "state_crs"]

#: Projection of the lower 48 states and DC.
CONUS_CRS = "EPSG:5070"

#: Inset states: own equal-area projection, scale factor about that
#: projection's origin, then a shift (metres of the composite).
INSETS = {
    "AK": {"crs": "EPSG:3338", "scale": 0.35, "shift": (-1_560_000.0, 50_000.0)},
    "HI": {
        # ESRI:102007 Hawaii Albers Equal Area Conic
        "crs": "+proj=aea +lat_0=13 +lon_0=-157 +lat_1=8 +lat_2=18 +x_0=0 +y_0=0 "
               "+datum=NAD83 +units=m +no_defs",
        "scale": 1.0,
        "shift": (-720_000.0, -440_000.0),
    },
    "PR": {
        "crs": "+proj=aea +lat_0=18.2 +lon_0=-66.4 +lat_1=18 +lat_2=18.5 +x_0=0 +y_0=0 "
               "+datum=NAD83 +units=m +no_defs",
        "scale": 1.5,
        "shift": (1_920_000.0, 330_000.0),
    },
}


def composite(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``frame`` in the national composite layout.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Geometry with a CRS and a ``state`` column (USPS code). Areas other
        than Alaska, Hawaii and Puerto Rico are projected with the lower 48
        (the Census files used by ringgeo hold no other territory).

    Returns
    -------
    geopandas.GeoDataFrame
        Same rows and columns, in the same order, with composite coordinates
        and no CRS.
    """
    parts = []
    mainland = ~frame["state"].isin(list(INSETS))
    parts.append(frame.loc[mainland].to_crs(CONUS_CRS))
    for usps, spec in INSETS.items():
        rows = frame.loc[frame["state"] == usps]
        if rows.empty:
            continue
        rows = rows.to_crs(spec["crs"])
        moved = (rows.geometry.scale(spec["scale"], spec["scale"], origin=(0.0, 0.0))
                 .translate(*spec["shift"]))
        parts.append(rows.set_geometry(moved))
    out = gpd.GeoDataFrame(
        pd.concat([part.set_crs(None, allow_override=True) for part in parts]),
        geometry=frame.geometry.name,
    )
    return out.loc[frame.index]


def _unwrapped_bounds(geoseries: gpd.GeoSeries) -> tuple[float, float, float, float]:
    """Bounds in degrees, with longitudes east of 0 read as west of -180 (Aleutians)."""
    lon_lat = geoseries.to_crs("EPSG:4269").get_coordinates()
    lon = lon_lat["x"].to_numpy()
    lon = np.where(lon > 0, lon - 360.0, lon)
    lat = lon_lat["y"].to_numpy()
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


@memoized(maxsize=64)
def _crs_for(usps: str, bounds: tuple[float, float, float, float]) -> pyproj.CRS:
    if usps == "AK":
        return pyproj.CRS("EPSG:3338")
    west, south, east, north = bounds
    span = north - south
    lat1, lat2 = south + span / 6.0, north - span / 6.0
    return pyproj.CRS(
        f"+proj=aea +lat_0={(south + north) / 2:.4f} +lon_0={(west + east) / 2:.4f} "
        f"+lat_1={lat1:.4f} +lat_2={lat2:.4f} +x_0=0 +y_0=0 +datum=NAD83 +units=m +no_defs"
    )


def state_crs(usps: str, geoseries: gpd.GeoSeries) -> pyproj.CRS:
    """Return the equal-area projection used to draw one state.

    Alaska uses Alaska Albers (EPSG:3338); every other state an Albers equal-area
    conic centred on the state's bounds, with standard parallels at one sixth
    and five sixths of its north-south extent.

    Parameters
    ----------
    usps : str
        The state's USPS code.
    geoseries : geopandas.GeoSeries
        The state's geometry (any CRS); its bounds set the projection.
    """
    bounds = tuple(round(v, 4) for v in _unwrapped_bounds(geoseries))
    return _crs_for(usps, bounds)
