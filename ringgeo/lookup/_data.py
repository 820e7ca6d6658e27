"""The tables behind :func:`ringgeo.lookup`, built once per set of registry files (private).

Each table is cached on the paths of the files it is built from
(:func:`source_paths`) and built when a query first needs it: the FBI agencies
with their Ring partnership on each ``as_of`` date (:func:`context`, from
:func:`agency_marks`), GeoNames' ZIP codes by code (:func:`zip_codes`) and one
state's post-office towns (:func:`post_office_towns`), the Census state and
county boundaries (:func:`boundaries`), the coextensive municipalities
(:func:`coextensive`) and each municipality's primary police
(:func:`primary_police_of`); and distances: :func:`haversine_km` (the prefilter)
and :func:`geodesic_km` (``pyproj.Geod`` on the WGS84 ellipsoid). The
partnerships and the primary police are stored in the parsed-data cache
(:mod:`ringgeo.tablecache`), as are the municipality names of :mod:`ringgeo._linkgeo`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import data, geography, tablecache
from .._config import memoized
from .._frames import without_attrs
from .._names import fold
from .._policing import read_aliases
from ..agencies import load_agencies, with_partners
from ..atlas import load_atlas
from ..coverage import primary_police
from ..geography import SOURCE_FILES, load_counties, load_municipalities, load_states
from ..partners import load_partners
from ..postal import load_postal_codes

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
    shared_point: np.ndarray  # per agency: how many other agencies have the same FBI point

    def in_counties(self, counties) -> np.ndarray:
        """Boolean mask of the agencies lying in any of ``counties``."""
        mask = np.zeros(len(self.agencies), dtype=bool)
        for county in counties:
            mask[self.by_county.get(county, [])] = True
        return mask


@memoized(maxsize=2)
def bare_agencies(paths: tuple) -> pd.DataFrame:
    """Return the FBI agencies without geometry or ``attrs``, numbered from 0.

    The frame is not to be changed.
    """
    # without the quality report, which pandas would deep-copy on every access
    return pd.DataFrame(without_attrs(load_agencies()).drop(columns="geometry")).reset_index(
        drop=True)


@memoized(maxsize=8)
def marks_on(as_of: str | None, paths: tuple, technology: str = "ring") -> pd.DataFrame:
    """:func:`agency_marks`, once per process (not to be changed)."""
    return agency_marks(as_of, paths, technology)


def agency_marks(as_of: str | None, paths: tuple, technology: str = "ring") -> pd.DataFrame:
    """``partner``, ``partner_id``, ``activated`` of every agency on ``as_of``, cached.

    One row per row of :func:`bare_agencies` (:func:`ringgeo.agencies.with_partners`
    of the partners on ``as_of``). Read from the parsed-data cache after the
    first build: a lookup then reads three columns, not the partner table.
    ``technology`` other than ``"ring"``: the agencies the Atlas lists with it
    (:func:`ringgeo.load_atlas`) are the "partners".
    """
    def build():
        with warnings.catch_warnings():  # the undated partners: said in the answer's status
            warnings.simplefilter("ignore", UserWarning)
            partners = (load_partners(as_of=as_of) if technology == "ring"
                        else load_atlas(technology, as_of=as_of))
        partners.attrs = {"as_of": partners.attrs.get("as_of")}
        # the marks depend on the ORI alone: mark the ORI column, not a copy of every column
        marked = with_partners(partners, bare_agencies(paths)[["ori"]])
        return pd.DataFrame({c: marked[c].to_numpy() for c in ("partner", "partner_id",
                                                               "activated")})

    # linked partners and the agencies: key on every registry file, as load_partners does
    key = {"as_of": as_of} if technology == "ring" else {"as_of": as_of,
                                                         "technology": technology}
    return tablecache.cached("agency_marks", key, build, sources=list(data.registry()))


@memoized(maxsize=2)
def agencies_by_county(paths: tuple) -> dict:
    """County GEOID -> row positions of the agencies that lie in it (in row order)."""
    by_county: dict = {}
    for position, counties in enumerate(bare_agencies(paths)["county_fips"].tolist()):
        for county in counties:
            by_county.setdefault(county, []).append(position)
    return by_county


@memoized(maxsize=8)
def context(as_of: str | None, paths: tuple, technology: str = "ring") -> Context:
    snapshot = marks_on(None, paths, technology)
    now = marks_on(as_of, paths, technology)
    frame = bare_agencies(paths).copy()
    frame["partner"] = now["partner"].to_numpy()
    frame["partner_snapshot"] = snapshot["partner"].to_numpy()
    frame["partner_id"] = snapshot["partner_id"].to_numpy()
    frame["activated"] = snapshot["activated"].to_numpy()
    placed = frame["partner"] & frame["latitude"].notna() & frame["longitude"].notna()
    rows = np.flatnonzero(placed.to_numpy())
    return Context(frame, rows, np.radians(frame["latitude"].to_numpy()[rows]),
                    np.radians(frame["longitude"].to_numpy()[rows]),
                    int((frame["partner"] & ~placed).sum()), agencies_by_county(paths),
                    shared_points(paths))


@memoized(maxsize=2)
def alias_index(paths: tuple) -> dict:
    """Return ``(state, folded name) -> ORIs`` of the names readers use for agencies.

    The curated aliases (:func:`ringgeo._policing.read_aliases`: consolidated
    city-county agencies, successors, common names) and the Atlas names of the
    partners matched to an FBI agency ("Jacksonville Sheriff's Office" is the FBI's
    "Jacksonville Police Department").
    """
    index: dict = {}
    for alias, state, ori in zip(*(read_aliases()[c] for c in ("alias", "state", "ori"))):
        index.setdefault((state, fold(alias)), set()).add(ori)
    with warnings.catch_warnings():  # the data's warnings are the partner notebooks' to show
        warnings.simplefilter("ignore", UserWarning)
        partners = without_attrs(load_partners())
    for name, state, ori in zip(partners["agency"], partners["state"], partners["ori"]):
        if isinstance(ori, str) and isinstance(name, str):
            index.setdefault((state, fold(name)), set()).add(ori)
    return index


@memoized(maxsize=2)
def shared_points(paths: tuple) -> np.ndarray:
    """Return, per agency, how many other agencies the FBI places at exactly its point."""
    frame = bare_agencies(paths)
    size = frame.groupby(["latitude", "longitude"], dropna=False)["ori"].transform("size")
    located = frame["latitude"].notna() & frame["longitude"].notna()
    return np.where(located, size.to_numpy() - 1, 0).astype("int64")


def source_paths() -> tuple:
    return (str(data.fetch("fbi-agencies-2018.csv")),
            str(data.fetch("atlas-of-surveillance-20201007.csv"))) + geography.source_paths()


@memoized(maxsize=2)
def coextensive(paths: tuple) -> dict:
    munis = load_municipalities()
    return dict(zip(munis["GEOID"].tolist(), munis["coextensive_geoid"].tolist()))


@memoized(maxsize=2)
def _postal(paths: tuple) -> pd.DataFrame:
    zips = load_postal_codes()
    zips.attrs = {}  # pandas deep-copies attrs on every access
    return zips


def _in_code_order(zips: pd.DataFrame) -> pd.DataFrame:
    # by code; a code GeoNames also lists as FPO (no state) after its town
    return zips.sort_values(["zip", "state"], na_position="last", kind="stable")


@memoized(maxsize=2)
def zip_codes(paths: tuple) -> pd.DataFrame:
    """GeoNames' postal codes, one row per ZIP code, indexed by the code (not to be changed).

    A code listed twice (a town and an FPO) keeps its first row in code order
    (:func:`_in_code_order`): its town. Only those few rows are sorted; the
    others keep the file's order (the table is read by code, never in order).
    """
    zips = _postal(paths)
    twice = zips["zip"].duplicated(keep=False).to_numpy()
    keep = ~twice
    if twice.any():
        rows = np.flatnonzero(twice)
        first = _in_code_order(zips.iloc[rows].assign(_row=rows)).drop_duplicates("zip")
        keep[first["_row"].to_numpy()] = True
    return zips.loc[keep].set_index("zip")


@memoized(maxsize=64)
def post_office_towns(paths: tuple, state: str | None = None) -> dict:
    """``(state, folded town) -> [ZIP codes]`` of one state (None: of every state).

    In code order (:func:`_in_code_order`), so a state's dictionary is the
    country's restricted to that state: folding every town of the country
    takes most of a second, one state's a few milliseconds.
    """
    zips = _postal(paths)
    if state is not None:
        zips = zips.loc[(zips["state"] == state).to_numpy(dtype=bool, na_value=False)]
    zips = _in_code_order(zips)
    towns: dict = {}
    for code, place, st in zip(zips["zip"].tolist(), zips["place"].tolist(),
                               zips["state"].tolist()):
        if not pd.isna(place) and not pd.isna(st):
            towns.setdefault((str(st), fold(place)), []).append(code)
    return towns


def primary_pieces() -> pd.DataFrame:
    """Return who polices each piece first (44,713 pieces), cached.

    :func:`ringgeo.coverage.jurisdictions` of the snapshot's partners (a partner shows a
    department or a county police the FBI list of 2018 lacks: the Savannah Police
    Department, the Chatham County Police), without the partner columns: a lookup says
    each agency's partnership on its own ``as_of``. Read from the parsed-data cache after
    the first build (:mod:`ringgeo.tablecache`).
    """
    def build():
        with warnings.catch_warnings():  # the data's warnings are the partner notebooks'
            warnings.simplefilter("ignore", UserWarning)
            table = primary_police(load_partners())
        return table.drop(columns=["partner", "partner_id", "activated"])

    # the partners are linked with the geography and the agencies: key on every file
    return tablecache.cached("primary_police", {"partners": "snapshot"}, build,
                             sources=list(data.registry()))


def primary_by_municipality() -> pd.DataFrame:
    """Residents of each municipality by primary police, from :func:`primary_pieces`, cached.

    The pieces grouped by ``geoid`` (the place, then the minor civil division
    they lie in), ``primary``, ``primary_agency`` and ``primary_ori``, summing
    ``population``: places first, then minor civil divisions, each in the
    order of the groups. Read from the parsed-data cache after the first build.
    """
    def build():
        table = primary_pieces()
        parts = []
        for column in ("place", "mcd"):
            rows = table.loc[table[column] != ""]
            grouped = rows.groupby([column, "primary", "primary_agency", "primary_ori",
                                    "basis"], dropna=False)["population"].sum()
            parts.append(grouped.rename_axis(["geoid", "primary", "primary_agency",
                                              "primary_ori", "basis"]).reset_index())
        return pd.concat(parts, ignore_index=True)

    return tablecache.cached("primary_by_municipality", {}, build,
                             sources=(*SOURCE_FILES, "fbi-agencies-2018.csv"))


@memoized(maxsize=2)
def _primary_table(paths: tuple) -> tuple:
    table = primary_by_municipality()
    table.attrs = {}
    return table["geoid"].to_numpy(dtype=object, na_value=None), table


def primary_police_of(geoid: str, paths: tuple) -> list:
    """Return ``[(primary kind, agency, ORI, residents, basis)]`` of one municipality.

    Largest first.

    From :func:`ringgeo.coverage.primary_police` (who polices each piece of a
    county first, ``docs/methodology.md#who-polices-a-place``), grouped by the
    place or minor civil division the pieces lie in (:func:`primary_by_municipality`).
    Empty for a GEOID no piece lies in.
    """
    geoids, table = _primary_table(paths)
    rows = table.iloc[np.flatnonzero(geoids == geoid)]
    found = [(kind, None if pd.isna(agency) else agency, None if pd.isna(ori) else ori,
              int(people), basis)
             for kind, agency, ori, people, basis in zip(
                 rows["primary"], rows["primary_agency"], rows["primary_ori"],
                 rows["population"], rows["basis"])]
    return sorted(found, key=lambda r: (-r[3], r[0]))


def remainder_police_of(county: str) -> list:
    """Return ``[(kind, agency, ORI, residents, basis)]`` of a county's unincorporated land.

    The first agency of the county's piece outside every place and minor civil
    division (:func:`ringgeo.coverage.jurisdictions`); empty when the county has none.
    """
    table = primary_pieces()
    rows = table.loc[(table["county"] == county) & (table["place"] == "")
                     & (table["mcd"] == "")]
    return [(kind, None if pd.isna(agency) else agency, None if pd.isna(ori) else ori,
             int(people), basis)
            for kind, agency, ori, people, basis in zip(
                rows["primary"], rows["primary_agency"], rows["primary_ori"],
                rows["population"], rows["basis"])]


@memoized(maxsize=2)
def boundaries(paths: tuple) -> tuple:
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
