"""Build the parsed-data cache of everything the standard notebooks read.

:func:`warm` lives above the loaders it calls (the parsed-data cache,
:mod:`ringgeo.tablecache`, knows none of them): ``ringgeo figures`` calls it
before the first kernel starts (or its fork server does), and
``ringgeo data cache --warm`` from the command line.
"""

from __future__ import annotations

import warnings

from . import _linkgeo, agencies, geography, partners, postal, tablecache
from .lookup import _data as lookup_data

__all__ = ["warm"]


def warm() -> list[str]:
    """Build and store the tables the standard notebooks read (no-op when switched off).

    Returns
    -------
    list of str
        The names of the tables now stored: the linked partner table (all
        partnerships), the geography tables of :mod:`ringgeo.geography`, the FBI
        agencies (:func:`ringgeo.agencies.load_agencies`), the ZIP codes
        (:func:`ringgeo.postal.load_postal_codes`), the municipality names the
        linker and the lookup key on, and who polices each piece of every county
        (:func:`ringgeo.coverage.primary_police`, and the
        :func:`ringgeo.coverage.jurisdictions` table it reads) with the residents of each
        municipality by primary police, and each agency's partnership in the
        snapshot (the last two read by the lookup).
    """
    if not tablecache.enabled():
        return []
    with tablecache.ensure_only(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the notebooks show the data's warnings
        partners.load_partners()
        geography.load_states()
        geography.load_counties()
        geography.load_municipalities()
        geography.load_municipality_parts()
        geography.load_mcd_place_overlaps()
        agencies.load_agencies()
        postal.load_postal_codes()
        _linkgeo.municipality_keys()  # the names the linker and the lookup read
        lookup_data.primary_by_municipality()  # the lookup's primary police
        lookup_data.agency_marks(None, lookup_data.source_paths())  # and partnerships
    return [path.name for path in tablecache.entries()]
