"""Validation of notebook parameters.

The notebooks' second code cell passes every parameter through these
validators, so a bad value from papermill, ``ringgeo figures`` or a student
fails in the first cells with a :class:`~ringgeo.exceptions.ParameterError`
that lists the allowed values, instead of deep inside a plotting call.

Each validator returns the value in canonical form (``"pa"`` becomes ``"PA"``,
``"2019-08-28"`` becomes a date string, a folder becomes an absolute path).
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import os
import re
import unicodedata
from pathlib import Path

import numpy as np

from ._cleaning import FIRST_YEAR
from ._config import OUTPUT_DIR_ENV, env_path
from .classes import SCHEMES
from .coverage._inputs import check_base
from .exceptions import ParameterError
from .metrics import METRICS  # the columns a map or ranking can show
from .partners import SNAPSHOT_DATES, as_timestamp
from .states import validate_state as _validate_usps
from .technologies import TECHNOLOGIES, resolve

__all__ = [
    "LEVELS", "METRICS", "FREQUENCIES", "FIRST_DATE", "SNAPSHOT_DATE",
    "validate_level", "validate_metric", "validate_as_of", "validate_state",
    "validate_states", "validate_scheme", "validate_k", "validate_bins",
    "validate_dpi", "validate_freq", "validate_top", "validate_output_dir", "output_name",
    "schemes", "validate_technology", "validate_technologies",
]

#: Map levels: one polygon per state, or one per county.
LEVELS = ("state", "county")

#: Before Ring's first published activation (2018-03-22), no partnership existed
#: (the same year before which partner cleaning flags a date as implausible).
FIRST_DATE = _dt.date(FIRST_YEAR, 1, 1)
#: The date of the one partner snapshot (the Atlas of Surveillance export).
SNAPSHOT_DATE = max(SNAPSHOT_DATES.values()).date()

_K_RANGE = (2, 9)        # ColorBrewer sequential ramps stop at 9 classes
_DPI_RANGE = (30, 600)  # 30: thumbnails (the plot tests' baseline images)


def _one_of(name: str, value, allowed) -> ParameterError:
    listed = ", ".join(repr(a) for a in allowed)
    return ParameterError(f"`{name}` was {value!r} but is expected to be one of {listed}.")


def validate_level(level, *, state=None) -> str:
    """Return a map level, ``"state"`` or ``"county"``.

    Parameters
    ----------
    level : str
        ``"state"`` or ``"county"`` (case-insensitive).
    state : str, optional
        The notebook's ``state`` parameter: a single-state map draws counties,
        so ``level="state"`` with a state is refused.

    Raises
    ------
    ParameterError
        An unknown level (the allowed ones are listed), or a state map of one state.

    Examples
    --------
    >>> validate_level("County")
    'county'
    >>> validate_level("tract")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ringgeo.exceptions.ParameterError: `level` was 'tract' but is expected to be one of ...
    """
    key = level.strip().lower() if isinstance(level, str) else level
    if key not in LEVELS:
        raise _one_of("level", level, LEVELS)
    if key == "state" and state is not None:
        raise ParameterError(
            f"`level` was 'state' with state={state!r}: a single-state map shows its counties; "
            "use level='county' with a state, or state=None for the national state map."
        )
    return key


def validate_metric(metric) -> str:
    """Return a coverage-table column that a figure or ranking can show.

    Raises
    ------
    ParameterError
        A name that is not in :data:`METRICS` (the allowed names are listed).

    Examples
    --------
    >>> validate_metric("partners_per_100k")
    'partners_per_100k'
    >>> validate_metric("per_capita")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ringgeo.exceptions.ParameterError: `metric` was 'per_capita' but is expected to be one of ...
    """
    key = metric.strip() if isinstance(metric, str) else metric
    if key not in METRICS:
        raise _one_of("metric", metric, METRICS)
    return key


def validate_as_of(as_of) -> str | None:
    """Return an ``as_of`` date as an ISO string, or None for the whole snapshot.

    Parameters
    ----------
    as_of : str, datetime.date, pandas.Timestamp or None
        A date between 2018-01-01 and 2020-10-07 (the snapshot date).

    Raises
    ------
    ParameterError
        Not a date in ``YYYY-MM-DD`` form, or outside the range.

    Examples
    --------
    >>> validate_as_of("2019-08-28")
    '2019-08-28'
    >>> validate_as_of(None) is None
    True
    >>> validate_as_of("2021-01-01")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ringgeo.exceptions.ParameterError: `as_of` was '2021-01-01' but must fall between ...
    """
    if as_of is None:
        return None
    # the rules load_partners(as_of=...) applies: the day it will slice with
    day = as_timestamp(as_of).date()
    if not FIRST_DATE <= day <= SNAPSHOT_DATE:
        raise ParameterError(
            f"`as_of` was {as_of!r} but must fall between {FIRST_DATE} and {SNAPSHOT_DATE} "
            "(the date of the Atlas of Surveillance snapshot); use None for every "
            "partnership in the snapshot."
        )
    return day.isoformat()


def validate_state(state) -> str | None:
    """Return the USPS code of a state, or None for a national figure.

    Accepts names, USPS codes and FIPS codes (see :func:`ringgeo.states.validate_state`);
    only the 50 states and DC, the places with population figures.

    Examples
    --------
    >>> validate_state("new jersey")
    'NJ'
    >>> validate_state(None) is None
    True
    """
    if state is None:
        return None
    return _validate_usps(state, allow_territories=False)


def validate_states(states) -> list[str]:
    """Return a list of USPS codes (a timeline's chosen states), without duplicates.

    Examples
    --------
    >>> validate_states(["Illinois", "ca", "CA"])
    ['IL', 'CA']
    >>> validate_states("TX")
    ['TX']
    """
    if states is None:
        return []
    if isinstance(states, (str, int)):
        states = [states]
    if not isinstance(states, (list, tuple)):
        raise ParameterError(
            f"`states` was {states!r} but is expected to be a list of states, e.g. ['IL', 'CA']."
        )
    codes = [_validate_usps(s, allow_territories=False) for s in states]
    return list(dict.fromkeys(codes))


def validate_technology(technology, *, name: str = "technology") -> str:
    """Return the ringgeo key of one Atlas technology (notebook 09's ``technology``).

    Raises
    ------
    ParameterError
        A name that is no technology of the Atlas (the allowed keys are listed).

    Examples
    --------
    >>> validate_technology("Face Recognition"), validate_technology(" alpr ")
    ('face_recognition', 'alpr')
    >>> validate_technology("robots")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ringgeo.exceptions.ParameterError: `technology` was 'robots' but is expected to be one of ...
    """
    try:
        key = resolve(technology) if isinstance(technology, str) else None
    except ValueError:
        key = None
    if key is None or key == "all":
        raise _one_of(name, technology, TECHNOLOGIES)
    return key


def validate_technologies(technologies, *, name: str = "compare_with") -> list[str]:
    """Return a list of technology keys, without duplicates (notebook 09's ``compare_with``).

    Examples
    --------
    >>> validate_technologies(["drones", "Face Recognition", "drones"])
    ['drones', 'face_recognition']
    >>> validate_technologies("alpr")
    ['alpr']
    """
    if technologies is None:
        return []
    if isinstance(technologies, str):
        technologies = [technologies]
    if not isinstance(technologies, (list, tuple)):
        raise ParameterError(f"`{name}` was {technologies!r} but is expected to be a list of "
                             f"technologies, e.g. ['drones', 'alpr'].")
    return list(dict.fromkeys(validate_technology(t, name=name) for t in technologies))


def schemes() -> tuple[str, ...]:
    """Return the class-break scheme names the figures accept.

    The list comes from :mod:`ringgeo.plot` (``ringgeo.plot.SCHEMES``) so that the
    notebook check and the plotting code never disagree.

    Examples
    --------
    >>> "quantiles" in schemes()
    True
    """
    return tuple(SCHEMES)


def validate_scheme(scheme) -> str:
    """Return a mapclassify scheme name the figures accept.

    Raises
    ------
    ParameterError
        An unknown scheme; the message lists :func:`schemes`.

    Examples
    --------
    >>> validate_scheme("Quantiles")
    'quantiles'
    """
    allowed = schemes()
    key = scheme.strip().lower().replace(" ", "_").replace("-", "_") if isinstance(
        scheme, str) else scheme
    if key not in allowed:
        raise _one_of("scheme", scheme, allowed)
    return key


def _int_in(name: str, value, low: int, high: int, why: str) -> int:
    if isinstance(value, np.integer):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"`{name}` was {value!r} but is expected to be a whole number "
                             f"from {low} to {high}.")
    if not low <= value <= high:
        raise ParameterError(f"`{name}` was {value} but is expected to be from {low} to "
                             f"{high} ({why}).")
    return value


def validate_k(k) -> int:
    """Return the number of classes of a map (2 to 9).

    Examples
    --------
    >>> validate_k(5)
    5
    >>> validate_k(12)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ringgeo.exceptions.ParameterError: `k` was 12 but is expected to be from 2 to 9 (readers ...
    """
    return _int_in("k", k, *_K_RANGE, "readers cannot tell more shades apart")


def validate_dpi(dpi) -> int:
    """Return a figure resolution in dots per inch (30 to 600).

    ``ringgeo.plot.save`` checks its ``dpi`` with this validator too.

    Examples
    --------
    >>> validate_dpi(200)
    200
    """
    return _int_in("dpi", dpi, *_DPI_RANGE, "screen to print resolution")


def validate_bool(value, name: str) -> bool:
    """Return a yes/no parameter, which must be ``True`` or ``False``.

    Examples
    --------
    >>> validate_bool(True, "agencies")
    True
    >>> validate_bool("yes", "agencies")
    Traceback (most recent call last):
    ...
    ringgeo.exceptions.ParameterError: `agencies` was 'yes' but is expected to be True or False.
    """
    if not isinstance(value, bool):
        raise ParameterError(f"`{name}` was {value!r} but is expected to be True or False.")
    return value


def validate_bins(bins, scheme: str) -> list[float] | None:
    """Return the upper class bounds of a ``user_defined`` scheme, or None.

    Parameters
    ----------
    bins : list of float or None
        Strictly increasing, finite upper bounds (no NaN, no infinity); required with
        ``scheme="user_defined"`` and refused with other schemes (they compute their own breaks).
    scheme : str
        The validated scheme name.

    Examples
    --------
    >>> validate_bins([0.1, 0.25, 0.5, 1.0], "user_defined")
    [0.1, 0.25, 0.5, 1.0]
    >>> validate_bins(None, "quantiles") is None
    True
    >>> validate_bins([3, 1], "user_defined")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ringgeo.exceptions.ParameterError: `bins` was [3, 1] but is expected to be strictly ...
    """
    if scheme != "user_defined":
        if bins is not None:
            raise ParameterError(f"`bins` was {bins!r} with scheme={scheme!r}: only "
                                 "scheme='user_defined' takes bins; use bins=None.")
        return None
    bad = ParameterError(f"`bins` was {bins!r} but is expected to be strictly increasing "
                         "numbers, e.g. [0.1, 0.25, 0.5, 1.0].")
    if isinstance(bins, np.ndarray):
        bins = bins.tolist()
    if not isinstance(bins, (list, tuple)) or not bins:
        raise bad
    if any(isinstance(b, (bool, np.bool_)) or not isinstance(b, numbers.Real) for b in bins):
        raise bad
    if not all(math.isfinite(b) for b in bins):
        raise ParameterError(f"`bins` was {bins!r} but every bound must be a finite number "
                             "(no NaN or infinity): the last class ends at the last bound.")
    if any(a >= b for a, b in zip(bins, bins[1:])):
        raise bad
    return [float(b) if isinstance(b, float) else int(b) for b in bins]


#: Timeline period lengths (as ``ringgeo.coverage.timeline`` takes them).
FREQUENCIES = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}


def validate_freq(freq) -> str:
    """Return a timeline period length: ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.

    Examples
    --------
    >>> validate_freq("m")
    'M'
    >>> validate_freq("H")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ringgeo.exceptions.ParameterError: `freq` was 'H' but is expected to be one of 'D', 'W', ...
    """
    key = freq.strip().upper() if isinstance(freq, str) else freq
    if key not in FREQUENCIES:
        raise _one_of("freq", freq, FREQUENCIES)
    return key


# OUTPUT_DIR_ENV (ringgeo.data): the default output folder of the notebooks (the test
# suite points it at a temporary folder, so nbval runs write nothing into the checkout).
#: Default output folder, relative to the notebooks' folder: the project's ``output/``.
DEFAULT_OUTPUT_DIR = "../output"


def validate_output_dir(output_dir, *, create: bool = True) -> Path:
    """Return the output folder as an absolute path, created if needed.

    ``None`` means the folder named by ``RINGGEO_OUTPUT_DIR`` if set, otherwise
    ``../output`` (the project's ``output/`` when run from ``notebooks/``).

    Raises
    ------
    ParameterError
        An empty value, or a path that exists and is not a folder.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder = validate_output_dir(tmp)
    ...     print(folder.is_absolute() and folder.is_dir())
    True
    """
    if output_dir is None:
        # an absolute path even when the variable was set relative to another folder
        output_dir = env_path(OUTPUT_DIR_ENV) or DEFAULT_OUTPUT_DIR
    if not str(output_dir).strip():
        raise ParameterError("`output_dir` is empty: give a folder for figures and tables, "
                             "e.g. 'output'.")
    folder = Path(os.path.expanduser(str(output_dir))).resolve()
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"`output_dir` {str(folder)!r} exists and is not a folder: "
                             "give a folder path.")
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


_UNSAFE = re.compile(r"[^\w-]+")  # \w: letters and digits of any script, and "_"


def _fold(text: str) -> str:
    """Lower case without accents ("São Paulo" -> "sao paulo"); other scripts stay."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", kept)


def output_name(*parts) -> str:
    """Return a safe file stem built from parameter values.

    Values are lower-cased and accents dropped (``"Bogotá"`` becomes
    ``"bogota"``; letters of other scripts are kept); every run of characters
    that are not letters, digits, ``_`` or ``-`` (slashes, dots, spaces) becomes
    one ``_``; ``None`` and empty parts are skipped. The result can never leave
    its folder.

    Raises
    ------
    ParameterError
        When nothing usable remains.

    Examples
    --------
    >>> output_name("fig2", "county", "share_covered_max", "NJ", None)
    'fig2_county_share_covered_max_nj'
    >>> output_name("../../etc/passwd")
    'etc_passwd'
    >>> output_name("as of", "2019-08-28")
    'as_of_2019-08-28'
    >>> output_name("Peña Blanca", "Straße")
    'pena_blanca_strasse'
    """
    words = []
    for part in parts:
        if part is None:
            continue
        word = _UNSAFE.sub("_", _fold(str(part))).strip("_-")
        if word:
            words.append(word)
    stem = re.sub(r"_{2,}", "_", "_".join(words))
    if not stem:
        raise ParameterError(f"cannot build a file name from {parts!r}: give a name made of "
                             "letters, digits, '_' or '-'.")
    return stem[:120].strip("_-")


def validate_top(top) -> int:
    """Return the number of table rows a notebook shows (``top``), a whole number >= 1.

    Raises
    ------
    ParameterError
        Not a whole number, or below 1.

    Examples
    --------
    >>> validate_top(10)
    10
    >>> validate_top(0)
    Traceback (most recent call last):
    ...
    ringgeo.exceptions.ParameterError: `top` was 0 but is expected to be a whole number >= 1.
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ParameterError(f"`top` was {top!r} but is expected to be a whole number >= 1.")
    return top


def validate_base(base) -> str:
    """Return the population base, ``"2019"`` or ``"2020"`` (see :func:`ringgeo.coverage.by_state`).

    Examples
    --------
    >>> validate_base(2020)
    '2020'
    >>> validate_base("2010")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ringgeo.exceptions.ParameterError: base was '2010' but is expected to be one of '2019', ...
    """
    return check_base(base)
