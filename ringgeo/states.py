"""US states: names, USPS codes and FIPS codes in one place.

:func:`validate_state` turns a name, a USPS abbreviation or a FIPS code into
one USPS code, the way pygris's ``validate_state`` does, so every module
accepts the same spellings.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from ._names import strip_invisible
from .exceptions import ParameterError

__all__ = ["STATES", "STATES_AND_DC", "validate_state", "state_fips", "state_name", "fips_to_usps"]

# (USPS, FIPS, name); 50 states, DC, Puerto Rico and the island areas.
_TABLE = [
    ("AL", "01", "Alabama"), ("AK", "02", "Alaska"), ("AZ", "04", "Arizona"),
    ("AR", "05", "Arkansas"), ("CA", "06", "California"), ("CO", "08", "Colorado"),
    ("CT", "09", "Connecticut"), ("DE", "10", "Delaware"),
    ("DC", "11", "District of Columbia"), ("FL", "12", "Florida"), ("GA", "13", "Georgia"),
    ("HI", "15", "Hawaii"), ("ID", "16", "Idaho"), ("IL", "17", "Illinois"),
    ("IN", "18", "Indiana"), ("IA", "19", "Iowa"), ("KS", "20", "Kansas"),
    ("KY", "21", "Kentucky"), ("LA", "22", "Louisiana"), ("ME", "23", "Maine"),
    ("MD", "24", "Maryland"), ("MA", "25", "Massachusetts"), ("MI", "26", "Michigan"),
    ("MN", "27", "Minnesota"), ("MS", "28", "Mississippi"), ("MO", "29", "Missouri"),
    ("MT", "30", "Montana"), ("NE", "31", "Nebraska"), ("NV", "32", "Nevada"),
    ("NH", "33", "New Hampshire"), ("NJ", "34", "New Jersey"), ("NM", "35", "New Mexico"),
    ("NY", "36", "New York"), ("NC", "37", "North Carolina"), ("ND", "38", "North Dakota"),
    ("OH", "39", "Ohio"), ("OK", "40", "Oklahoma"), ("OR", "41", "Oregon"),
    ("PA", "42", "Pennsylvania"), ("RI", "44", "Rhode Island"),
    ("SC", "45", "South Carolina"), ("SD", "46", "South Dakota"), ("TN", "47", "Tennessee"),
    ("TX", "48", "Texas"), ("UT", "49", "Utah"), ("VT", "50", "Vermont"),
    ("VA", "51", "Virginia"), ("WA", "53", "Washington"), ("WV", "54", "West Virginia"),
    ("WI", "55", "Wisconsin"), ("WY", "56", "Wyoming"),
    ("PR", "72", "Puerto Rico"), ("AS", "60", "American Samoa"), ("GU", "66", "Guam"),
    ("MP", "69", "Northern Mariana Islands"), ("VI", "78", "U.S. Virgin Islands"),
]

#: Table of states and territories: columns ``state`` (USPS), ``fips``, ``name``,
#: ``is_state`` (the 50 states), ``in_51`` (50 states + DC).
STATES = pd.DataFrame(_TABLE, columns=["state", "fips", "name"])
STATES["is_state"] = ~STATES["state"].isin(["DC", "PR", "AS", "GU", "MP", "VI"])
STATES["in_51"] = STATES["is_state"] | (STATES["state"] == "DC")

_BY_USPS = {usps: (fips, name) for usps, fips, name in _TABLE}
_IN_51 = tuple(STATES.loc[STATES["in_51"], "state"])
#: USPS codes of the 50 states and DC, the places with Census population figures
#: (the one set the coverage tables, agencies and timelines count in).
STATES_AND_DC = frozenset(_IN_51)
_LOOKUP: dict[str, str] = {}
for _usps, _fips, _name in _TABLE:
    _LOOKUP[_usps.lower()] = _usps
    _LOOKUP[_fips] = _usps
    _LOOKUP[_name.lower()] = _usps
_LOOKUP.update({
    "washington dc": "DC", "washington d.c.": "DC", "d.c.": "DC",
    "virgin islands": "VI", "us virgin islands": "VI", "united states virgin islands": "VI",
    "commonwealth of puerto rico": "PR",
})


def _key(value: str) -> str:
    text = strip_invisible(unicodedata.normalize("NFKC", str(value)))
    return re.sub(r"\s+", " ", text).strip().lower()


def validate_state(value, *, allow_territories: bool = True) -> str:
    """Return the USPS code for a state name, abbreviation or FIPS code.

    Parameters
    ----------
    value : str or int
        ``"Pennsylvania"``, ``"pa"``, ``"PA"``, ``"42"``, ``42``.
    allow_territories : bool, default True
        Accept Puerto Rico and the island areas.

    Returns
    -------
    str
        The two-letter USPS code.

    Raises
    ------
    ParameterError
        When the value names no state; the message lists the valid codes.

    Examples
    --------
    >>> validate_state("Pennsylvania")
    'PA'
    >>> validate_state(6)
    'CA'
    >>> validate_state(" new  york ")
    'NY'
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:02d}"
    key = _key(value) if value is not None else ""
    if key.isdigit():
        key = key.zfill(2)
    usps = _LOOKUP.get(key)
    allowed = _BY_USPS if allow_territories else _IN_51
    if usps not in allowed:
        raise ParameterError(
            f"{value!r} is not a US state: expected a state name, USPS code or FIPS code, "
            f"one of {', '.join(allowed)}."
        )
    return usps


def state_fips(usps: str) -> str:
    """Return the 2-character FIPS code of a USPS code.

    Examples
    --------
    >>> state_fips("VA")
    '51'
    """
    return _BY_USPS[validate_state(usps)][0]


def state_name(usps: str) -> str:
    """Return the full name of a state given any spelling.

    Examples
    --------
    >>> state_name("la")
    'Louisiana'
    """
    return _BY_USPS[validate_state(usps)][1]


def fips_to_usps(fips: str) -> str:
    """Return the USPS code of a 2-character state FIPS code.

    Examples
    --------
    >>> fips_to_usps("11")
    'DC'
    """
    return validate_state(str(fips).zfill(2))
