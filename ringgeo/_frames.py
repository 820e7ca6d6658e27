"""Frame helpers shared by the library's modules (private).

pandas (2.1 and later) deep-copies a frame's ``attrs`` into every frame or
series derived from it: each column read, filter and assignment. ringgeo's
tables carry their quality reports there (the agency list's holds every
flagged row, about 100 kB), so code that reads many columns of such a table
works on :func:`without_attrs` of it: the same columns, no report to copy.
"""

from __future__ import annotations

__all__ = ["without_attrs"]


def without_attrs(frame):
    """Return a shallow copy of ``frame`` (the same column data) with empty ``attrs``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"a": [1, 2]})
    >>> frame.attrs["quality"] = {"rows_read": 2}
    >>> bare = without_attrs(frame)
    >>> bare.attrs, frame.attrs["quality"]["rows_read"], bare["a"].tolist()
    ({}, 2, [1, 2])
    """
    out = frame.copy(deep=False)
    out.attrs = {}
    return out
