"""Figure frame for ringgeo.plot (private helpers): sizes, fonts, titles, source line."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import data, technologies
from ..exceptions import ParameterError
from ..metrics import METRICS, metric_for
from ..partners import DEFAULT_SNAPSHOT, EXPORT_DATE, SOURCES

__all__ = ["FIGSIZE", "DPI", "FONT", "METRICS", "source_line", "class_colours", "titled_axes",
           "draw_source", "headline", "new_figure", "map_figure", "source_height"]

#: Default figure size (inches) and resolution of saved raster files.
FIGSIZE = (10.0, 6.5)
DPI = 200
#: Font sizes (points) at the saved size: nothing below 8.
FONT = {"title": 14, "subtitle": 10, "legend": 9, "legend_title": 9.5, "source": 8}

# The coverage tables count the partner snapshot that load_partners reads by default.
PARTNER_FILE = SOURCES[DEFAULT_SNAPSHOT]



def _date_text(as_of) -> str | None:
    if as_of is None or (not isinstance(as_of, str) and pd.isna(as_of)):
        return None
    try:
        return pd.Timestamp(as_of).strftime("%Y-%m-%d")
    except (ValueError, TypeError) as err:
        raise ParameterError(f"as_of must be a date such as '2019-12-31', got {as_of!r}.") from err


def source_line(column=None, *, as_of=None, note=None, credit=None, level="state",
                frame=None) -> str:
    """Return the source line printed at the foot of a figure.

    Parameters
    ----------
    column : str, optional
        The metric drawn; known coverage columns add their population source
        and a definition (see :data:`ringgeo.metrics.METRICS`).
    as_of : date-like, optional
        Cut-off date of the partnerships counted. None: every partnership in
        the 2020-10-07 export.
    note : str, optional
        The metric's definition in a few words; replaces the built-in one.
    credit : str or sequence of str, optional
        A string is printed instead of the built-in credits; a list of
        registry names (see :func:`ringgeo.data.registry`) is credited instead
        of the default files.
    level : {"state", "county", None}
        Which boundary file the map uses (None: a chart, no boundaries).
    frame : pandas.DataFrame, optional
        The table drawn: its technology (``attrs["technology"]``) names the rows
        counted and the metric, and a reader's own Atlas file
        (``attrs["source_file"]``) is credited with its date and sha256.

    Returns
    -------
    str

    Examples
    --------
    >>> print(source_line("partners", as_of="2019-12-31"))  # doctest: +NORMALIZE_WHITESPACE
    Source: Electronic Frontier Foundation, Atlas of Surveillance (CC BY 4.0), partnerships
    activated by 2019-12-31 (export of 2020-10-07); U.S. Census Bureau, 2019 cartographic
    boundary files. Agencies with a Ring Neighbors partnership. Made with ringgeo.
    """
    metric = metric_for(column, frame) or (None, None, ())  # label, definition, sources
    date = _date_text(as_of)
    own_file, rows = technologies.source_words(frame)  # Ring: "partnerships"
    when = (f"{rows} activated by {date} (export of {EXPORT_DATE})" if date
            else f"all {rows} in the {EXPORT_DATE} export")
    if own_file is not None:
        when = f"{rows} activated by {date}" if date else f"all {rows}"
    if isinstance(credit, str):
        credits = credit
    else:
        if credit is None:
            names = []
            if level is not None:
                names.append("cb_2019_us_state_20m.zip" if level == "state"
                             else "cb_2019_us_county_20m.zip")
            names.extend(metric[2])
        else:
            names = [name for name in credit if name != PARTNER_FILE]
        credits = f"{own_file or data.credit(PARTNER_FILE)}, {when}"
        if names:
            credits += "; " + data.credit(*names)
    definition = note if note is not None else metric[1]
    text = f"Source: {credits}."
    if definition:
        text += f" {definition.rstrip('.')}."
    return text + " Made with ringgeo."


def _wrap(text: str, width_in: float, size: float) -> str:
    chars = max(40, int(width_in * 72 * 0.96 / (size * 0.52)))
    return "\n".join(textwrap.wrap(text, chars))


def class_colours(cmap, n: int, zero: bool = False):
    """Class colours; a zero class keeps the palest colour, set apart from the others."""
    cmap = plt.get_cmap(cmap) if isinstance(cmap, str) else cmap
    if n == 1:
        return [cmap(0.0 if zero else 0.6)]
    if zero:
        rest = np.linspace(0.25, 1.0, n - 1) if n > 2 else [0.6]
        return [cmap(0.0)] + [cmap(x) for x in rest]
    return [cmap(x) for x in np.linspace(0.0, 1.0, n)]


#: Text widths per character, as a share of the font size (DejaVu Sans, bold for titles).
_CHAR = {"title": 0.62, "subtitle": 0.55, "source": 0.52}
#: Left margin of the headline and the source line (figure fraction of a 10-inch figure).
_LEFT_IN = 0.15


def _lines(text, width_in: float, size: float, kind: str) -> list[str]:
    chars = max(30, int(width_in * 72 * 0.96 / (size * _CHAR[kind])))
    return textwrap.wrap(str(text), chars) if text else []


#: The headline's room (inches): above the title, under a one-line title, under a one-line
#: subtitle; each further line adds its line height.
_HEAD = {"top": 0.195, "title": 0.3575, "subtitle": 0.2925}


def _headline_steps(title, subtitle, width_in: float):
    width = width_in - 2 * _LEFT_IN
    titles = _lines(title, width, FONT["title"], "title")
    subtitles = _lines(subtitle, width, FONT["subtitle"], "subtitle")
    title_step = (_HEAD["title"] + (len(titles) - 1) * FONT["title"] * 1.1 / 72
                  if titles else 0.0)
    sub_step = (_HEAD["subtitle"] + (len(subtitles) - 1) * FONT["subtitle"] * 1.2 / 72
                if subtitles else 0.0)
    return titles, subtitles, title_step, sub_step


def headline_height(title, subtitle, width_in: float) -> float:
    """Height (inches) that :func:`headline` takes at the top of a figure ``width_in`` wide."""
    _, _, title_step, sub_step = _headline_steps(title, subtitle, width_in)
    return _HEAD["top"] + title_step + sub_step


def headline(fig, title, subtitle) -> float:
    """Write a figure's headline: the one title style of every ringgeo figure.

    The title is 14 pt bold and the subtitle 10 pt, both left-aligned at the
    figure's left margin (0.15 inch) and wrapped to its width. Return the figure
    fraction left below them.
    """
    width_in, height_in = fig.get_size_inches()
    left = _LEFT_IN / width_in
    titles, subtitles, title_step, sub_step = _headline_steps(title, subtitle, width_in)
    top_in = _HEAD["top"]
    if titles:
        fig.text(left, 1 - top_in / height_in, "\n".join(titles), ha="left", va="top",
                 fontsize=FONT["title"], fontweight="bold", linespacing=1.1)
        top_in += title_step
    if subtitles:
        fig.text(left, 1 - top_in / height_in, "\n".join(subtitles), ha="left", va="top",
                 fontsize=FONT["subtitle"], linespacing=1.2)
        top_in += sub_step
    return 1 - top_in / height_in


def new_figure(title, subtitle, *, figsize=FIGSIZE):
    """Make a figure (10 x 6.5 inches unless ``figsize``) with its :func:`headline`.

    Return it and the height (figure fraction) left below the headline.
    """
    fig = plt.figure(figsize=figsize)
    return fig, headline(fig, title, subtitle)


def source_height(text, width_in: float) -> float:
    """Height (inches) of a source line written by :func:`draw_source` on its own figure."""
    return len(_wrap(text, width_in - 2 * _LEFT_IN, FONT["source"]).splitlines()) \
        * FONT["source"] * 1.3 / 72 + 0.1


def map_figure(aspect: float, title, subtitle, source, *, legend_in: float = 2.6,
               height: float = FIGSIZE[1], min_width: float = 6.0,
               max_width: float = FIGSIZE[0]):
    """Make a figure as wide as its map needs: the map at full height, the legend beside it.

    A tall state (Illinois, Florida) in a 10-inch-wide frame leaves a third of it
    empty. The figure keeps the standard height; its width is the map's (at the
    height left by the headline and the source line, ``aspect`` = width / height
    of the map's extent) plus ``legend_in`` inches for the legend, between
    ``min_width`` and ``max_width``. A state too wide for that (Pennsylvania,
    Tennessee) gets the full width and a figure only as tall as its map needs.

    Returns
    -------
    (Figure, Axes)
        The axes exactly hold the map's extent; the legend goes to their right.
    """
    width = max_width
    for _ in range(4):  # the headline and the source wrap to the width: settle it
        map_h = height - headline_height(title, subtitle, width) \
            - source_height(source, width) - 0.25
        map_w = map_h * aspect
        new = min(max(map_w + legend_in + 2 * _LEFT_IN, min_width), max_width)
        if abs(new - width) < 0.02:
            break
        width = new
    if map_w > width - legend_in - 2 * _LEFT_IN:  # a wide state: as tall as its map
        map_w = width - legend_in - 2 * _LEFT_IN
        height = min(height, headline_height(title, subtitle, width)
                     + source_height(source, width) + 0.25 + map_w / aspect)
    fig, top = new_figure(title, subtitle, figsize=(width, height))
    bottom = (source_height(source, width) + 0.15) / height
    ax = fig.add_axes((_LEFT_IN / width, bottom, map_w / width, top - bottom - 0.05 / height))
    return fig, ax


def titled_axes(ax, title, subtitle, *, left, bottom, width, margin):
    """Return ``(fig, ax, own)``: the caller's axes, titled, or a new figure's.

    A new figure has a headline and axes at ``left``, ``bottom`` (figure fractions) of
    ``width``, whose top edge is ``margin - bottom`` below the headline.
    """
    if ax is not None:
        if title:
            ax.set_title(title, loc="left", fontsize=FONT["title"], fontweight="bold")
        return ax.figure, ax, False
    fig, top = new_figure(title, subtitle)
    ax = fig.add_axes((left, bottom, width, top - margin))
    return fig, ax, True


def draw_source(fig, ax, text, own_figure):
    if own_figure:
        fig.text(_LEFT_IN / fig.get_figwidth(), 0.078 / fig.get_figheight(),
                 _wrap(text, fig.get_figwidth() - 2 * _LEFT_IN, FONT["source"]),
                 ha="left", va="bottom", fontsize=FONT["source"], color="#404040",
                 linespacing=1.3)
    else:
        width = fig.get_figwidth() * ax.get_position().width
        ax.annotate(_wrap(text, width, FONT["source"]), xy=(0, 0), xycoords="axes fraction",
                    xytext=(0, -4), textcoords="offset points", ha="left", va="top",
                    fontsize=FONT["source"], color="#404040")


# --------------------------------------------------------------------------- alt text
def set_alt_text(target, title: str, description: str) -> None:
    """Attach a title and a one- or two-sentence description (alt text) to a figure or axes."""
    target._ringgeo_alt = (str(title or ""), " ".join(str(description).split()))


def alt_text(fig) -> tuple[str, str]:
    """Return ``(title, description)`` of a figure drawn by ringgeo.plot.

    The figure's own text if set, else the descriptions of its axes joined
    (small multiples), else ``("", "")``.

    Examples
    --------
    >>> fig = plt.figure()
    >>> set_alt_text(fig, "A map", "Ring partners by state.")
    >>> alt_text(fig)
    ('A map', 'Ring partners by state.')
    >>> plt.close(fig)
    """
    own = getattr(fig, "_ringgeo_alt", None)
    if own:
        return own
    parts = [getattr(ax, "_ringgeo_alt", None) for ax in fig.get_axes()]
    parts = [p for p in parts if p]
    if not parts:
        return "", ""
    return parts[0][0], " ".join(p[1] for p in parts)


def month_text(as_of) -> str:
    """'October 2020' for a date; the snapshot's month when None."""
    date = _date_text(as_of) or EXPORT_DATE
    return f"{pd.Timestamp(date):%B %Y}"


# --------------------------------------------------------------------------- colour vision
#: Smallest colour difference (CAM02-UCS ΔE') between any two classes of a legend that we
#: accept: about ten just-noticeable differences, enough for map patches next to each other.
MIN_DELTA_E = 10.0
_VISION = {"normal": None, "deuteranopia": "deuteranomaly", "protanopia": "protanomaly",
           "tritanopia": "tritanomaly"}


def palette_check(cmaps=("YlOrRd",), ks=range(2, 10), zero=True) -> pd.DataFrame:
    """Check that class colours stay distinguishable for colour-blind readers.

    Each legend's colours (as :func:`ringgeo.plot.choropleth` picks them for ``k``
    classes, with a zero class when ``zero``) are simulated for full
    deuteranopia, protanopia and tritanopia (Machado et al. 2009, severity
    100, through colorspacious) and the smallest difference between any two
    classes is measured in CAM02-UCS (ΔE').

    Parameters
    ----------
    cmaps : sequence of str
        Matplotlib colour map names.
    ks : iterable of int
        Numbers of classes.
    zero : bool, default True

    Returns
    -------
    pandas.DataFrame
        One row per colour map and ``k``: ``min_delta_e`` under ``normal``,
        ``deuteranopia``, ``protanopia`` and ``tritanopia`` vision, and ``ok``
        (normal, deuteranopia and protanopia all at least :data:`MIN_DELTA_E`;
        tritanopia, much rarer, is reported but not required).

    Examples
    --------
    >>> table = palette_check(["YlOrRd"], ks=[5])
    >>> bool(table["ok"].all())
    True
    """
    import colorspacious

    rows = []
    for name in cmaps:
        for k in ks:
            rgb = np.array([c[:3] for c in class_colours(name, k, zero)])
            row = {"cmap": name, "k": k}
            for vision, cvd in _VISION.items():
                seen = rgb if cvd is None else np.clip(colorspacious.cspace_convert(
                    rgb, {"name": "sRGB1+CVD", "cvd_type": cvd, "severity": 100}, "sRGB1"),
                    0, 1)
                lab = colorspacious.cspace_convert(seen, "sRGB1", "CAM02-UCS")
                gaps = [np.linalg.norm(lab[i] - lab[j]) for i in range(k)
                        for j in range(i + 1, k)]
                row[vision] = round(float(min(gaps)), 1)
            rows.append(row)
    table = pd.DataFrame(rows)
    table["ok"] = table[["normal", "deuteranopia", "protanopia"]].min(axis=1) >= MIN_DELTA_E
    return table
