"""The published tables and the words around them, built from the coverage tables.

The notebooks call these functions and write what they return:

- :func:`partners_by_state_year`: ``table0`` (notebook 01), partnerships by
  state and year of activation;
- :func:`ranked`: ``table1`` (notebook 03), a coverage table ranked by one
  metric, with the published columns in the published order;
- :func:`map_title`: the default headline of a map (notebook 02);
- :func:`write_csv`: every CSV file the package writes (the notebooks' tables,
  ``ringgeo lookup --csv``), through :func:`safe_csv`: a text cell a
  spreadsheet would run as a formula gets a leading apostrophe;
- :func:`display_table`: a table as a notebook shows it to a reader (counts
  with thousands separators, shares as percentages, dates as days, a dash for
  a missing value); the written files keep the raw values;
- :func:`notes`: shows the warnings of the calls inside it as plain
  ``Note: ...`` lines (the notebooks' loading cells), not as Python's warning
  boxes with the kernel's temporary file paths.

Their columns are documented in the README ("Output tables").
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import sys
import warnings
from typing import TYPE_CHECKING

import pandas as pd

from . import params, technologies
from ._config import RAW_CSV_ENV, env_switch
from ._rowchecks import require_columns
from .exceptions import InputError, ParameterError
from .metrics import metric_for
from .states import state_name

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

__all__ = ["UNKNOWN_YEAR", "TABLE1_COLUMNS", "TABLE1_DECIMALS", "partners_by_state_year",
           "ranked", "map_title", "FORMULA_STARTS", "safe_csv", "write_csv", "NA_REP",
           "display_table", "notes"]

#: Column of :func:`partners_by_state_year` counting partnerships without an
#: activation date.
UNKNOWN_YEAR = "unknown"

#: Measure columns of the published ranked tables (``table1``), in order; the
#: id columns (``rank``, ``state`` or ``GEOID``, ``state``, ``name``) come first.
TABLE1_COLUMNS = ["partners", "police", "sheriffs", "other", "population", "partners_per_100k",
                  "pop_covered_min", "pop_covered_max", "share_covered_min", "share_covered_max"]

#: Decimals kept by :func:`ranked` for the rate and share columns (rounding a
#: count would change nothing).
TABLE1_DECIMALS = {"partners_per_100k": 4, "share_covered_min": 4, "share_covered_max": 4,
                   "share_agencies_partnered": 4, "share_police_partnered": 4,
                   "share_sheriffs_partnered": 4}


def _require(table: pd.DataFrame, columns, what: str) -> None:
    require_columns(table, columns, what,
                    "pass the table that ringgeo.load_partners or ringgeo.coverage returns.")


def partners_by_state_year(partners: pd.DataFrame) -> pd.DataFrame:
    """Count partnerships by state (rows) and year of activation (columns): ``table0``.

    Parameters
    ----------
    partners : pandas.DataFrame
        The partner table of :func:`ringgeo.load_partners` (columns ``state``
        and ``activated``).

    Returns
    -------
    pandas.DataFrame
        Indexed by USPS code (index name ``state``), one row per state with a
        partner; one column per activation year (``"2018"``, ...), then
        :data:`UNKNOWN_YEAR` (partnerships without an activation date, always
        present) and ``total`` (the sum of the others). Sorted by ``total``,
        largest first, then by state. Every partnership counts once: the
        column sums add up to ``len(partners)`` (a partnership without a state
        counts in a row ``unknown``).

    Raises
    ------
    InputError
        ``partners`` lacks ``state`` or ``activated``.

    Examples
    --------
    >>> import pandas as pd
    >>> partners = pd.DataFrame({
    ...     "state": ["IL", "IL", "CA", "IL"],
    ...     "activated": pd.to_datetime(["2019-05-01", "2020-01-02", "2019-12-31", None])})
    >>> partners_by_state_year(partners)  # doctest: +NORMALIZE_WHITESPACE
           2019  2020  unknown  total
    state
    IL        1     1        1      3
    CA        1     0        0      1
    """
    _require(partners, ["state", "activated"], "The partner table")
    activated = pd.to_datetime(partners["activated"])
    year = activated.dt.year.astype("Int64").astype("string").fillna(UNKNOWN_YEAR)
    years = sorted(set(year) - {UNKNOWN_YEAR})
    state = partners["state"].astype("string").fillna(UNKNOWN_YEAR)  # never dropped
    counts = pd.crosstab(state, year) if len(partners) else pd.DataFrame()
    table = counts.reindex(columns=years + [UNKNOWN_YEAR], fill_value=0).astype("int64")
    table = table.rename_axis(index="state", columns=None)
    table["total"] = table.sum(axis="columns")
    return table.sort_values(["total", "state"], ascending=[False, True])


def ranked(table: pd.DataFrame, rank_by: str = "partners_per_100k", *,
           columns=None) -> pd.DataFrame:
    """Rank a coverage table by one metric, with the published columns: ``table1``.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`ringgeo.coverage.by_state` (indexed by ``state``) or
        :func:`ringgeo.coverage.by_county` (indexed by ``GEOID``, with a
        ``state`` column).
    rank_by : str
        The column ranked, highest first (e.g. ``"partners_per_100k"``,
        ``"share_covered_max"``, ``"partners"``).
    columns : list of str, optional
        The measure columns kept, in order; default :data:`TABLE1_COLUMNS`.
        ``rank_by`` is appended when it is not among them.

    Returns
    -------
    pandas.DataFrame
        A plain (0, 1, ...) index; columns ``rank``, the id (``state``, or
        ``GEOID`` and ``state``), ``name``, then the measures. ``rank`` is
        1 for the highest value; ties share the smaller rank; rows without a
        value (no population) have no rank and come last. Rows are sorted by
        rank, then id. Rates and shares are rounded (:data:`TABLE1_DECIMALS`).

    Raises
    ------
    InputError
        ``table`` is not indexed by ``state`` or ``GEOID``, or lacks a column.

    Examples
    --------
    >>> import pandas as pd
    >>> states = pd.DataFrame({"name": ["Alpha", "Beta", "Gamma"],
    ...                        "partners": [2, 1, 0],
    ...                        "partners_per_100k": [0.5, 1.234567, None]},
    ...                       index=pd.Index(["AA", "BB", "CC"], name="state"))
    >>> ranked(states, columns=["partners", "partners_per_100k"])
       rank state   name  partners  partners_per_100k
    0     1    BB   Beta         1             1.2346
    1     2    AA  Alpha         2             0.5000
    2  <NA>    CC  Gamma         0                NaN
    """
    key = table.index.name
    if key not in ("state", "GEOID"):
        raise InputError(f"ranked() expects a table of ringgeo.coverage.by_state (index name "
                         f"'state') or by_county (index name 'GEOID'), got index name {key!r}.")
    if not isinstance(rank_by, str) or rank_by not in table.columns:
        numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
        raise ParameterError(f"`rank_by` was {rank_by!r} but is expected to be one of the "
                             f"table's columns: {', '.join(numeric)}.")
    measures = list(TABLE1_COLUMNS if columns is None else columns)
    if rank_by not in measures:
        measures.append(rank_by)
    ids = [key] + (["state"] if key == "GEOID" else []) + ["name"]
    _require(table, [c for c in ids if c != key] + measures, "The coverage table")
    out = table.reset_index()
    out.insert(0, "rank", out[rank_by].rank(ascending=False, method="min").astype("Int64"))
    out = out.sort_values(["rank", key], na_position="last", kind="stable", ignore_index=True)
    decimals = {c: d for c, d in TABLE1_DECIMALS.items() if c in measures}
    return out[["rank"] + ids + measures].round(decimals)


def map_title(metric: str, level: str = "state", state: str | None = None, *,
              frame=None, partners=None) -> str:
    """Return the default headline of a map: the technology, the metric's label and the areas.

    The label is the map's legend title too (:data:`ringgeo.metrics.METRICS`), so
    headline and legend name the metric in the same words. The headline names the
    technology in the words of :mod:`ringgeo.technologies` (``partners.attrs["technology"]``;
    Ring partnerships by default), unless the label already does.

    Parameters
    ----------
    metric : str
        A key of :data:`ringgeo.metrics.METRICS`.
    level : {"state", "county"}
        One area per state, or per county.
    state : str, optional
        USPS code of the one state drawn (with its counties); None: the nation.
    frame : pandas.DataFrame, optional
        The table drawn: a table of another technology than Ring
        (``attrs["technology"]``, see :func:`ringgeo.load_atlas`) is named in its
        own words (:func:`ringgeo.metrics.metric_for`).
    partners : pandas.DataFrame, optional
        The partner table mapped, the same as ``frame`` (either may be given); None
        for both: Ring's.

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        An unknown metric, level or state (the message lists the allowed values).

    Examples
    --------
    >>> map_title("partners_per_100k")
    'Ring partnerships: partners per 100,000 residents, by state'
    >>> map_title("share_covered_max", "county", "FL")
    'Ring partnerships: share of residents covered (upper bound), by county, Florida'
    >>> map_title("partners")
    'Ring partner agencies, by state'
    """
    metric = params.validate_metric(metric)
    state = params.validate_state(state)
    level = params.validate_level(level, state=state)
    if level == "state":
        where = "by state"
    else:
        where = "by county" if state is None else f"by county, {state_name(state)}"
    table = frame if frame is not None else partners
    label = metric_for(metric, table).label
    if technologies.noun(table).casefold() not in label.casefold():
        label = f"{technologies.label(table)}: {label[0].lower()}{label[1:]}"
    return f"{label}, {where}"


# ------------------------------------------------------------------ CSV files
#: The first characters that make a spreadsheet read a cell as a formula (OWASP,
#: "CSV Injection"): a text cell starting with one of them is written after an apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A plain number written as text (``-3.5``, ``+1e3``): a spreadsheet reads it as that
#: number, never as a formula, so it is left alone.
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def _neutral(value):
    if (isinstance(value, str) and value.startswith(FORMULA_STARTS)
            and not _PLAIN_NUMBER.match(value)):
        return "'" + value
    return value


def _neutral_values(values: pd.Index | pd.Series):
    if isinstance(values, pd.MultiIndex):
        return values.set_levels([_neutral_values(level) for level in values.levels])
    if not (pd.api.types.is_object_dtype(values.dtype)
            or pd.api.types.is_string_dtype(values.dtype)
            or isinstance(values.dtype, pd.CategoricalDtype)):
        return values  # numbers, dates, booleans: never a formula
    return values.map(_neutral) if isinstance(values, pd.Index) else \
        values.astype(object).map(_neutral)


def safe_csv(frame: pd.DataFrame, raw: bool | None = None) -> pd.DataFrame:
    """Return ``frame`` with every text cell a spreadsheet would run as a formula made inert.

    A text cell (values, index labels and column names) starting with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return gets a leading apostrophe, as OWASP's
    guidance on CSV injection advises: a partner file's agency named
    ``=HYPERLINK(...)`` is shown as text by Excel or LibreOffice, not run. Numbers
    are never changed, neither in number columns nor written as text (``-3.5``).

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to write.
    raw : bool, optional
        True returns ``frame`` unchanged. Default: ``RINGGEO_RAW_CSV`` (``1`` for raw
        values), else False.

    Returns
    -------
    pandas.DataFrame
        A copy with the guarded cells (``frame`` itself is left alone), or ``frame``
        when nothing needs a guard or ``raw`` is on.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"agency": ["=1+2", "-Aurora", "Aurora"],
    ...                       "text_number": ["-3.5", "@x", "+1"], "x": [-3.5, 0.0, 1.0]})
    >>> safe_csv(frame)
         agency text_number    x
    0     '=1+2        -3.5 -3.5
    1  '-Aurora         '@x  0.0
    2    Aurora          +1  1.0
    >>> safe_csv(frame, raw=True) is frame
    True
    """
    if raw is None:
        raw = bool(env_switch(RAW_CSV_ENV))
    if raw:
        return frame
    out = frame.copy(deep=False)
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        guarded = _neutral_values(column)
        if guarded is not column:
            out.isetitem(position, guarded.to_numpy(dtype=object))
    out.index = _neutral_values(out.index)
    out.columns = _neutral_values(out.columns)
    return out


def write_csv(frame: pd.DataFrame, path_or_buf, *, raw: bool | None = None, **kwargs) -> None:
    """Write ``frame`` as CSV with its formula-like text cells guarded (:func:`safe_csv`).

    The one way ringgeo writes a CSV file: the notebooks' tables and
    ``ringgeo lookup --csv`` go through it.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    path_or_buf : str, path or file-like
        Where to write, as :meth:`pandas.DataFrame.to_csv` takes it.
    raw : bool, optional
        True writes text cells as they are; default: ``RINGGEO_RAW_CSV``.
    **kwargs
        Passed to :meth:`pandas.DataFrame.to_csv` (``index=False``, ...).

    Examples
    --------
    >>> import io
    >>> import pandas as pd
    >>> out = io.StringIO()
    >>> write_csv(pd.DataFrame({"name": ["=cmd()"], "n": [-1]}), out, index=False)
    >>> print(out.getvalue().strip())
    name,n
    '=cmd(),-1
    """
    safe_csv(frame, raw=raw).to_csv(path_or_buf, **kwargs)


#: What :func:`display_table` shows for a missing value (NaN, NaT, ``pd.NA``).
NA_REP = "\u2014"


def _table_class() -> type:
    """Make (once) the Styler class that :func:`display_table` returns.

    pandas' Styler imports jinja2 (30 ms): only a notebook that displays a table pays it, not
    ``ringgeo lookup --csv``, which imports this module to write its CSV.
    """
    global _TABLE
    if _TABLE is None:
        from pandas.io.formats.style import Styler

        class _Table(Styler):
            """A Styler whose plain-text form is the formatted table.

            Jupyter shows the HTML; a plain-text reader of the notebook (a terminal,
            a diff, ``nbconvert --to markdown``) sees the same formatted values
            instead of ``<pandas.io.formats.style.Styler at 0x...>``.
            """

            _text: str = ""

            def __repr__(self) -> str:
                return self._text

        _TABLE = _Table
    return _TABLE


_TABLE = None


def _is_share(name) -> bool:
    text = str(name)
    return text.startswith("share_") or text in {"ci_low", "ci_high"}


def display_table(frame: pd.DataFrame | pd.Series, *, percent=None, decimals: int = 2,
                  na_rep: str = NA_REP) -> "Styler":
    """Format a table for a notebook's reader; the values themselves are not changed.

    Integer columns get thousands separators (98643957 → 98,643,957), share
    columns (named ``share_...``, ``ci_low``, ``ci_high``, or listed in
    ``percent``: values from 0 to 1) are shown as percentages with one decimal,
    other numbers with ``decimals`` decimals and separators, dates as
    ``YYYY-MM-DD``, and every missing value (NaN, NaT, ``pd.NA``, None) as
    ``na_rep``. Write files with :func:`write_csv` from the frame, never from
    this display.

    Parameters
    ----------
    frame : pandas.DataFrame or pandas.Series
        The table (a Series is shown as a one-column table).
    percent : iterable of str, optional
        More columns to show as percentages.
    decimals : int, default 2
        Decimals of the other non-integer numbers.
    na_rep : str, default "—"
        What a missing value shows.

    Returns
    -------
    pandas.io.formats.style.Styler
        Shown by Jupyter as an HTML table; its plain-text form is the formatted
        table too.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"population": [98643957, None], "share_covered_max": [0.41234, 0.5],
    ...                       "activated": pd.to_datetime(["2019-10-21", None])},
    ...                      index=pd.Index(["A", "B"], name="state"))
    >>> print(repr(display_table(frame.astype({"population": "Int64"}))))
           population share_covered_max   activated
    state
    A      98,643,957             41.2%  2019-10-21
    B               —             50.0%           —
    """
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    extra = {str(c) for c in percent or ()}
    formats = {}
    for column in frame.columns:
        values = frame[column]
        dtype = values.dtype
        if pd.api.types.is_bool_dtype(dtype):
            continue
        if pd.api.types.is_datetime64_any_dtype(dtype):
            formats[column] = _date
        elif pd.api.types.is_integer_dtype(dtype):
            formats[column] = "{:,.0f}".format
        elif pd.api.types.is_float_dtype(dtype):
            if _is_share(column) or str(column) in extra:
                formats[column] = "{:.1%}".format
            elif (values.dropna() == values.dropna().round()).all() and len(values.dropna()):
                formats[column] = "{:,.0f}".format  # whole numbers with gaps (float)
            else:
                formats[column] = f"{{:,.{int(decimals)}f}}".format
    text = pd.DataFrame({position: [na_rep if _missing(v) else formats.get(column, str)(v)
                                    for v in frame[column]]
                         for position, column in enumerate(frame.columns)}, index=frame.index)
    text.columns = frame.columns
    if isinstance(frame.index, pd.DatetimeIndex):
        text.index = pd.Index([_date(v) for v in frame.index], name=frame.index.name)
    plain = "\n".join(line.rstrip() for line in text.to_string().splitlines())
    # the HTML's element ids from the content, not pandas' random uuid: a notebook shows
    # the same page at every run (and a forked kernel what a new one does)
    table = _table_class()(frame, uuid=hashlib.sha256(plain.encode()).hexdigest()[:8])
    table.format(formats, na_rep=na_rep)  # other columns: na_rep only
    table.format(None, na_rep=na_rep, subset=[c for c in frame.columns if c not in formats])
    if isinstance(frame.index, pd.DatetimeIndex):
        table.format_index(_date)
    table._text = plain
    return table


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array in a cell
        return False


def _date(value) -> str:
    return NA_REP if pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d}"


@contextlib.contextmanager
def notes(category: type[Warning] = UserWarning, *, file=None):
    """Show the warnings raised inside as plain ``Note: ...`` lines.

    ringgeo warns (:class:`UserWarning`) about what a reader should know of the
    data: partnerships without an activation date left out, values above the
    last class... Python shows a warning with the file and line that caused it,
    in a notebook a temporary path such as ``/tmp/ipykernel_123/456.py:2:
    UserWarning: ...``. The notebooks' loading cells run inside this context
    instead, which prints each distinct message once, as a sentence. Warnings
    of other categories (a library's ``DeprecationWarning``) are passed on as
    they are. The library's own calls still warn: only how the notebook shows
    them changes.

    Parameters
    ----------
    category : type of Warning, default UserWarning
        The warnings shown as notes (and their subclasses).
    file : file-like, optional
        Where to print; default: standard output. The notes are printed when the block ends.

    Yields
    ------
    list of warnings.WarningMessage
        The warnings caught, filled when the block ends.

    Examples
    --------
    >>> import warnings
    >>> with notes():
    ...     warnings.warn("170 partner(s) have no activation date.")
    ...     warnings.warn("170 partner(s) have no activation date.")
    Note: 170 partner(s) have no activation date.
    """
    shown: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", category)
            yield shown
    finally:  # also when the block fails: what it found is part of the story
        seen = set()
        out = file if file is not None else sys.stdout
        for message in caught:
            if issubclass(message.category, category):
                shown.append(message)
                text = str(message.message)
                if text not in seen:
                    seen.add(text)
                    print(f"Note: {text}", file=out)
            else:
                warnings.warn_explicit(message.message, message.category, message.filename,
                                       message.lineno, source=message.source)
