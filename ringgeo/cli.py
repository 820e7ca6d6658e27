"""The ``ringgeo`` command line.

``ringgeo data fetch|verify|info|cache [--clear]``
    fetch, verify and describe the source files of the registry; list (or clear)
    the parsed-data cache.
``ringgeo partners [--as-of DATE]``
    summary of the partner dataset and its quality report.
``ringgeo lookup QUERY [--as-of DATE] [-k N] [--json | --csv]``
    which agencies serve a ZIP code, place, county or point, and are they Ring partners.
``ringgeo export FOLDER [--as-of DATE] [--formats csv,geojson,topojson,gpkg]``
    write the states, counties, agencies and partners tables as CSV, GeoJSON,
    TopoJSON and a GeoPackage, with a README of sources and columns.
``ringgeo figures [--batch FILE] [--jobs N] [--timeout SECONDS]``
    regenerate every standard figure and table (the main job).
``ringgeo lab --student OUT.ipynb``
    write the student copy of the classroom lab (answer cells empty).

Each sub-command lives beside the code it drives; this module only parses
arguments and turns ringgeo errors into a one-line message and exit code 1.
Output piped into a reader that stops early (``ringgeo lookup 19082 | head -1``)
ends the command quietly, with exit code 141 as a shell gives a process killed by
SIGPIPE (what ``grep`` or ``cat`` would do), and no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import data
from ._version import __version__
from .exceptions import RinggeoError

# modules whose add_cli(subparsers) registers a sub-command, in help order
_COMMAND_MODULES = ("data", "partners", "lookup", "export", "runner", "lab")
# the module of each sub-command
_MODULE_OF = {"data": "data", "partners": "partners", "lookup": "lookup", "export": "export",
              "figures": "runner", "lab": "lab"}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Return the argument parser of the ``ringgeo`` command.

    With ``command`` (a sub-command's name), only the module of that sub-command is
    imported and registered: ``ringgeo figures`` starts its kernels' fork server
    without first importing pandas and geopandas for the others. Without it (or for
    a name that is no sub-command), every sub-command is registered, as ``--help``
    and argparse's "invalid choice" message list them all.
    """
    parser = argparse.ArgumentParser(
        prog="ringgeo",
        description="Maps and statistics of Ring's police partnerships.",
    )
    parser.add_argument("--version", action="version", version=f"ringgeo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    # Each sub-command is registered by the module that owns it.
    modules = [_MODULE_OF[command]] if command in _MODULE_OF else _COMMAND_MODULES
    for module_name in modules:
        importlib.import_module(f"ringgeo.{module_name}").add_cli(sub)
    # `ringgeo data cache` is the parsed-data cache's, which sits below the loaders: the
    # command, which can build the cache (--warm), is the command line's
    if "data" in sub.choices:
        sub.choices["data"].set_defaults(func=_data_command)
    return parser


def _command(argv) -> str | None:
    """Return the sub-command named in ``argv`` (its first word that is no option), or None."""
    return next((word for word in argv if not word.startswith("-")), None)


def _data_command(args) -> int:
    if args.action != "cache":
        return data.run_cli(args)
    if getattr(args, "warm", False):
        from ._warm import warm  # imported here: it loads pandas and geopandas (about 1 s)

        print(f"stored {len(warm())} table(s)")
    from . import tablecache  # imported here: it loads pandas (0.2 s)

    return tablecache.cli(clear=args.clear)


def main(argv=None) -> int:
    """Run the ``ringgeo`` command; return its exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command(argv))
    try:
        args = parser.parse_args(argv)  # --help and --version print here
    except BrokenPipeError:
        return _broken_pipe()
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except RinggeoError as err:
        print(f"ringgeo: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as err:  # Ctrl-C: one line, no traceback
        print(f"ringgeo: {err or 'interrupted'}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output closed it (`| head -1`): stop quietly
        return _broken_pipe()


#: The exit code of a command whose output pipe was closed (128 + SIGPIPE, as a shell reports).
BROKEN_PIPE = 141


def _broken_pipe() -> int:
    """Return :data:`BROKEN_PIPE` after pointing standard output at the null device.

    Python flushes ``sys.stdout`` again at exit; on the closed pipe that would print
    "Exception ignored ... BrokenPipeError". The recipe of the Python documentation
    (``signal`` module, "Note on SIGPIPE"): point the file descriptor at ``os.devnull``.
    """
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test's capture)
        pass
    return BROKEN_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
