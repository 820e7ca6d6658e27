"""Lookup tables and matchers behind :func:`ringgeo.linking.link_partners` (private).

:class:`GeoIndex` holds, per state, the counties and municipalities of
:mod:`ringgeo.geography` under the keys of :mod:`ringgeo._names`, and answers
two questions:

* :meth:`GeoIndex.match_county`: which county does this text name in this
  state? (exact, normalized, fuzzy, or nothing, with the candidates);
* :meth:`GeoIndex.muni_candidates`: which places or minor civil divisions
  carry this (folded) name in this state?

Every method is a dictionary lookup except the fuzzy fallback (rapidfuzz),
which only runs on misses. A state's dictionaries are made the first time it is
asked about: a lookup in one state keys that state, not the country.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
from rapidfuzz import fuzz, process

from . import geography, tablecache
from ._config import memoized
from ._names import clean, compact, fold, muni_aliases, split_county, split_descriptor
from .geography import COUNTY_LSAD, COUNTY_SUCCESSORS, source_paths

#: Lowest rapidfuzz ``ratio`` accepted for a misspelled county name.
COUNTY_FUZZY_CUTOFF = 85.0
#: Lowest rapidfuzz ``ratio`` accepted for a misspelled municipality name.
MUNI_FUZZY_CUTOFF = 90.0


#: County kind by LSAD code: the word of geography.COUNTY_LSAD, lower case (None: no word).
_LSAD_KIND = {code: word.lower() or None for code, word in COUNTY_LSAD.items()}


def is_missing(value) -> bool:
    """None, pandas NA or NaN."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


@dataclass(frozen=True)
class County:
    geoid: str
    state: str
    full_name: str
    base: str  # folded name without descriptor
    kind: str | None


@dataclass(frozen=True, slots=True)
class Muni:
    geoid: str
    kind: str  # "place" / "mcd"
    name: str
    state: str
    counties: tuple
    population: int | None
    base: str  # folded name without descriptor
    base_raw: str  # the name as Census writes it, without descriptor
    word: str | None  # descriptor: city, town, township, village, borough...


def preference(muni: Muni) -> tuple:
    """Sort key among same-name municipalities: an incorporated place, then population."""
    return (muni.kind == "place", muni.population or 0)


@dataclass
class CountyHit:
    text: str
    geoid: str | None = None
    method: str = "unmatched"
    score: float | None = None
    note: str | None = None
    candidates: list = field(default_factory=list)
    other_states: list = field(default_factory=list)


class GeoIndex:
    """Counties and municipalities keyed for lookup (see the module docstring)."""

    def __init__(self, counties, municipalities, keys=None):
        # Both tables are read into columns now and keyed state by state on first use: a
        # lookup in New Jersey keys New Jersey's 21 counties and 565 municipalities, not
        # the country's 3,220 and 35,730 (the linker, which reads every state, keys all).
        self._county_columns = [_objects(counties[c]) for c in
                                ("GEOID", "state", "name", "full_name", "lsad")]
        self.counties = _ByGeoid(self._county_columns[0], self._county)
        self._county_rows = _rows_by_state(self._county_columns[1])
        self._county_keyed: dict[str, tuple] = {}  # state -> (exact, base, choices)
        self._county_states: dict[str, set] | None = None

        if keys is None:
            keys = muni_keys(municipalities)
        self._columns = [_objects(municipalities[c]) for c in
                         ("GEOID", "kind", "state", "county_fips", "population")] + [
            _objects(keys[c]) for c in ("raw", "base", "raw_base", "word", "keys")]
        self.munis = _ByGeoid(self._columns[0], self._muni)
        self._muni_rows = _rows_by_state(self._columns[2])
        self._keyed: dict[str, tuple] = {}  # state -> (folded key -> GEOIDs, base -> GEOIDs)

    def _county(self, row: int) -> County:
        geoid, state, name, full, lsad = (column[row] for column in self._county_columns)
        kind = _LSAD_KIND.get(str(lsad), fold(str(lsad)) or None)
        return County(str(geoid), str(state), str(full), fold(name), kind)

    def _county_state(self, state: str) -> tuple:
        """``(exact, base, choices)`` of one state's counties: built once, in row order.

        ``exact``: cleaned full name -> GEOID; ``base``: compact folded name -> GEOIDs;
        ``choices``: folded name -> GEOIDs (the fuzzy matcher's choices).
        """
        keyed = self._county_keyed.get(state)
        if keyed is None:
            exact: dict[str, str] = {}
            base: dict[str, list] = {}
            choices: dict[str, list] = {}
            geoids, _, names, fulls, _ = self._county_columns
            for row in self._county_rows.get(state, ()):
                geoid, folded = str(geoids[row]), fold(names[row])
                exact[clean(fulls[row])] = geoid
                base.setdefault(compact(folded), []).append(geoid)
                choices.setdefault(folded, []).append(geoid)
            keyed = self._county_keyed[state] = (exact, base, choices)
        return keyed

    def _states_of_county_name(self) -> dict:
        """Compact folded county name -> the states that have a county of that name."""
        if self._county_states is None:
            self._county_states = {}
            for state, name in zip(self._county_columns[1], self._county_columns[2]):
                self._county_states.setdefault(compact(fold(name)), set()).add(str(state))
        return self._county_states

    def _muni(self, row: int) -> Muni:
        geoid, kind, state, cfips, pop, raw, base, raw_base, word, _ = (
            column[row] for column in self._columns)
        # counties as in the 2019 county file (Valdez-Cordova's successors -> 02261)
        cfips = () if is_missing(cfips) else tuple(
            dict.fromkeys(COUNTY_SUCCESSORS.get(c, c) for c in cfips))
        return Muni(str(geoid), str(kind), raw, str(state), cfips,
                    None if is_missing(pop) else int(pop), base, raw_base, word)

    def _state(self, state: str) -> tuple:
        """Return ``(muni_base, muni_choices)`` of one state's municipalities.

        Built once, in row order. ``muni_base``: compact alias -> GEOIDs; ``muni_choices``:
        folded name -> GEOIDs.
        """
        keyed = self._keyed.get(state)
        if keyed is None:
            muni_base: dict[str, list] = {}
            muni_choices: dict[str, list] = {}
            geoids, bases, aliases = self._columns[0], self._columns[6], self._columns[9]
            for row in self._muni_rows.get(state, ()):
                geoid = str(geoids[row])
                for key in aliases[row]:
                    muni_base.setdefault(key, []).append(geoid)
                muni_choices.setdefault(bases[row], []).append(geoid)
            keyed = self._keyed[state] = (muni_base, muni_choices)
        return keyed

    # ------------------------------------------------------------------ counties
    def match_county(self, text: str, state: str) -> CountyHit:
        """Find the county ``text`` names in ``state`` (see the module docstring)."""
        hit = CountyHit(text=clean(text))
        exact, by_base, choices = self._county_state(state)
        geoid = exact.get(hit.text)
        if geoid:
            hit.geoid, hit.method = geoid, "exact"
            return hit
        readings = split_county(hit.text)
        for base, kind in readings:
            ids = by_base.get(compact(base))
            if not ids:
                continue
            same = [g for g in ids if self.counties[g].kind == kind]
            if len(same) == 1:
                hit.geoid = same[0]
            elif len(ids) == 1:
                hit.geoid = ids[0]
                if kind is not None:
                    hit.note = (f"{hit.text!r} read as {self.counties[ids[0]].full_name!r} "
                                f"(Census calls it a {self.counties[ids[0]].kind})")
            else:  # e.g. "Fairfax" alone: the county and the independent city
                named = ", ".join(f"{self.counties[g].full_name} {g}" for g in ids)
                hit.geoid = next((g for g in ids if self.counties[g].kind == "county"), ids[0])
                hit.note = f"{hit.text!r} is ambiguous ({named}); took the county"
            hit.method = "normalized"
            return hit
        base = readings[0][0]
        best = process.extract(base, list(choices), scorer=fuzz.ratio, limit=3)
        hit.candidates = [(self.counties[choices[name][0]].full_name, choices[name][0],
                           round(score, 1)) for name, score, _ in best]
        if best and best[0][1] >= COUNTY_FUZZY_CUTOFF:
            ids = choices[best[0][0]]
            kind = readings[0][1]
            hit.geoid = next((g for g in ids if self.counties[g].kind == kind), ids[0])
            hit.method, hit.score = "fuzzy", round(float(best[0][1]), 1)
            hit.note = (f"{hit.text!r} read as {self.counties[hit.geoid].full_name!r} "
                        f"(fuzzy score {hit.score})")
            return hit
        for reading, _ in readings:
            others = sorted(self._states_of_county_name().get(compact(reading), set())
                            - {state})
            if others:
                hit.other_states = others
                break
        return hit

    def county_by_name(self, base: str, kind: str | None, state: str) -> str | None:
        """Return the county ``base`` (folded) of ``kind`` in ``state``, by lookup only."""
        ids = self._county_state(state)[1].get(compact(base), [])
        same = [g for g in ids if kind is None or self.counties[g].kind == kind]
        return same[0] if len(same) == 1 else None

    # ------------------------------------------------------------------ municipalities
    def muni_candidates(self, base: str, state: str) -> list[Muni]:
        """Municipalities of ``state`` whose folded name is ``base``."""
        return [self.munis[g] for g in self._state(state)[0].get(compact(base), [])]

    def muni_fuzzy(self, bases, state: str, within: set | None):
        """Best fuzzy municipality for any of ``bases``: ``(Muni, score)`` or None."""
        choices = self._state(state)[1]
        if within:
            choices = {name: ids for name, ids in choices.items()
                       if any(set(self.munis[g].counties) & within for g in ids)}
        best = None
        for base in bases:
            found = process.extractOne(base, list(choices), scorer=fuzz.ratio,
                                       score_cutoff=MUNI_FUZZY_CUTOFF)
            if found and (best is None or found[1] > best[1]):
                ids = choices[found[0]]
                muni = max((self.munis[g] for g in ids), key=preference)
                best = (muni, round(float(found[1]), 1))
        return best


class _ByGeoid(Mapping):
    """GEOID -> record, made from its row on first access.

    The row is a GEOID's last row, as a dictionary filled row by row keeps; iterated in
    the order of first appearance.
    """

    def __init__(self, geoids, make):
        self._row_of = dict(zip((str(g) for g in geoids), range(len(geoids))))
        self._make = make
        self._made: dict = {}

    def __getitem__(self, geoid):
        made = self._made.get(geoid)
        if made is None:
            made = self._made[geoid] = self._make(self._row_of[geoid])
        return made

    def __contains__(self, geoid) -> bool:
        return geoid in self._row_of

    def __iter__(self):
        return iter(self._row_of)

    def __len__(self) -> int:
        return len(self._row_of)


def _rows_by_state(states) -> dict:
    """State (as ``str``) -> its row positions, in order."""
    rows: dict[str, list] = {}
    for row, state in enumerate(states):
        rows.setdefault(str(state), []).append(row)
    return rows


def _objects(column):
    """Return a column's values as ``tolist`` gives them (an object column: its array, no copy)."""
    return column.to_numpy() if column.dtype == object else column.tolist()


def muni_keys(municipalities) -> pd.DataFrame:
    """Return the names a municipality is looked up by, one row per row of ``municipalities``.

    Columns: ``raw`` (the name cleaned), ``base`` and ``word`` (the folded name
    split from its descriptor, e.g. "cherry hill" and "township"), ``raw_base``
    (``raw`` without the descriptor) and ``keys`` (tuple of the compact aliases and
    Census base name the index files it under). The string work of the index:
    the default geography's is stored in the parsed-data cache.
    """
    names = municipalities["name"].tolist()
    base_names = (municipalities["base_name"].tolist() if "base_name" in municipalities
                  else [None] * len(names))
    rows = {"raw": [], "base": [], "raw_base": [], "word": [], "keys": []}
    for name, base_name in zip(names, base_names):
        base, word = split_descriptor(name, folded=True)
        raw = clean(name)
        keys = {compact(alias) for alias in muni_aliases(name)}
        if not is_missing(base_name):
            keys.add(compact(fold(base_name)))
        rows["raw"].append(raw)
        rows["base"].append(base)
        rows["raw_base"].append(raw[: len(raw) - len(word) - 1]
                                if word and len(raw) > len(word) else raw)
        rows["word"].append(word)
        rows["keys"].append(tuple(sorted(keys)))
    frame = pd.DataFrame({c: v for c, v in rows.items() if c != "keys"}, dtype=object)
    frame["keys"] = pd.Series(rows["keys"], dtype=object)
    return frame


def default_index() -> GeoIndex:
    """Return the index of the registry's geography, built once per set of files."""
    return _index(source_paths())


@memoized(maxsize=2)
def _index(paths: tuple) -> GeoIndex:  # the cache key: the files the tables come from

    return GeoIndex(geography.load_counties(), geography.load_municipalities(),
                    municipality_keys())


def municipality_keys() -> pd.DataFrame:
    """:func:`muni_keys` of the registry's municipalities, through the parsed-data cache."""
    return tablecache.cached(
        "municipality_keys", {}, lambda: muni_keys(geography.load_municipalities()),
        sources=geography.SOURCE_FILES)
