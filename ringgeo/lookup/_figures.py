"""The lookup notebook's figures: where the place's agency joined, and its map.

Imported on first use by :mod:`ringgeo.lookup`: drawing needs matplotlib
(about 0.8 s to import), which a lookup's answer, its table and the command line
never do.
"""

from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import pandas as pd

from .. import coverage, technologies
from .. import plot as rplot
from ..partners import load_partners
from ..plot._draw import draw_polygons
from ..plot._figure import FONT, set_alt_text, source_line
from ._data import boundaries, context, source_paths

__all__ = ["timeline_position", "plot_timeline", "plot_map"]


def timeline_position(result) -> pd.DataFrame:
    """Where each partnership of the answer sits on the national growth timeline.

    Parameters
    ----------
    result : Lookup

    Returns
    -------
    pandas.DataFrame
        One row per serving agency that is a partner in the snapshot with an
        activation date: ``ori``, ``agency``, ``activated``, ``national_before``
        (dated partnerships activated before it, nationally), ``national_dated``
        (all dated partnerships of the snapshot), ``state_before``,
        ``state_dated``, ``share_before`` (``national_before /
        national_dated``: the share of today's dated partners that came
        earlier).

    Examples
    --------
    >>> from ringgeo import lookup
    >>> pos = timeline_position(lookup("19082"))
    >>> pos.loc[0, "ori"], bool(0 < pos.loc[0, "share_before"] < 1)
    ('PA0233700', True)
    """
    partners = load_partners()
    partners.attrs = {}  # pandas deep-copies attrs (the quality report) on every step
    dated = partners.loc[partners["activated"].notna(), ["state", "activated"]]
    rows = []
    serving = result.agencies.loc[result.agencies["activated"].notna()
                                  & (result.agencies["role"] != "partner in the county")]
    for rec in serving.drop_duplicates("ori").itertuples():
        day = pd.Timestamp(rec.activated)
        same = dated["state"] == rec.state
        rows.append({"ori": rec.ori, "agency": rec.agency, "activated": day,
                     "national_before": int((dated["activated"] < day).sum()),
                     "national_dated": len(dated),
                     "state_before": int((same & (dated["activated"] < day)).sum()),
                     "state_dated": int(same.sum())})
    out = pd.DataFrame(rows, columns=["ori", "agency", "activated", "national_before",
                                      "national_dated", "state_before", "state_dated"])
    out["share_before"] = out["national_before"] / out["national_dated"]
    return out


def plot_timeline(result, *, ax=None):
    """Plot the national growth of Ring partnerships with the answer's partnerships marked.

    The cumulative national line (:func:`ringgeo.coverage.timeline` of the
    snapshot, by month) with a red dot and label at the activation date of
    each serving agency that is a partner (:func:`timeline_position`), and a
    dashed line at ``as_of`` when one is given.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
        The axes hold the national line and one labelled dot per partner serving the place.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from ringgeo import lookup
    >>> fig, ax = plot_timeline(lookup("19082"))
    >>> print(ax.texts[0].get_text())  # Upper Darby's department joined as the 301st
    Upper Darby Township Police Department
    2019-06-28: partner no. 301 of 1,331 dated
    >>> plt.close(fig)
    """
    with warnings.catch_warnings():  # the undated partners: the source line counts them
        warnings.simplefilter("ignore", UserWarning)
        national = coverage.timeline(load_partners(), freq="M")
    fig, ax = rplot.timeline(national, ax=ax, annotate=False,
                             title="Where the partnership sits in Ring's growth",
                             subtitle=f"Ring partner agencies nationally, cumulative; the "
                                      f"agencies serving {result.query!r} marked")
    for rec in timeline_position(result).itertuples():
        y = rec.national_before + 1
        ax.scatter([rec.activated], [y], s=70, c="#c0392b", zorder=5)
        ax.annotate(f"{rec.agency}\n{rec.activated:%Y-%m-%d}: partner no. {y:,} of "
                    f"{rec.national_dated:,} dated", (rec.activated, y), xytext=(-10, 18),
                    textcoords="offset points", ha="right", fontsize=8)
    if result.as_of:
        ax.axvline(pd.Timestamp(result.as_of), color="#555555", linestyle="--", linewidth=1)
    return fig, ax


def plot_map(result, *, ax=None, label: bool = True):
    """Map the answer's counties with their agencies as points.

    Ring partners on ``as_of`` are red triangles, other agencies grey dots,
    the agencies that serve the place are labelled, the queried point is a
    black cross. The source line credits every file shown.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
        The axes carry the map's alt text (``ringgeo.plot.alt_text(fig)`` reads it).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from ringgeo import lookup
    >>> fig, ax = plot_map(lookup("19082"))
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['other agencies (42)', 'Ring partners on 2020-10-07 (6)', 'the place asked about']
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt


    paths = source_paths()
    technology = getattr(result, "technology", "ring")  # the words of the Atlas technology
    who = "Ring partners" if technology == "ring" else technologies.members(
        SimpleNamespace(attrs={"technology": technology}))
    ctx = context(result.as_of, paths, technology)
    _, counties = boundaries(paths)
    shapes = counties.loc[counties["GEOID"].isin(result.counties)]
    a = ctx.agencies
    inside = ctx.in_counties(result.counties)
    pts = a.loc[inside & a["latitude"].notna()]
    # the map shows the counties (and the point asked about); an agency whose FBI point
    # is a distant headquarters (state police, for instance) is left out and counted
    x0, y0, x1, y1 = shapes.total_bounds
    x0, x1 = min(x0, result.longitude), max(x1, result.longitude)
    y0, y1 = min(y0, result.latitude), max(y1, result.latitude)
    pad_x, pad_y = (x1 - x0) * 0.08 + 0.01, (y1 - y0) * 0.08 + 0.01
    x0, x1, y0, y1 = x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y
    shown = pts["longitude"].between(x0, x1) & pts["latitude"].between(y0, y1)
    away = int((~shown).sum())
    pts = pts.loc[shown]
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 8))
    else:
        fig = ax.figure
    draw_polygons(ax, shapes, facecolor="#f4f1ea", edgecolor="#555555", linewidth=1)
    others = pts.loc[~pts["partner"]]
    partners = pts.loc[pts["partner"]]
    ax.scatter(others["longitude"], others["latitude"], s=18, c="#9a9a9a",
               label=f"other agencies ({len(others)})", zorder=3)
    ax.scatter(partners["longitude"], partners["latitude"], s=60, marker="^", c="#c0392b",
               edgecolors="white", linewidths=0.6,
               label=f"{who} on {result.as_of or '2020-10-07'} ({len(partners)})",
               zorder=4)
    ax.scatter([result.longitude], [result.latitude], s=140, marker="X", c="black",
               label="the place asked about", zorder=5)
    if label:
        serving = result.agencies.loc[result.agencies["role"] != "partner in the county"]
        middle = (x0 + x1) / 2
        for rec in pts.loc[pts["ori"].isin(serving["ori"])].itertuples():
            right = rec.longitude > middle
            ax.annotate(rec.agency, (rec.longitude, rec.latitude),
                        xytext=(-6 if right else 6, 6), textcoords="offset points",
                        ha="right" if right else "left", fontsize=8, zorder=6,
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                              "alpha": 0.8})
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / math.cos(math.radians(result.latitude)))
    ax.set_axis_off()
    ax.legend(loc="best", fontsize=FONT["legend"], frameon=True)
    date = result.as_of or "2020-10-07"
    ax.set_title(f"{', '.join(result.county_names)}, {result.state}: law enforcement agencies "
                 f"and {who} on {date}", fontsize=FONT["subtitle"] + 1)
    names = tuple(dict.fromkeys(("cb_2019_us_county_20m.zip",) + result.sources))
    text = source_line(as_of=result.as_of, credit=list(names), level=None,
                       frame=SimpleNamespace(attrs={"technology": technology}),
                       note="Agencies at the FBI's geocoded points (not boundaries)"
                       + (f"; {away} agencies of the county whose point lies off the map "
                          f"are not drawn" if away else ""))
    fig.text(0.01, 0.01, "\n".join(_wrap(text)), fontsize=FONT["source"], va="bottom")
    where = f"{', '.join(result.county_names)}, {result.state}"
    set_alt_text(ax, ax.get_title(),
                 f"Map of {where} with its law enforcement agencies at the FBI's points: "
                 f"{len(partners)} {'Ring partner(s)' if technology == 'ring' else who} on "
                 f"{date} and {len(others)} other "
                 f"agencies; a cross marks the place asked about.")
    return fig, ax


def _wrap(text: str, width: int = 110) -> list:
    import textwrap

    return textwrap.wrap(text, width)


# ---------------------------------------------------------------------- command line
