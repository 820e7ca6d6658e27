"""Settings: every ``RINGGEO_*`` environment variable, and the in-memory caches.

One module reads the environment, so a reader finds every switch here:

``RINGGEO_DATA_DIR``
    a local mirror folder of the source files (offline machines, classrooms, CI);
    see :func:`ringgeo.data.fetch`.
``RINGGEO_CACHE_DIR``
    the download cache and the parsed-data cache (default: the user's cache folder).
``RINGGEO_TABLE_CACHE_DIR``
    the parsed-data cache alone (default: ``<RINGGEO_CACHE_DIR>/tables``); the test
    suite points it at its temporary folder.
``RINGGEO_OUTPUT_DIR``
    the notebooks' default output folder (:func:`ringgeo.params.validate_output_dir`).
``RINGGEO_PARSED_CACHE``
    ``0`` switches the parsed-data cache off (:mod:`ringgeo.tablecache`).
``RINGGEO_FORK_KERNELS``
    ``0`` starts every notebook kernel as a new process, ``1`` forks them for any
    batch (``ringgeo figures``, Linux only).
``RINGGEO_MAX_FILE_MB``
    the largest partner file :func:`ringgeo.read_partners` reads, in MiB (default 256;
    the Atlas export is 3 MiB): a larger file is refused before it is read.
``RINGGEO_RAW_CSV``
    ``1`` writes text cells as they are in every CSV the package writes; by default a
    cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
    leading apostrophe, so a spreadsheet does not run it as a formula
    (:func:`ringgeo.tables.safe_csv`).
``RINGGEO_WEB_LIBS``
    a folder where the web map's front-end libraries were installed with npm
    (``npm install --prefix <folder> leaflet@1.9.3 leaflet.markercluster@1.5.3``):
    ``ringgeo.plot.explore(..., self_contained=True)`` copies them into the page.

The in-memory caches of the package (tables read once per process) are made with
:func:`memoized`; :func:`clear_caches` empties every one of them, for tests and for a
session that changed ``RINGGEO_DATA_DIR``.

This module imports nothing from ringgeo: every other module may import it.
"""

from __future__ import annotations

import functools
import os
import pathlib

__all__ = [
    "DATA_DIR_ENV", "CACHE_DIR_ENV", "TABLE_CACHE_DIR_ENV", "OUTPUT_DIR_ENV", "PARSED_CACHE_ENV",
    "FORK_KERNELS_ENV", "RAW_CSV_ENV", "MAX_FILE_MB_ENV", "WEB_LIBS_ENV", "env_switch",
    "env_megabytes", "env_path", "absolute_env", "memoized", "on_clear", "clear_caches",
]

#: Environment variable naming a local mirror folder of the source files.
DATA_DIR_ENV = "RINGGEO_DATA_DIR"
#: Environment variable overriding the download cache folder.
CACHE_DIR_ENV = "RINGGEO_CACHE_DIR"
#: Environment variable moving the parsed-data cache alone (see ringgeo.tablecache).
TABLE_CACHE_DIR_ENV = "RINGGEO_TABLE_CACHE_DIR"
#: Environment variable naming the notebooks' default output folder (see ringgeo.params).
OUTPUT_DIR_ENV = "RINGGEO_OUTPUT_DIR"
#: Environment variable switching the parsed-data cache off (``0``).
PARSED_CACHE_ENV = "RINGGEO_PARSED_CACHE"
#: Environment variable switching forked notebook kernels off (``0``) or always on (``1``).
FORK_KERNELS_ENV = "RINGGEO_FORK_KERNELS"
#: Environment variable raising (or lowering) the largest partner file read, in MiB.
MAX_FILE_MB_ENV = "RINGGEO_MAX_FILE_MB"
#: Environment variable switching off the formula guard of written CSV files (``1``).
RAW_CSV_ENV = "RINGGEO_RAW_CSV"
#: Environment variable naming the npm folder of the web map's libraries (self-contained pages).
WEB_LIBS_ENV = "RINGGEO_WEB_LIBS"
_PATH_ENVS = (DATA_DIR_ENV, CACHE_DIR_ENV, TABLE_CACHE_DIR_ENV, OUTPUT_DIR_ENV)

#: The words an on/off environment variable may take (:func:`env_switch`), any case.
_ON, _OFF = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def env_switch(variable: str) -> bool | None:
    """Read an on/off environment variable.

    Parameters
    ----------
    variable : str
        The variable's name.

    Returns
    -------
    bool or None
        True for 1, true, yes, on; False for 0, false, no, off (any case, spaces
        ignored); None when unset, empty or anything else (the default applies).

    Examples
    --------
    >>> import os
    >>> os.environ["RINGGEO_EXAMPLE_SWITCH"] = " Off"
    >>> env_switch("RINGGEO_EXAMPLE_SWITCH"), env_switch("RINGGEO_NOT_SET")
    (False, None)
    >>> del os.environ["RINGGEO_EXAMPLE_SWITCH"]
    """
    value = os.environ.get(variable, "").strip().lower()
    return True if value in _ON else False if value in _OFF else None


def env_megabytes(variable: str, default: int) -> int:
    """Read a size in MiB from an environment variable; return it in bytes.

    Parameters
    ----------
    variable : str
        The variable's name.
    default : int
        The size in bytes when the variable is unset or empty.

    Returns
    -------
    int
        The size in bytes.

    Raises
    ------
    ValueError
        The value is not a positive number (the caller turns it into its own error).

    Examples
    --------
    >>> import os
    >>> os.environ["RINGGEO_EXAMPLE_MB"] = "1.5"
    >>> env_megabytes("RINGGEO_EXAMPLE_MB", 0), env_megabytes("RINGGEO_NOT_SET", 7)
    (1572864, 7)
    >>> del os.environ["RINGGEO_EXAMPLE_MB"]
    """
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    try:
        megabytes = float(value)
    except ValueError:
        megabytes = float("nan")
    if not megabytes > 0 or megabytes == float("inf"):
        raise ValueError(f"{variable}={value!r} is not a size in MiB: give a positive "
                         f"number (e.g. {variable}=512) or unset it")
    return int(megabytes * 2**20)


def env_path(variable: str) -> pathlib.Path | None:
    """Return the folder an environment variable names, as an absolute path (None if unset).

    A relative value (``RINGGEO_DATA_DIR=../shared/data``) is resolved against the
    current folder, with ``~`` expanded. When it names nothing there but does from
    the folder the shell was in when the variable was set (``$PWD``, which a
    JupyterLab kernel started in ``notebooks/`` inherits), that folder is used.

    Parameters
    ----------
    variable : str
        The variable's name.

    Returns
    -------
    pathlib.Path or None
        The absolute folder, or None when the variable is unset or empty.

    Examples
    --------
    >>> import os
    >>> os.environ["RINGGEO_EXAMPLE_DIR"] = "some/folder"
    >>> env_path("RINGGEO_EXAMPLE_DIR") == pathlib.Path.cwd() / "some" / "folder"
    True
    >>> del os.environ["RINGGEO_EXAMPLE_DIR"]
    """
    value = os.environ.get(variable, "").strip()
    if not value:
        return None
    value = os.path.expanduser(value)
    path = pathlib.Path(os.path.abspath(value))
    shell = os.environ.get("PWD", "")
    if not path.exists() and shell and os.path.isabs(shell):
        from_shell = pathlib.Path(os.path.abspath(os.path.join(shell, value)))
        if from_shell.exists():
            return from_shell
    return path


def absolute_env() -> dict[str, str]:
    """Rewrite the ``RINGGEO_*_DIR`` variables (data, cache, table cache, output) as absolute paths.

    Notebook kernels start in ``notebooks/`` and inherit the environment: a
    relative folder given on the command line (``export RINGGEO_DATA_DIR=../shared/data``
    at the project root) would point elsewhere there. ``ringgeo figures`` and the
    test suite call this once, before any kernel starts.

    Returns
    -------
    dict
        The variables that are set, with their absolute values.
    """
    resolved = {}
    for variable in _PATH_ENVS:
        path = env_path(variable)
        if path is not None:
            os.environ[variable] = resolved[variable] = str(path)
    return resolved


# ------------------------------------------------------------------ in-memory caches
_CLEARERS: list = []


def memoized(maxsize: int = 128):
    """Decorate a function with :func:`functools.lru_cache`, registered for :func:`clear_caches`.

    Parameters
    ----------
    maxsize : int, default 128
        How many results the cache keeps (least recently used first out).

    Returns
    -------
    callable
        A decorator.

    Examples
    --------
    >>> @memoized(maxsize=2)
    ... def square(x):
    ...     return x * x
    >>> square(3), square.cache_info().currsize
    (9, 1)
    >>> clear_caches()
    >>> square.cache_info().currsize
    0
    """
    def decorate(function):
        cached = functools.lru_cache(maxsize=maxsize)(function)
        _CLEARERS.append(cached.cache_clear)
        return cached
    return decorate


def on_clear(function):
    """Register a function that empties a cache of another kind (a dict), for :func:`clear_caches`.

    Parameters
    ----------
    function : callable
        Called with no argument by :func:`clear_caches`.

    Returns
    -------
    callable
        ``function`` itself, so this works as a decorator.
    """
    _CLEARERS.append(function)
    return function


def clear_caches() -> None:
    """Empty every in-memory cache of the package (the files on disk stay).

    The next call of a loader reads its tables again (from the parsed-data cache
    when it is on). Tests call this between cases that change the environment.

    Examples
    --------
    >>> import ringgeo
    >>> ringgeo.clear_caches()
    """
    for clear in _CLEARERS:
        clear()
