"""The inputs of the coverage tables: the checked partner table and the Census cells.

:func:`prepare` keeps what coverage reads of a linked partner table (and checks
it); :func:`geography` cuts the Census tables into the cells of
``docs/methodology.md#counting-each-resident-once`` (``_cells``).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd

from .. import data, demographics, tablecache
from .. import geography as geo
from .._config import memoized
from .._frames import without_attrs
from .._rowchecks import require_columns
from ..agencies import AGENCY_FILE
from ..exceptions import InputError, ParameterError, warn
from ..geography import source_paths
from . import _cells

__all__ = ["REQUIRED", "GEOGRAPHY_KEYS", "POPULATION_BASES", "DEMOGRAPHICS_KEY", "check_base",
           "geography", "demographics_of", "in_2020", "counties_of", "prepare", "prepare_empty",
           "fingerprint", "per_partner_table"]

#: Columns of the linked partner table that coverage reads.
REQUIRED = ("partner_id", "agency_type", "jurisdiction_type", "state", "county_fips",
            "muni_geoid", "activated")
_AGENCY_TYPES = ("police", "sheriff", "other")
_JURISDICTION_TYPES = ("municipal", "county", "regional", "other")
#: Keys of the crafted ``geography=`` dict the coverage functions accept.
GEOGRAPHY_KEYS = ("states", "counties", "municipality_parts", "mcd_place_overlaps")


#: Allowed ``base`` values of the coverage functions: the population the counts are in
#: (``docs/methodology.md#population-vintages``).
POPULATION_BASES = ("2019", "2020")
#: Optional key of a crafted ``geography=`` dict: a :func:`ringgeo.load_demographics`
#: table (``population_2020`` and the shares), for ``base="2020"`` and the composition.
DEMOGRAPHICS_KEY = "demographics"


def check_base(base) -> str:
    """Return ``base`` as text, or raise a ParameterError listing the allowed values.

    Examples
    --------
    >>> check_base(2020)
    '2020'
    >>> check_base("2021")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ringgeo.exceptions.ParameterError: base was '2021' but is expected to be one of '2019', ...
    """
    text = str(base) if isinstance(base, (str, int)) and not isinstance(base, bool) else None
    if text not in POPULATION_BASES:
        raise ParameterError(
            f"base was {base!r} but is expected to be one of "
            f"{', '.join(map(repr, POPULATION_BASES))} (July 1, 2019 estimates, or the "
            f"April 1, 2020 census count).")
    return text


def geography(geography, base="2019") -> _cells.Geography:
    """Return the Census cells: of the registry's tables (None) or of crafted ``geography``.

    ``base="2020"`` puts the counties in their 2020 census count (P1, through
    :func:`ringgeo.demographics.load_demographics` or the crafted table's
    ``demographics``) and each state in the sum of its counties; the cells are
    rescaled to it as they are to the 2019 estimates.
    """
    base = check_base(base)
    if geography is None:
        return _default_geography(source_paths(), base)
    keys = set(geography) - {DEMOGRAPHICS_KEY} if isinstance(geography, dict) else None
    if keys != set(GEOGRAPHY_KEYS):
        found = sorted(geography) if isinstance(geography, dict) else type(geography).__name__
        raise ParameterError(
            f"geography must be None (load the Census tables) or a dict with exactly the "
            f"keys {', '.join(GEOGRAPHY_KEYS)} (and optionally {DEMOGRAPHICS_KEY}); got "
            f"{found}."
        )
    tables = [geography[key] for key in GEOGRAPHY_KEYS]
    if base == "2020":
        tables[0], tables[1] = in_2020(tables[0], tables[1], demographics_of(geography))
    return _cells.build(*tables)


def demographics_of(geography) -> pd.DataFrame:
    """Return the demographics on 2019 county codes: a crafted table's, else the registry's."""
    if isinstance(geography, dict) and geography.get(DEMOGRAPHICS_KEY) is not None:
        demo = geography[DEMOGRAPHICS_KEY]
        require_columns(demo, ("population_2020",), "geography table 'demographics'",
                        "pass the output of ringgeo.load_demographics().")
    else:
        demo = _registry_demographics(tuple(str(data.fetch(n)) for n in
                                            demographics.SOURCE_FILES))
    return demographics.on_2019_counties(demo)


@memoized(maxsize=1)
def _registry_demographics(paths: tuple) -> pd.DataFrame:  # key: the files read
    return demographics.load_demographics()


def in_2020(states, counties, demo) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the states and counties tables with ``population`` the 2020 census count.

    A county missing from ``demo`` gets a missing population (as Puerto Rico has in
    2019 terms); a state's population is the sum of its counties'.
    """
    counties = pd.DataFrame(counties).copy()
    geoid = counties["GEOID"].astype("string")
    counties["population"] = pd.array(
        geoid.map(demo["population_2020"].astype("Int64")).to_numpy(), dtype="Int64")
    by_state = counties.groupby(counties["state"].astype("string"))["population"].sum(
        min_count=1)
    states = pd.DataFrame(states).copy()
    states["population"] = pd.array(
        states["state"].astype("string").map(by_state).to_numpy(), dtype="Int64")
    return states, counties


@memoized(maxsize=3)
def _default_geography(paths: tuple, base: str = "2019") -> _cells.Geography:
    # key: the files read and the population base
    states, counties = geo.load_states(), geo.load_counties()
    if base == "2020":
        states, counties = in_2020(states, counties, demographics_of(None))
    return _cells.build(states, counties,
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


# --------------------------------------------------------------------------- reuse
class _Carried:
    """A value passed through a memoized function without being part of its key."""

    def __init__(self, value):
        self.value = value

    def __hash__(self):
        return 0

    def __eq__(self, other):
        return isinstance(other, _Carried)


def fingerprint(partners: pd.DataFrame) -> tuple:
    """Return a key of a partner table's content: every cell (as text), its index, ``as_of``.

    Two tables with the same rows give the same key whatever object holds them (every
    ``load_partners()`` returns a new copy); hashing the 1,500 rows of the snapshot takes
    a few milliseconds.

    Examples
    --------
    >>> a = pd.DataFrame({"partner_id": ["AOS1", "AOS2"], "activated": ["2019-01-02", None]})
    >>> fingerprint(a) == fingerprint(a.copy()), fingerprint(a) == fingerprint(a.iloc[::-1])
    (True, False)
    """
    # without attrs: pandas would deep-copy the quality report into the text copy (0.1 s)
    hashed = pd.util.hash_pandas_object(without_attrs(partners).astype(str),
                                        index=True).to_numpy()
    return (tuple(map(str, partners.columns)), len(partners), int(hashed.sum()),
            int((hashed * np.arange(1, len(hashed) + 1, dtype="uint64")).sum()),
            str(partners.attrs.get("as_of")), str(partners.attrs.get("technology")))


def _stored(func, key: tuple, args: tuple, kwargs: tuple, partners: pd.DataFrame):
    """Return ``func(partners, *args, **kwargs)``, from the parsed-data cache for a loader's table.

    A table of :func:`ringgeo.load_partners` or :func:`ringgeo.load_atlas` (or a part
    of one: its ``quality`` report travels with it) is stored in the parsed-data
    cache (:func:`ringgeo.tablecache.cached`), keyed on its content (``key``:
    :func:`fingerprint`), the arguments, every source file of the registry and the
    package's code; a batch's notebooks and its fork server then read the coverage
    tables instead of computing them again. Other tables (crafted ones) are computed.
    """
    def build():
        return func(partners, *args, **dict(kwargs))

    def flat():  # the cache stores columns: a named index goes in as columns, comes back
        table = build()
        names = list(table.index.names)
        if isinstance(table.index, pd.RangeIndex) or None in names or _INDEX in table.attrs:
            return table  # stored only if it reads back identical (a RangeIndex does)
        out = table.reset_index()
        out.attrs = {**table.attrs, _INDEX: names}
        return out

    if "quality" not in partners.attrs:  # a crafted table: as computed, never stored
        return build()
    table = stored_for(partners, f"coverage_{func.__name__}",
                       {"args": list(args), "options": [list(option) for option in kwargs]},
                       flat, key=key)
    if table is None:  # within tablecache.ensure_only (ringgeo data cache --warm): stored
        return build()
    names = table.attrs.pop(_INDEX, None)
    return table if names is None else table.set_index(names)


def stored_for(partners, name: str, params: dict, build, *, key: tuple | None = None):
    """Return ``build()``, a table derived from ``partners``, from the parsed-data cache.

    Only a loader's table (:func:`ringgeo.load_partners`, :func:`ringgeo.load_atlas`, or a
    part of one: it carries its ``quality`` report) is stored, keyed on its content
    (:func:`fingerprint`, or ``key`` when already computed), ``params``, every source file
    of the registry and the package's code (:func:`ringgeo.tablecache.cached`); a crafted
    table is built every time.
    """
    if not isinstance(partners, pd.DataFrame) or "quality" not in partners.attrs:
        return build()
    key = fingerprint(partners) if key is None else key
    return tablecache.cached(name, {"partners": list(key), **params}, build,
                             sources=list(data.registry()))


# the attrs key that names the index columns of a coverage table in the cache
_INDEX = "_ringgeo_index"


def per_partner_table(maxsize: int = 4):
    """Memoize a coverage table of a partner table and the default inputs, by content.

    A notebook asks several functions for the same table of the same partners (notebook
    08: the composition, four rates and the model each need :func:`county_table`), and a
    forked kernel inherits the tables its fork server computed (``by_state``,
    ``by_county``). With ``geography`` and ``agencies`` left to their defaults, the
    decorated function computes once per partner table (:func:`fingerprint`), other
    arguments and source files, and hands out copies. The ``UserWarning``s of the
    computation (ringgeo's notes to the reader) are given again at every call, pointing at
    the caller's line as :func:`ringgeo.exceptions.warn` does, so a notebook's notes read
    the same whether a table was computed or reused. Crafted inputs are never cached.
    """
    def decorate(func):
        @memoized(maxsize=maxsize)
        def compute(key, args, kwargs, carried):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                table = _stored(func, key[0], args, kwargs, carried.value)
            # what ringgeo tells a reader (UserWarning); the libraries' deprecation notices
            # stay where their filters put them
            return table, tuple((str(w.message), w.category) for w in caught
                                if issubclass(w.category, UserWarning))

        @functools.wraps(func)
        def wrapper(partners=None, *args, geography=None, agencies=None, **kwargs):
            if geography is not None or agencies is not None \
                    or not isinstance(partners, pd.DataFrame):
                return func(partners, *args, geography=geography, agencies=agencies, **kwargs)
            options = tuple(sorted(kwargs.items()))
            try:
                hash((args, options))
            except TypeError:  # an argument a cache cannot key on: compute
                return func(partners, *args, **kwargs)
            files = (str(data.fetch(AGENCY_FILE)),) + source_paths()
            table, caught = compute((fingerprint(partners), files), args, options,
                                    _Carried(partners))
            for message, category in caught:
                warn(message, category)
            return table.copy()

        wrapper.cache_info = compute.cache_info
        return wrapper
    return decorate
