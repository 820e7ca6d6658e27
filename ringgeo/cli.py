"""The ``ringgeo`` command line.

``ringgeo data fetch|verify|info``
    fetch, verify and describe the source files of the registry.
``ringgeo partners [--as-of DATE]``
    summary of the partner dataset and its quality report.
``ringgeo figures [--batch FILE] [--jobs N]``
    regenerate every standard figure and table (the main job).

Each sub-command lives beside the code it drives; this module only parses
arguments and turns ringgeo errors into a one-line message and exit code 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .exceptions import RinggeoError


def _data_command(args) -> int:
    from . import data

    if args.action == "info":
        for name in data.registry():
            meta = data.source_info(name)
            print(f"{name}\n  {meta['description']}\n  credit:  {meta['credit']}\n"
                  f"  licence: {meta['licence']}\n  origin:  {meta['origin']}\n"
                  f"  pinned:  {meta['url']}\n  sha256:  {meta['sha256']}")
        return 0
    if args.action == "fetch":
        for name, path in data.fetch_all().items():
            print(f"fetched  {name}  {path}")
        return 0
    # verify
    results = data.verify()
    for rec in results:
        status = "verified" if rec["ok"] else "FAILED  "
        where = rec["path"] if rec["ok"] else rec["message"]
        print(f"{status} {rec['name']}  {where}")
    bad = sum(not rec["ok"] for rec in results)
    print(f"{len(results) - bad} of {len(results)} files verified")
    return 1 if bad else 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``ringgeo`` command."""
    parser = argparse.ArgumentParser(
        prog="ringgeo",
        description="Maps and statistics of Ring's police partnerships.",
    )
    parser.add_argument("--version", action="version", version=f"ringgeo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p_data = sub.add_parser("data", help="fetch, verify or describe the source files")
    p_data.add_argument("action", choices=["fetch", "verify", "info"])
    p_data.set_defaults(func=_data_command)

    # Sub-commands owned by other modules register themselves here.
    for module_name in ("partners", "runner"):
        try:
            module = importlib.import_module(f"ringgeo.{module_name}")
        except ModuleNotFoundError as err:  # a sub-command not written yet
            if err.name != f"ringgeo.{module_name}":
                raise
            continue
        add_cli = getattr(module, "add_cli", None)
        if add_cli is not None:
            add_cli(sub)
    return parser


def main(argv=None) -> int:
    """Run the ``ringgeo`` command; return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except RinggeoError as err:
        print(f"ringgeo: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
