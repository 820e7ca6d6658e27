"""The corrections tables: source errors fixed by rows with a reason and evidence.

:func:`read_corrections` reads and checks a corrections table: the partner
corrections (``ringgeo/corrections.csv``, applied by :func:`ringgeo.linking.link_partners`)
and the FBI agency corrections (``ringgeo/agency_corrections.csv``, applied by
:func:`ringgeo.agencies.load_agencies`). ``docs/linking.md`` describes the format.
"""

from __future__ import annotations

import pathlib
from importlib import resources

import pandas as pd

from ._names import clean
from ._rowchecks import read_csv_table
from .exceptions import InputError

__all__ = ["read_corrections", "check_corrections", "CORRECTION_FIELDS", "CORRECTION_COLUMNS"]

#: Fields a correction may change. ``muni_geoid`` overrides the municipality
#: the methods chose (its ``old_value`` is that choice, empty if none); ``ori``
#: overrides the FBI agency the matcher chose (likewise).
CORRECTION_FIELDS = ("state", "city", "county_names", "muni_geoid", "ori")
#: The columns of a corrections table (the first names the record: ``partner_id`` or ``ori``).
CORRECTION_COLUMNS = ("partner_id", "field", "old_value", "new_value", "reason", "evidence")

def _default_corrections() -> pathlib.Path:
    return pathlib.Path(str(resources.files("ringgeo").joinpath("corrections.csv")))


def read_corrections(path=None, *, key: str = "partner_id", fields=CORRECTION_FIELDS
                     ) -> pd.DataFrame:
    """Read and check a corrections table.

    Parameters
    ----------
    path : str or path-like, optional
        A CSV with columns ``partner_id, field, old_value, new_value, reason,
        evidence``; default the project's ``ringgeo/corrections.csv``.
    key : str, default "partner_id"
        The column naming the corrected record (``"ori"`` for the agency
        corrections of :mod:`ringgeo.agencies`).
    fields : tuple of str
        The fields that may be corrected.

    Returns
    -------
    pandas.DataFrame
        The corrections as strings (blank cells are ``""``), plus ``line``
        (line number in the file, header = 1) and ``file``.

    Raises
    ------
    InputError
        Missing file or column, a field that cannot be corrected, a blank
        reason or evidence, or two corrections of the same field of one partner.

    Examples
    --------
    >>> table = read_corrections()
    >>> set(table["field"]) <= set(CORRECTION_FIELDS)
    True
    >>> bool((table["evidence"] != "").all())
    True
    """
    path = pathlib.Path(path) if path is not None else _default_corrections()
    table = read_csv_table(path, (key,) + CORRECTION_COLUMNS[1:], "corrections file")
    return check_corrections(table.assign(file=str(path)), key=key, fields=fields)


def check_corrections(table: pd.DataFrame, *, key: str = "partner_id",
                       fields=CORRECTION_FIELDS) -> pd.DataFrame:
    """Clean a corrections table (columns, ``line``, ``file``) and check every row."""
    table = table.copy()
    for column in (key,) + CORRECTION_COLUMNS[1:]:
        table[column] = pd.Series([clean(v) for v in table[column]], index=table.index,
                                  dtype="str")
    for rec in table.to_dict("records"):
        where = (f"corrections file {rec['file']}, line {rec['line']} "
                 f"({rec[key] or 'no ' + key})")
        if rec["field"] not in fields:
            raise InputError(f"{where}: field {rec['field']!r} cannot be corrected; use one "
                             f"of {', '.join(fields)}.")
        for column in (key, "reason", "evidence"):
            if not rec[column]:
                raise InputError(f"{where}: {column} is blank; every correction names its "
                                 f"record and states its reason and evidence.")
    dup = table.duplicated([key, "field"], keep=False)
    if dup.any():
        lines = table.loc[dup, "line"].tolist()
        raise InputError(f"corrections file {table['file'].iat[0]}, lines {lines}: the same "
                         f"field of one record ({key}) is corrected twice; keep one row.")
    return table
