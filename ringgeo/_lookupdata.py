"""The tables behind :func:`ringgeo.lookup`, built once per set of registry files (private).

Each table is cached on the paths of the files it is built from
(:func:`source_paths`), so a warm lookup only indexes: the FBI agencies with
their Ring partnership on each ``as_of`` date (:func:`context`), GeoNames' ZIP
codes by code and by post-office town (:func:`zip_index`), the Census state and
county boundaries (:func:`boundaries`), the coextensive municipalities
(:func:`coextensive`) and each municipality's primary police
(:func:`primary_index`); and distances: :func:`haversine_km` (the prefilter)
and :func:`geodesic_km` (``pyproj.Geod`` on the WGS84 ellipsoid).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Mean Earth radius (km) of the haversine prefilter.
EARTH_KM = 6371.0088


@dataclass
class Context:
    agencies: pd.DataFrame  # with partner (on as_of), partner_id, activated (snapshot)
    partner_rows: np.ndarray  # positions of partner agencies with a point
    lat: np.ndarray
    lon: np.ndarray
    unplaced: int  # partners on as_of without an agency point
    by_county: dict  # county GEOID -> row positions of the agencies that lie in it

    def in_counties(self, counties) -> np.ndarray:
        """Boolean mask of the agencies lying in any of ``counties``."""
        mask = np.zeros(len(self.agencies), dtype=bool)
        for county in counties:
            mask[self.by_county.get(county, [])] = True
        return mask


@functools.lru_cache(maxsize=2)
def bare_agencies(paths: tuple) -> pd.DataFrame:
    from . import load_agencies

    agencies = load_agencies()
    agencies.attrs = {}  # pandas deep-copies attrs on every access: the report is big
    return agencies


@functools.lru_cache(maxsize=8)
def marks_on(as_of: str | None, paths: tuple) -> pd.DataFrame:
    """``partner``, ``partner_id``, ``activated`` of every agency on ``as_of``."""
    from . import load_partners
    from .agencies import with_partners

    with warnings.catch_warnings():  # the undated partners: said in the answer's status
        warnings.simplefilter("ignore", UserWarning)
        partners = load_partners(as_of=as_of)
    partners.attrs = {"as_of": partners.attrs.get("as_of")}
    marked = with_partners(partners, bare_agencies(paths))
    return pd.DataFrame({c: marked[c].to_numpy() for c in ("partner", "partner_id",
                                                           "activated")})


@functools.lru_cache(maxsize=8)
def context(as_of: str | None, paths: tuple) -> Context:
    snapshot, now = marks_on(None, paths), marks_on(as_of, paths)
    frame = pd.DataFrame(bare_agencies(paths).drop(columns="geometry"))
    frame = frame.reset_index(drop=True)
    frame.attrs = {}
    frame["partner"] = now["partner"].to_numpy()
    frame["partner_snapshot"] = snapshot["partner"].to_numpy()
    frame["partner_id"] = snapshot["partner_id"].to_numpy()
    frame["activated"] = snapshot["activated"].to_numpy()
    placed = frame["partner"] & frame["latitude"].notna() & frame["longitude"].notna()
    rows = np.flatnonzero(placed.to_numpy())
    by_county: dict = {}
    for position, counties in enumerate(frame["county_fips"]):
        for county in counties:
            by_county.setdefault(county, []).append(position)
    return Context(frame, rows, np.radians(frame["latitude"].to_numpy()[rows]),
                    np.radians(frame["longitude"].to_numpy()[rows]),
                    int((frame["partner"] & ~placed).sum()), by_county)


def source_paths() -> tuple:
    from . import data
    from .geography import source_paths

    return (str(data.fetch("fbi-agencies-2018.csv")),
            str(data.fetch("atlas-of-surveillance-20201007.csv"))) + source_paths()


@functools.lru_cache(maxsize=2)
def coextensive(paths: tuple) -> dict:
    from .geography import load_municipalities

    munis = load_municipalities()
    return dict(zip(munis["GEOID"], munis["coextensive_geoid"]))


@functools.lru_cache(maxsize=2)
def zip_index(paths: tuple) -> tuple:
    from ._names import fold
    from .postal import load_postal_codes

    zips = load_postal_codes()
    zips.attrs = {}  # pandas deep-copies attrs on every access
    # one row per ZIP code: a code GeoNames also lists as FPO keeps its town
    zips = zips.sort_values(["zip", "state"], na_position="last", kind="stable")
    by_zip = zips.drop_duplicates("zip").set_index("zip")
    towns = {}
    for code, place, state in zip(zips["zip"], zips["place"], zips["state"]):
        if not pd.isna(place) and not pd.isna(state):
            towns.setdefault((str(state), fold(place)), []).append(code)
    return by_zip, towns, zips


def primary_pieces() -> pd.DataFrame:
    """:func:`ringgeo.coverage.primary_police` without partners (44,713 pieces), cached.

    Read from the parsed-data cache after the first build (:mod:`ringgeo.tablecache`).
    """
    from . import tablecache
    from .coverage import primary_police
    from .geography import SOURCE_FILES

    return tablecache.cached("primary_police", {}, primary_police,
                             sources=(*SOURCE_FILES, "fbi-agencies-2018.csv"))


@functools.lru_cache(maxsize=2)
def primary_index(paths: tuple) -> dict:
    """Municipality GEOID -> ``[(primary kind, agency, ORI, residents)]``, largest first.

    From :func:`ringgeo.coverage.primary_police` (who polices each piece of a
    county first, ``docs/methodology.md#primary-police``), grouped by the
    place or minor civil division the pieces lie in.
    """
    table = primary_pieces()
    out: dict = {}
    for column in ("place", "mcd"):
        rows = table.loc[table[column] != ""]
        grouped = rows.groupby([column, "primary", "primary_agency", "primary_ori"],
                               dropna=False)["population"].sum()
        for (geoid, kind, agency, ori), people in grouped.items():
            out.setdefault(geoid, []).append(
                (kind, None if pd.isna(agency) else agency, None if pd.isna(ori) else ori,
                 int(people)))
    return {g: sorted(v, key=lambda r: (-r[3], r[0])) for g, v in out.items()}


@functools.lru_cache(maxsize=2)
def boundaries(paths: tuple) -> tuple:
    from .geography import load_counties, load_states

    states, counties = load_states(), load_counties()
    states.attrs, counties.attrs = {}, {}
    return states, counties


# ---------------------------------------------------------------------- geometry helpers


def haversine_km(lat, lon, lats, lons) -> np.ndarray:
    """Great-circle km from one point (radians) to many (radians): the prefilter."""
    a = (np.sin((lats - lat) / 2) ** 2
         + np.cos(lat) * np.cos(lats) * np.sin((lons - lon) / 2) ** 2)
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def geodesic_km(lat: float, lon: float, lats, lons) -> np.ndarray:
    """Geodesic km on the WGS84 ellipsoid (pyproj.Geod) from one point to many."""
    from pyproj import Geod

    lats = np.asarray(lats, dtype=float)
    lons = np.asarray(lons, dtype=float)
    out = np.full(len(lats), np.nan)
    ok = ~(np.isnan(lats) | np.isnan(lons))
    if ok.any():
        _, _, metres = Geod(ellps="WGS84").inv(np.full(ok.sum(), lon), np.full(ok.sum(), lat),
                                               lons[ok], lats[ok])
        out[ok] = np.asarray(metres) / 1000.0
    return out


def county_label(geo, geoid: str) -> str:
    county = geo.counties.get(geoid)
    return f"{county.full_name} ({geoid})" if county else geoid
