"""Small multiples: one national map per Atlas technology, with the same classes."""

from __future__ import annotations

import math
from types import SimpleNamespace

import matplotlib.pyplot as plt
import pandas as pd

from .. import technologies
from ..exceptions import ParameterError
from ..metrics import metric_for
from ._choropleth import CMAP, choropleth
from ._figure import FONT, draw_source, set_alt_text, source_line

__all__ = ["small_multiples"]


def small_multiples(tables, column: str = "partners_per_100k", *, level: str = "state",
                    scheme: str = "user_defined", bins=None, k: int = 5, ncols: int = 2,
                    cmap=CMAP, title: str | None = None):
    """Draw one map per technology, side by side, with one set of classes and one legend.

    Parameters
    ----------
    tables : list of pandas.DataFrame
        Coverage tables (e.g. :func:`ringgeo.coverage.by_state`) of tables of
        :func:`ringgeo.load_atlas`, one per technology: each names its
        technology in ``attrs["technology"]``, which titles its panel.
    column : str, default "partners_per_100k"
        The coverage column drawn.
    level : {"state", "county"}, default "state"
    scheme, bins, k
        As :func:`ringgeo.plot.choropleth`. With ``"user_defined"`` (the default)
        every panel uses ``bins``, so a colour means the same on every map;
        default bins are the quintiles of all panels' values together.
    ncols : int, default 2
        Panels per row.
    cmap : str or Colormap
    title : str, optional
        Headline; default the metric and the technologies.

    Returns
    -------
    (matplotlib.figure.Figure, list of matplotlib.axes.Axes)
        One source line for the figure names the Atlas (CC BY 4.0) and the
        metric's sources; each panel's alt text names its technology.

    Raises
    ------
    ParameterError
        ``tables`` is empty or not a list of tables.

    Examples
    --------
    >>> import pandas as pd
    >>> a, b = (pd.DataFrame({"partners": {"CA": n, "TX": 2}}) for n in (1, 5))
    >>> a.attrs["technology"], b.attrs["technology"] = "drones", "alpr"
    >>> fig, axes = small_multiples([a, b], "partners", bins=[1, 2, 5])
    >>> [ax.get_title(loc="left") for ax in axes]
    ['Drones', 'Automated license plate readers']
    >>> plt.close(fig)
    """
    if (not isinstance(tables, (list, tuple)) or not tables
            or not all(isinstance(t, pd.DataFrame) for t in tables)):
        raise ParameterError("small_multiples needs a non-empty list of coverage tables, one "
                             "per technology (e.g. [by_state(load_atlas('drones')), ...]).")
    if scheme == "user_defined" and bins is None:
        values = [v for t in tables for v in t[column].dropna().astype(float).tolist()]
        positive = sorted(v for v in values if v > 0) or [1.0]
        bins = sorted({positive[min(len(positive) - 1, math.ceil(q * len(positive)) - 1)]
                       for q in (0.2, 0.4, 0.6, 0.8, 1.0)})
    nrows = math.ceil(len(tables) / ncols)
    fig, grid = plt.subplots(nrows, ncols, figsize=(6.2 * ncols + 2.0, 4.2 * nrows + 0.9),
                             squeeze=False)
    axes = list(grid.ravel())
    for ax in axes[len(tables):]:
        ax.set_axis_off()
    axes = axes[:len(tables)]
    several = SimpleNamespace(attrs={"technology": "all"})
    name = (metric_for(column, several) or (column,))[0]
    for i, (ax, table) in enumerate(zip(axes, tables)):
        label = technologies.label(table)
        choropleth(table, column, level=level, scheme=scheme, bins=bins, k=k, cmap=cmap,
                   ax=ax, title=label, legend=i == len(tables) - 1, legend_title=name)
        for text in list(ax.texts):  # one source line for the figure, below
            if text.get_text().startswith("Source:"):
                text.remove()
    if title is None:
        title = f"{name}, by {level}"
    fig.suptitle(title, x=0.01, ha="left", fontsize=FONT["title"], fontweight="bold")
    fig.subplots_adjust(left=0.01, right=0.80, top=0.90, bottom=0.12, wspace=0.05,
                        hspace=0.15)
    draw_source(fig, None, source_line(column, level=level, frame=several), True)
    panels = ", ".join(ax.get_title(loc="left") for ax in axes)
    set_alt_text(fig, title, f"{len(tables)} maps ({panels}) with the same classes of {column}.")
    return fig, axes
