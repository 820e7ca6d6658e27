"""The inputs of the coverage tables: the checked partner table and the Census cells.

:func:`prepare` keeps what coverage reads of a linked partner table (and checks
it); :func:`geography` cuts the Census tables into the cells of
``docs/methodology.md#counting-each-resident-once`` (``_cells``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import geography as geo
from .._config import memoized
from .._rowchecks import require_columns
from ..exceptions import InputError, ParameterError, warn
from ..geography import source_paths
from . import _cells

__all__ = ["REQUIRED", "GEOGRAPHY_KEYS", "geography", "counties_of", "prepare", "prepare_empty"]

#: Columns of the linked partner table that coverage reads.
REQUIRED = ("partner_id", "agency_type", "jurisdiction_type", "state", "county_fips",
            "muni_geoid", "activated")
_AGENCY_TYPES = ("police", "sheriff", "other")
_JURISDICTION_TYPES = ("municipal", "county", "regional", "other")
#: Keys of the crafted ``geography=`` dict the coverage functions accept.
GEOGRAPHY_KEYS = ("states", "counties", "municipality_parts", "mcd_place_overlaps")


def geography(geography) -> _cells.Geography:
    """Return the Census cells: of the registry's tables (None) or of crafted ``geography``."""
    if geography is None:
        return _default_geography(source_paths())
    if not isinstance(geography, dict) or set(geography) != set(GEOGRAPHY_KEYS):
        found = sorted(geography) if isinstance(geography, dict) else type(geography).__name__
        raise ParameterError(
            f"geography must be None (load the Census tables) or a dict with exactly the "
            f"keys {', '.join(GEOGRAPHY_KEYS)}; got {found}."
        )
    return _cells.build(*(geography[key] for key in GEOGRAPHY_KEYS))


@memoized(maxsize=2)
def _default_geography(paths: tuple) -> _cells.Geography:  # key: the files read

    return _cells.build(geo.load_states(), geo.load_counties(),
                        geo.load_municipality_parts(), geo.load_mcd_place_overlaps())


def counties_of(value) -> tuple:
    """Return a partner's or agency's county GEOIDs as a tuple (successor codes applied)."""
    if isinstance(value, (tuple, list, np.ndarray)):
        items = value
    elif value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        items = ()
    else:
        items = (value,)
    return tuple(dict.fromkeys(_cells.COUNTY_SUCCESSORS.get(str(v), str(v)) for v in items))


def prepare(partners) -> pd.DataFrame:
    """Check the linked partner table and keep what coverage needs."""
    if not isinstance(partners, pd.DataFrame):
        raise ParameterError(f"partners must be a DataFrame from ringgeo.load_partners(), "
                             f"not {type(partners).__name__}.")
    require_columns(partners, REQUIRED, "partner table",
                    "coverage needs the linked table: pass ringgeo.load_partners() "
                    "(link=True, the default) or the output of ringgeo.link_partners().")
    as_of = partners.attrs.get("as_of")
    # the constructor, unlike .loc, does not deep-copy the (large) attrs
    original = partners
    partners = pd.DataFrame(partners, columns=list(REQUIRED))
    frame = pd.DataFrame({
        "partner_id": partners["partner_id"].astype("string").to_numpy(),
        "agency_type": partners["agency_type"].astype("string").to_numpy(),
        "jurisdiction_type": partners["jurisdiction_type"].astype("string").to_numpy(),
        "state": partners["state"].astype("string").to_numpy(),
        "counties": [counties_of(v) for v in partners["county_fips"]],
        "muni": partners["muni_geoid"].astype("string").to_numpy(),
        "activated": pd.to_datetime(partners["activated"]).to_numpy(dtype="datetime64[ns]"),
    })
    frame["ori"] = (original["ori"].astype("string").to_numpy() if "ori" in original.columns
                    else pd.array([pd.NA] * len(frame), dtype="string"))
    frame["agency"] = (original["agency"].astype("string").to_numpy()
                       if "agency" in original.columns
                       else pd.array([pd.NA] * len(frame), dtype="string"))
    for column, allowed in (("agency_type", _AGENCY_TYPES),
                            ("jurisdiction_type", _JURISDICTION_TYPES)):
        bad = ~frame[column].isin(allowed)
        if bad.any():
            row = frame.loc[bad].iloc[0]
            raise InputError(
                f"partner {row['partner_id']}: field {column} is {row[column]!r}; expected "
                f"one of {', '.join(allowed)} (as ringgeo.load_partners() cleans it)."
            )
    bad = frame["state"].isna()
    if bad.any():
        raise InputError(f"partner {frame.loc[bad, 'partner_id'].iloc[0]}: field state is "
                         f"blank; every partner needs a USPS state code.")
    frame = _once_per_id(frame)
    frame.attrs["as_of"] = as_of
    return frame


#: What a record of the prepared table is, for telling a repeated row from a conflict.
_RECORD = ("agency_type", "jurisdiction_type", "state", "counties", "muni", "activated", "ori",
           "agency")


def _once_per_id(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep one row per ``partner_id`` (docs/methodology.md#counting-partners).

    A row repeated whole (the same partnership pasted or concatenated twice) counts
    once, with a warning naming the ids; one id on records that differ is an
    :class:`InputError` naming them, since which record is right cannot be told.
    """
    ids = frame["partner_id"]
    repeated = ids.duplicated(keep=False) & ids.notna()
    if not repeated.any():
        return frame
    rows = frame.loc[repeated, ["partner_id", *_RECORD]].astype(str).drop_duplicates()
    conflicting = sorted(set(rows.loc[rows["partner_id"].duplicated(), "partner_id"]))
    if conflicting:
        raise InputError(
            f"{len(conflicting)} partner_id(s) name different records: "
            f"{_listed(conflicting)}. Each partnership needs its own partner_id; fix or drop "
            f"the repeated rows before computing coverage.")
    names = sorted(set(ids[repeated]))
    warn(f"{len(names)} partner_id(s) appear on more than one identical row, each counted "
         f"once: {_listed(names)}.")
    keep = ~ids.duplicated() | ids.isna()
    return frame.loc[keep].reset_index(drop=True)


def _listed(ids: list, most: int = 10) -> str:
    shown = ", ".join(ids[:most])
    return shown + (f" and {len(ids) - most} more" if len(ids) > most else "")


def prepare_empty() -> pd.DataFrame:
    """Return a prepared partner table without rows (who polices, without partners)."""
    frame = pd.DataFrame({c: pd.Series([], dtype="string") for c in
                          ("partner_id", "agency_type", "jurisdiction_type", "state", "muni",
                           "ori", "agency")})
    frame["counties"] = pd.Series([], dtype=object)
    frame["activated"] = pd.Series([], dtype="datetime64[ns]")
    return frame
