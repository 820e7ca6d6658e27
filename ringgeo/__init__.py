"""ringgeo: reproducible maps and statistics of Ring's police partnerships.

The package face re-exports the public API. Submodules are imported on first
use, so ``import ringgeo`` stays fast and reads no file. ``ringgeo.lookup`` is a
module that can be called: ``ringgeo.lookup("19082")`` is
``ringgeo.lookup.lookup("19082")``.

Examples
--------
>>> import ringgeo
>>> ringgeo.data.fetch("co-est2019-alldata.csv").name
'co-est2019-alldata.csv'
"""

from __future__ import annotations

import importlib

from ._config import clear_caches
from ._version import __version__

# public name -> submodule that defines it
_EXPORTS = {
    "load_partners": "partners",
    "read_partners": "partners",
    "quality_report": "partners",
    "load_states": "geography",
    "load_counties": "geography",
    "load_municipalities": "geography",
    "load_municipality_parts": "geography",
    "load_mcd_place_overlaps": "geography",
    "link_partners": "linking",
    "load_agencies": "agencies",
    "load_demographics": "demographics",
    "load_atlas": "atlas",
    "technologies_by_agency": "stack",
    "overlap": "stack",
    "overlap_table": "stack",
    "partners_by_technology": "stack",
    "vendors": "stack",
}
_SUBMODULES = ("data", "states", "partners", "geography", "demographics", "linking",
               "agencies", "postal", "atlas", "stack", "technologies",
               "lookup", "export", "coverage", "plot",
               "runner", "params", "exceptions", "cli", "tables", "lab")

__all__ = sorted(_EXPORTS) + list(_SUBMODULES) + ["__version__", "clear_caches"]


def __getattr__(name):
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        return getattr(module, name)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'ringgeo' has no attribute {name!r}")


def __dir__():
    return __all__
