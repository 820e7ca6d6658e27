"""The data registry: every source file ringgeo reads, pinned and verified.

The registry (``ringgeo/sources.json``, shipped inside the package) names each
source file with its sha256, a pinned download URL, its origin, licence and the
credit line that figures must carry. :func:`fetch` returns a verified local
copy:

* if the environment variable ``RINGGEO_DATA_DIR`` is set, the file is read
  from that folder (a local mirror for offline machines, classrooms and CI).
  The folder may be read-only: ringgeo never writes into it;
* otherwise the file is downloaded once, with a progress bar, into the user
  cache (``pooch.os_cache("ringgeo")``, override with ``RINGGEO_CACHE_DIR``).

Either way the file's sha256 is checked before it is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import warnings
from importlib import resources

import platformdirs

from ._config import (
    CACHE_DIR_ENV,
    DATA_DIR_ENV,
    OUTPUT_DIR_ENV,
    absolute_env,
    env_path,
    memoized,
)
from .exceptions import ChecksumError, DataNotFoundError, UnknownSourceError

__all__ = [
    "DATA_DIR_ENV",
    "CACHE_DIR_ENV",
    "OUTPUT_DIR_ENV",
    "env_path",
    "absolute_env",
    "registry",
    "source_info",
    "credit",
    "fetch",
    "fetch_all",
    "verify",
    "cache_dir",
    "add_cli",
    "run_cli",
]

@memoized(maxsize=1)
def _sources() -> dict:
    text = resources.files("ringgeo").joinpath("sources.json").read_text("utf-8")
    return json.loads(text)


def registry() -> dict[str, str]:
    """Return the registry as ``{name: sha256}``.

    Returns
    -------
    dict
        One entry per source file, in registry order.

    Examples
    --------
    >>> reg = registry()
    >>> reg["co-est2019-alldata.csv"][:12]
    '654032fbb805'
    >>> "fbi-agencies-2018.csv" in reg
    True
    """
    return {name: meta["sha256"] for name, meta in _sources().items()}


def _check_name(name: str) -> dict:
    sources = _sources()
    if name not in sources:
        known = ", ".join(sorted(sources))
        raise UnknownSourceError(
            f"Unknown data source {name!r}. Known sources are: {known}."
        )
    return sources[name]


def source_info(name: str) -> dict:
    """Return the registry metadata of one source file.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"atlas-of-surveillance-20201007.csv"``.

    Returns
    -------
    dict
        Keys ``name``, ``sha256``, ``url`` (pinned download), ``origin``,
        ``licence``, ``credit``, ``description`` and, where known, ``nrows``
        and ``ncols``.

    Raises
    ------
    UnknownSourceError
        If ``name`` is not in the registry; the message lists the known names.

    Examples
    --------
    >>> source_info("atlas-of-surveillance-20201007.csv")["licence"]
    'CC BY 4.0'
    """
    return {"name": name, **_check_name(name)}


def credit(*names: str) -> str:
    """Return the credit line for one or more sources, de-duplicated.

    Examples
    --------
    >>> credit("cb_2019_us_state_20m.zip", "cb_2019_us_county_20m.zip")
    'U.S. Census Bureau, 2019 cartographic boundary files'
    """
    lines = []
    for name in names:
        line = _check_name(name)["credit"]
        if line not in lines:
            lines.append(line)
    return "; ".join(lines)


def cache_dir() -> pathlib.Path:
    """Return the folder where downloaded files are cached.

    ``RINGGEO_CACHE_DIR`` if set, otherwise the user cache folder of the
    operating system (``~/.cache/ringgeo`` on Linux).
    """
    override = env_path(CACHE_DIR_ENV)
    # what pooch.os_cache("ringgeo") returns, without importing pooch: it imports
    # tqdm.auto, which warns "IProgress not found" in every kernel without ipywidgets
    return override if override is not None else pathlib.Path(
        platformdirs.user_cache_dir("ringgeo"))


@memoized(maxsize=64)
def _hash_of(path: str, size: int, mtime_ns: int) -> str:
    # Memoized on (path, size, mtime): a file that changes is hashed again.
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_sha256(path: pathlib.Path) -> str:
    stat = path.stat()
    return _hash_of(str(path), stat.st_size, stat.st_mtime_ns)


def _verify_file(name: str, path: pathlib.Path, *, in_mirror: bool) -> None:
    meta = _check_name(name)
    expected = meta["sha256"]
    got = _file_sha256(path)
    if got != expected:
        if in_mirror:
            fix = (
                f"The mirror copy is damaged or is a different version: replace it "
                f"with the file from {meta['url']} (the folder comes from "
                f"{DATA_DIR_ENV})."
            )
        else:
            fix = (
                "Delete it and fetch again (`ringgeo data fetch`). If it fails again, "
                "the upstream file changed and the registry needs a new pinned URL."
            )
        raise ChecksumError(
            f"Data file {name!r} at {path} does not match the registry: expected "
            f"sha256 {expected} but got {got}. {fix}"
        )


def _mirror() -> pathlib.Path | None:
    """Return the mirror folder (absolute), or None.

    A set but unusable folder is one clear error.
    """
    folder = env_path(DATA_DIR_ENV)
    if folder is None:
        return None
    given = os.environ.get(DATA_DIR_ENV, "").strip()
    shown = f"{given!r}" + (f" (i.e. {folder})" if given != str(folder) else "")
    if not folder.exists():
        raise DataNotFoundError(
            f"{DATA_DIR_ENV} is set to {shown}, which does not exist. Point it at the "
            f"folder holding the source files (a relative path is read from the current "
            f"folder, {pathlib.Path.cwd()}), or unset it to download them into the cache."
        )
    if not folder.is_dir():
        raise DataNotFoundError(
            f"{DATA_DIR_ENV} is set to {shown}, which is a file, not a folder. Point it at "
            f"the folder holding the source files, or unset it to download them into the "
            f"cache."
        )
    return folder


def _check_cache_writable(folder: pathlib.Path, name: str, url: str) -> None:
    """Refuse early, and say so, when the cache folder cannot receive a download."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.is_dir() and os.access(probe, os.W_OK | os.X_OK):
        return
    why = "is not a folder" if probe.exists() and not probe.is_dir() else "is not writable"
    raise DataNotFoundError(
        f"{name!r} is not in the cache folder {folder} and cannot be downloaded into it: "
        f"{probe} {why}. Set {CACHE_DIR_ENV} to a writable folder, or download the file "
        f"by hand from {url} into a folder and set {DATA_DIR_ENV} to that folder."
    )


def fetch(name: str, *, progressbar: bool = True) -> pathlib.Path:
    """Return the verified local path of a source file.

    Parameters
    ----------
    name : str
        Registry name of the file (see :func:`registry`).
    progressbar : bool, default True
        Show a download progress bar when the file has to be downloaded.

    Returns
    -------
    pathlib.Path
        Path of a local copy whose sha256 matches the registry.

    Raises
    ------
    UnknownSourceError
        ``name`` is not in the registry.
    DataNotFoundError
        ``RINGGEO_DATA_DIR`` names a folder that does not exist or a file; the
        file is not in that folder; or the file is not cached (or its cached copy
        is damaged) and cannot be downloaded (no network, a read-only cache).
    ChecksumError
        The local copy does not match the registry's sha256.

    Examples
    --------
    >>> path = fetch("co-est2019-alldata.csv")
    >>> path.name
    'co-est2019-alldata.csv'
    """
    meta = _check_name(name)
    mirror = _mirror()
    if mirror is not None:
        path = mirror / name
        if not path.is_file():
            raise DataNotFoundError(
                f"Data file {name!r} is not in the mirror folder {mirror} "
                f"(set by {DATA_DIR_ENV}). Copy it there (download it by hand from "
                f"{meta['url']}), or unset {DATA_DIR_ENV} to download it into the cache."
            )
        _verify_file(name, path, in_mirror=True)
        return path

    folder = cache_dir()
    path = folder / name
    damaged = None  # the sha256 of a cached copy that does not match
    if path.is_file():
        damaged = _file_sha256(path)
        if damaged == meta["sha256"]:
            return path
    _check_cache_writable(folder, name, meta["url"])
    # tqdm.std, not pooch's tqdm.auto: in a notebook kernel without ipywidgets the latter
    # warns "IProgress not found"; a text bar works everywhere.
    bar = _download_bar(name) if progressbar else False
    with warnings.catch_warnings():  # pooch imports tqdm.auto: "IProgress not found"
        warnings.filterwarnings("ignore", "IProgress not found")
        import pooch
    try:
        local = pooch.retrieve(
            meta["url"],
            known_hash=f"sha256:{meta['sha256']}",
            fname=name,
            path=folder,
            progressbar=bar,
        )
    except OSError as err:
        # no network, a refused or cut connection, an HTTP error status, a full disk: the
        # errors of requests (RequestException, also InvalidURL), of urllib3 (wrapped by
        # requests) and of the file system are all OSError. Anything else is a bug: raised.
        before = (
            f"The cached copy {path} is damaged (sha256 {damaged}, expected "
            f"{meta['sha256']}), so ringgeo tried to download it again. " if damaged else ""
        )
        raise DataNotFoundError(
            f"{before}Could not download {name!r} from {meta['url']} ({type(err).__name__}: "
            f"{err}). If this machine is offline, download the file by hand from that "
            f"URL into a folder and set {DATA_DIR_ENV} to that folder."
        ) from err
    except ValueError as err:  # pooch's hash mismatch after download
        raise ChecksumError(
            f"Downloaded {name!r} from {meta['url']} but its sha256 does not match the "
            f"registry ({meta['sha256']}); pooch deleted the download for safety. "
            f"The upstream file changed: the registry needs a new pinned URL. ({err})"
        ) from err
    finally:
        if bar:
            bar.close()
    path = pathlib.Path(local)
    _verify_file(name, path, in_mirror=False)
    return path


def _download_bar(name: str):
    from tqdm.std import tqdm

    return tqdm(total=0, desc=name, ncols=79, unit="B", unit_scale=True, leave=True,
                delay=0.2)


def fetch_all(*, progressbar: bool = True) -> dict[str, pathlib.Path]:
    """Fetch and verify every source file.

    Returns
    -------
    dict
        ``{name: path}`` for every file in the registry.

    Examples
    --------
    >>> paths = fetch_all()
    >>> sorted(paths)[0]
    'atlas-of-surveillance-20201007.csv'
    """
    _mirror()  # an unusable mirror folder is one error, not one per file
    return {name: fetch(name, progressbar=progressbar) for name in _sources()}


def verify() -> list[dict]:
    """Check every source file without stopping at the first problem.

    Returns
    -------
    list of dict
        One record per file: ``name``, ``ok`` (bool), ``path`` (or ``None``)
        and ``message`` (the error text when not ok).

    Raises
    ------
    DataNotFoundError
        ``RINGGEO_DATA_DIR`` names a folder that does not exist, or a file.
    """
    _mirror()  # an unusable mirror folder is one error, not one per file
    results = []
    for name in _sources():
        try:
            path = fetch(name)
        except (ChecksumError, DataNotFoundError) as err:
            results.append({"name": name, "ok": False, "path": None, "message": str(err)})
        else:
            results.append({"name": name, "ok": True, "path": path, "message": "verified"})
    return results


# --------------------------------------------------------------------- command line
def run_cli(args) -> int:
    """Run ``ringgeo data fetch|verify|info`` (the ``cache`` action is :mod:`ringgeo.cli`'s)."""
    if args.action == "info":
        for name in registry():
            meta = source_info(name)
            print(f"{name}\n  {meta['description']}\n  credit:  {meta['credit']}\n"
                  f"  licence: {meta['licence']}\n  origin:  {meta['origin']}\n"
                  f"  pinned:  {meta['url']}\n  sha256:  {meta['sha256']}")
        return 0
    if args.action == "fetch":
        for name, path in fetch_all().items():
            print(f"fetched  {name}  {path}")
        return 0
    # verify
    results = verify()
    for rec in results:
        status = "verified" if rec["ok"] else "FAILED  "
        where = rec["path"] if rec["ok"] else rec["message"]
        print(f"{status} {rec['name']}  {where}")
    bad = sum(not rec["ok"] for rec in results)
    print(f"{len(results) - bad} of {len(results)} files verified")
    return 1 if bad else 0


def add_cli(subparsers) -> None:
    """Register ``ringgeo data fetch|verify|info|cache`` on the ``ringgeo`` sub-parsers."""
    parser = subparsers.add_parser("data", help="fetch, verify or describe the source files")
    parser.add_argument("action", choices=["fetch", "verify", "info", "cache"],
                        help="cache: list (or --clear) the parsed-data cache")
    parser.add_argument("--clear", action="store_true",
                        help="with 'cache': delete every stored table")
    parser.add_argument("--warm", action="store_true",
                        help="with 'cache': build every table the standard notebooks read")
    parser.set_defaults(func=run_cli)
