"""The growth timeline of ringgeo.plot: cumulative partner counts over time."""

from __future__ import annotations

import matplotlib.dates
import matplotlib.pyplot as plt
import matplotlib.ticker
import pandas as pd

from ._classes import _warn
from ._figure import FONT, _draw_source, _figure, source_line
from .exceptions import ParameterError
from .states import STATES, state_name, validate_state

__all__ = ["timeline", "EVENTS"]

_IN_51 = frozenset(STATES.loc[STATES["in_51"], "state"])

#: Dated events that :func:`timeline` can mark (date, label).
EVENTS = [("2019-08-28",
           "Aug. 2019: The Washington Post reports\nRing partnerships with 400+ police forces")]


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
            outside = [c for c in wide.columns if c not in _IN_51]
            counted = wide[outside].ffill().iloc[-1].fillna(0) if outside else pd.Series()
            if (counted > 0).any():
                _warn(f"The national line sums the 50 states and DC; "
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
        Mark the August 2019 reporting that made the partnerships public
        (national line only).

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
    fig, ax, own = _figure(ax, title, subtitle, left=0.07, bottom=0.17, width=0.76, margin=0.22)
    many = len(wide.columns) > 1
    colours = ([plt.get_cmap("tab10")(i % 10) for i in range(len(wide.columns))] if many
               else ["#bd0026"])
    for name, colour in zip(wide.columns, colours):
        line = wide[name].dropna()
        ax.plot(line.index, line.to_numpy(), color=colour, linewidth=2, label=name)
    ax.set_ylim(bottom=0)
    if many:
        _label_line_ends(ax, wide, colours)
    if annotate and list(wide.columns) == ["US"]:
        for date, text in EVENTS:
            when = pd.Timestamp(date)
            if len(wide) and wide.index.min() <= when <= wide.index.max():
                ax.axvline(when, color="#737373", linewidth=0.8, linestyle="--")
                ax.annotate(text, xy=(when, 0.95), xycoords=("data", "axes fraction"),
                            xytext=(-6, 0), textcoords="offset points", ha="right", va="top",
                            fontsize=FONT["legend"], color="#404040")
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
    _draw_source(fig, ax, source_line(None, as_of=as_of, note=note, credit=credit, level=None),
                 own)
    return fig, ax


def _month_label(x, pos):
    """Tick label: the month, with the year under the first tick and every January."""
    day = matplotlib.dates.num2date(x)
    return day.strftime("%b\n%Y") if pos == 0 or day.month == 1 else day.strftime("%b")
