"""The parsed-data cache: loaded, cleaned and linked tables stored once on disk.

Reading the sources, cleaning and linking 1,501 partners and building the
Census geography takes seconds; every notebook kernel did it again. The tables
that :func:`ringgeo.load_partners` and the ``ringgeo.geography`` loaders return
are therefore stored, the first time they are built, as parquet files (through
fastparquet, which leaves pandas' string storage alone: with pyarrow installed,
pandas 3 stores every ``str`` column in pyarrow, which changes results such as
tuple aggregations and slows ``isin``) in ``<cache folder>/tables``
(:func:`ringgeo.data.cache_dir`, set by ``RINGGEO_CACHE_DIR``; never the data mirror,
which may be read-only), or in ``RINGGEO_TABLE_CACHE_DIR`` when that is set. A later
call, in any process, reads the file instead of building the table again.

It never serves a stale table. A file is named by the sha256 of everything the
table depends on:

* the call (table name and parameters, e.g. ``as_of``);
* each source file read: its registry sha256 and local path (the path appears
  in the quality report), after :func:`ringgeo.data.fetch` verified the file;
* the package: ``ringgeo.__version__`` and the content of every file of the
  installed package (``*.py``, ``corrections.csv``, ``sources.json``), so a
  changed correction row, a new registry hash or an edited module in a
  development checkout all make a new key, even without a version bump;
* the versions of pandas, numpy, fastparquet, shapely, pyproj and geopandas.

A file that cannot be read back (damaged, cut short, written by a different
format) is deleted and the table rebuilt. Files are written to a temporary
name in the same folder and renamed into place, so two kernels building the
same table at once each write a complete file (same content, same name); a
reader never sees half a file. A file's name ends with the sha256 of its own
bytes, checked on reading. A table is only stored if it reads back identical (values,
dtypes, ``attrs``, warnings): tuple and list columns, ``Int64``, ``str`` and
``datetime64[ns]`` dtypes and the quality report come back as built; a table
that would not is returned uncached.

The warnings a build emits (flagged rows, ``as_of`` notes) are stored with the
table and emitted again on every read, as a build would.

Set ``RINGGEO_PARSED_CACHE=0`` to switch the cache off (every call builds, as
before); ``ringgeo data cache --clear`` deletes the stored tables.

Examples
--------
>>> import pandas as pd
>>> from ringgeo import tablecache
>>> def build():
...     return pd.DataFrame({"n": pd.array([1, None], dtype="Int64")})
>>> tablecache.cached("doctest-example", {"k": 1}, build)["n"].tolist()
[1, <NA>]
"""

from __future__ import annotations

import contextlib
import copy
import gc
import hashlib
import importlib
import io
import itertools
import json
import os
import pathlib
import tempfile
import warnings
from typing import Callable

from . import data
from ._config import (
    PARSED_CACHE_ENV,
    TABLE_CACHE_DIR_ENV,
    env_path,
    env_switch,
    memoized,
    on_clear,
)
from ._frames import without_attrs
from ._version import __version__

__all__ = ["ENV", "enabled", "folder", "cached", "entries", "clear", "ensure_only", "cli"]

#: Environment variable switching the cache off: ``0``, ``false``, ``no`` or ``off``.
ENV = PARSED_CACHE_ENV
_FORMAT = 1  # bump when the file layout changes
_META_KEY = "ringgeo.tablecache"

# in-process copies: key digest -> (frame without attrs, attrs as JSON, warnings,
# the columns holding lists)
_MEMO: dict[str, tuple] = {}
on_clear(_MEMO.clear)
# set by warm(): a table already stored is not read back
_ENSURE_ONLY = False
# the tables this process built because no stored copy fitted (see :func:`built`)
_BUILT: list[str] = []


def enabled() -> bool:
    """Return whether the cache is on (``RINGGEO_PARSED_CACHE`` is not ``0``).

    Examples
    --------
    >>> import os
    >>> os.environ["RINGGEO_PARSED_CACHE"] = "off"
    >>> enabled()
    False
    >>> del os.environ["RINGGEO_PARSED_CACHE"]
    >>> enabled()
    True
    """
    return env_switch(ENV) is not False


def folder() -> pathlib.Path:
    """Return the folder of the stored tables.

    ``RINGGEO_TABLE_CACHE_DIR`` if set, otherwise ``<ringgeo.data.cache_dir()>/tables``.
    """
    override = env_path(TABLE_CACHE_DIR_ENV)
    return override if override is not None else data.cache_dir() / "tables"


# ------------------------------------------------------------------ the key
_PACKAGE = pathlib.Path(__file__).resolve().parent


@memoized(maxsize=4)
def _package_digest(root: pathlib.Path = _PACKAGE) -> str:
    """sha256 of the package's own files, subpackages included: code, curated tables, registry.

    Each file counts with its path inside the package, so a module moved between
    subpackages, or edited in one, changes the key and the tables are built again.
    """
    digest = hashlib.sha256()
    files = sorted(p for pattern in ("*.py", "*.csv", "*.json") for p in root.rglob(pattern)
                   if "__pycache__" not in p.relative_to(root).parts)
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes()
                      + b"\0")
    return digest.hexdigest()


@memoized(maxsize=1)
def _library_versions() -> dict:
    from importlib import metadata

    versions = {}
    for name in ("pandas", "numpy", "fastparquet", "shapely", "pyproj", "geopandas"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _digest(name: str, key: dict, sources) -> str:
    registry = data.registry()
    parts = {
        "format": _FORMAT, "name": name, "key": key, "version": __version__,
        "package": _package_digest(), "libraries": _library_versions(),
        # fetch verifies the file against the registry (and raises as it would uncached)
        "sources": {src: [registry[src], str(data.fetch(src))] for src in sources},
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# ------------------------------------------------------------------ attrs as JSON
def _encode(value):
    import numpy as np
    import pandas as pd

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and type(value) is int:
        return value
    if type(value) is float:
        return value if value == value else {"__nan__": True}
    if isinstance(value, pd.Timestamp):
        return {"__timestamp__": value.isoformat()}
    if isinstance(value, tuple) and type(value) is tuple:
        return {"__tuple__": [_encode(v) for v in value]}
    if type(value) is list:
        return [_encode(v) for v in value]
    if type(value) is dict and all(type(k) is str for k in value):
        return {"__dict__": {k: _encode(v) for k, v in value.items()}}
    if isinstance(value, np.generic):
        return {"__numpy__": [value.dtype.str, value.item()]}
    raise TypeError(f"cannot store {type(value).__name__} in the table cache")


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    (tag, inner), = value.items()
    if tag == "__nan__":
        return float("nan")
    if tag == "__timestamp__":
        import pandas as pd

        return pd.Timestamp(inner)
    if tag == "__tuple__":
        return tuple(_decode(v) for v in inner)
    if tag == "__numpy__":
        import numpy as np

        return np.dtype(inner[0]).type(inner[1])
    return {k: _decode(v) for k, v in inner.items()}


def _same_value(a, b) -> bool:
    """Strict equality: same types all the way down (a tuple is not a list), NaN == NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same_value(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and a != a:
        return b != b
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------------ frames to parquet
def _containers(frame) -> dict:
    """Object columns holding only tuples (or only lists): {column: "tuple"|"list"}."""
    kinds = {}
    for column in frame.columns:
        if frame[column].dtype != object or column == getattr(frame, "_geometry_column_name", None):
            continue
        types = {type(v) for v in frame[column]}
        if types and types <= {tuple} or types == {list}:
            kinds[column] = types.pop().__name__
    return kinds


def _write(folder_: pathlib.Path, stem: str, frame, caught: list) -> pathlib.Path:
    """Write ``<stem>-<sha256 of the file>.parquet`` through a temporary file; return it."""
    import pandas as pd

    fastparquet = _fastparquet()

    attrs = frame.attrs
    frame = without_attrs(frame)
    geometry = getattr(frame, "_geometry_column_name", None)
    meta = {
        "geometry": geometry,
        "crs": frame.crs.to_json() if geometry and frame.crs is not None else None,
        "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()},
        "containers": _containers(frame),
        "attrs": _encode(attrs),
        "warnings": caught,
    }
    plain = pd.DataFrame(frame.to_wkb()) if geometry else pd.DataFrame(frame)
    encoding = {}
    for column in plain.columns:
        if column == geometry:
            encoding[column] = "bytes"  # WKB
        elif column in meta["containers"]:
            plain[column] = [json.dumps(list(v)) for v in plain[column]]
            encoding[column] = "utf8"
        else:  # text columns; other object columns as fastparquet finds them
            encoding[column] = "utf8" if isinstance(plain[column].dtype, pd.StringDtype) \
                else "infer"
    folder_.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder_, prefix=f".{stem}.", suffix=".tmp")
    os.close(fd)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fastparquet's own notes (pandas options)
            fastparquet.write(tmp, plain, compression="ZSTD" if _has_zstd() else None,
                              object_encoding=encoding, write_index=False,
                              custom_metadata={_META_KEY: json.dumps(meta)})
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache file is not secret
        path = folder_ / f"{stem}-{_file_sha256(tmp)[:16]}.parquet"
        os.replace(tmp, path)  # atomic: readers see no file or the whole file
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _has_zstd() -> bool:
    try:
        import cramjam  # noqa: F401  fastparquet's codecs
    except ImportError:
        return False
    return True


def _file_sha256(path) -> str:
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def _fastparquet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it reads a deprecated pandas option on import
        import fastparquet
    return fastparquet


@contextlib.contextmanager
def _gc_paused():
    """No garbage collection inside (restored after, if it was on).

    Reading a table makes tens of thousands of strings and tuples and no reference
    cycle; each few hundred new objects would start a collection, and every so often
    one that walks all the tables a process already holds (a quarter of a second in a
    kernel holding the standard tables).
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _read(path: pathlib.Path):
    with _gc_paused():
        return _read_file(path)


def _read_file(path: pathlib.Path):
    fastparquet = _fastparquet()
    raw = path.read_bytes()
    # the name ends with the file's own sha256: a changed or cut-short file is refused
    if not path.stem.endswith("-" + hashlib.sha256(raw).hexdigest()[:16]):
        raise ValueError(f"{path.name} does not match its checksum")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fastparquet's own notes (pandas options)
        parquet = fastparquet.ParquetFile(io.BytesIO(raw))
        meta = json.loads(parquet.key_value_metadata[_META_KEY])
        frame = parquet.to_pandas()
    for column, kind in meta["containers"].items():
        make = tuple if kind == "tuple" else list
        # one JSON array of all the cells: one parse instead of one a row
        values = json.loads("[" + ",".join(frame[column]) + "]")
        frame[column] = _object_series([make(v) for v in values], frame.index)
    for column, dtype in meta["dtypes"].items():
        if column not in (meta["geometry"], *meta["containers"]) \
                and str(frame[column].dtype) != dtype:
            frame[column] = frame[column].astype(dtype)
    if meta["geometry"] is not None:
        import geopandas as gpd
        from pyproj import CRS

        crs = CRS.from_json(meta["crs"]) if meta["crs"] else None
        column = meta["geometry"]
        frame[column] = gpd.GeoSeries.from_wkb(frame[column], index=frame.index, crs=crs)
        frame = gpd.GeoDataFrame(frame, geometry=column, crs=crs)
    frame.attrs = _decode(meta["attrs"])
    return frame, [tuple(w) for w in meta["warnings"]]


def _object_series(values: list, index):
    """Return a Series of dtype object holding ``values`` as they are (tuples stay tuples)."""
    import numpy as np
    import pandas as pd

    array = np.empty(len(values), dtype=object)
    array[:] = values
    return pd.Series(array, index=index, dtype=object)


def _same_frame(a, b) -> bool:
    if type(a) is not type(b) or list(a.columns) != list(b.columns):
        return False
    if not a.index.equals(b.index) or type(a.index) is not type(b.index):
        return False
    if not _same_value(a.attrs, b.attrs):
        return False
    a, b = without_attrs(a), without_attrs(b)
    geometry = getattr(a, "_geometry_column_name", None)
    if geometry is not None:
        if geometry != b._geometry_column_name or a.crs != b.crs:
            return False
    for column in a.columns:
        x, y = a[column], b[column]
        if x.dtype != y.dtype:
            return False
        if column == geometry:
            if list(x.to_wkb()) != list(y.to_wkb()):
                return False
        elif x.dtype == object:
            if not all(_same_value(u, v) for u, v in zip(x, y)):
                return False
        elif not x.equals(y):
            return False
    return True


# ------------------------------------------------------------------ the API
def _list_columns(frame) -> tuple:
    """Return the object columns holding a list anywhere (a caller's copy gets new lists)."""
    geometry = getattr(frame, "_geometry_column_name", None)
    return tuple(column for column in frame.columns
                 if frame[column].dtype == object and column != geometry
                 and any(map(isinstance, frame[column].to_numpy(), itertools.repeat(list))))


def _fresh(frame, attrs_text: str, lists: tuple):
    """Return a copy the caller may change: deep data, new lists in ``lists`` columns, new attrs."""
    out = frame.copy(deep=True)
    for column in lists:
        out[column] = _object_series([copy.deepcopy(v) for v in out[column]], out.index)
    out.attrs = _decode(json.loads(attrs_text))
    return out


def _replay(caught: list) -> None:
    for module, qualname, message in caught:
        try:
            category = getattr(importlib.import_module(module), qualname)
        except (ImportError, AttributeError):
            category = UserWarning
        warnings.warn(message, category, stacklevel=4)


def _build_recording(build: Callable):
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        frame = build()
    # a ResourceWarning comes from the garbage collector (any object), not the build
    caught = [(w.category.__module__, w.category.__qualname__, str(w.message))
              for w in records if not issubclass(w.category, ResourceWarning)]
    return frame, caught


def cached(name: str, key: dict, build: Callable, *, sources=()):
    """Return ``build()``, read from the cache when an identical table is stored.

    Parameters
    ----------
    name : str
        Name of the table (the file stem), e.g. ``"partners"``.
    key : dict
        JSON-serialisable parameters of the call that change the result.
    build : callable
        Builds the table (a DataFrame or GeoDataFrame) when it is not stored.
    sources : sequence of str
        Registry names of the source files the table is built from.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        A fresh copy the caller may change. Warnings that ``build`` emitted are
        emitted again, on every call.
    """
    if not enabled():
        return build()
    digest = _digest(name, key, sources)
    stem = f"{name}-{digest}"
    if _ENSURE_ONLY and digest not in _MEMO and _stored(stem):
        return None  # warm(): stored already, no need to read it here
    if digest not in _MEMO:
        _MEMO[digest] = _load_or_build(stem, build)
    frame, attrs_text, caught, lists = _MEMO[digest]
    _replay(caught)
    return _fresh(frame, attrs_text, lists)


def _stored(stem: str) -> list[pathlib.Path]:
    where = folder()
    return sorted(where.glob(f"{stem}-*.parquet")) if where.is_dir() else []


def _load_or_build(stem: str, build: Callable) -> tuple:
    frame = None
    for path in _stored(stem):
        try:
            frame, caught = _read(path)
            break
        # cut short or changed: the checksum refuses it (ValueError); of another layout
        # (an older ringgeo or fastparquet): its metadata or dtypes do not fit
        except (OSError, ValueError, KeyError, TypeError, IndexError):  # rebuild, never trust
            _unlink(path)
    if frame is None:
        global _ENSURE_ONLY
        ensure, _ENSURE_ONLY = _ENSURE_ONLY, False  # a build reads its inputs in full
        try:
            frame, caught = _build_recording(build)
            _BUILT.append(stem)
        finally:
            _ENSURE_ONLY = ensure
        _store(stem, frame, caught)
    attrs_text = json.dumps(_encode(frame.attrs))
    frame = without_attrs(frame)
    return frame, attrs_text, caught, _list_columns(frame)


def _store(stem: str, frame, caught: list) -> None:
    """Write the table; keep the file only if it reads back identical."""
    path = None
    try:
        path = _write(folder(), stem, frame, caught)
        back, back_caught = _read(path)
    # a read-only or full folder (OSError), a type parquet cannot hold: uncached
    except (OSError, ValueError, TypeError, KeyError, IndexError):
        if path is not None:
            _unlink(path)
        return
    if not (_same_frame(frame, back) and back_caught == caught):
        _unlink(path)


def _unlink(path: pathlib.Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def built() -> list[str]:
    """Return the tables this process built (none stored fitted), by file stem, in order.

    Empty in a process that read every table it asked for: the cache was warm.

    Examples
    --------
    >>> isinstance(built(), list)
    True
    """
    return list(_BUILT)


def entries() -> list[pathlib.Path]:
    """Return the stored table files, sorted by name."""
    where = folder()
    return sorted(where.glob("*.parquet")) if where.is_dir() else []


def clear() -> int:
    """Delete every stored table (and leftover temporary files); return how many tables.

    The next call of each loader builds its table again and stores it.
    """
    return _clear_all()


def _clear_all() -> int:
    _MEMO.clear()
    removed = 0
    where = folder()
    if not where.is_dir():
        return 0
    for path in where.iterdir():
        if path.suffix in (".parquet", ".tmp") and path.is_file():
            removed += path.suffix == ".parquet"
            _unlink(path)
    return removed


@contextlib.contextmanager
def ensure_only():
    """Within this context, a table already stored is left alone, not read back.

    For a caller that builds every table a batch will read (``ringgeo.runner.warm``):
    the loaders it calls return their table as usual when they build it, and skip
    reading the stored file when it is there.
    """
    global _ENSURE_ONLY
    _ENSURE_ONLY = True
    try:
        yield
    finally:
        _ENSURE_ONLY = False


def cli(*, clear: bool = False) -> int:
    """``ringgeo data cache [--clear]``: list the stored tables, or delete them."""
    where = folder()
    if clear:
        print(f"deleted {_clear_all()} stored table(s) from {where}")
        return 0
    files = entries()
    state = "on" if enabled() else f"off ({ENV}={os.environ.get(ENV)})"
    print(f"parsed-data cache: {state}; {where}")
    for path in files:
        print(f"  {path.name}  {path.stat().st_size / 1e6:.1f} MB")
    print(f"{len(files)} stored table(s), {sum(p.stat().st_size for p in files) / 1e6:.1f} MB")
    return 0
