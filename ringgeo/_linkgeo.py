"""Lookup tables and matchers behind :func:`ringgeo.linking.link_partners` (private).

:class:`GeoIndex` holds, per state, the counties and municipalities of
:mod:`ringgeo.geography` under the keys of :mod:`ringgeo._names`, and answers
two questions:

* :meth:`GeoIndex.match_county`: which county does this text name in this
  state? (exact, normalized, fuzzy, or nothing, with the candidates);
* :meth:`GeoIndex.muni_candidates`: which places or minor civil divisions
  carry this (folded) name in this state?

Every method is a dictionary lookup except the fuzzy fallback (rapidfuzz),
which only runs on misses.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pandas as pd
from rapidfuzz import fuzz, process

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
        self.counties: dict[str, County] = {}
        self.county_exact: dict[tuple, str] = {}
        self.county_base: dict[tuple, list] = {}
        self.county_states: dict[str, set] = {}
        self.county_choices: dict[str, dict] = {}
        for geoid, state, name, full, lsad in zip(
                counties["GEOID"], counties["state"], counties["name"],
                counties["full_name"], counties["lsad"]):
            kind = _LSAD_KIND.get(str(lsad), fold(str(lsad)) or None)
            county = County(str(geoid), str(state), str(full), fold(name), kind)
            self.counties[county.geoid] = county
            self.county_exact[(county.state, clean(full))] = county.geoid
            self.county_base.setdefault((county.state, compact(county.base)), []).append(
                county.geoid)
            self.county_states.setdefault(compact(county.base), set()).add(county.state)
            self.county_choices.setdefault(county.state, {}).setdefault(
                county.base, []).append(county.geoid)

        self.munis: dict[str, Muni] = {}
        self.muni_base: dict[tuple, list] = {}
        self.muni_choices: dict[str, dict] = {}
        if keys is None:
            keys = muni_keys(municipalities)
        columns = [municipalities[c].tolist()
                   for c in ("GEOID", "kind", "state", "county_fips", "population")]
        named = [keys[c].tolist() for c in ("raw", "base", "raw_base", "word", "keys")]
        for geoid, kind, state, cfips, pop, raw, base, raw_base, word, aliases in zip(
                *columns, *named):
            # counties as in the 2019 county file (Valdez-Cordova's successors -> 02261)
            cfips = () if is_missing(cfips) else tuple(
                dict.fromkeys(COUNTY_SUCCESSORS.get(c, c) for c in cfips))
            muni = Muni(str(geoid), str(kind), raw, str(state), cfips,
                        None if is_missing(pop) else int(pop), base, raw_base, word)
            self.munis[muni.geoid] = muni
            for key in aliases:
                self.muni_base.setdefault((muni.state, key), []).append(muni.geoid)
            self.muni_choices.setdefault(muni.state, {}).setdefault(base, []).append(muni.geoid)

    # ------------------------------------------------------------------ counties
    def match_county(self, text: str, state: str) -> CountyHit:
        """Find the county ``text`` names in ``state`` (see the module docstring)."""
        hit = CountyHit(text=clean(text))
        geoid = self.county_exact.get((state, hit.text))
        if geoid:
            hit.geoid, hit.method = geoid, "exact"
            return hit
        readings = split_county(hit.text)
        for base, kind in readings:
            ids = self.county_base.get((state, compact(base)))
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
        choices = self.county_choices.get(state, {})
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
            others = sorted(self.county_states.get(compact(reading), set()) - {state})
            if others:
                hit.other_states = others
                break
        return hit

    def county_by_name(self, base: str, kind: str | None, state: str) -> str | None:
        """The county ``base`` (folded) of ``kind`` in ``state``, by lookup only."""
        ids = self.county_base.get((state, compact(base)), [])
        same = [g for g in ids if kind is None or self.counties[g].kind == kind]
        return same[0] if len(same) == 1 else None

    # ------------------------------------------------------------------ municipalities
    def muni_candidates(self, base: str, state: str) -> list[Muni]:
        """Municipalities of ``state`` whose folded name is ``base``."""
        return [self.munis[g] for g in self.muni_base.get((state, compact(base)), [])]

    def muni_fuzzy(self, bases, state: str, within: set | None):
        """Best fuzzy municipality for any of ``bases``: ``(Muni, score)`` or None."""
        choices = self.muni_choices.get(state, {})
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


def muni_keys(municipalities) -> pd.DataFrame:
    """The names a municipality is looked up by, one row per row of ``municipalities``.

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
    """The index of the registry's geography, built once per set of files."""
    return _index(source_paths())


@functools.lru_cache(maxsize=2)
def _index(paths: tuple) -> GeoIndex:  # the cache key: the files the tables come from
    from . import geography

    return GeoIndex(geography.load_counties(), geography.load_municipalities(),
                    municipality_keys())


def municipality_keys() -> pd.DataFrame:
    """:func:`muni_keys` of the registry's municipalities, through the parsed-data cache."""
    from . import geography, tablecache

    return tablecache.cached(
        "municipality_keys", {}, lambda: muni_keys(geography.load_municipalities()),
        sources=geography.SOURCE_FILES)
