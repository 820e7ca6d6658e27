"""Frame helpers shared by the library's modules (private).

pandas (2.1 and later) deep-copies a frame's ``attrs`` into every frame or
series derived from it: each column read, filter and assignment. ringgeo's
tables carry their quality reports there (the agency list's holds every
flagged row, about 100 kB), so code that reads many columns of such a table
works on :func:`without_attrs` of it: the same columns, no report to copy.

:func:`json_ready` turns a value read from a table (numpy scalars, ``NaN``,
``NaT``, ``pd.NA``, timestamps, tuples) into plain Python data that
``json.dumps(..., allow_nan=False)`` writes as strict JSON.
"""

from __future__ import annotations

import datetime
import math

import numpy as np
import pandas as pd

__all__ = ["json_ready", "without_attrs"]


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


def json_ready(value):
    """Return ``value`` as plain JSON data: missing values as None, numbers as Python's.

    Dicts, lists and tuples are converted item by item (tuples become lists);
    ``NaN``, ``NaT``, ``pd.NA`` and infinities become None, numpy scalars their
    Python values, timestamps and dates ISO dates (``YYYY-MM-DD``, with the time
    when it is not midnight).

    Examples
    --------
    >>> import json
    >>> import numpy as np
    >>> import pandas as pd
    >>> data = {"n": np.int64(3), "x": float("nan"), "d": pd.NaT, "na": pd.NA,
    ...         "t": pd.Timestamp("2019-05-01"), "ok": np.bool_(True), "c": ("01001",)}
    >>> json.dumps(json_ready(data), allow_nan=False)
    '{"n": 3, "x": null, "d": null, "na": null, "t": "2019-05-01", "ok": true, "c": ["01001"]}'
    """
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_ready(item) for item in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (pd.Timestamp, datetime.datetime)):
        stamp = pd.Timestamp(value)
        return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
