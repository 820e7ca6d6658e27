"""The ``ringgeo`` command line.

``ringgeo data fetch|verify|info|cache [--clear]``
    fetch, verify and describe the source files of the registry; list (or clear)
    the parsed-data cache.
``ringgeo partners [--as-of DATE]``
    summary of the partner dataset and its quality report.
``ringgeo lookup QUERY [--as-of DATE] [-k N] [--json | --csv]``
    which agencies serve a ZIP code, place, county or point, and are they Ring partners.
``ringgeo figures [--batch FILE] [--jobs N] [--timeout SECONDS]``
    regenerate every standard figure and table (the main job).
``ringgeo lab --student OUT.ipynb``
    write the student copy of the classroom lab (answer cells empty).

Each sub-command lives beside the code it drives; this module only parses
arguments and turns ringgeo errors into a one-line message and exit code 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import data, tablecache
from ._version import __version__
from .exceptions import RinggeoError

# modules whose add_cli(subparsers) registers a sub-command, in help order
_COMMAND_MODULES = ("data", "partners", "lookup", "runner", "lab")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``ringgeo`` command."""
    parser = argparse.ArgumentParser(
        prog="ringgeo",
        description="Maps and statistics of Ring's police partnerships.",
    )
    parser.add_argument("--version", action="version", version=f"ringgeo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    # Each sub-command is registered by the module that owns it.
    for module_name in _COMMAND_MODULES:
        importlib.import_module(f"ringgeo.{module_name}").add_cli(sub)
    # `ringgeo data cache` is the parsed-data cache's, which sits below the loaders: the
    # command, which can build the cache (--warm), is the command line's
    sub.choices["data"].set_defaults(func=_data_command)
    return parser


def _data_command(args) -> int:
    if args.action != "cache":
        return data.run_cli(args)
    if getattr(args, "warm", False):
        from ._warm import warm  # imported here: it loads pandas and geopandas (about 1 s)

        print(f"stored {len(warm())} table(s)")
    return tablecache.cli(clear=args.clear)


def main(argv=None) -> int:
    """Run the ``ringgeo`` command; return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except RinggeoError as err:
        print(f"ringgeo: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as err:  # Ctrl-C: one line, no traceback
        print(f"ringgeo: {err or 'interrupted'}", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
