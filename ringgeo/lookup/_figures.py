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
from matplotlib.transforms import Bbox

from .. import coverage, technologies
from .. import plot as rplot
from ..partners import EXPORT_DATE, load_partners
from ..plot._draw import draw_polygons
from ..plot._figure import FONT, draw_source, map_figure, set_alt_text, source_line
from ..plot._labels import place_labels
from ._data import boundaries, context, source_paths

__all__ = ["timeline_position", "plot_timeline", "plot_map"]


def _dated_partners() -> pd.DataFrame:
    partners = load_partners()
    partners.attrs = {}  # pandas deep-copies attrs (the quality report) on every step
    return partners.loc[partners["activated"].notna(), ["state", "activated"]]


def _position(dated: pd.DataFrame, day, state) -> dict:
    """Dated partnerships before ``day``, nationally and in ``state``."""
    same = dated["state"] == state
    return {"national_before": int((dated["activated"] < day).sum()),
            "national_dated": len(dated),
            "state_before": int((same & (dated["activated"] < day)).sum()),
            "state_dated": int(same.sum())}


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
    dated = _dated_partners()
    rows = []
    serving = result.agencies.loc[result.agencies["activated"].notna()
                                  & (result.agencies["role"] != "partner in the county")]
    for rec in serving.drop_duplicates("ori").itertuples():
        day = pd.Timestamp(rec.activated)
        rows.append({"ori": rec.ori, "agency": rec.agency, "activated": day,
                     **_position(dated, day, rec.state)})
    out = pd.DataFrame(rows, columns=["ori", "agency", "activated", "national_before",
                                      "national_dated", "state_before", "state_dated"])
    out["share_before"] = out["national_before"] / out["national_dated"]
    return out


def plot_timeline(result, *, ax=None):
    """Plot the national growth of partnerships with the place's partnerships marked.

    The cumulative national line (:func:`ringgeo.coverage.timeline` of the
    snapshot, by month) with a red dot and label at the activation date of
    each serving agency that is a partner (:func:`timeline_position`). When no
    agency serving the place is a partner, the nearest partner is marked
    instead (an open dot) and the subtitle says so. A dashed line, labelled,
    marks ``as_of`` when one is given. Labels are placed by
    :func:`ringgeo.plot._labels.place_labels` (they cover neither the line nor
    a marker).

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
        The axes hold the national line and one labelled dot per partner marked.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from ringgeo import lookup
    >>> fig, ax = plot_timeline(lookup("19082"))
    >>> print(ax._ringgeo_labels[0].annotation.get_text())  # the 301st dated partnership
    Upper Darby Township Police Department
    2019-06-28: partner no. 301 of 1,331 dated
    >>> plt.close(fig)
    """
    partners = load_partners()
    noun = technologies.noun(partners)
    with warnings.catch_warnings():  # the undated partners: the source line counts them
        warnings.simplefilter("ignore", UserWarning)
        national = coverage.timeline(partners, freq="M")
    position = timeline_position(result)
    date = result.as_of or EXPORT_DATE
    marked, nearest = position, False
    if position.empty and len(result.nearest) and result.nearest["activated"].notna().any():
        first = result.nearest.loc[result.nearest["activated"].notna()].iloc[0]
        day = pd.Timestamp(first["activated"])
        marked = pd.DataFrame([{"ori": first["ori"], "agency": first["agency"], "activated": day,
                                "distance_km": first["distance_km"],
                                **_position(_dated_partners(), day, first["state"])}])
        nearest = True
    if len(position):
        title = f"Where the partnership sits in {noun}'s growth"
        subtitle = (f"{noun} partner agencies nationally, cumulative; the partner"
                    f"{'s' if len(position) > 1 else ''} serving {result.query!r} marked")
    else:
        title = f"No {noun} partner serves {result.query!r}: the nearest in {noun}'s growth"
        subtitle = (f"{noun} partner agencies nationally, cumulative; no agency serving "
                    f"{result.query!r} was a partner on {date}"
                    + ("; the nearest partner marked (open dot)" if nearest else ""))
    fig, ax = rplot.timeline(national, ax=ax, annotate=False, title=title, subtitle=subtitle)
    points, dots = [], []
    for rec in marked.itertuples():
        y = rec.national_before + 1
        dots.append(ax.scatter([rec.activated], [y], s=70, zorder=5,
                               c="white" if nearest else "#c0392b", edgecolors="#c0392b",
                               linewidths=1.5))
        what = (f"nearest partner, {rec.distance_km:.1f} km from {result.query}\n"
                if nearest else "")
        points.append((rec.activated, y, f"{rec.agency}\n{what}{rec.activated:%Y-%m-%d}: "
                                         f"partner no. {y:,} of {rec.national_dated:,} dated"))
    avoid = list(ax.get_lines()) + dots
    if result.as_of:
        when = pd.Timestamp(result.as_of)
        avoid.append(ax.axvline(when, color="#555555", linestyle="--", linewidth=1))
        avoid.append(ax.annotate(f"{when:%Y-%m-%d}: the date asked about", xy=(when, 0.98),
                                 xycoords=("data", "axes fraction"), xytext=(-4, 0),
                                 textcoords="offset points", ha="right", va="top",
                                 fontsize=FONT["source"], color="#404040"))
    place_labels(ax, points, obstacles=avoid, fontsize=FONT["source"], box=False)
    if fig is not None and getattr(fig, "_ringgeo_alt", None):
        extra = "; ".join(p[2].replace("\n", ", ") for p in points)
        set_alt_text(fig, title, fig._ringgeo_alt[1] + (f" Marked: {extra}." if extra else ""))
    return fig, ax


def plot_map(result, *, ax=None, label: bool = True):
    """Map the answer's counties with their agencies as points.

    Partners on ``as_of`` are red triangles, other agencies grey dots, the
    queried point a black cross. The partners on the map are named first, then
    the agencies that serve the place (with their role and whether they are
    partners), each label where it covers no marker, no other label and not the
    legend (:func:`ringgeo.plot._labels.place_labels`, with a leader line when a
    label had to move away from its point). The legend sits beside the map, the
    headline is the one every ringgeo figure has, and the source line credits
    every file shown.

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
    paths = source_paths()
    technology = getattr(result, "technology", "ring")  # the words of the Atlas technology
    asked = SimpleNamespace(attrs={"technology": technology})  # read by ringgeo.technologies
    who = "Ring partners" if technology == "ring" else technologies.members(asked)
    member = technologies.members(asked, plural=False)
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
    date = result.as_of or EXPORT_DATE
    where = f"{', '.join(result.county_names)}, {result.state}"
    title = f"{where}: law enforcement agencies and {who} on {date}"
    subtitle = (f"Each agency at its FBI point; the {who} and the agencies serving "
                f"{result.query!r} are named")
    names = tuple(dict.fromkeys(("cb_2019_us_county_20m.zip",) + result.sources))
    text = source_line(as_of=result.as_of, credit=list(names), level=None,
                       frame=asked,
                       note="Agencies at the FBI's geocoded points (not boundaries)"
                       + (f"; {away} agencies of the county whose point lies off the map "
                          f"are not drawn" if away else ""))
    scale = 1 / math.cos(math.radians(result.latitude))
    if ax is None:
        fig, ax = map_figure((x1 - x0) / ((y1 - y0) * scale), title, subtitle, text,
                             legend_in=2.9)
        draw_source(fig, ax, text, True)
    else:
        fig = ax.figure
        ax.set_title(title, loc="left", fontsize=FONT["title"], fontweight="bold")
        draw_source(fig, ax, text, False)
    draw_polygons(ax, shapes, facecolor="#f4f1ea", edgecolor="#555555", linewidth=1)
    others = pts.loc[~pts["partner"]]
    partners = pts.loc[pts["partner"]]
    dots = ax.scatter(others["longitude"], others["latitude"], s=18, c="#9a9a9a",
                      label=f"other agencies ({len(others)})", zorder=3)
    triangles = ax.scatter(partners["longitude"], partners["latitude"], s=60, marker="^",
                           c="#c0392b", edgecolors="white", linewidths=0.6,
                           label=f"{who} on {date} ({len(partners)})", zorder=4)
    cross = ax.scatter([result.longitude], [result.latitude], s=140, marker="X", c="black",
                       label="the place asked about", zorder=5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(scale)
    ax.set_axis_off()
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=FONT["legend"],
                       frameon=False, alignment="left")
    if label:
        points = _map_labels(result, partners, pts, member)
        # labels may leave the county for the blank frame around it, not the headline or
        # the source line (the legend is an obstacle)
        area = ax.get_position()
        inside = Bbox([[0, area.y0], [1, area.y1]]).transformed(fig.transFigure)
        place_labels(ax, points, obstacles=[dots, triangles, cross, legend],
                     fontsize=FONT["source"], inside=inside)
    set_alt_text(ax, title,
                 f"Map of {where} with its law enforcement agencies at the FBI's points: "
                 f"{len(partners)} {who} on {date}"
                 + (f" ({', '.join(partners['agency'].head(5))})" if len(partners) else "")
                 + f" and {len(others)} other agencies; a cross marks the place asked about; "
                 + "serving it: " + "; ".join(
                     f"{r.agency} ({r.role}, {r.status})" for r in result.agencies.loc[
                         result.agencies["role"] != "partner in the county"].itertuples())
                 + ".")
    return fig, ax


#: Partners named on a lookup map at most (the nearest to the place first).
MAX_PARTNER_LABELS = 12


def _map_labels(result, partners: pd.DataFrame, pts: pd.DataFrame, member: str) -> list:
    """Return the map's labels in the order they are placed: partners, then serving agencies.

    ``member``: what one of the table's agencies is called ("Ring partner", "agency
    using drones").
    """
    serving = result.agencies.loc[result.agencies["role"] != "partner in the county"]
    roles = dict(zip(serving["ori"], serving["role"]))
    order = ((partners["longitude"] - result.longitude) ** 2
             + (partners["latitude"] - result.latitude) ** 2).sort_values().index
    chosen = list(partners.loc[order].head(MAX_PARTNER_LABELS).itertuples())
    chosen += [r for r in pts.loc[pts["ori"].isin(serving["ori"]) & ~pts["partner"]]
               .itertuples()]
    points = []
    for rec in chosen:
        if rec.partner:
            since = f", since {rec.activated:%Y-%m-%d}" if pd.notna(rec.activated) else ""
            what = f"{member}{since}"
        else:
            what = f"not {'an' if member[:1].lower() in 'aeiou' else 'a'} {member}"
        if rec.ori in roles:
            what = f"{roles[rec.ori]} of {result.query}; {what}"
        points.append((rec.longitude, rec.latitude, f"{rec.agency}\n{what}"))
    return points


# ---------------------------------------------------------------------- command line
