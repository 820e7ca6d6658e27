"""Checks of tables that name the file, line and field (private helpers).

:func:`require_columns` checks that a table (a source file read, or a table
passed in) has the columns a function needs: used by the geography, agency,
coverage and table builders. :func:`fail_first` and :func:`coordinates` check
rows of the FBI agency list (:mod:`ringgeo.agencies`) and the GeoNames postal
codes (:mod:`ringgeo.postal`): the first bad row of a check becomes one
:class:`~ringgeo.exceptions.InputError` that says where it is and what would
fix it.
"""

from __future__ import annotations

import csv
import pathlib

import pandas as pd

from .exceptions import InputError


def require_columns(frame: pd.DataFrame, columns, where: str, fix: str) -> None:
    """Raise ``"<where> lacks column(s) A, B (found C, D); <fix>"`` for missing ``columns``.

    Examples
    --------
    >>> require_columns(pd.DataFrame({"GEOID": []}), ["GEOID", "name"], "table 'x'",
    ...                 "pass ringgeo.geography.load_counties().")
    Traceback (most recent call last):
    ringgeo.exceptions.InputError: table 'x' lacks column(s) name (found GEOID); pass ...
    """
    missing = [str(col) for col in columns if col not in frame.columns]
    if missing:
        found = [str(col) for col in frame.columns]
        shown = ", ".join(found[:12]) + (f" and {len(found) - 12} more" if len(found) > 12
                                         else "")
        raise InputError(f"{where} lacks column(s) {', '.join(missing)} (found "
                         f"{shown or 'none'}); {fix}")


def fail_first(frame: pd.DataFrame, mask, field: str, what: str, where: str) -> None:
    """Raise for the first row of ``mask``: ``"<where>, line N, field F: 'value' <what>"``.

    ``frame`` has a ``row`` column (the line in the file).
    """
    line = int(frame.loc[mask, "row"].iloc[0])
    value = frame.loc[mask, field].iloc[0]
    shown = "the value" if pd.isna(value) else repr(value)
    raise InputError(f"{where}, line {line}, field {field}: {shown} {what}")


def coordinates(frame: pd.DataFrame, where: str, *, blank_ok: bool) -> None:
    """Make ``latitude`` and ``longitude`` float in place.

    A text or out-of-range value (or a blank one unless ``blank_ok``) fails naming its line.
    """
    for field, bound in (("latitude", 90), ("longitude", 180)):
        values = pd.to_numeric(frame[field], errors="coerce")
        bad = values.isna() | (values.abs() > bound)
        if blank_ok:
            bad &= frame[field].notna() | (values.abs() > bound)
        if bad.any():
            fail_first(frame, bad, field, f"is not a number between -{bound} and {bound}"
                       + ("; fix the coordinate or leave it blank." if blank_ok else "."),
                       where)
        frame[field] = values.astype("float64")


def read_csv_table(path, columns, what: str) -> pd.DataFrame:
    r"""Read a small curated CSV (UTF-8, header row) as strings, with each row's line number.

    Parameters
    ----------
    path : str or path-like
        The file.
    columns : sequence of str
        The columns the table must have (others are ignored).
    what : str
        The table's name in error messages ("corrections file").

    Returns
    -------
    pandas.DataFrame
        ``columns`` as read (a missing cell is ``None``), plus ``line`` (the line
        number in the file, header = 1).

    Raises
    ------
    InputError
        The file cannot be read or lacks a column; the message names the file.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "t.csv"
    ...     _ = path.write_text("a,b\n1,2\n", "utf-8")
    ...     read_csv_table(path, ["a"], "table")[["a", "line"]].values.tolist()
    [['1', 2]]
    """
    path = pathlib.Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InputError(f"{what} {path}: cannot be read ({err}).") from err
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(f"{what} {path}: missing column(s) {', '.join(missing)}; the table "
                         f"has the columns {', '.join(columns)}.")
    table = pd.DataFrame(rows, columns=list(columns))
    table["line"] = range(2, len(table) + 2)
    return table
