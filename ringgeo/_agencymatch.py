"""Match partner records to FBI agencies (private helper of :mod:`ringgeo.linking`).

:class:`AgencyIndex` keys the FBI agency universe (:func:`ringgeo.load_agencies`)
per state under the package's own name normalization (:mod:`ringgeo._names`)
and answers one question: which agency (ORI) does this partner record name?

Methods, strongest first (``docs/linking.md#agencies``):

* ``exact``: the agency name as written (``clean``, case-folded) equals the
  FBI name, in the partner's state, and the agency lies in one of the
  partner's counties;
* ``normalized``: the same agency after normalization: the *agency key*
  (role + folded place name, :func:`agency_key`) is equal
  ("Colonie Police Department" = "Colonie Town Police Department",
  "Polk County Sheriff's Department" = "Polk County Sheriff's Office"), or
  both are the local police of the same Census municipality; again in the
  partner's state and counties;
* ``fuzzy``: rapidfuzz ``token_sort_ratio`` of the folded names >=
  :data:`AGENCY_FUZZY_CUTOFF` among the agencies of the partner's counties;
* ``unmatched``: none of these, with the reason.

Several candidates of one method are told apart by the kind of municipality
the name states, the municipality the linker chose, then exactness of the
name; a tie that remains is reported, never guessed silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from . import data
from ._config import memoized
from ._linkgeo import is_missing
from ._names import clean, compact, fold, parse_agency, split_county
from .agencies import AGENCY_FILE, load_agencies
from .geography import source_paths

#: Lowest rapidfuzz ``token_sort_ratio`` accepted for an agency name.
AGENCY_FUZZY_CUTOFF = 88.0
_SHERIFF = re.compile(r"^(.*?)\s*\bsheriffs?\b")
_COUNTY_POLICE = re.compile(r"^(.+?) (county|parish) police\b")
_POLICE_FIRST = re.compile(r".*\bpolice\b.*\bsheriff")
_COUNTY_TAG = re.compile(r",\s*[^,]+? county\b")
_LOCAL = ("police",)
_COUNTY_LEVEL = ("sheriff", "county_police")


def agency_key(name: str) -> tuple:
    """Return the role and place an agency name names, as a comparable key.

    Examples
    --------
    >>> agency_key("Polk County Sheriff's Office")
    ('sheriff', 'polk', None)
    >>> agency_key("Calcasieu Parish Sheriff's Office")
    ('sheriff', 'calcasieu', None)
    >>> agency_key("Colonie Town Police Department")
    ('police', 'colonie', 'town')
    >>> agency_key("Colonie Police Department")
    ('police', 'colonie', None)
    >>> agency_key("Fairfax County Police Department")
    ('county police', 'fairfax', None)
    """
    key = _COUNTY_TAG.sub("", fold(name))
    sheriff = _SHERIFF.match(key)
    if sheriff and not _POLICE_FIRST.match(key):  # "Maui Police Department County Sheriff"
        return ("sheriff", compact(split_county(sheriff.group(1))[0][0]), None)
    county = _COUNTY_POLICE.match(key)
    if county:
        return ("county police", compact(county.group(1)), None)
    readings = parse_agency(key)
    if not readings:
        return ("police", compact(key), None)
    base, kind = readings[0]
    return ("police", compact(base), kind)


@dataclass(frozen=True, slots=True)
class Agency:
    ori: str
    name: str
    agency_type: str
    jurisdiction: str
    state: str
    counties: frozenset
    muni_geoid: str | None
    key: tuple
    exact: str
    folded: str
    latitude: float
    longitude: float


@dataclass
class Match:
    ori: str | None = None
    method: str = "unmatched"
    score: float | None = None
    note: str | None = None
    agency: Agency | None = None


class AgencyIndex:
    """The FBI agencies keyed per state (see the module docstring)."""

    def __init__(self, agencies):
        self.agencies: dict[str, Agency] = {}
        self.by_state: dict[str, list] = {}
        self.exact: dict[tuple, list] = {}
        self.keyed: dict[tuple, list] = {}
        self.muni: dict[str, list] = {}
        for ori, name, kind, juris, state, counties, muni, lat, lon in zip(
                agencies["ori"], agencies["agency"], agencies["agency_type"],
                agencies["jurisdiction_type"], agencies["state"], agencies["county_fips"],
                agencies["muni_geoid"], agencies["latitude"], agencies["longitude"]):
            agency = Agency(str(ori), str(name), str(kind), str(juris), str(state),
                            frozenset(counties or ()), None if is_missing(muni) else str(muni),
                            agency_key(str(name)), clean(name).casefold(), fold(name),
                            float(lat), float(lon))
            self.agencies[agency.ori] = agency
            self.by_state.setdefault(agency.state, []).append(agency)
            self.exact.setdefault((agency.state, agency.exact), []).append(agency)
            self.keyed.setdefault((agency.state, agency.key[1]), []).append(agency)
            if agency.muni_geoid and agency.agency_type in _LOCAL:
                self.muni.setdefault(agency.muni_geoid, []).append(agency)

    def match(self, name: str, state: str, counties, muni_geoid: str | None) -> Match:
        """Return the agency a partner record names: see the module docstring."""
        counties = set(counties or ())

        def agrees(a: Agency) -> bool:
            return not counties or bool(a.counties & counties)

        exact = [a for a in self.exact.get((state, clean(name).casefold()), []) if agrees(a)]
        if exact:
            return self._pick(exact, "exact", name, muni_geoid)
        key = agency_key(name)
        keyed = [a for a in self.keyed.get((state, key[1]), [])
                 if agrees(a) and (key[2] is None or a.key[2] in (None, key[2]))
                 and _compatible(key[0], a.key[0])]
        if key[0] == "police" and muni_geoid:
            keyed += [a for a in self.muni.get(muni_geoid, []) if a not in keyed]
        if keyed:
            return self._pick(keyed, "normalized", name, muni_geoid)
        pool = [a for a in self.by_state.get(state, []) if counties and a.counties & counties
                and a.key[0] == key[0]
                and not (muni_geoid and a.muni_geoid and a.muni_geoid != muni_geoid)]
        if pool:
            found = process.extractOne(fold(name), [a.folded for a in pool],
                                       scorer=fuzz.token_sort_ratio,
                                       score_cutoff=AGENCY_FUZZY_CUTOFF)
            if found:
                agency = pool[found[2]]
                return Match(agency.ori, "fuzzy", round(float(found[1]), 1),
                             f"agency {agency.name!r} ({agency.ori}) by fuzzy score "
                             f"{round(float(found[1]), 1)}", agency)
        return Match(note=self._why_not(name, state, key))

    def _pick(self, cands: list, method: str, name: str, muni_geoid: str | None) -> Match:
        key = agency_key(name)

        def rank(a: Agency):
            return (a.key[0] == key[0],  # the role the name states
                    a.key[2] == key[2],  # the kind the name states (or none)
                    a.muni_geoid == muni_geoid and muni_geoid is not None,
                    a.exact == clean(name).casefold(),
                    a.agency_type in _LOCAL + _COUNTY_LEVEL)

        ranked = sorted(cands, key=rank, reverse=True)
        best = ranked[0]
        note = None
        if len(ranked) > 1 and rank(ranked[1]) == rank(best):
            note = ("several FBI agencies fit equally: " + ", ".join(
                f"{a.name} {a.ori}" for a in ranked if rank(a) == rank(best))
                + f"; took {best.ori}")
        return Match(best.ori, method, None, note, best)

    def _why_not(self, name: str, state: str, key: tuple) -> str:
        elsewhere = [a for a in self.keyed.get((state, key[1]), [])
                     if _compatible(key[0], a.key[0])]
        if elsewhere:
            return ("an FBI agency of that name lies in other counties of the state ("
                    + ", ".join(f"{a.name} {a.ori} in {','.join(sorted(a.counties))}"
                                for a in elsewhere[:3]) + "): check the record's county")
        return ("not in the FBI agency list of 2018 in this state (founded, renamed or "
                "merged after 2018, or never listed)")


def _compatible(role: str, other: str) -> bool:
    """Roles that may name one agency: a sheriff is never a police department."""
    return (role == "sheriff") == (other == "sheriff")


@memoized(maxsize=2)
def _index(paths: tuple) -> AgencyIndex:
    return AgencyIndex(load_agencies())


def default_index() -> AgencyIndex:
    """Return the index of the registry's agency list, built once per set of files."""
    return _index((str(data.fetch(AGENCY_FILE)),) + source_paths())
