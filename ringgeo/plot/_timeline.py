"""The growth timeline of ringgeo.plot: cumulative partner counts over time."""

from __future__ import annotations

import importlib.resources

import matplotlib.dates
import matplotlib.pyplot as plt
import matplotlib.ticker
import pandas as pd

from .. import technologies
from .._config import memoized
from ..exceptions import ParameterError, warn
from ..states import STATES_AND_DC, state_name, validate_state
from ._figure import (
    EXPORT_DATE,
    FONT,
    draw_source,
    month_text,
    set_alt_text,
    source_line,
    titled_axes,
)
from ._labels import place_labels

__all__ = ["timeline", "published_counts"]




_COUNT_COLUMNS = ["date", "published", "count", "qualifier", "counted", "publication", "url",
                  "note"]


@memoized(maxsize=1)
def _read_published():
    with importlib.resources.files("ringgeo").joinpath("published_counts.csv").open(
            encoding="utf-8") as handle:
        table = pd.read_csv(handle, dtype=str, keep_default_na=False)
    if list(table.columns) != _COUNT_COLUMNS:
        raise ParameterError(f"published_counts.csv has columns {list(table.columns)}, "
                             f"expected {_COUNT_COLUMNS}.")
    table["date"] = pd.to_datetime(table["date"])
    table["published"] = pd.to_datetime(table["published"])
    table["count"] = pd.to_numeric(table["count"].replace("", None)).astype("Int64")
    return table


def published_counts() -> pd.DataFrame:
    """Partner counts published by newspapers, Ring and Amazon, each checked at its source.

    ``ringgeo/published_counts.csv`` (documented in ``data/README.md``), one
    row per published number: ``date`` (the day the count describes),
    ``published``, ``count`` (NA for an event without a count), ``qualifier``
    (``"more than"`` or empty), ``counted`` (``police``, ``law enforcement``,
    ``police and fire``, ``fire`` or ``event``), ``publication``, ``url`` (the
    page the figure was checked on) and ``note``.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> table = published_counts()
    >>> table.loc[table["count"] == 405, "date"].dt.strftime("%Y-%m-%d").tolist()
    ['2019-08-28']
    """
    return _read_published().copy()


def _draw_published(ax, wide: pd.DataFrame):
    """Draw the markers of the published counts and the event lines.

    Police only: filled; police and fire or law enforcement: open. Events without a count
    are drawn as dashed lines, named along them. Return the rows drawn, the labels to
    place (``(date, count, text)``, one per date) and what the labels must not cover.
    """
    table = published_counts()
    drawn, labels, obstacles = [], [], []
    counts = table.loc[table["count"].notna() & (table["counted"] != "fire")]
    fire = table.loc[table["counted"] == "fire"].set_index("date")["count"]
    for date, rows in counts.groupby("date", sort=True):
        for row in rows.itertuples():
            filled = row.counted == "police"
            obstacles.append(ax.scatter([row.date], [int(row.count)], s=36, zorder=4,
                                        facecolors="#252525" if filled else "white",
                                        edgecolors="#252525", linewidths=1.2))
            drawn.append(row)
        top = rows.sort_values("count").iloc[-1]
        parts = []
        for row in rows.sort_values("count").itertuples():
            what = {"police": "police", "law enforcement": "law enforcement",
                    "police and fire": "police and fire"}[row.counted]
            qual = f"{row.qualifier} " if row.qualifier else ""
            source = row.publication.split(",")[0].split(" (")[0]
            parts.append(f"{qual}{int(row.count):,} {what} ({source})")
        if date in fire.index:
            parts[-1] += f",\nplus {int(fire[date]):,} fire departments"
        labels.append((date, int(top["count"]), f"{date:%b. %Y}: " + "\n".join(parts)))
    for row in table.loc[table["counted"] == "event"].itertuples():
        obstacles.append(ax.axvline(row.date, color="#737373", linewidth=0.8, linestyle="--"))
        obstacles.append(ax.annotate(
            f"{row.date:%b. %Y}: " + row.publication.split(" (")[0], xy=(row.date, 0.03),
            xycoords=("data", "axes fraction"), xytext=(-4, 0), textcoords="offset points",
            ha="right", va="bottom", rotation=90, fontsize=FONT["source"], color="#404040"))
        drawn.append(row)
    return drawn, labels, obstacles


def _last_activation_month(line: pd.Series):
    """Return the period in which the cumulative count last grew (the last activation)."""
    grew = line.diff().fillna(line)
    grew = grew[grew > 0]
    return grew.index[-1] if len(grew) else line.index[-1]


def _timeline_table(frame, states) -> pd.DataFrame:
    """Return a wide table: one column per line (``"US"`` or state codes), DatetimeIndex."""
    if isinstance(frame, pd.Series):
        frame = frame.to_frame("partners")
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"frame must be a DataFrame or Series, got {type(frame).__name__}.")
    frame = frame.copy()
    if not isinstance(frame.index, (pd.DatetimeIndex, pd.PeriodIndex)):
        for name in ("date", "period"):
            if name in frame.columns:
                frame = frame.set_index(name)
                break
    index = frame.index
    if isinstance(index, pd.PeriodIndex):
        index = index.to_timestamp(how="end").normalize()
    if not isinstance(index, pd.DatetimeIndex):
        raise ParameterError("timeline needs dates: a DatetimeIndex (as "
                             "ringgeo.coverage.timeline returns) or a 'date' column, "
                             f"got an index of {index.dtype}.")
    frame.index = index
    if "state" in frame.columns:  # long: coverage.timeline(..., by="state")
        if "partners" not in frame.columns:
            raise ParameterError("A long timeline frame needs columns 'state' and 'partners'.")
        wide = frame.pivot_table(index=frame.index, columns="state", values="partners",
                                 aggfunc="sum")
    elif "partners" in frame.columns:
        wide = frame[["partners"]].rename(columns={"partners": "US"})
    else:  # wide: one column per state
        wide = frame.rename(columns=lambda c: validate_state(c))
    wide.columns = [str(c) for c in wide.columns]
    if states is None:
        if list(wide.columns) != ["US"]:
            # the nation is the 50 states and DC, as in ringgeo.coverage.national
            outside = [c for c in wide.columns if c not in STATES_AND_DC]
            counted = wide[outside].ffill().iloc[-1].fillna(0) if outside else pd.Series()
            if (counted > 0).any():
                warn(f"The national line sums the 50 states and DC; "
                      f"{', '.join(f'{s} ({v:,.0f})' for s, v in counted.items() if v > 0)} "
                      "partner(s) outside them are not in it.")
            wide = wide.drop(columns=outside).sum(axis=1, min_count=1).to_frame("US")
        return wide.sort_index()
    chosen = [validate_state(s) for s in ([states] if isinstance(states, str) else states)]
    missing = [s for s in chosen if s not in wide.columns]
    if missing:
        raise ParameterError(f"states {missing} are not in the timeline frame; it holds "
                             f"{', '.join(c for c in wide.columns if c != 'US') or 'no states'}"
                             " (use ringgeo.coverage.timeline(partners, by='state')).")
    return wide[chosen].sort_index()


def _label_line_ends(ax, wide: pd.DataFrame, colours) -> None:
    """Name each line at its right end, nudging labels apart so none overlap."""
    ends = []
    for i, name in enumerate(wide.columns):
        line = wide[name].dropna()
        if len(line):
            ends.append((float(line.iloc[-1]), i, name, line.index[-1]))
    bottom, top = ax.get_ylim()
    gap = 1.15 * FONT["legend"] / 72 / (ax.get_position().height * ax.figure.get_figheight())
    placed = []
    for value, i, name, when in sorted(ends):
        frac = (value - bottom) / (top - bottom)
        if placed and frac < placed[-1] + gap:
            frac = placed[-1] + gap
        placed.append(frac)
        ax.annotate(f"{state_name(name)} {value:,.0f}", xy=(when, value),
                    xytext=(6, frac), textcoords=("offset points", "axes fraction"),
                    va="center", fontsize=FONT["legend"], color=colours[i],
                    annotation_clip=False)


def timeline(frame, *, states=None, ax=None, title=None, subtitle=None, as_of=None, note=None,
             credit=None, annotate=True):
    """Draw the cumulative number of partner agencies over time.

    Parameters
    ----------
    frame : pandas.DataFrame or Series
        Output of ``ringgeo.coverage.timeline(partners)`` (a ``DatetimeIndex``
        of period ends and a cumulative ``partners`` column), or of
        ``timeline(partners, by="state")`` (the same plus a ``state`` column,
        one row per period and state), or a wide frame with one column per
        state, or a Series of cumulative counts. Period indexes are drawn at
        the end of each period.
    states : str or list of str, optional
        Draw one labelled line per state. None: one national line (a by-state
        frame is summed over its states).
    ax : matplotlib Axes, optional
    title, subtitle : str, optional
    as_of, note, credit
        As for :func:`choropleth`; ``as_of`` defaults to ``frame.attrs["as_of"]``.
        Partners without an activation date cannot be drawn; when
        ``frame.attrs["undated"]`` counts them, the source line says how many.
    annotate : bool, default True
        National line only: draw the published counts (:func:`published_counts`)
        as labelled markers, also those after the snapshot ends (the x axis
        extends to them and the time after the snapshot is shaded), and events
        such as the end of Ring's Request for Assistance tool as dashed lines.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)

    Raises
    ------
    ParameterError
        No dates in the frame, or unknown states.

    Examples
    --------
    >>> counts = pd.Series([10, 250, 400, 1200],
    ...                    index=pd.to_datetime(["2018-06-30", "2019-03-31",
    ...                                          "2019-08-31", "2020-09-30"]))
    >>> fig, ax = timeline(counts, title="Ring partnerships kept growing")
    >>> ax.get_lines()[0].get_ydata().tolist()
    [10, 250, 400, 1200]
    >>> plt.close(fig)
    """
    wide = _timeline_table(frame, states)
    many = len(wide.columns) > 1
    # a national chart is labelled inside its axes; state lines are named at their right end
    fig, ax, own = titled_axes(ax, title, subtitle, left=0.07, bottom=0.17,
                               width=0.76 if many else 0.90, margin=0.22)
    colours = ([plt.get_cmap("tab10")(i % 10) for i in range(len(wide.columns))] if many
               else ["#bd0026"])
    lines = []
    for name, colour in zip(wide.columns, colours):
        line = wide[name].dropna()
        lines += ax.plot(line.index, line.to_numpy(), color=colour, linewidth=2, label=name)
    ax.set_ylim(bottom=0)
    if many:
        _label_line_ends(ax, wide, colours)
    published = []
    if annotate and list(wide.columns) == ["US"] and len(wide):
        published, labels, obstacles = _draw_published(ax, wide)
        cut = as_of if as_of is not None else frame.attrs.get("as_of")
        end = pd.Timestamp(cut) if cut is not None else pd.Timestamp(EXPORT_DATE)
        dates = [wide.index.min(), end] + [r.date for r in published]
        first, last = min(dates), max(dates)
        pad = (last - first) * 0.03
        ax.set_xlim(first - pad, last + pad)
        top = max([float(wide["US"].max())] +
                  [float(r.count) for r in published if not pd.isna(r.count)])
        ax.set_ylim(0, top * 1.15)
        if last > end:
            ax.axvspan(end, last + pad, color="#f0f0f0", zorder=0, linewidth=0)
            obstacles.append(ax.annotate(
                f"After the snapshot ({end:%b. %Y}):\npublished counts only", xy=(end, 0.98),
                xycoords=("data", "axes fraction"), xytext=(6, 0), textcoords="offset points",
                ha="left", va="top", fontsize=FONT["source"], color="#525252"))
        line = wide["US"].dropna()
        if len(line) and line.index[-1] < end:  # the gap between the line's end and the export
            obstacles += ax.plot([line.index[-1], end], [line.iloc[-1]] * 2, color="#bd0026",
                                 linewidth=1, linestyle=":")
            month = _last_activation_month(line)
            labels.append((line.index[-1] + (end - line.index[-1]) / 2, float(line.iloc[-1]),
                           f"The line ends in {month:%B %Y}: no activation in\nthe "
                           f"{pd.Timestamp(EXPORT_DATE):%-d %b. %Y} export is dated later"))
        place_labels(ax, labels, obstacles=lines + obstacles, fontsize=FONT["source"],
                     box=False, multialignment="left")
    ax.set_ylabel("Partner agencies (cumulative)", fontsize=FONT["legend"])
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    locator = matplotlib.dates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_month_label))
    ax.tick_params(labelsize=FONT["legend"])
    ax.grid(axis="y", color="#d9d9d9", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if as_of is None:  # _timeline_table accepted only a DataFrame or Series
        as_of = frame.attrs.get("as_of")
    if note is None:
        note = "Cumulative count by activation date as Ring published it"
        undated = frame.attrs.get("undated")
        if undated:
            note += f"; {undated:,} partnerships without an activation date are not shown"
    if published:
        note += ("; markers: counts published by Ring, Amazon and the press (filled: police; "
                 "open: police and fire, or all law enforcement), sources in "
                 "ringgeo/published_counts.csv")
    draw_source(fig, ax, source_line(None, as_of=as_of, note=note, credit=credit, level=None),
                 own)
    members = technologies.members(frame)  # the table's technology (attrs), Ring by default
    describe = describe_timeline(wide, as_of, published, members=members)
    default = f"{members[0].upper()}{members[1:]} over time"
    set_alt_text(ax, title or default, describe)
    if own:
        set_alt_text(fig, title or default, describe)
    return fig, ax


def describe_timeline(wide: pd.DataFrame, as_of=None, published=(),
                      members: str = "Ring partner agencies") -> str:
    """Alt text of a timeline: what the lines show, from the data, and the published counts."""
    if wide.empty:
        return f"Cumulative {members}: no dated partnership."
    start, end = wide.index.min(), wide.index.max()
    span = f"{start:%B %Y} to {end:%B %Y}"
    if list(wide.columns) == ["US"]:
        line = wide["US"].dropna()
        text = (f"Cumulative number of {members} by activation date, {span}: "
                f"{int(line.iloc[-1]):,} by {month_text(as_of if as_of is not None else end)}.")
    else:
        last = wide.ffill().iloc[-1].sort_values(ascending=False)
        text = (f"Cumulative {members} by activation date in "
                f"{len(wide.columns)} states, {span}: "
                + ", ".join(f"{state_name(s)} {int(v):,}" for s, v in last.items()) + ".")
    counted = [r for r in published if getattr(r, "counted", "") != "event"]
    if counted:
        text += " Published counts: " + "; ".join(
            f"{r.date:%B %Y} {(r.qualifier + ' ') if r.qualifier else ''}{int(r.count):,} "
            f"{r.counted}" for r in counted) + "."
    return text


def _month_label(x, pos):
    """Tick label: the month, with the year under the first tick and every January."""
    day = matplotlib.dates.num2date(x)
    return day.strftime("%b\n%Y") if pos == 0 or day.month == 1 else day.strftime("%b")
