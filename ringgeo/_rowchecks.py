"""Checks of tabular source files that name the file, line and field (private helpers).

Used by the readers of the FBI agency list (:mod:`ringgeo.agencies`) and the
GeoNames postal codes (:mod:`ringgeo.postal`): the first bad row of a check
becomes one :class:`~ringgeo.exceptions.InputError` that says where it is and
what would fix it.
"""

from __future__ import annotations

import pandas as pd

from .exceptions import InputError


def fail_first(frame: pd.DataFrame, mask, field: str, what: str, where: str) -> None:
    """Raise for the first row of ``mask``: ``"<where>, line N, field F: 'value' <what>"``.

    ``frame`` has a ``row`` column (the line in the file).
    """
    line = int(frame.loc[mask, "row"].iloc[0])
    value = frame.loc[mask, field].iloc[0]
    shown = "the value" if pd.isna(value) else repr(value)
    raise InputError(f"{where}, line {line}, field {field}: {shown} {what}")


def coordinates(frame: pd.DataFrame, where: str, *, blank_ok: bool) -> None:
    """Make ``latitude`` and ``longitude`` float in place; a text or out-of-range value (or
    a blank one unless ``blank_ok``) fails naming its line."""
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
