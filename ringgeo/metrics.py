"""The metrics a map or a ranking can show: one label and one definition each.

One place for the words, so that a map's headline (:func:`ringgeo.tables.map_title`),
its legend title and its source line (:mod:`ringgeo.plot`) and the notebook
parameter check (:func:`ringgeo.params.validate_metric`) always agree.
The metrics are columns of the coverage tables (``docs/methodology.md``).

Examples
--------
>>> METRICS["partners_per_100k"].label
'Partners per 100,000 residents'
>>> METRICS["share_covered_max"].sources
('co-est2019-alldata.csv', 'sub-est2021_all.zip', 'fbi-agencies-2018.csv')
"""

from __future__ import annotations

from typing import NamedTuple

from . import technologies

__all__ = ["Metric", "METRICS", "metric_for"]


class Metric(NamedTuple):
    """The words and the sources of one metric."""

    #: Legend title and headline (with the areas drawn): a few words, capitalized.
    label: str
    #: The sentence a figure's source line uses to define it.
    definition: str
    #: Registry files behind it, beyond the partner snapshot and the boundaries.
    sources: tuple[str, ...]


_POP2019 = ("co-est2019-alldata.csv",)
_POP2021 = ("co-est2019-alldata.csv", "sub-est2021_all.zip")
# the covered population: who polices each place comes from the FBI agency list
_COVERED = _POP2021 + ("fbi-agencies-2018.csv",)
_FBI = ("fbi-agencies-2018.csv",)

#: Coverage-table column -> :class:`Metric`.
METRICS = {
    "partners": Metric("Ring partner agencies", "Agencies with a Ring Neighbors partnership", ()),
    "partners_per_100k": Metric(
        "Partners per 100,000 residents",
        "Ring partner agencies per 100,000 residents (July 1, 2019 population)", _POP2019),
    "police": Metric("Police partners", "Police departments with a Ring partnership", ()),
    "sheriffs": Metric("Sheriff partners", "Sheriff's offices with a Ring partnership", ()),
    "pop_covered_min": Metric(
        "Residents covered (lower bound)",
        "Lower bound of residents living under a partnered agency: residents whose first "
        "police (their own department, a sheriff their town pays under contract, a regional "
        "department, else the county's) is a partner; contracts and regional departments "
        "from ringgeo's sourced tables", _COVERED),
    "pop_covered_max": Metric(
        "Residents covered (upper bound)",
        "Upper bound of residents living under a partnered agency", _COVERED),
    "share_covered_min": Metric(
        "Share of residents covered (lower bound)",
        "Lower bound of the share of residents living under a partnered agency: residents "
        "whose first police (their own department, a sheriff their town pays under contract, "
        "a regional department, else the county's) is a partner; contracts and regional "
        "departments from ringgeo's sourced tables (see the ringgeo methodology)", _COVERED),
    "share_covered_max": Metric(
        "Share of residents covered (upper bound)",
        "Upper bound of the share of residents living under a partnered agency "
        "(see the ringgeo methodology)", _COVERED),
    "share_agencies_partnered": Metric(
        "Share of agencies partnered",
        "Share of local police departments, sheriffs and county police (FBI agency list, "
        "2018) with a Ring partnership", _FBI),
    "share_police_partnered": Metric(
        "Share of police departments partnered",
        "Share of local police departments (FBI agency list, 2018) with a Ring partnership",
        _FBI),
    "share_sheriffs_partnered": Metric(
        "Share of sheriffs partnered",
        "Share of sheriff's offices (FBI agency list, 2018) with a Ring partnership", _FBI),
}


# Ring's words -> the words for any technology ({label}: "drones", {members}: "agencies
# using drones"), in this order (longest first)
_WORDS = (
    ("Ring partner agencies", "{Members}"),
    ("Agencies with a Ring Neighbors partnership", "Agencies the Atlas lists with {label}"),
    ("Police departments with a Ring partnership",
     "Police departments the Atlas lists with {label}"),
    ("Sheriff's offices with a Ring partnership", "Sheriff's offices the Atlas lists with {label}"),
    ("with a Ring partnership", "listed with {label}"),
    ("Police partners", "Police departments"),
    ("Sheriff partners", "Sheriff's offices"),
    ("Partners per", "{Members} per"),
    ("agencies partnered", "agencies with {label}"),
    ("departments partnered", "departments with {label}"),
    ("sheriffs partnered", "sheriffs with {label}"),
    ("a partnered agency", "an agency listed with {label}"),
    ("is a partner", "is listed with {label}"),
)


def metric_for(column, frame=None) -> Metric | None:
    """Return the :class:`Metric` of a column in the words of a table's technology.

    A Ring table (or one that does not say, ``frame.attrs["technology"]``) gets
    :data:`METRICS` unchanged; a table of another technology gets the same
    metric with its words ("Agencies using drones", "Share of agencies with
    drones"). None for a column that is not a metric.

    Parameters
    ----------
    column : str
        A key of :data:`METRICS`.
    frame : pandas.DataFrame, optional
        The table drawn (its ``attrs["technology"]``).

    Returns
    -------
    Metric or None

    Examples
    --------
    >>> import pandas as pd
    >>> drones = pd.DataFrame()
    >>> drones.attrs["technology"] = "drones"
    >>> metric_for("partners", drones).label
    'Agencies using drones'
    >>> metric_for("share_agencies_partnered", drones).label
    'Share of agencies with drones'
    >>> metric_for("partners").label
    'Ring partner agencies'
    """
    metric = METRICS.get(column)
    tech = technologies.technology_of(frame)
    if metric is None or tech.key == "ring":
        return metric
    words = {"label": tech.label[0].lower() + tech.label[1:] if tech.label[1:2].islower()
             else tech.label,
             "Members": tech.members[0].upper() + tech.members[1:]}

    def swap(text: str) -> str:
        for old, new in _WORDS:
            text = text.replace(old, new.format(**words))
        return text

    return Metric(swap(metric.label), swap(metric.definition), metric.sources)
